"""A seeded, fault-injecting TCP proxy for FTP, for tests and benchmarks on loopback.

`FaultProxy` stands between an FTP client and a server: clients connect to the
proxy's own loopback address (127.0.0.2 by default) on its control port, and
the proxy connects on to the server.  Data connections go through it too, in
passive mode, without rewriting any reply (so TLS-protected control
connections work): the server offers ports of a fixed passive range (pyftpdlib's
``passive_ports``, vsftpd's ``pasv_min_port``/``pasv_max_port``) on its own
address, a client takes the host from its control connection's peer (ftplib2's
default), so it connects to the proxy's address on that port, where the proxy
listens on every port of the range and forwards to the server's.  The server
sees every connection come from one address, as its peer checks require.
Active mode bypasses the proxy.

Faults are scheduled in advance, in an order and at byte offsets drawn from a
seeded `random.Random`, so a run is reproducible.  Those of data connections
(all but ``421``) fire one at a time, first scheduled first; ``421`` faults,
in their own order, at their own occasions:

``fin``
    the next data connection that moves `offset` bytes (counted from when the
    fault became due, or the connection opened) is closed (FIN) towards
    the receiver after exactly those bytes, and reset towards the sender.
``rst``
    the same, reset (RST) both ways, dropping what the proxy holds.
``control``
    when the next data connection has moved `offset` bytes, every control
    connection is cut (with FIN or RST, drawn), the data connection left alone.
``stall``
    the next data connection stops moving bytes at `offset`, both ways, until
    the client closes or resets it (the moment it reacts is recorded); then
    the proxy resets the server's side, as a middlebox that drops the state.
``refuse``
    the next data connection is reset at once, on both sides: the client's as
    soon as it is accepted, the server's as soon as it is made, so that no
    server is left waiting for a data connection (vsftpd would hold the file
    of a STOR locked for its accept_timeout, a minute).
``flip``
    the next data connection that moves `offset` bytes goes on, but the byte at
    that offset reaches the receiver inverted: a damaged transfer whose size is
    right, which only a checksum sees.  Not in `KINDS`, the faults a transfer
    with retries is to survive.
``421``
    the next transfer command (RETR, STOR, APPE, STOU) seen on a clear-text
    control connection, or the next control connection, whichever comes first,
    is answered ``421`` and the control connection closed.  Under TLS only the
    greeting can be answered.

`latency` delays every chunk by that many seconds each way, for benchmarks.
`socket_buffer` fixes the send and receive buffers of the proxy's sockets (None:
the kernel's autotuning, which on loopback grows them to megabytes): what is in
flight when a connection is reset is lost, and a real path holds about its
bandwidth-delay product, not what loopback would.
The proxy runs one selector loop in one thread; `stop` closes every socket it
opened or accepted, and `open_sockets` counts those still open.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import random
import select
import selectors
import socket
import struct
import threading
import time
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import Self

FIN = "fin"
RST = "rst"
CONTROL = "control"
STALL = "stall"
REFUSE = "refuse"
REPLY_421 = "421"
FLIP = "flip"
KINDS = (FIN, RST, CONTROL, STALL, REFUSE, REPLY_421)
"""The network's faults; FLIP, a damaged byte, is not among them."""
DATA_FAULTS = frozenset({FIN, RST, CONTROL, STALL, FLIP})
"""The kinds that fire once a data connection has moved their offset."""

TRANSFER_VERBS = frozenset({"RETR", "STOR", "APPE", "STOU"})
REPLY_421_TEXT = b"421 Service not available, closing control connection.\r\n"

_CHUNK = 1 << 18  # bytes per recv
_BUFFERED = 1 << 18  # the most bytes held per direction before reading stops
_TICK = 0.05  # seconds between checks for stop() and delayed chunks


