"""One stopping protocol for ORCA's refine stage and the baselines' loop: patience (converged), the epoch cap (not
converged) and the wall-clock budget, each recorded; the best validation weights are the ones kept."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch
from test_refine import _data, _model

from baselines.field_training import FieldTrainConfig, train_field_model
from baselines.fno import FNO
from orca.config import RefineConfig
from orca.exceptions import ConfigError
from orca.stopping import stop_reason, training_record

refine_module = importlib.import_module("orca.refine")


def test_the_rule_checks_budget_then_patience_then_the_cap() -> None:
    assert stop_reason(budget_spent=True, bad_epochs=9, patience=2, cap_reached=True) == "budget"
    assert stop_reason(budget_spent=False, bad_epochs=2, patience=2, cap_reached=True) == "patience"
    assert stop_reason(budget_spent=False, bad_epochs=1, patience=2, cap_reached=True) == "cap"
    assert stop_reason(budget_spent=False, bad_epochs=5, patience=None, cap_reached=False) is None
    record = training_record(epochs_run=4, best_epoch=1, reason="patience", samples_seen=40, seconds=1.0,
                             epochs_cap=10, patience=3, max_seconds=None)
    assert record["converged"] and record["stop_reason"] == "patience"
    assert not training_record(epochs_run=10, best_epoch=9, reason="cap", samples_seen=1, seconds=1.0,
                               epochs_cap=10, patience=3, max_seconds=None)["converged"]
    with pytest.raises(ValueError, match="expected one of"):
        training_record(epochs_run=1, best_epoch=0, reason="tired", samples_seen=1, seconds=1.0, epochs_cap=1,
                        patience=None, max_seconds=None)


def _scripted(monkeypatch, model, scores: list[float]) -> list[dict]:
    """Make the validation accuracy follow ``scores`` and keep a copy of the weights each score was given to."""
    snapshots = []

    def evaluate(m, val, batch_size, acc):
        snapshots.append({k: v.detach().clone() for k, v in model.state_dict().items()})
        return {"accuracy": scores[len(snapshots) - 1], "loss": 0.0}

    monkeypatch.setattr(refine_module, "evaluate", evaluate)
    return snapshots


def test_refine_stops_on_patience_and_keeps_the_best_epoch(tiny_body, monkeypatch) -> None:
    train, val = _data()
    model = _model(tiny_body)
    snapshots = _scripted(monkeypatch, model, [0.5, 0.8, 0.7, 0.75, 0.79, 0.9, 0.95])
    info = refine_module.refine(model, train, val, RefineConfig(epochs=7, batch_size=16, patience=3,
                                                                warmup_ratio=0.0), device="cpu", progress=False)
    t = info["training"]
    assert (t["stop_reason"], t["converged"], t["epochs_run"], t["best_epoch"]) == ("patience", True, 5, 1)
    assert t["samples_seen"] == 5 * len(train) and t["epochs_cap"] == 7 and t["patience"] == 3
    for k, v in model.state_dict().items():  # the weights scored 0.8, not the last ones
        torch.testing.assert_close(v, snapshots[1][k], msg=k)


def test_refine_at_its_cap_is_not_converged(tiny_body, monkeypatch) -> None:
    train, val = _data()
    _scripted(monkeypatch, model := _model(tiny_body), [0.5, 0.6, 0.7])
    info = refine_module.refine(model, train, val, RefineConfig(epochs=3, batch_size=16, patience=3),
                                device="cpu", progress=False)
    assert (info["training"]["stop_reason"], info["training"]["converged"]) == ("cap", False)
    assert info["training"]["best_epoch"] == 2 and info["training"]["epochs_run"] == 3


def test_refine_stops_when_its_time_budget_is_spent(tiny_body) -> None:
    train, val = _data()
    info = refine_module.refine(_model(tiny_body), train, val,
                                RefineConfig(epochs=50, batch_size=16, max_seconds=1e-6), device="cpu", progress=False)
    t = info["training"]
    assert (t["stop_reason"], t["epochs_run"], t["steps"], t["samples_seen"]) == ("budget", 1, 1, 16)
    assert len(info["history"]) == 1  # the partial epoch was still scored on validation, once
    with pytest.raises(ConfigError, match="refine.max_seconds"):
        RefineConfig(max_seconds=0)


def _fields():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(24, 1, 16)).astype(np.float32)
    return X[:16], 2 * X[:16], X[16:], 2 * X[16:]


def _fno():
    torch.manual_seed(0)
    return FNO(1, 1, 1, modes=4, width=8)


def test_the_baseline_loop_follows_the_same_rule_and_a_stopped_run_stays_stopped(tmp_path) -> None:
    X, y, X_val, y_val = _fields()
    errors = iter([1.0, 0.5, 0.6, 0.7, 0.4, 0.3])
    cfg = FieldTrainConfig(epochs=6, batch_size=4, patience=2)
    import baselines.supervised as sup

    info = sup.train_supervised(_fno(), X, y, X_val, y_val, cfg, lambda yv, p: next(errors), progress=False,
                                checkpoint_dir=tmp_path)
    t = info["training"]
    assert (t["stop_reason"], t["converged"], t["epochs_run"], t["best_epoch"]) == ("patience", True, 4, 1)
    assert t["samples_seen"] == 4 * len(X)
    # resuming a run that had stopped trains no further epoch and reports the same ending
    again = sup.train_supervised(_fno(), X, y, X_val, y_val, cfg, lambda yv, p: pytest.fail("trained again"),
                                 progress=False, checkpoint_dir=tmp_path, resume=True)
    assert again["training"]["stop_reason"] == "patience" and again["training"]["epochs_run"] == 4


def test_the_baseline_loop_at_its_cap_and_on_its_budget() -> None:
    X, y, X_val, y_val = _fields()
    capped = train_field_model(_fno(), X, y, X_val, y_val, FieldTrainConfig(epochs=3, batch_size=4, patience=5),
                               progress=False)
    assert (capped["training"]["stop_reason"], capped["training"]["converged"]) == ("cap", False)
    budget = train_field_model(_fno(), X, y, X_val, y_val,
                               FieldTrainConfig(epochs=100, batch_size=4, max_seconds=1e-6), progress=False)
    assert (budget["training"]["stop_reason"], budget["training"]["epochs_run"]) == ("budget", 1)
    assert budget["training"]["samples_seen"] == 4  # one batch, then the budget check stopped the epoch
    with pytest.raises(ConfigError, match="patience"):
        FieldTrainConfig(patience=0)


def test_the_plateau_schedule_halves_the_rate_when_validation_stalls_and_patience_spans_the_halvings() -> None:
    """``schedule="plateau"``: the rate is multiplied by ``gamma`` once more than ``lr_patience`` epochs in a row
    bring no strictly lower validation error (a tie is no improvement, as for patience); a better score resets
    the count. With ``patience = 3 x (lr_patience + 1)`` training stops when two halvings in a row brought
    nothing. The step schedule with a long step keeps the rate."""
    import baselines.supervised as sup

    X, y, X_val, y_val = _fields()
    scripted = [1.0, 0.9, 0.95, 0.9, 0.8, 0.85, 0.85, 0.85, 0.85, 0.85, 0.85, 0.85]
    errors = iter(scripted)
    cfg = FieldTrainConfig(epochs=12, batch_size=4, lr=1e-3, gamma=0.5, schedule="plateau", lr_patience=1,
                           patience=6)
    info = sup.train_supervised(_fno(), X, y, X_val, y_val, cfg, lambda yv, p: next(errors), progress=False)
    lrs = [h["lr"] for h in info["history"]]
    # epochs 2-3 stall (0.9 ties the best): halved for epoch 4; 0.8 resets; epochs 5-6 stall: halved for 7;
    # 7-8 stall: halved again for 9; 9-10 stall: the sixth bad epoch ends training after epoch 10
    assert lrs == pytest.approx([1e-3] * 4 + [5e-4] * 3 + [2.5e-4] * 2 + [1.25e-4] * 2)
    t = info["training"]
    assert (t["stop_reason"], t["converged"], t["epochs_run"], t["best_epoch"]) == ("patience", True, 11, 4)
    errors = iter(scripted)
    steps = sup.train_supervised(_fno(), X, y, X_val, y_val, FieldTrainConfig(epochs=12, batch_size=4, lr=1e-3),
                                 lambda yv, p: next(errors), progress=False)
    assert {h["lr"] for h in steps["history"]} == {1e-3}
    with pytest.raises(ConfigError, match="expected one of"):
        FieldTrainConfig(schedule="cosine")
    # the job hash leaves the new settings out at the same values the checkpoint fingerprint does
    from benchmarks.runner.jobs import TRAINING_ADDED_DEFAULTS

    assert sup.ADDED_DEFAULTS.items() <= TRAINING_ADDED_DEFAULTS.items()
    assert {k: getattr(FieldTrainConfig(), k) for k in sup.ADDED_DEFAULTS} == sup.ADDED_DEFAULTS


def test_under_a_time_budget_the_schedule_decays_by_the_clock(tiny_body, monkeypatch) -> None:
    """With 10,000 epochs as a cap nobody reaches, the cosine schedule must still reach zero when the budget ends:
    the learning rate follows the budget's clock (here a fake one advancing 1 s per step against a 6 s budget)."""
    train, val = _data()
    now = {"t": 0.0}

    def fake_clock() -> float:
        return now["t"]

    monkeypatch.setattr(refine_module.time, "perf_counter", fake_clock)
    lrs = []
    real_step = torch.optim.AdamW.step

    def record(self, *a, **k):
        lrs.append(self.param_groups[0]["lr"])
        now["t"] += 1.0  # each optimiser step takes one second
        return real_step(self, *a, **k)

    monkeypatch.setattr(torch.optim.AdamW, "step", record)
    info = refine_module.refine(_model(tiny_body), train, val,
                                RefineConfig(epochs=10_000, batch_size=16, lr=1e-3, warmup_ratio=0.0, max_seconds=6.0),
                                device="cpu", progress=False)
    assert info["training"]["stop_reason"] == "budget"
    assert len(lrs) == 6  # the budget ends after the sixth one-second step
    expected = [1e-3 * 0.5 * (1 + np.cos(np.pi * k / 6)) for k in range(6)]  # cosine over the 6 s, by the clock
    np.testing.assert_allclose(lrs, expected, rtol=1e-3)


