"""The WAN mode: servers behind a delay proxy, rows run at two RTTs, round trips from the slope.

Each server of the WAN tables is a second instance (pyftpdlib in a helper process,
vsftpd on a config of its own) listening on delayproxy.SERVER_HOST (127.0.0.2), its
control port and passive range mirrored by the delay proxy on the same ports of
127.0.0.1, and its PASV replies announcing 127.0.0.1 (masquerade_address,
pasv_address).  Clients see an ordinary server on 127.0.0.1 that happens to be far
away.  The loopback servers are not involved.

`run_wan_cases` runs a scenario's rows at every RTT of --rtt, round-robin as
measure.run_cases does, and keeps the samples of each RTT apart; `render_wan`
turns them into a table whose main column is round trips per operation: the
difference of the per-operation times at the two RTTs, divided by the difference
of the RTTs.  The client's and the servers' CPU time is the same at both RTTs and
drops out; so does the proxy's own overhead, as long as it does not grow with
the delay.  Tools/bench/README says how to read the table.
"""

from __future__ import annotations

import argparse
import contextlib
import secrets
import statistics
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from common import progress
from delayproxy import LISTEN_HOST, SERVER_HOST
from measure import Case, run_cases
from report import fmt_per_op
from servers import (
    BENCH,
    Server,
    Workspace,
    _free_port_range,
    _start_helper,
    start_vsftpd,
)

PASSIVE_PORTS = 100  # per WAN server


