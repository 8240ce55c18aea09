# SPDX-License-Identifier: MIT
"""scikit-learn estimators on libnn: MLPClassifier and MLPRegressor.

    from libnn.sklearn import MLPClassifier
    clf = MLPClassifier(hidden_layer_sizes=(32,), max_iter=100,
                        random_state=0).fit(X, y)
    clf.predict(X), clf.predict_proba(X), clf.score(X, y)

They take the parameters of sklearn.neural_network's estimators of the same
names that libnn has an equivalent for, so they can stand in for them in a
Pipeline, GridSearchCV or cross_val_score, and follow scikit-learn's
estimator rules (check_estimator passes). The differences: libnn works in
float32; `alpha` is libnn's weight decay (added to each gradient, not
divided by the number of samples); training always runs max_iter epochs
(no tol, no early stopping); and solver also takes "adamw" and "rmsprop".

The classifier takes labels of any type (numbers, strings), ends in a
softmax over the classes (two for a binary problem) with cross-entropy,
and predict_proba gives that softmax.
Predictions are computed one row at a time (Model.predict's rowwise), so
that a row's prediction never depends on the other rows passed with it. The regressor ends in an identity
layer with mean squared error, for one target (y of shape (n,)) or several
((n, k)). Fitted estimators pickle and clone; model_ is the libnn.Model,
which model_.export_onnx(path) or model_.to_onnx() writes as ONNX: the
classifier's file computes predict_proba (columns in classes_ order, which
the file does not hold), the regressor's predict as (n, k), k = 1 for y
of shape (n,).

This module needs scikit-learn (Debian: python3-sklearn).
"""

from numbers import Integral
from typing import Any, List, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt
from sklearn.base import (BaseEstimator, ClassifierMixin,  # type: ignore
                          RegressorMixin)
from sklearn.utils import check_random_state  # type: ignore
from sklearn.utils.multiclass import check_classification_targets  # type: ignore
from sklearn.utils.validation import check_is_fitted  # type: ignore

from ._model import Data, Model
from ._nn_h import Activation, Loss, Optimizer, Param

__all__ = ["MLPClassifier", "MLPRegressor"]

_ACTIVATIONS = {"identity": Activation.IDENTITY,
                "logistic": Activation.SIGMOID,
                "tanh": Activation.TANH, "relu": Activation.RELU}
_SOLVERS = {"sgd": Optimizer.SGD, "adam": Optimizer.ADAM,
            "adamw": Optimizer.ADAMW, "rmsprop": Optimizer.RMSPROP}


