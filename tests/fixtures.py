"""The pytest fixtures shared by the test modules: test_ftplib2.py at the root and tests/*.py.

The root conftest.py loads this module as a plugin, once for the whole run, so a
session-scoped server starts once however many modules use it; test modules take these
fixtures as parameters and never import them. The autouse fixtures here apply to every test.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import socket
import ssl
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import trustme
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import TLS_FTPHandler

import ftplib2
from tests.interop_servers import (
    RealServer,
    issue_certificate,
    proftpd_unavailable,
    start_proftpd,
    unavailable_or_fail,
)
from tests.servers import (
    BIG_FILE,
    BIG_FILE_SIZE,
    FAMILIES,
    LINES_FILE,
    MIRROR_SCRIPT,
    MODES,
    PASSWORD,
    USER,
    VSFTPD_PASSWORD,
    VSFTPD_USER,
    HostileScript,
    HostileServer,
    InteropTarget,
    LiveServer,
    MirrorServer,
    VsftpdServer,
    _ClearCommandChannel,
    _ensure_vsftpd_user,
    _server_for,
    _SlowAcceptPassiveDTP,
    _TestServerBehaviour,
    _vsftpd_unavailable,
    mirror_serving,
    open_session,
    proto_cmds_without,
    running_server,
    still_open,
    track_sockets,
)

# --------------------------------------------------------------------------
# Live pyftpdlib servers
# --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def ftp_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ftp-root")


@pytest.fixture(scope="session")
def authorizer(ftp_root: Path) -> DummyAuthorizer:
    authorizer = DummyAuthorizer()
    authorizer.add_user(USER, PASSWORD, str(ftp_root), perm="elradfmwMT")
    authorizer.add_anonymous(str(ftp_root))  # read-only: "elr"
    return authorizer


@pytest.fixture(scope="session")
def server(ftp_root: Path, authorizer: DummyAuthorizer) -> Iterator[LiveServer]:
    """The plain FTP server on 127.0.0.1."""
    with running_server(("127.0.0.1", 0), ftp_root, authorizer) as live:
        yield live


@pytest.fixture(scope="session")
def server_v6(ftp_root: Path, authorizer: DummyAuthorizer) -> Iterator[LiveServer]:
    """The plain FTP server on ::1; tests using it are skipped where ::1 cannot be bound."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError as exc:
        pytest.skip(f"cannot bind to ::1: {exc}")
    with running_server(("::1", 0), ftp_root, authorizer) as live:
        yield live


@pytest.fixture(scope="session")
def greeting_120_server(ftp_root: Path, authorizer: DummyAuthorizer) -> Iterator[LiveServer]:
    """A server that sends '120 ...' (service ready soon) before its 220 greeting."""
    with running_server(
        ("127.0.0.1", 0),
        ftp_root,
        authorizer,
        pre_greeting=("120 Service ready in a moment.",),
    ) as live:
        yield live


@pytest.fixture(scope="session")
def slow_accept_server(ftp_root: Path, authorizer: DummyAuthorizer) -> Iterator[LiveServer]:
    """A busy server: it is slow to take passive data connections the client has opened."""
    with running_server(
        ("127.0.0.1", 0), ftp_root, authorizer, passive_dtp=_SlowAcceptPassiveDTP
    ) as live:
        yield live


@pytest.fixture(scope="session")
def certificate_authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def tls_server(
    ftp_root: Path,
    authorizer: DummyAuthorizer,
    certificate_authority: trustme.CA,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveServer]:
    """An explicit FTPS server (AUTH TLS) on 127.0.0.1 with a certificate from a test CA."""
    pem = tmp_path_factory.mktemp("tls") / "server.pem"
    certificate_authority.issue_cert(
        "127.0.0.1", "localhost"
    ).private_key_and_cert_chain_pem.write_to_path(str(pem))
    with running_server(
        ("127.0.0.1", 0),
        ftp_root,
        authorizer,
        handler_base=TLS_FTPHandler,
        mixins=(_ClearCommandChannel, _TestServerBehaviour),
        certfile=str(pem),
        ssl_context=None,
    ) as live:
        yield live


