"""A training log a user can watch while refine runs: one CSV row per epoch, and TensorBoard scalars when the
``tensorboard`` package is installed (nothing is required beyond the CSV)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any


class EpochLog:
    """Appends each epoch's record to ``<log_dir>/refine_log.csv`` (flushed at once, so ``tail -f`` shows it) and,
    when TensorBoard is available, to event files under ``<log_dir>/tensorboard``.

    Columns are fixed by the first record; a later record's extra keys are left out of the CSV (they still go to
    TensorBoard). A file from an earlier run in the same folder is replaced, not appended to.
    """

    def __init__(self, log_dir: str | Path) -> None:
        self.dir = Path(log_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / "refine_log.csv"
        self._fh = open(self.path, "w", newline="", encoding="utf-8")  # noqa: SIM115 - closed by close()
        self._writer: csv.DictWriter | None = None
        try:
            from torch.utils.tensorboard import SummaryWriter

            self.tensorboard = SummaryWriter(str(self.dir / "tensorboard"))
        except ImportError:  # tensorboard is optional
            self.tensorboard = None

    def write(self, record: dict[str, Any]) -> None:
        """Log one epoch (``epoch``, ``step``, ``train_loss``, ``lr``, ``val_*``, ``seconds``)."""
        if self._writer is None:
            self._writer = csv.DictWriter(self._fh, fieldnames=list(record), extrasaction="ignore")
            self._writer.writeheader()
        self._writer.writerow(record)
        self._fh.flush()
        if self.tensorboard is not None:
            for key, value in record.items():
                if key not in ("epoch", "step") and isinstance(value, (int, float)):
                    self.tensorboard.add_scalar(key, value, record.get("step", 0))
            self.tensorboard.flush()

    def close(self) -> None:
        self._fh.close()
        if self.tensorboard is not None:
            self.tensorboard.close()