class DelayProxyProcess:
    """The delay proxy's helper process, and its RTT and rate settings."""

    def __init__(self, ports: list[str], log: Path) -> None:
        with open(log, "wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, str(BENCH), "--role", "delay-proxy", *ports],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                start_new_session=True,
            )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if line != "READY":
            self.stop()
            raise RuntimeError(f"delay proxy failed to start: {log.read_text()[-2000:]}")
        self.rtt = 0.0

    def _command(self, line: str) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        if self.proc.stdout.readline().strip() != "OK":
            raise RuntimeError(f"delay proxy did not take {line!r}")

    def set_rtt(self, seconds: float) -> None:
        self._command(f"RTT {seconds}")
        self.rtt = seconds

    def set_rate(self, bytes_per_second: float) -> None:
        self._command(f"RATE {bytes_per_second}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                assert self.proc.stdin is not None
                self.proc.stdin.close()  # the proxy exits when its stdin closes
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


def start_wan_servers(
    stack: contextlib.ExitStack, ws: Workspace, args: argparse.Namespace, vsftpd_password: str
) -> Iterator[Server | DelayProxyProcess]:
    """Start pyftpdlib and vsftpd behind the delay proxy; yield the proxy first, then them.

    `vsftpd_password` is the password the loopback vsftpd's user was given (the
    same account serves both), or "" when vsftpd is not run.
    """
    hosts = (LISTEN_HOST, SERVER_HOST)
    proxy_ports: list[str] = []
    servers: list[Server] = []
    # pyftpdlib
    port = _free_port_range(1, hosts)[0]
    low, high = _free_port_range(PASSIVE_PORTS, hosts)
    password = secrets.token_hex(8)
    proc, got = _start_helper(
        "pyftpdlib",
        [str(ws.pub), "bench", password, f"{low}-{high}", SERVER_HOST, LISTEN_HOST, str(port)],
        ws.base / "pyftpdlib-wan.log",
    )
    server = Server("pyftpdlib", got, proc, "bench", password, has_mlsd=True)
    stack.callback(server.stop)
    servers.append(server)
    proxy_ports += [f"c{port}", *map(str, range(low, high + 1))]
    # vsftpd
    if vsftpd_password:
        port = _free_port_range(1, hosts)[0]
        low, high = _free_port_range(PASSIVE_PORTS, hosts)
        vsftpd = start_vsftpd(
            ws,
            args.vsftpd_user,
            name="vsftpd-wan",
            host=SERVER_HOST,
            port=port,
            passive=(low, high),
            pasv_address=LISTEN_HOST,
            password=vsftpd_password,
        )
        if isinstance(vsftpd, str):
            progress(f"vsftpd behind the delay proxy not started: {vsftpd}")
        else:
            vsftpd.name = "vsftpd"
            stack.callback(vsftpd.stop)
            servers.append(vsftpd)
            proxy_ports += [f"c{port}", *map(str, range(low, high + 1))]
    proxy = DelayProxyProcess(proxy_ports, ws.base / "delay-proxy.log")
    stack.callback(proxy.stop)
    if args.wan_rate:
        proxy.set_rate(args.wan_rate)
    yield proxy
    yield from servers


def run_wan_cases(
    cases: list[Case], args: argparse.Namespace, ws: Workspace, proxy: DelayProxyProcess
) -> None:
    """Run the rows at each RTT of --rtt; each row's samples per RTT go to `case.wan`."""
    wan_args = argparse.Namespace(**vars(args))
    # Mirror rows take minutes at 40 ms; their delays, not noise, decide their time.
    wan_args.repeat, wan_args.repeat_slow = args.wan_repeat, max(1, args.wan_repeat // 3)
    wan_args.warmup = False
    wan_args.profile = False
    for rtt in args.rtts:
        proxy.set_rtt(rtt)
        progress(f"  -- RTT {rtt * 1000:g} ms")
        for case in cases:
            case.samples = []
        run_cases(cases, wan_args, ws)
        for case in cases:
            case.wan[rtt] = case.samples
    for case in cases:
        case.samples = []
    proxy.set_rtt(0.0)


def per_op(case: Case, rtt: float) -> float | None:
    """Median seconds per operation at `rtt`, less the row's fixed cost (`case.fixed`) if any."""
    samples = case.wan.get(rtt)
    if not samples:
        return None
    total = statistics.median(s.wall for s in samples)
    ops = case.ops or 1
    if case.fixed is not None:
        fixed = per_op(case.fixed, rtt)
        if fixed is None:
            return None
        total -= fixed * (case.fixed.ops or 1)
        ops -= case.fixed.ops or 1
    return total / ops


def round_trips(case: Case, rtts: list[float]) -> float | None:
    """Round trips per operation: the slope of time per operation against the RTT."""
    low, high = min(rtts), max(rtts)
    a, b = per_op(case, low), per_op(case, high)
    if a is None or b is None or high == low:
        return None
    return (b - a) / (high - low)


def render_wan(cases: list[Case], title: str, rtts: list[float]) -> list[str]:
    """The table of one WAN scenario: time per operation at each RTT, round trips per operation."""
    low, high = min(rtts), max(rtts)
    out = [f"### {title}", ""]
    stdlib: dict[str, float] = {}
    for c in cases:
        if c.role == "stdlib" and (rt := round_trips(c, rtts)) is not None:
            stdlib[c.server] = rt
    out.append(
        f"| server | client | runs | per op at {low * 1000:g} ms | per op at {high * 1000:g} ms "
        "| round trips per op | at RTT 0 | vs stdlib |"
    )
    out.append("|---|---|--:|--:|--:|--:|--:|--:|")
    notes: list[str] = []
    for c in cases:
        runs = min((len(c.wan.get(r, [])) for r in rtts), default=0)
        a, b = per_op(c, low), per_op(c, high)
        rt = round_trips(c, rtts)
        if rt is None or a is None or b is None:
            reason = c.error or c.note or "not run"
            notes.append(f"{c.server} / {c.client}: {reason}")
            out.append(f"| {c.server} | {c.client} | {runs} | — | — | — | — | — |")
            continue
        zero = a - rt * low  # the intercept: what the row costs without any delay
        std = stdlib.get(c.server)
        versus = f"{rt - std:+.2f}" if std is not None and c.role != "stdlib" else "—"
        out.append(
            f"| {c.server} | {c.client} | {runs} | {fmt_per_op(a)} | {fmt_per_op(b)} "
            f"| **{rt:.2f}** | {fmt_per_op(max(zero, 0.0))} | {versus} |"
        )
        if c.expect_round_trips is not None and abs(rt - c.expect_round_trips) > 0.1:
            notes.append(
                f"{c.server} / {c.client}: {rt:.2f} round trips, expected "
                f"{c.expect_round_trips:g}: the proxy's delays are off, read the table with care"
            )
        if c.error:
            notes.append(f"{c.server} / {c.client}: failed after {runs} run(s): {c.error}")
        notes += [f"{c.server} / {c.client}: {remark}" for remark in c.remarks]
    out.append("")
    out += [f"- {note}" for note in notes]
    if notes:
        out.append("")
    return out


def wan_facts(args: argparse.Namespace) -> str:
    rate = f", capped at {args.wan_rate / 1e6:g} MB/s per connection" if args.wan_rate else ""
    rtts = " and ".join(f"{r * 1000:g}" for r in args.rtts)
    return (
        f"- WAN tables: servers on {SERVER_HOST} behind a user-space delay proxy on "
        f"{LISTEN_HOST}, RTT {rtts} ms{rate}; {args.wan_repeat} run(s) per row and RTT"
    )
