"""Every server is untrusted input: ftplib2 against a scripted, misbehaving FTP server.

Each test starts a server (the ``hostile_server`` fixture) that runs a script speaking broken FTP
on purpose: malformed reply codes, bytes that are not UTF-8, passive replies with bad ports,
replies too long or too many, replies dripped slower than the timeout, stalled, reset or
truncated data connections, abort() mid-transfer and failing callbacks, arguments that would
inject commands, broken TLS, and pipelined passive commands that fail. The tests prove that
ftplib2 raises the documented exception in bounded time, keeps the control connection in step
or closes it, and leaks no socket or descriptor.

Run only these tests:

    python -m pytest tests/test_hostile.py
"""

from __future__ import annotations

import contextlib
import gc
import io
import os
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import trustme

import ftplib2
from tests.servers import (
    HOSTILE_SERVER_WAIT,
    HOSTILE_TIMEOUT,
    HostileControl,
    HostileScript,
    HostileServer,
    hostile_assert_in_step,
    hostile_listing,
    hostile_open_fds,
    hostile_reset,
    hostile_serving,
    hostile_wait_for_close,
    hostile_within,
    partial_downloads,
)

# --------------------------------------------------------------------------
# 1. Malformed reply codes
# --------------------------------------------------------------------------

HOSTILE_MALFORMED_LINES = [
    pytest.param(b"2x0 ok", id="letter-in-code"),
    pytest.param(b"20 ok", id="two-digits"),
    pytest.param(b"abc", id="no-code"),
    pytest.param(b"600 nope", id="first-digit-6"),
    pytest.param(b"099 x", id="first-digit-0"),
    pytest.param(b"2000 x", id="four-digits"),
    pytest.param(b"", id="empty-line"),
]


@pytest.mark.parametrize("line", HOSTILE_MALFORMED_LINES)
def test_malformed_reply_to_noop_raises_error_proto_and_closes_the_connection(
    hostile_server, line: bytes
) -> None:
    def script(ctl: HostileControl) -> None:
        ctl.reply("220 Hostile test server ready.")
        ctl.recv_command()
        ctl.send(line + b"\r\n")
        ctl.ignore_until_closed()

    ftp = hostile_server(script).connect()
    with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.error_proto):
        ftp.voidcmd("NOOP")
    assert ftp.sock is None


@pytest.mark.parametrize(
    "line",
    [
        pytest.param(b"abc", id="no-code"),
        pytest.param(b"600 nope", id="first-digit-6"),
        pytest.param(b"099 x", id="first-digit-0"),
        pytest.param(b"", id="empty-line"),
    ],
)
def test_greeting_without_a_reply_code_raises_error_proto_and_closes_the_connection(
    hostile_server, line: bytes
) -> None:
    def script(ctl: HostileControl) -> None:
        ctl.send(line + b"\r\n")
        ctl.ignore_until_closed()

    server = hostile_server(script)
    ftp = server.new_client()
    with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.error_proto):
        ftp.connect(server.host, server.port)
    assert ftp.sock is None


@pytest.mark.parametrize(
    "line",
    [
        pytest.param(b"2x0 ok", id="letter-in-code"),
        pytest.param(b"20 ok", id="two-digits"),
        pytest.param(b"2000 x", id="four-digits"),
    ],
)
def test_greeting_with_a_near_miss_code_is_taken_leniently_but_the_next_reply_strictly(
    hostile_server, line: bytes
) -> None:
    """Documented leniency (Doc/migration.rst, "Replies are validated strictly"): a greeting
    that starts with a digit 1-5 is accepted as ftplib accepts it, as a one-line reply; the
    same line as the answer to a command raises error_proto."""

    def script(ctl: HostileControl) -> None:
        ctl.send(line + b"\r\n")
        ctl.recv_command()
        ctl.send(line + b"\r\n")
        ctl.ignore_until_closed()

    ftp = hostile_server(script).connect()
    assert ftp.welcome == line.decode()
    with pytest.raises(ftplib2.error_proto):
        ftp.voidcmd("NOOP")
    assert ftp.sock is None


def test_malformed_multiline_greeting_never_lets_a_refused_login_pass_as_success(
    hostile_server,
) -> None:
    """A greeting whose first line is a near miss ("20-") and that goes on for a second line
    must not shift every later reply by one: here the server refuses USER with 530, and
    login() must not return the greeting's left-over "220" as its success."""
    server = hostile_server(
        hostile_serving(
            {"USER": "530 Not you.", "PASS": "530 Not you."},
            greeting="20-Welcome\r\n220 Ready.",
        )
    )
    ftp = server.new_client()
    with pytest.raises(ftplib2.all_errors):
        ftp.connect(server.host, server.port)
        ftp.login("user", "secret")


# --------------------------------------------------------------------------
# 2. Bytes that are not UTF-8
# --------------------------------------------------------------------------


def test_non_utf8_directory_in_pwd_reply_round_trips_to_cwd_as_the_same_bytes(
    hostile_server,
) -> None:
    server = hostile_server(
        hostile_serving({"PWD": b'257 "/caf\xe9" is the current directory.\r\n'})
    )
    ftp = server.connect()
    name = ftp.pwd()
    assert name == "/caf\udce9"
    ftp.cwd(name)
    assert server.raw_commands[-1] == b"CWD /caf\xe9"


HOSTILE_NON_UTF8_LISTING = b"readme.txt\r\ncaf\xe9.txt\r\n"

HOSTILE_LISTING_CALLS = {
    "nlst": lambda ftp: ftp.nlst(),
    "dir": lambda ftp: ftp.dir(lambda line: None),
    "retrlines-list": lambda ftp: ftp.retrlines("LIST", lambda line: None),
}


