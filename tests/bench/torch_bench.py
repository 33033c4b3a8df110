"""PyTorch side of the model-level benchmark (tests/bench/run_models.py).

For one bundled model (models/NAME/NAME.onnx) this builds the PyTorch network
of models/scripts/nets.py and loads it with the ONNX file's own weights (so
PyTorch runs exactly the weights qlite and ONNX Runtime run; the result is
checked against models/NAME/ref_torch.npy, PyTorch's logits when the model was
trained), then times these variants:

  float             the float model (torch.inference_mode)
  dynamic_ENGINE    torch.ao.quantization.quantize_dynamic: nn.Linear / nn.LSTM /
                    nn.GRU with qint8 weights, quantized engine ENGINE
  static_ENGINE     eager-mode static int8: QuantStub/DeQuantStub around the
                    network, Conv+BN (and Conv/Linear+ReLU modules) fused,
                    get_default_qconfig(ENGINE), calibrated on the calibration
                    set, converted; ENGINE in qnnpack, onednn (fbgemm is not built
                    into Debian's torch)

Every (variant, threads, batch) configuration runs in a forked child (the
parent imports torch but runs no operator, so no thread pool exists at the
fork): it notes the resident memory, builds (and quantizes) the model, resets
the RSS high-water mark (/proc/self/clear_refs "5"; calibration is conversion
work, like qlite-convert, and is not counted), sets torch.set_num_threads(T)
(and OpenBLAS's thread count, when OpenBLAS is loaded), runs W warm-up and N
timed forward passes on the first B rows of the test inputs (time.perf_counter
around model(x)), and reports median / p90 (nearest rank), peak RSS and its
growth over the first baseline; the first configuration of each variant also
computes top-1 accuracy on all rows (unless --no-accuracy). The size is
torch.save of the model's state dict. Prints one JSON object per configuration
(or {"variant", "error"} when a variant cannot be built).

Usage: /usr/bin/python3 tests/bench/torch_bench.py NAME --input X.npy --labels Y.npy
           --calib CALIB.npz [--threads 1,2] [--batch 1,32] [--runs N] [--warmup W]
           [--variants float,dynamic_qnnpack,...] [--no-accuracy]
Run with LD_PRELOAD=<libopenblas.so.0> for fair float timings (Debian's torch
links the reference BLAS; PEERS.md).
"""
import argparse
import ctypes
import gc
import io
import json
import math
import os
import sys
import time
import traceback

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "models", "scripts"))

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")   # the parent must start no threads
# qnnpack's dynamic linear logs a "reduce_range ignored" warning on every call
# through glog (stderr); that costs time inside the timed runs.
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TORCH_CPP_LOG_LEVEL", "ERROR")
import torch  # noqa: E402
from torch import nn  # noqa: E402

import nets  # noqa: E402

torch.set_num_threads(1)
ENGINES = ("qnnpack", "onednn")
ALL_VARIANTS = ["float"] + [f"dynamic_{e}" for e in ENGINES] + [f"static_{e}" for e in ENGINES]


def constructor(name):
    if name in ("mlp", "mlp_pruned", "mlp_clustered"):
        return nets.MLP
    table = {"lenet": nets.LeNet, "mobilenet": nets.MobileNet, "transformer": nets.Transformer,
             "lstm": lambda: nets.RNN("lstm"), "gru": lambda: nets.RNN("gru")}
    if name not in table:
        raise LookupError(f"no PyTorch definition of '{name}' in models/scripts/nets.py")
    return table[name]


# ------------------------------------------------------------ weights from ONNX

def onnx_state_dict(model, onnx_path):
    """The model's state dict filled from the ONNX file's initializers: by name, else
    (Linear weights PyTorch exported as MatMul constants) from the MatMul node of the
    same module scope, transposed; RNN weights from the LSTM/GRU node, gates
    reordered (ONNX LSTM i,o,f,c -> torch i,f,g,o; ONNX GRU z,r,h -> torch r,z,n)."""
    import onnx
    from onnx import numpy_helper
    m = onnx.load(onnx_path)
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    for n in m.graph.node:                       # Constant nodes hold tensors too
        if n.op_type == "Constant":
            for a in n.attribute:
                if a.name == "value":
                    inits[n.output[0]] = numpy_helper.to_array(a.t)
    matmul_w = {}
    rnn = [n for n in m.graph.node if n.op_type in ("LSTM", "GRU")]
    for n in m.graph.node:
        if n.op_type == "MatMul" and n.input[1] in inits:
            scope = n.name.strip("/").replace("/", ".")
            if scope.endswith(".MatMul"):
                matmul_w[scope[: -len(".MatMul")] + ".weight"] = inits[n.input[1]].T
    sd = {}
    for key, ref in model.state_dict().items():
        shape = tuple(ref.shape)
        if key.endswith("num_batches_tracked"):    # a training counter; eval ignores it
            sd[key] = ref.numpy()
        elif key in inits and tuple(inits[key].shape) == shape:
            sd[key] = inits[key]
        elif key in matmul_w and matmul_w[key].shape == shape:
            sd[key] = matmul_w[key]
        elif rnn and key.startswith("rnn."):
            sd[key] = rnn_weight(rnn[0], inits, key, shape)
        else:
            raise LookupError(f"no ONNX initializer for '{key}' {shape}")
    return {k: torch.from_numpy(np.array(v, dtype=v.dtype if k.endswith("num_batches_tracked") else np.float32,
                                         order="C", copy=True)) for k, v in sd.items()}


