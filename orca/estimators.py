"""scikit-learn facade over the functional core: ``CrossModalClassifier`` and ``CrossModalRegressor``.

``__init__`` only stores parameters (so ``clone``, ``get_params``/``set_params`` and grid search work); ``fit``
builds the model through :func:`orca.pipeline.fit`. Fitted attributes end in ``_``. Inputs pick the
embedder by rank: a 2D array or DataFrame is a table, ``(N, C, L)`` a sequence, ``(N, C, H, W)`` an image.
"""

from __future__ import annotations

import copy
import difflib
import inspect
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.multiclass import type_of_target

from . import modelfile
from .bodies import Body, load_body
from .config import OrcaConfig, flatten, unflatten
from .data import ArrayDataset, InputScaler, TargetScaler
from .defaults import facade_flat
from .exceptions import ConfigError, DataError, DivergenceError, NotFittedError
from .pipeline import RunResult, chosen_epochs
from .pipeline import fit as fit_pipeline
from .pipeline import refit as refit_pipeline
from .refine import predict as predict_arrays
from .tabular import TabularPreprocessor
from .tasks import DEFAULT_METRIC, Task, check_inputs
from .validate import check_runnable


def _param_name(dotted: str) -> str:
    """``refine.lr`` -> ``refine__lr`` (skorch's routing convention); the body's name is plainly ``body``."""
    return "body" if dotted == "body.name" else dotted.replace(".", "__")


_CONFIG_DEFAULTS: dict[str, Any] = facade_flat()  # dotted key -> default, every field (orca.defaults)

CONFIG_PARAMS: dict[str, str] = {_param_name(k): k for k in _CONFIG_DEFAULTS}
"""Facade parameter -> dotted :class:`OrcaConfig` key, for every field of the config."""

FACADE_PARAMS: dict[str, Any] = {"categorical_features": None, "standardize_input": True, "standardize_target": True,
                                 "metric": None, "verbose": False,
                                 "checkpoint_dir": None, "checkpoint_every_s": 0.0, "log_dir": None}
"""Parameters of the estimator itself (not of the config), with their defaults."""

_DEFAULTS: dict[str, Any] = {**{p: _CONFIG_DEFAULTS[k] for p, k in CONFIG_PARAMS.items()}, **FACADE_PARAMS}


def _unknown_params(owner: str, unknown: list[str]) -> str:
    hints = []
    for name in unknown:
        routed = [p for p in _DEFAULTS if p.endswith(f"__{name}")]
        close = routed or difflib.get_close_matches(name, list(_DEFAULTS), n=1)
        hints.append(f"{name!r}" + (f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""))
    return (f"{owner} got unknown parameters {', '.join(hints)}; its parameters are body, every OrcaConfig field as "
            f"section__field (e.g. refine__lr, align__objective; `orca config` lists them) and "
            f"{', '.join(FACADE_PARAMS)}")


