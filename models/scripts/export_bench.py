"""Export the larger benchmark models (issue #6) with random, seeded weights.

  mobilenet_v2.onnx    torchvision MobileNetV2, input float32 [batch,3,224,224] (NCHW), 1000 logits
  resnet18.onnx        torchvision ResNet-18,   input float32 [batch,3,224,224] (NCHW), 1000 logits
  transformer_s128.onnx  BERT-mini-sized encoder classifier at sequence length 128:
                       token ids int64 [batch,128] -> embedding (vocab 8192, dim 256) + learned
                       positions -> 4 pre-LN layers (4 heads, GELU MLP 256-1024-256) -> LayerNorm
                       -> mean pool -> 2 logits

All: opset 13, dynamic batch axis, eval mode (torch folds BatchNorm into Conv for the two
CNNs). Weights are PyTorch's default random initialisation under a fixed seed; the
BatchNorm running statistics are then re-estimated on 8 batches of seeded random input so
the activations keep a sane range (useful for int8 calibration); this is not training.

Besides each model NAME.onnx the script writes NAME_input.npy (a seeded batch-1 input),
NAME_calib.npz (16 seeded inputs under the key 'input', for int8 calibration),
NAME_ref_torch.npy (PyTorch's output on NAME_input.npy), and checks the file with
onnx.checker and, if onnxruntime-node is present, ONNX Runtime's output against PyTorch's.
These files are large: write them outside the repository (they are not committed).

Usage: /usr/bin/python3 models/scripts/export_bench.py OUTDIR [mobilenet_v2 resnet18 transformer_s128]
"""
import os
import sys

import numpy as np
import torch
import torchvision
from torch import nn

import common as c
import nets

SEED = 1234


class BenchTransformer(nn.Module):
    def __init__(self, vocab=8192, dim=256, heads=4, layers=4, hidden=1024, tokens=128, classes=2):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.pos = nn.Parameter(torch.randn(1, tokens, dim) * 0.02)
        self.layers = nn.ModuleList(nets.EncoderLayer(dim, heads, tokens, hidden)
                                    for _ in range(layers))
        self.ln = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, ids):
        x = self.embed(ids) + self.pos
        for layer in self.layers:
            x = layer(x)
        return self.head(self.ln(x).mean(dim=1))


@torch.no_grad()
def recalibrate_bn(model, shape, batches=8, batch=8):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None        # cumulative average over the batches
    model.train()
    gen = torch.Generator().manual_seed(SEED + 1)
    for _ in range(batches):
        model(torch.randn((batch,) + shape, generator=gen))
    model.eval()


def make(name):
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED + 2)
    if name in ("mobilenet_v2", "resnet18"):
        model = getattr(torchvision.models, name)(weights=None)
        recalibrate_bn(model, (3, 224, 224))
        x1 = torch.randn(1, 3, 224, 224, generator=gen)
        calib = torch.randn(16, 3, 224, 224, generator=gen)
    elif name == "transformer_s128":
        model = BenchTransformer()
        x1 = torch.randint(0, 8192, (1, 128), generator=gen)
        calib = torch.randint(0, 8192, (16, 128), generator=gen)
    else:
        raise SystemExit(f"unknown model {name}")
    return model.eval(), x1, calib


def main():
    c.main_guard()
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    names = sys.argv[2:] or ["mobilenet_v2", "resnet18", "transformer_s128"]
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    for name in names:
        model, x1, calib = make(name)
        path = os.path.join(out, f"{name}.onnx")
        out_name = "logits"
        c.export_onnx(model, path, x1, input_name=c.INPUT_NAME, output_name=out_name)
        with torch.no_grad():
            ref = model(x1).numpy()
        in_path = os.path.join(out, f"{name}_input.npy")
        np.save(in_path, x1.numpy())
        c.save_npz(os.path.join(out, f"{name}_calib.npz"), {c.INPUT_NAME: calib.numpy()})
        np.save(os.path.join(out, f"{name}_ref_torch.npy"), ref)
        line = (f"{name}: {os.path.getsize(path) / 1e6:.1f} MB, "
                f"{sum(p.numel() for p in model.parameters())} parameters, ops {c.onnx_op_types(path)}")
        try:
            ort = c.ort_run(path, in_path, os.path.join(out, f"{name}_ref_ort.npy"))
            diff = float(np.abs(ort - ref).max())
            line += f"\n  max|torch - ORT| = {diff:.3g} (max|out| {np.abs(ref).max():.3g})"
            assert diff <= 1e-3 * max(1.0, float(np.abs(ref).max())), "ORT disagrees with PyTorch"
        except FileNotFoundError:
            line += "\n  (node not found: ORT check skipped)"
        print(line, flush=True)


if __name__ == "__main__":
    main()
