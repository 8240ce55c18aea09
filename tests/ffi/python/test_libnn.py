# SPDX-License-Identifier: MIT
"""The libnn Python package against the C API: the ffi_python ctest test.

The reference program (tests/ffi/reference.c) does the same computations in
C and prints every result as IEEE-754 bit patterns; these tests redo them
through the package, reading results back by other calls than the C program
uses (per-layer weights and biases rather than the flat buffer), and require
equality bit for bit. The rest is misuse that must give an exception, not a
crash, a wrapped integer or a read of freed memory.
"""

import array
import copy
import ctypes
import gc
import mmap
import os
import pickle
import re
import signal
import tempfile
import threading
import unittest

import numpy as np

import libnn
from libnn import Activation, Loss, NNError, Param, SaveWhat, Status

from common import (XOR_T, XOR_X, bits32, bits64, classifier, f32, f64,
                    flat_params, lcg_data, reference, run_python, v2_model)


def xor_model(seed=1):
    m = libnn.Model(2, seed=seed).add_dense(3, Activation.TANH)
    return m.add_dense(1, Activation.SIGMOID).set_loss(Loss.BCE)


class SameBitsAsTheCApi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ref = reference()
        libnn.set_blas_threads(1)  # as the reference program

    def test_xor_trained_step_by_step_equals_c(self):
        m = libnn.Model(2, seed=7)
        m.add_dense(8, Activation.TANH).add_dense(1, Activation.SIGMOID)
        m.set_loss(Loss.BCE).set_param(Param.LEARNING_RATE, 0.5)
        m.set_param(Param.MOMENTUM, 0.9).set_param(Param.NESTEROV, 1)
        losses = [m.train_batch(XOR_X, XOR_T) for _ in range(300)]
        y = m.predict(XOR_X)
        np.testing.assert_array_equal(bits64(losses), f64(self.ref["xor.losses"]))
        np.testing.assert_array_equal(bits32(flat_params(m)),
                                      f32(self.ref["xor.params"]))
        np.testing.assert_array_equal(bits32(y), f32(self.ref["xor.pred"]))
        self.assertTrue(np.array_equal(y.ravel() > 0.5, XOR_T.ravel() > 0.5))
        m.close()

    def test_compute_and_apply_grads_equal_c(self):
        m = libnn.Model(2, seed=3)
        m.add_dense(3, Activation.SIGMOID).add_dense(1, Activation.IDENTITY)
        m.set_loss(Loss.MSE).set_param(Param.LEARNING_RATE, 0.25)
        loss = m.compute_grads(XOR_X, XOR_T)
        dw0, db0 = m.layer_grads(0)
        dw1, db1 = m.layer_grads(1)
        self.assertEqual((dw0.shape, db0.shape, dw1.shape, db1.shape),
                         ((2, 3), (3,), (3, 1), (1,)))
        np.testing.assert_array_equal(bits32(m.grads()),
                                      bits32(np.concatenate(
                                          [dw0.ravel(), db0, dw1.ravel(), db1])))
        m.apply_grads()
        self.assertEqual(bits64([loss])[0], f64(self.ref["grads.loss"])[0])
        for name, got in (("dw0", dw0), ("db0", db0), ("dw1", dw1),
                          ("db1", db1)):
            np.testing.assert_array_equal(bits32(got),
                                          f32(self.ref["grads." + name]), name)
        np.testing.assert_array_equal(bits32(flat_params(m)),
                                      f32(self.ref["grads.params"]))

    def test_classifier_data_regenerate_exactly(self):
        x, labels = lcg_data()
        np.testing.assert_array_equal(bits32(x), f32(self.ref["clf.x"]))
        np.testing.assert_array_equal(
            labels, np.array(self.ref["clf.labels"], dtype=np.int32))
        self.assertEqual(set(labels.tolist()), {0, 1, 2})

    def test_classifier_fit_evaluate_predict_save_load_equal_c(self):
        x, labels = lcg_data()
        # int64 labels and float64 inputs: converted on the way, same bits.
        train = libnn.Data(x[:192].astype(np.float64), labels[:192].astype(np.int64))
        val = libnn.Data(x[192:], labels[192:])
        self.assertEqual((train.rows, val.rows, len(train)), (192, 64, 192))
        history, batches = [], []

        def on_epoch(epoch, train_loss, val_loss, val_accuracy, seconds):
            self.assertEqual(epoch, len(history) // 3 + 1)
            self.assertGreaterEqual(seconds, 0.0)
            history.extend([train_loss, val_loss, val_accuracy])

        m = classifier(libnn)
        m.fit(train, val, on_epoch=on_epoch,
              on_batch=lambda *args: batches.append(args))
        loss, accuracy = m.evaluate(train)
        pred = m.predict(x[192:])

        ref = self.ref
        np.testing.assert_array_equal(bits64(history), f64(ref["clf.epochs"]))
        self.assertEqual(len(batches), int(ref["clf.batches"][0]))
        self.assertEqual(batches[0][:3], (1, 1, 6))
        self.assertEqual(m.step_count, int(ref["clf.steps"][0]))
        self.assertEqual(bits64([m.current_lr])[0], f64(ref["clf.lr"])[0])
        np.testing.assert_array_equal(bits64([loss, accuracy]),
                                      f64(ref["clf.eval"]))
        np.testing.assert_array_equal(bits32(pred), f32(ref["clf.pred"]))
        np.testing.assert_array_equal(bits32(flat_params(m)),
                                      f32(ref["clf.params"]))
        self.assertGreater(accuracy, 0.7)

        checkpoint = m.to_bytes(SaveWhat.CHECKPOINT)
        self.assertEqual(checkpoint.hex(), ref["clf.checkpoint"][0])
        resumed = libnn.Model.from_bytes(checkpoint)
        resumed.set_param(Param.EPOCHS, 1)
        resumed.fit(train)
        np.testing.assert_array_equal(bits32(flat_params(resumed)),
                                      f32(ref["clf.resumed"]))
        for obj in (resumed, m, val, train):
            obj.close()


class The02ApiHasTheCApisBits(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ref = reference()
        libnn.set_blas_threads(1)
        x, labels = lcg_data()
        cls.x, cls.train = x, libnn.Data(x[:192], labels[:192])

    def check_final(self, m):
        ref = self.ref
        self.assertEqual(m.step_count, int(ref["v2.steps"][0]))
        np.testing.assert_array_equal(bits32(flat_params(m)), f32(ref["v2.params"]))
        np.testing.assert_array_equal(bits32(m.get_layer_buffers(2)),
                                      f32(ref["v2.bn"]))
        np.testing.assert_array_equal(bits64(m.evaluate(self.train)),
                                      f64(ref["v2.eval"]))
        np.testing.assert_array_equal(bits32(m.predict(self.x[192:])),
                                      f32(ref["v2.pred"]))
        self.assertEqual(m.to_bytes(SaveWhat.CHECKPOINT).hex(),
                         ref["v2.checkpoint"][0])

    def test_a_fit_interrupted_by_a_callback_and_resumed(self):
        m = v2_model()
        at = []

        def on_batch(epoch, batch, batches, loss):
            if (epoch, batch) == (2, 3) and not at:
                at.append(m.step_count)
                return -1
        m.fit(self.train, on_batch=on_batch)
        self.assertEqual(at, [int(self.ref["v2.interrupted"][0])])
        self.assertEqual(m.step_count, at[0])
        m.fit_resume(self.train, on_batch=on_batch)
        self.check_final(m)

    def test_a_copy_taken_at_the_interruption_resumes_it(self):
        m = v2_model()
        m.fit(self.train, on_batch=lambda e, b, n, loss: -1 if (e, b) == (2, 3)
              else 0)
        twin = pickle.loads(pickle.dumps(m))
        m.close()
        twin.fit_resume(self.train)
        self.check_final(twin)

    def test_ctrl_c_then_fit_resume_is_the_unbroken_run(self):
        m = v2_model()

        def on_batch(epoch, batch, batches, loss):
            if (epoch, batch) == (2, 3):
                os.kill(os.getpid(), signal.SIGINT)
                for _ in range(1000):
                    pass
        with self.assertRaises(KeyboardInterrupt):
            m.fit(self.train, on_batch=on_batch)
        self.assertEqual(m.step_count, int(self.ref["v2.interrupted"][0]))
        m.fit_resume(self.train)
        self.check_final(m)
        with self.assertRaises(NNError) as cm:
            m.fit_resume(self.train)  # nothing left to resume
        self.assertEqual(cm.exception.status, Status.E_STATE)

    def test_huber_softplus_centered_rmsprop_steps(self):
        x = self.x[:32]
        t = np.column_stack([2 * x[:, 0], x[:, 1] - x[:, 2]]).astype(np.float32)
        m = libnn.Model(4, seed=8).add_dense(8, "softplus").add_dense(2, "identity")
        m.set_loss("huber").set_param("huber_delta", 0.5).set_optimizer("rmsprop")
        m.set_param("centered", 1).set_param("clip_value", 0.1)
        m.set_param("learning_rate", 0.005)
        losses = [m.train_batch(x, t) for _ in range(50)]
        np.testing.assert_array_equal(bits64(losses), f64(self.ref["hub.losses"]))
        np.testing.assert_array_equal(bits32(flat_params(m)),
                                      f32(self.ref["hub.params"]))

    def test_what_the_model_says_about_itself(self):
        m = v2_model()
        kinds = [layer.kind for layer in m.layers]
        self.assertEqual(kinds, [libnn.LayerKind.SCALING, libnn.LayerKind.DENSE,
                                 libnn.LayerKind.BATCHNORM, libnn.LayerKind.DROPOUT,
                                 libnn.LayerKind.DENSE, libnn.LayerKind.LAYERNORM,
                                 libnn.LayerKind.ACTIVATION, libnn.LayerKind.DENSE])
        self.assertEqual(m.layer_activation(6), Activation.ELU)
        self.assertIsNone(m.layer_activation(2))
        self.assertEqual([m.layer_counts(i) for i in range(8)],
                         [(0, 0, 8), (32, 8, 0), (8, 8, 16), (0, 0, 0),
                          (48, 6, 0), (6, 6, 0), (0, 0, 0), (18, 3, 0)])
        self.assertEqual(m.get_weights(2).tolist(), [1.0] * 8)   # gamma
        self.assertEqual(m.get_weights(1).shape, (4, 8))
        self.assertEqual(m.get_layer_buffers(0).tolist(),
                         [2, 2, 1, 0.5, 0, 0.25, 0, -0.25])
        self.assertEqual(m.get_layer_param(6, "elu_alpha"), 0.5)
        self.assertEqual((m.loss, m.optimizer, m.schedule),
                         (Loss.CROSS_ENTROPY, libnn.Optimizer.ADAMW,
                          libnn.Schedule.CONSTANT))
        self.assertEqual(m.class_weights().tolist(), [1, 2, 0.5])
        self.assertEqual(repr(m), "<libnn.Model 4 -> scaling -> 8 gelu -> "
                         "batchnorm -> dropout -> 6 silu -> layernorm -> "
                         "activation elu -> 3 identity; loss cross_entropy, "
                         "optimizer adamw, 0 steps>")
        with self.assertRaises(NNError) as cm:
            m.set_layer_buffers(2, np.full(16, -1, np.float32))  # variances < 0
        self.assertEqual(cm.exception.status, Status.E_INVALID)
        m.set_layer_buffers(2, np.arange(16, dtype=np.float32))
        self.assertEqual(m.get_layer_buffers(2).tolist(), list(range(16)))
        with self.assertRaises(NNError):
            m.set_layer_buffers(2, np.zeros(15, np.float32))
        m.set_class_weights(None)
        self.assertEqual(m.class_weights().size, 0)

    def test_metadata(self):
        m = libnn.Model(2)
        self.assertEqual(m.meta, {})
        m.set_meta("b", "2").set_meta("a", "1").set_meta("b", "two")
        m.set_meta("unicode", "\u00e9t\u00e9")
        self.assertEqual(m.meta, {"b": "two", "a": "1", "unicode": "\u00e9t\u00e9"})
        self.assertEqual(list(m.meta), ["b", "a", "unicode"])
        self.assertEqual(m.get_meta("a"), "1")
        self.assertIsNone(m.get_meta("zz"))
        m.set_meta("a", None)
        self.assertEqual(m.meta, {"b": "two", "unicode": "\u00e9t\u00e9"})
        for bad in ("a\0b", b"x\0"):
            with self.assertRaisesRegex(ValueError, "NUL"):
                m.set_meta(bad, "v")
            with self.assertRaisesRegex(ValueError, "NUL"):
                m.set_meta("k", bad)
        with self.assertRaises(TypeError):
            m.set_meta("k", 3)
        with self.assertRaises(NNError) as cm:
            m.set_meta("", "v")
        self.assertEqual(cm.exception.status, Status.E_INVALID)
        self.assertEqual(libnn.Model.from_bytes(m.to_bytes()).meta, m.meta)


class ModelFiles(unittest.TestCase):
    def test_save_then_load_predicts_the_same_bits(self):
        m = xor_model(11)
        for _ in range(20):
            m.train_batch(XOR_X, XOR_T)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "xor.nn")
            m.save(path)
            self.assertEqual(os.path.getsize(path), m.save_size())
            with open(path, "rb") as f:
                self.assertEqual(f.read(), m.to_bytes())
            from pathlib import Path
            loaded = libnn.Model.load(Path(path))
        self.assertEqual((loaded.input_width, loaded.output_width,
                          loaded.layer_count), (2, 1, 2))
        np.testing.assert_array_equal(bits32(loaded.predict(XOR_X)),
                                      bits32(m.predict(XOR_X)))

    def test_any_bytes_like_object_loads(self):
        m = xor_model(5)
        data = m.to_bytes()
        want = bits32(m.predict(XOR_X))
        with tempfile.TemporaryFile() as f:
            f.write(data)
            f.flush()
            mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            # Bytes at an odd offset and through a strided view: a copy,
            # then the same model.
            odd = bytearray(b"x" + data)
            doubled = bytearray(len(data) * 2)
            doubled[::2] = data
            for buf in (data, bytearray(data), memoryview(data),
                        np.frombuffer(data, np.uint8), array.array("B", data),
                        mm, memoryview(odd)[1:], memoryview(doubled)[::2]):
                with self.subTest(type(buf).__name__):
                    got = libnn.Model.from_bytes(buf)
                    np.testing.assert_array_equal(bits32(got.predict(XOR_X)),
                                                  want)
                    got.close()
            mm.close()
        with self.assertRaises(TypeError):
            libnn.Model.from_bytes(data.decode("latin-1"))
        for bad in (b"", data[:-1], data + b"\0"):
            with self.assertRaises(NNError) as cm:
                libnn.Model.from_bytes(bad)
            self.assertEqual(cm.exception.status, Status.E_FORMAT)

    def test_a_corrupt_file_is_an_nn_error_with_the_library_message(self):
        bad = bytearray(xor_model().to_bytes())
        bad[-1] ^= 0xFF
        with self.assertRaises(NNError) as cm:
            libnn.Model.from_bytes(bad)
        self.assertEqual(cm.exception.status, Status.E_FORMAT)
        self.assertIn("nn_model_load_buffer", cm.exception.message)
        self.assertEqual(cm.exception.message, libnn.last_error())
        with self.assertRaises(NNError) as cm:
            libnn.Model.load("/nonexistent/dir/model.nn")
        self.assertEqual(cm.exception.status, Status.E_IO)
        self.assertIn("/nonexistent/dir/model.nn", cm.exception.message)
        # pickling keeps status and message
        e = pickle.loads(pickle.dumps(cm.exception))
        self.assertEqual((e.status, e.message), (Status.E_IO,
                                                 cm.exception.message))

    def test_a_path_with_a_nul_byte_is_refused_before_c_sees_it(self):
        m = xor_model()
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "a.nn")
            # "a.nn\0x" would reach C as "a.nn": nothing may be written.
            for bad in (path + "\0x", os.fsencode(path) + b"\0x"):
                with self.assertRaisesRegex(ValueError, "NUL"):
                    m.save(bad)
                with self.assertRaisesRegex(ValueError, "NUL"):
                    libnn.Model.load(bad)
            self.assertEqual(os.listdir(d), [])
            with self.assertRaises(TypeError):
                m.save(3.5)


