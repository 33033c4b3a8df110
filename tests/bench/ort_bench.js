#!/usr/bin/env node
// ort_bench.js — time one ONNX model in ONNX Runtime (onnxruntime-node) the
// way tests/bench/qlite_bench.c times a .qlite model: same input rows, same
// statistics (nearest-rank median / p90), same memory accounting.
//
//   node tests/bench/ort_bench.js --model M.onnx --input X.npy [--batch B]
//        [--threads T] [--runs N] [--warmup W] [--labels Y.npy]
//        [--opt all|extended|basic|disabled] [--internal] [--startup S]
//        [--paired T2] [--pair-lead L]
//
// Steps:
//   1. read X (float32 or int64 [rows, ...]) and the labels before anything is measured;
//   2. note the resident memory and reset the high-water mark
//      (/proc/self/clear_refs "5"), so "peak" covers only what follows;
//   3. create a session: intraOpNumThreads T, interOpNumThreads 1, sequential,
//      graphOptimizationLevel (default 'all');
//   4. W untimed runs, then N timed ones on the first B rows of X (cycled);
//      each time is process.hrtime around `await session.run(feeds)`: it
//      includes the Node binding (tensor wrap, promise, output tensors);
//   5. peak RSS (VmHWM) and its growth over step 2;
//   6. --internal: a second session with enableProfiling runs N more times;
//      ORT's own "model_run" events (microseconds, measured in C++ inside
//      InferenceSession::Run) give the latency without the Node binding;
//   7. --labels: all rows of X as one batch, top-1 accuracy of output 0;
//   8. --startup S: S more InferenceSession.create calls: median and min
//      (step 3's create_ms is the first, cold one);
//   9. --paired T2: the thread-scaling ratio as a paired measurement (as
//      qlite_bench --paired): two sessions of the same model on the same
//      feeds, A with T threads and B with T2, take turns in this process:
//      W warm-up rounds, then N rounds, each timing one run of each (A first
//      in even rounds, B first in odd ones), each timed run after L untimed
//      runs of the same session (--pair-lead, default 1: ORT's pool threads
//      and the session's buffers as in a back-to-back series). Reported under
//      "paired": both medians and the median (p10, p90) of the per-round
//      ratios A time / B time.
// Prints one JSON object (keys as qlite_bench --json where they mean the same).
// onnxruntime-node is required normally, else from $ORT_NODE_DIR (default
// /tmp/ortnode/node_modules/onnxruntime-node; see shared/PEERS.md).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

function loadOrt() {
  try {
    return require('onnxruntime-node');
  } catch (e) {
    return require(process.env.ORT_NODE_DIR || '/tmp/ortnode/node_modules/onnxruntime-node');
  }
}

// ---- .npy reader (versions 1.0-3.0, little-endian numeric dtypes) ---------
const DTYPES = {
  '<f4': ['float32', Float32Array], '<i8': ['int64', BigInt64Array],
  '<i4': ['int32', Int32Array], '|i1': ['int8', Int8Array], '|u1': ['uint8', Uint8Array],
};

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY')
    throw new Error(`${file}: not a .npy file`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const hstart = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', hstart, hstart + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !shape || /'fortran_order':\s*True/.test(header))
    throw new Error(`${file}: unsupported .npy header ${header}`);
  const dt = DTYPES[descr[1]];
  if (!dt) throw new Error(`${file}: unsupported dtype ${descr[1]}`);
  const dims = shape[1].split(',').map(s => s.trim()).filter(s => s.length).map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  const off = hstart + hlen, bytes = count * dt[1].BYTES_PER_ELEMENT;
  if (buf.length - off < bytes) throw new Error(`${file}: truncated data`);
  const copy = new Uint8Array(bytes);
  copy.set(buf.subarray(off, off + bytes));
  return { type: dt[0], dims, data: new dt[1](copy.buffer) };
}

// ---- memory -----------------------------------------------------------------
function procStatus() {
  const s = fs.readFileSync('/proc/self/status', 'latin1');
  const kb = k => { const m = new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s); return m ? Number(m[1]) * 1024 : 0; };
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}
function resetPeak() {
  try { fs.writeFileSync('/proc/self/clear_refs', '5'); } catch (e) { /* older kernels */ }
}

