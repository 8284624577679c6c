"""ftplib2 gives what ftplib gives where that is harmless (issue 12, item 2).

* The caller's explicit choice wins: after the caller's own ``TYPE A``, ``size()`` sends
  ``SIZE`` as it is and gets the server's answer, as with ftplib; the ``TYPE I`` convenience
  stays where ftplib2 itself left the session in ASCII mode, or the session is new.

Run only these with::

    python -m pytest -q -p no:cacheprovider tests/test_compat.py
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path

import pytest

import ftplib2
from test_ftplib2 import (
    PASSWORD,
    USER,
    LiveServer,
)

# --------------------------------------------------------------------------
# Issue 12, item 2: the caller's explicit TYPE wins over the SIZE convenience
# --------------------------------------------------------------------------


def test_size_after_the_callers_own_type_a_is_sent_as_it_is(
    ftp: ftplib2.FTP, server: LiveServer, workdir: Path
) -> None:
    (workdir / "f.bin").write_bytes(bytes(100))
    ftp.sendcmd("TYPE A")
    with pytest.raises(ftplib2.error_perm) as caught:  # as with ftplib: the server's answer
        ftp.size("f.bin")
    assert caught.value.code == "550"
    assert "ASCII" in str(caught.value)
    assert server.commands_of(ftp)[-2:] == ["TYPE A", "SIZE f.bin"]


def test_size_after_the_callers_own_type_i_sends_no_type_of_its_own(
    ftp: ftplib2.FTP, server: LiveServer, workdir: Path
) -> None:
    (workdir / "f.bin").write_bytes(bytes(100))
    ftp.voidcmd("TYPE I")
    assert ftp.size("f.bin") == 100
    types = [c for c in server.commands_of(ftp) if c.startswith(("TYPE", "SIZE"))]
    assert types == ["TYPE I", "SIZE f.bin"]


ASCII_BY_FTPLIB2: dict[str, Callable[[ftplib2.FTP], object]] = {
    "retrlines": lambda ftp: ftp.retrlines("RETR notes.txt", lambda line: None),
    "storlines": lambda ftp: ftp.storlines("STOR more.txt", io.BytesIO(b"more\n")),
    "nlst": lambda ftp: ftp.nlst(),
    "dir": lambda ftp: ftp.dir(lambda line: None),
    "mlsd": lambda ftp: list(ftp.mlsd()),
}


@pytest.mark.parametrize("call", ASCII_BY_FTPLIB2.values(), ids=ASCII_BY_FTPLIB2.keys())
def test_size_switches_to_binary_where_ftplib2_itself_left_ascii_mode(
    ftp: ftplib2.FTP, server: LiveServer, workdir: Path, call: Callable[[ftplib2.FTP], object]
) -> None:
    (workdir / "notes.txt").write_bytes(b"one\ntwo\n")
    call(ftp)
    assert ftp.size("notes.txt") == 8
    assert server.commands_of(ftp)[-2:] == ["TYPE I", "SIZE notes.txt"]


def test_size_switches_to_binary_at_the_start_of_a_session_and_after_login(
    ftp: ftplib2.FTP, server: LiveServer, workdir: Path
) -> None:
    (workdir / "f.bin").write_bytes(bytes(100))
    ftp.sendcmd("TYPE A")
    ftp.login(USER, PASSWORD)  # a new login: a session afresh
    ftp.cwd(f"/{workdir.name}")
    assert ftp.size("f.bin") == 100
    assert server.commands_of(ftp)[-2:] == ["TYPE I", "SIZE f.bin"]


def test_a_binary_transfer_after_the_callers_type_a_sets_its_own_type_again(
    ftp: ftplib2.FTP, server: LiveServer, workdir: Path
) -> None:
    (workdir / "f.bin").write_bytes(b"data")
    ftp.sendcmd("TYPE A")
    received = bytearray()
    ftp.retrbinary("RETR f.bin", received.extend)
    assert received == b"data"
    assert ftp.size("f.bin") == 4  # ftplib2's own TYPE I is still in force: none sent
    types = [c for c in server.commands_of(ftp) if c.startswith(("TYPE", "SIZE"))]
    assert types == ["TYPE A", "TYPE I", "SIZE f.bin"]


def sizes_sent_in_binary(commands: list[str]) -> bool:
    """Whether every SIZE in `commands` follows a TYPE I (and no other TYPE since)."""
    current = None
    for command in commands:
        if command.startswith("TYPE "):
            current = command
        elif command.startswith("SIZE ") and current != "TYPE I":
            return False
    return True


def test_download_and_upload_after_the_callers_type_a_ask_size_in_binary(
    ftp: ftplib2.FTP, server: LiveServer, workdir: Path
) -> None:
    payload = os.urandom(100_000)
    (workdir / "f.bin").write_bytes(payload)
    ftp.sendcmd("TYPE A")
    local = io.BytesIO(payload[:40_000])
    assert ftp.download("f.bin", local, resume=True) == len(payload)
    assert local.getvalue() == payload
    ftp.sendcmd("TYPE A")
    (workdir / "up.bin").write_bytes(payload[:30_000])
    assert ftp.upload(io.BytesIO(payload), "up.bin", resume=True) == len(payload)
    assert (workdir / "up.bin").read_bytes() == payload
    assert sizes_sent_in_binary(server.commands_of(ftp))
    assert "REST 40000" in server.commands_of(ftp)
    assert "REST 30000" in server.commands_of(ftp)
