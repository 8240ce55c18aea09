// SPDX-License-Identifier: MIT
// The libnn Node.js package against the C API, bit for bit, and misuse that
// must throw rather than crash or wrap a value into another: part of the
// ffi_node ctest test (run by node --test on the installed package).
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const nn = require('libnn');
const { reference, hex32, hex64, flatParams, XOR_X, XOR_T, lcgData,
        classifier, v2Model } = require('./common.js');

nn.setBlasThreads(1);  // as the reference program

function xorModel(seed = 1) {
  return new nn.Model(2, seed).addDense(3, 'tanh').addDense(1, 'sigmoid').setLoss('bce');
}

function throwsNN(fn, status, pattern) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof nn.NNError, `not an NNError: ${e}`);
    assert.equal(e.status, status, e.message);
    if (pattern) assert.match(e.message, pattern);
    return true;
  });
}

test('XOR trained step by step has the C API\'s bits', () => {
  const ref = reference();
  const m = new nn.Model(2, 7).addDense(8, nn.Activation.TANH).addDense(1, nn.Activation.SIGMOID);
  m.setLoss(nn.Loss.BCE).setParam(nn.Param.LEARNING_RATE, 0.5);
  m.setParam(nn.Param.MOMENTUM, 0.9).setParam(nn.Param.NESTEROV, 1);
  const losses = [];
  for (let i = 0; i < 300; i++) losses.push(m.trainBatch(XOR_X, XOR_T));
  const y = m.predict(XOR_X);
  assert.deepEqual(hex64(losses), ref['xor.losses']);
  assert.deepEqual(hex32(flatParams(m)), ref['xor.params']);
  assert.deepEqual(hex32(m.params()), ref['xor.params']);
  assert.deepEqual(hex32(y), ref['xor.pred']);
  assert.deepEqual(Array.from(y, (v) => v > 0.5), [false, true, true, false]);
  m.close();
});

test('gradients computed and applied have the C API\'s bits', () => {
  const ref = reference();
  const m = new nn.Model(2, 3).addDense(3, 'sigmoid').addDense(1, 'identity');
  m.setLoss('mse').setParam('learning_rate', 0.25);
  const loss = m.computeGrads(XOR_X, XOR_T);
  const g0 = m.layerGrads(0);
  const g1 = m.layerGrads(1);
  assert.deepEqual(hex32(m.grads()), hex32([...g0.dw, ...g0.db, ...g1.dw, ...g1.db]));
  m.applyGrads();
  assert.deepEqual(hex64([loss]), ref['grads.loss']);
  assert.deepEqual(hex32(g0.dw), ref['grads.dw0']);
  assert.deepEqual(hex32(g0.db), ref['grads.db0']);
  assert.deepEqual(hex32(g1.dw), ref['grads.dw1']);
  assert.deepEqual(hex32(g1.db), ref['grads.db1']);
  assert.deepEqual(hex32(flatParams(m)), ref['grads.params']);
});

