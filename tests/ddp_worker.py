"""One rank of the data-parallel check in ``tests/test_distributed.py``; run under ``accelerate launch``.

Aligns and refines a tiny model on a fixed task and saves, per rank, the alignment curve, the weights after
each stage and the selected validation score. ``case()`` is imported by the test to repeat the run in one
process.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import tiny_hf_model  # noqa: E402

from orca import OrcaConfig, SourceFeatures, Task, build, distributed  # noqa: E402
from orca.align import align  # noqa: E402
from orca.bodies import Body  # noqa: E402
from orca.config import AlignConfig, RefineConfig  # noqa: E402
from orca.data import ArrayDataset  # noqa: E402
from orca.refine import refine  # noqa: E402

ALIGN = AlignConfig(objective="otdd-exact", steps=6, lr=1e-2, batch_size=25, patience=None, source_samples=96)
REFINE = RefineConfig(epochs=2, batch_size=8, eval_batch_size=8, lr=1e-3)


def case():
    """The task, a fresh model, training/validation arrays and source features; identical on every call."""
    task = Task("ddp", (2, 24), "classification", (3,))
    torch.manual_seed(0)
    body = Body(tiny_hf_model("bert"), name="tiny-bert")
    model = build(task, OrcaConfig().with_overrides({"embedder.target_seq_len": 8}), body)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2, 24)).astype(np.float32)
    y = np.arange(60) % 3
    X_val = rng.normal(size=(21, 2, 24)).astype(np.float32)  # 21 rows: uneven across 2 ranks and batches of 8
    y_val = np.arange(21) % 3
    gen = torch.Generator().manual_seed(1)
    source = SourceFeatures(torch.randn(200, model.body.d_in, generator=gen) * 0.5 + 1.0, torch.arange(200) % 4)
    return model, X, y, X_val, y_val, source


def main(out: Path) -> None:
    distributed.init_from_env("cpu")
    model, X, y, X_val, y_val, source = case()
    report = align(model, X, y, source, ALIGN, seed=0)
    aligned = {k: v.detach().clone() for k, v in model.embedder.state_dict().items()}
    info = refine(model, ArrayDataset(X, y), ArrayDataset(X_val, y_val), REFINE, seed=0, device="cpu",
                  progress=False)
    torch.save({"world": distributed.world_size(), "rank": distributed.rank(), "curve": report.curve,
                "aligned": aligned, "final": {k: v.detach().clone() for k, v in model.state_dict().items()},
                "best_val": info["best_val"], "history": info["history"]},
               out / f"rank{distributed.rank()}.pt")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