class CopiesAreIndependentModels(unittest.TestCase):
    def trained(self):
        m = libnn.Model(2, seed=9).add_dense(5, "tanh").add_dense(1, "sigmoid")
        m.set_loss("bce").set_optimizer("adam").set_param("learning_rate", 0.05)
        for _ in range(10):
            m.train_batch(XOR_X, XOR_T)
        return m

    def assert_independent(self, original, twin):
        self.assertIsNot(twin, original)
        self.assertNotEqual(twin.handle, original.handle)
        self.assertEqual(twin.step_count, original.step_count)
        np.testing.assert_array_equal(bits32(flat_params(twin)),
                                      bits32(flat_params(original)))
        # The optimizer state came along: one more Adam step on each gives
        # the same bits...
        twin.train_batch(XOR_X, XOR_T)
        before = flat_params(original)
        self.assertFalse(np.array_equal(flat_params(twin), before))
        original.train_batch(XOR_X, XOR_T)
        np.testing.assert_array_equal(bits32(flat_params(twin)),
                                      bits32(flat_params(original)))
        # ...and freeing one leaves the other working.
        twin.close()
        self.assertEqual(original.predict(XOR_X).shape, (4, 1))

    def test_copy_deepcopy_and_pickle(self):
        for make in (copy.copy, copy.deepcopy,
                     lambda m: pickle.loads(pickle.dumps(m)),
                     lambda m: copy.deepcopy([m, m])[1]):
            with self.subTest(make):
                original = self.trained()
                self.assert_independent(original, make(original))
                original.close()

    def test_a_pickle_loads_in_another_process(self):
        m = self.trained()
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "m.pickle")
            with open(path, "wb") as f:
                pickle.dump({"model": m}, f)
            out = run_python(
                "import pickle, numpy as np\n"
                "m = pickle.load(open(%r, 'rb'))['model']\n"
                "x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)\n"
                "print(m.step_count, m.predict(x).view(np.uint32).ravel().tolist())"
                % path).stdout.split(" ", 1)
        self.assertEqual(int(out[0]), 10)
        self.assertEqual(eval(out[1]), bits32(m.predict(XOR_X)).tolist())

    def test_a_closed_model_cannot_be_pickled_or_copied(self):
        m = self.trained()
        m.close()
        with self.assertRaisesRegex(TypeError, "closed"):
            pickle.dumps(m)
        with self.assertRaises(NNError):
            copy.copy(m)
        self.assertEqual(repr(m), "<libnn.Model (closed)>")

    def test_a_dataset_pickles_as_its_arrays(self):
        d = libnn.Data(XOR_X, XOR_T)
        d2 = pickle.loads(pickle.dumps(d))
        self.assertEqual(d2.rows, 4)
        np.testing.assert_array_equal(d2.x, XOR_X)
        m = xor_model()
        self.assertEqual(m.evaluate(d), m.evaluate(d2))


