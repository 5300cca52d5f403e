"""Config round trip and strictness; registry lookups and their errors."""

from __future__ import annotations

import json

import pytest

import orca
from orca import OrcaConfig
from orca.exceptions import ConfigError, UnknownNameError
from orca.registry import available, get, register


def test_json_round_trip(tmp_path) -> None:
    cfg = OrcaConfig().with_overrides(["refine.lr=3e-4", "embedder.tabular_mode=paper", "body.dropout=0.2",
                                       "refine.patience=None", "align.objective=mmd"])
    path = cfg.save(tmp_path / "cfg.json")
    again = OrcaConfig.load(path)
    assert again == cfg
    assert again.refine.lr == 3e-4 and again.embedder.tabular_mode == "paper" and again.refine.patience is None
    assert json.loads(path.read_text())["align"]["objective"] == "mmd"


def test_unknown_key_is_rejected_with_a_suggestion() -> None:
    with pytest.raises(ConfigError, match=r"unknown config key 'refine.lrr' \(did you mean 'lr'\?\)"):
        OrcaConfig.from_dict({"refine": {"lrr": 1e-3}})
    with pytest.raises(ConfigError, match="unknown config key 'refin'"):
        OrcaConfig().with_overrides(["refin.lr=1"])


def test_wrong_types_and_ranges_are_rejected() -> None:
    with pytest.raises(ConfigError, match="expected int"):
        OrcaConfig.from_dict({"refine": {"epochs": "ten"}})
    with pytest.raises(ConfigError, match="is a bool"):
        OrcaConfig.from_dict({"refine": {"epochs": True}})
    with pytest.raises(ConfigError, match="expected one of"):
        OrcaConfig.from_dict({"refine": {"schedule": "exponential"}})
    with pytest.raises(ConfigError, match="val_fraction"):
        OrcaConfig.from_dict({"refine": {"val_fraction": 0.0}})
    with pytest.raises(ConfigError, match="section.key=value"):
        OrcaConfig().with_overrides(["refine.lr"])


def test_int_is_accepted_for_float() -> None:
    assert OrcaConfig.from_dict({"refine": {"lr": 1}}).refine.lr == 1.0


def test_registry_lists_components() -> None:
    assert {"minilm", "roberta-base", "swin-base", "dinov2-small-offline"} <= set(available("body"))
    assert available("embedder") == ["image", "sequence", "tabular-paper", "tabular-tokenizer"]
    assert available("predictor") == ["dense1d", "dense2d", "pooled"]
    assert {"none", "mmd"} <= set(available("objective"))
    assert orca.available("metric") == available("metric")


def test_unknown_names_list_the_valid_ones() -> None:
    with pytest.raises(UnknownNameError, match=r"unknown objective 'otdd-exct'.*expected one of \["):
        get("objective", "otdd-exct")
    with pytest.raises(UnknownNameError, match="did you mean 'accuracy'"):
        get("metric", "acuracy")
    with pytest.raises(UnknownNameError, match="unknown task 'no-such-task'"):
        get("task", "no-such-task")
    with pytest.raises(UnknownNameError, match="unknown registry kind"):
        available("widgets")


def test_duplicate_registration_is_an_error() -> None:
    with pytest.raises(KeyError, match="already registered"):
        register("metric", "accuracy")(object())
