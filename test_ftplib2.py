"""Tests for ftplib2.

Most tests talk to real pyftpdlib servers started once per session on the loopback interface
(IPv4, IPv6 and FTPS); the reply parser is tested on its own, without sockets; and CPython's own
``test.test_ftplib`` is run against ftplib2 to prove it is a drop-in replacement.

Every socket a test opens must be closed by the time it ends: the autouse fixture
``no_socket_left_open`` fails any test that leaves one open, and pytest.ini turns a
ResourceWarning into an error as well.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import datetime
import errno
import ftplib as stdlib_ftplib
import gc
import hashlib
import importlib
import importlib.util
import inspect
import io
import itertools
import json
import logging
import os
import pathlib
import posixpath
import random
import re
import select
import shutil
import socket
import ssl
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import unittest
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from email.message import Message
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import pytest
import trustme
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from OpenSSL import SSL
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler, ThrottledDTPHandler, TLS_FTPHandler
from pyftpdlib.handlers.ftp.dispatchers import PassiveDTP
from pyftpdlib.ioloop import IOLoop
from pyftpdlib.servers import FTPServer

import ftplib2

USER = "user"
PASSWORD = "12345"
BANNER = "ftplib2 test server ready."
TIMEOUT = 10
NON_ASCII_NAME = "café ünï.txt"
BIG_FILE = "big.bin"  # in the server's root, BIG_FILE_SIZE random bytes
BIG_FILE_SIZE = 32 << 20  # far more than loopback socket buffers hold, so transfers stay busy
ACCEPT_DELAY = 0.5  # seconds slow_accept_server waits before taking a passive data connection
LINES_FILE = "lines.txt"  # in the server's root, about 16 MiB of short text lines


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


@contextlib.contextmanager
def track_sockets() -> Iterator[list[socket.socket]]:
    """Collect every socket this thread creates inside the block (servers run in other threads)."""
    opened: list[socket.socket] = []
    me = threading.get_ident()
    original_init = socket.socket.__init__

    def recording_init(sock: socket.socket, *args: object, **kwargs: object) -> None:
        original_init(sock, *args, **kwargs)
        if threading.get_ident() == me:
            opened.append(sock)

    socket.socket.__init__ = recording_init  # type: ignore[method-assign]
    try:
        yield opened
    finally:
        socket.socket.__init__ = original_init  # type: ignore[method-assign]


def still_open(sockets: list[socket.socket]) -> list[socket.socket]:
    return [sock for sock in sockets if sock.fileno() != -1]


def client_address(ftp: ftplib2.FTP) -> tuple[str, int]:
    """The control connection's local address: the key the server files its commands under."""
    return ftp.sock.getsockname()[:2]


def on_port(cls: type[ftplib2.FTP], port: int) -> type[ftplib2.FTP]:
    """A subclass whose default port is `port`, so that ``cls(host, ...)`` reaches a test server."""
    return type(cls.__name__, (cls,), {"port": port})


def recv_all(conn: socket.socket) -> bytes:
    chunks = []
    while chunk := conn.recv(1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def raw_command(raw: bytes) -> str:
    """A command the test servers answer with exactly `raw` (see ``ftp_XRPL``)."""
    return "XRPL " + raw.hex()


def raw_reply(ftp: ftplib2.FTP, raw: bytes) -> ftplib2.Reply:
    """Have the server answer with exactly `raw`; return the reply as ftplib2 reads it."""
    return ftp.sendcmd(raw_command(raw))


def open_session(
    server: LiveServer,
    workdir: Path | None = None,
    *,
    passive: bool = True,
    cls: type[ftplib2.FTP] = ftplib2.FTP,
    user: str | None = USER,
    passwd: str = PASSWORD,
    **kwargs: object,
) -> ftplib2.FTP:
    """Connect to `server`, log in and change to `workdir`; the caller closes the result."""
    ftp = cls(timeout=TIMEOUT, **kwargs)
    try:
        ftp.connect(server.host, server.port)
        if user is not None:
            ftp.login(user, passwd)
        ftp.set_pasv(passive)
        if workdir is not None:
            ftp.cwd(workdir.name)
    except BaseException:
        ftp.close()
        raise
    return ftp


class CallbackFailed(Exception):
    """Raised by a transfer callback on purpose."""


def failing_callback(_: object) -> None:
    raise CallbackFailed("the callback gave up")


# --------------------------------------------------------------------------
# Live pyftpdlib servers
# --------------------------------------------------------------------------


class _TestServerBehaviour:
    """Mixed into pyftpdlib's handlers: records commands and adds test-only commands."""

    received: dict[tuple[str, int], list[str]]
    live_server: LiveServer
    pre_greeting: tuple[str, ...] = ()
    extra_commands: ClassVar[dict[str, dict]] = {
        "ACCT": {"perm": None, "auth": False, "arg": True, "help": "Syntax: ACCT <SP> account."},
        "XRPL": {"perm": None, "auth": False, "arg": True, "help": "Syntax: XRPL <SP> hex."},
    }

    def handle(self) -> None:
        # A new session may come from the port of an old one: start its records afresh.
        self.live_server.session_started((self.remote_ip, self.remote_port))
        for line in self.pre_greeting:
            self.push(line + "\r\n")
        super().handle()

    def pre_process_command(self, line: str, cmd: str, arg: str) -> None:
        self.received.setdefault((self.remote_ip, self.remote_port), []).append(line)
        super().pre_process_command(line, cmd, arg)

    def _on_dtp_connection(self) -> None:
        super()._on_dtp_connection()
        self.live_server.data_connection_opened((self.remote_ip, self.remote_port))

    def ftp_ACCT(self, line: str) -> None:
        self.respond(f"230 Account {line} accepted.")

    def ftp_XRPL(self, line: str) -> None:
        # Sends the bytes as they are, bypassing pyftpdlib's encoding, so tests can send any reply.
        super(FTPHandler, self).push(bytes.fromhex(line))


class _ClearCommandChannel:
    """CCC (RFC 4217, section 6) for pyftpdlib's TLS handler, which does not have it."""

    extra_commands: ClassVar[dict[str, dict]] = {
        **_TestServerBehaviour.extra_commands,
        "CCC": {"perm": None, "auth": False, "arg": False, "help": "Syntax: CCC."},
    }

    def secure_connection(self, ssl_context: SSL.Context) -> None:
        self._clear_socket = self.socket
        super().secure_connection(ssl_context)

    def ftp_CCC(self, line: str) -> None:
        tls = self.socket
        if not isinstance(tls, SSL.Connection):
            self.respond("533 Command channel is not protected.")
            return
        deadline = time.monotonic() + TIMEOUT

        def until_done(call: Callable[[], object]) -> object:
            while True:
                try:
                    return call()
                except SSL.WantReadError:
                    select.select([tls], [], [], max(0.0, deadline - time.monotonic()))
                except SSL.WantWriteError:
                    select.select([], [tls], [], max(0.0, deadline - time.monotonic()))
                if time.monotonic() > deadline:
                    raise TimeoutError("CCC: the client did not finish the TLS shutdown")

        # The reply goes out under TLS; then both sides exchange close_notify and carry on
        # in clear text on the same TCP connection.
        until_done(lambda: tls.sendall(b"200 Command channel cleared.\r\n"))
        until_done(tls.shutdown)
        with contextlib.suppress(SSL.ZeroReturnError):
            while until_done(lambda: tls.recv(4096)):
                pass
        self.socket = self._clear_socket
        self._ssl_requested = False
        self._ssl_established = False


class ThreadedFTPServer:
    """A pyftpdlib server for `handler` running its own IO loop in a daemon thread.

    The server is created in that thread, named ``ftpd-<name>``, so its sockets
    are never the test thread's (see no_socket_left_open and
    mirror_sockets_closed).
    """

    def __init__(self, address: tuple[str, int], handler: type, name: str = "live") -> None:
        self._stop = threading.Event()
        self._started = threading.Event()
        self._startup_error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._serve, args=(address, handler), name=f"ftpd-{name}", daemon=True
        )
        self._thread.start()
        assert self._started.wait(TIMEOUT), "the FTP server thread did not start"
        if self._startup_error is not None:
            self._thread.join(TIMEOUT)
            raise self._startup_error

    def _serve(self, address: tuple[str, int], handler: type) -> None:
        ioloop = IOLoop()
        try:
            server = FTPServer(address, handler, ioloop=ioloop)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the starting thread
            ioloop.close()
            self._startup_error = exc
            self._started.set()
            return
        try:
            self.host, self.port = server.address[:2]
            self._started.set()
            while not self._stop.is_set():
                server.serve_forever(timeout=0.05, blocking=False, handle_exit=False)
        finally:
            server.close_all()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(TIMEOUT)
        assert not self._thread.is_alive(), "the FTP server thread did not stop"


class LiveServer:
    """A pyftpdlib server running its own IO loop in a daemon thread."""

    def __init__(
        self,
        address: tuple[str, int],
        root: Path,
        authorizer: DummyAuthorizer,
        handler_base: type[FTPHandler] = FTPHandler,
        mixins: tuple[type, ...] = (_TestServerBehaviour,),
        **handler_attributes: object,
    ) -> None:
        self.root = root
        self.received: dict[tuple[str, int], list[str]] = {}
        self._data_connections: collections.Counter[tuple[str, int]] = collections.Counter()
        self._data_condition = threading.Condition()
        extra_commands = mixins[0].extra_commands
        self.handler = type(
            "Test" + handler_base.__name__,
            (*mixins, handler_base),
            {
                "authorizer": authorizer,
                "banner": BANNER,
                "auth_failed_timeout": 0,  # pyftpdlib waits 3 s before answering a bad login
                "received": self.received,
                "live_server": self,
                "proto_cmds": {**handler_base.proto_cmds, **extra_commands},
                **handler_attributes,
            },
        )
        self._ftpd = ThreadedFTPServer(address, self.handler)
        self.host, self.port = self._ftpd.host, self._ftpd.port

    def stop(self) -> None:
        self._ftpd.stop()

    def commands_of(self, ftp: ftplib2.FTP) -> list[str]:
        """The command lines the server has received on `ftp`'s control connection."""
        return list(self.received.get(client_address(ftp), []))

    def session_started(self, key: tuple[str, int]) -> None:
        """Called in the server thread when a client connects from `key`."""
        self.received[key] = []
        with self._data_condition:
            self._data_connections[key] = 0

    def data_connection_opened(self, key: tuple[str, int]) -> None:
        """Called in the server thread when the session `key` gets a data connection."""
        with self._data_condition:
            self._data_connections[key] += 1
            self._data_condition.notify_all()

    def data_connections_of(self, ftp: ftplib2.FTP) -> int:
        """How many data connections the server has set up for `ftp` so far."""
        with self._data_condition:
            return self._data_connections[client_address(ftp)]

    def wait_for_data_connections(self, ftp: ftplib2.FTP, count: int) -> None:
        """Block until the server has set up `count` data connections for `ftp`."""
        key = client_address(ftp)
        with self._data_condition:
            reached = self._data_condition.wait_for(
                lambda: self._data_connections[key] >= count, TIMEOUT
            )
        assert reached, "the server never set up the data connection"


def _quiet_pyftpdlib() -> None:
    # pyftpdlib logs every command at INFO to stderr unless logging is configured.
    pyftpdlib_logger = logging.getLogger("pyftpdlib")
    if not pyftpdlib_logger.handlers:
        pyftpdlib_logger.addHandler(logging.NullHandler())
    pyftpdlib_logger.setLevel(logging.WARNING)


@pytest.fixture(scope="session")
def ftp_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ftp-root")


@pytest.fixture(scope="session")
def authorizer(ftp_root: Path) -> DummyAuthorizer:
    authorizer = DummyAuthorizer()
    authorizer.add_user(USER, PASSWORD, str(ftp_root), perm="elradfmwMT")
    authorizer.add_anonymous(str(ftp_root))  # read-only: "elr"
    return authorizer


@contextlib.contextmanager
def running_server(*args: object, **kwargs: object) -> Iterator[LiveServer]:
    _quiet_pyftpdlib()
    server = LiveServer(*args, **kwargs)
    try:
        yield server
    finally:
        server.stop()


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


class _SlowAcceptPassiveDTP(PassiveDTP):
    """Takes an incoming passive data connection only after ACCEPT_DELAY seconds."""

    def handle_accepted(self, sock: socket.socket, addr: tuple[str, int]) -> None:
        def take() -> None:
            if self._closed:  # closed meanwhile (ABOR): as the kernel drops a closed backlog
                sock.close()
            else:
                PassiveDTP.handle_accepted(self, sock, addr)

        self.ioloop.call_later(ACCEPT_DELAY, take)


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


FAMILIES = ["ipv4", "ipv6"]
MODES = [
    pytest.param(("ipv4", True), id="ipv4-passive"),
    pytest.param(("ipv4", False), id="ipv4-active"),
    pytest.param(("ipv6", True), id="ipv6-passive"),
    pytest.param(("ipv6", False), id="ipv6-active"),
]


def _server_for(request: pytest.FixtureRequest, family: str) -> LiveServer:
    return request.getfixturevalue("server" if family == "ipv4" else "server_v6")


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


# --------------------------------------------------------------------------
# Connecting, logging in, closing
# --------------------------------------------------------------------------


def test_connect_returns_the_greeting_and_getwelcome_repeats_it(server: LiveServer) -> None:
    with ftplib2.FTP(timeout=TIMEOUT) as ftp:
        welcome = ftp.connect(server.host, server.port)
        assert welcome == f"220 {BANNER}"
        assert ftp.getwelcome() == welcome


def test_connect_waits_past_120_replies_for_the_220_greeting(
    greeting_120_server: LiveServer,
) -> None:
    with ftplib2.FTP(timeout=TIMEOUT) as ftp:
        welcome = ftp.connect(greeting_120_server.host, greeting_120_server.port)
        assert welcome == f"220 {BANNER}"
        assert ftp.getwelcome() == welcome
        assert ftp.login(USER, PASSWORD).startswith("230")
        assert ftp.pwd() == "/"


def test_constructor_with_host_and_user_connects_and_logs_in(server: LiveServer) -> None:
    ftp_class = on_port(ftplib2.FTP, server.port)
    with ftp_class(server.host, USER, PASSWORD, timeout=TIMEOUT) as ftp:
        assert ftp.getwelcome() == f"220 {BANNER}"
        assert ftp.pwd() == "/"
        assert [line.split()[0] for line in server.commands_of(ftp)] == ["USER", "PASS", "PWD"]


def test_constructor_applies_timeout_and_source_address(server: LiveServer) -> None:
    with ftplib2.FTP(timeout=7.5, source_address=("127.0.0.1", 0)) as ftp:
        ftp.connect(server.host, server.port)
        assert ftp.sock.gettimeout() == 7.5
        assert ftp.sock.getsockname()[0] == "127.0.0.1"


def test_encoding_is_a_keyword_argument_defaulting_to_utf8() -> None:
    assert ftplib2.FTP().encoding == "utf-8"
    assert ftplib2.FTP(encoding="latin-1").encoding == "latin-1"
    with pytest.raises(TypeError):
        ftplib2.FTP("", "", "", "", 10, None, "latin-1")


def test_constructor_closes_its_socket_when_login_fails(server: LiveServer) -> None:
    ftp_class = on_port(ftplib2.FTP, server.port)
    with track_sockets() as opened, pytest.raises(ftplib2.error_perm) as excinfo:
        ftp_class(server.host, "bad", "bad", timeout=TIMEOUT)
    assert excinfo.value.code == "530"
    assert opened, "the constructor did not even open a socket"
    assert still_open(opened) == []


def test_constructor_closes_its_socket_when_connect_fails() -> None:
    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        refused_port = placeholder.getsockname()[1]
    ftp_class = on_port(ftplib2.FTP, refused_port)
    with track_sockets() as opened, pytest.raises(ConnectionRefusedError):
        ftp_class("127.0.0.1", USER, PASSWORD, timeout=TIMEOUT)
    assert still_open(opened) == []


def test_login_with_wrong_password_raises_error_perm_with_530(server: LiveServer) -> None:
    with ftplib2.FTP(timeout=TIMEOUT) as ftp:
        ftp.connect(server.host, server.port)
        with pytest.raises(ftplib2.error_perm) as excinfo:
            ftp.login(USER, "wrong")
        assert excinfo.value.code == "530"
        assert str(excinfo.value).startswith("530 ")
        assert excinfo.value.lines == [str(excinfo.value)]


def test_login_returns_230_reply(server: LiveServer) -> None:
    with ftplib2.FTP(timeout=TIMEOUT) as ftp:
        ftp.connect(server.host, server.port)
        reply = ftp.login(USER, PASSWORD)
        assert isinstance(reply, ftplib2.Reply)
        assert reply.code == "230"


def test_anonymous_login_can_download_but_not_upload(server: LiveServer, workdir: Path) -> None:
    (workdir / "public.txt").write_bytes(b"for everyone")
    with open_session(server, user=None) as ftp:
        assert ftp.login().code == "230"  # anonymous / anonymous@
        ftp.cwd(workdir.name)
        received = bytearray()
        ftp.retrbinary("RETR public.txt", received.extend)
        assert received == b"for everyone"
        with pytest.raises(ftplib2.error_perm) as excinfo:
            ftp.storbinary("STOR upload.txt", io.BytesIO(b"nope"))
        assert excinfo.value.code == "550"
    assert not (workdir / "upload.txt").exists()


def test_acct_sends_the_account_and_returns_the_reply(ftp: ftplib2.FTP, server: LiveServer) -> None:
    reply = ftp.acct("billing")
    assert reply == "230 Account billing accepted."
    assert server.commands_of(ftp)[-1] == "ACCT billing"


def test_quit_returns_221_and_closes_the_connection(server: LiveServer) -> None:
    with contextlib.closing(open_session(server)) as ftp:
        key = client_address(ftp)
        reply = ftp.quit()
        assert reply.code == "221"
        assert ftp.sock is None
    assert server.received[key][-1] == "QUIT"


def test_close_can_be_called_twice_and_before_connecting(server: LiveServer) -> None:
    ftplib2.FTP().close()
    with contextlib.closing(open_session(server)) as ftp:
        ftp.close()
        ftp.close()
        assert ftp.sock is None


def test_with_block_sends_quit_and_closes(server: LiveServer) -> None:
    with open_session(server) as ftp:
        key = client_address(ftp)
        assert ftp.pwd() == "/"
    assert ftp.sock is None
    assert server.received[key][-1] == "QUIT"


def _desynchronise(ftp: ftplib2.FTP) -> None:
    # The reply to this command is left unread, so QUIT reads "500 ..." and fails.
    ftp.putcmd("BOGUS")


def _cut_connection(ftp: ftplib2.FTP) -> None:
    ftp.sock.shutdown(socket.SHUT_RDWR)


@pytest.mark.parametrize("break_quit", [_desynchronise, _cut_connection], ids=["desync", "cut"])
def test_with_block_keeps_the_body_exception_when_quit_fails(
    server: LiveServer, break_quit: Callable[[ftplib2.FTP], None]
) -> None:
    with pytest.raises(RuntimeError, match="the body failed"), open_session(server) as ftp:
        break_quit(ftp)
        raise RuntimeError("the body failed")
    assert ftp.sock is None


# --------------------------------------------------------------------------
# Commands, replies and errors on the control connection
# --------------------------------------------------------------------------


def test_sendcmd_returns_a_reply_string_with_code_and_lines(ftp: ftplib2.FTP) -> None:
    reply = ftp.sendcmd("NOOP")
    assert isinstance(reply, ftplib2.Reply)
    assert isinstance(reply, str)
    assert reply.startswith("200 ")
    assert reply.code == "200"
    assert reply.lines == [str(reply)]


def test_multiline_reply_is_joined_with_newlines_and_split_into_lines(ftp: ftplib2.FTP) -> None:
    reply = ftp.sendcmd("HELP")
    assert reply.code == "214"
    assert len(reply.lines) > 2
    assert reply.lines[0].startswith("214-")
    assert reply.lines[-1].startswith("214 ")
    assert str(reply) == "\n".join(reply.lines)


def test_multiline_reply_may_contain_lines_that_look_like_replies(ftp: ftplib2.FTP) -> None:
    raw = b"211-Status\r\n211-not the end\r\n200 nor this\r\n\r\n 211 nor this\r\n211 End\r\n"
    reply = raw_reply(ftp, raw)
    expected = ["211-Status", "211-not the end", "200 nor this", "", " 211 nor this", "211 End"]
    assert reply.lines == expected
    assert reply == "\n".join(expected)
    assert ftp.voidcmd("NOOP").code == "200"


def test_bare_code_reply_is_accepted(ftp: ftplib2.FTP) -> None:
    reply = raw_reply(ftp, b"200\r\n")
    assert reply == "200"
    assert reply.code == "200"


def test_reply_with_invalid_utf8_does_not_raise_unicode_error(ftp: ftplib2.FTP) -> None:
    reply = raw_reply(ftp, b"200 caf\xe9 \xff\r\n")
    assert reply == "200 caf\udce9 \udcff"
    assert reply.encode("utf-8", "surrogateescape") == b"200 caf\xe9 \xff"


def test_voidcmd_raises_error_reply_for_a_3xx_reply(ftp: ftplib2.FTP) -> None:
    with pytest.raises(ftplib2.error_reply) as excinfo:
        ftp.voidcmd(raw_command(b"350 Restarting at 0.\r\n"))
    assert excinfo.value.code == "350"
    assert ftp.voidcmd("NOOP").code == "200"


def test_sendcmd_returns_1xx_and_3xx_replies(ftp: ftplib2.FTP, workdir: Path) -> None:
    (workdir / "f.txt").write_bytes(b"x")
    assert raw_reply(ftp, b"110 MARK yyyy = mmmm\r\n") == "110 MARK yyyy = mmmm"
    assert ftp.sendcmd("RNFR f.txt").code == "350"
    assert ftp.sendcmd("ABOR").code == "225"


def test_4xx_reply_raises_error_temp(ftp: ftplib2.FTP) -> None:
    with pytest.raises(ftplib2.error_temp) as excinfo:
        raw_reply(ftp, b"450 Try again later\r\n")
    assert str(excinfo.value) == "450 Try again later"
    assert excinfo.value.code == "450"


def test_5xx_reply_raises_error_perm_carrying_the_server_text(ftp: ftplib2.FTP) -> None:
    with pytest.raises(ftplib2.error_perm) as excinfo:
        ftp.sendcmd("BOGUS")
    assert excinfo.value.code == "500"
    assert "BOGUS" in str(excinfo.value)
    assert ftp.voidcmd("NOOP").code == "200"


def test_reply_without_a_code_raises_error_proto(ftp: ftplib2.FTP) -> None:
    with pytest.raises(ftplib2.error_proto):
        raw_reply(ftp, b"hello there\r\n")


def test_putcmd_then_getresp_reads_the_reply(ftp: ftplib2.FTP) -> None:
    ftp.putcmd("NOOP")
    reply = ftp.getresp()
    assert isinstance(reply, ftplib2.Reply)
    assert reply.code == "200"


def test_putline_then_getline_reads_one_line_without_crlf(ftp: ftplib2.FTP) -> None:
    ftp.putline("NOOP")
    line = ftp.getline()
    assert line.startswith("200 ")
    assert not line.endswith(("\r", "\n"))


def test_getmultiline_returns_a_whole_multiline_reply(ftp: ftplib2.FTP) -> None:
    ftp.putcmd("HELP")
    reply = ftp.getmultiline()
    assert isinstance(reply, ftplib2.Reply)
    assert reply.lines[0].startswith("214-")
    assert reply.lines[-1].startswith("214 ")


def test_getresp_raises_error_perm_for_5xx(ftp: ftplib2.FTP) -> None:
    ftp.putcmd("DELE no-such-file")
    with pytest.raises(ftplib2.error_perm) as excinfo:
        ftp.getresp()
    assert excinfo.value.code == "550"


def test_voidresp_returns_2xx_and_raises_error_reply_otherwise(ftp: ftplib2.FTP) -> None:
    ftp.putcmd("NOOP")
    assert ftp.voidresp().code == "200"
    ftp.putcmd(raw_command(b"350 Restarting at 0.\r\n"))
    with pytest.raises(ftplib2.error_reply):
        ftp.voidresp()


CONTROL_CHARACTERS = [
    pytest.param("\r", id="CR"),
    pytest.param("\n", id="LF"),
    pytest.param("\0", id="NUL"),
]
COMMAND_ENTRY_POINTS = {
    "sendcmd": lambda ftp, arg: ftp.sendcmd(f"CWD {arg}"),
    "voidcmd": lambda ftp, arg: ftp.voidcmd(f"CWD {arg}"),
    "putcmd": lambda ftp, arg: ftp.putcmd(f"CWD {arg}"),
    "putline": lambda ftp, arg: ftp.putline(f"CWD {arg}"),
    "cwd": lambda ftp, arg: ftp.cwd(arg),
    "delete": lambda ftp, arg: ftp.delete(arg),
    "retrbinary": lambda ftp, arg: ftp.retrbinary(f"RETR {arg}", print),
    "storbinary": lambda ftp, arg: ftp.storbinary(f"STOR {arg}", io.BytesIO(b"x")),
}


@pytest.mark.parametrize("entry_point", list(COMMAND_ENTRY_POINTS))
@pytest.mark.parametrize("character", CONTROL_CHARACTERS)
def test_command_with_cr_lf_or_nul_raises_value_error_before_sending_anything(
    ftp: ftplib2.FTP, server: LiveServer, entry_point: str, character: str
) -> None:
    before = server.commands_of(ftp)
    with pytest.raises(ValueError):
        COMMAND_ENTRY_POINTS[entry_point](ftp, f"victim{character}DELE victim")
    assert ftp.voidcmd("NOOP").code == "200"
    assert server.commands_of(ftp) == [*before, "NOOP"]


def test_set_debuglevel_1_prints_commands_and_replies(ftp: ftplib2.FTP, capsys) -> None:
    ftp.set_debuglevel(1)
    ftp.voidcmd("NOOP")
    out = capsys.readouterr().out
    assert "*cmd* 'NOOP'" in out
    assert "*resp* " in out and "200 " in out


def test_set_debuglevel_2_also_prints_raw_lines(ftp: ftplib2.FTP, capsys) -> None:
    ftp.set_debuglevel(2)
    ftp.voidcmd("NOOP")
    out = capsys.readouterr().out
    assert "*put* 'NOOP\\r\\n'" in out
    assert "*get* " in out


def test_debug_is_an_alias_and_level_0_prints_nothing(ftp: ftplib2.FTP, capsys) -> None:
    ftp.debug(1)
    ftp.voidcmd("NOOP")
    assert "*cmd* 'NOOP'" in capsys.readouterr().out
    ftp.set_debuglevel(0)
    ftp.voidcmd("NOOP")
    assert capsys.readouterr().out == ""


def test_debug_output_hides_the_password(server: LiveServer, capsys) -> None:
    with open_session(server, user=None) as ftp:
        ftp.set_debuglevel(2)
        ftp.login(USER, PASSWORD)
    out = capsys.readouterr().out
    assert "*cmd* 'PASS *****'" in out
    assert PASSWORD not in out


def test_sanitize_masks_passwords_and_reprs_everything_else() -> None:
    ftp = ftplib2.FTP()
    assert ftp.sanitize("PASS secret") == repr("PASS ******")
    assert ftp.sanitize("pass ab\r\n") == repr("pass **\r\n")
    assert ftp.sanitize("USER joe") == repr("USER joe")


# --------------------------------------------------------------------------
# Directories and files
# --------------------------------------------------------------------------


def test_cwd_pwd_and_cdup_navigate_directories(ftp: ftplib2.FTP, workdir: Path) -> None:
    (workdir / "sub").mkdir()
    assert ftp.pwd() == f"/{workdir.name}"
    assert ftp.cwd("sub").code == "250"
    assert ftp.pwd() == f"/{workdir.name}/sub"
    ftp.cwd("..")
    assert ftp.pwd() == f"/{workdir.name}"
    ftp.cwd("/")
    assert ftp.pwd() == "/"


def test_cwd_into_missing_directory_raises_error_perm(ftp: ftplib2.FTP, workdir: Path) -> None:
    with pytest.raises(ftplib2.error_perm) as excinfo:
        ftp.cwd("missing")
    assert excinfo.value.code == "550"
    assert ftp.pwd() == f"/{workdir.name}"


def test_mkd_returns_the_new_directory_path_and_rmd_removes_it(
    ftp: ftplib2.FTP, workdir: Path
) -> None:
    assert ftp.mkd("made") == f"/{workdir.name}/made"
    assert (workdir / "made").is_dir()
    assert ftp.rmd("made").code == "250"
    assert not (workdir / "made").exists()


def test_rename_moves_a_file(ftp: ftplib2.FTP, workdir: Path) -> None:
    (workdir / "old.txt").write_bytes(b"content")
    reply = ftp.rename("old.txt", "new.txt")
    assert reply.code == "250"
    assert not (workdir / "old.txt").exists()
    assert (workdir / "new.txt").read_bytes() == b"content"


def test_rename_of_missing_file_raises_error_perm(ftp: ftplib2.FTP) -> None:
    with pytest.raises(ftplib2.error_perm):
        ftp.rename("missing.txt", "new.txt")


def test_delete_removes_a_file(ftp: ftplib2.FTP, workdir: Path) -> None:
    (workdir / "doomed.txt").write_bytes(b"x")
    assert ftp.delete("doomed.txt").code == "250"
    assert not (workdir / "doomed.txt").exists()


def test_delete_of_missing_file_raises_error_perm_with_550(ftp: ftplib2.FTP) -> None:
    with pytest.raises(ftplib2.error_perm) as excinfo:
        ftp.delete("missing.txt")
    assert excinfo.value.code == "550"
    assert excinfo.value.lines[-1].startswith("550 ")


def test_size_returns_the_file_size_after_a_binary_transfer(
    ftp: ftplib2.FTP, workdir: Path
) -> None:
    (workdir / "sized.bin").write_bytes(bytes(12345))
    ftp.retrbinary("RETR sized.bin", lambda block: None)
    assert ftp.size("sized.bin") == 12345


def test_size_works_on_a_fresh_connection_whose_type_is_ascii_by_default(
    ftp: ftplib2.FTP, workdir: Path
) -> None:
    # RFC 959 makes ASCII the type until TYPE is sent, and servers refuse SIZE in ASCII.
    (workdir / "sized.bin").write_bytes(bytes(12345))
    assert ftp.size("sized.bin") == 12345


def test_size_of_missing_file_raises_error_perm(ftp: ftplib2.FTP) -> None:
    ftp.voidcmd("TYPE I")  # so that the 550 is about the file, not about ASCII mode
    with pytest.raises(ftplib2.error_perm) as excinfo:
        ftp.size("missing.bin")
    assert excinfo.value.code == "550"


def test_size_works_after_an_ascii_transfer(ftp: ftplib2.FTP, workdir: Path) -> None:
    (workdir / "notes.txt").write_bytes(b"one\ntwo\n")
    lines: list[str] = []
    ftp.retrlines("RETR notes.txt", lines.append)
    assert lines == ["one", "two"]
    assert ftp.size("notes.txt") == 8


def test_nlst_lists_the_names_in_the_directory(
    ftp_in_each_mode: ftplib2.FTP, workdir: Path
) -> None:
    (workdir / "a.txt").write_bytes(b"a")
    (workdir / "b.bin").write_bytes(b"b")
    (workdir / "sub").mkdir()
    assert sorted(ftp_in_each_mode.nlst()) == ["a.txt", "b.bin", "sub"]


def test_dir_passes_long_listing_lines_to_the_callback(ftp: ftplib2.FTP, workdir: Path) -> None:
    (workdir / "a.txt").write_bytes(b"hello")
    (workdir / "sub").mkdir()
    lines: list[str] = []
    ftp.dir(lines.append)
    by_name = {line.split()[-1]: line for line in lines}
    assert set(by_name) == {"a.txt", "sub"}
    assert by_name["a.txt"].startswith("-")
    assert by_name["sub"].startswith("d")


def test_dir_without_callback_prints_the_listing(ftp: ftplib2.FTP, workdir: Path, capsys) -> None:
    (workdir / "printed.txt").write_bytes(b"x")
    ftp.dir()
    assert "printed.txt" in capsys.readouterr().out


def test_mlsd_yields_names_with_requested_facts(
    ftp_in_each_mode: ftplib2.FTP, workdir: Path
) -> None:
    (workdir / "a.txt").write_bytes(b"hello")
    (workdir / "sub").mkdir()
    entries = dict(ftp_in_each_mode.mlsd(facts=["type", "size"]))
    entries = {name: facts for name, facts in entries.items() if name not in (".", "..")}
    assert set(entries) == {"a.txt", "sub"}
    assert entries["a.txt"]["type"] == "file"
    assert entries["a.txt"]["size"] == "5"
    assert entries["sub"]["type"] == "dir"


def test_non_ascii_file_names_round_trip(ftp_in_each_mode: ftplib2.FTP, workdir: Path) -> None:
    ftp = ftp_in_each_mode
    data = "grüße aus ftplib2\n".encode()
    assert ftp.storbinary(f"STOR {NON_ASCII_NAME}", io.BytesIO(data)).code == "226"
    assert (workdir / NON_ASCII_NAME).read_bytes() == data
    assert NON_ASCII_NAME in ftp.nlst()
    assert NON_ASCII_NAME in dict(ftp.mlsd())
    assert ftp.size(NON_ASCII_NAME) == len(data)
    received = bytearray()
    ftp.retrbinary(f"RETR {NON_ASCII_NAME}", received.extend)
    assert received == data
    ftp.rename(NON_ASCII_NAME, "ñandú €.txt")
    assert (workdir / "ñandú €.txt").read_bytes() == data
    assert ftp.mkd("répertoire") == f"/{workdir.name}/répertoire"
    ftp.cwd("répertoire")
    assert ftp.pwd() == f"/{workdir.name}/répertoire"


# --------------------------------------------------------------------------
# Transfers
# --------------------------------------------------------------------------


def test_retrbinary_delivers_the_exact_bytes(ftp_in_each_mode: ftplib2.FTP, workdir: Path) -> None:
    data = os.urandom(1 << 20) + b"\r\n\n\r\0"
    (workdir / "blob.bin").write_bytes(data)
    received = bytearray()
    reply = ftp_in_each_mode.retrbinary("RETR blob.bin", received.extend)
    assert reply.code == "226"
    assert received == data


def test_retrbinary_hands_blocks_no_larger_than_blocksize(ftp: ftplib2.FTP, workdir: Path) -> None:
    data = os.urandom(100_000)
    (workdir / "blob.bin").write_bytes(data)
    blocks: list[bytes] = []
    ftp.retrbinary("RETR blob.bin", blocks.append, blocksize=1000)
    assert b"".join(blocks) == data
    assert max(len(block) for block in blocks) <= 1000


def test_retrbinary_resumes_at_rest_offset(ftp_in_each_mode: ftplib2.FTP, workdir: Path) -> None:
    data = os.urandom(100_000)
    (workdir / "blob.bin").write_bytes(data)
    received = bytearray()
    ftp_in_each_mode.retrbinary("RETR blob.bin", received.extend, rest=60_000)
    assert received == data[60_000:]


def test_retrbinary_of_missing_file_raises_error_perm(ftp_in_each_mode: ftplib2.FTP) -> None:
    with pytest.raises(ftplib2.error_perm) as excinfo:
        ftp_in_each_mode.retrbinary("RETR missing.bin", print)
    assert excinfo.value.code == "550"
    assert ftp_in_each_mode.voidcmd("NOOP").code == "200"


def test_retrlines_delivers_lines_without_line_endings(
    ftp_in_each_mode: ftplib2.FTP, workdir: Path
) -> None:
    (workdir / "poem.txt").write_bytes("first line\nsecond line\n\nlast line é\n".encode())
    lines: list[str] = []
    reply = ftp_in_each_mode.retrlines("RETR poem.txt", lines.append)
    assert reply.code == "226"
    assert lines == ["first line", "second line", "", "last line é"]


def test_retrlines_without_callback_prints_the_lines(
    ftp: ftplib2.FTP, workdir: Path, capsys
) -> None:
    (workdir / "poem.txt").write_bytes(b"alpha\nbeta\n")
    ftp.retrlines("RETR poem.txt")
    assert capsys.readouterr().out == "alpha\nbeta\n"


def test_storbinary_uploads_the_exact_bytes(ftp_in_each_mode: ftplib2.FTP, workdir: Path) -> None:
    data = os.urandom(1 << 20) + b"\r\n\n\r\0"
    reply = ftp_in_each_mode.storbinary("STOR upload.bin", io.BytesIO(data))
    assert reply.code == "226"
    assert (workdir / "upload.bin").read_bytes() == data


def test_storbinary_calls_the_callback_with_each_block(ftp: ftplib2.FTP, workdir: Path) -> None:
    data = os.urandom(10_000)
    blocks: list[bytes] = []
    ftp.storbinary("STOR upload.bin", io.BytesIO(data), blocksize=4096, callback=blocks.append)
    assert [len(block) for block in blocks] == [4096, 4096, 1808]
    assert b"".join(blocks) == data
    assert (workdir / "upload.bin").read_bytes() == data


def test_storbinary_resumes_at_rest_offset(ftp_in_each_mode: ftplib2.FTP, workdir: Path) -> None:
    data = os.urandom(200_000)
    ftp_in_each_mode.storbinary("STOR resumed.bin", io.BytesIO(data[:70_000]))
    source = io.BytesIO(data)
    source.seek(70_000)
    ftp_in_each_mode.storbinary("STOR resumed.bin", source, rest=70_000)
    assert (workdir / "resumed.bin").read_bytes() == data


