"""Verified downloads from an ordered list of sources, safe under parallel jobs.

:func:`fetch` puts one file in place:

- **one transfer at a time per file**: a lock (``filelock``) beside the target makes parallel jobs, processes and
  Ray tasks wait for the first one's transfer and then reuse its file;
- **sources in order**: each :class:`Source` (a URL, a Google Drive file, a local copy) is tried in turn until
  one gives a file that passes every check; the result says which one served it, and the error, if none did,
  lists what each source answered and what to do;
- **transfers** go through ``gdown`` (a maintained library): it follows Google Drive's confirmation pages,
  resumes an interrupted transfer from its partial file with an HTTP Range request, checks the received length
  against Content-Length, retries with back-off and honours a timeout. (``pooch``'s HTTP downloader was
  considered first; it neither resumes nor checks the length, which matters for files of 1–24 GB.)
- **checks before anything is moved into place**: the published size and MD5/SHA-256 where known; a file without a
  published checksum must first open as its format (:mod:`orca.filecheck`: an HTML page or a cut archive is
  refused), and only then is its SHA-256 and size recorded ("pinned") in ``<file>.pin.json`` and held to on
  every later use;
- nothing half-written is ever left under the target's name; every network failure is reported as a
  :class:`~orca.exceptions.DataError` naming the URL.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .exceptions import DataError
from .filecheck import check_opens

CHUNK = 1 << 20
KINDS = ("url", "drive", "path")


@dataclass(frozen=True)
class Source:
    """Where a file may come from.

    Parameters
    ----------
    kind : {"url", "drive", "path"}
        An HTTP(S) URL, a Google Drive file (``where`` is a Drive URL, fetched with its confirmation flow), or a
        local file to copy.
    where : str
        The URL or the path.
    label : str
        What the source is called in messages and provenance ("S3", "Google Drive", "data.url", ...).
    """

    kind: str
    where: str
    label: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"source kind {self.kind!r}; expected one of {list(KINDS)}")


@dataclass(frozen=True)
class Fetched:
    """The file in place and how it got there (``source`` is ``None`` when it was already there)."""

    path: Path
    source: Source | None
    pinned: bool
    attempts: tuple[str, ...] = ()


def file_digest(path: str | os.PathLike, algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def verify(path: str | os.PathLike, md5: str | None = None, sha256: str | None = None,
           size: int | None = None) -> None:
    """Raise :class:`DataError` unless ``path`` has the given size and digests (those that are not ``None``)."""
    if size is not None and os.path.getsize(path) != size:
        raise DataError(f"{path}: {os.path.getsize(path)} bytes where {size} are expected; the file is truncated "
                        "or not the expected one and is not used")
    for algorithm, want in (("md5", md5), ("sha256", sha256)):
        if want:
            got = file_digest(path, algorithm)
            if got.lower() != want.lower():
                raise DataError(f"{path}: {algorithm} {got} does not match the expected {want}; the file is "
                                "truncated or corrupt and is not used")


def pin_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".pin.json")


def read_pin(dest: Path) -> dict | None:
    """The digest recorded for a file without a published checksum (``<file>.pin.json``; the older
    ``<file>.sha256`` text record is read too), or ``None``."""
    if pin_path(dest).is_file():
        return json.loads(pin_path(dest).read_text(encoding="utf-8"))
    legacy = dest.with_name(dest.name + ".sha256")
    if legacy.is_file():
        return {"sha256": legacy.read_text(encoding="utf-8").split()[0], "size": None}
    return None


def _write_pin(dest: Path, staged: Path, source: Source, check: str) -> None:
    record = {"sha256": file_digest(staged), "size": staged.stat().st_size, "file": dest.name,
              "source": f"{source.label}: {source.where}", "checked_by": check,
              "pinned_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    tmp = pin_path(dest).with_name(pin_path(dest).name + ".tmp")
    tmp.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, pin_path(dest))


def _accept(path: Path, name: str, md5: str | None, sha256: str | None, size: int | None,
            checks: dict[str, Callable[[Path], None]] | None, pin: dict | None) -> None:
    """Raise :class:`DataError` unless ``path`` may be used as ``name``."""
    verify(path, md5=md5, sha256=sha256, size=size)
    if md5 or sha256:
        return
    if pin is not None:  # held to the digest recorded when it was first checked
        verify(path, sha256=pin["sha256"], size=pin.get("size"))
        return
    check_opens(path, name, checks)


def _transfer(source: Source, staged: Path, timeout: float, retries: int, progress: bool) -> None:
    """One source's bytes into ``staged`` (complete or an exception)."""
    if source.kind == "path":
        if not Path(source.where).is_file():
            raise DataError(f"no file at {source.where}")
        shutil.copyfile(source.where, staged)
        return
    import gdown
    import requests

    try:
        gdown.download(url=source.where, output=str(staged), quiet=not progress, resume=True, timeout=timeout,
                       retries=retries)
    except requests.HTTPError as exc:
        code = exc.response.status_code if exc.response is not None else "?"
        raise DataError(f"HTTP {code} from {source.where}") from exc
    except Exception as exc:  # noqa: BLE001 - timeouts, resets, Drive refusals: all reported with the URL
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise DataError(f"{type(exc).__name__} from {source.where}: {detail}") from exc
    if not staged.is_file():
        raise DataError(f"{source.where} gave no file")


