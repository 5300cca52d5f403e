"""``refine.augment``: ``"series"``, label-preserving transforms of training series, and ``"dihedral"``, the
symmetries of the square on pairs of 2D fields; reproducible, refused where they do not apply."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import config_schedule

from orca import CrossModalClassifier, CrossModalRegressor, Task
from orca.augment import (
    JITTER,
    SCALE,
    WINDOW,
    augment_dihedral,
    augment_series,
    check_augment,
    dihedral,
    epoch_generator,
)
from orca.exceptions import ConfigError


def test_a_ramp_stays_a_ramp_and_the_draws_replay() -> None:
    """A linear ramp, window-sliced and stretched back, is still linear: its slope shrinks to WINDOW of the
    original times the amplitude factor (about 1 +/- SCALE); jitter is relative to the series' own spread, so a
    constant series is only rescaled. The same (seed, epoch) draws the same batch, another epoch another one."""
    length = 101
    ramp = torch.linspace(0.0, 1.0, length).repeat(64, 1, 1)  # (64, 1, L)
    out = augment_series(ramp, epoch_generator(3, 0))
    assert out.shape == ramp.shape
    slope = (out[..., -1] - out[..., 0]).squeeze(1)  # the ramp's rise over the whole length, per sample
    expected = round(WINDOW * length - 1) / (length - 1)
    assert abs(float(slope.mean()) - expected) < 3 * SCALE * expected / 8
    assert 0.6 * SCALE * expected < float(slope.std()) < 1.4 * SCALE * expected  # the amplitude factor's spread
    residual = out - out[..., :1] - slope[:, None, None] * torch.linspace(0.0, 1.0, length)  # what is not linear
    assert float(residual.std()) < 3 * JITTER * float(ramp.std(dim=2).mean())
    flat = torch.full((8, 2, 30), 5.0)
    assert torch.allclose(augment_series(flat, epoch_generator(0, 0)).std(dim=2), torch.zeros(8, 2), atol=1e-5)
    assert torch.equal(augment_series(ramp, epoch_generator(3, 0)), out)
    assert not torch.equal(augment_series(ramp, epoch_generator(3, 1)), out)


def test_augment_is_refused_where_it_does_not_apply() -> None:
    for task in (Task("table", (8,), "classification", (2,)), Task("reg", (1, 20), "regression", (1,)),
                 Task("field", (1, 20), "dense", (1, 20))):
        with pytest.raises(ConfigError, match="applies to classification of sequences"):
            check_augment("series", task)
    check_augment("series", Task("ucr", (1, 20), "classification", (3,)))
    check_augment("none", Task("table", (8,), "classification", (2,)))


def test_a_classifier_trains_on_augmented_series_reproducibly(tiny_body) -> None:
    """Two fits with the same seed give the same model; the augmented fit differs from the plain one (it saw
    other inputs); a regressor is refused before any stage runs."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(36, 1, 24)).astype(np.float32) + (np.arange(36) % 3)[:, None, None]
    y = np.arange(36) % 3
    fast = {"align__objective": "none", "refine__epochs": 2, "refine__batch_size": 8, "device": "cpu", "verbose": False,
            "embedder__target_seq_len": 8}
    fits = [CrossModalClassifier(tiny_body("bert"), refine__augment=a, **fast).fit(X, y) for a in ("series", "series",
                                                                                                   "none")]
    p = [f.predict_proba(X) for f in fits]
    np.testing.assert_array_equal(p[0], p[1])
    assert not np.allclose(p[0], p[2])
    with pytest.raises(ConfigError, match="applies to classification of sequences"):
        CrossModalRegressor(tiny_body("bert"), refine__augment="series", **fast).fit(X, y.astype(float))


def _neumann_heat(field: np.ndarray) -> np.ndarray:
    """The generator's exact no-flux heat step (PDEBench's 2D diffusion-reaction walls): a map the symmetries of
    the square commute with, computed by scipy's DCT, not by the code under test."""
    from benchmarks.suites.pdebench.generators.planar import neumann_heat

    return neumann_heat(field, 0.02, 1.0 / field.shape[-1])