@pytest.mark.parametrize("call", HOSTILE_LISTING_CALLS.values(), ids=HOSTILE_LISTING_CALLS.keys())
def test_non_utf8_listing_under_strict_errors_raises_error_proto_that_is_a_unicode_error(
    hostile_server, call: Callable[[ftplib2.FTP], object]
) -> None:
    listing = hostile_listing(HOSTILE_NON_UTF8_LISTING)
    server = hostile_server(hostile_serving({"NLST": listing, "LIST": listing}))
    ftp = server.connect()
    with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.error_proto) as caught:
        call(ftp)
    assert isinstance(caught.value, UnicodeDecodeError)
    hostile_assert_in_step(ftp, server)


def test_non_utf8_listing_under_surrogateescape_completes_and_names_round_trip(
    hostile_server,
) -> None:
    server = hostile_server(hostile_serving({"NLST": hostile_listing(HOSTILE_NON_UTF8_LISTING)}))
    ftp = server.connect(errors="surrogateescape")
    names = ftp.nlst()
    assert names == ["readme.txt", "caf\udce9.txt"]
    ftp.delete(names[1])
    assert server.raw_commands[-1] == b"DELE caf\xe9.txt"


# --------------------------------------------------------------------------
# 3. Passive replies with bad ports
# --------------------------------------------------------------------------

HOSTILE_BAD_PASSIVE_REPLIES = [
    # (command, reply, port a careless parser might reach (wrapping modulo 65536), or None)
    pytest.param("PASV", "227 Entering Passive Mode (127,0,0,1,300,1).", 11265, id="pasv-300"),
    pytest.param("PASV", "227 Entering Passive Mode (127,0,0,1,-1,5).", 65285, id="pasv-minus"),
    pytest.param("PASV", "227 Entering Passive Mode (127,0,0,1,256,0).", None, id="pasv-256"),
    pytest.param("PASV", "227 Entering Passive Mode (127,0,0,1,0,0).", None, id="pasv-port-0"),
    pytest.param("PASV", "227 Entering Passive Mode (a,b,c,d,e,f).", None, id="pasv-letters"),
    pytest.param("PASV", "227 Entering Passive Mode.", None, id="pasv-no-numbers"),
    pytest.param("EPSV", "229 Extended Passive Mode (|||99999|).", 34463, id="epsv-99999"),
    pytest.param("EPSV", "229 Extended Passive Mode (|||-5|).", 65531, id="epsv-minus"),
    pytest.param("EPSV", "229 Extended Passive Mode (|||abc|).", None, id="epsv-letters"),
    pytest.param("EPSV", "229 Extended Passive Mode (|||0|).", None, id="epsv-port-0"),
    pytest.param("EPSV", "229 Extended Passive Mode (|||65537|).", 1, id="epsv-65537"),
    pytest.param("EPSV", "229 Extended Passive Mode (||6446).", 6446, id="epsv-3-parts"),
]


def hostile_trap(port: int | None) -> socket.socket | None:
    """Listen on `port` of 127.0.0.1 if possible, to catch a client that connects there."""
    if port is None:
        return None
    try:
        return socket.create_server(("127.0.0.1", port), backlog=4)
    except OSError:  # taken, or privileged: the connect() spy still sees any attempt
        return None


def hostile_trap_was_hit(trap: socket.socket) -> bool:
    trap.setblocking(False)
    try:
        conn, _ = trap.accept()
    except BlockingIOError:
        return False
    conn.close()
    return True


def hostile_spy_on_connect(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Record the address of every socket.connect() from now to the end of the test."""
    attempts: list[object] = []
    original = socket.socket.connect

    def spying_connect(sock: socket.socket, address: object) -> None:
        attempts.append(address)
        original(sock, address)

    monkeypatch.setattr(socket.socket, "connect", spying_connect)
    return attempts


@pytest.mark.parametrize(("command", "reply", "wrapped_port"), HOSTILE_BAD_PASSIVE_REPLIES)
def test_passive_reply_with_a_bad_port_raises_error_proto_without_connecting_anywhere(
    hostile_server, monkeypatch, command: str, reply: str, wrapped_port: int | None
) -> None:
    server = hostile_server(hostile_serving({command: reply}))
    ftp = server.connect()
    ftp.prefer_epsv = command == "EPSV"
    trap = hostile_trap(wrapped_port)
    try:
        attempts = hostile_spy_on_connect(monkeypatch)
        with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.error_proto):
            ftp.makepasv()
        with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.error_proto):
            ftp.retrbinary("RETR file.bin", lambda block: None)
        assert attempts == []
        assert trap is None or not hostile_trap_was_hit(trap)
    finally:
        if trap is not None:
            trap.close()
    assert not any(line.startswith("RETR") for line in server.commands)
    hostile_assert_in_step(ftp, server)


def test_pasv_reply_naming_another_host_is_answered_by_connecting_to_the_control_peer(
    hostile_server, monkeypatch
) -> None:
    """A 227 naming a third host (FTP bounce, or a scan of the client's network) is not
    followed: the data connection goes to the control connection's peer."""
    payload = b"only from the control peer"

    def pasv(ctl: HostileControl, argument: str) -> None:
        _, reply = ctl.open_pasv()
        ctl.reply(reply.replace("(127,0,0,1,", "(192,0,2,1,"))  # TEST-NET-1

    def retr(ctl: HostileControl, argument: str) -> None:
        ctl.reply("150 Opening BINARY mode data connection.")
        data = ctl.accept_data()
        data.sendall(payload)
        data.close()
        ctl.reply("226 Transfer complete.")

    server = hostile_server(hostile_serving({"PASV": pasv, "RETR": retr}))
    ftp = server.connect()
    attempts = hostile_spy_on_connect(monkeypatch)
    received = bytearray()
    ftp.retrbinary("RETR file.bin", received.extend)
    assert received == payload
    assert [address[0] for address in attempts] == ["127.0.0.1"]  # type: ignore[index]


# --------------------------------------------------------------------------
# 4. SIZE without a number
# --------------------------------------------------------------------------


def test_size_reply_without_a_number_raises_error_proto_not_value_error(hostile_server) -> None:
    ftp = hostile_server(hostile_serving({"SIZE": "213 twelve"})).connect()
    with pytest.raises(ftplib2.error_proto) as caught:
        ftp.size("file.bin")
    assert not isinstance(caught.value, ValueError)
    assert "213 twelve" in str(caught.value)


# --------------------------------------------------------------------------
# 5. Bounds on lines and replies
# --------------------------------------------------------------------------

HOSTILE_OVERLONG_REPLIES = [
    pytest.param(b"200 " + b"x" * (ftplib2.MAXLINE + 100) + b"\r\n", id="terminated"),
    pytest.param(b"200 " + b"x" * (ftplib2.MAXLINE * 16), id="never-terminated"),
]


@pytest.mark.parametrize("reply", HOSTILE_OVERLONG_REPLIES)
def test_reply_line_longer_than_maxline_raises_error_proto_and_closes(
    hostile_server, reply: bytes
) -> None:
    def noop(ctl: HostileControl, argument: str) -> None:
        with contextlib.suppress(OSError):  # the client may hang up half-way
            ctl.send(reply)

    ftp = hostile_server(hostile_serving({"NOOP": noop})).connect()
    with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.error_proto):
        ftp.voidcmd("NOOP")
    assert ftp.sock is None


@pytest.mark.parametrize("reply", HOSTILE_OVERLONG_REPLIES)
def test_greeting_line_longer_than_maxline_raises_error_proto_and_closes(
    hostile_server, reply: bytes
) -> None:
    def script(ctl: HostileControl) -> None:
        with contextlib.suppress(OSError):
            ctl.send(reply.replace(b"200", b"220", 1))
        ctl.ignore_until_closed()

    server = hostile_server(script)
    ftp = server.new_client()
    with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.error_proto):
        ftp.connect(server.host, server.port)
    assert ftp.sock is None


