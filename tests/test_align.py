"""Stage 2: objectives behave as distances, and the align loop moves only the embedder."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from orca import OrcaConfig, SourceFeatures, Task, align, build
from orca.config import AlignConfig
from orca.exceptions import ConfigError, DataError


def _setup(tiny_body):
    task = Task("t", (2, 24), "classification", (3,))
    model = build(task, OrcaConfig().with_overrides({"embedder.target_seq_len": 8}), tiny_body("bert"))
    X = np.random.default_rng(0).normal(size=(64, 2, 24)).astype(np.float32)
    y = np.arange(64) % 3
    source = SourceFeatures(torch.randn(200, model.body.d_in) * 0.5 + 1.0, torch.arange(200) % 4)
    return model, X, y, source


@pytest.mark.parametrize("objective", ["mmd", "otdd-gaussian", "otdd-exact", "otdd-paper"])
def test_align_changes_only_the_embedder_and_lowers_the_distance(tiny_body, objective) -> None:
    model, X, y, source = _setup(tiny_body)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    report = align(model, X, y, source, AlignConfig(objective=objective, steps=40, lr=1e-2, batch_size=32,
                                                    patience=None, source_samples=128))
    after = model.state_dict()
    for key, value in before.items():
        if key.startswith("embedder."):
            continue
        assert torch.equal(value, after[key]), f"{key} changed during align"
    assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith("embedder."))
    assert report.steps == 40 and len(report.curve) == 40
    assert np.mean(report.curve[-5:]) < 0.5 * np.mean(report.curve[:5])


def test_objective_none_skips_the_stage(tiny_body) -> None:
    model, X, y, source = _setup(tiny_body)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    report = align(model, X, y, None, AlignConfig(objective="none"))
    assert report.steps == 0 and all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_align_bad_inputs(tiny_body) -> None:
    model, X, y, source = _setup(tiny_body)
    with pytest.raises(ConfigError, match="did you mean 'otdd-exact'.*expected one of"):  # at construction
        AlignConfig(objective="otdd-exct")
    with pytest.raises(DataError, match="needs source features"):
        align(model, X, y, None, AlignConfig(objective="mmd"))
    narrow = SourceFeatures(torch.randn(10, 5), torch.zeros(10, dtype=torch.long))
    with pytest.raises(DataError, match="width 5"):
        align(model, X, y, narrow, AlignConfig(objective="mmd"))
    with pytest.raises(DataError, match="NaN"):
        SourceFeatures(torch.full((4, 3), float("nan")), torch.zeros(4))
    with pytest.raises(DataError, match="stage-2 labels"):
        align(model, X, y[:10], source, AlignConfig(objective="mmd"))
    lonely = y.copy()
    lonely[0] = 7  # a class with a single sample is left out of stage 2, as the paper's code does
    report = align(model, X, lonely, source, AlignConfig(objective="otdd-gaussian", steps=2))
    assert report.dropped_classes == [7] and report.steps == 2 and np.isfinite(report.curve).all()
    with pytest.raises(DataError, match="a class with at least 2 training samples"):
        align(model, X[:3], np.arange(3), source, AlignConfig(objective="otdd-gaussian"))


def test_a_second_align_loads_the_objective_setup(tiny_body, tmp_path) -> None:
    """With cached source features, the objective's set-up is stored beside them and the next fit loads it."""
    model, X, y, source = _setup(tiny_body)
    (tmp_path / "source").mkdir()
    source.cache_path = str(tmp_path / "source" / "features.pt")
    cfg = AlignConfig(objective="otdd-exact", steps=2, lr=1e-3, batch_size=32, patience=None, source_samples=128)
    first = align(model, X, y, source, cfg)
    second = align(model, X, y, source, cfg)
    assert first.source["objective_setup_cache"] == "miss" and second.source["objective_setup_cache"] == "hit"
    assert len(list((tmp_path / "objective").iterdir())) == 1
    source.cache_path = None  # features passed in directly: nothing written
    assert align(model, X, y, source, cfg).source["objective_setup_cache"] == "off"
