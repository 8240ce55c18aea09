// SPDX-License-Identifier: MIT
// ort_predict.js ORT_DIR MODEL.onnx ROWS INPUTS IN.f32 OUT.f32: runs
// MODEL.onnx in ONNX Runtime (onnxruntime-node, CPU, installed into
// ORT_DIR/node_modules by npm ci --prefix tests/onnx/ort) on ROWS rows of
// INPUTS little-endian float32 values from IN.f32 and writes its "output"
// to OUT.f32, as little-endian float32. test_cli_onnxruntime.py compares
// that with nn predict.
'use strict';
const fs = require('fs');
const path = require('path');

async function main() {
  const [dir, model, rowsArg, inputsArg, inFile, outFile] =
    process.argv.slice(2);
  if (!outFile) throw new Error('usage: ort_predict.js ORT_DIR MODEL.onnx ' +
                                'ROWS INPUTS IN.f32 OUT.f32');
  const ort = require(path.join(path.resolve(dir), 'node_modules',
                                'onnxruntime-node'));
  const rows = Number(rowsArg), inputs = Number(inputsArg);
  const b = fs.readFileSync(inFile);
  if (b.length !== 4 * rows * inputs)
    throw new Error(`${inFile}: ${b.length} bytes, not ${rows} rows of ` +
                    `${inputs} floats`);
  const x = new Float32Array(rows * inputs);
  for (let i = 0; i < x.length; i++) x[i] = b.readFloatLE(4 * i);
  const session = await ort.InferenceSession.create(model);
  const out = await session.run(
    { input: new ort.Tensor('float32', x, [rows, inputs]) });
  const y = out.output.data;
  const o = Buffer.alloc(4 * y.length);
  for (let i = 0; i < y.length; i++) o.writeFloatLE(y[i], 4 * i);
  fs.writeFileSync(outFile, o);
  console.log(`ONNX Runtime ${ort.env.versions.common}: ${rows} rows, ` +
              `output ${out.output.dims.join('x')}`);
}

main().catch((e) => { console.error(e); process.exitCode = 1; });