def test_storlines_uploads_lines_in_ascii_mode(
    ftp_in_each_mode: ftplib2.FTP, workdir: Path
) -> None:
    reply = ftp_in_each_mode.storlines("STOR text.txt", io.BytesIO(b"alpha\nbeta\r\ngamma"))
    assert reply.code == "226"
    assert (workdir / "text.txt").read_bytes() == b"alpha\nbeta\ngamma\n"


def test_storlines_calls_the_callback_with_each_line(ftp: ftplib2.FTP) -> None:
    seen: list[bytes] = []
    ftp.storlines("STOR text.txt", io.BytesIO(b"one\ntwo\n"), callback=seen.append)
    assert seen == [b"one\r\n", b"two\r\n"]


def test_binary_and_ascii_downloads_differ_only_in_line_endings(
    ftp: ftplib2.FTP, workdir: Path
) -> None:
    (workdir / "mixed.txt").write_bytes(b"a\nb\n")
    binary = bytearray()
    ftp.retrbinary("RETR mixed.txt", binary.extend)
    ftp.voidcmd("TYPE A")
    with ftp.transfercmd("RETR mixed.txt") as conn:
        ascii_bytes = recv_all(conn)
    ftp.voidresp()
    assert binary == b"a\nb\n"
    assert ascii_bytes == b"a\r\nb\r\n"


def test_large_file_round_trips_with_identical_sha256(
    ftp: ftplib2.FTP, workdir: Path, tmp_path: Path
) -> None:
    source = tmp_path / "64MiB.bin"
    digest = hashlib.sha256()
    with source.open("wb") as f:
        for _ in range(64):
            chunk = os.urandom(1 << 20)
            digest.update(chunk)
            f.write(chunk)
    expected = digest.hexdigest()
    with source.open("rb") as f:
        assert ftp.storbinary("STOR big-upload.bin", f, blocksize=1 << 18).code == "226"
    assert sha256_of_file(workdir / "big-upload.bin") == expected
    download = hashlib.sha256()
    size = 0

    def consume(block: bytes) -> None:
        nonlocal size
        size += len(block)
        download.update(block)

    assert ftp.retrbinary("RETR big-upload.bin", consume, blocksize=1 << 18).code == "226"
    assert size == 64 << 20
    assert download.hexdigest() == expected


def test_set_pasv_chooses_passive_or_active_data_connections(
    ftp_in_each_mode: ftplib2.FTP, mode_server: LiveServer, mode: tuple[str, bool], workdir: Path
) -> None:
    (workdir / "f.txt").write_bytes(b"data")
    ftp_in_each_mode.retrbinary("RETR f.txt", lambda block: None)
    family = mode[0]
    expected = {
        ("ipv4", True): {"PASV", "EPSV"},
        ("ipv4", False): {"PORT"},
        ("ipv6", True): {"EPSV"},
        ("ipv6", False): {"EPRT"},
    }[mode]
    verbs = {line.split()[0].upper() for line in mode_server.commands_of(ftp_in_each_mode)}
    used = verbs & {"PASV", "EPSV", "PORT", "EPRT"}
    assert used
    assert used <= expected
    assert ftp_in_each_mode.af == (socket.AF_INET if family == "ipv4" else socket.AF_INET6)


def test_ntransfercmd_returns_the_data_connection_and_announced_size(
    ftp_in_each_mode: ftplib2.FTP, workdir: Path
) -> None:
    data = os.urandom(50_000)
    (workdir / "blob.bin").write_bytes(data)
    ftp_in_each_mode.voidcmd("TYPE I")
    conn, size = ftp_in_each_mode.ntransfercmd("RETR blob.bin")
    with conn:
        assert recv_all(conn) == data
    assert ftp_in_each_mode.voidresp().code == "226"
    assert size is None  # pyftpdlib's 150 reply names no "(n bytes)"


def test_transfercmd_with_rest_starts_at_the_offset(
    ftp_in_each_mode: ftplib2.FTP, workdir: Path
) -> None:
    data = os.urandom(50_000)
    (workdir / "blob.bin").write_bytes(data)
    ftp_in_each_mode.voidcmd("TYPE I")
    with ftp_in_each_mode.transfercmd("RETR blob.bin", rest=12_345) as conn:
        assert recv_all(conn) == data[12_345:]
    assert ftp_in_each_mode.voidresp().code == "226"


def test_transfercmd_uploads_through_the_returned_connection(
    ftp_in_each_mode: ftplib2.FTP, workdir: Path
) -> None:
    ftp_in_each_mode.voidcmd("TYPE I")
    with ftp_in_each_mode.transfercmd("STOR sent.bin") as conn:
        conn.sendall(b"sent by hand")
    assert ftp_in_each_mode.voidresp().code == "226"
    assert (workdir / "sent.bin").read_bytes() == b"sent by hand"


def test_makepasv_returns_the_address_of_a_server_data_port(
    ftp_in_each_family: ftplib2.FTP, family_server: LiveServer, workdir: Path
) -> None:
    (workdir / "f.txt").write_bytes(b"passive data")
    host, port = ftp_in_each_family.makepasv()
    assert host == family_server.host
    assert isinstance(port, int) and port > 0
    with socket.create_connection((host, port), timeout=TIMEOUT) as conn:
        assert ftp_in_each_family.sendcmd("RETR f.txt").code in ("125", "150")
        assert recv_all(conn) == b"passive data"
    assert ftp_in_each_family.voidresp().code == "226"


def test_makeport_listens_for_the_server_data_connection(
    ftp_in_each_family: ftplib2.FTP, family_server: LiveServer, workdir: Path
) -> None:
    (workdir / "f.txt").write_bytes(b"active data")
    with ftp_in_each_family.makeport() as listener:
        assert listener.family == ftp_in_each_family.af
        assert ftp_in_each_family.sendcmd("RETR f.txt").code in ("125", "150")
        conn, _ = listener.accept()
    with conn:
        assert recv_all(conn) == b"active data"
    assert ftp_in_each_family.voidresp().code == "226"
    verb = "PORT" if family_server.host == "127.0.0.1" else "EPRT"
    assert any(
        line.startswith(verb + " ") for line in family_server.commands_of(ftp_in_each_family)
    )


def test_sendport_tells_the_server_where_to_connect(ftp: ftplib2.FTP, workdir: Path) -> None:
    (workdir / "f.txt").write_bytes(b"via PORT")
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(TIMEOUT)
        assert ftp.sendport("127.0.0.1", listener.getsockname()[1]).code == "200"
        assert ftp.sendcmd("RETR f.txt").code in ("125", "150")
        conn, _ = listener.accept()
    with conn:
        assert recv_all(conn) == b"via PORT"
    assert ftp.voidresp().code == "226"


def test_sendeprt_tells_the_server_where_to_connect(
    ftp_in_each_family: ftplib2.FTP, family_server: LiveServer, workdir: Path
) -> None:
    (workdir / "f.txt").write_bytes(b"via EPRT")
    family = socket.AF_INET if family_server.host == "127.0.0.1" else socket.AF_INET6
    with socket.create_server((family_server.host, 0), family=family) as listener:
        listener.settimeout(TIMEOUT)
        reply = ftp_in_each_family.sendeprt(family_server.host, listener.getsockname()[1])
        assert reply.code == "200"
        assert ftp_in_each_family.sendcmd("RETR f.txt").code in ("125", "150")
        conn, _ = listener.accept()
    with conn:
        assert recv_all(conn) == b"via EPRT"
    assert ftp_in_each_family.voidresp().code == "226"
    assert any(line.startswith("EPRT ") for line in family_server.commands_of(ftp_in_each_family))


def test_type_is_sent_only_when_it_changes(
    ftp: ftplib2.FTP, server: LiveServer, workdir: Path
) -> None:
    for name in ("one.txt", "two.txt", "three.txt"):
        (workdir / name).write_bytes(b"text\n")

    def type_commands() -> list[str]:
        return [line for line in server.commands_of(ftp) if line.upper().startswith("TYPE")]

    for name in ("one.txt", "two.txt", "three.txt"):
        ftp.retrbinary(f"RETR {name}", lambda block: None)
    assert type_commands() == ["TYPE I"]
    ftp.retrlines("RETR one.txt", lambda line: None)
    ftp.retrlines("RETR two.txt", lambda line: None)
    ftp.retrbinary("RETR three.txt", lambda block: None)
    assert type_commands() == ["TYPE I", "TYPE A", "TYPE I"]


def test_ftpcp_copies_a_file_between_two_connections(
    ftp: ftplib2.FTP, server: LiveServer, workdir: Path
) -> None:
    data = os.urandom(300_000)
    (workdir / "original.bin").write_bytes(data)
    with open_session(server, workdir) as target:
        ftplib2.ftpcp(ftp, "original.bin", target, "copy.bin")
        assert target.voidcmd("NOOP").code == "200"
    assert ftp.voidcmd("NOOP").code == "200"
    assert (workdir / "copy.bin").read_bytes() == data


# --------------------------------------------------------------------------
# Aborted transfers and failing callbacks keep the control connection in step
# --------------------------------------------------------------------------


def test_abort_during_a_download_consumes_the_426_and_226_replies(
    ftp_in_each_mode: ftplib2.FTP, workdir: Path, big_files: dict[str, Path]
) -> None:
    ftp = ftp_in_each_mode
    ftp.voidcmd("TYPE I")
    conn = ftp.transfercmd(f"RETR /{BIG_FILE}")
    try:
        assert conn.recv(8192)
        reply = ftp.abort()
    finally:
        conn.close()
    assert reply.code in ("225", "226", "426")
    assert ftp.voidcmd("NOOP").code == "200"
    assert ftp.pwd() == f"/{workdir.name}"


def test_abort_without_a_transfer_returns_225_and_stays_in_step(ftp: ftplib2.FTP) -> None:
    assert ftp.abort().code in ("225", "226")
    assert ftp.voidcmd("NOOP").code == "200"


def _upload_failing_mid_transfer(method: str) -> Callable[[ftplib2.FTP, LiveServer], object]:
    def upload(ftp: ftplib2.FTP, server: LiveServer) -> object:
        expected = server.data_connections_of(ftp) + 1

        def fail_once_the_server_receives(block: bytes) -> None:
            # Fail mid-transfer, not before the server has even taken the data connection
            # (that case has its own test below).
            server.wait_for_data_connections(ftp, expected)
            raise CallbackFailed("the callback gave up")

        if method == "storbinary":
            source = io.BytesIO(os.urandom(8 << 20))
            return ftp.storbinary(
                "STOR partial.bin", source, callback=fail_once_the_server_receives
            )
        source = io.BytesIO(b"a line of text\n" * 500_000)
        return ftp.storlines("STOR partial.txt", source, callback=fail_once_the_server_receives)

    return upload


TRANSFERS_WITH_CALLBACKS = {
    "retrbinary": lambda ftp, server: ftp.retrbinary(f"RETR /{BIG_FILE}", failing_callback),
    "retrlines": lambda ftp, server: ftp.retrlines(f"RETR /{LINES_FILE}", failing_callback),
    "storbinary": _upload_failing_mid_transfer("storbinary"),
    "storlines": _upload_failing_mid_transfer("storlines"),
}


@pytest.mark.parametrize("transfer", list(TRANSFERS_WITH_CALLBACKS))
def test_exception_in_transfer_callback_leaves_the_connection_in_step(
    ftp_in_each_mode: ftplib2.FTP,
    mode_server: LiveServer,
    workdir: Path,
    big_files: dict[str, Path],
    transfer: str,
) -> None:
    ftp = ftp_in_each_mode
    with pytest.raises(CallbackFailed):
        TRANSFERS_WITH_CALLBACKS[transfer](ftp, mode_server)
    assert ftp.pwd() == f"/{workdir.name}"
    assert ftp.voidcmd("NOOP").code == "200"
    (workdir / "after.txt").write_bytes(b"still works")
    received = bytearray()
    assert ftp.retrbinary("RETR after.txt", received.extend).code == "226"
    assert received == b"still works"


@pytest.mark.parametrize("upload", ["storbinary", "storlines"])
def test_exception_in_first_upload_callback_before_the_server_accepts_stays_in_step(
    slow_accept_server: LiveServer, workdir: Path, upload: str
) -> None:
    # The server answers STOR with "150 About to open data connection" and only then accepts
    # the connection the client already opened, as a busy server may: the callback fails
    # while the server has not yet taken the data connection.
    with open_session(slow_accept_server, workdir) as ftp:
        with pytest.raises(CallbackFailed):
            if upload == "storbinary":
                ftp.storbinary("STOR early.bin", io.BytesIO(bytes(100_000)), 8192, failing_callback)
            else:
                ftp.storlines("STOR early.txt", io.BytesIO(b"text\n" * 1000), failing_callback)
        assert ftp.voidcmd("NOOP").code == "200"
        assert ftp.pwd() == f"/{workdir.name}"


# --------------------------------------------------------------------------
# FTP over TLS
# --------------------------------------------------------------------------


def test_tls_login_secures_the_control_connection_with_auth_tls(
    tls_server: LiveServer, tls_client_context: ssl.SSLContext
) -> None:
    with ftplib2.FTP_TLS(context=tls_client_context, timeout=TIMEOUT) as ftp:
        ftp.connect(tls_server.host, tls_server.port)
        assert not isinstance(ftp.sock, ssl.SSLSocket)
        assert ftp.login(USER, PASSWORD, secure=True).code == "230"
        assert isinstance(ftp.sock, ssl.SSLSocket)
        assert ftp.context is tls_client_context
        assert [line.split()[0] for line in tls_server.commands_of(ftp)] == [
            "AUTH",
            "USER",
            "PASS",
        ]
        assert tls_server.commands_of(ftp)[0] == "AUTH TLS"


def test_tls_login_insecure_keeps_the_control_connection_clear(
    tls_server: LiveServer, tls_client_context: ssl.SSLContext
) -> None:
    with ftplib2.FTP_TLS(context=tls_client_context, timeout=TIMEOUT) as ftp:
        ftp.connect(tls_server.host, tls_server.port)
        ftp.login(USER, PASSWORD, secure=False)
        assert not isinstance(ftp.sock, ssl.SSLSocket)
        assert "AUTH TLS" not in tls_server.commands_of(ftp)


def test_tls_auth_returns_234_and_refuses_a_second_time(
    tls_server: LiveServer, tls_client_context: ssl.SSLContext
) -> None:
    with ftplib2.FTP_TLS(context=tls_client_context, timeout=TIMEOUT) as ftp:
        ftp.connect(tls_server.host, tls_server.port)
        assert ftp.auth().code == "234"
        assert isinstance(ftp.sock, ssl.SSLSocket)
        with pytest.raises(ValueError):
            ftp.auth()


def test_tls_constructor_with_user_logs_in_securely(
    tls_server: LiveServer, tls_client_context: ssl.SSLContext
) -> None:
    ftp_class = on_port(ftplib2.FTP_TLS, tls_server.port)
    with ftp_class(
        tls_server.host, USER, PASSWORD, context=tls_client_context, timeout=TIMEOUT
    ) as ftp:
        assert isinstance(ftp.sock, ssl.SSLSocket)
        assert ftp.pwd() == "/"


def test_tls_with_a_default_context_rejects_an_untrusted_certificate(
    tls_server: LiveServer,
) -> None:
    with ftplib2.FTP_TLS(context=ssl.create_default_context(), timeout=TIMEOUT) as ftp:
        ftp.connect(tls_server.host, tls_server.port)
        with pytest.raises(ssl.SSLCertVerificationError):
            ftp.login(USER, PASSWORD)


def test_tls_without_a_context_does_not_verify_like_ftplib(tls_server: LiveServer) -> None:
    with ftplib2.FTP_TLS(timeout=TIMEOUT) as ftp:
        ftp.connect(tls_server.host, tls_server.port)
        ftp.login(USER, PASSWORD)
        assert isinstance(ftp.sock, ssl.SSLSocket)
        assert ftp.pwd() == "/"


def test_tls_prot_p_protects_data_connections(tls_ftp: ftplib2.FTP_TLS, workdir: Path) -> None:
    (workdir / "f.txt").write_bytes(b"secret")
    tls_ftp.voidcmd("TYPE I")
    with tls_ftp.transfercmd("RETR f.txt") as conn:
        assert isinstance(conn, ssl.SSLSocket)
        assert recv_all(conn) == b"secret"
    assert tls_ftp.voidresp().code == "226"


def test_tls_upload_and_download_keep_the_sha256(tls_ftp: ftplib2.FTP_TLS, workdir: Path) -> None:
    data = os.urandom((4 << 20) + 123)
    expected = hashlib.sha256(data).hexdigest()
    assert tls_ftp.storbinary("STOR secret.bin", io.BytesIO(data)).code == "226"
    assert sha256_of_file(workdir / "secret.bin") == expected
    digest = hashlib.sha256()
    assert tls_ftp.retrbinary("RETR secret.bin", digest.update).code == "226"
    assert digest.hexdigest() == expected


def test_tls_listings_and_text_transfers_work_under_prot_p(
    tls_ftp: ftplib2.FTP_TLS, workdir: Path
) -> None:
    (workdir / "notes.txt").write_bytes(b"one\ntwo\n")
    assert tls_ftp.nlst() == ["notes.txt"]
    assert "notes.txt" in dict(tls_ftp.mlsd())
    lines: list[str] = []
    tls_ftp.retrlines("RETR notes.txt", lines.append)
    assert lines == ["one", "two"]
    tls_ftp.storlines("STOR more.txt", io.BytesIO(b"three\n"))
    assert (workdir / "more.txt").read_bytes() == b"three\n"


def test_tls_data_connection_reuses_the_control_tls_session(
    tls_ftp: ftplib2.FTP_TLS, workdir: Path
) -> None:
    (workdir / "f.txt").write_bytes(b"resumed")
    tls_ftp.voidcmd("TYPE I")
    for _ in range(2):
        with tls_ftp.transfercmd("RETR f.txt") as conn:
            assert conn.session_reused
            assert recv_all(conn) == b"resumed"
        assert tls_ftp.voidresp().code == "226"


def test_tls_prot_c_returns_data_connections_to_clear_text(
    tls_ftp: ftplib2.FTP_TLS, workdir: Path
) -> None:
    (workdir / "f.txt").write_bytes(b"clear")
    assert tls_ftp.prot_c().code == "200"
    tls_ftp.voidcmd("TYPE I")
    with tls_ftp.transfercmd("RETR f.txt") as conn:
        assert not isinstance(conn, ssl.SSLSocket)
        assert recv_all(conn) == b"clear"
    assert tls_ftp.voidresp().code == "226"
    assert isinstance(tls_ftp.sock, ssl.SSLSocket)


def test_tls_ccc_returns_the_control_connection_to_clear_text(
    tls_ftp: ftplib2.FTP_TLS, tls_server: LiveServer, workdir: Path
) -> None:
    assert tls_ftp.ccc().code == "200"
    # As with ftplib, the socket may still be an SSLSocket object, but without TLS.
    assert getattr(tls_ftp.sock, "version", lambda: None)() is None
    assert tls_ftp.pwd() == f"/{workdir.name}"
    assert tls_ftp.voidcmd("NOOP").code == "200"
    assert tls_server.commands_of(tls_ftp)[-3:] == ["CCC", "PWD", "NOOP"]


# --------------------------------------------------------------------------
# Module-level helpers, constants and exceptions
# --------------------------------------------------------------------------


def test_constants_match_ftplib() -> None:
    assert ftplib2.FTP_PORT == 21
    assert ftplib2.MAXLINE == 8192
    assert ftplib2.MSG_OOB == stdlib_ftplib.MSG_OOB
    assert ftplib2.CRLF == "\r\n"
    assert ftplib2.B_CRLF == b"\r\n"


def test_exception_classes_form_ftplibs_hierarchy() -> None:
    for cls in (ftplib2.error_reply, ftplib2.error_temp, ftplib2.error_perm, ftplib2.error_proto):
        assert issubclass(cls, ftplib2.Error)
    assert issubclass(ftplib2.Error, Exception)
    for cls in (ftplib2.Error, OSError, EOFError):
        assert issubclass(cls, ftplib2.all_errors)


def test_error_exposes_the_reply_code_and_lines() -> None:
    err = ftplib2.error_perm("550-No such file\n550 Really not there")
    assert err.code == "550"
    assert err.lines == ["550-No such file", "550 Really not there"]
    assert str(err) == "550-No such file\n550 Really not there"


def test_error_without_a_reply_code_has_code_none() -> None:
    assert ftplib2.Error("got more than 8192 bytes").code is None
    assert ftplib2.error_reply().code is None


def test_parse150_extracts_the_announced_size() -> None:
    assert ftplib2.parse150("150 Opening BINARY mode data connection for f (1234 bytes).") == 1234
    assert ftplib2.parse150("150 File status okay.") is None
    with pytest.raises(ftplib2.error_reply):
        ftplib2.parse150("125 Data connection already open.")


def test_parse227_extracts_host_and_port() -> None:
    assert ftplib2.parse227("227 Entering Passive Mode (192,168,0,1,4,1).") == ("192.168.0.1", 1025)
    with pytest.raises(ftplib2.error_reply):
        ftplib2.parse227("200 not a PASV reply")
    with pytest.raises(ftplib2.error_proto):
        ftplib2.parse227("227 no numbers here")


def test_parse229_extracts_the_port_and_uses_the_peer_host() -> None:
    assert ftplib2.parse229("229 Entering Extended Passive Mode (|||6446|)", ("::1", 21)) == (
        "::1",
        6446,
    )
    with pytest.raises(ftplib2.error_reply):
        ftplib2.parse229("227 wrong code", ("::1", 21))
    with pytest.raises(ftplib2.error_proto):
        ftplib2.parse229("229 no parentheses", ("::1", 21))


def test_parse257_extracts_the_directory_and_unquotes_doubled_quotes() -> None:
    assert ftplib2.parse257('257 "/home/joe" created.') == "/home/joe"
    assert ftplib2.parse257('257 "/dir with ""quotes""" created.') == '/dir with "quotes"'
    assert ftplib2.parse257("257 no quoted name") == ""
    with pytest.raises(ftplib2.error_reply):
        ftplib2.parse257('250 "/home/joe"')


def test_print_line_prints_the_line(capsys) -> None:
    ftplib2.print_line("hello")
    assert capsys.readouterr().out == "hello\n"


_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
_BY_NAME = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def _same_default(a: object, b: object) -> bool:
    return a is b or a == b


def _signature_differences(reference: object, candidate: object) -> list[str]:
    """Calls `reference` accepts that `candidate` would reject or read differently."""
    theirs = inspect.signature(reference).parameters
    ours = inspect.signature(candidate).parameters
    problems = []
    their_positional = [p for p in theirs.values() if p.kind in _POSITIONAL]
    our_positional = [p for p in ours.values() if p.kind in _POSITIONAL]
    for index, param in enumerate(their_positional):
        mine = our_positional[index] if index < len(our_positional) else None
        if mine is None or mine.name != param.name:
            problems.append(f"positional parameter {index} is {mine}, not {param}")
        elif not _same_default(mine.default, param.default):
            problems.append(f"{param.name} defaults to {mine.default!r}, not {param.default!r}")
    for extra in our_positional[len(their_positional) :]:
        if extra.default is extra.empty:
            problems.append(f"extra positional parameter {extra} is required")
    for param in theirs.values():
        if param.kind is inspect.Parameter.VAR_POSITIONAL:
            if not any(p.kind is param.kind for p in ours.values()):
                problems.append(f"no *{param.name}")
        elif param.kind is inspect.Parameter.KEYWORD_ONLY:
            mine = ours.get(param.name)
            if mine is None or mine.kind not in _BY_NAME:
                problems.append(f"keyword parameter {param.name!r} missing")
            elif not _same_default(mine.default, param.default):
                problems.append(f"{param.name} defaults to {mine.default!r}, not {param.default!r}")
    for extra in ours.values():
        is_new_keyword = extra.kind is inspect.Parameter.KEYWORD_ONLY and extra.name not in theirs
        if is_new_keyword and extra.default is extra.empty:
            problems.append(f"extra keyword parameter {extra} is required")
    return problems


def _ftp_tls_init_reference(
    self,
    host="",
    user="",
    passwd="",
    acct="",
    *,
    context=None,
    timeout=socket._GLOBAL_DEFAULT_TIMEOUT,
    source_address=None,
    encoding="utf-8",
):
    """FTP_TLS's constructor as Python 3.12 has it (3.11 still takes keyfile and certfile)."""


def test_public_signatures_match_ftplib() -> None:
    problems = {}
    for class_name in ("FTP", "FTP_TLS"):
        stdlib_class = getattr(stdlib_ftplib, class_name)
        for name, member in vars(stdlib_class).items():
            if (name.startswith("_") and name != "__init__") or not callable(member):
                continue
            if (class_name, name) == ("FTP_TLS", "__init__"):
                member = _ftp_tls_init_reference
            difference = _signature_differences(member, getattr(getattr(ftplib2, class_name), name))
            if difference:
                problems[f"{class_name}.{name}"] = difference
    for name in ("parse150", "parse227", "parse229", "parse257", "print_line", "ftpcp"):
        difference = _signature_differences(getattr(stdlib_ftplib, name), getattr(ftplib2, name))
        if difference:
            problems[name] = difference
    assert problems == {}


# --------------------------------------------------------------------------
# The reply parser, without sockets
# --------------------------------------------------------------------------


def _reply_sample(raw: bytes, lines: list[str], sample_id: str) -> object:
    return pytest.param(raw, lines, id=sample_id)


REPLY_SAMPLES = [
    _reply_sample(b"200 Command okay.\r\n", ["200 Command okay."], "single-line"),
    _reply_sample(b"200\r\n", ["200"], "bare-code"),
    _reply_sample(b"150 Opening data connection.\r\n", ["150 Opening data connection."], "1xx"),
    _reply_sample(
        b"123-First line\r\nSecond line\r\n 234 A line beginning with numbers\r\n"
        b"123-still going\r\n456 looks like a reply\r\n123 The last line\r\n",
        [
            "123-First line",
            "Second line",
            " 234 A line beginning with numbers",
            "123-still going",
            "456 looks like a reply",
            "123 The last line",
        ],
        "multi-line-with-code-like-lines",
    ),
    _reply_sample(
        b"211-Features:\r\n MDTM\r\n REST STREAM\r\n SIZE\r\n211 End\r\n",
        ["211-Features:", " MDTM", " REST STREAM", " SIZE", "211 End"],
        "multi-line-2xx",
    ),
    _reply_sample(
        b"250-first\r\n250-second\r\n250 third\r\n",
        ["250-first", "250-second", "250 third"],
        "multi-line-all-coded",
    ),
    _reply_sample(b"220-\r\n\r\n220 \r\n", ["220-", "", "220 "], "multi-line-empty-texts"),
    _reply_sample('257 "/café ünï" created.\r\n'.encode(), ['257 "/café ünï" created.'], "utf-8"),
    _reply_sample(b"550 caf\xe9 \xff\xfe\r\n", ["550 caf\udce9 \udcff\udcfe"], "not-utf-8"),
    _reply_sample(
        b"226-ok \x80\r\n\xff\xfe raw\r\n226 done\r\n",
        ["226-ok \udc80", "\udcff\udcfe raw", "226 done"],
        "multi-line-not-utf-8",
    ),
]

TRAILING = b"221 Goodbye.\r\n22"


def parse_chunks(chunks: list[bytes], **options: object) -> tuple[list[ftplib2.Reply], bytes]:
    """Feed `chunks` one by one, taking out every reply as soon as it is complete."""
    parser = ftplib2.ReplyParser(**options)
    replies = []
    for chunk in chunks:
        parser.feed(chunk)
        while (reply := parser.next_reply()) is not None:
            replies.append(reply)
    return replies, parser.buffered


def assert_reply(reply: object, lines: list[str]) -> None:
    assert isinstance(reply, ftplib2.Reply)
    assert reply == "\n".join(lines)
    assert reply.code == lines[0][:3]
    assert reply.lines == lines


@pytest.mark.parametrize(("raw", "lines"), REPLY_SAMPLES)
def test_parser_reads_a_reply_fed_whole(raw: bytes, lines: list[str]) -> None:
    replies, buffered = parse_chunks([raw])
    assert len(replies) == 1
    assert_reply(replies[0], lines)
    assert buffered == b""


@pytest.mark.parametrize(("raw", "lines"), REPLY_SAMPLES)
def test_parser_reads_a_reply_fed_one_byte_at_a_time(raw: bytes, lines: list[str]) -> None:
    parser = ftplib2.ReplyParser()
    for index in range(len(raw) - 1):
        parser.feed(raw[index : index + 1])
        assert parser.next_reply() is None, f"a reply came out after only {index + 1} bytes"
    parser.feed(raw[-1:])
    assert_reply(parser.next_reply(), lines)
    assert parser.next_reply() is None
    assert parser.buffered == b""


@pytest.mark.parametrize(("raw", "lines"), REPLY_SAMPLES)
def test_parser_reads_a_reply_split_at_every_byte_boundary(raw: bytes, lines: list[str]) -> None:
    for cut in range(len(raw) + 1):
        replies, buffered = parse_chunks([raw[:cut], raw[cut:]])
        assert len(replies) == 1, f"split at {cut}"
        assert_reply(replies[0], lines)
        assert buffered == b""


@pytest.mark.parametrize(("raw", "lines"), REPLY_SAMPLES)
def test_parser_leaves_trailing_bytes_buffered(raw: bytes, lines: list[str]) -> None:
    parser = ftplib2.ReplyParser()
    parser.feed(raw + TRAILING)
    assert_reply(parser.next_reply(), lines)
    assert parser.buffered == TRAILING
    assert_reply(parser.next_reply(), ["221 Goodbye."])
    assert parser.buffered == b"22"
    assert parser.next_reply() is None
    assert parser.buffered == b"22"


@pytest.mark.parametrize(("raw", "lines"), REPLY_SAMPLES)
def test_parser_reads_back_to_back_replies_split_anywhere(raw: bytes, lines: list[str]) -> None:
    stream = raw + raw
    for cut in range(len(stream) + 1):
        replies, buffered = parse_chunks([stream[:cut], stream[cut:]])
        assert len(replies) == 2, f"split at {cut}"
        for reply in replies:
            assert_reply(reply, lines)
        assert buffered == b""


@pytest.mark.parametrize(("raw", "lines"), REPLY_SAMPLES)
def test_next_line_and_add_line_assemble_the_same_reply(raw: bytes, lines: list[str]) -> None:
    parser = ftplib2.ReplyParser()
    assert parser.next_line() is None
    parser.feed(raw)
    taken = []
    reply = None
    while reply is None:
        line = parser.next_line()
        assert line is not None
        taken.append(line)
        reply = parser.add_line(line)
    assert taken == lines
    assert_reply(reply, lines)
    assert parser.next_line() is None


def test_add_line_assembles_a_multiline_reply_from_strings() -> None:
    parser = ftplib2.ReplyParser()
    assert parser.add_line("230-Welcome") is None
    assert parser.add_line("230-ish line") is None
    assert_reply(parser.add_line("230 Logged in"), ["230-Welcome", "230-ish line", "230 Logged in"])
    assert_reply(parser.add_line("200 Next"), ["200 Next"])


def test_parser_decodes_with_the_given_encoding() -> None:
    replies, _ = parse_chunks([b"200 caf\xe9\r\n"], encoding="latin-1")
    assert_reply(replies[0], ["200 café"])


def test_parser_accepts_a_line_just_under_maxline() -> None:
    line = b"200 " + b"x" * 60
    replies, _ = parse_chunks([line + b"\r\n"], maxline=80)
    assert_reply(replies[0], [line.decode()])


MALFORMED_REPLIES = [
    pytest.param(b"hello there\r\n", {}, id="no-code"),
    pytest.param(b"\r\n", {}, id="empty-line"),
    pytest.param(b"20\r\n", {}, id="two-digits"),
    pytest.param(b"2x0 bad\r\n", {}, id="letter-in-code"),
    pytest.param(b"2000 four digits\r\n", {}, id="four-digits"),
    pytest.param(b"200\tTab\r\n", {}, id="tab-after-code"),
    pytest.param(b" 200 leading space\r\n", {}, id="leading-space"),
    pytest.param(b"600 out of range\r\n", {}, id="first-digit-6"),
    pytest.param(b"099 out of range\r\n", {}, id="first-digit-0"),
    pytest.param(b"200 " + b"x" * 200 + b"\r\n", {"maxline": 100}, id="line-too-long"),
    pytest.param(b"200 " + b"x" * 200, {"maxline": 100}, id="unterminated-line-too-long"),
    pytest.param(b"200 " + b"x" * 9000 + b"\r\n", {}, id="line-over-MAXLINE"),
    pytest.param(
        b"211-start\r\n" + b"more\r\n" * 20 + b"211 end\r\n", {"max_lines": 10}, id="too-many-lines"
    ),
    pytest.param(
        b"211-start\r\n" + b"x" * 50 + b"\r\n" + b"y" * 50 + b"\r\n211 end\r\n",
        {"max_bytes": 64},
        id="too-many-bytes",
    ),
]


@pytest.mark.parametrize(("raw", "options"), MALFORMED_REPLIES)
def test_parser_rejects_malformed_input_with_error_proto(raw: bytes, options: dict) -> None:
    with pytest.raises(ftplib2.error_proto):
        parse_chunks([raw], **options)
    with pytest.raises(ftplib2.error_proto):
        parse_chunks([raw[i : i + 1] for i in range(len(raw))], **options)


def test_parser_error_names_the_offending_line() -> None:
    with pytest.raises(ftplib2.error_proto, match="hello there"):
        parse_chunks([b"hello there\r\n"])


def test_parser_rejects_an_endless_multiline_reply_by_default() -> None:
    parser = ftplib2.ReplyParser()
    parser.feed(b"211-start\r\n")
    with pytest.raises(ftplib2.error_proto):
        for _ in range(20_000):
            parser.feed(b"another line\r\n")
            assert parser.next_reply() is None


_codes = st.from_regex(r"[1-5][0-9]{2}", fullmatch=True)
_texts = st.binary(max_size=30).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))


@st.composite
def valid_replies(draw: st.DrawFn) -> tuple[bytes, list[str]]:
    """A well-formed reply as raw bytes, with the lines it must parse to."""
    code = draw(_codes).encode()
    if draw(st.booleans()):
        raw_lines = [draw(st.one_of(st.just(code), st.builds(lambda t: code + b" " + t, _texts)))]
    else:
        other_code_line = st.builds(lambda c, t: c.encode() + b" " + t, _codes, _texts)
        same_code_continued = st.builds(lambda t: code + b"-" + t, _texts)
        middle = draw(
            st.lists(
                st.one_of(_texts, other_code_line, same_code_continued).filter(
                    # a line starting with the code, not followed by "-", would end the reply
                    lambda line: not (line[:3] == code and line[3:4] != b"-")
                ),
                max_size=6,
            )
        )
        raw_lines = [code + b"-" + draw(_texts), *middle, code + b" " + draw(_texts)]
    raw = b"".join(line + b"\r\n" for line in raw_lines)
    return raw, [line.decode("utf-8", "surrogateescape") for line in raw_lines]


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(cut, len(data)) for cut in cuts})
    return [data[start:end] for start, end in zip([0, *points], [*points, len(data)])]


HYPOTHESIS_SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@HYPOTHESIS_SETTINGS
@given(
    replies=st.lists(valid_replies(), min_size=1, max_size=4),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=12),
)
def test_valid_replies_parse_identically_however_they_are_split(
    replies: list[tuple[bytes, list[str]]], cuts: list[int]
) -> None:
    stream = b"".join(raw for raw, _ in replies)
    parsed, buffered = parse_chunks(split_at(stream, cuts))
    assert len(parsed) == len(replies)
    for reply, (_, lines) in zip(parsed, replies):
        assert_reply(reply, lines)
    assert buffered == b""


@HYPOTHESIS_SETTINGS
@given(
    data=st.binary(max_size=400),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=8),
    maxline=st.sampled_from([ftplib2.MAXLINE, 40]),
    max_lines=st.sampled_from([10000, 3]),
    max_bytes=st.sampled_from([1 << 20, 64]),
)
def test_arbitrary_bytes_raise_nothing_but_error_proto(
    data: bytes, cuts: list[int], maxline: int, max_lines: int, max_bytes: int
) -> None:
    with contextlib.suppress(ftplib2.error_proto):
        parse_chunks(
            split_at(data, cuts), maxline=maxline, max_lines=max_lines, max_bytes=max_bytes
        )


# --------------------------------------------------------------------------
# CPython's own ftplib tests, run against ftplib2
# --------------------------------------------------------------------------


def _run_cpython_ftplib_tests(ftplib_module: object) -> tuple[unittest.TestResult, str]:
    """Import a fresh test.test_ftplib that sees `ftplib_module` as ftplib, and run it."""
    saved_ftplib = sys.modules.get("ftplib")
    sys.modules.pop("test.test_ftplib", None)
    sys.modules["ftplib"] = ftplib_module
    try:
        module = importlib.import_module("test.test_ftplib")
        assert module.ftplib is ftplib_module
        stream = io.StringIO()
        suite = unittest.defaultTestLoader.loadTestsFromModule(module)
        result = unittest.TextTestRunner(stream=stream, verbosity=2).run(suite)
    finally:
        sys.modules.pop("test.test_ftplib", None)
        if saved_ftplib is None:
            sys.modules.pop("ftplib", None)
        else:
            sys.modules["ftplib"] = saved_ftplib
    return result, stream.getvalue()


def test_cpython_ftplib_test_suite_passes_against_ftplib2() -> None:
    try:
        importlib.import_module("test.test_ftplib")
    except ImportError as exc:
        pytest.skip(f"CPython's test.test_ftplib is not available: {exc}")
    finally:
        sys.modules.pop("test.test_ftplib", None)
    baseline, baseline_output = _run_cpython_ftplib_tests(stdlib_ftplib)
    assert baseline.wasSuccessful(), baseline_output
    result, output = _run_cpython_ftplib_tests(ftplib2)
    assert result.wasSuccessful(), output
    assert (result.testsRun, len(result.skipped)) == (
        baseline.testsRun,
        len(baseline.skipped),
    ), output
    assert sys.modules["ftplib"] is stdlib_ftplib


