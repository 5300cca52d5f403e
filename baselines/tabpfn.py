"""TabPFN (Hollmann et al., 2023) as an optional baseline that never downloads inside a run.

The weights come from a path the user gives (``weights`` in the method's settings or ``$ORCA_TABPFN_WEIGHTS``):
a checkpoint file. When it is missing the error says where to put it. Works with the ``tabpfn`` package's v2+
API (``model_path=``) and with v0.1 (the paper's TabPFN v1, ``base_path=`` holding
``models_diff/prior_diff_real_checkpoint_n_0_epoch_42.cpkt``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from orca.exceptions import DataError, require
from orca.registry import register

V1_CHECKPOINT = "prior_diff_real_checkpoint_n_0_epoch_42.cpkt"


def tabpfn_weights(path: str | None) -> Path:
    """The checkpoint to load: ``path`` or ``$ORCA_TABPFN_WEIGHTS``; a clear error when neither exists."""
    given = path or os.environ.get("ORCA_TABPFN_WEIGHTS")
    if not given:
        raise DataError("TabPFN needs its weights and orca never downloads them inside a run: download the "
                        "checkpoint once (TabPFN v1: models_diff/" + V1_CHECKPOINT + " from the TabPFN "
                        "repository; v2: the classifier .ckpt from its model page) and set "
                        "method_params.tabpfn.weights=/path/to/checkpoint or $ORCA_TABPFN_WEIGHTS")
    weights = Path(given).expanduser()
    if not weights.is_file():
        raise DataError(f"TabPFN weights not found at {weights}; put the checkpoint file there or point "
                        "method_params.tabpfn.weights / $ORCA_TABPFN_WEIGHTS at it")
    return weights


@register("baseline", "tabpfn")
def tabpfn_classifier(seed: int = 0, weights: str | None = None, n_ensemble: int = 32, device: str = "cpu") -> Any:
    """A TabPFN classifier loaded from local weights (``n_ensemble`` = the paper's 32 ensemble members)."""
    path = tabpfn_weights(weights)
    tabpfn = require("tabpfn", "tabpfn", "The TabPFN baseline")
    version = int(str(getattr(tabpfn, "__version__", "2")).split(".")[0])
    if version >= 2:
        return tabpfn.TabPFNClassifier(model_path=str(path), device=device, n_estimators=n_ensemble,
                                       random_state=seed)
    if path.name != V1_CHECKPOINT or path.parent.name != "models_diff":
        raise DataError(f"TabPFN v1 loads <base>/models_diff/{V1_CHECKPOINT}; {path} is not laid out that way")
    return tabpfn.TabPFNClassifier(device=device, base_path=str(path.parent.parent),
                                   N_ensemble_configurations=n_ensemble, seed=seed)
