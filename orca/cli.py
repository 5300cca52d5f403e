"""Command line: ``orca fit`` a user's own arrays or tables, ``orca predict`` with the saved model file.

    orca fit data.csv --target label --task classification --out runs/mine --set refine.epochs=5
    orca predict runs/mine/model.safetensors new.csv --out predictions.csv [--proba] [--id row_id]
    orca convert-model old/model.pt new/model.safetensors   # an orca 0.1 model file, read without running code
    orca bodies            # registered bodies, and which work offline
    orca config            # the default configuration as JSON

Every mistake in the input (a missing or empty file, a column that is not there, a target with missing values,
settings out of range) ends with exit status 2 and one line saying what was wrong and what is allowed.
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
MODEL_FILE = "model.safetensors"


def _read_frame(path: Path) -> pd.DataFrame:
    """A CSV or parquet file as a DataFrame; empty, header-only and unreadable files are refused clearly."""
    try:
        frame = pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)
    except pd.errors.EmptyDataError as exc:
        raise OrcaError(f"{path.name} is empty: it has no header and no rows") from exc
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OSError) as exc:
        raise OrcaError(f"{path.name} cannot be read as {path.suffix[1:]}: {exc}") from exc
    if len(frame) == 0:
        raise OrcaError(f"{path.name} has a header ({list(frame.columns)}) but no rows")
    return frame


def _npz_arrays(path: Path, names: tuple[str, ...], required: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Numeric arrays from an ``.npz`` (never unpickled: object arrays are refused)."""
    import zipfile

    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in required if k not in data.files]
            if missing:
                raise OrcaError(f"{path.name} lacks arrays {missing}; it holds {data.files} (need {list(required)})")
            return {k: data[k] for k in names if k in data.files}
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise OrcaError(f"{path.name} holds arrays of Python objects (dtype object); orca reads only numeric "
                            "and string arrays from .npz, since object arrays are pickles that can run code") from exc
        raise OrcaError(f"{path.name} is not a readable .npz file: {exc}") from exc
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise OrcaError(f"{path.name} is not a readable .npz file: {exc}") from exc


def _check_file(path: str | Path) -> Path:
    path = Path(path)
    if path.suffix not in FORMATS:
        raise OrcaError(f"unsupported data file {path.name!r}; expected one of {list(FORMATS)}")
    if not path.is_file():
        raise OrcaError(f"data file {str(path)!r} does not exist")
    return path


def load_table(path: str | Path, target: str | None, id_column: str | None = None
               ) -> tuple[Any, Any, dict[str, Any]]:
    """Read ``(X, y, extras)`` from npz (arrays ``X``, ``y``; optional ``X_test``, ``y_test``), csv or parquet.

    ``id_column`` (csv/parquet) is dropped from the features.
    """
    path = _check_file(path)
    if path.suffix == ".npz":
        ykey = target or "y"
        arrays = _npz_arrays(path, ("X", ykey, "X_test", "y_test"), ("X", ykey))
        X, y = arrays["X"], arrays[ykey]
        if len(X) != len(y):
            raise OrcaError(f"{path.name}: X has {len(X)} rows but {ykey} has {len(y)}; they must match")
        return X, y, {k: arrays[k] for k in ("X_test", "y_test") if k in arrays}
    frame = _read_frame(path)
    if target is None:
        raise OrcaError(f"--target is required for {path.suffix} files; columns are {list(frame.columns)}")
    if target not in frame.columns:
        raise OrcaError(f"target column {target!r} not in {path.name}; columns are {list(frame.columns)}")
    drop = [target] + ([id_column] if id_column else [])
    if id_column and id_column not in frame.columns:
        raise OrcaError(f"id column {id_column!r} not in {path.name}; columns are {list(frame.columns)}")
    if frame.shape[1] == len(drop):
        raise OrcaError(f"{path.name} has no feature columns besides {drop}")
    return frame.drop(columns=drop), frame[target].to_numpy(), {}


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number; expected a fraction in (0, 1), e.g. 0.2")
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"{value} is not in (0, 1); expected a fraction such as 0.2")
    return value


def _estimator_class(task: str):
    from .estimators import CrossModalClassifier, CrossModalRegressor

    return {"classification": CrossModalClassifier, "regression": CrossModalRegressor}[task]


def _load_config(path: str | None):
    from .config import OrcaConfig
    from .defaults import facade_config

    if not path:
        return facade_config()  # the estimators' defaults (orca.defaults)
    if not Path(path).is_file():
        raise OrcaError(f"config file {path!r} does not exist (write one with `orca config > config.json`)")
    try:
        return OrcaConfig.load(path)
    except json.JSONDecodeError as exc:
        raise OrcaError(f"config file {path!r} is not valid JSON: {exc}") from exc


