"""A wide-area network on loopback: a delay line in user space, in front of FTP servers.

The servers listen on SERVER_HOST (127.0.0.2) with fixed passive port ranges and
announce LISTEN_HOST (127.0.0.1) in their PASV replies; the proxy listens on the
same ports of LISTEN_HOST and relays every connection to the server's port.  The
kernel's network settings are left alone (kernel netem is not available here
anyway): all the delay is added here, in user space.

What it adds, with `rtt` the round-trip time it emulates:

- Every chunk of bytes read from one side is written to the other rtt/2 later,
  in order; so is the end of a stream (a shutdown), and a reset.
- A new connection reaches its far side 1.5 rtt after connect(): the moment a
  real handshake's last ACK would arrive.  Bytes the connecting side writes in
  the meantime wait for it.  The connecting side's own connect() returns at once
  (the proxy accepts it), which changes nothing it can tell: whatever it sends
  cannot arrive earlier than the connection does.
- PORT and EPRT commands on a control connection are rewritten to a port of the
  proxy's own, which relays the server's data connection to the client's port
  with the same delays: active mode crosses the same network.
- Optionally, a bandwidth cap per connection and direction (`rate` bytes/s):
  chunks leave one after another at that rate, then take rtt/2.

Run as ``bench.py --role delay-proxy PORT...`` (see `run`): it prints READY once
it listens, then takes commands on stdin, one a line, and answers each with OK:
``RTT <seconds>`` and ``RATE <bytes per second, 0 for none>``.  New chunks and
connections use the new values.  It exits when stdin closes.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import re
import selectors
import socket
import struct
import sys
import time
from collections.abc import Callable
from typing import Any

LISTEN_HOST = "127.0.0.1"
SERVER_HOST = "127.0.0.2"
QUEUE_LIMIT = 4 << 20  # bytes in flight per direction before the proxy stops reading
RECV_SIZE = 1 << 16
ACTIVE_LISTEN_SECONDS = 120.0  # how long a rewritten PORT's listener waits for the server


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


EOF = _Marker("EOF")  # the end of a stream, in a flow's queue
RESET = _Marker("RESET")  # a connection reset, likewise


class Flow:
    """One direction of a relayed connection: read from `src`, written to `dst` later."""

    def __init__(self, relay: Relay, src: socket.socket | None, earliest: float) -> None:
        self.relay = relay
        self.proxy = relay.proxy
        self.src = src
        self.dst: socket.socket | None = None
        self.queue: collections.deque[tuple[float, Any]] = collections.deque()
        self.queued = 0
        self.out = memoryview(b"")
        self.earliest = earliest  # nothing reaches the far side before the connection does
        self.link_free = 0.0  # with a rate cap: when the previous chunk has left
        self.reading = src is not None
        self.ended = False  # EOF or reset passed on
        self.lines: LineRewriter | None = None
        self.hold_until = 0.0  # see DelayProxy._accept: nothing leaves before this

    def received(self, data: Any, now: float) -> None:
        """Queue what `src` gave (bytes, EOF or RESET), to be written rtt/2 from now."""
        if data is EOF or data is RESET:
            self.reading = False
            if self.lines is not None and (rest := self.lines.flush()):
                self._queue(rest, now)
        elif self.lines is not None:
            data = self.lines.feed(data)
            if not data:
                return
        self._queue(data, now)

    def _queue(self, data: Any, now: float) -> None:
        start = max(now, self.hold_until)
        rate = self.proxy.rate
        if rate and isinstance(data, bytes):
            start = max(now, self.link_free) + len(data) / rate
            self.link_free = start
        due = max(start + self.proxy.rtt / 2, self.earliest)
        self.queue.append((due, data))
        if isinstance(data, bytes):
            self.queued += len(data)

    def next_due(self) -> float | None:
        if self.out or not self.queue or self.dst is None or self.ended:
            return None
        return self.queue[0][0]

    def deliver(self, now: float) -> None:
        """Write what is due to `dst`, as far as it takes it now."""
        dst = self.dst
        while dst is not None and not self.ended and not self.relay.closed:
            if self.out:
                try:
                    n = dst.send(self.out)
                except (BlockingIOError, InterruptedError):
                    return
                except OSError:
                    self.proxy.reset_and_drop(self.relay)
                    return
                self.out = self.out[n:]
                continue
            if not self.queue or self.queue[0][0] > now:
                return
            _, data = self.queue.popleft()
            if data is EOF:
                with contextlib.suppress(OSError):
                    dst.shutdown(socket.SHUT_WR)
                self.ended = True
                if self.relay.up.ended and self.relay.down.ended:
                    self.proxy.drop(self.relay)
                return
            if data is RESET:
                self.ended = True
                self.proxy.reset_and_drop(self.relay)
                return
            self.queued -= len(data)
            self.out = memoryview(data)

    @property
    def wants_read(self) -> bool:
        return self.reading and self.queued + len(self.out) < QUEUE_LIMIT

    @property
    def wants_write(self) -> bool:
        return bool(self.out)


class LineRewriter:
    """The client-to-server side of a control connection: PORT and EPRT get the proxy's port."""

    PORT_RE = re.compile(rb"^(PORT|EPRT)\s+(.*?)\r?\n$", re.IGNORECASE)

    def __init__(self, proxy: DelayProxy, control: Relay) -> None:
        self.proxy = proxy
        self.control = control
        self.partial = b""

    def feed(self, data: bytes) -> bytes:
        data = self.partial + data
        cut = data.rfind(b"\n") + 1
        self.partial = data[cut:]
        whole = data[:cut]
        if b"PORT" not in whole.upper() and b"EPRT" not in whole.upper():
            return whole
        return b"".join(self._rewrite(line) for line in whole.splitlines(keepends=True))

    def flush(self) -> bytes:
        rest, self.partial = self.partial, b""
        return rest

    def _rewrite(self, line: bytes) -> bytes:
        m = self.PORT_RE.match(line)
        if not m:
            return line
        verb, arg = m.group(1).upper(), m.group(2).decode("ascii", "replace").strip()
        try:
            if verb == b"PORT":
                numbers = [int(x) for x in arg.split(",")]
                host = ".".join(map(str, numbers[:4]))
                port = numbers[4] * 256 + numbers[5]
            else:
                _, _, host, port_text, _ = arg.split(arg[0])
                port = int(port_text)
        except (ValueError, IndexError):
            return line  # the server refuses it as it is
        own = self.proxy.listen_active((host, port), self.control)
        if verb == b"PORT":
            h = LISTEN_HOST.replace(".", ",")
            return f"PORT {h},{own >> 8},{own & 0xFF}\r\n".encode()
        return f"EPRT |1|{LISTEN_HOST}|{own}|\r\n".encode()


