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

// --- byte datasets ----------------------------------------------------------
// A Uint8Array x goes to nn_data_create(_labels)_u8 as it is; what libnn
// does with it must be what it does with a Float32Array of the same values
// (which the tests above check against the C API), bit for bit.

/** 300 rows of 12 bytes from an LCG (more rows than evaluate's slice of
 * 256), labels and targets that depend on them. */
function byteImages(rows = 300, width = 12) {
  let state = 2024;
  const x = new Uint8Array(rows * width);
  for (let i = 0; i < x.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    x[i] = state >>> 24;
  }
  const labels = new Int32Array(rows);
  const t = new Float32Array(rows * 2);
  for (let r = 0; r < rows; r++) {
    const p = x.subarray(r * width, (r + 1) * width);
    labels[r] = (p[0] + p[1] > 255 ? 1 : 0) + (p[2] > p[3] ? 1 : 0);
    t[2 * r] = (p[0] - p[4]) / 255;
    t[2 * r + 1] = (p[5] + p[6]) / 255;
  }
  return { x, labels, t, width };
}

function byteClassifier(width, seed = 21) {
  const m = new nn.Model(width, seed);
  m.addScaling(new Array(width).fill(1 / 255), new Array(width).fill(-0.5));
  m.addDense(16, 'relu').addDropout(0.1).addDense(3, 'softmax');
  m.setLoss('cross_entropy').setOptimizer('adam').setParam('learning_rate', 0.01);
  m.setParam('epochs', 4).setParam('batch_size', 32).setParam('shuffle', 1);
  return m.setParam('patience', 3);
}

function byteRegressor(width, seed = 22) {
  // No scaling layer: the first layer sees 0 to 255 as they are; 300 rows
  // in batches of 64 in order: a short last batch, no shuffle.
  const m = new nn.Model(width, seed).addDense(8, 'tanh').addDense(2, 'identity');
  m.setLoss('mse').setOptimizer('sgd').setParam('learning_rate', 1e-4);
  return m.setParam('epochs', 3).setParam('batch_size', 64).setParam('shuffle', 0);
}

/** make() fitted on x as bytes and on x as floats (with histories), then
 * evaluated: the two runs side by side. */
function fitBoth(make, width, x, targets, tWidth, val) {
  return [(a) => a, (a) => Float32Array.from(a)].map((asX) => {
    const data = new nn.Dataset(asX(x), width, targets, tWidth);
    const v = val ? new nn.Dataset(asX(val.x), width, val.targets, tWidth) : null;
    const history = [];
    const m = make(width);
    m.fit(data, { val: v, onEpoch: (e) => { history.push(e.trainLoss, e.valLoss, e.valAccuracy); } });
    const ev = m.evaluate(data);
    return { data, m, history, eval: [ev.loss, ev.accuracy],
             val: v ? Object.values(m.evaluate(v)) : null };
  });
}

function assertSameRun(onBytes, onFloats, x) {
  assert.ok(onBytes.data.x instanceof Uint8Array);
  assert.ok(onFloats.data.x instanceof Float32Array);
  const a = onBytes.m;
  const b = onFloats.m;
  assert.ok(a.stepCount > 0);
  assert.equal(a.stepCount, b.stepCount);
  assert.deepEqual(hex64(onBytes.history), hex64(onFloats.history));
  // parameters, optimizer state, generator and all
  assert.deepEqual(Buffer.from(a.toBuffer('checkpoint')), Buffer.from(b.toBuffer('checkpoint')));
  assert.deepEqual(hex32(flatParams(a)), hex32(flatParams(b)));
  assert.deepEqual(hex64(onBytes.eval), hex64(onFloats.eval));
  if (onBytes.val) assert.deepEqual(hex64(onBytes.val), hex64(onFloats.val));
  assert.ok(flatParams(a).every(Number.isFinite));
  assert.deepEqual(hex32(a.predict(Float32Array.from(x))), hex32(b.predict(Float32Array.from(x))));
}

test('a labelled fit on bytes is the fit on their floats, bit for bit', () => {
  const { x, labels, width } = byteImages();
  const split = 240 * width;
  const [onBytes, onFloats] = fitBoth(byteClassifier, width, x.subarray(0, split),
                                      labels.subarray(0, 240), undefined,
                                      { x: x.subarray(split), targets: labels.subarray(240) });
  assertSameRun(onBytes, onFloats, x);
  assert.equal(onBytes.history.length, 3 * 4);
  assert.equal(onBytes.data.x.buffer, x.buffer);  // read in place, not copied
  const [loss, accuracy] = onBytes.eval;
  // better than the most frequent class
  const most = Math.max(...[0, 1, 2].map((k) => labels.subarray(0, 240).filter((l) => l === k).length));
  assert.ok(loss > 0 && loss < 1.1 && accuracy > most / 240, `${loss} ${accuracy} ${most}`);
});

test('a fit on bytes with targets is the fit on their floats, bit for bit', () => {
  const { x, t, width } = byteImages();
  const [onBytes, onFloats] = fitBoth(byteRegressor, width, x, t, 2);
  assertSameRun(onBytes, onFloats, x);
  assert.equal(onBytes.m.stepCount, 3 * 5);
  // evaluate's loss on 300 rows (two slices) is the mean squared error of
  // predict's outputs, computed here in doubles
  const y = onBytes.m.predict(Float32Array.from(x));
  let sum = 0;
  for (let i = 0; i < y.length; i++) sum += (y[i] - t[i]) ** 2;
  const mse = sum / y.length;
  assert.ok(Math.abs(onBytes.eval[0] - mse) < 1e-7 * mse, `${onBytes.eval[0]} ${mse}`);
});

