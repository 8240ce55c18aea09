// SPDX-License-Identifier: MIT
// libnn from Node.js: feed-forward neural networks on the libnn C library,
// through koffi (no compiler, no native addon of its own).
//
// Every prototype and enum value comes from lib/nn_h.js, which
// tests/ffi/gen_bindings.py generates from include/nn.h; none is retyped
// here. koffi converts JS values to C types without range checks (-1 becomes
// SIZE_MAX, 1.5 becomes 1, 2**32 + 3 becomes 3 in a C int, a Float64Array
// goes to a float * as raw bytes), so every argument is checked here first:
// a value that is not what C takes throws TypeError or RangeError, and a
// libnn call that fails throws NNError with libnn's status and message.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const koffi = require('koffi');
const H = require('./lib/nn_h.js');

const ABI_MAJOR = H.version.major;
const VERSION = `${H.version.major}.${H.version.minor}.${H.version.patch}`;

// ---------------------------------------------------------------------------
// Enums and errors
// ---------------------------------------------------------------------------

const enums = {};          // class name ('Activation') -> frozen {NAME: value}
const enumNames = {};      // class name -> {value: 'NAME'}
const enumOfC = {};        // C name ('nn_activation') -> class name
for (const e of H.enums) {
  const values = {};
  const names = {};
  for (const [member, value] of e.values) {
    values[member] = value;
    names[value] = member;
  }
  enums[e.name] = Object.freeze(values);
  enumNames[e.name] = names;
  enumOfC[e.cname] = e.name;
}
const Status = enums.Status;

/** A libnn call failed (status, message from libnn), or an argument was
 * refused before the call with a message in the same form. */
class NNError extends Error {
  constructor(status, message) {
    super(message);
    this.name = 'NNError';
    this.status = status;
    this.statusName = enumNames.Status[status] || String(status);
    this.function = String(message).split(':')[0];
  }
}

// ---------------------------------------------------------------------------
// Loading the library
// ---------------------------------------------------------------------------

function installDirs() {
  const dirs = ['/usr/local/lib'];
  const arch = { x64: 'x86_64', arm64: 'aarch64' }[process.arch];
  if (arch) dirs.push(`/usr/local/lib/${arch}-linux-gnu`);
  dirs.push('/usr/local/lib64');
  return dirs;
}

function loadLibrary() {
  const soname = `libnn.so.${ABI_MAJOR}`;
  const env = process.env.LIBNN_PATH;
  if (env) {
    try {
      return [koffi.load(env), env];
    } catch (e) {
      throw new Error(`libnn: cannot load LIBNN_PATH=${env} (${e.message})`);
    }
  }
  const tried = [`${soname} (the system's loader)`];
  try {
    return [koffi.load(soname), soname];
  } catch (e) {
    // not in the loader's path: try where cmake --install puts it
  }
  for (const dir of installDirs()) {
    const p = path.join(dir, soname);
    tried.push(p);
    if (fs.existsSync(p)) return [koffi.load(p), p];
  }
  throw new Error(`libnn: the C library ${soname} is not installed: tried ` +
                  `${tried.join(', ')}. Install it (cmake --install <build>, then ` +
                  'ldconfig) or set LIBNN_PATH to its path');
}

const [lib, libraryPath] = loadLibrary();

function checkVersion() {
  let number, text;
  try {
    number = lib.func('unsigned int nn_version_number(void)')();
    text = lib.func('const char *nn_version_string(void)')();
  } catch (e) {
    throw new Error(`libnn: ${libraryPath} is not libnn: ${e.message}`);
  }
  const major = Math.floor(number / 10000);
  if (major !== ABI_MAJOR) {
    throw new Error(`libnn: ${libraryPath} is libnn ${text} (major version ${major}), ` +
                    `but this Node.js package (libnn ${VERSION}) binds major version ` +
                    `${ABI_MAJOR}: install libnn ${ABI_MAJOR}.x, or the package made ` +
                    `for libnn ${major}`);
  }
}
checkVersion();

// ---------------------------------------------------------------------------
// Types and prototypes, from nn.h's tables
// ---------------------------------------------------------------------------

koffi.opaque('nn_model');
koffi.opaque('nn_data');
for (const e of H.enums) koffi.alias(e.cname, 'int');

// Pointers to one value that C writes: koffi must copy them back out.
const OUT_TYPES = new Set(['double *', 'size_t *', 'nn_model **', 'nn_data **']);
// koffi reads every other type of nn.h as C spells it (const uint8_t *,
// const int32_t *, size_t, ...); what passes a typed array to each is
// checked below (floats, dataInputs, labelsArray).
const C_TYPES = { unsigned: 'unsigned int' };

function koffiType(t) {
  return C_TYPES[t] || t;
}

function declaration(params) {
  if (params.length === 0) return 'void';
  return params.map(([t, n]) =>
    `${OUT_TYPES.has(t) ? '_Out_ ' : ''}${koffiType(t)}${t.endsWith('*') ? '' : ' '}${n}`)
    .join(', ');
}

for (const cb of H.callbacks) {
  const proto = koffi.proto(`${koffiType(cb.ret)} ${cb.name}_proto(${declaration(cb.params)})`);
  koffi.alias(cb.name, koffi.pointer(proto));
}

/** The C functions of the loaded libnn, declared to koffi from nn.h: as
 * unchecked as calling them from C. `missing` lists nn.h functions the
 * loaded library lacks (an older 0.x). */
