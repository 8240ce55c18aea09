// SPDX-License-Identifier: MIT
// ONNX and C source through the Node.js package (docs/INTEROP.md): part of
// the ffi_node ctest test. What each check compares with is computed
// elsewhere: ONNX Runtime running the exported file (onnxruntime-node, from
// tests/onnx/ort as the onnx_runtime test loads it), PyTorch's outputs for
// its own graphs (tests/onnx/fixtures), the exported C header compiled by
// the system's C compiler, and predict on the model that was exported.
// Imports are expected to work, or to fail with NN_E_STATE, as the build
// says (NN_HAVE_ONNX_READER), not as the library answers.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const { createRequire } = require('node:module');
const os = require('node:os');
const path = require('node:path');
const nn = require('libnn');
const { envPath, hex32, flatParams, XOR_X, XOR_T, lcgData, v2Model } = require('./common.js');

const READER = (() => {
  const v = envPath('NN_HAVE_ONNX_READER');
  if (v !== '0' && v !== '1') throw new Error(`NN_HAVE_ONNX_READER is '${v}', not 0 or 1`);
  return v === '1';
})();
const NEEDS_READER = READER ? {} : {
  skip: 'this libnn was built without the ONNX reader (the import functions\' ' +
        'NN_E_STATE is checked instead)',
};

// tests/onnx's tolerances, relative to a row's largest output.
const ORT_REL = 1e-5;      // ONNX Runtime against predict
const PYTORCH_REL = 1e-5;  // an imported PyTorch graph against PyTorch
const C_REL = 1e-6;        // an exported C header against predict

/** onnxruntime-node as tests/onnx/ort/check_exports.js loads it: from that
 * folder's node_modules, which `npm ci --prefix tests/onnx/ort` fills. It
 * is not a dependency of the libnn package. */
function onnxRuntime() {
  const dir = envPath('NN_ONNX_RUNTIME_DIR');
  try {
    return createRequire(path.join(dir, 'package.json'))('onnxruntime-node');
  } catch (e) {
    throw new Error(`onnxruntime-node cannot be loaded from ${dir} (${e.message}): run ` +
                    'npm ci --prefix tests/onnx/ort --no-audit --no-fund --ignore-scripts');
  }
}

function throwsNN(fn, status, pattern) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof nn.NNError, `not an NNError: ${e}`);
    assert.equal(e.status, status, e.message);
    if (pattern) assert.match(e.message, pattern);
    return true;
  });
}

/** Every row of got (rows x k) within rel of want, relative to the row's
 * largest output of want, as tests/onnx compares: an output near 0 that
 * sums larger terms of both signs keeps their rounding, so its own relative
 * error measures nothing. */
function assertRowsClose(got, want, k, rel, what) {
  assert.equal(got.length, want.length, `${what}: ${got.length} outputs, want ${want.length}`);
  for (let r = 0; r < want.length / k; r++) {
    let err = 0;
    let scale = 0;
    for (let j = r * k; j < (r + 1) * k; j++) {
      err = Math.max(err, Math.abs(got[j] - want[j]));
      scale = Math.max(scale, Math.abs(want[j]));
    }
    assert.ok(err <= rel * scale, `${what}: row ${r} differs by ${err / scale} of its ` +
              `largest output (${scale}), more than ${rel}: got ` +
              `${Array.from(got.slice(r * k, (r + 1) * k))}, want ` +
              `${Array.from(want.slice(r * k, (r + 1) * k))}`);
  }
}

const FIXTURES = () => path.join(envPath('NN_SOURCE_DIR'), 'tests', 'onnx', 'fixtures');

function fixtureNames(bad) {
  return fs.readdirSync(FIXTURES()).filter((f) => f.endsWith('.onnx'))
    .map((f) => f.slice(0, -5)).filter((n) => n.startsWith('bad-') === bad).sort();
}