@pytest.fixture(scope="session")
def proftpd(
    tmp_path_factory: pytest.TempPathFactory, certificate_authority: trustme.CA
) -> Iterator[RealServer]:
    """proftpd 1.3.8 with mod_tls and mod_digest, from the Debian packages .ci/interop-servers
    unpacks: the interop matrix's, and a checksum server of tests/test_checksums.py."""
    reason = proftpd_unavailable()
    if reason is not None:
        unavailable_or_fail("proftpd", reason)
    workdir = tmp_path_factory.mktemp("proftpd")
    server = start_proftpd(workdir, issue_certificate(certificate_authority, workdir / "tls.pem"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tls_client_context(certificate_authority: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    certificate_authority.configure_trust(context)
    return context


@pytest.fixture(scope="session")
def big_files(ftp_root: Path) -> dict[str, Path]:
    """Large files in the server's root, for transfers that must still be running when interrupted."""
    big = ftp_root / BIG_FILE
    with big.open("wb") as f:
        for _ in range(BIG_FILE_SIZE >> 20):
            f.write(os.urandom(1 << 20))
    lines = ftp_root / LINES_FILE
    with lines.open("w", encoding="ascii", newline="\n") as f:
        for number in range(500_000):
            f.write(f"line {number:07d} of a long text file\n")
    return {BIG_FILE: big, LINES_FILE: lines}


@pytest.fixture(autouse=True)
def no_socket_left_open() -> Iterator[None]:
    """Fail the test if a socket it created in this thread is still open when it ends."""
    with track_sockets() as opened:
        yield
    left_open = still_open(opened)
    for sock in left_open:
        sock.close()
    assert not left_open, f"sockets left open: {left_open}"


@pytest.fixture
def workdir(ftp_root: Path) -> Path:
    """A fresh directory of the servers' root, for this test's files only."""
    return Path(tempfile.mkdtemp(prefix="t-", dir=ftp_root))


@pytest.fixture
def ftp(server: LiveServer, workdir: Path) -> Iterator[ftplib2.FTP]:
    """A passive ftplib2.FTP, logged in as USER on the IPv4 server, inside `workdir`."""
    client = open_session(server, workdir)
    yield client
    client.close()


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> tuple[str, bool]:
    """(address family, passive?) of `ftp_in_each_mode`."""
    return request.param


@pytest.fixture
def mode_server(request: pytest.FixtureRequest, mode: tuple[str, bool]) -> LiveServer:
    """The server `ftp_in_each_mode` is connected to."""
    return _server_for(request, mode[0])


@pytest.fixture
def ftp_in_each_mode(
    mode_server: LiveServer, mode: tuple[str, bool], workdir: Path
) -> Iterator[ftplib2.FTP]:
    """Like `ftp`, once per address family and passive/active mode."""
    client = open_session(mode_server, workdir, passive=mode[1])
    yield client
    client.close()


@pytest.fixture(params=FAMILIES)
def family_server(request: pytest.FixtureRequest) -> LiveServer:
    """The IPv4 server, then the IPv6 one."""
    return _server_for(request, request.param)


@pytest.fixture
def ftp_in_each_family(family_server: LiveServer, workdir: Path) -> Iterator[ftplib2.FTP]:
    """Like `ftp`, once on the IPv4 server and once on the IPv6 one."""
    client = open_session(family_server, workdir)
    yield client
    client.close()


@pytest.fixture
def tls_ftp(
    tls_server: LiveServer, tls_client_context: ssl.SSLContext, workdir: Path
) -> Iterator[ftplib2.FTP_TLS]:
    """An FTP_TLS session with protected control and data connections, inside `workdir`."""
    client = open_session(tls_server, cls=ftplib2.FTP_TLS, context=tls_client_context)
    try:
        client.prot_p()
        client.cwd(workdir.name)
    except BaseException:
        client.close()
        raise
    yield client
    client.close()


# ==================================================================================================
# Every server is untrusted input: a scripted misbehaving server
# ==================================================================================================


# --------------------------------------------------------------------------
# The scripted server
# --------------------------------------------------------------------------


@pytest.fixture
def hostile_server() -> Iterator[Callable[[HostileScript], HostileServer]]:
    """Start scripted servers: ``server = hostile_server(script)``; all stop when the test ends."""
    servers: list[HostileServer] = []

    def start(script: HostileScript) -> HostileServer:
        server = HostileServer(script)
        servers.append(server)
        return server

    yield start
    problems = []
    for server in servers:
        try:
            server.stop()
        except BaseException as exc:  # noqa: BLE001 - every server is stopped before raising
            problems.append(exc)
    if problems:
        raise problems[0]


# ==================================================================================================
# ftp:// URLs and the urllib handlers
# ==================================================================================================


@pytest.fixture
def url_cache_handler() -> Iterator[Any]:
    """A CacheFTPHandler whose connections are closed at the end of the test."""
    handler = ftplib2.CacheFTPHandler()
    yield handler
    handler.clear_cache()


# ==================================================================================================
# Tools/scripts/ftpmirror.py
# ==================================================================================================


# --------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def mirror_ftp_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mirror-ftp-root")


@pytest.fixture(scope="session")
def mirror_server(mirror_ftp_root: Path) -> Iterator[MirrorServer]:
    """The usual server: MLSD with size, modify and unique facts."""
    with mirror_serving(mirror_ftp_root) as server:
        yield server


# --------------------------------------------------------------------------
# Trees
# --------------------------------------------------------------------------


@pytest.fixture
def mirror_small_remote(mirror_ftp_root: Path) -> Path:
    """A few files in the servers' root, for tests that need no big tree."""
    remote = Path(tempfile.mkdtemp(prefix="s-", dir=mirror_ftp_root))
    (remote / "a.txt").write_text("alpha\n", encoding="utf-8")
    (remote / "b.o").write_bytes(b"\x7fELF")
    (remote / "sub").mkdir()
    (remote / "sub" / "c.txt").write_text("gamma\n", encoding="utf-8")
    (remote / "sub" / "d.bin").write_bytes(bytes(range(256)))
    return remote


# --------------------------------------------------------------------------
# Running the tool
# --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def mirror_tool() -> ModuleType:
    """The script imported as a module, for ``main(argv)`` and monkeypatching."""
    spec = importlib.util.spec_from_file_location("ftpmirror", MIRROR_SCRIPT)
    assert spec is not None and spec.loader is not None, MIRROR_SCRIPT
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it runs
    spec.loader.exec_module(module)
    return module


# ==================================================================================================
# Interoperability: the same scenarios against pyftpdlib and vsftpd
# ==================================================================================================


@pytest.fixture(scope="session")
def vsftpd(
    tmp_path_factory: pytest.TempPathFactory, certificate_authority: trustme.CA
) -> Iterator[VsftpdServer]:
    """vsftpd on 127.0.0.1 with TLS (require_ssl_reuse=YES); skipped where it can't run.

    Set FTPLIB2_REQUIRE_VSFTPD=1 (as .ci/run does) to fail instead of skipping.
    """
    reason = _vsftpd_unavailable()
    if reason is not None:
        if os.environ.get("FTPLIB2_REQUIRE_VSFTPD"):
            pytest.fail(reason)
        pytest.skip(reason)
    _ensure_vsftpd_user()
    workdir = tmp_path_factory.mktemp("vsftpd")
    workdir.chmod(0o755)
    pem = workdir / "server.pem"
    certificate_authority.issue_cert(
        "127.0.0.1", "localhost"
    ).private_key_and_cert_chain_pem.write_to_path(str(pem))
    server = VsftpdServer(workdir, str(pem))
    yield server
    server.stop()


@pytest.fixture(params=["pyftpdlib", "vsftpd"])
def interop(request: pytest.FixtureRequest, tls_client_context: ssl.SSLContext) -> InteropTarget:
    if request.param == "pyftpdlib":
        plain: LiveServer = request.getfixturevalue("server")
        tls: LiveServer = request.getfixturevalue("tls_server")
        return InteropTarget(
            "pyftpdlib", plain.host, plain.port, tls.port, USER, PASSWORD, tls_client_context
        )
    real: VsftpdServer = request.getfixturevalue("vsftpd")
    return InteropTarget(
        "vsftpd", real.host, real.port, real.port, VSFTPD_USER, VSFTPD_PASSWORD, tls_client_context
    )


@pytest.fixture
def interop_dir(interop: InteropTarget) -> Iterator[str]:
    """A fresh directory for one test, removed afterwards."""
    name = f"interop-{uuid.uuid4().hex[:12]}"
    with contextlib.closing(interop.connect()) as ftp:
        ftp.mkd(name)
    yield name
    with contextlib.closing(interop.connect()) as ftp:
        ftp.rmtree(name)


# ==================================================================================================
# Modern FTP: capabilities, typed listings, helpers, transfers
# ==================================================================================================


@pytest.fixture(scope="session")
def no_feat_server(ftp_root: Path, authorizer: DummyAuthorizer) -> Iterator[LiveServer]:
    """A server from before RFC 2389: it answers FEAT with 500, so clients fall back to LIST."""
    with running_server(
        ("127.0.0.1", 0), ftp_root, authorizer, proto_cmds=proto_cmds_without("FEAT")
    ) as live:
        yield live