def test_the_eight_symmetries_are_numpys_and_pairs_stay_pairs() -> None:
    """The 8 elements are exactly numpy's rotations and reflected rotations of the square; a batch of (input,
    heat step of the input) pairs is still such pairs after augmentation (the same element on both sides, drawn
    per sample: a batch shows several elements), and the draws replay for the same (seed, epoch)."""
    rng = np.random.default_rng(0)
    field = rng.normal(size=(2, 7, 7))  # (C, N, N)
    ours = {dihedral(torch.from_numpy(field), e).numpy().tobytes() for e in range(8)}
    numpys = {np.ascontiguousarray(np.rot90(f, k, axes=(-2, -1))).tobytes()
              for f in (field, field[..., ::-1]) for k in range(4)}
    assert ours == numpys and len(ours) == 8

    x = torch.from_numpy(rng.normal(size=(16, 2, 12, 12)))  # (B, C, N, N)
    y = torch.from_numpy(_neumann_heat(x.numpy()))  # (B, C, N, N): an equivariant map of x
    xa, ya = augment_dihedral(x, y, epoch_generator(1, 0))
    np.testing.assert_allclose(ya.numpy(), _neumann_heat(xa.numpy()), atol=1e-12)
    moved = [not torch.equal(xa[i], x[i]) for i in range(len(x))]
    assert 0 < sum(moved) < len(x)  # per sample: some kept (the identity), most moved
    again = augment_dihedral(x, y, epoch_generator(1, 0))
    assert torch.equal(again[0], xa) and torch.equal(again[1], ya)
    assert not torch.equal(augment_dihedral(x, y, epoch_generator(1, 1))[0], xa)


@pytest.mark.parametrize("task", [Task("rect", (1, 8, 6), "dense", (1, 8, 6)), Task("1d", (1, 20), "dense", (1, 20)),
                                  Task("other-grid", (1, 8, 8), "dense", (1, 4, 4)),
                                  Task("image", (3, 8, 8), "classification", (10,))])
def test_dihedral_is_refused_off_square_fields_on_one_grid(task) -> None:
    with pytest.raises(ConfigError, match="applies to square 2D fields mapped to fields on the same grid"):
        check_augment("dihedral", task)


def test_refine_moves_input_and_target_together(tiny_body) -> None:
    """The identity map on band-limited 8 x 8 fields is equivariant, so on consistently augmented pairs the
    model that starts at it (the spectral skip's least-squares warm start keeps every mode here) has near-zero
    training loss in every epoch; had refine moved the inputs alone, the loss would be of the order of the
    fields' variance. With a non-square grid the facade refuses before any stage runs."""
    rng = np.random.default_rng(0)
    grid = np.arange(8) / 8
    waves = [np.cos(2 * np.pi * (a * grid[:, None] + b * grid[None, :]) + rng.uniform(0, 6.3, size=(48, 1, 1, 1)))
             for a in range(-2, 3) for b in range(3)]
    X = sum(rng.normal(size=(48, 1, 1, 1)) * w for w in waves).astype(np.float32)  # (48, 1, 8, 8)
    params = {**config_schedule(), "refine__epochs": 2, "refine__batch_size": 8, "refine__lr": 1e-9,
              "align__objective": "none", "embedder__target_seq_len": 4, "device": "cpu", "verbose": False,
              "predictor__skip_modes": 4}
    fits = {a: CrossModalRegressor(tiny_body("bert"), refine__augment=a, **params).fit(X, X)
            for a in ("dihedral", "none")}
    for fit in fits.values():
        assert max(h["train_loss"] for h in fit.history_) < 1e-3, fit.history_
    rect = rng.normal(size=(16, 1, 8, 6)).astype(np.float32)
    with pytest.raises(ConfigError, match="applies to square 2D fields"):
        CrossModalRegressor(tiny_body("bert"), refine__augment="dihedral", **params).fit(rect, rect)
