"""The benchmark runner and report: config resolution, job expansion and skipping, atomic results, and a report
whose every number comes from a result file or the published CSV."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import orca.io
from benchmarks import report as report_module
from benchmarks.catalogue import get_suite
from benchmarks.run import run
from benchmarks.runner import expand_jobs, is_done, resolve_config, result_path
from benchmarks.runner.config import changes_cover
from orca.exceptions import ConfigError, OrcaError


@pytest.fixture
def suite():
    """The openml suite; its tests need the data mirror that CI has at ../shared (skipped, saying so, elsewhere)."""
    from benchmarks.suites.openml import mirror_folder
    from orca.exceptions import DataError
    from orca.io import read_json

    openml = get_suite("openml")
    try:
        mirror_folder(read_json(openml.root / "default.json"))
    except DataError as exc:
        pytest.skip(f"OpenML mirror not available here: {exc}")
    return openml


def test_config_resolution_and_rejection(suite) -> None:
    smoke = resolve_config(suite, "smoke")
    assert smoke["preset"] == "smoke" and smoke["method_params"]["orca"]["refine"]["epochs"] == 3
    assert smoke["method_params"]["orca"]["refine"]["batch_size"] == 32  # the full orca config is expanded
    paper = resolve_config(suite, "paper")
    assert len(paper["tasks"]) == 30 and paper["seeds"] == [0, 1, 2, 3, 4]
    assert paper["method_params"]["orca-paper"]["embedder"]["tabular_mode"] == "paper"  # the reference encoding
    assert paper["method_params"]["orca"]["embedder"]["tabular_mode"] == "tokenizer"
    with pytest.raises(ConfigError, match="tabular_mode"):
        resolve_config(suite, "smoke", {"method_params": {"orca-paper": {"embedder": {"tabular_mode": "onehot"}}}})
    with pytest.raises(ConfigError, match=r"unknown config key 'protocol.max_trian' \(did you mean 'max_train'\?\)"):
        resolve_config(suite, "smoke", {"protocol": {"max_trian": 5}})
    with pytest.raises(ConfigError, match="unknown config key 'refine.epoch'"):
        resolve_config(suite, "smoke", {"method_params": {"orca": {"refine": {"epoch": 5}}}})
    with pytest.raises(ConfigError, match="unknown preset"):
        resolve_config(suite, "fast")
    with pytest.raises(ConfigError, match=r"unknown tasks \['99999'\]"):
        resolve_config(suite, "smoke", {"tasks": ["99999"]})
    with pytest.raises(ConfigError, match=r"unknown methods \['xgb'\]"):
        resolve_config(suite, "smoke", {"methods": ["xgb"]})


def test_the_mirror_holds_exactly_tabpfns_30(suite) -> None:
    from benchmarks.suites.openml import paper_lists

    assert sorted(map(int, suite.all_tasks(resolve_config(suite, "smoke")))) == sorted(paper_lists()["tabpfn30"])


def test_jobs_expand_and_hash_their_resolved_config(suite) -> None:
    config = resolve_config(suite, "smoke", {"tasks": ["1510", "37"], "seeds": [0, 1]})
    jobs = expand_jobs(suite, config)
    n = 2 * len(config["methods"]) * 2
    assert config["methods"] == ["orca", "xgboost", "logreg", "floor"] and len(jobs) == n and len({j.filename for j in jobs}) == n
    other = resolve_config(suite, "smoke", {"tasks": ["1510"], "method_params": {"logreg": {"C": 0.5}}})
    a = next(j for j in jobs if j.method == "logreg" and j.task == "1510" and j.seed == 0)
    b = next(j for j in expand_jobs(suite, other) if j.method == "logreg" and j.seed == 0)
    c = next(j for j in expand_jobs(suite, other) if j.method == "orca" and j.seed == 0)
    d = next(j for j in jobs if j.method == "orca" and j.task == "1510" and j.seed == 0)
    assert a.config_hash != b.config_hash  # the logreg setting changed
    assert c.config_hash == d.config_hash  # the orca job did not


def test_runner_writes_skips_and_reruns(tmp_path, suite) -> None:
    paths = run("openml", "smoke", tasks=["1510", "11"], methods=["logreg"], results=tmp_path)
    records = [json.loads(p.read_text()) for p in paths]
    assert [r["status"] for r in records] == ["ok", "ok"]
    first = records[0]
    assert first["metrics"]["test"]["roc_auc"] > 0.9 and first["data"]["source"] == "local mirror"
    assert first["environment"]["git"] and first["resolved_config"]["method_params"]["C"] == 1.0
    mtime = paths[0].stat().st_mtime_ns
    run("openml", "smoke", tasks=["1510", "11"], methods=["logreg"], results=tmp_path)
    assert paths[0].stat().st_mtime_ns == mtime  # skipped: same resolved config
    paths[0].write_text('{"truncated": ')  # a corrupt file is reported and re-run, never used
    job = next(j for j in expand_jobs(suite, resolve_config(suite, "smoke", {"tasks": ["1510"], "methods": ["logreg"]})))
    assert not is_done(paths[0], job)
    run("openml", "smoke", tasks=["1510"], methods=["logreg"], results=tmp_path)
    assert json.loads(paths[0].read_text())["status"] == "ok"


def test_a_failed_job_is_recorded_and_the_others_run(tmp_path, monkeypatch, suite) -> None:
    def broken(data, params, seed, ctx):
        raise RuntimeError("boom")

    monkeypatch.setitem(suite.methods, "orca", broken)
    paths = run("openml", "smoke", tasks=["1510"], methods=["orca", "logreg"], results=tmp_path)
    orca_rec, logreg_rec = (json.loads(p.read_text()) for p in paths)
    assert orca_rec["status"] == "failed" and "RuntimeError: boom" in orca_rec["error"]
    assert logreg_rec["status"] == "ok"


def test_killed_write_leaves_no_corrupt_file(tmp_path, monkeypatch, suite) -> None:
    job = expand_jobs(suite, resolve_config(suite, "smoke", {"tasks": ["1510"], "methods": ["logreg"]}))[0]
    target = result_path(tmp_path, job)

    def dies_midway(obj, fh, **kwargs):
        fh.write('{"status": "ok", "metr')
        raise KeyboardInterrupt("killed while writing")

    monkeypatch.setattr(orca.io.json, "dump", dies_midway)
    with pytest.raises(KeyboardInterrupt):
        orca.io.write_json(target, {"status": "ok"})
    assert not target.exists() and not list(target.parent.glob("*"))  # neither the file nor a temporary


def _synthetic(folder, rows):
    folder.mkdir(parents=True)
    for task, method, seed, value, kind in rows:
        rec = {"suite": "openml", "task": task, "method": method, "seed": seed, "metric": "roc_auc",
               "status": "ok", "metrics": {"test": {"roc_auc": value}}, "data": {"kind": kind, "name": f"ds{task}"}}
        (folder / f"{task}--{method}--s{seed}.json").write_text(json.dumps(rec))


def test_report_numbers_come_from_results_or_the_published_csv(tmp_path) -> None:
    runs = tmp_path / "openml" / "smoke" / "runs"
    _synthetic(runs, [("1", "orca", 0, 0.91, "real"), ("1", "orca", 1, 0.93, "real"), ("1", "logreg", 0, 0.95, "real"),
                      ("2", "orca", 0, 0.81, "proxy"), ("2", "logreg", 0, 0.71, "proxy")])
    (runs / "bad--orca--s0.json").write_text("{not json")
    with_history = json.loads((runs / "1--orca--s0.json").read_text())
    history = [{"epoch": e, "val_loss": 1.0, "val_roc_auc": 0.5 + e / 4} for e in range(3)]
    with_history["refine"] = {"history": history}
    (runs / "1--orca--s0.json").write_text(json.dumps(with_history))
    assert report_module._val_curve(with_history) == ("roc_auc", [0.5, 0.75, 1.0])
    path = report_module.report("openml", tmp_path)
    text = path.read_text()
    # mean/std of 0.91, 0.93; logreg's one seed has the better mean but not the task's most seeds: not bold
    assert "| 0.9500 (1) | **0.9200 ± 0.0141 (2)** |" in text
    assert "2 ds2 (proxy data)" in text and "bad--orca--s0.json" in text
    assert "| orca | 1.50 | 1/2 | –" in text.replace("|  ", "| ")  # mean rank and wins vs logreg
    published = {r["value"] for r in report_module.published_rows(("openml-cc18-tabpfn30", "openml-lift14"))}
    ours = {"0.9500", "0.0000", "0.9200", "0.0141", "0.8100", "0.7100", "1.50", "1.50",
            "0.8300", "0.8650"}  # means over tasks: logreg (0.95 + 0.71) / 2, orca (0.92 + 0.81) / 2
    assert "| mean over tasks (tasks) | 0.8300 (2) | 0.8650 (2) |" in text
    table = text.split("## Failed jobs")[0]
    for number in re.findall(r"(?<![\w.])-?\d+\.\d+(?:e-?\d+)?", table):
        assert number in ours or number in published, f"{number} comes from neither a result nor the CSV"
    assert (tmp_path / "openml" / "smoke" / "plots" / "scores.png").stat().st_size > 1000
    assert (tmp_path / "openml" / "smoke" / "plots" / "refine-1.png").stat().st_size > 1000  # ORCA's val curve
    assert not (tmp_path / "openml" / "smoke" / "plots" / "refine-2.png").exists()  # no history recorded
    assert (tmp_path / "openml" / "smoke" / "report.csv").read_text().startswith("task,method,mean,std,n")


def test_xgboost_default_and_tuned_record_their_budget(tmp_path, suite) -> None:
    paths = run("openml", "smoke", tasks=["1510"], methods=["xgboost", "xgboost-tuned"], results=tmp_path,
                overrides={"method_params": {"xgboost-tuned": {"n_iter": 2, "cv": 3, "max_estimators": 150}}})
    default, tuned = (json.loads(p.read_text()) for p in paths)
    assert default["status"] == tuned["status"] == "ok", (default.get("error"), tuned.get("error"))
    assert default["metrics"]["test"]["roc_auc"] > 0.95 and tuned["metrics"]["test"]["roc_auc"] > 0.95
    assert tuned["search"]["budget"] == {"n_iter": 2, "cv_folds": 3, "max_estimators": 150}
    assert tuned["search"]["kept_defaults"] == (tuned["search"]["best_cv_auc"] <= tuned["search"]["default_cv_auc"])


def test_a_mirror_file_whose_hash_does_not_match_is_never_used(tmp_path, suite) -> None:
    import shutil

    from benchmarks.suites.openml import load_task, mirror_folder
    from orca.exceptions import DataError

    config = resolve_config(suite, "smoke")
    source = mirror_folder(config)
    copy = tmp_path / "mirror"
    copy.mkdir()
    shutil.copy(source / "manifest.json", copy / "manifest.json")
    entry = next(d for d in json.loads((source / "manifest.json").read_text())["datasets"] if d["openml_id"] == 1510)
    data = (source / entry["file"]).read_bytes()
    (copy / entry["file"]).write_bytes(data[:-10] + bytes(10))  # same size, last bytes changed
    config["data"]["mirror"] = str(copy)
    with pytest.raises(DataError, match="sha256 .* the manifest says .* not used"):
        load_task("1510", config, 0)


def test_lightgbm_runs_and_a_missing_optional_library_is_a_recorded_error(tmp_path, suite) -> None:
    import importlib.util

    paths = run("openml", "smoke", tasks=["1510"], methods=["lightgbm", "catboost"], results=tmp_path)
    lgb, cat = (json.loads(p.read_text()) for p in paths)
    assert lgb["status"] == "ok" and lgb["metrics"]["test"]["roc_auc"] > 0.95
    if importlib.util.find_spec("catboost") is None:
        assert cat["status"] == "failed" and "pip install 'orca-xmodal[catboost]'" in cat["error"]
    else:
        assert cat["status"] == "ok"


def _comparable(path) -> dict:
    """A result without what legitimately differs between runs (timings, memory, environment)."""
    rec = json.loads(path.read_text())
    for key in ("wall_time_s", "peak_memory_mb", "environment", "timings_s", "search"):
        rec.pop(key, None)
    return rec


@pytest.mark.slow
def test_parallel_jobs_write_the_same_results_as_a_serial_run(tmp_path) -> None:
    from benchmarks.run import run
    from benchmarks.suites.openml import mirror_folder
    from orca.exceptions import DataError
    from orca.io import read_json as rj

    try:
        mirror_folder(rj(Path(__file__).parent.parent / "benchmarks" / "suites" / "openml" / "default.json"))
    except DataError as exc:
        pytest.skip(f"OpenML mirror not available here: {exc}")
    kwargs = dict(tasks=["1510", "37"], methods=["logreg", "xgboost"], seeds=[0, 1])
    serial = run("openml", "smoke", results=tmp_path / "serial", **kwargs)
    parallel = run("openml", "smoke", results=tmp_path / "parallel", jobs=2, **kwargs)
    assert len(serial) == len(parallel) == 8
    for a, b in zip(serial, parallel):
        assert a.name == b.name and _comparable(a) == _comparable(b)


def test_ray_jobs_write_the_same_results_as_a_serial_run(tmp_path, suite) -> None:
    """Two jobs as tasks of a private Ray instance on loopback; skipped, saying why, without Ray."""
    pytest.importorskip("ray", reason="Ray is an extra (pip install -e '.[ray]'); the --ray path is not tested")
    kwargs = dict(tasks=["1510"], methods=["logreg", "xgboost"], seeds=[0])
    serial = run("openml", "smoke", results=tmp_path / "serial", **kwargs)
    on_ray = run("openml", "smoke", results=tmp_path / "ray", ray="local", **kwargs)
    assert len(serial) == len(on_ray) == 2
    for a, b in zip(serial, on_ray):
        assert a.name == b.name and _comparable(a) == _comparable(b)


def test_ray_and_jobs_are_alternatives(tmp_path, suite) -> None:
    with pytest.raises(OrcaError, match="alternatives"):
        run("openml", "smoke", tasks=["1510"], methods=["logreg"], results=tmp_path, ray="local", jobs=2)


def test_settings_added_at_their_defaults_leave_the_job_hash_alone() -> None:
    """``drop_at_defaults`` removes a dotted key at any depth only where it holds its default; a changed value stays
    (and so changes the hash)."""
    from orca.added import drop_at_defaults

    tree = {"patience": None, "lr": 1e-3, "data": {"source": "mirror", "root": ""},
            "refine": {"schedule": {"kind": "cosine", "warmup": 0}}}
    drop_at_defaults(tree, [("patience", None), ("lr", 1e-2), ("data.source", "mirror"), ("refine.schedule.warmup", 0),
                          ("refine.schedule.kind", "linear"), ("missing.section.key", 1)])
    assert tree == {"lr": 1e-3, "data": {"root": ""}, "refine": {"schedule": {"kind": "cosine"}}}


def test_every_suite_pickles_for_worker_processes() -> None:
    """``--jobs N`` sends each job with its suite to a worker process: a suite holding a lambda or a local function
    (as pdebench's ``floor_applies``, now ``method_applies``, once did) fails there, so every registered suite must pickle."""
    import pickle

    from benchmarks.catalogue import available_suites, get_suite

    for name in available_suites():
        suite = get_suite(name)
        assert pickle.loads(pickle.dumps(suite)).name == name


def test_every_committed_result_is_current_under_its_preset() -> None:
    """A committed result whose job the preset still plans has that job's hash: a new setting (a config field, a
    method default) that silently changed the hashes would leave every such result out of its report as
    superseded. A deliberate change of settings re-runs the jobs (or removes their old files) in the same commit.
    The same holds for the references made on other processor kinds (``references/<kind>/``, used by
    ``./reproduce.sh``'s comparison), which must also be of jobs the preset plans."""
    root = Path(__file__).resolve().parents[1] / "results"
    checked, stale = 0, []
    for runs in sorted(root.glob("*/*/runs")):
        suite_name, preset = runs.parent.parent.name, runs.parent.name
        suite = get_suite(suite_name)
        planned = {job.filename: job.config_hash for job in expand_jobs(suite, resolve_config(suite, preset))}
        for path in sorted(runs.parent.glob("references/*/*.json")):
            if path.name not in planned or orca.io.read_json(path).get("config_hash") != planned[path.name]:
                stale.append(f"{suite_name}/{preset}/{path.relative_to(runs.parent)}")
        for path in sorted(runs.glob("*.json")):
            if path.name in planned:
                checked += 1
                if orca.io.read_json(path).get("config_hash") != planned[path.name]:
                    stale.append(f"{suite_name}/{preset}/{path.name}")
    assert checked > 500 and not stale, f"{len(stale)} committed results no longer match their preset: {stale[:10]}"


def test_each_contrast_differs_from_its_base_only_in_what_it_names() -> None:
    """A suite's ``contrasts`` (one-change candidates: ``orca-bf16``, ``orca-smooth``, ``orca-mpnet``) differ from
    the method they are compared with in exactly the listed settings, in every preset, so the report's contrast
    measures that change alone; a malformed contrast is refused."""
    from benchmarks.runner.config import presets_of
    from orca.config import flatten

    seen = 0
    for name in ("openml", "pdebench", "nasbench360"):
        suite = get_suite(name)
        for preset in presets_of(suite):
            config = resolve_config(suite, preset)
            for spec in config["contrasts"]:
                base = resolve_config(suite, spec["preset"]) if "preset" in spec else config  # a base run elsewhere
                a, b = flatten(config["method_params"][spec["method"]]), flatten(base["method_params"][spec["against"]])
                differing = {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)}
                assert changes_cover(spec["changes"], differing), (name, preset, spec["method"], sorted(differing))
                assert spec["method"] not in config["methods"] or preset != "smoke"  # candidates run on request
                seen += 1
    assert seen >= 4
    assert changes_cover(["search", "refine.lr"], {"search.n_trials", "search.space.refine.lr", "refine.lr"})
    assert not changes_cover(["search"], {"search.n_trials", "refine.lr"})  # a difference not listed
    assert not changes_cover(["refine.lr", "refine.epochs"], {"refine.lr"})  # a change listed but not made
    assert not changes_cover(["refine.l"], {"refine.lr"})  # a prefix of a name is not a section
    suite = get_suite("pdebench")
    for bad, message in (([{"method": "orca-smooth", "against": "orca"}], "exactly the keys"),
                         ([{"method": "orca-x", "against": "orca", "changes": ["a"]}], r"unknown methods \['orca-x'\]"),
                         ([{"method": "orca-smooth", "against": "orca", "changes": []}], "non-empty list"),
                         ([{"method": "orca", "against": "orca", "changes": ["a"]}], "against itself"),
                         ([{"method": "orca", "against": "orca", "changes": ["a"], "preset": "smoke"}],
                          "expected another preset of suite 'pdebench'"),
                         ([{"method": "orca", "against": "orca", "changes": ["a"], "preset": "nope"}], "'nope'")):
        with pytest.raises(ConfigError, match=message):
            resolve_config(suite, "smoke", {"contrasts": bad})