test('a classifier fitted, evaluated, saved and loaded has the C API\'s bits', () => {
  const ref = reference();
  const { x, labels } = lcgData();
  assert.deepEqual(hex32(x), ref['clf.x']);
  assert.deepEqual(Array.from(labels, String), ref['clf.labels']);
  const train = new nn.Dataset(x.subarray(0, 192 * 4), 4, labels.subarray(0, 192));
  const val = new nn.Dataset(x.subarray(192 * 4), 4, labels.subarray(192));
  assert.equal(train.rows, 192);
  const history = [];
  let batches = 0;
  const m = classifier(nn);
  m.fit(train, {
    val,
    onEpoch: (e) => {
      assert.equal(e.epoch, history.length / 3 + 1);
      history.push(e.trainLoss, e.valLoss, e.valAccuracy);
    },
    onBatch: () => { batches++; },
  });
  const { loss, accuracy } = m.evaluate(train);
  const pred = m.predict(x.subarray(192 * 4));
  assert.deepEqual(hex64(history), ref['clf.epochs']);
  assert.equal(batches, Number(ref['clf.batches'][0]));
  assert.equal(m.stepCount, Number(ref['clf.steps'][0]));
  assert.deepEqual(hex64([m.currentLr]), ref['clf.lr']);
  assert.deepEqual(hex64([loss, accuracy]), ref['clf.eval']);
  assert.deepEqual(hex32(pred), ref['clf.pred']);
  assert.deepEqual(hex32(flatParams(m)), ref['clf.params']);
  assert.ok(accuracy > 0.7);

  const checkpoint = m.toBuffer('checkpoint');
  assert.equal(Buffer.from(checkpoint).toString('hex'), ref['clf.checkpoint'][0]);
  const resumed = nn.Model.fromBuffer(checkpoint);
  resumed.setParam('epochs', 1).fit(train);
  assert.deepEqual(hex32(flatParams(resumed)), ref['clf.resumed']);
  for (const o of [resumed, m, val, train]) o.close();
});

test('files and buffers: save, load, any byte view, corrupt bytes', () => {
  const m = xorModel(11);
  for (let i = 0; i < 20; i++) m.trainBatch(XOR_X, XOR_T);
  const want = hex32(m.predict(XOR_X));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'libnn-'));
  try {
    const file = path.join(dir, 'xor.nn');
    m.save(file);
    assert.equal(fs.statSync(file).size, m.saveSize());
    assert.deepEqual(fs.readFileSync(file), Buffer.from(m.toBuffer()));
    assert.deepEqual(hex32(nn.Model.load(file).predict(XOR_X)), want);
    assert.throws(() => m.save(`${file}\0x`), TypeError);
    assert.throws(() => nn.Model.load(`${file}\0x`), TypeError);
    assert.deepEqual(fs.readdirSync(dir), ['xor.nn']);
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
  const bytes = m.toBuffer();
  const odd = new Uint8Array(bytes.length + 1);
  odd.set(bytes, 1);
  for (const view of [bytes, new Uint8Array(bytes), odd.subarray(1),
                      new DataView(odd.buffer, 1), bytes.buffer.slice(bytes.byteOffset,
                                                                       bytes.byteOffset + bytes.length)]) {
    assert.deepEqual(hex32(nn.Model.fromBuffer(view).predict(XOR_X)), want);
  }
  const bad = Buffer.from(bytes);
  bad[bad.length - 1] ^= 0xff;
  throwsNN(() => nn.Model.fromBuffer(bad), nn.Status.E_FORMAT, /nn_model_load_buffer/);
  throwsNN(() => nn.Model.fromBuffer(new Uint8Array(0)), nn.Status.E_FORMAT);
  throwsNN(() => nn.Model.load('/nonexistent/dir/m.nn'), nn.Status.E_IO, /nonexistent/);
  assert.throws(() => nn.Model.fromBuffer('not bytes'), TypeError);
});

test('a clone is an independent model with the optimizer state', () => {
  const m = new nn.Model(2, 9).addDense(5, 'tanh').addDense(1, 'sigmoid');
  m.setLoss('bce').setOptimizer('adam').setParam('learning_rate', 0.05);
  for (let i = 0; i < 10; i++) m.trainBatch(XOR_X, XOR_T);
  const twin = m.clone();
  assert.equal(twin.stepCount, 10);
  twin.trainBatch(XOR_X, XOR_T);
  m.trainBatch(XOR_X, XOR_T);
  assert.deepEqual(hex32(flatParams(twin)), hex32(flatParams(m)));
  twin.close();
  assert.equal(m.predict(XOR_X).length, 4);
});