def rnn_weight(node, inits, key, shape):
    gates = 4 if node.op_type == "LSTM" else 3
    order = [0, 2, 3, 1] if node.op_type == "LSTM" else [1, 0, 2]
    w, r = inits[node.input[1]][0], inits[node.input[2]][0]
    b = inits[node.input[3]][0] if len(node.input) > 3 and node.input[3] else np.zeros(2 * w.shape[0], np.float32)
    h = w.shape[0] // gates

    def reorder(a):
        return np.concatenate([a[g * h:(g + 1) * h] for g in order])
    src = {"rnn.weight_ih_l0": reorder(w), "rnn.weight_hh_l0": reorder(r),
           "rnn.bias_ih_l0": reorder(b[: gates * h]), "rnn.bias_hh_l0": reorder(b[gates * h:])}
    if key not in src or src[key].shape != shape:
        raise LookupError(f"cannot map '{key}' {shape} from the ONNX {node.op_type} node")
    return src[key]


def build_float(name):
    d = os.path.join(ROOT, "models", name)
    model = constructor(name)()
    model.load_state_dict(onnx_state_dict(model, os.path.join(d, f"{name}.onnx")))
    return model.eval()


def check_float(model, name, x):
    """max |model(x) - models/NAME/ref_torch.npy| must be within 1e-4 of the logit scale."""
    ref_path = os.path.join(ROOT, "models", name, "ref_torch.npy")
    if not os.path.exists(ref_path):
        return None
    ref = np.load(ref_path)
    with torch.inference_mode():
        out = model(torch.from_numpy(x[: len(ref)])).numpy()
    diff = float(np.abs(out - ref).max())
    if diff > 1e-4 * max(1.0, float(np.abs(ref).max())):
        raise ValueError(f"rebuilt model differs from ref_torch.npy by {diff:.3g}")
    return diff


# ------------------------------------------------------------ quantized variants

class Stubbed(nn.Module):
    def __init__(self, body):
        super().__init__()
        self.quant = torch.ao.quantization.QuantStub()
        self.body = body
        self.dequant = torch.ao.quantization.DeQuantStub()

    def forward(self, x):
        return self.dequant(self.body(self.quant(x)))


class ContiguousReLU6(nn.Module):
    """ReLU6 on a contiguous tensor. Debian's torch 1.13 computes quantized ReLU6 /
    hardtanh wrongly on channels_last tensors under qnnpack (which its quantized
    conv returns): the static qnnpack MobileNet scored 8% top-1 without this copy."""

    def __init__(self):
        super().__init__()
        self.act = nn.ReLU6()

    def forward(self, x):
        return self.act(x.contiguous())


def static_model(name, engine, calib):
    """Eager static int8 (prepare, calibrate, convert) or raise with the reason."""
    q = torch.ao.quantization
    if name == "lenet":
        model = nets.LeNet(quant=True)
        model.load_state_dict(onnx_state_dict(model, os.path.join(ROOT, "models", name, f"{name}.onnx")))
        model.eval()
        q.fuse_modules(model, nets.LeNet.FUSE, inplace=True)
    elif name in ("mlp", "mlp_pruned", "mlp_clustered"):
        model = Stubbed(build_float(name)).eval()
    elif name == "mobilenet":
        model = Stubbed(build_float(name)).eval()
        for block in model.body.features:
            q.fuse_modules(block, [["0", "1"]], inplace=True)    # Conv + BatchNorm
            if engine == "qnnpack":
                block[2] = ContiguousReLU6()
    else:
        raise NotImplementedError("eager static int8 needs this network rewritten with "
                                  "QuantStub/FloatFunctional (attention, LayerNorm, RNN); not done")
    model.qconfig = q.get_default_qconfig(engine)
    q.prepare(model, inplace=True)
    with torch.inference_mode():
        for i in range(0, len(calib), 100):
            model(torch.from_numpy(calib[i:i + 100]))
    q.convert(model, inplace=True)
    return model


