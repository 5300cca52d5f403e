"""Whether bfloat16 autocast (``refine.mixed_precision = "bf16"``) pays off on the device it runs on.

bfloat16 halves the cost of refine on CPUs that compute bf16 matrix products natively (AVX512-BF16 or AMX,
through oneDNN) and on recent GPUs. Elsewhere PyTorch emulates them, and they are several times *slower* than
float32: on an AVX2-only CPU (AMD EPYC, family 23) a 4096 x 384 by 384 x 1536 product took 3.45 s in bf16
against 0.14 s in fp32 on one thread, and a linear layer under autocast 1.07 s against 0.14 s. The results are
still valid there, only slow, so a run is not refused: it is warned, and each result records what the device
could do (:func:`bf16_native` in :func:`orca.provenance.environment`).
"""

from __future__ import annotations

import warnings


def cpu_capability() -> str | None:
    """PyTorch's name for the vector instructions its CPU kernels use here (``"AVX2"``, ``"AVX512"``, ...)."""
    import torch

    try:
        return str(torch.backends.cpu.get_cpu_capability())
    except (AttributeError, RuntimeError):  # older PyTorch
        return None


def bf16_native(device_type: str = "cpu") -> bool | None:
    """Whether bfloat16 matrix products run natively on ``device_type`` (``None``: cannot tell).

    CPU: oneDNN's own check (true with AVX512 BF16/AMX, and on AVX512 cores, where it converts cheaply); CUDA:
    ``torch.cuda.is_bf16_supported()``."""
    import torch

    if device_type == "cuda":
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    if device_type == "cpu":
        try:
            return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
        except (AttributeError, RuntimeError):
            return None
    return None


def resolve_precision(mixed_precision: str, device_type: str) -> str:
    """The precision refine computes in: ``"bf16"`` or ``"no"`` (float32).

    ``"auto"`` becomes ``"bf16"`` where ``device_type`` has native bfloat16 matrix products (:func:`bf16_native`
    is True) and ``"no"`` elsewhere, including where it cannot tell; ``"bf16"`` and ``"no"`` are kept as asked.
    Every result records the precision its refine ran in, since under ``"auto"`` the same config computes
    differently on different machines (bf16 passed a pre-registered accuracy rule against fp32 on OpenML and
    PDEBench; docs/openml.md)."""
    if mixed_precision == "auto":
        return "bf16" if bf16_native(device_type) is True else "no"
    return mixed_precision


def warn_if_emulated(mixed_precision: str, device_type: str) -> bool:
    """Warn when ``mixed_precision == "bf16"`` would run emulated on ``device_type``; return whether it warned."""
    if mixed_precision != "bf16" or bf16_native(device_type) is not False:
        return False
    where = f"this CPU (PyTorch capability {cpu_capability()})" if device_type == "cpu" else f"this {device_type} device"
    warnings.warn(f"refine.mixed_precision='bf16' on {where}, which has no native bfloat16 matrix products: they "
                  "are emulated and run several times slower than float32 (7.7x for a linear layer on an AVX2 "
                  "CPU). The results are valid but slow; set refine.mixed_precision='no' or 'auto' (in the benchmark "
                  "presets: run the method 'orca' instead of 'orca-bf16') on this machine.",
                  RuntimeWarning, stacklevel=3)
    return True
