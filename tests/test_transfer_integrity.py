"""What download(), upload() and open() write, where, and what they refuse before a transfer.

Against live pyftpdlib servers and the scripted hostile server, this proves that:

* a size known for a download bounds what is written, spliced into a path or not: the first
  bytes past it abandon the transfer with error_proto (issue 21, item 3);

Run only these tests with::

    python -m pytest -q -p no:cacheprovider tests/test_transfer_integrity.py
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path

import pytest

import ftplib2
from test_ftplib2 import (
    HOSTILE_TIMEOUT,
    HostileControl,
    HostileServer,
    SpliceSpy,
    hostile_assert_in_step,
    hostile_serving,
    hostile_within,
    needs_splice,
)

# --------------------------------------------------------------------------
# A known size bounds what a download writes
# --------------------------------------------------------------------------

FLOOD = 32 << 20
"""What the flooding server sends: far more than loopback socket buffers hold."""

KNOWN_SIZE = 1000


def flooding_server(
    start: Callable[[Callable[[HostileControl], object]], HostileServer],
    announce: bool,
    sent: list[int],
) -> HostileServer:
    """A server that says a file has KNOWN_SIZE bytes (SIZE, and the 150 if `announce`) and
    then streams FLOOD bytes of it; `sent` gets the count it managed to send."""

    def retr(ctl: HostileControl, argument: str) -> None:
        size = f" ({KNOWN_SIZE} bytes)" if announce else ""
        ctl.reply(f"150 Opening BINARY mode data connection{size}.")
        data = ctl.accept_data()
        chunk = b"F" * (1 << 16)
        try:
            while sent[0] < FLOOD:
                data.sendall(chunk)
                sent[0] += len(chunk)
        except OSError:  # the client has abandoned the transfer
            ctl.reply("426 Connection closed; transfer aborted.")
            return
        data.close()
        ctl.reply("226 Transfer complete.")

    size = f"213 {KNOWN_SIZE}" if not announce else "502 SIZE not implemented."
    return start(hostile_serving({"RETR": retr, "SIZE": size}))


OVERRUN_CASES = [
    pytest.param("path", "size", False, id="path-spliced-size-given", marks=needs_splice),
    pytest.param("path", "size", True, id="path-read-size-given"),
    pytest.param("path", "150", False, id="path-spliced-size-announced", marks=needs_splice),
    pytest.param("file-object", "size", False, id="file-object-size-given"),
    pytest.param("file-object", "150", False, id="file-object-size-announced"),
    pytest.param("retrbinary", "size", False, id="retrbinary-check-size-SIZE"),
    pytest.param("retrbinary", "150", False, id="retrbinary-check-size-announced"),
]


@pytest.mark.parametrize(("target", "known_from", "no_splice"), OVERRUN_CASES)
def test_download_stops_at_the_first_byte_past_a_known_size(
    hostile_server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    target: str,
    known_from: str,
    no_splice: bool,
) -> None:
    sent = [0]
    server = flooding_server(hostile_server, announce=known_from == "150", sent=sent)
    ftp = server.connect()
    if target == "path" and hasattr(os, "splice"):
        spy = SpliceSpy(monkeypatch, refuse_sockets=no_splice)
    size = KNOWN_SIZE if known_from == "size" else None
    written = io.BytesIO()
    delivered: list[bytes] = []
    with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.error_proto):
        if target == "path":
            ftp.download("flood.bin", tmp_path / "flood.bin", size=size)
        elif target == "file-object":
            ftp.download("flood.bin", written, size=size)
        else:
            ftp.retrbinary("RETR flood.bin", delivered.append, check_size=True)
    assert sent[0] < FLOOD  # abandoned, not read to the end
    assert list(tmp_path.iterdir()) == []  # neither the file nor its partial one
    assert len(written.getvalue()) <= KNOWN_SIZE
    assert sum(map(len, delivered)) <= KNOWN_SIZE
    if target == "path" and hasattr(os, "splice"):
        assert spy.calls and bool(spy.refused) == no_splice
    hostile_assert_in_step(ftp, server)


def test_download_of_exactly_the_known_size_is_not_cut(
    hostile_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bound is the size itself: a file of exactly that size arrives whole."""

    def retr(ctl: HostileControl, argument: str) -> None:
        ctl.reply(f"150 Opening BINARY mode data connection ({KNOWN_SIZE} bytes).")
        data = ctl.accept_data()
        data.sendall(b"x" * (KNOWN_SIZE - 1))
        ctl.sleep(0.05)
        data.sendall(b"y")
        data.close()
        ctl.reply("226 Transfer complete.")

    server = hostile_server(hostile_serving({"RETR": retr}))
    ftp = server.connect()
    assert ftp.download("exact.bin", tmp_path / "exact.bin", size=KNOWN_SIZE) == KNOWN_SIZE
    assert (tmp_path / "exact.bin").read_bytes() == b"x" * (KNOWN_SIZE - 1) + b"y"
    assert ftp.download("exact.bin", io.BytesIO()) == KNOWN_SIZE  # bound by the 150's size
    hostile_assert_in_step(ftp, server)
