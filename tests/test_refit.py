"""A refit (``refine.refit``): after the validation split has chosen the epoch, stages 1-3 again from fresh weights
on the training and validation rows together, for the chosen epochs, with the selection run's schedule."""

from __future__ import annotations

import copy
import dataclasses
import importlib

import numpy as np
import pytest
import torch
from test_refine import _data, _model

from orca import CrossModalClassifier
from orca.align import SourceFeatures
from orca.config import OrcaConfig, RefineConfig
from orca.data import ArrayDataset, split_train_val
from orca.exceptions import ConfigError
from orca.model import build
from orca.pipeline import fit
from orca.tasks import Task

refine_module = importlib.import_module("orca.refine")


def test_a_refit_repeats_the_selection_runs_first_epochs_exactly(tiny_body, monkeypatch) -> None:
    """On the same rows a refit follows the validated run: the same learning rates epoch by epoch (the schedule is
    planned over the 6-epoch cap, not over the refit's 3), and after one epoch the very weights the validated run
    had after its first (the same shuffle and steps; later epochs' dropout masks differ, as scoring the validation
    split draws from the global generator), the last weights kept, no validation scored."""
    train, val = _data()
    cfg = RefineConfig(epochs=6, batch_size=16, lr=1e-3, warmup_ratio=0.2)
    snapshots = []
    real_evaluate = refine_module.evaluate

    def recording(m, dataset, batch_size, acc):
        snapshots.append({k: v.detach().clone() for k, v in m.state_dict().items()})
        return real_evaluate(m, dataset, batch_size, acc)

    monkeypatch.setattr(refine_module, "evaluate", recording)
    torch.manual_seed(0)
    selected = refine_module.refine(_model(tiny_body), train, val, cfg, device="cpu", progress=False, seed=3)
    assert len(snapshots) == 6
    monkeypatch.setattr(refine_module, "evaluate", lambda *a: pytest.fail("a refit scores nothing"))
    torch.manual_seed(0)
    refit_model = _model(tiny_body)
    info = refine_module.refine(refit_model, train, None, cfg, device="cpu", progress=False, seed=3, refit_epochs=3)
    t = info["training"]
    assert (t["stop_reason"], t["epochs_run"], t["converged"], t["best_epoch"]) == ("refit", 3, False, None)
    assert [h["lr"] for h in info["history"]] == [h["lr"] for h in selected["history"][:3]]
    assert info["history"][-1]["lr"] > 0  # the schedule did not decay to zero at the refit's last epoch
    assert t["epochs_cap"] == 6 and t["steps"] == 3 * len(range(0, len(train), 16))
    torch.manual_seed(0)
    one = _model(tiny_body)
    refine_module.refine(one, train, None, cfg, device="cpu", progress=False, seed=3, refit_epochs=1)
    for k, v in one.state_dict().items():
        torch.testing.assert_close(v, snapshots[0][k], msg=k)
    assert any(not torch.equal(v, snapshots[0][k]) for k, v in refit_model.state_dict().items())  # 3 epochs on


def test_refine_refuses_a_refit_it_cannot_run(tiny_body) -> None:
    train, val = _data()
    cfg = RefineConfig(epochs=2, batch_size=16)
    with pytest.raises(ValueError, match="either a validation set or refit_epochs"):
        refine_module.refine(_model(tiny_body), train, None, cfg, device="cpu", progress=False)
    with pytest.raises(ValueError, match="either a validation set or refit_epochs"):
        refine_module.refine(_model(tiny_body), train, val, cfg, device="cpu", progress=False, refit_epochs=2)
    with pytest.raises(ValueError, match="no early stopping"):
        refine_module.refine(_model(tiny_body), train, None, RefineConfig(epochs=2, patience=1), device="cpu",
                             progress=False, refit_epochs=2)
    with pytest.raises(ValueError, match="refit_epochs must be >= 1"):
        refine_module.refine(_model(tiny_body), train, None, cfg, device="cpu", progress=False, refit_epochs=0)
    with pytest.raises(ConfigError, match="refine.refit='yes'; expected true or false"):
        RefineConfig(refit="yes")