def _test_split(X: Any, y: Any, fraction: float, task: str, seed: int):
    from sklearn.model_selection import train_test_split

    n = len(X)
    if n < 3:
        raise OrcaError(f"the data has {n} row(s); fit needs at least 3 when the test split is carved from it "
                        "(train, validation and test each need one), or pass --test FILE")
    strat = None
    missing = pd.isna(pd.Series(y)).to_numpy()
    if missing.any():
        raise OrcaError(f"y is missing (NaN/None) in {int(missing.sum())} of {n} rows; every training row needs a "
                        "target: drop the unlabelled rows first")
    if task == "classification":
        labels, counts = np.unique(pd.Series(y).astype(str).to_numpy(), return_counts=True)
        small = labels[counts < 2].tolist()
        if small:
            raise OrcaError(f"classes {small} have a single row; a stratified test split needs at least 2 per "
                            "class: drop or merge them, or pass --test FILE")
        if round(n * fraction) >= len(labels) and n - round(n * fraction) >= len(labels):
            strat = y
    return train_test_split(X, y, test_size=fraction, random_state=seed, stratify=strat)


def cmd_fit(args: argparse.Namespace) -> int:
    from .io import write_json
    from .validate import check_runnable

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise OrcaError(f"--out {str(out)!r} is a file; it must be a folder (it is created if absent)")
    overrides = list(args.set or [])
    if args.body:
        overrides.append(f"body.name={args.body}")
    config = _load_config(args.config).with_overrides(overrides)
    check_runnable(config)  # device and body, before any data is read
    X, y, extras = load_table(args.data, args.target, args.id)
    if args.test:
        X_test, y_test, _ = load_table(args.test, args.target, args.id)
    elif "X_test" in extras and "y_test" in extras:
        X_test, y_test = extras["X_test"], extras["y_test"]
    else:
        X, X_test, y, y_test = _test_split(X, y, args.test_fraction, args.task, config.seed)
    categorical = args.categorical.split(",") if args.categorical else None
    if categorical and all(c.isdigit() for c in categorical):
        categorical = [int(c) for c in categorical]
    est = _estimator_class(args.task).from_config(config, categorical_features=categorical, verbose=not args.quiet,
                                                   checkpoint_dir=str(out / "checkpoints"),
                                                   log_dir=str(out))
    start = time.perf_counter()
    est.fit(X, y, X_test=X_test, y_test=y_test, resume=args.resume)
    result = dict(est.result_)
    result.update(data={"train": str(args.data), "test": str(args.test) if args.test else "split of train",
                        "test_fraction": None if args.test else args.test_fraction},
                  wall_time_s=time.perf_counter() - start)
    est.save(out / MODEL_FILE, extra={"target": args.target, "id": args.id})
    write_json(out / "result.json", result)
    if not args.keep_checkpoints:  # the model file holds the selected model; the training state is no longer needed
        import shutil

        shutil.rmtree(out / "checkpoints", ignore_errors=True)
    metric = est.task_.metric
    test = result["metrics"].get("test", {})
    print(f"test {metric} = {test.get(metric, float('nan')):.4f}; result: {out / 'result.json'}; "
          f"model: {out / MODEL_FILE}")
    return 0


def _read_features(path: Path, target: str | None, id_column: str | None) -> tuple[Any, Any, Any]:
    """``(X, y or None, ids or None)`` of a file to predict on; a target column present is split off for scoring."""
    path = _check_file(path)
    if path.suffix == ".npz":
        arrays = _npz_arrays(path, ("X", target or "y"), ("X",))
        return arrays["X"], arrays.get(target or "y"), None
    frame = _read_frame(path)
    ids = None
    if id_column:
        if id_column not in frame.columns:
            raise OrcaError(f"id column {id_column!r} not in {path.name}; columns are {list(frame.columns)}")
        ids = frame.pop(id_column)
    y = frame.pop(target).to_numpy() if target and target in frame.columns else None
    return frame, y, ids


