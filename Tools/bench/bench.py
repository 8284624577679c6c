#!/usr/bin/env python3
"""Benchmark ftplib2 against ftplib, curl, lftp and the raw loopback limit.

Run from anywhere in a checkout::

    python Tools/bench/bench.py            # full run, several minutes
    python Tools/bench/bench.py --quick    # smoke test, small sizes, 1 repetition

Every server and every client runs on 127.0.0.1 only.  Servers run in their
own processes so their CPU time never mixes with the client's.  See
Tools/bench/README for what each row measures and how to read the tables.

This file is the command; the benchmark itself is in the modules beside it
(scenarios, clients, servers, measure, report): the README's "Where the code
is" says what each holds, and "Adding a scenario" how to add one.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.metadata
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from common import REPO, progress
from measure import Case, kill_current_child, run_cases
from report import machine_facts, render_scenario
from scenarios import SCENARIOS, Scenarios
from servers import (
    Server,
    Workspace,
    become_subreaper,
    run_role,
    run_root_command,
    start_servers,
)
from wan import render_wan, run_wan_cases, start_wan_servers, wan_facts


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
    p.add_argument(
        "--segments-mib",
        type=int,
        help="size of the segmented-download file (default 64, quick 16)",
    )
    p.add_argument(
        "--segments-rate-mib", type=float,
        help="per-connection cap of the segments scenario's servers, MiB/s (default 8)",
    )  # fmt: skip
    p.add_argument("--only", help=f"comma-separated scenarios to run, of: {','.join(SCENARIOS)}")
    p.add_argument(
        "--rtt", default="10,40",
        help="WAN scenarios: the two round-trip times, in ms, of the slope (default 10,40)",
    )  # fmt: skip
    p.add_argument("--wan-rate", type=float, default=0.0, help="WAN: bytes/s per connection cap")
    p.add_argument("--wan-repeat", type=int, help="WAN: runs per row and RTT (default 3)")
    p.add_argument("--wan-files", type=int, help="WAN: small files per run (default 40)")
    p.add_argument("--wan-tree", type=int, help="WAN: files in the mirrored tree (default 300)")
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
        "segments_mib": 16 if quick else 64,
        "segments_rate_mib": 8,
        "wan_repeat": 1 if quick else 3,
        "wan_files": 10 if quick else 40,
        "wan_tree": 60 if quick else 300,
    }
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.repeat_slow is None:
        args.repeat_slow = min(3, args.repeat)
    if quick:
        args.warmup = False
    args.only = args.only.split(",") if args.only else list(SCENARIOS)
    try:
        args.rtts = sorted(float(ms) / 1000 for ms in args.rtt.split(","))
    except ValueError:
        p.error(f"--rtt takes two times in ms, as 10,40: not {args.rtt!r}")
    if len(args.rtts) != 2 or args.rtts[0] == args.rtts[1]:
        p.error("--rtt takes two different times in ms, as 10,40")
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
    become_subreaper()
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    with contextlib.ExitStack() as stack:
        ws = Workspace(args)
        stack.callback(_cleanup, ws, args)
        servers = list(start_servers(stack, ws, args, ftplib2))
        wan: list[Any] = []
        if any(SCENARIOS[key].wan for key in args.only):
            vsftpd = [s for s in servers if s.name == "vsftpd"]
            password = vsftpd[0].password if vsftpd else ""
            wan = list(start_wan_servers(stack, ws, args, password))
        report = _run(args, ws, ftplib2, servers, wan)
    text = "\n".join(report) + "\n"
    sys.stdout.write(text)
    if args.output:
        args.output.write_text(text)
    return 0


def _run(
    args: argparse.Namespace,
    ws: Workspace,
    ftplib2: Any,
    all_servers: list[Server],
    wan: list[Any],
) -> list[str]:
    raw, servers = all_servers[0], all_servers[1:]
    clients = Scenarios(args, ws, ftplib2)
    status = {
        "pyftpdlib": f"{importlib.metadata.version('pyftpdlib')} in its own process",
        "vsftpd": ws.vsftpd_status,
        "curl": clients.curl_label if clients.curl else "not installed",
        "lftp": clients.lftp_label if clients.lftp else "not installed",
    }
    report = ["# ftplib2 benchmark", ""]
    report += machine_facts(args, ws, status)
    if wan:
        report.append(wan_facts(args))
    report.append("")
    all_cases: list[Case] = []
    for scenario, entry in SCENARIOS.items():
        if scenario not in args.only:
            continue
        title = clients.title(scenario)
        progress(f"== {title}")
        if entry.wan:
            proxy, wan_servers = wan[0], wan[1:]
            cases = entry.build(clients, raw, wan_servers)
            run_wan_cases(cases, args, ws, proxy)
            report += render_wan(cases, title, args.rtts)
            continue
        cases = entry.build(clients, raw, servers)
        run_cases(cases, args, ws)
        all_cases += cases
        report += render_scenario(scenario, cases, title)
        if entry.summary is not None:
            report += entry.summary(clients, cases)
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
            run_root_command(["userdel", ws.created_user])
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