# --------------------------------------------------------------------------
# python -m ftplib2
# --------------------------------------------------------------------------


def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ftplib2", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=Path(ftplib2.__file__).parent,
    )


@pytest.mark.parametrize("args", [["demo"], []], ids=["demo", "no-arguments"])
def test_cli_demo_runs_a_session_against_an_embedded_server(args: list[str]) -> None:
    completed = _run_cli(*args)
    assert completed.returncode == 0, completed.stderr
    assert "220 " in completed.stdout  # the server's greeting
    assert "221 " in completed.stdout  # the reply to QUIT


def test_cli_help_prints_usage() -> None:
    completed = _run_cli("-h")
    assert completed.returncode == 0, completed.stderr
    assert "usage" in completed.stdout.lower()
    assert "ftplib2" in completed.stdout


# ==================================================================================================
# Every server is untrusted input: a scripted misbehaving server
# ==================================================================================================


HOSTILE_TIMEOUT = 2.0
"""The client timeout of most tests here: small, so that a hang fails fast."""

HOSTILE_SERVER_WAIT = 10.0
"""The longest a scripted server waits for the client before giving up on it."""


# --------------------------------------------------------------------------
# The scripted server
# --------------------------------------------------------------------------


class HostileClientGone(Exception):
    """The client closed the control connection: a script's normal end."""


class HostileStopped(Exception):
    """The test is over and its server is stopping: a script must end now."""


def hostile_reset(sock: socket.socket) -> None:
    """Close `sock` with a TCP reset (SO_LINGER 0) instead of an orderly FIN."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def hostile_wait_for_close(sock: socket.socket) -> None:
    """Read and drop whatever comes on `sock` until the peer closes or resets it."""
    with contextlib.suppress(OSError):
        while sock.recv(65536):
            pass


class HostileControl:
    """A script's handle on one control connection, seen from the server side."""

    def __init__(self, server: HostileServer, conn: socket.socket) -> None:
        self.server = server
        self.conn = conn
        self.data_listener: socket.socket | None = None
        self._unread = b""
        self._sockets = [conn]

    def track(self, sock: socket.socket) -> socket.socket:
        """Have `sock` closed when the script ends, and unblocked when the test ends."""
        self._sockets.append(sock)
        self.server.track(sock)
        return sock

    def send(self, data: bytes) -> None:
        """Send exactly these bytes on the control connection."""
        self.conn.sendall(data)

    def reply(self, text: str) -> None:
        """Send one reply line, adding CRLF."""
        self.send(text.encode("utf-8", "surrogateescape") + b"\r\n")

    def recv_command(self) -> str:
        """Read and record one command line; raise HostileClientGone when the client closes."""
        while b"\n" not in self._unread:
            chunk = self.conn.recv(4096)
            if not chunk:
                raise HostileClientGone
            self._unread += chunk
        raw, _, self._unread = self._unread.partition(b"\n")
        raw = raw.removesuffix(b"\r")
        self.server.raw_commands.append(raw)
        return raw.decode("utf-8", "surrogateescape")

    def ignore_until_closed(self) -> None:
        """Record commands without answering them until the client goes away."""
        while True:
            self.recv_command()

    def open_pasv(self, port: int = 0) -> tuple[socket.socket, str]:
        """Listen for a data connection; return the listener and the 227 reply announcing it."""
        listener = self.track(socket.create_server(("127.0.0.1", port), backlog=4))
        self.data_listener = listener
        number = listener.getsockname()[1]
        return listener, f"227 Entering Passive Mode (127,0,0,1,{number >> 8},{number & 0xFF})."

    def open_epsv(self) -> tuple[socket.socket, str]:
        """Listen for a data connection; return the listener and the 229 reply announcing it."""
        listener, _ = self.open_pasv()
        number = listener.getsockname()[1]
        return listener, f"229 Entering Extended Passive Mode (|||{number}|)."

    def accept_data(self) -> socket.socket:
        """Accept the client's data connection on the last passive port, then stop listening."""
        listener = self.data_listener
        assert listener is not None, "the script accepts a data connection it never offered"
        listener.settimeout(HOSTILE_SERVER_WAIT)
        conn, _ = listener.accept()
        self.track(conn)
        conn.settimeout(HOSTILE_SERVER_WAIT)
        listener.close()
        self.data_listener = None
        return conn

    def wrap_tls(self, conn: socket.socket, context: ssl.SSLContext) -> ssl.SSLSocket:
        """Do the server side of a TLS handshake on `conn`."""
        return self.track(context.wrap_socket(conn, server_side=True))  # type: ignore[return-value]

    def sleep(self, seconds: float) -> None:
        """Wait, but end the script at once if the test is over."""
        if self.server.stopping.wait(seconds):
            raise HostileStopped

    def reset(self) -> None:
        """Reset the control connection (SO_LINGER 0 close)."""
        hostile_reset(self.conn)

    def close(self) -> None:
        """Close the control connection in an orderly way."""
        self.conn.close()

    def close_all(self) -> None:
        for sock in self._sockets:
            sock.close()

    def serve(
        self,
        replies: dict[str, object] | None = None,
        *,
        greeting: str | None = "220 Hostile test server ready.",
    ) -> None:
        """Answer commands from a table until QUIT or until the client goes away.

        A table value is a reply line (str), raw bytes to send as they are, or a function
        ``handler(ctl, argument)`` that does the talking itself.
        """
        if greeting is not None:
            self.reply(greeting)
        table = {**HOSTILE_STANDARD_REPLIES, **(replies or {})}
        while True:
            verb, _, argument = self.recv_command().partition(" ")
            verb = verb.upper()
            if verb == "QUIT":
                self.reply("221 Goodbye.")
                return
            answer = table.get(verb, "502 Command not implemented.")
            if callable(answer):
                answer(self, argument)
            elif isinstance(answer, bytes):
                self.send(answer)
            else:
                self.reply(str(answer))


def hostile_answer_pasv(ctl: HostileControl, argument: str) -> None:
    ctl.reply(ctl.open_pasv()[1])


def hostile_answer_epsv(ctl: HostileControl, argument: str) -> None:
    ctl.reply(ctl.open_epsv()[1])


HOSTILE_STANDARD_REPLIES: dict[str, object] = {
    "NOOP": "200 NOOP ok.",
    "TYPE": "200 Type set.",
    "USER": "331 Password required.",
    "PASS": "230 Logged in.",
    "PASV": hostile_answer_pasv,
    "EPSV": hostile_answer_epsv,
    "PBSZ": "200 PBSZ=0 ok.",
    "PROT": "200 Protection level set.",
    "CWD": "250 Directory changed.",
    "DELE": "250 File deleted.",
    "MKD": '257 "/made" created.',
    "RNFR": "350 Ready for RNTO.",
    "RNTO": "250 Renamed.",
    "SIZE": "213 4",
    "ABOR": "225 No transfer to abort.",
}

HostileScript = Callable[[HostileControl], object]


class HostileServer:
    """A misbehaving FTP server: runs `script(ctl)` for each control connection, in turn."""

    def __init__(self, script: HostileScript) -> None:
        self.script = script
        self.raw_commands: list[bytes] = []
        self.network_errors: list[OSError] = []  # what the script met; normal with hostile tests
        self.failures: list[BaseException] = []  # a broken script: fails the test at teardown
        self.clients: list[ftplib2.FTP] = []
        self.stopping = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._handled = 0
        self._handled_changed = threading.Condition()
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=8)
        self.listener.settimeout(0.05)
        self.host, self.port = self.listener.getsockname()[:2]
        self._thread = threading.Thread(
            target=self._serve, name=f"hostile-ftpd-{self.port}", daemon=True
        )
        self._thread.start()

    @property
    def commands(self) -> list[str]:
        """The command lines received so far, decoded as UTF-8 with surrogate escapes."""
        return [raw.decode("utf-8", "surrogateescape") for raw in self.raw_commands]

    def track(self, sock: socket.socket) -> None:
        with self._lock:
            if self.stopping.is_set():
                sock.close()
                raise HostileStopped
            self._sockets.append(sock)

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                self.track(conn)
            except HostileStopped:
                return
            self._handle(conn)

    def _handle(self, conn: socket.socket) -> None:
        ctl = HostileControl(self, conn)
        try:
            conn.settimeout(HOSTILE_SERVER_WAIT)
            # ABOR arrives as urgent data: keep it in the stream, where a real server finds it.
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_OOBINLINE, 1)
            self.script(ctl)
        except (HostileClientGone, HostileStopped):
            pass
        except OSError as exc:
            self.network_errors.append(exc)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            self.failures.append(exc)
        finally:
            ctl.close_all()
            with self._handled_changed:
                self._handled += 1
                self._handled_changed.notify_all()

    def wait_handled(self, count: int) -> None:
        """Wait until the scripts of `count` connections have ended."""
        with self._handled_changed:
            done = self._handled_changed.wait_for(
                lambda: self._handled >= count, HOSTILE_SERVER_WAIT
            )
        assert done, f"the server handled {self._handled} connections, not {count}"

    def new_client(self, cls: type[ftplib2.FTP] = ftplib2.FTP, **kwargs: object) -> ftplib2.FTP:
        """An unconnected client, closed when the test ends."""
        kwargs.setdefault("timeout", HOSTILE_TIMEOUT)
        client = cls(**kwargs)  # type: ignore[arg-type]
        self.clients.append(client)
        return client

    def connect(self, cls: type[ftplib2.FTP] = ftplib2.FTP, **kwargs: object) -> ftplib2.FTP:
        """A client connected to this server (the greeting read), closed when the test ends."""
        client = self.new_client(cls, **kwargs)
        client.connect(self.host, self.port)
        return client

    def stop(self) -> None:
        """Close the clients, end the script, close every socket; raise what the script raised."""
        for client in self.clients:
            client.close()
        self.stopping.set()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:  # wakes a script blocked in recv() or accept()
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(HOSTILE_SERVER_WAIT)
        self.listener.close()
        for sock in sockets:
            sock.close()
        assert not self._thread.is_alive(), "the scripted server's thread did not end"
        if self.failures:
            raise self.failures[0]


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


@contextlib.contextmanager
def hostile_within(seconds: float) -> Iterator[None]:
    """Fail unless the block ends (normally, or by an exception caught inside) in time."""
    start = time.monotonic()
    yield
    elapsed = time.monotonic() - start
    assert elapsed < seconds, f"took {elapsed:.2f} s, the bound is {seconds:.2f} s"


def hostile_serving(replies: dict[str, object] | None = None, **options: object) -> HostileScript:
    """A script that answers from a table (see `HostileControl.serve`)."""
    return lambda ctl: ctl.serve(replies, **options)  # type: ignore[arg-type]


def hostile_assert_in_step(ftp: ftplib2.FTP, server: HostileServer) -> None:
    """The next command gets its own reply, and the server saw it as the last command."""
    assert ftp.voidcmd("NOOP") == "200 NOOP ok."
    assert server.commands[-1] == "NOOP"


def hostile_open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def hostile_rss_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


# --------------------------------------------------------------------------
# 1. Malformed reply codes
# --------------------------------------------------------------------------

HOSTILE_MALFORMED_LINES = [
    pytest.param(b"2x0 ok", id="letter-in-code"),
    pytest.param(b"20 ok", id="two-digits"),
    pytest.param(b"abc", id="no-code"),
    pytest.param(b"600 nope", id="first-digit-6"),
    pytest.param(b"099 x", id="first-digit-0"),
    pytest.param(b"2000 x", id="four-digits"),
    pytest.param(b"", id="empty-line"),
]


@pytest.mark.parametrize("line", HOSTILE_MALFORMED_LINES)
def test_malformed_reply_to_noop_raises_error_proto_and_closes_the_connection(
    hostile_server, line: bytes
) -> None:
    def script(ctl: HostileControl) -> None:
        ctl.reply("220 Hostile test server ready.")
        ctl.recv_command()
        ctl.send(line + b"\r\n")
        ctl.ignore_until_closed()

    ftp = hostile_server(script).connect()
    with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.error_proto):
        ftp.voidcmd("NOOP")
    assert ftp.sock is None


@pytest.mark.parametrize(
    "line",
    [
        pytest.param(b"abc", id="no-code"),
        pytest.param(b"600 nope", id="first-digit-6"),
        pytest.param(b"099 x", id="first-digit-0"),
        pytest.param(b"", id="empty-line"),
    ],
)
def test_greeting_without_a_reply_code_raises_error_proto_and_closes_the_connection(
    hostile_server, line: bytes
) -> None:
    def script(ctl: HostileControl) -> None:
        ctl.send(line + b"\r\n")
        ctl.ignore_until_closed()

    server = hostile_server(script)
    ftp = server.new_client()
    with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.error_proto):
        ftp.connect(server.host, server.port)
    assert ftp.sock is None


@pytest.mark.parametrize(
    "line",
    [
        pytest.param(b"2x0 ok", id="letter-in-code"),
        pytest.param(b"20 ok", id="two-digits"),
        pytest.param(b"2000 x", id="four-digits"),
    ],
)
def test_greeting_with_a_near_miss_code_is_taken_leniently_but_the_next_reply_strictly(
    hostile_server, line: bytes
) -> None:
    """Documented leniency (Doc/migration.rst, "Replies are validated strictly"): a greeting
    that starts with a digit 1-5 is accepted as ftplib accepts it, as a one-line reply; the
    same line as the answer to a command raises error_proto."""

    def script(ctl: HostileControl) -> None:
        ctl.send(line + b"\r\n")
        ctl.recv_command()
        ctl.send(line + b"\r\n")
        ctl.ignore_until_closed()

    ftp = hostile_server(script).connect()
    assert ftp.welcome == line.decode()
    with pytest.raises(ftplib2.error_proto):
        ftp.voidcmd("NOOP")
    assert ftp.sock is None


def test_malformed_multiline_greeting_never_lets_a_refused_login_pass_as_success(
    hostile_server,
) -> None:
    """A greeting whose first line is a near miss ("20-") and that goes on for a second line
    must not shift every later reply by one: here the server refuses USER with 530, and
    login() must not return the greeting's left-over "220" as its success."""
    server = hostile_server(
        hostile_serving(
            {"USER": "530 Not you.", "PASS": "530 Not you."},
            greeting="20-Welcome\r\n220 Ready.",
        )
    )
    ftp = server.new_client()
    with pytest.raises(ftplib2.all_errors):
        ftp.connect(server.host, server.port)
        ftp.login("user", "secret")


# --------------------------------------------------------------------------
# 2. Bytes that are not UTF-8
# --------------------------------------------------------------------------


def test_non_utf8_directory_in_pwd_reply_round_trips_to_cwd_as_the_same_bytes(
    hostile_server,
) -> None:
    server = hostile_server(
        hostile_serving({"PWD": b'257 "/caf\xe9" is the current directory.\r\n'})
    )
    ftp = server.connect()
    name = ftp.pwd()
    assert name == "/caf\udce9"
    ftp.cwd(name)
    assert server.raw_commands[-1] == b"CWD /caf\xe9"


def hostile_listing(payload: bytes) -> Callable[[HostileControl, str], None]:
    """A LIST/NLST handler: 150, the payload on the data connection, a clean close, 226."""

    def handler(ctl: HostileControl, argument: str) -> None:
        ctl.reply("150 Here comes the directory listing.")
        data = ctl.accept_data()
        with contextlib.suppress(OSError):  # the client may reset it half-way
            data.sendall(payload)
        data.close()
        ctl.reply("226 Directory send OK.")

    return handler


HOSTILE_NON_UTF8_LISTING = b"readme.txt\r\ncaf\xe9.txt\r\n"

HOSTILE_LISTING_CALLS = {
    "nlst": lambda ftp: ftp.nlst(),
    "dir": lambda ftp: ftp.dir(lambda line: None),
    "retrlines-list": lambda ftp: ftp.retrlines("LIST", lambda line: None),
}


@pytest.mark.parametrize("call", HOSTILE_LISTING_CALLS.values(), ids=HOSTILE_LISTING_CALLS.keys())
def test_non_utf8_listing_under_strict_errors_raises_error_proto_that_is_a_unicode_error(
    hostile_server, call: Callable[[ftplib2.FTP], object]
) -> None:
    listing = hostile_listing(HOSTILE_NON_UTF8_LISTING)
    server = hostile_server(hostile_serving({"NLST": listing, "LIST": listing}))
    ftp = server.connect()
    with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.error_proto) as caught:
        call(ftp)
    assert isinstance(caught.value, UnicodeDecodeError)
    hostile_assert_in_step(ftp, server)


def test_non_utf8_listing_under_surrogateescape_completes_and_names_round_trip(
    hostile_server,
) -> None:
    server = hostile_server(hostile_serving({"NLST": hostile_listing(HOSTILE_NON_UTF8_LISTING)}))
    ftp = server.connect(errors="surrogateescape")
    names = ftp.nlst()
    assert names == ["readme.txt", "caf\udce9.txt"]
    ftp.delete(names[1])
    assert server.raw_commands[-1] == b"DELE caf\xe9.txt"


# --------------------------------------------------------------------------
# 3. Passive replies with bad ports
# --------------------------------------------------------------------------

HOSTILE_BAD_PASSIVE_REPLIES = [
    # (command, reply, port a careless parser might reach (wrapping modulo 65536), or None)
    pytest.param("PASV", "227 Entering Passive Mode (127,0,0,1,300,1).", 11265, id="pasv-300"),
    pytest.param("PASV", "227 Entering Passive Mode (127,0,0,1,-1,5).", 65285, id="pasv-minus"),
    pytest.param("PASV", "227 Entering Passive Mode (127,0,0,1,256,0).", None, id="pasv-256"),
    pytest.param("PASV", "227 Entering Passive Mode (127,0,0,1,0,0).", None, id="pasv-port-0"),
    pytest.param("PASV", "227 Entering Passive Mode (a,b,c,d,e,f).", None, id="pasv-letters"),
    pytest.param("PASV", "227 Entering Passive Mode.", None, id="pasv-no-numbers"),
    pytest.param("EPSV", "229 Extended Passive Mode (|||99999|).", 34463, id="epsv-99999"),
    pytest.param("EPSV", "229 Extended Passive Mode (|||-5|).", 65531, id="epsv-minus"),
    pytest.param("EPSV", "229 Extended Passive Mode (|||abc|).", None, id="epsv-letters"),
    pytest.param("EPSV", "229 Extended Passive Mode (|||0|).", None, id="epsv-port-0"),
    pytest.param("EPSV", "229 Extended Passive Mode (|||65537|).", 1, id="epsv-65537"),
    pytest.param("EPSV", "229 Extended Passive Mode (||6446).", 6446, id="epsv-3-parts"),
]


def hostile_trap(port: int | None) -> socket.socket | None:
    """Listen on `port` of 127.0.0.1 if possible, to catch a client that connects there."""
    if port is None:
        return None
    try:
        return socket.create_server(("127.0.0.1", port), backlog=4)
    except OSError:  # taken, or privileged: the connect() spy still sees any attempt
        return None


def hostile_trap_was_hit(trap: socket.socket) -> bool:
    trap.setblocking(False)
    try:
        conn, _ = trap.accept()
    except BlockingIOError:
        return False
    conn.close()
    return True


def hostile_spy_on_connect(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Record the address of every socket.connect() from now to the end of the test."""
    attempts: list[object] = []
    original = socket.socket.connect

    def spying_connect(sock: socket.socket, address: object) -> None:
        attempts.append(address)
        original(sock, address)

    monkeypatch.setattr(socket.socket, "connect", spying_connect)
    return attempts


@pytest.mark.parametrize(("command", "reply", "wrapped_port"), HOSTILE_BAD_PASSIVE_REPLIES)
def test_passive_reply_with_a_bad_port_raises_error_proto_without_connecting_anywhere(
    hostile_server, monkeypatch, command: str, reply: str, wrapped_port: int | None
) -> None:
    server = hostile_server(hostile_serving({command: reply}))
    ftp = server.connect()
    ftp.prefer_epsv = command == "EPSV"
    trap = hostile_trap(wrapped_port)
    try:
        attempts = hostile_spy_on_connect(monkeypatch)
        with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.error_proto):
            ftp.makepasv()
        with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.error_proto):
            ftp.retrbinary("RETR file.bin", lambda block: None)
        assert attempts == []
        assert trap is None or not hostile_trap_was_hit(trap)
    finally:
        if trap is not None:
            trap.close()
    assert not any(line.startswith("RETR") for line in server.commands)
    hostile_assert_in_step(ftp, server)


def test_pasv_reply_naming_another_host_is_answered_by_connecting_to_the_control_peer(
    hostile_server, monkeypatch
) -> None:
    """A 227 naming a third host (FTP bounce, or a scan of the client's network) is not
    followed: the data connection goes to the control connection's peer."""
    payload = b"only from the control peer"

    def pasv(ctl: HostileControl, argument: str) -> None:
        _, reply = ctl.open_pasv()
        ctl.reply(reply.replace("(127,0,0,1,", "(192,0,2,1,"))  # TEST-NET-1

    def retr(ctl: HostileControl, argument: str) -> None:
        ctl.reply("150 Opening BINARY mode data connection.")
        data = ctl.accept_data()
        data.sendall(payload)
        data.close()
        ctl.reply("226 Transfer complete.")

    server = hostile_server(hostile_serving({"PASV": pasv, "RETR": retr}))
    ftp = server.connect()
    attempts = hostile_spy_on_connect(monkeypatch)
    received = bytearray()
    ftp.retrbinary("RETR file.bin", received.extend)
    assert received == payload
    assert [address[0] for address in attempts] == ["127.0.0.1"]  # type: ignore[index]


# --------------------------------------------------------------------------
# 4. SIZE without a number
# --------------------------------------------------------------------------


def test_size_reply_without_a_number_raises_error_proto_not_value_error(hostile_server) -> None:
    ftp = hostile_server(hostile_serving({"SIZE": "213 twelve"})).connect()
    with pytest.raises(ftplib2.error_proto) as caught:
        ftp.size("file.bin")
    assert not isinstance(caught.value, ValueError)
    assert "213 twelve" in str(caught.value)


# --------------------------------------------------------------------------
# 5. Bounds on lines and replies
# --------------------------------------------------------------------------

HOSTILE_OVERLONG_REPLIES = [
    pytest.param(b"200 " + b"x" * (ftplib2.MAXLINE + 100) + b"\r\n", id="terminated"),
    pytest.param(b"200 " + b"x" * (ftplib2.MAXLINE * 16), id="never-terminated"),
]


@pytest.mark.parametrize("reply", HOSTILE_OVERLONG_REPLIES)
def test_reply_line_longer_than_maxline_raises_error_proto_and_closes(
    hostile_server, reply: bytes
) -> None:
    def noop(ctl: HostileControl, argument: str) -> None:
        with contextlib.suppress(OSError):  # the client may hang up half-way
            ctl.send(reply)

    ftp = hostile_server(hostile_serving({"NOOP": noop})).connect()
    with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.error_proto):
        ftp.voidcmd("NOOP")
    assert ftp.sock is None


@pytest.mark.parametrize("reply", HOSTILE_OVERLONG_REPLIES)
def test_greeting_line_longer_than_maxline_raises_error_proto_and_closes(
    hostile_server, reply: bytes
) -> None:
    def script(ctl: HostileControl) -> None:
        with contextlib.suppress(OSError):
            ctl.send(reply.replace(b"200", b"220", 1))
        ctl.ignore_until_closed()

    server = hostile_server(script)
    ftp = server.new_client()
    with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.error_proto):
        ftp.connect(server.host, server.port)
    assert ftp.sock is None


@pytest.mark.parametrize(
    ("length", "accepted"),
    [
        pytest.param(ftplib2.MAXLINE - 1, True, id="maxline-minus-1"),
        pytest.param(ftplib2.MAXLINE, True, id="exactly-maxline"),
        pytest.param(ftplib2.MAXLINE + 1, False, id="maxline-plus-1"),
    ],
)
def test_reply_line_of_up_to_maxline_bytes_is_accepted_and_one_byte_more_is_not(
    hostile_server, length: int, accepted: bool
) -> None:
    """Doc/library.rst, FTP.maxline: "The longest line, in bytes and without its line
    ending, accepted from the server on the control connection"."""
    line = b"200 " + b"x" * (length - 4)
    ftp = hostile_server(hostile_serving({"NOOP": line + b"\r\n"})).connect()
    if accepted:
        assert ftp.voidcmd("NOOP") == line.decode()
    else:
        with pytest.raises(ftplib2.error_proto):
            ftp.voidcmd("NOOP")


@pytest.mark.parametrize(
    "overlong",
    [
        pytest.param(b"x" * (ftplib2.MAXLINE + 10) + b"\r\n", id="terminated"),
        pytest.param(b"x" * (ftplib2.MAXLINE + 10), id="unterminated"),
    ],
)
def test_reply_parser_delivers_the_reply_that_precedes_an_overlong_line_in_the_same_chunk(
    overlong: bytes,
) -> None:
    """What the parser promises (_LineSplitter: "replies before an over-long line are still
    delivered in order"): the over-long line raises error_proto, but only once the complete
    reply fed before it has been taken out."""
    parser = ftplib2.ReplyParser()
    with contextlib.suppress(ftplib2.error_proto):
        parser.feed(b"200 Before the flood.\r\n" + overlong)
    assert parser.next_reply() == "200 Before the flood."
    with pytest.raises(ftplib2.error_proto):
        parser.feed(b"\r\n")
        parser.next_reply()


def hostile_endless_reply(line: bytes, count: int) -> Callable[[HostileControl, str], None]:
    """A handler answering with a multi-line reply of `count` copies of `line` (or fewer,
    if the client hangs up first)."""

    def handler(ctl: HostileControl, argument: str) -> None:
        with contextlib.suppress(OSError):
            ctl.send(b"211-Here it comes\r\n")
            for _ in range(count):
                ctl.send(line + b"\r\n")
            ctl.send(b"211 End\r\n")

    return handler


def test_reply_with_more_lines_than_max_reply_lines_raises_error_proto(hostile_server) -> None:
    server = hostile_server(hostile_serving({"STAT": hostile_endless_reply(b" a line", 20000)}))
    ftp = server.new_client()
    ftp.max_reply_lines = 50
    ftp.connect(server.host, server.port)
    with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.error_proto):
        ftp.sendcmd("STAT")
    assert ftp.sock is None


def test_reply_larger_than_max_reply_size_raises_error_proto(hostile_server) -> None:
    server = hostile_server(hostile_serving({"STAT": hostile_endless_reply(b" " + b"z" * 499, 40)}))
    ftp = server.new_client()
    ftp.max_reply_size = 4096
    ftp.connect(server.host, server.port)
    with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.error_proto):
        ftp.sendcmd("STAT")
    assert ftp.sock is None


def test_reply_larger_than_the_default_max_reply_size_raises_error_proto(hostile_server) -> None:
    line = b" " + b"m" * 999
    count = 2 * ftplib2.FTP.max_reply_size // len(line)
    assert count < ftplib2.FTP.max_reply_lines  # so the byte bound is the one that trips
    server = hostile_server(hostile_serving({"STAT": hostile_endless_reply(line, count)}))
    ftp = server.connect()
    with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.error_proto):
        ftp.sendcmd("STAT")
    assert ftp.sock is None


def test_retrlines_line_longer_than_maxline_raises_error_proto_and_stays_in_step(
    hostile_server,
) -> None:
    payload = b"short line\r\n" + b"y" * (2 * ftplib2.MAXLINE) + b"\r\n"
    server = hostile_server(hostile_serving({"LIST": hostile_listing(payload)}))
    ftp = server.connect()
    lines: list[str] = []
    with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.error_proto):
        ftp.retrlines("LIST", lines.append)
    assert lines == ["short line"]
    hostile_assert_in_step(ftp, server)


# --------------------------------------------------------------------------
# 6. A reply dripped slower than the timeout
# --------------------------------------------------------------------------


def hostile_drip(ctl: HostileControl, data: bytes, interval: float = 0.3) -> None:
    for i in range(len(data)):
        ctl.send(data[i : i + 1])
        ctl.sleep(interval)


def test_reply_dripped_one_byte_at_a_time_raises_timeout_error_and_closes(
    hostile_server,
) -> None:
    def noop(ctl: HostileControl, argument: str) -> None:
        hostile_drip(ctl, b"200 NOOP ok, eventually.\r\n")

    ftp = hostile_server(hostile_serving({"NOOP": noop})).connect(timeout=1.0)
    with hostile_within(2.5), pytest.raises(TimeoutError) as caught:
        ftp.voidcmd("NOOP")
    assert isinstance(caught.value, ftplib2.all_errors)
    assert ftp.sock is None


def test_greeting_dripped_one_byte_at_a_time_raises_timeout_error_and_closes(
    hostile_server,
) -> None:
    def script(ctl: HostileControl) -> None:
        hostile_drip(ctl, b"220 Hostile test server ready, eventually.\r\n")

    server = hostile_server(script)
    ftp = server.new_client(timeout=1.0)
    with hostile_within(2.5), pytest.raises(TimeoutError):
        ftp.connect(server.host, server.port)
    assert ftp.sock is None


@pytest.mark.parametrize("hang_up", ["close", "reset"])
def test_reply_cut_short_by_the_server_hanging_up_raises_and_closes_the_connection(
    hostile_server, hang_up: str
) -> None:
    """The server meant "213 1234" but hung up after "213 12": that is no reply to SIZE."""

    def size(ctl: HostileControl, argument: str) -> None:
        ctl.send(b"213 12")
        ctl.sleep(0.1)
        if hang_up == "reset":
            ctl.reset()
        else:
            ctl.close()

    ftp = hostile_server(hostile_serving({"SIZE": size})).connect()
    with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.all_errors):
        ftp.size("file.bin")
    assert ftp.sock is None


# --------------------------------------------------------------------------
# 7. A stalled data connection
# --------------------------------------------------------------------------


def hostile_stalled_retr(then_426: bool) -> Callable[[HostileControl, str], None]:
    """A RETR handler that opens the data connection and sends nothing on it."""

    def handler(ctl: HostileControl, argument: str) -> None:
        ctl.reply("150 Opening BINARY mode data connection.")
        data = ctl.accept_data()
        hostile_wait_for_close(data)  # until the client gives up on it
        if then_426:
            ctl.reply("426 Connection closed; transfer aborted.")

    return handler


HOSTILE_RECEIVERS = ["retrbinary", "download-to-path"]


def hostile_receive(ftp: ftplib2.FTP, how: str, name: str, tmp_path: Path) -> None:
    """Download `name` with retrbinary(), or with download() into a file (spliced on Linux)."""
    if how == "retrbinary":
        ftp.retrbinary(f"RETR {name}", lambda block: None)
    else:
        ftp.download(name, tmp_path / name, size=100_000)


@pytest.mark.parametrize("how", HOSTILE_RECEIVERS)
def test_stalled_download_times_out_then_reads_the_426_sent_after_the_reset(
    hostile_server, how: str, tmp_path: Path
) -> None:
    timeout = 1.0
    server = hostile_server(hostile_serving({"RETR": hostile_stalled_retr(then_426=True)}))
    ftp = server.connect(timeout=timeout)
    with hostile_within(2 * timeout + 0.5), pytest.raises(TimeoutError):
        hostile_receive(ftp, how, "stalled.bin", tmp_path)
    hostile_assert_in_step(ftp, server)
    assert list(tmp_path.iterdir()) == []  # nothing received: no empty .part left behind


@pytest.mark.parametrize("how", HOSTILE_RECEIVERS)
def test_stalled_download_with_a_silent_server_times_out_and_closes_the_connection(
    hostile_server, how: str, tmp_path: Path
) -> None:
    timeout = 1.0
    server = hostile_server(hostile_serving({"RETR": hostile_stalled_retr(then_426=False)}))
    ftp = server.connect(timeout=timeout)
    with hostile_within(2 * timeout + 1.0), pytest.raises(TimeoutError):
        hostile_receive(ftp, how, "stalled.bin", tmp_path)
    # The transfer's final reply is owed: the next command waits for it, no longer.
    with hostile_within(2 * timeout + 1.0), pytest.raises(TimeoutError):
        ftp.voidcmd("NOOP")
    assert ftp.sock is None


# --------------------------------------------------------------------------
# 8. A data connection reset mid-transfer
# --------------------------------------------------------------------------


@pytest.mark.parametrize("how", HOSTILE_RECEIVERS)
def test_download_reset_by_the_server_raises_and_reads_the_426(
    hostile_server, how: str, tmp_path: Path
) -> None:
    sent = os.urandom(1000)

    def retr(ctl: HostileControl, argument: str) -> None:
        ctl.reply("150 Opening BINARY mode data connection (100000 bytes).")
        data = ctl.accept_data()
        data.sendall(sent)
        ctl.sleep(0.1)
        hostile_reset(data)
        ctl.reply("426 Connection reset; transfer aborted.")

    server = hostile_server(hostile_serving({"RETR": retr}))
    ftp = server.connect()
    with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.all_errors):
        hostile_receive(ftp, how, "reset.bin", tmp_path)
    hostile_assert_in_step(ftp, server)
    if how == "download-to-path":  # what arrived is kept for a resume, never under the name
        [part] = partial_downloads(tmp_path)
        assert [p.name for p in tmp_path.iterdir()] == [part]
        assert (tmp_path / part).read_bytes() == sent


def test_upload_reset_by_the_server_raises_and_reads_the_426(hostile_server) -> None:
    def stor(ctl: HostileControl, argument: str) -> None:
        ctl.reply("150 Ok to send data.")
        data = ctl.accept_data()
        received = 0
        while received < 65536:
            received += len(data.recv(65536))
        hostile_reset(data)
        ctl.reply("426 Connection reset; transfer aborted.")

    server = hostile_server(hostile_serving({"STOR": stor}))
    ftp = server.connect()
    with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.all_errors):
        ftp.storbinary("STOR reset.bin", io.BytesIO(bytes(16 << 20)))
    hostile_assert_in_step(ftp, server)


# --------------------------------------------------------------------------
# 9. A download shorter than announced
# --------------------------------------------------------------------------

HOSTILE_TRUNCATED_SIZE = 1000
HOSTILE_TRUNCATED_SENT = 600


def hostile_truncating_server(start: Callable[[HostileScript], HostileServer], with_size: bool):
    """A server announcing 1000 bytes (in SIZE, or only in the 150) and sending 600, then 226."""

    def retr(ctl: HostileControl, argument: str) -> None:
        ctl.reply(f"150 Opening BINARY mode data connection ({HOSTILE_TRUNCATED_SIZE} bytes).")
        data = ctl.accept_data()
        data.sendall(b"t" * HOSTILE_TRUNCATED_SENT)
        data.close()
        ctl.reply("226 Transfer complete.")

    size = f"213 {HOSTILE_TRUNCATED_SIZE}" if with_size else "502 SIZE not implemented."
    return start(hostile_serving({"RETR": retr, "SIZE": size}))


HOSTILE_SIZE_SOURCES = [
    pytest.param(True, id="size-from-SIZE"),
    pytest.param(False, id="size-from-150-only"),
]


@pytest.mark.parametrize("with_size", HOSTILE_SIZE_SOURCES)
def test_truncated_download_to_a_file_object_raises_error_proto(
    hostile_server, with_size: bool
) -> None:
    server = hostile_truncating_server(hostile_server, with_size)
    ftp = server.connect()
    with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.error_proto):
        ftp.download("short.bin", io.BytesIO())
    hostile_assert_in_step(ftp, server)


@pytest.mark.parametrize("with_size", HOSTILE_SIZE_SOURCES)
def test_truncated_download_to_a_path_leaves_only_the_part_file(
    hostile_server, tmp_path: Path, with_size: bool
) -> None:
    server = hostile_truncating_server(hostile_server, with_size)
    ftp = server.connect()
    target = tmp_path / "short.bin"
    with pytest.raises(ftplib2.error_proto):
        ftp.download("short.bin", target)
    assert not target.exists()
    [part] = partial_downloads(tmp_path)
    assert (tmp_path / part).read_bytes() == b"t" * HOSTILE_TRUNCATED_SENT
    assert sorted(p.name for p in tmp_path.iterdir()) == [part]


@pytest.mark.parametrize("with_size", HOSTILE_SIZE_SOURCES)
def test_truncated_retrbinary_with_check_size_raises_error_proto(
    hostile_server, with_size: bool
) -> None:
    server = hostile_truncating_server(hostile_server, with_size)
    ftp = server.connect()
    with pytest.raises(ftplib2.error_proto):
        ftp.retrbinary("RETR short.bin", lambda block: None, check_size=True)
    hostile_assert_in_step(ftp, server)


def test_truncated_retrbinary_without_check_size_returns_the_226_like_ftplib(
    hostile_server,
) -> None:
    server = hostile_truncating_server(hostile_server, with_size=True)
    ftp = server.connect()
    received = bytearray()
    assert ftp.retrbinary("RETR short.bin", received.extend) == "226 Transfer complete."
    assert len(received) == HOSTILE_TRUNCATED_SENT


# --------------------------------------------------------------------------
# 10. abort() and exceptions from callbacks
# --------------------------------------------------------------------------


def test_abort_during_a_transfer_returns_426_and_the_next_command_reads_226_first(
    hostile_server,
) -> None:
    def retr(ctl: HostileControl, argument: str) -> None:
        ctl.reply("150 Opening BINARY mode data connection.")
        data = ctl.accept_data()
        data.sendall(b"d" * 65536)
        assert ctl.recv_command() == "ABOR"
        hostile_reset(data)
        ctl.reply("426 Connection closed; transfer aborted.")
        ctl.reply("226 Abort successful.")

    server = hostile_server(hostile_serving({"RETR": retr}))
    ftp = server.connect()
    conn = ftp.transfercmd("RETR big.bin")
    try:
        conn.recv(1024)
        with hostile_within(3 * HOSTILE_TIMEOUT):
            assert ftp.abort() == "426 Connection closed; transfer aborted."
    finally:
        conn.close()
    hostile_assert_in_step(ftp, server)