class _CrossModalBase(BaseEstimator):
    """Shared by :class:`CrossModalClassifier` and :class:`CrossModalRegressor` (see their docstrings)."""

    def __init__(self, body: str | Body = "minilm", **params: Any) -> None:
        unknown = sorted(set(params) - set(_DEFAULTS))
        if unknown:
            raise TypeError(_unknown_params(type(self).__name__, unknown))
        self.body = body
        for name, default in _DEFAULTS.items():
            if name != "body":
                setattr(self, name, params.get(name, default))

    def set_params(self, **params: Any) -> _CrossModalBase:
        """Set parameters by name (``refine__lr=1e-4`` sets the config's ``refine.lr``, not a sub-estimator)."""
        unknown = sorted(set(params) - set(_DEFAULTS))
        if unknown:
            raise ValueError(_unknown_params(type(self).__name__, unknown))
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # tables: NaN is "missing" (sequences and images refuse it)
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.non_deterministic = False
        return tags

    # ---- config <-> parameters ---------------------------------------------------------------------------
    def make_config(self) -> OrcaConfig:
        """The :class:`OrcaConfig` these parameters describe (validated)."""
        values = {dotted: getattr(self, name) for name, dotted in CONFIG_PARAMS.items()}
        if isinstance(values["body.name"], Body):
            values["body.name"] = values["body.name"].name
        return OrcaConfig.from_dict(unflatten(values))

    @classmethod
    def from_config(cls, config: OrcaConfig, **kwargs: Any) -> _CrossModalBase:
        """An estimator whose parameters reproduce every field of ``config`` (plus facade parameters such as
        ``categorical_features`` in ``kwargs``)."""
        flat = flatten(config.to_dict())
        params = {name: flat[dotted] for name, dotted in CONFIG_PARAMS.items()}
        params.update(kwargs)
        return cls(**params)

    # ---- input handling ----------------------------------------------------------------------------------
    def _as_input(self, X: Any, what: str = "X") -> Any:
        """A DataFrame as it is, anything else as an array; sparse, complex, empty and wrongly ranked input refused."""
        if X is None:
            raise DataError(f"{what} is None; expected a table (N, F), sequences (N, C, L) or images (N, C, H, W)")
        if sp.issparse(X):
            raise TypeError(f"sparse input ({type(X).__name__}) is not supported: tables are tokenised per column "
                            "and need dense values; pass X.toarray() or a DataFrame")
        if not isinstance(X, pd.DataFrame):
            X = np.asarray(X)
            if X.dtype.kind == "c":
                raise DataError(f"Complex data not supported: {what} has dtype {X.dtype}; pass real numbers")
            if X.ndim not in (2, 3, 4):
                raise DataError(f"{what} must be a table (N, F), sequences (N, C, L) or images (N, C, H, W); got a "
                                f"{X.ndim}D array of shape {X.shape}" + (" (Expected 2D array, got 1D array instead. "
                                "Reshape your data with X.reshape(-1, 1) for a single feature or X.reshape(1, -1) "
                                "for a single row)" if X.ndim == 1 else ""))
        if len(X) == 0:
            raise DataError(f"{what} has 0 rows; at least one is needed")
        if X.ndim == 2 and X.shape[1] == 0:
            raise DataError(f"{what} has 0 feature(s) (shape=({X.shape[0]}, 0)) while a minimum of 1 is required: "
                            "a table needs at least one column")
        return X

    def _prepare_X(self, X: Any, fitting: bool) -> np.ndarray:
        X = self._as_input(X)
        is_table = isinstance(X, pd.DataFrame) or X.ndim == 2
        if fitting:
            self.input_kind_ = "tabular" if is_table else ("sequence" if X.ndim == 3 else "image")
            self.input_scaler_ = None if is_table or not self.standardize_input else InputScaler.fit(X)
            if is_table:
                self.preprocessor_ = TabularPreprocessor(self.categorical_features).fit(X)
                self.n_features_in_ = X.shape[1]
                if self.preprocessor_.named_ and all(isinstance(c, str) for c in X.columns):
                    self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        elif is_table != (self.input_kind_ == "tabular"):
            raise DataError(f"X has shape {np.shape(X)}, but {type(self).__name__} was fitted on "
                            f"{self.input_kind_} input")
        if self.input_kind_ == "tabular":
            if not fitting and not self.preprocessor_.named_ and X.shape[1] != self.n_features_in_:
                raise DataError(f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                                f"{self.n_features_in_} features as input")
            return self.preprocessor_.transform(X)
        scaler = getattr(self, "input_scaler_", None)  # None: fitted without it (or by an older version)
        return X if scaler is None else scaler.transform(X)

    def _encode_y(self, y: Any, fitting: bool) -> np.ndarray:
        return np.asarray(y, dtype=np.float32)

    def _make_task(self, X: np.ndarray, y: np.ndarray) -> Task:
        raise NotImplementedError

    _METRICS: tuple[str, ...] = ()  # the task metrics ``metric`` may name (set by each estimator)
    _OUTPUTS: tuple[str, ...] = ()  # the task outputs this estimator builds (set by each estimator)

    def _task_metric(self) -> str | None:
        """``metric`` checked against the metrics this estimator's tasks can score (None: the task's default)."""
        if self.metric is not None and self.metric not in self._METRICS:
            default = ", or ".join(DEFAULT_METRIC[o] + (f" for {o}" if len(self._OUTPUTS) > 1 else "")
                                   for o in self._OUTPUTS)
            raise ConfigError(f"{type(self).__name__} got metric={self.metric!r}; expected None (the default, "
                              f"{default}) or one of {list(self._METRICS)}")
        return self.metric

    def _categorical(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Categorical column indices and cardinalities of a fitted table (empty for other inputs)."""
        if self.input_kind_ != "tabular":
            return (), ()
        return tuple(self.preprocessor_.categorical_), tuple(self.preprocessor_.cardinalities)

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(X, y) first")

    # ---- sklearn API ---------------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any, X_val: Any = None, y_val: Any = None, X_test: Any = None, y_test: Any = None,
            source: Any = None, resume: bool = False,
            on_epoch: Callable[[int, float], bool] | None = None) -> _CrossModalBase:
        """Build, align and refine on ``(X, y)``; select on ``(X_val, y_val)`` or a split carved from ``X``.

        ``X_test``/``y_test``, when given, are scored once after selection (``result_["metrics"]["test"]``).
        ``on_epoch(epoch, validation score)``, when given, is called after each refine epoch and stops training by
        returning True (a search's pruner; the stop reason is then ``"pruned"``).
        After the fit, ``val_index_`` holds the rows of ``X`` carved for validation (``None`` when ``X_val`` was
        given), so that a caller can score the selected model on exactly the rows it was selected on.
        """
        config = self.make_config()
        check_runnable(config, body_given=isinstance(self.body, Body))  # before any work on the data
        self._task_metric()  # a bad name is refused before any work on the data, too
        if y is None:
            raise DataError(f"{type(self).__name__} requires y to be passed, but the target y is None")
        X = self._as_input(X)
        y = y if isinstance(y, (pd.Series, pd.DataFrame)) else np.asarray(y)
        if len(X) != len(y):
            raise DataError(f"X has {len(X)} rows but y has {len(y)}; they must match")
        if len(X) < 2:
            raise DataError(f"fit needs at least 2 rows (one to train on, one to select on); got {len(X)} sample")
        Xa = self._prepare_X(X, fitting=True)
        ya = self._encode_y(y, fitting=True)
        task = self._make_task(Xa, ya)
        val = (self._prepare_X(X_val, False), self._encode_y(y_val, False)) if X_val is not None else (None, None)
        test = (self._prepare_X(X_test, False), self._encode_y(y_test, False)) if X_test is not None else (None, None)
        body = copy.deepcopy(self.body) if isinstance(self.body, Body) else None
        extra = {"classification": ("accuracy", "roc_auc"), "regression": ("r2",)}.get(task.output, ())
        run: RunResult = fit_pipeline(task, Xa, ya, config, X_val=val[0], y_val=val[1], X_test=test[0],
                                      y_test=test[1], body=body, source=source, checkpoint_dir=self.checkpoint_dir, log_dir=self.log_dir,
                                      resume=resume, progress=self.verbose, extra_metrics=extra,
                                      standardize_target=self.standardize_target,
                                      checkpoint_every_s=self.checkpoint_every_s, on_epoch=on_epoch)
        self.target_scaler_ = run.target_scaler
        self.val_index_ = run.val_index
        self.task_, self.config_, self.model_ = task, config, run.model
        self.history_ = run.refine_info["history"]
        self.align_report_ = run.align_report
        self.result_ = run.to_dict(config, task, {"estimator": type(self).__name__})
        return self

    def refit(self, X: Any, y: Any, source: Any = None, epochs: int | None = None,
              epochs_cap: int | None = None) -> _CrossModalBase:
        """Train again from fresh weights on all of ``(X, y)``, training and validation rows, and keep that model.

        ``X`` and ``y`` must be what :meth:`fit` was given (and ``source`` too, where it was given one). The refit
        runs the fitted run's chosen epochs (its best epoch + 1) under its schedule (planned over its epoch cap),
        so the model is the one ``fit`` with ``refine__refit=True`` returns; this serves a caller that decides on
        the refit after seeing the validation score (a search refits only its chosen trial). The refit's record
        goes to ``result_["refine"]["refit"]``. A model read back with :meth:`load` has no fit record: give
        ``epochs`` and ``epochs_cap`` (``result_["refine"]["training"]``'s best epoch + 1 and ``epochs_cap``).
        """
        self._check_fitted()
        record = getattr(self, "result_", None)
        if epochs is None or epochs_cap is None:
            training = (record or {}).get("refine", {}).get("training")
            if training is None:
                raise NotFittedError("refit needs the fit's record (its best epoch and epoch cap), which a model read "
                                     "back from a file does not have; give epochs and epochs_cap")
            epochs = epochs if epochs is not None else chosen_epochs(training)
            epochs_cap = epochs_cap if epochs_cap is not None else training["epochs_cap"]
        X = self._as_input(X)
        Xa = self._prepare_X(X, fitting=False)
        ya = self._encode_y(y if isinstance(y, (pd.Series, pd.DataFrame)) else np.asarray(y), fitting=False)
        split = (record or {}).get("split")
        if split is not None and len(Xa) != split["train"] + split["val"]:
            raise DataError(f"refit takes the rows fit was given ({split['train'] + split['val']}: training and "
                            f"validation); got {len(Xa)}")
        body = copy.deepcopy(self.body) if isinstance(self.body, Body) else None
        model, info = refit_pipeline(self.task_, Xa, ya, self.config_, int(epochs), int(epochs_cap), body=body,
                                     source=source, target_scaler=getattr(self, "target_scaler_", None),
                                     checkpoint_dir=self.checkpoint_dir, progress=self.verbose, log_dir=self.log_dir,
                                     checkpoint_every_s=self.checkpoint_every_s)
        self.model_ = model
        if record is not None:
            record.setdefault("refine", {})["refit"] = info
        return self

    def _raw_predict(self, X: Any) -> np.ndarray:
        self._check_fitted()
        Xa = check_inputs(self.task_, self._prepare_X(X, fitting=False), allow_nan=self.input_kind_ == "tabular")
        dummy = np.zeros(len(Xa), dtype=np.float32)
        _, pred = predict_arrays(self.model_, ArrayDataset(Xa, dummy), self.config_.refine.eval_batch_size)
        bad = ~np.isfinite(pred.reshape(len(pred), -1)).all(axis=1)
        if bad.any():
            raise DivergenceError(f"the model produced non-finite outputs for {int(bad.sum())} of {len(pred)} rows "
                                  "(its weights or these inputs are far outside what it was trained on)")
        scaler = getattr(self, "target_scaler_", None)
        return scaler.inverse(pred) if scaler is not None else pred

    # ---- persistence -----------------------------------------------------------------------------------
    def _metadata(self) -> dict[str, Any]:
        import sys

        import torch
        import transformers

        from . import __version__

        classes = getattr(self, "classes_", None)
        return {
            "class": type(self).__name__, "params": {k: getattr(self, k) for k in FACADE_PARAMS},
            "config": self.config_.to_dict(), "task": self.task_.to_dict(), "input_kind": self.input_kind_,
            "preprocessor": self.preprocessor_.state() if self.input_kind_ == "tabular" else None,
            "classes": None if classes is None else {"values": classes.tolist(), "dtype": classes.dtype.str},
            "target_scaler": self.target_scaler_.state() if self.target_scaler_ is not None else None,
            "input_scaler": self.input_scaler_.state() if getattr(self, "input_scaler_", None) is not None else None,
            "target_shape": getattr(self, "target_shape_", None),
            "data_sha256": (self.result_.get("refine", {}).get("refit")  # what the model trained on last
                            or self.result_.get("refine", {})).get("data_sha256"),
            "versions": {"orca": __version__, "torch": torch.__version__, "transformers": transformers.__version__,
                         "python": sys.version.split()[0]},
        }

    def save(self, path: str | Path, extra: dict[str, Any] | None = None) -> Path:
        """Write the fitted model to one ``.safetensors`` file (atomically): weights as tensors, everything
        else (config, task, preprocessing, classes, data hash, versions, and ``extra``) as JSON metadata.
        Loading it runs no code from the file (see :mod:`orca.modelfile`)."""
        self._check_fitted()
        return modelfile.write(path, self.model_, {**self._metadata(), "extra": extra or {}})

    @classmethod
    def load(cls, path: str | Path, body: Body | None = None) -> _CrossModalBase:
        """Rebuild a fitted estimator from :meth:`save`'s file (the body is loaded by name unless given)."""
        meta = modelfile.read_meta(path)
        est = cls._from_meta(meta, body)
        modelfile.load_weights(path, est.model_)
        est.model_.eval()
        return est

    @classmethod
    def _from_meta(cls, meta: dict[str, Any], body: Body | None) -> _CrossModalBase:
        from .model import build

        if not issubclass(estimator_class(meta["class"]), cls):
            raise modelfile.ModelFileError(f"the file holds a {meta['class']}, not a {cls.__name__}; load it with "
                                           f"{meta['class']}.load or orca.estimators.load")
        config = OrcaConfig.from_dict(meta["config"])
        est = cls.from_config(config, **meta.get("params", {}))
        est.config_, est.task_ = config, Task.from_dict(meta["task"])
        loaded = body if body is not None else load_body(config.body.name, config.body.dropout,
                                                         config.body.attention_dropout)
        est.model_ = build(est.task_, config, loaded)
        est.input_kind_ = meta["input_kind"]
        if meta.get("preprocessor") is not None:
            est.preprocessor_ = TabularPreprocessor.from_state(meta["preprocessor"])
            est.n_features_in_ = len(est.preprocessor_.columns_)
            if est.preprocessor_.named_:
                est.feature_names_in_ = np.asarray(est.preprocessor_.columns_, dtype=object)
        if meta.get("classes") is not None:
            est.classes_ = np.asarray(meta["classes"]["values"], dtype=meta["classes"]["dtype"])
        est.target_scaler_ = TargetScaler.from_state(meta["target_scaler"]) if meta.get("target_scaler") else None
        est.input_scaler_ = InputScaler.from_state(meta["input_scaler"]) if meta.get("input_scaler") else None
        if meta.get("target_shape") is not None:
            est.target_shape_ = tuple(meta["target_shape"])
        est.result_ = {"refine": {"data_sha256": meta.get("data_sha256")}}
        est.metadata_ = meta
        return est

    @classmethod
    def from_legacy_state(cls, state: dict[str, Any], body: Body | None = None) -> _CrossModalBase:
        """An estimator from the dict an orca 0.1 ``model.pt`` held (see :func:`orca.modelfile.convert_legacy`)."""
        old = state.get("params", {})
        meta = {"class": state["class"], "config": state["config"], "task": state["task"],
                "input_kind": state["input_kind"],
                "params": {k: old[k] for k in ("categorical_features", "standardize_target") if k in old},
                "preprocessor": ({**state["preprocessor"], "named": False} if state.get("preprocessor") else None),
                "classes": None if state.get("classes") is None else
                {"values": np.asarray(state["classes"]).tolist(), "dtype": np.asarray(state["classes"]).dtype.str},
                "target_scaler": state.get("target_scaler"), "target_shape": state.get("target_shape")}
        est = cls._from_meta(meta, body)
        est.model_.load_state_dict(state["model"])
        return est


def estimator_class(name: str) -> type[_CrossModalBase]:
    """``"CrossModalClassifier"`` -> the class (the name a model file records)."""
    classes = {"CrossModalClassifier": CrossModalClassifier, "CrossModalRegressor": CrossModalRegressor}
    if name not in classes:
        raise modelfile.ModelFileError(f"unknown estimator class {name!r} in the model file; expected one of "
                                       f"{sorted(classes)}")
    return classes[name]


def load(path: str | Path, body: Body | None = None) -> _CrossModalBase:
    """Load a model file written by either estimator's :meth:`save`, as the class it was saved from."""
    return estimator_class(modelfile.read_meta(path)["class"]).load(path, body)


def _signature() -> inspect.Signature:
    """``__init__``'s signature as scikit-learn reads it: ``body`` first, then every parameter by keyword."""
    P = inspect.Parameter
    params = [P("self", P.POSITIONAL_OR_KEYWORD), P("body", P.POSITIONAL_OR_KEYWORD, default=_DEFAULTS["body"])]
    params += [P(name, P.KEYWORD_ONLY, default=default) for name, default in _DEFAULTS.items() if name != "body"]
    return inspect.Signature(params)


_CrossModalBase.__init__.__signature__ = _signature()  # type: ignore[attr-defined]


class CrossModalClassifier(ClassifierMixin, _CrossModalBase):
    """ORCA classifier: any-modality inputs, a pretrained transformer body, class labels of any type.

    Parameters
    ----------
    body : str or Body, default "minilm"
        Registered body name, local Hugging Face folder or hub id; or a loaded :class:`orca.bodies.Body`.
    section__field :
        Every field of :class:`orca.config.OrcaConfig`, named as skorch routes parameters: ``refine__lr``,
        ``refine__epochs``, ``align__objective``, ``embedder__target_seq_len``, ``body__finetune``, ``seed``,
        ``device``, ... (``orca config`` prints them all with their defaults). ``make_config()`` returns the
        config they describe and ``from_config(config)`` builds the estimator back, field for field.
    categorical_features : list of int or str, optional
        Tables only: categorical columns (default: the non-numeric columns of a DataFrame).
    standardize_input : bool, default True
        Series and images only (tables are always standardised per column): standardise each channel with its
        training mean and standard deviation, in ``fit`` and at prediction.
    standardize_target : bool, default True
        Regression only (ignored for classification): train on targets standardised with training statistics;
        predictions and reported metrics are in the original units.
    metric : str, optional
        The validation score refine selects its epoch on, stops early on (``refine__patience``) and reports to an
        ``on_epoch`` callback: one of ``accuracy``, ``error``, ``f1_macro``, ``roc_auc``, ``log_loss`` for the
        classifier (default ``accuracy``), ``mse``, ``rmse``, ``mae``, ``r2``, ``relative_l2``, ``nrmse`` for the
        regressor (default ``rmse``; ``relative_l2`` for dense fields). On imbalanced classes accuracy can sit at
        the majority rate for many epochs, so early stopping on it keeps an early model; ``roc_auc`` ranks
        probabilities and moves when it does not.
    verbose : bool, default False
        Progress bars for the two training stages.
    checkpoint_dir : str, optional
        Where refine writes ``last.pt``/``best.pt`` (``fit(..., resume=True)`` continues from them).
    checkpoint_every_s : float, default 0.0
        Write those checkpoints at most this often (0: after every epoch).
    log_dir : str, optional
        Refine writes one CSV row per epoch there as it trains (``refine_log.csv``: losses, learning rate,
        validation scores, elapsed seconds; TensorBoard scalars too when ``tensorboard`` is installed).

    Attributes
    ----------
    classes_ : ndarray
        Class labels seen in ``fit``; predictions are drawn from them.
    n_features_in_, feature_names_in_ :
        Tables only: the column count and (for a DataFrame with string column names) the names; ``predict``
        matches a DataFrame's columns by name, in any order, and refuses missing, extra or renamed ones.
    model_, task_, config_, history_, align_report_, result_ :
        The fitted model and what was measured while fitting it.

    Notes
    -----
    ``sklearn.utils.estimator_checks.check_estimator`` passes except the checks in
    :data:`EXPECTED_FAILED_CHECKS`, each with its reason.
    """

    def _encode_y(self, y: Any, fitting: bool) -> np.ndarray:
        y = np.asarray(y)
        if y.dtype.kind == "c":
            raise DataError(f"Complex data not supported: y has dtype {y.dtype}")
        if y.ndim == 2 and y.shape[1] == 1:
            warnings.warn("A column-vector y was passed when a 1d array was expected; it is read as y.ravel()",
                          DataConversionWarning, stacklevel=3)
            y = y[:, 0]
        if y.ndim != 1:
            raise DataError(f"classification labels must be 1D (one label per row); y should be a 1d array, got "
                            f"shape {y.shape}")
        missing = pd.isna(y) if y.dtype.kind == "O" else (np.isnan(y) if y.dtype.kind == "f" else np.zeros(len(y), bool))
        if y.dtype.kind == "f" and np.isinf(y).any():
            raise DataError(f"y holds inf in {int(np.isinf(y).sum())} rows; a class label must be a finite number "
                            "or a string")
        if missing.any():
            raise DataError(f"y is missing (NaN/None) in {int(missing.sum())} of {len(y)} rows; every training row "
                            "needs a class label: drop the unlabelled rows first")
        if fitting:
            kind = type_of_target(y)
            if kind not in ("binary", "multiclass"):
                raise DataError(f"Unknown label type: {kind}. {type(self).__name__} takes discrete class labels; "
                                f"y looks {kind} ({len(np.unique(y))} distinct values): use CrossModalRegressor for "
                                "a numeric target")
            self.classes_ = np.unique(y)
            if len(self.classes_) < 2:
                raise DataError(f"classification needs at least 2 classes in y; got one class, "
                                f"{self.classes_.tolist()}")
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if len(unseen):
            raise DataError(f"labels {unseen.tolist()} were not seen in training; known labels: "
                            f"{self.classes_.tolist()}")
        return np.searchsorted(self.classes_, y).astype(np.int64)

    _METRICS = ("accuracy", "error", "f1_macro", "roc_auc", "log_loss")
    _OUTPUTS = ("classification",)

    def _make_task(self, X: np.ndarray, y: np.ndarray) -> Task:
        cat, cards = self._categorical()
        return Task("user-classification", X.shape[1:], "classification", (len(self.classes_),),
                    metric=self._task_metric(), categorical=cat, cardinalities=cards)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(N, n_classes)`` in the order of ``classes_``."""
        return self._raw_predict(X)

    def predict(self, X: Any) -> np.ndarray:
        proba = self.predict_proba(X)  # checks that the estimator is fitted
        return self.classes_[np.argmax(proba, axis=1)]

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        self._check_fitted()
        self._encode_y(y, fitting=False)  # unseen labels are an error, not a silent miss
        return super().score(X, y, sample_weight)


class CrossModalRegressor(RegressorMixin, _CrossModalBase):
    """ORCA regressor: scalar or vector targets ``(N,)``/``(N, T)``, or dense fields of the input's spatial
    size ``(N, C_out, L)``/``(N, C_out, H, W)`` for sequence and image inputs. Parameters as
    :class:`CrossModalClassifier`."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True  # (N, T) targets, and dense fields
        return tags

    def _encode_y(self, y: Any, fitting: bool) -> np.ndarray:
        y = np.asarray(y)
        if y.dtype.kind == "c":
            raise DataError(f"Complex data not supported: y has dtype {y.dtype}")
        try:
            y = y.astype(np.float32)
        except (TypeError, ValueError) as exc:
            raise DataError(f"regression targets must be numbers; y has dtype {y.dtype} ({exc})") from exc
        if fitting:
            self.target_shape_ = y.shape[1:]
        elif y.shape[1:] != self.target_shape_:
            raise DataError(f"y has example shape {y.shape[1:]}; the model was fitted on {self.target_shape_}")
        return y

    _METRICS = ("mse", "rmse", "mae", "r2", "relative_l2", "nrmse")
    _OUTPUTS = ("regression", "dense")

    def _make_task(self, X: np.ndarray, y: np.ndarray) -> Task:
        cat, cards = self._categorical()
        metric = self._task_metric()  # None: the task's default for its output kind
        if y.ndim >= 3:
            return Task("user-dense", X.shape[1:], "dense", y.shape[1:], metric=metric)
        shape = (1,) if y.ndim == 1 else y.shape[1:]
        return Task("user-regression", X.shape[1:], "regression", shape, metric=metric, categorical=cat,
                    cardinalities=cards)

    def predict(self, X: Any) -> np.ndarray:
        pred = self._raw_predict(X).astype(np.float64)  # float64 as scikit-learn's regressors return
        return pred[:, 0] if self.target_shape_ == () else pred


EXPECTED_FAILED_CHECKS: dict[str, str] = {}
"""``check_estimator`` checks the estimators do not pass, each with its reason: none (scikit-learn 1.9, with a
body given by name; a loaded :class:`~orca.bodies.Body` object as the ``body`` parameter is a convenience that
scikit-learn's parameter checks do not cover). ``check_array_api_input`` is skipped by scikit-learn itself unless
``SCIPY_ARRAY_API`` is set."""
