"""Training-time augmentation of sequence inputs for classification (``refine.augment = "series"``; off by
default, not in the paper).

A fine-tuned body fits a few dozen training series exactly (the small-data study: validation accuracy 1.0 on 9 of
13 UCR problems whose test accuracy is 0.47-0.83). Three standard, label-preserving transforms of a series, drawn
afresh for every batch, give it more to fit:

- **window slicing** (Le Guennec et al., 2016): a random window of :data:`WINDOW` of the length, stretched back to
  the full length by linear interpolation;
- **amplitude scaling**: each channel multiplied by ``1 + SCALE * N(0, 1)``;
- **jitter**: Gaussian noise of :data:`JITTER` times the channel's own standard deviation.

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
    classification output (a scaled or stretched input would no longer match a regression target or field)."""
    if mode == "series" and (len(task.input_shape) != 2 or task.output != "classification"):
        raise ConfigError(f"refine.augment='series' applies to classification of sequences (inputs (C, L)); task "
                          f"{task.name!r} has inputs {task.input_shape} and output {task.output!r}; use 'none'")


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