test('bytes are read in place at any offset: Buffer, subarray, Uint8ClampedArray', () => {
  const { x, labels, width } = byteImages();
  const m = byteClassifier(width);
  const want = m.evaluate(new nn.Dataset(Float32Array.from(x), width, labels));
  const odd = new Uint8Array(x.length + 3);
  odd.set(x, 3);
  const big = Buffer.alloc(x.length + 1);
  big.set(x, 1);
  for (const view of [odd.subarray(3), big.subarray(1), Buffer.from(x),
                      new Uint8ClampedArray(x)]) {
    const d = new nn.Dataset(view, width, labels);
    assert.equal(d.x, view);
    assert.equal(d.rows, 300);
    assert.equal(String(d), 'Dataset 300 rows, x width 12 (uint8), labels');
    assert.deepEqual(hex64(Object.values(m.evaluate(d))), hex64(Object.values(want)));
  }
});

test('a byte dataset keeps its bytes alive', () => {
  const v8 = require('node:v8');
  const vm = require('node:vm');
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc');
  const { x, labels, width } = byteImages();
  const m = byteClassifier(width);
  const want = m.evaluate(new nn.Dataset(Float32Array.from(x), width, labels));
  // the only references to the bytes are the dataset's
  const d = new nn.Dataset(Uint8Array.from(x), width, Int32Array.from(labels));
  const junk = [];
  for (let i = 0; i < 20; i++) {
    gc({ type: 'major', execution: 'sync' });
    junk.push(new Uint8Array(x.length).fill(255 - i));  // would reuse freed memory
  }
  assert.deepEqual(hex64(Object.values(m.evaluate(d))), hex64(Object.values(want)));
  d.close();
  throwsNN(() => m.evaluate(d), nn.Status.E_NULL, /the dataset is closed/);
});

test('bad byte datasets are refused with libnn\'s statuses', () => {
  const { x, labels, t, width } = byteImages();
  throwsNN(() => new nn.Dataset(x, width, labels.subarray(1)), nn.Status.E_SHAPE,
           /^nn_data_create_labels_u8: x has 300 rows, labels has 299/);
  throwsNN(() => new nn.Dataset(x, width, t.subarray(2), 2), nn.Status.E_SHAPE,
           /^nn_data_create_u8: x has 300 rows, t has 299/);
  throwsNN(() => new nn.Dataset(x, 7, t, 2), nn.Status.E_SHAPE,
           /^nn_data_create_u8: x has 3600 bytes, not a whole number of rows of 7/);
  throwsNN(() => new nn.Dataset(x, 0, t, 2), nn.Status.E_SHAPE, /^nn_data_create_u8: /);
  throwsNN(() => new nn.Dataset(new Uint8Array(0), width, new Float32Array(0), 2),
           nn.Status.E_INVALID, /^nn_data_create_u8: n is 0/);
  const bad = Int32Array.from(labels);
  bad[7] = -1;
  throwsNN(() => new nn.Dataset(x, width, bad), nn.Status.E_INVALID,
           /^nn_data_create_labels_u8: labels\[7\] is -1/);
  assert.throws(() => new nn.Dataset(x, -1, labels), RangeError);
  assert.throws(() => new nn.Dataset(x, 2 ** 64, labels), RangeError);
  assert.throws(() => new nn.Dataset(x, 1.5, labels), TypeError);
  // other integer arrays are neither bytes nor floats
  for (const other of [new Int8Array(x.length), new Uint16Array(x.length), new Int32Array(x.length),
                       new Float64Array(x.length), x.buffer, 'bytes']) {
    assert.throws(() => new nn.Dataset(other, width, labels),
                  (e) => e instanceof TypeError && /^nn_data_create: x must be .*Uint8Array/.test(e.message),
                  String(other.constructor.name));
  }
  // a width other than the model's, when the model uses the set
  const narrow = new nn.Dataset(x.subarray(0, 300 * 11), 11, labels);
  const m = byteClassifier(width);
  throwsNN(() => m.evaluate(narrow), nn.Status.E_SHAPE,
           /^nn_model_evaluate: data: x_width is 11, the model's input width is 12/);
  throwsNN(() => m.fit(narrow), nn.Status.E_SHAPE, /^nn_model_fit: train: x_width is 11/);
  const big = Int32Array.from(labels);
  big[0] = 3;
  throwsNN(() => m.fit(new nn.Dataset(x, width, big)), nn.Status.E_INVALID,
           /^nn_model_fit: train: labels\[0\] is 3/);
  assert.equal(m.stepCount, 0);
});

test('a libnn without byte datasets gets a Float32Array copy', () => {
  const { x, labels, width } = byteImages();
  const u8 = nn.capi.nn_data_create_u8;
  delete nn.capi.nn_data_create_u8;
  let d;
  try {
    d = new nn.Dataset(x, width, labels);
  } finally {
    nn.capi.nn_data_create_u8 = u8;
  }
  assert.ok(d.x instanceof Float32Array);
  assert.deepEqual(Array.from(d.x), Array.from(x));
  const m = byteClassifier(width);
  assert.deepEqual(m.evaluate(d), m.evaluate(new nn.Dataset(x, width, labels)));
});
