#!/usr/bin/env python3
"""Benchmark ftplib2 against ftplib, curl, lftp and the raw loopback limit.

Run from anywhere in a checkout::

    python Tools/bench/bench.py            # full run, several minutes
    python Tools/bench/bench.py --quick    # smoke test, small sizes, 1 repetition

Every server and every client runs on 127.0.0.1 only.  Servers run in their
own processes so their CPU time never mixes with the client's.  See
Tools/bench/README for what each row measures and how to read the tables.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import contextlib
import dataclasses
import ftplib
import importlib
import importlib.metadata
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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from common import HOST, KIB, MIB, NULL_SINK, RAW_BUFSIZE, REPO, progress
from measure import Case, fresh_file, kill_current_child, run_cases
from report import machine_facts, render_scenario

FTPMIRROR = REPO / "Tools" / "scripts" / "ftpmirror.py"
RAW_NOOP_REPLY = b"200 NOOP ok.\r\n"
CLK_TCK = os.sysconf("SC_CLK_TCK")

# Scenario keys, in the order they run and are reported.
SESSION, DOWNLOAD, UPLOAD, NOOP, LISTING, SMALL, MIRROR = (
    "login",
    "download",
    "upload",
    "noop",
    "list",
    "small",
    "mirror",
)
SCENARIOS = (SESSION, DOWNLOAD, UPLOAD, NOOP, LISTING, SMALL, MIRROR)


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


def role_pyftpdlib(root: str, user: str, password: str, passive: str) -> None:
    """A pyftpdlib server on 127.0.0.1; STOR of `null-sink` goes to /dev/null.

    Passive data connections use the port range `passive` ("LOW-HIGH"): with
    pyftpdlib's default, a kernel-chosen port each, thousands of short data
    connections fill the ephemeral port range with TIME_WAIT sockets, and
    bind() grows slow (server CPU climbs run after run) and finally fails.
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

    Handler.authorizer = authorizer
    Handler.abstracted_fs = NullSinkFS
    Handler.banner = "ftplib2 bench (pyftpdlib)"
    low, high = map(int, passive.split("-"))
    Handler.passive_ports = range(low, high + 1)
    server = FTPServer((HOST, 0), Handler)
    _announce_port(server.socket.getsockname()[1])
    server.serve_forever(timeout=1.0, handle_exit=False)


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
    elif role == "raw":
        role_raw(*rest)
    else:
        raise SystemExit(f"unknown role {role!r}")
    return 0


# ---------------------------------------------------------------------------
# CPU accounting
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


def _become_subreaper() -> None:
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
    and adopted by this process count too (see `_become_subreaper`).
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
            [sys.executable, str(Path(__file__).resolve()), "--role", role, *args],
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


def start_raw(ws: Workspace) -> Server:
    proc, port = _start_helper("raw", [str(ws.base)], ws.base / "raw.log")
    return Server("raw TCP", port, proc)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


_claimed_ports: list[range] = []


def _free_port_range(count: int) -> tuple[int, int]:
    """`count` consecutive ports, none bound now, below the usual ephemeral range.

    Ranges handed out before (to another server of this run) are avoided.
    """
    rng = secrets.SystemRandom()
    for _ in range(50):
        low = rng.randrange(20000, 32500 - count)
        if any(low < r.stop and r.start < low + count for r in _claimed_ports):
            continue
        try:
            for port in range(low, low + count):
                with socket.socket() as s:
                    s.bind((HOST, port))
        except OSError:
            continue
        _claimed_ports.append(range(low, low + count))
        return low, low + count - 1
    raise RuntimeError("no free passive port range")


def _run_root_command(argv: list[str], stdin: str | None = None) -> None:
    subprocess.run(argv, input=stdin, text=True, check=True, capture_output=True)


def start_vsftpd(ws: Workspace, user: str) -> Server | str:
    """Start vsftpd on a private config, or return why it is skipped."""
    exe = shutil.which("vsftpd")
    if exe is None:
        return "vsftpd not installed"
    if os.geteuid() != 0:
        return "vsftpd needs root (to add a local user and run PAM logins)"
    for tool in ("useradd", "usermod", "chpasswd"):
        if shutil.which(tool) is None:
            return f"{tool} not found"
    password = secrets.token_hex(8)
    try:
        try:
            pwd.getpwnam(user)
        except KeyError:
            _run_root_command(["useradd", "-M", "-d", str(ws.pub), "-s", "/bin/bash", user])
            ws.created_user = user
        else:
            _run_root_command(["usermod", "-d", str(ws.pub), user])
        _run_root_command(["chpasswd"], f"{user}:{password}\n")
        os.chown(ws.pub, pwd.getpwnam(user).pw_uid, -1)
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", "") or exc
        return f"could not prepare local user {user!r}: {detail}"
    empty = ws.base / "vsftpd-empty"
    empty.mkdir(mode=0o755)
    port = _free_port()
    low, high = _free_port_range(200)
    conf = ws.base / "vsftpd.conf"
    conf.write_text(
        "\n".join(
            [
                "listen=YES",
                "listen_ipv6=NO",
                f"listen_address={HOST}",
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
                "xferlog_enable=NO",
                "dual_log_enable=NO",
                f"vsftpd_log_file={ws.base / 'vsftpd.log'}",
                "",
            ]
        )
    )
    log = ws.base / "vsftpd.stderr"
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            [exe, str(conf)],
            stdin=subprocess.DEVNULL,
            stdout=err,
            stderr=err,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - no threads exist yet
        )
    server = Server("vsftpd", port, proc, user, password, tree=True)
    deadline = time.monotonic() + 10
    while True:
        if proc.poll() is not None:
            return f"vsftpd exited at start: {log.read_text()[-500:].strip()}"
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), 1) as s:
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
        self.mirror_files = max(args.mirror_files, args.small_files)
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

    def small_names(self) -> list[str]:
        return [f"f{i:04d}" for i in range(self.small_files)]

    def cleanup(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)


