"""The fetch layer against a file server on loopback: sources tried in order (a 403 falls through to the next),
HTML pages and cut transfers refused and never pinned, a stalled server reported with its URL, resumed
transfers, one transfer when two processes want the same file, and the suites' download paths end to end in the
upstream layouts."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import multiprocessing as mp
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from orca.download import Source, fetch, read_pin
from orca.exceptions import DataError

HTML = b"<!DOCTYPE html><html><head><title>Google Drive - Virus scan warning</title></head><body>...</body></html>"


class _Server:
    """Serves ``files`` (name -> bytes) under several behaviours, and counts the requests per path."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.hits: Counter = Counter()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                route, _, name = self.path.lstrip("/").partition("/")
                name = name.split("?")[0].rsplit("/", 1)[-1]  # folders are ignored: files by name
                server.hits[self.path.split("?")[0]] += 1
                data = server.files.get(name)
                if route == "forbidden":
                    return self._plain(403, b"AccessDenied")
                if route == "html":
                    return self._plain(200, HTML, "text/html; charset=utf-8")
                if data is None:
                    return self._plain(404, b"NoSuchKey")
                if route == "stall":
                    time.sleep(4)
                    return self._plain(200, data)
                if route == "truncated":  # announces the whole file, sends half, hangs up
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.send_header("Content-Type", "application/octet-stream")
                    self.end_headers()
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return None
                start = 0
                if self.headers.get("Range"):
                    start = int(self.headers["Range"].split("=")[1].split("-")[0])
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(data) - start))
                self.send_header("Content-Type", "application/octet-stream")
                self.end_headers()
                body = io.BytesIO(data[start:])
                slow = route == "slow"
                while block := body.read(1 << 16):
                    self.wfile.write(block)
                    if slow:
                        time.sleep(0.05)
                return None

            def _plain(self, code: int, body: bytes, kind: str = "text/plain") -> None:
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Content-Type", kind)
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def server():
    s = _Server()
    yield s
    s.httpd.shutdown()


def _npy(n: int = 50_000) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.arange(n, dtype=np.float64))
    return buf.getvalue()


def test_a_403_falls_through_to_the_next_source_and_the_checksum_is_held(server, tmp_path) -> None:
    payload = _npy()
    server.files["a.npy"] = payload
    sources = [Source("url", f"{server.base}/forbidden/a.npy", "S3"), Source("url", f"{server.base}/files/a.npy", "mirror")]
    got = fetch(sources, tmp_path / "a.npy", md5=hashlib.md5(payload).hexdigest(), progress=False, retries=0)
    assert got.path.read_bytes() == payload and got.source.label == "mirror" and not got.pinned
    assert "HTTP 403" in got.attempts[0]
    # a second call finds the verified copy and transfers nothing
    again = fetch(sources, tmp_path / "a.npy", md5=hashlib.md5(payload).hexdigest(), progress=False)
    assert again.source is None and server.hits["/files/a.npy"] == 1


def test_without_a_checksum_a_file_is_pinned_only_after_it_opens(server, tmp_path) -> None:
    payload = _npy()
    server.files["b.npy"] = payload
    dest = tmp_path / "b.npy"
    # an HTML page in place of data: refused, nothing in place, nothing pinned
    with pytest.raises(DataError, match="HTML page") as err:
        fetch([Source("drive", f"{server.base}/html/b.npy", "Google Drive")], dest, progress=False, retries=0)
    assert "data.url" in str(err.value) and "Google Drive" in str(err.value)
    assert not dest.exists() and read_pin(dest) is None and not list(tmp_path.glob("b.npy.download*"))
    # a transfer cut at half its Content-Length: refused, nothing pinned
    with pytest.raises(DataError, match="truncated|incomplete|Incomplete|Connection"):
        fetch([Source("url", f"{server.base}/truncated/b.npy", "S3")], dest, progress=False, retries=0)
    assert not dest.exists() and read_pin(dest) is None
    # the whole file opens as .npy: pinned with its digest and size, and held to them afterwards
    got = fetch([Source("url", f"{server.base}/files/b.npy", "mirror")], dest, progress=False)
    pin = read_pin(dest)
    assert got.pinned and pin["sha256"] == hashlib.sha256(payload).hexdigest() and pin["size"] == len(payload)
    assert pin["checked_by"] == "orca.filecheck" and "mirror" in pin["source"]
    dest.write_bytes(payload[:-8] + b"\0" * 8)  # changed after pinning
    with pytest.raises(DataError, match="does not match"):
        fetch([], dest, progress=False)