def test_abort_without_a_transfer_accepts_a_lone_225(hostile_server) -> None:
    server = hostile_server(hostile_serving({"ABOR": "225 No transfer to abort."}))
    ftp = server.connect()
    with hostile_within(3 * HOSTILE_TIMEOUT):
        assert ftp.abort() == "225 No transfer to abort."
    hostile_assert_in_step(ftp, server)


class HostileCallbackError(Exception):
    """Raised on purpose by a transfer callback."""


def hostile_failing_callback(block: object) -> None:
    raise HostileCallbackError("the callback gave up")


def hostile_streaming_retr(ctl: HostileControl, argument: str) -> None:
    """Send data until the client resets the data connection, then answer 426."""
    ctl.reply("150 Opening BINARY mode data connection.")
    data = ctl.accept_data()
    deadline = time.monotonic() + HOSTILE_SERVER_WAIT
    with contextlib.suppress(OSError):
        while time.monotonic() < deadline:
            data.sendall(b"s" * 65536)
    ctl.reply("426 Connection closed; transfer aborted.")


def hostile_finished_retr(ctl: HostileControl, argument: str) -> None:
    """Send a small file, close, and answer 226 at once."""
    ctl.reply("150 Opening BINARY mode data connection.")
    data = ctl.accept_data()
    data.sendall(b"f" * 1000)
    data.close()
    ctl.reply("226 Transfer complete.")


@pytest.mark.parametrize(
    "retr",
    [
        pytest.param(hostile_streaming_retr, id="server-sends-426-after-the-reset"),
        pytest.param(hostile_finished_retr, id="server-already-sent-226"),
    ],
)
def test_exception_in_retrbinary_callback_propagates_and_leaves_control_in_step(
    hostile_server, retr: Callable[[HostileControl, str], None]
) -> None:
    server = hostile_server(hostile_serving({"RETR": retr}))
    ftp = server.connect()
    with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(HostileCallbackError):
        ftp.retrbinary("RETR file.bin", hostile_failing_callback)
    hostile_assert_in_step(ftp, server)


# --------------------------------------------------------------------------
# 11. Command injection through arguments
# --------------------------------------------------------------------------

HOSTILE_INJECTIONS: dict[str, Callable[[ftplib2.FTP, str], object]] = {
    "sendcmd": lambda ftp, bad: ftp.sendcmd(f"NOOP{bad}DELE victim"),
    "cwd": lambda ftp, bad: ftp.cwd(f"dir{bad}DELE victim"),
    "delete": lambda ftp, bad: ftp.delete(f"a{bad}DELE victim"),
    "rename-from": lambda ftp, bad: ftp.rename(f"a{bad}DELE victim", "b"),
    "rename-to": lambda ftp, bad: ftp.rename("a", f"b{bad}DELE victim"),
    "mkd": lambda ftp, bad: ftp.mkd(f"d{bad}DELE victim"),
    "size": lambda ftp, bad: ftp.size(f"f{bad}DELE victim"),
    "retrbinary": lambda ftp, bad: ftp.retrbinary(f"RETR a{bad}DELE victim", lambda b: None),
    "storbinary": lambda ftp, bad: ftp.storbinary(f"STOR a{bad}DELE victim", io.BytesIO(b"x")),
    "login-user": lambda ftp, bad: ftp.login(f"user{bad}DELE victim", "secret"),
    "login-password": lambda ftp, bad: ftp.login("user", f"secret{bad}DELE victim"),
    "login-acct": lambda ftp, bad: ftp.login("user", "secret", f"acct{bad}DELE victim"),
    "acct": lambda ftp, bad: ftp.acct(f"acct{bad}DELE victim"),
    "voidcmd": lambda ftp, bad: ftp.voidcmd(f"NOOP{bad}DELE victim"),
    "rmd": lambda ftp, bad: ftp.rmd(f"d{bad}DELE victim"),
    "nlst": lambda ftp, bad: ftp.nlst(f"d{bad}DELE victim"),
    "mlsd": lambda ftp, bad: list(ftp.mlsd(f"d{bad}DELE victim")),
    "mdtm": lambda ftp, bad: ftp.mdtm(f"f{bad}DELE victim"),
    "set_mtime": lambda ftp, bad: ftp.set_mtime(f"f{bad}DELE victim", 0.0),
    "download": lambda ftp, bad: ftp.download(f"f{bad}DELE victim", io.BytesIO()),
    "upload": lambda ftp, bad: ftp.upload(io.BytesIO(b"x"), f"f{bad}DELE victim"),
    "open": lambda ftp, bad: ftp.open(f"f{bad}DELE victim", "rb").close(),
}

# Commands an entry point may legitimately send before it reaches the poisoned argument.
HOSTILE_HARMLESS_PREPARATION = {"TYPE I", "TYPE A", "PASV", "USER user", "PASS secret", "RNFR a"}


@pytest.mark.parametrize("bad", ["\r", "\n", "\0", "\r\n"], ids=["CR", "LF", "NUL", "CRLF"])
@pytest.mark.parametrize("call", HOSTILE_INJECTIONS.values(), ids=HOSTILE_INJECTIONS.keys())
def test_cr_lf_or_nul_in_an_argument_raises_value_error_and_the_server_gets_nothing_of_it(
    hostile_server, call: Callable[[ftplib2.FTP, str], object], bad: str
) -> None:
    """The poisoned command never leaves the client.  Commands a call sends before it gets to
    the poisoned argument (TYPE and PASV before a transfer, USER before PASS, RNFR before
    RNTO) are tolerated; nothing else, and nothing with the injected DELE in it."""
    # PASS asks for an account, so that login() gets as far as sending ACCT.
    server = hostile_server(hostile_serving({"PASS": "332 Need account.", "ACCT": "230 In."}))
    ftp = server.connect()
    with pytest.raises(ValueError):
        call(ftp, bad)
    hostile_assert_in_step(ftp, server)
    sent_by_the_call = server.commands[:-1]
    assert not [line for line in sent_by_the_call if "victim" in line]
    assert set(sent_by_the_call) <= HOSTILE_HARMLESS_PREPARATION


# --------------------------------------------------------------------------
# 12. TLS
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_tls_contexts() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting it) from a throw-away CA."""
    authority = trustme.CA()
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    authority.issue_cert("127.0.0.1").configure_cert(server_context)
    client_context = ssl.create_default_context()
    authority.configure_trust(client_context)
    return server_context, client_context


def test_tls_login_refused_auth_tls_raises_error_perm_and_never_sends_user_or_pass(
    hostile_server,
) -> None:
    server = hostile_server(hostile_serving({"AUTH": "534 No TLS here."}))
    ftp = server.connect(cls=ftplib2.FTP_TLS)
    with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.error_perm):
        ftp.login("user", "secret")
    hostile_assert_in_step(ftp, server)
    assert server.commands == ["AUTH TLS", "NOOP"]


HOSTILE_TLS_LOGINS: dict[str, Callable[[HostileServer], object]] = {
    "constructor": lambda server: type(
        "HostileTLSOnPort", (ftplib2.FTP_TLS,), {"port": server.port}
    )(server.host, user="user", passwd="secret", timeout=HOSTILE_TIMEOUT),
    "secure": lambda server: ftplib2.FTP_TLS.secure(
        server.host, "user", "secret", port=server.port, timeout=HOSTILE_TIMEOUT
    ),
}


@pytest.mark.parametrize("log_in", HOSTILE_TLS_LOGINS.values(), ids=HOSTILE_TLS_LOGINS.keys())
def test_tls_connect_and_login_refused_auth_tls_raises_error_perm_without_user_or_pass(
    hostile_server, log_in: Callable[[HostileServer], object]
) -> None:
    server = hostile_server(hostile_serving({"AUTH": "534 No TLS here."}))
    with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.error_perm):
        log_in(server)
    server.wait_handled(1)  # the failed client closed its socket; the script saw it go
    assert server.commands == ["AUTH TLS"]


HOSTILE_NOT_TLS = b"this is not a TLS handshake\r\n" * 8


def hostile_auth_then_garbage(ctl: HostileControl, argument: str) -> None:
    ctl.send(b"234 Proceed with negotiation.\r\n" + HOSTILE_NOT_TLS)
    hostile_wait_for_close(ctl.conn)


def hostile_auth_pause_then_garbage(ctl: HostileControl, argument: str) -> None:
    ctl.reply("234 Proceed with negotiation.")
    ctl.sleep(0.3)
    ctl.send(HOSTILE_NOT_TLS)
    hostile_wait_for_close(ctl.conn)


def hostile_auth_then_silence(ctl: HostileControl, argument: str) -> None:
    ctl.reply("234 Proceed with negotiation.")
    hostile_wait_for_close(ctl.conn)


@pytest.mark.parametrize(
    ("auth", "expected"),
    [
        pytest.param(hostile_auth_then_garbage, ftplib2.error_proto, id="garbage-with-the-234"),
        pytest.param(hostile_auth_pause_then_garbage, ssl.SSLError, id="garbage-after-the-234"),
        pytest.param(hostile_auth_then_silence, TimeoutError, id="silence-after-the-234"),
    ],
)
def test_auth_tls_answered_with_plain_bytes_or_silence_fails_in_time_and_closes(
    hostile_server, auth: Callable[[HostileControl, str], None], expected: type[BaseException]
) -> None:
    timeout = 1.0
    server = hostile_server(hostile_serving({"AUTH": auth}))
    ftp = server.connect(cls=ftplib2.FTP_TLS, timeout=timeout)
    with hostile_within(timeout + 1.0), pytest.raises(expected) as caught:
        ftp.login("user", "secret")
    assert isinstance(caught.value, ftplib2.all_errors)
    assert ftp.sock is None
    assert not [line for line in server.commands if line.startswith(("USER", "PASS"))]


@pytest.mark.parametrize(
    "close_notify",
    [
        pytest.param(True, id="with-close-notify-succeeds"),
        pytest.param(False, id="without-close-notify-raises"),
    ],
)
def test_tls_download_ended_without_close_notify_raises_an_error_in_all_errors_and_stays_in_step(
    hostile_server, hostile_tls_contexts: tuple[ssl.SSLContext, ssl.SSLContext], close_notify: bool
) -> None:
    """A TLS data connection that ends in a bare TCP FIN could have been cut by an attacker.
    ftplib2 raises (today an ssl.SSLError from the TLS shutdown, SHUTDOWN_WHILE_IN_INIT) even
    though every byte and the 226 arrived; the same transfer ended with close_notify succeeds."""
    server_context, client_context = hostile_tls_contexts
    payload = os.urandom(100_000)

    def retr(ctl: HostileControl, argument: str) -> None:
        ctl.reply("150 Opening BINARY mode data connection.")
        tls = ctl.wrap_tls(ctl.accept_data(), server_context)
        tls.sendall(payload)
        if close_notify:
            tls.unwrap().close()
        else:
            tls.shutdown(socket.SHUT_RDWR)  # SSLSocket.shutdown: TCP FIN, no close_notify
            tls.close()
        ctl.reply("226 Transfer complete.")

    server = hostile_server(hostile_serving({"RETR": retr}))
    ftp = server.connect(cls=ftplib2.FTP_TLS, context=client_context)
    ftp.login("user", "secret", secure=False)  # the control connection is not under test
    ftp.prot_p()
    received = bytearray()
    with hostile_within(3 * HOSTILE_TIMEOUT):
        if close_notify:
            assert ftp.retrbinary("RETR file.bin", received.extend) == "226 Transfer complete."
        else:
            with pytest.raises(ftplib2.all_errors):
                ftp.retrbinary("RETR file.bin", received.extend)
    assert received == payload
    hostile_assert_in_step(ftp, server)


# --------------------------------------------------------------------------
# 13. No descriptor leaks on failure paths
# --------------------------------------------------------------------------


def hostile_refused_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --------------------------------------------------------------------------
# Pipelining against a server that fails the passive command or the connection
# --------------------------------------------------------------------------


def hostile_pipelining_server(
    start: Callable[[HostileScript], HostileServer], pasv_answers: list[str | None]
) -> HostileServer:
    """PASV answers from the list in turn (None: a real passive port); RETR serves 1000 bytes.

    RETR without a passive port answers "425 Use PORT or PASV first.", as real servers do.
    """
    answers = iter(pasv_answers)

    def pasv(ctl: HostileControl, argument: str) -> None:
        answer = next(answers, None)
        if answer is None:
            ctl.reply(ctl.open_pasv()[1])
        else:
            ctl.reply(answer)

    def retr(ctl: HostileControl, argument: str) -> None:
        if ctl.data_listener is None:
            ctl.reply("425 Use PORT or PASV first.")
            return
        hostile_finished_retr(ctl, argument)

    return start(hostile_serving({"PASV": pasv, "RETR": retr}))


def hostile_pipelining_client(server: HostileServer) -> ftplib2.FTP:
    ftp = server.connect()
    ftp.login()
    ftp.pipelining = True
    ftp.retrbinary("RETR first.bin", lambda block: None)  # one at a time: PASV works
    return ftp


def test_pipelined_pasv_refused_reads_the_orphan_reply_then_goes_the_usual_way(
    hostile_server,
) -> None:
    server = hostile_pipelining_server(
        hostile_server, [None, "425 Cannot open passive connection."]
    )
    ftp = hostile_pipelining_client(server)
    blocks: list[bytes] = []
    with hostile_within(3 * HOSTILE_TIMEOUT):
        ftp.retrbinary("RETR second.bin", blocks.append)
    assert b"".join(blocks) == b"f" * 1000
    assert server.commands[-4:] == ["PASV", "RETR second.bin", "PASV", "RETR second.bin"]
    hostile_assert_in_step(ftp, server)


def test_pipelined_pasv_refused_twice_raises_the_refusal_in_step(hostile_server) -> None:
    refusal = "425 Cannot open passive connection."
    server = hostile_pipelining_server(hostile_server, [None, refusal, refusal])
    ftp = hostile_pipelining_client(server)
    with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.error_temp, match="^425"):
        ftp.retrbinary("RETR second.bin", lambda block: None)
    hostile_assert_in_step(ftp, server)


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        pytest.param("227 Passive mode, port unknown.", ftplib2.error_proto, id="malformed-227"),
        pytest.param("200 Whatever you say.", ftplib2.error_reply, id="200-instead-of-227"),
    ],
)
def test_pipelined_unusable_passive_reply_raises_and_gives_up_the_session(
    hostile_server, answer: str, error: type[Exception]
) -> None:
    """The server may have opened a port and now wait on it: its next reply can't be relied on."""
    server = hostile_pipelining_server(hostile_server, [None, answer])
    ftp = hostile_pipelining_client(server)
    with hostile_within(2 * HOSTILE_TIMEOUT), pytest.raises(error):
        ftp.retrbinary("RETR second.bin", lambda block: None)
    assert ftp.sock is None


def test_pipelined_passive_reply_the_client_cannot_use_does_not_wait_for_the_server(
    hostile_server,
) -> None:
    """A server that opened its port and waits on it for ever: the client must not wait too."""

    def pasv(ctl: HostileControl, argument: str) -> None:
        _, reply = ctl.open_pasv()
        if len(server.commands) > 4:  # the pipelined one: a reply the client cannot parse
            reply = "227 Entering Passive Mode (127,0,0,1)."
        ctl.reply(reply)

    def retr(ctl: HostileControl, argument: str) -> None:
        hostile_finished_retr(ctl, argument)  # accept_data() waits for a connection

    server = hostile_server(hostile_serving({"PASV": pasv, "RETR": retr}))
    ftp = hostile_pipelining_client(server)
    with hostile_within(HOSTILE_TIMEOUT), pytest.raises(ftplib2.error_proto):
        ftp.retrbinary("RETR second.bin", lambda block: None)
    assert ftp.sock is None


def test_pipelined_data_connection_refused_raises_and_gives_up_the_session(
    hostile_server,
) -> None:
    port = hostile_refused_port()
    closed = f"227 Entering Passive Mode (127,0,0,1,{port >> 8},{port & 0xFF})."
    server = hostile_pipelining_server(hostile_server, [None, closed])
    ftp = hostile_pipelining_client(server)
    with hostile_within(2 * HOSTILE_TIMEOUT), pytest.raises(ConnectionRefusedError):
        ftp.retrbinary("RETR second.bin", lambda block: None)
    assert ftp.sock is None  # the server waits for a connection: its replies can't be trusted


def test_fifty_rounds_of_failing_connections_leave_no_file_descriptor_open(
    hostile_server,
) -> None:
    def garbage_greeting(ctl: HostileControl) -> None:
        ctl.send(b"garbage\r\n")
        ctl.ignore_until_closed()

    def silent(ctl: HostileControl) -> None:
        ctl.ignore_until_closed()

    garbage = hostile_server(garbage_greeting)
    refusing = hostile_server(hostile_serving({"PASS": "530 Login incorrect."}))
    mute = hostile_server(silent)
    refusing_ftp = type("HostileRefusedLoginFTP", (ftplib2.FTP,), {"port": refusing.port})
    closed_port = hostile_refused_port()

    def one_round() -> None:
        with pytest.raises(ConnectionRefusedError):
            ftplib2.FTP().connect("127.0.0.1", closed_port, timeout=HOSTILE_TIMEOUT)
        with pytest.raises(ftplib2.error_proto):
            ftplib2.FTP().connect(garbage.host, garbage.port, timeout=HOSTILE_TIMEOUT)
        with pytest.raises(ftplib2.error_perm):
            refusing_ftp(refusing.host, user="user", passwd="wrong", timeout=HOSTILE_TIMEOUT)
        with pytest.raises(TimeoutError):
            ftplib2.FTP().connect(mute.host, mute.port, timeout=0.05)

    def settled(rounds: int) -> int:
        for server in (garbage, refusing, mute):
            server.wait_handled(rounds)
        gc.collect()
        return hostile_open_fds()

    one_round()  # anything opened once and kept (caches, lazy imports) is opened now
    before = settled(1)
    for _ in range(50):
        one_round()
    after = settled(51)
    assert after == before


# --------------------------------------------------------------------------
# 14. Property tests of the pure parsers
# --------------------------------------------------------------------------

HOSTILE_HYPOTHESIS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# Pieces of real listings, glued in random order, reach deeper into the parsers than plain text.
HOSTILE_LIST_PIECES = [
    "-rw-r--r--", "drwxr-xr-x", "lrwxrwxrwx", " ", "  ", "\t", "1", "12", "4096", "9" * 25,
    "user", "Jan", "feb", "13:45", "99:99", "2024", "0000", "->", " -> ", "total ", "+", "/",
    "r", "s", "m", "i", "up644", ",", "01-02-03", "12-31-1999", "10:00AM", "<DIR>",
    "\u00b2", "\u0663", "\udce9", "é", "0", "31", "29",
]  # fmt: skip
HOSTILE_MLSX_PIECES = [
    "type=", "file", "dir", "cdir", "OS.unix=slink:", "OS.unix=symlink", "link", "size=",
    "sizd=", "modify=", "perm=", "unique=", "20240229123456", "20241301000000", ".", "123",
    "\u00b2", "\u0663", ";", " ", "=", "name", "\udce9", "",
]  # fmt: skip


def hostile_glued(pieces: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(),
        st.lists(st.sampled_from(pieces) | st.text(max_size=3), max_size=20).map("".join),
    )


# Numbers as a hostile server may write them: huge, or in digits that str.isdigit() accepts
# but int() may not (superscripts) or that are not ASCII (Arabic-Indic).
hostile_numbers = st.one_of(
    st.integers(0, 10**30).map(str),
    st.text(alphabet="0123456789\u00b2\u00b3\u0663\u0969", min_size=1, max_size=20),
)
hostile_eplf_lines = st.builds(
    lambda facts, name: "+" + ",".join(facts) + "\t" + name,
    st.lists(st.tuples(st.sampled_from("/rsmiu"), hostile_numbers).map("".join), max_size=5),
    st.text(max_size=10),
)
hostile_mlsx_times = st.datetimes(datetime.datetime(1000, 1, 1)).map(
    lambda when: f"{when:%Y%m%d%H%M%S}"
)
hostile_mlsx_lines = st.builds(
    lambda facts, name: ";".join(facts) + "; " + name,
    st.lists(
        st.tuples(
            st.sampled_from(["type", "size", "sizd", "modify", "perm", "unique", "Modify"]),
            st.one_of(
                hostile_numbers,
                st.tuples(hostile_numbers, hostile_numbers).map(".".join),
                st.tuples(hostile_mlsx_times, hostile_numbers).map(".".join),
                st.sampled_from(["file", "dir", "OS.unix=slink:/x", "cdir"]),
            ),
        ).map("=".join),
        max_size=5,
    ),
    st.text(max_size=10),
)


@HOSTILE_HYPOTHESIS
@given(line=hostile_glued(HOSTILE_LIST_PIECES) | hostile_eplf_lines)
@example(line="+m99999999999999999999,r\tfar-future.txt")
@example(line="+m\u00b2,r\tsuperscript-time.txt")
def test_parse_list_line_raises_nothing_but_error_proto_on_any_text(line: str) -> None:
    try:
        entry = ftplib2.parse_list_line(line)
    except ftplib2.error_proto:
        return
    assert entry is None or isinstance(entry, ftplib2.Entry)


@HOSTILE_HYPOTHESIS
@given(line=hostile_glued(HOSTILE_MLSX_PIECES) | hostile_mlsx_lines)
@example(line="modify=20240101000000.\u00b2; superscript-fraction.txt")
def test_parse_mlsx_line_raises_nothing_but_error_proto_on_any_text(line: str) -> None:
    try:
        entry = ftplib2.parse_mlsx_line(line)
    except ftplib2.error_proto:
        return
    assert isinstance(entry, ftplib2.Entry)


HOSTILE_NOW = datetime.datetime(2024, 6, 15, 12, 0, tzinfo=datetime.UTC)
HOSTILE_MONTH_NAMES = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
]  # fmt: skip
hostile_names = st.text(
    st.characters(blacklist_categories=("Cc",)) | st.sampled_from(["\udce9", "\udcff", " "]),
    min_size=1,
    max_size=40,
)


@st.composite
def hostile_ls_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    """A Unix ``ls -l`` line and the entry it describes."""
    kind = draw(st.sampled_from(["-", "d", "l"]))
    perms = draw(st.text(alphabet="rwx-", min_size=9, max_size=9))
    links = draw(st.integers(1, 9999))
    owner, group = draw(
        st.lists(st.sampled_from(["root", "ftp", "www-data", "1000"]), min_size=2, max_size=2)
    )
    size = draw(st.integers(0, 10**13))
    name = draw(hostile_names)
    target = None
    if kind == "l":
        name = draw(hostile_names.filter(lambda n: " -> " not in n))
        target = draw(hostile_names)
    if draw(st.booleans()):  # within the last six months: ls shows the time, not the year
        naive_now = HOSTILE_NOW.replace(tzinfo=None)
        when = draw(st.datetimes(naive_now - datetime.timedelta(days=179), naive_now)).replace(
            second=0, microsecond=0
        )
        stamp = f"{when:%H:%M}"
    else:
        when = datetime.datetime.combine(
            draw(st.dates(datetime.date(1970, 1, 1), datetime.date(2023, 12, 1))),
            datetime.time(),
        )
        stamp = f" {when.year}"
    month = HOSTILE_MONTH_NAMES[when.month - 1]
    shown = f"{name} -> {target}" if target is not None else name
    line = (
        f"{kind}{perms} {links:>3} {owner:<8} {group:<8} {size:>10} "
        f"{month} {when.day:>2} {stamp} {shown}"
    )
    expected = {
        "name": name,
        "type": {"-": "file", "d": "dir", "l": "link"}[kind],
        "size": size,
        "target": target,
        "modify": when.replace(tzinfo=datetime.UTC),
    }
    return line, expected


@HOSTILE_HYPOTHESIS
@given(sample=hostile_ls_lines())
def test_parse_list_line_reads_back_generated_unix_ls_lines(
    sample: tuple[str, dict[str, object]],
) -> None:
    line, expected = sample
    entry = ftplib2.parse_list_line(line, now=HOSTILE_NOW)
    assert entry is not None
    assert {key: getattr(entry, key) for key in expected} == expected


@HOSTILE_HYPOTHESIS
@given(sample=hostile_ls_lines(), blanks=st.sampled_from(["", " ", "  "]))
def test_parse_list_line_fast_path_agrees_with_the_general_regex(
    sample: tuple[str, dict[str, object]], blanks: str
) -> None:
    """Nine plain columns skip the regex; the result must be what the regex gives."""
    line = sample[0].replace(" ", " " + blanks, 1)  # wider columns change nothing
    match = ftplib2._UNIX_RE.match(line)
    assert match is not None
    general = ftplib2._unix_entry(match, line, HOSTILE_NOW)
    fast = ftplib2.parse_list_line(line, now=HOSTILE_NOW)
    assert fast is not None
    assert dataclasses.astuple(fast) == dataclasses.astuple(general)


def test_parse_list_line_reads_nine_plain_columns_even_where_the_regex_misreads_them() -> None:
    """The regex's first match took "1" for the size and "www" for the month here."""
    entry = ftplib2.parse_list_line("-rw-r--r-- 1 www 33 4096 Jan 01 2020 file", HOSTILE_NOW)
    assert entry is not None
    assert (entry.name, entry.size, entry.modify) == (
        "file",
        4096,
        datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC),
    )


@pytest.mark.parametrize(
    "line",
    [
        "  -rw-r--r-- 1 owner group 12 Nov 22 05:04 indented line",
        "-rw-r--r--\xa01 owner group 12 Nov 22 05:04 non-ASCII blank between columns",
        "-rw-r--r-- 1 owner group 12 Nov 22 05:04\xa0non-ASCII blank before the name",
    ],
)
def test_parse_list_line_refuses_what_the_regex_refuses(line: str) -> None:
    with pytest.raises(ftplib2.error_proto):
        ftplib2.parse_list_line(line, HOSTILE_NOW)


@pytest.mark.parametrize(
    "line",
    [
        "-rw-r--r-- 1 owner group 12 Nov 22 05:04  leading blank.txt",
        "-rw-r--r-- 1 owner group 12 Nov 22 05:04 trailing blank ",
        "crw-rw-rw- 1 root root 1, 3 Nov 22 05:04 null",
        "-rw-r--r-- 1 owner 12 Nov 22 05:04 no group column",
        "-rw-r--r--+ 1 owner group 12 Nov 22 05:04 acl",
        "-rw-r--r-- 1 owner group 12 Nov 22 2019 old",
        "lrwxrwxrwx 1 owner group 7 Nov 22 05:04 link -> target",
    ],
)
def test_parse_list_line_odd_columns_parse_as_the_general_regex_does(line: str) -> None:
    """Lines the fast path leaves to the regex (or takes apart as the regex does)."""
    match = ftplib2._UNIX_RE.match(line)
    assert match is not None
    general = ftplib2._unix_entry(match, line, HOSTILE_NOW)
    assert dataclasses.astuple(ftplib2.parse_list_line(line, now=HOSTILE_NOW)) == (
        dataclasses.astuple(general)
    )


HOSTILE_REPLY_PIECES = [
    b"200", b"211", b"211-", b"211 ", b"-", b" ", b"\r\n", b"\n", b"\r", b"x" * 40, b"\xff",
    b"\xe9", b"999", b"1", b"",
]  # fmt: skip


@HOSTILE_HYPOTHESIS
@given(
    data=st.one_of(
        st.binary(max_size=600),
        st.lists(st.sampled_from(HOSTILE_REPLY_PIECES) | st.binary(max_size=3)).map(b"".join),
    ),
    cuts=st.lists(st.integers(0, 600), max_size=20),
    maxline=st.integers(1, 64),
    max_lines=st.integers(1, 12),
    max_bytes=st.integers(1, 300),
)
def test_reply_parser_raises_nothing_but_error_proto_on_any_bytes_in_any_chunks(
    data: bytes, cuts: list[int], maxline: int, max_lines: int, max_bytes: int
) -> None:
    parser = ftplib2.ReplyParser(maxline=maxline, max_lines=max_lines, max_bytes=max_bytes)
    bounds = [0, *sorted(c for c in cuts if c <= len(data)), len(data)]
    try:
        for start, end in itertools.pairwise(bounds):
            parser.feed(data[start:end])
            while (reply := parser.next_reply()) is not None:
                assert isinstance(reply, ftplib2.Reply)
        assert isinstance(parser.flush(), str)
    except ftplib2.error_proto:
        pass


# --------------------------------------------------------------------------
# 15. Soak and concurrency against a real server (slow: run with -m slow)
# --------------------------------------------------------------------------

HOSTILE_SOAK_USER = "soak"
HOSTILE_SOAK_PASSWORD = "soak-password"


def hostile_ports_outside_the_ephemeral_range(count: int = 256) -> range:
    """Passive ports for the soak server.

    Every transfer leaves its passive port in TIME_WAIT for a minute (the server closes the
    data connection first).  Ten thousand of them taken from the kernel's ephemeral range
    would exhaust it, and every bind to port 0 in the process would fail for that minute;
    pyftpdlib reuses ports of its own range (SO_REUSEADDR) instead.
    """
    with open("/proc/sys/net/ipv4/ip_local_port_range", encoding="ascii") as ports:
        low, high = map(int, ports.read().split())
    if high + count < 65536:
        return range(high + 1, high + 1 + count)
    return range(low - count, low)


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


# ==================================================================================================
# ftp:// URLs and the urllib handlers
# ==================================================================================================


URL_TIMEOUT = 10
URL_PAYLOAD = bytes(range(256)) * 64  # 16 KiB, every byte value
URL_NOTES = b"line one\nline two\n"
URL_NESTED_NAME = "fïlé 1.txt"
URL_NESTED_DIRS = ("a b", "ünï")


@dataclasses.dataclass
class URLServer:
    """A running test server and what it has seen."""

    scheme: str
    host: str
    port: int
    root: pathlib.Path
    logins: list[str]

    def url(self, path: str = "", user: str | None = "user", passwd: str = "pass") -> str:
        """The URL of `path` (already percent-encoded) on this server."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        auth = "" if user is None else f"{user}:{passwd}@"
        return f"{self.scheme}://{auth}{host}:{self.port}/{path}"


@contextlib.contextmanager
def url_serve(
    host: str,
    root: pathlib.Path,
    *,
    certfile: str | None = None,
    handler_attrs: dict[str, Any] | None = None,
) -> Iterator[URLServer]:
    """Run a pyftpdlib server on `host` for the duration of the block.

    Users: 'user'/'pass' (all permissions), 'we@ird'/'p:ss/w@rd' (read) and
    anonymous (read).  With `certfile`, TLS is required on the control and
    the data connections.
    """
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import FTPHandler, TLS_FTPHandler

    logger = logging.getLogger("pyftpdlib")
    logger.setLevel(logging.WARNING)
    logins: list[str] = []
    authorizer = DummyAuthorizer()
    authorizer.add_user("user", "pass", str(root), perm="elradfmwMT")
    authorizer.add_user("we@ird", "p:ss/w@rd", str(root), perm="elr")
    authorizer.add_anonymous(str(root))

    def on_login(handler: Any, username: str) -> None:
        logins.append(username)

    attrs: dict[str, Any] = {"authorizer": authorizer, "on_login": on_login}
    if certfile is not None:
        attrs.update(certfile=certfile, tls_control_required=True, tls_data_required=True)
    attrs.update(handler_attrs or {})
    base = FTPHandler if certfile is None else TLS_FTPHandler
    handler = type("URLTestHandler", (base,), attrs)
    server = ThreadedFTPServer((host, 0), handler, "url")
    try:
        scheme = "ftp" if certfile is None else "ftps"
        yield URLServer(scheme, host, server.port, root, logins)
    finally:
        server.stop()


def url_quote(*segments: str) -> str:
    """Percent-encode path segments (UTF-8) and join them with slashes."""
    return "/".join(urllib.parse.quote(s, safe="") for s in segments)


@pytest.fixture
def url_root(tmp_path: pathlib.Path) -> pathlib.Path:
    """The server's root: a few files and nested directories."""
    root = tmp_path / "root"
    root.mkdir()
    (root / "payload.bin").write_bytes(URL_PAYLOAD)
    (root / "notes.txt").write_bytes(URL_NOTES)
    (root / "victim.txt").write_bytes(b"do not delete")
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "sub" / "deeper" / "data.bin").write_bytes(b"deep data")
    (root / "sub" / "other.txt").write_bytes(b"other")
    nested = root.joinpath(*URL_NESTED_DIRS)
    nested.mkdir(parents=True)
    (nested / URL_NESTED_NAME).write_bytes("ünïcode\n".encode())
    return root


@pytest.fixture
def url_server(url_root: pathlib.Path) -> Iterator[URLServer]:
    """A plain FTP server on 127.0.0.1."""
    with url_serve("127.0.0.1", url_root) as server:
        yield server


@pytest.fixture(scope="module")
def url_ca() -> Any:
    """A test certificate authority (trustme)."""
    trustme = pytest.importorskip("trustme")
    return trustme.CA()


@pytest.fixture
def url_tls_server(
    url_root: pathlib.Path, url_ca: Any, tmp_path: pathlib.Path
) -> Iterator[URLServer]:
    """An FTPS server (explicit TLS required) with a certificate from `url_ca`."""
    pytest.importorskip("OpenSSL")
    certfile = tmp_path / "server.pem"
    url_ca.issue_cert("127.0.0.1", "::1", "localhost").private_key_and_cert_chain_pem.write_to_path(
        str(certfile)
    )
    with url_serve("127.0.0.1", url_root, certfile=str(certfile)) as server:
        yield server


@pytest.fixture
def url_client_context(url_ca: Any) -> ssl.SSLContext:
    """A verifying client context that trusts `url_ca`."""
    context = ssl.create_default_context()
    url_ca.configure_trust(context)
    return context


