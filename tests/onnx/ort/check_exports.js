// SPDX-License-Identifier: MIT
// check_exports.js DIR: runs every ONNX file that export_cases wrote into
// DIR (listed in DIR/cases.txt) in ONNX Runtime (onnxruntime-node, CPU) on
// the case's rows and compares with what nn_model_predict gave for them:
// every row within 1e-5 relative of libnn's, that is the largest
// difference of an output relative to the row's largest output of libnn's
// (an output near 0 that sums larger terms of both signs keeps their
// rounding, so an output alone is not a measure of it). Fails on any
// difference, and when a case is missing.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

const REL = 1e-5;

function floats(file) {
  const b = fs.readFileSync(file);
  const v = new Float32Array(b.length / 4);
  for (let i = 0; i < v.length; i++) v[i] = b.readFloatLE(4 * i);
  return v;
}

async function main() {
  const dir = process.argv[2];
  const names = fs.readFileSync(path.join(dir, 'cases.txt'), 'utf8')
    .split('\n').filter((s) => s.length > 0);
  if (names.length === 0) throw new Error(`no cases in ${dir}/cases.txt`);
  let failed = 0;
  for (const name of names) {
    const shape = JSON.parse(fs.readFileSync(path.join(dir, name + '.json')));
    const x = floats(path.join(dir, name + '.in'));
    const want = floats(path.join(dir, name + '.out'));
    if (x.length !== shape.rows * shape.inputs ||
        want.length !== shape.rows * shape.outputs)
      throw new Error(`${name}: the rows do not match ${name}.json`);
    const session = await ort.InferenceSession.create(
      path.join(dir, name + '.onnx'));
    const out = await session.run(
      { input: new ort.Tensor('float32', x, [shape.rows, shape.inputs]) });
    const got = out.output.data;
    if (got.length !== want.length)
      throw new Error(
        `${name}: ${got.length} outputs, libnn gave ${want.length}`);
    let worst = 0, at = 0;
    for (let r = 0; r < shape.rows; r++) {
      let scale = 0, err = 0, where = r * shape.outputs;
      for (let j = r * shape.outputs; j < (r + 1) * shape.outputs; j++) {
        const d = Math.abs(got[j] - want[j]);
        scale = Math.max(scale, Math.abs(want[j]));
        if (!(d <= err)) { err = d; where = j; }
      }
      const rel = err === 0 ? 0 : err / scale;
      if (!(rel <= worst)) { worst = rel; at = where; }
    }
    const ok = worst <= REL;
    if (!ok) failed++;
    console.log(`${name.padEnd(22)} ${ok ? 'ok  ' : 'FAIL'} worst relative ` +
      `difference ${worst.toPrecision(3)} (output ${at}: ONNX Runtime ` +
      `${got[at]}, libnn ${want[at]})`);
  }
  console.log(`check_exports: ${names.length} models, ONNX Runtime ` +
    `${ort.env.versions.common}, ${failed} failed`);
  process.exitCode = failed === 0 ? 0 : 1;
}

main().catch((e) => { console.error(e); process.exitCode = 1; });
