"""The cross-modal model: embedder f -> pretrained body g -> predictor h, and stage 1 (build)."""

from __future__ import annotations

import torch
from torch import nn

from .bodies import Body, load_body
from .config import OrcaConfig
from .embedders import build_embedder
from .predictors import build_predictor
from .tasks import Task


class CrossModalModel(nn.Module):
    """``h(g(f(x)))``: the task-specific embedder and predictor around a pretrained body.

    Parameters
    ----------
    task : Task
    embedder : nn.Module
        Returns ``(tokens (B, N, d_in), grid or None)``.
    body : Body
    predictor : nn.Module
        Maps ``(B, N', d_out)``, the output grid and the input ``x`` (read by a spectral input skip only) to the
        task output.
    """

    def __init__(self, task: Task, embedder: nn.Module, body: Body, predictor: nn.Module) -> None:
        super().__init__()
        self.task = task
        self.embedder = embedder
        self.body = body
        self.predictor = predictor

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Embedded tokens ``(B, N, d_in)``."""
        return self.embedder(x)[0]

    def embed_pooled(self, x: torch.Tensor) -> torch.Tensor:
        """Token-mean of the embedded input ``(B, d_in)``: the features stage 2 aligns."""
        return self.embed(x).mean(dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens, grid = self.embedder(x)
        hidden, out_grid = self.body(tokens, grid)
        return self.predictor(hidden, out_grid, x)

    def parameter_counts(self) -> dict[str, int]:
        """Trainable and total parameters, per part and overall."""
        counts: dict[str, int] = {}
        for part in ("embedder", "body", "predictor"):
            params = list(getattr(self, part).parameters())
            counts[f"{part}_total"] = sum(p.numel() for p in params)
            counts[f"{part}_trainable"] = sum(p.numel() for p in params if p.requires_grad)
        counts["total"] = sum(counts[f"{p}_total"] for p in ("embedder", "body", "predictor"))
        counts["trainable"] = sum(counts[f"{p}_trainable"] for p in ("embedder", "body", "predictor"))
        return counts


def build(task: Task, config: OrcaConfig, body: Body | None = None) -> CrossModalModel:
    """Stage 1: load (or reuse) the body and build the embedder and predictor for ``task``.

    Parameters
    ----------
    task : Task
    config : OrcaConfig
    body : Body, optional
        An already loaded body (tests pass tiny random ones); otherwise ``config.body.name`` is loaded.
    """
    torch.manual_seed(config.seed)
    body = body if body is not None else load_body(config.body.name, config.body.dropout,
                                                   config.body.attention_dropout)
    body.set_finetune(config.body.finetune)
    embedder = build_embedder(task, body, config.embedder)
    out_grid = body.output_grid(embedder.grid)
    n_out_tokens = out_grid[0] * out_grid[1] if out_grid is not None else embedder.n_tokens
    predictor = build_predictor(task, body.d_out, n_out_tokens, out_grid, config.predictor)
    return CrossModalModel(task, embedder, body, predictor)
