#!/usr/bin/env python3
"""ftpmirror at archive scale, beside lftp: wall time, client CPU per file, peak RSS.

    python Tools/bench/archive.py                       # 20,000 and 100,000 files
    python Tools/bench/archive.py --sizes 20000 --quick # one size, fewer rows
    python Tools/bench/archive.py --million             # adds 1,000,000 files (tmpfs)

A tree of 64-byte files (100 files per directory, plus one directory holding a
fifth of the files, at most 100,000) is served by pyftpdlib and vsftpd (see
README, "archive.py").  For each server and size, each client mirrors it into an
empty directory (first run), again (no-op rerun), and again after 1 % of the
files changed on the server.  The report is Markdown on stdout; progress goes to
stderr.  Every run is checked: exit status 0 and the number of files mirrored.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import HOST, REPO, progress
from servers import (
    Server,
    become_subreaper,
    run_root_command,
    start_pyftpdlib,
    start_vsftpd,
)

FTPMIRROR = REPO / "Tools" / "scripts" / "ftpmirror.py"
FIXED_TIME = 1_600_000_000  # every generated file's mtime
CHANGED_TIME = 1_650_000_000  # a changed file's
FILES_PER_DIR = 100


# ---------------------------------------------------------------------------
# The tree
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class Tree:
    """A generated tree of `files` small files below `root`."""

    root: Path
    files: int

    @property
    def big_dir(self) -> int:
        return min(100_000, self.files // 5)

    def paths(self) -> list[str]:
        """Relative paths of every file, in generation order."""
        out = [f"big/e{i:06d}.dat" for i in range(self.big_dir)]
        rest = self.files - self.big_dir
        out += [f"d{i // FILES_PER_DIR:05d}/f{i % FILES_PER_DIR:03d}.dat" for i in range(rest)]
        return out

    @staticmethod
    def content(rel: str, changed: bool = False) -> bytes:
        digest = hashlib.sha256(rel.encode()).hexdigest()  # 64 hex digits
        return (digest + "+").encode() if changed else digest.encode()

    def generate(self) -> None:
        made: set[str] = set()
        for rel in self.paths():
            directory = rel.rpartition("/")[0]
            if directory not in made:
                (self.root / directory).mkdir(mode=0o755, exist_ok=True)
                made.add(directory)
            self._write(rel, changed=False)
        for directory in made:
            os.utime(self.root / directory, (FIXED_TIME, FIXED_TIME))

    def _write(self, rel: str, changed: bool) -> None:
        path = self.root / rel
        path.write_bytes(self.content(rel, changed))
        stamp = CHANGED_TIME if changed else FIXED_TIME
        os.utime(path, (stamp, stamp))

    def changed_sample(self) -> list[str]:
        """1 % of the files, spread over the tree."""
        return self.paths()[::100]

    def change(self, changed: bool) -> None:
        for rel in self.changed_sample():
            self._write(rel, changed)

    def check_copy(self, dest: Path, changed: bool) -> None:
        """`dest` must hold every file, with the right content (a sample is read)."""
        count = 0
        for dirpath, dirnames, filenames in os.walk(dest):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            count += sum(1 for n in filenames if not n.startswith("."))
        if count != self.files:
            raise RuntimeError(f"{dest}: {count} files, expected {self.files}")
        for rel in self.changed_sample()[:50]:
            if (dest / rel).read_bytes() != self.content(rel, changed):
                raise RuntimeError(f"{dest / rel}: wrong content")


# ---------------------------------------------------------------------------
# Running a client
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class Run:
    wall: float
    cpu: float
    rss_mb: float


def run(argv: list[str], log: Path, env: dict[str, str] | None = None) -> Run:
    with open(log, "ab") as err:
        err.write(f"\n$ {' '.join(argv)}\n".encode())
        err.flush()
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=err, stderr=err, env=env)
        try:
            _, status, ru = os.wait4(proc.pid, 0)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    if code:
        raise RuntimeError(f"exit {code}: {log.read_text()[-600:].strip()}")
    return Run(wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024)


@dataclasses.dataclass
class Client:
    label: str
    kind: str  # "ftpmirror" or "lftp"
    parallel: int

    def argv(self, srv: Server, dest: Path, script: Path, lftp: str) -> list[str]:
        if self.kind == "ftpmirror":
            url = f"ftp://{srv.user}:{srv.password}@{HOST}:{srv.port}/"
            return [sys.executable, str(script), "-q", "--parallel", str(self.parallel),
                    url, str(dest)]  # fmt: skip
        commands = (
            "set cmd:fail-exit yes; set ftp:ssl-allow no; set net:max-retries 1; "
            "set net:timeout 60; "
            f"open -u {srv.user},{srv.password} -p {srv.port} {HOST}; "
            f"mirror -P {self.parallel} . {dest}"
        )
        return [lftp, "-c", commands]


@dataclasses.dataclass
class Row:
    server: str
    files: int
    client: str
    first: Run
    noop: Run
    changed: Run


def first_run(
    srv: Server, tree: Tree, client: Client, work: Path, args: argparse.Namespace
) -> tuple[Run, list[str], dict[str, str]]:
    """`client` mirrors `tree` into an empty work/dest: the run, its command and environment."""
    dest = work / "dest"
    shutil.rmtree(dest, ignore_errors=True)
    argv = client.argv(srv, dest, args.ftpmirror, args.lftp)
    env = dict(os.environ, PYTHONPATH=str(args.ftpmirror.parents[2]))
    srv.quiesce()
    first = run(argv, work / "runs.log", env)
    tree.check_copy(dest, changed=False)
    return first, argv, env


def measure(srv: Server, tree: Tree, client: Client, work: Path, args: argparse.Namespace) -> Row:
    dest = work / "dest"
    log = work / "runs.log"
    first, argv, env = first_run(srv, tree, client, work, args)
    srv.quiesce()
    noop = run(argv, log, env)
    tree.change(True)
    try:
        srv.quiesce()
        changed = run(argv, log, env)
        tree.check_copy(dest, changed=True)
    finally:
        tree.change(False)
    shutil.rmtree(dest, ignore_errors=True)
    return Row(srv.name, tree.files, client.label, first, noop, changed)


def attempt(
    srv: Server,
    tree: Tree,
    client: Client,
    work: Path,
    args: argparse.Namespace,
    errors: list[str],
) -> Row | None:
    """`measure`, or None with the error noted: one failing row does not end the run."""
    try:
        return measure(srv, tree, client, work, args)
    except (RuntimeError, OSError) as exc:
        errors.append(f"{srv.name} {tree.files} {client.label}: {str(exc)[-300:]}")
        progress(f"  failed: {str(exc)[-300:]}")
        return None


# ---------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------


def per_k(seconds: float, files: int) -> str:
    return f"{seconds * 1000 / files:.3f}"


def report(rows: list[Row], cpu_rows: list[CpuRow]) -> str:
    out = []
    for server in dict.fromkeys(r.server for r in rows):
        out.append(f"\n### {server}\n")
        out.append(
            "| files | client | first wall s/1000 | first CPU s/1000 | no-op wall s/1000 "
            "| 1 % changed wall s/1000 | peak RSS MB | × lftp wall (first) "
            "| × lftp wall (no-op) |"
        )
        out.append("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
        mine = [r for r in rows if r.server == server]
        for r in mine:
            lftp = next(
                (x for x in mine if x.files == r.files and x.client.startswith("lftp")
                 and x.client.split()[-1] == r.client.split()[-1]), None,
            )  # fmt: skip
            ratio_first = f"{r.first.wall / lftp.first.wall:.2f}" if lftp else "—"
            ratio_noop = f"{r.noop.wall / lftp.noop.wall:.2f}" if lftp else "—"
            rss = max(r.first.rss_mb, r.noop.rss_mb, r.changed.rss_mb)
            out.append(
                f"| {r.files} | {r.client} | {per_k(r.first.wall, r.files)} "
                f"| {per_k(r.first.cpu, r.files)} | {per_k(r.noop.wall, r.files)} "
                f"| {per_k(r.changed.wall, r.files)} | {rss:.0f} | {ratio_first} | {ratio_noop} |"
            )
        sizes = sorted({r.files for r in mine})
        if len(sizes) >= 2:
            out.append("")
            out.append(f"RSS growth per 1000 files between {sizes[0]} and {sizes[-1]} files:")
            for label in dict.fromkeys(r.client for r in mine):
                a = next((r for r in mine if r.client == label and r.files == sizes[0]), None)
                b = next((r for r in mine if r.client == label and r.files == sizes[-1]), None)
                if a and b:
                    ra = max(a.first.rss_mb, a.noop.rss_mb, a.changed.rss_mb)
                    rb = max(b.first.rss_mb, b.noop.rss_mb, b.changed.rss_mb)
                    growth = (rb - ra) * 1000 / (sizes[-1] - sizes[0])
                    out.append(f"- {label}: {growth:.3f} MB")
        cpu_mine = [r for r in cpu_rows if r.server == server]
        if cpu_mine:
            out.append("")
            out.append(
                "| files | client | first-run client CPU s/1000, median (min–max) "
                "| × 1 connection (medians) |"
            )
            out.append("|---:|---|---:|---:|")
            for r in cpu_mine:
                base = next(
                    x for x in cpu_mine if x.files == r.files and x.client.endswith(" 1")
                    and x.client.split()[0] == r.client.split()[0]
                )  # fmt: skip
                out.append(
                    f"| {r.files} | {r.client} | {per_k(r.median, r.files)} "
                    f"({per_k(min(r.cpus), r.files)}–{per_k(max(r.cpus), r.files)}) "
                    f"| {r.median / base.median:.2f} |"
                )
    return "\n".join(out)


@dataclasses.dataclass
class CpuRow:
    server: str
    files: int
    client: str
    cpus: list[float]  # client CPU of each first run

    @property
    def median(self) -> float:
        return statistics.median(self.cpus)


def cpu_sweep(
    srv: Server,
    tree: Tree,
    sweep: list[int],
    work: Path,
    args: argparse.Namespace,
    errors: list[str],
) -> list[CpuRow]:
    """First runs only, `args.cpu_repeat` rounds, each round every client once.

    Interleaved rounds, so that a burst of load on this shared machine falls on
    all connection counts alike rather than on one of them; the median is reported.
    """
    kinds = ("ftpmirror", "lftp") if args.lftp else ("ftpmirror",)
    rows = {(kind, n): CpuRow(srv.name, tree.files, f"{kind} {n}", []) for n in sweep
            for kind in kinds}  # fmt: skip
    for round_ in range(args.cpu_repeat):
        for (kind, n), row in rows.items():
            progress(f"{srv.name} {tree.files}: CPU sweep {row.client} ({round_ + 1})")
            try:
                first, _, _ = first_run(srv, tree, Client(row.client, kind, n), work, args)
            except (RuntimeError, OSError) as exc:
                errors.append(f"{srv.name} {tree.files} {row.client}: {str(exc)[-300:]}")
                continue
            row.cpus.append(first.cpu)
    shutil.rmtree(work / "dest", ignore_errors=True)
    return [row for row in rows.values() if row.cpus]


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


class Workspace:
    """What servers.start_* need: base/ (scratch), pub/ (served), created_user."""

    def __init__(self, parent: str | None) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="ftplib2-archive-", dir=parent))
        os.chmod(self.base, 0o755)
        self.pub = self.base / "pub"
        self.pub.mkdir(mode=0o755)
        self.created_user = ""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="20000,100000", help="tree sizes, comma-separated")
    parser.add_argument("--million", action="store_true", help="add 1,000,000 files (tmpfs)")
    parser.add_argument("--quick", action="store_true",
                        help="only ftpmirror and lftp with 1 and 4 connections, no CPU sweep")  # fmt: skip
    parser.add_argument("--servers", default="pyftpdlib,vsftpd")
    parser.add_argument(
        "--clients", default="ftpmirror 1,ftpmirror 4,lftp 1,lftp 4",
        help="the rows, as KIND N (connections), comma-separated",
    )  # fmt: skip
    parser.add_argument("--cpu-repeat", type=int, default=3,
                        help="rounds of the CPU sweep (the median is reported)")  # fmt: skip
    parser.add_argument("--cpu-sweep", default="1,2,4,8",
                        help="connections for the CPU-per-file table (first size only)")  # fmt: skip
    parser.add_argument("--ftpmirror", type=Path, default=FTPMIRROR,
                        help="the ftpmirror.py to measure (its checkout's ftplib2 is used)")  # fmt: skip
    parser.add_argument(
        "--vsftpd-user", default="ftplib2archive",
        help="local account vsftpd serves the tree as (its password is reset each run)",
    )  # fmt: skip
    parser.add_argument("--output", type=Path, help="also write the report here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    args.sizes = [int(s) for s in args.sizes.split(",") if s]
    if args.million:
        args.sizes.append(1_000_000)
    args.ftpmirror = args.ftpmirror.resolve()
    args.lftp = shutil.which("lftp")
    return args


def _terminate(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    become_subreaper()
    signal.signal(signal.SIGTERM, _terminate)
    shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
    if 1_000_000 in args.sizes and shm is None:
        progress("--million needs /dev/shm (tmpfs)")
        return 2
    ws = Workspace(shm)
    rows: list[Row] = []
    errors: list[str] = []
    cpu_rows: list[CpuRow] = []
    clients = []
    for label in args.clients.split(","):
        kind, _, n = label.strip().partition(" ")
        if kind == "lftp" and not args.lftp:
            progress("lftp not installed (apt-get install lftp): its rows are left out")
            continue
        clients.append(Client(f"{kind} {n}", kind, int(n)))
    sweep = [int(n) for n in args.cpu_sweep.split(",") if n] if not args.quick else []
    try:
        with contextlib.ExitStack() as stack:
            servers: list[Server] = []
            if "pyftpdlib" in args.servers:
                pyftpd = start_pyftpdlib(ws)  # type: ignore[arg-type]
                stack.callback(pyftpd.stop)
                servers.append(pyftpd)
            if "vsftpd" in args.servers:
                vsftpd = start_vsftpd(ws, args.vsftpd_user)  # type: ignore[arg-type]
                if isinstance(vsftpd, str):
                    progress(f"vsftpd skipped: {vsftpd}")
                else:
                    stack.callback(vsftpd.stop)
                    servers.append(vsftpd)
            for size in args.sizes:
                for child in list(ws.pub.iterdir()):
                    shutil.rmtree(child)
                tree = Tree(ws.pub, size)
                progress(f"generating {size} files ...")
                tree.generate()
                work = ws.base / "work"
                work.mkdir(exist_ok=True)
                for srv in servers:
                    for client in clients:
                        progress(f"{srv.name} {size}: {client.label}")
                        row = attempt(srv, tree, client, work, args, errors)
                        if row is not None:
                            rows.append(row)
                    if size == args.sizes[0] and sweep:
                        cpu_rows += cpu_sweep(srv, tree, sweep, work, args, errors)
    finally:
        if ws.created_user:
            with contextlib.suppress(OSError, subprocess.CalledProcessError):
                run_root_command(["userdel", ws.created_user])
        if not args.keep:
            shutil.rmtree(ws.base, ignore_errors=True)
    text = (
        f"ftpmirror: {args.ftpmirror}\n\nPer 1000 files; 64-byte files, {FILES_PER_DIR} per "
        "directory plus one directory of a fifth of them (at most 100,000); 1 % changed "
        "for the third run.  Peak RSS: the largest of the three runs (ru_maxrss).\n"
        + report(rows, cpu_rows)
        + "".join(f"\n- error: {e}" for e in errors)
    )
    print(text)
    if args.output:
        args.output.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
