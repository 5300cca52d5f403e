"""Supervised CNN references for NAS-Bench-360, written for this project: a Wide-ResNet for 2D inputs (the
hand-designed CIFAR model; Zagoruyko and Komodakis, 2016) and a 1D ResNet for sequences (the ECG, satellite and
DeepSEA-style references). Both have a ``dense`` variant that keeps the input's resolution and predicts a value
per position (Darcy, Cosmic, PSICOV), and a classification/multi-label head otherwise.
"""

from __future__ import annotations

import torch
from torch import nn

from orca.registry import register


class _Block(nn.Module):
    """Pre-activation residual block: BN-ReLU-conv-BN-ReLU-conv, with a 1x1 projection when the shape changes."""

    def __init__(self, conv: type[nn.Module], norm: type[nn.Module], c_in: int, c_out: int, stride: int,
                 kernel: int) -> None:
        super().__init__()
        pad = kernel // 2
        self.bn1, self.bn2 = norm(c_in), norm(c_out)
        self.conv1 = conv(c_in, c_out, kernel, stride=stride, padding=pad, bias=False)
        self.conv2 = conv(c_out, c_out, kernel, stride=1, padding=pad, bias=False)
        self.skip = None if stride == 1 and c_in == c_out else conv(c_in, c_out, 1, stride=stride, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.bn1(x))
        shortcut = x if self.skip is None else self.skip(h)
        h = self.conv1(h)
        h = self.conv2(torch.relu(self.bn2(h)))
        return h + shortcut


class ResNet(nn.Module):
    """A residual network over 1 or 2 spatial axes.

    Parameters
    ----------
    c_in : int
        Input channels.
    n_out : int
        Classes (or labels) for a pooled head; output channels for ``dense``.
    dims : int
        1 (sequences ``(B, C, L)``) or 2 (images ``(B, C, H, W)``).
    widths : tuple of int
        Channels of each stage; each stage after the first halves the resolution unless ``dense``.
    blocks : int
        Residual blocks per stage.
    kernel : int
        Convolution size (3 for images, e.g. 7 for long sequences).
    dense : bool
        Keep the resolution and end in a 1x1 convolution to ``n_out`` channels, instead of pooling to a vector.
    """

    def __init__(self, c_in: int, n_out: int, dims: int = 2, widths: tuple[int, ...] = (64, 128, 256),
                 blocks: int = 2, kernel: int = 3, dense: bool = False) -> None:
        super().__init__()
        if dims not in (1, 2):
            raise ValueError(f"dims must be 1 or 2, got {dims}")
        conv = nn.Conv1d if dims == 1 else nn.Conv2d
        norm = nn.BatchNorm1d if dims == 1 else nn.BatchNorm2d
        self.dense = dense
        self.stem = conv(c_in, widths[0] // 4 if widths[0] >= 64 else widths[0], kernel, padding=kernel // 2,
                         bias=False)
        layers, c = [], self.stem.out_channels
        for s, width in enumerate(widths):
            for b in range(blocks):
                stride = 2 if (s > 0 and b == 0 and not dense) else 1
                layers.append(_Block(conv, norm, c, width, stride, kernel))
                c = width
        self.body = nn.Sequential(*layers)
        self.norm = norm(c)
        self.head = conv(c, n_out, 1) if dense else nn.Linear(c, n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.norm(self.body(self.stem(x))))
        if self.dense:
            return self.head(h)  # (B, n_out, *space)
        return self.head(h.flatten(2).mean(dim=2))  # global average pool: (B, C, *space) -> (B, C) -> (B, n_out)


@register("baseline", "wide-resnet")
def wide_resnet(c_in: int, n_out: int, depth: int = 16, widen: int = 4, dense: bool = False) -> ResNet:
    """WRN-``depth``-``widen`` for images: three stages of 16·k, 32·k and 64·k channels with (depth − 4) / 6
    blocks each (WRN-16-4 by default; the NAS-Bench-360 hand-designed CIFAR model is WRN-16-4 too)."""
    if (depth - 4) % 6:
        raise ValueError(f"a Wide-ResNet depth must be 6n + 4, got {depth}")
    return ResNet(c_in, n_out, 2, (16 * widen, 32 * widen, 64 * widen), (depth - 4) // 6, 3, dense)


@register("baseline", "resnet1d")
def resnet1d(c_in: int, n_out: int, widths: tuple[int, ...] = (64, 128, 256), blocks: int = 2,
             kernel: int = 7) -> ResNet:
    """A 1D ResNet for sequences (ECG windows, one-hot DNA, spectral rows)."""
    return ResNet(c_in, n_out, 1, widths, blocks, kernel, dense=False)