class InterruptsAndCallbacks(unittest.TestCase):
    def setUp(self):
        x, labels = lcg_data(64)
        self.train = libnn.Data(x, labels)

    def model(self, epochs=4):
        return classifier(libnn).set_param(Param.BATCH_SIZE, 16).set_param(
            Param.EPOCHS, epochs)

    def stopped_at(self, steps):
        """The same run, stopped by a callback after `steps` steps."""
        m = self.model()
        m.fit(self.train, on_batch=lambda *a: m.step_count >= steps)
        self.assertEqual(m.step_count, steps)
        return m

    def test_a_true_return_from_on_epoch_stops_training(self):
        epochs = []
        m = self.model()
        m.fit(self.train, on_epoch=lambda e, *rest: epochs.append(e) or e == 2)
        self.assertEqual(epochs, [1, 2])
        self.assertEqual(m.step_count, 2 * 4)

    def test_an_exception_in_a_callback_stops_fit_and_is_raised(self):
        def on_batch(epoch, batch, batches, loss):
            if batch == 3:
                raise ValueError("stop here")

        m = self.model()
        with self.assertRaisesRegex(ValueError, "stop here"):
            m.fit(self.train, on_batch=on_batch)
        self.assertEqual(m.step_count, 3)
        np.testing.assert_array_equal(flat_params(m),
                                      flat_params(self.stopped_at(3)))

        def on_epoch(*args):
            raise KeyError("epoch")
        m = self.model()
        with self.assertRaises(KeyError):
            m.fit(self.train, on_epoch=on_epoch)
        self.assertEqual(m.step_count, 4)

    def test_ctrl_c_in_a_callback_raises_keyboard_interrupt(self):
        m = self.model()

        def on_batch(epoch, batch, batches, loss):
            if m.step_count == 5:
                os.kill(os.getpid(), signal.SIGINT)
                # the handler runs here, inside this callback, at the latest
                for _ in range(1000):
                    pass
        with self.assertRaises(KeyboardInterrupt):
            m.fit(self.train, on_batch=on_batch)
        self.assertEqual(m.step_count, 5)
        np.testing.assert_array_equal(flat_params(m),
                                      flat_params(self.stopped_at(5)))
        self.assertIs(signal.getsignal(signal.SIGINT),
                      signal.default_int_handler)

    def test_ctrl_c_without_callbacks_raises_within_a_batch(self):
        # A long fit, interrupted from another thread after it has begun.
        rng = np.random.default_rng(0)
        x = rng.standard_normal((4096, 32)).astype(np.float32)
        t = rng.standard_normal((4096, 1)).astype(np.float32)
        data = libnn.Data(x, t)
        m = libnn.Model(32, seed=1).add_dense(64, "relu").add_dense(1, "identity")
        m.set_loss("mse").set_param("epochs", 10 ** 6).set_param("batch_size", 64)
        timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
        timer.start()
        with self.assertRaises(KeyboardInterrupt):
            m.fit(data)
        timer.join()
        steps = m.step_count
        self.assertGreater(steps, 0)
        self.assertLess(steps, 10 ** 6 * 64)
        # The last completed step: the same run stopped there has the same
        # weights.
        again = libnn.Model(32, seed=1).add_dense(64, "relu").add_dense(1, "identity")
        again.set_loss("mse").set_param("epochs", 10 ** 6).set_param("batch_size", 64)
        again.fit(data, on_batch=lambda *a: again.step_count >= steps)
        np.testing.assert_array_equal(bits32(flat_params(m)),
                                      bits32(flat_params(again)))

    def test_a_callback_may_read_the_model_but_not_change_it(self):
        m = self.model()
        seen = []

        def reads(epoch, *rest):
            seen.append(m.predict(XOR_X.repeat(2, axis=1)).shape)
            seen.append(len(m.to_bytes()))
        m.fit(self.train, on_epoch=reads)
        self.assertEqual(seen[0], (4, 3))

        for change in (lambda m2: m2.set_param(Param.LEARNING_RATE, 1),
                       lambda m2: m2.add_dense(2, "relu"),
                       lambda m2: m2.close(),
                       lambda m2: m2.params_view()[0]):
            m2 = self.model()
            with self.assertRaises(NNError) as cm:
                m2.fit(self.train, on_batch=lambda *a: change(m2))
            self.assertEqual(cm.exception.status, Status.E_STATE)
            self.assertIn("being fitted", cm.exception.message)
            self.assertEqual(m2.step_count, 1)
            self.assertFalse(m2.closed)

    def test_the_model_and_data_must_be_libnn_objects(self):
        m = self.model()
        with self.assertRaises(TypeError):
            m.fit((XOR_X, XOR_T))
        with self.assertRaises(TypeError):
            m.evaluate(None)


