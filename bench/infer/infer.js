// SPDX-License-Identifier: MIT
// infer.js DIR [REPS]: times inference of the nets bench_infer --export
// wrote into DIR, at batch 1, 32 and 256, one thread each:
// - ONNX Runtime (onnxruntime-node, CPU) on DIR/<net>.onnx, session.run
//   awaited call after call, as a Node.js program serving requests does;
// - libnn's Node.js package (node/, through koffi) on DIR/<net>.nn,
//   Model.predict into a preallocated output.
// Blocks of the two alternate (a, b, a, b, ...) so that a slow spell of a
// shared machine hits both alike. Prints "ort NET BATCH MICROSECONDS" and
// "node NET BATCH MICROSECONDS" (medians of REPS blocks, default 7), and
// checks on the way that both give the same outputs (1e-5 relative to
// the row's largest, as tests/onnx does).
//
// Environment: LIBNN_PATH, the libnn to load (bench/infer.sh sets it).
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');
const nn = require('../../node');

const NETS = ['784-256-128-10', '784-1024-1024-10'];
const BATCHES = [1, 32, 256];
const IN = 784;
const OUT = 10;
const MIN_BLOCK = 0.2; // seconds

function now() {
  return Number(process.hrtime.bigint()) / 1e9;
}

function median(v) {
  const s = [...v].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

// Seconds per call of an async or sync fn, over one block of at least
// MIN_BLOCK seconds; iters is chosen once by the caller.
async function block(fn, iters) {
  const t0 = now();
  for (let i = 0; i < iters; i++) await fn();
  return (now() - t0) / iters;
}

async function itersFor(fn) {
  let iters = 1;
  for (;;) {
    const t = await block(fn, iters) * iters;
    if (t >= MIN_BLOCK / 4) return Math.max(1, Math.ceil(iters * MIN_BLOCK / t));
    iters *= 4;
  }
}

async function main() {
  const dir = process.argv[2];
  const reps = Number(process.argv[3] || 7);
  if (!dir) throw new Error('usage: node infer.js DIR [REPS]');
  const raw = fs.readFileSync(path.join(dir, 'x.f32'));
  const x = new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4);
  nn.setBlasThreads(1);
  for (const net of NETS) {
    const session = await ort.InferenceSession.create(
      path.join(dir, net + '.onnx'),
      { intraOpNumThreads: 1, interOpNumThreads: 1,
        executionMode: 'sequential', graphOptimizationLevel: 'all' });
    const model = nn.Model.load(path.join(dir, net + '.nn'));
    for (const n of BATCHES) {
      const xs = x.subarray(0, n * IN);
      const tensor = new ort.Tensor('float32', xs, [n, IN]);
      const out = new Float32Array(n * OUT);
      let got;
      const runOrt = async () => {
        got = (await session.run({ input: tensor })).output.data;
      };
      const runNode = () => { model.predict(xs, out); };
      await runOrt();
      runNode();
      for (let r = 0; r < n; r++) {
        let top = 0, diff = 0;
        for (let j = 0; j < OUT; j++) {
          top = Math.max(top, Math.abs(out[r * OUT + j]));
          diff = Math.max(diff, Math.abs(out[r * OUT + j] - got[r * OUT + j]));
        }
        if (diff > 1e-5 * top)
          throw new Error(`${net} batch ${n} row ${r}: ONNX Runtime and ` +
                          `libnn differ by ${diff} (largest output ${top})`);
      }
      const itOrt = await itersFor(runOrt);
      const itNode = await itersFor(runNode);
      const tOrt = [], tNode = [];
      for (let k = 0; k < reps; k++) {
        tOrt.push(await block(runOrt, itOrt));
        tNode.push(await block(runNode, itNode));
      }
      console.log(`ort ${net} ${n} ${(median(tOrt) * 1e6).toFixed(3)}`);
      console.log(`node ${net} ${n} ${(median(tNode) * 1e6).toFixed(3)}`);
    }
    model.close();
  }
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
