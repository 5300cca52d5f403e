"""``./reproduce.sh SUITE``: every registered suite is a command (the README names ``./reproduce.sh smallseries
--preset study``), and an unknown one fails with the valid names."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _script(*args: str) -> subprocess.CompletedProcess:
    if not (Path(sys.prefix) / ".orca-setup-stamp").is_file():
        pytest.skip("needs the environment ./reproduce.sh setup made (its stamp), to run the script without set-up")
    env = {**os.environ, "ORCA_VENV": sys.prefix}
    return subprocess.run(["bash", str(ROOT / "reproduce.sh"), *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize("suite", ["smallseries", "smallregression"])
def test_each_suite_is_a_command_of_the_script(suite) -> None:
    out = _script(suite, "--preset", "smoke", "--dry-run")
    assert out.returncode == 0, out.stderr
    assert "jobs:" in out.stdout and "to run" in out.stdout


def test_an_unknown_command_names_the_suites() -> None:
    out = _script("smallserie")
    assert out.returncode == 2
    assert "unknown command 'smallserie'" in out.stderr and "smallseries smalltables" in out.stderr
