"""Speed-up of ``--jobs 2`` over a serial run of a suite's smoke preset (goal: >= 1.6x on 2 cores).

    python -m benchmarks.perf.scaling [--suite openml] [--jobs 2] [--methods ...]

Three runs go to temporary result folders (nothing committed is touched) and are timed in the same process:
serial (all cores for its one job), ``--jobs N`` (``cores // N`` threads per job), and serial with the parallel
run's threads per job, which separates what the scheduler gains from what a job loses on fewer threads. Each folder starts as
a copy of the committed smoke results and every job is re-run (``--force``), so the parallel run can order jobs
longest first from the recorded durations, as it does when a user re-runs a preset.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from benchmarks.run import run
from orca.io import read_json


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="openml")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--methods", nargs="+")
    args = parser.parse_args(argv)
    times, job_seconds, longest = {}, {}, {}
    for n in (1, args.jobs, "1x1"):  # serial on all cores, parallel, and serial with one thread per job
        with tempfile.TemporaryDirectory() as tmp:
            committed = Path("results") / args.suite / "smoke" / "runs"
            if committed.is_dir():
                shutil.copytree(committed, Path(tmp) / args.suite / "smoke" / "runs")
            start = time.perf_counter()
            if n == "1x1":  # the parallel run's per-job resources, one job at a time
                import torch

                threads = torch.get_num_threads()
                torch.set_num_threads(max(1, threads // args.jobs))
                paths = run(args.suite, "smoke", methods=args.methods, results=tmp, jobs=1, force=True)
                torch.set_num_threads(threads)
            else:
                paths = run(args.suite, "smoke", methods=args.methods, results=tmp, jobs=n, force=True)
            times[n] = time.perf_counter() - start
            walls = [read_json(p)["wall_time_s"] for p in paths]
            job_seconds[n], longest[n] = sum(walls), max(walls)
    n = args.jobs
    print(f"{args.suite} smoke: serial {times[1]:.1f} s, --jobs {n} {times[n]:.1f} s, "
          f"speed-up {times[1] / times[n]:.2f}x (one run)")
    # where the time goes: a job on fewer threads runs slower, and the run cannot end before its longest job
    print(f"  summed job time: serial {job_seconds[1]:.1f} s, --jobs {n} {job_seconds[n]:.1f} s "
          f"(x{job_seconds[n] / job_seconds[1]:.2f} per job on {n}x fewer threads); longest job in the "
          f"parallel run {longest[n]:.1f} s; ideal with {n} workers {max(job_seconds[n] / n, longest[n]):.1f} s")
    print(f"  serial with the parallel run's threads per job: {times['1x1']:.1f} s; --jobs {n} is "
          f"{times['1x1'] / times[n]:.2f}x faster than that (the scheduler's own speed-up at equal resources)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
