# SPDX-License-Identifier: MIT
"""libnn.sklearn against scikit-learn's own checks (Debian's python3-sklearn)
and in its model-selection tools, and against libnn called directly."""

import pickle
import unittest
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils.estimator_checks import check_estimator

import libnn
from libnn.sklearn import MLPClassifier, MLPRegressor

from common import bits32, onnx_reader


def blobs(n=300, seed=0):
    x, y = make_classification(n_samples=n, n_features=6, n_informative=4,
                               n_redundant=0, n_classes=3,
                               n_clusters_per_class=1, class_sep=2.0,
                               random_state=seed)
    return x, y


class ScikitLearnsChecks(unittest.TestCase):
    def run_checks(self, estimator):
        ran = 0
        for est, check in check_estimator(estimator, generate_only=True):
            name = getattr(check, "func", check).__name__
            with self.subTest(check=name):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        check(est)
                    except unittest.SkipTest as e:
                        # pandas is not installed: the check has run its
                        # part with a non-array array-like, and stops
                        # before the DataFrame part; that part is reported
                        # as skipped, not passed.
                        self.skipTest("%s: %s" % (name, e))
                ran += 1
        self.assertGreater(ran, 30)

    def test_the_classifier_passes_check_estimator(self):
        self.run_checks(MLPClassifier())

    def test_the_regressor_passes_check_estimator(self):
        self.run_checks(MLPRegressor())

    def test_other_solvers_and_activations_pass_too(self):
        self.run_checks(MLPClassifier(hidden_layer_sizes=(32, 16),
                                      activation="tanh", solver="sgd",
                                      learning_rate_init=0.05))
        self.run_checks(MLPRegressor(activation="logistic", solver="rmsprop"))


class ModelSelection(unittest.TestCase):
    def test_pipeline_grid_search_and_cross_validation(self):
        x, y = blobs()
        pipe = make_pipeline(StandardScaler(),
                             MLPClassifier(max_iter=100, random_state=0,
                                           learning_rate_init=0.01))
        scores = cross_val_score(pipe, x, y, cv=3)
        self.assertEqual(scores.shape, (3,))
        self.assertGreater(scores.min(), 0.85)
        grid = GridSearchCV(pipe, {"mlpclassifier__hidden_layer_sizes":
                                   [(4,), (32,)],
                                   "mlpclassifier__alpha": [0.0, 1e-3]}, cv=3)
        grid.fit(x, y)
        self.assertIn(grid.best_params_["mlpclassifier__hidden_layer_sizes"],
                      [(4,), (32,)])
        self.assertEqual(len(grid.cv_results_["mean_test_score"]), 4)
        self.assertGreater(grid.best_score_, 0.85)
        self.assertGreater(grid.score(x, y), 0.85)

    def test_regressor_in_a_pipeline(self):
        x, y = make_regression(n_samples=300, n_features=5, noise=1.0,
                               random_state=1)
        y = (y - y.mean()) / y.std()
        pipe = make_pipeline(StandardScaler(),
                             MLPRegressor(hidden_layer_sizes=(32,),
                                          max_iter=200, random_state=0,
                                          learning_rate_init=0.01))
        scores = cross_val_score(pipe, x, y, cv=3)
        self.assertGreater(scores.min(), 0.95)


