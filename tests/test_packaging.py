"""A wheel built from the repository carries its package data and runs a suite from a clean environment: no
repository on the path, only the wheel and its dependencies."""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
MIRROR = ROOT.parent / "shared" / "data" / "openml-cc18-tabpfn30"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of the repository's files (tracked and new, not ignored), so that no stale build
    folder of the checkout can add files that are no longer there."""
    import shutil

    src, out = tmp_path_factory.mktemp("src"), tmp_path_factory.mktemp("wheel")
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.split("\n")
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", str(src),
                    "-w", str(out)], check=True, capture_output=True, cwd=out)
    return next(out.glob("orca_xmodal-*.whl"))


def test_wheel_holds_the_package_data_and_the_license(wheel) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for suite in ("openml", "pdebench", "nasbench360"):
        assert f"benchmarks/suites/{suite}/default.json" in names
        assert f"benchmarks/suites/{suite}/presets/smoke.json" in names
    assert "benchmarks/data/published_results.csv" in names and "orca/py.typed" in names
    assert any(n.endswith("licenses/LICENSE") for n in names)
    assert not any(n.startswith(("tests/", "results/")) for n in names)
    assert "benchmarks/suite.py" not in names and "benchmarks/runner/execute.py" in names


@pytest.mark.slow
@pytest.mark.skipif(not (MIRROR / "manifest.json").is_file(), reason="needs ../shared's OpenML mirror")
def test_openml_smoke_runs_from_the_wheel_in_a_clean_venv(wheel, tmp_path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    # dependencies come from this environment's site-packages (no network); orca itself only from the wheel
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    deps = [p for p in site.getsitepackages() if Path(p).is_dir()]
    Path(purelib, "deps.pth").write_text("\n".join(deps) + "\n")
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True,
                   capture_output=True)
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ORCA_OPENML_MIRROR")}
    where = subprocess.run([str(py), "-c", "import orca, benchmarks; print(orca.__file__, benchmarks.__file__)"],
                           check=True, capture_output=True, text=True, cwd=work, env=env).stdout
    assert str(ROOT) not in where and "site-packages" in where  # the installed wheel, not the checkout
    version = subprocess.run([str(venv / "bin" / "orca"), "--version"], check=True, capture_output=True, text=True,
                             env=env).stdout
    assert version.startswith("orca ")
    run = subprocess.run([str(py), "-m", "benchmarks.run", "openml", "--preset", "smoke", "--tasks", "1510",
                          "--methods", "logreg", "orca", "--results", "results", "--set", f"data.mirror={MIRROR}",
                          "--set", "method_params.orca.align.steps=2", "--set", "method_params.orca.refine.epochs=1"],
                         capture_output=True, text=True, cwd=work, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    records = [json.loads(p.read_text()) for p in (work / "results/openml/smoke/runs").glob("*.json")]
    assert sorted(r["method"] for r in records) == ["logreg", "orca"] and {r["status"] for r in records} == {"ok"}
    report = subprocess.run([str(py), "-m", "benchmarks.report", "openml", "--preset", "smoke", "--results",
                             "results"], capture_output=True, text=True, cwd=work, env=env)
    assert report.returncode == 0, report.stderr[-3000:]
    assert "1510" in (work / "results/openml/smoke/report.md").read_text()
