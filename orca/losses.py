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


@register("loss", "relative_l2")
def relative_l2(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of ||output - target|| / ||target|| (per sample, all non-batch axes)."""
    diff = (output - target).flatten(1).norm(dim=1)
    return (diff / target.flatten(1).norm(dim=1).clamp_min(1e-12)).mean()
