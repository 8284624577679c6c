"""The servers the benchmark measures, each in a process of its own, and the files they serve.

- pyftpdlib and the raw TCP limit run as helper processes, `bench.py --role
  NAME ...`: `run_role` is their main (bench.py dispatches to it).
- vsftpd, when installed and run as root, on a private config and local user.
- `Server` is the benchmark's handle on one: its port, its credentials, its
  CPU time (the whole process tree for vsftpd, which forks per session, read
  from /proc), waiting for earlier sessions to end, stopping it.
- `Workspace` is the private tmpfs directory of files they serve.
- `start_servers` starts them all for a run.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import dataclasses
import io
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from common import HOST, KIB, MIB, NULL_SINK, RAW_BUFSIZE, progress

BENCH = Path(__file__).resolve().with_name("bench.py")  # helpers run as `bench.py --role NAME`
RAW_NOOP_REPLY = b"200 NOOP ok.\r\n"
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------
# Helper processes: `bench.py --role NAME ...` (started by the benchmark itself)
# ---------------------------------------------------------------------------


def _die_with_parent() -> None:
    """Ask the kernel to SIGTERM this process when its parent dies (Linux)."""
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _announce_port(port: int) -> None:
    sys.stdout.write(f"PORT {port}\n")
    sys.stdout.flush()


def role_pyftpdlib(
    root: str,
    user: str,
    password: str,
    passive: str,
    host: str = HOST,
    masquerade: str = "",
    port: str = "0",
    checksums: str = "",
) -> None:
    """A pyftpdlib server on `host`; STOR of `null-sink` goes to /dev/null.

    Passive data connections use the port range `passive` ("LOW-HIGH"): with
    pyftpdlib's default, a kernel-chosen port each, thousands of short data
    connections fill the ephemeral port range with TIME_WAIT sockets, and
    bind() grows slow (server CPU climbs run after run) and finally fails.
    `masquerade` is the address its PASV replies announce (the WAN mode's
    delay proxy, in front of a server on another address).  `checksums`
    ("computed" or "kept") adds HASH and OPTS HASH (SHA-256, SHA-1, MD5, CRC32,
    SHA-512; `_bench_checksum_handler`): "computed" reads and hashes the file
    for every HASH, in the server's loop, as the pyftpdlib checksum server of
    the tests does; "kept" keeps each digest it computed, under the file's
    path, size and modification time, as proftpd's DigestCache does: a server
    whose hash costs nothing once the file was hashed.
    """
    import logging

    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.filesystems import AbstractedFS
    from pyftpdlib.handlers import FTPHandler
    from pyftpdlib.servers import FTPServer

    # Configured logging keeps pyftpdlib from installing its own INFO logger,
    # which would log (and spend server CPU on) every command.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

    class CountingSink:
        """What a STOR of `null-sink` writes to: it keeps only the byte count."""

        last_size = 0  # of the latest upload, for SIZE

        def __init__(self, name: str, mode: str) -> None:
            self.name = name
            self.closed = False
            if "w" in mode:
                CountingSink.last_size = 0
            self.position = CountingSink.last_size if "a" in mode else 0

        def write(self, data: bytes) -> int:
            self.position += len(data)
            CountingSink.last_size = max(CountingSink.last_size, self.position)
            return len(data)

        def seek(self, offset: int, whence: int = 0) -> int:  # REST: resume at offset
            self.position = offset if whence == 0 else CountingSink.last_size + offset
            return self.position

        def close(self) -> None:
            self.closed = True

    class NullSinkFS(AbstractedFS):
        """A file named `null-sink` discards what is stored; SIZE reports the count."""

        def validpath(self, path: str) -> bool:
            # The null-sink symlink points outside the root, which is refused.
            return os.path.basename(path) == NULL_SINK or super().validpath(path)

        def open(self, filename: str, mode: str) -> Any:
            if os.path.basename(filename) == NULL_SINK and "r" not in mode.replace("r+", ""):
                return CountingSink(filename, mode)
            return super().open(filename, mode)

        def isfile(self, path: str) -> bool:
            return path == os.devnull or super().isfile(path)  # realpath of the symlink

        def getsize(self, path: str) -> int:
            if os.path.basename(path) == NULL_SINK:
                return CountingSink.last_size
            return super().getsize(path)

    authorizer = DummyAuthorizer()
    authorizer.add_user(user, password, root, perm="elradfmwMT")

    class Handler(FTPHandler):
        pass

    if checksums:
        Handler = _bench_checksum_handler(Handler, keep=checksums == "kept")
    Handler.authorizer = authorizer
    Handler.abstracted_fs = NullSinkFS
    Handler.banner = "ftplib2 bench (pyftpdlib)"
    low, high = map(int, passive.split("-"))
    Handler.passive_ports = range(low, high + 1)
    if masquerade:
        Handler.masquerade_address = masquerade
    server = FTPServer((host, int(port)), Handler)
    _announce_port(server.socket.getsockname()[1])
    server.serve_forever(timeout=1.0, handle_exit=False)


def _bench_checksum_handler(base: type, keep: bool) -> type:
    """`base` with HASH and OPTS HASH; with `keep`, digests kept by path, size and mtime."""
    import hashlib
    import zlib

    names = {"SHA-256": "sha256", "SHA-1": "sha1", "MD5": "md5", "SHA-512": "sha512"}
    kept: dict[tuple[str, int, int, str], str] = {}

    def digest_of(path: str, algorithm: str) -> str:
        st = os.stat(path)
        key = (path, st.st_size, st.st_mtime_ns, algorithm)
        if keep and key in kept:
            return kept[key]
        with open(path, "rb") as f:
            if algorithm == "CRC32":
                crc = 0
                while block := f.read(1 << 20):
                    crc = zlib.crc32(block, crc)
                digest = f"{crc:08x}"
            else:
                digest = hashlib.file_digest(f, names[algorithm]).hexdigest()
        if keep:
            kept[key] = digest
        return digest

    class ChecksumHandler(base):  # type: ignore[misc, valid-type]
        proto_cmds: ClassVar[dict[str, dict]] = {
            **base.proto_cmds,
            "HASH": {"perm": "r", "auth": True, "arg": True, "help": "Syntax: HASH <SP> path."},
        }
        selected = "SHA-256"

        def ftp_FEAT(self, line: str) -> None:
            algorithms = ("SHA-256", "SHA-1", "MD5", "CRC32", "SHA-512")
            marked = "".join(a + ("*" if a == self.selected else "") + ";" for a in algorithms)
            self._extra_feats = [f for f in self._extra_feats if not f.startswith("HASH")]
            self._extra_feats.append("HASH " + marked)
            super().ftp_FEAT(line)

        def ftp_OPTS(self, line: str) -> None:
            option, _, name = line.partition(" ")
            if option.upper() != "HASH":
                super().ftp_OPTS(line)
            elif name.upper() in (*names, "CRC32"):
                self.selected = name.upper()
                self.respond(f"200 {self.selected}")
            else:
                self.respond(f"501 {name}: Unsupported algorithm")

        def ftp_HASH(self, path: str) -> None:
            if not self.fs.isfile(self.fs.realpath(path)):
                self.respond(f"550 {self.fs.fs2ftp(path)}: Not a regular file")
                return
            size = os.path.getsize(path)
            digest = digest_of(path, self.selected)
            self.respond(f"213 {self.selected} 0-{size} {digest} {self.fs.fs2ftp(path)}")

    return ChecksumHandler


def role_paced(
    root: str, user: str, password: str, passive: str, rate: str, slow: str, per_ip: str
) -> None:
    """A pyftpdlib server whose data connections each send at most `rate` bytes a second.

    pyftpdlib's ThrottledDTPHandler, paced from the first byte on: its own
    throttle lets a second's worth of bytes go at once and then sleeps for up
    to two seconds, which on a file of a few seconds' worth blurs every
    timing.  With `slow` ("1"), one session at a time is ten times slower: the
    first to log in while another session is logged in and no slow one is (the
    second connection of a segmented download, or of lftp's pget).  `per_ip`
    ("0": no limit) is pyftpdlib's max_cons_per_ip.
    """
    import logging

    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import FTPHandler
    from pyftpdlib.handlers.ftp.data import ThrottledDTPHandler
    from pyftpdlib.ioloop import timer
    from pyftpdlib.servers import FTPServer

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    limit, slowed = int(rate), slow == "1"
    live: set[Any] = set()  # sessions logged in
    slow_now: list[Any] = []  # the slow one, while it lasts

    class Handler(FTPHandler):
        rate = limit

        def on_login(self, username: str) -> None:
            if slowed and live and not slow_now:
                self.rate = limit // 10
                slow_now.append(self)
            live.add(self)

        def on_disconnect(self) -> None:
            live.discard(self)
            if self in slow_now:
                slow_now.remove(self)

    class PacedDTPHandler(ThrottledDTPHandler):
        def __init__(self, sock: Any, cmd_channel: Any) -> None:
            self.write_limit = cmd_channel.rate
            self._began: float | None = None
            self._paced = 0
            super().__init__(sock, cmd_channel)

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

    authorizer = DummyAuthorizer()
    authorizer.add_user(user, password, root, perm="elr")
    Handler.authorizer = authorizer
    Handler.dtp_handler = PacedDTPHandler
    Handler.banner = "ftplib2 bench (pyftpdlib, paced)"
    low, high = map(int, passive.split("-"))
    Handler.passive_ports = range(low, high + 1)
    server = FTPServer((HOST, 0), Handler)
    server.max_cons_per_ip = int(per_ip)
    _announce_port(server.socket.getsockname()[1])
    # No poll timeout: the loop then wakes for the earliest scheduled call, which is
    # when a paced connection is due to send again (with a timeout, no sooner than it).
    server.serve_forever(timeout=None, handle_exit=False)


def role_raw(root: str) -> None:
    """The raw TCP limit: one connection at a time, one command line each.

    ``GET name``: sendfile(2) the file, then close.  ``PUT``: read and discard
    until EOF, answer ``OK <count>``.  ``ECHO``: answer each line with a
    fixed FTP-sized reply line until EOF.
    """
    listener = socket.create_server((HOST, 0))
    _announce_port(listener.getsockname()[1])
    buf = bytearray(RAW_BUFSIZE)
    while True:
        conn, _ = listener.accept()
        with conn:
            data = b""
            while b"\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
            line, _, rest = data.partition(b"\n")
            verb, _, arg = line.decode().strip().partition(" ")
            if verb == "GET":
                path = os.path.join(root, os.path.normpath("/" + arg).lstrip("/"))
                with open(path, "rb") as f:
                    conn.sendfile(f)
            elif verb == "PUT":
                total = len(rest)
                while n := conn.recv_into(buf):
                    total += n
                conn.sendall(f"OK {total}\n".encode())
            elif verb == "ECHO":
                pending = rest
                while True:
                    if lines := pending.count(b"\n"):
                        conn.sendall(RAW_NOOP_REPLY * lines)
                        pending = pending[pending.rindex(b"\n") + 1 :]
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    pending += chunk


def run_role(argv: list[str]) -> int:
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the benchmark stops us itself
    role, *rest = argv
    if role == "pyftpdlib":
        role_pyftpdlib(*rest)
    elif role == "paced":
        role_paced(*rest)
    elif role == "raw":
        role_raw(*rest)
    elif role == "delay-proxy":
        import delayproxy

        delayproxy.run(rest)
    else:
        raise SystemExit(f"unknown role {role!r}")
    return 0


# ---------------------------------------------------------------------------
# Server process trees and their CPU time, from /proc
# ---------------------------------------------------------------------------


class _Proc(collections.namedtuple("_Proc", "ppid ticks state comm")):
    """One /proc/<pid>/stat: parent, utime+stime+cutime+cstime (ticks), state, name."""


def _proc_stat(pid: int | str) -> _Proc:
    with open(f"/proc/{pid}/stat", "rb") as f:
        data = f.read()
    comm = data[data.index(b"(") + 1 : data.rindex(b")")].decode(errors="replace")
    fields = data[data.rindex(b")") + 2 :].split()
    return _Proc(int(fields[1]), sum(int(x) for x in fields[11:15]), fields[0].decode(), comm)


def _proc_table() -> dict[int, _Proc]:
    table = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                table[int(name)] = _proc_stat(name)
    return table


def _tree(table: dict[int, _Proc], roots: list[int]) -> list[int]:
    """`roots` and all their descendants in `table`."""
    children: dict[int, list[int]] = collections.defaultdict(list)
    for child, info in table.items():
        children[info.ppid].append(child)
    found, todo = [], [r for r in roots if r in table]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, ()))
    return found


def _adopted(table: dict[int, _Proc], comm: str, exclude: int) -> list[int]:
    """Orphans named `comm` that were reparented to this process (a subreaper)."""
    me = os.getpid()
    return [
        p for p, info in table.items() if info.ppid == me and info.comm == comm and p != exclude
    ]


def become_subreaper() -> None:
    """Have orphaned descendants (vsftpd session processes) reparented to us, not init.

    vsftpd's per-session parent can exit before its child; the child, adopted
    by init, would take its CPU time out of the server's process tree.
    Adopted by us, it stays countable, as a zombie until `Server.quiesce` reaps it.
    """
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(36, 1)  # PR_SET_CHILD_SUBREAPER


def process_tree_cpu(pid: int, tree: bool) -> float | None:
    """CPU seconds used so far by `pid` (and, with `tree`, all its descendants).

    A descendant that has exited and been reaped is in its parent's cutime and
    cstime, so summing utime+stime+cutime+cstime over the live tree (zombies
    included) counts every process exactly once.  Session processes orphaned
    and adopted by this process count too (see `become_subreaper`).
    """
    try:
        if not tree:
            return _proc_stat(pid).ticks / CLK_TCK
        table = _proc_table()
    except OSError:
        return None
    if pid not in table:
        return None
    pids = _tree(table, [pid, *_adopted(table, table[pid].comm, pid)])
    return sum(table[p].ticks for p in pids) / CLK_TCK


# ---------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    user: str = ""
    password: str = ""
    tree: bool = False  # count descendants' CPU too (vsftpd forks per session)
    upload_target: str = NULL_SINK
    has_mlsd: bool = False
    notes: list[str] = dataclasses.field(default_factory=list)

    def cpu(self) -> float | None:
        return process_tree_cpu(self.proc.pid, self.tree)

    def sessions(self) -> list[int]:
        """The per-session processes of a forking server, adopted orphans included."""
        if not self.tree:
            return []
        table = _proc_table()
        pid = self.proc.pid
        comm = table[pid].comm if pid in table else ""
        return [p for p in _tree(table, [pid, *_adopted(table, comm, pid)]) if p != pid]

    def quiesce(self, timeout: float = 2.0) -> None:
        """Wait until the sessions of earlier runs have ended, and reap adopted ones.

        Called before a run's first CPU reading, so that no earlier session is
        still running, or exits and leaves the count, during the run.
        """
        if not self.tree:
            return
        deadline = time.monotonic() + timeout
        while True:
            table = _proc_table()
            pid = self.proc.pid
            comm = table[pid].comm if pid in table else ""
            for orphan in _adopted(table, comm, pid):
                if table[orphan].state == "Z":
                    with contextlib.suppress(ChildProcessError):
                        os.waitpid(orphan, os.WNOHANG)
            if not self.sessions() or time.monotonic() > deadline:
                return
            time.sleep(0.01)

    def url(self, path: str) -> str:
        return f"ftp://{self.user}:{self.password}@{HOST}:{self.port}/{path}"

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        pids = [self.proc.pid, *self.sessions()]  # vsftpd: also its session processes
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        # A session process busy with a client may outlive SIGTERM for a while.
        deadline = time.monotonic() + 2
        while (alive := [p for p in pids[1:] if _is_alive(p)]) and time.monotonic() < deadline:
            time.sleep(0.05)
        for pid in alive:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _is_alive(pid: int) -> bool:
    """Whether `pid` still runs (a zombie, waiting to be reaped, does not count)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return False
    return data[data.rindex(b")") + 2 : data.rindex(b")") + 3] != b"Z"


def _start_helper(role: str, args: list[str], log: Path) -> tuple[subprocess.Popen[bytes], int]:
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, str(BENCH), "--role", role, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=err,
            start_new_session=True,  # Ctrl-C goes to us; we stop it ourselves
        )
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    proc.stdout.close()
    if not line.startswith("PORT "):
        proc.kill()
        proc.wait()
        raise RuntimeError(f"{role} helper failed to start: {log.read_text()[-2000:]}")
    return proc, int(line.split()[1])


