// SPDX-License-Identifier: MIT
// TypeScript declarations of the libnn package (index.js). The enums and the
// version come from lib/nn_h.d.ts, generated from include/nn.h.

import {
  Activation, ActivationName, Init, InitName, LayerKind, LayerKindName, LayerParam,
  LayerParamName, Loss, LossName, Optimizer, OptimizerName, Param, ParamName,
  SaveWhat, SaveWhatName, Schedule, ScheduleName, Status, StatusName, FunctionName,
} from './lib/nn_h';

export {
  Activation, ActivationName, Init, InitName, LayerKind, LayerKindName, LayerParam,
  LayerParamName, Loss, LossName, Optimizer, OptimizerName, Param, ParamName,
  SaveWhat, SaveWhatName, Schedule, ScheduleName, Status, StatusName, FunctionName,
};

/** The major version of libnn this package binds (libnn.so.<ABI_MAJOR>). */
export declare const ABI_MAJOR: number;
/** This package's version: that of the nn.h it was generated from. */
export declare const version: string;
/** The path or name the C library was loaded from. */
export declare const libraryPath: string;
/** The loaded library's version, "MAJOR.MINOR.PATCH" (nn_version_string). */
export declare function libraryVersion(): string;
/** MAJOR * 10000 + MINOR * 100 + PATCH (nn_version_number). */
export declare function libraryVersionNumber(): number;
/** A short description of a status (nn_status_string). */
export declare function statusString(status: Status | StatusName): string;
/** The calling thread's last failure message (nn_last_error). */
export declare function lastError(): string;

export interface Bounds {
  lo: number;
  hi: number;
  def: number;
}
/** Bounds and default of a setting (nn_param_bounds). */
export declare function paramBounds(key: Param | ParamName): Bounds;
/** Bounds and default of a layer setting (nn_layer_param_bounds). */
export declare function layerParamBounds(key: LayerParam | LayerParamName): Bounds;
/** BLAS threads, process wide; 0 = one per core (nn_set_blas_threads). */
export declare function setBlasThreads(threads: number | bigint): void;

export type EnumClass =
  'Activation' | 'Init' | 'LayerKind' | 'LayerParam' | 'Loss' | 'Optimizer' | 'Param' |
  'SaveWhat' | 'Schedule' | 'Status';
/** libnn's name of an enum value: nameOf('Activation', 3) is 'tanh'
 * (nn_activation_name and the other nn_*_name functions). */
export declare function nameOf(cls: EnumClass, value: number): string;

/** A libnn call failed, or an argument was refused before the call. */
export declare class NNError extends Error {
  /** The nn_status. */
  readonly status: Status | number;
  /** Its name in Status ('E_SHAPE'). */
  readonly statusName: string;
  /** The libnn function the message names. */
  readonly function: string;
}

export type Floats = Float32Array | number[];
/** A dataset's inputs as bytes (a Buffer is a Uint8Array), each read as the
 * float of the same value, 0 to 255. */
export type Bytes = Uint8Array | Uint8ClampedArray;
type Size = number | bigint;

/** A dataset (nn_data): a view of x and either targets or class labels,
 * which libnn reads in place while the dataset exists. x is rows x xWidth
 * floats, or bytes (Bytes), which stay bytes: fit and evaluate give the
 * same results, bit for bit, as on a Float32Array of the same values, from
 * a quarter of the memory (nn_data_create_u8, nn_data_create_labels_u8). */
export declare class Dataset {
  /** Targets t: rows x tWidth floats. */
  constructor(x: Floats | Bytes, xWidth: Size, t: Floats, tWidth: Size);
  /** Class labels: one Int32Array entry per row. */
  constructor(x: Floats | Bytes, xWidth: Size, labels: Int32Array);
  /** The Float32Array or the bytes libnn reads (the caller's own when it
   * passed a Float32Array or bytes). */
  readonly x: Float32Array | Bytes;
  readonly t: Float32Array | Int32Array;
  readonly xWidth: number;
  readonly tWidth: number;
  readonly labels: boolean;
  readonly rows: number;
  readonly closed: boolean;
  close(): void;
}

export interface EpochInfo {
  epoch: number;
  trainLoss: number;
  valLoss: number;
  valAccuracy: number;
  seconds: number;
}
export interface BatchInfo {
  epoch: number;
  batch: number;
  batches: number;
  loss: number;
}
/** Return nothing (or a false value) to go on, true to stop, a negative
 * number to interrupt (fitResume continues). */
export type FitCallbackResult = void | boolean | number | undefined;
export interface FitOptions {
  val?: Dataset | null;
  onEpoch?: ((info: EpochInfo) => FitCallbackResult) | null;
  onBatch?: ((info: BatchInfo) => FitCallbackResult) | null;
}

export interface Layer {
  kind: LayerKind | number;
  width: number;
  activation: Activation | number | null;
}
export interface LayerCounts {
  weights: number;
  bias: number;
  buffers: number;
}

