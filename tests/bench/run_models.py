"""Model-level benchmark: qlite vs ONNX Runtime vs PyTorch on every bundled model.

One command (tests/bench/run_models.sh wraps it and builds what it needs):

  /usr/bin/python3 tests/bench/run_models.py [--quick] [--threads 1,2] [--batch 1[,32]]
        [--runs N] [--warmup W] [--repeat R] [--models mlp,lenet,...]
        [--engines qlite,ort,torch] [--build DIR] [--work DIR] [--out FILE.md] [--json FILE]

For every model models/NAME/NAME.onnx (the QAT model models/lenet_qat joins the
lenet group as ONNX Runtime's and qlite's QAT int8 rows), on the same inputs
(the first B rows of models/data/fmnist_test_x.npy), for each thread count and
batch size:

  qlite   qlite-convert in each mode (float32, float16, dynamic, int8 with
          --calib models/data/fmnist_calib.npz): file size and conversion time;
          a mode the converter refuses is a row whose cells say "n/a (reason)";
          then tests/bench/qlite_bench (qlite_interpreter_invoke timed in C):
          median and p90 latency, peak RSS, and top-1 accuracy on the 1000
          test rows; a per-op profile of float32 (1 thread, batch 1).
  ORT     tests/bench/ort_bench.js (onnxruntime-node 1.30, intraOpNumThreads T,
          graphOptimizationLevel 'all'): the float model; the int8 QDQ model and
          the dynamic-int8 model tests/bench/make_ort_quant.py builds (ORT's own
          quantization tool is not installed); for lenet also the QAT QDQ file.
  PyTorch tests/bench/torch_bench.py (torch.set_num_threads T, OpenBLAS preloaded
          when present): float, quantize_dynamic and eager static int8 on the
          qnnpack and onednn engines where they work.

Every latency is the median (and p90, nearest rank) of N timed runs after W
warm-up runs, each engine in its own process; with --repeat R the whole model
group is measured R times, interleaved (default 3; the machine is shared), each
row shows its typical repetition (the one whose median is the median of the R),
and the ratio column is the median over the repetitions of the row's median over
ONNX Runtime float32's in the same repetition, same threads and batch. Every
repetition is in the --json file.

The "2T speedup" (issue #6 table) is not the ratio of the 1T and 2T medians,
which come from two processes minutes apart (host noise lands on one of them
only: the same model moved 1.4x -> 1.8x between runs). The 1-thread process of
the qlite int8 / float32 rows and ORT int8 QDQ / float32 rows also runs
`--paired 2`: two interpreters (sessions) of the same model, 1 and 2 threads,
take turns on the same input, N rounds of one timed run each (after one
untimed run of the same interpreter, so each starts as in a back-to-back
series), and the speedup is the median of the per-round ratios 1T / 2T; the
table shows the median over the repetitions and their range.
Prints the markdown report and writes it to --out (default
bench_models.md in the work directory).
"""
import argparse
import datetime
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MODELS = os.path.join(ROOT, "models")
DATA_X = os.path.join(MODELS, "data", "fmnist_test_x.npy")
DATA_Y = os.path.join(MODELS, "data", "fmnist_test_y.npy")
CALIB = os.path.join(MODELS, "data", "fmnist_calib.npz")
PY = "/usr/bin/python3"
OPENBLAS = "/usr/lib/x86_64-linux-gnu/libopenblas.so.0"
QLITE_MODES = ["float32", "float16", "dynamic", "int8"]
TORCH_VARIANTS = ["float", "dynamic_qnnpack", "dynamic_onednn", "static_qnnpack", "static_onednn"]
LARGE = ["mobilenet_v2", "resnet18", "transformer_s128"]   # export_bench.py, in --large DIR
ORDER = ["mlp", "mlp_pruned", "mlp_clustered", "lenet", "mobilenet", "transformer", "lstm", "gru"]
TIMEOUT = 1800
PAIRED_MODES = ("int8", "float32", "int8 QDQ")   # rows of the issue #6 "2T speedup" columns
STARTUP_RUNS = 10   # larger models, first configuration: open+prepare / session creation repeated


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def first_line(text):
    for line in (text or "").splitlines():
        line = line.strip()
        if line:
            return line[:160]
    return "no message"


def run(cmd, env=None, timeout=TIMEOUT):
    """(returncode, stdout, stderr, seconds)."""
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
        return p.returncode, p.stdout, p.stderr, time.perf_counter() - t0
    except subprocess.TimeoutExpired:
        return 124, "", f"timed out after {timeout} s", time.perf_counter() - t0


def json_lines(text):
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return out


# ---------------------------------------------------------------- the machine

def machine():
    info = {"cpu": platform.processor() or "?", "cores": os.cpu_count(), "flags": ""}
    rc, out, _, _ = run(["lscpu"])
    if rc == 0:
        m = re.search(r"^Model name:\s*(.+)$", out, re.M)
        if m:
            info["cpu"] = m.group(1).strip()
        m = re.search(r"^Flags:\s*(.+)$", out, re.M)
        if m:
            flags = set(m.group(1).split())
            keep = ["sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl",
                    "avx512_vnni", "avx_vnni", "avx512_bf16", "avx512_fp16", "amx_int8"]
            info["flags"] = " ".join(f for f in keep if f in flags)
        m = re.search(r"^Hypervisor vendor:\s*(.+)$", out, re.M)
        if m:
            info["hypervisor"] = m.group(1).strip()
    return info


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def git_rev(src):
    rc, out, _, _ = run(["git", "-C", src, "describe", "--always", "--dirty"])
    return out.strip() if rc == 0 else "?"


