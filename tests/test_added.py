"""Settings added later (orca.added): left out of job hashes and checkpoint fingerprints at their old values."""

from __future__ import annotations

import dataclasses

import pytest

from orca.added import ADDED, drop_added
from orca.config import OrcaConfig, RefineConfig
from orca.refine import _config_hash
from orca.tasks import Task

TASK = Task("t", (3, 32), "classification", (2,))


def _extra(config: OrcaConfig) -> dict:
    return {"body": config.body.__dict__, "embedder": config.embedder.__dict__,
            "predictor": config.predictor.__dict__, "align": config.align.__dict__, "seed": config.seed}


def test_checkpoint_fingerprints_are_those_written_before_the_later_settings() -> None:
    """Values computed by the code before the list existed (commit 0fa7a98): checkpoints it wrote still resume."""
    assert _config_hash(RefineConfig(), TASK, _extra(OrcaConfig()), "d") == "e5b9fbebc50d2130"
    assert _config_hash(RefineConfig(), TASK, None, "d") == "36740de078574729"


@pytest.mark.parametrize("change", [{"refine": {"augment": "series"}}, {"predictor": {"smooth": 3}},
                                    {"predictor": {"skip_modes": 12}},
                                    {"refine": {"select_on": "loss"}}, {"refine": {"momentum": 0.5}}])
def test_a_later_setting_away_from_its_old_value_is_another_fingerprint(change: dict) -> None:
    changed = OrcaConfig.from_dict(change)
    base = _config_hash(RefineConfig(), TASK, _extra(OrcaConfig()), "d")
    assert _config_hash(changed.refine, TASK, _extra(changed), "d") != base


def test_scopes() -> None:
    tree = {"refine": {"momentum": 0.9, "augment": "none", "lr": 1e-4}, "predictor": {"smooth": 0, "kind": "x"}}
    assert drop_added(tree, "results") == {"refine": {"lr": 1e-4}, "predictor": {"kind": "x"}}
    # momentum was in every checkpoint fingerprint before the list: it stays there
    assert drop_added(tree, "checkpoints") == {"refine": {"momentum": 0.9, "lr": 1e-4}, "predictor": {"kind": "x"}}
    assert tree["refine"]["augment"] == "none"  # the input is not changed
    assert drop_added({"refine": {"momentum": 0.5}}, "results") == {"refine": {"momentum": 0.5}}
    assert drop_added({"seed": 0}, "results") == {"seed": 0}  # sections it lacks are skipped
    with pytest.raises(ValueError, match="expected one of"):
        drop_added(tree, "jobs")


def test_every_entry_names_a_config_setting() -> None:
    sections = {f.name: f for f in dataclasses.fields(OrcaConfig)}
    for entry in ADDED:
        section, leaf = entry.key.split(".")
        assert leaf in {f.name for f in dataclasses.fields(sections[section].default_factory())}, entry.key
