"""Shared fixtures: seeds, tiny random Hugging Face bodies of every supported family, markers."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never reach for the hub; the fail-fast test sets its own env
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", default=False, help="run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--runslow") or os.environ.get("ORCA_RUNSLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow or ORCA_RUNSLOW=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)
    np.random.seed(0)


def tiny_hf_model(family: str) -> torch.nn.Module:
    """A randomly initialised 2-layer model of ``family`` (bert, roberta, dinov2, swin), width 32."""
    from transformers import (
        BertConfig,
        BertModel,
        Dinov2Config,
        Dinov2Model,
        RobertaConfig,
        RobertaModel,
        SwinConfig,
        SwinModel,
    )

    common = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)
    if family == "bert":
        return BertModel(BertConfig(vocab_size=50, max_position_embeddings=128, **common))
    if family == "roberta":
        return RobertaModel(RobertaConfig(vocab_size=50, max_position_embeddings=130, pad_token_id=1, **common))
    if family == "dinov2":
        return Dinov2Model(Dinov2Config(image_size=32, patch_size=4, num_hidden_layers=2, hidden_size=32,
                                        num_attention_heads=2, mlp_ratio=2))
    if family == "swin":
        return SwinModel(SwinConfig(image_size=32, patch_size=4, embed_dim=16, depths=[1, 1], num_heads=[2, 2],
                                    window_size=2))
    raise ValueError(family)


@pytest.fixture
def tiny_body():
    """Factory: ``tiny_body("bert")`` -> a fresh :class:`orca.Body` around a tiny random model."""
    from orca.bodies import Body

    def make(family: str = "bert") -> Body:
        torch.manual_seed(0)
        return Body(tiny_hf_model(family), name=f"tiny-{family}")

    return make


@pytest.fixture(scope="session")
def minilm_body():
    """The real all-MiniLM-L6-v2 body (offline package); loaded once per session, copied per use."""
    from orca.bodies import load_body

    return load_body("minilm")


def config_schedule() -> dict:
    """Facade parameters that set the keys where the estimators' defaults (:mod:`orca.defaults`) differ from
    ``OrcaConfig()`` back to ``OrcaConfig()``'s values: for tests that fit for a few epochs on purpose (the
    small-data schedule would raise them to hundreds of steps)."""
    from orca.config import OrcaConfig, flatten
    from orca.defaults import FACADE_DEFAULTS

    base = flatten(OrcaConfig().to_dict())
    return {key.replace(".", "__"): base[key] for key in FACADE_DEFAULTS}


def config_schedule_sets() -> list[str]:
    """:func:`config_schedule` as ``orca fit --set`` arguments."""
    return [a for name, value in config_schedule().items()
            for a in ("--set", f"{name.replace('__', '.')}={value!r}")]


def kill_fit_at(monkeypatch: pytest.MonkeyPatch, n: int) -> None:
    """Make ``CrossModalClassifier.fit`` raise ``KeyboardInterrupt`` on its ``n``-th call from now on, as when the
    runner is stopped in a search's ``n``-th trial; ``monkeypatch.undo()`` or setting ``fit`` back ends it."""
    from orca import CrossModalClassifier

    original, calls = CrossModalClassifier.fit, []

    def dies(self, *a, **k):
        calls.append(1)
        if len(calls) == n:
            raise KeyboardInterrupt  # the runner stopped mid-trial
        return original(self, *a, **k)

    monkeypatch.setattr(CrossModalClassifier, "fit", dies)


def tiny_table_job(tmp_path, n: int = 150) -> tuple:
    """A tiny random BERT saved under ``tmp_path`` and a three-class table job for it: ``n`` rows of 5 columns, each
    class shifted along its own axis, the last 40 rows the test part. Returns ``(body folder, TaskData)``."""
    from benchmarks.runner.suite import TaskData
    from orca import Task

    torch.manual_seed(0)
    folder = tmp_path / "tiny-bert"
    tiny_hf_model("bert").save_pretrained(folder)
    rng = np.random.default_rng(1)
    y = np.arange(n) % 3
    X = rng.normal(size=(n, 5)) + 0.8 * np.eye(5)[y]  # three classes, each shifted along its own axis
    cut = n - 40
    return folder, TaskData(Task("t", (5,), "classification", (3,), metric="roc_auc"), X[:cut], y[:cut], X[cut:],
                            y[cut:], data={"categorical": []})