# ---------------------------------------------------------------- qlite

def convert(a, src, mode, out_path, calib=CALIB):
    cmd = [a.convert, src, "-o", out_path, "--mode", mode, "-q"]
    if mode == "int8" and not src.endswith("_qat.onnx"):
        cmd[-1:-1] = ["--calib", calib]
    if os.path.exists(out_path):
        os.unlink(out_path)
    rc, out, err, secs = run(cmd)
    if rc != 0 or not os.path.exists(out_path):
        reason = first_line(err or out)
        reason = re.sub(r"^qlite-convert: [^:]+: ", "", reason)
        return {"error": reason}
    return {"size": os.path.getsize(out_path), "convert_s": secs, "weights": weight_dtypes(a, out_path)}


def weight_dtypes(a, path):
    """What the file's constants are stored as, by bytes ("int8 97%, f32 3%"), from
    qlite-dump --json: shows whether a mode really changed the weights."""
    rc, out, _, _ = run([a.dump, "--json", "--no-gzip", path])
    try:
        by = json.loads(out)["totals"]["weights_bytes_by_dtype"] if rc == 0 else None
    except (ValueError, KeyError, TypeError):
        by = None
    if not by:
        return None
    total = sum(by.values()) or 1
    short = {"float32": "f32", "float16": "f16", "int32": "i32", "int8": "i8", "uint8": "u8", "int4": "i4"}
    items = sorted(by.items(), key=lambda kv: -kv[1])
    return " ".join(f"{short.get(k, k)} {100 * v / total:.0f}%" for k, v in items if 100 * v / total >= 0.5)


def runs_of(a, spec):
    return a.large_runs if spec.get("large") and a.large_runs else a.runs


def warmup_of(a, spec):
    return min(a.warmup, 3) if spec.get("large") and a.large_runs else a.warmup


