"""Quantization-aware training of LeNet (issue #4) and export to ONNX QDQ.

Follows the eager-mode QAT recipe of the PyTorch tutorials:
  1. start from the trained float LeNet (models/lenet/work/lenet.pt, made by
     train_float.py lenet);
  2. fuse conv+relu and linear+relu (fuse_modules_qat);
  3. qconfig = get_default_qat_qconfig('onednn', version=0): activations uint8
     per-tensor affine (MovingAverageMinMax observer, 0..255), weights int8
     per-output-channel symmetric (-128..127); prepare_qat;
  4. fine-tune with fake quantization (SGD), observers frozen for the last epoch;
  5. convert() to PyTorch's own int8 model (onednn engine) and measure its accuracy;
  6. disable_observer, export the fake-quant model to ONNX QDQ (opset 13);
  7. run ONNX Runtime on the QDQ model: its outputs are the golden int8 reference.

Writes models/lenet_qat/: lenet_qat.onnx, ref_ort.npy (ORT, default graph
optimisations, i.e. its int8 kernels), ref_ort_noopt.npy (ORT with optimisations off:
float Q/DQ simulation), ref_torch_int8.npy (PyTorch's converted int8 model),
ref_torch_fakequant.npy (the fake-quant model in float), meta.json.

Usage: /usr/bin/python3 models/scripts/train_qat.py
"""
import copy
import json
import os

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.ao.quantization as tq

import common as c
import nets
import train_float

ENGINE = "onednn"
EPOCHS = 3
SEED = 7


def qdq_params(path):
    """Scale/zero point of every QuantizeLinear in the file, by the tensor it quantizes."""
    m = onnx.load(path)
    init = {t.name: onnx.numpy_helper.to_array(t) for t in m.graph.initializer}
    # Identity nodes that only alias an initializer (torch de-duplicates equal tensors)
    for n in m.graph.node:
        if n.op_type == "Identity" and n.input[0] in init:
            init[n.output[0]] = init[n.input[0]]
    out = []
    for n in m.graph.node:
        if n.op_type == "QuantizeLinear":
            s, z = init[n.input[1]], init[n.input[2]]
            out.append({"x": n.input[0], "y": n.output[0], "scale_shape": list(s.shape),
                        "zero_point_dtype": str(z.dtype),
                        "scale": [float(v) for v in s.reshape(-1)] if s.size == 1 else None,
                        "zero_point": [int(v) for v in z.reshape(-1)] if z.size == 1 else None})
    return out


def main():
    c.main_guard()
    c.setup(SEED)
    torch.backends.quantized.engine = ENGINE
    name = "lenet_qat"
    d = os.path.join(c.MODELS_DIR, name)
    os.makedirs(d, exist_ok=True)
    x_test, y_test = c.load_test()

    float_model = train_float.build("lenet")
    float_acc = c.accuracy(c.predict(float_model, x_test), y_test)

    model = nets.LeNet(quant=True)
    model.load_state_dict(float_model.state_dict())
    model.train()
    model = tq.fuse_modules_qat(model, nets.LeNet.FUSE)
    model.qconfig = tq.get_default_qat_qconfig(ENGINE, version=0)
    tq.prepare_qat(model, inplace=True)

    def freeze_observers_last_epoch(step, steps_per_epoch=(60000 + 127) // 128):
        if step == (EPOCHS - 1) * steps_per_epoch:
            model.apply(tq.disable_observer)
            print("  observers frozen", flush=True)

    print(f"== {name}: QAT fine-tuning {EPOCHS} epochs ({ENGINE}, version=0 qconfig)", flush=True)
    c.train(model, EPOCHS, 1e-3, seed=SEED, step_hook=freeze_observers_last_epoch,
            optimizer="sgd")
    model.apply(tq.disable_observer)
    model.eval()
    fq_logits = c.predict(model, x_test)

    int8_model = tq.convert(copy.deepcopy(model).eval())
    int8_logits = c.predict(int8_model, x_test)

    onnx_path = os.path.join(d, f"{name}.onnx")
    c.export_onnx(model, onnx_path, torch.from_numpy(x_test[:1]))
    test_x = os.path.join(c.DATA_DIR, "fmnist_test_x.npy")
    ort = c.ort_run(onnx_path, test_x, os.path.join(d, "ref_ort.npy"))
    ort_noopt = c.ort_run_opt(onnx_path, test_x, os.path.join(d, "ref_ort_noopt.npy"), "disabled")
    np.save(os.path.join(d, "ref_torch_int8.npy"), int8_logits)
    np.save(os.path.join(d, "ref_torch_fakequant.npy"), fq_logits)

    qp = qdq_params(onnx_path)
    graph = onnx.load(onnx_path).graph
    out_dq = [n for n in graph.node if c.OUTPUT_NAME in n.output][0]
    assert out_dq.op_type == "DequantizeLinear"
    out_q = [q for q in qp if q["y"] == out_dq.input[0]][0]
    lsb = out_q["scale"][0]
    accs = {
        "accuracy_float_lenet": float_acc,
        "accuracy_torch_fakequant": c.accuracy(fq_logits, y_test),
        "accuracy_torch_int8": c.accuracy(int8_logits, y_test),
        "accuracy_ort": c.accuracy(ort, y_test),
        "accuracy_ort_noopt": c.accuracy(ort_noopt, y_test),
    }

    def lsb_stats(a, b):
        d_lsb = np.rint(np.abs(a - b) / lsb).astype(np.int64)
        return {"max_lsb": int(d_lsb.max()), "frac_within_1_lsb": float((d_lsb <= 1).mean()),
                "frac_equal": float((d_lsb == 0).mean())}

    meta = {
        "name": name, "onnx": f"{name}.onnx", "onnx_bytes": os.path.getsize(onnx_path),
        "onnx_sha256": c.sha256(onnx_path), "opset": c.OPSET,
        "input": {"name": c.INPUT_NAME, "shape": ["batch", 1, 28, 28], "dtype": "float32",
                  "layout": "NCHW",
                  "normalization": f"(pixel/255 - {c.FMNIST_MEAN}) / {c.FMNIST_STD}"},
        "output": {"name": c.OUTPUT_NAME, "shape": ["batch", 10], "dtype": "float32",
                   "quant_scale": lsb, "quant_zero_point": out_q["zero_point"][0],
                   "note": "logits = DequantizeLinear(uint8); 1 LSB = quant_scale"},
        "engine": ENGINE, "qconfig": f"get_default_qat_qconfig('{ENGINE}', version=0)",
        "qat_epochs": EPOCHS, "seed": SEED,
        "ops": c.onnx_op_types(onnx_path),
        **accs,
        "ort_vs_torch_int8": lsb_stats(ort, int8_logits),
        "ort_vs_ort_noopt": lsb_stats(ort, ort_noopt),
        "ort_vs_torch_fakequant": lsb_stats(ort, fq_logits),
        "top1_agreement_ort_torch_int8": int((ort.argmax(1) == int8_logits.argmax(1)).sum()),
        "quantize_linear": qp,
    }
    with open(os.path.join(d, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    for k, v in accs.items():
        print(f"  {k}: {v:.4f}")
    print("  ORT vs torch int8 (LSB):", meta["ort_vs_torch_int8"])
    print("  ORT vs ORT no-opt (LSB):", meta["ort_vs_ort_noopt"])
    print("  ops:", meta["ops"])


if __name__ == "__main__":
    main()
