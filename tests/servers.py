"""Servers, helpers and constants shared by more than one test module.

Plain code, no fixtures (those are in tests/fixtures.py). The harness is here whoever uses it
today: the live pyftpdlib servers, run in threads of the test process, and the scripted
misbehaving server. Other helpers and constants are here when more than one module uses them;
what one module alone uses stays in that module. Test modules import from here by name:
``from tests.servers import LiveServer, open_session``.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import errno
import hashlib
import io
import logging
import os
import pathlib
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
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import pytest
from OpenSSL import SSL
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.handlers.ftp.dispatchers import PassiveDTP
from pyftpdlib.ioloop import IOLoop
from pyftpdlib.servers import FTPServer

import ftplib2

# The checkout's root: this file is in tests/, one level below it.
REPO_ROOT = Path(__file__).resolve().parent.parent

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


@contextlib.contextmanager
def running_server(*args: object, **kwargs: object) -> Iterator[LiveServer]:
    _quiet_pyftpdlib()
    server = LiveServer(*args, **kwargs)
    try:
        yield server
    finally:
        server.stop()


class _SlowAcceptPassiveDTP(PassiveDTP):
    """Takes an incoming passive data connection only after ACCEPT_DELAY seconds."""

    def handle_accepted(self, sock: socket.socket, addr: tuple[str, int]) -> None:
        def take() -> None:
            if self._closed:  # closed meanwhile (ABOR): as the kernel drops a closed backlog
                sock.close()
            else:
                PassiveDTP.handle_accepted(self, sock, addr)

        self.ioloop.call_later(ACCEPT_DELAY, take)


FAMILIES = ["ipv4", "ipv6"]
MODES = [
    pytest.param(("ipv4", True), id="ipv4-passive"),
    pytest.param(("ipv4", False), id="ipv4-active"),
    pytest.param(("ipv6", True), id="ipv6-passive"),
    pytest.param(("ipv6", False), id="ipv6-active"),
]


def _server_for(request: pytest.FixtureRequest, family: str) -> LiveServer:
    return request.getfixturevalue("server" if family == "ipv4" else "server_v6")


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
# 2. Bytes that are not UTF-8
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# 15. Soak and concurrency against a real server (slow: run with -m slow)
# --------------------------------------------------------------------------


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


# ==================================================================================================
# ftp:// URLs and the urllib handlers
# ==================================================================================================


URL_TIMEOUT = 10


# -- CacheFTPHandler -------------------------------------------------------------------


def url_fetch(opener: urllib.request.OpenerDirector, url: str) -> bytes:
    """opener.open(url) and read it all."""
    with opener.open(url, timeout=URL_TIMEOUT) as response:
        return response.read()


# ==================================================================================================
# Tools/scripts/ftpmirror.py
# ==================================================================================================


MIRROR_USER = "mirror"
MIRROR_PASSWORD = "s3cr@t:/x"  # needs %-escapes in a URL

MIRROR_MANIFEST = ".ftpmirror.json"


def mirror_script_path() -> Path:
    """Tools/scripts/ftpmirror.py in this checkout, else beside the ftplib2 imported."""
    candidates = [
        REPO_ROOT / "Tools" / "scripts" / "ftpmirror.py",
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


# --------------------------------------------------------------------------
# Trees
# --------------------------------------------------------------------------


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


def mirror_parts(root: Path) -> list[Path]:
    return sorted(root.rglob("*.ftpmirror-part"))


# --------------------------------------------------------------------------
# Running the tool
# --------------------------------------------------------------------------


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

    def __init__(
        self, workdir: pathlib.Path, certfile: str, *, implicit: bool = False, ipv6: bool = False
    ) -> None:
        # vsftpd listens on one address family per process: ::1 with ipv6, else 127.0.0.1.
        self.host = "::1" if ipv6 else "127.0.0.1"
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
                    f"listen={'NO' if ipv6 else 'YES'}",
                    f"listen_ipv6={'YES' if ipv6 else 'NO'}",
                    f"listen_address{'6' if ipv6 else ''}={self.host}",
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


# ==================================================================================================
# Modern FTP: capabilities, typed listings, helpers, transfers
# ==================================================================================================


def proto_cmds_without(*names: str) -> dict[str, dict]:
    """The test servers' commands less `names`: pyftpdlib answers those with 500."""
    commands = {**FTPHandler.proto_cmds, **_TestServerBehaviour.extra_commands}
    return {name: spec for name, spec in commands.items() if name not in names}


def verbs_of(server: LiveServer, ftp: ftplib2.FTP) -> list[str]:
    """The command verbs (upper case, no arguments) `server` has received from `ftp`."""
    return [line.split(" ")[0].upper() for line in server.commands_of(ftp)]


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


# --------------------------------------------------------------------------
# Whole-file transfers: download and upload
# --------------------------------------------------------------------------


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
