// libnn from Node.js through koffi (no compiler): the ffi_node ctest test.
//
//   LIBNN_PATH=<build>/libnn.so NN_FFI_REFERENCE=<build>/tests/ffi/nn_ffi_reference \
//   node --test tests/ffi/node/
//
// Trains XOR as tests/ffi/reference.c does and requires the same bits as the
// C program: the 300 losses, the weights and biases, and the predictions.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
let koffi;
try {
  koffi = require('koffi');
} catch (e) {
  throw new Error(`koffi is not installed: run npm ci --prefix tests/ffi/node (.ci/test-all does) (${e.message})`);
}

const lib = koffi.load(process.env.LIBNN_PATH || 'libnn.so.0');

koffi.opaque('nn_model');
const nn = {
  version_number: lib.func('unsigned int nn_version_number(void)'),
  version_string: lib.func('const char *nn_version_string(void)'),
  last_error: lib.func('const char *nn_last_error(void)'),
  set_blas_threads: lib.func('int nn_set_blas_threads(size_t threads)'),
  model_create: lib.func('int nn_model_create(_Out_ nn_model **out, size_t input_width, uint64_t seed)'),
  model_free: lib.func('void nn_model_free(nn_model *model)'),
  model_add_dense: lib.func('int nn_model_add_dense(nn_model *model, size_t width, int act)'),
  model_set_loss: lib.func('int nn_model_set_loss(nn_model *model, int loss)'),
  model_set_param: lib.func('int nn_model_set_param(nn_model *model, int key, double value)'),
  model_layer_count: lib.func('size_t nn_model_layer_count(const nn_model *model)'),
  model_layer_width: lib.func('size_t nn_model_layer_width(const nn_model *model, size_t layer)'),
  model_input_width: lib.func('size_t nn_model_input_width(const nn_model *model)'),
  model_train_batch: lib.func('int nn_model_train_batch(nn_model *model, size_t n, const float *x, size_t x_width, const float *t, size_t t_width, _Out_ double *loss)'),
  model_predict: lib.func('int nn_model_predict(const nn_model *model, size_t n, const float *x, size_t x_width, float *y, size_t y_width)'),
  model_get_weights: lib.func('int nn_model_get_weights(const nn_model *model, size_t layer, float *w, size_t count)'),
  model_get_bias: lib.func('int nn_model_get_bias(const nn_model *model, size_t layer, float *b, size_t count)'),
};

// nn.h's values (explicit, never renumbered).
const NN_OK = 0, NN_E_SHAPE = 3;
const NN_ACT_SIGMOID = 2, NN_ACT_TANH = 3;
const NN_LOSS_BCE = 2;
const NN_PARAM_LEARNING_RATE = 1, NN_PARAM_MOMENTUM = 2, NN_PARAM_NESTEROV = 3;

function ok(status) {
  assert.equal(status, NN_OK, `libnn status ${status}: ${nn.last_error()}`);
}

const x = new Float32Array([0, 0, 0, 1, 1, 0, 1, 1]);
const t = new Float32Array([0, 1, 1, 0]);

function hex32(floats) {
  return Array.from(new Uint32Array(floats.buffer, floats.byteOffset, floats.length),
                    (v) => v.toString(16).padStart(8, '0'));
}

function hex64(doubles) {
  const a = Float64Array.from(doubles);
  return Array.from(new BigUint64Array(a.buffer), (v) => v.toString(16).padStart(16, '0'));
}

function params(m) {
  const parts = [];
  let fanIn = nn.model_input_width(m);
  for (let l = 0; l < nn.model_layer_count(m); l++) {
    const fanOut = nn.model_layer_width(m, l);
    const w = new Float32Array(fanIn * fanOut);
    const b = new Float32Array(fanOut);
    ok(nn.model_get_weights(m, l, w, w.length));
    ok(nn.model_get_bias(m, l, b, b.length));
    parts.push(...w, ...b);
    fanIn = fanOut;
  }
  return Float32Array.from(parts);
}

function reference() {
  const out = execFileSync(process.env.NN_FFI_REFERENCE, { encoding: 'utf8' });
  const ref = {};
  for (const line of out.split('\n')) {
    const [key, ...values] = line.split(' ');
    ref[key] = values;
  }
  return ref;
}

test('the loaded libnn is a 0.x library and says its version', () => {
  const v = nn.version_number();
  assert.equal(Math.floor(v / 10000), 0);
  assert.equal(nn.version_string(),
               `${Math.floor(v / 10000)}.${Math.floor(v / 100) % 100}.${v % 100}`);
});

test('XOR trained through koffi predicts it, with the C API\'s bits', (t_) => {
  ok(nn.set_blas_threads(1));
  const out = [null];
  ok(nn.model_create(out, 2, 7));
  const m = out[0];
  try {
    ok(nn.model_add_dense(m, 8, NN_ACT_TANH));
    ok(nn.model_add_dense(m, 1, NN_ACT_SIGMOID));
    ok(nn.model_set_loss(m, NN_LOSS_BCE));
    ok(nn.model_set_param(m, NN_PARAM_LEARNING_RATE, 0.5));
    ok(nn.model_set_param(m, NN_PARAM_MOMENTUM, 0.9));
    ok(nn.model_set_param(m, NN_PARAM_NESTEROV, 1));

    const losses = [];
    const loss = [0];
    for (let i = 0; i < 300; i++) {
      ok(nn.model_train_batch(m, 4, x, 2, t, 1, loss));
      losses.push(loss[0]);
    }
    const y = new Float32Array(4);
    ok(nn.model_predict(m, 4, x, 2, y, 1));
    assert.deepEqual(Array.from(y, (v) => v > 0.5), [false, true, true, false]);
    assert.ok(losses[299] < losses[0] / 10, `loss ${losses[0]} -> ${losses[299]}`);

    // A width that disagrees with the model: a status and a message.
    assert.equal(nn.model_predict(m, 4, x, 3, y, 1), NN_E_SHAPE);
    assert.match(nn.last_error(), /nn_model_predict: x_width is 3/);

    if (!process.env.NN_FFI_REFERENCE) {
      t_.diagnostic('NN_FFI_REFERENCE not set: bits not compared with C');
      return;
    }
    const ref = reference();
    assert.deepEqual(hex64(losses), ref['xor.losses']);
    assert.deepEqual(hex32(params(m)), ref['xor.params']);
    assert.deepEqual(hex32(y), ref['xor.pred']);
  } finally {
    nn.model_free(m);
  }
});