def start_pyftpdlib(ws: Workspace) -> Server:
    password = secrets.token_hex(8)
    low, high = _free_port_range(200)
    proc, port = _start_helper(
        "pyftpdlib", [str(ws.pub), "bench", password, f"{low}-{high}"], ws.base / "pyftpdlib.log"
    )
    return Server("pyftpdlib", port, proc, "bench", password, has_mlsd=True)


def start_checksum_pyftpdlib(ws: Workspace, checksums: str) -> Server:
    """A `role_pyftpdlib` server with HASH, its digests "computed" each time or "kept"."""
    password = secrets.token_hex(8)
    low, high = _free_port_range(200)
    args = [str(ws.pub), "bench", password, f"{low}-{high}", HOST, "", "0", checksums]
    proc, port = _start_helper("pyftpdlib", args, ws.base / f"pyftpdlib-{checksums}.log")
    name = f"pyftpdlib, digests {checksums}"
    return Server(name, port, proc, "bench", password, has_mlsd=True)


def start_paced(ws: Workspace, name: str, rate: int, slow: bool, per_ip: int) -> Server:
    """A `role_paced` server; `name` is its label in the report."""
    password = secrets.token_hex(8)
    low, high = _free_port_range(200)
    args = [str(ws.pub), "bench", password, f"{low}-{high}", str(rate), "1" if slow else "0"]
    log = ws.base / f"paced-{len(ws.paced)}.log"
    proc, port = _start_helper("paced", [*args, str(per_ip)], log)
    return Server(name, port, proc, "bench", password)