// ---- statistics -------------------------------------------------------------
function pct(sorted, p) {
  let rank = Math.ceil((p / 100) * sorted.length);
  rank = Math.min(Math.max(rank, 1), sorted.length);
  return sorted[rank - 1];
}
function stats(ms) {
  const s = Float64Array.from(ms).sort();
  const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
  return { median_ms: pct(s, 50), p90_ms: pct(s, 90), p99_ms: pct(s, 99), mean_ms: mean,
           min_ms: s[0], max_ms: s[s.length - 1] };
}

// B rows of X (cycled) as a tensor of X's own dtype (float32; int64 token ids).
function rowsTensor(ort, x, rows) {
  const rowElems = x.data.length / x.dims[0];
  const out = new x.data.constructor(rows * rowElems);
  for (let r = 0; r < rows; r++)
    out.set(x.data.subarray((r % x.dims[0]) * rowElems, (r % x.dims[0] + 1) * rowElems), r * rowElems);
  return new ort.Tensor(x.type, out, [rows, ...x.dims.slice(1)]);
}

function parseArgs(argv) {
  const a = { batch: 1, threads: 1, runs: 200, warmup: 20, opt: 'all', internal: false, pairLead: 1 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const need = () => { if (i + 1 >= argv.length) throw new Error(`${k} needs a value`); return argv[++i]; };
    if (k === '--model') a.model = need();
    else if (k === '--input') a.input = need();
    else if (k === '--labels') a.labels = need();
    else if (k === '--batch') a.batch = Number(need());
    else if (k === '--threads') a.threads = Number(need());
    else if (k === '--runs') a.runs = Number(need());
    else if (k === '--warmup') a.warmup = Number(need());
    else if (k === '--opt') a.opt = need();
    else if (k === '--internal') a.internal = true;
    else if (k === '--startup') a.startup = Number(need());
    else if (k === '--paired') a.paired = Number(need());
    else if (k === '--pair-lead') a.pairLead = Number(need());
    else throw new Error(`unknown argument ${k}`);
  }
  if (!a.model || !a.input) throw new Error('need --model M.onnx --input X.npy');
  for (const k of ['batch', 'threads', 'runs'])
    if (!(Number.isInteger(a[k]) && a[k] >= 1)) throw new Error(`--${k} must be a positive integer`);
  if (a.paired !== undefined && !(Number.isInteger(a.paired) && a.paired >= 1))
    throw new Error('--paired must be a positive integer');
  if (!(Number.isInteger(a.pairLead) && a.pairLead >= 0))
    throw new Error('--pair-lead must be a non-negative integer');
  return a;
}

function sessionOptions(a, extra) {
  return Object.assign({
    intraOpNumThreads: a.threads, interOpNumThreads: 1, executionMode: 'sequential',
    graphOptimizationLevel: a.opt,
  }, extra || {});
}

// --startup S: S more session creations (released after each), median and min.
async function startupRuns(ort, a) {
  const ms = [];
  for (let i = 0; i < a.startup; i++) {
    const t0 = process.hrtime.bigint();
    const s = await ort.InferenceSession.create(a.model, sessionOptions(a));
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (s.release) await s.release();
  }
  const st = stats(ms);
  return { startup_runs: a.startup, startup_ms: st.median_ms, startup_min_ms: st.min_ms };
}

async function timeRuns(session, feeds, warmup, runs) {
  for (let i = 0; i < warmup; i++) await session.run(feeds);
  const ms = new Array(runs);
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    ms[i] = Number(process.hrtime.bigint() - t0) / 1e6;
  }
  return ms;
}

// --paired T2: sessions A (T threads) and B (T2) in alternating rounds (step 9).
async function pairedRuns(ort, a, feeds) {
  const sessions = [await ort.InferenceSession.create(a.model, sessionOptions(a)),
                    await ort.InferenceSession.create(a.model,
                                                      sessionOptions(Object.assign({}, a, { threads: a.paired })))];
  const t = [[], []], ratio = [];
  for (let round = -a.warmup; round < a.runs; round++) {
    const ms = [0, 0];
    for (let j = 0; j < 2; j++) {
      const k = (round & 1) ^ j;   // A first in even rounds
      for (let l = 0; l < a.pairLead; l++) await sessions[k].run(feeds);
      const t0 = process.hrtime.bigint();
      await sessions[k].run(feeds);
      ms[k] = Number(process.hrtime.bigint() - t0) / 1e6;
    }
    if (round >= 0) {
      t[0].push(ms[0]);
      t[1].push(ms[1]);
      ratio.push(ms[0] / ms[1]);
    }
  }
  for (const s of sessions) if (s.release) await s.release();
  const r = Float64Array.from(ratio).sort();
  return { threads_a: a.threads, threads_b: a.paired, runs: a.runs, lead: a.pairLead,
           a_median_ms: stats(t[0]).median_ms, b_median_ms: stats(t[1]).median_ms,
           ratio: pct(r, 50), ratio_p10: pct(r, 10), ratio_p90: pct(r, 90) };
}

