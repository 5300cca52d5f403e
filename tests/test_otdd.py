"""Optimal-transport distances: against POT, closed forms, symmetry, gradients; objectives at zero."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.linalg import sqrtm

from orca.config import AlignConfig
from orca.otdd import class_moments, entropic_ot, gaussian_w2, sinkhorn_divergence, sq_dists
from orca.registry import get

ot = pytest.importorskip("ot")
rng = np.random.default_rng(0)


def _sets(n=7, m=9, d=3):
    x, y = rng.normal(size=(n, d)), rng.normal(size=(m, d)) + 0.5
    a, b = rng.random(n), rng.random(m)
    return x, y, a / a.sum(), b / b.sum()


@pytest.mark.parametrize("reg", [1.0, 0.1, 0.02])
def test_sinkhorn_transport_cost_matches_pot(reg) -> None:
    """<P, C> of the entropic plan equals POT's sinkhorn2 to 1e-6 relative (POT's log-domain solver)."""
    x, y, a, b = _sets()
    cost = sq_dists(torch.tensor(x), torch.tensor(y))
    cost = cost / cost.max()
    ours = entropic_ot(cost, torch.tensor(a), torch.tensor(b), eps=reg, tol=1e-12, max_iter=20000, return_cost=True)
    theirs = ot.sinkhorn2(a, b, cost.numpy(), reg, method="sinkhorn_log", numItermax=100000, stopThr=1e-12)
    assert float(ours) == pytest.approx(float(theirs), rel=1e-6)


def test_sinkhorn_approaches_exact_ot_as_regularisation_shrinks() -> None:
    x, y, a, b = _sets(12, 10)
    cost = sq_dists(torch.tensor(x), torch.tensor(y))
    cost = cost / cost.max()
    exact = ot.emd2(a, b, cost.numpy())
    gaps = [abs(float(entropic_ot(cost, torch.tensor(a), torch.tensor(b), eps=e, tol=1e-10, max_iter=50000,
                                  return_cost=True)) - exact) for e in (0.1, 0.01, 0.001)]
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 1e-3 * max(exact, 1e-12) + 1e-4


def test_debiased_divergence_is_zero_on_identical_sets_and_positive_otherwise() -> None:
    x = torch.tensor(rng.normal(size=(20, 4)))
    y = x + 1.0
    zero = sinkhorn_divergence(sq_dists(x, x), sq_dists(x, x), sq_dists(x, x), eps=0.1)
    assert abs(float(zero)) < 1e-5  # Sinkhorn stops at a 1e-5 marginal error by default
    assert float(sinkhorn_divergence(sq_dists(x, y), sq_dists(x, x), sq_dists(y, y), eps=0.1)) > 0.5


def _empirical_w2(xa: np.ndarray, xb: np.ndarray) -> float:
    """Closed form with scipy's sqrtm on the (1/n) covariances."""
    ma, mb = xa.mean(0), xb.mean(0)
    sa, sb = np.cov(xa.T, bias=True).reshape(xa.shape[1], -1), np.cov(xb.T, bias=True).reshape(xb.shape[1], -1)
    root = sqrtm(sa)
    cross = np.real(sqrtm(root @ sb @ root))
    return float(((ma - mb) ** 2).sum() + np.trace(sa) + np.trace(sb) - 2 * np.trace(cross))


@pytest.mark.parametrize("dim", [1, 2, 5])
def test_gaussian_w2_matches_the_closed_form(dim) -> None:
    xa, xb = rng.normal(size=(30, dim)), rng.normal(size=(40, dim)) * 2.0 + 1.0
    x = torch.tensor(np.vstack([xa, xb]))
    labels = torch.tensor([0] * 30 + [1] * 40)
    means, zs = class_moments(x, labels, torch.tensor([0, 1]))
    w = gaussian_w2(means, zs, means, zs)
    assert float(w[0, 1]) == pytest.approx(_empirical_w2(xa, xb), rel=1e-6)
    assert float(w[0, 0]) == pytest.approx(0.0, abs=1e-8) and float(w[1, 0]) == pytest.approx(float(w[0, 1]))
    if dim == 1:  # W2^2 = (mu_a - mu_b)^2 + (sigma_a - sigma_b)^2
        closed = (xa.mean() - xb.mean()) ** 2 + (xa.std() - xb.std()) ** 2
        assert float(w[0, 1]) == pytest.approx(closed, rel=1e-8)


def test_gradients_pass_gradcheck() -> None:
    x = torch.tensor(rng.normal(size=(4, 2)), requires_grad=True)
    y = torch.tensor(rng.normal(size=(5, 2)))

    def divergence(x):
        return sinkhorn_divergence(sq_dists(x, y), sq_dists(x, x), sq_dists(y, y), eps=0.5, tol=1e-11,
                                   max_iter=5000)

    assert torch.autograd.gradcheck(divergence, (x,), eps=1e-6, atol=1e-5)

    labels = torch.tensor([0, 0, 1, 1, 1])
    z = torch.tensor(rng.normal(size=(5, 3)), requires_grad=True)

    def w2(z):
        means, zs = class_moments(z, labels, torch.tensor([0, 1]))
        return gaussian_w2(means, zs, means, zs)[0, 1]

    assert torch.autograd.gradcheck(w2, (z,), eps=1e-6, atol=1e-5)