def fetch(sources: list[Source], dest: str | os.PathLike, *, md5: str | None = None, sha256: str | None = None,
          size: int | None = None, checks: dict[str, Callable[[Path], None]] | None = None,
          timeout: float = 60.0, retries: int = 2, progress: bool = True, lock_timeout: float = -1) -> Fetched:
    """Put a verified copy of a file at ``dest``, from the first of ``sources`` that gives one.

    Parameters
    ----------
    sources : list of Source
        Tried in order; an empty list only checks a copy already in place.
    dest : path
        Where the file goes.
    md5, sha256, size : optional
        Published checksums and size. Without a checksum the file must open as its format (``checks`` adds
        suffix-specific checks to :mod:`orca.filecheck`'s) before its SHA-256 and size are pinned.
    timeout, retries : float, int
        Per-request timeout in seconds and retries (with back-off, resuming the transfer) per source.
    lock_timeout : float
        Seconds to wait for another process's transfer of the same file (``-1``: as long as it takes).

    Returns
    -------
    Fetched
        The path, the source that served it (``None`` if it was already in place) and whether it was pinned now.
    """
    from filelock import FileLock, Timeout

    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        with FileLock(str(dest.with_name(dest.name + ".lock")), timeout=lock_timeout):
            return _fetch_locked(sources, dest, md5, sha256, size, checks, timeout, retries, progress)
    except Timeout as exc:
        raise DataError(f"another process has been fetching {dest.name} for over {lock_timeout} s "
                        f"(lock {dest.name}.lock); try again when it has finished") from exc


def _fetch_locked(sources: list[Source], dest: Path, md5, sha256, size, checks, timeout, retries,
                  progress) -> Fetched:
    pin = read_pin(dest)
    attempts: list[str] = []  # why each source (the copy in place first) was refused
    if dest.is_file():
        try:
            _accept(dest, dest.name, md5, sha256, size, checks, pin)
            if not (md5 or sha256) and pin is None:  # placed by hand: trusted from now on, after it opened
                _write_pin(dest, dest, Source("path", str(dest), "placed by hand"), "orca.filecheck")
                return Fetched(dest, None, True)
            return Fetched(dest, None, False)
        except DataError as exc:
            if not sources:
                raise
            bad = dest.with_name(dest.name + ".rejected")
            os.replace(dest, bad)  # kept for inspection, never read again under its name
            attempts.append(f"the copy in place was refused and moved to {bad.name}: {exc}")
    if not sources:
        raise DataError(f"{dest} is missing")
    staged = dest.with_name(dest.name + ".download")
    for source in sources:
        try:
            _transfer(source, staged, timeout, retries, progress)
            _accept(staged, dest.name, md5, sha256, size, checks, pin)
        except DataError as exc:
            attempts.append(f"{source.label} ({source.where}): {exc}")
            staged.unlink(missing_ok=True)  # a refused file is never resumed or kept under a usable name
            continue
        pinned = not (md5 or sha256) and pin is None
        if pinned:
            _write_pin(dest, staged, source, "orca.filecheck")
        os.replace(staged, dest)
        return Fetched(dest, source, pinned, tuple(attempts))
    raise DataError(f"could not fetch {dest.name} from any of its {len(sources)} source(s):\n  - "
                    + "\n  - ".join(attempts)
                    + f"\nPlace a copy at {dest} by hand (it is checked before use), or give another location with "
                      "data.url (a URL) or data.path (a local file or folder).")
