"""Network definitions of the bundled models (all take float32 [N,1,28,28])."""
import math

import torch
from torch import nn


class MLP(nn.Module):
    """784-256-128-10 with ReLU."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 128)
        self.fc3 = nn.Linear(128, 10)

    def forward(self, x):
        x = torch.flatten(x, 1)
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.fc3(x)


class LeNet(nn.Module):
    """LeNet-5 as in the classic quantization tutorials:
    conv5x5(6, pad 2)-relu-maxpool2-conv5x5(16)-relu-maxpool2-fc120-relu-fc84-relu-fc10.

    With quant=True it has QuantStub/DeQuantStub around the body for eager-mode QAT;
    every ReLU is its own module so conv+relu and linear+relu can be fused."""

    def __init__(self, quant=False):
        super().__init__()
        self.quant = torch.ao.quantization.QuantStub() if quant else nn.Identity()
        self.dequant = torch.ao.quantization.DeQuantStub() if quant else nn.Identity()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.relu3 = nn.ReLU()
        self.fc2 = nn.Linear(120, 84)
        self.relu4 = nn.ReLU()
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.quant(x)
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        x = self.flatten(x)
        x = self.relu3(self.fc1(x))
        x = self.relu4(self.fc2(x))
        x = self.fc3(x)
        return self.dequant(x)

    FUSE = [["conv1", "relu1"], ["conv2", "relu2"], ["fc1", "relu3"], ["fc2", "relu4"]]


def conv_bn(cin, cout, k, stride, groups=1):
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU6(inplace=True))


class MobileNet(nn.Module):
    """MobileNet(v1)-style: 3x3 stem, depthwise-separable blocks (depthwise 3x3 + BN +
    ReLU6, pointwise 1x1 + BN + ReLU6), stride-2 blocks, global average pool, FC."""

    CFG = [(16, 32, 2), (32, 32, 1), (32, 64, 2), (64, 64, 1), (64, 128, 2)]

    def __init__(self):
        super().__init__()
        layers = [conv_bn(1, 16, 3, 1)]
        for cin, cout, s in self.CFG:
            layers.append(conv_bn(cin, cin, 3, s, groups=cin))   # depthwise
            layers.append(conv_bn(cin, cout, 1, 1))               # pointwise
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(128, 10)

    def forward(self, x):
        x = self.pool(self.features(x))
        return self.fc(torch.flatten(x, 1))


class Attention(nn.Module):
    def __init__(self, dim, heads, tokens):
        super().__init__()
        self.heads, self.tokens, self.dh = heads, tokens, dim // heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.scale = 1.0 / math.sqrt(self.dh)

    def forward(self, x):                       # x: [N, T, D]
        t, h, dh = self.tokens, self.heads, self.dh
        qkv = self.qkv(x).reshape(-1, t, 3, h, dh).permute(2, 0, 3, 1, 4)  # [3, N, H, T, dh]
        q, k, v = qkv[0], qkv[1], qkv[2]
        att = torch.softmax(torch.matmul(q * self.scale, k.transpose(-2, -1)), dim=-1)
        out = torch.matmul(att, v)              # [N, H, T, dh]
        out = out.transpose(1, 2).reshape(-1, t, h * dh)
        return self.proj(out)


class EncoderLayer(nn.Module):
    """Pre-LayerNorm transformer encoder layer with a GELU MLP."""

    def __init__(self, dim, heads, tokens, hidden):
        super().__init__()
        self.ln1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads, tokens)
        self.ln2 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.fc2(self.act(self.fc1(self.ln2(x))))


class Transformer(nn.Module):
    """Row-token transformer encoder classifier: each of the 28 image rows is a token
    (28 pixels -> 64 dims), learned positional embedding, 2 pre-LN encoder layers
    (4-head self-attention, GELU MLP 64-128-64), final LayerNorm, mean pooling, FC."""

    def __init__(self, dim=64, heads=4, layers=2, hidden=128, tokens=28):
        super().__init__()
        self.embed = nn.Linear(28, dim)
        self.pos = nn.Parameter(torch.randn(1, tokens, dim) * 0.02)
        self.layers = nn.ModuleList(EncoderLayer(dim, heads, tokens, hidden) for _ in range(layers))
        self.ln = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, 10)

    def forward(self, x):
        x = self.embed(x.squeeze(1)) + self.pos  # [N, 28, dim]
        for layer in self.layers:
            x = layer(x)
        return self.head(self.ln(x).mean(dim=1))


class RNN(nn.Module):
    """Sequence classifier over the 28 image rows (28 steps of 28 pixels): one LSTM or
    GRU layer with 128 hidden units, the final hidden state, FC to 10 classes."""

    def __init__(self, cell="lstm", hidden=128):
        super().__init__()
        kind = {"lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.rnn = kind(28, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, 10)

    def forward(self, x):
        _, h = self.rnn(x.squeeze(1))
        if isinstance(h, tuple):                # LSTM returns (h_n, c_n)
            h = h[0]
        return self.fc(h[-1])
