"""Optimal-transport distances in plain PyTorch: log-domain Sinkhorn, debiased Sinkhorn divergence, Gaussian
(Bures-Wasserstein) label distances, and the optimal-transport dataset distance (OTDD).

All functions accept leading batch dimensions, so many small problems (one per pair of classes) run as one
batched problem; padded points carry weight zero (log-weight ``-inf``).

Gradients use the envelope theorem: the derivative of entropic OT with respect to the cost matrix is the
optimal plan, so the Sinkhorn iterations run without autograd and one differentiable contraction with the plan
carries the gradient. This is exact at convergence (checked with ``torch.autograd.gradcheck``) and costs
no memory per iteration.
"""

from __future__ import annotations

import math

import torch


def sq_dists(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Squared Euclidean distances ``(..., n, m)`` between rows of ``x (..., n, d)`` and ``y (..., m, d)``."""
    d2 = x.pow(2).sum(-1, keepdim=True) + y.pow(2).sum(-1).unsqueeze(-2) - 2 * x @ y.transpose(-1, -2)
    return d2.clamp_min(0.0)


def _softmin(eps: float, cost: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """``-eps * log sum_j exp(h_j - C_ij / eps)`` over the last axis: ``(..., n, m), (..., m) -> (..., n)``."""
    return -eps * torch.logsumexp(h.unsqueeze(-2) - cost / eps, dim=-1)


def _row_error(eps: float, cost: torch.Tensor, log_a: torch.Tensor, log_b: torch.Tensor, f: torch.Tensor,
               g: torch.Tensor) -> float:
    """Largest (over the batch) L1 violation of the row marginal of the plan built from ``f, g``."""
    f_next = _softmin(eps, cost, log_b + g / eps)
    mass = torch.exp(log_a + (f - f_next) / eps)  # row sums of the plan
    return float((mass - log_a.exp()).abs().sum(-1).amax())


@torch.no_grad()
def sinkhorn_potentials(cost: torch.Tensor, log_a: torch.Tensor, log_b: torch.Tensor | None, eps: float,
                        max_iter: int = 1000, tol: float = 1e-5, check_every: int = 5
                        ) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Dual potentials ``f (..., n)``, ``g (..., m)`` of entropic OT, and the number of iterations used.

    Log-domain updates with epsilon annealing: epsilon starts at the largest cost and halves down to ``eps``,
    one update per level (a warm start that makes small ``eps`` cheap); then updates at ``eps`` until the row
    marginal of the plan is within ``tol`` (L1, in units of mass) of ``a`` (columns are exact after each update).
    ``log_b=None`` means the symmetric problem OT(a, a) on a symmetric cost: the averaged update
    ``f <- (f + softmin(f)) / 2`` converges in a few iterations there, where alternating updates oscillate.
    """
    c = cost.detach()
    symmetric = log_b is None
    log_b = log_a if symmetric else log_b
    finite_a, finite_b = torch.isfinite(log_a), torch.isfinite(log_b)
    top = float(c.amax()) if c.numel() else 1.0
    schedule = []
    e = max(top, eps)
    while e > eps:
        schedule.append(e)
        e /= 2.0
    schedule.append(eps)
    f = torch.zeros_like(log_a)
    g = torch.zeros_like(log_b)
    it = 0
    for it in range(1, len(schedule) + max_iter + 1):
        e = schedule[min(it, len(schedule)) - 1]
        if symmetric:
            f = 0.5 * (f + _softmin(e, c, log_a + f / e))
            g = f
        else:
            f = _softmin(e, c, log_b + g / e)
            g = _softmin(e, c.transpose(-1, -2), log_a + f / e)
        if it >= len(schedule) and (it - len(schedule)) % check_every == 0:
            if _row_error(eps, c, log_a, log_b, f, g) <= tol:
                break
    if symmetric:  # one last plain half-step makes the plan exactly symmetric and marginal-consistent
        f = _softmin(eps, c, log_a + f / eps)
        g = f
    zero_f, zero_g = torch.zeros_like(f), torch.zeros_like(g)
    return f.where(finite_a, zero_f), g.where(finite_b, zero_g), it - len(schedule) + 1


def _log_weights(weights: torch.Tensor | None, n: int, like: torch.Tensor) -> torch.Tensor:
    if weights is None:
        return torch.full(like.shape[:-2] + (n,), -math.log(n), dtype=like.dtype, device=like.device)
    return torch.log(weights.to(like.dtype))


def entropic_ot(cost: torch.Tensor, a: torch.Tensor | None = None, b: torch.Tensor | None = None,
                eps: float = 0.1, max_iter: int = 1000, tol: float = 1e-5, return_cost: bool = False,
                symmetric: bool = False) -> torch.Tensor:
    """Entropic optimal transport between weighted point sets given their cost matrix.

    Parameters
    ----------
    cost : Tensor, shape (..., n, m)
    a, b : Tensor, shape (..., n) and (..., m), optional
        Weights summing to 1 (zeros mark padding); uniform when omitted.
    eps : float
        Entropic regularisation, in the units of ``cost`` (POT's ``reg``).
    return_cost : bool
        ``False``: the entropic OT value ``<a, f> + <b, g>`` (what debiasing needs). ``True``: the transport
        cost ``<P, C>`` of the entropic plan (what POT's ``sinkhorn2`` returns).
    symmetric : bool
        ``OT(a, a)`` on a symmetric cost (a self term): ``b`` is ignored and the faster symmetric update is used.

    Returns
    -------
    Tensor, shape (...)
        Differentiable with respect to ``cost`` (the gradient is the plan P).
    """
    n, m = cost.shape[-2:]
    log_a = _log_weights(a, n, cost)
    log_b = log_a if symmetric else _log_weights(b, m, cost)
    f, g, _ = sinkhorn_potentials(cost, log_a, None if symmetric else log_b, eps, max_iter, tol)
    c = cost.detach()
    plan = torch.exp((f.unsqueeze(-1) + g.unsqueeze(-2) - c) / eps + log_a.unsqueeze(-1) + log_b.unsqueeze(-2))
    if return_cost:
        return (plan * cost).sum((-2, -1))
    value = (log_a.exp() * f).sum(-1) + (log_b.exp() * g).sum(-1)
    return value + (plan * (cost - c)).sum((-2, -1))  # value, with d value / d cost = plan


def sinkhorn_divergence(cost_xy: torch.Tensor, cost_xx: torch.Tensor, cost_yy: torch.Tensor,
                        a: torch.Tensor | None = None, b: torch.Tensor | None = None, eps: float = 0.1,
                        max_iter: int = 1000, tol: float = 1e-5) -> torch.Tensor:
    """Debiased Sinkhorn divergence ``OT(x, y) - OT(x, x) / 2 - OT(y, y) / 2`` (zero when x and y coincide).

    The objectives in :mod:`orca.objectives` cache the source self-term instead of calling this per step.
    """
    xy = entropic_ot(cost_xy, a, b, eps, max_iter, tol)
    xx = entropic_ot(cost_xx, a, eps=eps, max_iter=max_iter, tol=tol, symmetric=True)
    yy = entropic_ot(cost_yy, b, eps=eps, max_iter=max_iter, tol=tol, symmetric=True)
    return xy - 0.5 * xx - 0.5 * yy


# ---- label-to-label distances -------------------------------------------------------------------------------
def class_moments(x: torch.Tensor, labels: torch.Tensor, classes: torch.Tensor
                  ) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Per-class means ``(K, d)`` and centred, 1/sqrt(n)-scaled samples ``Z_k (n_k, d)`` with Sigma_k = Z_k^T Z_k."""
    means, zs = [], []
    for c in classes.tolist():
        xc = x[labels == c]
        mu = xc.mean(0)
        means.append(mu)
        zs.append((xc - mu) / math.sqrt(len(xc)))
    return torch.stack(means), zs


def gaussian_w2(means_a: torch.Tensor, zs_a: list[torch.Tensor], means_b: torch.Tensor,
                zs_b: list[torch.Tensor]) -> torch.Tensor:
    """Squared 2-Wasserstein (Bures) distances ``(K_a, K_b)`` between Gaussian fits of classes.

    W2^2 = |mu_a - mu_b|^2 + tr S_a + tr S_b - 2 tr (S_a^1/2 S_b S_a^1/2)^1/2. With S = Z^T Z the last trace is
    the nuclear norm of ``Z_a Z_b^T`` (an n_a x n_b matrix), so no d x d square root is formed: exact,
    cheap when classes have fewer samples than dimensions, and stable to differentiate.
    """
    tr_a = torch.stack([z.pow(2).sum() for z in zs_a])
    tr_b = torch.stack([z.pow(2).sum() for z in zs_b])
    cross = torch.stack([torch.stack([torch.linalg.svdvals(za @ zb.T).sum() for zb in zs_b]) for za in zs_a])
    return (sq_dists(means_a, means_b) + tr_a[:, None] + tr_b[None, :] - 2 * cross).clamp_min(0.0)


def _pad_classes(x: torch.Tensor, labels: torch.Tensor, classes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack class samples into ``(K, n_max, d)`` with weights ``(K, n_max)`` (uniform per class, 0 = padding)."""
    groups = [x[labels == c] for c in classes.tolist()]
    n_max = max(len(g) for g in groups)
    points = x.new_zeros(len(groups), n_max, x.shape[-1])
    weights = x.new_zeros(len(groups), n_max)
    for k, g in enumerate(groups):
        points[k, : len(g)] = g
        weights[k, : len(g)] = 1.0 / len(g)
    return points, weights


def exact_label_distances(x_a: torch.Tensor, y_a: torch.Tensor, classes_a: torch.Tensor, x_b: torch.Tensor,
                          y_b: torch.Tensor, classes_b: torch.Tensor, eps: float, self_b: torch.Tensor | None = None,
                          max_iter: int = 1000, tol: float = 1e-5) -> tuple[torch.Tensor, torch.Tensor]:
    """Debiased Sinkhorn divergences ``(K_a, K_b)`` between every class of a and every class of b.

    Returns the distances and the per-class self terms ``OT(b_k, b_k)`` (pass them back as ``self_b`` to reuse).
    """
    pa, wa = _pad_classes(x_a, y_a, classes_a)  # (Ka, na, d), (Ka, na)
    pb, wb = _pad_classes(x_b, y_b, classes_b)  # (Kb, nb, d), (Kb, nb)
    ka, kb = len(pa), len(pb)
    self_a = entropic_ot(sq_dists(pa, pa), wa, eps=eps, max_iter=max_iter, tol=tol, symmetric=True)  # (Ka,)
    if self_b is None:
        self_b = entropic_ot(sq_dists(pb, pb), wb, eps=eps, max_iter=max_iter, tol=tol, symmetric=True)  # (Kb,)
    cost = sq_dists(pa.unsqueeze(1), pb.unsqueeze(0))  # (Ka, Kb, na, nb)
    wa_pairs = wa.unsqueeze(1).expand(ka, kb, -1)
    wb_pairs = wb.unsqueeze(0).expand(ka, kb, -1)
    ot_ab = entropic_ot(cost, wa_pairs, wb_pairs, eps, max_iter, tol)  # (Ka, Kb)
    return (ot_ab - 0.5 * self_a[:, None] - 0.5 * self_b[None, :]).clamp_min(0.0), self_b
