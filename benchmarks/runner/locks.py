"""One lock per job, so that runners sharing a results folder never run, delete or overwrite each other's work.

A runner claims a job by taking its lock (``results/<suite>/<preset>/locks/<job>.lock``) without waiting; it
holds the lock while the job trains and until its result is written. The lock is an OS file lock (``flock``
through :mod:`filelock`): the kernel releases it when the holder exits, however it exits, so a lock that can be
taken belongs to nobody alive, and what its job left behind (half-written temporaries, a checkpoint) may be
cleaned or resumed by the taker. A job whose lock is held is another live runner's: it is skipped and reported.
On a network filesystem ``flock`` may not be honoured across machines; Ray runs take the locks in the driver.
"""

from __future__ import annotations

from pathlib import Path

from filelock import FileLock, Timeout


class JobLock:
    """A non-blocking exclusive lock on one job."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = FileLock(path, timeout=0, thread_local=False)

    def acquire(self) -> bool:
        """Take the lock now, or return False when a live process holds it."""
        try:
            self._lock.acquire()
        except Timeout:
            return False
        return True

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release()


def remove_temporaries(folder: Path, name: str) -> list[Path]:
    """Delete ``.<name>.*.tmp`` files in ``folder`` (what a killed atomic write leaves); only call this while
    holding the lock of the job they belong to."""
    stale = sorted(folder.glob(f".{name}.*.tmp")) if folder.is_dir() else []
    for path in stale:
        path.unlink(missing_ok=True)
    return stale
