"""What abort() puts on the wire, and how it stays in step with servers that stop oddly (issue 13).

Proves, against scripted servers (the ``hostile_server`` fixture) that behave as proftpd,
vsftpd, pure-ftpd and Twisted's server were measured to (see Doc/howto/servers.rst), that
abort() sends ``ABOR`` as one ordinary line, closes the data connection that transfercmd()
returned, raises error_perm where the server has no ABOR, and that a second 1xx reply for one
transfer ends it; in every case the next command gets its own reply.  The interoperability
battery (tests/test_interop_matrix.py) checks the same against the real servers.

Run only these tests:

    python -m pytest tests/test_abort_wire.py
"""

from __future__ import annotations

import contextlib
import socket
import time

import pytest

import ftplib2
from tests.servers import (
    HOSTILE_SERVER_WAIT,
    HOSTILE_TIMEOUT,
    HostileControl,
    hostile_assert_in_step,
    hostile_serving,
    hostile_within,
)


def _send_until_closed(data: socket.socket) -> None:
    """Write to the data connection until the client closes it, reading no command meanwhile."""
    deadline = time.monotonic() + HOSTILE_SERVER_WAIT
    with contextlib.suppress(OSError):
        while time.monotonic() < deadline:
            data.sendall(b"d" * 65536)


def test_abor_is_one_ordinary_line_for_a_server_without_urgent_data_inline(
    hostile_server,
) -> None:
    def abor(ctl: HostileControl, argument: str) -> None:
        ctl.reply("225 No transfer to abort.")

    def script(ctl: HostileControl) -> None:
        # As proftpd, pure-ftpd and Twisted's server: an urgent byte leaves the stream.
        ctl.conn.setsockopt(socket.SOL_SOCKET, socket.SO_OOBINLINE, 0)
        ctl.serve({"ABOR": abor})

    server = hostile_server(script)
    ftp = server.connect()
    with hostile_within(3 * HOSTILE_TIMEOUT):
        assert ftp.abort() == "225 No transfer to abort."
    assert server.raw_commands[-1] == b"ABOR"
    hostile_assert_in_step(ftp, server)


def test_abort_closes_the_data_connection_of_transfercmd_for_a_server_that_only_sends(
    hostile_server,
) -> None:
    def retr(ctl: HostileControl, argument: str) -> None:
        # As vsftpd (async_abor_enable off) and Twisted's server: no command is read
        # until the transfer ends, which only the client's close of the connection does.
        ctl.reply("150 Opening BINARY mode data connection.")
        _send_until_closed(ctl.accept_data())
        ctl.reply("426 Failure writing network stream.")
        assert ctl.recv_command() == "ABOR"
        ctl.reply("226 ABOR successful.")

    server = hostile_server(hostile_serving({"RETR": retr}))
    ftp = server.connect()
    conn = ftp.transfercmd("RETR big.bin")
    try:
        assert conn.recv(1024)
        with hostile_within(3 * HOSTILE_TIMEOUT):
            assert ftp.abort() == "426 Failure writing network stream."
        assert conn.fileno() == -1
    finally:
        conn.close()
    assert ftp.getmultiline() == "226 ABOR successful."
    hostile_assert_in_step(ftp, server)


def test_abort_on_a_server_without_abor_raises_error_perm_and_stays_in_step(
    hostile_server,
) -> None:
    server = hostile_server(hostile_serving({"ABOR": "502 Command 'ABOR' not implemented"}))
    ftp = server.connect()
    with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.error_perm):
        ftp.abort()
    hostile_assert_in_step(ftp, server)


def _retr_ended_by_a_second_150(ctl: HostileControl, argument: str) -> None:
    """As pure-ftpd: a download cut short ends with its statistics under 150, and no 226."""
    ctl.send(b"150-Accepted data connection\r\n150 64.0 kbytes to download\r\n")
    _send_until_closed(ctl.accept_data())
    ctl.reply("150 0.003 seconds (measured here), 167.95 Mbytes per second")


def test_a_second_1xx_ends_a_download_closed_early(hostile_server) -> None:
    server = hostile_server(hostile_serving({"RETR": _retr_ended_by_a_second_150}))
    ftp = server.connect()
    with hostile_within(3 * HOSTILE_TIMEOUT):
        with ftp.open("big.bin", "rb") as f:
            assert f.read(10) == b"d" * 10
        hostile_assert_in_step(ftp, server)


def test_abort_passes_over_a_second_1xx_for_the_answer_to_abor(hostile_server) -> None:
    def abor(ctl: HostileControl, argument: str) -> None:
        ctl.reply("226 Since you see this ABOR must've succeeded")

    server = hostile_server(hostile_serving({"RETR": _retr_ended_by_a_second_150, "ABOR": abor}))
    ftp = server.connect()
    conn = ftp.transfercmd("RETR big.bin")
    try:
        assert conn.recv(1024)
        with hostile_within(3 * HOSTILE_TIMEOUT):
            assert ftp.abort() == "226 Since you see this ABOR must've succeeded"
    finally:
        conn.close()
    hostile_assert_in_step(ftp, server)
