"""Check every bundled model and print the tables of models/README.md.

For each models/NAME/ with a meta.json:
  - onnx.checker (full check), opset 13, the batch axis of input and output is symbolic;
  - ONNX Runtime on the whole test subset reproduces ref_ort.npy bit for bit, and its
    accuracy equals PyTorch's (ref_torch.npy; for lenet_qat, PyTorch's int8 model);
  - a batch of 1 and a batch of 7 give the same rows as the batch of 1000 (dynamic batch);
  - the ONNX file's sha256 matches meta.json.

Usage: /usr/bin/python3 models/scripts/check_models.py [--markdown]
"""
import json
import os
import sys
import tempfile

import numpy as np
import onnx

import common as c

ORDER = ["mlp", "lenet", "mobilenet", "transformer", "lstm", "gru", "lenet_qat", "mlp_pruned",
         "mlp_clustered"]


def check(name, tmp):
    d = os.path.join(c.MODELS_DIR, name)
    meta = json.load(open(os.path.join(d, "meta.json")))
    path = os.path.join(d, meta["onnx"])
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    assert [o.version for o in m.opset_import if o.domain in ("", "ai.onnx")] == [c.OPSET]
    for v in (m.graph.input[0], m.graph.output[0]):
        assert v.type.tensor_type.shape.dim[0].dim_param, f"{name}: batch axis of {v.name} is fixed"
    assert c.sha256(path) == meta["onnx_sha256"], f"{name}: onnx differs from meta.json"
    x, y = c.load_test()
    ort = c.ort_run(path, os.path.join(c.DATA_DIR, "fmnist_test_x.npy"), os.path.join(tmp, "o.npy"))
    ref_ort = np.load(os.path.join(d, "ref_ort.npy"))
    assert np.array_equal(ort, ref_ort), f"{name}: ORT output differs from ref_ort.npy"
    if name == "lenet_qat":
        ref = np.load(os.path.join(d, "ref_torch_int8.npy"))
    else:
        ref = np.load(os.path.join(d, "ref_torch.npy"))
    acc_o, acc_t = c.accuracy(ort, y), c.accuracy(ref, y)
    assert acc_o == acc_t, f"{name}: ORT accuracy {acc_o} != PyTorch {acc_t}"
    for lo, hi in ((0, 1), (100, 107)):
        np.save(os.path.join(tmp, "b.npy"), x[lo:hi])
        ob = c.ort_run(path, os.path.join(tmp, "b.npy"), os.path.join(tmp, "ob.npy"))
        tol = 1e-5 * max(1.0, float(np.abs(ort).max()))
        if name == "lenet_qat":
            tol = meta["output"]["quant_scale"] * 1.01   # int8 kernels may differ by batch tiling
        assert np.abs(ob - ort[lo:hi]).max() <= tol, f"{name}: batch {hi - lo} differs"
    return meta, acc_t, acc_o, float(np.abs(ort - ref).max())


def qat_table(rows):
    meta = {n: m for n, m, *_ in rows}.get("lenet_qat")
    if not meta:
        return
    print("\n| LeNet variant (test subset, 1000 images) | top-1 |")
    print("|---|---:|")
    for key, label in (("accuracy_float_lenet", "float `lenet` (PyTorch)"),
                       ("accuracy_torch_fakequant", "QAT model with fake quantization (PyTorch, float)"),
                       ("accuracy_torch_int8", "**PyTorch's own int8 model** (`convert`, onednn)"),
                       ("accuracy_ort", "ONNX Runtime on `lenet_qat.onnx` (int8 kernels)"),
                       ("accuracy_ort_noopt", "ONNX Runtime, optimisations off (float Q/DQ)")):
        print(f"| {label} | {100 * meta[key]:.1f}% |")
    print("\n| outputs compared (10,000 logits) | max diff (LSB) | equal | within 1 LSB |")
    print("|---|---:|---:|---:|")
    for key, label in (("ort_vs_torch_int8", "ORT vs PyTorch int8"),
                       ("ort_vs_ort_noopt", "ORT vs ORT without optimisations"),
                       ("ort_vs_torch_fakequant", "ORT vs PyTorch fake-quant")):
        st = meta[key]
        print(f"| {label} | {st['max_lsb']} | {100 * st['frac_equal']:.2f}% "
              f"| {100 * st['frac_within_1_lsb']:.2f}% |")
    o = meta["output"]
    print(f"\nOutput quantization: scale {o['quant_scale']:.6g}, zero point {o['quant_zero_point']} "
          f"(uint8). Top-1 of ORT and PyTorch int8 agree on "
          f"{meta['top1_agreement_ort_torch_int8']}/1000 images.")


def prune_table(rows):
    import gzip
    metas = {n: m for n, m, *_ in rows}
    if "mlp_pruned" not in metas:
        return
    print("\n| model | top-1 (PyTorch = ORT) | layer | shape | sparsity | distinct values |")
    print("|---|---:|---|---|---:|---:|")
    for name in ("mlp_pruned", "mlp_clustered"):
        meta = metas.get(name)
        if not meta:
            continue
        for i, (layer, st) in enumerate(meta["weights"].items()):
            acc = f"{100 * meta['accuracy_torch']:.1f}%" if i == 0 else ""
            print(f"| {name if i == 0 else ''} | {acc} | {layer} | {st['shape'][0]}x{st['shape'][1]} "
                  f"| {100 * st['sparsity']:.2f}% | {st['distinct_values']} |")
    print("\n| file | bytes | gzip -9 bytes |")
    print("|---|---:|---:|")
    for name in ("mlp", "mlp_pruned", "mlp_clustered"):
        if name in metas:
            p = os.path.join(c.MODELS_DIR, name, f"{name}.onnx")
            raw = open(p, "rb").read()
            print(f"| {name}.onnx | {len(raw)} | {len(gzip.compress(raw, 9, mtime=0))} |")


def main():
    markdown = "--markdown" in sys.argv
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in ORDER:
            if not os.path.exists(os.path.join(c.MODELS_DIR, name, "meta.json")):
                print(f"{name}: missing")
                continue
            meta, acc_t, acc_o, diff = check(name, tmp)
            rows.append((name, meta, acc_t, acc_o, diff))
            print(f"{name}: ok  torch {acc_t:.3f}  ort {acc_o:.3f}  max|diff| {diff:.3g}", flush=True)
    if markdown:
        print("\n| model | ONNX bytes | params | PyTorch top-1 | ORT top-1 | max abs diff PyTorch vs ORT | max abs logit |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        metas = {n: m for n, m, *_ in rows}
        base = {"lenet_qat": "lenet", "mlp_pruned": "mlp", "mlp_clustered": "mlp"}
        for name, meta, acc_t, acc_o, diff in rows:
            params = meta.get("parameters", metas.get(base.get(name), {}).get("parameters", ""))
            scale = meta.get("max_abs_logit", "")
            scale = f"{scale:.1f}" if scale != "" else ""
            if name == "lenet_qat":
                name += " (PyTorch = its int8 model; diff = 1 LSB)"
            print(f"| {name} | {meta['onnx_bytes']} | {params} | {100 * acc_t:.1f}% | {100 * acc_o:.1f}% "
                  f"| {diff:.2g} | {scale} |")
        qat_table(rows)
        prune_table(rows)
        print("\n| model | ONNX op types (count) |")
        print("|---|---|")
        for name, meta, *_ in rows:
            print(f"| {name} | " + ", ".join(f"{k} {v}" for k, v in meta["ops"].items()) + " |")


if __name__ == "__main__":
    main()
