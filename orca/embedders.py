"""Stage 1 embedders f: map an input of any modality to tokens of the body's width.

=================  ===========================  =====================================================
registered name    input                        output
=================  ===========================  =====================================================
``sequence``       ``(B, C, L)``                ``(B, ceil(L_pad / s), D)``, conv patchify with stride s
``image``          ``(B, C, H, W)``             ``(B, h * w, D)`` and the grid ``(h, w)``, conv patches
``tabular-tokenizer`` ``(B, F)`` (NaN = missing) ``(B, F, D)``: one token per feature
``tabular-paper``  ``(B, F)``                   the reference code's encoding, then ``sequence``
=================  ===========================  =====================================================

Each embedder is initialised from the body as the paper does: text bodies give their embedding LayerNorm and
position table; vision bodies their patch kernel (tiled over input channels), LayerNorm and positions.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .bodies import Body
from .config import EmbedderConfig
from .exceptions import ConfigError
from .registry import get, register
from .tasks import Task


def stride_rule(length: int, target: int, pad_awkward: bool = True) -> tuple[int, int]:
    """The paper's stride: the smallest divisor s of L with L / s <= T; returns ``(s, padded_length)``.

    When that leaves fewer than ``T / 2`` tokens (a prime L, say) and ``pad_awkward`` is set, L is instead
    zero-padded to a multiple of ``s = ceil(L / T)``, which gives close to T tokens.
    """
    if length < 1 or target < 1:
        raise ConfigError(f"length and target token count must be positive, got L={length}, T={target}")
    s = next(d for d in range(1, length + 1) if length % d == 0 and length // d <= target)
    if pad_awkward and length // s < target / 2 and length > target:
        s = math.ceil(length / target)
        return s, s * math.ceil(length / s)
    return s, length


def _copy_layernorm(dst: nn.LayerNorm, body: Body) -> None:
    src = body.embedding_layernorm()
    if src is not None and src.weight.shape == dst.weight.shape:
        with torch.no_grad():
            dst.weight.copy_(src.weight)
            dst.bias.copy_(src.bias)


class _TokenNorm(nn.Module):
    """LayerNorm and additive positions, in the paper's order (norm, then add) or BERT's (add, then norm)."""

    def __init__(self, n_tokens: int, width: int, body: Body | None, cfg: EmbedderConfig,
                 positions: torch.Tensor | None, use_norm: bool = True) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(width) if use_norm else nn.Identity()
        self.norm_first = cfg.norm_before_positions
        if positions is None:
            self.pos = None
        else:
            self.pos = nn.Parameter(torch.zeros(n_tokens, width))
            if cfg.init_from_body:
                assert positions.shape == (n_tokens, width), (positions.shape, (n_tokens, width))
                self.pos.data.copy_(positions)
            else:
                nn.init.normal_(self.pos, std=0.02)
        if cfg.init_from_body and body is not None and use_norm:
            _copy_layernorm(self.norm, body)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        if self.pos is None:
            return self.norm(tokens)
        if self.norm_first:
            return self.norm(tokens) + self.pos
        return self.norm(tokens + self.pos)


def _text_positions(body: Body, n_tokens: int, what: str) -> torch.Tensor:
    if body.max_tokens is not None and n_tokens > body.max_tokens:
        raise ConfigError(
            f"{what} gives {n_tokens} tokens but body {body.name!r} has {body.max_tokens} positions; "
            "lower embedder.target_seq_len or raise embedder.patch_size"
        )
    return body.position_table(n_tokens)


def _need_text_body(body: Body, kind: str) -> None:
    if body.modality != "text":
        raise ConfigError(
            f"{kind} inputs need a text body (the paper uses RoBERTa for every (C, L) input); body {body.name!r} is "
            "a vision model. Use a text body such as 'minilm' or 'roberta-base'"
        )


class SequenceEmbedder(nn.Module):
    """``(B, C, L)`` -> ``(B, N, D)``: zero-pad L to ``L_pad``, Conv1d(C, D, kernel=s, stride=s), LayerNorm, positions.

    Parameters
    ----------
    channels, length : int
        C and L of the input.
    body : Body
        A text body; its width D, position table and embedding LayerNorm are used.
    cfg : EmbedderConfig
        ``target_seq_len`` (T) and ``pad_awkward`` set the stride by :func:`stride_rule`.
    """

    def __init__(self, channels: int, length: int, body: Body, cfg: EmbedderConfig) -> None:
        super().__init__()
        _need_text_body(body, "(C, L)")
        target = min(cfg.target_seq_len, body.max_tokens or cfg.target_seq_len)
        self.stride, self.padded_length = stride_rule(length, target, cfg.pad_awkward)
        self.length = length
        self.n_tokens = self.padded_length // self.stride
        self.grid = None
        self.conv = nn.Conv1d(channels, body.d_in, kernel_size=self.stride, stride=self.stride)
        nn.init.xavier_uniform_(self.conv.weight, gain=math.sqrt(2.0))
        # The paper zeroes the bias. With one channel and stride 1 a token is then x * w, and the LayerNorm
        # that follows maps it to sign(x) * LN(w): every magnitude is lost until the bias has been learnt. A bias
        # drawn on the scale of the weights keeps LN(x * w + b) varying with x from the first step (a bias on
        # PyTorch's default 1/sqrt(fan_in) scale would swamp x * w and flatten the tokens just as badly).
        bound = math.sqrt(2.0) * math.sqrt(6.0 / (channels * self.stride + body.d_in))  # the Xavier bound
        nn.init.uniform_(self.conv.bias, -bound, bound)
        self.tail = _TokenNorm(self.n_tokens, body.d_in, body, cfg, _text_positions(body, self.n_tokens, "the input"))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        if self.padded_length != self.length:
            x = F.pad(x, (0, self.padded_length - self.length))  # (B, C, L) -> (B, C, L_pad)
        tokens = self.conv(x).transpose(1, 2)  # (B, D, N) -> (B, N, D)
        return self.tail(tokens), None


class ImageEmbedder(nn.Module):
    """``(B, C, H, W)`` -> ``(B, h * w, D)``: optional resize, zero-pad to patch multiples, Conv2d patches.

    A vision body's patch kernel ``(D, 3, P, P)`` initialises the convolution, tiled along the channel axis and
    truncated to C (resampled when the patch size differs); Swin's embedding LayerNorm is copied. A text body
    reads the patches as a row-major sequence with its own position table.
    """

    def __init__(self, channels: int, height: int, width: int, body: Body, cfg: EmbedderConfig) -> None:
        super().__init__()
        self.resize = cfg.resize
        h_in, w_in = (cfg.resize, cfg.resize) if cfg.resize else (height, width)
        if cfg.patch_size is not None:
            patch = cfg.patch_size
        elif body.modality == "vision":
            patch = body.patch_size
        else:
            limit = min(cfg.target_seq_len, body.max_tokens or cfg.target_seq_len)
            patch = next(p for p in range(1, max(h_in, w_in) + 1)
                         if math.ceil(h_in / p) * math.ceil(w_in / p) <= limit)
        self.patch = patch
        self.input_hw = (h_in, w_in)
        self.grid = (math.ceil(h_in / patch), math.ceil(w_in / patch))
        self.n_tokens = self.grid[0] * self.grid[1]
        self.conv = nn.Conv2d(channels, body.d_in, kernel_size=patch, stride=patch)
        nn.init.xavier_uniform_(self.conv.weight, gain=math.sqrt(2.0))
        nn.init.zeros_(self.conv.bias)
        kernel = body.patch_kernel() if cfg.init_from_body else None
        if kernel is not None:
            self._init_from_kernel(*kernel)
        if body.modality == "text":
            positions, use_norm = _text_positions(body, self.n_tokens, f"a {self.grid} patch grid"), True
        else:
            positions, use_norm = body.grid_position_table(self.grid), body.embedding_layernorm() is not None
        self.tail = _TokenNorm(self.n_tokens, body.d_in, body, cfg, positions, use_norm=use_norm)

    def _init_from_kernel(self, weight: torch.Tensor, bias: torch.Tensor | None) -> None:
        channels, patch = self.conv.in_channels, self.patch
        reps = math.ceil(channels / weight.shape[1])
        w = weight.repeat(1, reps, 1, 1)[:, :channels]  # (D, 3, P, P) -> (D, C, P, P)
        if w.shape[-1] != patch:
            scale = (w.shape[-1] / patch) ** 2  # keep the response to a constant image
            w = F.interpolate(w, size=(patch, patch), mode="bilinear", align_corners=False) * scale
        with torch.no_grad():
            self.conv.weight.copy_(w)
            if bias is not None:
                self.conv.bias.copy_(bias)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int]]:
        if self.resize:
            x = F.interpolate(x, size=self.input_hw, mode="bilinear", align_corners=False)
        pad_h = self.grid[0] * self.patch - x.shape[-2]
        pad_w = self.grid[1] * self.patch - x.shape[-1]
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h))  # (B, C, H, W) -> (B, C, h*p, w*p)
        tokens = self.conv(x).flatten(2).transpose(1, 2)  # (B, D, h, w) -> (B, h*w, D)
        return self.tail(tokens), self.grid


class CategoryRows(nn.Module):
    """``(B, Fc)`` float category codes (NaN: missing) -> ``(B, Fc)`` rows of one table shared by the columns: column
    j owns rows ``offset_j .. offset_j + card_j``, the last of them its missing category. Codes outside
    ``[0, card_j)`` are refused."""

    def __init__(self, cardinalities: list[int]) -> None:
        super().__init__()
        offsets = torch.tensor([0] + [c + 1 for c in cardinalities[:-1]], dtype=torch.long).cumsum(0)
        self.register_buffer("offsets", offsets[:len(cardinalities)], persistent=False)
        self.register_buffer("missing", torch.tensor(cardinalities, dtype=torch.long), persistent=False)
        self.n_rows = sum(c + 1 for c in cardinalities)

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        idx = torch.where(torch.isnan(codes), self.missing.to(codes.dtype), codes).long()
        if (idx < 0).any() or (idx > self.missing).any():
            raise ValueError("categorical codes must lie in [0, cardinality) or be NaN (missing)")
        return idx + self.offsets


class TabularTokenizer(nn.Module):
    """``(B, F)`` -> ``(B, F, D)``: one token per feature (FT-Transformer-style).

    A numeric value x_j becomes ``x_j * w_j + b_j``; a categorical code c becomes row c of the column's
    embedding table; a missing value (NaN) becomes the column's learned missing token. Then LayerNorm and the
    body's positions, one per column.
    """

    def __init__(self, task: Task, body: Body, cfg: EmbedderConfig) -> None:
        super().__init__()
        _need_text_body(body, "tabular")
        n_features, width = task.input_shape[0], body.d_in
        self.numeric = list(task.numeric)
        self.categorical = list(task.categorical)
        self.n_tokens, self.grid = n_features, None
        bound = 1 / math.sqrt(width)
        self.num_weight = nn.Parameter(torch.empty(len(self.numeric), width).uniform_(-bound, bound))
        self.num_bias = nn.Parameter(torch.empty(len(self.numeric), width).uniform_(-bound, bound))
        self.num_missing = nn.Parameter(torch.empty(len(self.numeric), width).uniform_(-bound, bound))
        cards = list(task.cardinalities)
        self.cat_rows = CategoryRows(cards)  # one table for all categorical columns
        self.cat_table = nn.Embedding(sum(c + 1 for c in cards), width) if cards else None
        if self.cat_table is not None:
            nn.init.uniform_(self.cat_table.weight, -bound, bound)
        order = self.numeric + self.categorical
        self.register_buffer("inverse", torch.argsort(torch.tensor(order, dtype=torch.long)), persistent=False)
        self.tail = _TokenNorm(n_features, width, body, cfg, _text_positions(body, n_features, "a table"))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        parts = []
        if self.numeric:
            v = x[:, self.numeric]  # (B, Fn)
            missing = torch.isnan(v).unsqueeze(-1)
            values = torch.nan_to_num(v, nan=0.0).unsqueeze(-1) * self.num_weight + self.num_bias  # (B, Fn, D)
            parts.append(torch.where(missing, self.num_missing.expand_as(values), values))
        if self.categorical:
            parts.append(self.cat_table(self.cat_rows(x[:, self.categorical])))  # (B, Fc, D)
        tokens = torch.cat(parts, dim=1)[:, self.inverse]  # back to column order: (B, F, D)
        return self.tail(tokens), None


def paper_tabular_encoding(x: torch.Tensor, task: Task) -> torch.Tensor:
    """The reference code's tabular encoding.

    Numeric-only tables become ``(B, F, 1)``: F channels of length 1, a single token. With categorical
    columns, every column is a token: ``(B, W, F)`` with W the widest one-hot width; numeric values sit in
    channel 0, categorical codes are one-hot. Missing values become 0 (the mean after standardisation) or an
    all-zero one-hot.
    """
    x = torch.nan_to_num(x, nan=0.0) if not task.categorical else x
    if not task.categorical:
        return x.unsqueeze(-1)  # (B, F) -> (B, F, 1)
    width = max(task.cardinalities)
    out = x.new_zeros(x.shape[0], width, x.shape[1])  # (B, W, F)
    if task.numeric:
        out[:, 0, list(task.numeric)] = torch.nan_to_num(x[:, list(task.numeric)], nan=0.0)
    for col, card in zip(task.categorical, task.cardinalities):
        codes = x[:, col]
        known = ~torch.isnan(codes)
        one_hot = F.one_hot(torch.nan_to_num(codes, nan=0.0).long().clamp(0, card - 1), width).to(x.dtype)
        out[:, :, col] = one_hot * known.unsqueeze(-1).to(x.dtype)
    return out


class TabularPaperEmbedder(nn.Module):
    """``(B, F)`` -> the paper's ``(B, C, L)`` encoding (:func:`paper_tabular_encoding`) -> :class:`SequenceEmbedder`."""

    def __init__(self, task: Task, body: Body, cfg: EmbedderConfig) -> None:
        super().__init__()
        self.task = task
        channels, length = (task.input_shape[0], 1) if not task.categorical else (max(task.cardinalities), task.input_shape[0])
        self.sequence = SequenceEmbedder(channels, length, body, cfg)
        self.n_tokens, self.grid = self.sequence.n_tokens, None

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        return self.sequence(paper_tabular_encoding(x, self.task))


register("embedder", "sequence")(lambda task, body, cfg: SequenceEmbedder(*task.input_shape, body, cfg))
register("embedder", "image")(lambda task, body, cfg: ImageEmbedder(*task.input_shape, body, cfg))
register("embedder", "tabular-tokenizer")(TabularTokenizer)
register("embedder", "tabular-paper")(TabularPaperEmbedder)


def embedder_name(task: Task, cfg: EmbedderConfig) -> str:
    return f"tabular-{cfg.tabular_mode}" if task.input_kind == "tabular" else task.input_kind


def build_embedder(task: Task, body: Body, cfg: EmbedderConfig) -> nn.Module:
    """Build the registered embedder for the task's input kind (and, for tables, ``cfg.tabular_mode``)."""
    return get("embedder", embedder_name(task, cfg))(task, body, cfg)