def cmd_predict(args: argparse.Namespace) -> int:
    from .estimators import load
    from .io import atomic_write, write_json
    from .metrics import get_metric

    est = load(args.model)
    saved = est.metadata_.get("extra", {})
    target = args.target or saved.get("target")
    id_column = args.id or saved.get("id")
    X, y, ids = _read_features(Path(args.data), target, id_column)
    classifier = hasattr(est, "classes_")
    if args.proba and not classifier:
        raise OrcaError("--proba is for classifiers; this model is a regressor")
    if classifier:
        proba = est.predict_proba(X)
        pred = est.classes_[np.argmax(proba, axis=1)]
        frame = pd.DataFrame({"prediction": pred})
        if args.proba:
            for j, c in enumerate(est.classes_):
                frame[f"proba_{c}"] = proba[:, j]
    else:
        pred = est.predict(X)
        flat = pred.reshape(len(pred), -1)
        frame = (pd.DataFrame({"prediction": flat[:, 0]}) if flat.shape[1] == 1 else
                 pd.DataFrame(flat, columns=[f"prediction_{j}" for j in range(flat.shape[1])]))
    if ids is not None:
        frame.insert(0, id_column, ids.to_numpy())
    atomic_write(args.out, lambda tmp: frame.to_csv(tmp, index=False))
    print(f"{len(frame)} predictions written to {args.out}")
    if y is not None:  # the file carries the target: score the predictions as fit scored its test split
        metric = est.task_.metric
        if classifier:
            codes = est._encode_y(y, fitting=False)  # unseen labels are an error, not a silent miss
            value = get_metric(metric)(codes, proba)
        else:
            value = get_metric(metric)(np.asarray(y, dtype=np.float32).reshape(len(y), -1), flat)
        score = {"metric": metric, "value": value, "rows": len(y), "data": str(args.data), "model": str(args.model)}
        print(f"{metric} on {Path(args.data).name} ({len(y)} rows with a target) = {value:.4f}")
        write_json(Path(args.out).with_suffix(".score.json"), score)
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    from .modelfile import convert_legacy

    path = convert_legacy(args.old, args.new)
    print(f"converted {args.old} -> {path}")
    return 0


def cmd_bodies(args: argparse.Namespace) -> int:
    from .registry import available, get

    for name in available("body"):
        spec = get("body", name)
        where = "offline (package)" if spec.offline else f"hub: {spec.hub_id}"
        print(f"{name:22s} {spec.modality:7s} {where:55s} {spec.description}")
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    from .defaults import facade_config

    print(json.dumps(facade_config().to_dict(), indent=2))  # what `orca fit` and the estimators start from
    return 0


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(prog="orca", description="ORCA cross-modal fine-tuning on your own data.")
    parser.add_argument("--version", action="version", version=f"orca {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    f = sub.add_parser("fit", help="build, align and refine on a data file; write result.json and the model file")
    f.add_argument("data", help="training data: .npz (X, y[, X_test, y_test]), .csv or .parquet")
    f.add_argument("--out", required=True, help="output folder")
    f.add_argument("--task", choices=("classification", "regression"), default="classification")
    f.add_argument("--target", help="target column (csv/parquet) or array name (npz, default y)")
    f.add_argument("--id", help="an id column (csv/parquet): not a feature; predict passes it through")
    f.add_argument("--test", help="separate test file in the same format")
    f.add_argument("--test-fraction", type=_fraction, default=0.2,
                   help="held-out test share in (0, 1) when no test file (default 0.2)")
    f.add_argument("--categorical", help="comma-separated categorical columns (names or indices)")
    f.add_argument("--body", help="shortcut for --set body.name=...")
    f.add_argument("--config", help="a JSON config (see `orca config`)")
    f.add_argument("--set", action="append", metavar="KEY=VALUE", help="override, e.g. refine.epochs=5")
    f.add_argument("--resume", action="store_true", help="continue from OUT/checkpoints/last.pt")
    f.add_argument("--keep-checkpoints", action="store_true",
                   help="keep OUT/checkpoints after a successful fit (by default only the model file stays)")
    f.add_argument("--quiet", action="store_true", help="no progress bars")
    f.set_defaults(func=cmd_fit)
    p = sub.add_parser("predict", help="predict with a saved model file")
    p.add_argument("model", help=f"the {MODEL_FILE} that `orca fit` wrote")
    p.add_argument("data")
    p.add_argument("--out", required=True, help="CSV of predictions")
    p.add_argument("--proba", action="store_true", help="classifiers: write each class's probability too")
    p.add_argument("--id", help="id column to pass through to the output (default: the one given to fit)")
    p.add_argument("--target", help="target column (default: the one given to fit); when present, the "
                   "predictions are scored and the score written beside --out")
    p.set_defaults(func=cmd_predict)
    c = sub.add_parser("convert-model", help="rewrite an orca 0.1 model.pt as a safe model file")
    c.add_argument("old")
    c.add_argument("new")
    c.set_defaults(func=cmd_convert)
    sub.add_parser("bodies", help="list registered bodies").set_defaults(func=cmd_bodies)
    sub.add_parser("config", help="print the default config (the estimators' and `orca fit`'s)").set_defaults(func=cmd_config)
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
