"""Training losses, registered by name. Each maps ``(output, target)`` tensors to a scalar."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .registry import register


@register("loss", "cross_entropy")
def cross_entropy(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``output``: logits (B, K); ``target``: class indices (B,)."""
    return F.cross_entropy(output, target.long())


@register("loss", "bce")
def bce(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``output``: logits (B, K); ``target``: {0, 1} (B, K)."""
    return F.binary_cross_entropy_with_logits(output, target.float())


@register("loss", "mse")
def mse(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(output, target.float())


def relative_l2_per_sample(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``||output - target|| / ||target||`` per sample over all non-batch axes, ``(B,)``; a target of norm
    below 1e-12 counts as 1e-12. The one kernel behind the training loss and every relative-l2 score."""
    diff = (output - target).flatten(1).norm(dim=1)  # (B,)
    return diff / target.flatten(1).norm(dim=1).clamp_min(1e-12)


@register("loss", "relative_l2")
def relative_l2(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of :func:`relative_l2_per_sample` (Darcy's relative l2, PDEBench's nRMSE-style loss)."""
    return relative_l2_per_sample(output, target.to(output.dtype)).mean()
