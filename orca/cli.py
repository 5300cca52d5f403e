"""Command line: ``orca fit`` a user's own arrays or tables, ``orca predict`` with the saved checkpoint.

    orca fit data.csv --target label --task classification --out runs/mine --set refine.epochs=5
    orca predict runs/mine/model.pt new.csv --out predictions.csv
    orca bodies            # registered bodies, and which work offline
    orca config            # the default configuration as JSON
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .exceptions import OrcaError

FORMATS = (".npz", ".csv", ".parquet")


def load_table(path: str | Path, target: str | None) -> tuple[Any, Any, dict[str, Any]]:
    """Read ``(X, y, extras)`` from npz (arrays ``X``, ``y``; optional ``X_test``, ``y_test``), csv or parquet."""
    path = Path(path)
    if path.suffix not in FORMATS:
        raise OrcaError(f"unsupported data file {path.name!r}; expected one of {list(FORMATS)}")
    if not path.is_file():
        raise OrcaError(f"data file {str(path)!r} does not exist")
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as data:
            ykey = target or "y"
            missing = [k for k in ("X", ykey) if k not in data.files]
            if missing:
                raise OrcaError(f"{path.name} lacks arrays {missing}; it holds {data.files} (need X and {ykey!r})")
            extras = {k: data[k] for k in ("X_test", "y_test") if k in data.files}
            return data["X"], data[ykey], extras
    frame = pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)
    if target is None:
        raise OrcaError(f"--target is required for {path.suffix} files; columns are {list(frame.columns)}")
    if target not in frame.columns:
        raise OrcaError(f"target column {target!r} not in {path.name}; columns are {list(frame.columns)}")
    return frame.drop(columns=[target]), frame[target].to_numpy(), {}


def _estimator_class(task: str):
    from .estimators import CrossModalClassifier, CrossModalRegressor

    return {"classification": CrossModalClassifier, "regression": CrossModalRegressor}[task]


def cmd_fit(args: argparse.Namespace) -> int:
    from sklearn.model_selection import train_test_split

    from .config import OrcaConfig
    from .io import write_json

    config = OrcaConfig.load(args.config) if args.config else OrcaConfig()
    overrides = list(args.set or [])
    if args.body:
        overrides.append(f"body.name={args.body}")
    config = config.with_overrides(overrides)
    X, y, extras = load_table(args.data, args.target)
    if args.test:
        X_test, y_test, _ = load_table(args.test, args.target)
    elif "X_test" in extras and "y_test" in extras:
        X_test, y_test = extras["X_test"], extras["y_test"]
    else:
        strat = y if args.task == "classification" else None
        X, X_test, y, y_test = train_test_split(X, y, test_size=args.test_fraction, random_state=config.seed,
                                                stratify=strat)
    categorical = args.categorical.split(",") if args.categorical else None
    if categorical and all(c.isdigit() for c in categorical):
        categorical = [int(c) for c in categorical]
    out = Path(args.out)
    est = _estimator_class(args.task).from_config(config, categorical_features=categorical, verbose=not args.quiet,
                                                   checkpoint_dir=str(out / "checkpoints"))
    start = time.perf_counter()
    est.fit(X, y, X_test=X_test, y_test=y_test, resume=args.resume)
    result = dict(est.result_)
    result.update(data={"train": str(args.data), "test": str(args.test) if args.test else "split of train",
                        "test_fraction": None if args.test else args.test_fraction},
                  wall_time_s=time.perf_counter() - start)
    est.save(out / "model.pt")
    write_json(out / "result.json", result)
    metric = est.task_.metric
    test = result["metrics"].get("test", {})
    print(f"test {metric} = {test.get(metric, float('nan')):.4f}; result: {out / 'result.json'}; "
          f"checkpoint: {out / 'model.pt'}")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    import torch

    from .io import atomic_write

    state = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
    from .estimators import CrossModalClassifier, CrossModalRegressor

    cls = {"CrossModalClassifier": CrossModalClassifier, "CrossModalRegressor": CrossModalRegressor}[state["class"]]
    est = cls.load(args.checkpoint)
    path = Path(args.data)
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as data:
            X = data["X"]
    else:
        X = pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)
        if args.target and args.target in X.columns:
            X = X.drop(columns=[args.target])
    pred = est.predict(X)
    frame = pd.DataFrame({"prediction": pred.reshape(len(pred), -1)[:, 0]} if pred.ndim <= 2 and
                         (pred.ndim == 1 or pred.shape[1] == 1) else pred.reshape(len(pred), -1))
    atomic_write(args.out, lambda tmp: frame.to_csv(tmp, index=False))
    print(f"{len(frame)} predictions written to {args.out}")
    return 0


def cmd_bodies(args: argparse.Namespace) -> int:
    from .registry import available, get

    for name in available("body"):
        spec = get("body", name)
        where = "offline (package)" if spec.offline else f"hub: {spec.hub_id}"
        print(f"{name:22s} {spec.modality:7s} {where:55s} {spec.description}")
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    from .config import OrcaConfig

    print(json.dumps(OrcaConfig().to_dict(), indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="orca", description="ORCA cross-modal fine-tuning on your own data.")
    sub = parser.add_subparsers(dest="command", required=True)
    f = sub.add_parser("fit", help="build, align and refine on a data file; write result.json and model.pt")
    f.add_argument("data", help="training data: .npz (X, y[, X_test, y_test]), .csv or .parquet")
    f.add_argument("--out", required=True, help="output folder")
    f.add_argument("--task", choices=("classification", "regression"), default="classification")
    f.add_argument("--target", help="target column (csv/parquet) or array name (npz, default y)")
    f.add_argument("--test", help="separate test file in the same format")
    f.add_argument("--test-fraction", type=float, default=0.2, help="held-out test share when no test file")
    f.add_argument("--categorical", help="comma-separated categorical columns (names or indices)")
    f.add_argument("--body", help="shortcut for --set body.name=...")
    f.add_argument("--config", help="a JSON config (see `orca config`)")
    f.add_argument("--set", action="append", metavar="KEY=VALUE", help="override, e.g. refine.epochs=5")
    f.add_argument("--resume", action="store_true", help="continue from OUT/checkpoints/last.pt")
    f.add_argument("--quiet", action="store_true", help="no progress bars")
    f.set_defaults(func=cmd_fit)
    p = sub.add_parser("predict", help="predict with a saved model.pt")
    p.add_argument("checkpoint")
    p.add_argument("data")
    p.add_argument("--out", required=True, help="CSV of predictions")
    p.add_argument("--target", help="column to drop if present")
    p.set_defaults(func=cmd_predict)
    sub.add_parser("bodies", help="list registered bodies").set_defaults(func=cmd_bodies)
    sub.add_parser("config", help="print the default config").set_defaults(func=cmd_config)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except OrcaError as exc:
        print(f"orca: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