/** fixtures/<name>.txt, which make_fixtures.py wrote with PyTorch:
 * {section: {rows, cols, v: Float64Array}}, or {message: text}. */
function fixture(name) {
  const lines = fs.readFileSync(path.join(FIXTURES(), `${name}.txt`), 'utf8').split('\n');
  const out = {};
  let i = 0;
  while (i < lines.length && lines[i] !== '') {
    const head = lines[i].split(' ');
    if (head[0] === 'message') {
      out.message = lines[i + 1];
      i += 2;
      continue;
    }
    const rows = Number(head[1]);
    const cols = Number(head[2]);
    const v = Float64Array.from(lines.slice(i + 1, i + 1 + rows).join(' ').trim().split(/\s+/),
                                Number);
    assert.equal(v.length, rows * cols, `${name}.txt: section ${head[0]}`);
    out[head[0]] = { rows, cols, v };
    i += 1 + rows;
  }
  return out;
}

function xor() {
  const m = new nn.Model(2, 11).addDense(3, 'tanh').addDense(1, 'sigmoid');
  m.setLoss('bce').setParam('learning_rate', 0.5);
  for (let i = 0; i < 20; i++) m.trainBatch(XOR_X, XOR_T);
  return m;
}

/** reference.c's v2 model after 3 epochs, and 64 rows it did not train on. */
function trainedV2() {
  const { x, labels } = lcgData();
  const m = v2Model(nn);
  const train = new nn.Dataset(x.subarray(0, 192 * 4), 4, labels.subarray(0, 192));
  m.fit(train);
  train.close();
  return { m, x: x.subarray(192 * 4) };
}

/** Dense layers with the activations the v2 model lacks. */
function denseStack() {
  const m = new nn.Model(4, 3).addDense(7, 'relu').addDense(6, 'tanh');
  m.addDense(6, 'leaky_relu').setLayerParam(2, 'leaky_slope', 0.2);
  m.addDense(5, 'softplus').addDense(5, 'sigmoid').addDense(3, 'softmax');
  m.setLoss('cross_entropy').setParam('learning_rate', 0.1);
  const { x, labels } = lcgData(64);
  for (let i = 0; i < 5; i++) m.trainBatch(x, labels);
  return { m, x };
}

function models() {
  return [['v2', trainedV2()], ['dense stack', denseStack()], ['xor', { m: xor(), x: XOR_X }]];
}

/** A regular expression matching s as it is. */
function literal(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** body(dir) with a fresh directory, removed afterwards. */
function withDir(body) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'libnn-onnx-'));
  try {
    return body(dir);
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
}

test('an exported model comes back predicting the same bits', NEEDS_READER, () => {
  const { m, x } = trainedV2();
  const back = nn.Model.fromOnnx(m.toOnnx());
  // Dropout is the identity in inference mode: the file leaves it out.
  const kept = m.layers.filter((l) => l.kind !== nn.LayerKind.DROPOUT);
  assert.equal(kept.length, m.layerCount - 1);
  assert.deepEqual(back.layers, kept);
  assert.deepEqual(hex32(flatParams(back)), hex32(flatParams(m)));
  for (const i of [0, 2]) {  // scaling, batch normalization's statistics
    assert.deepEqual(hex32(back.getLayerBuffers(i)), hex32(m.getLayerBuffers(i)));
  }
  assert.equal(back.getLayerParam(5, 'elu_alpha'), 0.5);
  assert.deepEqual(back.meta, { classes: 'low,mid,high' });
  assert.equal(back.loss, null);
  assert.deepEqual(hex32(back.predict(x)), hex32(m.predict(x)));
  for (const [name, { m: other, x: xs }] of models().slice(1)) {
    assert.deepEqual(hex32(nn.Model.fromOnnx(other.toOnnx()).predict(xs)),
                     hex32(other.predict(xs)), name);
  }
  // A second trip writes the same bytes.
  const twice = back.toOnnx();
  assert.deepEqual(nn.Model.fromOnnx(twice).toOnnx(), twice);
});