@pytest.mark.parametrize(
    ("length", "accepted"),
    [
        pytest.param(ftplib2.MAXLINE - 1, True, id="maxline-minus-1"),
        pytest.param(ftplib2.MAXLINE, True, id="exactly-maxline"),
        pytest.param(ftplib2.MAXLINE + 1, False, id="maxline-plus-1"),
    ],
)
def test_reply_line_of_up_to_maxline_bytes_is_accepted_and_one_byte_more_is_not(
    hostile_server, length: int, accepted: bool
) -> None:
    """Doc/library.rst, FTP.maxline: "The longest line, in bytes and without its line
    ending, accepted from the server on the control connection"."""
    line = b"200 " + b"x" * (length - 4)
    ftp = hostile_server(hostile_serving({"NOOP": line + b"\r\n"})).connect()
    if accepted:
        assert ftp.voidcmd("NOOP") == line.decode()
    else:
        with pytest.raises(ftplib2.error_proto):
            ftp.voidcmd("NOOP")


@pytest.mark.parametrize(
    "overlong",
    [
        pytest.param(b"x" * (ftplib2.MAXLINE + 10) + b"\r\n", id="terminated"),
        pytest.param(b"x" * (ftplib2.MAXLINE + 10), id="unterminated"),
    ],
)
def test_reply_parser_delivers_the_reply_that_precedes_an_overlong_line_in_the_same_chunk(
    overlong: bytes,
) -> None:
    """What the parser promises (_LineSplitter: "replies before an over-long line are still
    delivered in order"): the over-long line raises error_proto, but only once the complete
    reply fed before it has been taken out."""
    parser = ftplib2.ReplyParser()
    with contextlib.suppress(ftplib2.error_proto):
        parser.feed(b"200 Before the flood.\r\n" + overlong)
    assert parser.next_reply() == "200 Before the flood."
    with pytest.raises(ftplib2.error_proto):
        parser.feed(b"\r\n")
        parser.next_reply()


def hostile_endless_reply(line: bytes, count: int) -> Callable[[HostileControl, str], None]:
    """A handler answering with a multi-line reply of `count` copies of `line` (or fewer,
    if the client hangs up first)."""

    def handler(ctl: HostileControl, argument: str) -> None:
        with contextlib.suppress(OSError):
            ctl.send(b"211-Here it comes\r\n")
            for _ in range(count):
                ctl.send(line + b"\r\n")
            ctl.send(b"211 End\r\n")

    return handler


def test_reply_with_more_lines_than_max_reply_lines_raises_error_proto(hostile_server) -> None:
    server = hostile_server(hostile_serving({"STAT": hostile_endless_reply(b" a line", 20000)}))
    ftp = server.new_client()
    ftp.max_reply_lines = 50
    ftp.connect(server.host, server.port)
    with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.error_proto):
        ftp.sendcmd("STAT")
    assert ftp.sock is None


def test_reply_larger_than_max_reply_size_raises_error_proto(hostile_server) -> None:
    server = hostile_server(hostile_serving({"STAT": hostile_endless_reply(b" " + b"z" * 499, 40)}))
    ftp = server.new_client()
    ftp.max_reply_size = 4096
    ftp.connect(server.host, server.port)
    with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.error_proto):
        ftp.sendcmd("STAT")
    assert ftp.sock is None


def test_reply_larger_than_the_default_max_reply_size_raises_error_proto(hostile_server) -> None:
    line = b" " + b"m" * 999
    count = 2 * ftplib2.FTP.max_reply_size // len(line)
    assert count < ftplib2.FTP.max_reply_lines  # so the byte bound is the one that trips
    server = hostile_server(hostile_serving({"STAT": hostile_endless_reply(line, count)}))
    ftp = server.connect()
    with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.error_proto):
        ftp.sendcmd("STAT")
    assert ftp.sock is None