class _BaseMLP(BaseEstimator):  # type: ignore[misc]
    """What the classifier and the regressor share."""

    _OUTPUT: Activation
    _LOSS: Loss

    def __init__(self, hidden_layer_sizes: Union[int, Sequence[int]] = (100,),
                 activation: str = "relu", *, solver: str = "adam",
                 alpha: float = 0.0001, batch_size: Union[int, str] = "auto",
                 learning_rate_init: float = 0.001, max_iter: int = 200,
                 shuffle: bool = True, random_state: Any = None,
                 momentum: float = 0.9, nesterovs_momentum: bool = True,
                 beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-8) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    # ---- parameters ----
    def _hidden(self) -> List[int]:
        given: Any = self.hidden_layer_sizes
        sizes: Sequence[Any] = [given] if isinstance(given, Integral) \
            else given
        try:
            out = [int(s) for s in sizes]
        except TypeError:
            raise ValueError("hidden_layer_sizes must be an int or a sequence "
                             "of ints, not %r" % (sizes,)) from None
        if any(s <= 0 or s != w for s, w in zip(out, sizes)):
            raise ValueError("hidden_layer_sizes must be positive integers, "
                             "got %r" % (sizes,))
        return out

    def _check_params(self) -> None:
        if self.activation not in _ACTIVATIONS and \
                self.activation.upper() not in Activation.__members__:
            raise ValueError("activation %r is not supported; use one of %s or "
                             "a libnn activation" % (self.activation,
                                                     sorted(_ACTIVATIONS)))
        if self.solver not in _SOLVERS:
            raise ValueError("solver %r is not supported; use one of %s"
                             % (self.solver, sorted(_SOLVERS)))
        if not isinstance(self.max_iter, Integral) or self.max_iter < 1:
            raise ValueError("max_iter must be an integer >= 1, got %r"
                             % (self.max_iter,))
        if self.batch_size != "auto" and (
                not isinstance(self.batch_size, Integral) or self.batch_size < 1):
            raise ValueError("batch_size must be 'auto' or an integer >= 1, "
                             "got %r" % (self.batch_size,))
        if self.learning_rate_init <= 0:
            raise ValueError("learning_rate_init must be > 0, got %r"
                             % (self.learning_rate_init,))
        if self.alpha < 0:
            raise ValueError("alpha must be >= 0, got %r" % (self.alpha,))

    def _build(self, n_features: int, n_outputs: int) -> Model:
        self._check_params()
        seed = check_random_state(self.random_state).randint(2 ** 31 - 1)
        act = _ACTIVATIONS.get(self.activation) or \
            Activation[self.activation.upper()]
        m = Model(n_features, seed=int(seed))
        for width in self._hidden():
            m.add_dense(width, act)
        m.add_dense(n_outputs, self._OUTPUT).set_loss(self._LOSS)
        solver = _SOLVERS[self.solver]
        m.set_optimizer(solver)
        m.set_param(Param.LEARNING_RATE, self.learning_rate_init)
        m.set_param(Param.WEIGHT_DECAY, self.alpha)
        m.set_param(Param.SHUFFLE, 1 if self.shuffle else 0)
        if solver == Optimizer.SGD:
            m.set_param(Param.MOMENTUM, self.momentum)
            m.set_param(Param.NESTEROV, 1 if self.nesterovs_momentum else 0)
        elif solver in (Optimizer.ADAM, Optimizer.ADAMW):
            m.set_param(Param.BETA1, self.beta_1)
            m.set_param(Param.BETA2, self.beta_2)
            m.set_param(Param.EPSILON, self.epsilon)
        elif solver == Optimizer.RMSPROP:
            m.set_param(Param.MOMENTUM, self.momentum)
            m.set_param(Param.EPSILON, self.epsilon)
        return m

    def _train(self, x: npt.NDArray[Any], t: npt.NDArray[Any],
               epochs: int) -> None:
        m: Model = self.model_
        n = x.shape[0]
        batch = min(200, n) if self.batch_size == "auto" \
            else min(int(self.batch_size), n)
        m.set_param(Param.BATCH_SIZE, batch)
        m.set_param(Param.EPOCHS, epochs)
        losses: List[float] = []
        with Data(x, t) as data:
            m.fit(data, on_epoch=lambda e, loss, *rest: losses.append(loss))
        self.loss_curve_ = getattr(self, "loss_curve_", []) + losses
        self.loss_ = losses[-1]
        self.n_iter_ = getattr(self, "n_iter_", 0) + len(losses)
        self.t_ = m.step_count

    def _forward(self, X: Any) -> npt.NDArray[np.float32]:
        check_is_fitted(self, "model_")
        x = self._validate_data(X, dtype=(np.float32, np.float64), reset=False)
        out: npt.NDArray[np.float32] = self.model_.predict(x, rowwise=True)
        return out


