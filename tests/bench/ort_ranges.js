#!/usr/bin/env node
// ort_ranges.js — min/max of every output of an ONNX model over a dataset,
// computed by ONNX Runtime (float, graph optimizations off so every tensor is
// the one the graph names). make_ort_quant.py exposes a model's intermediate
// tensors as outputs and calibrates its QDQ graphs with this.
//
//   node tests/bench/ort_ranges.js MODEL.onnx X.npy [--batch 100]
//
// Prints one JSON object {tensor name: [min, max], ...} over all rows of X
// (float32, or int64 token ids, [rows, ...]), run in batches.
'use strict';
const fs = require('fs');

function loadOrt() {
  try {
    return require('onnxruntime-node');
  } catch (e) {
    return require(process.env.ORT_NODE_DIR || '/tmp/ortnode/node_modules/onnxruntime-node');
  }
}

// float32 or int64 (token ids), C order
function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${file}: not a .npy file`);
  const hlen = buf[6] === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const hstart = buf[6] === 1 ? 10 : 12;
  const header = buf.toString('latin1', hstart, hstart + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header);
  const kinds = { '<f4': ['float32', Float32Array], '<i8': ['int64', BigInt64Array] };
  if (!descr || !kinds[descr[1]] || /'fortran_order':\s*True/.test(header))
    throw new Error(`${file}: float32 or int64 C-order array expected`);
  const [type, Arr] = kinds[descr[1]];
  const dims = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map(s => s.trim())
    .filter(s => s.length).map(Number);
  const n = dims.reduce((a, b) => a * b, 1);
  const copy = new Uint8Array(n * Arr.BYTES_PER_ELEMENT);
  copy.set(buf.subarray(hstart + hlen, hstart + hlen + n * Arr.BYTES_PER_ELEMENT));
  return { type, dims, data: new Arr(copy.buffer) };
}

async function main() {
  const args = process.argv.slice(2);
  let batch = 100;
  const pos = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--batch') batch = Number(args[++i]);
    else pos.push(args[i]);
  }
  if (pos.length !== 2 || !(batch >= 1)) throw new Error('usage: ort_ranges.js MODEL.onnx X.npy [--batch N]');
  const ort = loadOrt();
  const x = readNpy(pos[1]);
  const session = await ort.InferenceSession.create(pos[0], {
    intraOpNumThreads: 1, graphOptimizationLevel: 'disabled' });
  const rowElems = x.data.length / x.dims[0];
  const ranges = {};
  for (let r = 0; r < x.dims[0]; r += batch) {
    const rows = Math.min(batch, x.dims[0] - r);
    const t = new ort.Tensor(x.type, x.data.slice(r * rowElems, (r + rows) * rowElems),
                             [rows, ...x.dims.slice(1)]);
    const out = await session.run({ [session.inputNames[0]]: t });
    for (const [name, v] of Object.entries(out)) {
      if (v.type !== 'float32') continue;
      let lo = Infinity, hi = -Infinity;
      for (const e of v.data) { if (e < lo) lo = e; if (e > hi) hi = e; }
      const old = ranges[name];
      ranges[name] = old ? [Math.min(old[0], lo), Math.max(old[1], hi)] : [lo, hi];
    }
  }
  process.stdout.write(JSON.stringify(ranges) + '\n');
}

main().catch(e => { console.error(`ort_ranges.js: ${e.message || e}`); process.exit(1); });