def test_retrlines_line_longer_than_maxline_raises_error_proto_and_stays_in_step(
    hostile_server,
) -> None:
    payload = b"short line\r\n" + b"y" * (2 * ftplib2.MAXLINE) + b"\r\n"
    server = hostile_server(hostile_serving({"LIST": hostile_listing(payload)}))
    ftp = server.connect()
    lines: list[str] = []
    with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.error_proto):
        ftp.retrlines("LIST", lines.append)
    assert lines == ["short line"]
    hostile_assert_in_step(ftp, server)


# --------------------------------------------------------------------------
# 6. A reply dripped slower than the timeout
# --------------------------------------------------------------------------


def hostile_drip(ctl: HostileControl, data: bytes, interval: float = 0.3) -> None:
    for i in range(len(data)):
        ctl.send(data[i : i + 1])
        ctl.sleep(interval)


def test_reply_dripped_one_byte_at_a_time_raises_timeout_error_and_closes(
    hostile_server,
) -> None:
    def noop(ctl: HostileControl, argument: str) -> None:
        hostile_drip(ctl, b"200 NOOP ok, eventually.\r\n")

    ftp = hostile_server(hostile_serving({"NOOP": noop})).connect(timeout=1.0)
    with hostile_within(2.5), pytest.raises(TimeoutError) as caught:
        ftp.voidcmd("NOOP")
    assert isinstance(caught.value, ftplib2.all_errors)
    assert ftp.sock is None


def test_greeting_dripped_one_byte_at_a_time_raises_timeout_error_and_closes(
    hostile_server,
) -> None:
    def script(ctl: HostileControl) -> None:
        hostile_drip(ctl, b"220 Hostile test server ready, eventually.\r\n")

    server = hostile_server(script)
    ftp = server.new_client(timeout=1.0)
    with hostile_within(2.5), pytest.raises(TimeoutError):
        ftp.connect(server.host, server.port)
    assert ftp.sock is None


@pytest.mark.parametrize("hang_up", ["close", "reset"])
def test_reply_cut_short_by_the_server_hanging_up_raises_and_closes_the_connection(
    hostile_server, hang_up: str
) -> None:
    """The server meant "213 1234" but hung up after "213 12": that is no reply to SIZE."""

    def size(ctl: HostileControl, argument: str) -> None:
        ctl.send(b"213 12")
        ctl.sleep(0.1)
        if hang_up == "reset":
            ctl.reset()
        else:
            ctl.close()

    ftp = hostile_server(hostile_serving({"SIZE": size})).connect()
    with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.all_errors):
        ftp.size("file.bin")
    assert ftp.sock is None


# --------------------------------------------------------------------------
# 7. A stalled data connection
# --------------------------------------------------------------------------


def hostile_stalled_retr(then_426: bool) -> Callable[[HostileControl, str], None]:
    """A RETR handler that opens the data connection and sends nothing on it."""

    def handler(ctl: HostileControl, argument: str) -> None:
        ctl.reply("150 Opening BINARY mode data connection.")
        data = ctl.accept_data()
        hostile_wait_for_close(data)  # until the client gives up on it
        if then_426:
            ctl.reply("426 Connection closed; transfer aborted.")

    return handler


HOSTILE_RECEIVERS = ["retrbinary", "download-to-path"]


def hostile_receive(ftp: ftplib2.FTP, how: str, name: str, tmp_path: Path) -> None:
    """Download `name` with retrbinary(), or with download() into a file (spliced on Linux)."""
    if how == "retrbinary":
        ftp.retrbinary(f"RETR {name}", lambda block: None)
    else:
        ftp.download(name, tmp_path / name, size=100_000)


@pytest.mark.parametrize("how", HOSTILE_RECEIVERS)
def test_stalled_download_times_out_then_reads_the_426_sent_after_the_reset(
    hostile_server, how: str, tmp_path: Path
) -> None:
    timeout = 1.0
    server = hostile_server(hostile_serving({"RETR": hostile_stalled_retr(then_426=True)}))
    ftp = server.connect(timeout=timeout)
    with hostile_within(2 * timeout + 0.5), pytest.raises(TimeoutError):
        hostile_receive(ftp, how, "stalled.bin", tmp_path)
    hostile_assert_in_step(ftp, server)
    assert list(tmp_path.iterdir()) == []  # nothing received: no empty .part left behind


@pytest.mark.parametrize("how", HOSTILE_RECEIVERS)
def test_stalled_download_with_a_silent_server_times_out_and_closes_the_connection(
    hostile_server, how: str, tmp_path: Path
) -> None:
    timeout = 1.0
    server = hostile_server(hostile_serving({"RETR": hostile_stalled_retr(then_426=False)}))
    ftp = server.connect(timeout=timeout)
    with hostile_within(2 * timeout + 1.0), pytest.raises(TimeoutError):
        hostile_receive(ftp, how, "stalled.bin", tmp_path)
    # The transfer's final reply is owed: the next command waits for it, no longer.
    with hostile_within(2 * timeout + 1.0), pytest.raises(TimeoutError):
        ftp.voidcmd("NOOP")
    assert ftp.sock is None


# --------------------------------------------------------------------------
# 8. A data connection reset mid-transfer
# --------------------------------------------------------------------------


@pytest.mark.parametrize("how", HOSTILE_RECEIVERS)
def test_download_reset_by_the_server_raises_and_reads_the_426(
    hostile_server, how: str, tmp_path: Path
) -> None:
    sent = os.urandom(1000)

    def retr(ctl: HostileControl, argument: str) -> None:
        ctl.reply("150 Opening BINARY mode data connection (100000 bytes).")
        data = ctl.accept_data()
        data.sendall(sent)
        ctl.sleep(0.1)
        hostile_reset(data)
        ctl.reply("426 Connection reset; transfer aborted.")

    server = hostile_server(hostile_serving({"RETR": retr}))
    ftp = server.connect()
    with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.all_errors):
        hostile_receive(ftp, how, "reset.bin", tmp_path)
    hostile_assert_in_step(ftp, server)
    if how == "download-to-path":  # what arrived is kept for a resume, never under the name
        [part] = partial_downloads(tmp_path)
        assert [p.name for p in tmp_path.iterdir()] == [part]
        assert (tmp_path / part).read_bytes() == sent


