"""Speed-up of ``--jobs 2`` over a serial run of a suite's smoke preset (goal: >= 1.6x on 2 cores).

    python -m benchmarks.perf.scaling [--suite openml] [--jobs 2] [--methods ...]

Both runs go to temporary result folders (nothing committed is touched) and are timed in the same process;
the serial run uses all cores for its one job, each parallel job ``cores // jobs`` threads.
"""

from __future__ import annotations

import argparse
import tempfile
import time

from benchmarks.run import run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="openml")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--methods", nargs="+")
    args = parser.parse_args(argv)
    times = {}
    for n in (1, args.jobs):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            run(args.suite, "smoke", methods=args.methods, results=tmp, jobs=n)
            times[n] = time.perf_counter() - start
    print(f"{args.suite} smoke: serial {times[1]:.1f} s, --jobs {args.jobs} {times[args.jobs]:.1f} s, "
          f"speed-up {times[1] / times[args.jobs]:.2f}x (one run)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
