"""./reproduce.sh's comparison of committed results with re-computed ones: a changed number is a ✗."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.reports.compare import compare, main, save_references, table, tolerance_of


def _write(root: Path, suite: str, job: str, value: float | None, status: str = "ok", cpu: str | None = None,
           dirty: bool = False, config_hash: str = "h1") -> None:
    runs = root / suite / "smoke" / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    record = {"status": status, "metric": "nrmse", "error": None if status == "ok" else "boom",
              "metrics": {"test": {} if value is None else {"nrmse": value}}, "config_hash": config_hash,
              "environment": {"cpu_capability": cpu, "cuda": None, "git": {"commit": "abc", "dirty": dirty}}}
    (runs / f"{job}.json").write_text(json.dumps(record))


def test_a_changed_number_fails_and_names_the_job(tmp_path, capsys) -> None:
    committed, fresh = tmp_path / "results", tmp_path / "fresh"
    tol = tolerance_of("pdebench")
    assert tol > 0
    _write(committed, "pdebench", "advection--fno--s0", 0.5)
    _write(committed, "pdebench", "burgers--fno--s0", 0.2)
    _write(fresh, "pdebench", "advection--fno--s0", 0.5 * (1 + tol / 2))  # within tolerance
    _write(fresh, "pdebench", "burgers--fno--s0", 0.2)
    assert main(["--fresh", str(fresh), "--committed", str(committed)]) == 0
    assert "2 of 2 committed results reproduced" in capsys.readouterr().out
    _write(fresh, "pdebench", "burgers--fno--s0", 0.2 * (1 + 3 * tol))  # deliberately changed
    rows = compare(committed, fresh)
    assert [r.ok for r in rows] == [True, False] and rows[1].why.startswith("moved")
    assert main(["--fresh", str(fresh), "--committed", str(committed)]) == 1
    out = capsys.readouterr().out
    assert "✗ moved" in out and "inspect: pdebench/burgers--fno--s0" in out


def test_a_move_on_another_processor_kind_passes_only_against_a_reference_of_that_kind(tmp_path, capsys) -> None:
    """Committed on an unrecorded CPU, re-computed on AVX2 and moved by 20 %: a ✗ naming both kinds. Saving the
    AVX2 run as a reference makes the next AVX2 run that matches it a ✓ (said so), while a run on AVX512, one
    that moves away from the AVX2 reference, and a reference of other settings still fail; a dirty tree's run or
    a move on the committed result's own kind is never saved as a reference."""
    committed, fresh = tmp_path / "results", tmp_path / "fresh"
    _write(committed, "nasbench360", "fashion-proxy--cnn--s0", 26.6)
    _write(committed, "nasbench360", "splice-proxy--floor--s0", 47.8)
    _write(fresh, "nasbench360", "fashion-proxy--cnn--s0", 32.2, cpu="AVX2")
    _write(fresh, "nasbench360", "splice-proxy--floor--s0", 47.8, cpu="AVX2")
    rows = compare(committed, fresh)
    assert [r.ok for r in rows] == [False, True]
    assert rows[0].why == "moved 21.05% (committed on unrecorded, re-computed on AVX2; no AVX2 reference)"
    _write(fresh, "nasbench360", "fashion-proxy--cnn--s0", 32.2, cpu="AVX2", dirty=True)
    assert main(["--fresh", str(fresh), "--committed", str(committed), "--save-references"]) == 1
    refs = committed / "nasbench360" / "smoke" / "references"
    assert not refs.exists()  # a dirty tree's run is not a reference
    _write(fresh, "nasbench360", "fashion-proxy--cnn--s0", 32.2, cpu="AVX2")
    assert main(["--fresh", str(fresh), "--committed", str(committed), "--save-references"]) == 1
    assert "reference written:" in capsys.readouterr().out
    assert sorted(p.name for p in (refs / "AVX2").iterdir()) == ["fashion-proxy--cnn--s0.json"]  # the mover only
    assert main(["--fresh", str(fresh), "--committed", str(committed)]) == 0
    out = capsys.readouterr().out
    assert "✓ (AVX2 reference)" in out and "2 of 2 committed results reproduced within tolerance (1 of them" in out
    _write(fresh, "nasbench360", "fashion-proxy--cnn--s0", 29.0, cpu="AVX2")  # moved from both
    assert compare(committed, fresh)[0].why == "moved 9.02%, and 9.94% from the AVX2 reference"
    _write(fresh, "nasbench360", "fashion-proxy--cnn--s0", 32.2, cpu="AVX512")  # no AVX512 reference
    assert compare(committed, fresh)[0].ok is False
    _write(committed, "nasbench360", "fashion-proxy--cnn--s0", 26.6, config_hash="h2")  # the settings changed
    _write(fresh, "nasbench360", "fashion-proxy--cnn--s0", 32.2, cpu="AVX2", config_hash="h2")
    assert compare(committed, fresh)[0].ok is False  # the old reference is of other settings
    _write(committed, "pdebench", "advection--fno--s0", 0.5, cpu="AVX2")
    _write(fresh, "pdebench", "advection--fno--s0", 0.6, cpu="AVX2")  # moved on its own kind: a change
    rows = compare(committed, fresh, suites=["pdebench"])
    assert rows[0].why == "moved 20.00%"
    assert save_references(rows, fresh, committed) == []


def test_missing_and_failed_re_runs_are_failures(tmp_path) -> None:
    committed, fresh = tmp_path / "results", tmp_path / "fresh"
    _write(committed, "openml", "11--orca--s0", 0.9)
    _write(committed, "openml", "37--orca--s0", 0.8)
    _write(committed, "openml", "54--orca--s0", None, status="failed")  # not a committed number: not compared
    _write(fresh, "openml", "37--orca--s0", None, status="failed")
    rows = compare(committed, fresh)
    assert [(r.job, r.ok) for r in rows] == [("11--orca--s0", False), ("37--orca--s0", False)]
    assert rows[0].why == "not re-run" and rows[1].why.startswith("re-run failed")
    assert "0 of 2" in table(rows)


def test_a_suite_without_its_data_is_skipped_with_one_line_and_fails_nothing(tmp_path, monkeypatch, capsys) -> None:
    """The OpenML smoke preset reads a local mirror; in a clone without it the runner skips the suite (exit 0),
    leaves a SKIPPED marker, the report says so, and the comparison counts it as not checked, not as a failure."""
    from benchmarks.report import main as report_main
    from benchmarks.run import main as run_main

    monkeypatch.setenv("ORCA_OPENML_MIRROR", str(tmp_path / "no-mirror"))
    fresh = tmp_path / "fresh"
    assert run_main(["openml", "--preset", "smoke", "--results", str(fresh)]) == 0
    out = capsys.readouterr().out
    assert "openml (smoke): skipped: the OpenML mirror" in out and "data.source=openml" in out
    assert (fresh / "openml" / "smoke" / "SKIPPED").is_file()
    assert report_main(["openml", "--preset", "smoke", "--results", str(fresh)]) == 0
    assert "no report: the run was skipped" in capsys.readouterr().out
    committed = tmp_path / "results"
    _write(committed, "openml", "11--orca--s0", 0.9)
    _write(committed, "pdebench", "advection--fno--s0", 0.5)
    _write(fresh, "pdebench", "advection--fno--s0", 0.5)
    rows = compare(committed, fresh)
    assert [r.ok for r in rows] == [None, True]
    assert main(["--fresh", str(fresh), "--committed", str(committed)]) == 0
    out = capsys.readouterr().out
    assert "1 of 1 committed results reproduced" in out and "openml: not checked, skipped: the OpenML mirror" in out