test('wrong typed-array types and lengths are refused', () => {
  const m = xorModel();
  assert.throws(() => m.predict(new Float64Array(8)), /must be a Float32Array/);
  assert.throws(() => m.predict(new Int32Array(8)), TypeError);
  assert.throws(() => m.predict(new Uint8Array(32)), TypeError);
  assert.throws(() => m.predict('0,0,1,1'), TypeError);
  throwsNN(() => m.predict(new Float32Array(7)), nn.Status.E_SHAPE, /whole number of rows/);
  throwsNN(() => m.predict(XOR_X, new Float32Array(3)), nn.Status.E_SHAPE);
  assert.throws(() => m.predict(XOR_X, new Float64Array(4)), TypeError);
  const shared = new Float32Array(12);
  shared.set(XOR_X);
  throwsNN(() => m.predict(shared.subarray(0, 8), shared.subarray(6, 10)), nn.Status.E_INVALID,
           /overlaps/);
  throwsNN(() => m.trainBatch(XOR_X, new Float32Array(3)), nn.Status.E_SHAPE);
  throwsNN(() => m.trainBatch(XOR_X, new Int32Array(3)), nn.Status.E_SHAPE);
  assert.throws(() => m.trainBatch(XOR_X, new Float64Array(4)), TypeError);
  assert.equal(m.stepCount, 0);
  // An array of numbers is copied; a Float32Array subarray is read in place.
  const y = m.predict(Array.from(XOR_X));
  const big = new Float32Array(10);
  big.set(XOR_X, 2);
  assert.deepEqual(hex32(m.predict(big.subarray(2))), hex32(y));
  assert.throws(() => new nn.Dataset(new Float64Array(8), 2, XOR_T, 1), TypeError);
  throwsNN(() => new nn.Dataset(XOR_X, 2, new Int32Array(3)), nn.Status.E_SHAPE);
  throwsNN(() => new nn.Dataset(XOR_X, 3, XOR_T, 1), nn.Status.E_SHAPE);
  const s = new nn.Model(2).addDense(3, 'softmax').setLoss('cross_entropy');
  throwsNN(() => s.trainBatch(XOR_X, new Int32Array([0, 1, 7, 0])), nn.Status.E_INVALID,
           /nn_model_train_batch_labels/);
  assert.ok(s.trainBatch(XOR_X, new Int32Array([0, 1, 2, 0])) > 0);
});

test('numbers outside the C types are refused, not wrapped', () => {
  for (const bad of [-1, 2 ** 64, 2 ** 53, -(2 ** 31)]) {
    assert.throws(() => new nn.Model(bad), RangeError);
  }
  assert.throws(() => new nn.Model(2 ** 64 + 4), RangeError);
  assert.throws(() => new nn.Model(2n ** 64n + 4n), RangeError);
  assert.throws(() => new nn.Model(2.5), TypeError);
  assert.throws(() => new nn.Model('2'), TypeError);
  assert.throws(() => new nn.Model(2, 2n ** 64n), RangeError);
  assert.equal(new nn.Model(2, 2n ** 64n - 1n).inputWidth, 2);
  const m = xorModel();
  assert.throws(() => m.getWeights(2 ** 64), RangeError);
  assert.throws(() => m.getWeights(2n ** 64n), RangeError);
  assert.throws(() => m.getWeights(2), RangeError);  // libnn would answer 0
  assert.throws(() => m.addDense(1.5, 'tanh'), TypeError);
  // 2**32 + 3 would be NN_ACT_TANH once wrapped into a C int.
  assert.throws(() => m.addDense(4, 2 ** 32 + 3), RangeError);
  assert.throws(() => m.setParam(2 ** 32 + 1, 0.1), RangeError);
  assert.throws(() => m.addDense(4, 'tanhh'), RangeError);
  assert.throws(() => m.setParam('learning_rate', '0.1'), TypeError);
  throwsNN(() => m.addDense(4, 99), nn.Status.E_INVALID, /nn_model_add_dense/);
  assert.equal(m.layerCount, 2);
});