class IntegersOutsideTheCTypes(unittest.TestCase):
    def test_sizes_and_indices(self):
        for bad in (2 ** 64 + 4, 2 ** 64, -1, -(2 ** 63)):
            with self.assertRaises(OverflowError):
                libnn.Model(bad)
        with self.assertRaises(OverflowError):
            libnn.Model(2, seed=2 ** 64)
        self.assertEqual(libnn.Model(2, seed=2 ** 64 - 1).input_width, 2)
        m = xor_model()
        for bad in (2 ** 64, 2 ** 64 + 1, -1):
            with self.assertRaises(OverflowError):
                m.get_weights(bad)
            with self.assertRaises(OverflowError):
                m.add_dense(bad, Activation.TANH)
        with self.assertRaises(IndexError):
            m.get_weights(2)  # libnn's getters would answer 0
        with self.assertRaises(TypeError):
            libnn.Model(2.0)
        with self.assertRaises(TypeError):
            m.layer_width("0")
        with self.assertRaises(OverflowError):
            libnn.set_blas_threads(2 ** 64)
        self.assertEqual(m.layer_count, 2)

    def test_enums(self):
        m = libnn.Model(2)
        # 2**32 + 3 would be NN_ACT_TANH once wrapped into a C int.
        for bad in (2 ** 32 + 3, 2 ** 32 + 1, -(2 ** 31) - 1, 2 ** 64):
            with self.assertRaises(OverflowError):
                m.add_dense(4, bad)
            with self.assertRaises(OverflowError):
                m.set_param(bad, 0.1)
        self.assertEqual(m.layer_count, 0)
        with self.assertRaises(TypeError):
            m.add_dense(4, Loss.MSE)  # an int 1, but not an activation
        with self.assertRaises(ValueError):
            m.add_dense(4, "tanhh")
        with self.assertRaises(NNError) as cm:
            m.add_dense(4, 99)  # in range for C: libnn says no
        self.assertEqual(cm.exception.status, Status.E_INVALID)
        self.assertIn("nn_model_add_dense", cm.exception.message)
        m.add_dense(4, 3)
        m.add_dense(1, "SIGMOID")
        self.assertEqual(m.layer_count, 2)

    def test_doubles(self):
        m = xor_model()
        with self.assertRaises(OverflowError):
            m.set_param(Param.LEARNING_RATE, 10 ** 400)
        with self.assertRaises(TypeError):
            m.set_param(Param.LEARNING_RATE, "0.1")
        with self.assertRaises(NNError):
            m.set_param(Param.LEARNING_RATE, float("nan"))
        m.set_param(Param.LEARNING_RATE, np.float32(0.25))
        self.assertEqual(m.get_param(Param.LEARNING_RATE), 0.25)