# ---------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------


def raw_row(raw: Server, client: str, body: Callable[[Any], None], **fields: Any) -> Case:
    """A scenario's raw-TCP row: the physical limit its other rows are compared with.

    `server` defaults to the raw server's name; a per-server limit passes its own.
    """
    fields.setdefault("server", raw.name)
    return Case(client=client, srv=raw, setup=lambda: None, body=body, role="raw", **fields)


class NullSink:
    """A binary file object whose write() discards (and counts) the data."""

    def __init__(self) -> None:
        self.count = 0

    def write(self, data: Any) -> int:
        n = len(data)
        self.count += n
        return n


def _expect(got: int, want: int, what: str) -> None:
    if got != want:
        raise RuntimeError(f"{what}: got {got} bytes, expected {want}")


class Clients:
    """Builds the rows (Cases) of every scenario."""

    def __init__(self, args: argparse.Namespace, ws: Workspace, ftplib2: Any) -> None:
        self.args = args
        self.ws = ws
        self.ftplib2 = ftplib2
        self.stored_mtimes: dict[Path, int] = {}
        self.curl = shutil.which("curl")
        self.lftp = shutil.which("lftp")
        self.curl_label = "curl"
        self.lftp_label = "lftp"
        if self.curl:
            self.curl_label = "curl " + _tool_version([self.curl, "--version"], 1)
        if self.lftp:
            self.lftp_label = "lftp " + _tool_version([self.lftp, "--version"], 2).rstrip(".,")

    # -- connection helpers --------------------------------------------------

    def ftplib2_login(self, srv: Server, *, pipelining: bool = False) -> Any:
        ftp = self.ftplib2.FTP()
        ftp.connect(HOST, srv.port)
        ftp.login(srv.user, srv.password)
        ftp.pipelining = pipelining
        return ftp

    @staticmethod
    def stdlib_login(srv: Server) -> ftplib.FTP:
        ftp = ftplib.FTP()
        ftp.connect(HOST, srv.port)
        ftp.login(srv.user, srv.password)
        return ftp

    @staticmethod
    def logout(ftp: Any) -> None:
        try:
            ftp.quit()
        except Exception:  # noqa: BLE001
            ftp.close()

    def lftp_argv(self, srv: Server, commands: str) -> list[str]:
        assert self.lftp is not None
        script = (
            "set cmd:fail-exit yes; set ftp:ssl-allow no; set net:max-retries 1; "
            "set net:timeout 60; set xfer:clobber yes; "
            f"open -u {srv.user},{srv.password} -p {srv.port} {HOST}; {commands}"
        )
        return [self.lftp, "-c", script]

    # -- raw limit -------------------------------------------------------------

    def raw_get(self, raw: Server, name: str, size: int) -> Callable[[Any], None]:
        request = f"GET {name}\n".encode()

        def body(_: Any) -> None:
            buf = bytearray(RAW_BUFSIZE)
            total = 0
            with socket.create_connection((HOST, raw.port)) as s:
                s.sendall(request)
                while n := s.recv_into(buf):
                    total += n
            _expect(total, size, "raw GET")

        return body

    # -- scenarios ---------------------------------------------------------------

    def session(self, raw: Server, servers: list[Server]) -> list[Case]:
        count = self.args.sessions
        cases: list[Case] = []

        def raw_connect(_: Any) -> None:
            for _ in range(count):
                with socket.create_connection((HOST, raw.port)) as s:
                    s.sendall(b"ECHO\n")
                    s.sendall(b"QUIT\r\n")
                    s.recv(256)

        cases.append(
            raw_row(
                raw, "raw: connect + one line ping-pong", raw_connect, scenario=SESSION, ops=count
            )
        )
        for srv in servers:

            def sessions(module: Any, srv: Server = srv) -> Callable[[Any], None]:
                def body(_: Any) -> None:
                    for _ in range(count):
                        ftp = module.FTP()
                        ftp.connect(HOST, srv.port)
                        ftp.login(srv.user, srv.password)
                        ftp.quit()

                return body

            common = {"scenario": SESSION, "server": srv.name, "srv": srv, "setup": lambda: None}
            cases += [
                Case(
                    client="ftplib2 connect+login+quit",
                    body=sessions(self.ftplib2),
                    ops=count,
                    profile=True,
                    **common,
                ),
                Case(
                    client="stdlib connect+login+quit",
                    body=sessions(ftplib),
                    ops=count,
                    role="stdlib",
                    **common,
                ),
            ]
            cases.append(
                self._external(
                    srv,
                    self.curl_label + " -I (login, SIZE, MDTM)",
                    self.curl and [self.curl, "-sS", "-I", "-o", os.devnull, srv.url("big.bin")],
                    scenario=SESSION,
                    ops=1,
                )
            )
            cases.append(
                self._external(
                    srv,
                    self.lftp_label + " quote NOOP",
                    self.lftp and self.lftp_argv(srv, "quote NOOP"),
                    scenario=SESSION,
                    ops=1,
                )
            )
        return cases

    def download(self, raw: Server, servers: list[Server]) -> list[Case]:
        size = self.ws.size
        common = {"scenario": DOWNLOAD, "nbytes": size, "slow": True}
        cases = [
            raw_row(
                raw,
                "raw: sendfile → recv_into 128 KiB",
                self.raw_get(raw, "pub/big.bin", size),
                **common,
            )
        ]
        local = self.ws.dl / "big.bin"

        def raw_to_file(_: Any) -> None:
            buf = bytearray(RAW_BUFSIZE)
            view = memoryview(buf)
            total = 0
            with socket.create_connection((HOST, raw.port)) as s, open(local, "wb") as f:
                s.sendall(b"GET pub/big.bin\n")
                while n := s.recv_into(buf):
                    f.write(view[:n])
                    total += n
            _expect(total, size, "raw GET to tmpfs")

        cases.append(
            Case(
                server=raw.name,
                client="raw: sendfile → recv_into 128 KiB + write to tmpfs file",
                srv=raw,
                setup=lambda: fresh_file(local),
                body=raw_to_file,
                teardown=lambda _: _expect(local.stat().st_size, size, "raw GET to tmpfs"),
                **common,
            )
        )

        def check_local(ftp: Any) -> None:
            _expect(local.stat().st_size, size, "download() to tmpfs")
            self.logout(ftp)

        for srv in servers:

            def retr(blocksize: int | None) -> Callable[[Any], None]:
                def body(ftp: Any) -> None:
                    sink = NullSink()
                    if blocksize is None:
                        ftp.retrbinary("RETR big.bin", sink.write)
                    else:
                        ftp.retrbinary("RETR big.bin", sink.write, blocksize)
                    _expect(sink.count, size, "retrbinary")

                return body

            def download_null(ftp: Any) -> None:
                _expect(ftp.download("big.bin", NullSink()), size, "download()")

            def download_file(ftp: Any) -> None:
                ftp.download("big.bin", local)

            f2 = dict(srv=srv, server=srv.name, teardown=self.logout, profile=True, **common)
            f2["setup"] = lambda srv=srv: self.ftplib2_login(srv)
            std = dict(srv=srv, server=srv.name, teardown=self.logout, **common)
            std["setup"] = lambda srv=srv: self.stdlib_login(srv)
            cases += [
                Case(client="ftplib2 retrbinary (default 8 KiB)", body=retr(None), **f2),
                Case(client="ftplib2 retrbinary blocksize=256 KiB", body=retr(256 * KIB), **f2),
                Case(client="ftplib2 download() → null sink", body=download_null, **f2),
                Case(
                    client="ftplib2 download() → tmpfs file",
                    body=download_file,
                    **{
                        **f2,
                        "setup": lambda srv=srv: (fresh_file(local), self.ftplib2_login(srv))[1],
                        "teardown": check_local,
                    },
                ),
                Case(
                    client="stdlib retrbinary (default 8 KiB)",
                    body=retr(None),
                    role="stdlib",
                    **std,
                ),
                Case(client="stdlib retrbinary blocksize=64 KiB", body=retr(64 * KIB), **std),
            ]
            cases.append(
                self._external(
                    srv,
                    self.curl_label,
                    self.curl and [self.curl, "-sS", "-o", os.devnull, srv.url("big.bin")],
                    **common,
                )
            )
            cases.append(
                self._external(
                    srv,
                    self.lftp_label + " get",
                    self.lftp and self.lftp_argv(srv, f"get big.bin -o {os.devnull}"),
                    **common,
                )
            )
        return cases

    def upload(self, raw: Server, servers: list[Server]) -> list[Case]:
        size = self.ws.size
        source = self.ws.pub / "big.bin"
        common = {"scenario": UPLOAD, "nbytes": size, "slow": True}

        def raw_put(_: Any) -> None:
            with socket.create_connection((HOST, raw.port)) as s, open(source, "rb") as f:
                s.sendall(b"PUT\n")
                s.sendfile(f)
                s.shutdown(socket.SHUT_WR)
                reply = b""
                while chunk := s.recv(100):
                    reply += chunk
            _expect(int(reply.split()[1]), size, "raw PUT")

        cases = [raw_row(raw, "raw: sendfile → recv_into discard", raw_put, **common)]
        for srv in servers:
            target = srv.upload_target

            def teardown(ftp: Any, srv: Server = srv) -> None:
                try:
                    self.check_stored(srv, size, ftp)
                finally:
                    self.logout(ftp)

            def upload(ftp: Any, target: str = target) -> None:
                _expect(ftp.upload(source, target), size, "upload()")

            def stor(blocksize: int | None, target: str = target) -> Callable[[Any], None]:
                def body(ftp: Any) -> None:
                    with open(source, "rb") as f:
                        if blocksize is None:
                            ftp.storbinary(f"STOR {target}", f)
                        else:
                            ftp.storbinary(f"STOR {target}", f, blocksize)

                return body

            f2 = dict(srv=srv, server=srv.name, teardown=teardown, profile=True, **common)
            f2["setup"] = lambda srv=srv: self.ftplib2_login(srv)
            std = dict(srv=srv, server=srv.name, teardown=teardown, **common)
            std["setup"] = lambda srv=srv: self.stdlib_login(srv)
            cases += [
                Case(client="ftplib2 upload() from tmpfs file", body=upload, **f2),
                Case(client="ftplib2 storbinary (default 8 KiB)", body=stor(None), **f2),
                Case(client="ftplib2 storbinary blocksize=256 KiB", body=stor(256 * KIB), **f2),
                Case(
                    client="stdlib storbinary (default 8 KiB)",
                    body=stor(None),
                    role="stdlib",
                    **std,
                ),
                Case(client="stdlib storbinary blocksize=64 KiB", body=stor(64 * KIB), **std),
            ]

            def check_stored(srv: Server = srv) -> None:
                self.check_stored(srv, size)

            cases.append(
                self._external(
                    srv,
                    self.curl_label + " -T",
                    self.curl and [self.curl, "-sS", "-T", str(source), srv.url(target)],
                    after=check_stored,
                    **common,
                )
            )
            cases.append(
                self._external(
                    srv,
                    self.lftp_label + " put",
                    self.lftp and self.lftp_argv(srv, f"put {source} -o {target}"),
                    after=check_stored,
                    **common,
                )
            )
        return cases

    def check_stored(self, srv: Server, size: int, ftp: Any = None) -> None:
        """Check that the server got all `size` bytes of an upload.

        A real file (vsftpd's) is left in place, for the next STOR to truncate
        just before it writes: see `fresh_file`.
        """
        if srv.upload_target != NULL_SINK:  # vsftpd: a file in the served tmpfs
            path = self.ws.pub / srv.upload_target
            st = path.stat()
            _expect(st.st_size, size, "bytes stored")
            if self.stored_mtimes.get(path) == st.st_mtime_ns:
                raise RuntimeError(f"{path.name} was not rewritten by this run")
            self.stored_mtimes[path] = st.st_mtime_ns
            return
        own = ftp is None
        if own:
            ftp = self.ftplib2_login(srv)
        try:
            _expect(ftp.size(NULL_SINK) or 0, size, "bytes stored (SIZE)")
        finally:
            if own:
                self.logout(ftp)

    def noop(self, raw: Server, servers: list[Server]) -> list[Case]:
        count = self.args.noops
        # 3x the runs: on a virtual machine a NOOP ping-pong runs either "hot" (both
        # vCPUs awake, ~15-20 us) or "cold" (~80-100 us), a run at a time.
        common = {"scenario": NOOP, "ops": count, "runs_factor": 3}

        def raw_ping(_: Any) -> None:
            with socket.create_connection((HOST, raw.port)) as s:
                s.sendall(b"ECHO\n")
                for _ in range(count):
                    s.sendall(b"NOOP\r\n")
                    reply = s.recv(256)
                    while not reply.endswith(b"\n"):
                        reply += s.recv(256)

        def noops(ftp: Any) -> None:
            for _ in range(count):
                ftp.voidcmd("NOOP")

        def raw_noops(ftp: Any) -> None:
            # The client-side limit on this server: bare socket calls, no parsing.
            sock = ftp.sock
            for _ in range(count):
                sock.sendall(b"NOOP\r\n")
                reply = sock.recv(256)
                while not reply.endswith(b"\n"):
                    reply += sock.recv(256)

        cases = [raw_row(raw, "raw: line ping-pong (Python both ends)", raw_ping, **common)]
        for srv in servers:
            cases += [
                Case(
                    server=srv.name,
                    client="raw socket: NOOP lines on a logged-in connection",
                    srv=srv,
                    setup=lambda srv=srv: self.stdlib_login(srv),
                    body=raw_noops,
                    teardown=self.logout,
                    role="raw",
                    **common,
                ),
                Case(
                    server=srv.name,
                    client="ftplib2 voidcmd('NOOP')",
                    srv=srv,
                    setup=lambda srv=srv: self.ftplib2_login(srv),
                    body=noops,
                    teardown=self.logout,
                    profile=True,
                    **common,
                ),
                Case(
                    server=srv.name,
                    client="stdlib voidcmd('NOOP')",
                    srv=srv,
                    setup=lambda srv=srv: self.stdlib_login(srv),
                    body=noops,
                    teardown=self.logout,
                    role="stdlib",
                    **common,
                ),
            ]
        return cases

    def listing(self, raw: Server, servers: list[Server]) -> list[Case]:
        entries = self.ws.list_entries
        cases: list[Case] = []
        for srv in servers:
            # The LIST bytes this server sends, saved for the raw-limit row.
            lines: list[str] = []
            with contextlib.closing(self.ftplib2_login(srv)) as ftp:
                ftp.retrlines("LIST list", lines.append)
                ftp.quit()
            data = "".join(line + "\r\n" for line in lines).encode()
            (self.ws.base / f"list-{srv.name}.txt").write_bytes(data)
            nbytes = len(data)
            common = {"scenario": LISTING, "server": srv.name, "nbytes": nbytes, "ops": entries}
            cases.append(
                raw_row(
                    raw,
                    f"raw: its LIST bytes over TCP ({nbytes / 1e6:.2f} MB)",
                    self.raw_get(raw, f"list-{srv.name}.txt", nbytes),
                    **common,
                )
            )

            def lines_of(cmd: str, parse: Callable[[str], Any] | None = None) -> Callable:
                def body(ftp: Any) -> None:
                    got: list[str] = []
                    ftp.retrlines(cmd, got.append)
                    if parse is not None:
                        parsed = [e for e in map(parse, got) if e is not None]
                        _expect(len(parsed), entries, cmd + " parsed entries")
                    elif cmd.startswith("LIST"):
                        _expect(len(got), entries, cmd + " lines")

                return body

            def scandir(ftp: Any) -> None:
                _expect(len(ftp.scandir("list")), entries, "scandir() entries")

            def stdlib_mlsd(ftp: ftplib.FTP) -> None:
                _expect(len([n for n, _ in ftp.mlsd("list") if n[0] != "."]), entries, "mlsd()")

            f2 = dict(srv=srv, teardown=self.logout, profile=True, **common)
            f2["setup"] = lambda srv=srv: self.ftplib2_login(srv)
            std = dict(srv=srv, teardown=self.logout, **common)
            std["setup"] = lambda srv=srv: self.stdlib_login(srv)
            parse = self.ftplib2.parse_list_line
            cases += [
                Case(
                    client="ftplib2 retrlines('LIST') raw lines", body=lines_of("LIST list"), **f2
                ),
                Case(
                    client="ftplib2 retrlines('LIST') + parse_list_line",
                    body=lines_of("LIST list", parse),
                    **f2,
                ),
            ]
            if srv.has_mlsd:
                cases.append(
                    Case(
                        client="ftplib2 retrlines('MLSD') raw lines",
                        body=lines_of("MLSD list"),
                        **f2,
                    )
                )
            cases += [
                Case(
                    client=f"ftplib2 scandir() ({'MLSD' if srv.has_mlsd else 'LIST'})",
                    body=scandir,
                    **f2,
                ),
                Case(
                    client="stdlib retrlines('LIST') raw lines",
                    body=lines_of("LIST list"),
                    role="stdlib",
                    **std,
                ),
            ]
            if srv.has_mlsd:
                cases.append(Case(client="stdlib mlsd() (name, facts)", body=stdlib_mlsd, **std))
            ext = {"scenario": LISTING, "nbytes": nbytes, "ops": entries}
            cases.append(
                self._external(
                    srv,
                    self.curl_label + " LIST",
                    self.curl and [self.curl, "-sS", "-o", os.devnull, srv.url("list/")],
                    **ext,
                )
            )
            cases.append(self._external(srv, self.lftp_label + " ls", self.lftp_ls(srv), **ext))
        return cases

    def lftp_ls(self, srv: Server) -> list[str] | None:
        return self.lftp_argv(srv, "ls list") if self.lftp else None

    def small(self, raw: Server, servers: list[Server]) -> list[Case]:
        names = self.ws.small_names()
        count, size = len(names), 4 * KIB
        common = {"scenario": SMALL, "nbytes": count * size, "ops": count}
        dest = self.ws.dl / "small"

        def raw_many(_: Any) -> None:
            for name in names:
                self.raw_get(raw, f"pub/small/{name}", size)(None)

        cases = [raw_row(raw, "raw: a new TCP connection per file", raw_many, **common)]

        def retr_all(ftp: Any) -> None:
            for name in names:
                sink = NullSink()
                ftp.retrbinary(f"RETR small/{name}", sink.write)
                _expect(sink.count, size, name)

        def download_null(ftp: Any) -> None:
            for name in names:
                _expect(ftp.download(f"small/{name}", NullSink()), size, name)

        def download_files(ftp: Any) -> None:
            for name in names:
                ftp.download(f"small/{name}", dest / name)

        def download_files_sized(ftp: Any) -> None:
            for name in names:  # the size a listing gives: no SIZE command per file
                ftp.download(f"small/{name}", dest / name, size=size)

        def make_dest(login: Callable[[], Any]) -> Callable[[], Any]:
            def setup() -> Any:
                dest.mkdir(exist_ok=True)
                return login()

            return setup

        def clear_dest(ftp: Any = None) -> None:
            got = len(os.listdir(dest)) if dest.exists() else 0
            shutil.rmtree(dest, ignore_errors=True)
            if ftp is not None:
                self.logout(ftp)
            _expect(got, count, "files downloaded")

        for srv in servers:
            f2 = dict(srv=srv, server=srv.name, teardown=self.logout, profile=True, **common)
            f2["setup"] = lambda srv=srv: self.ftplib2_login(srv)
            piped = {**f2, "setup": lambda srv=srv: self.ftplib2_login(srv, pipelining=True)}
            cases += [
                Case(client="ftplib2 retrbinary() each", body=retr_all, **f2),
                Case(client="ftplib2 retrbinary() each, pipelining", body=retr_all, **piped),
                Case(client="ftplib2 download() → null sink each", body=download_null, **f2),
                Case(
                    client="ftplib2 download() → tmpfs file each",
                    body=download_files,
                    **{
                        **f2,
                        "setup": make_dest(lambda srv=srv: self.ftplib2_login(srv)),
                        "teardown": clear_dest,
                    },
                ),
                Case(
                    client="ftplib2 download(size=) → tmpfs file each, pipelining",
                    body=download_files_sized,
                    **{
                        **piped,
                        "setup": make_dest(
                            lambda srv=srv: self.ftplib2_login(srv, pipelining=True)
                        ),
                        "teardown": clear_dest,
                    },
                ),
                Case(
                    server=srv.name,
                    client="stdlib retrbinary() each",
                    srv=srv,
                    setup=lambda srv=srv: self.stdlib_login(srv),
                    body=retr_all,
                    teardown=self.logout,
                    role="stdlib",
                    **common,
                ),
            ]
            curl_argv = None
            if self.curl:
                config = self.ws.base / f"curl-small-{srv.name}.conf"
                config.write_text(
                    "".join(
                        f'url = "{srv.url("small/" + n)}"\noutput = "{os.devnull}"\n' for n in names
                    )
                )
                # -w prints each transfer's connect time, to spot stalled connections.
                curl_argv = [self.curl, "-sS", "-w", "%{time_connect}\\n", "-K", str(config)]
            curl_case = self._external(
                srv, self.curl_label + " (one process, reuses connection)", curl_argv, **common
            )
            curl_case.after = self._count_stalls(curl_case, count)
            cases.append(curl_case)
            lftp_argv = None
            if self.lftp:
                files = " ".join(f"small/{n}" for n in names)
                lftp_argv = self.lftp_argv(srv, f"get -O {dest} {files}")

            def lftp_after() -> None:
                clear_dest()

            cases.append(
                self._external(
                    srv,
                    self.lftp_label + " get (→ tmpfs files)",
                    lftp_argv,
                    before=lambda: dest.mkdir(exist_ok=True),
                    after=lftp_after,
                    **common,
                )
            )
        return cases

    def _count_stalls(self, case: Case, transfers: int) -> Callable[[], None]:
        """An after() hook: note runs where curl took ≥ 0.5 s to set up data connections."""
        log = self.ws.base / "client.log"
        runs: list[int] = []

        def after() -> None:
            times = []
            for line in log.read_text(errors="replace").split():
                with contextlib.suppress(ValueError):
                    times.append(float(line))
            runs.append(sum(t >= 0.5 for t in times))
            if any(runs):
                per_run = ", ".join(map(str, runs))
                remark = (
                    f"transfers whose data connection took ≥ 0.5 s to set up, per run: {per_run}"
                    f" of {transfers}. strace shows curl itself waiting (poll with a 1000 ms"
                    " timeout) between the 229 reply and connect(); each stall costs ~1 s"
                )
                case.remarks[:] = [remark]

        return after

    def mirror(self, raw: Server, servers: list[Server]) -> list[Case]:
        count = self.ws.mirror_files
        common = {"scenario": MIRROR, "nbytes": count * 4 * KIB, "ops": count, "slow": True}
        dest = self.ws.dl / "mirror"
        cases: list[Case] = []

        def check_and_clear() -> None:
            # Dot files are a mirror tool's own (ftpmirror's manifest), not mirrored files.
            got = sum(
                len([f for f in files if not f.startswith(".")]) for _, _, files in os.walk(dest)
            )
            shutil.rmtree(dest, ignore_errors=True)
            _expect(got, count, "files mirrored")

        mirror_note = ""
        script = FTPMIRROR.relative_to(REPO)
        pythonpath = [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(pythonpath)}
        if not FTPMIRROR.exists():
            mirror_note = f"skipped: {script} does not exist"
        else:
            out = subprocess.run(
                [sys.executable, str(FTPMIRROR), "--help"],
                check=False,
                capture_output=True,
                text=True,
                timeout=60,
                env=env,
            )
            if "--parallel" not in out.stdout + out.stderr:
                mirror_note = f"skipped: {script} --help shows no --parallel option"
        for srv in servers:
            for nconn, extra in ((1, []), (4, []), (1, ["--pipelining"])):
                argv = [sys.executable, str(FTPMIRROR), "-q", "--parallel", str(nconn), *extra]
                argv += [srv.url("small"), str(dest)]
                cases.append(
                    self._external(
                        srv,
                        " ".join([f"{script} --parallel {nconn}", *extra]),
                        None if mirror_note else argv,
                        after=check_and_clear,
                        note=mirror_note,
                        env=env,
                        profile_argv=True,
                        **common,
                    )
                )
            for nconn in (1, 4):
                cases.append(
                    self._external(
                        srv,
                        f"{self.lftp_label} mirror --parallel={nconn}",
                        self.lftp
                        and self.lftp_argv(srv, f"mirror --parallel={nconn} small {dest}"),
                        after=check_and_clear,
                        **common,
                    )
                )
            for nconn in (1, 4):
                cases.append(
                    Case(
                        server=srv.name,
                        client=f"ftplib2 scandir()+download(), {nconn} thread(s) (bench code)",
                        srv=srv,
                        setup=lambda: dest.mkdir(),
                        body=self._naive_mirror(srv, nconn, dest),
                        teardown=lambda _: check_and_clear(),
                        profile=nconn == 1,
                        **common,
                    )
                )
        return cases

    def _naive_mirror(self, srv: Server, nconn: int, dest: Path) -> Callable[[Any], None]:
        """What a mirror tool at least does: list once, download on `nconn` connections."""

        def worker(names: list[str]) -> None:
            ftp = self.ftplib2_login(srv)
            try:
                for name in names:
                    ftp.download(f"small/{name}", dest / name)
            finally:
                self.logout(ftp)

        def body(_: Any) -> None:
            ftp = self.ftplib2_login(srv)
            try:
                names = [e.name for e in ftp.scandir("small") if e.type == "file"]
            finally:
                self.logout(ftp)
            if nconn == 1:
                worker(names)
                return
            with concurrent.futures.ThreadPoolExecutor(nconn) as pool:
                for future in [pool.submit(worker, names[i::nconn]) for i in range(nconn)]:
                    future.result()

        return body

    def _external(
        self,
        srv: Server,
        label: str,
        argv: list[str] | None | str | bool,
        *,
        before: Callable[[], None] | None = None,
        after: Callable[[], None] | None = None,
        note: str = "",
        env: dict[str, str] | None = None,
        profile_argv: bool = False,
        **common: Any,
    ) -> Case:
        if not argv and not note:
            note = f"skipped: {label.split()[0]} not installed"
        return Case(
            server=srv.name,
            client=label,
            srv=srv,
            argv=argv if isinstance(argv, list) else None,
            before=before,
            after=after,
            env=env,
            profile_argv=profile_argv,
            note=note,
            **common,
        )


