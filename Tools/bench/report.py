"""The report: Markdown tables of medians and ratios, and the facts of the machine.

`render_scenario` turns the rows of one scenario (their samples) into a table
and the notes under it; `machine_facts` is the list at the top of the report.
Tools/bench/README says what every column means.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from common import REPO

if TYPE_CHECKING:
    from measure import Case
    from servers import Workspace


def fmt_s(x: float | None) -> str:
    if x is None:
        return "—"
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    if x >= 1:
        return f"{x:.2f}"
    if x >= 0.01:
        return f"{x:.3f}"
    return f"{x:.4f}"


def fmt_opt(x: float | None) -> str:
    return "—" if x is None else f"{x:.3f}"


def fmt_per_op(seconds: float) -> str:
    if seconds < 1e-5:
        return f"{seconds * 1e6:.2f} µs"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def median_or_none(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def render_scenario(scenario: str, cases: list[Case], title: str) -> list[str]:
    out = [f"### {title}", ""]
    # Ratios compare time per operation, so that rows doing different numbers
    # of operations per run (20 logins in process, 1 per curl run) compare fairly.
    raw_by_server: dict[str, float] = {}
    stdlib_by_server: dict[str, float] = {}
    stdlib_cpu_by_server: dict[str, float] = {}
    for c in cases:
        if c.samples and c.role:
            per_op = statistics.median(s.wall for s in c.samples) / (c.ops or 1)
            if c.role == "raw":
                raw_by_server[c.server] = per_op
            elif c.role == "stdlib":
                stdlib_by_server[c.server] = per_op
                std_cpu = median_or_none([s.cpu for s in c.samples])
                if std_cpu:
                    stdlib_cpu_by_server[c.server] = std_cpu / (c.ops or 1)
    generic_raw = raw_by_server.get("raw TCP")
    out.append(
        "| server | client | runs | wall s | spread | client CPU s | server CPU s "
        "| MB/s | per op | × raw | × stdlib | CPU × stdlib |"
    )
    out.append("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    notes: list[str] = []
    for c in cases:
        if not c.samples:
            reason = c.error or c.note or "not run"
            notes.append(f"{c.server} / {c.client}: {reason}")
            out.append(f"| {c.server} | {c.client} | 0 | — | — | — | — | — | — | — | — | — |")
            continue
        walls = [s.wall for s in c.samples]
        wall = statistics.median(walls)
        spread = (max(walls) - min(walls)) / wall * 100 if len(walls) > 1 else None
        cpu = median_or_none([s.cpu for s in c.samples])
        srv_cpu = median_or_none([s.server_cpu for s in c.samples])
        mbps = f"{c.nbytes / wall / 1e6:.0f}" if c.nbytes else "—"
        per_op = fmt_per_op(wall / c.ops) if c.ops else "—"
        mine = wall / (c.ops or 1)
        raw = raw_by_server.get(c.server, generic_raw)
        x_raw = f"{raw / mine:.2f}" if raw and c.role != "raw" else ("1.00" if raw else "—")
        std = stdlib_by_server.get(c.server)
        std_cpu = stdlib_cpu_by_server.get(c.server)
        if c.reference is not None:  # a row with a stdlib reference of its own
            std = std_cpu = None
            if c.reference.samples:
                ref = c.reference
                std = statistics.median(s.wall for s in ref.samples) / (ref.ops or 1)
                ref_cpu = median_or_none([s.cpu for s in ref.samples])
                std_cpu = ref_cpu / (ref.ops or 1) if ref_cpu else None
        x_std = f"{std / mine:.2f}" if std and c.role != "raw" else "—"
        cpu_per_op = cpu / (c.ops or 1) if cpu else None
        x_cpu = f"{std_cpu / cpu_per_op:.2f}" if std_cpu and cpu_per_op and c.role != "raw" else "—"
        spread_text = f"±{spread / 2:.0f}%" if spread is not None else "—"
        out.append(
            f"| {c.server} | {c.client} | {len(walls)} | {fmt_s(wall)} | {spread_text} "
            f"| {fmt_s(cpu)} | {fmt_s(srv_cpu)} | {mbps} | {per_op} | {x_raw} | {x_std} "
            f"| {x_cpu} |"
        )
        if c.error:
            notes.append(f"{c.server} / {c.client}: failed after {len(walls)} run(s): {c.error}")
        notes += [f"{c.server} / {c.client}: {remark}" for remark in c.remarks]
    out.append("")
    for note in notes:
        out.append(f"- {note}")
    if notes:
        out.append("")
    return out


def machine_facts(args: argparse.Namespace, ws: Workspace, servers: dict[str, str]) -> list[str]:
    try:
        cpu_model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        cpu_model = platform.processor() or "?"
    try:
        git = subprocess.run(
            ["git", "-C", str(REPO), "describe", "--always", "--dirty"],
            check=False,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        git = "?"
    try:
        pyftpdlib_version = importlib.metadata.version("pyftpdlib")
    except importlib.metadata.PackageNotFoundError:
        pyftpdlib_version = "?"
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    warmup = "one uncounted warm-up run per row first" if args.warmup else "no warm-up run"
    facts = [
        f"- date: {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
        (
            f"- python: {platform.python_implementation()} {sys.version.split()[0]}"
            f" ({platform.platform()})"
        ),
        f"- cores: {os.cpu_count()} (usable by this process: {affinity}); CPU: {cpu_model}",
        f"- load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        f"- ftplib2: {git or '?'}; pyftpdlib {pyftpdlib_version}",
        (
            f"- parameters: file {args.size_mib} MiB, {args.noops} NOOPs, {args.list_entries}"
            f" list entries, {args.small_files} small files, {ws.mirror_files} mirror files;"
            f" runs per row {args.repeat} ({args.repeat_slow} for big transfers and mirrors,"
            f" {args.repeat * 3} for NOOPs); {warmup}"
        ),
        f"- files in {'tmpfs (/dev/shm)' if ws.tmpfs else 'a temporary directory (no tmpfs)'}",
    ]
    for name, status in servers.items():
        facts.append(f"- {name}: {status}")
    return facts