test('a freed model or dataset throws instead of touching freed memory', () => {
  const m = xorModel();
  const d = new nn.Dataset(XOR_X, 2, XOR_T, 1);
  m.close();
  m.close();
  for (const use of [() => m.predict(XOR_X), () => m.params(), () => m.trainBatch(XOR_X, XOR_T),
                     () => m.inputWidth, () => m.toBuffer(), () => m.fit(d), () => m.clone()]) {
    throwsNN(use, nn.Status.E_NULL, /the model is closed/);
  }
  assert.equal(String(m), 'Model (closed)');
  d.close();
  const m2 = xorModel();
  throwsNN(() => m2.evaluate(d), nn.Status.E_NULL, /the dataset is closed/);
  throwsNN(() => d.rows, nn.Status.E_NULL);
  assert.throws(() => m2.evaluate({}), TypeError);
});

test('fit: callbacks stop, interrupt, and their exceptions come out of fit', () => {
  const { x, labels } = lcgData(64);
  const train = new nn.Dataset(x, 4, labels);
  const model = () => classifier(nn).setParam('batch_size', 16).setParam('epochs', 4);
  const epochs = [];
  const m = model();
  m.fit(train, { onEpoch: (e) => { epochs.push(e.epoch); return e.epoch === 2; } });
  assert.deepEqual(epochs, [1, 2]);
  assert.equal(m.stepCount, 8);

  const m2 = model();
  assert.throws(() => m2.fit(train, {
    onBatch: (b) => { if (b.batch === 3) throw new Error('stop here'); },
  }), /stop here/);
  assert.equal(m2.stepCount, 3);
  const stopped = model();
  stopped.fit(train, { onBatch: () => stopped.stepCount >= 3 });
  assert.deepEqual(hex32(flatParams(m2)), hex32(flatParams(stopped)));

  // Reading the model in a callback works; changing it throws.
  const m3 = model();
  const seen = [];
  m3.fit(train, { onEpoch: () => { seen.push(m3.predict(new Float32Array(8)).length); } });
  assert.deepEqual(seen, [6, 6, 6, 6]);
  for (const change of [(mm) => mm.setParam('learning_rate', 1), (mm) => mm.close(),
                        (mm) => mm.addDense(2, 'relu'), (mm) => mm.params(),
                        () => train.close()]) {
    const m4 = model();
    assert.throws(() => m4.fit(train, { onBatch: () => { change(m4); } }),
                  (e) => e instanceof nn.NNError && e.status === nn.Status.E_STATE);
    assert.equal(m4.stepCount, 1);
    assert.equal(m4.closed, false);
  }
  assert.equal(train.rows, 64);
  assert.throws(() => m.fit(train, { onBatch: 3 }), TypeError);
});

test('enum objects are frozen and the names are libnn\'s', () => {
  assert.ok(Object.isFrozen(nn.Activation));
  assert.equal(nn.Activation.TANH, 3);
  assert.equal(nn.nameOf('Activation', nn.Activation.LEAKY_RELU), 'leaky_relu');
  assert.equal(nn.nameOf('Param', nn.Param.LEARNING_RATE), 'learning_rate');
  assert.deepEqual(nn.paramBounds('learning_rate'), { lo: 0, hi: 1e6, def: 0.01 });
  assert.equal(nn.statusString(nn.Status.E_SHAPE), nn.statusString('e_shape'));
  assert.match(String(xorModel()), /^Model 2 -> 3/);
});

test('the 0.2 layers, an interrupted and resumed fit: the C API\'s bits', () => {
  const ref = reference();
  const { x, labels } = lcgData();
  const train = new nn.Dataset(x.subarray(0, 192 * 4), 4, labels.subarray(0, 192));
  const m = v2Model(nn);
  const at = [];
  const onBatch = (b) => {
    if (b.epoch === 2 && b.batch === 3 && at.length === 0) {
      at.push(m.stepCount);
      return -1;
    }
    return 0;
  };
  m.fit(train, { onBatch });
  assert.deepEqual(at, [Number(ref['v2.interrupted'][0])]);
  m.fitResume(train, { onBatch });
  assert.equal(m.stepCount, Number(ref['v2.steps'][0]));
  assert.deepEqual(hex32(flatParams(m)), ref['v2.params']);
  assert.deepEqual(hex32(m.getLayerBuffers(2)), ref['v2.bn']);
  const { loss, accuracy } = m.evaluate(train);
  assert.deepEqual(hex64([loss, accuracy]), ref['v2.eval']);
  assert.deepEqual(hex32(m.predict(x.subarray(192 * 4))), ref['v2.pred']);
  assert.equal(Buffer.from(m.toBuffer('checkpoint')).toString('hex'), ref['v2.checkpoint'][0]);
  throwsNN(() => m.fitResume(train), nn.Status.E_STATE);
});