def test_contrast_table_pairs_seeds_and_reports_score_and_time_ratios() -> None:
    """B is A with one change: on t1 (seeds 0, 1) and t2 (seed 0) its errors are half A's and it takes twice the
    time; B's seed 2 on t2 has no partner and is left out. Lower is better, so the difference is positive; t1 is
    a tie, its two seeds' intervals overlapping."""
    import pandas as pd

    from benchmarks.reports.analysis import contrast_table

    rows = [("t1", "A", 0, 0.2, 10.0), ("t1", "A", 1, 0.4, 10.0), ("t2", "A", 0, 0.1, 20.0),
            ("t1", "B", 0, 0.1, 20.0), ("t1", "B", 1, 0.2, 20.0), ("t2", "B", 0, 0.05, 40.0), ("t2", "B", 2, 9.0, 1.0)]
    df = pd.DataFrame(rows, columns=["task", "method", "seed", "value", "wall_s"]).assign(
        metric="nrmse", data_kind="generated", task_name=lambda d: d["task"])
    lines = contrast_table(df, [{"method": "B", "against": "A", "changes": ["predictor.smooth"]}], higher=False)
    cells = lines[-1].split(" | ")
    assert cells[:4] == ["| B", "A", "`predictor.smooth`", "2 (3 pairs)"]
    assert cells[4] == "+0.1000 [+0.0500, +0.1500]"  # mean over tasks of A - B: t1 0.3 - 0.15, t2 0.1 - 0.05
    assert cells[6] == "1 / 1 / 0" and cells[7] == "0.500" and cells[8] == "2.00"
    assert cells[9:] == ["–", "–", "– |"]  # no samples seen, no validation, so no agreement either
    # samples seen, A 100 on every run; B twice that on (t1, 0), as many on (t1, 1), three times on (t2, 0); B's
    # unpaired seed records none (NaN, as the loader gives for a result without a training record)
    seen = df.assign(samples_seen=[100, 100, 100, 200, 100, 300, None])
    assert contrast_table(seen, [{"method": "B", "against": "A", "changes": ["x"]}],
                          higher=False)[-1].split(" | ")[9] == "2.00 (seed 0: 2.50, 1: 1.00)"  # medians of 2, 1, 3
    same = df.assign(samples_seen=[100, 100, 100, 300, 300, 300, None])  # every pair 3.00: no per-seed part
    assert contrast_table(same, [{"method": "B", "against": "A", "changes": ["x"]}],
                          higher=False)[-1].split(" | ")[9] == "3.00"
    with_val = df.assign(val_loss=df["value"] * 2, val=float("nan"))  # no validation metric: the loss decides
    assert contrast_table(with_val, [{"method": "B", "against": "A", "changes": ["x"]}],  # the loss is 2x the test
                          higher=False)[-1].endswith("| +0.2 (loss, +50.00 %; better on 2 of 2 tasks) | – |")
    worse_t2 = with_val.assign(val_loss=with_val["val_loss"].where(with_val["task"] != "t2", with_val["value"] * -4))
    # t2's validation loss is now -0.4 for A and -0.2 for B (B worse by 0.2); t1 as before, B better by 0.3
    assert contrast_table(worse_t2, [{"method": "B", "against": "A", "changes": ["x"]}],
                          higher=False)[-1].endswith("| +0.05 (loss, +50.00 %; better on 1 of 2 tasks) | – |")
    assert contrast_table(df, [{"method": "B", "against": "missing", "changes": ["x"]}], higher=False) == []
    threads = df.assign(threads=df["method"].map({"A": 2, "B": 1}))  # B ran with --jobs 2: time not comparable
    assert contrast_table(threads, [{"method": "B", "against": "A", "changes": ["x"]}],
                          higher=False)[-1].split(" | ")[8] == "2.00 (threads differ)"

    # a contrast of several changes goes under its own heading, never under "One change at a time"; with no
    # one-change row, that section carries the column explanation itself
    both = contrast_table(df, [{"method": "B", "against": "A", "changes": ["x"]},
                               {"method": "B", "against": "A", "changes": ["search", "refine.epochs"]}], higher=False)
    one, several = both.index("## One change at a time"), both.index("## Several changes at once")
    assert one < several and sum(r.startswith("| B | A |") for r in both) == 2
    assert both[one + 6].startswith("| B | A | `x` |") and both[-1].startswith("| B | A | `search`, `refine.epochs` |")
    assert "columns of the section above" in both[several + 2]
    alone = contrast_table(df, [{"method": "B", "against": "A", "changes": ["search", "refine.epochs"]}],
                           higher=False)
    assert "## One change at a time" not in alone and "Wilcoxon p over tasks" in alone[3]


