"""Data-parallel helpers: the process group, which rows a rank owns, and gathering rows with their gradient.

Under ``accelerate launch`` (or ``torchrun``) every process runs the same program. Stage 3 is data-parallel
through Accelerate. Stage 2 needs more than DDP's gradient averaging: its objective (OTDD or MMD) is a
distance between *sets*, so it is not the mean of per-rank losses. Every rank therefore draws the same batch
indices, embeds only its own contiguous block of them, gathers the blocks from all ranks (keeping the autograd
graph of its own block) and computes the distance on the whole batch, which is then identical on every rank.
Each rank's backward pass yields the gradient through its own block only; summing those over ranks
(:func:`all_reduce_grads`) gives exactly the single-process gradient of the whole-batch distance.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np
import torch
import torch.distributed as dist


def launched_world_size() -> int:
    """The world size the launcher announced in ``WORLD_SIZE`` (1 when not launched by one)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def init_from_env(device: str = "auto") -> None:
    """Join the process group the launcher set up, once, through Accelerate's shared state.

    Does nothing for a single process. ``device`` is ``auto``, ``cpu`` or ``cuda`` as in
    :class:`orca.config.OrcaConfig`; ``cpu`` selects the gloo backend.
    """
    if launched_world_size() > 1 and not is_distributed():
        from accelerate import PartialState

        PartialState(cpu=device == "cpu")


def is_distributed() -> bool:
    """Whether a process group with more than one process is active."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def world_size() -> int:
    """Processes in the active group (1 without one)."""
    return dist.get_world_size() if is_distributed() else 1


def rank() -> int:
    """This process's rank (0 without a group)."""
    return dist.get_rank() if is_distributed() else 0


def local_device(device: str = "auto") -> torch.device:
    """The device this process computes on: its own GPU under a multi-GPU launch, else CPU."""
    if device == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))


def shard(indices: np.ndarray, ranks: int | None = None, me: int | None = None) -> np.ndarray:
    """This rank's contiguous block of ``indices``; the blocks of ranks ``0..W-1`` concatenate to ``indices``."""
    ranks = world_size() if ranks is None else ranks
    me = rank() if me is None else me
    return np.array_split(indices, ranks)[me]


def gather_rows(local: torch.Tensor) -> torch.Tensor:
    """Concatenate every rank's ``(n_r, ...)`` rows in rank order; only this rank's rows carry gradient.

    Blocks may differ in length (by one row under :func:`shard`); they are padded for the collective and trimmed.
    """
    if not is_distributed():
        return local
    sizes = [torch.zeros(1, dtype=torch.long, device=local.device) for _ in range(world_size())]
    dist.all_gather(sizes, torch.tensor([len(local)], device=local.device))
    lengths = [int(s) for s in sizes]
    padded = local.detach().new_zeros((max(lengths), *local.shape[1:]))
    padded[: len(local)] = local.detach()
    blocks = [torch.empty_like(padded) for _ in lengths]
    dist.all_gather(blocks, padded)
    parts = [local if r == rank() else block[:n] for r, (block, n) in enumerate(zip(blocks, lengths))]
    return torch.cat(parts)


def all_reduce_grads(parameters: Iterable[torch.nn.Parameter]) -> None:
    """Sum every parameter's gradient over ranks (a missing gradient counts as zero)."""
    if not is_distributed():
        return
    for p in parameters:
        if not p.requires_grad:
            continue
        if p.grad is None:
            p.grad = torch.zeros_like(p)
        dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
