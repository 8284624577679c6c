"""Measurement: how one row (a `Case`) is run, timed and its CPU time counted.

A row runs either in this process (setup, a timed body, teardown) or as a
subprocess (curl, lftp, ftpmirror.py), timed whole.  `run_cases` runs the rows
of one scenario round-robin, `run_once` takes one `Sample` (wall time, client
CPU, server CPU), `profile_once` one extra run under cProfile.  The servers'
CPU time comes from `servers.Server.cpu`.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import dataclasses
import io
import os
import pstats
import resource
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common import REPO, progress
from report import fmt_opt

if TYPE_CHECKING:
    from servers import Server, Workspace


def self_cpu() -> float:
    """User + system CPU seconds of this process (all its threads)."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


@dataclasses.dataclass
class Sample:
    wall: float
    cpu: float | None
    server_cpu: float | None


@dataclasses.dataclass
class Case:
    """One row: a client doing one scenario against one server."""

    scenario: str
    server: str
    client: str
    srv: Server | None = None
    # In-process clients: setup() -> ctx (untimed), body(ctx) (timed), teardown(ctx).
    setup: Callable[[], Any] | None = None
    body: Callable[[Any], None] | None = None
    teardown: Callable[[Any], None] | None = None
    # Subprocess clients: argv run to completion (timed), then after() (untimed).
    argv: list[str] | None = None
    env: dict[str, str] | None = None
    before: Callable[[], None] | None = None
    after: Callable[[], None] | None = None
    role: str = ""  # "raw" or "stdlib": the row other rows are compared with
    nbytes: int | None = None  # payload of one run, for MB/s
    ops: int | None = None  # operations in one run, for the per-op column
    slow: bool = False
    runs_factor: int = 1  # this many times --repeat: short rows whose times are bimodal
    profile: bool = False  # an ftplib2 row worth profiling with --profile
    profile_argv: bool = False  # a Python subprocess row (ftpmirror) to profile with -m cProfile
    note: str = ""
    samples: list[Sample] = dataclasses.field(default_factory=list)
    error: str = ""
    profile_text: str = ""
    remarks: list[str] = dataclasses.field(default_factory=list)
    # WAN rows (wan.py): the samples of each RTT, the row whose time is this row's
    # fixed cost (a tool's start-up and login), the round trips a check row expects.
    wan: dict[float, list[Sample]] = dataclasses.field(default_factory=dict)
    fixed: Case | None = None
    expect_round_trips: float | None = None
    reference: Case | None = None  # the row "× stdlib" compares with, if not the server's

    @property
    def runnable(self) -> bool:
        return not self.error and not self.note and (self.body is not None or bool(self.argv))


_current_child: subprocess.Popen[bytes] | None = None


def kill_current_child() -> None:
    """Kill the tool a run is waiting for, if any: the benchmark is stopping."""
    child = _current_child
    if child is not None and child.poll() is None:
        child.kill()
        with contextlib.suppress(ChildProcessError):
            child.wait()


def _cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs, from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def settle(window: float = 0.05, limit: float = 1.0) -> None:
    """Wait (up to `limit` s) for a `window` in which the CPUs are nearly idle.

    A process still winding down from the previous row (a vsftpd session
    exiting, say) keeps a core awake, and on a virtual machine a short
    ping-pong row then runs up to 4x faster than on idle cores, which woke
    a raw NOOP row from 90 to 24 us per round trip depending on its
    neighbour in the round robin.
    """
    if not os.path.exists("/proc/stat"):
        return
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        busy0, total0 = _cpu_ticks()
        time.sleep(window)
        busy1, total1 = _cpu_ticks()
        if total1 > total0 and (busy1 - busy0) / (total1 - total0) < 0.05:
            return