def test_the_contrast_table_says_whether_validation_differences_foretell_test_differences() -> None:
    """Over 8 tasks (one seed each; higher is better) the last column is scipy's Spearman ρ between the per-task
    validation and test differences, B - A: here the validation differences rank the tasks in the opposite order
    to the test differences but for one swap; with 7 tasks (fewer than the 8 a correlation needs) it is left out."""
    import pandas as pd
    from scipy.stats import spearmanr

    from benchmarks.reports.analysis import contrast_table

    test_diff = [0.01, 0.03, -0.02, 0.05, 0.00, -0.04, 0.02, 0.04]
    val_diff = [0.02, -0.01, 0.03, -0.03, 0.01, 0.04, -0.02, -0.04]
    rows = []
    for k, (t, v) in enumerate(zip(test_diff, val_diff)):
        rows += [(f"t{k}", "A", 0, 0.7, 0.6), (f"t{k}", "B", 0, 0.7 + t, 0.6 + v)]
    df = pd.DataFrame(rows, columns=["task", "method", "seed", "value", "val"]).assign(
        metric="roc_auc", data_kind="real", task_name=lambda d: d["task"], wall_s=1.0)
    rho, p = spearmanr(val_diff, test_diff)
    cells = contrast_table(df, [{"method": "B", "against": "A", "changes": ["x"]}], higher=True)[-1].split(" | ")
    assert cells[-1] == f"{rho:+.2f} (p {p:.2g}) |" and rho < -0.8
    seven = df[df["task"] != "t7"]
    cells = contrast_table(seven, [{"method": "B", "against": "A", "changes": ["x"]}], higher=True)[-1].split(" | ")
    assert cells[-1] == "– |" and cells[-2].startswith("+")