test('Huber loss, softplus and centered RMSprop steps: the C API\'s bits', () => {
  const ref = reference();
  const { x } = lcgData();
  const xs = x.subarray(0, 32 * 4);
  const t = new Float32Array(64);
  for (let i = 0; i < 32; i++) {
    t[2 * i] = 2 * xs[4 * i];
    t[2 * i + 1] = xs[4 * i + 1] - xs[4 * i + 2];
  }
  const m = new nn.Model(4, 8).addDense(8, 'softplus').addDense(2, 'identity');
  m.setLoss('huber').setParam('huber_delta', 0.5).setOptimizer('rmsprop');
  m.setParam('centered', 1).setParam('clip_value', 0.1).setParam('learning_rate', 0.005);
  const losses = [];
  for (let i = 0; i < 50; i++) losses.push(m.trainBatch(xs, t));
  assert.deepEqual(hex64(losses), ref['hub.losses']);
  assert.deepEqual(hex32(flatParams(m)), ref['hub.params']);
});

test('a model describes itself; metadata round-trips', () => {
  const m = v2Model(nn);
  assert.deepEqual(m.layers.map((l) => nn.nameOf('LayerKind', l.kind)),
                   ['scaling', 'dense', 'batchnorm', 'dropout', 'dense', 'layernorm',
                    'activation', 'dense']);
  assert.deepEqual(m.layerCounts(2), { weights: 8, bias: 8, buffers: 16 });
  assert.deepEqual(Array.from(m.getLayerBuffers(0)), [2, 2, 1, 0.5, 0, 0.25, 0, -0.25]);
  assert.equal(m.layerActivation(6), nn.Activation.ELU);
  assert.equal(m.layerActivation(2), null);
  assert.equal(m.loss, nn.Loss.CROSS_ENTROPY);
  assert.equal(m.optimizer, nn.Optimizer.ADAMW);
  assert.deepEqual(Array.from(m.classWeights()), [1, 2, 0.5]);
  assert.equal(String(m), 'Model 4 -> scaling -> 8 gelu -> batchnorm -> dropout -> 6 silu -> ' +
               'layernorm -> activation elu -> 3 identity; loss cross_entropy, 0 steps');
  throwsNN(() => m.setLayerBuffers(2, new Float32Array(16).fill(-1)), nn.Status.E_INVALID);
  throwsNN(() => m.setLayerBuffers(2, new Float32Array(15)), nn.Status.E_SHAPE);
  m.setClassWeights(null);
  assert.equal(m.classWeights().length, 0);
  const k = new nn.Model(2);
  k.setMeta('b', '2').setMeta('a', '1').setMeta('b', 'two').setMeta('u', 'été');
  assert.deepEqual(k.meta, { b: 'two', a: '1', u: 'été' });
  assert.deepEqual(Object.keys(k.meta), ['b', 'a', 'u']);
  k.setMeta('a', null);
  assert.equal(k.getMeta('a'), null);
  assert.throws(() => k.setMeta('a\0b', 'v'), TypeError);
  assert.throws(() => k.setMeta('k', 3), TypeError);
  throwsNN(() => k.setMeta('', 'v'), nn.Status.E_INVALID);
  assert.deepEqual(nn.Model.fromBuffer(k.toBuffer()).meta, k.meta);
});
