"""Stage 2 alignment objectives: distances between embedded target features and source features.

Each objective is registered by name and called as ``objective(target, target_labels, source, source_labels)``
on feature matrices ``(n, D)`` and ``(m, D)`` with integer labels; it returns a differentiable scalar (in the
target features). An unknown name is an error, never a silent fallback.
"""

from __future__ import annotations

import torch

from .registry import register


@register("objective", "none")
def no_alignment(target: torch.Tensor, target_labels: torch.Tensor, source: torch.Tensor,
                 source_labels: torch.Tensor) -> torch.Tensor:
    """Skip stage 2 (naive fine-tuning); never called by the align loop."""
    raise RuntimeError("objective 'none' has no distance; the align stage returns before computing one")


def _sq_dists(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a.pow(2).sum(1, keepdim=True) + b.pow(2).sum(1) - 2 * a @ b.T).clamp_min(0.0)  # (n, m)


@register("objective", "mmd")
def mmd(target: torch.Tensor, target_labels: torch.Tensor, source: torch.Tensor, source_labels: torch.Tensor,
        bandwidth_multipliers: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0)) -> torch.Tensor:
    """Squared maximum mean discrepancy with a sum of Gaussian kernels (biased V-statistic, labels unused).

    The base bandwidth is the mean pairwise squared distance of the pooled sample (detached), multiplied by each
    of ``bandwidth_multipliers``. Zero when the two samples are identical.
    """
    joint = torch.cat([target, source], dim=0)
    d2 = _sq_dists(joint, joint)  # (n+m, n+m)
    base = d2.detach().sum() / max(d2.numel() - len(joint), 1)
    kernel = sum(torch.exp(-d2 / (base * m).clamp_min(1e-12)) for m in bandwidth_multipliers)
    n = len(target)
    return kernel[:n, :n].mean() + kernel[n:, n:].mean() - 2 * kernel[:n, n:].mean()
