"""``predictor.skip_modes``: the spectral input skip of the dense heads (``orca.spectral``)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from conftest import config_schedule

from orca import CrossModalRegressor, OrcaConfig, Task, build
from orca.config import PredictorConfig
from orca.exceptions import ConfigError
from orca.predictors import build_predictor
from orca.spectral import SpectralSkip


def _shift_weights(skip: SpectralSkip, shifts: tuple[int, ...]) -> None:
    """Set a one-channel skip to the Fourier multiplier of a periodic shift by ``shifts`` points per axis."""
    space = skip.space
    last = torch.arange(skip.m_last, dtype=torch.float64)
    phase_last = -2 * math.pi * last * shifts[-1] / space[-1]
    with torch.no_grad():
        if len(space) == 1:
            w = torch.polar(torch.ones_like(phase_last), phase_last)  # (m,)
            skip.weight.copy_(torch.view_as_real(w.to(torch.cfloat))[None, None])
            return
        m1 = skip.m_first
        for block, rows in enumerate((torch.arange(m1), torch.arange(space[0] - m1, space[0]))):
            signed = torch.where(rows < space[0] // 2, rows, rows - space[0]).to(torch.float64)  # signed frequency
            phase = -2 * math.pi * signed[:, None] * shifts[0] / space[0] + phase_last[None, :]  # (m1, m)
            w = torch.polar(torch.ones_like(phase), phase).to(torch.cfloat)
            skip.weight[0, 0, block].copy_(torch.view_as_real(w))


@pytest.mark.parametrize("space, shifts", [((32,), (5,)), ((31,), (-7,)), ((16, 12), (3, -5)), ((10, 8), (7, 2))])
def test_all_modes_represent_a_periodic_shift_exactly(space, shifts) -> None:
    """With every Fourier mode kept, the skip can be set to a shift's multiplier and then equals ``torch.roll``,
    an independent reference: the mode bookkeeping (both signs of the first 2D axis, the last axis' half
    spectrum, odd lengths) is right."""
    skip = SpectralSkip(1, 1, space, modes=max(space))
    _shift_weights(skip, shifts)
    x = torch.randn(3, 1, *space)
    torch.testing.assert_close(skip(x), torch.roll(x, shifts, dims=tuple(range(2, 2 + len(space)))),
                               atol=1e-5, rtol=1e-5)


def test_few_modes_keep_only_the_low_band() -> None:
    """With ``m`` modes and identity weights the skip is a low-pass filter: it equals numpy's FFT truncated to
    the lowest ``m`` frequencies (per sign on the first axis)."""
    space, m = (12, 10), 3
    skip = SpectralSkip(1, 1, space, modes=m)
    with torch.no_grad():
        skip.weight[..., 0] = 1.0  # real part 1: identity on the kept modes
    x = np.random.default_rng(0).normal(size=(2, 1, *space)).astype(np.float32)
    f = np.fft.rfft2(x)
    keep = np.zeros(f.shape, dtype=bool)
    keep[..., :m, :m] = keep[..., -m:, :m] = True
    expected = np.fft.irfft2(np.where(keep, f, 0), s=space)
    np.testing.assert_allclose(skip(torch.from_numpy(x)).detach().numpy(), expected, atol=1e-5)


@pytest.mark.parametrize("in_shape, out_shape", [((2, 40), (3, 40)), ((1, 17, 17), (2, 17, 17))])
def test_stage_3_starts_from_the_closed_form_fit(tiny_body, in_shape, out_shape) -> None:
    """With the skip the head's token map starts at zero (the rest is drawn as without it: the same embedder and
    body weights), so after the pipeline's warm start the model predicts exactly what the ``spectral-linear``
    baseline fitted on the same fields predicts; the head and the skip both receive gradients."""
    from baselines.spectral_linear import fit_spectral_linear
    from baselines.supervised import predict_batches as predict
    from orca.pipeline import warm_start_skip

    task = Task("field", in_shape, "dense", out_shape)
    family = "bert" if len(in_shape) == 2 else "swin"
    cfg = OrcaConfig().with_overrides({"embedder.target_seq_len": 16})
    plain = build(task, cfg, tiny_body(family))
    model = build(task, cfg.with_overrides({"predictor.skip_modes": 4}), tiny_body(family))
    assert set(model.state_dict()) - set(plain.state_dict()) == {"predictor.skip.weight", "predictor.skip.bias"}
    for name, tensor in plain.embedder.state_dict().items():
        torch.testing.assert_close(model.embedder.state_dict()[name], tensor)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, *in_shape)).astype(np.float32)
    y = rng.normal(size=(20, *out_shape)).astype(np.float32)
    model.eval()
    assert model(torch.from_numpy(X)).abs().max() == 0  # zero head, zero skip
    warm_start_skip(model, X, y)
    torch.testing.assert_close(model(torch.from_numpy(X)), torch.from_numpy(predict(fit_spectral_linear(X, y, 4), X)),
                               atol=1e-5, rtol=1e-5)
    model(torch.from_numpy(X)).square().sum().backward()
    assert model.predictor.skip.weight.grad.abs().sum() > 0
    assert model.predictor.values.linear.weight.grad.abs().sum() > 0


def test_the_skip_lets_orca_learn_a_long_shift(tiny_body, tmp_path) -> None:
    """Advection in miniature: the target is the input field shifted by 40 % of the domain. A tiny random body
    with a per-token head cannot route the values that far in a few epochs; with the skip the validation
    relative l2 is several times lower. The skip's weights travel with the model file."""
    rng = np.random.default_rng(0)
    n, length = 96, 32
    k = np.arange(1, 5)
    t = np.linspace(0, 1, length, endpoint=False)
    amp = rng.normal(size=(n, len(k), 1)) / k[None, :, None]
    phase = rng.uniform(0, 2 * np.pi, size=(n, len(k), 1))
    X = np.sin(2 * np.pi * k[None, :, None] * t[None, None, :] + phase) * amp  # (N, 4, L)
    X = X.sum(axis=1, keepdims=True).astype(np.float32)  # (N, 1, L): smooth periodic fields
    y = np.roll(X, int(0.4 * length), axis=-1)
    params = {**config_schedule(), "refine__epochs": 6, "refine__batch_size": 16, "refine__lr": 1e-3,
              "refine__new_params_lr_mult": 10.0, "align__objective": "none", "embedder__target_seq_len": 8,
              "device": "cpu", "metric": "relative_l2"}

    def val_error(model: CrossModalRegressor) -> float:
        return model.result_["metrics"]["val"]["relative_l2"]

    plain = CrossModalRegressor(tiny_body("bert"), **params).fit(X, y)
    skip = CrossModalRegressor(tiny_body("bert"), predictor__skip_modes=8, **params).fit(X, y)
    assert val_error(skip) < 0.3 * val_error(plain), (val_error(skip), val_error(plain))
    again = CrossModalRegressor.load(skip.save(tmp_path / "skip.safetensors"), body=tiny_body("bert"))
    assert again.get_params()["predictor__skip_modes"] == 8
    np.testing.assert_allclose(again.predict(X), skip.predict(X), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("task", [Task("c", (2, 40), "classification", (3,)), Task("r", (7,), "regression", (1,)),
                                  Task("d", (1, 40), "dense", (1, 20)), Task("i", (1, 8, 8), "dense", (1, 8, 6))],
                         ids=["classification", "regression", "other-length", "other-grid"])
def test_the_skip_is_refused_where_the_output_is_not_on_the_input_grid(task) -> None:
    with pytest.raises(ConfigError, match=r"predictor.skip_modes=4 .* needs a dense output on the input's grid"):
        build_predictor(task, 16, 8, (2, 2) if len(task.output_shape) == 3 else None, PredictorConfig(skip_modes=4))


@pytest.mark.parametrize("bad", [-1, True, 2.5, "8"])
def test_skip_modes_must_be_a_count(bad) -> None:
    with pytest.raises(ConfigError, match=r"predictor.skip_modes=.*expected (0 \(none\) or a positive|int)"):
        OrcaConfig().with_overrides({"predictor.skip_modes": bad})


@pytest.mark.parametrize("space", [(24,), (12, 10)])
def test_least_squares_recovers_a_linear_operator_on_the_low_band(space) -> None:
    """Targets made by a known random skip with a bias field (2 channels in, 3 out): the ridge least-squares fit
    recovers the affine operator (the same outputs on fresh inputs; weights that act on nothing, such as the
    imaginary part of the constant mode, cannot be recovered and need not be), and in 1D its weights match
    numpy's complex ``lstsq`` on numpy's FFT modes of the centred fields, mode by mode."""
    torch.manual_seed(0)
    true = SpectralSkip(2, 3, space, modes=4)
    with torch.no_grad():
        true.weight.normal_()
        true.bias.normal_()
        if len(space) == 2:  # random weights on the last axis' zero frequency are not Hermitian across the first
            true.weight[..., 0, :] = 0.0  # axis' signs, and the inverse FFT would fold them onto unkept modes
    X = np.random.default_rng(1).normal(size=(64, 2, *space)).astype(np.float32)
    y = true(torch.from_numpy(X)).detach().numpy()
    fitted = SpectralSkip(2, 3, space, modes=4)
    fitted.fit_least_squares(X, y, ridge=1e-8)
    fresh = torch.randn(8, 2, *space)
    torch.testing.assert_close(fitted(fresh), true(fresh), atol=1e-4, rtol=1e-4)
    assert not torch.allclose(SpectralSkip(2, 3, space, modes=3)(fresh), true(fresh), atol=1e-2)  # not trivial
    if len(space) == 1:
        xf = np.fft.rfft(X - X.mean(0), norm="ortho")[..., :4]  # (N, 2, 4)
        yf = np.fft.rfft(y - y.mean(0), norm="ortho")[..., :4]  # (N, 3, 4)
        for k in range(4):
            w_k = np.linalg.lstsq(xf[..., k], yf[..., k], rcond=None)[0]  # (2, 3)
            np.testing.assert_allclose(torch.view_as_complex(fitted.weight)[..., k].detach().numpy(), w_k,
                                       atol=1e-4)