test('the file is the bytes, and any byte view imports', () => {
  const { m, x } = trainedV2();
  const bytes = m.toOnnx();
  assert.ok(bytes instanceof Uint8Array);
  withDir((dir) => {
    const file = path.join(dir, 'v2.onnx');
    assert.equal(m.exportOnnx(file), m);
    assert.deepEqual(fs.readFileSync(file), Buffer.from(bytes));
    if (READER) {
      assert.deepEqual(hex32(nn.Model.importOnnx(file).predict(x)), hex32(m.predict(x)));
    }
    assert.deepEqual(fs.readdirSync(dir), ['v2.onnx']);
  });
  if (!READER) return;
  const want = hex32(m.predict(x));
  const odd = new Uint8Array(bytes.length + 1);
  odd.set(bytes, 1);
  for (const view of [new Uint8Array(bytes), odd.subarray(1), new DataView(odd.buffer, 1),
                      odd.buffer.slice(1)]) {
    assert.deepEqual(hex32(nn.Model.fromOnnx(view).predict(x)), want);
  }
});

test('ONNX Runtime computes what predict computes', async () => {
  const ort = onnxRuntime();
  for (const [name, { m, x }] of models()) {
    const rows = x.length / m.inputWidth;
    const input = new ort.Tensor('float32', Float32Array.from(x), [rows, m.inputWidth]);
    const fromBytes = await ort.InferenceSession.create(m.toOnnx());
    assert.deepEqual(fromBytes.inputNames, ['input']);
    assert.deepEqual(fromBytes.outputNames, ['output']);
    const { output } = await fromBytes.run({ input });
    assert.deepEqual(output.dims, [rows, m.outputWidth]);
    assertRowsClose(output.data, m.predict(x), m.outputWidth, ORT_REL, `${name}, ONNX Runtime`);
    // and the file exportOnnx writes, with a batch of another size
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'libnn-onnx-'));
    try {
      const file = path.join(dir, 'm.onnx');
      m.exportOnnx(file);
      const session = await ort.InferenceSession.create(file);
      const one = x.subarray(0, m.inputWidth);
      const r = await session.run({ input: new ort.Tensor('float32', Float32Array.from(one),
                                                          [1, m.inputWidth]) });
      assertRowsClose(r.output.data, m.predict(one), m.outputWidth, ORT_REL,
                      `${name}, one row, ONNX Runtime`);
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  }
});

test('PyTorch\'s graphs import and predict what PyTorch computed', NEEDS_READER, () => {
  const names = fixtureNames(false);
  assert.ok(names.length >= 18);
  let stepped = 0;
  for (const name of names) {
    const want = fixture(name);
    const x = Float32Array.from(want.input.v);
    const file = path.join(FIXTURES(), `${name}.onnx`);
    const m = nn.Model.importOnnx(file);
    assert.equal(m.inputWidth, want.input.cols, name);
    assert.equal(m.outputWidth, want.output.cols, name);
    const y = m.predict(x);
    assertRowsClose(y, want.output.v, want.output.cols, PYTORCH_REL, name);
    assert.deepEqual(hex32(nn.Model.fromOnnx(fs.readFileSync(file)).predict(x)), hex32(y));
    if (want.output_after_step) {
      // One SGD step as PyTorch took it.
      m.setOptimizer('sgd').setParam('learning_rate', want.lr.v[0]);
      if (want.labels) {
        m.setLoss('cross_entropy').trainBatch(x, Int32Array.from(want.labels.v));
      } else {
        m.setLoss('mse').trainBatch(x, Float32Array.from(want.target.v));
      }
      assertRowsClose(m.predict(x), want.output_after_step.v, want.output.cols, PYTORCH_REL,
                      `${name} after a step`);
      stepped++;
    }
  }
  assert.equal(stepped, 3);
});