@pytest.fixture
def url_home(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> pathlib.Path:
    """An empty home directory, so that no real ~/.netrc is read."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.fixture
def url_cache_handler() -> Iterator[Any]:
    """A CacheFTPHandler whose connections are closed at the end of the test."""
    handler = ftplib2.CacheFTPHandler()
    yield handler
    handler.clear_cache()


def url_read(url: str, **kwargs: Any) -> bytes:
    """urlopen(url) and read it all."""
    with ftplib2.urlopen(url, timeout=URL_TIMEOUT, **kwargs) as response:
        return response.read()


def url_error(url: str, **kwargs: Any) -> urllib.error.URLError:
    """The URLError urlopen(url) raises (after reading, if it gets that far)."""
    with (
        pytest.raises(urllib.error.URLError) as info,
        ftplib2.urlopen(url, timeout=URL_TIMEOUT, **kwargs) as response,
    ):
        response.read()  # a failure at the end of the data raises here
    assert not isinstance(info.value.reason, urllib.error.URLError)
    return info.value


# -- the URL parser (a pure function) -------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("ftp://h/f", {"host": "h", "port": 21, "dirs": (), "file": "f", "type": None}),
        ("ftp://h:2121/a/b/f;type=a", {"port": 2121, "dirs": ("a", "b"), "file": "f", "type": "A"}),
        ("ftp://h/a/;type=D", {"dirs": ("a",), "file": "", "type": "D"}),
        ("ftp://h", {"dirs": (), "file": ""}),
        ("ftp://[::1]:2121/x", {"host": "::1", "port": 2121, "file": "x"}),
        ("ftp://h/%2Fetc/motd", {"dirs": ("/etc",), "file": "motd"}),
        ("ftp://h//etc/motd", {"dirs": ("/", "etc"), "file": "motd"}),
        ("ftp://h/a//b/f", {"dirs": ("a", "b"), "file": "f"}),
        ("ftp://h/a%2Fb", {"dirs": (), "file": "a/b"}),
        ("ftp://h/%C3%BC%20x/%FF", {"dirs": ("ü x",), "file": "\udcff"}),
        ("ftp://u%40x:p%3As@h/", {"user": "u@x", "passwd": "p:s"}),
        ("ftps://h/f", {"secure": True, "port": 21}),
    ],
)
def test_url_parser_takes_ftp_urls_apart(url: str, expected: dict[str, Any]) -> None:
    target = ftplib2._parse_ftp_url(url)
    assert {key: getattr(target, key) for key in expected} == expected


# -- urlopen: what comes back ------------------------------------------------------


def test_urlopen_returns_binary_file_with_headers(url_server: URLServer) -> None:
    url = url_server.url("payload.bin")
    with ftplib2.urlopen(url, timeout=URL_TIMEOUT) as response:
        assert response.read() == URL_PAYLOAD
        assert isinstance(response.info(), Message)
        assert response.headers["Content-Length"] == str(len(URL_PAYLOAD))
        assert response.headers["Content-Type"] == "application/octet-stream"
        assert response.geturl() == response.url == url
        assert response.status is None
        assert response.getcode() is None
    assert url_server.logins == ["user"]


def test_urlopen_guesses_content_type_from_name(url_server: URLServer) -> None:
    with ftplib2.urlopen(url_server.url("notes.txt"), timeout=URL_TIMEOUT) as response:
        assert response.headers["Content-Type"] == "text/plain"
        assert response.read() == URL_NOTES


def test_urlopen_response_is_a_file_object(url_server: URLServer) -> None:
    with ftplib2.urlopen(url_server.url("notes.txt"), timeout=URL_TIMEOUT) as response:
        assert response.readline() == b"line one\n"
        assert list(response) == [b"line two\n"]
        assert response.read() == b""
    assert response.closed
    with ftplib2.urlopen(url_server.url("notes.txt"), timeout=URL_TIMEOUT) as response:
        assert response.readlines() == [b"line one\n", b"line two\n"]
    with ftplib2.urlopen(url_server.url("payload.bin"), timeout=URL_TIMEOUT) as response:
        buffer = bytearray(len(URL_PAYLOAD) + 10)
        received = 0
        while n := response.readinto(memoryview(buffer)[received:]):
            received += n
        assert buffer[:received] == URL_PAYLOAD
    with pytest.raises(ValueError):
        response.read()


def test_urlopen_ascii_type_returns_the_servers_line_endings(url_server: URLServer) -> None:
    assert url_read(url_server.url("notes.txt;type=a")) == b"line one\r\nline two\r\n"
    assert url_read(url_server.url("notes.txt;type=i")) == URL_NOTES


def test_urlopen_trailing_slash_lists_the_directory(url_server: URLServer) -> None:
    with ftplib2.urlopen(url_server.url("sub/"), timeout=URL_TIMEOUT) as response:
        listing = response.read().decode()
        assert response.headers["Content-Type"] == "text/plain"
    lines = listing.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("d") and lines[0].endswith(" deeper")
    assert lines[1].startswith("-") and lines[1].endswith(" other.txt")


def test_urlopen_root_url_lists_the_login_directory(url_server: URLServer) -> None:
    names = url_read(url_server.url("")).decode()
    assert "payload.bin" in names and "sub" in names


def test_urlopen_type_d_lists_names_only(url_server: URLServer) -> None:
    assert url_read(url_server.url("sub/;type=d")) == b"deeper\r\nother.txt\r\n"
    assert url_read(url_server.url("sub/other.txt;type=d")) == b"other.txt\r\n"


def test_urlopen_directory_without_slash_is_listed(url_server: URLServer) -> None:
    listing = url_read(url_server.url("sub/deeper")).decode()
    assert listing.rstrip().endswith(" data.bin")


def test_urlopen_decodes_percent_encoded_utf8_segments(url_server: URLServer) -> None:
    url = url_server.url(url_quote(*URL_NESTED_DIRS, URL_NESTED_NAME))
    assert "%20" in url and "%C3%AF" in url
    assert url_read(url) == "ünïcode\n".encode()


def test_urlopen_encoded_slash_stays_inside_one_name(url_server: URLServer) -> None:
    # %2F: one CWD "/sub", then RETR "deeper/data.bin"
    assert url_read(url_server.url("%2Fsub/deeper%2Fdata.bin")) == b"deep data"


def test_urlopen_double_slash_starts_at_the_root(url_server: URLServer) -> None:
    assert url_read(url_server.url("/sub/other.txt")) == b"other"


def test_urlopen_accepts_a_request_object(url_server: URLServer) -> None:
    request = urllib.request.Request(url_server.url("notes.txt") + "#fragment")
    with ftplib2.urlopen(request, timeout=URL_TIMEOUT) as response:
        assert response.read() == URL_NOTES
        assert response.geturl() == url_server.url("notes.txt") + "#fragment"  # as in urllib


# -- urlopen: credentials ----------------------------------------------------------


def test_urlopen_percent_decodes_user_and_password(url_server: URLServer) -> None:
    url = url_server.url("notes.txt", user="we%40ird", passwd="p%3Ass%2Fw%40rd")
    assert url_read(url) == URL_NOTES
    assert url_server.logins == ["we@ird"]


def test_urlopen_without_credentials_logs_in_anonymously(
    url_server: URLServer, url_home: pathlib.Path
) -> None:
    assert url_read(url_server.url("notes.txt", user=None)) == URL_NOTES
    assert url_server.logins == ["anonymous"]


def test_urlopen_takes_credentials_from_netrc(
    url_server: URLServer, url_home: pathlib.Path
) -> None:
    netrc = url_home / ".netrc"
    netrc.write_text(f"machine {url_server.host} login user password pass\n")
    netrc.chmod(0o600)
    assert url_read(url_server.url("notes.txt", user=None)) == URL_NOTES
    assert url_read(url_server.url("notes.txt", user="user", passwd="")) == URL_NOTES
    assert url_server.logins == ["user", "user"]


def test_urlopen_ignores_a_malformed_netrc(url_server: URLServer, url_home: pathlib.Path) -> None:
    (url_home / ".netrc").write_text("machine\n")
    assert url_read(url_server.url("notes.txt", user=None)) == URL_NOTES
    assert url_server.logins == ["anonymous"]


# -- urlopen: failures are one URLError -------------------------------------------


def test_urlopen_missing_file_raises_urlerror_with_the_550(url_server: URLServer) -> None:
    error = url_error(url_server.url("no-such-file"))
    assert isinstance(error.reason, ftplib2.error_perm)
    assert error.reason.code == "550"
    assert str(error.reason).startswith("550 ")


def test_urlopen_missing_directory_raises_urlerror(url_server: URLServer) -> None:
    error = url_error(url_server.url("no-such-dir/payload.bin"))
    assert isinstance(error.reason, ftplib2.error_perm)
    assert error.reason.code == "550"


def test_urlopen_bad_credentials_raise_urlerror_with_the_530(url_server: URLServer) -> None:
    error = url_error(url_server.url("notes.txt", passwd="wrong"))
    assert isinstance(error.reason, ftplib2.error_perm)
    assert error.reason.code == "530"


def test_urlopen_refused_connection_raises_urlerror() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    error = url_error(f"ftp://127.0.0.1:{port}/x")
    assert isinstance(error.reason, ConnectionRefusedError)


def test_urlopen_unknown_host_raises_urlerror() -> None:
    error = url_error("ftp://no-such-host.invalid/x")
    assert isinstance(error.reason, socket.gaierror)


@pytest.mark.parametrize(
    "url",
    [
        "ftp:///x",  # no host
        "ftp://user@/x",
        "http://example.com/",  # not FTP
        "ftp://h:99999/x",  # bad port
        "ftp://h:0/x",
        "ftp://h:port/x",
        "ftp://[::1/x",  # bad IPv6 literal
        "ftp://h/x;type=q",  # unknown type
        "ftp://h/x\ny",  # raw control character
    ],
)
def test_urlopen_malformed_url_raises_urlerror(url: str) -> None:
    error = url_error(url)
    assert isinstance(error.reason, str)


def test_urlopen_refuses_request_data(url_server: URLServer) -> None:
    with pytest.raises(urllib.error.URLError, match="data"):
        ftplib2.urlopen(url_server.url("notes.txt"), data=b"x", timeout=URL_TIMEOUT)
    assert url_server.logins == []


@pytest.mark.parametrize(
    "url_path",
    [
        "victim.txt%0d%0aDELE%20victim.txt",
        "victim.txt%0aDELE%20victim.txt",
        "victim.txt%0d%0aDELE%20victim.txt;type=d",
        "sub%0d%0aDELE%20victim.txt/x",
        "victim.txt%00DELE%20victim.txt",
    ],
)
def test_urlopen_encoded_crlf_cannot_inject_commands(url_server: URLServer, url_path: str) -> None:
    error = url_error(url_server.url(url_path))
    assert "CR, LF or NUL" in str(error.reason)
    assert (url_server.root / "victim.txt").exists()
    assert url_server.logins == []  # refused before connecting


def test_urlopen_encoded_crlf_in_credentials_cannot_inject(url_server: URLServer) -> None:
    url_error(url_server.url("x", user="user%0d%0aDELE%20victim.txt"))
    url_error(url_server.url("x", passwd="pass%0d%0aDELE%20victim.txt"))
    assert (url_server.root / "victim.txt").exists()


# -- urlopen: streaming and the end of a transfer ---------------------------------


def test_urlopen_streams_a_large_file_in_flat_memory(url_server: URLServer) -> None:
    chunk = hashlib.sha256(b"seed").digest() * (1 << 15)  # 1 MiB
    digest = hashlib.sha256()
    with open(url_server.root / "large.bin", "wb") as f:
        for i in range(64):
            block = bytes([i]) + chunk[1:]
            f.write(block)
            digest.update(block)
    received = hashlib.sha256()
    size = 0
    tracemalloc.start()
    try:
        with ftplib2.urlopen(url_server.url("large.bin"), timeout=URL_TIMEOUT) as response:
            assert response.headers["Content-Length"] == str(64 << 20)
            while block := response.read(1 << 16):
                received.update(block)
                size += len(block)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert size == 64 << 20
    assert received.digest() == digest.digest()
    assert peak < 8 << 20


def test_urlopen_early_close_aborts_the_transfer(url_server: URLServer) -> None:
    (url_server.root / "large.bin").write_bytes(b"x" * (16 << 20))
    with ftplib2.urlopen(url_server.url("large.bin"), timeout=URL_TIMEOUT) as response:
        assert response.read(1000) == b"x" * 1000
    assert response.closed
    assert url_read(url_server.url("notes.txt")) == URL_NOTES


def test_urlopen_short_transfer_raises_content_too_short(url_root: pathlib.Path) -> None:
    def ftp_SIZE(handler: Any, path: str) -> None:
        handler.respond(f"213 {os.path.getsize(path) + 100}")

    with (
        url_serve("127.0.0.1", url_root, handler_attrs={"ftp_SIZE": ftp_SIZE}) as server,
        pytest.raises(urllib.error.ContentTooShortError, match="got only 18 out of 118"),
    ):
        url_read(server.url("notes.txt"))


# -- ftps:// and IPv6 ----------------------------------------------------------------


def test_urlopen_ftps_verifies_the_certificate_and_protects_data(
    url_tls_server: URLServer, url_client_context: ssl.SSLContext
) -> None:
    # The server refuses clear-text control and data connections.
    url = url_tls_server.url("payload.bin")
    assert url.startswith("ftps://")
    assert url_read(url, context=url_client_context) == URL_PAYLOAD
    listing = url_read(url_tls_server.url("sub/"), context=url_client_context)
    assert b"other.txt" in listing


def test_urlopen_ftps_refuses_an_untrusted_certificate(url_tls_server: URLServer) -> None:
    error = url_error(url_tls_server.url("payload.bin"))
    assert isinstance(error.reason, ssl.SSLCertVerificationError)
    assert url_tls_server.logins == []


def test_urlopen_ftps_missing_file_raises_urlerror(
    url_tls_server: URLServer, url_client_context: ssl.SSLContext
) -> None:
    error = url_error(url_tls_server.url("no-such-file"), context=url_client_context)
    assert isinstance(error.reason, ftplib2.error_perm)


def test_urlopen_ipv6_literal(url_root: pathlib.Path) -> None:
    try:
        with socket.create_server(("::1", 0), family=socket.AF_INET6):
            pass
    except OSError:
        pytest.skip("cannot bind ::1")
    with url_serve("::1", url_root) as server:
        url = server.url("sub/other.txt")
        assert url.startswith("ftp://user:pass@[::1]:")
        assert url_read(url) == b"other"


# -- urlretrieve --------------------------------------------------------------------


def test_urlretrieve_writes_the_file_and_reports_progress(
    url_server: URLServer, tmp_path: pathlib.Path
) -> None:
    (url_server.root / "big.bin").write_bytes(URL_PAYLOAD * 20)  # 320 KiB
    target = tmp_path / "copy.bin"
    calls = []
    filename, headers = ftplib2.urlretrieve(
        url_server.url("big.bin"), target, lambda *args: calls.append(args)
    )
    assert filename == target
    assert target.read_bytes() == URL_PAYLOAD * 20
    assert headers["Content-Length"] == str(len(URL_PAYLOAD) * 20)
    blocksize = calls[0][1]
    assert calls[0] == (0, blocksize, len(URL_PAYLOAD) * 20)
    assert [c[0] for c in calls] == list(range(len(calls)))
    assert {c[1:] for c in calls} == {(blocksize, len(URL_PAYLOAD) * 20)}
    assert 0 <= calls[-1][0] * blocksize - len(URL_PAYLOAD) * 20 < blocksize


def test_urlretrieve_without_filename_makes_a_temporary_file(url_server: URLServer) -> None:
    filename, headers = ftplib2.urlretrieve(url_server.url("notes.txt"))
    try:
        assert pathlib.Path(filename).read_bytes() == URL_NOTES
        assert headers["Content-Type"] == "text/plain"
    finally:
        ftplib2.urlcleanup()
    assert not os.path.exists(filename)


def test_urlretrieve_short_transfer_raises_with_the_partial_file(
    url_root: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    def ftp_SIZE(handler: Any, path: str) -> None:
        handler.respond(f"213 {os.path.getsize(path) + 1}")

    target = tmp_path / "copy.txt"
    with (
        url_serve("127.0.0.1", url_root, handler_attrs={"ftp_SIZE": ftp_SIZE}) as server,
        pytest.raises(urllib.error.ContentTooShortError) as info,
    ):
        ftplib2.urlretrieve(server.url("notes.txt"), target)
    assert info.value.content[0] == target
    assert target.read_bytes() == URL_NOTES


def test_urlretrieve_missing_file_raises_urlerror(
    url_server: URLServer, tmp_path: pathlib.Path
) -> None:
    with pytest.raises(urllib.error.URLError):
        ftplib2.urlretrieve(url_server.url("no-such-file"), tmp_path / "x")
    assert not (tmp_path / "x").exists()


# -- urllib handlers -----------------------------------------------------------------


def test_handlers_are_urllib_handlers() -> None:
    assert issubclass(ftplib2.FTPHandler, urllib.request.FTPHandler)
    assert issubclass(ftplib2.CacheFTPHandler, ftplib2.FTPHandler)
    assert issubclass(ftplib2.CacheFTPHandler, urllib.request.CacheFTPHandler)
    assert ftplib2.FTPHandler.__name__ == "FTPHandler"
    assert ftplib2.FTPHandler.__doc__
    assert "FTPHandler" in dir(ftplib2)


def test_build_opener_uses_ftplib2_in_place_of_urllib(url_server: URLServer) -> None:
    handler = ftplib2.FTPHandler()
    opener = urllib.request.build_opener(handler)
    assert opener.handle_open["ftp"] == [handler]
    assert not any(type(h) is urllib.request.FTPHandler for h in opener.handlers)
    with opener.open(url_server.url("payload.bin"), timeout=URL_TIMEOUT) as response:
        assert response.read() == URL_PAYLOAD
        assert response.headers["Content-Length"] == str(len(URL_PAYLOAD))
    with opener.open(url_server.url("sub/"), timeout=URL_TIMEOUT) as response:
        assert b"other.txt" in response.read()
    assert url_server.logins == ["user", "user"]


def test_build_opener_failures_are_one_urlerror(url_server: URLServer) -> None:
    opener = urllib.request.build_opener(ftplib2.FTPHandler())
    with pytest.raises(urllib.error.URLError) as info:
        opener.open(url_server.url("no-such-file"), timeout=URL_TIMEOUT)
    assert isinstance(info.value.reason, ftplib2.error_perm)
    with pytest.raises(urllib.error.URLError) as info:
        opener.open(url_server.url("victim.txt%0d%0aDELE%20victim.txt"), timeout=URL_TIMEOUT)
    assert isinstance(info.value.reason, str)
    with pytest.raises(urllib.error.URLError, match="data"):
        opener.open(url_server.url("notes.txt"), data=b"x", timeout=URL_TIMEOUT)
    assert (url_server.root / "victim.txt").exists()


def test_build_opener_ftphandler_fetches_ftps(
    url_tls_server: URLServer, url_client_context: ssl.SSLContext
) -> None:
    opener = urllib.request.build_opener(ftplib2.FTPHandler(context=url_client_context))
    with opener.open(url_tls_server.url("notes.txt"), timeout=URL_TIMEOUT) as response:
        assert response.read() == URL_NOTES
    default = urllib.request.build_opener(ftplib2.FTPHandler())
    with pytest.raises(urllib.error.URLError) as info:
        default.open(url_tls_server.url("notes.txt"), timeout=URL_TIMEOUT)
    assert isinstance(info.value.reason, ssl.SSLCertVerificationError)


# -- CacheFTPHandler -------------------------------------------------------------------


def url_fetch(opener: urllib.request.OpenerDirector, url: str) -> bytes:
    """opener.open(url) and read it all."""
    with opener.open(url, timeout=URL_TIMEOUT) as response:
        return response.read()


def test_cache_handler_logs_in_once_for_urls_in_different_directories(
    url_server: URLServer, url_cache_handler: Any
) -> None:
    opener = urllib.request.build_opener(url_cache_handler)
    assert url_fetch(opener, url_server.url("payload.bin")) == URL_PAYLOAD
    assert url_fetch(opener, url_server.url("sub/deeper/data.bin")) == b"deep data"
    assert url_fetch(opener, url_server.url("sub/other.txt")) == b"other"
    assert url_fetch(opener, url_server.url("notes.txt;type=a")) == b"line one\r\nline two\r\n"
    assert b"data.bin" in url_fetch(opener, url_server.url("sub/deeper/"))
    assert url_server.logins == ["user"]


def test_cache_handler_keeps_the_connection_after_a_missing_file(
    url_server: URLServer, url_cache_handler: Any
) -> None:
    opener = urllib.request.build_opener(url_cache_handler)
    for path in ("no-such-file", "no-such-dir/x", "sub/no-such-file"):
        with pytest.raises(urllib.error.URLError):
            url_fetch(opener, url_server.url(path))
    assert url_fetch(opener, url_server.url("sub/other.txt")) == b"other"
    assert url_server.logins == ["user"]


def test_cache_handler_keeps_the_connection_after_an_early_close(
    url_server: URLServer, url_cache_handler: Any
) -> None:
    (url_server.root / "large.bin").write_bytes(b"x" * (16 << 20))
    opener = urllib.request.build_opener(url_cache_handler)
    with opener.open(url_server.url("large.bin"), timeout=URL_TIMEOUT) as response:
        assert response.read(1000) == b"x" * 1000
    assert url_fetch(opener, url_server.url("payload.bin")) == URL_PAYLOAD
    assert url_server.logins == ["user"]


def test_cache_handler_separates_users_and_servers(
    url_server: URLServer, url_cache_handler: Any, url_home: pathlib.Path
) -> None:
    opener = urllib.request.build_opener(url_cache_handler)
    url_fetch(opener, url_server.url("notes.txt"))
    url_fetch(opener, url_server.url("notes.txt", user=None))
    url_fetch(opener, url_server.url("notes.txt", user="we%40ird", passwd="p%3Ass%2Fw%40rd"))
    url_fetch(opener, url_server.url("notes.txt"))
    url_fetch(opener, url_server.url("notes.txt", user=None))
    assert url_server.logins == ["user", "anonymous", "we@ird"]


def test_cache_handler_gives_concurrent_requests_their_own_connections(
    url_server: URLServer, url_cache_handler: Any
) -> None:
    opener = urllib.request.build_opener(url_cache_handler)
    with (
        opener.open(url_server.url("payload.bin"), timeout=URL_TIMEOUT) as first,
        opener.open(url_server.url("sub/other.txt"), timeout=URL_TIMEOUT) as second,
    ):
        assert second.read() == b"other"
        assert first.read() == URL_PAYLOAD
    assert url_server.logins == ["user", "user"]
    with (
        opener.open(url_server.url("notes.txt"), timeout=URL_TIMEOUT) as first,
        opener.open(url_server.url("sub/deeper/data.bin"), timeout=URL_TIMEOUT) as second,
    ):
        assert first.read() == URL_NOTES
        assert second.read() == b"deep data"
    assert url_server.logins == ["user", "user"]


def test_cache_handler_is_thread_safe(url_server: URLServer, url_cache_handler: Any) -> None:
    opener = urllib.request.build_opener(url_cache_handler)
    expected = {
        "payload.bin": URL_PAYLOAD,
        "sub/other.txt": b"other",
        "sub/deeper/data.bin": b"deep data",
        "notes.txt": URL_NOTES,
    }
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(5):
                for path, content in expected.items():
                    assert url_fetch(opener, url_server.url(path)) == content
        except (AssertionError, OSError) as exc:  # URLError is an OSError
            failures.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    assert 1 <= len(url_server.logins) <= 6


def test_cache_handler_closes_idle_connections_after_the_timeout(
    url_server: URLServer, url_cache_handler: Any
) -> None:
    url_cache_handler.setTimeout(0.3)
    opener = urllib.request.build_opener(url_cache_handler)
    url_fetch(opener, url_server.url("notes.txt"))
    url_fetch(opener, url_server.url("notes.txt"))
    assert len(url_server.logins) == 1
    time.sleep(0.5)
    url_fetch(opener, url_server.url("notes.txt"))
    assert len(url_server.logins) == 2
    url_cache_handler.setTimeout(0)  # from now on nothing is kept
    url_fetch(opener, url_server.url("notes.txt"))  # the last one kept
    assert len(url_server.logins) == 2
    url_fetch(opener, url_server.url("notes.txt"))
    url_fetch(opener, url_server.url("notes.txt"))
    assert len(url_server.logins) == 4


def test_cache_handler_keeps_at_most_max_conns(
    url_server: URLServer, url_cache_handler: Any
) -> None:
    url_cache_handler.setMaxConns(1)
    opener = urllib.request.build_opener(url_cache_handler)
    for _ in range(2):
        with (
            opener.open(url_server.url("notes.txt"), timeout=URL_TIMEOUT) as first,
            opener.open(url_server.url("notes.txt"), timeout=URL_TIMEOUT) as second,
        ):
            assert first.read() == second.read() == URL_NOTES
    assert len(url_server.logins) == 3  # the second round reuses one, makes one


def test_cache_handler_clear_cache_closes_connections(
    url_server: URLServer, url_cache_handler: Any
) -> None:
    opener = urllib.request.build_opener(url_cache_handler)
    url_fetch(opener, url_server.url("notes.txt"))
    url_cache_handler.clear_cache()
    with opener.open(url_server.url("notes.txt"), timeout=URL_TIMEOUT) as response:
        url_cache_handler.clear_cache()  # in use: closed with its response
        assert response.read() == URL_NOTES
    url_fetch(opener, url_server.url("notes.txt"))
    assert len(url_server.logins) == 3


def test_cache_handler_replaces_a_connection_the_server_dropped(
    url_root: pathlib.Path, url_cache_handler: Any
) -> None:
    with url_serve("127.0.0.1", url_root, handler_attrs={"timeout": 0.3}) as server:
        opener = urllib.request.build_opener(url_cache_handler)
        assert url_fetch(opener, server.url("notes.txt")) == URL_NOTES
        time.sleep(1)  # the server sends 421 and closes the idle connection
        assert url_fetch(opener, server.url("sub/other.txt")) == b"other"
        assert server.logins == ["user", "user"]


def test_cache_handler_fetches_ftps_over_one_login(
    url_tls_server: URLServer, url_client_context: ssl.SSLContext
) -> None:
    (url_tls_server.root / "large.bin").write_bytes(b"x" * (16 << 20))
    handler = ftplib2.CacheFTPHandler(context=url_client_context)
    try:
        opener = urllib.request.build_opener(handler)
        with opener.open(url_tls_server.url("large.bin"), timeout=URL_TIMEOUT) as response:
            assert response.read(1000) == b"x" * 1000  # then closed early: aborted
        assert url_fetch(opener, url_tls_server.url("payload.bin")) == URL_PAYLOAD
        assert url_fetch(opener, url_tls_server.url("sub/other.txt")) == b"other"
        assert b"other.txt" in url_fetch(opener, url_tls_server.url("sub/"))
    finally:
        handler.clear_cache()
    assert url_tls_server.logins == ["user"]


# ==================================================================================================
# Tools/scripts/ftpmirror.py
# ==================================================================================================


MIRROR_USER = "mirror"
MIRROR_PASSWORD = "s3cr@t:/x"  # needs %-escapes in a URL
MIRROR_SMALL_FILES = 1050
MIRROR_BIG_SIZE = 2 << 20
MIRROR_MANIFEST = ".ftpmirror.json"
MIRROR_TIMEOUT = 30


def mirror_script_path() -> Path:
    """Tools/scripts/ftpmirror.py beside this test file, else beside the ftplib2 imported."""
    candidates = [
        Path(__file__).resolve().parent / "Tools" / "scripts" / "ftpmirror.py",
        Path(ftplib2.__file__).resolve().parent / "Tools" / "scripts" / "ftpmirror.py",
    ]
    return next((path for path in candidates if path.exists()), candidates[0])


MIRROR_SCRIPT = mirror_script_path()


# --------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------


class MirrorRecorder:
    """Mixed into a pyftpdlib handler: records every command line the server receives."""

    commands: list[str]

    def pre_process_command(self, line: str, cmd: str, arg: str) -> None:
        self.commands.append(line)
        super().pre_process_command(line, cmd, arg)  # type: ignore[misc]


class MirrorHostileListing:
    """A server whose root listing (MLSD) names files that would escape a mirror's root."""

    hostile_names: ClassVar[list[str]] = ["../evil", "/abs", "a\x00b", "tab\there", "dup", "dup"]

    def ftp_MLSD(self, path: str) -> str | None:
        if self.fs.fs2ftp(path) != "/":  # type: ignore[attr-defined]
            return super().ftp_MLSD(path)  # type: ignore[misc]
        facts = "type=file;size=3;modify=20200101000000;"
        lines = [f"{facts} {name}" for name in self.hostile_names]
        lines += [
            "type=OS.unix=slink:/etc/passwd;size=11;modify=20200101000000; passwd",
            "type=OS.unix=slink:../../outside;modify=20200101000000; up",
            "type=OS.unix=slink:ok.txt;modify=20200101000000; inside",
            f"{facts} ok.txt",
        ]
        data = "".join(line + "\r\n" for line in lines).encode("utf-8")
        self.push_dtp_data(data, cmd="MLSD")  # type: ignore[attr-defined]
        return path


class MirrorBareNameListing:
    """An NLST that marks directories with a trailing '/', as the servers of ftpmirror -m do."""

    def ftp_NLST(self, path: str) -> str:
        fs = self.fs  # type: ignore[attr-defined]
        names = sorted(fs.listdir(path))
        marked = [name + "/" if fs.isdir(os.path.join(path, name)) else name for name in names]
        data = "".join(name + "\r\n" for name in marked).encode("utf-8")
        self.push_dtp_data(data, cmd="NLST")  # type: ignore[attr-defined]
        return path


class MirrorServer:
    """A pyftpdlib server with its own IO loop in a daemon thread, serving `root`."""

    def __init__(
        self,
        root: Path,
        handler_base: type[FTPHandler] = FTPHandler,
        mixins: tuple[type, ...] = (),
        **attributes: object,
    ) -> None:
        logger = logging.getLogger("pyftpdlib")
        if not logger.handlers:
            logger.addHandler(logging.NullHandler())
        logger.setLevel(logging.WARNING)
        authorizer = DummyAuthorizer()
        authorizer.add_user(MIRROR_USER, MIRROR_PASSWORD, str(root), perm="elradfmwMT")
        authorizer.add_anonymous(str(root))
        self.root = root
        self.commands: list[str] = []
        self.handler = handler = type(
            "Mirror" + handler_base.__name__,
            (MirrorRecorder, *mixins, handler_base),
            {"authorizer": authorizer, "commands": self.commands, **attributes},
        )
        self._ftpd = ThreadedFTPServer(("127.0.0.1", 0), handler, "mirror")
        self.port = self._ftpd.port
        self.address = f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._ftpd.stop()

    def commands_since(self, start: int) -> list[str]:
        return self.commands[start:]


@contextlib.contextmanager
def mirror_serving(*args: object, **kwargs: object) -> Iterator[MirrorServer]:
    server = MirrorServer(*args, **kwargs)  # type: ignore[arg-type]
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def mirror_ftp_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mirror-ftp-root")


@pytest.fixture(scope="session")
def mirror_server(mirror_ftp_root: Path) -> Iterator[MirrorServer]:
    """The usual server: MLSD with size, modify and unique facts."""
    with mirror_serving(mirror_ftp_root) as server:
        yield server


@pytest.fixture(scope="session")
def mirror_list_server(mirror_ftp_root: Path) -> Iterator[MirrorServer]:
    """A server without MLST/MLSD: listings come from LIST in ls -l form."""
    commands = {k: v for k, v in FTPHandler.proto_cmds.items() if k not in ("MLST", "MLSD")}
    with mirror_serving(mirror_ftp_root, proto_cmds=commands) as server:
        yield server


@pytest.fixture(scope="session")
def mirror_slow_server(mirror_ftp_root: Path) -> Iterator[MirrorServer]:
    """A server that sends a burst of 256 KiB, then 256 KiB every two seconds or so.

    Tests set its ``handler.dtp_handler.write_limit`` to 0 to lift the limit.
    """
    slow = type("SlowDTPHandler", (ThrottledDTPHandler,), {"write_limit": 128 << 10})
    with mirror_serving(mirror_ftp_root, dtp_handler=slow) as server:
        yield server


@pytest.fixture(scope="session")
def mirror_bare_server(mirror_ftp_root: Path) -> Iterator[MirrorServer]:
    with mirror_serving(mirror_ftp_root, mixins=(MirrorBareNameListing,)) as server:
        yield server


@pytest.fixture(scope="session")
def mirror_hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MirrorServer]:
    root = tmp_path_factory.mktemp("mirror-hostile-root")
    (root / "ok.txt").write_bytes(b"ok\n")
    with mirror_serving(root, mixins=(MirrorHostileListing,)) as server:
        yield server


@pytest.fixture(scope="session")
def mirror_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def mirror_tls_server(
    mirror_ftp_root: Path, mirror_ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MirrorServer]:
    pem = tmp_path_factory.mktemp("mirror-tls") / "server.pem"
    mirror_ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(pem))
    with mirror_serving(
        mirror_ftp_root, handler_base=TLS_FTPHandler, certfile=str(pem), ssl_context=None
    ) as server:
        yield server


# --------------------------------------------------------------------------
# Trees
# --------------------------------------------------------------------------


def mirror_make_tree(root: Path) -> None:
    """Nested and empty directories, odd names, 1050 small files, 3 x 2 MiB and a symlink."""
    rng = random.Random(7)
    root.mkdir(parents=True, exist_ok=True)
    (root / "README.txt").write_text("a tree to mirror\n", encoding="utf-8")
    (root / "zero.bin").write_bytes(b"")
    (root / "empty").mkdir()
    (root / "deep" / "a" / "b" / "c" / "d").mkdir(parents=True)
    (root / "deep" / "a" / "b" / "c" / "d" / "leaf.txt").write_text("leaf\n", encoding="utf-8")
    (root / "deep" / "a" / "b" / "empty too").mkdir()
    (root / "with space").mkdir()
    (root / "with space" / "file with space.txt").write_text("spaced\n", encoding="utf-8")
    odd = root / "non-ascii ünïcødé"
    odd.mkdir()
    (odd / "café ☕.txt").write_text("coffee\n", encoding="utf-8")
    (odd / "日本語.txt").write_text("nihongo\n", encoding="utf-8")
    for n in range(MIRROR_SMALL_FILES):
        directory = root / "many" / f"d{n % 10:02d}"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"f{n:04d}.txt").write_bytes(rng.randbytes(rng.randrange(1, 200)))
    (root / "big").mkdir()
    for n in range(3):
        (root / "big" / f"big-{n}.bin").write_bytes(rng.randbytes(MIRROR_BIG_SIZE))
    os.symlink("README.txt", root / "link-to-readme.txt")
    # Distinct whole-second times, as a server's listing shows them.
    stamp = 1_600_000_000
    for path in sorted(root.rglob("*")):
        if not path.is_symlink():
            stamp += 1
            os.utime(path, (stamp, stamp))


def mirror_snapshot(root: Path) -> dict[str, str]:
    """Every directory and file below `root` (links followed for files), without the manifest."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel = Path(dirpath).relative_to(root)
        for name in dirnames:
            found[(rel / name).as_posix() + "/"] = "dir"
        for name in filenames:
            if rel == Path(".") and name == MIRROR_MANIFEST:
                continue
            data = (Path(dirpath) / name).read_bytes()
            found[(rel / name).as_posix()] = hashlib.sha256(data).hexdigest()
    return found


def mirror_files_of(snapshot: dict[str, str]) -> list[str]:
    return [rel for rel, kind in snapshot.items() if kind != "dir"]


def mirror_parts(root: Path) -> list[Path]:
    return sorted(root.rglob("*.ftpmirror-part"))


@pytest.fixture(scope="session")
def mirror_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    template = tmp_path_factory.mktemp("mirror-template") / "tree"
    mirror_make_tree(template)
    return template


@pytest.fixture
def mirror_remote(mirror_ftp_root: Path, mirror_template: Path) -> Path:
    """A fresh copy of the generated tree in the servers' root, for this test only."""
    remote = Path(tempfile.mkdtemp(prefix="r-", dir=mirror_ftp_root))
    shutil.copytree(mirror_template, remote, symlinks=True, dirs_exist_ok=True)
    return remote


@pytest.fixture
def mirror_medium_remote(mirror_ftp_root: Path, mirror_template: Path) -> Path:
    """The generated tree without its 1050 small files: every kind of name, fewer connections.

    Each file costs a data connection, and each closed connection holds a local port for a
    minute (TIME_WAIT): only the tests about many files mirror the whole tree.
    """
    remote = Path(tempfile.mkdtemp(prefix="m-", dir=mirror_ftp_root))
    shutil.copytree(
        mirror_template, remote, symlinks=True, dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("many"),
    )  # fmt: skip
    return remote


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


MIRROR_SUMMARY_RE = re.compile(
    r"ftpmirror: (?P<files>\d+) files, (?P<bytes>\d+) bytes transferred in .*; "
    r"(?P<unchanged>\d+) unchanged, (?P<skipped>\d+) skipped, (?P<deleted>\d+) deleted, "
    r"(?P<errors>\d+) errors$",
    re.MULTILINE,
)


@dataclasses.dataclass
class MirrorResult:
    status: int
    out: str
    err: str

    @property
    def summary(self) -> dict[str, int]:
        """The counts of the closing summary line."""
        match = MIRROR_SUMMARY_RE.search(self.out)
        assert match, f"no summary line in:\n{self.out}\n{self.err}"
        return {key: int(value) for key, value in match.groupdict().items()}

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.startswith("ftpmirror: error:")]


@contextlib.contextmanager
def mirror_sockets_closed() -> Iterator[None]:
    """Fail if a socket opened by the tool (in any thread but the servers') is left open."""
    opened: list[socket.socket] = []
    original_init = socket.socket.__init__

    def recording_init(sock: socket.socket, *args: object, **kwargs: object) -> None:
        original_init(sock, *args, **kwargs)
        if not threading.current_thread().name.startswith("ftpd-"):
            opened.append(sock)

    socket.socket.__init__ = recording_init  # type: ignore[method-assign]
    try:
        yield
    finally:
        socket.socket.__init__ = original_init  # type: ignore[method-assign]
    left_open = [sock for sock in opened if sock.fileno() != -1]
    for sock in left_open:
        sock.close()
    assert not left_open, f"ftpmirror left sockets open: {left_open}"


def mirror_run(
    tool: ModuleType, *argv: object, stdin: str = "", stdout: io.StringIO | None = None
) -> MirrorResult:
    """Run ``ftpmirror.main(argv)`` in this process, capturing its output."""
    out, err = stdout or io.StringIO(), io.StringIO()
    saved_stdin = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        with (
            mirror_sockets_closed(),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            status = tool.main([str(arg) for arg in argv])
    finally:
        sys.stdin = saved_stdin
    return MirrorResult(status, out.getvalue(), err.getvalue())


def mirror_command(*argv: object) -> list[str]:
    return [sys.executable, str(MIRROR_SCRIPT), *map(str, argv)]


def mirror_env(home: Path) -> dict[str, str]:
    """The environment of a subprocess: ftplib2 importable, a HOME without ~/.netrc."""
    here = str(Path(ftplib2.__file__).resolve().parent)
    path = os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, "HOME": str(home)}


def mirror_subprocess(home: Path, *argv: object) -> MirrorResult:
    done = subprocess.run(
        mirror_command(*argv),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        env=mirror_env(home),
        stdin=subprocess.DEVNULL,
        check=False,
    )
    return MirrorResult(done.returncode, done.stdout, done.stderr)


def mirror_login(server: MirrorServer) -> list[str]:
    return ["-l", MIRROR_USER, "-p", MIRROR_PASSWORD, server.address]


def mirror_listing_of(directory: Path) -> list[str]:
    return sorted(os.listdir(directory))


# --------------------------------------------------------------------------
# Mirroring a tree
# --------------------------------------------------------------------------


def test_mirror_reproduces_the_tree_then_a_second_run_transfers_nothing(
    mirror_tool: ModuleType, mirror_server: MirrorServer, mirror_remote: Path, tmp_path: Path
) -> None:
    local = tmp_path / "local"
    expected = mirror_snapshot(mirror_remote)
    files = mirror_files_of(expected)
    assert len(files) > MIRROR_SMALL_FILES

    first = mirror_run(mirror_tool, *mirror_login(mirror_server), mirror_remote.name, local)

    assert first.status == 0, first.err
    assert mirror_snapshot(local) == expected  # byte for byte, empty directories included
    assert first.summary["files"] == len(files)
    assert first.summary["bytes"] == sum((mirror_remote / rel).stat().st_size for rel in files)
    assert first.summary["errors"] == 0
    for rel in ["README.txt", "big/big-1.bin", "non-ascii ünïcødé/café ☕.txt"]:
        assert (local / rel).stat().st_mtime == (mirror_remote / rel).stat().st_mtime
    assert not (local / "link-to-readme.txt").is_symlink()  # the server shows the link's file
    manifest = json.loads((local / MIRROR_MANIFEST).read_text(encoding="ascii"))
    assert set(manifest["files"]) == set(files)
    assert manifest["partial"] == {}

    second = mirror_run(mirror_tool, *mirror_login(mirror_server), mirror_remote.name, local)

    assert second.status == 0, second.err
    assert second.summary == {
        "files": 0, "bytes": 0, "unchanged": len(files), "skipped": 0, "deleted": 0, "errors": 0,
    }  # fmt: skip
    assert mirror_snapshot(local) == expected