class MLPClassifier(ClassifierMixin, _BaseMLP):  # type: ignore[misc]
    """A multi-layer perceptron classifier on libnn (see the module's text).

    Attributes after fit: classes_, n_features_in_, n_outputs_, model_ (the
    libnn.Model), loss_ (last epoch's mean training loss), loss_curve_,
    n_iter_ (epochs run), t_ (optimizer steps)."""

    _OUTPUT = Activation.SOFTMAX
    _LOSS = Loss.CROSS_ENTROPY

    def _labels(self, y: npt.NDArray[Any]) -> npt.NDArray[np.int32]:
        idx = np.searchsorted(self.classes_, y)
        idx = np.clip(idx, 0, len(self.classes_) - 1)
        if not np.all(self.classes_[idx] == y):
            unknown = np.setdiff1d(y, self.classes_)
            raise ValueError("y holds labels not in classes_: %r"
                             % (unknown[:5].tolist(),))
        return idx.astype(np.int32)

    def fit(self, X: Any, y: Any) -> "MLPClassifier":
        """Trains a new model on X (n, features) and labels y (n,)."""
        for attr in ("loss_curve_", "n_iter_"):
            self.__dict__.pop(attr, None)
        x, y = self._validate_data(X, y, dtype=(np.float32, np.float64),
                                   reset=True)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        return self._fit_new(x, y, self.max_iter)

    def _fit_new(self, x: npt.NDArray[Any], y: npt.NDArray[Any],
                 epochs: int) -> "MLPClassifier":
        if len(self.classes_) < 2:
            raise ValueError("MLPClassifier needs samples of at least 2 "
                             "classes; y has 1 class: %r" % (self.classes_[0],))
        self.n_outputs_ = len(self.classes_)
        self.model_ = self._build(x.shape[1], self.n_outputs_)
        self._train(x, self._labels(y), epochs)
        return self

    def partial_fit(self, X: Any, y: Any,
                    classes: Optional[Any] = None) -> "MLPClassifier":
        """One epoch over X, y; the first call needs `classes`, every class
        there will be."""
        first = not hasattr(self, "model_")
        x, y = self._validate_data(X, y, dtype=(np.float32, np.float64),
                                   reset=first)
        check_classification_targets(y)
        if first:
            if classes is None:
                raise ValueError("classes must be given to the first "
                                 "partial_fit")
            self.classes_ = np.unique(classes)
            return self._fit_new(x, y, 1)
        if classes is not None and not np.array_equal(np.unique(classes),
                                                      self.classes_):
            raise ValueError("classes %r differ from the first partial_fit's %r"
                             % (classes, self.classes_))
        self._train(x, self._labels(y), 1)
        return self

    def predict_proba(self, X: Any) -> npt.NDArray[np.float64]:
        """The softmax output: (n, len(classes_)) probabilities."""
        return self._forward(X).astype(np.float64)

    def predict_log_proba(self, X: Any) -> npt.NDArray[np.float64]:
        with np.errstate(divide="ignore"):
            out: npt.NDArray[np.float64] = np.log(self.predict_proba(X))
        return out

    def predict(self, X: Any) -> npt.NDArray[Any]:
        """The most probable class of each row."""
        proba = self._forward(X)
        out: npt.NDArray[Any] = self.classes_[np.argmax(proba, axis=1)]
        return out


class MLPRegressor(RegressorMixin, _BaseMLP):  # type: ignore[misc]
    """A multi-layer perceptron regressor on libnn (see the module's text).

    Attributes after fit: n_features_in_, n_outputs_, model_, loss_ (last
    epoch's mean training loss: libnn's MSE, without sklearn's 1/2),
    loss_curve_, n_iter_, t_."""

    _OUTPUT = Activation.IDENTITY
    _LOSS = Loss.MSE

    def _targets(self, y: npt.NDArray[Any]) -> Tuple[npt.NDArray[Any], int]:
        t = y.reshape(-1, 1) if y.ndim == 1 else y
        return t, t.shape[1]

    def fit(self, X: Any, y: Any) -> "MLPRegressor":
        """Trains a new model on X (n, features) and y (n,) or (n, k)."""
        for attr in ("loss_curve_", "n_iter_"):
            self.__dict__.pop(attr, None)
        x, y = self._validate_data(X, y, dtype=(np.float32, np.float64),
                                   y_numeric=True, multi_output=True,
                                   reset=True)
        t, k = self._targets(y)
        self._y_ndim = y.ndim
        self.n_outputs_ = k
        self.model_ = self._build(x.shape[1], k)
        self._train(x, t.astype(np.float32), self.max_iter)
        return self

    def partial_fit(self, X: Any, y: Any) -> "MLPRegressor":
        """One epoch over X, y (a new model at the first call)."""
        first = not hasattr(self, "model_")
        x, y = self._validate_data(X, y, dtype=(np.float32, np.float64),
                                   y_numeric=True, multi_output=True,
                                   reset=first)
        t, k = self._targets(y)
        if first:
            self._y_ndim = y.ndim
            self.n_outputs_ = k
            self.model_ = self._build(x.shape[1], k)
        elif k != self.n_outputs_:
            raise ValueError("y has %d targets per row, the model %d"
                             % (k, self.n_outputs_))
        self._train(x, t.astype(np.float32), 1)
        return self

    def _more_tags(self) -> Any:
        return {"multioutput": True}

    def predict(self, X: Any) -> npt.NDArray[np.float64]:
        """Predictions: (n,) when fitted on y of shape (n,), else (n, k)."""
        y = self._forward(X).astype(np.float64)
        return y.ravel() if self._y_ndim == 1 else y