def test_upload_reset_by_the_server_raises_and_reads_the_426(hostile_server) -> None:
    def stor(ctl: HostileControl, argument: str) -> None:
        ctl.reply("150 Ok to send data.")
        data = ctl.accept_data()
        received = 0
        while received < 65536:
            received += len(data.recv(65536))
        hostile_reset(data)
        ctl.reply("426 Connection reset; transfer aborted.")

    server = hostile_server(hostile_serving({"STOR": stor}))
    ftp = server.connect()
    with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.all_errors):
        ftp.storbinary("STOR reset.bin", io.BytesIO(bytes(16 << 20)))
    hostile_assert_in_step(ftp, server)


# --------------------------------------------------------------------------
# 9. A download shorter than announced
# --------------------------------------------------------------------------

HOSTILE_TRUNCATED_SIZE = 1000
HOSTILE_TRUNCATED_SENT = 600


def hostile_truncating_server(start: Callable[[HostileScript], HostileServer], with_size: bool):
    """A server announcing 1000 bytes (in SIZE, or only in the 150) and sending 600, then 226."""

    def retr(ctl: HostileControl, argument: str) -> None:
        ctl.reply(f"150 Opening BINARY mode data connection ({HOSTILE_TRUNCATED_SIZE} bytes).")
        data = ctl.accept_data()
        data.sendall(b"t" * HOSTILE_TRUNCATED_SENT)
        data.close()
        ctl.reply("226 Transfer complete.")

    size = f"213 {HOSTILE_TRUNCATED_SIZE}" if with_size else "502 SIZE not implemented."
    return start(hostile_serving({"RETR": retr, "SIZE": size}))


HOSTILE_SIZE_SOURCES = [
    pytest.param(True, id="size-from-SIZE"),
    pytest.param(False, id="size-from-150-only"),
]


@pytest.mark.parametrize("with_size", HOSTILE_SIZE_SOURCES)
def test_truncated_download_to_a_file_object_raises_error_proto(
    hostile_server, with_size: bool
) -> None:
    server = hostile_truncating_server(hostile_server, with_size)
    ftp = server.connect()
    with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.error_proto):
        ftp.download("short.bin", io.BytesIO())
    hostile_assert_in_step(ftp, server)


@pytest.mark.parametrize("with_size", HOSTILE_SIZE_SOURCES)
def test_truncated_download_to_a_path_leaves_only_the_part_file(
    hostile_server, tmp_path: Path, with_size: bool
) -> None:
    server = hostile_truncating_server(hostile_server, with_size)
    ftp = server.connect()
    target = tmp_path / "short.bin"
    with pytest.raises(ftplib2.error_proto):
        ftp.download("short.bin", target)
    assert not target.exists()
    [part] = partial_downloads(tmp_path)
    assert (tmp_path / part).read_bytes() == b"t" * HOSTILE_TRUNCATED_SENT
    assert sorted(p.name for p in tmp_path.iterdir()) == [part]


@pytest.mark.parametrize("with_size", HOSTILE_SIZE_SOURCES)
def test_truncated_retrbinary_with_check_size_raises_error_proto(
    hostile_server, with_size: bool
) -> None:
    server = hostile_truncating_server(hostile_server, with_size)
    ftp = server.connect()
    with pytest.raises(ftplib2.error_proto):
        ftp.retrbinary("RETR short.bin", lambda block: None, check_size=True)
    hostile_assert_in_step(ftp, server)


def test_truncated_retrbinary_without_check_size_returns_the_226_like_ftplib(
    hostile_server,
) -> None:
    server = hostile_truncating_server(hostile_server, with_size=True)
    ftp = server.connect()
    received = bytearray()
    assert ftp.retrbinary("RETR short.bin", received.extend) == "226 Transfer complete."
    assert len(received) == HOSTILE_TRUNCATED_SENT


# --------------------------------------------------------------------------
# 10. abort() and exceptions from callbacks
# --------------------------------------------------------------------------


def test_abort_during_a_transfer_returns_426_and_the_next_command_reads_226_first(
    hostile_server,
) -> None:
    def retr(ctl: HostileControl, argument: str) -> None:
        ctl.reply("150 Opening BINARY mode data connection.")
        data = ctl.accept_data()
        data.sendall(b"d" * 65536)
        assert ctl.recv_command() == "ABOR"
        hostile_reset(data)
        ctl.reply("426 Connection closed; transfer aborted.")
        ctl.reply("226 Abort successful.")

    server = hostile_server(hostile_serving({"RETR": retr}))
    ftp = server.connect()
    conn = ftp.transfercmd("RETR big.bin")
    try:
        conn.recv(1024)
        with hostile_within(3 * HOSTILE_TIMEOUT):
            assert ftp.abort() == "426 Connection closed; transfer aborted."
    finally:
        conn.close()
    hostile_assert_in_step(ftp, server)


def test_abort_without_a_transfer_accepts_a_lone_225(hostile_server) -> None:
    server = hostile_server(hostile_serving({"ABOR": "225 No transfer to abort."}))
    ftp = server.connect()
    with hostile_within(3 * HOSTILE_TIMEOUT):
        assert ftp.abort() == "225 No transfer to abort."
    hostile_assert_in_step(ftp, server)


class HostileCallbackError(Exception):
    """Raised on purpose by a transfer callback."""


def hostile_failing_callback(block: object) -> None:
    raise HostileCallbackError("the callback gave up")


def hostile_streaming_retr(ctl: HostileControl, argument: str) -> None:
    """Send data until the client resets the data connection, then answer 426."""
    ctl.reply("150 Opening BINARY mode data connection.")
    data = ctl.accept_data()
    deadline = time.monotonic() + HOSTILE_SERVER_WAIT
    with contextlib.suppress(OSError):
        while time.monotonic() < deadline:
            data.sendall(b"s" * 65536)
    ctl.reply("426 Connection closed; transfer aborted.")


