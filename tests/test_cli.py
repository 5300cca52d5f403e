"""`orca fit` / `orca predict` on a user's own files, with a local body folder."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import config_schedule_sets, tiny_hf_model

from orca.cli import main


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(0)
    n = 80
    y = np.arange(n) % 2
    frame = pd.DataFrame({"x1": rng.normal(size=n) + y, "x2": rng.normal(size=n),
                          "kind": rng.choice(["a", "b"], n), "label": np.where(y == 1, "yes", "no")})
    frame.to_csv(tmp_path / "train.csv", index=False)
    tiny_hf_model("bert").save_pretrained(tmp_path / "body")
    return tmp_path


def test_fit_then_predict(files, capsys) -> None:
    out = files / "run"
    code = main(["fit", *config_schedule_sets(), str(files / "train.csv"), "--target", "label", "--out", str(out), "--body",
                 str(files / "body"), "--set", "refine.epochs=2", "--set", "refine.batch_size=16", "--set", "align.objective=none", "--quiet"])
    assert code == 0
    result = json.loads((out / "result.json").read_text())
    assert set(result["metrics"]) == {"val", "test"} and "accuracy" in result["metrics"]["test"]
    assert result["config"]["refine"]["epochs"] == 2 and result["task"]["categorical"] == [2]
    assert result["environment"]["packages"]["torch"] and result["split"]["test"] == 16
    assert (out / "model.safetensors").is_file() and not (out / "checkpoints").exists()  # only the model stays
    assert "result:" in capsys.readouterr().out

    pred = files / "pred.csv"
    assert main(["predict", str(out / "model.safetensors"), str(files / "train.csv"), "--target", "label",
                 "--out", str(pred)]) == 0
    predictions = pd.read_csv(pred)["prediction"]
    assert len(predictions) == 80 and set(predictions) <= {"yes", "no"}


def test_resume_continues_from_the_checkpoint(files) -> None:
    out = files / "resumed"
    args = ["fit", *config_schedule_sets(), str(files / "train.csv"), "--target", "label", "--out", str(out), "--body", str(files / "body"),
            "--set", "refine.epochs=2", "--set", "align.objective=none", "--quiet", "--keep-checkpoints"]
    assert main(args) == 0
    first = json.loads((out / "result.json").read_text())
    assert main(args + ["--resume"]) == 0  # the run is complete: nothing left to train, same selected model
    again = json.loads((out / "result.json").read_text())
    assert again["metrics"] == first["metrics"] and again["refine"]["steps"] == first["refine"]["steps"]
    assert main([a.replace("refine.epochs=2", "refine.epochs=3") for a in args] + ["--resume"]) == 2  # other config


def test_npz_input_with_its_own_test_split(files) -> None:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 1, 16)).astype(np.float32), np.arange(40) % 2
    np.savez(files / "d.npz", X=X[:30], y=y[:30], X_test=X[30:], y_test=y[30:])
    out = files / "npz"
    assert main(["fit", *config_schedule_sets(), str(files / "d.npz"), "--out", str(out), "--body", str(files / "body"),
                 "--set", "refine.epochs=1", "--set", "embedder.target_seq_len=8", "--set", "align.objective=none", "--quiet"]) == 0
    assert json.loads((out / "result.json").read_text())["split"]["test"] == 10


def test_parquet_input(files) -> None:
    frame = pd.read_csv(files / "train.csv")
    frame.to_parquet(files / "train.parquet")
    out = files / "pq"
    assert main(["fit", *config_schedule_sets(), str(files / "train.parquet"), "--target", "label", "--out", str(out), "--body",
                 str(files / "body"), "--categorical", "kind", "--set", "refine.epochs=1", "--set", "align.objective=none", "--quiet"]) == 0
    assert json.loads((out / "result.json").read_text())["task"]["categorical"] == [2]


def test_bad_input_exits_2_with_a_message(files, capsys) -> None:
    assert main(["fit", *config_schedule_sets(), str(files / "train.txt"), "--out", str(files / "x")]) == 2
    assert "expected one of ['.npz', '.csv', '.parquet']" in capsys.readouterr().err
    assert main(["fit", *config_schedule_sets(), str(files / "train.csv"), "--out", str(files / "x"), "--target", "lable"]) == 2
    assert "target column 'lable' not in train.csv" in capsys.readouterr().err
    assert main(["fit", *config_schedule_sets(), str(files / "train.csv"), "--target", "label", "--out", str(files / "x"),
                 "--set", "refine.epochz=2"]) == 2
    assert "did you mean 'epochs'" in capsys.readouterr().err