class ArraysAreCopiedOrRefused(unittest.TestCase):
    def setUp(self):
        self.m = xor_model()
        self.want = self.m.predict(XOR_X)

    def test_inputs_libnn_could_not_read_in_place_are_copied(self):
        buf = bytearray(XOR_X.nbytes + 1)
        misaligned = np.frombuffer(buf, np.float32, count=8, offset=1)
        misaligned = misaligned.reshape(4, 2)
        misaligned[...] = XOR_X
        self.assertFalse(misaligned.flags.aligned)
        strided = np.zeros((4, 4), np.float32)
        strided[:, ::2] = XOR_X
        strided = strided[:, ::2]
        fortran = np.asfortranarray(XOR_X)
        readonly = XOR_X.copy()
        readonly.flags.writeable = False
        for x in (misaligned, strided, fortran, XOR_X.astype(np.float64),
                  XOR_X.astype(np.int64), XOR_X.tolist(), readonly,
                  XOR_X.astype(bool)):
            with self.subTest(x=x):
                np.testing.assert_array_equal(bits32(self.m.predict(x)),
                                              bits32(self.want))
        # a misaligned target too, through a training step
        t = np.frombuffer(bytearray(17), np.float32, count=4, offset=1)
        t = t.reshape(4, 1)
        t[...] = XOR_T
        twin = copy.copy(self.m)
        self.assertEqual(bits64([self.m.train_batch(XOR_X, t)]),
                         bits64([twin.train_batch(XOR_X, XOR_T)]))

    def test_arrays_that_are_not_numbers_or_of_another_shape_are_refused(self):
        for bad, exc in ((np.array([["a", "b"]]), TypeError),
                         (np.array([[1 + 2j, 0]]), TypeError),
                         (np.array([[object(), 1]]), TypeError),
                         (np.zeros(2, np.float32), ValueError),
                         (np.zeros((1, 1, 2), np.float32), ValueError),
                         ([[1, 2], [3]], TypeError)):
            with self.subTest(bad=bad):
                with self.assertRaises(exc):
                    self.m.predict(bad)
        with self.assertRaises(NNError) as cm:
            self.m.predict(np.zeros((4, 3), np.float32))
        self.assertEqual(cm.exception.status, Status.E_SHAPE)
        self.assertIn("x_width is 3", cm.exception.message)
        with self.assertRaises(NNError) as cm:
            self.m.train_batch(XOR_X, XOR_T[:3])
        self.assertEqual(cm.exception.status, Status.E_SHAPE)
        with self.assertRaises(ValueError):
            self.m.train_batch(XOR_X, XOR_T.ravel())  # 1-D float targets

    def test_an_output_array_is_used_exactly_or_refused(self):
        y = np.full((4, 1), np.nan, np.float32)
        self.assertIs(self.m.predict(XOR_X, out=y), y)
        np.testing.assert_array_equal(bits32(y), bits32(self.want))
        ro = np.zeros((4, 1), np.float32)
        ro.flags.writeable = False
        wide = np.zeros((4, 2), np.float32)
        for bad in (ro, np.zeros((4, 1)), np.zeros((3, 1), np.float32),
                    wide[:, :1], np.frombuffer(bytearray(17), np.float32,
                                               count=4, offset=1).reshape(4, 1)):
            with self.subTest(bad=bad):
                with self.assertRaises(ValueError):
                    self.m.predict(XOR_X, out=bad)
        with self.assertRaises(TypeError):
            self.m.predict(XOR_X, out=[[0.0]] * 4)
        # out over x's own memory: refused, libnn needs them apart
        shared = XOR_X.ravel().copy()
        with self.assertRaisesRegex(ValueError, "overlaps"):
            self.m.predict(shared.reshape(4, 2), out=shared[4:].reshape(4, 1))
        np.testing.assert_array_equal(shared, XOR_X.ravel())

    def test_labels(self):
        m = libnn.Model(2).add_dense(3, Activation.SOFTMAX)
        m.set_loss(Loss.CROSS_ENTROPY)
        # 2**32 + 1 would be label 1 once wrapped into int32.
        with self.assertRaises(OverflowError):
            m.train_batch(XOR_X, np.array([0, 1, 2 ** 32 + 1, 0], np.int64))
        with self.assertRaises(OverflowError):
            libnn.Data(XOR_X, np.array([0, -2 ** 40, 1, 0], np.int64))
        with self.assertRaises(NNError) as cm:
            m.train_batch(XOR_X, np.array([0, 1, 7, 0], np.int32))
        self.assertEqual(cm.exception.status, Status.E_INVALID)
        self.assertIn("nn_model_train_batch_labels", cm.exception.message)
        self.assertEqual(m.step_count, 0)
        for labels in (np.array([0, 1, 2, 0], np.int32), [0, 1, 2, 0],
                       np.array([0, 1, 2, 0], np.uint8)):
            self.assertGreater(m.train_batch(XOR_X, labels), 0)
        self.assertEqual(m.step_count, 3)

    def test_a_dataset_keeps_its_arrays_alive_and_read_only(self):
        x, t = XOR_X.copy(), XOR_T.copy()
        data = libnn.Data(x, t)
        del x, t
        gc.collect()
        loss, accuracy = self.m.evaluate(data)
        self.assertTrue(np.isfinite(loss) and 0 <= accuracy <= 1)
        with self.assertRaises(ValueError):
            data.x[0, 0] = 1
        data.close()
        data.close()
        with self.assertRaises(NNError) as cm:
            self.m.evaluate(data)
        self.assertEqual(cm.exception.status, Status.E_NULL)
        self.assertEqual(repr(data), "<libnn.Data (closed)>")