def hostile_finished_retr(ctl: HostileControl, argument: str) -> None:
    """Send a small file, close, and answer 226 at once."""
    ctl.reply("150 Opening BINARY mode data connection.")
    data = ctl.accept_data()
    data.sendall(b"f" * 1000)
    data.close()
    ctl.reply("226 Transfer complete.")


@pytest.mark.parametrize(
    "retr",
    [
        pytest.param(hostile_streaming_retr, id="server-sends-426-after-the-reset"),
        pytest.param(hostile_finished_retr, id="server-already-sent-226"),
    ],
)
def test_exception_in_retrbinary_callback_propagates_and_leaves_control_in_step(
    hostile_server, retr: Callable[[HostileControl, str], None]
) -> None:
    server = hostile_server(hostile_serving({"RETR": retr}))
    ftp = server.connect()
    with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(HostileCallbackError):
        ftp.retrbinary("RETR file.bin", hostile_failing_callback)
    hostile_assert_in_step(ftp, server)


# --------------------------------------------------------------------------
# 11. Command injection through arguments
# --------------------------------------------------------------------------

HOSTILE_INJECTIONS: dict[str, Callable[[ftplib2.FTP, str], object]] = {
    "sendcmd": lambda ftp, bad: ftp.sendcmd(f"NOOP{bad}DELE victim"),
    "cwd": lambda ftp, bad: ftp.cwd(f"dir{bad}DELE victim"),
    "delete": lambda ftp, bad: ftp.delete(f"a{bad}DELE victim"),
    "rename-from": lambda ftp, bad: ftp.rename(f"a{bad}DELE victim", "b"),
    "rename-to": lambda ftp, bad: ftp.rename("a", f"b{bad}DELE victim"),
    "mkd": lambda ftp, bad: ftp.mkd(f"d{bad}DELE victim"),
    "size": lambda ftp, bad: ftp.size(f"f{bad}DELE victim"),
    "retrbinary": lambda ftp, bad: ftp.retrbinary(f"RETR a{bad}DELE victim", lambda b: None),
    "storbinary": lambda ftp, bad: ftp.storbinary(f"STOR a{bad}DELE victim", io.BytesIO(b"x")),
    "login-user": lambda ftp, bad: ftp.login(f"user{bad}DELE victim", "secret"),
    "login-password": lambda ftp, bad: ftp.login("user", f"secret{bad}DELE victim"),
    "login-acct": lambda ftp, bad: ftp.login("user", "secret", f"acct{bad}DELE victim"),
    "acct": lambda ftp, bad: ftp.acct(f"acct{bad}DELE victim"),
    "voidcmd": lambda ftp, bad: ftp.voidcmd(f"NOOP{bad}DELE victim"),
    "rmd": lambda ftp, bad: ftp.rmd(f"d{bad}DELE victim"),
    "nlst": lambda ftp, bad: ftp.nlst(f"d{bad}DELE victim"),
    "mlsd": lambda ftp, bad: list(ftp.mlsd(f"d{bad}DELE victim")),
    "mdtm": lambda ftp, bad: ftp.mdtm(f"f{bad}DELE victim"),
    "set_mtime": lambda ftp, bad: ftp.set_mtime(f"f{bad}DELE victim", 0.0),
    "download": lambda ftp, bad: ftp.download(f"f{bad}DELE victim", io.BytesIO()),
    "upload": lambda ftp, bad: ftp.upload(io.BytesIO(b"x"), f"f{bad}DELE victim"),
    "open": lambda ftp, bad: ftp.open(f"f{bad}DELE victim", "rb").close(),
}

# Commands an entry point may legitimately send before it reaches the poisoned argument.
HOSTILE_HARMLESS_PREPARATION = {"TYPE I", "TYPE A", "PASV", "USER user", "PASS secret", "RNFR a"}


@pytest.mark.parametrize("bad", ["\r", "\n", "\0", "\r\n"], ids=["CR", "LF", "NUL", "CRLF"])
@pytest.mark.parametrize("call", HOSTILE_INJECTIONS.values(), ids=HOSTILE_INJECTIONS.keys())
def test_cr_lf_or_nul_in_an_argument_raises_value_error_and_the_server_gets_nothing_of_it(
    hostile_server, call: Callable[[ftplib2.FTP, str], object], bad: str
) -> None:
    """The poisoned command never leaves the client.  Commands a call sends before it gets to
    the poisoned argument (TYPE and PASV before a transfer, USER before PASS, RNFR before
    RNTO) are tolerated; nothing else, and nothing with the injected DELE in it."""
    # PASS asks for an account, so that login() gets as far as sending ACCT.
    server = hostile_server(hostile_serving({"PASS": "332 Need account.", "ACCT": "230 In."}))
    ftp = server.connect()
    with pytest.raises(ValueError):
        call(ftp, bad)
    hostile_assert_in_step(ftp, server)
    sent_by_the_call = server.commands[:-1]
    assert not [line for line in sent_by_the_call if "victim" in line]
    assert set(sent_by_the_call) <= HOSTILE_HARMLESS_PREPARATION


