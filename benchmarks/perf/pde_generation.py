"""Generation time per sample of each offline PDE generator at the paper preset's sizes (or given ones).

    python -m benchmarks.perf.pde_generation [--n 100] [--nx-1d 256] [--nx-2d 64]

Prints seconds per sample per family, and the ratio to the cheapest, measured in one run.
"""

from __future__ import annotations

import argparse
import time

from benchmarks.suites.pdebench.generators import GENERATORS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--nx-1d", type=int, default=256)
    parser.add_argument("--nx-2d", type=int, default=64)
    parser.add_argument("--families", nargs="+", help="only these (default: all)")
    args = parser.parse_args(argv)
    times = {}
    two_d = {"darcy", "darcy-fno", "shallow-water", "reaction-diffusion-2d"}
    for family, generate in GENERATORS.items():
        if args.families and family not in args.families:
            continue
        nx = args.nx_2d if family in two_d else args.nx_1d
        start = time.perf_counter()
        generate(args.n, nx, 0, progress=False)
        times[family] = (time.perf_counter() - start) / args.n
        print(f"{family:20s} nx {nx:4d}: {1e3 * times[family]:8.2f} ms/sample", flush=True)
    cheapest = min(times.values())
    costliest = max(times, key=times.get)
    print(f"costliest: {costliest} ({times[costliest] / cheapest:.1f}x the cheapest); "
          f"{args.n} samples each, one run")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
