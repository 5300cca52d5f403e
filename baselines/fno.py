"""Fourier neural operator (Li et al., 2021) for 1D and 2D fields, written for this project from the paper's
description and PDEBench's stated configuration (``benchmarks.md`` §1.7): lift ``Linear(C_in + d -> width)`` of
the input and its grid coordinates, four Fourier layers (spectral convolution on the lowest ``modes`` + a 1x1
convolution, GELU between layers), projection ``width -> 128 -> C_out``; the domain is zero-padded by 2 points at
the end of each axis, so that non-periodic problems are not forced to be periodic.
"""

from __future__ import annotations

import torch
from torch import nn

from orca.registry import register


class SpectralConv(nn.Module):
    """Multiply the lowest ``modes`` Fourier coefficients (per axis) by learned complex matrices."""

    def __init__(self, width: int, modes: int, dims: int) -> None:
        super().__init__()
        if dims not in (1, 2):
            raise ValueError(f"dims must be 1 or 2, got {dims}")
        self.modes, self.dims = modes, dims
        scale = 1.0 / (width * width)
        n_blocks = 1 if dims == 1 else 2  # 2D keeps the positive and negative frequencies of the first axis
        shape = (n_blocks, width, width) + (modes,) * dims
        self.weight = nn.Parameter(scale * torch.randn(*shape, dtype=torch.cfloat))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, W, *space) -> rfft over the spatial axes -> (B, W, *modes)
        spatial = x.shape[2:]
        xf = torch.fft.rfftn(x, dim=tuple(range(2, 2 + self.dims)))
        out = torch.zeros(x.shape[0], self.weight.shape[2], *xf.shape[2:], dtype=torch.cfloat, device=x.device)
        m = min(self.modes, xf.shape[-1])  # a grid smaller than 2 * modes keeps the modes it has
        if self.dims == 1:
            out[..., :m] = torch.einsum("bix,iox->box", xf[..., :m], self.weight[0, ..., :m])
        else:
            m1 = min(self.modes, xf.shape[2] // 2)
            w = self.weight[..., :m1, :m]
            out[:, :, :m1, :m] = torch.einsum("bixy,ioxy->boxy", xf[:, :, :m1, :m], w[0])
            out[:, :, -m1:, :m] = torch.einsum("bixy,ioxy->boxy", xf[:, :, -m1:, :m], w[1])
        return torch.fft.irfftn(out, s=spatial, dim=tuple(range(2, 2 + self.dims)))


@register("baseline", "fno")
class FNO(nn.Module):
    """FNO for fields (B, C_in, *space) -> (B, C_out, *space) with ``dims`` = 1 or 2 spatial axes."""

    def __init__(self, in_channels: int, out_channels: int, dims: int, modes: int = 12, width: int = 20,
                 layers: int = 4, padding: int = 2) -> None:
        super().__init__()
        self.dims, self.padding = dims, padding
        self.lift = nn.Linear(in_channels + dims, width)
        conv = nn.Conv1d if dims == 1 else nn.Conv2d
        self.spectral = nn.ModuleList(SpectralConv(width, modes, dims) for _ in range(layers))
        self.pointwise = nn.ModuleList(conv(width, width, 1) for _ in range(layers))
        self.head = nn.Sequential(nn.Linear(width, 128), nn.GELU(), nn.Linear(128, out_channels))

    def grid(self, x: torch.Tensor) -> torch.Tensor:
        """Normalised coordinates (B, d, *space) in [0, 1]."""
        axes = [torch.linspace(0, 1, s, device=x.device, dtype=x.dtype) for s in x.shape[2:]]
        mesh = torch.stack(torch.meshgrid(*axes, indexing="ij"))  # (d, *space)
        return mesh.unsqueeze(0).expand(x.shape[0], *mesh.shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        spatial = x.shape[2:]
        h = torch.cat([x, self.grid(x)], dim=1)  # (B, C_in + d, *space)
        h = self.lift(h.movedim(1, -1)).movedim(-1, 1)  # (B, width, *space)
        if self.padding:
            h = nn.functional.pad(h, (0, self.padding) * self.dims)
        for i, (spec, point) in enumerate(zip(self.spectral, self.pointwise)):
            h = spec(h) + point(h)
            if i < len(self.spectral) - 1:
                h = nn.functional.gelu(h)
        if self.padding:
            h = h[(..., *(slice(0, s) for s in spatial))]
        return self.head(h.movedim(1, -1)).movedim(-1, 1)  # (B, C_out, *space)