def test_min_steps_raises_the_epochs_of_a_small_set_only(tiny_body) -> None:
    from orca.refine import epochs_for

    assert epochs_for(RefineConfig(epochs=10, min_steps=300), steps_per_epoch=2) == 150  # 60 rows at batch 32
    assert epochs_for(RefineConfig(epochs=10, min_steps=300), steps_per_epoch=157) == 10  # 5,000 rows: unchanged
    assert epochs_for(RefineConfig(epochs=10), steps_per_epoch=2) == 10
    train, val = _data(32)  # 24 training rows at batch 16: 2 steps per epoch
    info = refine_module.refine(_model(tiny_body), train, val,
                                RefineConfig(epochs=1, batch_size=16, min_steps=6, warmup_ratio=0.0),
                                device="cpu", progress=False)
    t = info["training"]
    assert (t["epochs_cap"], t["epochs_run"], t["steps"], t["stop_reason"]) == (3, 3, 6, "cap")
    assert t["epochs_rule"] == "epochs = max(1, ceil(6 min steps / 2 steps per epoch)) = 3"
    with pytest.raises(ConfigError, match="refine.min_steps"):
        RefineConfig(min_steps=0)


def test_patience_cannot_stop_training_before_min_steps(tiny_body, monkeypatch) -> None:
    """One step per epoch and no improvement after epoch 0: patience 2 alone stops after 3 steps; with
    ``min_steps=6`` training goes on to step 6, then stops on patience, and keeps epoch 0's weights."""
    train, val = _data(20)  # 15 training rows at batch 16: one step per epoch
    flat = [0.9] + [0.5] * 20
    model = _model(tiny_body)
    _scripted(monkeypatch, model, flat)
    t = refine_module.refine(model, train, val, RefineConfig(epochs=20, batch_size=16, patience=2,
                                                             warmup_ratio=0.0), device="cpu", progress=False)["training"]
    assert (t["steps"], t["stop_reason"], t["best_epoch"]) == (3, "patience", 0)
    model = _model(tiny_body)
    snapshots = _scripted(monkeypatch, model, flat)
    t = refine_module.refine(model, train, val, RefineConfig(epochs=20, batch_size=16, patience=2, min_steps=6,
                                                             warmup_ratio=0.0), device="cpu", progress=False)["training"]
    assert (t["steps"], t["stop_reason"], t["converged"], t["best_epoch"]) == (6, "patience", True, 0)
    for k, v in model.state_dict().items():  # the weights scored 0.9 at epoch 0, not the last ones
        torch.testing.assert_close(v, snapshots[0][k], msg=k)