const capi = { missing: {} };
const sinceOf = {};
for (const f of H.functions) {
  sinceOf[f.name] = f.since;
  const proto = `${koffiType(f.ret)} ${f.name}(${declaration(f.params)})`;
  try {
    capi[f.name] = lib.func(proto);
  } catch (e) {
    capi.missing[f.name] = f.since;
  }
}

function c(name) {
  const fn = capi[name];
  if (!fn) {
    throw new NNError(Status.E_STATE, `${name}: not in the loaded libnn ` +
                      `${capi.nn_version_string()} (${libraryPath}); it exists since ` +
                      `libnn ${sinceOf[name]}`);
  }
  return fn;
}

function has(name) {
  return typeof capi[name] === 'function';
}

function lastError() {
  return capi.nn_last_error() || '';
}

function check(status) {
  if (status !== 0) throw new NNError(status, lastError());
}

// ---------------------------------------------------------------------------
// Argument checks
// ---------------------------------------------------------------------------

const SIZE_MAX = (1n << 64n) - 1n;
const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;

function kind(v) {
  if (v === null) return 'null';
  if (ArrayBuffer.isView(v)) return v.constructor.name;
  return Array.isArray(v) ? 'Array' : typeof v;
}

/** A size_t or uint64_t: a safe non-negative integer, or a BigInt up to
 * 2**64 - 1. */
function size(fn, name, v) {
  if (typeof v === 'bigint') {
    if (v < 0n || v > SIZE_MAX) {
      throw new RangeError(`${fn}: ${name} is ${v}, outside [0, 2**64 - 1]`);
    }
    return v;
  }
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new TypeError(`${fn}: ${name} must be an integer, not ${kind(v)} ${String(v)}`);
  }
  if (v < 0 || !Number.isSafeInteger(v)) {
    throw new RangeError(`${fn}: ${name} is ${v}, outside [0, 2**53 - 1] (pass a ` +
                         'BigInt for larger values)');
  }
  return v;
}

/** An index into something of `count` items. */
function index(fn, name, v, count, what) {
  const i = size(fn, name, v);
  if (BigInt(i) >= BigInt(count)) {
    throw new RangeError(`${fn}: ${name} is ${i}, the model has ${count} ${what}`);
  }
  return Number(i);
}

function real(fn, name, v) {
  if (typeof v !== 'number') {
    throw new TypeError(`${fn}: ${name} must be a number, not ${kind(v)}`);
  }
  return v;
}

/** An enum argument: a value of cls (a number in a C int's range), or a
 * member's name in any case ('tanh'). */
function enumValue(fn, name, v, cls) {
  if (typeof v === 'string') {
    const value = enums[cls][v.toUpperCase()];
    if (value === undefined) {
      throw new RangeError(`${fn}: ${name} is '${v}', not one of ` +
                           `${Object.keys(enums[cls]).map((k) => k.toLowerCase()).join(', ')}`);
    }
    return value;
  }
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new TypeError(`${fn}: ${name} must be a ${cls} value or name, not ${kind(v)}`);
  }
  if (v < INT_MIN || v > INT_MAX) {
    throw new RangeError(`${fn}: ${name} is ${v}, outside the C enum's (int's) range`);
  }
  return v;
}

/** Floats libnn reads: a Float32Array as it is, or a plain array of
 * numbers (copied). Another typed array is refused: converting it would
 * hide a copy and, for integers, a change of meaning. */
function floats(fn, name, a) {
  if (a instanceof Float32Array) return a;
  if (Array.isArray(a) && a.every((v) => typeof v === 'number')) return Float32Array.from(a);
  throw new TypeError(`${fn}: ${name} must be a Float32Array (or an array of ` +
                      `numbers), not ${kind(a)}`);
}

/** Whether a dataset's inputs are bytes, which libnn reads as they are
 * (nn_data_create_u8): a Uint8Array (a Buffer is one) or a
 * Uint8ClampedArray (canvas pixels). */
function isBytes(a) {
  return a instanceof Uint8Array || a instanceof Uint8ClampedArray;
}

/** A dataset's inputs: bytes as they are, or floats as floats() takes
 * them. Another typed array is refused, as by floats(). */
function dataInputs(fn, name, a) {
  if (isBytes(a)) return a;
  if (a instanceof Float32Array || Array.isArray(a)) return floats(fn, name, a);
  throw new TypeError(`${fn}: ${name} must be a Float32Array (or an array of numbers), ` +
                      `or bytes (a Uint8Array or Buffer), not ${kind(a)}`);
}

function labelsArray(fn, name, a) {
  if (a instanceof Int32Array) return a;
  throw new TypeError(`${fn}: ${name} must be an Int32Array of class labels, not ${kind(a)}`);
}

function outFloats(fn, name, a, length) {
  if (!(a instanceof Float32Array)) {
    throw new TypeError(`${fn}: ${name} must be a Float32Array, not ${kind(a)}`);
  }
  if (a.length !== length) {
    throw new NNError(Status.E_SHAPE, `${fn}: ${name} has ${a.length} floats, ` +
                      `the result is ${length}`);
  }
  return a;
}

function rowsOf(fn, name, a, width, unit = 'floats') {
  if (width === 0 || a.length % width !== 0) {
    throw new NNError(Status.E_SHAPE, `${fn}: ${name} has ${a.length} ${unit}, not a ` +
                      `whole number of rows of ${width}`);
  }
  return a.length / width;
}

function overlap(a, b) {
  if (a.buffer !== b.buffer) return false;
  return a.byteOffset < b.byteOffset + b.byteLength &&
         b.byteOffset < a.byteOffset + a.byteLength;
}

