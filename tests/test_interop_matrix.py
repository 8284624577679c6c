"""One battery of operations against five real FTP servers: the interoperability matrix.

Every test here runs once per server: pyftpdlib and vsftpd (the suite's shared fixtures),
proftpd 1.3.8 with mod_tls and mod_digest (the shared ``proftpd`` fixture of tests/fixtures.py),
pure-ftpd 1.0.50 and Twisted's FTP server (the fixtures below), all three with the launchers of
``tests/interop_servers.py``.  Each test is one operation a user performs,
checked by what the user sees: file contents and hashes, names, sizes, times, replies,
exceptions.

What a server lacks is not a silent skip: ``NOT_APPLICABLE`` maps (server, operation) to the
reason, each such case is skipped with that reason, and Doc/howto/servers.rst carries the same
table (``test_the_documented_table_is_the_table_of_the_tests`` keeps the two equal).  Where an
operation fails today for a reason ftplib2 is to fix, ``XFAIL`` marks it strictly: the test
fails as soon as the fix lands, so that the mark is taken off with it.

Where a server cannot run (not installed, not root) its tests skip with the reason, unless the
environment requires it (``FTPLIB2_REQUIRE_VSFTPD``, ``FTPLIB2_REQUIRE_PROFTPD``,
``FTPLIB2_REQUIRE_PUREFTPD``, ``FTPLIB2_REQUIRE_TWISTED``, all set by ``.ci/run``).

Run only this module::

    python -m pytest -q -p no:cacheprovider tests/test_interop_matrix.py
    python -m pytest -q -p no:cacheprovider tests/test_interop_matrix.py -k proftpd
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import hashlib
import io
import os
import pathlib
import posixpath
import re
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import trustme
from pyftpdlib.authorizers import DummyAuthorizer

import ftplib2
from tests.interop_servers import (
    RealServer,
    issue_certificate,
    nobody_root,
    pureftpd_unavailable,
    start_pureftpd,
    start_twisted,
    twisted_unavailable,
    unavailable_or_fail,
)
from tests.servers import (
    PASSWORD,
    TIMEOUT,
    USER,
    VSFTPD_PASSWORD,
    VSFTPD_USER,
    LiveServer,
    RecordingFTP,
    VsftpdServer,
    open_session,
    plant_partial_download,
    proto_cmds_without,
    recv_all,
    running_server,
)
from tests.test_checksums import ChecksumHandler, checksum_pyftpdlib

SERVERS = ("pyftpdlib", "vsftpd", "proftpd", "pure-ftpd", "twisted")

# (server, operation) -> why the server cannot do it.  Doc/howto/servers.rst has the same table.
NOT_APPLICABLE: dict[tuple[str, str], str] = {
    ("pyftpdlib", "implicit-ftps"): "pyftpdlib has no implicit FTPS",
    ("vsftpd", "mlsd"): "vsftpd has no MLSD (nor MLST)",
    ("vsftpd", "set-mtime"): "vsftpd has no MFMT",
    ("pure-ftpd", "implicit-ftps"): (
        "Debian's pure-ftpd is built without implicit TLS (a build with it speaks nothing else)"
    ),
    ("twisted", "ascii"): (
        "Twisted's server fails every TYPE A transfer with 426 "
        "(its line-end converter raises TypeError)"
    ),
    ("twisted", "size-after-ascii"): "Twisted's server has no working ASCII transfers",
    ("twisted", "nlst-no-argument"): "Twisted's server answers NLST without an argument with 500",
    ("twisted", "mlsd"): "Twisted's server has no MLSD (nor MLST)",
    ("twisted", "rest"): "Twisted's server has no REST",
    ("twisted", "set-mtime"): "Twisted's server has no MFMT",
    ("twisted", "tls-1.2"): "Twisted's FTP server has no TLS",
    ("twisted", "tls-1.3"): "Twisted's FTP server has no TLS",
    ("twisted", "implicit-ftps"): "Twisted's FTP server has no TLS",
}

# (server, operation) -> why it fails today, for strict xfail marks.
XFAIL: dict[tuple[str, str], str] = {}

# Servers without ABOR: there abort() raises error_perm once no transfer is owed, and stays in step.
WITHOUT_ABOR = {"twisted"}

OPERATIONS = (
    "login",
    "directories",
    "binary-5mib",
    "ascii",
    "size-after-ascii",
    "nlst",
    "nlst-no-argument",
    "dir",
    "mlsd",
    "rename-delete",
    "rest",
    "passive",
    "active",
    "abort-mid-transfer",
    "abort-after-completion",
    "200-files",
    "features",
    "scandir",
    "stat",
    "walk",
    "download-resume",
    "upload-resume",
    "open",
    "open-closed-early",
    "segments",
    "mdtm",
    "set-mtime",
    "tls-1.2",
    "tls-1.3",
    "implicit-ftps",
    "ipv6",
)


def servers_for(operation: str) -> list[pytest.param]:
    """The five servers as parameters of `operation`'s test, with its N/A and xfail marks."""
    assert operation in OPERATIONS, operation
    params = []
    for name in SERVERS:
        marks: list[pytest.MarkDecorator] = []
        if (name, operation) in NOT_APPLICABLE:
            marks.append(pytest.mark.skip(reason=f"N/A: {NOT_APPLICABLE[name, operation]}"))
        elif (name, operation) in XFAIL:
            marks.append(pytest.mark.xfail(strict=True, reason=XFAIL[name, operation]))
        params.append(pytest.param(name, id=name, marks=marks))
    return params