def byte_images(rows=300, width=12, seed=2024):
    """Bytes as images hold them, with labels and targets that depend on
    them: 300 rows, more than evaluate's slice of 256."""
    x = np.random.default_rng(seed).integers(0, 256, (rows, width),
                                              dtype=np.uint8)
    s = x.astype(np.int64)
    labels = ((s[:, 0] + s[:, 1] > 255).astype(np.int32)
              + (s[:, 2] > s[:, 3]).astype(np.int32))
    t = np.stack([s[:, 0] - s[:, 4], s[:, 5] + s[:, 6]], axis=1)
    return x, labels, (t / np.float32(255)).astype(np.float32)


def byte_classifier(width, seed=21):
    m = libnn.Model(width, seed=seed)
    m.add_scaling(np.full(width, 1 / 255, np.float32), np.full(width, -0.5))
    m.add_dense(16, "relu").add_dropout(0.1).add_dense(3, "softmax")
    m.set_loss("cross_entropy").set_optimizer("adam")
    m.set_param(Param.LEARNING_RATE, 0.01).set_param(Param.EPOCHS, 4)
    m.set_param(Param.BATCH_SIZE, 32).set_param(Param.SHUFFLE, 1)
    return m.set_param(Param.PATIENCE, 3)


def byte_regressor(width, seed=22):
    # No scaling layer: the first layer sees 0 to 255 as they are.
    m = libnn.Model(width, seed=seed).add_dense(8, "tanh")
    m.add_dense(2, "identity").set_loss("mse").set_optimizer("sgd")
    m.set_param(Param.LEARNING_RATE, 1e-4).set_param(Param.EPOCHS, 3)
    # 300 rows in batches of 64 in order: a short last batch, no shuffle
    return m.set_param(Param.BATCH_SIZE, 64).set_param(Param.SHUFFLE, 0)