def qlite_config(a, path, threads, batch, accuracy, profile, spec=None, paired=None):
    spec = spec or {"input": DATA_X, "labels": DATA_Y}
    cmd = [a.qlite_bench, path, "--input", spec["input"], "--batch", str(batch), "--threads", str(threads),
           "--runs", str(runs_of(a, spec)), "--warmup", str(warmup_of(a, spec)), "--json"]
    if paired:
        cmd += ["--paired", str(paired)]
    if accuracy and spec.get("large"):
        cmd += ["--startup", str(STARTUP_RUNS)]
    if accuracy and spec.get("labels"):
        cmd += ["--labels", spec["labels"]]
    if profile:
        cmd += ["--profile", str(max(20, runs_of(a, spec) // 2))]
    rc, out, err, _ = run(cmd)
    res = json_lines(out)
    if rc != 0 or not res:
        return {"error": first_line(err or out).replace("qlite_bench: ", "")}
    return res[0]


# ---------------------------------------------------------------- ORT

def ort_config(a, path, threads, batch, accuracy, internal, spec=None, paired=None):
    spec = spec or {"input": DATA_X, "labels": DATA_Y}
    cmd = ["node", os.path.join(HERE, "ort_bench.js"), "--model", path, "--input", spec["input"],
           "--batch", str(batch), "--threads", str(threads), "--runs", str(runs_of(a, spec)),
           "--warmup", str(warmup_of(a, spec))]
    if paired:
        cmd += ["--paired", str(paired)]
    if accuracy and spec.get("labels"):
        cmd += ["--labels", spec["labels"]]
    if accuracy and spec.get("large"):
        cmd += ["--startup", str(STARTUP_RUNS)]
    if internal:
        cmd += ["--internal"]
    rc, out, err, _ = run(cmd)
    res = json_lines(out)
    if rc != 0 or not res:
        msg = first_line(err or out).replace("ort_bench.js: ", "")
        return {"error": re.sub(r"\x1b\[[0-9;]*m", "", msg)}
    return res[0]


def ort_floor_model(work):
    """A model with one Relu over the input: what any session.run costs through
    the Node binding at this input size (reported as the ORT floor)."""
    path = os.path.join(work, "ort_floor_relu.onnx")
    if os.path.exists(path):
        return path
    code = ("import onnx,sys\nfrom onnx import helper as h, TensorProto as T\n"
            "x=h.make_tensor_value_info('input',T.FLOAT,['batch',1,28,28])\n"
            "y=h.make_tensor_value_info('y',T.FLOAT,['batch',1,28,28])\n"
            "g=h.make_graph([h.make_node('Relu',['input'],['y'])],'floor',[x],[y])\n"
            "m=h.make_model(g,opset_imports=[h.make_opsetid('',13)]);m.ir_version=7\n"
            "onnx.save(m,sys.argv[1])\n")
    rc, _, err, _ = run([PY, "-c", code, path])
    return path if rc == 0 else None


def ort_quant_models(name, work, src=None, calib=CALIB):
    """Builds NAME.ort_qdq.onnx and NAME.ort_dynamic.onnx (once); {variant: path or error}."""
    src = src or os.path.join(MODELS, name, f"{name}.onnx")
    qdq, dyn = (os.path.join(work, f"{name}.ort_{k}.onnx") for k in ("qdq", "dynamic"))
    stamp = os.path.join(work, f"{name}.ort_quant.json")
    newest = max(os.path.getmtime(src), os.path.getmtime(os.path.join(HERE, "make_ort_quant.py")))
    if not (os.path.exists(stamp) and os.path.getmtime(stamp) >= newest):
        rc, out, err, secs = run([PY, os.path.join(HERE, "make_ort_quant.py"), src, calib, work])
        counts = [int(n) for n in re.findall(r": (\d+) ops", out)]
        info = {"secs": secs, "counts": counts,
                "error": None if rc == 0 else first_line(err.strip().splitlines()[-1] if err.strip() else out)}
        with open(stamp, "w") as f:
            json.dump(info, f)
    with open(stamp) as f:
        info = json.load(f)
    if info["error"]:
        return {"int8 QDQ": {"error": info["error"]}, "dynamic": {"error": info["error"]}}
    n = info.get("counts") or [None, None]
    return {"int8 QDQ": {"path": qdq, "convert_s": info["secs"], "ops": n[0]},
            "dynamic": {"path": dyn, "convert_s": info["secs"], "ops": n[1]}}


# ---------------------------------------------------------------- PyTorch

def torch_group(a, name, accuracy):
    env = dict(os.environ)
    if os.path.exists(OPENBLAS):
        env["LD_PRELOAD"] = (OPENBLAS + " " + env.get("LD_PRELOAD", "")).strip()
    cmd = [PY, os.path.join(HERE, "torch_bench.py"), name, "--input", DATA_X, "--labels", DATA_Y,
           "--calib", CALIB, "--threads", ",".join(map(str, a.threads)),
           "--batch", ",".join(map(str, a.batch)), "--runs", str(a.runs), "--warmup", str(a.warmup),
           "--variants", ",".join(TORCH_VARIANTS)]
    if not accuracy:
        cmd += ["--no-accuracy"]
    rc, out, err, _ = run(cmd, env=env)
    res = json_lines(out)
    if not res:
        return {v: {"error": first_line(err or out)} for v in TORCH_VARIANTS}
    by = {}
    for r in res:
        by.setdefault(r["variant"], []).append(r)
    return by


# ---------------------------------------------------------------- one model group

def spec_of(a, name):
    """Where a model group's files are: bundled (models/NAME, Fashion-MNIST rows, labels) or
    one of the larger models models/scripts/export_bench.py wrote to --large DIR (its own
    seeded input and calibration set, no labels)."""
    if name in LARGE and a.large:
        d = a.large
        return {"src": os.path.join(d, f"{name}.onnx"), "input": os.path.join(d, f"{name}_input.npy"),
                "calib": os.path.join(d, f"{name}_calib.npz"), "labels": None, "large": True}
    return {"src": os.path.join(MODELS, name, f"{name}.onnx"), "input": DATA_X, "labels": DATA_Y,
            "calib": CALIB, "large": False}


def discover(a):
    names = [d for d in os.listdir(MODELS)
             if os.path.isfile(os.path.join(MODELS, d, f"{d}.onnx")) and not d.endswith("_qat")]
    names.sort(key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))
    if a.large:
        names += [n for n in LARGE if os.path.isfile(os.path.join(a.large, f"{n}.onnx"))]
    if a.models:
        want = a.models.split(",")
        missing = [m for m in want if m not in names]
        if missing:
            log(f"note: no models/NAME/NAME.onnx for {', '.join(missing)}; skipped")
        names = [n for n in names if n in want]
    return names


def row_key(engine, mode):
    return f"{engine}|{mode}"


def bench_group(a, name, results):
    """Measures every row of one model group; fills results[name]."""
    g = results.setdefault(name, {"rows": {}, "profile": None, "ort_profile": None})
    rows = g["rows"]
    spec = spec_of(a, name)
    g["large"] = spec["large"]
    src = spec["src"]
    qat = os.path.join(MODELS, f"{name}_qat", f"{name}_qat.onnx")
    # --- conversions (once)
    qlite_files = {}
    if "qlite" in a.engines:
        for mode in QLITE_MODES:
            out = os.path.join(a.work, f"{name}.{mode}.qlite")
            c = convert(a, src, mode, out, spec["calib"])
            log(f"  convert {name} {mode}: " + (c.get("error") or f"{c['size']} B in {c['convert_s']:.2f} s"))
            rows[row_key("qlite", mode)] = {"engine": "qlite", "mode": mode, "size": c.get("size"),
                                           "convert_s": c.get("convert_s"), "error": c.get("error"),
                                           "weights": c.get("weights"), "runs": {}}
            if "error" not in c:
                qlite_files[mode] = out
        if os.path.exists(qat):
            out = os.path.join(a.work, f"{name}_qat.int8.qlite")
            c = convert(a, qat, "int8", out)
            log(f"  convert {name}_qat int8: " + (c.get("error") or f"{c['size']} B"))
            rows[row_key("qlite", "QAT int8")] = {"engine": "qlite", "mode": "QAT int8", "size": c.get("size"),
                                                 "convert_s": c.get("convert_s"), "error": c.get("error"),
                                                 "weights": c.get("weights"), "runs": {}}
            if "error" not in c:
                qlite_files["QAT int8"] = out
    ort_files = {}
    if "ort" in a.engines:
        ort_files["float32"] = {"path": src}
        ort_files.update(ort_quant_models(name, a.work, src, spec["calib"]))
        if os.path.exists(qat):
            ort_files["QAT int8 (QDQ file)"] = {"path": qat}
        for mode, f in ort_files.items():
            rows[row_key("ort", mode)] = {"engine": "ort", "mode": mode, "runs": {}, "ops": f.get("ops"),
                                         "size": os.path.getsize(f["path"]) if "path" in f else None,
                                         "convert_s": f.get("convert_s"), "error": f.get("error")}
    if "torch" in a.engines and not spec["large"]:   # torch_bench.py knows the bundled nets only
        for v in TORCH_VARIANTS:
            rows.setdefault(row_key("torch", v), {"engine": "torch", "mode": v, "runs": {}, "size": None,
                                                  "convert_s": None, "error": None})
    # --- measurements, R interleaved repetitions
    for rep in range(a.repeat):
        first = rep == 0
        for t in a.threads:
            for b in a.batch:
                cfg = f"{t}x{b}"
                acc = first and t == a.threads[0] and b == a.batch[0]
                prof = acc and t == 1 and b == 1
                # the 1T process of the rows in the "2T speedup" columns also times 1 vs 2
                # threads in alternation (qlite_bench / ort_bench.js --paired 2)
                pair = 2 if t == 1 and 2 in a.threads and b == a.batch[0] else None
                for mode, path in qlite_files.items():
                    r = qlite_config(a, path, t, b, acc, prof and mode == "float32", spec,
                                     pair if mode in PAIRED_MODES else None)
                    rows[row_key("qlite", mode)]["runs"].setdefault(cfg, []).append(r)
                    if prof and mode == "float32" and "profile" in r:
                        g["profile"] = r["profile"]
                for mode, f in ort_files.items():
                    if "path" not in f:
                        continue
                    r = ort_config(a, f["path"], t, b, acc, prof and mode == "float32", spec,
                                   pair if mode in PAIRED_MODES else None)
                    rows[row_key("ort", mode)]["runs"].setdefault(cfg, []).append(r)
                    if "internal" in r:
                        g["ort_profile"] = r.pop("internal")
                log(f"  {name} rep {rep + 1}/{a.repeat} {t} thread(s) batch {b}: "
                    + ", ".join(f"{k.split('|')[0]} {k.split('|')[1]} {fmt_ms(last_median(v, cfg))}"
                                for k, v in rows.items() if v["engine"] != "torch"))
        if "torch" in a.engines and not spec["large"]:
            by = torch_group(a, name, first)
            for v in TORCH_VARIANTS:
                row = rows[row_key("torch", v)]
                got = by.get(v)
                if isinstance(got, dict):          # the whole torch run failed
                    row["error"] = got["error"]
                    continue
                if not got:
                    row["error"] = "no result"
                    continue
                for r in got:
                    if "error" in r:
                        row["error"] = r["error"]
                        continue
                    row["size"] = r.get("size_bytes")
                    row["convert_s"] = r.get("build_s")
                    row["runs"].setdefault(f"{r['threads']}x{r['batch']}", []).append(r)
            log(f"  {name} rep {rep + 1}/{a.repeat} torch: " + ", ".join(
                f"{v} {fmt_ms(last_median(rows[row_key('torch', v)], f'{a.threads[0]}x{a.batch[0]}'))}"
                for v in TORCH_VARIANTS))


def last_median(row, cfg):
    rs = row["runs"].get(cfg) or []
    return rs[-1].get("median_ms") if rs else None


# ---------------------------------------------------------------- report

def fmt_ms(v):
    if v is None:
        return "—"
    return f"{v:.3f}" if v < 10 else f"{v:.1f}"


def fmt_bytes(v):
    if v is None:
        return "—"
    if v >= 1 << 20:
        return f"{v / (1 << 20):.1f} MiB"
    if v >= 1 << 10:
        return f"{v / (1 << 10):.1f} KiB"
    return f"{v} B"


def typical(row, cfg):
    """The repetition whose median is the median over the repetitions (the lower middle
    one for an even count), or the first error; None when nothing ran."""
    rs = (row or {}).get("runs", {}).get(cfg) or []
    ok = sorted((r for r in rs if "median_ms" in r), key=lambda r: r["median_ms"])
    if ok:
        return ok[(len(ok) - 1) // 2]
    return rs[0] if rs else None


def ratio(row, ort, cfg):
    """Median over the repetitions of row median / ORT float32 median in the same
    repetition (pairs measured minutes apart share the machine's load)."""
    rs = (row or {}).get("runs", {}).get(cfg) or []
    os_ = (ort or {}).get("runs", {}).get(cfg) or []
    q = sorted(r["median_ms"] / o["median_ms"] for r, o in zip(rs, os_)
               if r.get("median_ms") and o.get("median_ms"))
    if not q:
        return None
    n = len(q)
    return q[n // 2] if n % 2 else 0.5 * (q[n // 2 - 1] + q[n // 2])


def accuracy_of(row):
    for rs in row["runs"].values():
        for r in rs:
            if "accuracy" in r:
                return r["accuracy"]
    return None


def label(row):
    e, m = row["engine"], row["mode"]
    if e == "qlite":
        return f"qlite {m}"
    if e == "ort":
        ops = f", {row['ops']} op{'s' if row['ops'] != 1 else ''}" if row.get("ops") is not None else ""
        return {"float32": "ORT float32", "int8 QDQ": f"ORT int8 QDQ (generated{ops})",
                "dynamic": f"ORT dynamic int8 (generated{ops})"}.get(m, f"ORT {m}")
    return {"float": "PyTorch float32", "dynamic_qnnpack": "PyTorch dynamic qnnpack",
            "dynamic_onednn": "PyTorch dynamic onednn", "static_qnnpack": "PyTorch static int8 qnnpack",
            "static_onednn": "PyTorch static int8 onednn"}.get(m, f"PyTorch {m}")


def report(a, results, meta):
    L = []
    L.append(f"Date: {meta['date']}  ")
    L.append(f"Machine: {meta['cpu']}, {meta['cores']} cores"
             + (f" ({meta['hypervisor']} guest)" if meta.get("hypervisor") else "")
             + f"; flags: {meta['flags']}  ")
    L.append(f"Load average (1/5/15 min) at start: {meta['load_start']}, at end: {meta['load_end']} "
             "(a shared machine: read ratios, not absolute times)  ")
    L.append(f"Versions: qlite {meta['git']} ({meta['build_type']} build, {meta['build']}), "
             f"ONNX Runtime {meta.get('ort_version', '?')} (onnxruntime-node), PyTorch {meta.get('torch_version', '?')}"
             f"{' + OpenBLAS (LD_PRELOAD)' if os.path.exists(OPENBLAS) else ''}  ")
    L.append(f"Command: `{meta['command']}`  ")
    big = (f" ({a.large_runs} after {min(a.warmup, 3)} for the larger models)"
           if getattr(a, "large", None) and getattr(a, "large_runs", None) else "")
    L.append(f"Runs: {a.runs} timed after {a.warmup} warm-up per configuration{big}, {a.repeat} "
             f"interleaved repetition(s); inputs: the first B rows of models/data/fmnist_test_x.npy; "
             f"accuracy: top-1 on all 1000 rows (models/data/fmnist_test_y.npy)."
             + (" The larger models (MobileNetV2 224x224, ResNet-18, a 4-layer transformer encoder at "
                "sequence length 128; torchvision architectures / models/scripts/export_bench.py, seeded "
                "random weights, no accuracy) use their own seeded input and 16-sample random "
                "calibration set (NAME_input.npy, NAME_calib.npz)." if a.large else ""))
    if meta.get("ort_floor"):
        L.append("")
        L.append("ONNX Runtime is timed from Node.js around `await session.run()`; a one-Relu model of the "
                 "same input size takes " + ", ".join(f"{fmt_ms(v)} ms ({k})" for k, v in meta["ort_floor"].items())
                 + " this way: that is the binding's per-run floor inside every ORT number.")
    notes = []

    def na(reason):
        reason = short_reason(reason, 200)
        if reason not in notes:
            notes.append(reason)
        return f"n/a [{notes.index(reason) + 1}]"

    target = issue3_summary(a, results)
    if target:
        L.append("")
        L += target
    target6 = issue6_summary(a, results)
    if target6:
        L.append("")
        L += target6
    for b in a.batch:
        L.append("")
        L.append(f"### Batch {b}")
        L.append("")
        head = ["model", "engine / mode", "size", "weights", "conv s", "top-1"]
        for t in a.threads:
            head += [f"{t}T median ms", f"{t}T p90 ms", f"{t}T ×ORT"]
        head += ["peak RSS", "ΔRSS"]
        L.append("| " + " | ".join(head) + " |")
        L.append("|" + "|".join("---" if i < 2 else "---:" for i in range(len(head))) + "|")
        for name, g in results.items():
            ort = g["rows"].get(row_key("ort", "float32"))
            for key, row in g["rows"].items():
                cells = [name, label(row)]
                if row.get("error") and not any(row["runs"].values()):
                    L.append("| " + " | ".join(cells + [na(row["error"])] + [""] * (len(head) - 3)) + " |")
                    continue
                acc = accuracy_of(row)
                cells += [fmt_bytes(row.get("size")), row.get("weights") or "—",
                          f"{row['convert_s']:.2f}" if row.get("convert_s") is not None else "—",
                          f"{acc:.3f}" if acc is not None else "—"]
                rss_cell = delta_cell = "—"
                for t in a.threads:
                    cfg = f"{t}x{b}"
                    r = typical(row, cfg)
                    if r is None:
                        cells += ["—", "—", "—"]
                        continue
                    if "median_ms" not in r:
                        cells += [na(r.get("error", "?")), "", ""]
                        continue
                    x = ratio(row, ort, cfg)
                    cells += [fmt_ms(r["median_ms"]), fmt_ms(r["p90_ms"]), f"{x:.2f}" if x else "—"]
                    if t == a.threads[0]:
                        rss_cell = fmt_bytes(r.get("rss_peak_bytes"))
                        delta_cell = fmt_bytes(r.get("rss_delta_bytes"))
                cells += [rss_cell, delta_cell]
                L.append("| " + " | ".join(cells) + " |")
    if notes:
        L.append("")
        L.append("n/a: " + "; ".join(f"[{i + 1}] {n}" for i, n in enumerate(notes)) + ".")
    L.append("")
    L.append("Columns: **size** the model file (qlite: .qlite; ORT: .onnx; PyTorch: `torch.save` of the "
             "state dict); **weights** how the .qlite file stores its constants, by bytes (`qlite-dump --json`); **conv s** conversion / quantization time (qlite-convert; make_ort_quant.py incl. "
             "calibration through ORT; PyTorch: build from the ONNX weights + quantize incl. calibration); "
             "**median / p90** of the typical repetition (the one whose median is the median of the "
             "repetitions); **×ORT** the median over the repetitions of the row's median / ORT float32's "
             "median at the same threads and batch in the same repetition (the 1T and 2T columns are "
             "separate processes; the issue #6 table's 2T speedup is the paired measurement); "
             f"**peak RSS** the process's high-water mark ({a.threads[0]} thread), **ΔRSS** its growth over the "
             "process before the model was loaded (runtime libraries and the 3 MiB test set already resident; "
             "PyTorch: calibration excluded).")
    L.append("")
    L.append("Rows: **qlite MODE** `qlite-convert --mode MODE` (int8: `--calib models/data/fmnist_calib.npz`), "
             "timed by tests/bench/qlite_bench; **ORT float32** the bundled .onnx; **ORT int8 QDQ (generated)** "
             "and **ORT dynamic int8 (generated)**: ORT's quantization tool is not installed (no pip), so "
             "tests/bench/make_ort_quant.py writes the graphs it would (QDQ: int8 per-channel weights, uint8 "
             "per-tensor activations from ORT-computed min/max on the calibration set, int32 biases; dynamic: "
             "DynamicQuantizeLinear + MatMulInteger/ConvInteger); ORT fuses them into QLinearConv / QGemm / "
             "QLinearMatMul / DynamicQuantizeMatMul; **ORT QAT int8 (QDQ file)** models/lenet_qat/lenet_qat.onnx "
             "as PyTorch exported it; **PyTorch** float = models/scripts/nets.py loaded with the ONNX file's "
             "weights (checked against ref_torch.npy), dynamic = `quantize_dynamic` (Linear/LSTM/GRU), static = "
             "eager prepare/calibrate/convert with `get_default_qconfig(engine)`.")
    prof = [(n, g) for n, g in results.items() if g.get("profile")]
    if prof:
        L.append("")
        L.append("### Where qlite float32 spends its time (1 thread, batch 1)")
        L.append("")
        L.append("qlite: per-op medians from `qlite_bench --profile` (observer callback + clock), summed by "
                 "op. ORT: its own per-node profile (`enableProfiling`) of the same model, which slows ORT "
                 "down: read its shares, not its milliseconds.")
        L.append("")
        L.append("| model | qlite ×ORT | qlite: top ops (ms, share) | ORT: top ops (ms) |")
        L.append("|---|---:|---|---|")
        for name, g in prof:
            q = g["rows"].get(row_key("qlite", "float32"))
            o = g["rows"].get(row_key("ort", "float32"))
            x = ratio(q, o, f"1x{a.batch[0]}")
            L.append(f"| {name} | {f'{x:.2f}' if x else '—'} | {op_summary(g['profile']['ops'])} | "
                     f"{op_summary(g['ort_profile']['ops']) if g.get('ort_profile') else '—'} |")
    return "\n".join(L) + "\n"


def issue3_summary(a, results):
    """Issue #3's target: qlite float32 within 1.5x of ORT float32, 1 thread, batch 1."""
    if 1 not in a.threads or 1 not in a.batch:
        return []
    L = ["Issue #3 target, qlite float32 ≤ 1.5 × ONNX Runtime float32 (1 thread, batch 1); the ratios "
         "of the single repetitions show the spread:", "",
         "| model | qlite ms | ORT ms | ratio | per repetition | target |", "|---|---:|---:|---:|---|---|"]
    any_row = False
    for name, g in results.items():
        q, o = g["rows"].get(row_key("qlite", "float32")), g["rows"].get(row_key("ort", "float32"))
        rq, ro, x = typical(q, "1x1"), typical(o, "1x1"), ratio(q, o, "1x1")
        if not (rq and ro and x and rq.get("median_ms") and ro.get("median_ms")):
            continue
        reps = sorted(r["median_ms"] / s["median_ms"] for r, s in zip(q["runs"]["1x1"], o["runs"]["1x1"])
                      if r.get("median_ms") and s.get("median_ms"))
        L.append(f"| {name} | {fmt_ms(rq['median_ms'])} | {fmt_ms(ro['median_ms'])} | {x:.2f} | "
                 f"{' '.join(f'{v:.2f}' for v in reps)} | {'met' if x <= 1.5 else '**missed**'} |")
        any_row = True
    return L if any_row else []


def pair_ratio(num, den, cfg_num, cfg_den, key="median_ms"):
    """Median over the repetitions of num[key] / den[key], each pair from the same repetition."""
    rn = (num or {}).get("runs", {}).get(cfg_num) or []
    rd = (den or {}).get("runs", {}).get(cfg_den) or []
    q = sorted(x[key] / y[key] for x, y in zip(rn, rd) if x.get(key) and y.get(key))
    if not q:
        return None
    n = len(q)
    return q[n // 2] if n % 2 else 0.5 * (q[n // 2 - 1] + q[n // 2])


def speedup_2t(row, c1, c2):
    """(speedup, spread text) of 2 threads over 1: the median over the repetitions of the
    paired ratio (1T and 2T timed in alternation in one process, median of the per-round
    ratios: qlite_bench / ort_bench.js --paired 2), with the repetitions' range; without
    paired results (older --json files), the ratio of the separately measured medians."""
    rs = (row or {}).get("runs", {}).get(c1) or []
    q = sorted(r["paired"]["ratio"] for r in rs if (r.get("paired") or {}).get("ratio"))
    if not q:
        return pair_ratio(row, row, c1, c2), ""
    n = len(q)
    x = q[n // 2] if n % 2 else 0.5 * (q[n // 2 - 1] + q[n // 2])
    return x, f" ({q[0]:.2f}–{q[-1]:.2f})" if n > 1 else ""


def startup_ms(r):
    """qlite: open + interpreter create + resize/prepare/input copy; ORT: session creation.
    The median of the --startup repetitions when measured, else the first (cold) one."""
    if r is None:
        return None
    if r.get("startup_ms"):
        return r["startup_ms"]
    if "load_ms" in r and "prepare_ms" in r:
        return r["load_ms"] + r.get("create_ms", 0.0) + r["prepare_ms"]
    return r.get("create_ms")


def issue6_summary(a, results):
    """Issue #6's model-level targets, each a ratio measured within one repetition."""
    if 1 not in a.threads:
        return []
    b = a.batch[0]
    c1, c2 = f"1x{b}", f"2x{b}"
    paired = any((r.get("paired") or {}).get("ratio")
                 for g in results.values() for row in g["rows"].values()
                 for r in row.get("runs", {}).get(c1) or [])
    how = ("**2T speedup** is paired: in the 1-thread process, an interpreter / session with 1 thread "
           "and one with 2 take turns on the same input (each timed run after an untimed one of its "
           "own), and the ratio is the median of the per-round 1T ÷ 2T times, the range over the "
           "repetitions in parentheses" if paired else
           "**2T speedup**: the 1T median ÷ the 2T median, measured in separate processes")
    kind = "paired" if paired else "separate processes"
    L = [f"Issue #6 targets (batch {b}; each ratio is the median over the repetitions of the ratio "
         f"within one repetition; {how}):", "",
         "| model | qlite int8 ÷ ORT int8 QDQ (1T, ≤ 0.8) | qlite float32 ÷ ORT float32 (1T, ≤ 1.0) | "
         f"2T speedup qlite int8 / float32 (≥ 1.6 on the larger models; {kind}) | "
         f"2T speedup ORT QDQ / float32 ({kind}) |",
         "|---|---:|---:|---:|---:|"]

    def verdict(x, ok):
        return "—" if x is None else f"{x:.2f} {'met' if ok(x) else '**missed**'}"

    for name, g in results.items():
        rows = g["rows"]
        qi, qf = rows.get(row_key("qlite", "int8")), rows.get(row_key("qlite", "float32"))
        oi, of = rows.get(row_key("ort", "int8 QDQ")), rows.get(row_key("ort", "float32"))
        ri = pair_ratio(qi, oi, c1, c1)
        rf = pair_ratio(qf, of, c1, c1)
        large = g.get("large")
        sp = []
        for row in (qi, qf):
            x, spread = speedup_2t(row, c1, c2) if 2 in a.threads else (None, "")
            sp.append("—" if x is None else
                      (verdict(x, lambda v: v >= 1.6) if large else f"{x:.2f}") + spread)
        so = []
        for row in (oi, of):
            x, spread = speedup_2t(row, c1, c2) if 2 in a.threads else (None, "")
            so.append("—" if x is None else f"{x:.2f}{spread}")
        L.append(f"| {name}{' (larger)' if large else ''} | {verdict(ri, lambda v: v <= 0.8)} | "
                 f"{verdict(rf, lambda v: v <= 1.0)} | {' / '.join(sp)} | {' / '.join(so)} |")
    # startup: open + prepare of the int8 model vs ORT session creation
    st = []
    for name, g in results.items():
        rows = g["rows"]
        def with_startup(row):
            rs = (row or {}).get("runs", {}).get(c1) or []
            return next((r for r in rs if r.get("startup_ms")), typical(row, c1))
        q = with_startup(rows.get(row_key("qlite", "int8")))
        oq = with_startup(rows.get(row_key("ort", "int8 QDQ")))
        of = with_startup(rows.get(row_key("ort", "float32")))
        qs = startup_ms(q)
        if not qs or not g.get("large"):
            continue
        cells = [name, f"{qs:.2f}"]
        for o in (oq, of):
            os_ = startup_ms(o)
            cells += [f"{os_:.1f}" if os_ else "—",
                      f"1/{os_ / qs:.0f} {'met' if qs * 20 <= os_ else '**missed**'}" if os_ else "—"]
        st.append("| " + " | ".join(cells) + " |")
    if st:
        L += ["", "Startup (1 thread): qlite open + interpreter create + prepare of the int8 file "
              f"(`qlite_bench --startup {STARTUP_RUNS}`, each followed by destroy + close) vs ONNX Runtime's "
              f"`InferenceSession.create` (graph optimizations 'all'; `ort_bench.js --startup {STARTUP_RUNS}`), "
              f"medians of {STARTUP_RUNS} in one process each, after a first cold one; target ≤ 1/20 of ORT's:",
              "",
              "| model | qlite int8 ms | ORT QDQ create ms | qlite ÷ ORT QDQ | ORT float32 create ms | "
              "qlite ÷ ORT float32 |", "|---|---:|---:|---:|---:|---:|"] + st
    return L


def short_reason(text, limit=110):
    text = re.sub(r"^(NotImplementedError|LookupError|ValueError|RuntimeError): ", "", text)
    text = text.replace("|", "/")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def op_summary(ops, top=4):
    by = {}
    for o in ops:
        by[o["op"]] = by.get(o["op"], 0.0) + o["ms"]
    total = sum(by.values()) or 1.0
    items = sorted(by.items(), key=lambda kv: -kv[1])[:top]
    return ", ".join(f"{k} {v:.3f} ({100 * v / total:.0f}%)" for k, v in items)


# ---------------------------------------------------------------- main

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="30 runs, 5 warm-up, batch 1, one repetition")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--batch", default="1")
    p.add_argument("--runs", type=int)
    p.add_argument("--warmup", type=int)
    p.add_argument("--repeat", type=int)
    p.add_argument("--models", help="comma-separated subset of models/")
    p.add_argument("--engines", default="qlite,ort,torch")
    p.add_argument("--build", default=os.environ.get("QLITE_BUILD", os.path.join(ROOT, "build")))
    p.add_argument("--work", help="scratch directory (default BUILD/bench_models)")
    p.add_argument("--out", help="markdown report (default WORK/bench_models.md)")
    p.add_argument("--json", help="also write every measurement as JSON here")
    p.add_argument("--from-json", help="only re-render the report of an earlier --json file")
    p.add_argument("--large", help="also the larger models export_bench.py wrote to this directory")
    p.add_argument("--large-runs", type=int, help="timed runs for the larger models (warm-up then at most 3)")
    p.add_argument("--command", help=argparse.SUPPRESS)
    a = p.parse_args()
    a.threads = [int(t) for t in a.threads.split(",")]
    a.batch = [int(b) for b in a.batch.split(",")]
    a.engines = set(a.engines.split(","))
    a.runs = a.runs or (30 if a.quick else 300)
    a.warmup = a.warmup if a.warmup is not None else (5 if a.quick else 30)
    a.repeat = a.repeat or (1 if a.quick else 3)
    a.build = os.path.abspath(a.build)
    a.large = os.path.abspath(a.large) if a.large else None
    a.work = os.path.abspath(a.work or os.path.join(a.build, "bench_models"))
    out_given = a.out is not None
    a.out = a.out or os.path.join(a.work, "bench_models.md")
    a.convert = os.path.join(a.build, "converter", "qlite-convert")
    a.qlite_bench = os.path.join(a.build, "tests", "qlite_bench")
    a.dump = os.path.join(a.build, "qlite-dump")
    if a.from_json:
        with open(a.from_json) as f:
            saved = json.load(f)
        for k, v in saved["meta"].get("args", {}).items():
            setattr(a, k, v)
        text = report(a, saved["results"], saved["meta"])
        if out_given:
            with open(a.out, "w") as f:
                f.write(text)
        print(text)
        return
    os.makedirs(a.work, exist_ok=True)
    if "qlite" in a.engines:
        for tool in (a.convert, a.qlite_bench, a.dump):
            if not os.access(tool, os.X_OK):
                sys.exit(f"run_models: {tool} not found (build first: cmake --build {a.build} "
                         "--target qlite-convert qlite-dump qlite_bench)")
    if "ort" in a.engines and not shutil.which("node"):
        log("note: node not found: ONNX Runtime rows skipped")
        a.engines.discard("ort")
    if "torch" in a.engines and not os.path.exists(PY):
        log(f"note: {PY} not found: PyTorch rows skipped")
        a.engines.discard("torch")

    meta = machine()
    meta.update(date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                load_start=loadavg(), build=os.path.relpath(a.build, ROOT),
                command=a.command or " ".join(shlex.quote(x) for x in sys.argv),
                args={"threads": a.threads, "batch": a.batch, "runs": a.runs, "warmup": a.warmup,
                      "repeat": a.repeat, "large": a.large, "large_runs": a.large_runs})
    meta["build_type"], src = "?", ROOT
    try:
        with open(os.path.join(a.build, "CMakeCache.txt")) as f:
            cache = f.read()
        m = re.search(r"^CMAKE_BUILD_TYPE:STRING=(.*)$", cache, re.M)
        meta["build_type"] = m.group(1) if m else "?"
        m = re.search(r"^CMAKE_HOME_DIRECTORY:INTERNAL=(.*)$", cache, re.M)
        src = m.group(1) if m else ROOT
    except OSError:
        pass
    meta["git"] = git_rev(src)       # the sources the measured binaries were built from
    results = {}
    names = discover(a)
    log(f"run_models: {len(names)} models ({', '.join(names)}), threads {a.threads}, batch {a.batch}, "
        f"{a.runs} runs, {a.repeat} repetition(s), engines {sorted(a.engines)}")
    if "ort" in a.engines:
        floor = ort_floor_model(a.work)
        if floor:
            meta["ort_floor"] = {}
            for t in a.threads:
                r = ort_config(a, floor, t, a.batch[0], False, False)
                if "median_ms" in r:
                    meta["ort_floor"][f"{t} thread{'s' if t > 1 else ''}"] = r["median_ms"]
                    meta["ort_version"] = r.get("ort_version", "?")
    t0 = time.time()
    for name in names:
        log(f"== {name}")
        bench_group(a, name, results)
        for row in results[name]["rows"].values():
            for rs in row["runs"].values():
                for r in rs:
                    if r.get("torch_version"):
                        meta["torch_version"] = r["torch_version"]
    meta["load_end"] = loadavg()
    text = report(a, results, meta)
    with open(a.out, "w") as f:
        f.write(text)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"meta": meta, "results": results}, f, indent=1)
    print(text)
    log(f"run_models: wrote {a.out} ({time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
