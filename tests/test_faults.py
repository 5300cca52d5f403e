"""Fault tolerance of the runner: a job killed with SIGKILL mid-training resumes from its last checkpoint and
ends with the same result as an uninterrupted run; nothing is lost, duplicated or left half-written."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("h5py")

ROOT = Path(__file__).parent.parent
SETS = ["data.n_samples=30", "data.nx_1d=32", "protocol.resolution_1d=32", "method_params.orca.align.steps=2",
        "method_params.orca.refine.epochs=5", "method_params.fno.epochs_1d=2"]


def _args(results: Path) -> list[str]:
    args = ["pdebench", "--preset", "smoke", "--tasks", "advection", "--methods", "fno", "orca",
            "--results", str(results), "--checkpoint-every", "0"]
    for item in SETS:
        args += ["--set", item]
    return args


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_sigkill_mid_training_then_resume(tmp_path, monkeypatch) -> None:
    from benchmarks.run import main

    monkeypatch.setenv("ORCA_PDEBENCH_ROOT", str(tmp_path / "pde"))
    env = {**os.environ, "ORCA_PDEBENCH_ROOT": str(tmp_path / "pde")}
    killed = tmp_path / "killed"
    runs = killed / "pdebench" / "smoke" / "runs"
    ckpt = killed / "pdebench" / "smoke" / "checkpoints" / "advection--orca--s0" / "last.pt"
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.run", *_args(killed)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 600
    while not ckpt.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert ckpt.exists(), "the ORCA job never wrote a checkpoint"
    os.kill(proc.pid, signal.SIGKILL)  # mid-training: after the first epoch's checkpoint
    proc.wait()
    assert sorted(p.name for p in runs.glob("*.json")) == ["advection--fno--s0.json"]  # the finished job only
    fno_before = (runs / "advection--fno--s0.json").read_text()

    assert main(_args(killed) + ["--resume"]) == 0
    assert (runs / "advection--fno--s0.json").read_text() == fno_before  # finished work is not redone
    resumed = json.loads((runs / "advection--orca--s0.json").read_text())
    assert resumed["status"] == "ok" and not ckpt.parent.exists()  # checkpoints go once the result is written
    assert not list(runs.glob(".*.tmp")) and len(list(runs.glob("*.json"))) == 2

    clean = tmp_path / "clean"
    assert main(_args(clean)) == 0
    straight = json.loads((clean / "pdebench" / "smoke" / "runs" / "advection--orca--s0.json").read_text())
    assert resumed["metrics"]["test"] == pytest.approx(straight["metrics"]["test"], rel=1e-5)
    # the killed process's training up to its checkpoint counts in the job's cost; a straight run has none
    assert resumed["training"]["resumed_s"] > 0 and straight["training"]["resumed_s"] == 0.0
    assert resumed["wall_time_s"] > resumed["training"]["resumed_s"]
    assert resumed["refine"]["best_epoch"] == straight["refine"]["best_epoch"]


def test_stale_temporaries_are_cleared_and_a_corrupt_result_is_redone(tmp_path, monkeypatch) -> None:
    from benchmarks.run import run

    monkeypatch.setenv("ORCA_PDEBENCH_ROOT", str(tmp_path / "pde"))
    overrides = {"data": {"n_samples": 30, "nx_1d": 32}, "protocol": {"resolution_1d": 32},
                 "method_params": {"fno": {"epochs_1d": 1}}}
    paths = run("pdebench", "smoke", tasks=["advection"], methods=["fno"], overrides=overrides, results=tmp_path)
    runs = paths[0].parent
    (runs / ".advection--fno--s0.json.x1.tmp").write_text("{half")  # what a SIGKILL during a write leaves
    paths[0].write_text('{"status": "ok", "config_ha')  # and a result damaged outside the runner
    run("pdebench", "smoke", tasks=["advection"], methods=["fno"], overrides=overrides, results=tmp_path)
    assert not list(runs.glob(".*.tmp")) and json.loads(paths[0].read_text())["status"] == "ok"
