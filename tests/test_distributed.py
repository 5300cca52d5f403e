"""Data-parallel training: two CPU processes (gloo) against one process on the same data."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from orca.align import align
from orca.data import ArrayDataset
from orca.distributed import gather_rows, shard
from orca.refine import evaluate

WORKER = Path(__file__).with_name("ddp_worker.py")
sys.path.insert(0, str(WORKER.parent))
import ddp_worker  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_shards_cover_the_batch_in_order() -> None:
    idx = np.arange(25) * 3
    blocks = [shard(idx, 2, r) for r in range(2)]
    assert [len(b) for b in blocks] == [13, 12]
    assert np.array_equal(np.concatenate(blocks), idx)
    x = torch.ones(4, 2, requires_grad=True)
    assert gather_rows(x) is x  # one process: nothing to gather


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory) -> list[dict]:
    out = tmp_path_factory.mktemp("ddp")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GLOO_SOCKET_IFNAME": "lo"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc_per_node", "2",
           "--master_addr", "127.0.0.1", "--master_port", str(_free_port()), str(WORKER), str(out)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [torch.load(out / f"rank{r}.pt", weights_only=False) for r in range(2)]


def test_parameters_are_identical_across_ranks(two_ranks) -> None:
    a, b = two_ranks
    assert (a["world"], a["rank"], b["rank"]) == (2, 0, 1)
    assert a["curve"] == b["curve"]
    for key in a["final"]:
        assert torch.equal(a["final"][key], b["final"][key]), f"{key} differs between ranks"
    assert a["best_val"] == b["best_val"]


def test_alignment_matches_one_process(two_ranks) -> None:
    model, X, y, _, _, source = ddp_worker.case()
    report = align(model, X, y, source, ddp_worker.ALIGN, seed=0)
    curve = two_ranks[0]["curve"]
    assert len(curve) == len(report.curve) == ddp_worker.ALIGN.steps
    # the first value is the distance of the same weights on the same batch; later ones follow the same updates
    assert curve[0] == pytest.approx(report.curve[0], rel=1e-5)
    np.testing.assert_allclose(curve, report.curve, rtol=1e-4)
    for key, value in model.embedder.state_dict().items():
        torch.testing.assert_close(two_ranks[0]["aligned"][key], value, rtol=1e-4, atol=1e-5)


def test_validation_metrics_have_no_duplicates(two_ranks) -> None:
    """The gathered validation score equals one process's score of the same weights on the 21 rows."""
    model, _, _, X_val, y_val, _ = ddp_worker.case()
    model.load_state_dict(two_ranks[0]["final"])
    single = evaluate(model, ArrayDataset(X_val, y_val), batch_size=8)
    best = two_ranks[0]["best_val"]
    assert best == pytest.approx(single[model.task.metric], abs=1e-6)
