"""``refine.ema_decay``: a moving average of the weights is what refine scores, selects and returns; training
itself is unchanged, and an interrupted run resumes to the same average."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch

from orca import OrcaConfig, Task, build
from orca.config import RefineConfig
from orca.data import ArrayDataset, split_train_val
from orca.exceptions import ConfigError

refine_module = importlib.import_module("orca.refine")  # the package re-exports the function `refine`
MAKE_OPTIMIZER = refine_module._optimizer


def _data(n: int = 64):
    rng = np.random.default_rng(1)
    y = np.arange(n) % 2
    X = (rng.normal(size=(n, 1, 16)) + np.where(y == 1, 1.0, -1.0)[:, None, None]).astype(np.float32)
    tr, va = split_train_val(n, 0.25, 0, y)
    return ArrayDataset(X[tr], y[tr]), ArrayDataset(X[va], y[va])


def _model(tiny_body):
    return build(Task("halves", (1, 16), "classification", (2,)),
                 OrcaConfig().with_overrides({"embedder.target_seq_len": 8}), tiny_body("bert"))


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
    train, val = _data()
    cfg = RefineConfig(epochs=1, batch_size=8, lr=3e-3, warmup_ratio=0.0)
    plain = _model(tiny_body)
    plain_steps = _record_steps(monkeypatch, plain)
    plain_info = refine_module.refine(plain, train, val, cfg, seed=2, device="cpu", progress=False)

    averaged = _model(tiny_body)
    steps = _record_steps(monkeypatch, averaged)
    info = refine_module.refine(averaged, train, val, RefineConfig(**{**cfg.__dict__, "ema_decay": 0.8}), seed=2,
                                device="cpu", progress=False)
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


def test_an_interrupted_averaged_run_resumes_to_the_same_average(tiny_body, tmp_path, monkeypatch) -> None:
    train, val = _data()
    cfg = RefineConfig(epochs=4, batch_size=16, lr=1e-3, warmup_ratio=0.0, ema_decay=0.9)
    reference = _model(tiny_body)
    ref_info = refine_module.refine(reference, train, val, cfg, seed=3, device="cpu", progress=False)

    real_evaluate = refine_module.evaluate
    calls = {"n": 0}

    def crash_on_third_epoch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt("simulated kill during epoch 3")
        return real_evaluate(*args, **kwargs)

    monkeypatch.setattr(refine_module, "evaluate", crash_on_third_epoch)
    with pytest.raises(KeyboardInterrupt):
        refine_module.refine(_model(tiny_body), train, val, cfg, seed=3, device="cpu", checkpoint_dir=tmp_path,
                             progress=False)
    monkeypatch.setattr(refine_module, "evaluate", real_evaluate)
    resumed = _model(tiny_body)
    info = refine_module.refine(resumed, train, val, cfg, seed=3, device="cpu", checkpoint_dir=tmp_path,
                                resume=True, progress=False)
    assert [h["val_loss"] for h in info["history"]] == pytest.approx([h["val_loss"] for h in ref_info["history"]])
    for (k, a), b in zip(reference.state_dict().items(), resumed.state_dict().values()):
        torch.testing.assert_close(a, b, msg=f"{k} differs after resume")
    # another decay is another run: its checkpoint does not resume this one
    with pytest.raises(ConfigError, match="another config"):
        refine_module.refine(_model(tiny_body), train, val, RefineConfig(**{**cfg.__dict__, "ema_decay": 0.5}),
                             seed=3, device="cpu", checkpoint_dir=tmp_path, resume=True, progress=False)


@pytest.mark.parametrize("bad", [0.0, 1.0, 1.5, -0.1, float("nan")])
def test_a_decay_outside_the_open_unit_interval_is_refused(bad) -> None:
    with pytest.raises(ConfigError, match=r"refine.ema_decay=.* must be in \(0, 1\)"):
        RefineConfig(ema_decay=bad)
    with pytest.raises(ConfigError, match="refine.ema_decay"):
        OrcaConfig().with_overrides({"refine.ema_decay": bad})
