"""Segmented downloads: download(..., segments=N) and ftpmirror --segments (issue 15).

Against live servers (pyftpdlib whose data connections are paced to a per-connection rate,
and vsftpd), this proves that a segmented download:

* arrives sha256-identical, in clear and with TLS (PROT P on every connection, each data
  connection resuming its control connection's TLS session, which vsftpd's
  require_ssl_reuse also insists on), into a path and into a file object;
* spreads over the connections asked for, and steals work: with one connection throttled ten
  times harder than the others, that connection moves little more than its fair share of
  the bytes (asserted on the bytes each connection moved, as the server counted them, not on
  wall time), whichever connection it is;
* opens fewer connections when the server refuses more (421 as it connects, 530 to the
  login), without trying again, and asks for no more than it got on later downloads;
* leaves a partial file and a record of the missing ranges when interrupted, never anything
  under the final name, and continues only the missing ranges with resume=True; a download
  in order (segments=1) continues such a partial file from its last byte without a hole;
* goes on when one connection fails, its range taken over by the others;
* closes every extra connection and socket before download() returns, on success and on
  error, and leaves the caller's connection usable;
* is checked with verify=True (a byte flipped in one range fails it);
* falls back to one connection where it cannot split (no SIZE, a small file).

The timing runs on a 64 MiB file are in the benchmark (Tools/bench, scenario ``segments``),
not here: these tests use files of a few MiB and rates that keep each under a second or two.

Run only these tests with::

    python -m pytest -q -p no:cacheprovider tests/test_segments.py
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import logging
import os
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import pytest
import trustme
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import TLS_DTPHandler, TLS_FTPHandler
from pyftpdlib.handlers.ftp.data import ThrottledDTPHandler
from pyftpdlib.ioloop import timer

import ftplib2
from tests.servers import (
    PASSWORD,
    TIMEOUT,
    USER,
    VSFTPD_PASSWORD,
    VSFTPD_USER,
    CallbackFailed,
    LiveServer,
    VsftpdServer,
    _ClearCommandChannel,
    _TestServerBehaviour,
    mirror_command,
    mirror_env,
    mirror_parts,
    mirror_run,
    partial_downloads,
    read_mirror_manifest,
    running_server,
)
from tests.test_checksums import FlippingDTPHandler, checksum_pyftpdlib

MiB = 1 << 20
RATE = 4 * MiB  # bytes per second each data connection of the paced server sends


# --------------------------------------------------------------------------
# The paced server: a per-connection rate, and what each session moved
# --------------------------------------------------------------------------


class Sessions:
    """The server's side of the story, shared by its handlers (all in the server's thread)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(
        self, rates: Callable[[int], int] | None = None, refuse_after: int = 0, per_ip: int = 0
    ) -> None:
        """Start counting afresh; `rates` gives the rate of the n-th login (1-based).

        `per_ip`: connections beyond that many get "421 Too many connections" as pyftpdlib's
        max_cons_per_ip gives it; `refuse_after`: logins beyond that many get a 530.
        """
        with self.lock:
            self.rates = rates or (lambda n: RATE)
            self.per_ip = per_ip
            self.connected = 0
            self.logins = 0
            self.live = 0  # sessions logged in now
            self.most_live = 0
            self.refused = 0  # logins refused with 530 (refuse_after), connections with 421
            self.refuse_after = refuse_after  # 530 to a login beyond that many live sessions
            self.sent: collections.Counter[int] = collections.Counter()  # by login number
            self.tls_data: collections.Counter[int] = collections.Counter()
            self.data: collections.Counter[int] = collections.Counter()

    def moved(self) -> list[int]:
        """Bytes sent on the data connections of each session, in login order."""
        with self.lock:
            return [self.sent[n] for n in range(1, self.logins + 1)]