def _tool_version(argv: list[str], field: int) -> str:
    try:
        out = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=10).stdout
        first = out.splitlines()[0]
        if "|" in first:  # lftp: "LFTP | Version 4.9.2 | ..."
            return first.split("|")[1].split()[-1]
        return first.split()[field]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "?"


# ---------------------------------------------------------------------------
# Table titles
# ---------------------------------------------------------------------------

TITLES = {
    SESSION: "Connect, log in and QUIT ({sessions} sessions per run in process, 1 per tool run)",
    DOWNLOAD: "Download of one {size} file",
    UPLOAD: "Upload of one {size} file (server discards it)",
    NOOP: "{noops} NOOP round trips on one connection",
    LISTING: "Listing of a directory of {entries} entries",
    SMALL: "{small} small-file (4 KiB) downloads on one connection",
    MIRROR: "Mirror of a directory of {mirror} small files (4 KiB)",
}


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="smoke test: small sizes, 1 run per row")
    p.add_argument("--size-mib", type=int, help="size of the big file (default 512, quick 16)")
    p.add_argument("--repeat", type=int, help="runs per row, median reported (default 5)")
    p.add_argument(
        "--repeat-slow", type=int, help="runs per big-transfer/mirror row (default min(3, repeat))"
    )
    p.add_argument("--sessions", type=int, help="logins per in-process run (default 20)")
    p.add_argument("--noops", type=int, help="NOOP round trips (default 2000)")
    p.add_argument("--list-entries", type=int, help="entries in the listed directory (20000)")
    p.add_argument("--small-files", type=int, help="small-file downloads (default 500)")
    p.add_argument("--mirror-files", type=int, help="files in the mirrored directory (1000)")
    p.add_argument("--only", help=f"comma-separated scenarios to run, of: {','.join(SCENARIOS)}")
    p.add_argument("--no-vsftpd", action="store_true", help="do not start vsftpd")
    p.add_argument(
        "--vsftpd-user",
        default="ftplib2bench",
        help="local account for vsftpd logins; created if missing (and then removed "
        "at exit), its password set to a random one (default: ftplib2bench)",
    )
    p.add_argument(
        "--no-warmup", dest="warmup", action="store_false",
        help="skip the uncounted first run of every row (on by default, off with --quick)",
    )  # fmt: skip
    p.add_argument("--profile", action="store_true", help="append cProfile tops of ftplib2 rows")
    p.add_argument("--output", type=Path, help="also write the Markdown report to this file")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = p.parse_args(argv)
    quick = args.quick
    defaults = {
        "size_mib": 16 if quick else 512,
        "repeat": 1 if quick else 5,
        "sessions": 5 if quick else 20,
        "noops": 200 if quick else 2000,
        "list_entries": 2000 if quick else 20000,
        "small_files": 50 if quick else 500,
        "mirror_files": 100 if quick else 1000,
    }
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.repeat_slow is None:
        args.repeat_slow = min(3, args.repeat)
    if quick:
        args.warmup = False
    args.only = args.only.split(",") if args.only else list(SCENARIOS)
    unknown = set(args.only) - set(SCENARIOS)
    if unknown:
        p.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    return args