def make_variant(name, variant, calib):
    if variant == "float":
        return build_float(name)
    kind, engine = variant.split("_", 1)
    if engine not in torch.backends.quantized.supported_engines:
        raise NotImplementedError(f"quantized engine {engine} is not built into this torch")
    torch.backends.quantized.engine = engine
    if kind == "dynamic":
        return torch.ao.quantization.quantize_dynamic(build_float(name), {nn.Linear, nn.LSTM, nn.GRU},
                                                      dtype=torch.qint8)
    if kind == "static":
        return static_model(name, engine, calib)
    raise ValueError(f"unknown variant {variant}")


# ------------------------------------------------------------ measuring

def status_bytes(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def set_threads(t):
    torch.set_num_threads(t)
    try:                                       # OpenBLAS, when preloaded
        ctypes.CDLL(None).openblas_set_num_threads(ctypes.c_int(t))
    except AttributeError:
        pass


def pct(sorted_ms, p):
    rank = min(max(math.ceil(p / 100 * len(sorted_ms)), 1), len(sorted_ms))
    return sorted_ms[rank - 1]


def run_config(name, variant, threads, batch, a, x, y, calib, with_accuracy):
    base = status_bytes("VmRSS")
    # threads first: quantized engines size their thread pools when first used, and a
    # pool made for 1 thread then resized to 2 ran 100x slower here
    set_threads(threads)
    t0 = time.perf_counter()
    model = make_variant(name, variant, calib)
    build_s = time.perf_counter() - t0
    check = check_float(model, name, x) if variant == "float" else None
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    size = buf.tell()
    del buf
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    reset_peak()
    rows = np.concatenate([x] * (batch // len(x) + 1))[:batch] if batch > len(x) else x[:batch]
    xb = torch.from_numpy(np.ascontiguousarray(rows))
    res = {"engine": "torch", "torch_version": torch.__version__, "model": name, "variant": variant,
           "threads": threads, "batch": batch, "runs": a.runs, "warmup": a.warmup,
           "build_s": build_s, "size_bytes": size, "quantized_engine": torch.backends.quantized.engine}
    if check is not None:
        res["max_abs_diff_ref_torch"] = check
    with torch.inference_mode():
        t0 = time.perf_counter()
        model(xb)
        res["first_ms"] = (time.perf_counter() - t0) * 1e3
        for _ in range(a.warmup):
            model(xb)
        ms = []
        for _ in range(a.runs):
            t0 = time.perf_counter()
            model(xb)
            ms.append((time.perf_counter() - t0) * 1e3)
        peak = max(status_bytes("VmHWM"), status_bytes("VmRSS"))
        s = sorted(ms)
        res.update(median_ms=pct(s, 50), p90_ms=pct(s, 90), p99_ms=pct(s, 99),
                   mean_ms=sum(ms) / len(ms), min_ms=s[0], max_ms=s[-1],
                   rss_base_bytes=base, rss_peak_bytes=peak, rss_delta_bytes=peak - base)
        if with_accuracy:
            logits = torch.cat([model(torch.from_numpy(x[i:i + 250])) for i in range(0, len(x), 250)])
            correct = int((logits.argmax(1).numpy() == y).sum())
            res.update(accuracy=correct / len(y), correct=correct, total=len(y))
    return res


def in_child(fn):
    """Runs fn() in a forked child; returns its JSON-able result or an error dict."""
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(rfd)
        try:
            out = json.dumps(fn())
        except Exception as e:  # noqa: BLE001 - reported to the parent as the cell's reason
            out = json.dumps({"error": f"{type(e).__name__}: {e}".splitlines()[0],
                              "trace": traceback.format_exc()[-2000:]})
        with os.fdopen(wfd, "w") as f:
            f.write(out)
        os._exit(0)
    os.close(wfd)
    with os.fdopen(rfd) as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    if not data:
        return {"error": f"child died (wait status {status})"}
    return json.loads(data)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("name")
    p.add_argument("--input", required=True)
    p.add_argument("--labels", required=True)
    p.add_argument("--calib", required=True)
    p.add_argument("--threads", default="1,2")
    p.add_argument("--batch", default="1")
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--variants", default=",".join(ALL_VARIANTS))
    p.add_argument("--no-accuracy", action="store_true", help="skip the accuracy pass")
    a = p.parse_args()
    x = np.load(a.input).astype(np.float32)
    y = np.load(a.labels).reshape(-1)
    z = np.load(a.calib)
    calib = z[z.files[0]].astype(np.float32)
    threads = [int(t) for t in a.threads.split(",")]
    batches = [int(b) for b in a.batch.split(",")]
    for variant in a.variants.split(","):
        first = not a.no_accuracy
        for t in threads:
            for b in batches:
                r = in_child(lambda: run_config(a.name, variant, t, b, a, x, y, calib, first))
                r.setdefault("variant", variant)
                r.setdefault("threads", t)
                r.setdefault("batch", b)
                print(json.dumps(r), flush=True)
                if "error" in r:
                    break
                first = False
            else:
                continue
            break


if __name__ == "__main__":
    main()