def test_mirror_converges_after_remote_edits_additions_and_deletions_with_r(
    mirror_tool: ModuleType, mirror_server: MirrorServer, mirror_remote: Path, tmp_path: Path
) -> None:
    local = tmp_path / "local"
    args = [*mirror_login(mirror_server), mirror_remote.name, local]
    assert mirror_run(mirror_tool, *args).status == 0
    # Same size, new content and time: only the server's facts tell it changed.
    edited = mirror_remote / "many" / "d03" / "f0003.txt"
    edited.write_bytes(bytes(255 - b for b in edited.read_bytes()))
    os.utime(edited, (1_700_000_000, 1_700_000_000))
    (mirror_remote / "added dir" / "inner").mkdir(parents=True)
    (mirror_remote / "added dir" / "inner" / "new.txt").write_text("new\n", encoding="utf-8")
    (mirror_remote / "README.txt").unlink()
    (mirror_remote / "link-to-readme.txt").unlink()
    shutil.rmtree(mirror_remote / "deep")

    kept = mirror_run(mirror_tool, *args)  # without -r nothing is deleted

    assert kept.status == 0, kept.err
    assert kept.summary["files"] == 2 and kept.summary["deleted"] == 0
    assert (local / "README.txt").exists() and (local / "deep").is_dir()
    assert (local / "many" / "d03" / "f0003.txt").read_bytes() == edited.read_bytes()

    pruned = mirror_run(mirror_tool, "-r", *args)

    assert pruned.status == 0, pruned.err
    assert pruned.summary["files"] == 0
    assert pruned.summary["deleted"] == 3  # README.txt, link-to-readme.txt, deep/
    assert mirror_snapshot(local) == mirror_snapshot(mirror_remote)
    manifest = json.loads((local / MIRROR_MANIFEST).read_text(encoding="ascii"))
    assert "README.txt" not in manifest["files"]


def test_mirror_trusts_an_existing_copy_when_the_manifest_is_lost_or_corrupt(
    mirror_tool: ModuleType, mirror_server: MirrorServer, mirror_small_remote: Path, tmp_path: Path
) -> None:
    local = tmp_path / "local"
    args = [*mirror_login(mirror_server), mirror_small_remote.name, local]
    assert mirror_run(mirror_tool, *args).status == 0
    (local / MIRROR_MANIFEST).write_text("__import__('os').system('false')", encoding="ascii")

    again = mirror_run(mirror_tool, *args)

    assert again.status == 0, again.err
    assert again.summary["files"] == 0 and again.summary["unchanged"] == 4
    assert json.loads((local / MIRROR_MANIFEST).read_text(encoding="ascii"))["files"]


def test_mirror_parallel_connections_give_the_same_tree(
    mirror_tool: ModuleType, mirror_server: MirrorServer, mirror_remote: Path, tmp_path: Path
) -> None:
    start = len(mirror_server.commands)
    local = tmp_path / "local"

    result = mirror_run(
        mirror_tool, "--parallel", 4, *mirror_login(mirror_server), mirror_remote.name, local
    )

    assert result.status == 0, result.err
    assert mirror_snapshot(local) == mirror_snapshot(mirror_remote)
    assert not mirror_parts(local)
    logins = [c for c in mirror_server.commands_since(start) if c == f"USER {MIRROR_USER}"]
    assert len(logins) == 4