def test_select_on_loss_ranks_epochs_the_metric_ties(tiny_body, monkeypatch) -> None:
    """On a tiny validation split accuracy ties while the loss still falls: selecting on the loss keeps the
    lowest-loss epoch (3), selecting on the metric keeps the first of the tied epochs (0)."""
    train, val = _data()
    losses = [0.9, 0.7, 0.6, 0.5, 0.8, 0.85, 0.3, 0.2]

    def run(select_on: str) -> tuple[dict, list[dict], torch.nn.Module]:
        model = _model(tiny_body)
        snapshots = []

        def evaluate(m, v, batch_size, acc):
            snapshots.append({k: t.detach().clone() for k, t in model.state_dict().items()})
            return {"accuracy": 0.75, "loss": losses[len(snapshots) - 1]}

        monkeypatch.setattr(refine_module, "evaluate", evaluate)
        info = refine_module.refine(model, train, val, RefineConfig(epochs=8, batch_size=16, patience=2,
                                                                    warmup_ratio=0.0, select_on=select_on),
                                    device="cpu", progress=False)
        return info, snapshots, model

    info, snapshots, model = run("loss")
    assert (info["best_epoch"], info["best_val"], info["training"]["epochs_run"]) == (3, 0.5, 6)
    assert info["training"]["stop_reason"] == "patience"
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, snapshots[3][k], msg=k)
    info, _, _ = run("metric")
    assert (info["best_epoch"], info["training"]["epochs_run"]) == (0, 3)
    with pytest.raises(ConfigError, match="expected one of"):
        RefineConfig(select_on="accuracy")