class SessionHandler(_TestServerBehaviour):
    """Mixed into the control handler: numbers each login, gives its data connections a rate."""

    sessions: Sessions
    number = 0  # the login's number, 0 before it
    rate = RATE

    def ftp_PASS(self, line: str) -> None:
        state = self.sessions
        with state.lock:
            refuse = state.refuse_after and state.live >= state.refuse_after
            if refuse:
                state.refused += 1
        if refuse:
            self.respond("530 Sorry, the maximum number of clients from your host are connected.")
            return
        super().ftp_PASS(line)  # type: ignore[misc]
        if self.authenticated:  # type: ignore[attr-defined]
            with state.lock:
                state.logins += 1
                self.number = state.logins
                self.rate = state.rates(self.number)
                state.live += 1
                state.most_live = max(state.most_live, state.live)

    def handle(self) -> None:
        state = self.sessions
        with state.lock:
            full = bool(state.per_ip) and state.connected >= state.per_ip
            if full:
                state.refused += 1
            else:
                state.connected += 1
                self._connected = True
        if full:
            self.handle_max_cons_per_ip()  # type: ignore[attr-defined]
        else:
            super().handle()

    def close(self) -> None:
        if getattr(self, "_connected", False):
            self._connected = False
            with self.sessions.lock:
                self.sessions.connected -= 1
        super().close()  # type: ignore[misc]

    def on_logout(self, username: str) -> None:
        self._gone()

    def on_disconnect(self) -> None:
        self._gone()

    def _gone(self) -> None:
        if self.number and not getattr(self, "_counted_out", False):
            self._counted_out = True
            with self.sessions.lock:
                self.sessions.live -= 1


class PacedDTP:
    """Mixed into ThrottledDTPHandler: the session's rate, kept from the first byte on.

    pyftpdlib's own throttle lets a second's worth of bytes go at once and then sleeps for
    up to two seconds: a few MiB would pass unthrottled. This one sleeps as soon as the
    bytes sent run ahead of the rate.
    """

    def __init__(self, sock: socket.socket, cmd_channel: Any) -> None:
        self.write_limit = cmd_channel.rate  # before pyftpdlib sizes its buffers by it
        self._session = cmd_channel.number
        self._state: Sessions = cmd_channel.sessions
        self._began: float | None = None
        self._paced = 0
        super().__init__(sock, cmd_channel)  # type: ignore[call-arg]
        with self._state.lock:
            self._state.data[self._session] += 1
            if isinstance(self, TLS_DTPHandler):
                self._state.tls_data[self._session] += 1

    def send(self, data: bytes) -> int:
        sent = super().send(data)  # type: ignore[misc]
        with self._state.lock:
            self._state.sent[self._session] += sent
        return sent

    def _throttle_bandwidth(self, len_chunk: int, max_speed: int) -> None:
        now = timer()
        if self._began is None:
            self._began = now
        self._paced += len_chunk
        ahead = self._paced / max_speed - (now - self._began)
        if ahead > 0.001:

            def wake() -> None:
                self.add_channel(events=self.ioloop.WRITE)

            self.del_channel()
            self._cancel_throttler()
            self._throttler = self.ioloop.call_later(ahead, wake, _errback=self.handle_error)


class PacedDTPHandler(PacedDTP, ThrottledDTPHandler):
    pass


class PacedTLSDTPHandler(PacedDTP, ThrottledDTPHandler, TLS_DTPHandler):
    pass


class FailingDTPHandler(PacedDTPHandler):
    """Resets the data connections of the session `failing` (0: all) after `after` bytes."""

    failing = 2
    after = 512 << 10

    def send(self, data: bytes) -> int:
        failing = self.failing in (0, self._session)  # 0: every session
        if failing and self._state.sent[self._session] >= self.after:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
            # As for a network error: the transfer's final reply says it was aborted.
            self._resp = ("426 Connection reset; transfer aborted.", logging.getLogger().debug)
            self.close()
            return 0
        return super().send(data)


@contextlib.contextmanager
def paced_server(
    root: Path, authorizer: DummyAuthorizer, **attributes: Any
) -> Iterator[tuple[LiveServer, Sessions]]:
    sessions = Sessions()
    attributes.setdefault("dtp_handler", PacedDTPHandler)
    with running_server(
        ("127.0.0.1", 0),
        root,
        authorizer,
        mixins=(SessionHandler,),
        sessions=sessions,
        **attributes,
    ) as live:
        yield live, sessions