class ByteDatasets(unittest.TestCase):
    """Inputs of dtype uint8 go to nn_data_create(_labels)_u8 as they are;
    what libnn does with them must be what it does with their float32
    copies (which the tests above check against the C API), bit for bit."""

    @classmethod
    def setUpClass(cls):
        libnn.set_blas_threads(1)
        cls.x, cls.labels, cls.t = byte_images()

    def fit_both(self, make, x, targets, val_x=None, val_targets=None):
        """make() fitted on x as bytes and on x as float32, with histories,
        then evaluated: the two runs' results side by side."""
        runs = []
        for as_x in (lambda a: a, lambda a: a.astype(np.float32)):
            data = libnn.Data(as_x(x), targets)
            val = None if val_x is None else libnn.Data(as_x(val_x),
                                                        val_targets)
            history = []
            m = make(x.shape[1])
            m.fit(data, val, on_epoch=lambda *a: history.extend(a[1:4]))
            runs.append({"data": data, "model": m, "history": history,
                         "eval": m.evaluate(data),
                         "val": None if val is None else m.evaluate(val)})
        return runs

    def assert_same_run(self, on_bytes, on_floats):
        self.assertEqual(on_bytes["data"].x.dtype, np.uint8)
        self.assertEqual(on_floats["data"].x.dtype, np.float32)
        a, b = on_bytes["model"], on_floats["model"]
        self.assertGreater(a.step_count, 0)
        self.assertEqual(a.step_count, b.step_count)
        np.testing.assert_array_equal(bits64(on_bytes["history"]),
                                      bits64(on_floats["history"]))
        # parameters, optimizer state, generator and all
        self.assertEqual(a.to_bytes(SaveWhat.CHECKPOINT),
                         b.to_bytes(SaveWhat.CHECKPOINT))
        np.testing.assert_array_equal(bits32(flat_params(a)),
                                      bits32(flat_params(b)))
        np.testing.assert_array_equal(bits64(on_bytes["eval"]),
                                      bits64(on_floats["eval"]))
        if on_bytes["val"] is not None:
            np.testing.assert_array_equal(bits64(on_bytes["val"]),
                                          bits64(on_floats["val"]))
        # and the model learnt something from the bytes
        self.assertTrue(np.all(np.isfinite(flat_params(a))))
        np.testing.assert_array_equal(
            bits32(a.predict(self.x)),
            bits32(b.predict(self.x.astype(np.float32))))

    def test_a_labelled_fit_on_bytes_is_the_fit_on_their_floats(self):
        x, labels = self.x, self.labels
        on_bytes, on_floats = self.fit_both(byte_classifier, x[:240],
                                            labels[:240], x[240:],
                                            labels[240:])
        self.assert_same_run(on_bytes, on_floats)
        self.assertEqual(len(on_bytes["history"]), 3 * 4)
        loss, accuracy = on_bytes["eval"]
        # better than the most frequent class (155 of 300 rows)
        self.assertTrue(0 < loss < 1.1 and accuracy > 0.55, (loss, accuracy))

    def test_a_fit_on_bytes_with_targets_is_the_fit_on_their_floats(self):
        on_bytes, on_floats = self.fit_both(byte_regressor, self.x, self.t)
        self.assert_same_run(on_bytes, on_floats)
        self.assertEqual(on_bytes["model"].step_count, 3 * 5)
        # evaluate's loss on 300 rows (two slices) is the mean squared
        # error of predict's outputs, computed here in float64
        m = on_bytes["model"]
        err = m.predict(self.x).astype(np.float64) - self.t
        loss, _ = on_bytes["eval"]
        mse = float(np.mean(err * err))
        self.assertLess(abs(loss - mse), 1e-7 * mse, (loss, mse))

    def test_the_bytes_are_read_in_place_at_any_offset(self):
        buf = bytearray(self.x.nbytes + 1)
        odd = np.frombuffer(buf, np.uint8, offset=1).reshape(self.x.shape)
        odd[...] = self.x
        self.assertNotEqual(odd.ctypes.data % 4, 0)
        view = memoryview(bytearray(self.x.tobytes())).cast(
            "B", self.x.shape)
        fortran = np.asfortranarray(self.x)
        wide = np.zeros((self.x.shape[0], 2 * self.x.shape[1]), np.uint8)
        wide[:, ::2] = self.x
        m = byte_classifier(self.x.shape[1])
        want = m.evaluate(libnn.Data(self.x.astype(np.float32), self.labels))
        for x, in_place in ((odd, True), (view, True), (fortran, False),
                            (wide[:, ::2], False)):
            with self.subTest(x=type(x).__name__, in_place=in_place):
                d = libnn.Data(x, self.labels)
                self.assertEqual(d.x.dtype, np.uint8)
                self.assertTrue(d.x.flags.c_contiguous)
                self.assertEqual(np.shares_memory(d.x, np.asarray(x)),
                                 in_place)
                np.testing.assert_array_equal(d.x, self.x)
                self.assertEqual(bits64(m.evaluate(d)).tolist(),
                                 bits64(want).tolist())

    def test_other_integer_types_are_read_as_floats(self):
        for dtype in (np.int8, np.uint16, np.int32, bool):
            with self.subTest(dtype=dtype):
                d = libnn.Data((self.x % 100).astype(dtype), self.labels)
                self.assertEqual(d.x.dtype, np.float32)

    def test_a_byte_dataset_keeps_its_array_alive_and_read_only(self):
        m = byte_classifier(self.x.shape[1])
        want = m.evaluate(libnn.Data(self.x.astype(np.float32), self.labels))
        x = self.x.copy()
        data = libnn.Data(x, self.labels.copy())
        del x
        gc.collect()
        # memory freed and reused by now would hold other bytes
        junk = [np.full(self.x.shape, 255 - i, np.uint8) for i in range(64)]
        self.assertEqual(bits64(m.evaluate(data)).tolist(),
                         bits64(want).tolist())
        del junk
        with self.assertRaises(ValueError):
            data.x[0, 0] = 1
        self.assertEqual(repr(data),
                         "<libnn.Data 300 rows, x width 12 (uint8), labels>")
        again = pickle.loads(pickle.dumps(data))
        self.assertEqual(again.x.dtype, np.uint8)
        self.assertEqual(m.evaluate(again), m.evaluate(data))
        data.close()
        with self.assertRaises(NNError) as cm:
            m.evaluate(data)
        self.assertEqual(cm.exception.status, Status.E_NULL)

    def test_bad_byte_datasets_are_refused_with_libnns_status(self):
        x, labels, t = self.x, self.labels, self.t

        def refused(status, pattern, make):
            with self.assertRaises(NNError) as cm:
                make()
            self.assertEqual(cm.exception.status, status,
                             cm.exception.message)
            self.assertRegex(cm.exception.message, pattern)

        refused(Status.E_SHAPE, "^nn_data_create_labels_u8: x has 300 rows, "
                "labels has 299", lambda: libnn.Data(x, labels[:-1]))
        refused(Status.E_SHAPE, "^nn_data_create_u8: x has 300 rows, t has 2",
                lambda: libnn.Data(x, t[:2]))
        bad = labels.copy()
        bad[7] = -1
        refused(Status.E_INVALID, r"^nn_data_create_labels_u8: labels\[7\] is -1",
                lambda: libnn.Data(x, bad))
        refused(Status.E_INVALID, "^nn_data_create_u8: n is 0",
                lambda: libnn.Data(x[:0], t[:0]))
        refused(Status.E_INVALID, "^nn_data_create_labels_u8: x_width is 0",
                lambda: libnn.Data(x[:, :0], labels))
        for shape in ((3600,), (300, 3, 4)):
            with self.assertRaisesRegex(ValueError, "^nn_data_create_u8: x "
                                        "has shape %s" % re.escape(str(shape))):
                libnn.Data(x.reshape(shape), t)
        # a width other than the model's, when the model uses the set
        narrow = libnn.Data(x[:, :11], labels)
        m = byte_classifier(12)
        refused(Status.E_SHAPE, "^nn_model_evaluate: data: x_width is 11, "
                "the model's input width is 12",
                lambda: m.evaluate(narrow))
        refused(Status.E_SHAPE, "^nn_model_fit: train: x_width is 11",
                lambda: m.fit(narrow))
        self.assertEqual(m.step_count, 0)
        # and a label beyond the model's classes
        big = labels.copy()
        big[0] = 3
        refused(Status.E_INVALID, r"^nn_model_fit: train: labels\[0\] is 3",
                lambda: m.fit(libnn.Data(x, big)))

    def test_the_c_functions_check_what_the_wrapper_cannot_get_wrong(self):
        h = ctypes.c_void_p()
        x, t = self.x, self.t
        st = libnn.capi.nn_data_create_u8(ctypes.byref(h), 300, None, 12,
                                          t.ctypes.data, 2)
        self.assertEqual((st, h.value), (Status.E_NULL, None))
        self.assertRegex(libnn.last_error(), "^nn_data_create_u8: x is NULL")
        # n x x_width bytes that fit in size_t, whose floats would not
        st = libnn.capi.nn_data_create_labels_u8(
            ctypes.byref(h), 2 ** 62, x.ctypes.data, 2,
            self.labels.ctypes.data)
        self.assertEqual((st, h.value), (Status.E_OVERFLOW, None))
        self.assertIn("nn_data_create_labels_u8", libnn.last_error())
        # bytes need no alignment, unlike the targets
        st = libnn.capi.nn_data_create_u8(ctypes.byref(h), 3,
                                          x.ctypes.data + 1, 12,
                                          t.ctypes.data + 1, 2)
        self.assertEqual((st, h.value), (Status.E_INVALID, None))
        self.assertRegex(libnn.last_error(),
                         "^nn_data_create_u8: t is not aligned")
        st = libnn.capi.nn_data_create_u8(ctypes.byref(h), 3,
                                          x.ctypes.data + 1, 12,
                                          t.ctypes.data, 2)
        self.assertEqual(st, Status.OK)
        libnn.capi.nn_data_free(h)

    def test_a_libnn_without_byte_datasets_gets_floats(self):
        libnn.capi.missing["nn_data_create_u8"] = "0.3"
        try:
            d = libnn.Data(self.x, self.labels)
        finally:
            del libnn.capi.missing["nn_data_create_u8"]
        self.assertEqual(d.x.dtype, np.float32)
        np.testing.assert_array_equal(d.x, self.x)
        m = byte_classifier(self.x.shape[1])
        self.assertEqual(m.evaluate(d),
                         m.evaluate(libnn.Data(self.x, self.labels)))