def fresh_file(path: Path) -> None:
    """Remove a file that the next run writes again, right before that run (untimed).

    On a virtual machine with free page reporting (virtio-balloon), memory
    freed a few seconds earlier is handed back to the host, and writing
    into it again costs a host page fault per page: a tmpfs-writing row that
    followed a pause ran 3-4x slower than the rows after it.  Freed just
    before the run, the pages are reused warm, the same for every row.
    (vsftpd's upload target is left in place for the same reason: its STOR
    truncates it just before writing.)
    """
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def run_once(case: Case, log: Path) -> Sample:
    srv = case.srv
    settle()
    if case.argv:
        global _current_child
        if case.before is not None:
            case.before()
        if srv:
            srv.quiesce()
        with open(log, "wb") as err:
            s0 = srv.cpu() if srv else None
            t0 = time.perf_counter()
            proc = subprocess.Popen(
                case.argv, stdin=subprocess.DEVNULL, stdout=err, stderr=err, env=case.env
            )
            _current_child = proc
            try:
                _, status, ru = os.wait4(proc.pid, 0)
            except BaseException:
                proc.kill()
                proc.wait()
                raise
            finally:
                _current_child = None
            t1 = time.perf_counter()
            s1 = srv.cpu() if srv else None
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            raise RuntimeError(f"exit {proc.returncode}: {log.read_text()[-300:].strip()}")
        if case.after is not None:
            case.after()
        cpu: float | None = ru.ru_utime + ru.ru_stime
    else:
        assert case.setup is not None and case.body is not None
        if srv:
            srv.quiesce()
        ctx = case.setup()
        try:
            s0 = srv.cpu() if srv else None
            r0 = self_cpu()
            t0 = time.perf_counter()
            case.body(ctx)
            t1 = time.perf_counter()
            cpu = self_cpu() - r0
            s1 = srv.cpu() if srv else None
        finally:
            if case.teardown is not None:
                case.teardown(ctx)
    server_cpu = s1 - s0 if s0 is not None and s1 is not None else None
    return Sample(t1 - t0, cpu, server_cpu)


def profile_once(case: Case, ws: Workspace, top: int = 14) -> str:
    """One more run under cProfile: in process, or `python -m cProfile` for a script."""
    if case.argv:
        data = ws.base / "profile.out"
        argv = [case.argv[0], "-m", "cProfile", "-o", str(data), *case.argv[1:]]
        if case.before is not None:
            case.before()
        subprocess.run(argv, check=True, env=case.env, capture_output=True)
        if case.after is not None:
            case.after()
        stats = pstats.Stats(str(data), stream=(out := io.StringIO()))
    else:
        assert case.setup is not None and case.body is not None
        prof = cProfile.Profile()
        ctx = case.setup()
        try:
            prof.enable()
            try:
                case.body(ctx)
            finally:
                prof.disable()
        finally:
            if case.teardown is not None:
                case.teardown(ctx)
        stats = pstats.Stats(prof, stream=(out := io.StringIO()))
    stats.sort_stats("tottime").print_stats(top)
    text = out.getvalue()
    text = text.replace(str(REPO) + "/", "").replace(os.path.dirname(os.__file__) + "/", "")
    lines = [ln.rstrip() for ln in text.splitlines() if ln.strip() and str(ws.base) not in ln]
    return "\n".join(ln for ln in lines if not ln.lstrip().startswith(("Ordered by", "List red")))


def run_cases(cases: list[Case], args: argparse.Namespace, ws: Workspace) -> None:
    """Run the rows of one scenario round-robin, so that noise spreads over all of them.

    The rows keep their order in the table; only the order of runs rotates.
    """
    reps = {id(c): (args.repeat_slow if c.slow else args.repeat * c.runs_factor) for c in cases}
    log = ws.base / "client.log"
    # Run -1 is a warm-up, not counted: the first write of a big file, the first
    # session of a kind, find colder caches and memory than every later run.
    for rep in range(-1 if args.warmup else 0, max(reps.values(), default=0)):
        # Each round starts one row further on: whatever penalises the row that
        # comes first, or after some other row, lands on a different row each
        # round, and the medians drop it.
        shift = rep % len(cases) if cases else 0
        for case in cases[shift:] + cases[:shift]:
            if not case.runnable or rep >= reps[id(case)]:
                continue
            try:
                sample = run_once(case, log)
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # noqa: BLE001 - reported in the table
                case.error = f"{type(exc).__name__}: {exc}"[:300]
                progress(f"  {case.server:9} {case.client}: ERROR {case.error}")
                continue
            if rep < 0:
                progress(f"  [warm-up] {case.server:9} {case.client}: {sample.wall:.4f} s wall")
                continue
            case.samples.append(sample)
            progress(
                f"  [{rep + 1}/{reps[id(case)]}] {case.server:9} {case.client}: "
                f"{sample.wall:.4f} s wall, {fmt_opt(sample.cpu)} s CPU"
            )
    if args.profile:
        for case in cases:
            if (case.profile or case.profile_argv) and case.runnable and case.samples:
                progress(f"  profiling {case.server} {case.client}")
                try:
                    case.profile_text = profile_once(case, ws)
                except (OSError, RuntimeError, subprocess.CalledProcessError) as exc:
                    case.profile_text = f"profiling failed: {exc}"
