"""Interoperability: the same scenarios (login, upload and download, typed listings, resumed
transfers, renames and directories, pipelining, walk, explicit and implicit TLS) against
pyftpdlib and against a real vsftpd.

The vsftpd cases need ``vsftpd`` installed and root; they are skipped otherwise, unless
FTPLIB2_REQUIRE_VSFTPD=1 (as .ci/run sets it) turns the skip into a failure. Run only these
tests:

    PATH=$PATH:/usr/sbin FTPLIB2_REQUIRE_VSFTPD=1 python -m pytest tests/test_interop.py
"""

from __future__ import annotations

import contextlib
import datetime
import io
import os
import posixpath
import ssl
from pathlib import Path

import pytest
import trustme

import ftplib2
from tests.servers import (
    TIMEOUT,
    VSFTPD_PASSWORD,
    VSFTPD_USER,
    InteropTarget,
    VsftpdServer,
    fetch_each_pipelined,
    plant_partial_download,
    recv_all,
)


def test_interop_login_reports_success_and_a_working_directory(interop: InteropTarget) -> None:
    with contextlib.closing(interop.connect()) as ftp:
        assert ftp.lastresp == "230"
        assert ftp.pwd().startswith("/")
        assert ftp.voidcmd("NOOP").code == "200"


@pytest.mark.parametrize("passive", [True, False], ids=["passive", "active"])
def test_interop_upload_then_download_gives_the_same_bytes(
    interop: InteropTarget, interop_dir: str, passive: bool
) -> None:
    payload = os.urandom(3 << 20)
    remote = f"{interop_dir}/data.bin"
    with contextlib.closing(interop.connect(passive=passive)) as ftp:
        assert ftp.upload(io.BytesIO(payload), remote) == len(payload)
        received = io.BytesIO()
        assert ftp.download(remote, received) == len(payload)
        assert ftp.size(remote) == len(payload)
    assert received.getvalue() == payload


def test_interop_listing_gives_typed_entries(interop: InteropTarget, interop_dir: str) -> None:
    with contextlib.closing(interop.connect()) as ftp:
        ftp.mkd(f"{interop_dir}/sub dir")
        ftp.storbinary(f"STOR {interop_dir}/file one.txt", io.BytesIO(b"x" * 1234))
        entries = {entry.name: entry for entry in ftp.scandir(interop_dir)}
    assert set(entries) == {"sub dir", "file one.txt"}
    assert entries["sub dir"].type == "dir"
    assert entries["file one.txt"].type == "file"
    assert entries["file one.txt"].size == 1234
    modified = entries["file one.txt"].modify
    assert modified is not None and modified.tzinfo is not None
    now = datetime.datetime.now(datetime.UTC)
    assert abs(now - modified) < datetime.timedelta(days=1)


def test_interop_download_resumes_from_a_partial_file(
    interop: InteropTarget, interop_dir: str, tmp_path: Path
) -> None:
    payload = os.urandom(1 << 20)
    remote = f"{interop_dir}/resume.bin"
    local = tmp_path / "resume.bin"
    part = plant_partial_download(local, payload[:300_000])
    with contextlib.closing(interop.connect()) as ftp:
        ftp.storbinary(f"STOR {remote}", io.BytesIO(payload))
        assert ftp.download(remote, local, resume=True) == len(payload)
        assert "REST 300000" in ftp.sent
    assert local.read_bytes() == payload
    assert not part.exists()


def test_interop_upload_resumes_where_the_server_stopped(
    interop: InteropTarget, interop_dir: str
) -> None:
    payload = os.urandom(1 << 20)
    remote = f"{interop_dir}/resume-up.bin"
    with contextlib.closing(interop.connect()) as ftp:
        ftp.storbinary(f"STOR {remote}", io.BytesIO(payload[:400_000]))
        assert ftp.upload(io.BytesIO(payload), remote, resume=True) == len(payload)
        received = io.BytesIO()
        ftp.download(remote, received)
    assert received.getvalue() == payload