test('graphs libnn cannot hold are refused, naming the node', NEEDS_READER, () => {
  const names = fixtureNames(true);
  assert.ok(names.length >= 10);
  for (const name of names) {
    const { message } = fixture(name);
    const escaped = literal(message);
    throwsNN(() => nn.Model.importOnnx(path.join(FIXTURES(), `${name}.onnx`)),
             nn.Status.E_FORMAT, new RegExp(`^nn_model_import_onnx: .*${escaped}`));
    assert.match(nn.lastError(), new RegExp(escaped));
  }
});

test('corrupt ONNX bytes and unreadable files are refused with libnn\'s message',
     NEEDS_READER, () => {
       const bytes = xor().toOnnx();
       const flipped = Buffer.from(bytes);
       flipped[flipped.length >> 1] ^= 0xff;
       for (const bad of [new Uint8Array(0), Buffer.from('not an ONNX file'),
                          bytes.subarray(0, bytes.length >> 1), bytes.subarray(0, bytes.length - 1),
                          flipped, xor().toBuffer()]) {
         throwsNN(() => nn.Model.fromOnnx(bad), nn.Status.E_FORMAT,
                  /^nn_model_import_onnx_buffer: /);
       }
       withDir((dir) => {
         const missing = path.join(dir, 'missing.onnx');
         throwsNN(() => nn.Model.importOnnx(missing), nn.Status.E_IO,
                  new RegExp(`${literal(missing)}.*No such file`));
         throwsNN(() => nn.Model.importOnnx(dir), nn.Status.E_IO, /not a regular file/);
       });
     });

test('what is not bytes or a path is refused before the call', () => {
  withDir((dir) => {
    const file = path.join(dir, 'm.onnx');
    xor().exportOnnx(file);
    assert.throws(() => nn.Model.fromOnnx(file), /nn_model_import_onnx_buffer: .*importOnnx/);
    assert.throws(() => nn.Model.fromOnnx([1, 2, 3]), TypeError);
    assert.throws(() => nn.Model.importOnnx(`${file}\0x`), TypeError);
    assert.throws(() => nn.Model.importOnnx(Buffer.from(file)), TypeError);
    assert.throws(() => xor().exportOnnx(`${file}\0x`), TypeError);
    assert.throws(() => xor().exportC(path.join(dir, 'm.h'), 'net\0x'), TypeError);
    assert.throws(() => xor().exportC(path.join(dir, 'm.h'), 3), TypeError);
    assert.throws(() => xor().exportC(path.join(dir, 'm.h')), TypeError);
    assert.deepEqual(fs.readdirSync(dir), ['m.onnx']);
  });
});

test('exports that cannot be written leave nothing behind', () => {
  const m = xor();
  withDir((dir) => {
    const missing = path.join(dir, 'no', 'such', 'dir');
    throwsNN(() => m.exportOnnx(path.join(missing, 'm.onnx')), nn.Status.E_IO,
             new RegExp(`^nn_model_export_onnx: .*${literal(missing)}`));
    throwsNN(() => m.exportC(path.join(missing, 'm.h'), 'net'), nn.Status.E_IO,
             new RegExp(`^nn_model_export_c: .*${literal(missing)}`));
    throwsNN(() => m.exportOnnx(`${dir}/`), nn.Status.E_INVALID);
    throwsNN(() => m.exportOnnx(''), nn.Status.E_INVALID);
    throwsNN(() => m.exportC(`${dir}/`, 'net'), nn.Status.E_INVALID);
    assert.deepEqual(fs.readdirSync(dir), []);
  });
});

test('a prefix that is not a C identifier is refused', () => {
  const m = xor();
  withDir((dir) => {
    const file = path.join(dir, 'net.h');
    for (const bad of ['', '1net', 'my-net', 'net.h', 'a'.repeat(64), 'réseau', '_net']) {
      throwsNN(() => m.exportC(file, bad), nn.Status.E_INVALID, /^nn_model_export_c: prefix/);
    }
    assert.deepEqual(fs.readdirSync(dir), []);
    m.exportC(file, 'a'.repeat(63));
    assert.deepEqual(fs.readdirSync(dir), ['net.h']);
  });
});