@dataclasses.dataclass
class Fault:
    """One scheduled fault, and what became of it."""

    kind: str
    offset: int = 0
    """Data faults: the bytes a data connection moves before the fault fires."""
    how: str = FIN
    """`CONTROL` faults: whether the control connections are cut with FIN or RST."""
    fired: float | None = None
    """time.monotonic() when it fired; None while pending."""
    where: str = ""
    """Where it fired, for reports."""
    reacted: float | None = None
    """`STALL` faults: when the client first reacted (closed, reconnected, sent a command)."""

    @property
    def detection(self) -> float | None:
        """Seconds from a stall to the client's reaction, or None."""
        if self.fired is None or self.reacted is None:
            return None
        return self.reacted - self.fired


class _Half:
    """One direction of a proxied connection: what was read from `src`, owed to `dst`."""

    def __init__(self, src: socket.socket, dst: socket.socket, to_client: bool) -> None:
        self.src = src
        self.dst = dst
        self.to_client = to_client
        self.chunks: collections.deque[tuple[float, memoryview]] = collections.deque()
        self.buffered = 0
        self.read = 0  # bytes read from src
        self.eof = False  # src has nothing more to send
        self.shut = False  # dst was told so (SHUT_WR)

    def ready(self, now: float) -> bool:
        return bool(self.chunks) and self.chunks[0][0] <= now


class _Pipe:
    """A client connection and the proxy's connection to the server on its behalf."""

    def __init__(self, kind: str, client: socket.socket, server: socket.socket) -> None:
        self.kind = kind  # "control" or "data"
        self.client = client
        self.server = server
        self.up = _Half(client, server, to_client=False)
        self.down = _Half(server, client, to_client=True)
        self.moved = 0  # data: bytes read either way, against a fault's offset
        self.trip: Fault | None = None  # a fault to fire once what was read is written
        self.stalled: Fault | None = None
        self.opaque = kind == "data"  # control: TLS, or otherwise past parsing
        self.line = bytearray()  # control, clear text: a command still incomplete
        self.closing = False  # control: close once the client has everything owed
        self.server_gone = False  # control: the proxy closed the server side (421)

    def halves(self) -> tuple[_Half, _Half]:
        return self.up, self.down

    def sockets(self) -> tuple[socket.socket, ...]:
        return (self.client,) if self.server_gone else (self.client, self.server)


def _reset(sock: socket.socket) -> None:
    """Close `sock` with a TCP reset."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _finish(sock: socket.socket) -> None:
    """Close `sock` after a FIN (unread bytes may still turn the close into a reset)."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_WR)
    sock.close()