@pytest.fixture(scope="module")
def paced(ftp_root: Path, authorizer: DummyAuthorizer) -> Iterator[tuple[LiveServer, Sessions]]:
    with paced_server(ftp_root, authorizer) as server:
        yield server


@pytest.fixture
def sessions(paced: tuple[LiveServer, Sessions]) -> Sessions:
    paced[1].reset()
    return paced[1]


@pytest.fixture
def seg_dir(ftp_root: Path) -> Path:
    return Path(tempfile.mkdtemp(prefix="g-", dir=ftp_root))


def remote_file(directory: Path, size: int, name: str = "data.bin") -> bytes:
    data = os.urandom(size)
    (directory / name).write_bytes(data)
    return data


def login(
    server: LiveServer, directory: Path, cls: type[ftplib2.FTP] = ftplib2.FTP, **kw: Any
) -> Any:
    ftp = cls(timeout=TIMEOUT, **kw)
    try:
        ftp.connect(server.host, server.port)
        ftp.login(USER, PASSWORD)
        ftp.cwd(directory.name)
    except BaseException:
        ftp.close()
        raise
    return ftp


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@contextlib.contextmanager
def every_client_socket() -> Iterator[list[socket.socket]]:
    """Every socket created inside the block by any thread but the servers' (``ftpd-*``)."""
    opened: list[socket.socket] = []
    original_init = socket.socket.__init__

    def recording_init(sock: socket.socket, *args: object, **kwargs: object) -> None:
        original_init(sock, *args, **kwargs)
        if not threading.current_thread().name.startswith("ftpd-"):
            opened.append(sock)

    socket.socket.__init__ = recording_init  # type: ignore[method-assign]
    try:
        yield opened
    finally:
        socket.socket.__init__ = original_init  # type: ignore[method-assign]


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


# --------------------------------------------------------------------------
# The file arrives whole, over the connections asked for
# --------------------------------------------------------------------------


def test_segmented_download_is_identical_and_uses_every_connection(
    paced: tuple[LiveServer, Sessions], sessions: Sessions, seg_dir: Path, tmp_path: Path
) -> None:
    data = remote_file(seg_dir, 6 * MiB)
    target = tmp_path / "copy.bin"
    with every_client_socket() as sockets, login(paced[0], seg_dir) as ftp:
        assert ftp.download("data.bin", target, segments=4) == len(data)
        extra = [s for s in sockets if s.fileno() != -1 and s is not ftp.sock]
        assert extra == [], "download() returned with sockets of its own still open"
        assert ftp.voidcmd("NOOP")[:3] == "200"  # the caller's connection is in step
    assert sha(target.read_bytes()) == sha(data)
    moved = sessions.moved()
    assert len(moved) == 4 and sum(moved) >= len(data)
    # Each connection carried a real share, and little was fetched twice.
    assert min(moved) > len(data) // 8, moved
    assert sum(moved) < len(data) * 1.15, moved
    assert os.listdir(tmp_path) == ["copy.bin"]  # no partial file, no record left
    wait_for(lambda: sessions.live == 0, "the extra sessions were not closed")


def test_segmented_download_into_a_file_object(
    paced: tuple[LiveServer, Sessions], sessions: Sessions, seg_dir: Path, tmp_path: Path
) -> None:
    data = remote_file(seg_dir, 3 * MiB)
    with login(paced[0], seg_dir) as ftp, open(tmp_path / "f", "w+b") as fp:
        fp.write(b"header")
        assert ftp.download("data.bin", fp, segments=3) == len(data)
        assert fp.tell() == len(b"header") + len(data)
    assert (tmp_path / "f").read_bytes() == b"header" + data
    assert len(sessions.moved()) == 3


# --------------------------------------------------------------------------
# Work stealing
# --------------------------------------------------------------------------