def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(REPO))
    ftplib2 = importlib.import_module("ftplib2")
    _become_subreaper()
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    with contextlib.ExitStack() as stack:
        ws = Workspace(args)
        stack.callback(_cleanup, ws, args)
        servers = list(_start_servers(stack, ws, args, ftplib2))
        report = _run(args, ws, ftplib2, servers)
    text = "\n".join(report) + "\n"
    sys.stdout.write(text)
    if args.output:
        args.output.write_text(text)
    return 0


def _start_servers(
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


def _run(
    args: argparse.Namespace, ws: Workspace, ftplib2: Any, all_servers: list[Server]
) -> list[str]:
    raw, servers = all_servers[0], all_servers[1:]
    clients = Clients(args, ws, ftplib2)
    status = {
        "pyftpdlib": f"{importlib.metadata.version('pyftpdlib')} in its own process",
        "vsftpd": ws.vsftpd_status,
        "curl": clients.curl_label if clients.curl else "not installed",
        "lftp": clients.lftp_label if clients.lftp else "not installed",
    }
    report = ["# ftplib2 benchmark", ""]
    report += machine_facts(args, ws, status)
    report.append("")
    sizes = {
        "sessions": args.sessions,
        "size": f"{args.size_mib} MiB",
        "noops": args.noops,
        "entries": args.list_entries,
        "small": args.small_files,
        "mirror": ws.mirror_files,
    }
    builders = {
        SESSION: clients.session,
        DOWNLOAD: clients.download,
        UPLOAD: clients.upload,
        NOOP: clients.noop,
        LISTING: clients.listing,
        SMALL: clients.small,
        MIRROR: clients.mirror,
    }
    all_cases: list[Case] = []
    for scenario in SCENARIOS:
        if scenario not in args.only:
            continue
        title = TITLES[scenario].format(**sizes)
        progress(f"== {title}")
        cases = builders[scenario](raw, servers)
        run_cases(cases, args, ws)
        all_cases += cases
        report += render_scenario(scenario, cases, title)
    for srv in servers:
        for note in srv.notes:
            report.append(f"- {srv.name}: {note}")
    report.append(f"- load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    report.append("")
    profiled = [c for c in all_cases if c.profile_text]
    if profiled:
        report += ["## Profiles (one extra run each, cProfile, sorted by own time)", ""]
        for c in profiled:
            report += [f"### {c.scenario}: {c.server} / {c.client}", "", "```"]
            report += [c.profile_text, "```", ""]
    return report


def _cleanup(ws: Workspace, args: argparse.Namespace) -> None:
    kill_current_child()
    if ws.created_user:
        with contextlib.suppress(OSError, subprocess.CalledProcessError):
            _run_root_command(["userdel", ws.created_user])
    if args.keep:
        progress(f"kept {ws.base}")
    else:
        ws.cleanup()


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--role":
        sys.exit(run_role(sys.argv[2:]))
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        progress("interrupted; servers stopped and temporary files removed")
        sys.exit(130)
