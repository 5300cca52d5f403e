"""Resumable, verified downloads: bytes go to ``<file>.part`` (continued with an HTTP Range request after an
interruption), the digest is checked, and only then is the file renamed into place. A file whose digest does not
match is never used: it is removed and the error says so.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from pathlib import Path

from tqdm.auto import tqdm

from .exceptions import DataError

CHUNK = 1 << 20


def file_digest(path: str | os.PathLike, algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def verify(path: str | os.PathLike, md5: str | None = None, sha256: str | None = None) -> None:
    """Raise :class:`DataError` unless ``path`` has the given digests (those that are not ``None``)."""
    for algorithm, want in (("md5", md5), ("sha256", sha256)):
        if want:
            got = file_digest(path, algorithm)
            if got.lower() != want.lower():
                raise DataError(f"{path}: {algorithm} {got} does not match the expected {want}; the file is "
                                "truncated or corrupt and is not used")


def download(url: str, dest: str | os.PathLike, md5: str | None = None, sha256: str | None = None,
             timeout: float = 60.0, progress: bool = True) -> Path:
    """Fetch ``url`` to ``dest`` unless a verified copy is there already.

    An existing ``dest`` that fails verification is removed and fetched again. A partial ``dest.part`` from an
    interrupted run is continued when the server honours Range requests, else restarted. The finished file is
    verified before it is renamed to ``dest``; a mismatch removes it and raises :class:`DataError`.
    """
    dest = Path(dest)
    if dest.is_file():
        try:
            verify(dest, md5, sha256)
            return dest
        except DataError:
            dest.unlink()  # a corrupt or truncated copy is fetched again
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.is_file() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 - URLs come from our tables
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # the partial file is already complete
            response = None
        else:
            raise DataError(f"cannot fetch {url}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise DataError(f"cannot fetch {url}: {exc}; check the network, or place the file at {dest} by hand") from exc
    if response is not None:
        with response:
            resumed = have and response.status == 206
            mode = "ab" if resumed else "wb"
            total = response.headers.get("Content-Length")
            total = int(total) + (have if resumed else 0) if total else None
            with open(part, mode) as fh, tqdm(total=total, initial=have if resumed else 0, unit="B",
                                              unit_scale=True, desc=dest.name, disable=not progress) as bar:
                for block in iter(lambda: response.read(CHUNK), b""):
                    fh.write(block)
                    bar.update(len(block))
                fh.flush()
                os.fsync(fh.fileno())
    try:
        verify(part, md5, sha256)
    except DataError:
        part.unlink()
        raise
    os.replace(part, dest)
    return dest


def check_or_pin(path: Path) -> None:
    """For a file without a published checksum: hold it to the SHA-256 recorded beside it
    (``<file>.sha256``), or record that digest on first use."""
    record = path.with_name(path.name + ".sha256")
    if record.is_file():
        verify(path, sha256=record.read_text().split()[0])
    else:
        record.write_text(f"{file_digest(path)}  {path.name}\n")