def battery(operation: str) -> pytest.MarkDecorator:
    """Parametrize a test's `target` over the five servers for `operation`."""
    return pytest.mark.parametrize("target", servers_for(operation), indirect=True)


# --------------------------------------------------------------------------
# The servers, as one kind of target
# --------------------------------------------------------------------------


@dataclasses.dataclass
class Target:
    """A server of the matrix: where to reach it, how to log in, where its files are.

    `root` is the directory the server's ``/`` maps to on this machine (``/`` itself for
    vsftpd, which does not chroot here), for tests that look at or put files on its disk.
    ``extra(kind)`` gives the server's ``(host, port)`` for ``"implicit"`` FTPS or for
    ``"ipv6"``, starting what that takes only when a test asks, or None where it has none.
    """

    name: str
    host: str
    port: int
    user: str
    passwd: str
    context: ssl.SSLContext
    root: pathlib.Path
    tls_port: int | None
    extra: Callable[[str], tuple[str, int] | None]

    def connect(self, *, passive: bool = True, timeout: float = TIMEOUT) -> RecordingFTP:
        return self.connect_to(self.host, self.port, passive=passive, timeout=timeout)

    def connect_to(
        self, host: str, port: int, *, passive: bool = True, timeout: float = TIMEOUT
    ) -> RecordingFTP:
        ftp = RecordingFTP(timeout=timeout)
        try:
            ftp.connect(host, port)
            ftp.login(self.user, self.passwd)
            ftp.set_pasv(passive)
        except BaseException:
            ftp.close()
            raise
        return ftp

    def connect_tls(self, context: ssl.SSLContext | None = None) -> ftplib2.FTP_TLS:
        assert self.tls_port is not None
        return ftplib2.FTP_TLS.secure(
            self.host, self.user, self.passwd,
            port=self.tls_port, context=context or self.context, timeout=TIMEOUT,
        )  # fmt: skip


@pytest.fixture(scope="session")
def pureftpd(
    tmp_path_factory: pytest.TempPathFactory, certificate_authority: trustme.CA
) -> Iterator[RealServer]:
    """pure-ftpd 1.0.50 on 127.0.0.1 with explicit FTPS, from the unpacked Debian package.

    Its ::1 side is a second process on the same root, started by `pureftpd_v6` when a test
    asks for it.
    """
    reason = pureftpd_unavailable()
    if reason is not None:
        unavailable_or_fail("pure-ftpd", reason)
    workdir = tmp_path_factory.mktemp("pure-ftpd")
    certfile = issue_certificate(certificate_authority, workdir / "tls.pem")
    root = nobody_root("pure-ftpd")
    server = RealServer("pure-ftpd", "127.0.0.1", 0, root, [])
    try:
        daemon, server.port = start_pureftpd(workdir, certfile, root, "127.0.0.1")
        server.daemons.append(daemon)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pureftpd_v6(
    pureftpd: RealServer,
    tmp_path_factory: pytest.TempPathFactory,
    certificate_authority: trustme.CA,
) -> RealServer:
    """`pureftpd`, with a second process serving its root on ::1 (v6_port)."""
    if pureftpd.v6_port is None:
        workdir = tmp_path_factory.mktemp("pure-ftpd-v6")
        certfile = issue_certificate(certificate_authority, workdir / "tls.pem")
        daemon, pureftpd.v6_port = start_pureftpd(workdir, certfile, pureftpd.root, "::1")
        pureftpd.daemons.append(daemon)
    return pureftpd