class Relay:
    """One relayed connection: the side that connected, and the side it reaches 1.5 rtt later."""

    def __init__(
        self, proxy: DelayProxy, near: socket.socket, far: tuple[str, int], now: float
    ) -> None:
        self.proxy = proxy
        self.near = near
        self.far_address = far
        self.far: socket.socket | None = None
        self.connect_at = now + 1.5 * proxy.rtt
        self.up = Flow(self, near, earliest=self.connect_at)  # near -> far
        self.down = Flow(self, None, earliest=0.0)  # far -> near
        self.down.dst = near
        self.connecting = False
        self.closed = False

    def flows(self) -> tuple[Flow, Flow]:
        return self.up, self.down

    def start_connect(self) -> None:
        far = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        far.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        far.setsockopt(socket.SOL_SOCKET, socket.SO_OOBINLINE, 1)
        far.setblocking(False)
        try:
            far.bind((LISTEN_HOST, 0))  # servers check that data comes from the control peer
            err = far.connect_ex(self.far_address)
        except OSError as exc:
            err = exc.errno or errno.ECONNREFUSED
        if err not in (0, errno.EINPROGRESS):
            far.close()
            self.proxy.reset_and_drop(self)
            return
        self.far = far
        self.connecting = True
        self.proxy.watch(far, self)

    def connected(self) -> None:
        assert self.far is not None
        self.connecting = False
        if self.far.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
            self.proxy.reset_and_drop(self)
            return
        self.up.dst = self.far
        self.down.src = self.far
        self.down.reading = True

    def interest(self, sock: socket.socket) -> int:
        """The events to wait for on `sock`, one of this relay's two sockets."""
        if sock is self.far and self.connecting:
            return selectors.EVENT_WRITE
        reading, writing = (self.up, self.down) if sock is self.near else (self.down, self.up)
        events = 0
        if reading.src is sock and reading.wants_read:
            events |= selectors.EVENT_READ
        if writing.dst is sock and writing.wants_write:
            events |= selectors.EVENT_WRITE
        return events


