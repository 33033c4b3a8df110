"""Shared helpers for the bundled-model scripts (data, training, export, checks).

Run every script with Debian's interpreter: /usr/bin/python3 models/scripts/<name>.py
Everything is deterministic: fixed seeds, one torch thread (also kind to the
shared 2-core machine), deterministic algorithms.
"""
import gzip
import hashlib
import json
import os
import struct
import subprocess
import sys
import time

import numpy as np
import torch

MODELS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA_DIR = os.path.join(MODELS_DIR, "data")
FMNIST_DIR = "/usr/share/datasets/fashion-mnist"
ORT_RUN = os.path.join(MODELS_DIR, "scripts", "ort_run.js")

# Normalisation of every Fashion-MNIST input: x = (pixel / 255 - MEAN) / STD.
# MEAN and STD are the mean and standard deviation of the 60k training pixels
# scaled to [0, 1] (0.2860 and 0.3530, rounded to 4 digits).
FMNIST_MEAN = 0.2860
FMNIST_STD = 0.3530

TEST_COUNT = 1000     # test subset: seeded random sample of the 10k test images
CALIB_COUNT = 500     # calibration subset: seeded random sample of the 60k train images
DATA_SEED = 20240601

OPSET = 13
INPUT_NAME = "input"
OUTPUT_NAME = "logits"


def setup(seed):
    """Fix every source of randomness and use a single thread."""
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.use_deterministic_algorithms(True)


def _read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic = struct.unpack(">I", raw[:4])[0]
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def fmnist_raw(split):
    """uint8 images [N,28,28] and int64 labels [N] of 'train' or 't10k'."""
    x = _read_idx(os.path.join(FMNIST_DIR, f"{split}-images-idx3-ubyte.gz"))
    y = _read_idx(os.path.join(FMNIST_DIR, f"{split}-labels-idx1-ubyte.gz"))
    return x, y.astype(np.int64)


def normalize(x_u8):
    """uint8 [N,28,28] -> float32 [N,1,28,28] normalised."""
    x = x_u8.astype(np.float32) / np.float32(255.0)
    x = (x - np.float32(FMNIST_MEAN)) / np.float32(FMNIST_STD)
    return x[:, None, :, :].astype(np.float32)


def split_indices():
    """Indices of the test subset (into t10k) and calibration subset (into train)."""
    rng = np.random.RandomState(DATA_SEED)
    test_idx = np.sort(rng.choice(10000, TEST_COUNT, replace=False))
    calib_idx = np.sort(rng.choice(60000, CALIB_COUNT, replace=False))
    return test_idx, calib_idx


def fmnist_train():
    """Full normalised training set as torch tensors (float32 [60000,1,28,28], int64)."""
    x, y = fmnist_raw("train")
    return torch.from_numpy(normalize(x)), torch.from_numpy(y)


def load_test():
    x = np.load(os.path.join(DATA_DIR, "fmnist_test_x.npy"))
    y = np.load(os.path.join(DATA_DIR, "fmnist_test_y.npy"))
    return x, y


def load_calib():
    return np.load(os.path.join(DATA_DIR, "fmnist_calib.npz"))[INPUT_NAME]


# ---------------------------------------------------------------- training

def batches(n, batch, gen):
    perm = torch.randperm(n, generator=gen)
    for i in range(0, n, batch):
        yield perm[i:i + batch]


def train(model, epochs, lr, batch=128, weight_decay=0.0, log=None, step_hook=None,
          seed=0, x=None, y=None, optimizer="adam"):
    """Plain supervised training on the Fashion-MNIST training set.

    step_hook(step) is called after every optimizer step (pruning uses it)."""
    if x is None:
        x, y = fmnist_train()
    gen = torch.Generator().manual_seed(seed)
    if optimizer == "adam":
        opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9,
                              weight_decay=weight_decay)
    steps_per_epoch = (len(x) + batch - 1) // batch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * steps_per_epoch)
    lossf = torch.nn.CrossEntropyLoss()
    step = 0
    for ep in range(epochs):
        model.train()
        t0 = time.time()
        tot, correct, loss_sum = 0, 0, 0.0
        for idx in batches(len(x), batch, gen):
            xb, yb = x[idx], y[idx]
            opt.zero_grad()
            out = model(xb)
            loss = lossf(out, yb)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            if step_hook is not None:
                step_hook(step)
            tot += len(idx)
            correct += (out.argmax(1) == yb).sum().item()
            loss_sum += loss.item() * len(idx)
        print(f"  epoch {ep + 1}/{epochs}: loss {loss_sum / tot:.4f} train acc {correct / tot:.4f}"
              f" ({time.time() - t0:.1f}s)", flush=True)
    model.eval()
    return model


