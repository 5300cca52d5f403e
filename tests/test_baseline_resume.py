"""The baselines' training loop checkpoints and resumes like ORCA's: a run interrupted after an epoch and resumed
ends with the same weights, history and choice as an uninterrupted one; other data are refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from baselines.field_training import FieldTrainConfig, train_field_model
from baselines.fno import FNO
from orca.exceptions import ConfigError


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(24, 1, 16)).astype(np.float32)
    return X[:16], 2 * X[:16], X[16:], 2 * X[16:]


class _Crash(RuntimeError):
    pass


@pytest.mark.parametrize("schedule", [{"step_size": 2}, {"schedule": "plateau", "lr_patience": 0}])
def test_interrupted_then_resumed_equals_uninterrupted(tmp_path, monkeypatch, schedule) -> None:
    """Under either schedule (the plateau's state, its best score and count, travels in the checkpoint)."""
    X, y, X_val, y_val = _data()
    cfg = FieldTrainConfig(epochs=5, batch_size=4, **schedule)
    torch.manual_seed(0)
    straight_model = FNO(1, 1, 1, modes=4, width=8)
    straight = train_field_model(straight_model, X, y, X_val, y_val, cfg, seed=3, progress=False)

    import baselines.supervised as sup

    calls = {"n": 0}
    original = sup.predict_batches

    def crash_on_third_epoch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise _Crash("killed")
        return original(*args, **kwargs)

    torch.manual_seed(0)
    model = FNO(1, 1, 1, modes=4, width=8)
    monkeypatch.setattr(sup, "predict_batches", crash_on_third_epoch)
    with pytest.raises(_Crash):
        train_field_model(model, X, y, X_val, y_val, cfg, seed=3, progress=False, checkpoint_dir=tmp_path)
    monkeypatch.setattr(sup, "predict_batches", original)
    assert (tmp_path / "last.pt").is_file()
    trained_before = torch.load(tmp_path / "last.pt", weights_only=True)["elapsed"]
    from benchmarks.runner.explain import checkpoint_progress

    assert checkpoint_progress(tmp_path) == (pytest.approx(2 / 5), pytest.approx(trained_before))  # 2 of 5 epochs
    torch.manual_seed(123)  # the resumed run must not depend on the process's state
    again_model = FNO(1, 1, 1, modes=4, width=8)
    resumed = train_field_model(again_model, X, y, X_val, y_val, cfg, seed=3, progress=False,
                                checkpoint_dir=tmp_path, resume=True)
    assert [h["epoch"] for h in resumed["history"]] == list(range(5))
    assert straight["training"]["resumed_s"] == 0.0  # earlier processes' training time, added by the runner
    assert resumed["training"]["resumed_s"] == pytest.approx(trained_before) and trained_before > 0
    assert resumed["training"]["seconds"] > trained_before
    assert resumed["best_epoch"] == straight["best_epoch"]
    np.testing.assert_allclose([h["val_relative_l2"] for h in resumed["history"]],
                               [h["val_relative_l2"] for h in straight["history"]], rtol=1e-5)
    assert [h["lr"] for h in resumed["history"]] == [h["lr"] for h in straight["history"]]
    for a, b in zip(again_model.state_dict().values(), straight_model.state_dict().values()):
        torch.testing.assert_close(a, b)
    with pytest.raises(ConfigError, match="other settings or data"):
        train_field_model(FNO(1, 1, 1, modes=4, width=8), X, -y, X_val, y_val, cfg, seed=3, progress=False,
                          checkpoint_dir=tmp_path, resume=True)