def test_a_run_names_the_methods_whose_bf16_this_cpu_emulates(monkeypatch) -> None:
    """On a CPU without native bf16 products the runner says which methods will run slowly (orca-bf16), not the
    fp32 ones; where bf16 is native it says nothing."""
    import orca.precision as precision
    from benchmarks.runner.execute import emulated_bf16, plan_jobs

    config, jobs = plan_jobs(get_suite("pdebench"), "smoke", ["advection"], ["orca", "orca-bf16", "fno"], [0])
    monkeypatch.setattr(precision, "bf16_native", lambda device_type="cpu": False)
    assert emulated_bf16(config, jobs) == ["orca-bf16"]
    assert emulated_bf16(config, [j for j in jobs if j.method != "orca-bf16"]) == []
    monkeypatch.setattr(precision, "bf16_native", lambda device_type="cpu": True)
    assert emulated_bf16(config, jobs) == []


def test_a_plots_long_title_is_wrapped_to_lie_inside_its_figure(tmp_path) -> None:
    """A line plot's title is wrapped until it fits the figure after layout (session 46: a 59-character title was
    clipped on both sides of a 5-inch refine curve at a fixed wrap of 70 characters)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from benchmarks.reports.plots import fit_title

    title = "pdebench reaction-diffusion-rollout: ORCA selection score (relative_l2, val)"
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot([1, 2, 3], [3.0, 2.0, 1.0])
    text = ax.set_title(title, fontsize=10)  # unwrapped it does not fit: the test's premise
    fig.tight_layout()
    renderer = fig.canvas.get_renderer()
    assert text.get_window_extent(renderer).width > fig.bbox.width
    fit_title(fig, ax, title)
    box = ax.title.get_window_extent(renderer)
    assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1 and "\n" in ax.get_title()
    assert ax.get_title().replace("\n", " ") == title  # wrapped, not cut
    plt.close(fig)