def test_the_estimators_default_schedule_scales_with_the_data() -> None:
    """``CrossModalClassifier()``: 16 training rows (one step per epoch) get 300 epochs, 60 rows 150, 5,000 rows
    keep 10; early stopping waits for the 300 steps and follows the validation metric, the loss breaking its ties."""
    from orca import CrossModalClassifier, CrossModalRegressor
    from orca.refine import epochs_for

    for cfg in (CrossModalClassifier().make_config().refine, CrossModalRegressor().make_config().refine):
        assert [epochs_for(cfg, spe) for spe in (1, 2, 157)] == [300, 150, 10]
        assert (cfg.min_steps, cfg.patience, cfg.select_on) == (300, 10, "metric-then-loss")


def test_metric_then_loss_lets_the_metric_decide_and_the_loss_break_its_ties(tiny_body, monkeypatch) -> None:
    """Accuracy 0.5 at epoch 0 with the lowest loss of all (an untrained model's near-uniform predictions), then
    0.75 from epoch 1 on with the loss falling to epoch 3: ``loss`` keeps epoch 0, ``metric`` the first 0.75
    (epoch 1), ``metric-then-loss`` the 0.75 epoch of lowest loss (3)."""
    train, val = _data()
    accuracy = [0.5, 0.75, 0.75, 0.75, 0.75, 0.75, 0.75, 0.75]
    losses = [0.2, 0.9, 0.6, 0.4, 0.8, 0.85, 0.9, 0.95]

    def best(select_on: str) -> tuple[int, torch.nn.Module, list[dict]]:
        model = _model(tiny_body)
        snapshots = []

        def evaluate(m, v, batch_size, acc):
            snapshots.append({k: t.detach().clone() for k, t in model.state_dict().items()})
            i = len(snapshots) - 1
            return {"accuracy": accuracy[i], "loss": losses[i]}

        monkeypatch.setattr(refine_module, "evaluate", evaluate)
        info = refine_module.refine(model, train, val, RefineConfig(epochs=8, batch_size=16, patience=3,
                                                                    warmup_ratio=0.0, select_on=select_on),
                                    device="cpu", progress=False)
        return info["best_epoch"], model, snapshots

    assert best("loss")[0] == 0 and best("metric")[0] == 1
    epoch, model, snapshots = best("metric-then-loss")
    assert epoch == 3
    for k, v in model.state_dict().items():  # the kept weights are epoch 3's
        torch.testing.assert_close(v, snapshots[3][k], msg=k)


@pytest.mark.parametrize("metric", ["r2", "rmse"])
def test_on_one_regression_target_metric_then_loss_keeps_the_losss_epoch(tiny_body, metric) -> None:
    """One regression target: R² and RMSE are monotone in the validation MSE (the loss), so the metric ranks the
    epochs as the loss does and ``metric-then-loss`` keeps the same epoch and trains the same way as ``loss``:
    the defaults' change of rule changes nothing for ``CrossModalRegressor`` on such targets."""
    from orca import OrcaConfig, Task
    from orca.data import ArrayDataset
    from orca.model import build

    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 1, 16)).astype(np.float32)
    y = (X[:, 0, :4].sum(axis=1, keepdims=True) + 0.5 * rng.normal(size=(60, 1))).astype(np.float32)
    train, val = ArrayDataset(X[:48], y[:48]), ArrayDataset(X[48:], y[48:])
    task = Task("sum", (1, 16), "regression", (1,), metric=metric)

    def fit(select_on: str) -> dict:
        torch.manual_seed(0)
        model = build(task, OrcaConfig().with_overrides({"embedder.target_seq_len": 8}), tiny_body("bert"))
        return refine_module.refine(model, train, val, RefineConfig(epochs=12, batch_size=16, lr=3e-3,
                                                                    warmup_ratio=0.0, select_on=select_on),
                                    device="cpu", progress=False)

    by_loss, by_metric = fit("loss"), fit("metric-then-loss")
    losses = [h["val_loss"] for h in by_loss["history"]]
    assert len(set(np.round(losses, 6))) > 3 and int(np.argmin(losses)) not in (0, len(losses) - 1), losses
    assert by_metric["best_epoch"] == by_loss["best_epoch"] == int(np.argmin(losses))
    assert [h["val_loss"] for h in by_metric["history"]] == losses  # the same training, epoch for epoch