test('a model without layers, with a NaN weight, or closed is not exported', () => {
  const nan = xor();
  const p = nan.params();
  p[0] = NaN;
  nan.setParams(p);
  const closed = xor();
  closed.close();
  withDir((dir) => {
    for (const [m, status, says] of [[new nn.Model(3), nn.Status.E_STATE, /no layers/],
                                     [nan, nn.Status.E_NONFINITE, /weight 0 of layer 0 is nan/],
                                     [closed, nn.Status.E_NULL, /the model is closed/]]) {
      for (const [call, fn] of [[() => m.toOnnx(), 'nn_model_export_onnx_buffer'],
                                [() => m.exportOnnx(path.join(dir, 'm.onnx')),
                                 'nn_model_export_onnx'],
                                [() => m.exportC(path.join(dir, 'm.h'), 'm'),
                                 'nn_model_export_c']]) {
        throwsNN(call, status, new RegExp(`^${fn}: .*${says.source}`));
      }
    }
    assert.deepEqual(fs.readdirSync(dir), []);
  });
});

test('without the ONNX reader, imports say so and exports work',
     READER ? { skip: 'this libnn has the ONNX reader (the imports are checked instead)' } : {},
     () => {
       const m = xor();
       withDir((dir) => {
         const file = path.join(dir, 'xor.onnx');
         m.exportOnnx(file);
         const says = 'this libnn was built without the ONNX reader .*protobuf-c';
         throwsNN(() => nn.Model.fromOnnx(m.toOnnx()), nn.Status.E_STATE,
                  new RegExp(`^nn_model_import_onnx_buffer: ${says}`));
         throwsNN(() => nn.Model.importOnnx(file), nn.Status.E_STATE,
                  new RegExp(`^nn_model_import_onnx: ${says}`));
       });
     });

const DRIVER = `
/* Runs PREFIX_predict on the rows of floats on stdin and writes its outputs
 * to stdout, after the widths the header defines. */
#include <stdio.h>
#define XOR_NET_IMPLEMENTATION
#include "xor_net.h"

int main(void)
{
    float x[XOR_NET_INPUTS], y[XOR_NET_OUTPUTS];
    int widths[2] = {XOR_NET_INPUTS, XOR_NET_OUTPUTS};
    if (fwrite(widths, sizeof widths, 1, stdout) != 1)
        return 1;
    while (fread(x, sizeof x, 1, stdin) == 1) {
        xor_net_predict(x, y);
        if (fwrite(y, sizeof y, 1, stdout) != 1)
            return 1;
    }
    return 0;
}
`;

test('the exported C header, compiled, computes what predict computes', () => {
  const cc = envPath('NN_CC');
  for (const [name, { m, x }] of models()) {
    withDir((dir) => {
      assert.equal(m.exportC(path.join(dir, 'xor_net.h'), 'xor_net'), m);
      fs.writeFileSync(path.join(dir, 'driver.c'), DRIVER);
      const exe = path.join(dir, 'driver');
      execFileSync(cc, ['-std=c99', '-Wall', '-Wextra', '-Wpedantic', '-Werror', '-o', exe,
                        path.join(dir, 'driver.c'), '-lm'], { stdio: 'pipe' });
      const out = execFileSync(exe, { input: Buffer.from(x.buffer, x.byteOffset, x.byteLength) });
      const widths = new Int32Array(out.buffer.slice(out.byteOffset, out.byteOffset + 8));
      assert.deepEqual(Array.from(widths), [m.inputWidth, m.outputWidth], name);
      const y = new Float32Array(out.buffer.slice(out.byteOffset + 8, out.byteOffset + out.length));
      assertRowsClose(y, m.predict(x), m.outputWidth, C_REL, `${name}, C header`);
    });
  }
});
