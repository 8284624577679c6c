"""Soak and concurrency against a real pyftpdlib server: thousands of transfers on one session
keep descriptors and memory flat, and many threads uploading and downloading at once keep
every file's SHA-256.

These tests are marked ``slow``, which the default run deselects (pytest.ini). Run only them:

    python -m pytest -m slow tests/test_soak.py
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import io
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler

import ftplib2
from tests.servers import (
    ThreadedFTPServer,
    hostile_open_fds,
    hostile_ports_outside_the_ephemeral_range,
    hostile_rss_bytes,
)

# --------------------------------------------------------------------------
# 15. Soak and concurrency against a real server (slow: run with -m slow)
# --------------------------------------------------------------------------

HOSTILE_SOAK_USER = "soak"
HOSTILE_SOAK_PASSWORD = "soak-password"


@pytest.fixture
def hostile_pyftpd(tmp_path: Path) -> Iterator[tuple[str, int, Path]]:
    """A pyftpdlib server in its own thread: (host, port, root directory)."""
    root = tmp_path / "root"
    root.mkdir()
    authorizer = DummyAuthorizer()
    authorizer.add_user(HOSTILE_SOAK_USER, HOSTILE_SOAK_PASSWORD, str(root), perm="elradfmwMT")
    handler = type(
        "HostileSoakHandler",
        (FTPHandler,),
        {"authorizer": authorizer, "passive_ports": hostile_ports_outside_the_ephemeral_range()},
    )
    logger = logging.getLogger("pyftpdlib")
    old_level = logger.level
    logger.setLevel(logging.WARNING)  # pyftpdlib logs every command at INFO
    server = ThreadedFTPServer(("127.0.0.1", 0), handler, "hostile")
    try:
        yield server.host, server.port, root
    finally:
        server.stop()
        logger.setLevel(old_level)


def hostile_soak_login(host: str, port: int) -> ftplib2.FTP:
    ftp = ftplib2.FTP(timeout=30)
    try:
        ftp.connect(host, port)
        ftp.login(HOSTILE_SOAK_USER, HOSTILE_SOAK_PASSWORD)
    except BaseException:
        ftp.close()
        raise
    return ftp


@pytest.mark.slow
def test_soak_of_10000_small_downloads_keeps_descriptors_and_memory_flat(
    hostile_pyftpd: tuple[str, int, Path],
) -> None:
    host, port, root = hostile_pyftpd
    payload = os.urandom(1024)
    (root / "small.bin").write_bytes(payload)

    def settled_fds(target: int | None) -> int:
        # The server shares this process: let it finish closing the last data connection.
        deadline = time.monotonic() + 5
        count = hostile_open_fds()
        while count != target and time.monotonic() < deadline:
            time.sleep(0.05)
            count = hostile_open_fds()
        return count

    with contextlib.closing(hostile_soak_login(host, port)) as ftp:

        def download() -> None:
            received = bytearray()
            ftp.retrbinary("RETR small.bin", received.extend)
            assert received == payload

        for _ in range(500):  # warm-up: caches, buffers, allocator pools
            download()
        gc.collect()
        fds_before = settled_fds(None)
        rss_before = hostile_rss_bytes()
        for _ in range(10_000):
            download()
        gc.collect()
        fds_after = settled_fds(fds_before)
        rss_after = hostile_rss_bytes()
        ftp.quit()
    assert fds_after == fds_before
    assert rss_after - rss_before < 20 << 20, f"RSS grew by {(rss_after - rss_before) >> 10} KiB"


@pytest.mark.slow
def test_32_threads_uploading_and_downloading_at_once_keep_every_sha256(
    hostile_pyftpd: tuple[str, int, Path],
) -> None:
    host, port, root = hostile_pyftpd
    files_per_thread = 4
    sent: dict[str, str] = {}
    received: dict[str, str] = {}
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(number: int) -> None:
        try:
            with contextlib.closing(hostile_soak_login(host, port)) as ftp:
                for i in range(files_per_thread):
                    name = f"t{number:02d}-{i}.bin"
                    data = os.urandom(256 << 10)
                    ftp.storbinary("STOR " + name, io.BytesIO(data))
                    back = bytearray()
                    ftp.retrbinary("RETR " + name, back.extend)
                    with lock:
                        sent[name] = hashlib.sha256(data).hexdigest()
                        received[name] = hashlib.sha256(back).hexdigest()
                ftp.quit()
        except BaseException as exc:  # noqa: BLE001 - reported by the test's thread
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not [thread for thread in threads if thread.is_alive()]
    assert errors == []
    assert len(sent) == 32 * files_per_thread
    assert received == sent
    on_disk = {name: hashlib.sha256((root / name).read_bytes()).hexdigest() for name in sent}
    assert on_disk == sent