def start_raw(ws: Workspace) -> Server:
    proc, port = _start_helper("raw", [str(ws.base)], ws.base / "raw.log")
    return Server("raw TCP", port, proc)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


_claimed_ports: list[range] = []


def _free_port_range(count: int, hosts: tuple[str, ...] = (HOST,)) -> tuple[int, int]:
    """`count` consecutive ports, none bound now on any of `hosts`, below the ephemeral range.

    Ranges handed out before (to another server of this run) are avoided.
    """
    rng = secrets.SystemRandom()
    for _ in range(50):
        low = rng.randrange(20000, 32500 - count)
        if any(low < r.stop and r.start < low + count for r in _claimed_ports):
            continue
        try:
            for port in range(low, low + count):
                for host in hosts:
                    with socket.socket() as s:
                        s.bind((host, port))
        except OSError:
            continue
        _claimed_ports.append(range(low, low + count))
        return low, low + count - 1
    raise RuntimeError("no free passive port range")


def run_root_command(argv: list[str], stdin: str | None = None) -> None:
    subprocess.run(argv, input=stdin, text=True, check=True, capture_output=True)


def start_vsftpd(
    ws: Workspace,
    user: str,
    *,
    name: str = "vsftpd",
    host: str = HOST,
    port: int = 0,
    passive: tuple[int, int] | None = None,
    pasv_address: str = "",
    password: str = "",
) -> Server | str:
    """Start vsftpd on a private config, or return why it is skipped.

    Without `password`, the local `user` is prepared (created if need be) and
    given a new random password; with it, a vsftpd started before prepared it.
    `host`, `port` and `passive` (a port range) say where it listens, and
    `pasv_address` what its PASV replies announce (the WAN mode's proxy).
    """
    exe = shutil.which("vsftpd")
    if exe is None:
        return "vsftpd not installed"
    if os.geteuid() != 0:
        return "vsftpd needs root (to add a local user and run PAM logins)"
    for tool in ("useradd", "usermod", "chpasswd"):
        if shutil.which(tool) is None:
            return f"{tool} not found"
    if not password:
        password = _prepare_vsftpd_user(ws, user)
        if password.startswith("could not"):
            return password
    return _run_vsftpd(ws, exe, user, password, name, host, port, passive, pasv_address)