@torch.no_grad()
def predict(model, x_np, batch=250):
    model.eval()
    outs = []
    for i in range(0, len(x_np), batch):
        outs.append(model(torch.from_numpy(x_np[i:i + batch])).numpy())
    return np.concatenate(outs).astype(np.float32)


def accuracy(logits, y):
    return float((logits.argmax(1) == y).mean())


# ------------------------------------------------------------------ export

def export_onnx(model, path, example, training=None, input_name=INPUT_NAME,
                output_name=OUTPUT_NAME, opset=OPSET):
    """Export with a dynamic batch axis on the input and output."""
    import onnx
    model.eval()
    kwargs = {}
    if training is not None:
        kwargs["training"] = training
    torch.onnx.export(model, example, path, opset_version=opset,
                      input_names=[input_name], output_names=[output_name],
                      dynamic_axes={input_name: {0: "batch"}, output_name: {0: "batch"}},
                      do_constant_folding=True, **kwargs)
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    return m


def onnx_op_types(path):
    """Sorted op types with their counts, e.g. {'Conv': 2, ...}."""
    import onnx
    m = onnx.load(path)
    counts = {}
    for n in m.graph.node:
        counts[n.op_type] = counts.get(n.op_type, 0) + 1
    return dict(sorted(counts.items()))


def ort_run(onnx_path, in_path, out_path, threads=1):
    """Run ONNX Runtime (Node, onnxruntime-node) on an .npy input; return the output."""
    return ort_run_opt(onnx_path, in_path, out_path, "all", threads)


def ort_run_opt(onnx_path, in_path, out_path, opt, threads=1):
    """ort_run with a graph optimisation level: 'all' (ORT's default), 'basic', 'disabled'."""
    subprocess.run(["node", ORT_RUN, onnx_path, in_path, out_path, "--threads", str(threads),
                    "--opt", opt], check=True)
    return np.load(out_path)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def finish_model(name, torch_logits, extra=None, check_torch_eq_ort=True):
    """Write reference outputs of models/<name>/<name>.onnx, run ORT, compare, write meta.json.

    torch_logits: PyTorch's outputs on the test subset (float32 [1000, C])."""
    d = os.path.join(MODELS_DIR, name)
    onnx_path = os.path.join(d, f"{name}.onnx")
    x, y = load_test()
    np.save(os.path.join(d, "ref_torch.npy"), torch_logits.astype(np.float32))
    ort = ort_run(onnx_path, os.path.join(DATA_DIR, "fmnist_test_x.npy"),
                  os.path.join(d, "ref_ort.npy"))
    diff = float(np.abs(ort - torch_logits).max())
    scale = float(np.abs(torch_logits).max())
    acc_t, acc_o = accuracy(torch_logits, y), accuracy(ort, y)
    agree = int((ort.argmax(1) == torch_logits.argmax(1)).sum())
    print(f"{name}: torch acc {acc_t:.4f}  ort acc {acc_o:.4f}  max|torch-ort| {diff:.3g}"
          f" (max|logit| {scale:.3g})  top-1 agreement {agree}/{len(y)}")
    if check_torch_eq_ort:
        assert acc_t == acc_o, "ORT accuracy differs from PyTorch's"
        assert diff <= 1e-4 * max(1.0, scale), "ORT outputs differ from PyTorch's"
    meta = {
        "name": name,
        "onnx": f"{name}.onnx",
        "onnx_bytes": os.path.getsize(onnx_path),
        "onnx_sha256": sha256(onnx_path),
        "opset": OPSET,
        "input": {"name": INPUT_NAME, "shape": ["batch", 1, 28, 28], "dtype": "float32",
                  "layout": "NCHW", "normalization": f"(pixel/255 - {FMNIST_MEAN}) / {FMNIST_STD}"},
        "output": {"name": OUTPUT_NAME, "shape": ["batch", int(torch_logits.shape[1])],
                   "dtype": "float32"},
        "test_data": "data/fmnist_test_x.npy", "test_labels": "data/fmnist_test_y.npy",
        "ops": onnx_op_types(onnx_path),
        "accuracy_torch": acc_t,
        "accuracy_ort": acc_o,
        "max_abs_diff_torch_ort": diff,
        "max_abs_logit": scale,
        "top1_agreement_torch_ort": agree,
    }
    if extra:
        meta.update(extra)
    with open(os.path.join(d, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    return meta


def count_params(model):
    return sum(p.numel() for p in model.parameters())


def main_guard():
    if sys.executable != "/usr/bin/python3":
        print("warning: run with /usr/bin/python3 (Debian's, has torch)", file=sys.stderr)


def save_npz(path, arrays, compress=True):
    """np.savez_compressed with fixed zip timestamps, so reruns give identical bytes."""
    import io
    import zipfile
    mode = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", compression=mode) as z:
        for key, arr in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = mode
            info.external_attr = 0o644 << 16
            z.writestr(info, buf.getvalue())
