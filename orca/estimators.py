"""scikit-learn facade over the functional core: ``CrossModalClassifier`` and ``CrossModalRegressor``.

``__init__`` only stores parameters (so ``clone``, ``get_params``/``set_params`` and grid search work); ``fit``
builds the model through :func:`orca.pipeline.fit`. Fitted attributes end in ``_``. Inputs pick the
embedder by rank: a 2D array or DataFrame is a table, ``(N, C, L)`` a sequence, ``(N, C, H, W)`` an image.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

from .bodies import Body, load_body
from .config import OrcaConfig
from .data import ArrayDataset, TargetScaler
from .exceptions import DataError, NotFittedError
from .io import torch_save
from .pipeline import RunResult, fit as fit_pipeline
from .refine import predict as predict_arrays
from .tabular import TabularPreprocessor
from .tasks import Task, check_inputs

# facade parameter -> dotted config key
PARAMS = {
    "body": "body.name", "finetune": "body.finetune", "target_seq_len": "embedder.target_seq_len",
    "tabular_mode": "embedder.tabular_mode", "patch_size": "embedder.patch_size", "resize": "embedder.resize",
    "head": "predictor.head", "objective": "align.objective", "align_steps": "align.steps", "align_lr": "align.lr",
    "epochs": "refine.epochs", "batch_size": "refine.batch_size", "lr": "refine.lr",
    "new_params_lr_mult": "refine.new_params_lr_mult", "weight_decay": "refine.weight_decay",
    "warmup_ratio": "refine.warmup_ratio", "schedule": "refine.schedule", "grad_clip": "refine.grad_clip",
    "val_fraction": "refine.val_fraction", "patience": "refine.patience", "max_steps": "refine.max_steps",
    "seed": "seed", "device": "device",
}


class _CrossModalBase(BaseEstimator):

    def __init__(self, body: str | Body = "minilm", *, categorical_features: list | None = None,
                 finetune: str = "all", target_seq_len: int = 128, tabular_mode: str = "tokenizer",
                 patch_size: int | None = None, resize: int | None = None, head: str = "linear",
                 objective: str = "otdd-exact", align_steps: int = 100, align_lr: float = 1e-3, epochs: int = 10,
                 batch_size: int = 32, lr: float = 5e-5, new_params_lr_mult: float = 10.0,
                 weight_decay: float = 0.01, warmup_ratio: float = 0.1, schedule: str = "cosine",
                 grad_clip: float | None = 1.0, val_fraction: float = 0.1, patience: int | None = None,
                 max_steps: int | None = None, seed: int = 0, device: str = "auto", verbose: bool = False,
                 checkpoint_dir: str | None = None, standardize_target: bool = True,
                 checkpoint_every_s: float = 0.0) -> None:
        self.body = body
        self.categorical_features = categorical_features
        self.finetune = finetune
        self.target_seq_len = target_seq_len
        self.tabular_mode = tabular_mode
        self.patch_size = patch_size
        self.resize = resize
        self.head = head
        self.objective = objective
        self.align_steps = align_steps
        self.align_lr = align_lr
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.new_params_lr_mult = new_params_lr_mult
        self.weight_decay = weight_decay
        self.warmup_ratio = warmup_ratio
        self.schedule = schedule
        self.grad_clip = grad_clip
        self.val_fraction = val_fraction
        self.patience = patience
        self.max_steps = max_steps
        self.seed = seed
        self.device = device
        self.verbose = verbose
        self.checkpoint_dir = checkpoint_dir
        self.standardize_target = standardize_target
        self.checkpoint_every_s = checkpoint_every_s

    # ---- config <-> parameters ---------------------------------------------------------------------------
    def make_config(self) -> OrcaConfig:
        """The :class:`OrcaConfig` these parameters describe (validated)."""
        values = {k: getattr(self, k) for k in PARAMS}
        if isinstance(values["body"], Body):
            values["body"] = values["body"].name
        return OrcaConfig().with_overrides({PARAMS[k]: v for k, v in values.items()})

    @classmethod
    def from_config(cls, config: OrcaConfig, **kwargs: Any) -> _CrossModalBase:
        """An estimator whose parameters reproduce ``config`` (plus ``kwargs`` such as categorical_features)."""
        flat = config.to_dict()
        params = {}
        for name, dotted in PARAMS.items():
            node: Any = flat
            for part in dotted.split("."):
                node = node[part]
            params[name] = node
        params.update(kwargs)
        return cls(**params)

    # ---- input handling ----------------------------------------------------------------------------------
    def _is_table(self, X: Any) -> bool:
        return isinstance(X, pd.DataFrame) or np.asarray(X).ndim == 2

    def _prepare_X(self, X: Any, fitting: bool) -> np.ndarray:
        if fitting:
            self.input_kind_ = "tabular" if self._is_table(X) else None
            if self.input_kind_ == "tabular":
                self.preprocessor_ = TabularPreprocessor(self.categorical_features).fit(X)
        if getattr(self, "input_kind_", None) == "tabular":
            return self.preprocessor_.transform(X)
        arr = np.asarray(X)
        if arr.ndim not in (3, 4):
            raise DataError(f"X must be a table (N, F), a sequence batch (N, C, L) or an image batch (N, C, H, W); "
                            f"got shape {arr.shape}")
        if fitting:
            self.input_kind_ = "sequence" if arr.ndim == 3 else "image"
        return arr

    def _encode_y(self, y: Any, fitting: bool) -> np.ndarray:
        return np.asarray(y, dtype=np.float32)

    def _make_task(self, X: np.ndarray, y: np.ndarray) -> Task:
        raise NotImplementedError

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
            source: Any = None, resume: bool = False) -> _CrossModalBase:
        """Build, align and refine on ``(X, y)``; select on ``(X_val, y_val)`` or a split carved from ``X``.

        ``X_test``/``y_test``, when given, are scored once after selection (``result_["metrics"]["test"]``).
        """
        config = self.make_config()
        if len(X) != len(y):
            raise DataError(f"X has {len(X)} examples but y has {len(y)}; they must match")
        Xa = self._prepare_X(X, fitting=True)
        ya = self._encode_y(y, fitting=True)
        task = self._make_task(Xa, ya)
        val = (self._prepare_X(X_val, False), self._encode_y(y_val, False)) if X_val is not None else (None, None)
        test = (self._prepare_X(X_test, False), self._encode_y(y_test, False)) if X_test is not None else (None, None)
        body = copy.deepcopy(self.body) if isinstance(self.body, Body) else None
        extra = ("accuracy", "roc_auc") if task.output == "classification" else ()
        run: RunResult = fit_pipeline(task, Xa, ya, config, X_val=val[0], y_val=val[1], X_test=test[0],
                                      y_test=test[1], body=body, source=source, checkpoint_dir=self.checkpoint_dir,
                                      resume=resume, progress=self.verbose, extra_metrics=extra,
                                      standardize_target=self.standardize_target,
                                      checkpoint_every_s=self.checkpoint_every_s)
        self.target_scaler_ = run.target_scaler
        self.task_, self.config_, self.model_ = task, config, run.model
        self.history_ = run.refine_info["history"]
        self.align_report_ = run.align_report
        self.result_ = run.to_dict(config, task, {"estimator": type(self).__name__})
        self.n_features_in_ = Xa.shape[1] if Xa.ndim == 2 else None
        return self

    def _raw_predict(self, X: Any) -> np.ndarray:
        self._check_fitted()
        Xa = check_inputs(self.task_, self._prepare_X(X, fitting=False), allow_nan=self.input_kind_ == "tabular")
        dummy = np.zeros(len(Xa), dtype=np.float32)
        _, pred = predict_arrays(self.model_, ArrayDataset(Xa, dummy), self.config_.refine.eval_batch_size)
        scaler = getattr(self, "target_scaler_", None)
        return scaler.inverse(pred) if scaler is not None else pred

    # ---- persistence -----------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write weights, config, task and preprocessing to one checkpoint file (atomically)."""
        self._check_fitted()
        state = {"class": type(self).__name__, "params": {k: v for k, v in self.get_params().items() if k != "body"},
                 "body": self.config_.body.name, "config": self.config_.to_dict(), "task": self.task_.to_dict(),
                 "model": self.model_.state_dict(), "input_kind": self.input_kind_,
                 "preprocessor": self.preprocessor_.state() if self.input_kind_ == "tabular" else None,
                 "classes": getattr(self, "classes_", None),
                 "target_scaler": self.target_scaler_.state() if self.target_scaler_ is not None else None,
                 "target_shape": getattr(self, "target_shape_", None)}
        return torch_save(path, state)

    @classmethod
    def load(cls, path: str | Path, body: Body | None = None) -> _CrossModalBase:
        """Rebuild a fitted estimator from :meth:`save`'s file (the body is loaded by name unless given)."""
        from .model import build

        state = torch.load(path, map_location="cpu", weights_only=False)
        est = cls(body=state["body"], **state["params"])
        est.config_ = OrcaConfig.from_dict(state["config"])
        est.task_ = Task.from_dict(state["task"])
        loaded = body if body is not None else load_body(est.config_.body.name, est.config_.body.dropout,
                                                         est.config_.body.attention_dropout)
        est.model_ = build(est.task_, est.config_, loaded)
        est.model_.load_state_dict(state["model"])
        est.model_.eval()
        est.input_kind_ = state["input_kind"]
        if state["preprocessor"] is not None:
            est.preprocessor_ = TabularPreprocessor.from_state(state["preprocessor"])
        if state["classes"] is not None:
            est.classes_ = state["classes"]
        est.target_scaler_ = TargetScaler.from_state(state["target_scaler"]) if state["target_scaler"] else None
        if state["target_shape"] is not None:
            est.target_shape_ = tuple(state["target_shape"])
        return est