def test_mirror_pipelining_gives_the_same_tree_with_pipelined_downloads(
    mirror_tool: ModuleType,
    mirror_server: MirrorServer,
    mirror_remote: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pipelined: list[str] = []
    real = ftplib2.FTP._pipelined_connection

    def counting(self: ftplib2.FTP, verb: str, cmd: str) -> Any:
        pipelined.append(cmd)
        return real(self, verb, cmd)

    monkeypatch.setattr(ftplib2.FTP, "_pipelined_connection", counting)
    local = tmp_path / "local"

    result = mirror_run(
        mirror_tool, "--pipelining", *mirror_login(mirror_server), mirror_remote.name, local
    )

    assert result.status == 0, result.err
    assert mirror_snapshot(local) == mirror_snapshot(mirror_remote)
    assert not mirror_parts(local)
    assert sum(cmd.startswith("RETR ") for cmd in pipelined) >= 3


def test_mirror_dry_run_prints_the_plan_and_changes_nothing(
    mirror_tool: ModuleType, mirror_server: MirrorServer, mirror_small_remote: Path, tmp_path: Path
) -> None:
    local = tmp_path / "local"
    args = [*mirror_login(mirror_server), mirror_small_remote.name, local]

    fresh = mirror_run(mirror_tool, "--dry-run", *args)

    assert fresh.status == 0, fresh.err
    assert not local.exists()
    assert "would get sub/c.txt (6 bytes)" in fresh.out
    assert "dry run: would transfer 4 files, 272 bytes" in fresh.out

    assert mirror_run(mirror_tool, *args).status == 0
    (mirror_small_remote / "a.txt").write_text("alpha, longer\n", encoding="utf-8")
    (mirror_small_remote / "sub" / "c.txt").unlink()
    (local / "local only").mkdir()
    before = {p: (p.stat().st_mtime_ns, p.read_bytes() if p.is_file() else None)
              for p in local.rglob("*")}  # fmt: skip

    planned = mirror_run(mirror_tool, "--dry-run", "-r", *args)

    assert planned.status == 0, planned.err
    assert "would get a.txt (14 bytes)" in planned.out
    assert "would delete sub/c.txt" in planned.out
    assert "would delete local only" in planned.out
    after = {p: (p.stat().st_mtime_ns, p.read_bytes() if p.is_file() else None)
             for p in local.rglob("*")}  # fmt: skip
    assert after == before


# --------------------------------------------------------------------------
# Interruptions
# --------------------------------------------------------------------------


def test_mirror_interrupted_run_leaves_no_partial_under_a_final_name_and_continue_resumes(
    mirror_tool: ModuleType,
    mirror_server: MirrorServer,
    mirror_medium_remote: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    local = tmp_path / "local"
    args = [*mirror_login(mirror_server), mirror_medium_remote.name, local]
    received = 0
    advance = mirror_tool.Report.advance

    def interrupt_after_a_mebibyte(self: object, nbytes: int) -> None:
        nonlocal received
        received += nbytes
        advance(self, nbytes)
        if received > 1 << 20:
            raise KeyboardInterrupt

    monkeypatch.setattr(mirror_tool.Report, "advance", interrupt_after_a_mebibyte)
    interrupted = mirror_run(mirror_tool, *args)
    monkeypatch.undo()

    assert interrupted.status == 130
    assert "interrupted" in interrupted.err
    parts = mirror_parts(local)
    assert [p.name for p in parts] == [".big-0.bin.ftpmirror-part"]
    assert 0 < parts[0].stat().st_size < MIRROR_BIG_SIZE
    assert not (local / "big" / "big-0.bin").exists()
    remote = mirror_snapshot(mirror_medium_remote)
    for rel, digest in mirror_snapshot(local).items():  # whatever is there under its name is whole
        if not rel.endswith(".ftpmirror-part"):
            assert remote[rel] == digest, rel
    partial_size = parts[0].stat().st_size
    start = len(mirror_server.commands)

    resumed = mirror_run(mirror_tool, "--continue", *args)

    assert resumed.status == 0, resumed.err
    assert mirror_snapshot(local) == remote
    assert f"REST {partial_size}" in mirror_server.commands_since(start)
    total = sum((mirror_medium_remote / rel).stat().st_size for rel in mirror_files_of(remote))
    already = sum((local / rel).stat().st_size for rel in ["README.txt"])
    assert resumed.summary["bytes"] == total - partial_size - already


def test_mirror_killed_subprocess_is_finished_by_a_run_with_continue(
    mirror_slow_server: MirrorServer,
    mirror_ftp_root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    remote = Path(tempfile.mkdtemp(prefix="k-", dir=mirror_ftp_root))
    (remote / "a.txt").write_text("first\n", encoding="utf-8")
    (remote / "big").mkdir()
    (remote / "big" / "big.bin").write_bytes(os.urandom(MIRROR_BIG_SIZE))
    local = tmp_path / "local"
    part = local / "big" / ".big.bin.ftpmirror-part"
    argv = [*mirror_login(mirror_slow_server), remote.name, local]
    process = subprocess.Popen(
        mirror_command(*argv),
        env=mirror_env(tmp_path),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + MIRROR_TIMEOUT
        while not (part.exists() and part.stat().st_size >= 64 << 10):
            assert process.poll() is None, "ftpmirror ended before it could be killed"
            assert time.monotonic() < deadline, "no partial file appeared"
            time.sleep(0.01)
    finally:
        process.kill()
        process.wait()

    assert not (local / "big" / "big.bin").exists()
    assert part.stat().st_size < MIRROR_BIG_SIZE
    start = len(mirror_slow_server.commands)
    monkeypatch.setattr(mirror_slow_server.handler.dtp_handler, "write_limit", 0)

    finished = mirror_subprocess(tmp_path, "--continue", *argv)

    assert finished.status == 0, finished.err
    assert mirror_snapshot(local) == mirror_snapshot(remote)
    rests = [c for c in mirror_slow_server.commands_since(start) if c.startswith("REST ")]
    assert rests and int(rests[0].split()[1]) >= 64 << 10


# --------------------------------------------------------------------------
# --reverse
# --------------------------------------------------------------------------


def test_mirror_reverse_uploads_a_tree_that_mirrors_back_identical(
    mirror_tool: ModuleType,
    mirror_server: MirrorServer,
    mirror_template: Path,
    mirror_ftp_root: Path,
    tmp_path: Path,
) -> None:
    source = tmp_path / "source"
    # Without its many small files (see mirror_medium_remote); the link becomes a file.
    shutil.copytree(mirror_template, source, ignore=shutil.ignore_patterns("many"))
    remote_name = Path(tempfile.mkdtemp(prefix="u-", dir=mirror_ftp_root)).name + "/site"
    login = mirror_login(mirror_server)

    planned = mirror_run(mirror_tool, "--reverse", "--dry-run", *login, remote_name, source)

    assert planned.status == 0, planned.err
    assert "would put big/big-0.bin (2097152 bytes)" in planned.out
    assert not (mirror_ftp_root / remote_name).exists()

    uploaded = mirror_run(mirror_tool, "--reverse", "--parallel", 2, *login, remote_name, source)

    assert uploaded.status == 0, uploaded.err
    remote = mirror_ftp_root / remote_name
    assert mirror_snapshot(remote) == mirror_snapshot(source)
    assert not mirror_parts(remote)
    assert (remote / "big" / "big-2.bin").stat().st_mtime == (
        source / "big" / "big-2.bin"
    ).stat().st_mtime

    again = mirror_run(mirror_tool, "--reverse", *login, remote_name, source)
    assert again.status == 0, again.err
    assert again.summary["files"] == 0

    (source / "deep" / "a" / "b" / "c" / "d" / "leaf.txt").unlink()
    (source / "README.txt").write_text("changed\n", encoding="utf-8")
    synced = mirror_run(mirror_tool, "--reverse", "-r", *login, remote_name, source)
    assert synced.status == 0, synced.err
    assert (synced.summary["files"], synced.summary["deleted"]) == (1, 1)

    back = tmp_path / "back"
    returned = mirror_run(mirror_tool, *login, remote_name, back)
    assert returned.status == 0, returned.err
    assert mirror_snapshot(back) == mirror_snapshot(source)


# --------------------------------------------------------------------------
# Safety
# --------------------------------------------------------------------------


def test_mirror_refuses_hostile_names_from_scandir_and_writes_nothing_outside(
    mirror_tool: ModuleType,
    mirror_server: MirrorServer,
    mirror_small_remote: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    local = tmp_path / "inside" / "local"
    local.parent.mkdir()
    real_scandir = ftplib2.FTP.scandir
    when = ftplib2.parse_mlsx_line("type=file;modify=20200101000000; x").modify
    hostile = ["../evil", "/abs", "a\x00b", "x\ny", "..", ".", "", "sub/../../up"]

    def scandir_with_hostile_names(ftp: ftplib2.FTP, path: str = "") -> list[ftplib2.Entry]:
        entries = real_scandir(ftp, path)
        if not path and ftp.pwd() == f"/{mirror_small_remote.name}":  # listed where it is
            entries += [ftplib2.Entry(name, "file", 3, when) for name in hostile]
            entries += [ftplib2.Entry("evil-dir/..", "dir")]
            entries += [ftplib2.Entry("a.txt", "file", 6, when)]  # a second a.txt
            entries += [ftplib2.Entry("out", "link", target="/etc/passwd")]
            entries += [ftplib2.Entry("up", "link", target="../../etc")]
            entries += [ftplib2.Entry("in", "link", target="sub/c.txt")]
        return entries

    monkeypatch.setattr(ftplib2.FTP, "scandir", scandir_with_hostile_names)
    result = mirror_run(mirror_tool, *mirror_login(mirror_server), mirror_small_remote.name, local)

    assert result.status == 1
    assert mirror_listing_of(tmp_path) == ["inside"]
    assert mirror_listing_of(tmp_path / "inside") == ["local"]
    assert mirror_listing_of(local) == [MIRROR_MANIFEST, "b.o", "sub"]  # a.txt is ambiguous
    assert (local / "sub" / "c.txt").read_text(encoding="utf-8") == "gamma\n"
    refusals = [line for line in result.error_lines if "refused" in line]
    assert len(refusals) == len(hostile) + 1 + 2 + 2  # names, evil-dir/.., a.txt twice, 2 links
    assert result.summary["errors"] == len(result.error_lines)
    assert "refused x\\x0ay: contains a control character" in result.err
    assert "refused out: symbolic link to /etc/passwd points outside the mirror" in result.err
    assert "skip in: symbolic link to sub/c.txt, not followed" in result.out
    assert all("\n" not in line and "\x00" not in line for line in result.err.splitlines())


def test_mirror_refuses_hostile_names_on_the_wire_with_a_nonzero_exit(
    mirror_hostile_server: MirrorServer, tmp_path: Path
) -> None:
    local = tmp_path / "mirror" / "local"

    result = mirror_subprocess(tmp_path, *mirror_login(mirror_hostile_server), "", local)

    assert result.status == 1
    assert mirror_listing_of(tmp_path / "mirror") == ["local"]
    assert mirror_listing_of(local) == [MIRROR_MANIFEST, "ok.txt"]
    assert (local / "ok.txt").read_bytes() == b"ok\n"
    assert len(result.error_lines) == 8  # dup is refused twice
    for name in ["../evil", "/abs", "a\\x00b", "tab\\x09here", "dup", "passwd", "up"]:
        assert f"refused {name}:" in result.err
    assert "skip inside: symbolic link to ok.txt, not followed" in result.out


def test_mirror_never_writes_through_a_local_symlink(
    mirror_tool: ModuleType, mirror_server: MirrorServer, mirror_small_remote: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    local = tmp_path / "local"
    local.mkdir()
    (local / "sub").symlink_to(outside)
    args = [*mirror_login(mirror_server), mirror_small_remote.name, local]

    refused = mirror_run(mirror_tool, *args)

    assert refused.status == 1
    assert "sub: a local link is in the way (-r replaces it)" in refused.err
    assert mirror_listing_of(outside) == []

    replaced = mirror_run(mirror_tool, "-r", *args)

    assert replaced.status == 0, replaced.err
    assert mirror_listing_of(outside) == []
    assert not (local / "sub").is_symlink()
    assert mirror_snapshot(local) == mirror_snapshot(mirror_small_remote)


def test_mirror_skips_directory_links_that_loop_back(
    mirror_tool: ModuleType, mirror_server: MirrorServer, mirror_small_remote: Path, tmp_path: Path
) -> None:
    # pyftpdlib's MLSD follows links; the LIST of the same directory shows them.
    os.symlink(".", mirror_small_remote / "sub" / "loop")
    os.symlink("..", mirror_small_remote / "sub" / "up")
    local = tmp_path / "local"

    result = mirror_run(mirror_tool, *mirror_login(mirror_server), mirror_small_remote.name, local)

    assert result.status == 0, result.err
    assert "skip sub/loop: symbolic link to ., not followed" in result.out
    assert "skip sub/up: symbolic link to .., not followed" in result.out
    expected = mirror_snapshot(mirror_small_remote)
    del expected["sub/loop/"], expected["sub/up/"]
    assert mirror_snapshot(local) == expected


def test_mirror_reports_a_refused_download_once_and_leaves_no_empty_partial(
    mirror_tool: ModuleType, mirror_server: MirrorServer, mirror_small_remote: Path, tmp_path: Path
) -> None:
    # pyftpdlib lists a link out of its root as a file, then refuses to send it.
    os.symlink("/etc/hostname", mirror_small_remote / "escape")
    local = tmp_path / "local"

    result = mirror_run(mirror_tool, *mirror_login(mirror_server), mirror_small_remote.name, local)

    assert result.status == 1
    assert len(result.error_lines) == 1
    assert result.error_lines[0].startswith("ftpmirror: error: get escape: 550 ")
    assert not mirror_parts(local)
    assert result.summary["files"] == 4


class MirrorFakeBar:
    """Stands in for tqdm.tqdm: records what a progress bar would show."""

    bars: ClassVar[list[MirrorFakeBar]] = []

    def __init__(self, total: int, **options: object) -> None:
        self.total, self.shown, self.closed = total, 0, False
        self.bars.append(self)

    def update(self, nbytes: int) -> None:
        self.shown += nbytes

    def close(self) -> None:
        self.closed = True

    @staticmethod
    def write(text: str, file: io.TextIOBase) -> None:
        print(text, file=file)


class MirrorTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_mirror_shows_a_progress_bar_on_a_terminal_when_tqdm_is_there(
    mirror_tool: ModuleType,
    mirror_server: MirrorServer,
    mirror_small_remote: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(mirror_tool, "tqdm", MirrorFakeBar)
    MirrorFakeBar.bars.clear()

    result = mirror_run(
        mirror_tool, *mirror_login(mirror_server), mirror_small_remote.name, tmp_path / "local",
        stdout=MirrorTerminal(),
    )  # fmt: skip

    assert result.status == 0, result.err
    [bar] = MirrorFakeBar.bars
    assert (bar.total, bar.shown, bar.closed) == (272, 272, True)
    assert "get " not in result.out  # the bar replaces the lines
    assert result.summary["files"] == 4


# --------------------------------------------------------------------------
# Listings without MLSD: LIST and -m (NLST)
# --------------------------------------------------------------------------


def test_mirror_from_a_list_only_server_skips_symlinks_and_detects_changes(
    mirror_tool: ModuleType,
    mirror_list_server: MirrorServer,
    mirror_medium_remote: Path,
    tmp_path: Path,
) -> None:
    os.symlink("/etc/passwd", mirror_medium_remote / "escape")
    local = tmp_path / "local"
    args = [*mirror_login(mirror_list_server), mirror_medium_remote.name, local]

    first = mirror_run(mirror_tool, *args)

    assert first.status == 1  # the link out of the tree
    assert first.error_lines == [
        "ftpmirror: error: refused escape: symbolic link to /etc/passwd points outside the mirror"
    ]
    assert "skip link-to-readme.txt: symbolic link to README.txt, not followed" in first.out
    expected = mirror_snapshot(mirror_medium_remote)
    del expected["escape"], expected["link-to-readme.txt"]
    assert mirror_snapshot(local) == expected

    (mirror_medium_remote / "escape").unlink()
    second = mirror_run(mirror_tool, *args)

    assert second.status == 0, second.err
    assert second.summary["files"] == 0
    assert second.summary["skipped"] == 1


def test_mirror_m_lists_bare_names_with_nlst_and_skips_object_files(
    mirror_tool: ModuleType,
    mirror_bare_server: MirrorServer,
    mirror_small_remote: Path,
    tmp_path: Path,
) -> None:
    local = tmp_path / "local"
    start = len(mirror_bare_server.commands)

    result = mirror_run(
        mirror_tool, "-m", *mirror_login(mirror_bare_server), mirror_small_remote.name, local
    )

    assert result.status == 0, result.err
    expected = mirror_snapshot(mirror_small_remote)
    del expected["b.o"]
    assert mirror_snapshot(local) == expected
    commands = mirror_bare_server.commands_since(start)
    assert any(c.startswith("NLST") for c in commands)
    assert not any(c.startswith(("MLSD", "LIST")) for c in commands)
    again = mirror_run(
        mirror_tool, "-m", *mirror_login(mirror_bare_server), mirror_small_remote.name, local
    )
    assert again.summary["files"] == 0


# --------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------


def test_mirror_include_and_exclude_select_what_is_mirrored(
    mirror_tool: ModuleType, mirror_server: MirrorServer, mirror_medium_remote: Path, tmp_path: Path
) -> None:
    local = tmp_path / "local"

    result = mirror_run(
        mirror_tool, "--include", "*.txt", "--exclude", "big", "-s", "deep/a/b",
        *mirror_login(mirror_server), mirror_medium_remote.name, local,
    )  # fmt: skip

    assert result.status == 0, result.err
    files = sorted(mirror_files_of(mirror_snapshot(local)))
    assert files == [
        "README.txt", "link-to-readme.txt", "non-ascii ünïcødé/café ☕.txt",
        "non-ascii ünïcødé/日本語.txt", "with space/file with space.txt",
    ]  # fmt: skip
    assert not (local / "big").exists()
    assert (local / "empty").is_dir()
    assert not (local / "deep" / "a" / "b").exists()


def test_mirror_only_newer_keeps_a_local_copy_edited_since(
    mirror_tool: ModuleType, mirror_server: MirrorServer, mirror_small_remote: Path, tmp_path: Path
) -> None:
    local = tmp_path / "local"
    args = [*mirror_login(mirror_server), mirror_small_remote.name, local]
    assert mirror_run(mirror_tool, *args).status == 0
    (local / "a.txt").write_text("edited here\n", encoding="utf-8")

    kept = mirror_run(mirror_tool, "--only-newer", *args)

    assert kept.status == 0, kept.err
    assert (local / "a.txt").read_text(encoding="utf-8") == "edited here\n"
    assert kept.summary["skipped"] == 1

    replaced = mirror_run(mirror_tool, *args)
    assert replaced.summary["files"] == 1
    assert (local / "a.txt").read_text(encoding="utf-8") == "alpha\n"


def test_mirror_interactive_asks_before_new_directories_and_files(
    mirror_tool: ModuleType, mirror_server: MirrorServer, mirror_small_remote: Path, tmp_path: Path
) -> None:
    local = tmp_path / "local"
    # Sorted walk: a.txt, b.o, then directory sub (declined, so nothing below it is asked).
    answers = "y\nmaybe\nn\nn\n"

    result = mirror_run(
        mirror_tool, "-i", *mirror_login(mirror_server), mirror_small_remote.name, local,
        stdin=answers,
    )  # fmt: skip

    assert result.status == 0, result.err
    assert mirror_listing_of(local) == [MIRROR_MANIFEST, "a.txt"]
    assert result.out.count("[yn]") == 4
    assert "Please answer y or n." in result.out
    assert result.summary["skipped"] == 2


def test_mirror_over_tls_verifies_the_server_with_cafile(
    mirror_tool: ModuleType,
    mirror_tls_server: MirrorServer,
    mirror_small_remote: Path,
    mirror_ca: trustme.CA,
    tmp_path: Path,
) -> None:
    ca_file = tmp_path / "ca.pem"
    mirror_ca.cert_pem.write_to_path(str(ca_file))
    local = tmp_path / "local"
    start = len(mirror_tls_server.commands)

    result = mirror_run(
        mirror_tool, "--tls", "--cafile", ca_file, "--parallel", 2,
        *mirror_login(mirror_tls_server), mirror_small_remote.name, local,
    )  # fmt: skip

    assert result.status == 0, result.err
    assert mirror_snapshot(local) == mirror_snapshot(mirror_small_remote)
    commands = mirror_tls_server.commands_since(start)
    assert commands[0] == "AUTH TLS" and "PROT P" in commands

    unverified = mirror_run(
        mirror_tool, "--tls", *mirror_login(mirror_tls_server), mirror_small_remote.name, local
    )
    assert unverified.status == 1
    assert len(unverified.error_lines) == 1
    assert "CERTIFICATE_VERIFY_FAILED" in unverified.err

    insecure = mirror_run(
        mirror_tool, "--tls", "--insecure",
        *mirror_login(mirror_tls_server), mirror_small_remote.name, local,
    )  # fmt: skip
    assert insecure.status == 0, insecure.err


def test_mirror_takes_an_ftp_url_with_escaped_credentials_and_path(
    mirror_tool: ModuleType, mirror_server: MirrorServer, mirror_small_remote: Path, tmp_path: Path
) -> None:
    spaced = mirror_small_remote / "dir with space"
    spaced.mkdir()
    (spaced / "x.txt").write_text("x\n", encoding="utf-8")
    password = "s3cr%40t%3A%2Fx"
    url = f"ftp://{MIRROR_USER}:{password}@{mirror_server.address}/{mirror_small_remote.name}/dir%20with%20space"
    local = tmp_path / "local"

    result = mirror_run(mirror_tool, url, local)

    assert result.status == 0, result.err
    assert mirror_snapshot(local) == {"x.txt": hashlib.sha256(b"x\n").hexdigest()}


def test_mirror_reads_credentials_from_netrc_else_logs_in_anonymously(
    mirror_tool: ModuleType,
    mirror_server: MirrorServer,
    mirror_small_remote: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    start = len(mirror_server.commands)

    anonymous = mirror_run(
        mirror_tool, mirror_server.address, mirror_small_remote.name, tmp_path / "a"
    )

    assert anonymous.status == 0, anonymous.err
    assert "USER anonymous" in mirror_server.commands_since(start)

    netrc_file = home / ".netrc"
    netrc_file.write_text(
        f"machine 127.0.0.1 login {MIRROR_USER} password {MIRROR_PASSWORD}\n", encoding="utf-8"
    )
    netrc_file.chmod(0o600)
    start = len(mirror_server.commands)

    named = mirror_run(mirror_tool, mirror_server.address, mirror_small_remote.name, tmp_path / "n")

    assert named.status == 0, named.err
    assert f"USER {MIRROR_USER}" in mirror_server.commands_since(start)


def test_mirror_n_sends_no_login(
    mirror_tool: ModuleType, mirror_server: MirrorServer, mirror_small_remote: Path, tmp_path: Path
) -> None:
    start = len(mirror_server.commands)

    result = mirror_run(
        mirror_tool, "-n", mirror_server.address, mirror_small_remote.name, tmp_path
    )

    assert result.status == 1  # pyftpdlib wants a login before anything else
    assert not any(c.startswith(("USER", "PASS")) for c in mirror_server.commands_since(start))
    assert len(result.error_lines) == 1 and "cannot list" in result.err


def test_mirror_parses_hosts_ports_and_urls(mirror_tool: ModuleType) -> None:
    split = mirror_tool.split_host_port
    assert split("ftp.example.org") == ("ftp.example.org", None)
    assert split("ftp.example.org:2121") == ("ftp.example.org", 2121)
    assert split("[::1]:21") == ("::1", 21)
    assert split("::1") == ("::1", None)
    site = mirror_tool.site_from_url("ftps://u%20v:p%3Aw@host.example/%2Fpub/a%20b;type=i")
    assert (site.host, site.port, site.tls) == ("host.example", 21, "explicit")
    assert (site.user, site.passwd, site.remotedir) == ("u v", "p:w", "/pub/a b")
    assert mirror_tool.site_from_url("ftp://host/pub").remotedir == "pub"
    with pytest.raises(mirror_tool.UsageError):
        mirror_tool.site_from_url("http://host/")
    with pytest.raises(mirror_tool.UsageError):
        split("host:99999")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-p", "pw", "host"], "-p needs -l"),
        (["--tls", "--insecure", "--cafile", "x.pem", "host"], "contradict"),
        (["ftp://host/dir", "local", "extra"], "at most one directory"),
        (["ftp://host/a%0Ab"], "control character in the remote directory"),
    ],
)
def test_mirror_usage_errors_exit_2_with_one_line(
    tmp_path: Path, argv: list[str], message: str
) -> None:
    result = mirror_subprocess(tmp_path, *argv)

    assert result.status == 2
    assert result.err.count("\n") == 1 and message in result.err


def test_mirror_unreachable_server_exits_1_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]

    result = mirror_subprocess(tmp_path, "--timeout", 5, f"127.0.0.1:{port}", "", tmp_path / "l")

    assert result.status == 1
    assert result.err.count("\n") == 1 and "Connection refused" in result.err
    assert not (tmp_path / "l").exists()


def test_mirror_help_is_the_manual(tmp_path: Path) -> None:
    result = mirror_subprocess(tmp_path, "--help")

    assert result.status == 0
    assert result.out.startswith("usage: ftpmirror [-v] [-q] [-i] [-m] [-n] [-r] [-s pat]")
    options = ["--parallel", "--continue", "--only-newer", "--dry-run", "--reverse", "--tls"]
    for option in [*options, "--pipelining"]:
        assert option in result.out
    assert "Exit status" in result.out


# ==================================================================================================
# Interoperability: the same scenarios against pyftpdlib and vsftpd
# ==================================================================================================


VSFTPD_USER = "ftplib2"
VSFTPD_PASSWORD = "ftplib2-interop"
VSFTPD_HOME = "/var/lib/ftplib2-interop"


def _vsftpd_unavailable() -> str | None:
    if shutil.which("vsftpd") is None:
        return "vsftpd is not installed (apt-get install vsftpd)"
    if os.geteuid() != 0:
        return "starting vsftpd with a local user needs root"
    return None


def _ensure_vsftpd_user() -> None:
    import pwd

    try:
        pwd.getpwnam(VSFTPD_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "-M", "-d", VSFTPD_HOME, "-s", "/bin/sh", VSFTPD_USER], check=True
        )
    subprocess.run(["usermod", "-d", VSFTPD_HOME, VSFTPD_USER], check=True)
    os.makedirs(VSFTPD_HOME, mode=0o755, exist_ok=True)
    shutil.chown(VSFTPD_HOME, VSFTPD_USER)
    subprocess.run(["chpasswd"], input=f"{VSFTPD_USER}:{VSFTPD_PASSWORD}\n", text=True, check=True)
    # PAM's vsftpd service refuses users whose shell is not in /etc/shells.
    with open("/etc/shells") as shells:
        if "/bin/sh" not in shells.read().split():
            raise RuntimeError("/bin/sh missing from /etc/shells")


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return sock.getsockname()[1]


def _vsftpd_passive_ports(count: int = 200) -> range:
    """A window of passive ports outside the kernel's ephemeral range, chosen at random.

    Inside that range, the client sockets of this and other processes can hold a port that
    vsftpd wants, and vsftpd then ends the session with '500 OOPS: vsf_sysutil_bind'. At
    random, so that the vsftpd processes of test runs side by side rarely share a window.
    """
    ports = hostile_ports_outside_the_ephemeral_range(4000)
    start = random.SystemRandom().randrange(ports.start, ports.stop - count)
    return range(start, start + count)


class VsftpdServer:
    """One vsftpd process on loopback with a private configuration."""

    def __init__(self, workdir: pathlib.Path, certfile: str, *, implicit: bool = False) -> None:
        self.host = "127.0.0.1"
        self.port = _free_port()
        # Not under pytest's temporary directory, which the FTP user cannot enter:
        # vsftpd would then silently stay in the user's home.
        self.root = pathlib.Path(tempfile.mkdtemp(prefix="root-", dir=VSFTPD_HOME))
        self.root.chmod(0o755)
        shutil.chown(self.root, VSFTPD_USER)
        empty = workdir / "empty"
        empty.mkdir()
        pasv = _vsftpd_passive_ports()
        config = workdir / "vsftpd.conf"
        config.write_text(
            "\n".join(
                [
                    "listen=YES",
                    "listen_ipv6=NO",
                    f"listen_address={self.host}",
                    f"listen_port={self.port}",
                    "background=NO",
                    "anonymous_enable=NO",
                    "local_enable=YES",
                    "write_enable=YES",
                    "local_umask=022",
                    f"local_root={self.root}",
                    "chroot_local_user=NO",
                    "pam_service_name=vsftpd",
                    f"secure_chroot_dir={empty}",
                    "seccomp_sandbox=NO",
                    "pasv_enable=YES",
                    f"pasv_min_port={pasv.start}",
                    f"pasv_max_port={pasv.stop - 1}",
                    "port_enable=YES",
                    "ssl_enable=YES",
                    f"implicit_ssl={'YES' if implicit else 'NO'}",
                    f"rsa_cert_file={certfile}",
                    f"rsa_private_key_file={certfile}",
                    "force_local_data_ssl=NO",
                    "force_local_logins_ssl=NO",
                    "require_ssl_reuse=YES",
                    "ssl_ciphers=HIGH",
                    "xferlog_enable=NO",
                    "",
                ]
            )
        )
        self.log = open(workdir / "vsftpd.out", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            ["vsftpd", str(config)], stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection((self.host, self.port), timeout=1):
                    break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError((workdir / "vsftpd.out").read_text()) from None
                time.sleep(0.05)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self.log.close()
        shutil.rmtree(self.root, ignore_errors=True)


class RecordingFTP(ftplib2.FTP):
    """An FTP client that remembers every line it sends."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.sent: list[str] = []
        super().__init__(*args, **kwargs)

    def putline(self, line: str) -> None:
        self.sent.append(line)
        super().putline(line)


@dataclasses.dataclass(frozen=True)
class InteropTarget:
    """A server of the interoperability matrix, as a client sees it."""

    name: str
    host: str
    port: int
    tls_port: int
    user: str
    passwd: str
    context: ssl.SSLContext

    def connect(self, *, passive: bool = True) -> RecordingFTP:
        ftp = RecordingFTP(timeout=TIMEOUT)
        ftp.connect(self.host, self.port)
        try:
            ftp.login(self.user, self.passwd)
            ftp.set_pasv(passive)
        except BaseException:
            ftp.close()
            raise
        return ftp

    def connect_tls(self, context: ssl.SSLContext | None = None) -> ftplib2.FTP_TLS:
        return ftplib2.FTP_TLS.secure(
            self.host, self.user, self.passwd,
            port=self.tls_port, context=context or self.context, timeout=TIMEOUT,
        )  # fmt: skip


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


# ==================================================================================================
# Modern FTP: capabilities, typed listings, helpers, transfers
# ==================================================================================================


def proto_cmds_without(*names: str) -> dict[str, dict]:
    """The test servers' commands less `names`: pyftpdlib answers those with 500."""
    commands = {**FTPHandler.proto_cmds, **_TestServerBehaviour.extra_commands}
    return {name: spec for name, spec in commands.items() if name not in names}


def utc(*args: int) -> datetime.datetime:
    """An aware UTC datetime: what ftplib2 returns for every time it parses."""
    return datetime.datetime(*args, tzinfo=datetime.UTC)


def verbs_of(server: LiveServer, ftp: ftplib2.FTP) -> list[str]:
    """The command verbs (upper case, no arguments) `server` has received from `ftp`."""
    return [line.split(" ")[0].upper() for line in server.commands_of(ftp)]


def canned_listing(lines: list[str]) -> Callable[[FTPHandler, str], None]:
    """A handler method that answers a listing command with exactly `lines`, whatever the path."""
    payload = "".join(line + "\r\n" for line in lines).encode("utf-8")

    def send(handler: FTPHandler, path: str) -> None:
        handler.push_dtp_data(payload, cmd="LIST")

    return send


@pytest.fixture(scope="session")
def no_feat_server(ftp_root: Path, authorizer: DummyAuthorizer) -> Iterator[LiveServer]:
    """A server from before RFC 2389: it answers FEAT with 500, so clients fall back to LIST."""
    with running_server(
        ("127.0.0.1", 0), ftp_root, authorizer, proto_cmds=proto_cmds_without("FEAT")
    ) as live:
        yield live


@pytest.fixture(scope="session")
def no_rest_server(ftp_root: Path, authorizer: DummyAuthorizer) -> Iterator[LiveServer]:
    """A server without REST: FEAT lists no REST STREAM and the command itself gets a 500."""
    with running_server(
        ("127.0.0.1", 0), ftp_root, authorizer, proto_cmds=proto_cmds_without("REST")
    ) as live:
        yield live


@pytest.fixture(scope="session")
def raw_names_server(ftp_root: Path, authorizer: DummyAuthorizer) -> Iterator[LiveServer]:
    """A server that passes file names through as bytes, valid UTF-8 or not, as Unix servers do."""
    with running_server(
        ("127.0.0.1", 0), ftp_root, authorizer, unicode_errors="surrogateescape"
    ) as live:
        yield live


# --------------------------------------------------------------------------
# Capabilities: FEAT
# --------------------------------------------------------------------------


def test_features_sends_feat_once_per_login_and_again_after_a_new_login(
    ftp: ftplib2.FTP, server: LiveServer
) -> None:
    first = ftp.features()
    assert ftp.features() == first
    assert ftp.features() == first
    assert ftp.has_feature("MLST")
    assert verbs_of(server, ftp).count("FEAT") == 1
    ftp.login(USER, PASSWORD)
    assert ftp.features() == first
    assert ftp.features() == first
    assert verbs_of(server, ftp).count("FEAT") == 2


def test_features_parses_feature_names_and_their_parameters(ftp: ftplib2.FTP) -> None:
    features = ftp.features()
    assert features["REST"] == "STREAM"
    assert {"type*", "size*", "modify*", "perm*", "unique*"} <= set(features["MLST"].split(";"))
    assert features["UTF8"] == ""
    assert features["MFMT"] == ""
    assert all(name == name.upper() and " " not in name for name in features)


@pytest.mark.parametrize("name", ["MLST", "mlst", "Mlst", "rest", "Utf8"])
def test_has_feature_ignores_case(ftp: ftplib2.FTP, name: str) -> None:
    assert ftp.has_feature(name)


def test_has_feature_is_false_for_a_feature_the_server_does_not_list(ftp: ftplib2.FTP) -> None:
    assert not ftp.has_feature("XYZZY")
    assert not ftp.has_feature("")


def test_features_reads_any_case_and_keeps_parameters_as_sent(
    ftp_root: Path, authorizer: DummyAuthorizer, workdir: Path
) -> None:
    def ftp_FEAT(handler: FTPHandler, line: str) -> None:
        handler.push("211-Extensions supported:\r\n mdtm\r\n Mlst Type*;Size*;\r\n")
        handler.push(" rest STREAM\r\n LANG EN*;FR\r\n")
        handler.respond("211 END")

    with (
        running_server(("127.0.0.1", 0), ftp_root, authorizer, ftp_FEAT=ftp_FEAT) as live,
        open_session(live, workdir) as ftp,
    ):
        assert ftp.features() == {
            "MDTM": "",
            "MLST": "Type*;Size*;",
            "REST": "STREAM",
            "LANG": "EN*;FR",
        }
        assert ftp.has_feature("Mdtm")
        assert not ftp.has_feature("UTF8")
        assert "OPTS" not in verbs_of(live, ftp)


def test_features_sends_opts_utf8_on_once_when_the_server_offers_utf8(
    ftp: ftplib2.FTP, server: LiveServer
) -> None:
    for _ in range(3):
        assert "UTF8" in ftp.features()
    assert server.commands_of(ftp).count("OPTS UTF8 ON") == 1


def test_features_sends_no_opts_utf8_when_the_connection_is_not_utf8(
    server: LiveServer, workdir: Path
) -> None:
    with open_session(server, workdir, encoding="latin-1") as ftp:
        assert "UTF8" in ftp.features()
        assert "OPTS" not in verbs_of(server, ftp)


def test_features_of_a_server_without_feat_is_empty_and_asked_only_once(
    no_feat_server: LiveServer, workdir: Path
) -> None:
    with open_session(no_feat_server, workdir) as ftp:
        assert ftp.features() == {}
        assert ftp.features() == {}
        assert not ftp.has_feature("MLST")
        assert verbs_of(no_feat_server, ftp).count("FEAT") == 1
        assert ftp.voidcmd("NOOP").code == "200"


def test_scandir_on_a_server_without_feat_falls_back_to_list(
    no_feat_server: LiveServer, workdir: Path
) -> None:
    (workdir / "a.txt").write_bytes(b"hello")
    with open_session(no_feat_server, workdir) as ftp:
        entries = ftp.scandir()
        verbs = verbs_of(no_feat_server, ftp)
    assert [(e.name, e.type, e.size) for e in entries] == [("a.txt", "file", 5)]
    assert "LIST" in verbs
    assert "MLSD" not in verbs


# --------------------------------------------------------------------------
# Listing parsers, without sockets
# --------------------------------------------------------------------------

LISTING_NOW = utc(2024, 6, 15, 12, 0)
"""The `now` the LIST parser tests place year-less Unix dates against."""

UNIX_LIST_LINES = [
    pytest.param(
        "-rw-r--r--   1 owner    group        1234 Mar  5 14:07 notes.txt",
        ftplib2.Entry("notes.txt", "file", 1234, utc(2024, 3, 5, 14, 7), "rw-r--r--"),
        id="recent-date-takes-the-year-of-now",
    ),
    pytest.param(
        "-rw-r--r--   1 owner    group        1234 Jun 15 11:59 notes.txt",
        ftplib2.Entry("notes.txt", "file", 1234, utc(2024, 6, 15, 11, 59), "rw-r--r--"),
        id="a-minute-ago-is-this-year",
    ),
    pytest.param(
        "-rw-r--r--   1 owner    group        1234 Nov 20 09:30 notes.txt",
        ftplib2.Entry("notes.txt", "file", 1234, utc(2023, 11, 20, 9, 30), "rw-r--r--"),
        id="future-date-means-last-year",
    ),
    pytest.param(
        "drwxr-xr-x   2 owner    group        4096 Jan 15  2019 archive",
        ftplib2.Entry("archive", "dir", 4096, utc(2019, 1, 15), "rwxr-xr-x"),
        id="old-date-with-year",
    ),
    pytest.param(
        "-rw-r--r--   1 owner    group           5 Mar  5 14:07   two leading spaces",
        ftplib2.Entry("  two leading spaces", "file", 5, utc(2024, 3, 5, 14, 7), "rw-r--r--"),
        id="name-with-leading-spaces",
    ),
    pytest.param(
        "-rw-r--r--   1 owner    group           5 Mar  5 14:07 trailing spaces  ",
        ftplib2.Entry("trailing spaces  ", "file", 5, utc(2024, 3, 5, 14, 7), "rw-r--r--"),
        id="name-with-trailing-spaces",
    ),
    pytest.param(
        "-rw-r--r--   1 owner    group           5 Jan 15  2019 a   b  c",
        ftplib2.Entry("a   b  c", "file", 5, utc(2019, 1, 15), "rw-r--r--"),
        id="name-with-runs-of-spaces",
    ),
    pytest.param(
        "lrwxrwxrwx   1 owner    group           1 Mar  5 14:07 a -> b",
        ftplib2.Entry("a", "link", 1, utc(2024, 3, 5, 14, 7), "rwxrwxrwx", target="b"),
        id="symlink-with-target",
    ),
    pytest.param(
        "lrwxrwxrwx   1 owner    group          10 Mar  5 14:07 my link -> target dir",
        ftplib2.Entry(
            "my link", "link", 10, utc(2024, 3, 5, 14, 7), "rwxrwxrwx", target="target dir"
        ),
        id="symlink-names-with-spaces",
    ),
    pytest.param(
        "crw-rw-rw- 1 root root 1, 3 Jan 1 12:00 null",
        ftplib2.Entry("null", "other", None, utc(2024, 1, 1, 12, 0), "rw-rw-rw-"),
        id="device-file-has-no-size",
    ),
    pytest.param(
        "-rw-r--r-- 1 ftp 1234 Mar 5 14:07 file.txt",
        ftplib2.Entry("file.txt", "file", 1234, utc(2024, 3, 5, 14, 7), "rw-r--r--"),
        id="no-group-column",
    ),
    pytest.param(
        "drwxrwxrwx 0 user group 0 Jan 01 1970 name",
        ftplib2.Entry("name", "dir", 0, utc(1970, 1, 1), "rwxrwxrwx"),
        id="twisted-dtp",
    ),
    pytest.param(
        "-rw-r--r--   1 1000     1000         1234 Mar  5 14:07 notes.txt",
        ftplib2.Entry("notes.txt", "file", 1234, utc(2024, 3, 5, 14, 7), "rw-r--r--"),
        id="numeric-owner-and-group",
    ),
    pytest.param(
        "-rw-r--r--   1 owner    group        1234 Mar  5 14:07 Jan  1 12:00 old",
        ftplib2.Entry("Jan  1 12:00 old", "file", 1234, utc(2024, 3, 5, 14, 7), "rw-r--r--"),
        id="name-that-looks-like-a-date",
    ),
    pytest.param(
        "-rw-r--r--@  1 owner  staff  1234 Mar  5 14:07 mac.txt",
        ftplib2.Entry("mac.txt", "file", 1234, utc(2024, 3, 5, 14, 7), "rw-r--r--"),
        id="macos-extended-attributes-marker",
    ),
    pytest.param(
        "drwxr-xr-x+  2 owner  group  4096 Mar  5 14:07 acl",
        ftplib2.Entry("acl", "dir", 4096, utc(2024, 3, 5, 14, 7), "rwxr-xr-x"),
        id="acl-marker",
    ),
]

DOS_LIST_LINES = [
    pytest.param(
        "11-10-23  03:15PM       <DIR>          dir name",
        ftplib2.Entry("dir name", "dir", None, utc(2023, 11, 10, 15, 15)),
        id="directory-two-digit-year",
    ),
    pytest.param(
        "01-02-2024  11:05AM   1234 file.txt",
        ftplib2.Entry("file.txt", "file", 1234, utc(2024, 1, 2, 11, 5)),
        id="file-four-digit-year",
    ),
    pytest.param(
        "01-02-2024  12:30AM   1 after midnight.txt",
        ftplib2.Entry("after midnight.txt", "file", 1, utc(2024, 1, 2, 0, 30)),
        id="12AM-is-midnight",
    ),
    pytest.param(
        "01-02-2024  12:30PM   1 after noon.txt",
        ftplib2.Entry("after noon.txt", "file", 1, utc(2024, 1, 2, 12, 30)),
        id="12PM-is-noon",
    ),
]

EPLF_LIST_LINES = [
    pytest.param(
        "+i8388621.48594,m825718503,r,s280,\tdjb.html",
        ftplib2.Entry("djb.html", "file", 280, utc(1996, 3, 1, 22, 15, 3), unique="8388621.48594"),
        id="file",
    ),
    pytest.param(
        "+i8388621.50690,m824255907,/,\t514",
        ftplib2.Entry("514", "dir", None, utc(1996, 2, 13, 23, 58, 27), unique="8388621.50690"),
        id="directory",
    ),
]


@pytest.mark.parametrize(("line", "entry"), UNIX_LIST_LINES)
def test_parse_list_line_reads_unix_ls_lines(line: str, entry: ftplib2.Entry) -> None:
    parsed = ftplib2.parse_list_line(line, now=LISTING_NOW)
    assert parsed == entry
    assert parsed.raw == line


@pytest.mark.parametrize(("line", "entry"), DOS_LIST_LINES)
def test_parse_list_line_reads_ms_dos_and_iis_lines(line: str, entry: ftplib2.Entry) -> None:
    assert ftplib2.parse_list_line(line, now=LISTING_NOW) == entry


@pytest.mark.parametrize(("line", "entry"), EPLF_LIST_LINES)
def test_parse_list_line_reads_eplf_lines(line: str, entry: ftplib2.Entry) -> None:
    assert ftplib2.parse_list_line(line, now=LISTING_NOW) == entry


@pytest.mark.parametrize("line", ["total 42", "", "   "])
def test_parse_list_line_returns_none_for_lines_that_describe_no_entry(line: str) -> None:
    assert ftplib2.parse_list_line(line, now=LISTING_NOW) is None


@pytest.mark.parametrize(
    "line", ["this is not a listing line", "-rw-r--r-- 1 owner group lots Mar 5 14:07 x"]
)
def test_parse_list_line_raises_error_proto_naming_an_unrecognised_line(line: str) -> None:
    with pytest.raises(ftplib2.error_proto, match=re.escape(repr(line))):
        ftplib2.parse_list_line(line, now=LISTING_NOW)


MLSX_LINES = [
    pytest.param(
        "type=file;size=1024;modify=20240102030405;perm=adfrw;unique=801U5; report.pdf",
        ftplib2.Entry(
            "report.pdf", "file", 1024, utc(2024, 1, 2, 3, 4, 5), "adfrw", unique="801U5"
        ),
        id="all-common-facts",
    ),
    pytest.param(
        "type=file;perm=r;size=1024 report.pdf",
        ftplib2.Entry("report.pdf", "file", 1024, perm="r"),
        id="last-fact-kept-without-trailing-semicolon",
    ),
    pytest.param(
        "Type=File;SIZE=7;Modify=20240102030405; MixedCase.txt",
        ftplib2.Entry("MixedCase.txt", "file", 7, utc(2024, 1, 2, 3, 4, 5)),
        id="fact-names-and-type-ignore-case",
    ),
    pytest.param("type=cdir;perm=el; .", ftplib2.Entry(".", "dir", perm="el"), id="cdir-is-a-dir"),
    pytest.param("type=pdir; ..", ftplib2.Entry("..", "dir"), id="pdir-is-a-dir"),
    pytest.param("type=dir;sizd=4096; sub", ftplib2.Entry("sub", "dir", 4096), id="dir-sizd"),
    pytest.param(
        "type=OS.unix=slink:/srv/real;size=9; shortcut",
        ftplib2.Entry("shortcut", "link", 9, target="/srv/real"),
        id="unix-slink-with-target",
    ),
    pytest.param(
        "type=file;modify=20240102030405.25; precise",
        ftplib2.Entry("precise", "file", modify=utc(2024, 1, 2, 3, 4, 5, 250_000)),
        id="modify-with-fractional-seconds",
    ),
    pytest.param(
        "type=file;size=1;  two spaces  inside and after  ",
        ftplib2.Entry(" two spaces  inside and after  ", "file", 1),
        id="name-keeps-its-spaces",
    ),
    pytest.param(
        "type=OS.unix=chr-1/3; null", ftplib2.Entry("null", "other"), id="unknown-type-is-other"
    ),
]


@pytest.mark.parametrize(("line", "entry"), MLSX_LINES)
def test_parse_mlsx_line_reads_facts_and_name(line: str, entry: ftplib2.Entry) -> None:
    parsed = ftplib2.parse_mlsx_line(line)
    assert parsed == entry
    assert parsed.raw == line


def test_parse_mlsx_line_lower_cases_fact_names_but_keeps_their_values() -> None:
    entry = ftplib2.parse_mlsx_line("Type=File;UNIX.mode=0644;Unique=AbC; x")
    assert entry.facts == {"type": "File", "unix.mode": "0644", "unique": "AbC"}
    assert entry.unique == "AbC"


def test_parse_mlsx_line_times_are_aware_utc_datetimes() -> None:
    modify = ftplib2.parse_mlsx_line("type=file;modify=20240102030405.5; x").modify
    assert modify is not None
    assert modify.utcoffset() == datetime.timedelta(0)
    assert modify.timestamp() == utc(2024, 1, 2, 3, 4, 5).timestamp() + 0.5


@pytest.mark.parametrize(
    "modify",
    ["20240101240000", "20240230000000", "20241301000000", "20240101006000", "2024010100000x",
     "202401010000", "20240101000000.x", "２０２４0101000000"],
)  # fmt: skip
def test_parse_mlsx_line_impossible_times_are_none(modify: str) -> None:
    """Hour 24 too: RFC 3659 allows 00-23, though newer Pythons' fromisoformat take 24."""
    assert ftplib2.parse_mlsx_line(f"type=file;modify={modify}; x").modify is None


def test_parse_mlsx_line_without_a_name_separator_raises_error_proto() -> None:
    with pytest.raises(ftplib2.error_proto, match="type=file;size=1;"):
        ftplib2.parse_mlsx_line("type=file;size=1;")


def test_mlsd_keeps_the_last_fact_when_the_server_omits_the_trailing_semicolon(
    ftp_root: Path, authorizer: DummyAuthorizer, workdir: Path
) -> None:
    listing = canned_listing(["type=file;size=5 a.txt", "type=dir;Modify=20240102030405 sub"])
    with (
        running_server(("127.0.0.1", 0), ftp_root, authorizer, ftp_MLSD=listing) as live,
        open_session(live, workdir) as ftp,
    ):
        assert dict(ftp.mlsd()) == {
            "a.txt": {"type": "file", "size": "5"},
            "sub": {"type": "dir", "modify": "20240102030405"},
        }
        assert ftp.voidcmd("NOOP").code == "200"


# --------------------------------------------------------------------------
# scandir: typed listings over MLSD or LIST
# --------------------------------------------------------------------------


@pytest.fixture(params=["mlsd", "list"])
def listing_ftp(request: pytest.FixtureRequest, workdir: Path) -> Iterator[ftplib2.FTP]:
    """Like `ftp`, on the usual server (MLST, MLSD) then on one without FEAT (LIST)."""
    server = request.getfixturevalue("server" if request.param == "mlsd" else "no_feat_server")
    client = open_session(server, workdir)
    yield client
    client.close()


def make_listing_tree(workdir: Path) -> dict[str, tuple[str, int | None]]:
    """Fill `workdir` with odd names; return what scandir should report: name -> (type, size)."""
    (workdir / "a.txt").write_bytes(b"hello")
    (workdir / "sub").mkdir()
    (workdir / "sub" / "inner.txt").write_bytes(b"inside")
    (workdir / NON_ASCII_NAME).write_bytes(b"non-ascii")
    (workdir / "name with  spaces.txt").write_bytes(b"spaced out")
    return {
        "a.txt": ("file", 5),
        "sub": ("dir", None),
        NON_ASCII_NAME: ("file", 9),
        "name with  spaces.txt": ("file", 10),
    }


def test_scandir_over_mlsd_and_over_list_report_the_same_names_types_and_sizes(
    server: LiveServer, no_feat_server: LiveServer, workdir: Path
) -> None:
    expected = make_listing_tree(workdir)
    seen = {}
    for kind, live in (("MLSD", server), ("LIST", no_feat_server)):
        with open_session(live, workdir) as ftp:
            seen[kind] = {
                e.name: (e.type, e.size if e.type == "file" else None) for e in ftp.scandir()
            }
            assert kind in verbs_of(live, ftp)
    assert seen["MLSD"] == expected
    assert seen["LIST"] == expected


def test_scandir_entries_carry_modification_times_and_permissions(
    listing_ftp: ftplib2.FTP, workdir: Path
) -> None:
    when = datetime.datetime.now(datetime.UTC).replace(second=0, microsecond=0)
    when -= datetime.timedelta(hours=1)
    (workdir / "a.txt").write_bytes(b"hello")
    os.utime(workdir / "a.txt", (when.timestamp(), when.timestamp()))
    [entry] = listing_ftp.scandir()
    assert entry.modify == when
    assert entry.perm


@pytest.mark.parametrize(
    ("lister", "canned"),
    [
        pytest.param(
            "ftp_MLSD",
            [
                "type=cdir;modify=20240101000000; .",
                "type=pdir;modify=20240101000000; ..",
                "type=cdir;modify=20240101000000; /the/listed/dir",
                "type=file;size=3;modify=20240101000000; a.txt",
                "type=dir;modify=20240101000000; sub",
            ],
            id="mlsd",
        ),
        pytest.param(
            "ftp_LIST",
            [
                "total 8",
                "drwxr-xr-x 2 u g 4096 Jan 01  2024 .",
                "drwxr-xr-x 9 u g 4096 Jan 01  2024 ..",
                "-rw-r--r-- 1 u g    3 Jan 01  2024 a.txt",
                "drwxr-xr-x 2 u g 4096 Jan 01  2024 sub",
            ],
            id="list",
        ),
    ],
)
def test_scandir_never_returns_dot_or_dot_dot(
    ftp_root: Path, authorizer: DummyAuthorizer, workdir: Path, lister: str, canned: list[str]
) -> None:
    attributes: dict[str, object] = {lister: canned_listing(canned)}
    if lister == "ftp_LIST":
        attributes["proto_cmds"] = proto_cmds_without("FEAT")
    with (
        running_server(("127.0.0.1", 0), ftp_root, authorizer, **attributes) as live,
        open_session(live, workdir) as ftp,
    ):
        assert sorted((e.name, e.type) for e in ftp.scandir()) == [
            ("a.txt", "file"),
            ("sub", "dir"),
        ]
        assert sorted(ftp.listdir()) == ["a.txt", "sub"]


def test_surrogateescape_lists_a_non_utf8_name_and_downloads_it_by_that_name(
    raw_names_server: LiveServer, workdir: Path
) -> None:
    with open(os.path.join(os.fsencode(workdir), b"caf\xe9.txt"), "wb") as f:
        f.write(b"named in latin-1")
    with open_session(raw_names_server, workdir, errors="surrogateescape") as ftp:
        names = ftp.listdir()
        assert names == ["caf\udce9.txt"]
        received = io.BytesIO()
        assert ftp.download(names[0], received) == len(b"named in latin-1")
        assert received.getvalue() == b"named in latin-1"


def test_strict_errors_on_a_non_utf8_name_raise_an_error_proto_unicode_error_and_stay_in_step(
    raw_names_server: LiveServer, workdir: Path
) -> None:
    with open(os.path.join(os.fsencode(workdir), b"caf\xe9.txt"), "wb") as f:
        f.write(b"named in latin-1")
    with open_session(raw_names_server, workdir) as ftp:
        with pytest.raises(ftplib2.error_proto) as excinfo:
            ftp.listdir()
        assert isinstance(excinfo.value, UnicodeDecodeError)
        assert b"caf\xe9.txt" in excinfo.value.object
        assert ftp.voidcmd("NOOP").code == "200"
        assert ftp.pwd() == f"/{workdir.name}"


# --------------------------------------------------------------------------
# Path helpers: listdir, stat, exists, walk, makedirs, rmtree, times, rename
# --------------------------------------------------------------------------


def test_listdir_returns_the_names_of_a_directory(listing_ftp: ftplib2.FTP, workdir: Path) -> None:
    expected = make_listing_tree(workdir)
    assert sorted(listing_ftp.listdir()) == sorted(expected)
    assert listing_ftp.listdir("sub") == ["inner.txt"]


def test_stat_describes_a_file_and_a_directory(listing_ftp: ftplib2.FTP, workdir: Path) -> None:
    make_listing_tree(workdir)
    when = datetime.datetime.now(datetime.UTC).replace(second=0, microsecond=0)
    when -= datetime.timedelta(days=1)
    os.utime(workdir / "a.txt", (when.timestamp(), when.timestamp()))
    entry = listing_ftp.stat("a.txt")
    assert (entry.name, entry.type, entry.size, entry.modify) == ("a.txt", "file", 5, when)
    assert listing_ftp.stat("sub").type == "dir"
    assert listing_ftp.stat("sub").name == "sub"
    inner = listing_ftp.stat("sub/inner.txt")
    assert (inner.name, inner.type, inner.size) == ("inner.txt", "file", 6)
    spaced = listing_ftp.stat("name with  spaces.txt")
    assert (spaced.name, spaced.size) == ("name with  spaces.txt", 10)


@pytest.mark.parametrize("path", ["missing.txt", "sub/missing.txt", "nodir/missing.txt"])
def test_stat_of_a_missing_path_raises_error_perm_with_550(
    listing_ftp: ftplib2.FTP, workdir: Path, path: str
) -> None:
    (workdir / "sub").mkdir()
    with pytest.raises(ftplib2.error_perm) as excinfo:
        listing_ftp.stat(path)
    assert excinfo.value.code == "550"
    assert listing_ftp.voidcmd("NOOP").code == "200"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param("a.txt", (True, False, True), id="file"),
        pytest.param("sub", (True, True, False), id="directory"),
        pytest.param("missing", (False, False, False), id="missing"),
        pytest.param("sub/inner.txt", (True, False, True), id="file-in-subdirectory"),
    ],
)
def test_exists_isdir_and_isfile_tell_what_a_path_is(
    listing_ftp: ftplib2.FTP, workdir: Path, path: str, expected: tuple[bool, bool, bool]
) -> None:
    make_listing_tree(workdir)
    assert (listing_ftp.exists(path), listing_ftp.isdir(path), listing_ftp.isfile(path)) == expected


@pytest.mark.parametrize("path", ["/", ".", "..", "/WORKDIR", "/WORKDIR/sub"])
def test_isdir_is_true_for_the_root_the_working_directory_and_its_parent(
    listing_ftp: ftplib2.FTP, workdir: Path, path: str
) -> None:
    (workdir / "sub").mkdir()
    path = path.replace("WORKDIR", workdir.name)
    listing_ftp.cwd("sub")
    assert listing_ftp.exists(path)
    assert listing_ftp.isdir(path)
    assert not listing_ftp.isfile(path)


def test_makedirs_creates_a_new_top_level_directory_by_absolute_path(
    listing_ftp: ftplib2.FTP, ftp_root: Path, workdir: Path
) -> None:
    top = f"{workdir.name}-top"
    try:
        listing_ftp.makedirs(f"/{top}/a/b")
        assert (ftp_root / top / "a" / "b").is_dir()
    finally:
        shutil.rmtree(ftp_root / top, ignore_errors=True)


def make_walk_tree(top: Path) -> None:
    """top/{a.txt, d1/{b.txt, d11/{c.txt}}, d2/{e.txt}, empty/}."""
    (top / "d1" / "d11").mkdir(parents=True)
    (top / "d2").mkdir()
    (top / "empty").mkdir()
    (top / "a.txt").write_bytes(b"a")
    (top / "d1" / "b.txt").write_bytes(b"b")
    (top / "d1" / "d11" / "c.txt").write_bytes(b"c")
    (top / "d2" / "e.txt").write_bytes(b"e")


def test_walk_visits_the_tree_top_down(ftp: ftplib2.FTP, workdir: Path) -> None:
    make_walk_tree(workdir / "tree")
    visited = [
        (dirpath, sorted(dirnames), sorted(filenames))
        for dirpath, dirnames, filenames in ftp.walk("tree")
    ]
    assert sorted(visited) == [
        ("tree", ["d1", "d2", "empty"], ["a.txt"]),
        ("tree/d1", ["d11"], ["b.txt"]),
        ("tree/d1/d11", [], ["c.txt"]),
        ("tree/d2", [], ["e.txt"]),
        ("tree/empty", [], []),
    ]
    order = [dirpath for dirpath, _, _ in visited]
    assert order[0] == "tree"
    assert order.index("tree/d1") < order.index("tree/d1/d11")


def test_walk_without_a_top_starts_at_the_working_directory(
    ftp: ftplib2.FTP, workdir: Path
) -> None:
    make_walk_tree(workdir)
    first = next(iter(ftp.walk()))
    assert first[0] == f"/{workdir.name}"
    assert sorted(first[1]) == ["d1", "d2", "empty"]


def test_walk_does_not_descend_into_dirnames_removed_in_place(
    ftp: ftplib2.FTP, server: LiveServer, workdir: Path
) -> None:
    make_walk_tree(workdir / "tree")
    visited = []
    for dirpath, dirnames, _ in ftp.walk("tree"):
        visited.append(dirpath)
        if "d1" in dirnames:
            dirnames.remove("d1")
    assert sorted(visited) == ["tree", "tree/d2", "tree/empty"]
    assert not any("tree/d1" in line for line in server.commands_of(ftp))


def test_makedirs_creates_missing_parents(ftp: ftplib2.FTP, workdir: Path) -> None:
    (workdir / "a").mkdir()
    assert ftp.makedirs("a/b/c/d") is None
    assert (workdir / "a" / "b" / "c" / "d").is_dir()
    assert ftp.isdir("a/b/c/d")


def test_makedirs_of_an_existing_directory_passes_with_exist_ok_and_raises_error_perm_without(
    ftp: ftplib2.FTP, workdir: Path
) -> None:
    (workdir / "a" / "b").mkdir(parents=True)
    ftp.makedirs("a/b", exist_ok=True)
    with pytest.raises(ftplib2.error_perm) as excinfo:
        ftp.makedirs("a/b")
    assert excinfo.value.code == "550"
    with pytest.raises(ftplib2.error_perm):
        ftp.makedirs("a/b", exist_ok=False)
    assert sorted(p.name for p in (workdir / "a").iterdir()) == ["b"]


def test_remove_deletes_a_file(ftp: ftplib2.FTP, workdir: Path) -> None:
    (workdir / "doomed.txt").write_bytes(b"x")
    assert ftp.remove("doomed.txt").code == "250"
    assert not (workdir / "doomed.txt").exists()
    with pytest.raises(ftplib2.error_perm):
        ftp.remove("doomed.txt")


def test_rmtree_removes_a_nested_tree(ftp: ftplib2.FTP, workdir: Path) -> None:
    make_walk_tree(workdir / "tree")
    (workdir / "tree" / "d2" / "more").mkdir()
    make_listing_tree(workdir / "tree" / "d2" / "more")
    (workdir / "keep.txt").write_bytes(b"keep")
    assert ftp.rmtree("tree") is None
    assert sorted(p.name for p in workdir.iterdir()) == ["keep.txt"]


@pytest.mark.parametrize("path", ["", "/", "//"])
def test_rmtree_of_the_root_or_an_empty_path_raises_value_error_and_sends_nothing(
    ftp: ftplib2.FTP, server: LiveServer, workdir: Path, path: str
) -> None:
    (workdir / "keep.txt").write_bytes(b"keep")
    before = server.commands_of(ftp)
    with pytest.raises(ValueError):
        ftp.rmtree(path)
    assert server.commands_of(ftp) == before
    assert (workdir / "keep.txt").exists()


def test_mdtm_returns_the_modification_time_as_an_aware_utc_datetime(
    ftp: ftplib2.FTP, workdir: Path
) -> None:
    when = utc(2021, 5, 6, 7, 8, 9)
    (workdir / "dated.txt").write_bytes(b"x")
    os.utime(workdir / "dated.txt", (when.timestamp(), when.timestamp()))
    modified = ftp.mdtm("dated.txt")
    assert modified == when
    assert modified.utcoffset() == datetime.timedelta(0)


@pytest.mark.parametrize(
    "when",
    [
        pytest.param(utc(2020, 1, 2, 3, 4, 5), id="aware-utc-datetime"),
        pytest.param(
            datetime.datetime(
                2020, 1, 2, 5, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=2))
            ),
            id="aware-datetime-in-another-zone",
        ),
        pytest.param(datetime.datetime(2020, 1, 2, 3, 4, 5), id="naive-datetime-taken-as-utc"),
        pytest.param(utc(2020, 1, 2, 3, 4, 5).timestamp(), id="posix-float"),
    ],
)
def test_set_mtime_sets_the_time_mdtm_reads_back(
    ftp: ftplib2.FTP, workdir: Path, when: datetime.datetime | float
) -> None:
    (workdir / "dated.txt").write_bytes(b"x")
    assert ftp.set_mtime("dated.txt", when).code == "213"
    assert ftp.mdtm("dated.txt") == utc(2020, 1, 2, 3, 4, 5)
    assert (workdir / "dated.txt").stat().st_mtime == utc(2020, 1, 2, 3, 4, 5).timestamp()


def test_rename_with_both_returns_the_rnfr_and_rnto_replies(
    ftp: ftplib2.FTP, workdir: Path
) -> None:
    (workdir / "old.txt").write_bytes(b"moving")
    replies = ftp.rename("old.txt", "new.txt", both=True)
    assert isinstance(replies, tuple)
    first, second = replies
    assert isinstance(first, ftplib2.Reply)
    assert isinstance(second, ftplib2.Reply)
    assert (first.code, second.code) == ("350", "250")
    assert (workdir / "new.txt").read_bytes() == b"moving"
    assert not (workdir / "old.txt").exists()


# --------------------------------------------------------------------------
# Pipelining: the passive command and the transfer command in one write
# --------------------------------------------------------------------------


class SendSpy:
    """Stands in for a client's control socket and records each write on it."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.writes: list[bytes] = []

    def sendall(self, data: bytes, *args: Any) -> None:
        self.writes.append(bytes(data))
        self._sock.sendall(data, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)

    def pipelined(self) -> list[bytes]:
        """The writes that carried more than one command."""
        return [w for w in self.writes if w.count(b"\r\n") > 1]


def spy_on_sends(ftp: ftplib2.FTP) -> SendSpy:
    spy = SendSpy(ftp.sock)  # type: ignore[arg-type]
    ftp.sock = spy  # type: ignore[assignment]
    return spy


def fetch_each_pipelined(ftp: ftplib2.FTP, files: dict[str, bytes]) -> SendSpy:
    """Turn pipelining on, RETR each file checking its bytes; return the spy on the sends."""
    ftp.pipelining = True
    spy = spy_on_sends(ftp)
    for name, data in files.items():
        received = io.BytesIO()
        ftp.retrbinary(f"RETR {name}", received.write)
        assert received.getvalue() == data
    return spy


def test_pipelining_sends_the_passive_command_with_retr_and_listings_after_a_first_transfer(
    ftp_in_each_family: ftplib2.FTP, workdir: Path
) -> None:
    ftp = ftp_in_each_family
    files = {f"f{i}.bin": os.urandom(5000 + i) for i in range(5)}
    for name, data in files.items():
        (workdir / name).write_bytes(data)
    spy = fetch_each_pipelined(ftp, files)
    assert sorted(ftp.nlst()) == sorted(files)
    assert {name for name, _ in ftp.mlsd()} >= set(files)
    lines: list[str] = []
    ftp.retrlines("LIST", lines.append)
    assert len(lines) == len(files)
    verb = b"PASV" if ftp.af == socket.AF_INET else b"EPSV"
    rest = [name.encode() for name in files][1:]
    assert verb + b"\r\n" in spy.writes  # the first time, one command at a time
    assert spy.pipelined() == [
        *[verb + b"\r\nRETR " + name + b"\r\n" for name in rest],
        verb + b"\r\nNLST\r\n",
        verb + b"\r\nMLSD\r\n",
        verb + b"\r\nLIST\r\n",
    ]
    assert ftp.voidcmd("NOOP").code == "200"


def test_pipelining_works_under_tls_with_protected_data_connections(
    tls_ftp: ftplib2.FTP_TLS, workdir: Path
) -> None:
    files = {f"s{i}.bin": os.urandom(3000 + i) for i in range(3)}
    for name, data in files.items():
        (workdir / name).write_bytes(data)
    spy = fetch_each_pipelined(tls_ftp, files)
    assert sorted(tls_ftp.nlst()) == sorted(files)
    assert len(spy.pipelined()) == len(files)  # all but the first RETR, and the NLST
    assert tls_ftp.voidcmd("NOOP").code == "200"


def test_pipelining_steps_aside_for_a_sending_method_replaced_on_the_instance(
    ftp: ftplib2.FTP, workdir: Path
) -> None:
    (workdir / "a.bin").write_bytes(b"a" * 100)
    seen: list[str] = []
    real = ftp.putcmd

    def watching(line: str) -> None:
        seen.append(line)
        real(line)

    ftp.putcmd = watching  # type: ignore[method-assign]
    ftp.pipelining = True
    for _ in range(3):
        ftp.retrbinary("RETR a.bin", lambda block: None)
    assert seen.count("PASV") == 3 and seen.count("RETR a.bin") == 3


def test_pipelining_is_off_by_default(ftp: ftplib2.FTP, workdir: Path) -> None:
    (workdir / "a.bin").write_bytes(b"a" * 100)
    spy = spy_on_sends(ftp)
    for _ in range(3):
        ftp.retrbinary("RETR a.bin", lambda block: None)
    assert spy.pipelined() == []


def test_pipelining_leaves_uploads_and_restarts_one_command_at_a_time(
    ftp: ftplib2.FTP, workdir: Path, tmp_path: Path
) -> None:
    data = os.urandom(200_000)
    (workdir / "a.bin").write_bytes(data)
    plant_partial_download(tmp_path / "a.bin", data[:50_000])
    ftp.pipelining = True
    ftp.retrbinary("RETR a.bin", lambda block: None)  # the passive command has worked
    spy = spy_on_sends(ftp)
    ftp.storbinary("STOR up.bin", io.BytesIO(data))
    ftp.upload(io.BytesIO(data), "up2.bin")
    assert ftp.download("a.bin", tmp_path / "a.bin", resume=True) == len(data)  # REST
    with ftp.open("a.bin", "ab") as stream:  # APPE
        stream.write(b"more")
    assert spy.pipelined() == []
    assert (tmp_path / "a.bin").read_bytes() == data
    assert (workdir / "up.bin").read_bytes() == (workdir / "up2.bin").read_bytes() == data


def test_pipelining_steps_aside_for_a_subclass_that_overrides_makepasv(
    server: LiveServer, workdir: Path
) -> None:
    seen: list[tuple[str, int]] = []

    class NatFixingFTP(ftplib2.FTP):
        def makepasv(self) -> tuple[str, int]:
            host, port = super().makepasv()
            seen.append((host, port))
            return host, port

    (workdir / "a.bin").write_bytes(b"a" * 100)
    with contextlib.closing(open_session(server, workdir, cls=NatFixingFTP)) as ftp:
        ftp.pipelining = True
        spy = spy_on_sends(ftp)
        for _ in range(3):
            ftp.retrbinary("RETR a.bin", lambda block: None)
    assert len(seen) == 3
    assert spy.pipelined() == []


def test_pipelined_download_of_a_missing_file_raises_error_perm_and_stays_in_step(
    ftp: ftplib2.FTP, workdir: Path
) -> None:
    (workdir / "a.bin").write_bytes(b"a" * 100)
    ftp.pipelining = True
    ftp.retrbinary("RETR a.bin", lambda block: None)
    spy = spy_on_sends(ftp)
    with pytest.raises(ftplib2.error_perm):
        ftp.retrbinary("RETR missing.bin", lambda block: None)
    assert len(spy.pipelined()) == 1
    assert ftp.voidcmd("NOOP").code == "200"
    blocks: list[bytes] = []
    ftp.retrbinary("RETR a.bin", blocks.append)
    assert b"".join(blocks) == b"a" * 100


# --------------------------------------------------------------------------
# Whole-file transfers: download and upload
# --------------------------------------------------------------------------

TRANSFER_TARGETS = ["pathlib-path", "str-path", "file-object"]


def partial_downloads(directory: Path) -> list[str]:
    """The names of the partial files that download() has left in `directory`."""
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".ftplib2-part"))


def plant_partial_download(target: Path, data: bytes) -> Path:
    """Leave `data` where an interrupted ``download(..., target)`` leaves what it received.

    As documented: a hidden ``.NAME.<inode>.ftplib2-part`` beside `target`, the number being
    the file's own inode number, so it is only known once the file exists.
    """
    scratch = target.with_name(f".{target.name}.planting")
    scratch.write_bytes(data)
    part = target.with_name(f".{target.name}.{scratch.stat().st_ino}.ftplib2-part")
    scratch.rename(part)
    return part


@pytest.mark.parametrize("target_kind", TRANSFER_TARGETS)
def test_download_writes_the_file_and_reports_progress_in_byte_counts(
    ftp: ftplib2.FTP, workdir: Path, tmp_path: Path, target_kind: str
) -> None:
    data = os.urandom(300_000)
    (workdir / "blob.bin").write_bytes(data)
    counts: list[int] = []
    path = tmp_path / "blob.bin"
    if target_kind == "file-object":
        with path.open("wb") as target:
            size = ftp.download("blob.bin", target, callback=counts.append, blocksize=1 << 16)
    else:
        target = path if target_kind == "pathlib-path" else str(path)
        size = ftp.download("blob.bin", target, callback=counts.append, blocksize=1 << 16)
    assert size == len(data)
    assert path.read_bytes() == data
    assert sum(counts) == len(data)
    assert all(0 < count <= 1 << 16 for count in counts)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blob.bin"]


class SpliceSpy:
    """Wraps os.splice: counts the calls, and can refuse file writes as some file systems do."""

    def __init__(
        self,
        monkeypatch: pytest.MonkeyPatch,
        refuse_files: bool = False,
        refuse_sockets: bool = False,
    ) -> None:
        self.real = os.splice
        self.calls = 0
        self.refused = 0
        self.refuse_files = refuse_files
        self.refuse_sockets = refuse_sockets
        monkeypatch.setattr(os, "splice", self)

    def __call__(self, src: int, dst: int, count: int, *args: Any, **kwargs: Any) -> int:
        self.calls += 1
        if (self.refuse_files and stat.S_ISREG(os.fstat(dst).st_mode)) or (
            self.refuse_sockets and stat.S_ISSOCK(os.fstat(src).st_mode)
        ):
            self.refused += 1
            raise OSError(errno.EPERM, "Operation not permitted")
        return self.real(src, dst, count, *args, **kwargs)


needs_splice = pytest.mark.skipif(not hasattr(os, "splice"), reason="splice(2) is Linux-only")


@needs_splice
@pytest.mark.parametrize("blocksize", [4096, 1 << 18, 1 << 20])
def test_download_to_a_path_is_spliced_into_the_file_without_passing_through_python(
    ftp: ftplib2.FTP,
    workdir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    blocksize: int,
) -> None:
    data = os.urandom((3 << 20) + 17)
    (workdir / "big.bin").write_bytes(data)
    spy = SpliceSpy(monkeypatch)
    counts: list[int] = []
    size = ftp.download(
        "big.bin", tmp_path / "big.bin", callback=counts.append, blocksize=blocksize
    )
    assert size == len(data) == sum(counts)
    assert (tmp_path / "big.bin").read_bytes() == data
    assert spy.calls >= 2 * len(counts)  # socket -> pipe, then pipe -> file, per block
    assert all(0 < count <= max(blocksize, 4096) for count in counts)
    assert ftp.voidcmd("NOOP").code == "200"


@needs_splice
def test_download_resumed_into_a_part_file_is_spliced_after_its_end(
    ftp: ftplib2.FTP, workdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = os.urandom(1 << 20)
    (workdir / "big.bin").write_bytes(data)
    part = plant_partial_download(tmp_path / "big.bin", data[:300_000])
    spy = SpliceSpy(monkeypatch)
    assert ftp.download("big.bin", tmp_path / "big.bin", resume=True) == len(data)
    assert (tmp_path / "big.bin").read_bytes() == data
    assert spy.calls
    assert not part.exists()


@needs_splice
@pytest.mark.parametrize(
    "refused",
    [
        pytest.param("files", id="file-system-refuses-splice-so-copy-from-the-pipe"),
        pytest.param("sockets", id="kernel-refuses-splice-from-sockets-so-recv"),
    ],
)
def test_download_falls_back_where_splice_is_refused(
    ftp: ftplib2.FTP,
    workdir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    refused: str,
) -> None:
    data = os.urandom((2 << 20) + 5)
    (workdir / "big.bin").write_bytes(data)
    spy = SpliceSpy(
        monkeypatch, refuse_files=refused == "files", refuse_sockets=refused == "sockets"
    )
    counts: list[int] = []
    assert ftp.download("big.bin", tmp_path / "big.bin", callback=counts.append) == len(data)
    assert (tmp_path / "big.bin").read_bytes() == data
    assert sum(counts) == len(data)
    if refused == "sockets":
        assert spy.refused == 1  # refused once, before anything moved; then plain reads
    else:
        assert spy.refused >= 1


def test_download_opens_the_part_file_write_only_and_not_for_appending(
    ftp: ftplib2.FTP, workdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Write-only: a partial file that may be written but not read still resumes (as "ab"
    did); not O_APPEND, which splice(2) refuses; never through a symbolic link."""
    data = os.urandom(500_000)
    (workdir / "big.bin").write_bytes(data)
    plant_partial_download(tmp_path / "big.bin", data[:123_456])
    flags_seen: list[int] = []
    real_open = os.open

    def recording_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if str(path).endswith((".ftplib2-part", ".ftplib2-new")):
            flags_seen.append(flags)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", recording_open)
    assert ftp.download("big.bin", tmp_path / "big.bin", resume=True) == len(data)
    assert ftp.download("big.bin", tmp_path / "again.bin") == len(data)
    assert (tmp_path / "big.bin").read_bytes() == (tmp_path / "again.bin").read_bytes() == data
    assert len(flags_seen) == 2
    assert all(f & os.O_ACCMODE == os.O_WRONLY and not f & os.O_APPEND for f in flags_seen)
    assert all(f & os.O_NOFOLLOW for f in flags_seen)
    assert [bool(f & os.O_CREAT) for f in flags_seen] == [False, True]  # resumed, then new


@needs_splice
def test_download_over_tls_is_not_spliced_and_arrives_intact(
    tls_ftp: ftplib2.FTP_TLS, workdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = os.urandom(1 << 20)
    (workdir / "big.bin").write_bytes(data)
    spy = SpliceSpy(monkeypatch)
    assert tls_ftp.download("big.bin", tmp_path / "big.bin") == len(data)
    assert (tmp_path / "big.bin").read_bytes() == data
    assert spy.calls == 0


@pytest.mark.parametrize("source_kind", TRANSFER_TARGETS)
def test_upload_sends_the_file_and_reports_progress_in_byte_counts(
    ftp: ftplib2.FTP, workdir: Path, tmp_path: Path, source_kind: str
) -> None:
    data = os.urandom(300_000)
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    counts: list[int] = []
    if source_kind == "file-object":
        with path.open("rb") as source:
            size = ftp.upload(source, "up.bin", callback=counts.append)
    else:
        source = path if source_kind == "pathlib-path" else str(path)
        size = ftp.upload(source, "up.bin", callback=counts.append)
    assert size == len(data)
    assert (workdir / "up.bin").read_bytes() == data
    assert sum(counts) == len(data)


def test_upload_from_a_non_file_stream_sends_it_all(ftp: ftplib2.FTP, workdir: Path) -> None:
    data = os.urandom(300_000)
    counts: list[int] = []
    assert ftp.upload(io.BytesIO(data), "up.bin", callback=counts.append) == len(data)
    assert (workdir / "up.bin").read_bytes() == data
    assert sum(counts) == len(data)


def test_download_to_a_path_writes_a_part_file_and_renames_it_when_complete(
    ftp: ftplib2.FTP, workdir: Path, tmp_path: Path
) -> None:
    data = os.urandom(300_000)
    (workdir / "blob.bin").write_bytes(data)
    target = tmp_path / "blob.bin"
    seen: list[tuple[bool, list[str]]] = []
    ftp.download(
        "blob.bin",
        target,
        callback=lambda n: seen.append((target.exists(), partial_downloads(tmp_path))),
        blocksize=1 << 16,
    )
    assert seen
    assert all(not exists and len(parts) == 1 for exists, parts in seen)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blob.bin"]
    assert target.read_bytes() == data


def test_download_resume_continues_a_part_file_from_its_end_with_rest(
    ftp: ftplib2.FTP, server: LiveServer, workdir: Path, tmp_path: Path
) -> None:
    data = os.urandom(200_000)
    (workdir / "blob.bin").write_bytes(data)
    target = tmp_path / "blob.bin"
    plant_partial_download(target, data[:70_000])
    counts: list[int] = []
    assert ftp.download("blob.bin", target, resume=True, callback=counts.append) == len(data)
    assert target.read_bytes() == data
    assert sum(counts) == len(data) - 70_000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blob.bin"]
    assert "REST 70000" in server.commands_of(ftp)


def test_download_resume_into_a_file_object_continues_from_its_end(
    ftp: ftplib2.FTP, server: LiveServer, workdir: Path
) -> None:
    data = os.urandom(200_000)
    (workdir / "blob.bin").write_bytes(data)
    target = io.BytesIO(data[:50_000])
    assert ftp.download("blob.bin", target, resume=True) == len(data)
    assert target.getvalue() == data
    assert "REST 50000" in server.commands_of(ftp)


def test_download_resume_of_a_complete_part_file_renames_it_without_a_transfer(
    ftp: ftplib2.FTP, server: LiveServer, workdir: Path, tmp_path: Path
) -> None:
    data = os.urandom(10_000)
    (workdir / "blob.bin").write_bytes(data)
    plant_partial_download(tmp_path / "blob.bin", data)
    assert ftp.download("blob.bin", tmp_path / "blob.bin", resume=True) == len(data)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blob.bin"]
    assert (tmp_path / "blob.bin").read_bytes() == data
    assert "RETR" not in verbs_of(server, ftp)


@pytest.mark.parametrize("target_kind", ["path", "file-object"])
def test_download_resume_on_a_server_without_rest_starts_over_and_gets_the_whole_file(
    no_rest_server: LiveServer, workdir: Path, tmp_path: Path, target_kind: str
) -> None:
    data = os.urandom(100_000)
    (workdir / "blob.bin").write_bytes(data)
    target = tmp_path / "blob.bin"
    stale = b"stale bytes that are not the start of the file"
    with open_session(no_rest_server, workdir) as ftp:
        if target_kind == "path":
            plant_partial_download(target, stale)
            assert ftp.download("blob.bin", target, resume=True) == len(data)
            assert partial_downloads(tmp_path) == []
        else:
            with target.open("w+b") as fp:
                fp.write(stale)
                assert ftp.download("blob.bin", fp, resume=True) == len(data)
        assert "REST" not in verbs_of(no_rest_server, ftp)
    assert target.read_bytes() == data


def test_download_of_a_missing_file_raises_error_perm_and_creates_no_local_file(
    ftp: ftplib2.FTP, tmp_path: Path
) -> None:
    with pytest.raises(ftplib2.error_perm) as excinfo:
        ftp.download("missing.bin", tmp_path / "missing.bin")
    assert excinfo.value.code == "550"
    assert list(tmp_path.iterdir()) == []
    assert ftp.voidcmd("NOOP").code == "200"


def test_upload_resume_sends_only_the_missing_part_with_rest_then_stor(
    ftp: ftplib2.FTP, server: LiveServer, workdir: Path, tmp_path: Path
) -> None:
    data = os.urandom(200_000)
    source = tmp_path / "blob.bin"
    source.write_bytes(data)
    (workdir / "blob.bin").write_bytes(data[:70_000])
    counts: list[int] = []
    assert ftp.upload(source, "blob.bin", resume=True, callback=counts.append) == len(data)
    assert (workdir / "blob.bin").read_bytes() == data
    assert sum(counts) == len(data) - 70_000
    commands = server.commands_of(ftp)
    rest = commands.index("REST 70000")
    assert commands[rest + 1] == "STOR blob.bin"


def test_upload_resume_of_a_file_the_server_lacks_sends_it_whole_with_stor(
    ftp: ftplib2.FTP, server: LiveServer, workdir: Path
) -> None:
    data = os.urandom(50_000)
    assert ftp.upload(io.BytesIO(data), "fresh.bin", resume=True) == len(data)
    assert (workdir / "fresh.bin").read_bytes() == data
    assert "REST" not in verbs_of(server, ftp)
    assert "STOR fresh.bin" in server.commands_of(ftp)


def test_upload_resume_appends_with_appe_when_the_server_has_no_rest(
    no_rest_server: LiveServer, workdir: Path
) -> None:
    data = os.urandom(200_000)
    (workdir / "blob.bin").write_bytes(data[:70_000])
    with open_session(no_rest_server, workdir) as ftp:
        assert not ftp.has_feature("REST")
        assert ftp.upload(io.BytesIO(data), "blob.bin", resume=True) == len(data)
        verbs = verbs_of(no_rest_server, ftp)
    assert (workdir / "blob.bin").read_bytes() == data
    assert "APPE" in verbs
    assert "REST" not in verbs
    assert "STOR" not in verbs


def test_download_shorter_than_its_size_raises_error_proto_and_leaves_no_final_file(
    ftp_root: Path, authorizer: DummyAuthorizer, workdir: Path, tmp_path: Path
) -> None:
    def ftp_SIZE(handler: FTPHandler, path: str) -> None:
        handler.respond(f"213 {os.path.getsize(path) + 100}")

    (workdir / "blob.bin").write_bytes(b"x" * 1000)
    target = tmp_path / "blob.bin"
    with (
        running_server(("127.0.0.1", 0), ftp_root, authorizer, ftp_SIZE=ftp_SIZE) as liar,
        open_session(liar, workdir) as ftp,
    ):
        with pytest.raises(ftplib2.error_proto, match="received 1000 bytes of 1100"):
            ftp.download("blob.bin", target)
        assert ftp.voidcmd("NOOP").code == "200"
    assert not target.exists()


def test_download_resume_with_a_part_file_longer_than_the_remote_raises_error_proto(
    ftp: ftplib2.FTP, workdir: Path, tmp_path: Path
) -> None:
    (workdir / "blob.bin").write_bytes(b"x" * 1000)
    target = tmp_path / "blob.bin"
    part = plant_partial_download(target, b"y" * 1500)
    with pytest.raises(ftplib2.error_proto):
        ftp.download("blob.bin", target, resume=True)
    assert not target.exists()
    assert part.read_bytes() == b"y" * 1500
    assert ftp.voidcmd("NOOP").code == "200"


def test_upload_resume_to_a_remote_file_longer_than_the_local_one_raises_error_proto(
    ftp: ftplib2.FTP, workdir: Path
) -> None:
    (workdir / "blob.bin").write_bytes(b"x" * 1500)
    with pytest.raises(ftplib2.error_proto):
        ftp.upload(io.BytesIO(b"y" * 1000), "blob.bin", resume=True)
    assert (workdir / "blob.bin").read_bytes() == b"x" * 1500
    assert ftp.voidcmd("NOOP").code == "200"


# --------------------------------------------------------------------------
# open(): remote files as streams
# --------------------------------------------------------------------------


def test_open_rb_read_returns_the_whole_file(ftp: ftplib2.FTP, workdir: Path) -> None:
    data = os.urandom(300_000)
    (workdir / "blob.bin").write_bytes(data)
    with ftp.open("blob.bin", "rb") as f:
        assert f.read() == data
    assert ftp.voidcmd("NOOP").code == "200"


def test_open_rb_readinto_fills_buffers_with_the_file(ftp: ftplib2.FTP, workdir: Path) -> None:
    data = os.urandom(100_000)
    (workdir / "blob.bin").write_bytes(data)
    received = bytearray()
    buffer = bytearray(7_000)
    with ftp.open("blob.bin", "rb") as f:
        while n := f.readinto(buffer):
            received += buffer[:n]
    assert received == data


def test_open_rb_iterates_over_lines(ftp: ftplib2.FTP, workdir: Path) -> None:
    data = b"".join(b"line %d\n" % number for number in range(10_000)) + b"no newline"
    (workdir / "lines.txt").write_bytes(data)
    with ftp.open("lines.txt", "rb") as f:
        assert list(f) == data.splitlines(keepends=True)


def test_open_closed_after_100_bytes_of_a_big_file_returns_promptly_and_stays_in_step(
    ftp: ftplib2.FTP, workdir: Path, big_files: dict[str, Path]
) -> None:
    with big_files[BIG_FILE].open("rb") as local:
        expected = local.read(100)
    with ftp.open(f"/{BIG_FILE}", "rb") as f:
        head = f.read(100)
        closing = time.monotonic()
    assert time.monotonic() - closing < 2
    assert head == expected
    with pytest.raises(ftplib2.error_temp, match="^426"):  # aborted, not read to the end
        ftp.getresp()  # the transfer's final reply, owed
    assert ftp.voidcmd("NOOP").code == "200"
    assert ftp.pwd() == f"/{workdir.name}"


def test_open_wb_writes_the_file_on_close(ftp: ftplib2.FTP, workdir: Path) -> None:
    data = os.urandom(300_000)
    with ftp.open("new.bin", "wb") as f:
        f.write(data[:1000])
        f.write(memoryview(data)[1000:])
    assert (workdir / "new.bin").read_bytes() == data
    assert ftp.voidcmd("NOOP").code == "200"


def test_open_of_a_missing_file_raises_error_perm_and_stays_in_step(
    ftp: ftplib2.FTP, workdir: Path
) -> None:
    with pytest.raises(ftplib2.error_perm) as excinfo:
        ftp.open("missing.bin", "rb")
    assert excinfo.value.code == "550"
    assert ftp.voidcmd("NOOP").code == "200"
    assert ftp.pwd() == f"/{workdir.name}"


def test_open_ab_appends_to_the_file(ftp: ftplib2.FTP, workdir: Path) -> None:
    (workdir / "log.txt").write_bytes(b"first\n")
    with ftp.open("log.txt", "ab") as f:
        f.write(b"second\n")
    assert (workdir / "log.txt").read_bytes() == b"first\nsecond\n"


@pytest.mark.parametrize("encoding", [None, "latin-1"])
def test_open_text_modes_write_and_read_non_ascii_text(
    ftp: ftplib2.FTP, workdir: Path, encoding: str | None
) -> None:
    text = "grüße, ñandú\nzweite Zeile\n"
    with ftp.open("text.txt", "w", encoding=encoding) as f:
        f.write(text)
    assert (workdir / "text.txt").read_bytes() == text.encode(encoding or "utf-8")
    with ftp.open("text.txt", "r", encoding=encoding) as f:
        assert f.read() == text
    with ftp.open("text.txt", "r", encoding=encoding) as f:
        assert list(f) == ["grüße, ñandú\n", "zweite Zeile\n"]


@pytest.mark.parametrize("mode", ["rw", "rb+", "x", "", "wbb"])
def test_open_with_an_invalid_mode_raises_value_error_and_sends_nothing(
    ftp: ftplib2.FTP, server: LiveServer, mode: str
) -> None:
    before = server.commands_of(ftp)
    with pytest.raises(ValueError):
        ftp.open("any.txt", mode)
    assert server.commands_of(ftp) == before


def test_open_streams_a_big_file_in_bounded_memory(
    ftp: ftplib2.FTP, big_files: dict[str, Path]
) -> None:
    digest = hashlib.sha256()
    size = 0
    tracemalloc.start()
    try:
        with ftp.open(f"/{BIG_FILE}", "rb") as f:
            while block := f.read(1 << 16):
                digest.update(block)
                size += len(block)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert size == BIG_FILE_SIZE
    assert digest.hexdigest() == sha256_of_file(big_files[BIG_FILE])
    assert peak < 4 << 20


# --------------------------------------------------------------------------
# Data connections: EPSV on IPv4, PASV fallbacks, active ports and addresses
# --------------------------------------------------------------------------


def passive_verbs(server: LiveServer, ftp: ftplib2.FTP) -> list[str]:
    return [verb for verb in verbs_of(server, ftp) if verb in ("PASV", "EPSV")]


def test_prefer_epsv_sends_epsv_instead_of_pasv_on_ipv4(server: LiveServer, workdir: Path) -> None:
    (workdir / "f.txt").write_bytes(b"over EPSV")
    with open_session(server, workdir) as ftp:
        ftp.prefer_epsv = True
        received = bytearray()
        ftp.retrbinary("RETR f.txt", received.extend)
        ftp.retrbinary("RETR f.txt", lambda block: None)
        assert passive_verbs(server, ftp) == ["EPSV", "EPSV"]
    assert received == b"over EPSV"


def test_ipv4_without_prefer_epsv_sends_pasv(server: LiveServer, workdir: Path) -> None:
    (workdir / "f.txt").write_bytes(b"over PASV")
    with open_session(server, workdir) as ftp:
        ftp.retrbinary("RETR f.txt", lambda block: None)
        assert passive_verbs(server, ftp) == ["PASV"]


def _refuse_epsv_with_502(handler: FTPHandler, line: str) -> None:
    handler.respond("502 EPSV not implemented.")


@pytest.mark.parametrize(
    "refusal",
    [
        pytest.param({"proto_cmds": proto_cmds_without("EPSV")}, id="unknown-command-500"),
        pytest.param({"ftp_EPSV": _refuse_epsv_with_502}, id="not-implemented-502"),
    ],
)
def test_prefer_epsv_falls_back_to_pasv_once_and_remembers_the_refusal(
    ftp_root: Path, authorizer: DummyAuthorizer, workdir: Path, refusal: dict[str, object]
) -> None:
    (workdir / "f.txt").write_bytes(b"over PASV")
    with (
        running_server(("127.0.0.1", 0), ftp_root, authorizer, **refusal) as live,
        open_session(live, workdir) as ftp,
    ):
        ftp.prefer_epsv = True
        for _ in range(3):
            received = bytearray()
            ftp.retrbinary("RETR f.txt", received.extend)
            assert received == b"over PASV"
        assert passive_verbs(live, ftp) == ["EPSV", "PASV", "PASV", "PASV"]


def test_a_229_reply_to_pasv_is_accepted(
    ftp_root: Path, authorizer: DummyAuthorizer, workdir: Path
) -> None:
    def ftp_PASV(handler: FTPHandler, line: str) -> None:
        handler._make_epasv(extmode=True)  # answers "229 Entering extended passive mode"

    (workdir / "f.txt").write_bytes(b"229 to PASV")
    with (
        running_server(("127.0.0.1", 0), ftp_root, authorizer, ftp_PASV=ftp_PASV) as live,
        open_session(live, workdir) as ftp,
    ):
        received = bytearray()
        assert ftp.retrbinary("RETR f.txt", received.extend).code == "226"
        assert received == b"229 to PASV"
        assert passive_verbs(live, ftp) == ["PASV"]


def announced_port(server: LiveServer, ftp: ftplib2.FTP) -> tuple[str, int]:
    """The (address, port) of the last PORT command `ftp` sent."""
    [*_, line] = [line for line in server.commands_of(ftp) if line.startswith("PORT ")]
    numbers = line[5:].split(",")
    return ".".join(numbers[:4]), int(numbers[4]) << 8 | int(numbers[5])


def test_active_port_range_listens_on_a_free_port_of_the_range(
    server: LiveServer, workdir: Path
) -> None:
    (workdir / "f.txt").write_bytes(b"active data")
    with socket.create_server(("127.0.0.1", 0)) as taken:
        first = taken.getsockname()[1]
        ports = range(first, first + 5)
        with open_session(server, workdir, passive=False) as ftp:
            ftp.active_port_range = ports
            for _ in range(2):
                received = bytearray()
                ftp.retrbinary("RETR f.txt", received.extend)
                assert received == b"active data"
                address, port = announced_port(server, ftp)
                assert port in ports
                assert port != first  # taken: the client moved on to the next one
                assert address == "127.0.0.1"


def test_active_port_range_with_every_port_taken_raises_oserror_before_sending_port(
    server: LiveServer, workdir: Path
) -> None:
    (workdir / "f.txt").write_bytes(b"active data")
    with (
        socket.create_server(("127.0.0.1", 0)) as taken,
        open_session(server, workdir, passive=False) as ftp,
    ):
        port = taken.getsockname()[1]
        ftp.active_port_range = range(port, port + 1)
        with pytest.raises(OSError):
            ftp.retrbinary("RETR f.txt", lambda block: None)
        assert "PORT" not in verbs_of(server, ftp)
        assert ftp.voidcmd("NOOP").code == "200"


def test_active_address_is_the_address_port_announces(server: LiveServer, workdir: Path) -> None:
    (workdir / "f.txt").write_bytes(b"active data")
    with open_session(server, workdir, passive=False) as ftp:
        ftp.active_address = "127.0.0.1"
        received = bytearray()
        ftp.retrbinary("RETR f.txt", received.extend)
        assert received == b"active data"
        assert announced_port(server, ftp)[0] == "127.0.0.1"


def test_active_address_the_server_sees_as_foreign_is_refused_with_error_perm(
    server: LiveServer, workdir: Path
) -> None:
    (workdir / "f.txt").write_bytes(b"active data")
    with open_session(server, workdir, passive=False) as ftp:
        ftp.active_address = "127.0.0.2"
        with pytest.raises(ftplib2.error_perm) as excinfo:
            ftp.retrbinary("RETR f.txt", lambda block: None)
        assert excinfo.value.code == "501"
        assert "127.0.0.2" in str(excinfo.value)
        assert announced_port(server, ftp)[0] == "127.0.0.2"
        assert "RETR" not in verbs_of(server, ftp)
        assert ftp.voidcmd("NOOP").code == "200"


# --------------------------------------------------------------------------
# FTP_TLS.secure(): verified TLS in one call
# --------------------------------------------------------------------------


def test_ftp_tls_secure_logs_in_over_tls_and_protects_data_connections(
    tls_server: LiveServer, tls_client_context: ssl.SSLContext, workdir: Path, tmp_path: Path
) -> None:
    (workdir / "f.txt").write_bytes(b"secret")
    with ftplib2.FTP_TLS.secure(
        tls_server.host,
        USER,
        PASSWORD,
        port=tls_server.port,
        context=tls_client_context,
        timeout=TIMEOUT,
    ) as ftp:
        assert isinstance(ftp.sock, ssl.SSLSocket)
        assert tls_server.commands_of(ftp) == [
            "AUTH TLS",
            f"USER {USER}",
            f"PASS {PASSWORD}",
            "PBSZ 0",
            "PROT P",
        ]
        ftp.cwd(workdir.name)
        ftp.voidcmd("TYPE I")
        with ftp.transfercmd("RETR f.txt") as conn:
            assert isinstance(conn, ssl.SSLSocket)
            assert recv_all(conn) == b"secret"
        assert ftp.voidresp().code == "226"
        received = io.BytesIO()
        assert ftp.download("f.txt", received) == len(b"secret")
        assert received.getvalue() == b"secret"
        data = os.urandom(300_000)
        (tmp_path / "up.bin").write_bytes(data)
        assert ftp.upload(tmp_path / "up.bin", "up.bin") == len(data)
        assert (workdir / "up.bin").read_bytes() == data


def test_ftp_tls_secure_with_the_system_cas_rejects_the_test_certificate_before_the_password(
    tls_server: LiveServer,
) -> None:
    sessions_before = set(tls_server.received)
    with track_sockets() as opened, pytest.raises(ssl.SSLCertVerificationError):
        ftplib2.FTP_TLS.secure(
            tls_server.host, USER, PASSWORD, port=tls_server.port, timeout=TIMEOUT
        )
    assert opened
    assert still_open(opened) == []
    new_sessions = [tls_server.received[key] for key in set(tls_server.received) - sessions_before]
    assert new_sessions == [["AUTH TLS"]]


def test_ftp_tls_secure_trusts_the_ca_named_by_cafile(
    tls_server: LiveServer, certificate_authority: trustme.CA, tmp_path: Path
) -> None:
    cafile = tmp_path / "ca.pem"
    certificate_authority.cert_pem.write_to_path(str(cafile))
    with ftplib2.FTP_TLS.secure(
        tls_server.host, USER, PASSWORD, port=tls_server.port, cafile=str(cafile), timeout=TIMEOUT
    ) as ftp:
        assert isinstance(ftp.sock, ssl.SSLSocket)
        assert ftp.pwd() == "/"
        assert ftp.nlst()


# --------------------------------------------------------------------------
# Errors and replies as objects
# --------------------------------------------------------------------------


def test_error_perm_from_a_550_carries_the_code_and_the_reply_line(ftp: ftplib2.FTP) -> None:
    with pytest.raises(ftplib2.error_perm) as excinfo:
        ftp.delete("missing.txt")
    error = excinfo.value
    assert error.code == "550"
    assert len(error.lines) == 1
    assert error.lines[0].startswith("550 ")
    assert error.lines == [str(error)]


@pytest.mark.parametrize(
    ("raw", "error_class", "code"),
    [
        pytest.param(
            b"550-Cannot delete:\r\n the file is locked\r\n550 Try again later.\r\n",
            ftplib2.error_perm,
            "550",
            id="5xx-error-perm",
        ),
        pytest.param(
            b"450-Busy:\r\n450-still busy\r\n450 Try again later.\r\n",
            ftplib2.error_temp,
            "450",
            id="4xx-error-temp",
        ),
    ],
)
def test_multiline_error_reply_keeps_every_line(
    ftp: ftplib2.FTP, raw: bytes, error_class: type[ftplib2.Error], code: str
) -> None:
    with pytest.raises(error_class) as excinfo:
        raw_reply(ftp, raw)
    expected_lines = raw.decode().removesuffix("\r\n").split("\r\n")
    assert excinfo.value.code == code
    assert excinfo.value.lines == expected_lines
    assert str(excinfo.value) == "\n".join(expected_lines)
    assert ftp.voidcmd("NOOP").code == "200"


def test_multiline_reply_has_its_code_and_lines(ftp: ftplib2.FTP) -> None:
    reply = raw_reply(ftp, b"211-Status of server:\r\n Connected\r\n211 End of status.\r\n")
    assert isinstance(reply, ftplib2.Reply)
    assert reply.code == "211"
    assert reply.lines == ["211-Status of server:", " Connected", "211 End of status."]
    assert reply == "211-Status of server:\n Connected\n211 End of status."


def test_a_real_multiline_reply_has_its_code_and_lines(ftp: ftplib2.FTP) -> None:
    reply = ftp.sendcmd("FEAT")
    assert reply.code == "211"
    assert len(reply.lines) > 2
    assert reply.lines[0].startswith("211-")
    assert reply.lines[-1].startswith("211 ")
    assert " REST STREAM" in reply.lines


# ==================================================================================================
# Documentation
# ==================================================================================================


# --------------------------------------------------------------------------
# The documentation
# --------------------------------------------------------------------------

DOC_DIR = pathlib.Path(__file__).parent / "Doc"

# ftplib's constants: public, but neither in __all__ nor objects with a __module__.
_DOC_STDLIB_CONSTANTS = ("MSG_OOB", "FTP_PORT", "MAXLINE", "CRLF", "B_CRLF")
# Classes whose own methods and attributes must be documented as Class.member.
_DOC_CLASSES = ("FTP", "FTP_TLS", "Reply", "ReplyParser", "Entry", "Error")

_DOC_DIRECTIVE_RE = re.compile(
    r"^(?P<indent>[ \t]*)\.\.[ \t]+(?:py:)?"
    r"(?P<kind>module|currentmodule|function|class|exception|method|classmethod|staticmethod"
    r"|attribute|property|data|decorator)::[ \t]*(?P<signature>.*)$"
)
_DOC_OPTION_RE = re.compile(r"^[ \t]*:(?P<name>[\w-]+):[ \t]*(?P<value>.*)$")
_DOC_NAME_RE = re.compile(
    r"^(?:(?:async|final|abstract|class|static)\s+)*(?P<name>[A-Za-z_][\w.]*)"
)
_DOC_CLASS_KINDS = ("class", "exception")


def _doc_indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _doc_instance_attributes(cls: type) -> set[str]:
    """The public attributes a constructor called without arguments sets on the instance."""
    try:
        instance = cls()
    except TypeError:  # needs arguments (Entry): its dataclass fields are counted instead
        return set()
    return {name for name in getattr(instance, "__dict__", {}) if not name.startswith("_")}


def _doc_own_members(cls: type) -> set[str]:
    """The public members `cls` itself defines: in its body, as dataclass fields, or in __init__."""
    members = {name for name in vars(cls) if not name.startswith("_")}
    if dataclasses.is_dataclass(cls):
        members |= {field.name for field in dataclasses.fields(cls)}
    inherited = set()
    for base in cls.__mro__[1:]:
        if base.__module__ == "ftplib2":
            inherited |= _doc_instance_attributes(base)
        inherited |= {name for name in vars(base) if not name.startswith("_")}
    return members | (_doc_instance_attributes(cls) - inherited)


def _doc_public_names() -> set[str]:
    """Every name the reference must describe, relative to the module: 'FTP', 'FTP.scandir'..."""
    names = set(ftplib2.__all__) | set(_DOC_STDLIB_CONSTANTS)
    for name in dir(ftplib2):
        defined_here = getattr(getattr(ftplib2, name), "__module__", None) == "ftplib2"
        if defined_here and not name.startswith("_"):
            names.add(name)
    for class_name in _DOC_CLASSES:
        cls = getattr(ftplib2, class_name, None)
        if cls is None:  # FTP_TLS, on a Python without ssl
            continue
        names |= {f"{class_name}.{member}" for member in _doc_own_members(cls)}
    return names


def _doc_directive_block(lines: list[str], start: int, indent: int) -> tuple[list[str], dict, int]:
    """The signatures and options of the directive on lines[start]; also the next line's index.

    Signatures go on until the first blank line or option; a line ending in a backslash is
    continued on the next one, any other line holds a signature of its own.
    """
    match = _DOC_DIRECTIVE_RE.match(lines[start])
    signatures = [match["signature"].strip()]
    i = start + 1
    while i < len(lines) and lines[i].strip() and _doc_indent(lines[i]) > indent:
        if signatures[-1].endswith("\\"):
            signatures[-1] = signatures[-1][:-1].rstrip() + " " + lines[i].strip()
        elif _DOC_OPTION_RE.match(lines[i]):
            break
        else:
            signatures.append(lines[i].strip())
        i += 1
    options = {}
    while i < len(lines) and lines[i].strip() and (option := _DOC_OPTION_RE.match(lines[i])):
        options[option["name"]] = option["value"].strip()
        i += 1
    return [s for s in signatures if s], options, i


def _doc_objects_in(text: str) -> set[str]:
    """The full names of the Python objects an .rst file documents, as Sphinx would register them.

    Follows Sphinx's rules: the module is set by ``module``/``currentmodule`` (per file) or a
    directive's ``:module:`` option; a member directive nested in a class directive's content,
    or naming no class itself, belongs to that class; a name may carry its class (``FTP.scandir``).
    """
    lines = text.splitlines()
    module: str | None = None
    # Enclosing directives: (indentation, class prefix for their content, module for their content).
    stack: list[tuple[int, str, str | None]] = []
    found: set[str] = set()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        indent = _doc_indent(line)
        while stack and indent <= stack[-1][0]:
            stack.pop()
        match = _DOC_DIRECTIVE_RE.match(line)
        if match is None:
            i += 1
            continue
        kind = match["kind"]
        signatures, options, i = _doc_directive_block(lines, i, indent)
        if kind in ("module", "currentmodule"):
            value = signatures[0] if signatures else ""
            module = None if value in ("", "None") else value
            continue
        class_prefix = stack[-1][1] if stack else ""
        modname = options.get("module", stack[-1][2] if stack else module)
        first_fullname = None
        for signature in signatures:
            name_match = _DOC_NAME_RE.match(signature)
            if name_match is None:
                continue
            name = name_match["name"]
            if class_prefix and not (name == class_prefix or name.startswith(class_prefix + ".")):
                name = f"{class_prefix}.{name}"
            first_fullname = first_fullname or name
            found.add(f"{modname}.{name}" if modname else name)
        if first_fullname is not None:
            if kind in _DOC_CLASS_KINDS:
                content_prefix = first_fullname
            else:
                content_prefix = first_fullname.rpartition(".")[0]
            stack.append((indent, content_prefix, modname))
    return found


def _doc_documented_names(doc_dir: pathlib.Path) -> set[str]:
    """The objects of ftplib2 documented in `doc_dir`, relative to the module."""
    names = set()
    for path in sorted(doc_dir.rglob("*.rst")):
        if "_build" in path.relative_to(doc_dir).parts:
            continue
        for fullname in _doc_objects_in(path.read_text(encoding="utf-8")):
            if fullname.startswith("ftplib2."):
                names.add(fullname[len("ftplib2.") :])
    return names


def test_every_public_name_is_documented() -> None:
    assert DOC_DIR.is_dir(), f"no documentation at {DOC_DIR}"
    documented = _doc_documented_names(DOC_DIR)
    assert {"FTP", "FTP.connect", "Reply.code"} <= documented, "the Doc/ parser found nothing"
    missing = sorted(_doc_public_names() - documented)
    assert not missing, (
        "public names of ftplib2 with no entry in the reference (Doc/library.rst: add a "
        ".. function::, .. class::, .. method::, .. attribute:: or .. data:: for each): "
        + ", ".join(missing)
    )


def _doc_name_exists(name: str) -> bool:
    head, _, member = name.partition(".")
    if not hasattr(ftplib2, head):
        return False
    if not member:
        return True
    cls = getattr(ftplib2, head)
    if hasattr(cls, member):
        return True
    if not isinstance(cls, type):
        return False
    fields = dataclasses.fields(cls) if dataclasses.is_dataclass(cls) else ()
    return member in {field.name for field in fields} | _doc_instance_attributes(cls)


def test_every_documented_name_exists() -> None:
    stale = sorted(name for name in _doc_documented_names(DOC_DIR) if not _doc_name_exists(name))
    if not hasattr(ftplib2, "FTP_TLS"):  # documented, but absent on a Python without ssl
        stale = [name for name in stale if name.split(".")[0] != "FTP_TLS"]
    assert not stale, "the reference describes names that ftplib2 does not have: " + ", ".join(
        stale
    )


def test_docs_build_without_warnings(tmp_path: pathlib.Path) -> None:
    pytest.importorskip("sphinx")
    root = pathlib.Path(__file__).parent
    # Doc/conf.py puts this directory first on sys.path too; PYTHONPATH covers older copies.
    pythonpath = [str(root), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(pythonpath)}
    for builder in ("html", "doctest"):
        command = [
            sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", builder,
            str(root / "Doc"), str(tmp_path / builder),
        ]  # fmt: skip
        result = subprocess.run(
            command, cwd=root, env=env, capture_output=True, text=True, timeout=600, check=False
        )
        assert result.returncode == 0, (
            f"{' '.join(command)} exited with {result.returncode}\n"
            f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
        )