class FaultProxy:
    """A proxy between FTP clients and the server at `upstream`; see the module docstring.

    `passive_ports` is the server's passive range: the proxy listens on each
    of those ports on `listen_host`.  `seed` makes `schedule` reproducible.
    """

    def __init__(
        self,
        upstream: tuple[str, int],
        passive_ports: Iterable[int],
        *,
        listen_host: str = "127.0.0.2",
        seed: int = 0,
        latency: float = 0.0,
        socket_buffer: int | None = 1 << 18,
    ) -> None:
        self.upstream = upstream
        self.host = listen_host
        self.latency = latency
        self.socket_buffer = socket_buffer
        self.random = random.Random(seed)
        self.faults: collections.deque[Fault] = collections.deque()
        self.fired: list[Fault] = []
        self.bytes_to_client = 0  # data connections only
        self.bytes_to_server = 0
        self.control_connections = 0
        self.data_connections = 0
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._pipes: list[_Pipe] = []
        self._owner: dict[socket.socket, _Pipe] = {}
        self._registered: dict[socket.socket, int] = {}
        self._opened: list[socket.socket] = []
        self._listeners: dict[socket.socket, tuple[str, int]] = {}
        self._selector = selectors.DefaultSelector()
        try:
            control = self._listen(0)
            self.port = control.getsockname()[1]
            self._listeners[control] = ("control", upstream[1])
            for port in passive_ports:
                self._listeners[self._listen(port)] = ("data", port)
        except BaseException:
            self._close_all()
            raise
        # Named as the test servers' threads are, whose sockets are not the client's to close.
        self._thread = threading.Thread(target=self._run, name="ftpd-fault-proxy", daemon=True)
        self._thread.start()

    # -- the test's side -------------------------------------------------------

    def schedule(
        self, kinds: Sequence[str], *, max_offset: int, min_offset: int = 1 << 16
    ) -> list[Fault]:
        """Add a fault of each of `kinds`, in a seeded random order; return them.

        Data faults fire at a byte offset drawn from [`min_offset`, `max_offset`].
        """
        for kind in kinds:
            if kind not in KINDS and kind != FLIP:
                raise ValueError(f"unknown fault kind {kind!r}")
        order = list(kinds)
        self.random.shuffle(order)
        added = []
        for kind in order:
            fault = Fault(kind)
            if kind in DATA_FAULTS:
                fault.offset = self.random.randint(min_offset, max_offset)
            if kind == CONTROL:
                fault.how = self.random.choice((FIN, RST))
            added.append(fault)
        with self._lock:
            self.faults.extend(added)
        return added

    def pending(self) -> int:
        """How many scheduled faults have not fired yet."""
        with self._lock:
            return len(self.faults)

    def clear(self) -> None:
        """Drop the faults that have not fired."""
        with self._lock:
            self.faults.clear()

    def open_sockets(self) -> int:
        """How many sockets the proxy opened or accepted are still open."""
        return sum(1 for sock in self._opened if sock.fileno() != -1)

    def stop(self) -> None:
        """Stop the loop and close every socket; safe to repeat."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(10)
        if self._thread.is_alive():
            raise RuntimeError("the fault proxy did not stop")

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- the loop ------------------------------------------------------------------

    def _listen(self, port: int) -> socket.socket:
        sock = socket.create_server((self.host, port), backlog=64)
        self._opened.append(sock)
        sock.setblocking(False)
        return sock

    def _run(self) -> None:
        try:
            for listener in self._listeners:
                self._selector.register(listener, selectors.EVENT_READ)
            while not self._stopping.is_set():
                now = time.monotonic()
                self._update_registrations(now)
                for key, events in self._selector.select(self._next_wait(now)):
                    sock = key.fileobj
                    assert isinstance(sock, socket.socket)
                    if sock in self._listeners:
                        self._accept(sock)
                        continue
                    pipe = self._owner.get(sock)
                    if pipe is None:  # closed by an earlier event of this round
                        continue
                    if events & selectors.EVENT_READ:
                        self._on_readable(pipe, sock)
                    if events & selectors.EVENT_WRITE and sock in self._owner:
                        self._on_writable(pipe, sock, time.monotonic())
                self._check_stalled()
        finally:
            self._close_all()

    def _check_stalled(self) -> None:
        """Close a stalled upload whose client has gone (reset or closed): not a byte is read."""
        for pipe in [p for p in self._pipes if p.stalled is not None]:
            poller = select.poll()
            poller.register(
                pipe.client, select.POLLHUP | select.POLLERR | getattr(select, "POLLRDHUP", 0)
            )
            if poller.poll(0):
                self._client_reacted()
                self._close_pipe(pipe, reset=True)

    def _close_all(self) -> None:
        for pipe in list(self._pipes):
            self._close_pipe(pipe)
        for listener in list(self._listeners):
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(listener)
            listener.close()
        self._selector.close()

    def _next_wait(self, now: float) -> float:
        wait = _TICK
        for pipe in self._pipes:
            for half in pipe.halves():
                if half.chunks and not pipe.stalled:
                    wait = min(wait, max(0.0, half.chunks[0][0] - now))
        return wait

    def _wanted(self, pipe: _Pipe, sock: socket.socket, now: float) -> int:
        if pipe.stalled is not None:
            # Nothing moves; a client that closes a stalled download is seen (it sends nothing).
            downloading = pipe.down.read >= pipe.up.read
            return selectors.EVENT_READ if sock is pipe.client and downloading else 0
        events = 0
        for half in pipe.halves():
            if half.src is sock and not half.eof and half.buffered < _BUFFERED and not pipe.trip:
                events |= selectors.EVENT_READ
            if half.dst is sock and half.ready(now):
                events |= selectors.EVENT_WRITE
        return events

    def _update_registrations(self, now: float) -> None:
        for pipe in self._pipes:
            for sock in pipe.sockets():
                wanted = self._wanted(pipe, sock, now)
                current = self._registered.get(sock, 0)
                if wanted == current:
                    continue
                if not wanted:
                    self._selector.unregister(sock)
                    del self._registered[sock]
                elif not current:
                    self._selector.register(sock, wanted)
                    self._registered[sock] = wanted
                else:
                    self._selector.modify(sock, wanted)
                    self._registered[sock] = wanted

    # -- connections -----------------------------------------------------------------

    def _head(self, data: bool = True) -> Fault | None:
        """The first pending fault of data connections, or (`data` false) the first 421."""
        with self._lock:
            for fault in self.faults:
                if (fault.kind != REPLY_421) == data:
                    return fault
        return None

    def _fire(self, fault: Fault, where: str) -> bool:
        """Take `fault` off the schedule if it is still due; return whether it was."""
        with self._lock:
            if self._head(fault.kind != REPLY_421) is not fault:
                return False
            self.faults.remove(fault)
        fault.fired = time.monotonic()
        fault.where = where
        self.fired.append(fault)
        for pipe in self._pipes:  # the next fault's offset counts from now
            pipe.moved = 0
        return True

    def _client_reacted(self) -> None:
        now = time.monotonic()
        for fault in self.fired:
            if fault.kind == STALL and fault.reacted is None:
                fault.reacted = now

    def _accept(self, listener: socket.socket) -> None:
        kind, port = self._listeners[listener]
        try:
            client, _ = listener.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return
        self._opened.append(client)
        # ABOR comes as urgent data: its last byte must stay in the stream passed on.
        client.setsockopt(socket.SOL_SOCKET, socket.SO_OOBINLINE, 1)
        self._client_reacted()
        head = self._head(data=kind == "data")
        if kind == "data":
            self.data_connections += 1
            if head is not None and head.kind == REFUSE and self._fire(head, f"data port {port}"):
                _reset(client)
                with contextlib.suppress(OSError):
                    server = socket.create_connection((self.upstream[0], port), timeout=5)
                    self._opened.append(server)
                    _reset(server)
                return
        else:
            self.control_connections += 1
            if head is not None and head.kind == REPLY_421 and self._fire(head, "greeting"):
                with contextlib.suppress(OSError):
                    client.send(REPLY_421_TEXT)
                _finish(client)
                return
        try:
            server = socket.create_connection((self.upstream[0], port), timeout=5)
        except OSError:
            _reset(client)
            return
        self._opened.append(server)
        for sock in (client, server):
            sock.setblocking(False)
            if self.socket_buffer is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.socket_buffer)
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.socket_buffer)
        pipe = _Pipe(kind, client, server)
        self._pipes.append(pipe)
        self._owner[client] = pipe
        self._owner[server] = pipe

    def _close_pipe(self, pipe: _Pipe, *, reset: bool = False) -> None:
        if pipe not in self._pipes:
            return
        self._pipes.remove(pipe)
        for sock in pipe.sockets():
            self._owner.pop(sock, None)
            if self._registered.pop(sock, 0):
                self._selector.unregister(sock)
            if reset:
                _reset(sock)
            else:
                sock.close()

    def _on_readable(self, pipe: _Pipe, sock: socket.socket) -> None:
        if pipe.trip is not None:  # past a fault's offset: nothing more is read
            return
        half = pipe.up if sock is pipe.client else pipe.down
        try:
            data = sock.recv(_CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:  # reset: so is the other side
            if sock is pipe.client:
                self._client_reacted()
            self._close_pipe(pipe, reset=True)
            return
        if pipe.stalled is not None:  # the client closed (or wrote to) a stalled connection
            self._client_reacted()
            self._close_pipe(pipe, reset=True)
            return
        if not data:
            half.eof = True
            if sock is pipe.client and pipe.kind == "data":
                self._client_reacted()
            self._after_write(pipe, half)
            return
        half.read += len(data)
        if pipe.kind == "control":
            if sock is pipe.client:
                self._client_reacted()
                if not pipe.opaque:
                    self._parse_commands(pipe, data)
                    return
            self._queue(half, data)
            return
        head = self._head()
        at = 0 if head is None else max(head.offset - pipe.moved, 0)
        if head is not None and head.kind == FLIP and len(data) > at:
            if self._fire(head, f"data, byte {head.offset} flipped"):
                data = data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]
        elif head is not None and head.kind in DATA_FAULTS and pipe.trip is None:
            remaining = head.offset - pipe.moved
            if len(data) >= remaining:
                if head.kind != CONTROL:  # which goes on carrying the data connection's bytes
                    data = data[: max(remaining, 0)]
                if head.kind == RST:
                    if self._fire(head, f"data, after {head.offset} bytes, RST"):
                        self._close_pipe(pipe, reset=True)
                        return
                else:
                    pipe.trip = head
        pipe.moved += len(data)
        if data:
            self._queue(half, data)
        if pipe.trip is not None and not half.chunks:
            self._trip(pipe)

    def _queue(self, half: _Half, data: bytes) -> None:
        half.chunks.append((time.monotonic() + self.latency, memoryview(data)))
        half.buffered += len(data)

    def _parse_commands(self, pipe: _Pipe, data: bytes) -> None:
        """Pass the client's clear-text commands on, line by line, answering 421 where due."""
        pipe.line += data
        while pipe.line and not pipe.opaque:
            if pipe.line[:1] == b"\x16":  # a TLS record: implicit FTPS
                pipe.opaque = True
                break
            end = pipe.line.find(b"\n")
            if end < 0:
                if len(pipe.line) <= 8192:
                    return
                pipe.opaque = True  # no FTP command line is that long: stop parsing
                break
            line = bytes(pipe.line[: end + 1])
            del pipe.line[: end + 1]
            verb = line.split(b" ", 1)[0].strip().upper()
            head = self._head(data=False)
            if (
                head is not None
                and head.kind == REPLY_421
                and verb.decode("ascii", "replace") in TRANSFER_VERBS
                and self._fire(head, verb.decode("ascii", "replace"))
            ):
                # The server is gone: the command never reaches it, the client gets 421.
                self._drop_server(pipe)
                pipe.line.clear()
                self._queue(pipe.down, REPLY_421_TEXT)
                pipe.closing = True
                return
            if verb == b"AUTH":
                pipe.opaque = True  # TLS from the next byte
            self._queue(pipe.up, line)
        if pipe.line:
            rest = bytes(pipe.line)
            pipe.line.clear()
            self._queue(pipe.up, rest)

    def _on_writable(self, pipe: _Pipe, sock: socket.socket, now: float) -> None:
        half = pipe.down if sock is pipe.client else pipe.up
        while half.ready(now):
            when, view = half.chunks[0]
            try:
                n = sock.send(view)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self._close_pipe(pipe, reset=True)
                return
            half.buffered -= n
            if pipe.kind == "data":
                if half.to_client:
                    self.bytes_to_client += n
                else:
                    self.bytes_to_server += n
            if n < len(view):
                half.chunks[0] = (when, view[n:])
                return
            half.chunks.popleft()
        self._after_write(pipe, half)

    def _after_write(self, pipe: _Pipe, half: _Half) -> None:
        """Pass on an end of stream, fire a fault that waited for its bytes, close when done."""
        if half.chunks or pipe not in self._pipes:
            return
        if pipe.trip is not None:
            self._trip(pipe)
            return
        if pipe.closing:  # once the 421 reply is out, the connection goes
            if not pipe.down.chunks:
                self._close_pipe(pipe)
            return
        if half.eof and not half.shut:
            half.shut = True
            with contextlib.suppress(OSError):
                half.dst.shutdown(socket.SHUT_WR)
        if pipe.up.shut and pipe.down.shut:
            self._close_pipe(pipe)

    def _trip(self, pipe: _Pipe) -> None:
        fault, pipe.trip = pipe.trip, None
        assert fault is not None
        if not self._fire(fault, f"data, after {fault.offset} bytes"):
            return  # another data connection fired it first: carry on
        if fault.kind == FIN:
            # The receiver sees a clean end of its bytes; the sender, a reset.
            downloading = pipe.down.read >= pipe.up.read
            receiver, sender = (
                (pipe.client, pipe.server) if downloading else (pipe.server, pipe.client)
            )
            self._close_pipe_sockets(pipe)
            _finish(receiver)
            _reset(sender)
        elif fault.kind == STALL:
            pipe.stalled = fault
        elif fault.kind == CONTROL:
            fault.where += f", control cut with {fault.how.upper()}"
            for other in [p for p in self._pipes if p.kind == "control"]:
                if fault.how == RST:
                    self._close_pipe(other, reset=True)
                else:
                    sockets = other.sockets()
                    self._close_pipe_sockets(other)
                    for sock in sockets:
                        _finish(sock)

    def _drop_server(self, pipe: _Pipe) -> None:
        """Close the server side of a control connection; the client side stays, to be answered."""
        self._owner.pop(pipe.server, None)
        if self._registered.pop(pipe.server, 0):
            self._selector.unregister(pipe.server)
        pipe.server.close()
        pipe.server_gone = True
        pipe.up.chunks.clear()
        pipe.up.buffered = 0
        pipe.up.eof = pipe.up.shut = True
        pipe.down.eof = True

    def _close_pipe_sockets(self, pipe: _Pipe) -> None:
        """Forget `pipe` without closing its sockets: the caller closes them its own way."""
        self._pipes.remove(pipe)
        for sock in pipe.sockets():
            self._owner.pop(sock, None)
            if self._registered.pop(sock, 0):
                self._selector.unregister(sock)


