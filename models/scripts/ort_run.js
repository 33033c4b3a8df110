#!/usr/bin/env node
// Run an ONNX model in ONNX Runtime (onnxruntime-node) on .npy inputs and
// write its outputs as .npy files.
//
//   node models/scripts/ort_run.js MODEL.onnx IN.npy OUT.npy [--threads N]
//   node models/scripts/ort_run.js MODEL.onnx name=IN.npy [name2=IN2.npy ...] \
//        --out OUTNAME=OUT.npy [--out ...] [--threads N] [--opt all|extended|basic|disabled]
//
// With the first form the model's first input and first output are used.
// onnxruntime-node is looked up normally, then in $ORT_NODE_DIR (default
// /tmp/ortnode/node_modules/onnxruntime-node; see shared/PEERS.md).
'use strict';
const fs = require('fs');

function loadOrt() {
  try {
    return require('onnxruntime-node');
  } catch (e) {
    const dir = process.env.ORT_NODE_DIR || '/tmp/ortnode/node_modules/onnxruntime-node';
    return require(dir);
  }
}

// ---- minimal .npy (format 1.0/2.0/3.0) reader and writer -----------------
const DTYPES = {
  '<f4': ['float32', Float32Array], '<f8': ['float64', Float64Array],
  '<i8': ['int64', BigInt64Array], '<i4': ['int32', Int32Array],
  '<i2': ['int16', Int16Array], '|i1': ['int8', Int8Array],
  '|u1': ['uint8', Uint8Array], '<u2': ['uint16', Uint16Array],
  '<u4': ['uint32', Uint32Array], '<u8': ['uint64', BigUint64Array],
  '|b1': ['bool', Uint8Array],
};

function readNpy(path) {
  const buf = fs.readFileSync(path);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY')
    throw new Error(`${path}: not a .npy file`);
  const major = buf[6];
  let hlen, hstart;
  if (major === 1) { hlen = buf.readUInt16LE(8); hstart = 10; }
  else if (major === 2 || major === 3) { hlen = buf.readUInt32LE(8); hstart = 12; }
  else throw new Error(`${path}: unsupported .npy version ${major}`);
  const header = buf.toString('latin1', hstart, hstart + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header);
  const fortran = /'fortran_order':\s*(True|False)/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shape) throw new Error(`${path}: bad .npy header ${header}`);
  if (fortran[1] === 'True') throw new Error(`${path}: fortran order not supported`);
  const dt = DTYPES[descr[1]];
  if (!dt) throw new Error(`${path}: unsupported dtype ${descr[1]}`);
  const dims = shape[1].split(',').map(s => s.trim()).filter(s => s.length).map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  const off = hstart + hlen;
  const bytes = count * dt[1].BYTES_PER_ELEMENT;
  if (buf.length - off < bytes) throw new Error(`${path}: truncated data`);
  const copy = new Uint8Array(bytes);
  copy.set(buf.subarray(off, off + bytes));  // aligned copy
  return { type: dt[0], dims, data: new dt[1](copy.buffer) };
}

function writeNpy(path, type, dims, data) {
  const descr = Object.keys(DTYPES).find(k => DTYPES[k][0] === type);
  if (!descr) throw new Error(`cannot write dtype ${type}`);
  const shp = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shp}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1; head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  fs.writeFileSync(path, Buffer.concat([head, Buffer.from(header, 'latin1'), body]));
}

async function main() {
  const args = process.argv.slice(2);
  let threads = 1, opt = 'all';
  const pos = [], outs = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--threads') threads = Number(args[++i]);
    else if (args[i] === '--opt') opt = args[++i];
    else if (args[i] === '--out') outs.push(args[++i]);
    else pos.push(args[i]);
  }
  if (pos.length < 2) {
    console.error('usage: ort_run.js MODEL.onnx IN.npy OUT.npy [--threads N] | ' +
                  'MODEL.onnx name=IN.npy ... --out name=OUT.npy ...');
    process.exit(2);
  }
  const ort = loadOrt();
  const session = await ort.InferenceSession.create(pos[0], {
    intraOpNumThreads: threads, interOpNumThreads: 1,
    graphOptimizationLevel: opt, executionMode: 'sequential',
  });
  const feeds = {};
  const outMap = {};
  if (pos.length === 3 && !pos[1].includes('=') && outs.length === 0) {
    const a = readNpy(pos[1]);
    feeds[session.inputNames[0]] = new ort.Tensor(a.type, a.data, a.dims);
    outMap[session.outputNames[0]] = pos[2];
  } else {
    for (const p of pos.slice(1)) {
      const [name, file] = p.split('=');
      const a = readNpy(file);
      feeds[name] = new ort.Tensor(a.type, a.data, a.dims);
    }
    for (const o of outs) {
      const [name, file] = o.split('=');
      outMap[name] = file;
    }
  }
  const results = await session.run(feeds, Object.keys(outMap));
  for (const [name, file] of Object.entries(outMap)) {
    const t = results[name];
    writeNpy(file, t.type, t.dims.map(Number), t.data);
  }
}

main().catch(e => { console.error(`ort_run.js: ${e.message || e}`); process.exit(1); });
