"""Typed configuration: a tree of dataclasses with a strict JSON round trip and ``key.sub=value`` overrides.

``OrcaConfig.from_dict`` rejects unknown keys (with a close match) and values of the wrong type before
anything runs; ``to_dict``/``save``/``load`` round-trip exactly.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .exceptions import ConfigError
from .io import read_json, write_json


def _choice(name: str, value: Any, allowed: tuple) -> None:
    if value not in allowed:
        close = difflib.get_close_matches(str(value), [str(a) for a in allowed], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(f"{name}={value!r} is not allowed{hint}; expected one of {list(allowed)}")


def _registered(name: str, value: str, kind: str, extra: tuple[str, ...] = ()) -> None:
    """``value`` must name a registered ``kind`` (or be one of ``extra``): checked when the config is built,
    before any data or body is loaded."""
    from . import objectives  # noqa: F401  (registers the objectives; imported lazily: it imports this module)
    from .registry import available

    _choice(name, value, (*extra, *available(kind)))


def _unit_interval(name: str, value: float, *, zero_ok: bool = False) -> None:
    """``value`` must lie in [0, 1) (``zero_ok``) or (0, 1)."""
    if not math.isfinite(value) or not (0.0 <= value if zero_ok else 0.0 < value) or not value < 1.0:
        raise ConfigError(f"{name}={value!r} must be in {'[' if zero_ok else '('}0, 1)")


def _positive(name: str, value: float, *, zero_ok: bool = False) -> None:
    if not math.isfinite(value):
        raise ConfigError(f"{name}={value!r} must be a finite number")
    if value < 0 or (value == 0 and not zero_ok):
        raise ConfigError(f"{name}={value!r} must be {'>= 0' if zero_ok else '> 0'}")


@dataclass
class BodyConfig:
    """Which pretrained transformer to use and how much of it to fine-tune."""

    name: str = "minilm"
    """A registered body (see ``orca.available('body')``), a Hugging Face model id, or a local folder."""
    finetune: str = "all"
    """``all`` (the paper), ``layernorm`` (FPT-style: only LayerNorm in the body), or ``frozen``."""
    dropout: float | None = None
    """Override of the body's hidden (and, unless ``attention_dropout`` is set, attention) dropout; ``None``
    keeps the pretrained value (the paper's ``drop_out`` sets both)."""
    attention_dropout: float | None = 0.0
    """Override of the attention-probability dropout alone; ``None`` keeps the pretrained value. Off by
    default: on a CPU it made a MiniLM training step 1.5x slower (``benchmarks/perf/throughput.py``), since it
    disables the fused attention kernel; hidden dropout stays as pretrained."""

    def __post_init__(self) -> None:
        _choice("body.finetune", self.finetune, ("all", "layernorm", "frozen"))
        for name in ("dropout", "attention_dropout"):
            value = getattr(self, name)
            if value is not None and not 0.0 <= value < 1.0:
                raise ConfigError(f"body.{name}={value!r} must be in [0, 1)")


@dataclass
class EmbedderConfig:
    """Stage 1: how inputs become tokens of the body's width."""

    target_seq_len: int = 128
    """Upper bound on the token count of 1D and 2D inputs fed to a text body (the paper's T)."""
    pad_awkward: bool = True
    """1D: when the paper's divisor rule leaves fewer than T/2 tokens (prime L), zero-pad L instead."""
    patch_size: int | None = None
    """2D patch size; ``None``: the vision body's own patch size, or the smallest that fits T for a text body."""
    resize: int | None = None
    """2D: resize inputs to ``resize x resize`` first (the paper always resizes to 224); ``None`` keeps H x W."""
    tabular_mode: str = "tokenizer"
    """``tokenizer`` (one token per feature) or ``paper`` (the reference code's channel encoding)."""
    init_from_body: bool = True
    """Copy the body's embedding LayerNorm, position table and (vision) patch kernel, as the paper does."""
    norm_before_positions: bool = True
    """The paper applies LayerNorm, then adds positions; ``False`` follows BERT (add, then normalise)."""

    def __post_init__(self) -> None:
        _positive("embedder.target_seq_len", self.target_seq_len)
        _choice("embedder.tabular_mode", self.tabular_mode, ("tokenizer", "paper"))
        if self.patch_size is not None:
            _positive("embedder.patch_size", self.patch_size)
        if self.resize is not None:
            _positive("embedder.resize", self.resize)


@dataclass
class PredictorConfig:
    """The output head h."""

    head: str = "linear"
    """``linear`` (parametric heads) or ``pool`` (parameter-free pooling for dense outputs: the paper's head in
    1D; in 2D the paper adds Swin's learnable 1x1-conv decoder first, which ``pool`` leaves out)."""

    smooth: int = 0
    """Dense outputs only: the kernel size of a learnable convolution over the decoded field, started at the
    identity, that can smooth the seams between the patches the tokens decode (0: none; odd and >= 3)."""

    skip_modes: int = 0
    """Dense outputs on the input's grid only: the Fourier modes per axis of a linear map from the input field,
    added to the head's output and started at zero (``orca.spectral``; 0: none)."""

    linear_skip: bool = False
    """Tables only: add to the pooled head a linear model of the encoded row (``orca.table_skip``), set to the
    L2-regularised logistic (or ridge) fit of the training rows before stage 3, the head's own map started at
    zero."""

    def __post_init__(self) -> None:
        _choice("predictor.head", self.head, ("linear", "pool"))
        if not isinstance(self.smooth, int) or isinstance(self.smooth, bool) or (
                self.smooth != 0 and (self.smooth < 3 or self.smooth % 2 == 0)):
            raise ConfigError(f"predictor.smooth={self.smooth!r}; expected 0 (none) or an odd kernel size >= 3")
        if not isinstance(self.skip_modes, int) or isinstance(self.skip_modes, bool) or self.skip_modes < 0:
            raise ConfigError(f"predictor.skip_modes={self.skip_modes!r}; expected 0 (none) or a positive number "
                              "of Fourier modes")
        if not isinstance(self.linear_skip, bool):
            raise ConfigError(f"predictor.linear_skip={self.linear_skip!r}; expected true or false")


@dataclass
class AlignConfig:
    """Stage 2: train the embedder alone so that embedded targets match source features."""

    objective: str = "otdd-exact"
    """A registered objective (``orca.available('objective')``); the paper's ``otdd-exact`` by default;
    ``none`` skips the stage (naive fine-tuning)."""
    steps: int = 100
    lr: float = 1e-3
    batch_size: int = 64
    patience: int | None = 20
    """Stop when the distance has not improved for this many steps; ``None`` runs all steps."""
    source: str = "auto"
    """Source recipe (``orca.available`` lists them via ``orca.source.RECIPES``); ``auto``: the offline recipe
    of the body's modality (``pydoc-topics`` for text, ``skimage-crops`` for vision)."""
    source_samples: int = 2000
    """Size of the fixed source subset the objective is built on (drawn once, seeded)."""
    epsilon: float = 0.1
    """Entropic regularisation of the OTDD objectives, relative to the mean squared source distance."""
    sinkhorn_iters: int = 500
    sinkhorn_tol: float = 1e-3
    """Stop Sinkhorn when the plan's row marginal is this close (L1, units of mass) to the target weights."""
    label_samples: int = 100
    """``otdd-exact``: at most this many source samples per class for the class-to-class distances."""

    def __post_init__(self) -> None:
        from .source import RECIPES  # lazily: the recipes module imports the model code

        _registered("align.objective", self.objective, "objective")
        _choice("align.source", self.source, ("auto", *sorted(RECIPES)))
        _positive("align.steps", self.steps, zero_ok=True)
        _positive("align.lr", self.lr)
        _positive("align.batch_size", self.batch_size)
        _positive("align.source_samples", self.source_samples)
        _positive("align.epsilon", self.epsilon)
        _positive("align.sinkhorn_iters", self.sinkhorn_iters)
        _positive("align.sinkhorn_tol", self.sinkhorn_tol)
        _positive("align.label_samples", self.label_samples)
        if self.patience is not None:
            _positive("align.patience", self.patience)


@dataclass
class RefineConfig:
    """Stage 3: fine-tune embedder, body and predictor on the task loss."""

    optimizer: str = "adamw"
    momentum: float = 0.9
    """SGD's momentum."""
    beta2: float = 0.999
    """Adam's and AdamW's second-moment decay (the paper's configs use 0.98)."""
    lr: float = 1e-4
    """Learning rate of the body (declared here once; every suite uses it unless its config says why not)."""
    new_params_lr_mult: float = 10.0
    """Embedder and predictor learn at ``lr * new_params_lr_mult`` (1.0 reproduces the paper's single lr)."""
    weight_decay: float = 0.01
    epochs: int = 10
    batch_size: int = 32
    eval_batch_size: int = 64
    warmup_ratio: float = 0.1
    warmup_epochs: float | None = None
    """Warm up over this many epochs instead of ``warmup_ratio`` of the steps (the paper's configs: 5 or 10)."""
    schedule: str = "cosine"
    decay_epochs: float | None = None
    """The decay reaches zero after this many epochs, which may lie beyond the last one (the paper's warm-up
    schedule decays linearly to zero at ``decay_epochs`` and usually stops before: CIFAR-100 trains 60 of 200);
    ``None``: at the end of training."""
    grad_clip: float | None = 1.0
    grad_accum: int = 1
    val_fraction: float = 0.1
    """Fraction of the training data held out for model selection when no validation set is given."""
    patience: int | None = None
    """Early stopping after this many epochs without validation improvement; ``None`` never stops early."""
    max_steps: int | None = None
    """Hard cap on optimiser steps (smoke runs)."""
    min_steps: int | None = None
    """At least this many optimiser steps: on a small training set ``epochs`` is raised to
    ``ceil(min_steps / steps per epoch)``, so that 60 samples get as many updates as the schedule needs while a
    large set keeps ``epochs``; and ``patience`` cannot end training before this many steps (on a set of one
    step per epoch, 10 epochs of patience would otherwise stop it after 11 steps). Once they are taken,
    ``patience`` stops training as usual. The run records the epochs this gave (``training.epochs_cap``)."""
    select_on: str = "metric"
    """What picks the kept epoch and drives ``patience``: ``"metric"`` (the task's metric on the validation split)
    or ``"loss"`` (the validation loss, lower is better). On a validation split of a few rows the metric moves
    in coarse steps (accuracy on 4 rows: 0, 0.25, ...) and ties, so every tie counts against ``patience``; the
    loss keeps ranking epochs. ``"metric-then-loss"``: the metric decides and the loss breaks its ties (an epoch
    with the same metric and a lower loss is an improvement). On a few rows the loss alone can keep an untrained
    epoch, whose near-uniform predictions cost less on the one misclassified row than a confident model's."""
    max_seconds: float | None = None
    """Wall-clock budget of the stage in seconds, counted across resumptions (the equal-budget presets): the step
    in progress finishes, the validation split is scored and training stops (:mod:`orca.stopping`). The schedule
    then runs on whichever is further along, the steps or the budget's clock, so warm-up and decay fit inside the
    budget whatever ``epochs`` is (set ``epochs`` high enough never to be the cap)."""
    mixed_precision: str = "no"
    """``no``, ``bf16`` or ``auto``: the forward pass and loss under ``torch.autocast`` in bfloat16 (CPU or GPU);
    weights, gradients and the optimizer stay float32. ``auto`` uses bf16 where the device computes it natively
    (AVX512-BF16/AMX CPUs, recent GPUs) and float32 elsewhere, where emulated bf16 is several times slower
    (:func:`orca.precision.resolve_precision`); the precision used is in the refine record (``precision``).
    (fp16 would need a gradient scaler and a GPU to test it on; it is not offered.)"""

    augment: str = "none"
    """``none``; ``series``: window slicing, amplitude scaling and jitter of each training batch, for
    classification of sequences only; ``dihedral``: each training pair of square 2D fields under a random symmetry
    of the square, for problems that have those symmetries (:mod:`orca.augment`; neither is in the paper)."""

    ema_decay: float | None = None
    """Keep an exponential moving average of the weights, updated after every optimiser step with this decay (e.g.
    ``0.99``: about the last 100 steps), and score, select and return the average instead of the trained weights;
    ``None``: off (not in the paper). The decay warms up as ``min(ema_decay, (1 + n) / (10 + n))`` after ``n``
    updates, so the average follows the weights closely in the first steps instead of holding the first one.
    Training itself is unchanged; the average costs one more copy of the weights."""

    refit: bool = False
    """After the validation split has chosen the epoch, train again from the start (stage 1's fresh weights,
    stage 2 and stage 3) on the training and validation rows together for as many epochs as the chosen one, and
    return that model (not in the paper; as a search's refit in scikit-learn, and as tuned XGBoost's final fit on
    the whole training part). The schedule is still planned over ``epochs``, so the refit follows the selection
    run's learning rates epoch by epoch on the larger set; the validation score reported is the selection run's,
    which the returned model was not selected on but trained on. Costs up to one more fit."""

    def __post_init__(self) -> None:
        _choice("refine.optimizer", self.optimizer, ("adamw", "adam", "sgd"))
        _choice("refine.augment", self.augment, ("none", "series", "dihedral"))
        _choice("refine.mixed_precision", self.mixed_precision, ("no", "bf16", "auto"))
        _choice("refine.schedule", self.schedule, ("cosine", "linear", "constant"))
        _positive("refine.lr", self.lr)
        _positive("refine.new_params_lr_mult", self.new_params_lr_mult)
        _positive("refine.weight_decay", self.weight_decay, zero_ok=True)
        _positive("refine.epochs", self.epochs)
        _positive("refine.batch_size", self.batch_size)
        _positive("refine.eval_batch_size", self.eval_batch_size)
        _positive("refine.grad_accum", self.grad_accum)
        _unit_interval("refine.momentum", self.momentum, zero_ok=True)
        _unit_interval("refine.beta2", self.beta2)
        if self.decay_epochs is not None:
            _positive("refine.decay_epochs", self.decay_epochs)
        if self.warmup_epochs is not None:
            _positive("refine.warmup_epochs", self.warmup_epochs, zero_ok=True)
        _unit_interval("refine.warmup_ratio", self.warmup_ratio, zero_ok=True)
        _unit_interval("refine.val_fraction", self.val_fraction)
        if self.grad_clip is not None:
            _positive("refine.grad_clip", self.grad_clip)
        if self.patience is not None:
            _positive("refine.patience", self.patience)
        if self.max_steps is not None:
            _positive("refine.max_steps", self.max_steps)
        if self.max_seconds is not None:
            _positive("refine.max_seconds", self.max_seconds)
        if self.min_steps is not None:
            _positive("refine.min_steps", self.min_steps)
        _choice("refine.select_on", self.select_on, ("metric", "loss", "metric-then-loss"))
        if self.ema_decay is not None:
            _unit_interval("refine.ema_decay", self.ema_decay)  # e.g. 0.99; None: no averaging
        if not isinstance(self.refit, bool):
            raise ConfigError(f"refine.refit={self.refit!r}; expected true or false")
        if self.refit and self.max_seconds is not None:
            raise ConfigError(f"refine.refit with refine.max_seconds={self.max_seconds}: a refit trains the selected "
                              "number of epochs, which a time budget would cut; use one or the other")


@dataclass
class OrcaConfig:
    """The whole run: body, embedder, predictor, the two training stages, seed and device."""

    body: BodyConfig = field(default_factory=BodyConfig)
    embedder: EmbedderConfig = field(default_factory=EmbedderConfig)
    predictor: PredictorConfig = field(default_factory=PredictorConfig)
    align: AlignConfig = field(default_factory=AlignConfig)
    refine: RefineConfig = field(default_factory=RefineConfig)
    seed: int = 0
    device: str = "auto"
    """``auto`` (CUDA when available), ``cpu`` or ``cuda``."""

    def __post_init__(self) -> None:
        _choice("device", self.device, ("auto", "cpu", "cuda"))

    # ---- JSON round trip -------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OrcaConfig:
        """Build a config from nested dicts, rejecting unknown keys and wrongly typed values."""
        return _from_dict(cls, data, prefix="")

    def save(self, path: str | Path) -> Path:
        return write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> OrcaConfig:
        return cls.from_dict(read_json(path))

    def with_overrides(self, overrides: list[str] | dict[str, Any]) -> OrcaConfig:
        """Return a copy with ``section.key=value`` overrides applied (values parsed as Python literals)."""
        data = self.to_dict()
        items = overrides.items() if isinstance(overrides, dict) else (parse_override(o) for o in overrides)
        for dotted, value in items:
            node = data
            *parents, leaf = dotted.split(".")
            for i, part in enumerate(parents):
                if not isinstance(node.get(part), dict):
                    raise ConfigError(_unknown_key_message(".".join(parents[: i + 1]), node))
                node = node[part]
            if leaf not in node or isinstance(node[leaf], dict):
                raise ConfigError(_unknown_key_message(dotted, node))
            node[leaf] = value
        return OrcaConfig.from_dict(data)


def parse_override(text: str) -> tuple[str, Any]:
    """``'section.key=value'`` -> ``('section.key', value)``, the value read as a Python literal or a bare word."""
    if "=" not in text:
        raise ConfigError(f"override {text!r} must look like 'section.key=value', e.g. 'refine.lr=1e-4'")
    key, raw = text.split("=", 1)
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        value = raw  # a bare word such as cosine or minilm
    return key.strip(), value


def _unknown_key_message(dotted: str, node: dict[str, Any]) -> str:
    leaf = dotted.rsplit(".", 1)[-1]
    close = difflib.get_close_matches(leaf, list(node), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown config key {dotted!r}{hint}; expected one of {sorted(node)}"


def _check_type(name: str, value: Any, annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(annotation)
        if value is None and type(None) in options:
            return None
        for option in options:
            if option is type(None):
                continue
            try:
                return _check_type(name, value, option)
            except ConfigError:
                continue
        raise ConfigError(f"{name}={value!r} has type {type(value).__name__}; expected {annotation}")
    if annotation is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if annotation in (int, float) and isinstance(value, bool):
        raise ConfigError(f"{name}={value!r} is a bool; expected {annotation.__name__}")
    if isinstance(annotation, type) and not isinstance(value, annotation):
        raise ConfigError(f"{name}={value!r} has type {type(value).__name__}; expected {annotation.__name__}")
    return value


def _from_dict(cls: type, data: Any, prefix: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"config section {prefix.rstrip('.') or '<root>'} must be a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    for key in data:
        if key not in names:
            raise ConfigError(_unknown_key_message(prefix + key, dict.fromkeys(names)))
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        annotation = hints[f.name]
        if dataclasses.is_dataclass(annotation):
            kwargs[f.name] = _from_dict(annotation, data[f.name], prefix + f.name + ".")
        else:
            kwargs[f.name] = _check_type(prefix + f.name, data[f.name], annotation)
    return cls(**kwargs)


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested settings tree as dotted ``key.sub`` -> value pairs (the form :meth:`OrcaConfig.with_overrides`
    takes)."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def unflatten(flat: dict[str, Any]) -> dict[str, Any]:
    """Dotted ``key.sub`` -> value pairs as a nested tree (the inverse of :func:`flatten`)."""
    tree: dict[str, Any] = {}
    for key, value in flat.items():
        node = tree
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return tree