/** A feed-forward network (nn_model). Methods that return nothing else
 * return the model, for chaining. */
export declare class Model {
  constructor(inputWidth: Size, seed?: Size);
  static load(path: string): Model;
  static fromBuffer(data: ArrayBufferView | ArrayBuffer): Model;
  readonly closed: boolean;
  close(): void;

  addDense(width: Size, activation: Activation | ActivationName): this;
  addDropout(rate: number): this;
  addBatchnorm(): this;
  addLayernorm(): this;
  addActivation(activation: Activation | ActivationName): this;
  addScaling(scale: Floats, shift: Floats): this;
  setLoss(loss: Loss | LossName): this;
  readonly loss: Loss | number | null;
  readonly inputWidth: number;
  readonly outputWidth: number;
  readonly layerCount: number;
  layerWidth(layer: Size): number;
  layerKind(layer: Size): LayerKind | number;
  layerActivation(layer: Size): Activation | number | null;
  layerCounts(layer: Size): LayerCounts;
  readonly layers: Layer[];

  setParam(key: Param | ParamName, value: number): this;
  getParam(key: Param | ParamName): number;
  setLayerParam(layer: Size, key: LayerParam | LayerParamName, value: number): this;
  getLayerParam(layer: Size, key: LayerParam | LayerParamName): number;
  setClassWeights(weights: Floats | null): this;
  classWeights(): Float32Array;
  setMeta(key: string, value: string | null): this;
  getMeta(key: string): string | null;
  readonly meta: Record<string, string>;

  setOptimizer(kind: Optimizer | OptimizerName): this;
  setSchedule(kind: Schedule | ScheduleName): this;
  readonly optimizer: Optimizer | number;
  readonly schedule: Schedule | number;
  readonly stepCount: number | bigint;
  readonly currentLr: number;

  /** rows x outputWidth predictions for x (rows x inputWidth). */
  predict(x: Floats, out?: Float32Array): Float32Array;
  /** One step on targets (Float32Array) or class labels (Int32Array). */
  trainBatch(x: Floats, t: Floats | Int32Array): number;
  computeGrads(x: Floats, t: Floats | Int32Array): number;
  applyGrads(): this;
  fit(train: Dataset, options?: FitOptions): this;
  fitResume(train: Dataset, options?: FitOptions): this;
  evaluate(data: Dataset): { loss: number; accuracy: number };

  getWeights(layer: Size): Float32Array;
  setWeights(layer: Size, w: Floats): this;
  getBias(layer: Size): Float32Array;
  setBias(layer: Size, b: Floats): this;
  getLayerBuffers(layer: Size): Float32Array;
  setLayerBuffers(layer: Size, values: Floats): this;
  layerGrads(layer: Size): { dw: Float32Array; db: Float32Array };
  params(): Float32Array;
  setParams(values: Floats): this;
  grads(): Float32Array;

  saveSize(what?: SaveWhat | SaveWhatName): number;
  toBuffer(what?: SaveWhat | SaveWhatName): Uint8Array;
  save(path: string, what?: SaveWhat | SaveWhatName): this;
  /** A new model from an ONNX file: one exportOnnx wrote, or one that
   * torch.onnx.export wrote for a torch.nn.Sequential (nn_model_import_onnx).
   * It has no loss and SGD as optimizer. Throws NNError: E_FORMAT for a
   * graph libnn does not import, E_IO for a file that cannot be read,
   * E_STATE when the loaded libnn was built without the ONNX reader. */
  static importOnnx(path: string): Model;
  /** A new model from an ONNX file's bytes (nn_model_import_onnx_buffer). */
  static fromOnnx(data: ArrayBufferView | ArrayBuffer): Model;
  /** Writes the model as an ONNX file (opset 17; input "input", output
   * "output", float [batch, width]), atomically (nn_model_export_onnx). */
  exportOnnx(path: string): this;
  /** The ONNX file's bytes, a Buffer (nn_model_export_onnx_buffer). */
  toOnnx(): Uint8Array;
  /** Writes one C99 header: the weights and `<prefix>_predict(const float *x,
   * float *y)`, which computes one row as predict does, without libnn; prefix
   * is 1 to 63 ASCII letters, digits and '_' starting with a letter
   * (nn_model_export_c). */
  exportC(path: string, prefix: string): this;
  /** An independent copy, through a checkpoint in memory. */
  clone(): Model;
  toString(): string;
}

/** The C functions of the loaded libnn, declared from nn.h, unchecked. */
export declare const capi: { missing: Partial<Record<FunctionName, string>> } &
  Partial<Record<FunctionName, (...args: unknown[]) => unknown>>;
/** nn.h function -> the export or method that calls it. */
export declare const WRAPPED: Record<string, string>;
/** nn.h functions left to capi alone, and why. */
export declare const RAW_ONLY: Record<string, string>;
