"""What every part of the benchmark shares: where the checkout is, the loopback
address the servers listen on, byte units, and the progress output on stderr."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
NULL_SINK = "null-sink"  # STOR of this name is discarded by the servers
RAW_BUFSIZE = 128 * 1024
KIB = 1024
MIB = 1024 * 1024


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