class FlatViews(unittest.TestCase):
    def test_a_view_reads_and_writes_the_models_memory(self):
        m = xor_model()
        view = m.params_view()
        self.assertEqual(len(view), 2 * 3 + 3 + 3 * 1 + 1)
        np.testing.assert_array_equal(np.asarray(view), flat_params(m))
        self.assertEqual(view[0], float(m.get_weights(0)[0, 0]))
        view[:] = 0
        np.testing.assert_array_equal(m.predict(XOR_X),
                                      np.full((4, 1), 0.5, np.float32))
        view[9:12] = [1, 2, 3]
        np.testing.assert_array_equal(m.get_weights(1).ravel(), [1, 2, 3])
        m.compute_grads(XOR_X, XOR_T)
        np.testing.assert_array_equal(m.grads_view().numpy(), m.grads())

    def test_a_view_is_unusable_once_its_memory_may_be_gone(self):
        m = xor_model()
        view, grads = m.params_view(), m.grads_view()
        m.add_dense(2, Activation.SIGMOID)  # the buffers grow and move
        for v in (view, grads):
            with self.assertRaises(NNError) as cm:
                v[0]
            self.assertIn("stale", cm.exception.message)
        fresh = m.params_view()
        self.assertEqual(len(fresh), 2 * 3 + 3 + 3 + 1 + 1 * 2 + 2)
        m.close()
        for v in (fresh, view):
            for use in (lambda: v[0], lambda: np.asarray(v), lambda: len(v),
                        lambda: v.__setitem__(0, 1.0)):
                with self.assertRaises(NNError):
                    use()
        self.assertIn("unusable", repr(fresh))
        with self.assertRaises(NNError):
            m.params_view()


class Threads(unittest.TestCase):
    def test_closing_while_other_threads_predict_is_an_error_not_a_crash(self):
        x = np.random.default_rng(1).standard_normal((256, 2)).astype(np.float32)
        for _ in range(5):
            m = xor_model()
            outcomes = []

            def work():
                for _ in range(50):
                    try:
                        outcomes.append(m.predict(x).shape)
                    except NNError as e:
                        outcomes.append(e.status)
            threads = [threading.Thread(target=work) for _ in range(3)]
            for t in threads:
                t.start()
            m.close()
            for t in threads:
                t.join()
            self.assertEqual(set(outcomes) - {(256, 1), Status.E_NULL}, set())
            self.assertEqual(len(outcomes), 150)
            with self.assertRaises(NNError):
                m.predict(x)


class Repr(unittest.TestCase):
    def test_repr_names_the_layers(self):
        m = xor_model()
        r = repr(m)
        self.assertTrue(r.startswith("<libnn.Model 2 -> 3"), r)
        self.assertIn("0 steps", r)
        m.train_batch(XOR_X, XOR_T)
        self.assertIn("1 steps", repr(m))
        self.assertEqual(repr(libnn.Data(XOR_X, XOR_T)),
                         "<libnn.Data 4 rows, x width 2, t width 1>")


if __name__ == "__main__":
    unittest.main()
