"""One stopping protocol for every neural method (ORCA's refine stage and the baselines' supervised loop), and
the record each run keeps of it.

A run trains until one of three things happens, checked in this order:

``budget``
    the wall-clock budget (``max_seconds``, counted across resumptions) ran out; the step in progress finishes,
    the validation split is scored once more and training stops. Used by the equal-budget presets.
``patience``
    the validation score has not improved for ``patience`` consecutive epochs: the run **converged** in the
    sense the reports use.
``cap``
    the epoch (or step) cap was reached while the validation score was still improving or within its patience:
    the run is **not converged**, and the reports flag it.
``pruned``
    an observer of the validation scores (a search's pruner: ``on_epoch`` of :func:`orca.refine.refine`) asked
    to stop a trial that is not promising; not converged.
``refit``
    a refit without a validation split (``refit_epochs`` of :func:`orca.refine.refine`) trained the epochs it
    was given: the selection run's, whose own record says whether it converged.

Whatever the reason, the weights kept are those of the best validation epoch (a refit: the last epoch's).
"""

from __future__ import annotations

from typing import Any

STOP_REASONS = ("budget", "patience", "cap", "pruned", "refit")


def stop_reason(*, budget_spent: bool, bad_epochs: int, patience: int | None, cap_reached: bool) -> str | None:
    """Why training stops after this epoch (one of :data:`STOP_REASONS`), or ``None`` to go on.

    Parameters
    ----------
    budget_spent : bool
        The wall-clock budget ran out during or at the end of the epoch.
    bad_epochs : int
        Consecutive epochs without a validation improvement, this one included.
    patience : int or None
        How many such epochs end training (``None``: never on patience).
    cap_reached : bool
        The epoch or step cap is reached.
    """
    if budget_spent:
        return "budget"
    if patience is not None and bad_epochs >= patience:
        return "patience"
    if cap_reached:
        return "cap"
    return None


def training_record(*, epochs_run: int, best_epoch: int | None, reason: str | None, samples_seen: int,
                    seconds: float, epochs_cap: int, patience: int | None, max_seconds: float | None,
                    steps: int | None = None, resumed_seconds: float = 0.0) -> dict[str, Any]:
    """What a result file records about how training ended (epochs are counted from 0 for ``best_epoch``).

    ``converged`` is true only when training stopped on patience; a run cut by its cap or its time budget is
    recorded as not converged, whatever its curve looked like. ``reason`` is ``None`` when no epoch ran (the
    cap was already reached when a resumed run started), which is recorded as ``cap``. ``seconds`` is the whole
    training time, earlier processes' included; ``resumed_seconds`` is the part that earlier processes of a
    resumed run trained (up to the checkpoint resumed from), recorded as ``resumed_s`` so that a runner can add it
    to its own clock, which starts with the last process.
    """
    if reason is not None and reason not in STOP_REASONS:
        raise ValueError(f"unknown stop reason {reason!r}; expected one of {STOP_REASONS}")
    reason = reason or "cap"
    return {"epochs_run": int(epochs_run), "best_epoch": None if best_epoch is None else int(best_epoch),
            "stop_reason": reason, "converged": reason == "patience", "samples_seen": int(samples_seen),
            "seconds": float(seconds), "epochs_cap": int(epochs_cap), "patience": patience,
            "max_seconds": max_seconds, "steps": steps, "resumed_s": float(resumed_seconds)}
