"""orca: cross-modal fine-tuning (ORCA, Shen et al., ICML 2023) as a tested library.

Three stages over one pretrained transformer body: ``build`` an embedder and predictor for the task, ``align``
the embedder to the body's own modality, ``refine`` everything on the task loss.
"""

from __future__ import annotations

from . import distributed, losses, metrics, objectives  # noqa: F401  (register losses, metrics, objectives)
from .align import AlignReport, SourceFeatures, align
from .bodies import Body, load_body
from .config import OrcaConfig
from .estimators import CrossModalClassifier, CrossModalRegressor
from .model import CrossModalModel, build
from .pipeline import fit
from .refine import evaluate, refine
from .registry import available, get
from .tasks import Task

__version__ = "0.2.0"
"""0.2: model files are safetensors with JSON metadata (0.1 pickles are refused; `orca convert-model`)."""

__all__ = [
    "AlignReport",
    "Body",
    "CrossModalClassifier",
    "CrossModalModel",
    "CrossModalRegressor",
    "OrcaConfig",
    "SourceFeatures",
    "Task",
    "align",
    "available",
    "build",
    "evaluate",
    "fit",
    "get",
    "load_body",
    "refine",
]