def _source(n_per_class=12, k=3, d=6):
    x = torch.cat([torch.randn(n_per_class, d) + 2 * c for c in range(k)])
    return x, torch.arange(k).repeat_interleave(n_per_class)


@pytest.mark.parametrize("name", ["mmd", "l2", "otdd-gaussian", "otdd-exact"])
def test_objectives_are_zero_on_the_source_itself_and_positive_on_shifted_data(name) -> None:
    x, labels = _source()
    objective = get("objective", name)(x, labels, AlignConfig(objective=name))
    assert abs(float(objective(x.clone(), labels))) < 1e-4
    assert float(objective(x + 3.0, labels)) > 0.05


@pytest.mark.parametrize("name", ["mmd", "otdd-gaussian", "otdd-exact", "otdd-paper"])
def test_objectives_are_invariant_to_row_order(name) -> None:
    x, labels = _source()
    objective = get("objective", name)(x, labels, AlignConfig(objective=name))
    target, t_labels = x[::2] * 1.3 + 0.2, labels[::2]
    perm = torch.randperm(len(target))
    assert float(objective(target[perm], t_labels[perm])) == pytest.approx(float(objective(target, t_labels)),
                                                                            rel=1e-4, abs=1e-6)


def test_otdd_needs_two_samples_per_class() -> None:
    from orca.exceptions import DataError

    x, labels = _source()
    objective = get("objective", "otdd-gaussian")(x, labels, AlignConfig())
    with pytest.raises(DataError, match="at least 2 samples"):
        objective(x[:13], labels[:13])  # class 1 has a single sample
    with pytest.raises(DataError, match="at least 2 samples"):
        get("objective", "otdd-exact")(x[:13], labels[:13], AlignConfig())


def test_otdd_paper_is_the_reference_codes_per_class_sum() -> None:
    """The ORCA code's stage 2 (``embedder.py``): for each target class, ``class_weight * otdd(feats_c, ys=None)``
    with the class's rows labelled 0, summed; the weights are training-set shares. It is not the joint OTDD."""
    x, labels = _source()
    cfg = AlignConfig(objective="otdd-paper")
    paper = get("objective", "otdd-paper")(x, labels, cfg)
    joint = get("objective", "otdd-exact")(x, labels, AlignConfig(objective="otdd-exact"))
    target, t_labels = x * 1.2 + 0.5, labels.clone()
    paper.set_class_weights({0: 0.5, 1: 0.3, 2: 0.2})
    expected = sum(w * float(joint(target[t_labels == c], torch.zeros(int((t_labels == c).sum()), dtype=torch.long)))
                   for c, w in ((0, 0.5), (1, 0.3), (2, 0.2)))
    assert float(paper(target, t_labels)) == pytest.approx(expected, rel=1e-5)
    assert float(paper(target, t_labels)) != pytest.approx(float(joint(target, t_labels)), rel=1e-2)
    # one target class relabelled 0 matches the whole labelled source: not zero even on the source itself
    assert float(paper(x.clone(), labels)) > 0.05
    single = labels.clone()
    single[0] = 5  # a class with one row in the batch is skipped, as the reference skips feats.shape[0] <= 1
    paper.set_class_weights({0: 0.5, 1: 0.3, 2: 0.2, 5: 0.1})
    assert float(paper(target, single)) == pytest.approx(
        expected - 0.5 * float(joint(target[:12], torch.zeros(12, dtype=torch.long)))
        + 0.5 * float(joint(target[1:12], torch.zeros(11, dtype=torch.long))), rel=1e-5)


@pytest.mark.parametrize("name", ["mmd", "l2", "otdd-gaussian", "otdd-exact", "otdd-paper"])
def test_objective_setup_is_cached_and_reused_exactly(name, tmp_path) -> None:
    """The second build loads the source-side set-up from disk and computes the same distance; other settings
    or a damaged file rebuild it; no cache directory means no file."""
    from orca.objective_cache import build_objective

    x, labels = _source()
    cfg = AlignConfig(objective=name)
    cls = get("objective", name)
    first, status = build_objective(cls, x, labels, cfg, tmp_path)
    assert status == "miss" and len(list(tmp_path.iterdir())) == 1
    second, status = build_objective(cls, x, labels, cfg, tmp_path)
    assert status == "hit"
    target, t_labels = x[::2] * 1.3 + 0.2, labels[::2]
    assert float(second(target, t_labels)) == float(first(target, t_labels))
    _, status = build_objective(cls, x, labels, AlignConfig(objective=name, epsilon=0.2), tmp_path)
    assert status == "miss" and len(list(tmp_path.iterdir())) == 2
    _, status = build_objective(cls, x + 1e-3, labels, cfg, tmp_path)  # other source features: another key
    assert status == "miss"
    for f in tmp_path.iterdir():
        f.write_bytes(b"not a safetensors file")
    _, status = build_objective(cls, x, labels, cfg, tmp_path)
    assert status == "miss"
    assert build_objective(cls, x, labels, cfg, None)[1] == "off"
