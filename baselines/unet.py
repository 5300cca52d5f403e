"""U-Net (Ronneberger et al., 2015) for 1D and 2D fields in PDEBench's configuration (``benchmarks.md`` §1.7):
four levels, ``init_features`` 32 doubled per level, blocks of two (convolution, BatchNorm, Tanh), max-pooling
down, transposed convolutions up with skip connections, and a 1x1 output convolution. Inputs whose size is not a
multiple of 16 are zero-padded and the output is cropped back."""

from __future__ import annotations

import torch
from torch import nn

from orca.registry import register


def _block(conv: type, norm: type, c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(conv(c_in, c_out, 3, padding=1, bias=False), norm(c_out), nn.Tanh(),
                         conv(c_out, c_out, 3, padding=1, bias=False), norm(c_out), nn.Tanh())


@register("baseline", "unet")
class UNet(nn.Module):
    """U-Net mapping (B, C_in, *space) to (B, C_out, *space) with ``dims`` = 1 or 2 spatial axes."""

    def __init__(self, in_channels: int, out_channels: int, dims: int, init_features: int = 32,
                 levels: int = 4) -> None:
        super().__init__()
        if dims not in (1, 2):
            raise ValueError(f"dims must be 1 or 2, got {dims}")
        conv, norm = (nn.Conv1d, nn.BatchNorm1d) if dims == 1 else (nn.Conv2d, nn.BatchNorm2d)
        up = nn.ConvTranspose1d if dims == 1 else nn.ConvTranspose2d
        self.pool = nn.MaxPool1d(2) if dims == 1 else nn.MaxPool2d(2)
        self.dims, self.levels = dims, levels
        widths = [init_features * 2**i for i in range(levels + 1)]
        self.down = nn.ModuleList()
        c = in_channels
        for w in widths[:-1]:
            self.down.append(_block(conv, norm, c, w))
            c = w
        self.bottleneck = _block(conv, norm, widths[-2], widths[-1])
        self.ups = nn.ModuleList(up(widths[i + 1], widths[i], 2, stride=2) for i in reversed(range(levels)))
        self.up_blocks = nn.ModuleList(_block(conv, norm, 2 * widths[i], widths[i]) for i in reversed(range(levels)))
        self.out = conv(widths[0], out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        spatial = x.shape[2:]
        multiple = 2**self.levels
        pad = [(-s) % multiple for s in reversed(spatial)]
        x = nn.functional.pad(x, [p for q in pad for p in (0, q)])
        skips = []
        for block in self.down:
            x = block(x)
            skips.append(x)
            x = self.pool(x)
        x = self.bottleneck(x)
        for upsample, block, skip in zip(self.ups, self.up_blocks, reversed(skips)):
            x = block(torch.cat([upsample(x), skip], dim=1))
        return self.out(x)[(..., *(slice(0, s) for s in spatial))]
