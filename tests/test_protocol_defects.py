"""Regression tests for defects of the control connection, reply helpers, TLS and active mode.

Each test reproduces one reported defect against a live server (pyftpdlib, vsftpd, or the
scripted hostile server of test_ftplib2.py) and failed before its fix:

* issue 19, item 5: ``connect()`` waits for ever while a server keeps sending ``120``;
* issue 19, item 6: the widely copied FTPS session-reuse subclass of ``FTP_TLS``;
* issue 19, item 7: ``parse150`` must take the last ``(N bytes)`` of the line;
* issue 21, item 5: ``FTP_TLS.login()`` after ``ccc()`` must not send the password in clear;
* issue 21, item 6: active mode must accept the data connection from the server only;
* issue 21, item 9: over-long numbers in replies and listings;
* issue 21, item 12: ``urlopen(url).geturl()`` keeps the ``#fragment``.

Run only these with::

    python -m pytest -q -p no:cacheprovider tests/test_protocol_defects.py
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import ssl
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import ftplib2
from tests.servers import (
    HOSTILE_TIMEOUT,
    PASSWORD,
    TIMEOUT,
    USER,
    VSFTPD_PASSWORD,
    VSFTPD_USER,
    HostileControl,
    LiveServer,
    VsftpdServer,
    hostile_assert_in_step,
    hostile_listing,
    hostile_serving,
    hostile_within,
    open_session,
    recv_all,
    url_fetch,
)

# --------------------------------------------------------------------------
# Issue 19, item 5: an endless run of 120 replies
# --------------------------------------------------------------------------


def test_connect_gives_up_on_endless_120_replies_once_the_timeout_has_passed(
    hostile_server,
) -> None:
    """A server that answers "120 ready in a minute" again and again cannot hold connect()."""

    def script(ctl: HostileControl) -> None:
        # Far longer than the client's timeout, but not for ever: unfixed, connect() returns
        # the 220 late instead of hanging the test run.
        for _ in range(int(4 * HOSTILE_TIMEOUT / 0.05)):
            ctl.reply("120 Service ready in 1 minute.")
            ctl.sleep(0.05)
        ctl.serve()

    server = hostile_server(script)
    ftp = server.new_client()
    with hostile_within(HOSTILE_TIMEOUT + 1.0), pytest.raises(TimeoutError) as caught:
        ftp.connect(server.host, server.port)
    assert isinstance(caught.value, ftplib2.all_errors)
    assert "120" in str(caught.value)
    assert ftp.sock is None and ftp.file is None


def test_connect_still_waits_out_a_few_120_replies_within_the_timeout(hostile_server) -> None:
    def script(ctl: HostileControl) -> None:
        for _ in range(5):
            ctl.reply("120 Service ready in 1 minute.")
            ctl.sleep(0.05)
        ctl.serve()

    server = hostile_server(script)
    ftp = server.new_client()
    assert ftp.connect(server.host, server.port) == "220 Hostile test server ready."
    hostile_assert_in_step(ftp, server)


# --------------------------------------------------------------------------
# Issue 19, item 6: the FTPS session-reuse subclass that programs copy
# --------------------------------------------------------------------------


class SessionReusingFTP_TLS(ftplib2.FTP_TLS):
    """The workaround written for ftplib, copied as it is found in many programs.

    ftplib's data connections do not resume the control connection's TLS session, which
    servers with vsftpd's ``require_ssl_reuse`` refuse; this subclass opens the data
    connection through the base class and wraps it itself.
    """

    def ntransfercmd(self, cmd: str, rest: Any = None) -> tuple[socket.socket, int | None]:
        conn, size = ftplib2.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(
                conn, server_hostname=self.host, session=self.sock.session
            )
        return conn, size


def round_trip_through(ftp: ftplib2.FTP_TLS, remote: str) -> None:
    """Upload, download and list through `ftp`, checking each against what was sent."""
    payload = os.urandom(300_000)
    assert ftp.storbinary(f"STOR {remote}", io.BytesIO(payload)).code == "226"
    received = bytearray()
    assert ftp.retrbinary(f"RETR {remote}", received.extend).code == "226"
    assert received == payload
    with ftp.transfercmd(f"RETR {remote}") as conn:
        assert isinstance(conn, ssl.SSLSocket)
        assert conn.session_reused
        assert recv_all(conn) == payload
        conn.unwrap()
    assert ftp.voidresp().code == "226"
    assert remote.rpartition("/")[2] in [name.rpartition("/")[2] for name in ftp.nlst()]


def test_copied_session_reuse_subclass_works_against_pyftpdlib(
    tls_server: LiveServer, tls_client_context: ssl.SSLContext, workdir: Path
) -> None:
    ftp = open_session(tls_server, workdir, cls=SessionReusingFTP_TLS, context=tls_client_context)
    with ftp:
        ftp.prot_p()
        round_trip_through(ftp, "reused.bin")


def test_copied_session_reuse_subclass_works_against_vsftpd_requiring_reuse(
    vsftpd: VsftpdServer, tls_client_context: ssl.SSLContext
) -> None:
    ftp = SessionReusingFTP_TLS.secure(
        vsftpd.host, VSFTPD_USER, VSFTPD_PASSWORD,
        port=vsftpd.port, context=tls_client_context, timeout=TIMEOUT,
    )  # fmt: skip
    with ftp:
        round_trip_through(ftp, f"reused-{uuid.uuid4().hex[:8]}.bin")


def test_ftp_tls_still_wraps_and_resumes_data_connections_itself(
    tls_ftp: ftplib2.FTP_TLS, workdir: Path
) -> None:
    round_trip_through(tls_ftp, "own.bin")


def test_plain_ftp_ntransfercmd_of_an_ftp_tls_object_returns_a_plain_socket(
    tls_ftp: ftplib2.FTP_TLS, workdir: Path
) -> None:
    """As in ftplib: the base class opens the data connection, FTP_TLS secures it."""
    (workdir / "f.txt").write_bytes(b"wrapped by the caller")
    tls_ftp.voidcmd("TYPE I")
    conn, _ = ftplib2.FTP.ntransfercmd(tls_ftp, "RETR f.txt")
    with conn:
        assert type(conn) is socket.socket
        with tls_ftp.context.wrap_socket(
            conn, server_hostname=tls_ftp.host, session=tls_ftp.sock.session
        ) as secured:
            assert recv_all(secured) == b"wrapped by the caller"
            secured.unwrap()
    assert tls_ftp.voidresp().code == "226"


# --------------------------------------------------------------------------
# Issue 19, item 7: parse150 and a file name that looks like a size
# --------------------------------------------------------------------------


def test_parse150_takes_the_last_size_on_the_line_like_ftplib() -> None:
    reply = "150 Opening BINARY mode data connection for backup (5 bytes).bin (1000 bytes)."
    assert ftplib2.parse150(reply) == 1000
    assert ftplib2.parse150("150 (12 bytes) named (34 bytes) here (56 BYTES).") == 56


def test_download_from_vsftpd_of_a_file_whose_name_holds_a_size(vsftpd: VsftpdServer) -> None:
    payload = os.urandom(1000)
    name = f"backup-{uuid.uuid4().hex[:8]} (5 bytes).bin"
    with ftplib2.FTP(timeout=TIMEOUT) as ftp:
        ftp.connect(vsftpd.host, vsftpd.port)
        ftp.login(VSFTPD_USER, VSFTPD_PASSWORD)
        ftp.storbinary(f"STOR {name}", io.BytesIO(payload))
        received = io.BytesIO()
        assert ftp.download(name, received) == 1000
        assert received.getvalue() == payload
        conn, announced = ftp.ntransfercmd(f"RETR {name}")
        with conn:
            assert recv_all(conn) == payload
        assert ftp.voidresp().code == "226"
        assert announced == 1000  # vsftpd echoes the name: "... (5 bytes).bin (1000 bytes)."
        ftp.delete(name)


# --------------------------------------------------------------------------
# Issue 21, item 5: login after CCC
# --------------------------------------------------------------------------


def test_tls_login_after_ccc_refuses_to_send_the_password_in_clear(
    tls_server: LiveServer, tls_client_context: ssl.SSLContext
) -> None:
    with ftplib2.FTP_TLS(context=tls_client_context, timeout=TIMEOUT) as ftp:
        ftp.connect(tls_server.host, tls_server.port)
        ftp.auth()
        assert ftp.ccc().code == "200"
        with pytest.raises(ValueError, match="CCC"):
            ftp.login(USER, PASSWORD)
        with pytest.raises(ValueError):
            ftp.auth()  # cannot be secured again, as documented
        with pytest.raises(ValueError):
            ftp.ccc()  # no longer secured
        sent = [line.split()[0] for line in tls_server.commands_of(ftp)]
        assert sent == ["AUTH", "CCC"]
        assert ftp.voidcmd("NOOP").code == "200"  # the connection itself is still usable


def test_tls_login_after_ccc_with_secure_false_is_the_callers_choice(
    tls_server: LiveServer, tls_client_context: ssl.SSLContext
) -> None:
    with ftplib2.FTP_TLS(context=tls_client_context, timeout=TIMEOUT) as ftp:
        ftp.connect(tls_server.host, tls_server.port)
        ftp.auth()
        ftp.ccc()
        assert ftp.login(USER, PASSWORD, secure=False).code == "230"


def test_tls_login_on_a_new_connection_after_ccc_secures_it_again(
    tls_server: LiveServer, tls_client_context: ssl.SSLContext
) -> None:
    with ftplib2.FTP_TLS(context=tls_client_context, timeout=TIMEOUT) as ftp:
        ftp.connect(tls_server.host, tls_server.port)
        ftp.auth()
        ftp.ccc()
        ftp.connect(tls_server.host, tls_server.port)  # closes the cleared connection
        assert ftp.login(USER, PASSWORD).code == "230"
        assert ftp.sock.version() is not None  # TLS is on
        assert [line.split()[0] for line in tls_server.commands_of(ftp)] == [
            "AUTH",
            "USER",
            "PASS",
        ]


# --------------------------------------------------------------------------
# Issue 21, item 6: active mode and a third party on the announced port
# --------------------------------------------------------------------------

INTRUDER_ADDRESS = "127.0.0.2"
FORGED = b"forged by a third party"


@contextlib.contextmanager
def intruder_first(ftp: ftplib2.FTP) -> Iterator[list[socket.socket]]:
    """Have a third party at 127.0.0.2 connect to each announced port before the server.

    It connects as soon as the client listens, before PORT is even sent, so that it is
    first in the queue of the listening socket, and sends FORGED.
    """
    intruders: list[socket.socket] = []
    original = ftp.sendport

    def sendport(host: str, port: int) -> ftplib2.Reply:
        intruder = socket.create_connection(
            (host, port), timeout=TIMEOUT, source_address=(INTRUDER_ADDRESS, 0)
        )
        intruders.append(intruder)
        intruder.sendall(FORGED)
        intruder.shutdown(socket.SHUT_WR)
        return original(host, port)

    ftp.sendport = sendport  # type: ignore[method-assign]
    try:
        yield intruders
    finally:
        del ftp.sendport
        for intruder in intruders:
            intruder.close()


def intruder_got(intruder: socket.socket) -> bytes:
    """What the client sent the intruder before closing its connection."""
    try:
        return recv_all(intruder)
    except ConnectionResetError:
        return b""


def test_active_download_ignores_a_third_party_that_connects_first(
    ftp: ftplib2.FTP, workdir: Path
) -> None:
    payload = os.urandom(200_000)
    (workdir / "real.bin").write_bytes(payload)
    ftp.set_pasv(False)
    received = bytearray()
    with intruder_first(ftp) as intruders:
        assert ftp.retrbinary("RETR real.bin", received.extend).code == "226"
        assert len(intruders) == 1
        assert intruder_got(intruders[0]) == b""
    assert received == payload
    assert ftp.voidcmd("NOOP").code == "200"


def test_active_upload_never_reaches_a_third_party_that_connects_first(
    ftp: ftplib2.FTP, workdir: Path
) -> None:
    payload = os.urandom(200_000)
    ftp.set_pasv(False)
    with intruder_first(ftp) as intruders:
        assert ftp.storbinary("STOR up.bin", io.BytesIO(payload)).code == "226"
        assert intruder_got(intruders[0]) == b""
    assert (workdir / "up.bin").read_bytes() == payload


def hostile_active_retr_from(source: str, payload: bytes) -> Any:
    """PORT and RETR handlers: the data connection comes from `source`, not the server."""
    announced: list[tuple[str, int]] = []

    def port(ctl: HostileControl, argument: str) -> None:
        numbers = argument.split(",")
        announced.append((".".join(numbers[:4]), int(numbers[4]) * 256 + int(numbers[5])))
        ctl.reply("200 PORT command successful.")

    def retr(ctl: HostileControl, argument: str) -> None:
        ctl.reply("150 Opening BINARY mode data connection.")
        data = ctl.track(
            socket.create_connection(announced[-1], timeout=5, source_address=(source, 0))
        )
        with contextlib.suppress(OSError):  # refused by the client: it may be closed already
            data.sendall(payload)
            data.shutdown(socket.SHUT_WR)
            recv_all(data)
        data.close()
        ctl.reply("226 Transfer complete.")

    return {"PORT": port, "RETR": retr}


def test_active_mode_refuses_a_foreign_data_connection_until_the_timeout(hostile_server) -> None:
    server = hostile_server(hostile_serving(hostile_active_retr_from(INTRUDER_ADDRESS, FORGED)))
    ftp = server.connect()
    ftp.set_pasv(False)
    received = bytearray()
    with hostile_within(HOSTILE_TIMEOUT + 2.0), pytest.raises(TimeoutError):
        ftp.retrbinary("RETR file.bin", received.extend)
    assert received == b""
    hostile_assert_in_step(ftp, server)


def test_active_peer_check_can_be_turned_off_for_fxp_or_odd_nat(hostile_server) -> None:
    server = hostile_server(hostile_serving(hostile_active_retr_from(INTRUDER_ADDRESS, FORGED)))
    ftp = server.connect()
    ftp.set_pasv(False)
    ftp.active_peer_check = False
    received = bytearray()
    assert ftp.retrbinary("RETR file.bin", received.extend).code == "226"
    assert received == FORGED


# --------------------------------------------------------------------------
# Issue 21, item 9: over-long numbers
# --------------------------------------------------------------------------

HUGE = "9" * 5000  # more digits than int() takes from a string (4300, by default)


def test_150_reply_with_a_5000_digit_size_raises_error_proto_and_stays_in_step(
    hostile_server,
) -> None:
    def retr(ctl: HostileControl, argument: str) -> None:
        ctl.reply(f"150 Opening BINARY mode data connection for f ({HUGE} bytes).")
        data = ctl.accept_data()
        with contextlib.suppress(OSError):  # the client may have closed it already
            data.sendall(b"0123456789")
        data.close()
        ctl.reply("226 Transfer complete.")

    server = hostile_server(hostile_serving({"RETR": retr, "DELE": "550 No such file."}))
    ftp = server.connect()
    with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.error_proto):
        ftp.retrbinary("RETR f", lambda block: None)
    hostile_assert_in_step(ftp, server)
    with pytest.raises(ftplib2.error_perm):  # its own 550, never the reply to another command
        ftp.delete("f")


@pytest.mark.parametrize(
    ("verb", "reply"),
    [
        pytest.param("SIZE", f"213 {HUGE}", id="size"),
        pytest.param("SIZE", "213 18446744073709551616", id="size-2**64"),
        pytest.param("PASV", f"227 Entering Passive Mode (127,0,0,1,{HUGE},1).", id="pasv-p1"),
        pytest.param("PASV", f"227 Entering Passive Mode (127,0,0,1,4,{HUGE}).", id="pasv-p2"),
        pytest.param("EPSV", f"229 Entering Extended Passive Mode (|||{HUGE}|).", id="epsv"),
    ],
)
def test_over_long_numbers_in_replies_raise_error_proto_and_stay_in_step(
    hostile_server, verb: str, reply: str
) -> None:
    server = hostile_server(hostile_serving({verb: reply}))
    ftp = server.connect()
    ftp.prefer_epsv = verb == "EPSV"
    with pytest.raises(ftplib2.error_proto):
        if verb == "SIZE":
            ftp.size("f")
        else:
            ftp.retrbinary("RETR f", lambda block: None)
    hostile_assert_in_step(ftp, server)
    assert not any(command.startswith("RETR") for command in server.commands)


def test_parse227_of_a_maximal_line_of_digits_takes_linear_time() -> None:
    """A hostile 227 reply of 8000 digits must not cost a third of a second to reject."""
    reply = "227 " + "1" * (ftplib2.MAXLINE - 4)
    fastest = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        with pytest.raises(ftplib2.error_proto):
            ftplib2.parse227(reply)
        fastest = min(fastest, time.perf_counter() - start)
    assert fastest < 0.05


def test_size_of_the_largest_64_bit_size_is_accepted(hostile_server) -> None:
    ftp = hostile_server(hostile_serving({"SIZE": "213 18446744073709551615"})).connect()
    assert ftp.size("f") == 2**64 - 1


HOSTILE_FEAT_MLST = "211-Features:\r\n MLST type*;size*;modify*;\r\n211 End"


@pytest.mark.parametrize(
    ("verb", "line"),
    [
        pytest.param("LIST", f"-rw-r--r-- 1 ftp ftp {HUGE} Jan 01 2024 big.bin", id="list"),
        pytest.param("LIST", f"-rw-r--r-- 1 ftp {HUGE} Jan 01 2024 big.bin", id="list-no-group"),
        pytest.param("LIST", f"01-01-24  10:00AM  {HUGE} big.bin", id="list-dos"),
        pytest.param("LIST", f"+s{HUGE},r,\tbig.bin", id="list-eplf"),
        pytest.param("MLSD", f"type=file;size={HUGE}; big.bin", id="mlsd"),
    ],
)
def test_over_long_sizes_in_listings_raise_error_proto_and_stay_in_step(
    hostile_server, verb: str, line: str
) -> None:
    replies: dict[str, object] = {
        verb: hostile_listing(line.encode() + b"\r\n"),
        "PWD": '257 "/" is the current directory.',
    }
    if verb == "MLSD":
        replies["FEAT"] = HOSTILE_FEAT_MLST.encode() + b"\r\n"
    server = hostile_server(hostile_serving(replies))
    ftp = server.connect()
    with pytest.raises(ftplib2.error_proto):
        ftp.scandir()
    hostile_assert_in_step(ftp, server)


def test_listing_parsers_refuse_over_long_sizes_and_take_64_bit_ones() -> None:
    big = 2**64 - 1
    assert ftplib2.parse_list_line(f"-rw-r--r-- 1 u g {big} Jan 01 2024 f").size == big
    assert ftplib2.parse_mlsx_line(f"type=file;size={big}; f").size == big
    for line in (
        f"-rw-r--r-- 1 u g {big + 1} Jan 01 2024 f",
        f"01-01-24  10:00AM  {HUGE} f",
        f"+s{HUGE},r,\tf",
    ):
        with pytest.raises(ftplib2.error_proto):
            ftplib2.parse_list_line(line)
    with pytest.raises(ftplib2.error_proto):
        ftplib2.parse_mlsx_line(f"type=file;sizd={HUGE}; f")


def hostile_url_script(first_150: str, payload: bytes) -> Any:
    """Serves the same file to URL requests; the first RETR announces it with `first_150`."""
    retrs: list[str] = []

    def retr(ctl: HostileControl, argument: str) -> None:
        retrs.append(argument)
        if len(retrs) == 1:
            ctl.reply(first_150)
        else:
            ctl.reply(f"150 Opening BINARY mode data connection ({len(payload)} bytes).")
        data = ctl.accept_data()
        with contextlib.suppress(OSError):
            data.sendall(payload)
        data.close()
        ctl.reply("226 Transfer complete.")

    return hostile_serving(
        {"PWD": '257 "/" is the current directory.', "SIZE": f"213 {len(payload)}", "RETR": retr}
    )


def test_cache_handler_never_keeps_a_connection_after_an_over_long_150(
    hostile_server, url_cache_handler: Any
) -> None:
    payload = b"0123456789"
    server = hostile_server(hostile_url_script(f"150 Here it is ({HUGE} bytes).", payload))
    url = f"ftp://u:p@{server.host}:{server.port}/f.bin"
    opener = urllib.request.build_opener(url_cache_handler)
    with pytest.raises(urllib.error.URLError) as caught:
        url_fetch(opener, url)
    assert isinstance(caught.value.reason, ftplib2.error_proto)
    server.wait_handled(1)  # the first connection was closed, not cached
    assert url_fetch(opener, url) == payload
    assert [c for c in server.commands if c.startswith("USER")] == ["USER u", "USER u"]


# --------------------------------------------------------------------------
# Issue 21, item 12: urlopen() keeps the fragment
# --------------------------------------------------------------------------


def test_urlopen_geturl_keeps_the_fragment_like_urllib_and_ftphandler(
    server: LiveServer, workdir: Path
) -> None:
    (workdir / "f.txt").write_bytes(b"data")
    url = f"ftp://{USER}:{PASSWORD}@{server.host}:{server.port}/{workdir.name}/f.txt#part-2"
    with ftplib2.urlopen(url, timeout=TIMEOUT) as response:
        assert response.read() == b"data"
        assert response.geturl() == url
        assert response.url == url
    with ftplib2.urlopen(urllib.request.Request(url), timeout=TIMEOUT) as response:
        assert response.geturl() == url
    opener = urllib.request.build_opener(ftplib2.FTPHandler())
    with opener.open(url, timeout=TIMEOUT) as response:
        assert response.geturl() == url