class DelayProxy:
    """The relays of every listening port, and the event loop that times them."""

    def __init__(self, ports: list[int], control_ports: set[int]) -> None:
        self.rtt = 0.0
        self.rate = 0.0
        self.selector = selectors.DefaultSelector()
        self.listeners: dict[socket.socket, tuple[str, Any]] = {}
        self.active_deadline: dict[socket.socket, float] = {}
        self.relays: set[Relay] = set()
        self.owner: dict[socket.socket, Relay] = {}
        self.events: dict[socket.socket, int] = {}  # what each relayed socket is registered for
        self.control_ports = control_ports
        for port in ports:
            self._listen(port, ("port", port))

    def _listen(self, port: int, what: tuple[str, Any]) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((LISTEN_HOST, port))
        sock.listen(64)
        sock.setblocking(False)
        self.listeners[sock] = what
        self.selector.register(sock, selectors.EVENT_READ, ("listen", sock))
        return sock

    def listen_active(self, client: tuple[str, int], control: Relay) -> int:
        """A listener for the server's active-mode data connection to `client`; its port."""
        sock = self._listen(0, ("active", (client, control)))
        self.active_deadline[sock] = time.monotonic() + ACTIVE_LISTEN_SECONDS
        return sock.getsockname()[1]

    def _close_listener(self, sock: socket.socket) -> None:
        self.selector.unregister(sock)
        del self.listeners[sock]
        self.active_deadline.pop(sock, None)
        sock.close()

    def _accept(self, listener: socket.socket, now: float) -> None:
        kind, arg = self.listeners[listener]
        try:
            near, _ = listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        near.setblocking(False)
        near.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # Urgent data (ABOR sent with MSG_OOB) stays in the stream, passed on as plain bytes:
        # read out of band, its last byte would vanish and the server wait for the line's end.
        near.setsockopt(socket.SOL_SOCKET, socket.SO_OOBINLINE, 1)
        if kind == "active":
            self._close_listener(listener)  # one data connection per PORT
            far, control = arg
            # The server's connect() returned at once, where a real one takes a round trip:
            # what it says on the control connection meanwhile (pyftpdlib's 200 to PORT,
            # vsftpd's 150) leaves no earlier than a real connect() would let it.
            control.down.hold_until = now + self.rtt
        else:
            far = (SERVER_HOST, arg)
        relay = Relay(self, near, far, now)
        if kind == "port" and arg in self.control_ports:
            relay.up.lines = LineRewriter(self, relay)
        self.relays.add(relay)
        self.watch(near, relay)

    def watch(self, sock: socket.socket, relay: Relay) -> None:
        self.owner[sock] = relay
        self.events[sock] = 0

    def drop(self, relay: Relay) -> None:
        if relay.closed:
            return
        relay.closed = True
        self.relays.discard(relay)
        for sock in (relay.near, relay.far):
            if sock is not None and sock in self.owner:
                if self.events.pop(sock):
                    self.selector.unregister(sock)
                del self.owner[sock]
                sock.close()

    def reset_and_drop(self, relay: Relay) -> None:
        """A side is gone: reset both ends, as a peer whose partner vanished would see."""
        for sock in (relay.near, relay.far):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.drop(relay)

    def _readable(self, sock: socket.socket, now: float) -> None:
        relay = self.owner[sock]
        flow = relay.up if sock is relay.near else relay.down
        if not flow.reading:
            return
        try:
            data: Any = sock.recv(RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = RESET
        flow.received(data if data != b"" else EOF, now)

    def _update_interest(self) -> None:
        for sock, relay in self.owner.items():
            want = relay.interest(sock)
            have = self.events[sock]
            if want == have:
                continue
            if not have:
                self.selector.register(sock, want, ("sock", sock))
            elif not want:
                self.selector.unregister(sock)
            else:
                self.selector.modify(sock, want, ("sock", sock))
            self.events[sock] = want

    def step(self, command: Callable[[str], None] | None = None) -> None:
        """Wait for the next event or due time, and handle what is due."""
        self._update_interest()
        now = time.monotonic()
        due = [d for r in self.relays for f in r.flows() if (d := f.next_due()) is not None]
        due += [r.connect_at for r in self.relays if r.far is None]
        due += list(self.active_deadline.values())
        timeout = max(0.0, min(due) - now) if due else 1.0
        for key, events in self.selector.select(timeout):
            kind, obj = key.data
            now = time.monotonic()
            if kind == "listen":
                if obj in self.listeners:
                    self._accept(obj, now)
            elif kind == "stdin":
                line = sys.stdin.readline()
                if not line:
                    raise SystemExit(0)
                if command is not None:
                    command(line)
            elif obj in self.owner:
                relay = self.owner[obj]
                if obj is relay.far and relay.connecting:
                    relay.connected()
                    continue
                if events & selectors.EVENT_READ:
                    self._readable(obj, now)
                if events & selectors.EVENT_WRITE and not relay.closed:
                    (relay.down if obj is relay.near else relay.up).deliver(now)
        now = time.monotonic()
        for relay in list(self.relays):
            if relay.far is None and relay.connect_at <= now:
                relay.start_connect()
        for relay in list(self.relays):
            for flow in relay.flows():
                flow.deliver(now)
        for sock, deadline in list(self.active_deadline.items()):
            if deadline <= now:
                self._close_listener(sock)


def run(argv: list[str]) -> int:
    """``delay-proxy PORT...``: relay each port of LISTEN_HOST to SERVER_HOST.

    Ports given with a leading ``c`` (``c2121``) are control ports, whose PORT
    and EPRT commands are rewritten.
    """
    control = {int(a[1:]) for a in argv if a.startswith("c")}
    proxy = DelayProxy([int(a.lstrip("c")) for a in argv], control)

    def command(line: str) -> None:
        verb, _, value = line.strip().partition(" ")
        if verb == "RTT":
            proxy.rtt = float(value)
        elif verb == "RATE":
            proxy.rate = float(value)
        sys.stdout.write("OK\n")
        sys.stdout.flush()

    proxy.selector.register(sys.stdin, selectors.EVENT_READ, ("stdin", None))
    sys.stdout.write("READY\n")
    sys.stdout.flush()
    while True:
        proxy.step(command)