class CrossModalClassifier(ClassifierMixin, _CrossModalBase):
    """ORCA classifier: any-modality inputs, a pretrained transformer body, class labels of any type.

    Parameters
    ----------
    body : str or Body, default "minilm"
        Registered body name, local Hugging Face folder or hub id; or a loaded :class:`orca.bodies.Body`.
    categorical_features : list of int or str, optional
        Tables only: categorical columns (default: the non-numeric columns of a DataFrame).
    objective : str, default "otdd-exact"
        Stage 2 objective (the paper's); ``none`` skips alignment. Source features come from the offline recipe
        of the body's modality unless ``fit(..., source=...)`` gives them.
    standardize_target : bool, default True
        Regression only (ignored for classification): train on targets standardised with training statistics;
        predictions and reported metrics are in the original units.
    epochs, batch_size, lr, ... :
        Stage 3 settings; see :class:`orca.config.RefineConfig`. The validation split for model selection is
        ``val_fraction`` of the training data unless ``X_val``/``y_val`` are given to ``fit``.

    Attributes
    ----------
    classes_ : ndarray
        Class labels seen in ``fit``; predictions are drawn from them.
    model_, task_, config_, history_, align_report_, result_ :
        The fitted model and what was measured while fitting it.
    """


    def _encode_y(self, y: Any, fitting: bool) -> np.ndarray:
        y = np.asarray(y)
        if y.ndim != 1:
            raise DataError(f"classification labels must be 1D, got shape {y.shape}")
        if fitting:
            self.classes_ = np.unique(y)
            if len(self.classes_) < 2:
                raise DataError(f"classification needs at least 2 classes in y; got {self.classes_.tolist()}")
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if len(unseen):
            raise DataError(f"labels {unseen.tolist()} were not seen in training; known labels: "
                            f"{self.classes_.tolist()}")
        return np.searchsorted(self.classes_, y).astype(np.int64)

    def _make_task(self, X: np.ndarray, y: np.ndarray) -> Task:
        cat, cards = self._categorical()
        return Task("user-classification", X.shape[1:], "classification", (len(self.classes_),),
                    metric="accuracy", categorical=cat, cardinalities=cards)

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


    def _encode_y(self, y: Any, fitting: bool) -> np.ndarray:
        y = np.asarray(y, dtype=np.float32)
        if fitting:
            self.target_shape_ = y.shape[1:]
        elif y.shape[1:] != self.target_shape_:
            raise DataError(f"y has example shape {y.shape[1:]}; the model was fitted on {self.target_shape_}")
        return y

    def _make_task(self, X: np.ndarray, y: np.ndarray) -> Task:
        cat, cards = self._categorical()
        if y.ndim >= 3:
            return Task("user-dense", X.shape[1:], "dense", y.shape[1:])
        shape = (1,) if y.ndim == 1 else y.shape[1:]
        return Task("user-regression", X.shape[1:], "regression", shape, categorical=cat, cardinalities=cards)

    def predict(self, X: Any) -> np.ndarray:
        pred = self._raw_predict(X)
        return pred[:, 0] if self.target_shape_ == () else pred