// ORT's profile: a JSON array of trace events; each InferenceSession::Run is
// {"cat": "Session", "name": "model_run", "dur": microseconds}.
async function internalRuns(ort, a, feeds) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ort_bench_'));
  try {
    const session = await ort.InferenceSession.create(a.model, sessionOptions(a, {
      enableProfiling: true, profileFilePrefix: path.join(dir, 'prof') }));
    await timeRuns(session, feeds, a.warmup, a.runs);
    session.endProfiling();
    const files = fs.readdirSync(dir).filter(f => f.endsWith('.json'));
    if (files.length !== 1) throw new Error(`expected one ORT profile file, found ${files.length}`);
    const events = JSON.parse(fs.readFileSync(path.join(dir, files[0]), 'utf8'));
    const runs = events.filter(e => e.cat === 'Session' && e.name === 'model_run').map(e => e.dur / 1e3);
    if (runs.length < a.runs) throw new Error(`ORT profile holds ${runs.length} model_run events`);
    const timed = runs.slice(runs.length - a.runs);  // drop the warm-up runs
    // per-node kernel times of the timed runs, summed by op type (median per node)
    const nodes = {};
    for (const e of events) {
      if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
      const key = e.name;
      (nodes[key] = nodes[key] || { op: (e.args && e.args.op_name) || '?', ms: [] }).ms.push(e.dur / 1e3);
    }
    const ops = Object.entries(nodes).map(([name, v]) => {
      const s = Float64Array.from(v.ms.slice(v.ms.length - a.runs)).sort();
      return { name: name.replace(/_kernel_time$/, ''), op: v.op, ms: pct(s, 50) };
    });
    if (session.release) await session.release();
    return Object.assign(stats(timed), { ops });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function accuracy(ort, a, x, y) {
  const session = await ort.InferenceSession.create(a.model, sessionOptions(a));
  const feeds = { [session.inputNames[0]]: rowsTensor(ort, x, x.dims[0]) };
  const out = (await session.run(feeds))[session.outputNames[0]];
  const classes = Number(out.dims[1]);
  let correct = 0;
  for (let r = 0; r < x.dims[0]; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++)
      if (out.data[r * classes + c] > out.data[r * classes + best]) best = c;
    if (best === Number(y.data[r])) correct++;
  }
  if (session.release) await session.release();
  return { accuracy: correct / x.dims[0], correct, total: x.dims[0] };
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const ort = loadOrt();
  const x = readNpy(a.input);
  const y = a.labels ? readNpy(a.labels) : null;
  if (x.type !== 'float32' && x.type !== 'int64')
    throw new Error(`${a.input}: float32 (or int64 ids) input expected`);
  const base = procStatus().rss;
  resetPeak();
  let t0 = process.hrtime.bigint();
  const session = await ort.InferenceSession.create(a.model, sessionOptions(a));
  const createMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const feeds = { [session.inputNames[0]]: rowsTensor(ort, x, a.batch) };
  t0 = process.hrtime.bigint();
  await session.run(feeds);
  const firstMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const ms = await timeRuns(session, feeds, a.warmup, a.runs);
  const mem = procStatus();
  if (session.release) await session.release();
  const res = Object.assign({
    engine: 'ort', ort_version: ort.env.versions ? ort.env.versions.common : '?',
    model: a.model, batch: a.batch, threads: a.threads, runs: a.runs, warmup: a.warmup,
    opt: a.opt, create_ms: createMs, first_ms: firstMs,
  }, stats(ms), {
    rss_base_bytes: base, rss_peak_bytes: Math.max(mem.hwm, mem.rss),
    rss_delta_bytes: Math.max(mem.hwm, mem.rss) - base,
  });
  if (a.internal) res.internal = await internalRuns(ort, a, feeds);
  if (y) Object.assign(res, await accuracy(ort, a, x, y));
  if (a.startup >= 1) Object.assign(res, await startupRuns(ort, a));
  if (a.paired) res.paired = await pairedRuns(ort, a, feeds);
  process.stdout.write(JSON.stringify(res) + '\n');
}

main().catch(e => { console.error(`ort_bench.js: ${e.message || e}`); process.exit(1); });
