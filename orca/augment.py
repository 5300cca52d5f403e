"""Training-time augmentation (``refine.augment``; off by default, not in the paper).

``"series"``: label-preserving transforms of sequence inputs, for classification.

A fine-tuned body fits a few dozen training series exactly (the small-data study: validation accuracy 1.0 on 9 of
13 UCR problems whose test accuracy is 0.47-0.83). Three standard, label-preserving transforms of a series, drawn
afresh for every batch, give it more to fit:

- **window slicing** (Le Guennec et al., 2016): a random window of :data:`WINDOW` of the length, stretched back to
  the full length by linear interpolation;
- **amplitude scaling**: each channel multiplied by ``1 + SCALE * N(0, 1)``;
- **jitter**: Gaussian noise of :data:`JITTER` times the channel's own standard deviation.

``"dihedral"``: for square 2D fields mapped to fields on the same grid, each training pair (input and target
together) is put through one of the 8 symmetries of the square (the identity, 3 rotations by 90 degrees, 4
reflections), drawn per sample. It is exact only where the problem has that symmetry: an isotropic PDE on a
square with the same condition on every wall, and an input law that does not prefer a direction (PDEBench's 2D
diffusion-reaction, Darcy flow and radial dam break as generated here); on anything else (advection with a
direction, a forcing that varies in space) it teaches the model a wrong map, so it is a claim about the task that
the caller makes, not a default. A small-sample field task (162 training fields on PDEBench's 2D
diffusion-reaction) then sees up to 8 times as many distinct pairs; a CNN gets part of that from its translation
equivariance, a patch-token transformer gets none of it.

The draws come from a generator seeded by the run's seed and the epoch, so a run resumed from an epoch's
checkpoint replays them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .exceptions import ConfigError
from .tasks import Task

WINDOW = 0.9
"""The share of the length a window slice keeps."""
SCALE = 0.1
"""The standard deviation of the amplitude factor around 1."""
JITTER = 0.03
"""The noise's standard deviation, relative to each series channel's own."""


def check_augment(mode: str, task: Task) -> None:
    """Refuse ``refine.augment`` where it does not apply: ``"series"`` needs sequence inputs ``(C, L)`` and a
    classification output (a scaled or stretched input would no longer match a regression target or field);
    ``"dihedral"`` needs square fields ``(C, N, N)`` mapped to fields ``(C', N, N)`` on the same grid."""
    if mode == "series" and (len(task.input_shape) != 2 or task.output != "classification"):
        raise ConfigError(f"refine.augment='series' applies to classification of sequences (inputs (C, L)); task "
                          f"{task.name!r} has inputs {task.input_shape} and output {task.output!r}; use 'none'")
    if mode == "dihedral":
        grid = task.input_shape[1:]
        if (len(task.input_shape) != 3 or grid[0] != grid[1] or task.output != "dense"
                or tuple(task.output_shape[1:]) != tuple(grid)):
            raise ConfigError(f"refine.augment='dihedral' applies to square 2D fields mapped to fields on the same "
                              f"grid (inputs (C, N, N), dense outputs (C', N, N)); task {task.name!r} has inputs "
                              f"{task.input_shape} and output {task.output!r} {task.output_shape}; use 'none'")


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """The augmentation draws of one epoch: a generator seeded by the run's seed and the epoch."""
    return torch.Generator().manual_seed(seed * 1_000_003 + epoch)


def augment_series(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """A batch of series ``(B, C, L)`` -> the same shape, window-sliced, scaled and jittered (module docstring)."""
    b, c, length = x.shape
    keep = max(2, round(WINDOW * length))
    starts = torch.randint(0, length - keep + 1, (b,), generator=gen)
    index = (starts[:, None] + torch.arange(keep)).to(x.device)  # (B, keep): each sample's window
    window = torch.gather(x, 2, index[:, None, :].expand(b, c, keep))  # (B, C, keep)
    out = F.interpolate(window, size=length, mode="linear", align_corners=True)  # (B, C, L)
    scale = (1.0 + SCALE * torch.randn(b, c, 1, generator=gen)).to(x.device, x.dtype)  # (B, C, 1)
    noise = torch.randn(b, c, length, generator=gen).to(x.device, x.dtype)  # (B, C, L)
    return out * scale + JITTER * x.std(dim=2, keepdim=True) * noise


def dihedral(field: torch.Tensor, element: int) -> torch.Tensor:
    """One of the 8 symmetries of the square applied to fields ``(..., N, N)``. ``element`` (0-7) reads as bits:
    4 transposes the two spatial axes, then 1 flips the first and 2 the second; the 8 combinations are the
    identity, the three rotations by multiples of 90 degrees and the four reflections."""
    if element & 4:
        field = field.transpose(-2, -1)
    dims = [d for bit, d in ((1, -2), (2, -1)) if element & bit]
    return field.flip(dims) if dims else field


def augment_dihedral(x: torch.Tensor, y: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of input fields ``(B, C, N, N)`` and target fields ``(B, C', N, N)`` -> the same shapes, each
    sample's pair under one symmetry of the square drawn from ``gen`` (the same one for its input and target)."""
    elements = torch.randint(0, 8, (x.shape[0],), generator=gen).tolist()
    x_out = torch.stack([dihedral(x[i], e) for i, e in enumerate(elements)])  # (B, C, N, N)
    y_out = torch.stack([dihedral(y[i], e) for i, e in enumerate(elements)])  # (B, C', N, N)
    return x_out, y_out