def test_interop_rename_delete_mkd_and_rmd(interop: InteropTarget, interop_dir: str) -> None:
    with contextlib.closing(interop.connect()) as ftp:
        ftp.storbinary(f"STOR {interop_dir}/old", io.BytesIO(b"data"))
        first, second = ftp.rename(f"{interop_dir}/old", f"{interop_dir}/new", both=True)
        assert (first.code, second.code) == ("350", "250")
        assert ftp.listdir(interop_dir) == ["new"]
        ftp.delete(f"{interop_dir}/new")
        made = ftp.mkd(f"{interop_dir}/made")
        assert made.endswith(f"{interop_dir}/made")
        assert ftp.isdir(f"{interop_dir}/made")
        ftp.rmd(f"{interop_dir}/made")
        assert ftp.listdir(interop_dir) == []


def test_interop_pipelined_downloads_and_listings_match_the_files(
    interop: InteropTarget, interop_dir: str
) -> None:
    files = {f"{interop_dir}/f{i}.bin": os.urandom(1000 * i + 1) for i in range(10)}
    with contextlib.closing(interop.connect()) as setup:
        for name, data in files.items():
            setup.upload(io.BytesIO(data), name)
    with ftplib2.FTP(timeout=TIMEOUT) as ftp:
        ftp.connect(interop.host, interop.port)
        ftp.login(interop.user, interop.passwd)
        spy = fetch_each_pipelined(ftp, files)
        assert sorted(posixpath.basename(n) for n in ftp.nlst(interop_dir)) == sorted(
            posixpath.basename(n) for n in files
        )
        assert len(spy.pipelined()) == len(files)  # all but the first RETR, and the NLST
        assert ftp.voidcmd("NOOP").code == "200"


def test_interop_walk_visits_the_whole_tree(interop: InteropTarget, interop_dir: str) -> None:
    with contextlib.closing(interop.connect()) as ftp:
        ftp.makedirs(f"{interop_dir}/a/b/c")
        ftp.storbinary(f"STOR {interop_dir}/a/one", io.BytesIO(b"1"))
        ftp.storbinary(f"STOR {interop_dir}/a/b/two", io.BytesIO(b"22"))
        base = ftp.pwd().rstrip("/")
        top = f"{base}/{interop_dir}"
        walked = [(path[len(top) :], sorted(d), sorted(f)) for path, d, f in ftp.walk(top)]
    assert walked == [
        ("", ["a"], []),
        ("/a", ["b"], ["one"]),
        ("/a/b", ["c"], ["two"]),
        ("/a/b/c", [], []),
    ]


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_interop_tls_protects_data_and_reuses_the_session(
    interop: InteropTarget,
    interop_dir: str,
    certificate_authority: trustme.CA,
    version: ssl.TLSVersion,
) -> None:
    payload = os.urandom(2 << 20)
    remote = f"{interop_dir}/secret.bin"
    context = ssl.create_default_context()
    certificate_authority.configure_trust(context)
    context.minimum_version = context.maximum_version = version
    with contextlib.closing(interop.connect_tls(context)) as ftp:
        assert isinstance(ftp.sock, ssl.SSLSocket)
        assert ftp.sock.version() == {"TLSv1_2": "TLSv1.2", "TLSv1_3": "TLSv1.3"}[version.name]
        ftp.upload(io.BytesIO(payload), remote)
        with ftp.transfercmd(f"RETR {remote}") as conn:
            assert isinstance(conn, ssl.SSLSocket)
            assert conn.session_reused
            received = recv_all(conn)
            conn.unwrap()
        assert ftp.voidresp().code == "226"
    assert received == payload


def test_interop_implicit_ftps_starts_tls_with_the_first_byte(
    vsftpd: VsftpdServer,
    tmp_path_factory: pytest.TempPathFactory,
    certificate_authority: trustme.CA,
    tls_client_context: ssl.SSLContext,
) -> None:
    workdir = tmp_path_factory.mktemp("vsftpd-implicit")
    workdir.chmod(0o755)
    pem = workdir / "server.pem"
    certificate_authority.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(
        str(pem)
    )
    implicit = VsftpdServer(workdir, str(pem), implicit=True)
    try:
        with contextlib.closing(
            ftplib2.FTP_TLS.secure(
                implicit.host,
                VSFTPD_USER,
                VSFTPD_PASSWORD,
                port=implicit.port,
                implicit=True,
                context=tls_client_context,
                timeout=TIMEOUT,
            )
        ) as ftp:
            assert isinstance(ftp.sock, ssl.SSLSocket)
            assert ftp.getwelcome().startswith("220")
            ftp.storbinary("STOR implicit.txt", io.BytesIO(b"over TLS"))
            assert ftp.listdir() == ["implicit.txt"]
    finally:
        implicit.stop()