# --------------------------------------------------------------------------
# 12. TLS
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_tls_contexts() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting it) from a throw-away CA."""
    authority = trustme.CA()
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    authority.issue_cert("127.0.0.1").configure_cert(server_context)
    client_context = ssl.create_default_context()
    authority.configure_trust(client_context)
    return server_context, client_context


def test_tls_login_refused_auth_tls_raises_error_perm_and_never_sends_user_or_pass(
    hostile_server,
) -> None:
    server = hostile_server(hostile_serving({"AUTH": "534 No TLS here."}))
    ftp = server.connect(cls=ftplib2.FTP_TLS)
    with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.error_perm):
        ftp.login("user", "secret")
    hostile_assert_in_step(ftp, server)
    assert server.commands == ["AUTH TLS", "NOOP"]


HOSTILE_TLS_LOGINS: dict[str, Callable[[HostileServer], object]] = {
    "constructor": lambda server: type(
        "HostileTLSOnPort", (ftplib2.FTP_TLS,), {"port": server.port}
    )(server.host, user="user", passwd="secret", timeout=HOSTILE_TIMEOUT),
    "secure": lambda server: ftplib2.FTP_TLS.secure(
        server.host, "user", "secret", port=server.port, timeout=HOSTILE_TIMEOUT
    ),
}


@pytest.mark.parametrize("log_in", HOSTILE_TLS_LOGINS.values(), ids=HOSTILE_TLS_LOGINS.keys())
def test_tls_connect_and_login_refused_auth_tls_raises_error_perm_without_user_or_pass(
    hostile_server, log_in: Callable[[HostileServer], object]
) -> None:
    server = hostile_server(hostile_serving({"AUTH": "534 No TLS here."}))
    with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.error_perm):
        log_in(server)
    server.wait_handled(1)  # the failed client closed its socket; the script saw it go
    assert server.commands == ["AUTH TLS"]


HOSTILE_NOT_TLS = b"this is not a TLS handshake\r\n" * 8


def hostile_auth_then_garbage(ctl: HostileControl, argument: str) -> None:
    ctl.send(b"234 Proceed with negotiation.\r\n" + HOSTILE_NOT_TLS)
    hostile_wait_for_close(ctl.conn)


def hostile_auth_pause_then_garbage(ctl: HostileControl, argument: str) -> None:
    ctl.reply("234 Proceed with negotiation.")
    ctl.sleep(0.3)
    ctl.send(HOSTILE_NOT_TLS)
    hostile_wait_for_close(ctl.conn)


def hostile_auth_then_silence(ctl: HostileControl, argument: str) -> None:
    ctl.reply("234 Proceed with negotiation.")
    hostile_wait_for_close(ctl.conn)


@pytest.mark.parametrize(
    ("auth", "expected"),
    [
        pytest.param(hostile_auth_then_garbage, ftplib2.error_proto, id="garbage-with-the-234"),
        pytest.param(hostile_auth_pause_then_garbage, ssl.SSLError, id="garbage-after-the-234"),
        pytest.param(hostile_auth_then_silence, TimeoutError, id="silence-after-the-234"),
    ],
)
def test_auth_tls_answered_with_plain_bytes_or_silence_fails_in_time_and_closes(
    hostile_server, auth: Callable[[HostileControl, str], None], expected: type[BaseException]
) -> None:
    timeout = 1.0
    server = hostile_server(hostile_serving({"AUTH": auth}))
    ftp = server.connect(cls=ftplib2.FTP_TLS, timeout=timeout)
    with hostile_within(timeout + 1.0), pytest.raises(expected) as caught:
        ftp.login("user", "secret")
    assert isinstance(caught.value, ftplib2.all_errors)
    assert ftp.sock is None
    assert not [line for line in server.commands if line.startswith(("USER", "PASS"))]


@pytest.mark.parametrize(
    "close_notify",
    [
        pytest.param(True, id="with-close-notify-succeeds"),
        pytest.param(False, id="without-close-notify-raises"),
    ],
)
def test_tls_download_ended_without_close_notify_raises_an_error_in_all_errors_and_stays_in_step(
    hostile_server, hostile_tls_contexts: tuple[ssl.SSLContext, ssl.SSLContext], close_notify: bool
) -> None:
    """A TLS data connection that ends in a bare TCP FIN could have been cut by an attacker.
    ftplib2 raises (today an ssl.SSLError from the TLS shutdown, SHUTDOWN_WHILE_IN_INIT) even
    though every byte and the 226 arrived; the same transfer ended with close_notify succeeds."""
    server_context, client_context = hostile_tls_contexts
    payload = os.urandom(100_000)

    def retr(ctl: HostileControl, argument: str) -> None:
        ctl.reply("150 Opening BINARY mode data connection.")
        tls = ctl.wrap_tls(ctl.accept_data(), server_context)
        tls.sendall(payload)
        if close_notify:
            tls.unwrap().close()
        else:
            tls.shutdown(socket.SHUT_RDWR)  # SSLSocket.shutdown: TCP FIN, no close_notify
            tls.close()
        ctl.reply("226 Transfer complete.")

    server = hostile_server(hostile_serving({"RETR": retr}))
    ftp = server.connect(cls=ftplib2.FTP_TLS, context=client_context)
    ftp.login("user", "secret", secure=False)  # the control connection is not under test
    ftp.prot_p()
    received = bytearray()
    with hostile_within(3 * HOSTILE_TIMEOUT):
        if close_notify:
            assert ftp.retrbinary("RETR file.bin", received.extend) == "226 Transfer complete."
        else:
            with pytest.raises(ftplib2.all_errors):
                ftp.retrbinary("RETR file.bin", received.extend)
    assert received == payload
    hostile_assert_in_step(ftp, server)


# --------------------------------------------------------------------------
# 13. No descriptor leaks on failure paths
# --------------------------------------------------------------------------


@pytest.fixture
def hostile_refused_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound, not listening, for the whole test.

    Kept bound, not released: a released port can be taken by any socket on the machine
    (another test run's, say) before the test connects to it, and then it answers.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        yield holder.getsockname()[1]


# --------------------------------------------------------------------------
# Pipelining against a server that fails the passive command or the connection
# --------------------------------------------------------------------------


def hostile_pipelining_server(
    start: Callable[[HostileScript], HostileServer], pasv_answers: list[str | None]
) -> HostileServer:
    """PASV answers from the list in turn (None: a real passive port); RETR serves 1000 bytes.

    RETR without a passive port answers "425 Use PORT or PASV first.", as real servers do.
    """
    answers = iter(pasv_answers)

    def pasv(ctl: HostileControl, argument: str) -> None:
        answer = next(answers, None)
        if answer is None:
            ctl.reply(ctl.open_pasv()[1])
        else:
            ctl.reply(answer)

    def retr(ctl: HostileControl, argument: str) -> None:
        if ctl.data_listener is None:
            ctl.reply("425 Use PORT or PASV first.")
            return
        hostile_finished_retr(ctl, argument)

    return start(hostile_serving({"PASV": pasv, "RETR": retr}))


def hostile_pipelining_client(server: HostileServer) -> ftplib2.FTP:
    ftp = server.connect()
    ftp.login()
    ftp.pipelining = True
    ftp.retrbinary("RETR first.bin", lambda block: None)  # one at a time: PASV works
    return ftp


def test_pipelined_pasv_refused_reads_the_orphan_reply_then_goes_the_usual_way(
    hostile_server,
) -> None:
    server = hostile_pipelining_server(
        hostile_server, [None, "425 Cannot open passive connection."]
    )
    ftp = hostile_pipelining_client(server)
    blocks: list[bytes] = []
    with hostile_within(3 * HOSTILE_TIMEOUT):
        ftp.retrbinary("RETR second.bin", blocks.append)
    assert b"".join(blocks) == b"f" * 1000
    assert server.commands[-4:] == ["PASV", "RETR second.bin", "PASV", "RETR second.bin"]
    hostile_assert_in_step(ftp, server)


def test_pipelined_pasv_refused_twice_raises_the_refusal_in_step(hostile_server) -> None:
    refusal = "425 Cannot open passive connection."
    server = hostile_pipelining_server(hostile_server, [None, refusal, refusal])
    ftp = hostile_pipelining_client(server)
    with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.error_temp, match="^425"):
        ftp.retrbinary("RETR second.bin", lambda block: None)
    hostile_assert_in_step(ftp, server)


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        pytest.param("227 Passive mode, port unknown.", ftplib2.error_proto, id="malformed-227"),
        pytest.param("200 Whatever you say.", ftplib2.error_reply, id="200-instead-of-227"),
    ],
)
def test_pipelined_unusable_passive_reply_raises_and_gives_up_the_session(
    hostile_server, answer: str, error: type[Exception]
) -> None:
    """The server may have opened a port and now wait on it: its next reply can't be relied on."""
    server = hostile_pipelining_server(hostile_server, [None, answer])
    ftp = hostile_pipelining_client(server)
    with hostile_within(2 * HOSTILE_TIMEOUT), pytest.raises(error):
        ftp.retrbinary("RETR second.bin", lambda block: None)
    assert ftp.sock is None


