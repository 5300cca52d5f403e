"""Predictors h: map the body's last hidden states ``(B, N', D)`` to the task's output.

=============  ==========================================================================================
registered     what it does
=============  ==========================================================================================
``pooled``     mean over tokens, then ``Linear(D, K)``: classification, multi-label, regression
``dense1d``    per-token ``Linear(D, C_out * k)``, tokens laid back in order, cropped to ``(C_out, L)``
``dense2d``    per-patch ``Linear(D, C_out * ph * pw)``, unpatchified on the grid, cropped to ``(C_out, H, W)``
=============  ==========================================================================================

``predictor.smooth = k`` adds to either dense head a ``k``-wide (``k x k``) convolution over the decoded field,
``C_out`` channels in and out, replicate-padded, started at the identity: the head begins as without it and may
learn to blend the values on either side of a patch seam (each token decodes its patch independently, so the
output can jump at patch edges; docs/pdebench.md's error analysis).

``predictor.skip_modes = m`` adds to either dense head a linear map of the model's *input* field on its lowest
``m`` Fourier modes plus a bias field (``orca.spectral.SpectralSkip``), set by least squares before stage 3
(``orca.pipeline.warm_start_skip``); the head's own linear map then starts at zero, so stage 3 starts from the
skip's fit. It needs the output on the input's grid (the PDE tasks) and is refused otherwise. The heads then take
the input as a third argument.

``predictor.linear_skip = True`` adds to the pooled head of a table task a linear model of the encoded row
(``orca.table_skip.TableSkip``: numeric values with missing indicators, one-hot categories), set to the
L2-regularised logistic (or ridge) fit of the training rows before stage 3; the head's linear map then starts at
zero, so stage 3 starts from that linear model. Refused for other inputs and for dense outputs.

With ``head="pool"`` the dense heads have no parameters: the D hidden units of each token are average-pooled down
to the values that token emits, so all fitting happens inside the body. In 1D this is the paper's dense head
(the ORCA code's ``adaptive_pooler`` on RoBERTa's tokens). In 2D it is *not*: the ORCA code runs Swin's
masked-image-modelling decoder first (``SwinForMaskedImageModeling``: a learnable 1x1 convolution from D to
``stride² x 3`` channels and a pixel shuffle) and pools that image; we do not reproduce the decoder, so
``dense2d`` with ``head="pool"`` is a parameter-free variant of our own.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .config import PredictorConfig
from .exceptions import ConfigError
from .registry import get, register
from .spectral import SpectralSkip
from .table_skip import TableSkip
from .tasks import Task


class PooledHead(nn.Module):
    """``(B, N, D)`` -> mean over tokens ``(B, D)`` -> ``Linear`` -> ``(B, K)``, plus the table skip's term
    (``predictor.linear_skip``; the linear map then starts at zero)."""

    def __init__(self, width: int, n_out: int, skip: TableSkip | None = None) -> None:
        super().__init__()
        self.linear = nn.Linear(width, n_out)
        self.skip = skip
        if skip is not None:
            with torch.no_grad():
                self.linear.weight.zero_()
                self.linear.bias.zero_()

    def forward(self, hidden: torch.Tensor, grid: object = None, x: torch.Tensor | None = None) -> torch.Tensor:
        return _with_skip(self.linear(hidden.mean(dim=1)), self.skip, x)


class _TokenValues(nn.Module):
    """Each token emits ``n_values`` numbers: a linear map, or the paper's average pooling of hidden units."""

    def __init__(self, width: int, n_values: int, mode: str) -> None:
        super().__init__()
        self.n_values = n_values
        self.linear = nn.Linear(width, n_values) if mode == "linear" else None

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        if self.linear is not None:
            return self.linear(hidden)
        b, n, d = hidden.shape
        pooled = F.adaptive_avg_pool1d(hidden.reshape(b * n, 1, d), self.n_values)  # (B*N, 1, n_values)
        return pooled.reshape(b, n, self.n_values)


