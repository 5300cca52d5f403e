"""Wall time of a default fit: ``CrossModalClassifier().fit(X, y)`` on a 1,000 x 20 table (issue 21's goal: at
most 2 minutes on 2 CPU cores).

The table is scikit-learn's ``make_classification`` (10 informative features, 2 classes, seed 0): generated data,
used only for its shape. The fit is the facade's, with its defaults (:mod:`orca.defaults`), on every core torch
sees; the script prints the seconds of each stage, the schedule the defaults gave (steps, epochs, stop reason)
and the ratio goal / measured (>= 1 meets the goal). Run it on an otherwise idle machine: other work on the
cores shows up one for one in the time.

    python -m benchmarks.perf.default_fit [--rows 1000] [--features 20] [--goal 120] [--json out.json]
"""

from __future__ import annotations

import argparse
import time

import torch
from sklearn.datasets import make_classification

from orca import CrossModalClassifier
from orca.defaults import FACADE_DEFAULTS
from orca.io import write_json
from orca.provenance import environment, peak_memory_mb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--goal", type=float, default=120.0, help="seconds")
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    X, y = make_classification(n_samples=args.rows, n_features=args.features, n_informative=min(10, args.features),
                               random_state=0)
    start = time.perf_counter()
    clf = CrossModalClassifier().fit(X, y)
    seconds = time.perf_counter() - start
    t = clf.result_["refine"]["training"]
    out = {"rows": args.rows, "features": args.features, "threads": torch.get_num_threads(),
           "facade_defaults": dict(FACADE_DEFAULTS), "seconds": seconds, "stages_s": clf.result_["timings_s"],
           "steps": t["steps"], "epochs_run": t["epochs_run"], "epochs_rule": t["epochs_rule"],
           "stop_reason": t["stop_reason"], "goal_s": args.goal, "ratio_goal_over_measured": args.goal / seconds,
           "val_accuracy": clf.result_["metrics"]["val"]["accuracy"], "peak_memory_mb": peak_memory_mb(),
           "environment": environment()}
    print(f"default fit on {args.rows} x {args.features} ({out['threads']} threads): {seconds:.1f} s "
          f"(goal {args.goal:.0f} s, ratio {out['ratio_goal_over_measured']:.2f}); stages "
          + ", ".join(f"{k} {v:.1f} s" for k, v in out["stages_s"].items())
          + f"; {t['steps']} steps, {t['epochs_run']} epochs ({t['epochs_rule']}), stopped on {t['stop_reason']}")
    if args.json:
        write_json(args.json, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