def _prepare_vsftpd_user(ws: Workspace, user: str) -> str:
    """Create or reuse the local account, with a new random password: that password."""
    password = secrets.token_hex(8)
    try:
        try:
            pwd.getpwnam(user)
        except KeyError:
            run_root_command(["useradd", "-M", "-d", str(ws.pub), "-s", "/bin/bash", user])
            ws.created_user = user
        else:
            run_root_command(["usermod", "-d", str(ws.pub), user])
        run_root_command(["chpasswd"], f"{user}:{password}\n")
        os.chown(ws.pub, pwd.getpwnam(user).pw_uid, -1)
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", "") or exc
        return f"could not prepare local user {user!r}: {detail}"
    return password


def _run_vsftpd(
    ws: Workspace,
    exe: str,
    user: str,
    password: str,
    name: str,
    host: str,
    port: int,
    passive: tuple[int, int] | None,
    pasv_address: str,
) -> Server | str:
    empty = ws.base / f"{name}-empty"
    empty.mkdir(mode=0o755)
    port = port or _free_port()
    low, high = passive or _free_port_range(200)
    conf = ws.base / f"{name}.conf"
    conf.write_text(
        "\n".join(
            [
                "listen=YES",
                "listen_ipv6=NO",
                f"listen_address={host}",
                f"listen_port={port}",
                "background=NO",
                "anonymous_enable=NO",
                "local_enable=YES",
                "write_enable=YES",
                "local_umask=022",
                f"local_root={ws.pub}",
                "chroot_local_user=NO",
                "pam_service_name=vsftpd",
                f"secure_chroot_dir={empty}",
                "seccomp_sandbox=NO",
                "pasv_enable=YES",
                f"pasv_min_port={low}",
                f"pasv_max_port={high}",
                *([f"pasv_address={pasv_address}"] if pasv_address else []),
                "xferlog_enable=NO",
                "dual_log_enable=NO",
                f"vsftpd_log_file={ws.base / (name + '.log')}",
                "",
            ]
        )
    )
    log = ws.base / f"{name}.stderr"
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            [exe, str(conf)],
            stdin=subprocess.DEVNULL,
            stdout=err,
            stderr=err,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - no threads exist yet
        )
    server = Server(name, port, proc, user, password, tree=True)
    deadline = time.monotonic() + 10
    while True:
        if proc.poll() is not None:
            return f"vsftpd exited at start: {log.read_text()[-500:].strip()}"
        with contextlib.suppress(OSError), socket.create_connection((host, port), 1) as s:
            if s.recv(100).startswith(b"220"):
                break
        if time.monotonic() > deadline:
            server.stop()
            return "vsftpd did not answer within 10 s"
        time.sleep(0.05)
    return server


