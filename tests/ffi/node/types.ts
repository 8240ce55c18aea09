// SPDX-License-Identifier: MIT
import * as nn from 'libnn';
const m: nn.Model = new nn.Model(2, 7).addDense(4, nn.Activation.TANH).addDense(1, 'sigmoid');
m.setLoss(nn.Loss.BCE).setParam('learning_rate', 0.5);
const y: Float32Array = m.predict(new Float32Array(8));
const loss: number = m.trainBatch([0, 0, 1, 1], new Float32Array(2));
const d = new nn.Dataset(new Float32Array(8), 2, new Int32Array(4));
m.fit(d, { onEpoch: (e) => e.epoch > 3, onBatch: ({ loss: l }) => { void l; } });
const pixels = new nn.Dataset(new Uint8Array(8), 2, new Float32Array(4), 1);
const canvas = new nn.Dataset(new Uint8ClampedArray(8), 2, new Int32Array(4));
const bytes: Float32Array | nn.Bytes = pixels.x;
m.evaluate(canvas);
// @ts-expect-error: signed bytes are neither bytes nor floats
new nn.Dataset(new Int8Array(8), 2, new Int32Array(4));
const s: nn.Status = nn.Status.E_SHAPE;
try { m.predict([1]); } catch (e) { if (e instanceof nn.NNError) { const st: number = e.status; void st; } }
const onnx: Uint8Array = m.toOnnx();
const back: nn.Model = nn.Model.fromOnnx(onnx).exportOnnx('back.onnx').exportC('back.h', 'back');
const again: nn.Model = nn.Model.importOnnx('back.onnx');
// @ts-expect-error: not an activation
m.addDense(3, 'softplusx');
// @ts-expect-error: exportC needs the prefix of the C names
m.exportC('net.h');
void y; void loss; void s; void back; void again; void bytes;
