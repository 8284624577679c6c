"""ftplib2 gives what ftplib gives where that is harmless (issue 12, items 2 and 3).

* The caller's explicit choice wins: after the caller's own ``TYPE A``, ``size()`` sends
  ``SIZE`` as it is and gets the server's answer, as with ftplib; the ``TYPE I`` convenience
  stays where ftplib2 itself left the session in ASCII mode, or the session is new.
* ``parse227()`` returns the host as the server wrote it, as ftplib does; the host is used only
  with ``trust_server_pasv_ipv4_address``, and a host that is no address then fails with an
  OSError before anything is connected.
* Other helpers return what ftplib returns on input ftplib accepts (differences that are kept
  are listed, with their reasons, in Doc/migration.rst).

Run only these with::

    python -m pytest -q -p no:cacheprovider tests/test_compat.py
"""

from __future__ import annotations

import ftplib as stdlib_ftplib
import io
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import ftplib2
from tests.servers import (
    PASSWORD,
    USER,
    HostileControl,
    LiveServer,
    hostile_assert_in_step,
    hostile_serving,
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


# --------------------------------------------------------------------------
# Issue 12, item 3: parse227 returns what ftplib returns
# --------------------------------------------------------------------------


def test_parse227_returns_the_host_as_written_like_ftplib() -> None:
    reply = "227 Entering passive mode (256,256,256,256,236,111)."
    assert ftplib2.parse227(reply) == ("256.256.256.256", 60527)
    assert ftplib2.parse227(reply) == stdlib_ftplib.parse227(reply)
    reply = "227 Entering Passive Mode (010,001,002,003,4,1)."
    assert ftplib2.parse227(reply) == ("010.001.002.003", 1025) == stdlib_ftplib.parse227(reply)


@pytest.mark.parametrize(
    "reply",
    [
        "227 Entering Passive Mode (127,0,0,1,256,1).",
        "227 Entering Passive Mode (127,0,0,1,1,256).",
        "227 Entering Passive Mode (127,0,0,1,0,0).",
    ],
)
def test_parse227_still_refuses_a_port_that_is_no_port(reply: str) -> None:
    with pytest.raises(ftplib2.error_proto):
        ftplib2.parse227(reply)


number_text = st.one_of(
    st.integers(0, 999).map(str),
    st.integers(0, 255).map(lambda n: f"{n:03d}"),
    st.text("0123456789", min_size=1, max_size=25),
)


@given(st.lists(number_text, min_size=6, max_size=6), st.sampled_from(["", "=", " ok."]))
@example(["256", "256", "256", "256", "236", "111"], ".")
@example(["010", "0", "0", "1", "0000000000000000000000004", "1"], "")
def test_parse227_agrees_with_ftplib_wherever_the_port_is_a_port(
    numbers: list[str], tail: str
) -> None:
    reply = f"227 Entering Passive Mode ({','.join(numbers)}){tail}"
    high, low = int(numbers[4]), int(numbers[5])
    if high > 255 or low > 255 or not high + low:
        with pytest.raises(ftplib2.error_proto):
            ftplib2.parse227(reply)
    else:
        assert ftplib2.parse227(reply) == stdlib_ftplib.parse227(reply)


def hostile_pasv_naming(host_numbers: str) -> Callable[[HostileControl, str], None]:
    """A PASV handler whose 227 names `host_numbers` (``h1,h2,h3,h4``) with a real port."""

    def pasv(ctl: HostileControl, argument: str) -> None:
        _, reply = ctl.open_pasv()
        ctl.reply(reply.replace("(127,0,0,1,", f"({host_numbers},"))

    return pasv


def hostile_retr(payload: bytes) -> Callable[[HostileControl, str], None]:
    def retr(ctl: HostileControl, argument: str) -> None:
        ctl.reply("150 Opening BINARY mode data connection.")
        data = ctl.accept_data()
        data.sendall(payload)
        data.close()
        ctl.reply("226 Transfer complete.")

    return retr


def test_pasv_naming_no_address_is_ignored_unless_trusted(hostile_server) -> None:
    server = hostile_server(
        hostile_serving(
            {"PASV": hostile_pasv_naming("256,256,256,256"), "RETR": hostile_retr(b"x")}
        )
    )
    ftp = server.connect()
    received = bytearray()
    ftp.retrbinary("RETR f", received.extend)
    assert received == b"x"


def test_trusted_pasv_naming_no_address_fails_with_an_os_error_and_stays_in_step(
    hostile_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = hostile_server(hostile_serving({"PASV": hostile_pasv_naming("256,256,256,256")}))
    ftp = server.connect()
    ftp.trust_server_pasv_ipv4_address = True
    looked_up: list[object] = []
    monkeypatch.setattr("socket.getaddrinfo", lambda *args, **kw: looked_up.append(args) or [])
    with pytest.raises(OSError) as caught:
        ftp.retrbinary("RETR f", lambda block: None)
    assert isinstance(caught.value, ftplib2.all_errors)
    assert looked_up == []  # no DNS lookup of a name the server made up
    monkeypatch.undo()
    hostile_assert_in_step(ftp, server)
    assert not any(command.startswith("RETR") for command in server.commands)


def test_trusted_pasv_host_with_leading_zeros_is_read_in_decimal(hostile_server) -> None:
    """The resolver would take 010 for octal; the server meant 10, and 0127 for 127."""
    server = hostile_server(
        hostile_serving(
            {"PASV": hostile_pasv_naming("0127,000,00,001"), "RETR": hostile_retr(b"y")}
        )
    )
    ftp = server.connect()
    ftp.trust_server_pasv_ipv4_address = True
    received = bytearray()
    ftp.retrbinary("RETR f", received.extend)
    assert received == b"y"


@given(st.text("0123456789", min_size=1, max_size=25), st.sampled_from(["|", "!", "#"]))
@example("0006446", "|")
@example("000000000000000000000000021", "|")
def test_parse229_agrees_with_ftplib_wherever_the_port_is_a_port(port: str, mark: str) -> None:
    reply = f"229 Entering Extended Passive Mode ({mark * 3}{port}{mark})"
    peer = ("192.0.2.1", 21)
    if 0 < int(port) < 65536:
        assert ftplib2.parse229(reply, peer) == stdlib_ftplib.parse229(reply, peer)
    else:
        with pytest.raises(ftplib2.error_proto):
            ftplib2.parse229(reply, peer)
