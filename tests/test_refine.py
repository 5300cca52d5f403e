"""Stage 3: schedule maths, learning, model selection on validation data, explicit and exact resume, the moving
average of the weights."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch

refine_module = importlib.import_module("orca.refine")  # the package re-exports the function `refine`
MAKE_OPTIMIZER = refine_module._optimizer
from orca import OrcaConfig, Task, build
from orca.config import RefineConfig
from orca.data import ArrayDataset, split_train_val
from orca.exceptions import ConfigError
from orca.refine import lr_lambda, refine


def test_lr_schedule() -> None:
    total, warmup = 100, 10
    assert lr_lambda(0, total, warmup, "cosine") == pytest.approx(1 / 11)
    assert lr_lambda(9, total, warmup, "cosine") == pytest.approx(10 / 11)
    assert lr_lambda(10, total, warmup, "cosine") == pytest.approx(1.0)
    assert lr_lambda(55, total, warmup, "cosine") == pytest.approx(0.5)
    assert lr_lambda(100, total, warmup, "cosine") == pytest.approx(0.0, abs=1e-12)
    assert lr_lambda(55, total, warmup, "linear") == pytest.approx(0.5)
    assert lr_lambda(80, total, warmup, "constant") == 1.0


def test_lr_schedule_with_a_horizon_beyond_the_end_as_the_paper_decays() -> None:
    """The paper's CIFAR-100 schedule: 5 warm-up epochs, linear decay to zero at epoch 200, training stops at 60,
    so the last step still has (200 - 60) / (200 - 5) of the peak rate (about 72 %)."""
    per_epoch = 10
    total, warmup, horizon = 60 * per_epoch, 5 * per_epoch, 200 * per_epoch
    assert lr_lambda(total, total, warmup, "linear", horizon) == pytest.approx((200 - 60) / (200 - 5))
    assert lr_lambda(horizon, total, warmup, "linear", horizon) == 0.0
    assert lr_lambda(total, total, warmup, "linear") == 0.0  # no horizon: zero at the end


def test_optimizer_settings_and_old_checkpoints_fingerprint(tiny_body) -> None:
    from orca.config import RefineConfig
    from orca.refine import _config_hash, _optimizer, _param_groups

    model = _model(tiny_body)
    cfg = RefineConfig(optimizer="sgd", momentum=0.99)
    sgd = _optimizer(_param_groups(model, cfg), cfg)
    assert {g["momentum"] for g in sgd.param_groups} == {0.99}
    adam = _optimizer(_param_groups(model, RefineConfig()), RefineConfig(optimizer="adam", beta2=0.98))
    assert {g["betas"] for g in adam.param_groups} == {(0.9, 0.98)}
    # the resume fingerprint covers every setting and the data: another setting or other data is another run
    base = _config_hash(RefineConfig(), model.task, None, "data-a")
    assert _config_hash(RefineConfig(decay_epochs=200), model.task, None, "data-a") != base
    assert _config_hash(RefineConfig(), model.task, None, "data-b") != base
    assert _config_hash(RefineConfig(), model.task, None, "data-a") == base
    with pytest.raises(ConfigError, match="refine.momentum"):
        RefineConfig(momentum=1.0)


def _data(n: int = 96):
    rng = np.random.default_rng(0)
    y = np.arange(n) % 2
    X = (rng.normal(size=(n, 1, 16)) + np.where(y == 1, 1.0, -1.0)[:, None, None]).astype(np.float32)
    tr, va = split_train_val(n, 0.25, 0, y)
    return ArrayDataset(X[tr], y[tr]), ArrayDataset(X[va], y[va])


def _model(tiny_body):
    task = Task("halves", (1, 16), "classification", (2,))
    return build(task, OrcaConfig().with_overrides({"embedder.target_seq_len": 8}), tiny_body("bert"))


CFG = RefineConfig(epochs=4, batch_size=16, lr=1e-3, new_params_lr_mult=3.0, warmup_ratio=0.0)


def test_loss_falls_and_best_epoch_is_selected_on_validation(tiny_body) -> None:
    train, val = _data()
    model = _model(tiny_body)
    info = refine(model, train, val, RefineConfig(epochs=8, batch_size=16, lr=1e-3, warmup_ratio=0.0),
                  device="cpu", progress=False)
    losses = [h["train_loss"] for h in info["history"]]
    assert losses[-1] < 0.6 * losses[0]
    vals = [h["val_accuracy"] for h in info["history"]]
    assert info["best_val"] == max(vals) and vals[info["best_epoch"]] == max(vals)


def test_only_layernorm_finetune_freezes_the_rest(tiny_body) -> None:
    train, val = _data(32)
    model = build(Task("h", (1, 16), "classification", (2,)),
                  OrcaConfig().with_overrides({"body.finetune": "layernorm", "embedder.target_seq_len": 8}),
                  tiny_body("bert"))
    frozen = {n: p.clone() for n, p in model.body.named_parameters() if not p.requires_grad}
    assert frozen and all("LayerNorm" not in n for n in frozen)
    refine(model, train, val, RefineConfig(epochs=1, batch_size=16), device="cpu", progress=False)
    assert all(torch.equal(p, frozen[n]) for n, p in model.body.named_parameters() if n in frozen)


@pytest.mark.parametrize("ema_decay", [None, 0.9])
def test_resume_after_a_crash_gives_the_same_result(ema_decay, tiny_body, tmp_path, monkeypatch) -> None:
    """An interrupted run resumes to the uninterrupted run's weights; with ``refine.ema_decay`` the moving average
    (what is scored and returned) resumes too."""
    cfg = RefineConfig(**{**CFG.__dict__, "ema_decay": ema_decay})
    train, val = _data()
    reference = _model(tiny_body)
    ref_info = refine(reference, train, val, cfg, seed=3, device="cpu", progress=False)

    crashed = _model(tiny_body)
    real_evaluate = refine_module.evaluate
    calls = {"n": 0}

    def crash_on_third_epoch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt("simulated kill during epoch 3")
        return real_evaluate(*args, **kwargs)

    monkeypatch.setattr(refine_module, "evaluate", crash_on_third_epoch)
    with pytest.raises(KeyboardInterrupt):
        refine(crashed, train, val, cfg, seed=3, device="cpu", checkpoint_dir=tmp_path, progress=False)
    monkeypatch.setattr(refine_module, "evaluate", real_evaluate)
    assert (tmp_path / "last.pt").is_file() and (tmp_path / "best.pt").is_file()
    assert not list(tmp_path.glob("*.tmp")), "no half-written checkpoint may remain"

    saved = torch.load(tmp_path / "last.pt", weights_only=True)["state"]
    trained_before = saved["elapsed"]
    from benchmarks.runner.explain import checkpoint_progress

    assert 0 < saved["step"] < saved["total_steps"] == len(ref_info["history"]) * saved["step"] // saved["epoch"]
    assert checkpoint_progress(tmp_path) == (pytest.approx(saved["step"] / saved["total_steps"]),
                                             pytest.approx(trained_before))
    resumed = _model(tiny_body)
    info = refine(resumed, train, val, cfg, seed=3, device="cpu", checkpoint_dir=tmp_path, resume=True,
                  progress=False)
    assert ref_info["training"]["resumed_s"] == 0.0  # earlier processes' training time, added by the runner
    assert info["training"]["resumed_s"] == pytest.approx(trained_before) and trained_before > 0
    assert info["training"]["seconds"] > trained_before
    assert [h["train_loss"] for h in info["history"]] == pytest.approx([h["train_loss"] for h in ref_info["history"]])
    assert [h["val_loss"] for h in info["history"]] == pytest.approx([h["val_loss"] for h in ref_info["history"]])
    for (k, a), b in zip(reference.state_dict().items(), resumed.state_dict().values()):
        torch.testing.assert_close(a, b, msg=f"{k} differs after resume")


def test_resume_needs_a_matching_checkpoint(tiny_body, tmp_path) -> None:
    train, val = _data(32)
    with pytest.raises(ConfigError, match="no checkpoint"):
        refine(_model(tiny_body), train, val, CFG, device="cpu", checkpoint_dir=tmp_path, resume=True,
               progress=False)
    refine(_model(tiny_body), train, val, RefineConfig(epochs=1, batch_size=16), device="cpu",
           checkpoint_dir=tmp_path, progress=False)
    for other in (RefineConfig(epochs=2, batch_size=16), RefineConfig(epochs=1, batch_size=16, ema_decay=0.9)):
        with pytest.raises(ConfigError, match="another config"):
            refine(_model(tiny_body), train, val, other, device="cpu", checkpoint_dir=tmp_path, resume=True,
                   progress=False)


def test_an_auto_precision_checkpoint_resumes_only_in_the_precision_it_was_written_in(tiny_body, tmp_path,
                                                                                     monkeypatch) -> None:
    import orca.precision as precision

    train, val = _data(32)
    cfg = RefineConfig(epochs=1, batch_size=16, mixed_precision="auto")

    def on(native: bool, resume: bool) -> dict:
        monkeypatch.setattr(precision, "bf16_native", lambda device_type="cpu": native)
        return refine(_model(tiny_body), train, val, cfg, device="cpu", checkpoint_dir=tmp_path, resume=resume,
                      progress=False)

    assert on(True, resume=False)["precision"] == "bf16"
    with pytest.raises(ConfigError, match="resolved precision"):
        on(False, resume=True)  # the same setting, but this machine would continue in float32
    assert on(True, resume=True)["precision"] == "bf16"


def test_target_scaler_round_trip() -> None:
    from orca.data import TargetScaler

    rng = np.random.default_rng(0)
    cols = rng.normal([5.0, -300.0], [2.0, 40.0], size=(200, 2))
    scaler = TargetScaler.fit(cols)
    z = scaler.transform(cols)
    np.testing.assert_allclose(z.mean(0), 0.0, atol=1e-4)
    np.testing.assert_allclose(z.std(0), 1.0, atol=1e-4)
    np.testing.assert_allclose(scaler.inverse(z), cols, rtol=1e-5)
    field = rng.normal(3.0, 0.5, size=(10, 1, 8, 8))
    assert TargetScaler.fit(field).mean.shape == ()  # fields: one global scale
    assert TargetScaler.from_state(scaler.state()).std.tolist() == scaler.std.tolist()


def test_gradients_left_by_earlier_stages_do_not_leak_into_refine(tiny_body) -> None:
    """Stage 2 leaves gradients on the embedder; refine must start from clean gradients (else a resumed run,
    which re-runs stage 2 and then skips epochs, would not match an uninterrupted one)."""
    train, val = _data()
    torch.manual_seed(0)
    clean = _model(tiny_body)
    torch.manual_seed(0)
    dirty = _model(tiny_body)
    for p in dirty.parameters():
        p.grad = torch.full_like(p, 5.0)
    refine(clean, train, val, CFG, seed=1, device="cpu", progress=False)
    refine(dirty, train, val, CFG, seed=1, device="cpu", progress=False)
    for (k, a), b in zip(clean.state_dict().items(), dirty.state_dict().values()):
        torch.testing.assert_close(a, b, msg=f"{k} differs when stale gradients were present")


def test_checkpoints_are_written_at_most_as_often_as_asked(tiny_body, tmp_path) -> None:
    train, val = _data(32)
    refine(_model(tiny_body), train, val, CFG, device="cpu", checkpoint_dir=tmp_path / "rare",
           checkpoint_every_s=1e9, progress=False)
    assert not (tmp_path / "rare" / "last.pt").exists()  # the run was shorter than the interval
    refine(_model(tiny_body), train, val, CFG, device="cpu", checkpoint_dir=tmp_path / "every",
           checkpoint_every_s=0.0, progress=False)
    assert (tmp_path / "every" / "last.pt").is_file() and (tmp_path / "every" / "best.pt").is_file()


def test_epoch_log_is_written_as_training_goes_and_bf16_trains_on_cpu(tiny_body, tmp_path, monkeypatch) -> None:
    """One CSV row per epoch, written before the next epoch starts; bf16 autocast on the CPU still learns the
    task; fp16 is refused with the allowed values."""
    import csv

    train, val = _data()
    seen = []
    original = refine_module.EpochLog.write

    def spy(self, record):
        original(self, record)
        seen.append(len(list(csv.DictReader(open(self.path)))))  # rows on disk right after each epoch

    monkeypatch.setattr(refine_module.EpochLog, "write", spy)
    cfg = RefineConfig(epochs=3, batch_size=16, lr=1e-3, warmup_ratio=0.0, mixed_precision="bf16")
    info = refine(_model(tiny_body), train, val, cfg, device="cpu", progress=False, log_dir=tmp_path / "log")
    assert seen == [1, 2, 3]
    rows = list(csv.DictReader(open(tmp_path / "log" / "refine_log.csv")))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    assert {"train_loss", "lr", "val_accuracy", "seconds"} <= set(rows[0])
    assert float(rows[-1]["train_loss"]) == pytest.approx(info["history"][-1]["train_loss"])
    assert info["best_val"] >= 0.75  # the halves are separable; bf16 still learns them
    with pytest.raises(ConfigError, match="refine.mixed_precision"):
        RefineConfig(mixed_precision="fp16")  # not offered: it needs a gradient scaler and a GPU to test on
    # a second fit in the same process with another setting (the runner's case) works, and the setting acts:
    # the same seed in float32 gives other (unrounded) losses
    fp32 = refine(_model(tiny_body), train, val, RefineConfig(epochs=1, batch_size=16, lr=1e-3, warmup_ratio=0.0),
                  device="cpu", progress=False)
    bf16 = refine(_model(tiny_body), train, val, RefineConfig(epochs=1, batch_size=16, lr=1e-3, warmup_ratio=0.0,
                                                              mixed_precision="bf16"), device="cpu", progress=False)
    assert fp32["history"][0]["train_loss"] != bf16["history"][0]["train_loss"]
    assert fp32["history"][0]["train_loss"] == pytest.approx(bf16["history"][0]["train_loss"], rel=0.05)
    # mixed precision is part of the resume fingerprint (at "no" it is left out, so older checkpoints still match)
    from orca.refine import _config_hash

    assert _config_hash(RefineConfig(), _model(tiny_body).task, None, "d") != _config_hash(
        RefineConfig(mixed_precision="bf16"), _model(tiny_body).task, None, "d")


def test_bf16_on_a_device_that_emulates_it_is_warned_and_recorded(tiny_body, monkeypatch) -> None:
    """bf16 autocast is several times slower than fp32 where the CPU has no native bf16 products (AVX2-only
    machines): refine says so (the run stays valid), fp32 never warns, and every result records what the CPU
    can do."""
    import warnings

    import orca.precision as precision
    from orca.provenance import environment

    train, val = _data()
    cfg = RefineConfig(epochs=1, batch_size=16, lr=1e-3, warmup_ratio=0.0, mixed_precision="bf16")
    monkeypatch.setattr(precision, "bf16_native", lambda device_type="cpu": False)
    with pytest.warns(RuntimeWarning, match=r"no native bfloat16.*mixed_precision='no'"):
        refine(_model(tiny_body), train, val, cfg, device="cpu", progress=False)
    for native, setting in ((True, "bf16"), (False, "no")):
        monkeypatch.setattr(precision, "bf16_native", lambda device_type="cpu", v=native: v)
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            assert not precision.warn_if_emulated(setting, "cpu")
    monkeypatch.undo()
    env = environment()
    assert env["bf16_native_cpu"] in (True, False, None) and env["cpu_capability"]


def test_fit_says_one_line_per_stage_with_its_time(tiny_body, capsys) -> None:
    """With progress on, orca.fit writes what each stage did and how long it took; with progress off, nothing."""
    from orca.align import SourceFeatures
    from orca.pipeline import fit

    rng = np.random.default_rng(0)
    y = np.arange(48) % 2
    X = (rng.normal(size=(48, 1, 16)) + y[:, None, None]).astype(np.float32)
    task = Task("halves", (1, 16), "classification", (2,))
    body = tiny_body("bert")
    source = SourceFeatures(torch.randn(64, body.d_in), torch.arange(64) % 2)
    config = OrcaConfig().with_overrides({"embedder.target_seq_len": 8, "align.steps": 2, "refine.epochs": 1,
                                          "refine.batch_size": 16, "device": "cpu"})
    fit(task, X, y, config, body=body, source=source, progress=True)
    lines = [ln for ln in capsys.readouterr().err.replace("\r", "\n").splitlines() if ln.startswith("orca: ")]
    assert [ln.split()[1] for ln in lines] == ["1/3", "2/3", "3/3"]
    assert "aligned (otdd-exact, 2 steps)" in lines[1] and "cache off" in lines[1] and " s;" in lines[2]
    fit(task, X, y, config, body=tiny_body("bert"), source=source, progress=False)
    assert "orca: " not in capsys.readouterr().err


def test_an_epoch_observer_can_stop_training_as_pruned(tiny_body) -> None:
    train, val = _data()
    seen = []

    def on_epoch(epoch: int, value: float) -> bool:
        seen.append((epoch, value))
        return epoch == 1  # stop after the second epoch

    info = refine(_model(tiny_body), train, val, CFG, device="cpu", progress=False, on_epoch=on_epoch)
    assert info["training"]["stop_reason"] == "pruned" and info["training"]["epochs_run"] == 2
    assert info["training"]["converged"] is False
    assert seen == [(h["epoch"], h["val_accuracy"]) for h in info["history"]]  # the score selection uses
    loss_rule = refine(_model(tiny_body), train, val, RefineConfig(**{**CFG.__dict__, "select_on": "loss"}),
                       device="cpu", progress=False, on_epoch=lambda e, v: seen.append(("loss", v)) or False)
    assert [v for k, v in seen if k == "loss"] == [h["val_loss"] for h in loss_rule["history"]]
    assert loss_rule["training"]["stop_reason"] == "cap"


def _record_steps(monkeypatch, model) -> list[dict[str, torch.Tensor]]:
    """The trained (not averaged) weights after every optimiser step of the next refine of ``model``."""
    steps: list[dict[str, torch.Tensor]] = []

    def recording(groups, cfg):
        opt = MAKE_OPTIMIZER(groups, cfg)
        opt.register_step_post_hook(lambda *_: steps.append({n: p.detach().clone()
                                                             for n, p in model.named_parameters()}))
        return opt

    monkeypatch.setattr(refine_module, "_optimizer", recording)
    return steps


def test_the_average_of_the_trained_weights_is_scored_and_returned(tiny_body, monkeypatch) -> None:
    """One epoch of 6 steps: the returned weights are the warmed-up moving average of the six trained states,
    computed here from the recorded states (not the last state, which a plain run returns), and the training
    losses are those of a run without averaging."""
    train, val = _data(64)  # 48 training rows: 6 steps of 8
    cfg = RefineConfig(epochs=1, batch_size=8, lr=3e-3, warmup_ratio=0.0)
    plain = _model(tiny_body)
    plain_steps = _record_steps(monkeypatch, plain)
    plain_info = refine(plain, train, val, cfg, seed=2, device="cpu", progress=False)

    averaged = _model(tiny_body)
    steps = _record_steps(monkeypatch, averaged)
    info = refine(averaged, train, val, RefineConfig(**{**cfg.__dict__, "ema_decay": 0.8}), seed=2, device="cpu",
                  progress=False)
    assert len(steps) == len(plain_steps) == 6
    assert info["history"][0]["train_loss"] == pytest.approx(plain_info["history"][0]["train_loss"], rel=1e-6)
    for a, b in zip(steps, plain_steps):  # the average does not feed back into training
        assert all(torch.allclose(a[n], b[n]) for n in a)

    expected = dict(steps[0])  # the first update copies; update n (n >= 1 done) then decays by min(0.8, ...)
    for n, state in enumerate(steps[1:], start=1):
        decay = min(0.8, (1 + n) / (10 + n))
        expected = {k: decay * v + (1 - decay) * state[k] for k, v in expected.items()}
    got = dict(averaged.named_parameters())
    for k, v in expected.items():
        torch.testing.assert_close(got[k].detach(), v, msg=f"{k} is not the moving average")
    moved = [k for k in expected if not torch.allclose(expected[k], steps[-1][k], atol=1e-6)]
    assert moved, "the average must differ from the last trained state, or this test proves nothing"
    # the recorded validation score is the returned (averaged) model's
    again = refine_module.evaluate(averaged, val)
    assert again["loss"] == pytest.approx(info["history"][0]["val_loss"], rel=1e-5)


@pytest.mark.parametrize("bad", [0.0, 1.0, 1.5, -0.1, float("nan")])
def test_a_decay_outside_the_open_unit_interval_is_refused(bad) -> None:
    with pytest.raises(ConfigError, match=r"refine.ema_decay=.* must be in \(0, 1\)"):
        RefineConfig(ema_decay=bad)
    with pytest.raises(ConfigError, match="refine.ema_decay"):
        OrcaConfig().with_overrides({"refine.ema_decay": bad})


def test_auto_precision_is_bf16_only_where_native_and_is_recorded(tiny_body, monkeypatch) -> None:
    """``mixed_precision="auto"`` computes in bf16 where the device has native bf16 products and in float32
    elsewhere (never the emulated, several-times-slower bf16, and without the warning); the precision used is in
    the refine record, and it is the same arithmetic as asking for that precision directly."""
    import warnings

    import orca.precision as precision

    train, val = _data()

    def fit(setting: str) -> dict:
        cfg = RefineConfig(epochs=1, batch_size=16, lr=1e-3, warmup_ratio=0.0, mixed_precision=setting)
        return refine(_model(tiny_body), train, val, cfg, device="cpu", progress=False)

    fp32, bf16 = fit("no"), fit("bf16")
    assert (fp32["precision"], bf16["precision"]) == ("no", "bf16")
    for native, expected in ((False, fp32), (None, fp32), (True, bf16)):
        monkeypatch.setattr(precision, "bf16_native", lambda device_type="cpu", v=native: v)
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # "auto" never runs emulated bf16, so never warns
            auto = fit("auto")
        assert auto["precision"] == expected["precision"]
        assert auto["history"][0]["train_loss"] == expected["history"][0]["train_loss"]
    monkeypatch.setattr(precision, "bf16_native", lambda device_type="cpu": False)
    assert precision.resolve_precision("bf16", "cpu") == "bf16"  # asked for explicitly: kept (and warned)
    assert precision.resolve_precision("auto", "cpu") == "no"
    with pytest.raises(ConfigError, match=r"refine.mixed_precision.*auto"):
        RefineConfig(mixed_precision="fp16")  # the error lists the allowed values