def test_a_cut_archive_is_refused_even_when_the_server_announces_no_length(tmp_path) -> None:
    import zipfile

    good = tmp_path / "src.zip"
    with zipfile.ZipFile(good, "w") as z:
        z.writestr("x.txt", "x" * 100_000)
    cut = tmp_path / "cut.zip"
    cut.write_bytes(good.read_bytes()[:-200])
    with pytest.raises(DataError, match="does not open as a .zip file"):
        fetch([Source("path", str(cut), "data.path")], tmp_path / "data.zip", progress=False)
    assert fetch([Source("path", str(good), "data.path")], tmp_path / "data.zip", progress=False).pinned


def test_a_stalled_server_is_reported_with_its_url(server, tmp_path) -> None:
    server.files["c.npy"] = _npy(10)
    start = time.perf_counter()
    with pytest.raises(DataError) as err:
        fetch([Source("url", f"{server.base}/stall/c.npy", "S3")], tmp_path / "c.npy", progress=False, timeout=1,
              retries=0)
    assert f"{server.base}/stall/c.npy" in str(err.value) and "Timeout" in str(err.value)
    assert time.perf_counter() - start < 4


def test_an_interrupted_transfer_resumes_from_its_partial_file(server, tmp_path) -> None:
    payload = _npy(400_000)
    server.files["d.npy"] = payload
    dest = tmp_path / "d.npy"
    # gdown keeps a cut transfer's bytes in a partial file beside the staging name and continues it by Range
    (tmp_path / "d.npy.download.part").write_bytes(payload[:1_000_000])
    got = fetch([Source("url", f"{server.base}/files/d.npy", "mirror")], dest, md5=hashlib.md5(payload).hexdigest(),
                progress=False)
    assert got.path.read_bytes() == payload


def _fetch_in_process(base: str, dest: str, md5: str, out: str) -> None:
    got = fetch([Source("url", f"{base}/slow/e.npy", "mirror")], dest, md5=md5, progress=False)
    Path(out).write_text(json.dumps({"served": got.source is not None}))


def test_two_processes_wanting_one_file_share_one_transfer(server, tmp_path) -> None:
    payload = _npy(300_000)  # about 2.4 MB at 64 KB per 50 ms: a transfer of a few seconds
    server.files["e.npy"] = payload
    md5 = hashlib.md5(payload).hexdigest()
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_fetch_in_process, args=(server.base, str(tmp_path / "e.npy"), md5,
                                                          str(tmp_path / f"out{i}.json"))) for i in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    served = sorted(json.loads((tmp_path / f"out{i}.json").read_text())["served"] for i in range(2))
    assert served == [False, True]  # one transferred, the other waited and found the verified copy
    assert server.hits["/slow/e.npy"] == 1 and (tmp_path / "e.npy").read_bytes() == payload


