"""``refine.augment = "series"``: label-preserving transforms of training series, reproducible, refused where
they do not apply."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from orca import CrossModalClassifier, CrossModalRegressor, Task
from orca.augment import JITTER, SCALE, WINDOW, augment_series, check_augment, epoch_generator
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