def free_port_range(
    count: int, host: str = "127.0.0.2", *, rng: random.Random | None = None
) -> range:
    """`count` consecutive ports outside the kernel's ephemeral range, free on `host` and 127.0.0.1.

    Passive ports there are never taken by a client's outgoing connection, and a
    test's leave no TIME_WAIT in the range other tests bind port 0 from.
    """
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range", encoding="ascii") as ports:
            low, high = map(int, ports.read().split())
    except OSError:
        low, high = 32768, 60999
    rng = rng or random.Random()
    candidates = [(high + 300, 65535 - count), (1024 + 1000, low - count)]
    for _ in range(200):
        first, last = rng.choice(candidates)
        if last <= first:
            continue
        base = rng.randint(first, last)
        span = range(base, base + count)
        if all(_bindable(h, port) for port in span for h in (host, "127.0.0.1")):
            return span
    raise OSError("no free range of passive ports")


def _bindable(host: str, port: int) -> bool:
    try:
        with socket.create_server((host, port)):
            return True
    except OSError:
        return False


def control_pipes(proxy: FaultProxy) -> int:
    """How many control connections the proxy is carrying now (for tests)."""
    return sum(1 for pipe in list(proxy._pipes) if pipe.kind == "control")


def fired_kinds(faults: Iterable[Fault]) -> collections.Counter[str]:
    """How many faults of each kind fired."""
    return collections.Counter(f.kind for f in faults if f.fired is not None)
