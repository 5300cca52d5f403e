"""One OTDD align step: orca's objective (source terms cached) against a straightforward recomputation with POT.

The setting of the alignment issue: 5,000 source x 128 target features, d = 384, 10 source classes (here:
seeded Gaussian clusters; the timing does not depend on what the features mean), 10 target pseudo-classes,
label distances from at most ``--label-samples`` source points per class, entropic regularisation 0.1 of the
mean squared source distance.

* **orca**: ``OTDDExact`` is built once per run (source-source label distances and the source self-term
  ``OT(s, s)`` are computed then); a step is ``objective(target, labels)`` plus the backward pass.
* **straightforward**: what the reference code does on every call: every class-to-class distance (source-
  source included) and all three outer problems, source self-term on 5,000 x 5,000 included, with POT's
  log-domain Sinkhorn, values from the plan (``<P, C> + eps KL(P | a b^T)``).

Prints both step times, their ratio (goal >= 10x), the relative difference of the two values (goal <= 1e-3)
and the peak memory of the process (goal < 2 GB).

    python -m benchmarks.perf.otdd_bench [--source 5000] [--target 128] [--dim 384]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from orca.config import AlignConfig
from orca.objectives import OTDDExact
from orca.provenance import peak_memory_mb


def clusters(n: int, classes: int, dim: int, seed: int, shift: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=2.0, size=(classes, dim)) + shift
    labels = np.arange(n) % classes
    return (centres[labels] + rng.normal(size=(n, dim))).astype(np.float32), labels


def pot_entropic_value(ot, a: np.ndarray, b: np.ndarray, cost: np.ndarray, reg: float) -> float:
    """Entropic OT value <P, C> + reg KL(P | a b^T) from POT's log-domain plan."""
    plan = ot.sinkhorn(a, b, cost, reg, method="sinkhorn_log", numItermax=5000, stopThr=1e-6)
    ratio = np.where(plan > 0, plan / np.outer(a, b), 1.0)
    return float((plan * cost).sum() + reg * (plan * np.log(ratio)).sum())


def pot_divergence(ot, x: np.ndarray, y: np.ndarray, reg: float) -> float:
    def sq(p, q):
        return np.maximum((p**2).sum(1)[:, None] + (q**2).sum(1)[None] - 2 * p @ q.T, 0.0)

    a, b = np.full(len(x), 1 / len(x)), np.full(len(y), 1 / len(y))
    return (pot_entropic_value(ot, a, b, sq(x, y), reg) - 0.5 * pot_entropic_value(ot, a, a, sq(x, x), reg)
            - 0.5 * pot_entropic_value(ot, b, b, sq(y, y), reg))


def straightforward_otdd(ot, target, t_labels, source, s_labels, label_x, label_y, eps: float, scale: float) -> float:
    """Recompute every term of the debiased OTDD with POT, as the reference code does on each call."""
    def sq(p, q):
        return np.maximum((p**2).sum(1)[:, None] + (q**2).sum(1)[None] - 2 * p @ q.T, 0.0)

    t_classes, s_classes = np.unique(t_labels), np.unique(label_y)

    def label_matrix(xa, ya, ca, xb, yb, cb):
        return np.array([[max(pot_divergence(ot, xa[ya == i], xb[yb == j], eps * scale), 0.0) for j in cb]
                         for i in ca])

    w_ts = label_matrix(target, t_labels, t_classes, label_x, label_y, s_classes)
    w_tt = label_matrix(target, t_labels, t_classes, target, t_labels, t_classes)
    w_ss = label_matrix(label_x, label_y, s_classes, label_x, label_y, s_classes)
    ti, si = np.searchsorted(t_classes, t_labels), np.searchsorted(s_classes, s_labels)
    a, b = np.full(len(target), 1 / len(target)), np.full(len(source), 1 / len(source))
    ts = pot_entropic_value(ot, a, b, (sq(target, source) + w_ts[ti][:, si]) / scale, eps)
    tt = pot_entropic_value(ot, a, a, (sq(target, target) + w_tt[ti][:, ti]) / scale, eps)
    ss = pot_entropic_value(ot, b, b, (sq(source, source) + w_ss[si][:, si]) / scale, eps)
    return ts - 0.5 * tt - 0.5 * ss


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=int, default=5000)
    parser.add_argument("--target", type=int, default=128)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--label-samples", type=int, default=100)
    parser.add_argument("--steps", type=int, default=3, help="orca steps to time (median)")
    args = parser.parse_args(argv)
    import ot

    torch.set_default_dtype(torch.float64)  # both sides in double precision, so values are comparable
    src_x, src_y = clusters(args.source, 10, args.dim, seed=0)
    tgt_x, tgt_y = clusters(args.target, 10, args.dim, seed=1, shift=0.5)
    cfg = AlignConfig(objective="otdd-exact", label_samples=args.label_samples, source_samples=args.source)

    start = time.perf_counter()
    objective = OTDDExact(torch.from_numpy(src_x).double(), torch.from_numpy(src_y), cfg)
    setup = time.perf_counter() - start
    times, value = [], None
    for _ in range(args.steps):
        target = torch.from_numpy(tgt_x).double().requires_grad_(True)
        start = time.perf_counter()
        loss = objective(target, torch.from_numpy(tgt_y))
        loss.backward()
        times.append(time.perf_counter() - start)
        value = float(loss.detach())
    ours = sorted(times)[len(times) // 2]
    orca_peak = peak_memory_mb() / 1024  # high-water mark before the straightforward version runs

    start = time.perf_counter()
    reference = straightforward_otdd(ot, tgt_x.astype(np.float64), tgt_y, src_x.astype(np.float64), src_y,
                                     objective.l_x.numpy(), objective.l_y.numpy(), cfg.epsilon, objective.scale)
    naive = time.perf_counter() - start
    rel = abs(value - reference) / abs(reference)
    print(f"OTDD align step, {args.source} source x {args.target} target, d = {args.dim}, 10 source classes:")
    print(f"  orca (cached source terms)   {ours:8.3f} s per step (one-off set-up {setup:.2f} s)")
    print(f"  straightforward, POT         {naive:8.3f} s per step")
    print(f"  speed-up                     {naive / ours:8.1f}x (goal >= 10x)")
    print(f"  values                       {value:.6f} vs {reference:.6f}: relative difference {rel:.1e} "
          "(goal <= 1e-3)")
    print(f"  peak memory, orca            {orca_peak:.2f} GB (goal < 2 GB); whole process after POT "
          f"{peak_memory_mb() / 1024:.2f} GB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