@pytest.fixture(scope="session")
def twisted_ftpd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealServer]:
    """Twisted's FTP server (no TLS) with one in-memory user whose home is a temporary root."""
    reason = twisted_unavailable()
    if reason is not None:
        unavailable_or_fail("twisted", reason)
    server = start_twisted(tmp_path_factory.mktemp("twisted"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def vsftpd_implicit(
    vsftpd: VsftpdServer,
    tmp_path_factory: pytest.TempPathFactory,
    certificate_authority: trustme.CA,
) -> Iterator[VsftpdServer]:
    """A second vsftpd, with implicit_ssl=YES (it has one mode per process)."""
    yield from _another_vsftpd(tmp_path_factory, certificate_authority, implicit=True)


@pytest.fixture(scope="session")
def vsftpd_v6(
    vsftpd: VsftpdServer,
    tmp_path_factory: pytest.TempPathFactory,
    certificate_authority: trustme.CA,
) -> Iterator[VsftpdServer]:
    """A second vsftpd, on ::1 (it listens on one address family per process)."""
    yield from _another_vsftpd(tmp_path_factory, certificate_authority, ipv6=True)


def _another_vsftpd(
    tmp_path_factory: pytest.TempPathFactory, ca: trustme.CA, **options: bool
) -> Iterator[VsftpdServer]:
    workdir = tmp_path_factory.mktemp("vsftpd-" + "-".join(options))
    workdir.chmod(0o755)
    server = VsftpdServer(workdir, str(issue_certificate(ca, workdir / "server.pem")), **options)
    yield server
    server.stop()


def _target(request: pytest.FixtureRequest, name: str, context: ssl.SSLContext) -> Target:
    def fixture(fixture_name: str) -> object:
        return request.getfixturevalue(fixture_name)

    if name == "pyftpdlib":
        plain: LiveServer = fixture("server")
        tls: LiveServer = fixture("tls_server")

        def pyftpdlib_extra(kind: str) -> tuple[str, int] | None:
            if kind == "ipv6":
                v6: LiveServer = fixture("server_v6")
                return v6.host, v6.port
            return None

        return Target(
            name, plain.host, plain.port, USER, PASSWORD, context, plain.root, tls.port,
            pyftpdlib_extra,
        )  # fmt: skip
    if name == "vsftpd":
        real: VsftpdServer = fixture("vsftpd")

        def vsftpd_extra(kind: str) -> tuple[str, int] | None:
            other: VsftpdServer = fixture(
                {"implicit": "vsftpd_implicit", "ipv6": "vsftpd_v6"}[kind]
            )
            return other.host, other.port

        return Target(
            name, real.host, real.port, VSFTPD_USER, VSFTPD_PASSWORD, context, pathlib.Path("/"),
            real.port, vsftpd_extra,
        )  # fmt: skip
    fixture_name = {"proftpd": "proftpd", "pure-ftpd": "pureftpd", "twisted": "twisted_ftpd"}[name]
    started: RealServer = fixture(fixture_name)

    def real_extra(kind: str) -> tuple[str, int] | None:
        if kind == "implicit":
            return (started.host, started.implicit_port) if started.implicit_port else None
        if name == "pure-ftpd":
            fixture("pureftpd_v6")
        return ("::1", started.v6_port) if started.v6_port else None

    return Target(
        name, started.host, started.port, started.user, started.passwd, context, started.root,
        started.port if started.tls else None, real_extra,
    )  # fmt: skip


@pytest.fixture
def target(request: pytest.FixtureRequest, tls_client_context: ssl.SSLContext) -> Target:
    """The server of this test's parameter (see `battery`)."""
    return _target(request, request.param, tls_client_context)


@pytest.fixture
def remote_dir(target: Target) -> Iterator[str]:
    """A fresh directory on the target's server (a path from its root), removed afterwards."""
    # No "-": Twisted takes a name re.escape() would change for a glob (see servers.rst).
    name = f"matrix_{uuid.uuid4().hex[:12]}"
    with contextlib.closing(target.connect()) as ftp:
        path = posixpath.join(ftp.pwd(), name)
        ftp.mkd(path)
    yield path
    with contextlib.closing(target.connect()) as ftp:
        ftp.rmtree(path)


@pytest.fixture
def ftp(target: Target, remote_dir: str) -> Iterator[RecordingFTP]:
    """A passive session with the target, logged in and inside `remote_dir`."""
    client = target.connect()
    try:
        client.cwd(remote_dir)
        yield client
    finally:
        client.close()


def local_dir(target: Target, remote_dir: str) -> pathlib.Path:
    """`remote_dir` as a path on this machine."""
    return target.root / remote_dir.lstrip("/")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def basenames(names: list[str]) -> set[str]:
    """NLST names without directory parts, ``.`` and ``..`` (servers differ on all three)."""
    return {posixpath.basename(name) for name in names} - {".", ".."}


# --------------------------------------------------------------------------
# The battery
# --------------------------------------------------------------------------


@battery("login")
def test_login_gives_230_and_a_working_directory(target: Target) -> None:
    with contextlib.closing(target.connect()) as ftp:
        assert ftp.lastresp == "230"
        assert ftp.pwd().startswith("/")
        assert ftp.voidcmd("NOOP").code == "200"
        assert ftp.quit().code == "221"


@battery("directories")
def test_pwd_cwd_mkd_rmd(target: Target, ftp: ftplib2.FTP, remote_dir: str) -> None:
    assert ftp.pwd() == remote_dir
    made = ftp.mkd("sub dir")
    assert made in ("sub dir", f"{remote_dir}/sub dir")
    ftp.cwd("sub dir")
    assert ftp.pwd() == f"{remote_dir}/sub dir"
    ftp.cwd("..")
    assert ftp.pwd() == remote_dir
    with pytest.raises(ftplib2.error_perm):
        ftp.cwd("no such dir")
    ftp.rmd("sub dir")
    assert ftp.listdir() == []


@battery("binary-5mib")
def test_5_mib_binary_up_and_down_keep_the_sha256(ftp: ftplib2.FTP) -> None:
    payload = os.urandom(5 << 20)
    assert ftp.storbinary("STOR big.bin", io.BytesIO(payload)).code == "226"
    digest = hashlib.sha256()
    count = 0

    def take(block: bytes) -> None:
        nonlocal count
        count += len(block)
        digest.update(block)

    assert ftp.retrbinary("RETR big.bin", take).code == "226"
    assert count == len(payload)
    assert digest.hexdigest() == sha256(payload)
    assert ftp.size("big.bin") == len(payload)


ASCII_TEXT = b"first line\nsecond line\r\n\nlast line, no ending"
ASCII_LINES = ["first line", "second line", "", "last line, no ending"]


def stored_text(target: Target) -> bytes:
    """ASCII_TEXT as the server stores it after an ASCII upload."""
    # vsftpd converts line ends only with ascii_upload_enable=YES, which is off by default.
    ending = "\r\n" if target.name == "vsftpd" else "\n"
    return "".join(line + ending for line in ASCII_LINES).encode()


@battery("ascii")
def test_ascii_storlines_and_retrlines_round_trip(target: Target, ftp: ftplib2.FTP) -> None:
    ftp.storlines("STOR text.txt", io.BytesIO(ASCII_TEXT))
    lines: list[str] = []
    ftp.retrlines("RETR text.txt", lines.append)
    assert lines == ASCII_LINES
    stored = bytearray()
    ftp.retrbinary("RETR text.txt", stored.extend)
    assert bytes(stored) == stored_text(target)
    # A Unix text file sent in binary comes back as the same lines.
    ftp.storbinary("STOR unix.txt", io.BytesIO(b"a\nb b\n\nc\n"))
    lines.clear()
    ftp.retrlines("RETR unix.txt", lines.append)
    assert lines == ["a", "b b", "", "c"]


@battery("size-after-ascii")
def test_size_after_an_ascii_transfer_is_the_stored_size(target: Target, ftp: ftplib2.FTP) -> None:
    ftp.storlines("STOR text.txt", io.BytesIO(ASCII_TEXT))
    ftp.retrlines("RETR text.txt", lambda line: None)
    assert ftp.size("text.txt") == len(stored_text(target))
    ftp.retrlines("LIST", lambda line: None)
    assert ftp.size("text.txt") == len(stored_text(target))


def _three_files(ftp: ftplib2.FTP) -> set[str]:
    names = {"one.txt", "two words.txt", "three.bin"}
    for name in names:
        ftp.storbinary(f"STOR {name}", io.BytesIO(name.encode()))
    ftp.mkd("a dir")
    return names | {"a dir"}


@battery("nlst")
def test_nlst_of_a_directory_names_its_entries(ftp: ftplib2.FTP, remote_dir: str) -> None:
    names = _three_files(ftp)
    assert basenames(ftp.nlst(remote_dir)) == names
    assert basenames(ftp.nlst(".")) == names


@battery("nlst-no-argument")
def test_nlst_without_argument_names_the_working_directory(ftp: ftplib2.FTP) -> None:
    names = _three_files(ftp)
    assert basenames(ftp.nlst()) == names


@battery("dir")
def test_dir_lines_parse_into_the_entries(ftp: ftplib2.FTP) -> None:
    names = _three_files(ftp)
    lines: list[str] = []
    ftp.dir(lines.append)
    entries = [ftplib2.parse_list_line(line) for line in lines]
    by_name = {e.name: e for e in entries if e is not None and e.name not in (".", "..")}
    assert set(by_name) == names
    assert by_name["a dir"].type == "dir"
    assert by_name["three.bin"].type == "file"
    assert by_name["three.bin"].size == len(b"three.bin")


@battery("mlsd")
def test_mlsd_gives_names_and_facts(ftp: ftplib2.FTP) -> None:
    names = _three_files(ftp)
    listing = {
        name: facts for name, facts in ftp.mlsd(facts=["type", "size"]) if name not in (".", "..")
    }
    assert set(listing) == names
    assert listing["a dir"]["type"] == "dir"
    assert listing["three.bin"]["type"] == "file"
    assert listing["three.bin"]["size"] == str(len(b"three.bin"))


@battery("rename-delete")
def test_rename_then_delete(ftp: ftplib2.FTP) -> None:
    ftp.storbinary("STOR old.txt", io.BytesIO(b"contents"))
    ftp.rename("old.txt", "new.txt")
    assert ftp.listdir() == ["new.txt"]
    received = bytearray()
    ftp.retrbinary("RETR new.txt", received.extend)
    assert received == b"contents"
    ftp.delete("new.txt")
    assert ftp.listdir() == []
    with pytest.raises(ftplib2.error_perm):
        ftp.delete("new.txt")


@battery("rest")
def test_rest_resumes_retr_and_stor_at_the_offset(ftp: ftplib2.FTP) -> None:
    payload = os.urandom(100_000)
    ftp.storbinary("STOR data.bin", io.BytesIO(payload))
    tail = bytearray()
    ftp.retrbinary("RETR data.bin", tail.extend, rest=60_000)
    assert tail == payload[60_000:]
    ftp.storbinary("STOR part.bin", io.BytesIO(payload[:30_000]))
    ftp.storbinary("STOR part.bin", io.BytesIO(payload[30_000:]), rest=30_000)
    whole = bytearray()
    ftp.retrbinary("RETR part.bin", whole.extend)
    assert whole == payload


def _transfers_in_mode(session: RecordingFTP, remote_dir: str) -> None:
    payload = os.urandom(300_000)
    session.cwd(remote_dir)
    session.storbinary("STOR mode.bin", io.BytesIO(payload))
    received = bytearray()
    session.retrbinary("RETR mode.bin", received.extend)
    assert received == payload
    assert session.listdir() == ["mode.bin"]
    assert basenames(session.nlst(remote_dir)) == {"mode.bin"}


def _verbs(session: RecordingFTP) -> set[str]:
    return {line.split(" ")[0] for line in session.sent}


@battery("passive")
def test_passive_data_connections(target: Target, remote_dir: str) -> None:
    with contextlib.closing(target.connect(passive=True)) as session:
        _transfers_in_mode(session, remote_dir)
        assert _verbs(session) & {"EPSV", "PASV"}
        assert not _verbs(session) & {"EPRT", "PORT"}


@battery("active")
def test_active_data_connections(target: Target, remote_dir: str) -> None:
    with contextlib.closing(target.connect(passive=False)) as session:
        _transfers_in_mode(session, remote_dir)
        assert _verbs(session) & {"EPRT", "PORT"}
        assert not _verbs(session) & {"EPSV", "PASV"}


# A server that never answers the ABOR would hold abort() for the whole timeout.
ABORT_TIMEOUT = 2
BIG_SPARSE_SIZE = 64 << 20  # far more than loopback socket buffers: still sending when aborted


def abort_and_check(target: Target, session: ftplib2.FTP, *, running: bool) -> None:
    """abort(): the first reply owed (426, 225 or 226), or a clean error_perm without ABOR.

    Where the server has no ABOR, a transfer's final reply still owed comes
    first and is returned; the refusal stays owed, for the next command to read.
    """
    if target.name in WITHOUT_ABOR and not running:
        with pytest.raises(ftplib2.error_perm):
            session.abort()
    else:
        assert session.abort().code in ("426", "225", "226")


@battery("abort-mid-transfer")
def test_abort_mid_transfer_then_noop_in_step(target: Target, remote_dir: str) -> None:
    # Put in place, not sent: a sparse file costs neither time nor disk.
    with (local_dir(target, remote_dir) / "big.bin").open("wb") as big:
        big.truncate(BIG_SPARSE_SIZE)
    with contextlib.closing(target.connect(timeout=ABORT_TIMEOUT)) as session:
        session.cwd(remote_dir)
        session.voidcmd("TYPE I")
        conn = session.transfercmd("RETR big.bin")
        try:
            assert conn.recv(8192)
            abort_and_check(target, session, running=True)
        finally:
            conn.close()
        assert session.voidcmd("NOOP").code == "200"
        assert session.pwd() == remote_dir


@battery("abort-after-completion")
def test_abort_after_a_completed_transfer_then_noop_in_step(
    target: Target, remote_dir: str
) -> None:
    with contextlib.closing(target.connect(timeout=ABORT_TIMEOUT)) as session:
        session.cwd(remote_dir)
        session.storbinary("STOR small.bin", io.BytesIO(b"small"))
        # Every byte received, the transfer's final reply not yet read.
        session.voidcmd("TYPE I")
        with session.transfercmd("RETR small.bin") as conn:
            assert recv_all(conn) == b"small"
        abort_and_check(target, session, running=True)
        assert session.voidcmd("NOOP").code == "200"
        # Nothing running at all.
        assert session.retrbinary("RETR small.bin", lambda block: None).code == "226"
        abort_and_check(target, session, running=False)
        assert session.voidcmd("NOOP").code == "200"
        assert session.pwd() == remote_dir


@battery("200-files")
def test_200_small_files_up_listed_and_down(ftp: RecordingFTP) -> None:
    files = {f"f{i:03d}.txt": b"%d\n" % i * (i % 7 + 1) for i in range(200)}
    for name, data in files.items():
        ftp.storbinary(f"STOR {name}", io.BytesIO(data))
    sizes = {entry.name: entry.size for entry in ftp.scandir()}
    assert sizes == {name: len(data) for name, data in files.items()}
    for name, data in files.items():
        received = bytearray()
        ftp.retrbinary(f"RETR {name}", received.extend)
        assert received == data, name


# --------------------------------------------------------------------------
# The battery: ftplib2's extensions
# --------------------------------------------------------------------------


@battery("features")
def test_features_are_parsed_and_cached(ftp: RecordingFTP) -> None:
    features = ftp.features()
    assert {"SIZE", "MDTM"} <= set(features)
    assert ftp.has_feature("size") and not ftp.has_feature("NO-SUCH-FEATURE")
    assert ftp.features() == features
    assert [line for line in ftp.sent if line == "FEAT"] == ["FEAT"]


def _tree(ftp: ftplib2.FTP) -> None:
    ftp.makedirs("a/b/c")
    ftp.storbinary("STOR a/one", io.BytesIO(b"1"))
    ftp.storbinary("STOR a/b/two", io.BytesIO(b"22"))


@battery("scandir")
def test_scandir_gives_typed_entries(ftp: RecordingFTP) -> None:
    _tree(ftp)
    ftp.storbinary("STOR file one.txt", io.BytesIO(b"x" * 1234))
    entries = {entry.name: entry for entry in ftp.scandir()}
    assert set(entries) == {"a", "file one.txt"}
    assert entries["a"].type == "dir"
    assert (entries["file one.txt"].type, entries["file one.txt"].size) == ("file", 1234)
    modified = entries["file one.txt"].modify
    assert modified is not None and modified.tzinfo is not None
    now = datetime.datetime.now(datetime.UTC)
    assert abs(now - modified) < datetime.timedelta(days=1)
    assert [e.name for e in ftp.scandir("a")] == ["b", "one"] or {
        e.name for e in ftp.scandir("a")
    } == {"b", "one"}


@battery("stat")
def test_stat_exists_isdir_isfile(ftp: RecordingFTP, remote_dir: str) -> None:
    _tree(ftp)
    one = ftp.stat("a/one")
    assert (one.name, one.type, one.size) == ("one", "file", 1)
    assert ftp.stat(f"{remote_dir}/a/b").type == "dir"
    assert ftp.isdir("a/b") and not ftp.isfile("a/b")
    assert ftp.isfile("a/b/two") and not ftp.isdir("a/b/two")
    assert not ftp.exists("a/missing")
    with pytest.raises(ftplib2.error_perm):
        ftp.stat("a/missing")


@battery("walk")
def test_walk_visits_the_whole_tree(ftp: RecordingFTP, remote_dir: str) -> None:
    _tree(ftp)
    walked = [
        (path[len(remote_dir) :], sorted(dirs), sorted(files))
        for path, dirs, files in ftp.walk(remote_dir)
    ]
    assert walked == [
        ("", ["a"], []),
        ("/a", ["b"], ["one"]),
        ("/a/b", ["c"], ["two"]),
        ("/a/b/c", [], []),
    ]
    ftp.rmtree(f"{remote_dir}/a")
    assert ftp.listdir() == []


@battery("download-resume")
def test_download_resume_continues_a_partial_file(
    ftp: RecordingFTP, tmp_path: pathlib.Path
) -> None:
    payload = os.urandom(1 << 20)
    ftp.storbinary("STOR resume.bin", io.BytesIO(payload))
    local = tmp_path / "resume.bin"
    part = plant_partial_download(local, payload[:300_000])
    assert ftp.download("resume.bin", local, resume=True) == len(payload)
    assert local.read_bytes() == payload
    assert not part.exists()
    # Continued where the server can restart, sent whole where it cannot.
    assert ("REST 300000" in ftp.sent) == ftp.has_feature("REST")
    into = io.BytesIO(payload[:500_000])
    into.seek(0, os.SEEK_END)
    assert ftp.download("resume.bin", into, resume=True) == len(payload)
    assert into.getvalue() == payload


@battery("upload-resume")
def test_upload_resume_completes_a_partial_upload(ftp: RecordingFTP) -> None:
    payload = os.urandom(1 << 20)
    ftp.storbinary("STOR up.bin", io.BytesIO(payload[:400_000]))
    assert ftp.upload(io.BytesIO(payload), "up.bin", resume=True) == len(payload)
    received = io.BytesIO()
    assert ftp.download("up.bin", received) == len(payload)
    assert received.getvalue() == payload
    # Nothing there yet: the whole file goes.
    assert ftp.upload(io.BytesIO(payload), "fresh.bin", resume=True) == len(payload)
    assert ftp.size("fresh.bin") == len(payload)


@battery("open")
def test_open_streams_binary_and_text(ftp: RecordingFTP) -> None:
    payload = os.urandom(700_000)
    with ftp.open("stream.bin", "wb") as f:
        for start in range(0, len(payload), 100_000):
            f.write(payload[start : start + 100_000])
    with ftp.open("stream.bin", "rb") as f:
        assert f.read(1000) == payload[:1000]
        assert f.read() == payload[1000:]
    with ftp.open("text.txt", "w", encoding="utf-8") as t:
        t.write("une ligne\nzwei Zeilen\n")
    with ftp.open("text.txt", "r", encoding="utf-8") as t:
        assert list(t) == ["une ligne\n", "zwei Zeilen\n"]
    assert ftp.voidcmd("NOOP").code == "200"
    assert ftp.size("stream.bin") == len(payload)


@battery("open-closed-early")
def test_open_closed_early_gives_up_the_download_and_stays_in_step(
    target: Target, remote_dir: str
) -> None:
    # A file far larger than the socket buffers: the server is still sending when the
    # client closes (with a small one it may have finished, and answered 226).
    with (local_dir(target, remote_dir) / "big.bin").open("wb") as big:
        big.truncate(BIG_SPARSE_SIZE)
    # A final reply that never comes fails the test in seconds.
    with contextlib.closing(target.connect(timeout=ABORT_TIMEOUT)) as session:
        session.cwd(remote_dir)
        with session.open("big.bin", "rb") as f:
            assert f.read(10) == bytes(10)
        assert session.voidcmd("NOOP").code == "200"
        assert session.size("big.bin") == BIG_SPARSE_SIZE


@battery("segments")
def test_segmented_download_arrives_whole_and_stays_in_step(
    target: Target, remote_dir: str, tmp_path: pathlib.Path
) -> None:
    payload = os.urandom(3 << 20)
    (local_dir(target, remote_dir) / "seg.bin").write_bytes(payload)
    connections: set[int] = set()

    def slowly(n: int) -> None:  # 48 blocks, 5 ms each: time for the others to log in
        connections.add(threading.get_ident())
        time.sleep(0.005)

    # Each range but the last is dropped early: a final reply that never comes shows in seconds.
    with contextlib.closing(target.connect(timeout=ABORT_TIMEOUT)) as session:
        session.cwd(remote_dir)
        got = session.download(
            "seg.bin", tmp_path / "seg.bin", segments=4, blocksize=1 << 16, callback=slowly
        )
        assert got == len(payload)
        assert session.voidcmd("NOOP").code == "200"
        restarts = session.has_feature("REST")
    assert sha256((tmp_path / "seg.bin").read_bytes()) == sha256(payload)
    # Where the server can restart a transfer, the file came over several connections.
    assert len(connections) > 1 if restarts else len(connections) == 1


@battery("mdtm")
def test_mdtm_gives_the_files_time_in_utc(
    target: Target, ftp: RecordingFTP, remote_dir: str
) -> None:
    ftp.storbinary("STOR dated.txt", io.BytesIO(b"when"))
    on_disk = (local_dir(target, remote_dir) / "dated.txt").stat().st_mtime
    assert ftp.mdtm("dated.txt") == datetime.datetime.fromtimestamp(int(on_disk), datetime.UTC)


@battery("set-mtime")
def test_set_mtime_sets_what_mdtm_and_the_disk_show(
    target: Target, ftp: RecordingFTP, remote_dir: str
) -> None:
    ftp.storbinary("STOR dated.txt", io.BytesIO(b"when"))
    when = datetime.datetime(2001, 2, 3, 4, 5, 6, tzinfo=datetime.UTC)
    assert ftp.set_mtime("dated.txt", when).code == "213"
    assert ftp.mdtm("dated.txt") == when
    assert (local_dir(target, remote_dir) / "dated.txt").stat().st_mtime == when.timestamp()


# --------------------------------------------------------------------------
# The battery: TLS, implicit FTPS, IPv6
# --------------------------------------------------------------------------


def _tls_session(target: Target, remote_dir: str, ca: trustme.CA, version: ssl.TLSVersion) -> None:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    context.minimum_version = context.maximum_version = version
    payload = os.urandom(1 << 20)
    with contextlib.closing(target.connect_tls(context)) as ftp:
        assert isinstance(ftp.sock, ssl.SSLSocket)
        assert ftp.sock.version() == {"TLSv1_2": "TLSv1.2", "TLSv1_3": "TLSv1.3"}[version.name]
        ftp.cwd(remote_dir)
        ftp.storbinary("STOR secret.bin", io.BytesIO(payload))
        with ftp.transfercmd("RETR secret.bin") as conn:
            assert isinstance(conn, ssl.SSLSocket)
            received = recv_all(conn)
            conn.unwrap()
        assert ftp.voidresp().code == "226"
        assert received == payload
        assert ftp.listdir() == ["secret.bin"]
        assert ftp.quit().code == "221"


@battery("tls-1.2")
def test_tls_1_2_with_protected_data(
    target: Target, remote_dir: str, certificate_authority: trustme.CA
) -> None:
    _tls_session(target, remote_dir, certificate_authority, ssl.TLSVersion.TLSv1_2)


@battery("tls-1.3")
def test_tls_1_3_with_protected_data(
    target: Target, remote_dir: str, certificate_authority: trustme.CA
) -> None:
    _tls_session(target, remote_dir, certificate_authority, ssl.TLSVersion.TLSv1_3)


@battery("implicit-ftps")
def test_implicit_ftps_starts_tls_with_the_first_byte(target: Target) -> None:
    address = target.extra("implicit")
    assert address is not None, f"{target.name} has no implicit FTPS: list it in NOT_APPLICABLE"
    host, port = address
    payload = os.urandom(100_000)
    implicit = ftplib2.FTP_TLS.secure(
        host, target.user, target.passwd,
        port=port, implicit=True, context=target.context, timeout=TIMEOUT,
    )  # fmt: skip
    with contextlib.closing(implicit) as ftp:
        assert isinstance(ftp.sock, ssl.SSLSocket)
        assert ftp.getwelcome().startswith("220")
        name = f"implicit-{uuid.uuid4().hex[:8]}.bin"
        ftp.storbinary(f"STOR {name}", io.BytesIO(payload))
        received = bytearray()
        ftp.retrbinary(f"RETR {name}", received.extend)
        assert received == payload
        ftp.delete(name)


@battery("ipv6")
@pytest.mark.parametrize("passive", [True, False], ids=["passive", "active"])
def test_ipv6_transfers_and_listings(target: Target, passive: bool) -> None:
    address = target.extra("ipv6")
    assert address is not None, f"{target.name} has no IPv6: list it in NOT_APPLICABLE"
    host, port = address
    with contextlib.closing(target.connect_to(host, port, passive=passive)) as session:
        assert session.sock.family == socket.AF_INET6
        path = posixpath.join(session.pwd(), f"v6_{uuid.uuid4().hex[:12]}")
        session.mkd(path)
        try:
            _transfers_in_mode(session, path)
            assert _verbs(session) & ({"EPSV"} if passive else {"EPRT"})
        finally:
            session.rmtree(path)


# --------------------------------------------------------------------------
# The table of what each server lacks, as Doc/howto/servers.rst documents it
# --------------------------------------------------------------------------

SERVERS_DOC = pathlib.Path(__file__).resolve().parent.parent / "Doc" / "howto" / "servers.rst"


def documented_not_applicable() -> dict[tuple[str, str], str]:
    """The rows of the list-table under "What each server lacks" in servers.rst."""
    text = SERVERS_DOC.read_text(encoding="utf-8")
    table = text.split(".. _not-applicable:", 1)[1].split("\n\n\n", 1)[0]
    rows = re.findall(r"^   \* - (.+)\n     - (.+)\n     - (.+)$", table, re.MULTILINE)
    return {(server, operation.strip("`")): reason for server, operation, reason in rows[1:]}


def test_the_documented_table_is_the_table_of_the_tests() -> None:
    assert documented_not_applicable() == NOT_APPLICABLE
    assert {operation for _, operation in NOT_APPLICABLE} <= set(OPERATIONS)
    assert {server for server, _ in NOT_APPLICABLE | XFAIL} <= set(SERVERS)


# --------------------------------------------------------------------------
# upload(resume=True) on a server with neither restartable STOR nor APPE
# --------------------------------------------------------------------------


@pytest.fixture
def no_rest_no_appe_server(
    ftp_root: pathlib.Path, authorizer: DummyAuthorizer
) -> Iterator[LiveServer]:
    """pyftpdlib without REST and APPE: it answers both with 500, as Twisted does with 502."""
    with running_server(
        ("127.0.0.1", 0), ftp_root, authorizer, proto_cmds=proto_cmds_without("REST", "APPE")
    ) as live:
        yield live


def test_upload_resume_without_rest_or_appe_sends_the_whole_file(
    no_rest_no_appe_server: LiveServer, workdir: pathlib.Path
) -> None:
    payload = os.urandom(200_000)
    (workdir / "partial.bin").write_bytes(payload[:50_000])
    with contextlib.closing(open_session(no_rest_no_appe_server, workdir)) as ftp:
        assert not ftp.has_feature("REST")
        assert ftp.upload(io.BytesIO(payload), "partial.bin", resume=True) == len(payload)
        assert ftp.voidcmd("NOOP").code == "200"
    assert (workdir / "partial.bin").read_bytes() == payload


def test_upload_resume_and_verify_without_rest_or_appe_hashes_the_whole_file(
    ftp_root: pathlib.Path, authorizer: DummyAuthorizer, workdir: pathlib.Path
) -> None:
    # The checksum of what goes in the second try covers the whole file, not the part the
    # server had (hashed before the APPE) twice.
    commands = {**proto_cmds_without("REST", "APPE"), **ChecksumHandler.extra_commands}
    payload = os.urandom(200_000)
    (workdir / "verified.bin").write_bytes(payload[:50_000])
    with (
        checksum_pyftpdlib(ftp_root, authorizer, proto_cmds=commands) as live,
        contextlib.closing(open_session(live, workdir)) as ftp,
    ):
        sent = ftp.upload(io.BytesIO(payload), "verified.bin", resume=True, verify=True)
        assert sent == len(payload)
        assert "APPE verified.bin" in live.commands_of(ftp)
        assert ftp.voidcmd("NOOP").code == "200"
    assert (workdir / "verified.bin").read_bytes() == payload