def _problem(n: int = 64):
    rng = np.random.default_rng(1)
    y = np.arange(n) % 2
    X = (rng.normal(size=(n, 1, 16)) + np.where(y == 1, 0.8, -0.8)[:, None, None]).astype(np.float32)
    return Task("halves", (1, 16), "classification", (2,)), X, y


def test_fit_with_refit_returns_a_model_trained_afresh_on_all_rows(tiny_body) -> None:
    """The returned model is the one stages 1-3 give from the untouched body on training + validation rows for the
    selected run's best epoch + 1 epochs; the test split scores that model; the validation score is the selection
    run's, which the same fit without a refit reports too."""
    task, X, y = _problem()
    X_test, y_test = X[:20] + 0.1, y[:20]
    body = tiny_body("bert")
    pristine = copy.deepcopy(body)
    source = SourceFeatures(torch.randn(64, body.d_in), torch.arange(64) % 2)
    overrides = {"embedder.target_seq_len": 8, "align.steps": 3, "refine.epochs": 4, "refine.batch_size": 16,
                 "refine.lr": 1e-3, "refine.val_fraction": 0.25, "refine.min_steps": 20, "device": "cpu"}
    plain = fit(task, X, y, OrcaConfig().with_overrides(overrides), body=copy.deepcopy(body), source=source,
                progress=False)
    config = OrcaConfig().with_overrides({**overrides, "refine.refit": True})
    run = fit(task, X, y, config, body=body, source=source, X_test=X_test, y_test=y_test, progress=False)

    assert run.metrics["val"] == plain.metrics["val"]  # the selection run is the run without a refit
    best = run.refine_info["best_epoch"]
    assert best == plain.refine_info["best_epoch"]
    refit = run.refine_info["refit"]
    assert (refit["epochs"], refit["rows"]) == (best + 1, len(X))
    assert refit["training"]["stop_reason"] == "refit" and refit["training"]["epochs_run"] == best + 1
    assert run.split == {"train": 48, "val": 16, "test": 20} and "refit" in run.timings
    # min_steps 20 raised the cap to 7 epochs of 3 steps; the refit (4 steps an epoch) keeps those 7 epochs, where
    # min_steps would have planned its schedule over 5
    assert run.refine_info["training"]["epochs_cap"] == refit["training"]["epochs_cap"] == 7

    # the same stages by hand, from the body as it was before the fit, on the rows in the order fit joins them
    tr, va = split_train_val(len(X), 0.25, config.seed, y)
    rows = np.concatenate([tr, va])
    expected = build(task, config, pristine)
    from orca.align import align
    from orca.tasks import stage2_labels
    align(expected, X[rows], stage2_labels(task, y[rows], config.seed), source, config.align, config.seed,
          torch.device("cpu"), False)
    same_schedule = dataclasses.replace(config.refine, epochs=7, min_steps=None)
    refine_module.refine(expected, ArrayDataset(X[rows], y[rows]), None, same_schedule, seed=config.seed,
                         device="cpu", progress=False, refit_epochs=best + 1)
    for k, v in run.model.state_dict().items():
        torch.testing.assert_close(v, expected.state_dict()[k], msg=k)
    scored = refine_module.evaluate(run.model, ArrayDataset(X_test, y_test), 64)
    assert run.metrics["test"]["accuracy"] == pytest.approx(scored["accuracy"])
    assert body.state_dict().keys() == pristine.state_dict().keys()


def test_the_facade_carries_refit_and_saves_what_the_model_trained_on(tiny_body, tmp_path) -> None:
    task, X, y = _problem(48)
    clf = CrossModalClassifier(body=tiny_body("bert"), embedder__target_seq_len=8, align__objective="none",
                               refine__epochs=2, refine__batch_size=16, refine__refit=True, refine__min_steps=None,
                               refine__patience=None, device="cpu")
    clf.fit(X.reshape(len(X), -1), y)
    refit = clf.result_["refine"]["refit"]
    assert refit["rows"] == len(X) and clf.config_.refine.refit
    assert clf._metadata()["data_sha256"] == refit["data_sha256"] != clf.result_["refine"]["data_sha256"]
    assert clf.predict_proba(X.reshape(len(X), -1)).shape == (len(X), 2)