def _seam_smoother(channels: int, kernel: int, dims: int) -> nn.Module | None:
    """A ``kernel``-wide convolution over a ``dims``-D field with ``channels`` channels, initialised to the
    identity (the centre tap of channel c to channel c is 1, every other weight 0); ``None`` for ``kernel=0``."""
    if not kernel:
        return None
    conv_cls = nn.Conv1d if dims == 1 else nn.Conv2d
    conv = conv_cls(channels, channels, kernel, padding=kernel // 2, padding_mode="replicate", bias=False)
    with torch.no_grad():
        conv.weight.zero_()
        centre = (slice(None), slice(None)) + (kernel // 2,) * dims
        conv.weight[centre] = torch.eye(channels)  # weight (C_out, C_in, k[, k]): identity at the centre tap
    return conv


class Dense1DHead(nn.Module):
    """``(B, N, D)`` -> ``(B, C_out, L_out)``: token i emits ``C_out x k`` values for positions ``i*k .. i*k+k-1``."""

    def __init__(self, width: int, n_tokens: int, out_channels: int, out_length: int, mode: str,
                 smooth: int = 0, skip: SpectralSkip | None = None) -> None:
        super().__init__()
        self.out_channels, self.out_length = out_channels, out_length
        self.per_token = math.ceil(out_length / n_tokens)
        self.values = _TokenValues(width, out_channels * self.per_token, mode)
        self.smooth = _seam_smoother(out_channels, smooth, 1)
        self.skip = _zero_values_beside(skip, self.values)

    def forward(self, hidden: torch.Tensor, grid: object = None, x: torch.Tensor | None = None) -> torch.Tensor:
        b, n, _ = hidden.shape
        v = self.values(hidden).reshape(b, n, self.out_channels, self.per_token)  # (B, N, C_out, k)
        v = v.permute(0, 2, 1, 3).reshape(b, self.out_channels, n * self.per_token)  # (B, C_out, N*k)
        v = v[:, :, : self.out_length]
        return _with_skip(v if self.smooth is None else self.smooth(v), self.skip, x)


class Dense2DHead(nn.Module):
    """``(B, h*w, D)`` on grid ``(h, w)`` -> ``(B, C_out, H, W)``: each patch emits a ``C_out x ph x pw`` block."""

    def __init__(self, width: int, grid: tuple[int, int], out_shape: tuple[int, int, int], mode: str,
                 smooth: int = 0, skip: SpectralSkip | None = None) -> None:
        super().__init__()
        self.grid = grid
        self.out_channels, self.out_h, self.out_w = out_shape
        self.ph, self.pw = math.ceil(self.out_h / grid[0]), math.ceil(self.out_w / grid[1])
        self.values = _TokenValues(width, self.out_channels * self.ph * self.pw, mode)
        self.smooth = _seam_smoother(self.out_channels, smooth, 2)
        self.skip = _zero_values_beside(skip, self.values)

    def forward(self, hidden: torch.Tensor, grid: tuple[int, int] | None = None,
                x: torch.Tensor | None = None) -> torch.Tensor:
        b = hidden.shape[0]
        gh, gw = grid or self.grid
        v = self.values(hidden).reshape(b, gh, gw, self.out_channels, self.ph, self.pw)  # (B, h, w, C, ph, pw)
        v = v.permute(0, 3, 1, 4, 2, 5).reshape(b, self.out_channels, gh * self.ph, gw * self.pw)  # (B, C, h*ph, w*pw)
        v = v[:, :, : self.out_h, : self.out_w]
        return _with_skip(v if self.smooth is None else self.smooth(v), self.skip, x)


def _zero_values_beside(skip: SpectralSkip | None, values: _TokenValues) -> SpectralSkip | None:
    """With a skip, zero the tokens' linear map (weight and bias; drawn first, so the random stream is as without
    the skip): the model then starts stage 3 as exactly the skip's least-squares fit, and the body's part grows
    from zero instead of adding a random field to it. ``head="pool"`` has no map to zero. Returns ``skip``."""
    if skip is not None and values.linear is not None:
        with torch.no_grad():
            values.linear.weight.zero_()
            values.linear.bias.zero_()
    return skip


def _with_skip(v: torch.Tensor, skip: SpectralSkip | TableSkip | None, x: torch.Tensor | None) -> torch.Tensor:
    """The head's output plus the input skip's term (``v`` itself without a skip)."""
    if skip is None:
        return v
    if x is None:
        raise ValueError("this head has an input skip (predictor.skip_modes or predictor.linear_skip) and needs the "
                         "model's input as x")
    return v + skip(x).to(v.dtype)


def _input_skip(task: Task, cfg: PredictorConfig) -> SpectralSkip | None:
    """The spectral input skip ``cfg.skip_modes`` asks for, or ``None``; refused unless the output lies on the
    input's grid."""
    if not cfg.skip_modes:
        return None
    if task.output != "dense" or tuple(task.input_shape[1:]) != tuple(task.output_shape[1:]):
        raise ConfigError(f"predictor.skip_modes={cfg.skip_modes} maps the input field onto the output, so it needs a "
                          f"dense output on the input's grid; task {task.name!r} maps {tuple(task.input_shape)} to "
                          f"{task.output} {tuple(task.output_shape)}: set predictor.skip_modes=0")
    return SpectralSkip(task.input_shape[0], task.output_shape[0], tuple(task.output_shape[1:]), cfg.skip_modes)


def _table_skip(task: Task, cfg: PredictorConfig) -> TableSkip | None:
    """The table skip ``cfg.linear_skip`` asks for, or ``None``; refused unless the input is a table and the
    output classes, labels or values."""
    if not cfg.linear_skip:
        return None
    if task.input_kind != "tabular" or task.output == "dense":
        raise ConfigError(f"predictor.linear_skip=true adds a linear model of table rows, so it needs a tabular "
                          f"input and a pooled output; task {task.name!r} maps {task.input_kind} input "
                          f"{tuple(task.input_shape)} to {task.output}: set predictor.linear_skip=false")
    return TableSkip(task)


register("predictor", "pooled")(
    lambda task, width, tokens, grid, cfg: PooledHead(width, task.output_shape[0], _table_skip(task, cfg)))
register("predictor", "dense1d")(
    lambda task, width, tokens, grid, cfg: Dense1DHead(width, tokens, task.output_shape[0], task.output_shape[1],
                                                       cfg.head, cfg.smooth, _input_skip(task, cfg))
)
register("predictor", "dense2d")(
    lambda task, width, tokens, grid, cfg: Dense2DHead(width, grid, task.output_shape, cfg.head, cfg.smooth,
                                                       _input_skip(task, cfg))
)


def predictor_name(task: Task) -> str:
    if task.output != "dense":
        return "pooled"
    return "dense1d" if len(task.output_shape) == 2 else "dense2d"


def build_predictor(task: Task, width: int, n_tokens: int, grid: tuple[int, int] | None,
                    cfg: PredictorConfig) -> nn.Module:
    """Build the head for ``task`` on top of ``n_tokens`` body outputs of width ``width`` (on ``grid`` for 2D)."""
    if cfg.skip_modes and task.output != "dense":
        _input_skip(task, cfg)  # the pooled head has no spectral skip: refuse the setting with its reason
    if cfg.linear_skip and task.output == "dense":
        _table_skip(task, cfg)  # the dense heads have no table skip: refuse the setting with its reason
    return get("predictor", predictor_name(task))(task, width, n_tokens, grid, cfg)
