"""Stage 2 set-up time of a first fit against a repeated one (the objective's source-side set-up cached on disk).

The setting of an ORCA fit with the default alignment: 2,000 source features of width 384 (MiniLM's) in 10
classes (seeded Gaussian clusters: the set-up time does not depend on what the features mean), the default
``AlignConfig`` otherwise. For each objective, the first build computes the set-up and stores it in a temporary
cache folder; the second loads it. Prints both times, their ratio and whether the second is under 2 s, and
checks that both objectives give the same distance on a target batch.

    python -m benchmarks.perf.objective_setup [--source 2000] [--dim 384]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from orca.config import AlignConfig
from orca.objective_cache import build_objective
from orca.registry import get


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=int, default=2000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--objectives", nargs="+", default=["otdd-exact", "otdd-gaussian", "mmd"])
    args = parser.parse_args(argv)
    import orca.objectives  # noqa: F401  (registers the objectives)

    rng = np.random.default_rng(0)
    labels = np.arange(args.source) % 10
    centres = rng.normal(scale=2.0, size=(10, args.dim))
    x = torch.from_numpy((centres[labels] + rng.normal(size=(args.source, args.dim))).astype(np.float32))
    y = torch.from_numpy(labels)
    target = x[:128] * 1.1 + 0.3
    print(f"{'objective':<15} {'first (s)':>10} {'second (s)':>11} {'ratio':>7}  second < 2 s  same distance")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.objectives:
            cfg = AlignConfig(objective=name, source_samples=args.source)
            cls = get("objective", name)
            start = time.perf_counter()
            first, status1 = build_objective(cls, x, y, cfg, Path(tmp))
            t1 = time.perf_counter() - start
            start = time.perf_counter()
            second, status2 = build_objective(cls, x, y, cfg, Path(tmp))
            t2 = time.perf_counter() - start
            assert (status1, status2) == ("miss", "hit"), (status1, status2)
            same = float(first(target, y[:128])) == float(second(target, y[:128]))
            print(f"{name:<15} {t1:>10.2f} {t2:>11.3f} {t1 / t2:>6.0f}x  {'yes' if t2 < 2 else 'NO':>12}  "
                  f"{'yes' if same else 'NO':>13}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
