"""Source features: the offline recipes build without network, through the body's own embedding layer, and
are cached."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from orca.exceptions import ConfigError
from orca.source import _balanced, pydoc_topic_sentences, source_features


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ORCA_CACHE", str(tmp_path / "cache"))


def test_pydoc_topics_are_labelled_english_sentences() -> None:
    texts, labels = pydoc_topic_sentences()
    assert len(set(labels.tolist())) == 10 and len(texts) > 1500
    assert all(len(t.split()) >= 5 for t in texts)
    idx = _balanced(labels, 200, seed=0)
    assert len(idx) == 200 and np.bincount(labels[idx]).tolist() == [20] * 10


def test_text_source_through_minilm_is_cached(minilm_body) -> None:
    first = source_features(minilm_body, "auto", n_samples=120, seed=0)
    assert first.recipe == "pydoc-topics" and not first.from_cache
    assert first.features.shape == (120, 384) and torch.isfinite(first.features).all()
    assert first.labels.unique().numel() == 10
    second = source_features(minilm_body, "auto", n_samples=120, seed=0)
    assert second.from_cache and torch.equal(first.features, second.features)
    # the features are the body's own embedding layer's token means: a sentence's feature is not random
    assert float(first.features.norm(dim=1).std()) < float(first.features.norm(dim=1).mean())


def test_image_source_through_a_vision_body(tiny_body) -> None:
    body = tiny_body("dinov2")
    feats = source_features(body, "auto", n_samples=30, seed=1)
    assert feats.recipe == "skimage-crops" and feats.features.shape == (30, body.d_in)
    assert feats.labels.tolist() == [i % 10 for i in range(30)]
    assert source_features(body, "auto", n_samples=30, seed=1).from_cache


def test_recipe_errors(tiny_body) -> None:
    with pytest.raises(ConfigError, match="expected one of"):
        source_features(tiny_body("dinov2"), "imagenet")
    with pytest.raises(ConfigError, match="for text bodies"):
        source_features(tiny_body("dinov2"), "pydoc-topics")