def test_pipelined_passive_reply_the_client_cannot_use_does_not_wait_for_the_server(
    hostile_server,
) -> None:
    """A server that opened its port and waits on it for ever: the client must not wait too."""

    def pasv(ctl: HostileControl, argument: str) -> None:
        _, reply = ctl.open_pasv()
        if len(server.commands) > 4:  # the pipelined one: a reply the client cannot parse
            reply = "227 Entering Passive Mode (127,0,0,1)."
        ctl.reply(reply)

    def retr(ctl: HostileControl, argument: str) -> None:
        hostile_finished_retr(ctl, argument)  # accept_data() waits for a connection

    server = hostile_server(hostile_serving({"PASV": pasv, "RETR": retr}))
    ftp = hostile_pipelining_client(server)
    with hostile_within(HOSTILE_TIMEOUT), pytest.raises(ftplib2.error_proto):
        ftp.retrbinary("RETR second.bin", lambda block: None)
    assert ftp.sock is None


def test_pipelined_data_connection_refused_raises_and_gives_up_the_session(
    hostile_server, hostile_refused_port: int
) -> None:
    port = hostile_refused_port
    closed = f"227 Entering Passive Mode (127,0,0,1,{port >> 8},{port & 0xFF})."
    server = hostile_pipelining_server(hostile_server, [None, closed])
    ftp = hostile_pipelining_client(server)
    with hostile_within(2 * HOSTILE_TIMEOUT), pytest.raises(ConnectionRefusedError):
        ftp.retrbinary("RETR second.bin", lambda block: None)
    assert ftp.sock is None  # the server waits for a connection: its replies can't be trusted


def test_fifty_rounds_of_failing_connections_leave_no_file_descriptor_open(
    hostile_server, hostile_refused_port: int
) -> None:
    def garbage_greeting(ctl: HostileControl) -> None:
        ctl.send(b"garbage\r\n")
        ctl.ignore_until_closed()

    def silent(ctl: HostileControl) -> None:
        ctl.ignore_until_closed()

    garbage = hostile_server(garbage_greeting)
    refusing = hostile_server(hostile_serving({"PASS": "530 Login incorrect."}))
    mute = hostile_server(silent)
    refusing_ftp = type("HostileRefusedLoginFTP", (ftplib2.FTP,), {"port": refusing.port})
    closed_port = hostile_refused_port

    def one_round() -> None:
        with pytest.raises(ConnectionRefusedError):
            ftplib2.FTP().connect("127.0.0.1", closed_port, timeout=HOSTILE_TIMEOUT)
        with pytest.raises(ftplib2.error_proto):
            ftplib2.FTP().connect(garbage.host, garbage.port, timeout=HOSTILE_TIMEOUT)
        with pytest.raises(ftplib2.error_perm):
            refusing_ftp(refusing.host, user="user", passwd="wrong", timeout=HOSTILE_TIMEOUT)
        with pytest.raises(TimeoutError):
            ftplib2.FTP().connect(mute.host, mute.port, timeout=0.05)

    def settled(rounds: int) -> int:
        for server in (garbage, refusing, mute):
            server.wait_handled(rounds)
        gc.collect()
        return hostile_open_fds()

    one_round()  # anything opened once and kept (caches, lazy imports) is opened now
    before = settled(1)
    for _ in range(50):
        one_round()
    after = settled(51)
    assert after == before