@pytest.mark.parametrize("ema_decay", [None, 0.9])
def test_an_interrupted_refit_resumes_to_the_uninterrupted_weights(ema_decay, tiny_body, tmp_path,
                                                                    monkeypatch) -> None:
    """Killed after its second epoch's checkpoint, a refit resumed from ``last.pt`` ends on the weights of one that
    ran through (with ``ema_decay``: the average's, which a refit returns)."""
    train, _ = _data()
    cfg = RefineConfig(epochs=6, batch_size=16, lr=1e-3, ema_decay=ema_decay)
    reference = _model(tiny_body)
    refine_module.refine(reference, train, None, cfg, seed=3, device="cpu", progress=False, refit_epochs=4)

    real_save, saves = refine_module.torch_save, []

    def killed_after_two(path, obj):
        real_save(path, obj)
        saves.append(path.name)
        if len(saves) == 2:
            raise KeyboardInterrupt("simulated kill after epoch 2")

    monkeypatch.setattr(refine_module, "torch_save", killed_after_two)
    with pytest.raises(KeyboardInterrupt):
        refine_module.refine(_model(tiny_body), train, None, cfg, seed=3, device="cpu", checkpoint_dir=tmp_path,
                             progress=False, refit_epochs=4)
    monkeypatch.setattr(refine_module, "torch_save", real_save)
    assert saves == ["last.pt", "last.pt"] and not (tmp_path / "best.pt").exists()
    with pytest.raises(ConfigError, match="another config"):  # the epoch count is part of what must match
        refine_module.refine(_model(tiny_body), train, None, cfg, seed=3, device="cpu", checkpoint_dir=tmp_path,
                             resume=True, progress=False, refit_epochs=5)
    resumed = _model(tiny_body)
    info = refine_module.refine(resumed, train, None, cfg, seed=3, device="cpu", checkpoint_dir=tmp_path,
                                resume=True, progress=False, refit_epochs=4)
    assert info["training"]["epochs_run"] == 4 and [h["epoch"] for h in info["history"]] == [0, 1, 2, 3]
    for k, v in resumed.state_dict().items():
        torch.testing.assert_close(v, reference.state_dict()[k], msg=k)


def test_a_refit_after_the_fit_is_the_fits_own_refit(tiny_body, tmp_path) -> None:
    """``fit`` then ``refit`` (a caller deciding on the refit after seeing the validation score) ends on the very
    weights ``fit`` with ``refine__refit=True`` returns; a model read back from its file refits the same way when
    told the epochs; other rows and a record-less model without epochs are refused."""
    task, X, y = _problem()
    body = tiny_body("bert")
    source = SourceFeatures(torch.randn(64, body.d_in), torch.arange(64) % 2)
    flat = X.reshape(len(X), -1)
    params = dict(embedder__target_seq_len=8, align__objective="mmd", align__steps=3, refine__epochs=4,
                  refine__batch_size=16, refine__lr=1e-3, refine__val_fraction=0.25, refine__min_steps=20,
                  device="cpu")
    together = CrossModalClassifier(body=copy.deepcopy(body), refine__refit=True, **params).fit(flat, y, source=source)
    later = CrossModalClassifier(body=copy.deepcopy(body), **params).fit(flat, y, source=source)
    selected = later.predict_proba(flat)
    training = later.result_["refine"]["training"]
    path = later.save(tmp_path / "selected.safetensors")
    later.refit(flat, y, source=source)
    assert later.result_["refine"]["refit"]["epochs"] == together.result_["refine"]["refit"]["epochs"]
    for k, v in later.model_.state_dict().items():
        torch.testing.assert_close(v, together.model_.state_dict()[k], msg=k)
    assert not np.allclose(later.predict_proba(flat), selected)  # the refit model replaced the selected one
    loaded = CrossModalClassifier.load(path, body=copy.deepcopy(body))
    with pytest.raises(Exception, match="give epochs and epochs_cap"):
        loaded.refit(flat, y, source=source)
    loaded.set_params(body=copy.deepcopy(body))  # the untouched body to start from (a hub name loads it afresh)
    loaded.refit(flat, y, source=source, epochs=training["best_epoch"] + 1, epochs_cap=training["epochs_cap"])
    np.testing.assert_allclose(loaded.predict_proba(flat), later.predict_proba(flat), atol=1e-6)
    with pytest.raises(Exception, match="the rows fit was given"):
        later.refit(flat[:40], y[:40], source=source)