function cString(fn, name, s) {
  if (typeof s !== 'string') {
    throw new TypeError(`${fn}: ${name} must be a string, not ${kind(s)}`);
  }
  if (s.includes('\0')) {
    throw new TypeError(`${fn}: ${name} contains a NUL character`);
  }
  return s;
}

function bytesOf(fn, data) {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  throw new TypeError(`${fn}: data must be a Buffer, a typed array, a DataView or ` +
                      `an ArrayBuffer, not ${kind(data)}`);
}

function num(v) {
  return typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

// ---------------------------------------------------------------------------
// Handles
// ---------------------------------------------------------------------------

// Handles of objects that were collected without close(): freed then.
const modelFinalizer = new FinalizationRegistry((h) => capi.nn_model_free(h));
const dataFinalizer = new FinalizationRegistry((h) => capi.nn_data_free(h));

/** A dataset (nn_data): a view of x (rows x xWidth floats, or bytes) and
 * either targets t (a Float32Array, rows x tWidth) or class labels (an
 * Int32Array of rows). Bytes (a Uint8Array, a Buffer, a Uint8ClampedArray)
 * stay bytes: libnn reads each as the float of the same value, 0 to 255,
 * and fit and evaluate give the same results, bit for bit, as on a
 * Float32Array of those values, from a quarter of the memory
 * (nn_data_create_u8; a libnn older than that gets a Float32Array copy).
 * libnn reads the arrays in place while the dataset exists; this object
 * keeps them alive. */
class Dataset {
  constructor(x, xWidth, t, tWidth) {
    const bytes = isBytes(x) && has('nn_data_create_u8');
    const [create, createLabels] = bytes
      ? ['nn_data_create_u8', 'nn_data_create_labels_u8']
      : ['nn_data_create', 'nn_data_create_labels'];
    let fn = create;
    let xa = x;
    if (!bytes) xa = isBytes(x) ? Float32Array.from(x) : dataInputs(fn, 'x', x);
    const xw = Number(size(fn, 'xWidth', xWidth));
    const n = rowsOf(fn, 'x', xa, xw, bytes ? 'bytes' : 'floats');
    // koffi passes an empty array as NULL: say what libnn says of n = 0
    if (n === 0) throw new NNError(Status.E_INVALID, `${fn}: n is 0`);
    const out = [null];
    if (t instanceof Int32Array) {
      fn = createLabels;
      if (t.length !== n) {
        throw new NNError(Status.E_SHAPE, `${fn}: x has ${n} rows, labels has ${t.length}`);
      }
      check(c(fn)(out, n, xa, xw, t));
      this.labels = true;
      this.tWidth = 0;
    } else {
      const ta = floats(fn, 't', t);
      const tw = Number(size(fn, 'tWidth', tWidth));
      const tn = rowsOf(fn, 't', ta, tw);
      if (tn !== n) {
        throw new NNError(Status.E_SHAPE, `${fn}: x has ${n} rows, t has ${tn}`);
      }
      check(c(fn)(out, n, xa, xw, ta, tw));
      this.labels = false;
      this.tWidth = tw;
      t = ta;
    }
    this._h = out[0];
    this._users = 0;
    this.x = xa;
    this.t = t;
    this.xWidth = xw;
    dataFinalizer.register(this, this._h, this);
  }

  _handle(fn) {
    if (this._h === null) throw new NNError(Status.E_NULL, `${fn}: the dataset is closed`);
    return this._h;
  }

  /** Rows in the dataset (nn_data_rows). */
  get rows() {
    return num(c('nn_data_rows')(this._handle('nn_data_rows')));
  }

  get closed() {
    return this._h === null;
  }

  /** Frees the nn_data (not the arrays); later use throws NNError. */
  close() {
    if (this._h === null) return;
    if (this._users > 0) {
      throw new NNError(Status.E_STATE, 'nn_data_free: the dataset is in use by a fit');
    }
    const h = this._h;
    this._h = null;
    dataFinalizer.unregister(this);
    c('nn_data_free')(h);
  }

  toString() {
    if (this.closed) return 'Dataset (closed)';
    return `Dataset ${this.rows} rows, x width ${this.xWidth}` +
           `${isBytes(this.x) ? ' (uint8)' : ''}, ` +
           (this.labels ? 'labels' : `t width ${this.tWidth}`);
  }
}

function dataHandle(fn, name, d) {
  if (!(d instanceof Dataset)) {
    throw new TypeError(`${fn}: ${name} must be a Dataset, not ${kind(d)}`);
  }
  return d._handle(fn);
}

/** A feed-forward network (nn_model). */
class Model {
  constructor(inputWidth, seed = 0) {
    if (inputWidth === ADOPT) {
      this._adopt(seed);
      return;
    }
    const fn = 'nn_model_create';
    const out = [null];
    check(c(fn)(out, size(fn, 'inputWidth', inputWidth), size(fn, 'seed', seed)));
    this._adopt(out[0]);
  }

  _adopt(h) {
    this._h = h;
    this._fitting = false;
    modelFinalizer.register(this, h, this);
  }

  /** A new model from the model file at path (nn_model_load). */
  static load(filePath) {
    const fn = 'nn_model_load';
    const out = [null];
    check(c(fn)(out, cString(fn, 'path', filePath)));
    return new Model(ADOPT, out[0]);
  }

  /** A new model from a model file's bytes (nn_model_load_buffer). */
  static fromBuffer(data) {
    const fn = 'nn_model_load_buffer';
    const bytes = bytesOf(fn, data);
    const out = [null];
    check(c(fn)(out, bytes.length ? bytes : new Uint8Array(1), bytes.length));
    return new Model(ADOPT, out[0]);
  }

  // Reading calls (a const nn_model *): allowed in fit's callbacks.
  _r(fn) {
    if (this._h === null) throw new NNError(Status.E_NULL, `${fn}: the model is closed`);
    return this._h;
  }

  // Changing calls: not while the model is being fitted.
  _w(fn) {
    const h = this._r(fn);
    if (this._fitting) {
      throw new NNError(Status.E_STATE, `${fn}: the model is being fitted; a callback ` +
                        'of fit may only read it (predict, evaluate, getWeights, save, ...)');
    }
    return h;
  }

  get closed() {
    return this._h === null;
  }

  /** Frees the model (nn_model_free); later use throws NNError. */
  close() {
    if (this._h === null) return;
    const h = this._w('nn_model_free');
    this._h = null;
    modelFinalizer.unregister(this);
    c('nn_model_free')(h);
  }

  // ---- building ----
  addDense(width, activation) {
    const fn = 'nn_model_add_dense';
    check(c(fn)(this._w(fn), size(fn, 'width', width),
                enumValue(fn, 'activation', activation, 'Activation')));
    return this;
  }

  addDropout(rate) {
    const fn = 'nn_model_add_dropout';
    check(c(fn)(this._w(fn), real(fn, 'rate', rate)));
    return this;
  }

  addBatchnorm() {
    const fn = 'nn_model_add_batchnorm';
    check(c(fn)(this._w(fn)));
    return this;
  }

  addLayernorm() {
    const fn = 'nn_model_add_layernorm';
    check(c(fn)(this._w(fn)));
    return this;
  }

  addActivation(activation) {
    const fn = 'nn_model_add_activation';
    check(c(fn)(this._w(fn), enumValue(fn, 'activation', activation, 'Activation')));
    return this;
  }

  addScaling(scale, shift) {
    const fn = 'nn_model_add_scaling';
    const s = floats(fn, 'scale', scale);
    const b = floats(fn, 'shift', shift);
    if (s.length !== b.length) {
      throw new NNError(Status.E_SHAPE, `${fn}: scale has ${s.length} values, shift ${b.length}`);
    }
    check(c(fn)(this._w(fn), s, b, s.length));
    return this;
  }

  setLoss(loss) {
    const fn = 'nn_model_set_loss';
    check(c(fn)(this._w(fn), enumValue(fn, 'loss', loss, 'Loss')));
    return this;
  }

  /** The loss (null until one is set). */
  get loss() {
    const v = c('nn_model_loss')(this._r('nn_model_loss'));
    return v === 0 ? null : v;
  }

  get inputWidth() {
    return num(c('nn_model_input_width')(this._r('nn_model_input_width')));
  }

  get outputWidth() {
    return num(c('nn_model_output_width')(this._r('nn_model_output_width')));
  }

  get layerCount() {
    return num(c('nn_model_layer_count')(this._r('nn_model_layer_count')));
  }

  _layer(fn, layer) {
    const h = this._r(fn);
    return [h, index(fn, 'layer', layer, this.layerCount, 'layers')];
  }

  layerWidth(layer) {
    const fn = 'nn_model_layer_width';
    const [h, i] = this._layer(fn, layer);
    return num(c(fn)(h, i));
  }

  layerKind(layer) {
    const fn = 'nn_model_layer_kind';
    const [h, i] = this._layer(fn, layer);
    return has(fn) ? c(fn)(h, i) : enums.LayerKind.DENSE;
  }

  /** The activation of a dense or activation layer, else null. */
  layerActivation(layer) {
    const fn = 'nn_model_layer_activation';
    const [h, i] = this._layer(fn, layer);
    const v = c(fn)(h, i);
    return v === 0 ? null : v;
  }

  /** {weights, bias, buffers}: the floats of each that a layer holds. */
  layerCounts(layer) {
    const fn = 'nn_model_layer_weight_count';
    const [h, i] = this._layer(fn, layer);
    if (!has(fn)) {  // a 0.1 libnn: dense layers only
      const fanIn = i === 0 ? this.inputWidth : this.layerWidth(i - 1);
      const out = this.layerWidth(i);
      return { weights: fanIn * out, bias: out, buffers: 0 };
    }
    return {
      weights: num(c(fn)(h, i)),
      bias: num(c('nn_model_layer_bias_count')(h, i)),
      buffers: num(c('nn_model_layer_buffer_count')(h, i)),
    };
  }

  /** Every layer's kind, width and activation. */
  get layers() {
    const out = [];
    for (let i = 0; i < this.layerCount; i++) {
      out.push({
        kind: this.layerKind(i),
        width: this.layerWidth(i),
        activation: has('nn_model_layer_activation') ? this.layerActivation(i) : null,
      });
    }
    return out;
  }

  // ---- settings ----
  setParam(key, value) {
    const fn = 'nn_model_set_param';
    check(c(fn)(this._w(fn), enumValue(fn, 'key', key, 'Param'), real(fn, 'value', value)));
    return this;
  }

  getParam(key) {
    const fn = 'nn_model_get_param';
    const v = [0];
    check(c(fn)(this._r(fn), enumValue(fn, 'key', key, 'Param'), v));
    return v[0];
  }

  setLayerParam(layer, key, value) {
    const fn = 'nn_model_set_layer_param';
    check(c(fn)(this._w(fn), size(fn, 'layer', layer),
                enumValue(fn, 'key', key, 'LayerParam'), real(fn, 'value', value)));
    return this;
  }

  getLayerParam(layer, key) {
    const fn = 'nn_model_get_layer_param';
    const v = [0];
    check(c(fn)(this._r(fn), size(fn, 'layer', layer),
                enumValue(fn, 'key', key, 'LayerParam'), v));
    return v[0];
  }

  /** Class weights, one per class; null or an empty array removes them. */
  setClassWeights(weights) {
    const fn = 'nn_model_set_class_weights';
    const w = weights === null ? new Float32Array(0) : floats(fn, 'weights', weights);
    check(c(fn)(this._w(fn), w.length ? w : null, w.length));
    return this;
  }

  classWeights() {
    const fn = 'nn_model_get_class_weights';
    const h = this._r(fn);
    const n = num(c('nn_model_class_weight_count')(h));
    const w = new Float32Array(n);
    check(c(fn)(h, n ? w : null, n));
    return w;
  }

  /** Sets a metadata entry; null removes it. */
  setMeta(key, value) {
    const fn = 'nn_model_set_meta';
    check(c(fn)(this._w(fn), cString(fn, 'key', key),
                value === null ? null : cString(fn, 'value', value)));
    return this;
  }

  /** A metadata value, or null. */
  getMeta(key) {
    const fn = 'nn_model_get_meta';
    return c(fn)(this._r(fn), cString(fn, 'key', key));
  }

  /** A copy of all metadata, in the order the keys were first set. */
  get meta() {
    const fn = 'nn_model_meta_count';
    const h = this._r(fn);
    const out = {};
    const n = num(c(fn)(h));
    for (let i = 0; i < n; i++) {
      const k = c('nn_model_meta_key')(h, i);
      out[k] = c('nn_model_get_meta')(h, k);
    }
    return out;
  }

  // ---- optimizers ----
  setOptimizer(kind_) {
    const fn = 'nn_model_set_optimizer';
    check(c(fn)(this._w(fn), enumValue(fn, 'kind', kind_, 'Optimizer')));
    return this;
  }

  setSchedule(kind_) {
    const fn = 'nn_model_set_schedule';
    check(c(fn)(this._w(fn), enumValue(fn, 'kind', kind_, 'Schedule')));
    return this;
  }

  get optimizer() {
    return c('nn_model_optimizer')(this._r('nn_model_optimizer'));
  }

  get schedule() {
    return c('nn_model_schedule')(this._r('nn_model_schedule'));
  }

  /** Updates since the optimizer was chosen (a BigInt beyond 2**53). */
  get stepCount() {
    return num(c('nn_model_step_count')(this._r('nn_model_step_count')));
  }

  get currentLr() {
    const fn = 'nn_model_current_lr';
    const v = [0];
    check(c(fn)(this._r(fn), v));
    return v[0];
  }

  // ---- work ----
  /** Predictions for x (rows x inputWidth floats), in inference mode, into
   * out (a Float32Array of rows x outputWidth) or a new Float32Array. */
  predict(x, out) {
    const fn = 'nn_model_predict';
    const h = this._r(fn);
    const xa = floats(fn, 'x', x);
    const n = rowsOf(fn, 'x', xa, this.inputWidth);
    const k = this.outputWidth;
    const y = out === undefined ? new Float32Array(n * k) : outFloats(fn, 'out', out, n * k);
    if (overlap(xa, y)) {
      throw new NNError(Status.E_INVALID, `${fn}: out overlaps x; libnn needs them apart`);
    }
    check(c(fn)(h, n, xa, this.inputWidth, y, k));
    return y;
  }

  _step(fn, x, t) {
    const h = this._w(fn);
    const xa = floats(fn, 'x', x);
    const n = rowsOf(fn, 'x', xa, this.inputWidth);
    const loss = [0];
    if (t instanceof Int32Array) {
      fn += '_labels';
      if (t.length !== n) {
        throw new NNError(Status.E_SHAPE, `${fn}: x has ${n} rows, labels has ${t.length}`);
      }
      check(c(fn)(h, n, xa, this.inputWidth, t, loss));
    } else {
      const ta = floats(fn, 't', t);
      const k = this.outputWidth;
      const tn = rowsOf(fn, 't', ta, k);
      if (tn !== n) throw new NNError(Status.E_SHAPE, `${fn}: x has ${n} rows, t has ${tn}`);
      check(c(fn)(h, n, xa, this.inputWidth, ta, k, loss));
    }
    return loss[0];
  }

  /** One training step; t: targets (a Float32Array of rows x outputWidth)
   * or class labels (an Int32Array of rows). Returns the batch loss. */
  trainBatch(x, t) {
    return this._step('nn_model_train_batch', x, t);
  }

  computeGrads(x, t) {
    return this._step('nn_model_compute_grads', x, t);
  }

  applyGrads() {
    const fn = 'nn_model_apply_grads';
    check(c(fn)(this._w(fn)));
    return this;
  }

  _fit(fn, train, options = {}) {
    const h = this._w(fn);
    const { val = null, onEpoch = null, onBatch = null } = options;
    const th = dataHandle(fn, 'train', train);
    const vh = val === null ? null : dataHandle(fn, 'val', val);
    for (const [name, f] of [['onEpoch', onEpoch], ['onBatch', onBatch]]) {
      if (f !== null && typeof f !== 'function') {
        throw new TypeError(`${fn}: ${name} must be a function, not ${kind(f)}`);
      }
    }
    let error = null;
    let failed = false;
    const guard = (f) => (...args) => {
      if (failed) return -1;
      try {
        const r = f(...args);
        if (typeof r === 'number' && r < 0) return -1;
        return r ? 1 : 0;
      } catch (e) {
        failed = true;
        error = e;
        return -1;
      }
    };
    const epochFn = onEpoch && guard((user, epoch, trainLoss, valLoss, valAcc, seconds) =>
      onEpoch({ epoch: num(epoch), trainLoss, valLoss, valAccuracy: valAcc, seconds }));
    const batchFn = onBatch && guard((user, epoch, batch, batches, loss) =>
      onBatch({ epoch: num(epoch), batch: num(batch), batches: num(batches), loss }));
    this._fitting = true;
    train._users++;
    if (val !== null) val._users++;
    let status;
    try {
      status = c(fn)(h, th, vh, epochFn, batchFn, null);
    } finally {
      this._fitting = false;
      train._users--;
      if (val !== null) val._users--;
    }
    if (failed) throw error;
    check(status);
    return this;
  }

  /** Trains on a Dataset for the EPOCHS setting's epochs. options: val (a
   * Dataset), onEpoch({epoch, trainLoss, valLoss, valAccuracy, seconds}),
   * onBatch({epoch, batch, batches, loss}). A callback returning true stops
   * the fit, a negative number interrupts it (fitResume continues), and an
   * exception thrown in one stops it and is thrown from fit. Callbacks may
   * read the model; changing it throws NNError. */
  fit(train, options) {
    return this._fit('nn_model_fit', train, options);
  }

  /** Continues an interrupted fit (nn_model_fit_resume). */
  fitResume(train, options) {
    return this._fit('nn_model_fit_resume', train, options);
  }

  /** {loss, accuracy} on a Dataset; accuracy is NaN where undefined. */
  evaluate(data) {
    const fn = 'nn_model_evaluate';
    const loss = [0];
    const acc = [0];
    check(c(fn)(this._r(fn), dataHandle(fn, 'data', data), loss, acc));
    return { loss: loss[0], accuracy: acc[0] };
  }

  // ---- parameters ----
  _get(fn, layer, which) {
    const [h, i] = this._layer(fn, layer);
    const n = this.layerCounts(i)[which];
    const a = new Float32Array(n);
    check(c(fn)(h, i, n ? a : null, n));
    return a;
  }

  _set(fn, layer, which, values) {
    const [, i] = this._layer(fn, layer);
    const a = floats(fn, 'values', values);
    const n = this.layerCounts(i)[which];
    if (a.length !== n) {
      throw new NNError(Status.E_SHAPE, `${fn}: ${a.length} values, layer ${i} has ${n}`);
    }
    check(c(fn)(this._w(fn), i, n ? a : null, n));
    return this;
  }

  /** A copy of a layer's weights (in x out, row-major, for a dense layer). */
  getWeights(layer) {
    return this._get('nn_model_get_weights', layer, 'weights');
  }

  setWeights(layer, w) {
    return this._set('nn_model_set_weights', layer, 'weights', w);
  }

  getBias(layer) {
    return this._get('nn_model_get_bias', layer, 'bias');
  }

  setBias(layer, b) {
    return this._set('nn_model_set_bias', layer, 'bias', b);
  }

  getLayerBuffers(layer) {
    return this._get('nn_model_get_layer_buffers', layer, 'buffers');
  }

  setLayerBuffers(layer, values) {
    return this._set('nn_model_set_layer_buffers', layer, 'buffers', values);
  }

  /** {dw, db}: copies of a layer's gradients. */
  layerGrads(layer) {
    const fn = 'nn_model_get_layer_grads';
    const [h, i] = this._layer(fn, layer);
    const n = this.layerCounts(i);
    const dw = new Float32Array(n.weights);
    const db = new Float32Array(n.bias);
    check(c(fn)(h, i, n.weights ? dw : null, n.weights, n.bias ? db : null, n.bias));
    return { dw, db };
  }

  _flat(fn) {
    const count = [0];
    const p = c(fn)(this._w(fn), count);
    return [p, num(count[0])];
  }

  /** A copy of the flat parameter buffer (nn_model_params). */
  params() {
    const [p, n] = this._flat('nn_model_params');
    return n ? koffi.decode(p, 'float', n) : new Float32Array(0);
  }

  /** Writes the whole flat parameter buffer (nn_model_params). */
  setParams(values) {
    const fn = 'nn_model_params';
    const a = floats(fn, 'values', values);
    const [p, n] = this._flat(fn);
    if (a.length !== n) {
      throw new NNError(Status.E_SHAPE, `${fn}: ${a.length} values, the model has ${n}`);
    }
    if (n) koffi.encode(p, 'float', a, n);
    return this;
  }

  /** A copy of the flat gradient buffer (nn_model_grads). */
  grads() {
    const [p, n] = this._flat('nn_model_grads');
    return n ? koffi.decode(p, 'float', n) : new Float32Array(0);
  }

  // ---- model files ----
  saveSize(what = 'model') {
    const fn = 'nn_model_save_size';
    const n = [0];
    check(c(fn)(this._r(fn), enumValue(fn, 'what', what, 'SaveWhat'), n));
    return num(n[0]);
  }

  /** The model file's bytes (nn_model_save_buffer), as a Buffer (a Uint8Array). */
  toBuffer(what = 'model') {
    const fn = 'nn_model_save_buffer';
    const h = this._r(fn);
    const w = enumValue(fn, 'what', what, 'SaveWhat');
    const size_ = this.saveSize(w);
    const buf = Buffer.alloc(Math.max(size_, 1));
    const written = [0];
    check(c(fn)(h, w, buf, size_, written));
    return buf.subarray(0, num(written[0]));
  }

  save(filePath, what = 'model') {
    const fn = 'nn_model_save';
    check(c(fn)(this._r(fn), cString(fn, 'path', filePath),
                enumValue(fn, 'what', what, 'SaveWhat')));
    return this;
  }

  // ---- ONNX and C source (docs/INTEROP.md) ----
  /** A new model from the ONNX file at path (nn_model_import_onnx): one
   * that exportOnnx wrote, or one that torch.onnx.export wrote for a
   * torch.nn.Sequential. It has no loss and SGD as optimizer. Throws
   * NNError: E_FORMAT for a graph libnn does not import (the message names
   * the node and its operator), E_IO for a file that cannot be read,
   * E_STATE when the loaded libnn was built without the ONNX reader. */
  static importOnnx(filePath) {
    const fn = 'nn_model_import_onnx';
    const out = [null];
    check(c(fn)(out, cString(fn, 'path', filePath)));
    return new Model(ADOPT, out[0]);
  }

  /** A new model from an ONNX file's bytes (nn_model_import_onnx_buffer);
   * errors as importOnnx. */
  static fromOnnx(data) {
    const fn = 'nn_model_import_onnx_buffer';
    if (typeof data === 'string') {
      throw new TypeError(`${fn}: data must be the bytes of an ONNX file, not a ` +
                          'string; Model.importOnnx(path) reads a file');
    }
    const bytes = bytesOf(fn, data);
    const out = [null];
    check(c(fn)(out, bytes.length ? bytes : new Uint8Array(1), bytes.length));
    return new Model(ADOPT, out[0]);
  }

  /** Writes the model as an ONNX file at path, atomically
   * (nn_model_export_onnx). */
  exportOnnx(filePath) {
    const fn = 'nn_model_export_onnx';
    check(c(fn)(this._r(fn), cString(fn, 'path', filePath)));
    return this;
  }

  /** The bytes of the ONNX file exportOnnx writes, as a Buffer
   * (nn_model_export_onnx_buffer). */
  toOnnx() {
    const fn = 'nn_model_export_onnx_buffer';
    const h = this._r(fn);
    // No room: libnn answers NN_E_SHAPE with the size it needs.
    const need = [0];
    const status = c(fn)(h, null, 0, need);
    if (status !== Status.E_SHAPE) check(status);
    const n = num(need[0]);
    const buf = Buffer.alloc(Math.max(n, 1));
    const written = [0];
    check(c(fn)(h, buf, n, written));
    return buf.subarray(0, num(written[0]));
  }

  /** Writes the model as one C99 header at path, atomically: its weights
   * and `${prefix}_predict`, which computes one row as predict does, with
   * no libnn (nn_model_export_c). prefix: 1 to 63 ASCII letters, digits
   * and '_', starting with a letter. */
  exportC(filePath, prefix) {
    const fn = 'nn_model_export_c';
    check(c(fn)(this._r(fn), cString(fn, 'path', filePath), cString(fn, 'prefix', prefix)));
    return this;
  }

  /** An independent copy, through a checkpoint in memory. */
  clone() {
    return Model.fromBuffer(this.toBuffer('checkpoint'));
  }

  toString() {
    if (this.closed) return 'Model (closed)';
    const parts = [String(this.inputWidth)];
    for (const l of this.layers) {
      const k = nameOf('LayerKind', l.kind);
      const a = l.activation === null ? '' : nameOf('Activation', l.activation);
      parts.push(k === 'dense' ? `${l.width} ${a}`.trim() : `${k} ${a}`.trim());
    }
    const extra = [];
    if (has('nn_model_loss') && this.loss !== null) extra.push(`loss ${nameOf('Loss', this.loss)}`);
    extra.push(`${this.stepCount} steps`);
    return `Model ${parts.join(' -> ')}; ${extra.join(', ')}`;
  }

  [Symbol.for('nodejs.util.inspect.custom')]() {
    return this.toString();
  }
}

const ADOPT = Symbol('adopt');

// ---------------------------------------------------------------------------
// Functions
// ---------------------------------------------------------------------------

const NAME_FUNCTIONS = {};  // enum class -> nn_<x>_name
for (const f of H.functions) {
  const m = /^nn_(\w+)_name$/.exec(f.name);
  if (m && f.params.length === 1) NAME_FUNCTIONS[enumOfC[f.params[0][0]]] = f.name;
}

/** libnn's name of a value of an enum class ('Activation', 3) -> 'tanh'. */
function nameOf(cls, value) {
  const fn = NAME_FUNCTIONS[cls];
  if (fn && has(fn)) {
    const s = capi[fn](enumValue(fn, 'value', value, cls));
    if (s !== null) return s;
  }
  const member = (enumNames[cls] || {})[value];
  return member === undefined ? String(value) : member.toLowerCase();
}

function bounds(fn, key, cls) {
  const lo = [0];
  const hi = [0];
  const def = [0];
  check(c(fn)(enumValue(fn, 'key', key, cls), lo, hi, def));
  return { lo: lo[0], hi: hi[0], def: def[0] };
}

/** nn.h functions each export calls, checked by the tests: a function
 * added to nn.h must be wrapped and listed here, or listed in RAW_ONLY. */
const WRAPPED = {
  nn_version_number: 'libraryVersionNumber', nn_version_string: 'libraryVersion',
  nn_status_string: 'statusString', nn_last_error: 'lastError',
  nn_model_create: 'Model', nn_model_free: 'Model.close',
  nn_model_add_dense: 'Model.addDense', nn_model_add_dropout: 'Model.addDropout',
  nn_model_add_batchnorm: 'Model.addBatchnorm', nn_model_add_layernorm: 'Model.addLayernorm',
  nn_model_add_activation: 'Model.addActivation', nn_model_add_scaling: 'Model.addScaling',
  nn_model_set_loss: 'Model.setLoss', nn_model_loss: 'Model.loss',
  nn_model_input_width: 'Model.inputWidth', nn_model_output_width: 'Model.outputWidth',
  nn_model_layer_count: 'Model.layerCount', nn_model_layer_width: 'Model.layerWidth',
  nn_model_layer_kind: 'Model.layerKind', nn_model_layer_activation: 'Model.layerActivation',
  nn_model_layer_weight_count: 'Model.layerCounts', nn_model_layer_bias_count: 'Model.layerCounts',
  nn_model_layer_buffer_count: 'Model.layerCounts',
  nn_model_set_param: 'Model.setParam', nn_model_get_param: 'Model.getParam',
  nn_param_bounds: 'paramBounds', nn_model_set_layer_param: 'Model.setLayerParam',
  nn_model_get_layer_param: 'Model.getLayerParam', nn_layer_param_bounds: 'layerParamBounds',
  nn_model_set_class_weights: 'Model.setClassWeights',
  nn_model_class_weight_count: 'Model.classWeights',
  nn_model_get_class_weights: 'Model.classWeights',
  nn_model_set_meta: 'Model.setMeta', nn_model_get_meta: 'Model.getMeta',
  nn_model_meta_count: 'Model.meta', nn_model_meta_key: 'Model.meta',
  nn_model_predict: 'Model.predict', nn_model_train_batch: 'Model.trainBatch',
  nn_model_train_batch_labels: 'Model.trainBatch',
  nn_model_compute_grads: 'Model.computeGrads',
  nn_model_compute_grads_labels: 'Model.computeGrads',
  nn_model_apply_grads: 'Model.applyGrads', nn_model_set_optimizer: 'Model.setOptimizer',
  nn_model_set_schedule: 'Model.setSchedule', nn_model_optimizer: 'Model.optimizer',
  nn_model_schedule: 'Model.schedule', nn_model_step_count: 'Model.stepCount',
  nn_model_current_lr: 'Model.currentLr',
  nn_data_create: 'Dataset', nn_data_create_labels: 'Dataset',
  nn_data_create_u8: 'Dataset', nn_data_create_labels_u8: 'Dataset', nn_data_free: 'Dataset.close',
  nn_data_rows: 'Dataset.rows', nn_model_fit: 'Model.fit', nn_model_fit_resume: 'Model.fitResume',
  nn_model_evaluate: 'Model.evaluate', nn_set_blas_threads: 'setBlasThreads',
  nn_model_save_size: 'Model.saveSize', nn_model_save_buffer: 'Model.toBuffer',
  nn_model_save: 'Model.save', nn_model_load: 'Model.load',
  nn_model_load_buffer: 'Model.fromBuffer', nn_model_get_weights: 'Model.getWeights',
  nn_model_set_weights: 'Model.setWeights', nn_model_get_bias: 'Model.getBias',
  nn_model_set_bias: 'Model.setBias', nn_model_get_layer_grads: 'Model.layerGrads',
  nn_model_get_layer_buffers: 'Model.getLayerBuffers',
  nn_model_set_layer_buffers: 'Model.setLayerBuffers',
  nn_model_params: 'Model.params', nn_model_grads: 'Model.grads',
  nn_model_import_onnx: 'Model.importOnnx', nn_model_import_onnx_buffer: 'Model.fromOnnx',
  nn_model_export_onnx: 'Model.exportOnnx', nn_model_export_onnx_buffer: 'Model.toOnnx',
  nn_model_export_c: 'Model.exportC',
};
for (const fn of Object.values(NAME_FUNCTIONS)) WRAPPED[fn] = 'nameOf';

const RAW_ONLY = {
  nn_set_allocator: 'an allocator in JS, called from C while libnn holds its blocks, ' +
                    'gains nothing over malloc and cannot outlive the process\'s JS heap',
  nn_model_set_reducer: 'data-parallel training: the reducer is a C callback that sums ' +
                        'buffers across processes in the middle of every step; libnn_mpi ' +
                        'provides it in C',
  nn_model_set_batch_part: 'meaningful only with a reducer (see nn_model_set_reducer)',
  nn_model_set_replica: 'takes a C callback that sums gradients across processes; ' +
                        'see nn_model_set_reducer',
  nn_model_set_grads_ready: 'a C callback inside every step, for overlapping communication ' +
                            'with the backward pass; see nn_model_set_reducer',
};

module.exports = {
  ABI_MAJOR,
  version: VERSION,
  libraryPath,
  libraryVersion: () => capi.nn_version_string(),
  libraryVersionNumber: () => capi.nn_version_number(),
  statusString: (status) => capi.nn_status_string(enumValue('nn_status_string', 'status',
                                                            status, 'Status')),
  lastError,
  paramBounds: (key) => bounds('nn_param_bounds', key, 'Param'),
  layerParamBounds: (key) => bounds('nn_layer_param_bounds', key, 'LayerParam'),
  setBlasThreads: (threads) => {
    const fn = 'nn_set_blas_threads';
    check(c(fn)(size(fn, 'threads', threads)));
  },
  nameOf,
  NNError,
  Model,
  Dataset,
  capi,
  WRAPPED,
  RAW_ONLY,
  ...enums,
};
