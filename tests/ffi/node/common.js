// SPDX-License-Identifier: MIT
// What the Node.js package's tests share: the environment ctest gives them,
// the reference program's output (tests/ffi/reference.c) and its data.
'use strict';

const { execFileSync } = require('node:child_process');

/** A path ctest passes in the environment; missing, the test fails (a
 * check that cannot run is not counted as passed). */
function envPath(name) {
  const v = process.env[name];
  if (!v) {
    throw new Error(`${name} is not set: run the tests through ctest ` +
                    '(tests/ffi/CMakeLists.txt says what each is)');
  }
  return v;
}

let ref = null;
function reference() {
  if (ref === null) {
    const out = execFileSync(envPath('NN_FFI_REFERENCE'), { encoding: 'utf8' });
    ref = {};
    for (const line of out.split('\n')) {
      const [key, ...values] = line.split(' ');
      ref[key] = values;
    }
  }
  return ref;
}

function hex32(floats) {
  const a = Float32Array.from(floats);
  return Array.from(new Uint32Array(a.buffer), (v) => v.toString(16).padStart(8, '0'));
}

function hex64(doubles) {
  const a = Float64Array.from(doubles);
  return Array.from(new BigUint64Array(a.buffer), (v) => v.toString(16).padStart(16, '0'));
}

/** W then b of every layer, read layer by layer (not nn_model_params). */
function flatParams(m) {
  const parts = [];
  for (let l = 0; l < m.layerCount; l++) parts.push(...m.getWeights(l), ...m.getBias(l));
  return Float32Array.from(parts);
}

const XOR_X = new Float32Array([0, 0, 0, 1, 1, 0, 1, 1]);
const XOR_T = new Float32Array([0, 1, 1, 0]);

/** reference.c's classifier data: the same LCG, regenerated here. */
function lcgData(rows = 256, features = 4) {
  let state = 12345;
  const x = new Float32Array(rows * features);
  const labels = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const a = [];
    for (let j = 0; j < features; j++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      a.push(state >>> 16);
      x[i * features + j] = Math.fround(a[j] / 65536) - 0.5;
    }
    labels[i] = (a[0] > a[1] ? 1 : 0) + (a[0] + a[1] > 65536 ? 1 : 0);
  }
  return { x, labels };
}

function classifier(nn) {
  const m = new nn.Model(4, 42);
  m.addDense(16, 'relu').addDense(16, 'leaky_relu');
  m.setLayerParam(1, 'leaky_slope', 0.1);
  m.addDense(3, 'softmax').setLoss('cross_entropy').setOptimizer('adam');
  m.setParam('learning_rate', 0.01).setParam('weight_decay', 1e-4);
  m.setSchedule('cosine').setParam('sched_t_max', 40).setParam('warmup_steps', 5);
  m.setParam('epochs', 6).setParam('batch_size', 32).setParam('shuffle', 1);
  return m;
}

/** reference.c's v2 model: every layer kind and the 0.2 settings. */
function v2Model(nn) {
  const m = new nn.Model(4, 5).addScaling([2, 2, 1, 0.5], [0, 0.25, 0, -0.25]);
  m.addDense(8, nn.Activation.GELU).addBatchnorm().addDropout(0.25);
  m.addDense(6, 'silu').addLayernorm().addActivation('elu');
  m.setLayerParam(6, nn.LayerParam.ELU_ALPHA, 0.5);
  m.addDense(3, 'identity').setLoss('cross_entropy').setClassWeights([1, 2, 0.5]);
  m.setParam('label_smoothing', 0.1).setOptimizer('adamw').setParam('amsgrad', 1);
  m.setParam('weight_decay', 0.01).setParam('learning_rate', 0.01);
  m.setParam('epochs', 3).setParam('batch_size', 32).setMeta('classes', 'low,mid,high');
  return m;
}

module.exports = { envPath, reference, hex32, hex64, flatParams, XOR_X, XOR_T, lcgData,
                   classifier, v2Model };