class WhatTheEstimatorsCompute(unittest.TestCase):
    def test_the_classifier_is_the_libnn_model_it_describes(self):
        x, y = blobs(120)
        clf = MLPClassifier(hidden_layer_sizes=(8, 5), activation="tanh",
                            solver="sgd", learning_rate_init=0.05,
                            momentum=0.8, alpha=1e-3, batch_size=32,
                            max_iter=7, random_state=3).fit(x, y)
        seed = check_random_state(3).randint(2 ** 31 - 1)
        m = libnn.Model(6, seed=int(seed))
        m.add_dense(8, "tanh").add_dense(5, "tanh").add_dense(3, "softmax")
        m.set_loss("cross_entropy").set_optimizer("sgd")
        m.set_param("learning_rate", 0.05).set_param("weight_decay", 1e-3)
        m.set_param("momentum", 0.8).set_param("nesterov", 1)
        m.set_param("batch_size", 32).set_param("epochs", 7)
        losses = []
        with libnn.Data(x.astype(np.float32), y.astype(np.int32)) as d:
            m.fit(d, on_epoch=lambda e, loss, *rest: losses.append(loss))
        self.assertEqual(clf.loss_curve_, losses)
        self.assertEqual((clf.n_iter_, clf.t_), (7, 7 * 4))
        want = np.vstack([m.predict(x[i:i + 1].astype(np.float32))
                          for i in range(len(x))])
        np.testing.assert_array_equal(bits32(clf.predict_proba(x)), bits32(want))
        np.testing.assert_array_equal(clf.predict(x), np.argmax(want, axis=1))

    def test_predict_proba_is_the_softmax_of_the_weights(self):
        x, y = blobs(90)
        clf = MLPClassifier(hidden_layer_sizes=(7,), activation="logistic",
                            max_iter=20, random_state=0).fit(x, y)
        w0, b0 = clf.model_.get_weights(0), clf.model_.get_bias(0)
        w1, b1 = clf.model_.get_weights(1), clf.model_.get_bias(1)
        h = 1 / (1 + np.exp(-(x @ w0.astype(float) + b0)))
        z = h @ w1.astype(float) + b1
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        np.testing.assert_allclose(clf.predict_proba(x), p, atol=2e-6)

    def test_labels_of_any_type(self):
        x, y = blobs(150)
        for labels in (np.array(["cat", "dog", "eel"])[y], y + 10,
                       y.astype(np.float64) - 1, y.astype(np.int8)):
            with self.subTest(dtype=labels.dtype):
                clf = MLPClassifier(max_iter=80, random_state=0).fit(x, labels)
                np.testing.assert_array_equal(clf.classes_, np.unique(labels))
                pred = clf.predict(x)
                self.assertEqual(pred.dtype, labels.dtype)
                self.assertGreater(np.mean(pred == labels), 0.9)
        with self.assertRaisesRegex(ValueError, "class"):
            MLPClassifier().fit(x, np.zeros(len(x)))

    def test_partial_fit(self):
        x, y = blobs(200)
        clf = MLPClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.01,
                            random_state=0)
        with self.assertRaisesRegex(ValueError, "classes"):
            clf.partial_fit(x, y)
        for _ in range(30):
            clf.partial_fit(x, y, classes=[0, 1, 2])
        self.assertEqual(clf.n_iter_, 30)
        self.assertLess(clf.loss_curve_[-1], clf.loss_curve_[0] / 2)
        with self.assertRaisesRegex(ValueError, "features"):
            clf.partial_fit(x[:, :5], y)
        with self.assertRaisesRegex(ValueError, "not in classes_"):
            clf.partial_fit(x, y + 1)

    def test_pickle_and_clone(self):
        x, y = blobs(120)
        clf = MLPClassifier(max_iter=30, random_state=0).fit(x, y)
        again = pickle.loads(pickle.dumps(clf))
        self.assertIsNot(again.model_, clf.model_)
        np.testing.assert_array_equal(again.predict_proba(x),
                                      clf.predict_proba(x))
        fresh = clone(clf)
        with self.assertRaises(NotFittedError):
            fresh.predict(x)
        self.assertEqual(fresh.get_params(), clf.get_params())

    def test_regressor_one_and_several_targets(self):
        rng = np.random.default_rng(0)
        x = rng.uniform(-1, 1, (400, 2))
        y = 2 * x[:, 0] - x[:, 1] + 0.5
        reg = MLPRegressor(hidden_layer_sizes=(16,), learning_rate_init=0.01,
                           max_iter=300, random_state=0).fit(x, y)
        self.assertEqual(reg.predict(x).shape, (400,))
        self.assertGreater(reg.score(x, y), 0.99)
        y2 = np.column_stack([y, -y])
        reg2 = clone(reg).fit(x, y2)
        self.assertEqual(reg2.predict(x).shape, (400, 2))
        self.assertGreater(reg2.score(x, y2), 0.99)

    def test_bad_parameters_are_value_errors_at_fit(self):
        x, y = blobs(30)
        for params in ({"hidden_layer_sizes": (0,)}, {"activation": "swish"},
                       {"solver": "lbfgs"}, {"max_iter": 0},
                       {"batch_size": -1}, {"learning_rate_init": 0.0},
                       {"alpha": -1.0}):
            with self.subTest(params=params):
                with self.assertRaises(ValueError):
                    MLPClassifier(**params).fit(x, y)



class OnnxOfAFittedEstimator(unittest.TestCase):
    """model_ exports as any libnn.Model does: the file computes the
    classifier's predict_proba, columns in classes_ order, and the
    regressor's predict."""

    @unittest.skipUnless(onnx_reader(), "this libnn was built without the "
                         "ONNX reader (test_onnx checks its NN_E_STATE)")
    def test_the_file_computes_predict_proba_and_predict(self):
        x, y = blobs(120)
        labels = np.array(["cat", "dog", "eel"])[y]
        clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=20,
                            random_state=0).fit(x, labels)
        back = libnn.Model.from_onnx(clf.model_.to_onnx())
        proba = back.predict(x, rowwise=True)
        np.testing.assert_array_equal(bits32(proba),
                                      bits32(clf.predict_proba(x)))
        np.testing.assert_array_equal(clf.classes_[np.argmax(proba, axis=1)],
                                      clf.predict(x))
        reg = MLPRegressor(hidden_layer_sizes=(8,), max_iter=20,
                           random_state=0).fit(x, y.astype(np.float64))
        back = libnn.Model.from_onnx(reg.model_.to_onnx())
        np.testing.assert_array_equal(
            bits32(back.predict(x, rowwise=True).ravel()),
            bits32(reg.predict(x)))

if __name__ == "__main__":
    unittest.main()