def test_nasbench360_download_path_end_to_end(server, tmp_path, monkeypatch) -> None:
    """Satellite in NAS-Bench-360's layout: S3 answers 403, the Drive source serves the files, the suite verifies
    (opens with the restricted unpickler, pins), reads, trains and scores."""
    from benchmarks.run import run
    from benchmarks.suites.nasbench360 import data as nb_data

    rng = np.random.default_rng(0)
    for name, n in (("train", 60), ("test", 20)):
        y = 1 + np.arange(n) % 24
        buf = io.BytesIO()
        np.save(buf, {"data": rng.normal(size=(n, 46)) + 0.1 * y[:, None], "label": y}, allow_pickle=True)
        server.files[f"satellite_{name}.npy"] = buf.getvalue()
    real_read = nb_data.read_json

    def table_on_loopback(path):
        table = real_read(path)
        if Path(path).name == "files.json":
            table = {**table, "s3": server.base + "/forbidden/{path}", "drive": server.base + "/files/{id}"}
            table["tasks"]["satellite"] = [dict(e, drive=e["file"]) for e in table["tasks"]["satellite"]]
        return table

    monkeypatch.setattr(nb_data, "read_json", table_on_loopback)
    monkeypatch.setenv("ORCA_NB360_ROOT", str(tmp_path / "nb"))
    overrides = {"data": {"source": "download"},
                 "method_params": {"cnn": {"widths": [8, 16], "blocks": 1, "kernel": 3, "epochs": 1, "batch_size": 8,
                                           "step_size": 1}}}
    paths = run("nasbench360", "smoke", tasks=["satellite"], methods=["cnn", "floor"], overrides=overrides,
                results=tmp_path / "results")
    records = [json.loads(p.read_text()) for p in paths]
    assert [r["status"] for r in records] == ["ok", "ok"], [r["error"] for r in records]
    served = records[0]["data"]["served_by"]
    assert served["satellite_train.npy"].startswith("Google Drive") or served["satellite_train.npy"] == \
        "already in place"
    assert server.hits["/forbidden/satellite/satellite_train.npy"] == 1 and server.hits["/files/satellite_train.npy"] == 1
    assert read_pin(tmp_path / "nb" / "satellite" / "satellite_train.npy")["size"] == \
        len(server.files["satellite_train.npy"])
    assert 0 <= records[0]["metrics"]["test"]["error"] <= 100


def test_pdebench_download_path_end_to_end(server, tmp_path, monkeypatch) -> None:
    """A PDEBench HDF5 file in its DaRUS layout, fetched from a mirror (data.url) of PDEBench's folder layout and
    checked against the MD5 in the file table, then read as a task."""
    from benchmarks.catalogue import get_suite
    from benchmarks.runner import resolve_config
    from benchmarks.suites.pdebench import data as pde_data

    suite = get_suite("pdebench")
    config = resolve_config(suite, "smoke", {"data": {"root": str(tmp_path / "gen")}})
    generated = pde_data.ensure_generated(config, "advection", 1, 40)
    payload = Path(generated).read_bytes()
    entry_path, _ = pde_data.real_path(config, "advection")
    entry = pde_data.read_json(pde_data.ROOT / "files.json")["files"]["advection"]
    real_read = pde_data.read_json

    def table_with_fixture_md5(path):
        table = real_read(path)
        if Path(path).name == "files.json":
            table["files"]["advection"]["current"]["md5"] = hashlib.md5(payload).hexdigest()
            table["url"] = server.base + "/forbidden/{id}"  # DaRUS unreachable: the mirror must serve it
        return table

    monkeypatch.setattr(pde_data, "read_json", table_with_fixture_md5)
    server.files[entry_path.name] = payload
    config = resolve_config(suite, "smoke", {"data": {"source": "download", "root": str(tmp_path / "real"),
                                                      "url": server.base + "/files"}})
    path, provenance = pde_data.locate(config, "advection", 1)
    assert path.read_bytes() == payload and provenance["served_by"].startswith("data.url")
    # the mirror holds PDEBench's folders: <url>/<path in files.json>/<file>
    assert server.hits[f"/files/{entry['path']}/{entry_path.name}"] == 1


def test_a_corrupt_copy_in_place_is_set_aside_and_fetched_again(server, tmp_path) -> None:
    payload = _npy()
    server.files["f.npy"] = payload
    dest = tmp_path / "f.npy"
    dest.write_bytes(payload[:100])  # an earlier, cut copy
    md5 = hashlib.md5(payload).hexdigest()
    got = fetch([Source("url", f"{server.base}/files/f.npy", "mirror")], dest, md5=md5, progress=False)
    assert got.path.read_bytes() == payload and (tmp_path / "f.npy.rejected").stat().st_size == 100
    assert "refused" in got.attempts[0]
    with pytest.raises(DataError, match="does not match") as err:  # a wrong published checksum: nothing in place
        fetch([Source("url", f"{server.base}/files/f.npy", "mirror")], tmp_path / "g.npy", md5="0" * 32,
              progress=False)
    assert "could not fetch g.npy" in str(err.value) and not (tmp_path / "g.npy").exists()
    with pytest.raises(DataError, match="HTTP 404"):
        fetch([Source("url", f"{server.base}/files/missing.npy", "mirror")], tmp_path / "m.npy", progress=False,
              retries=0)