def check_upload_target(server: Server, ftplib2: Any) -> None:
    """Make sure STOR to the null sink works; else upload into a tmpfs file."""
    try:
        with ftplib2.FTP() as ftp:
            ftp.connect(HOST, server.port)
            ftp.login(server.user, server.password)
            ftp.storbinary(f"STOR {NULL_SINK}", io.BytesIO(b"x" * 1000))
    except ftplib2.all_errors as exc:
        server.upload_target = "upload.bin"
        server.notes.append(
            f"STOR to the {NULL_SINK} symlink failed ({exc}); uploads go to a tmpfs file instead"
        )


# ---------------------------------------------------------------------------
# Workspace: the files served, in tmpfs
# ---------------------------------------------------------------------------


class Workspace:
    """A private tmpfs directory: pub/ is served, dl/ receives downloads."""

    def __init__(self, args: argparse.Namespace) -> None:
        parent = "/dev/shm" if os.path.isdir("/dev/shm") else None
        self.base = Path(tempfile.mkdtemp(prefix="ftplib2-bench-", dir=parent))
        os.chmod(self.base, 0o755)  # vsftpd's unprivileged session must get through
        self.tmpfs = parent is not None
        self.pub = self.base / "pub"
        self.dl = self.base / "dl"
        self.created_user = ""
        self.vsftpd_status = "not started"
        self.size = args.size_mib * MIB
        self.list_entries = args.list_entries
        self.small_files = args.small_files
        self.mirror_files = max(args.mirror_files, args.small_files, args.wan_files)
        # The segments scenario's file, and its paced servers (started by start_servers).
        self.segments_size = args.segments_mib * MIB if "segments" in args.only else 0
        self.segments_rate = args.segments_rate_mib * MIB
        self.paced: list[Server] = []
        self.checksummed: list[Server] = []  # the verify scenario's servers
        self.verify = "verify" in args.only
        self.tree_files = args.wan_tree if "wan-mirror" in args.only else 0
        self.pub.mkdir(mode=0o755)
        self.dl.mkdir()

    def populate(self) -> None:
        block = os.urandom(MIB)
        with open(self.pub / "big.bin", "wb") as f:
            f.writelines(block for _ in range(self.size // MIB))
            f.write(block[: self.size % MIB])
        small = self.pub / "small"
        small.mkdir(mode=0o755)
        for i in range(self.mirror_files):
            (small / f"f{i:04d}").write_bytes(os.urandom(4 * KIB))
        listing = self.pub / "list"
        listing.mkdir(mode=0o755)
        for i in range(self.list_entries):
            os.close(os.open(listing / f"entry-{i:06d}-report.dat", os.O_CREAT | os.O_WRONLY))
        os.symlink(os.devnull, self.pub / NULL_SINK)
        tree = self.pub / "tree"
        tree.mkdir(mode=0o755)
        (tree / "empty").mkdir(mode=0o755)
        dirs = self.tree_dirs()
        for i in range(self.tree_files):
            directory = tree / dirs[i % len(dirs)]
            directory.mkdir(mode=0o755, exist_ok=True)
            (directory / f"f{i:04d}").write_bytes(os.urandom(4 * KIB))
        if self.segments_size:
            with open(self.pub / "seg.bin", "wb") as f:
                f.writelines(os.urandom(MIB) for _ in range(self.segments_size // MIB))

    def small_names(self) -> list[str]:
        return [f"f{i:04d}" for i in range(self.small_files)]

    def tree_dirs(self) -> list[str]:
        """The directories of tree/ (the WAN mirror's): one per 30 files, some nested."""
        count = max(1, self.tree_files // 30)
        return [f"d{i // 3:02d}/s{i % 3}" if i % 3 else f"d{i // 3:02d}" for i in range(count)]

    def cleanup(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)


# ---------------------------------------------------------------------------
# Starting them all
# ---------------------------------------------------------------------------


def start_servers(
    stack: contextlib.ExitStack, ws: Workspace, args: argparse.Namespace, ftplib2: Any
) -> Iterator[Server]:
    progress(f"creating the test files in {ws.base} ...")
    ws.populate()
    raw = start_raw(ws)
    stack.callback(raw.stop)
    yield raw
    pyftpd = start_pyftpdlib(ws)
    stack.callback(pyftpd.stop)
    yield pyftpd
    if ws.segments_size:  # not yielded: only the segments scenario uses them
        rate = f"{ws.segments_rate / MIB:g} MiB/s"
        for name, slow, per_ip in (
            (f"pyftpdlib {rate}/conn", False, 0),
            (f"pyftpdlib {rate}/conn, one 10x slower", True, 0),
            (f"pyftpdlib {rate}/conn, max_cons_per_ip=2", False, 2),
        ):
            paced = start_paced(ws, name, ws.segments_rate, slow, per_ip)
            stack.callback(paced.stop)
            ws.paced.append(paced)
    if ws.verify:  # not yielded either: only the verify scenario uses them
        for checksums in ("kept", "computed"):
            checksummed = start_checksum_pyftpdlib(ws, checksums)
            stack.callback(checksummed.stop)
            ws.checksummed.append(checksummed)
    if args.no_vsftpd:
        ws.vsftpd_status = "skipped (--no-vsftpd)"
        return
    vsftpd = start_vsftpd(ws, args.vsftpd_user)
    if isinstance(vsftpd, str):
        ws.vsftpd_status = "skipped: " + vsftpd
        progress("vsftpd " + ws.vsftpd_status)
        return
    stack.callback(vsftpd.stop)
    check_upload_target(vsftpd, ftplib2)
    ws.vsftpd_status = (
        f"{_vsftpd_version()}, local user {args.vsftpd_user!r}, uploads to {vsftpd.upload_target}"
    )
    yield vsftpd


def _vsftpd_version() -> str:
    try:
        out = subprocess.run(
            ["sh", "-c", "vsftpd -v 0>&1"], check=False, capture_output=True, text=True, timeout=10
        )
        return (out.stdout + out.stderr).strip() or "vsftpd"
    except (OSError, subprocess.SubprocessError):
        return "vsftpd"
