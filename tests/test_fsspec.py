"""fsspec's FTP file system, which pandas and dask use for ``ftp://`` paths, on top of ftplib2.

``fsspec.implementations.ftp`` imports ``FTP``, ``FTP_TLS``, ``Error`` and ``error_perm`` from
ftplib; each test puts ftplib2's in their place and drives ``FTPFileSystem`` against live
pyftpdlib: listing, whole and partial reads (fsspec stops a ``RETR`` from its callback and then
calls ``abort()`` and ``getmultiline()``, counting on ftplib's replies), seeking, uploads in
chunks and deletion, all on one connection that must never need to be replaced.

Run only these::

    python -m pytest -q -p no:cacheprovider tests/test_fsspec.py
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import fsspec.implementations.ftp as fsspec_ftp
import pytest

import ftplib2
from tests.servers import PASSWORD, USER, LiveServer


@pytest.fixture
def fs(
    server: LiveServer, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[fsspec_ftp.FTPFileSystem]:
    """An FTPFileSystem logged in to pyftpdlib, with ftplib2 in place of ftplib."""
    for name in ("FTP", "FTP_TLS", "Error", "error_perm"):
        monkeypatch.setattr(fsspec_ftp, name, getattr(ftplib2, name))
    filesystem = fsspec_ftp.FTPFileSystem(
        server.host, server.port, username=USER, password=PASSWORD, timeout=5
    )
    connection = filesystem.ftp
    assert isinstance(connection, ftplib2.FTP)
    yield filesystem
    # fsspec replaces its connection after an ftplib error: that must never have happened.
    assert filesystem.ftp is connection
    connection.close()


def test_ls_lists_the_files_with_their_sizes(fs: fsspec_ftp.FTPFileSystem, workdir: Path) -> None:
    (workdir / "a.bin").write_bytes(bytes(1234))
    (workdir / "sub").mkdir()
    entries = {entry["name"]: entry for entry in fs.ls(f"/{workdir.name}")}
    assert set(entries) == {f"/{workdir.name}/a.bin", f"/{workdir.name}/sub"}
    assert entries[f"/{workdir.name}/a.bin"]["size"] == 1234
    assert entries[f"/{workdir.name}/a.bin"]["type"] == "file"
    assert entries[f"/{workdir.name}/sub"]["type"] == "directory"


def test_cat_file_reads_whole_files_and_byte_ranges(
    fs: fsspec_ftp.FTPFileSystem, workdir: Path
) -> None:
    data = os.urandom(3 << 20)
    (workdir / "data.bin").write_bytes(data)
    path = f"/{workdir.name}/data.bin"
    assert fs.cat_file(path) == data
    for start, end in [(0, 10), (100_000, 300_000), (2_000_000, 2_000_001), (1, 3 << 19)]:
        assert fs.cat_file(path, start, end) == data[start:end]
    assert fs.cat_file(path, 3_000_000) == data[3_000_000:]
    assert fs.ls(f"/{workdir.name}", detail=False) == ["data.bin"]  # names only, as fsspec has it


def test_open_reads_at_offsets_and_after_seeks(fs: fsspec_ftp.FTPFileSystem, workdir: Path) -> None:
    data = os.urandom(2 << 20)
    (workdir / "data.bin").write_bytes(data)
    with fs.open(f"/{workdir.name}/data.bin", "rb", block_size=1 << 16) as remote:
        assert remote.read(1000) == data[:1000]
        for offset in (500_000, 70_000, 1_999_000, 1 << 20):
            remote.seek(offset)
            assert remote.read(5000) == data[offset : offset + 5000]
        remote.seek(-100, os.SEEK_END)
        assert remote.read() == data[-100:]
    assert fs.info(f"/{workdir.name}/data.bin")["size"] == len(data)


def test_put_file_uploads_in_chunks_and_rm_deletes(
    fs: fsspec_ftp.FTPFileSystem, workdir: Path, tmp_path: Path
) -> None:
    data = os.urandom(300_000)  # several chunks of fsspec's 64 KiB block size
    local = tmp_path / "local.bin"
    local.write_bytes(data)
    remote = f"/{workdir.name}/up.bin"
    fs.put_file(str(local), remote)
    assert (workdir / "up.bin").read_bytes() == data
    assert fs.cat_file(remote, 299_000, 299_100) == data[299_000:299_100]
    fs.rm(remote)
    assert not (workdir / "up.bin").exists()
    assert not fs.exists(remote)