@pytest.mark.parametrize("slow", [1, 2], ids=["the-callers-connection-slow", "an-extra-one-slow"])
def test_a_connection_ten_times_slower_moves_little_more_than_its_share(
    paced: tuple[LiveServer, Sessions], sessions: Sessions, seg_dir: Path, tmp_path: Path, slow: int
) -> None:
    data = remote_file(seg_dir, 8 * MiB)
    sessions.reset(rates=lambda n: RATE // 10 if n == slow else RATE)
    with login(paced[0], seg_dir) as ftp:
        ftp.download("data.bin", tmp_path / "copy.bin", segments=4)
    assert sha((tmp_path / "copy.bin").read_bytes()) == sha(data)
    moved = sessions.moved()
    assert len(moved) == 4
    # Rates 1 : 10 : 10 : 10, so the slow connection's share is 1/31 of the file. Split once
    # into quarters, as lftp's pget does, it would carry 1/4 (and take 2.5 s alone).
    share = len(data) / 31
    assert moved[slow - 1] < 2.5 * share, moved
    fast = [m for n, m in enumerate(moved, 1) if n != slow]
    assert min(fast) > len(data) / 5, moved


# --------------------------------------------------------------------------
# Refusals
# --------------------------------------------------------------------------


def test_a_server_that_takes_two_connections_gets_two(
    paced: tuple[LiveServer, Sessions], sessions: Sessions, seg_dir: Path, tmp_path: Path
) -> None:
    sessions.reset(per_ip=2)  # as pyftpdlib's max_cons_per_ip=2 answers
    data = remote_file(seg_dir, 3 * MiB)
    with login(paced[0], seg_dir) as ftp:
        ftp.download("data.bin", tmp_path / "a", segments=8)
        refused = sessions.refused
        # One extra connection first, then two more once it was up: both refused, and no
        # attempt after that.
        assert refused == 2
        assert sessions.most_live == 2
        wait_for(lambda: sessions.live == 1, "the extra session was not closed")
        # Later downloads on this connection ask for no more than the server took.
        ftp.download("data.bin", tmp_path / "b", segments=8)
        assert sessions.refused == refused
    for name in ("a", "b"):
        assert sha((tmp_path / name).read_bytes()) == sha(data)
    assert len(sessions.moved()) == 3  # the caller's connection, and one extra each time


def test_a_530_too_many_connections_to_the_login_is_a_refusal(
    paced: tuple[LiveServer, Sessions], sessions: Sessions, seg_dir: Path, tmp_path: Path
) -> None:
    data = remote_file(seg_dir, 3 * MiB)
    sessions.reset(refuse_after=3)
    with login(paced[0], seg_dir) as ftp:
        ftp.download("data.bin", tmp_path / "a", segments=8)
        assert sessions.most_live == 3
        refused = sessions.refused
        # The attempts under way when the first refusal came: never more than were accepted.
        assert 1 <= refused <= sessions.most_live
        ftp.download("data.bin", tmp_path / "b", segments=8)
        assert sessions.refused == refused
    assert sha((tmp_path / "a").read_bytes()) == sha((tmp_path / "b").read_bytes()) == sha(data)


# --------------------------------------------------------------------------
# Interrupted and resumed
# --------------------------------------------------------------------------


def interrupt_after(nbytes: int, final: Path) -> Callable[[int], None]:
    """A callback that fails the download once `nbytes` have arrived, checking the final name."""
    seen = 0
    lock = threading.Lock()

    def callback(n: int) -> None:
        nonlocal seen
        assert not final.exists(), "something under the final name before the end"
        with lock:
            seen += n
            if seen >= nbytes:
                raise CallbackFailed("interrupted on purpose")

    return callback


def test_an_interrupted_segmented_download_resumes_only_the_missing_ranges(
    paced: tuple[LiveServer, Sessions], sessions: Sessions, seg_dir: Path, tmp_path: Path
) -> None:
    data = remote_file(seg_dir, 6 * MiB)
    target = tmp_path / "copy.bin"
    with every_client_socket() as sockets, login(paced[0], seg_dir) as ftp:
        with pytest.raises(CallbackFailed):
            ftp.download("data.bin", target, segments=4, callback=interrupt_after(3 * MiB, target))
        assert [s for s in sockets if s.fileno() != -1 and s is not ftp.sock] == []
        assert not target.exists()
        parts = partial_downloads(tmp_path)
        assert len(parts) == 1
        records = [p for p in os.listdir(tmp_path) if p.endswith(".ftplib2-segments")]
        assert records == [parts[0].replace(".ftplib2-part", ".ftplib2-segments")]
        first = sum(sessions.moved())
        sessions.reset()
        ftp.download("data.bin", target, segments=4, resume=True)
    assert sha(target.read_bytes()) == sha(data)
    assert os.listdir(tmp_path) == ["copy.bin"]
    # Only what was missing came again (what the first run had in flight at the end, too).
    again = sum(sessions.moved())
    assert again < len(data) - first + 1.5 * MiB, (first, again)
    assert again < len(data) * 0.8


def test_a_download_in_order_continues_a_segmented_partial_file_after_its_last_byte_in_place(
    paced: tuple[LiveServer, Sessions], sessions: Sessions, seg_dir: Path, tmp_path: Path
) -> None:
    data = remote_file(seg_dir, 4 * MiB)
    target = tmp_path / "copy.bin"
    with login(paced[0], seg_dir) as ftp:
        with pytest.raises(CallbackFailed):
            ftp.download("data.bin", target, segments=4, callback=interrupt_after(2 * MiB, target))
        part = tmp_path / partial_downloads(tmp_path)[0]
        assert part.stat().st_size == len(data)  # preallocated: its holes are no data
        ftp.download("data.bin", target, resume=True)  # segments=1
    assert sha(target.read_bytes()) == sha(data)
    assert os.listdir(tmp_path) == ["copy.bin"]


def test_a_file_object_is_cut_back_to_its_first_hole_when_the_download_fails(
    paced: tuple[LiveServer, Sessions], sessions: Sessions, seg_dir: Path, tmp_path: Path
) -> None:
    data = remote_file(seg_dir, 4 * MiB)
    with login(paced[0], seg_dir) as ftp, open(tmp_path / "f", "w+b") as fp:
        with pytest.raises(CallbackFailed):
            ftp.download(
                "data.bin", fp, segments=4, callback=interrupt_after(2 * MiB, tmp_path / "x")
            )
        kept = fp.seek(0, os.SEEK_END)
        assert kept < len(data)
        fp.seek(0)
        assert fp.read() == data[:kept]
        ftp.download("data.bin", fp, segments=4, resume=True)
    assert (tmp_path / "f").read_bytes() == data


# --------------------------------------------------------------------------
# Failures
# --------------------------------------------------------------------------


def test_a_connection_that_fails_gives_its_range_to_the_others(
    ftp_root: Path, authorizer: DummyAuthorizer, seg_dir: Path, tmp_path: Path
) -> None:
    data = remote_file(seg_dir, 4 * MiB)
    with (
        paced_server(ftp_root, authorizer, dtp_handler=FailingDTPHandler) as (server, sessions),
        every_client_socket() as sockets,
        login(server, seg_dir) as ftp,
    ):
        ftp.download("data.bin", tmp_path / "copy.bin", segments=3)
        assert [s for s in sockets if s.fileno() != -1 and s is not ftp.sock] == []
        assert ftp.voidcmd("NOOP")[:3] == "200"
    assert sha((tmp_path / "copy.bin").read_bytes()) == sha(data)
    moved = sessions.moved()
    assert moved[FailingDTPHandler.failing - 1] <= FailingDTPHandler.after + (256 << 10)


class EveryConnectionFails(FailingDTPHandler):
    failing = 0  # every session's data connection is reset after `after` bytes
    after = 512 << 10


def test_retries_go_on_when_every_connection_failed(
    ftp_root: Path, authorizer: DummyAuthorizer, seg_dir: Path, tmp_path: Path
) -> None:
    data = remote_file(seg_dir, 8 * MiB)  # three connections fetch 1.5 MiB in each attempt
    with (
        paced_server(ftp_root, authorizer, dtp_handler=EveryConnectionFails) as (server, _),
        every_client_socket() as sockets,
        login(server, seg_dir) as ftp,
    ):
        ftp.retry_delay = 0.05
        with pytest.raises(ftplib2.all_errors):  # without retries: the error
            ftp.download("data.bin", tmp_path / "copy.bin", segments=3)
        assert not (tmp_path / "copy.bin").exists()
        ftp.reconnect()
        # With them: reconnect, and each attempt fetches only the ranges still missing.
        ftp.download("data.bin", tmp_path / "copy.bin", segments=3, retries=8, resume=True)
        assert [s for s in sockets if s.fileno() != -1 and s is not ftp.sock] == []
    assert sha((tmp_path / "copy.bin").read_bytes()) == sha(data)
    assert os.listdir(tmp_path) == ["copy.bin"]


def test_retries_apply_where_the_file_goes_on_one_connection_after_all(
    ftp_root: Path, authorizer: DummyAuthorizer, seg_dir: Path, tmp_path: Path
) -> None:
    data = remote_file(seg_dir, 250 << 10)  # too small to split
    with (
        paced_server(ftp_root, authorizer, dtp_handler=EveryConnectionFails) as (server, _),
        login(server, seg_dir) as ftp,
    ):
        EveryConnectionFails.after = 16 << 10
        try:
            ftp.retry_delay = 0.05
            ftp.download("data.bin", tmp_path / "copy.bin", segments=4, retries=5)
        finally:
            del EveryConnectionFails.after
    assert (tmp_path / "copy.bin").read_bytes() == data


def test_a_file_the_server_refuses_to_send_fails_the_download_at_once(
    paced: tuple[LiveServer, Sessions], sessions: Sessions, seg_dir: Path, tmp_path: Path
) -> None:
    with login(paced[0], seg_dir) as ftp:
        with pytest.raises(ftplib2.error_perm):
            ftp.download("missing.bin", tmp_path / "copy.bin", segments=4, size=4 * MiB)
        assert ftp.voidcmd("NOOP")[:3] == "200"
    assert os.listdir(tmp_path) == []


def test_segments_must_be_a_positive_integer(ftp: ftplib2.FTP, tmp_path: Path) -> None:
    for bad in (0, -2):
        with pytest.raises(ValueError, match="segments"):
            ftp.download("whatever", tmp_path / "x", segments=bad)


def test_a_small_file_or_no_size_goes_on_one_connection(
    paced: tuple[LiveServer, Sessions], sessions: Sessions, seg_dir: Path, tmp_path: Path
) -> None:
    small = remote_file(seg_dir, 100_000, "small.bin")
    with login(paced[0], seg_dir) as ftp:
        ftp.download("small.bin", tmp_path / "small.bin", segments=4)
    assert (tmp_path / "small.bin").read_bytes() == small
    assert len(sessions.moved()) == 1


# --------------------------------------------------------------------------
# TLS
# --------------------------------------------------------------------------


class RecordingTLS(ftplib2.FTP_TLS):
    """Records, for every connection of its class, whether each TLS session was resumed."""

    resumed: ClassVar[list[tuple[str, bool]]] = []

    def auth(self) -> ftplib2.Reply:
        resp = super().auth()
        self.resumed.append(("control", self.sock.session_reused))
        return resp

    def ntransfercmd(
        self, cmd: str, rest: int | str | None = None
    ) -> tuple[socket.socket, int | None]:
        conn, size = super().ntransfercmd(cmd, rest)
        self.resumed.append(("data", isinstance(conn, ssl.SSLSocket) and conn.session_reused))
        return conn, size


@pytest.fixture(scope="module")
def paced_tls(
    ftp_root: Path,
    authorizer: DummyAuthorizer,
    certificate_authority: trustme.CA,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[LiveServer, Sessions]]:
    pem = tmp_path_factory.mktemp("tls") / "server.pem"
    certificate_authority.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(
        str(pem)
    )

    class Handler(SessionHandler, _ClearCommandChannel):
        extra_commands = _ClearCommandChannel.extra_commands

    sessions = Sessions()
    with running_server(
        ("127.0.0.1", 0),
        ftp_root,
        authorizer,
        handler_base=TLS_FTPHandler,
        mixins=(Handler,),
        sessions=sessions,
        certfile=str(pem),
        ssl_context=None,
        dtp_handler=PacedTLSDTPHandler,
    ) as live:
        yield live, sessions


def test_tls_protects_every_connection_and_resumes_its_session(
    paced_tls: tuple[LiveServer, Sessions],
    tls_client_context: ssl.SSLContext,
    seg_dir: Path,
    tmp_path: Path,
) -> None:
    server, sessions = paced_tls
    sessions.reset()
    data = remote_file(seg_dir, 4 * MiB)
    RecordingTLS.resumed.clear()
    with every_client_socket() as sockets:
        ftp = login(server, seg_dir, RecordingTLS, context=tls_client_context)
        with ftp:
            ftp.prot_p()
            ftp.download("data.bin", tmp_path / "copy.bin", segments=3)
            assert [s for s in sockets if s.fileno() != -1 and s is not ftp.sock] == []
    assert sha((tmp_path / "copy.bin").read_bytes()) == sha(data)
    assert len(sessions.moved()) == 3
    assert sessions.tls_data == sessions.data  # PROT P on every data connection
    controls = [reused for kind, reused in RecordingTLS.resumed if kind == "control"]
    data_conns = [reused for kind, reused in RecordingTLS.resumed if kind == "data"]
    assert controls == [False, True, True]  # the extra connections resumed the first's session
    assert len(data_conns) >= 3 and all(data_conns)


# --------------------------------------------------------------------------
# vsftpd
# --------------------------------------------------------------------------


@pytest.mark.parametrize("secure", [False, True], ids=["clear", "tls"])
def test_segmented_download_from_vsftpd(
    vsftpd: VsftpdServer, tls_client_context: ssl.SSLContext, tmp_path: Path, secure: bool
) -> None:
    data = os.urandom(5 * MiB)
    name = f"seg-{os.urandom(4).hex()}.bin"
    (vsftpd.root / name).write_bytes(data)
    os.chmod(vsftpd.root / name, 0o644)
    try:
        with every_client_socket() as sockets:
            if secure:
                ftp = ftplib2.FTP_TLS.secure(
                    vsftpd.host, VSFTPD_USER, VSFTPD_PASSWORD, port=vsftpd.port,
                    context=tls_client_context, timeout=TIMEOUT,
                )  # fmt: skip
            else:
                ftp = ftplib2.FTP(timeout=TIMEOUT)
                ftp.connect(vsftpd.host, vsftpd.port)
                ftp.login(VSFTPD_USER, VSFTPD_PASSWORD)
            with ftp:
                ftp.download(name, tmp_path / "copy.bin", segments=4)
                assert ftp.voidcmd("NOOP")[:3] == "200"
                assert [s for s in sockets if s.fileno() != -1 and s is not ftp.sock] == []
    finally:
        (vsftpd.root / name).unlink()
    assert sha((tmp_path / "copy.bin").read_bytes()) == sha(data)


# --------------------------------------------------------------------------
# verify=True
# --------------------------------------------------------------------------


def test_a_verified_segmented_download_is_checked_by_the_servers_checksum(
    ftp_root: Path, authorizer: DummyAuthorizer, seg_dir: Path, tmp_path: Path
) -> None:
    data = remote_file(seg_dir, 3 * MiB)
    with checksum_pyftpdlib(ftp_root, authorizer) as server, login(server, seg_dir) as ftp:
        assert ftp.download("data.bin", tmp_path / "copy.bin", segments=3, verify=True)
    assert sha((tmp_path / "copy.bin").read_bytes()) == sha(data)
    with (
        checksum_pyftpdlib(ftp_root, authorizer, dtp_handler=FlippingDTPHandler) as server,
        login(server, seg_dir) as ftp,
        pytest.raises(ftplib2.error_proto),
    ):
        ftp.download("data.bin", tmp_path / "bad.bin", segments=3, verify=True)
    assert not (tmp_path / "bad.bin").exists()
    assert partial_downloads(tmp_path) == []


# --------------------------------------------------------------------------
# ftpmirror --segments
# --------------------------------------------------------------------------


def mirror_tree(directory: Path) -> dict[str, bytes]:
    files = {"big.bin": os.urandom(3 * MiB), "small.txt": b"small\n" * 100}
    for name, data in files.items():
        (directory / name).write_bytes(data)
    return files


def test_mirror_fetches_files_above_the_threshold_in_segments(
    mirror_tool: ModuleType,
    paced: tuple[LiveServer, Sessions],
    sessions: Sessions,
    seg_dir: Path,
    tmp_path: Path,
) -> None:
    files = mirror_tree(seg_dir)
    local = tmp_path / "local"
    server = paced[0]
    result = mirror_run(
        mirror_tool, "--segments", "4", "--segment-threshold", "1M",
        "-l", USER, "-p", PASSWORD, f"{server.host}:{server.port}", seg_dir.name, local,
    )  # fmt: skip
    assert result.status == 0, result.err
    for name, data in files.items():
        assert (local / name).read_bytes() == data
    moved = sessions.moved()
    assert len(moved) == 4, moved  # the mirror's connection, and three for big.bin
    assert min(moved) > MiB // 4, moved
    manifest = read_mirror_manifest(local)
    assert set(manifest["files"]) == set(files) and manifest["partial"] == {}
    assert mirror_parts(local) == []


def test_mirror_segments_below_the_threshold_use_one_connection(
    mirror_tool: ModuleType,
    paced: tuple[LiveServer, Sessions],
    sessions: Sessions,
    seg_dir: Path,
    tmp_path: Path,
) -> None:
    files = mirror_tree(seg_dir)
    server = paced[0]
    result = mirror_run(
        mirror_tool, "--segments", "4", "-l", USER, "-p", PASSWORD,
        f"{server.host}:{server.port}", seg_dir.name, tmp_path / "local",
    )  # fmt: skip
    assert result.status == 0, result.err
    assert (tmp_path / "local" / "big.bin").read_bytes() == files["big.bin"]
    assert len(sessions.moved()) == 1  # 3 MiB is below the default threshold


def test_a_mirror_killed_during_a_segmented_transfer_never_keeps_its_holes(
    mirror_tool: ModuleType,
    paced: tuple[LiveServer, Sessions],
    sessions: Sessions,
    seg_dir: Path,
    tmp_path: Path,
) -> None:
    data = remote_file(seg_dir, 6 * MiB, "big.bin")
    sessions.reset(rates=lambda n: MiB)  # 1.5 s at four connections: time to kill it
    local = tmp_path / "local"
    server = paced[0]
    argv = [
        "--continue", "--segments", "4", "--segment-threshold", "1M",
        "-l", USER, "-p", PASSWORD, f"{server.host}:{server.port}", seg_dir.name, local,
    ]  # fmt: skip
    with subprocess.Popen(
        mirror_command(*argv), env=mirror_env(tmp_path), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
    ) as process:  # fmt: skip
        try:
            wait_for(lambda: sum(sessions.moved()) > 2 * MiB, "the transfer did not start")
        finally:
            process.kill()
    parts = mirror_parts(local)
    assert len(parts) == 1 and parts[0].stat().st_size == len(data)  # holes and all
    sessions.reset()
    result = mirror_run(mirror_tool, *argv)
    assert result.status == 0, result.err
    assert sha((local / "big.bin").read_bytes()) == sha(data)


def test_a_mirror_whose_segmented_transfer_failed_continues_it(
    mirror_tool: ModuleType,
    paced: tuple[LiveServer, Sessions],
    sessions: Sessions,
    seg_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = remote_file(seg_dir, 4 * MiB, "big.bin")
    local = tmp_path / "local"
    server = paced[0]
    argv = [
        "--continue", "--segments", "4", "--segment-threshold", "1M",
        "-l", USER, "-p", PASSWORD, f"{server.host}:{server.port}", seg_dir.name, local,
    ]  # fmt: skip
    with monkeypatch.context() as patch:  # every data connection fails after 512 KiB
        patch.setattr(server.handler, "dtp_handler", FailingDTPHandler)
        patch.setattr(FailingDTPHandler, "failing", 0)
        result = mirror_run(mirror_tool, *argv)
    assert result.status == 1 and "big.bin" in result.err
    parts = mirror_parts(local)
    kept = parts[0].stat().st_size
    assert len(parts) == 1 and 0 < kept < len(data)  # cut back to its first hole
    assert parts[0].read_bytes() == data[:kept]
    assert not (local / "big.bin").exists()
    result = mirror_run(mirror_tool, *argv)
    assert result.status == 0, result.err
    assert sha((local / "big.bin").read_bytes()) == sha(data)
    sent = [line for lines in server.received.values() for line in lines]
    assert f"REST {kept}" in sent  # continued, not started again
