"""Tests for ftplib2.

Most tests talk to real pyftpdlib servers started once per session on the loopback interface
(IPv4, IPv6 and FTPS); the reply parser is tested on its own, without sockets; and CPython's own
``test.test_ftplib`` is run against ftplib2 to prove it is a drop-in replacement.

Every socket a test opens must be closed by the time it ends: the autouse fixture
``no_socket_left_open`` fails any test that leaves one open, and pytest.ini turns a
ResourceWarning into an error as well.

The other areas have their own modules in tests/ (the scripted hostile server, the extensions,
URLs, ftpmirror, vsftpd interoperability, the documentation, the slow soak tests); the servers,
helpers and fixtures they share with this file are in tests/servers.py and tests/fixtures.py.
Run only this file with ``python -m pytest test_ftplib2.py``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import ftplib as stdlib_ftplib
import hashlib
import importlib
import importlib.util
import inspect
import io
import itertools
import os
import socket
import ssl
import subprocess
import sys
import unittest
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import ftplib2
from tests.servers import (
    BANNER,
    BIG_FILE,
    LINES_FILE,
    NON_ASCII_NAME,
    PASSWORD,
    TIMEOUT,
    USER,
    CallbackFailed,
    LiveServer,
    client_address,
    open_session,
    raw_command,
    raw_reply,
    recv_all,
    sha256_of_file,
    still_open,
    track_sockets,
)

# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def on_port(cls: type[ftplib2.FTP], port: int) -> type[ftplib2.FTP]:
    """A subclass whose default port is `port`, so that ``cls(host, ...)`` reaches a test server."""
    return type(cls.__name__, (cls,), {"port": port})


def failing_callback(_: object) -> None:
    raise CallbackFailed("the callback gave up")


# --------------------------------------------------------------------------
# Connecting, logging in, closing
# --------------------------------------------------------------------------


def test_connect_returns_the_greeting_and_getwelcome_repeats_it(server: LiveServer) -> None:
    with ftplib2.FTP(timeout=TIMEOUT) as ftp:
        welcome = ftp.connect(server.host, server.port)
        assert welcome == f"220 {BANNER}"
        assert ftp.getwelcome() == welcome


def test_connect_waits_past_120_replies_for_the_220_greeting(
    greeting_120_server: LiveServer,
) -> None:
    with ftplib2.FTP(timeout=TIMEOUT) as ftp:
        welcome = ftp.connect(greeting_120_server.host, greeting_120_server.port)
        assert welcome == f"220 {BANNER}"
        assert ftp.getwelcome() == welcome
        assert ftp.login(USER, PASSWORD).startswith("230")
        assert ftp.pwd() == "/"


def test_constructor_with_host_and_user_connects_and_logs_in(server: LiveServer) -> None:
    ftp_class = on_port(ftplib2.FTP, server.port)
    with ftp_class(server.host, USER, PASSWORD, timeout=TIMEOUT) as ftp:
        assert ftp.getwelcome() == f"220 {BANNER}"
        assert ftp.pwd() == "/"
        assert [line.split()[0] for line in server.commands_of(ftp)] == ["USER", "PASS", "PWD"]


def test_constructor_applies_timeout_and_source_address(server: LiveServer) -> None:
    with ftplib2.FTP(timeout=7.5, source_address=("127.0.0.1", 0)) as ftp:
        ftp.connect(server.host, server.port)
        assert ftp.sock.gettimeout() == 7.5
        assert ftp.sock.getsockname()[0] == "127.0.0.1"


def test_encoding_is_a_keyword_argument_defaulting_to_utf8() -> None:
    assert ftplib2.FTP().encoding == "utf-8"
    assert ftplib2.FTP(encoding="latin-1").encoding == "latin-1"
    with pytest.raises(TypeError):
        ftplib2.FTP("", "", "", "", 10, None, "latin-1")


def test_constructor_closes_its_socket_when_login_fails(server: LiveServer) -> None:
    ftp_class = on_port(ftplib2.FTP, server.port)
    with track_sockets() as opened, pytest.raises(ftplib2.error_perm) as excinfo:
        ftp_class(server.host, "bad", "bad", timeout=TIMEOUT)
    assert excinfo.value.code == "530"
    assert opened, "the constructor did not even open a socket"
    assert still_open(opened) == []


def test_constructor_closes_its_socket_when_connect_fails() -> None:
    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        refused_port = placeholder.getsockname()[1]
    ftp_class = on_port(ftplib2.FTP, refused_port)
    with track_sockets() as opened, pytest.raises(ConnectionRefusedError):
        ftp_class("127.0.0.1", USER, PASSWORD, timeout=TIMEOUT)
    assert still_open(opened) == []


def test_login_with_wrong_password_raises_error_perm_with_530(server: LiveServer) -> None:
    with ftplib2.FTP(timeout=TIMEOUT) as ftp:
        ftp.connect(server.host, server.port)
        with pytest.raises(ftplib2.error_perm) as excinfo:
            ftp.login(USER, "wrong")
        assert excinfo.value.code == "530"
        assert str(excinfo.value).startswith("530 ")
        assert excinfo.value.lines == [str(excinfo.value)]


def test_login_returns_230_reply(server: LiveServer) -> None:
    with ftplib2.FTP(timeout=TIMEOUT) as ftp:
        ftp.connect(server.host, server.port)
        reply = ftp.login(USER, PASSWORD)
        assert isinstance(reply, ftplib2.Reply)
        assert reply.code == "230"


def test_anonymous_login_can_download_but_not_upload(server: LiveServer, workdir: Path) -> None:
    (workdir / "public.txt").write_bytes(b"for everyone")
    with open_session(server, user=None) as ftp:
        assert ftp.login().code == "230"  # anonymous / anonymous@
        ftp.cwd(workdir.name)
        received = bytearray()
        ftp.retrbinary("RETR public.txt", received.extend)
        assert received == b"for everyone"
        with pytest.raises(ftplib2.error_perm) as excinfo:
            ftp.storbinary("STOR upload.txt", io.BytesIO(b"nope"))
        assert excinfo.value.code == "550"
    assert not (workdir / "upload.txt").exists()


def test_acct_sends_the_account_and_returns_the_reply(ftp: ftplib2.FTP, server: LiveServer) -> None:
    reply = ftp.acct("billing")
    assert reply == "230 Account billing accepted."
    assert server.commands_of(ftp)[-1] == "ACCT billing"


def test_quit_returns_221_and_closes_the_connection(server: LiveServer) -> None:
    with contextlib.closing(open_session(server)) as ftp:
        key = client_address(ftp)
        reply = ftp.quit()
        assert reply.code == "221"
        assert ftp.sock is None
    assert server.received[key][-1] == "QUIT"


def test_close_can_be_called_twice_and_before_connecting(server: LiveServer) -> None:
    ftplib2.FTP().close()
    with contextlib.closing(open_session(server)) as ftp:
        ftp.close()
        ftp.close()
        assert ftp.sock is None


def test_with_block_sends_quit_and_closes(server: LiveServer) -> None:
    with open_session(server) as ftp:
        key = client_address(ftp)
        assert ftp.pwd() == "/"
    assert ftp.sock is None
    assert server.received[key][-1] == "QUIT"


def _desynchronise(ftp: ftplib2.FTP) -> None:
    # The reply to this command is left unread, so QUIT reads "500 ..." and fails.
    ftp.putcmd("BOGUS")


def _cut_connection(ftp: ftplib2.FTP) -> None:
    ftp.sock.shutdown(socket.SHUT_RDWR)


@pytest.mark.parametrize("break_quit", [_desynchronise, _cut_connection], ids=["desync", "cut"])
def test_with_block_keeps_the_body_exception_when_quit_fails(
    server: LiveServer, break_quit: Callable[[ftplib2.FTP], None]
) -> None:
    with pytest.raises(RuntimeError, match="the body failed"), open_session(server) as ftp:
        break_quit(ftp)
        raise RuntimeError("the body failed")
    assert ftp.sock is None


# --------------------------------------------------------------------------
# Commands, replies and errors on the control connection
# --------------------------------------------------------------------------


def test_sendcmd_returns_a_reply_string_with_code_and_lines(ftp: ftplib2.FTP) -> None:
    reply = ftp.sendcmd("NOOP")
    assert isinstance(reply, ftplib2.Reply)
    assert isinstance(reply, str)
    assert reply.startswith("200 ")
    assert reply.code == "200"
    assert reply.lines == [str(reply)]


def test_multiline_reply_is_joined_with_newlines_and_split_into_lines(ftp: ftplib2.FTP) -> None:
    reply = ftp.sendcmd("HELP")
    assert reply.code == "214"
    assert len(reply.lines) > 2
    assert reply.lines[0].startswith("214-")
    assert reply.lines[-1].startswith("214 ")
    assert str(reply) == "\n".join(reply.lines)


def test_multiline_reply_may_contain_lines_that_look_like_replies(ftp: ftplib2.FTP) -> None:
    raw = b"211-Status\r\n211-not the end\r\n200 nor this\r\n\r\n 211 nor this\r\n211 End\r\n"
    reply = raw_reply(ftp, raw)
    expected = ["211-Status", "211-not the end", "200 nor this", "", " 211 nor this", "211 End"]
    assert reply.lines == expected
    assert reply == "\n".join(expected)
    assert ftp.voidcmd("NOOP").code == "200"


def test_bare_code_reply_is_accepted(ftp: ftplib2.FTP) -> None:
    reply = raw_reply(ftp, b"200\r\n")
    assert reply == "200"
    assert reply.code == "200"


def test_reply_with_invalid_utf8_does_not_raise_unicode_error(ftp: ftplib2.FTP) -> None:
    reply = raw_reply(ftp, b"200 caf\xe9 \xff\r\n")
    assert reply == "200 caf\udce9 \udcff"
    assert reply.encode("utf-8", "surrogateescape") == b"200 caf\xe9 \xff"


def test_voidcmd_raises_error_reply_for_a_3xx_reply(ftp: ftplib2.FTP) -> None:
    with pytest.raises(ftplib2.error_reply) as excinfo:
        ftp.voidcmd(raw_command(b"350 Restarting at 0.\r\n"))
    assert excinfo.value.code == "350"
    assert ftp.voidcmd("NOOP").code == "200"


def test_sendcmd_returns_1xx_and_3xx_replies(ftp: ftplib2.FTP, workdir: Path) -> None:
    (workdir / "f.txt").write_bytes(b"x")
    assert raw_reply(ftp, b"110 MARK yyyy = mmmm\r\n") == "110 MARK yyyy = mmmm"
    assert ftp.sendcmd("RNFR f.txt").code == "350"
    assert ftp.sendcmd("ABOR").code == "225"


def test_4xx_reply_raises_error_temp(ftp: ftplib2.FTP) -> None:
    with pytest.raises(ftplib2.error_temp) as excinfo:
        raw_reply(ftp, b"450 Try again later\r\n")
    assert str(excinfo.value) == "450 Try again later"
    assert excinfo.value.code == "450"


def test_5xx_reply_raises_error_perm_carrying_the_server_text(ftp: ftplib2.FTP) -> None:
    with pytest.raises(ftplib2.error_perm) as excinfo:
        ftp.sendcmd("BOGUS")
    assert excinfo.value.code == "500"
    assert "BOGUS" in str(excinfo.value)
    assert ftp.voidcmd("NOOP").code == "200"


def test_reply_without_a_code_raises_error_proto(ftp: ftplib2.FTP) -> None:
    with pytest.raises(ftplib2.error_proto):
        raw_reply(ftp, b"hello there\r\n")


def test_putcmd_then_getresp_reads_the_reply(ftp: ftplib2.FTP) -> None:
    ftp.putcmd("NOOP")
    reply = ftp.getresp()
    assert isinstance(reply, ftplib2.Reply)
    assert reply.code == "200"


def test_putline_then_getline_reads_one_line_without_crlf(ftp: ftplib2.FTP) -> None:
    ftp.putline("NOOP")
    line = ftp.getline()
    assert line.startswith("200 ")
    assert not line.endswith(("\r", "\n"))


def test_getmultiline_returns_a_whole_multiline_reply(ftp: ftplib2.FTP) -> None:
    ftp.putcmd("HELP")
    reply = ftp.getmultiline()
    assert isinstance(reply, ftplib2.Reply)
    assert reply.lines[0].startswith("214-")
    assert reply.lines[-1].startswith("214 ")


def test_getresp_raises_error_perm_for_5xx(ftp: ftplib2.FTP) -> None:
    ftp.putcmd("DELE no-such-file")
    with pytest.raises(ftplib2.error_perm) as excinfo:
        ftp.getresp()
    assert excinfo.value.code == "550"


def test_voidresp_returns_2xx_and_raises_error_reply_otherwise(ftp: ftplib2.FTP) -> None:
    ftp.putcmd("NOOP")
    assert ftp.voidresp().code == "200"
    ftp.putcmd(raw_command(b"350 Restarting at 0.\r\n"))
    with pytest.raises(ftplib2.error_reply):
        ftp.voidresp()


CONTROL_CHARACTERS = [
    pytest.param("\r", id="CR"),
    pytest.param("\n", id="LF"),
    pytest.param("\0", id="NUL"),
]
COMMAND_ENTRY_POINTS = {
    "sendcmd": lambda ftp, arg: ftp.sendcmd(f"CWD {arg}"),
    "voidcmd": lambda ftp, arg: ftp.voidcmd(f"CWD {arg}"),
    "putcmd": lambda ftp, arg: ftp.putcmd(f"CWD {arg}"),
    "putline": lambda ftp, arg: ftp.putline(f"CWD {arg}"),
    "cwd": lambda ftp, arg: ftp.cwd(arg),
    "delete": lambda ftp, arg: ftp.delete(arg),
    "retrbinary": lambda ftp, arg: ftp.retrbinary(f"RETR {arg}", print),
    "storbinary": lambda ftp, arg: ftp.storbinary(f"STOR {arg}", io.BytesIO(b"x")),
}


@pytest.mark.parametrize("entry_point", list(COMMAND_ENTRY_POINTS))
@pytest.mark.parametrize("character", CONTROL_CHARACTERS)
def test_command_with_cr_lf_or_nul_raises_value_error_before_sending_anything(
    ftp: ftplib2.FTP, server: LiveServer, entry_point: str, character: str
) -> None:
    before = server.commands_of(ftp)
    with pytest.raises(ValueError):
        COMMAND_ENTRY_POINTS[entry_point](ftp, f"victim{character}DELE victim")
    assert ftp.voidcmd("NOOP").code == "200"
    assert server.commands_of(ftp) == [*before, "NOOP"]


def test_set_debuglevel_1_prints_commands_and_replies(ftp: ftplib2.FTP, capsys) -> None:
    ftp.set_debuglevel(1)
    ftp.voidcmd("NOOP")
    out = capsys.readouterr().out
    assert "*cmd* 'NOOP'" in out
    assert "*resp* " in out and "200 " in out


def test_set_debuglevel_2_also_prints_raw_lines(ftp: ftplib2.FTP, capsys) -> None:
    ftp.set_debuglevel(2)
    ftp.voidcmd("NOOP")
    out = capsys.readouterr().out
    assert "*put* 'NOOP\\r\\n'" in out
    assert "*get* " in out


def test_debug_is_an_alias_and_level_0_prints_nothing(ftp: ftplib2.FTP, capsys) -> None:
    ftp.debug(1)
    ftp.voidcmd("NOOP")
    assert "*cmd* 'NOOP'" in capsys.readouterr().out
    ftp.set_debuglevel(0)
    ftp.voidcmd("NOOP")
    assert capsys.readouterr().out == ""


def test_debug_output_hides_the_password(server: LiveServer, capsys) -> None:
    with open_session(server, user=None) as ftp:
        ftp.set_debuglevel(2)
        ftp.login(USER, PASSWORD)
    out = capsys.readouterr().out
    assert "*cmd* 'PASS *****'" in out
    assert PASSWORD not in out


def test_sanitize_masks_passwords_and_reprs_everything_else() -> None:
    ftp = ftplib2.FTP()
    assert ftp.sanitize("PASS secret") == repr("PASS ******")
    assert ftp.sanitize("pass ab\r\n") == repr("pass **\r\n")
    assert ftp.sanitize("USER joe") == repr("USER joe")


# --------------------------------------------------------------------------
# Directories and files
# --------------------------------------------------------------------------


def test_cwd_pwd_and_cdup_navigate_directories(ftp: ftplib2.FTP, workdir: Path) -> None:
    (workdir / "sub").mkdir()
    assert ftp.pwd() == f"/{workdir.name}"
    assert ftp.cwd("sub").code == "250"
    assert ftp.pwd() == f"/{workdir.name}/sub"
    ftp.cwd("..")
    assert ftp.pwd() == f"/{workdir.name}"
    ftp.cwd("/")
    assert ftp.pwd() == "/"


def test_cwd_into_missing_directory_raises_error_perm(ftp: ftplib2.FTP, workdir: Path) -> None:
    with pytest.raises(ftplib2.error_perm) as excinfo:
        ftp.cwd("missing")
    assert excinfo.value.code == "550"
    assert ftp.pwd() == f"/{workdir.name}"


def test_mkd_returns_the_new_directory_path_and_rmd_removes_it(
    ftp: ftplib2.FTP, workdir: Path
) -> None:
    assert ftp.mkd("made") == f"/{workdir.name}/made"
    assert (workdir / "made").is_dir()
    assert ftp.rmd("made").code == "250"
    assert not (workdir / "made").exists()


def test_rename_moves_a_file(ftp: ftplib2.FTP, workdir: Path) -> None:
    (workdir / "old.txt").write_bytes(b"content")
    reply = ftp.rename("old.txt", "new.txt")
    assert reply.code == "250"
    assert not (workdir / "old.txt").exists()
    assert (workdir / "new.txt").read_bytes() == b"content"


def test_rename_of_missing_file_raises_error_perm(ftp: ftplib2.FTP) -> None:
    with pytest.raises(ftplib2.error_perm):
        ftp.rename("missing.txt", "new.txt")


def test_delete_removes_a_file(ftp: ftplib2.FTP, workdir: Path) -> None:
    (workdir / "doomed.txt").write_bytes(b"x")
    assert ftp.delete("doomed.txt").code == "250"
    assert not (workdir / "doomed.txt").exists()


def test_delete_of_missing_file_raises_error_perm_with_550(ftp: ftplib2.FTP) -> None:
    with pytest.raises(ftplib2.error_perm) as excinfo:
        ftp.delete("missing.txt")
    assert excinfo.value.code == "550"
    assert excinfo.value.lines[-1].startswith("550 ")


def test_size_returns_the_file_size_after_a_binary_transfer(
    ftp: ftplib2.FTP, workdir: Path
) -> None:
    (workdir / "sized.bin").write_bytes(bytes(12345))
    ftp.retrbinary("RETR sized.bin", lambda block: None)
    assert ftp.size("sized.bin") == 12345


def test_size_works_on_a_fresh_connection_whose_type_is_ascii_by_default(
    ftp: ftplib2.FTP, workdir: Path
) -> None:
    # RFC 959 makes ASCII the type until TYPE is sent, and servers refuse SIZE in ASCII.
    (workdir / "sized.bin").write_bytes(bytes(12345))
    assert ftp.size("sized.bin") == 12345


def test_size_of_missing_file_raises_error_perm(ftp: ftplib2.FTP) -> None:
    ftp.voidcmd("TYPE I")  # so that the 550 is about the file, not about ASCII mode
    with pytest.raises(ftplib2.error_perm) as excinfo:
        ftp.size("missing.bin")
    assert excinfo.value.code == "550"


def test_size_works_after_an_ascii_transfer(ftp: ftplib2.FTP, workdir: Path) -> None:
    (workdir / "notes.txt").write_bytes(b"one\ntwo\n")
    lines: list[str] = []
    ftp.retrlines("RETR notes.txt", lines.append)
    assert lines == ["one", "two"]
    assert ftp.size("notes.txt") == 8


def test_nlst_lists_the_names_in_the_directory(
    ftp_in_each_mode: ftplib2.FTP, workdir: Path
) -> None:
    (workdir / "a.txt").write_bytes(b"a")
    (workdir / "b.bin").write_bytes(b"b")
    (workdir / "sub").mkdir()
    assert sorted(ftp_in_each_mode.nlst()) == ["a.txt", "b.bin", "sub"]


def test_dir_passes_long_listing_lines_to_the_callback(ftp: ftplib2.FTP, workdir: Path) -> None:
    (workdir / "a.txt").write_bytes(b"hello")
    (workdir / "sub").mkdir()
    lines: list[str] = []
    ftp.dir(lines.append)
    by_name = {line.split()[-1]: line for line in lines}
    assert set(by_name) == {"a.txt", "sub"}
    assert by_name["a.txt"].startswith("-")
    assert by_name["sub"].startswith("d")


def test_dir_without_callback_prints_the_listing(ftp: ftplib2.FTP, workdir: Path, capsys) -> None:
    (workdir / "printed.txt").write_bytes(b"x")
    ftp.dir()
    assert "printed.txt" in capsys.readouterr().out


def test_mlsd_yields_names_with_requested_facts(
    ftp_in_each_mode: ftplib2.FTP, workdir: Path
) -> None:
    (workdir / "a.txt").write_bytes(b"hello")
    (workdir / "sub").mkdir()
    entries = dict(ftp_in_each_mode.mlsd(facts=["type", "size"]))
    entries = {name: facts for name, facts in entries.items() if name not in (".", "..")}
    assert set(entries) == {"a.txt", "sub"}
    assert entries["a.txt"]["type"] == "file"
    assert entries["a.txt"]["size"] == "5"
    assert entries["sub"]["type"] == "dir"


def test_non_ascii_file_names_round_trip(ftp_in_each_mode: ftplib2.FTP, workdir: Path) -> None:
    ftp = ftp_in_each_mode
    data = "grüße aus ftplib2\n".encode()
    assert ftp.storbinary(f"STOR {NON_ASCII_NAME}", io.BytesIO(data)).code == "226"
    assert (workdir / NON_ASCII_NAME).read_bytes() == data
    assert NON_ASCII_NAME in ftp.nlst()
    assert NON_ASCII_NAME in dict(ftp.mlsd())
    assert ftp.size(NON_ASCII_NAME) == len(data)
    received = bytearray()
    ftp.retrbinary(f"RETR {NON_ASCII_NAME}", received.extend)
    assert received == data
    ftp.rename(NON_ASCII_NAME, "ñandú €.txt")
    assert (workdir / "ñandú €.txt").read_bytes() == data
    assert ftp.mkd("répertoire") == f"/{workdir.name}/répertoire"
    ftp.cwd("répertoire")
    assert ftp.pwd() == f"/{workdir.name}/répertoire"


# --------------------------------------------------------------------------
# Transfers
# --------------------------------------------------------------------------


def test_retrbinary_delivers_the_exact_bytes(ftp_in_each_mode: ftplib2.FTP, workdir: Path) -> None:
    data = os.urandom(1 << 20) + b"\r\n\n\r\0"
    (workdir / "blob.bin").write_bytes(data)
    received = bytearray()
    reply = ftp_in_each_mode.retrbinary("RETR blob.bin", received.extend)
    assert reply.code == "226"
    assert received == data


def test_retrbinary_hands_blocks_no_larger_than_blocksize(ftp: ftplib2.FTP, workdir: Path) -> None:
    data = os.urandom(100_000)
    (workdir / "blob.bin").write_bytes(data)
    blocks: list[bytes] = []
    ftp.retrbinary("RETR blob.bin", blocks.append, blocksize=1000)
    assert b"".join(blocks) == data
    assert max(len(block) for block in blocks) <= 1000


def test_retrbinary_resumes_at_rest_offset(ftp_in_each_mode: ftplib2.FTP, workdir: Path) -> None:
    data = os.urandom(100_000)
    (workdir / "blob.bin").write_bytes(data)
    received = bytearray()
    ftp_in_each_mode.retrbinary("RETR blob.bin", received.extend, rest=60_000)
    assert received == data[60_000:]


def test_retrbinary_of_missing_file_raises_error_perm(ftp_in_each_mode: ftplib2.FTP) -> None:
    with pytest.raises(ftplib2.error_perm) as excinfo:
        ftp_in_each_mode.retrbinary("RETR missing.bin", print)
    assert excinfo.value.code == "550"
    assert ftp_in_each_mode.voidcmd("NOOP").code == "200"


def test_retrlines_delivers_lines_without_line_endings(
    ftp_in_each_mode: ftplib2.FTP, workdir: Path
) -> None:
    (workdir / "poem.txt").write_bytes("first line\nsecond line\n\nlast line é\n".encode())
    lines: list[str] = []
    reply = ftp_in_each_mode.retrlines("RETR poem.txt", lines.append)
    assert reply.code == "226"
    assert lines == ["first line", "second line", "", "last line é"]


def test_retrlines_without_callback_prints_the_lines(
    ftp: ftplib2.FTP, workdir: Path, capsys
) -> None:
    (workdir / "poem.txt").write_bytes(b"alpha\nbeta\n")
    ftp.retrlines("RETR poem.txt")
    assert capsys.readouterr().out == "alpha\nbeta\n"


def test_storbinary_uploads_the_exact_bytes(ftp_in_each_mode: ftplib2.FTP, workdir: Path) -> None:
    data = os.urandom(1 << 20) + b"\r\n\n\r\0"
    reply = ftp_in_each_mode.storbinary("STOR upload.bin", io.BytesIO(data))
    assert reply.code == "226"
    assert (workdir / "upload.bin").read_bytes() == data


def test_storbinary_calls_the_callback_with_each_block(ftp: ftplib2.FTP, workdir: Path) -> None:
    data = os.urandom(10_000)
    blocks: list[bytes] = []
    ftp.storbinary("STOR upload.bin", io.BytesIO(data), blocksize=4096, callback=blocks.append)
    assert [len(block) for block in blocks] == [4096, 4096, 1808]
    assert b"".join(blocks) == data
    assert (workdir / "upload.bin").read_bytes() == data


def test_storbinary_resumes_at_rest_offset(ftp_in_each_mode: ftplib2.FTP, workdir: Path) -> None:
    data = os.urandom(200_000)
    ftp_in_each_mode.storbinary("STOR resumed.bin", io.BytesIO(data[:70_000]))
    source = io.BytesIO(data)
    source.seek(70_000)
    ftp_in_each_mode.storbinary("STOR resumed.bin", source, rest=70_000)
    assert (workdir / "resumed.bin").read_bytes() == data


def test_storlines_uploads_lines_in_ascii_mode(
    ftp_in_each_mode: ftplib2.FTP, workdir: Path
) -> None:
    reply = ftp_in_each_mode.storlines("STOR text.txt", io.BytesIO(b"alpha\nbeta\r\ngamma"))
    assert reply.code == "226"
    assert (workdir / "text.txt").read_bytes() == b"alpha\nbeta\ngamma\n"


def test_storlines_calls_the_callback_with_each_line(ftp: ftplib2.FTP) -> None:
    seen: list[bytes] = []
    ftp.storlines("STOR text.txt", io.BytesIO(b"one\ntwo\n"), callback=seen.append)
    assert seen == [b"one\r\n", b"two\r\n"]


def test_binary_and_ascii_downloads_differ_only_in_line_endings(
    ftp: ftplib2.FTP, workdir: Path
) -> None:
    (workdir / "mixed.txt").write_bytes(b"a\nb\n")
    binary = bytearray()
    ftp.retrbinary("RETR mixed.txt", binary.extend)
    ftp.voidcmd("TYPE A")
    with ftp.transfercmd("RETR mixed.txt") as conn:
        ascii_bytes = recv_all(conn)
    ftp.voidresp()
    assert binary == b"a\nb\n"
    assert ascii_bytes == b"a\r\nb\r\n"


def test_large_file_round_trips_with_identical_sha256(
    ftp: ftplib2.FTP, workdir: Path, tmp_path: Path
) -> None:
    source = tmp_path / "64MiB.bin"
    digest = hashlib.sha256()
    with source.open("wb") as f:
        for _ in range(64):
            chunk = os.urandom(1 << 20)
            digest.update(chunk)
            f.write(chunk)
    expected = digest.hexdigest()
    with source.open("rb") as f:
        assert ftp.storbinary("STOR big-upload.bin", f, blocksize=1 << 18).code == "226"
    assert sha256_of_file(workdir / "big-upload.bin") == expected
    download = hashlib.sha256()
    size = 0

    def consume(block: bytes) -> None:
        nonlocal size
        size += len(block)
        download.update(block)

    assert ftp.retrbinary("RETR big-upload.bin", consume, blocksize=1 << 18).code == "226"
    assert size == 64 << 20
    assert download.hexdigest() == expected


def test_set_pasv_chooses_passive_or_active_data_connections(
    ftp_in_each_mode: ftplib2.FTP, mode_server: LiveServer, mode: tuple[str, bool], workdir: Path
) -> None:
    (workdir / "f.txt").write_bytes(b"data")
    ftp_in_each_mode.retrbinary("RETR f.txt", lambda block: None)
    family = mode[0]
    expected = {
        ("ipv4", True): {"PASV", "EPSV"},
        ("ipv4", False): {"PORT"},
        ("ipv6", True): {"EPSV"},
        ("ipv6", False): {"EPRT"},
    }[mode]
    verbs = {line.split()[0].upper() for line in mode_server.commands_of(ftp_in_each_mode)}
    used = verbs & {"PASV", "EPSV", "PORT", "EPRT"}
    assert used
    assert used <= expected
    assert ftp_in_each_mode.af == (socket.AF_INET if family == "ipv4" else socket.AF_INET6)


def test_ntransfercmd_returns_the_data_connection_and_announced_size(
    ftp_in_each_mode: ftplib2.FTP, workdir: Path
) -> None:
    data = os.urandom(50_000)
    (workdir / "blob.bin").write_bytes(data)
    ftp_in_each_mode.voidcmd("TYPE I")
    conn, size = ftp_in_each_mode.ntransfercmd("RETR blob.bin")
    with conn:
        assert recv_all(conn) == data
    assert ftp_in_each_mode.voidresp().code == "226"
    assert size is None  # pyftpdlib's 150 reply names no "(n bytes)"


def test_transfercmd_with_rest_starts_at_the_offset(
    ftp_in_each_mode: ftplib2.FTP, workdir: Path
) -> None:
    data = os.urandom(50_000)
    (workdir / "blob.bin").write_bytes(data)
    ftp_in_each_mode.voidcmd("TYPE I")
    with ftp_in_each_mode.transfercmd("RETR blob.bin", rest=12_345) as conn:
        assert recv_all(conn) == data[12_345:]
    assert ftp_in_each_mode.voidresp().code == "226"


def test_transfercmd_uploads_through_the_returned_connection(
    ftp_in_each_mode: ftplib2.FTP, workdir: Path
) -> None:
    ftp_in_each_mode.voidcmd("TYPE I")
    with ftp_in_each_mode.transfercmd("STOR sent.bin") as conn:
        conn.sendall(b"sent by hand")
    assert ftp_in_each_mode.voidresp().code == "226"
    assert (workdir / "sent.bin").read_bytes() == b"sent by hand"


def test_makepasv_returns_the_address_of_a_server_data_port(
    ftp_in_each_family: ftplib2.FTP, family_server: LiveServer, workdir: Path
) -> None:
    (workdir / "f.txt").write_bytes(b"passive data")
    host, port = ftp_in_each_family.makepasv()
    assert host == family_server.host
    assert isinstance(port, int) and port > 0
    with socket.create_connection((host, port), timeout=TIMEOUT) as conn:
        assert ftp_in_each_family.sendcmd("RETR f.txt").code in ("125", "150")
        assert recv_all(conn) == b"passive data"
    assert ftp_in_each_family.voidresp().code == "226"


def test_makeport_listens_for_the_server_data_connection(
    ftp_in_each_family: ftplib2.FTP, family_server: LiveServer, workdir: Path
) -> None:
    (workdir / "f.txt").write_bytes(b"active data")
    with ftp_in_each_family.makeport() as listener:
        assert listener.family == ftp_in_each_family.af
        assert ftp_in_each_family.sendcmd("RETR f.txt").code in ("125", "150")
        conn, _ = listener.accept()
    with conn:
        assert recv_all(conn) == b"active data"
    assert ftp_in_each_family.voidresp().code == "226"
    verb = "PORT" if family_server.host == "127.0.0.1" else "EPRT"
    assert any(
        line.startswith(verb + " ") for line in family_server.commands_of(ftp_in_each_family)
    )


def test_sendport_tells_the_server_where_to_connect(ftp: ftplib2.FTP, workdir: Path) -> None:
    (workdir / "f.txt").write_bytes(b"via PORT")
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(TIMEOUT)
        assert ftp.sendport("127.0.0.1", listener.getsockname()[1]).code == "200"
        assert ftp.sendcmd("RETR f.txt").code in ("125", "150")
        conn, _ = listener.accept()
    with conn:
        assert recv_all(conn) == b"via PORT"
    assert ftp.voidresp().code == "226"


def test_sendeprt_tells_the_server_where_to_connect(
    ftp_in_each_family: ftplib2.FTP, family_server: LiveServer, workdir: Path
) -> None:
    (workdir / "f.txt").write_bytes(b"via EPRT")
    family = socket.AF_INET if family_server.host == "127.0.0.1" else socket.AF_INET6
    with socket.create_server((family_server.host, 0), family=family) as listener:
        listener.settimeout(TIMEOUT)
        reply = ftp_in_each_family.sendeprt(family_server.host, listener.getsockname()[1])
        assert reply.code == "200"
        assert ftp_in_each_family.sendcmd("RETR f.txt").code in ("125", "150")
        conn, _ = listener.accept()
    with conn:
        assert recv_all(conn) == b"via EPRT"
    assert ftp_in_each_family.voidresp().code == "226"
    assert any(line.startswith("EPRT ") for line in family_server.commands_of(ftp_in_each_family))


def test_type_is_sent_only_when_it_changes(
    ftp: ftplib2.FTP, server: LiveServer, workdir: Path
) -> None:
    for name in ("one.txt", "two.txt", "three.txt"):
        (workdir / name).write_bytes(b"text\n")

    def type_commands() -> list[str]:
        return [line for line in server.commands_of(ftp) if line.upper().startswith("TYPE")]

    for name in ("one.txt", "two.txt", "three.txt"):
        ftp.retrbinary(f"RETR {name}", lambda block: None)
    assert type_commands() == ["TYPE I"]
    ftp.retrlines("RETR one.txt", lambda line: None)
    ftp.retrlines("RETR two.txt", lambda line: None)
    ftp.retrbinary("RETR three.txt", lambda block: None)
    assert type_commands() == ["TYPE I", "TYPE A", "TYPE I"]


def test_ftpcp_copies_a_file_between_two_connections(
    ftp: ftplib2.FTP, server: LiveServer, workdir: Path
) -> None:
    data = os.urandom(300_000)
    (workdir / "original.bin").write_bytes(data)
    with open_session(server, workdir) as target:
        ftplib2.ftpcp(ftp, "original.bin", target, "copy.bin")
        assert target.voidcmd("NOOP").code == "200"
    assert ftp.voidcmd("NOOP").code == "200"
    assert (workdir / "copy.bin").read_bytes() == data


# --------------------------------------------------------------------------
# Aborted transfers and failing callbacks keep the control connection in step
# --------------------------------------------------------------------------


def test_abort_during_a_download_consumes_the_426_and_226_replies(
    ftp_in_each_mode: ftplib2.FTP, workdir: Path, big_files: dict[str, Path]
) -> None:
    ftp = ftp_in_each_mode
    ftp.voidcmd("TYPE I")
    conn = ftp.transfercmd(f"RETR /{BIG_FILE}")
    try:
        assert conn.recv(8192)
        reply = ftp.abort()
    finally:
        conn.close()
    assert reply.code in ("225", "226", "426")
    assert ftp.voidcmd("NOOP").code == "200"
    assert ftp.pwd() == f"/{workdir.name}"


def test_abort_without_a_transfer_returns_225_and_stays_in_step(ftp: ftplib2.FTP) -> None:
    assert ftp.abort().code in ("225", "226")
    assert ftp.voidcmd("NOOP").code == "200"


def _upload_failing_mid_transfer(method: str) -> Callable[[ftplib2.FTP, LiveServer], object]:
    def upload(ftp: ftplib2.FTP, server: LiveServer) -> object:
        expected = server.data_connections_of(ftp) + 1

        def fail_once_the_server_receives(block: bytes) -> None:
            # Fail mid-transfer, not before the server has even taken the data connection
            # (that case has its own test below).
            server.wait_for_data_connections(ftp, expected)
            raise CallbackFailed("the callback gave up")

        if method == "storbinary":
            source = io.BytesIO(os.urandom(8 << 20))
            return ftp.storbinary(
                "STOR partial.bin", source, callback=fail_once_the_server_receives
            )
        source = io.BytesIO(b"a line of text\n" * 500_000)
        return ftp.storlines("STOR partial.txt", source, callback=fail_once_the_server_receives)

    return upload


TRANSFERS_WITH_CALLBACKS = {
    "retrbinary": lambda ftp, server: ftp.retrbinary(f"RETR /{BIG_FILE}", failing_callback),
    "retrlines": lambda ftp, server: ftp.retrlines(f"RETR /{LINES_FILE}", failing_callback),
    "storbinary": _upload_failing_mid_transfer("storbinary"),
    "storlines": _upload_failing_mid_transfer("storlines"),
}


@pytest.mark.parametrize("transfer", list(TRANSFERS_WITH_CALLBACKS))
def test_exception_in_transfer_callback_leaves_the_connection_in_step(
    ftp_in_each_mode: ftplib2.FTP,
    mode_server: LiveServer,
    workdir: Path,
    big_files: dict[str, Path],
    transfer: str,
) -> None:
    ftp = ftp_in_each_mode
    with pytest.raises(CallbackFailed):
        TRANSFERS_WITH_CALLBACKS[transfer](ftp, mode_server)
    assert ftp.pwd() == f"/{workdir.name}"
    assert ftp.voidcmd("NOOP").code == "200"
    (workdir / "after.txt").write_bytes(b"still works")
    received = bytearray()
    assert ftp.retrbinary("RETR after.txt", received.extend).code == "226"
    assert received == b"still works"


@pytest.mark.parametrize("upload", ["storbinary", "storlines"])
def test_exception_in_first_upload_callback_before_the_server_accepts_stays_in_step(
    slow_accept_server: LiveServer, workdir: Path, upload: str
) -> None:
    # The server answers STOR with "150 About to open data connection" and only then accepts
    # the connection the client already opened, as a busy server may: the callback fails
    # while the server has not yet taken the data connection.
    with open_session(slow_accept_server, workdir) as ftp:
        with pytest.raises(CallbackFailed):
            if upload == "storbinary":
                ftp.storbinary("STOR early.bin", io.BytesIO(bytes(100_000)), 8192, failing_callback)
            else:
                ftp.storlines("STOR early.txt", io.BytesIO(b"text\n" * 1000), failing_callback)
        assert ftp.voidcmd("NOOP").code == "200"
        assert ftp.pwd() == f"/{workdir.name}"


# --------------------------------------------------------------------------
# FTP over TLS
# --------------------------------------------------------------------------


def test_tls_login_secures_the_control_connection_with_auth_tls(
    tls_server: LiveServer, tls_client_context: ssl.SSLContext
) -> None:
    with ftplib2.FTP_TLS(context=tls_client_context, timeout=TIMEOUT) as ftp:
        ftp.connect(tls_server.host, tls_server.port)
        assert not isinstance(ftp.sock, ssl.SSLSocket)
        assert ftp.login(USER, PASSWORD, secure=True).code == "230"
        assert isinstance(ftp.sock, ssl.SSLSocket)
        assert ftp.context is tls_client_context
        assert [line.split()[0] for line in tls_server.commands_of(ftp)] == [
            "AUTH",
            "USER",
            "PASS",
        ]
        assert tls_server.commands_of(ftp)[0] == "AUTH TLS"


def test_tls_login_insecure_keeps_the_control_connection_clear(
    tls_server: LiveServer, tls_client_context: ssl.SSLContext
) -> None:
    with ftplib2.FTP_TLS(context=tls_client_context, timeout=TIMEOUT) as ftp:
        ftp.connect(tls_server.host, tls_server.port)
        ftp.login(USER, PASSWORD, secure=False)
        assert not isinstance(ftp.sock, ssl.SSLSocket)
        assert "AUTH TLS" not in tls_server.commands_of(ftp)


def test_tls_auth_returns_234_and_refuses_a_second_time(
    tls_server: LiveServer, tls_client_context: ssl.SSLContext
) -> None:
    with ftplib2.FTP_TLS(context=tls_client_context, timeout=TIMEOUT) as ftp:
        ftp.connect(tls_server.host, tls_server.port)
        assert ftp.auth().code == "234"
        assert isinstance(ftp.sock, ssl.SSLSocket)
        with pytest.raises(ValueError):
            ftp.auth()


def test_tls_constructor_with_user_logs_in_securely(
    tls_server: LiveServer, tls_client_context: ssl.SSLContext
) -> None:
    ftp_class = on_port(ftplib2.FTP_TLS, tls_server.port)
    with ftp_class(
        tls_server.host, USER, PASSWORD, context=tls_client_context, timeout=TIMEOUT
    ) as ftp:
        assert isinstance(ftp.sock, ssl.SSLSocket)
        assert ftp.pwd() == "/"


def test_tls_with_a_default_context_rejects_an_untrusted_certificate(
    tls_server: LiveServer,
) -> None:
    with ftplib2.FTP_TLS(context=ssl.create_default_context(), timeout=TIMEOUT) as ftp:
        ftp.connect(tls_server.host, tls_server.port)
        with pytest.raises(ssl.SSLCertVerificationError):
            ftp.login(USER, PASSWORD)


def test_tls_without_a_context_does_not_verify_like_ftplib(tls_server: LiveServer) -> None:
    with ftplib2.FTP_TLS(timeout=TIMEOUT) as ftp:
        ftp.connect(tls_server.host, tls_server.port)
        ftp.login(USER, PASSWORD)
        assert isinstance(ftp.sock, ssl.SSLSocket)
        assert ftp.pwd() == "/"


def test_tls_prot_p_protects_data_connections(tls_ftp: ftplib2.FTP_TLS, workdir: Path) -> None:
    (workdir / "f.txt").write_bytes(b"secret")
    tls_ftp.voidcmd("TYPE I")
    with tls_ftp.transfercmd("RETR f.txt") as conn:
        assert isinstance(conn, ssl.SSLSocket)
        assert recv_all(conn) == b"secret"
    assert tls_ftp.voidresp().code == "226"


def test_tls_upload_and_download_keep_the_sha256(tls_ftp: ftplib2.FTP_TLS, workdir: Path) -> None:
    data = os.urandom((4 << 20) + 123)
    expected = hashlib.sha256(data).hexdigest()
    assert tls_ftp.storbinary("STOR secret.bin", io.BytesIO(data)).code == "226"
    assert sha256_of_file(workdir / "secret.bin") == expected
    digest = hashlib.sha256()
    assert tls_ftp.retrbinary("RETR secret.bin", digest.update).code == "226"
    assert digest.hexdigest() == expected


def test_tls_listings_and_text_transfers_work_under_prot_p(
    tls_ftp: ftplib2.FTP_TLS, workdir: Path
) -> None:
    (workdir / "notes.txt").write_bytes(b"one\ntwo\n")
    assert tls_ftp.nlst() == ["notes.txt"]
    assert "notes.txt" in dict(tls_ftp.mlsd())
    lines: list[str] = []
    tls_ftp.retrlines("RETR notes.txt", lines.append)
    assert lines == ["one", "two"]
    tls_ftp.storlines("STOR more.txt", io.BytesIO(b"three\n"))
    assert (workdir / "more.txt").read_bytes() == b"three\n"


def test_tls_data_connection_reuses_the_control_tls_session(
    tls_ftp: ftplib2.FTP_TLS, workdir: Path
) -> None:
    (workdir / "f.txt").write_bytes(b"resumed")
    tls_ftp.voidcmd("TYPE I")
    for _ in range(2):
        with tls_ftp.transfercmd("RETR f.txt") as conn:
            assert conn.session_reused
            assert recv_all(conn) == b"resumed"
        assert tls_ftp.voidresp().code == "226"


def test_tls_prot_c_returns_data_connections_to_clear_text(
    tls_ftp: ftplib2.FTP_TLS, workdir: Path
) -> None:
    (workdir / "f.txt").write_bytes(b"clear")
    assert tls_ftp.prot_c().code == "200"
    tls_ftp.voidcmd("TYPE I")
    with tls_ftp.transfercmd("RETR f.txt") as conn:
        assert not isinstance(conn, ssl.SSLSocket)
        assert recv_all(conn) == b"clear"
    assert tls_ftp.voidresp().code == "226"
    assert isinstance(tls_ftp.sock, ssl.SSLSocket)


def test_tls_ccc_returns_the_control_connection_to_clear_text(
    tls_ftp: ftplib2.FTP_TLS, tls_server: LiveServer, workdir: Path
) -> None:
    assert tls_ftp.ccc().code == "200"
    # As with ftplib, the socket may still be an SSLSocket object, but without TLS.
    assert getattr(tls_ftp.sock, "version", lambda: None)() is None
    assert tls_ftp.pwd() == f"/{workdir.name}"
    assert tls_ftp.voidcmd("NOOP").code == "200"
    assert tls_server.commands_of(tls_ftp)[-3:] == ["CCC", "PWD", "NOOP"]


# --------------------------------------------------------------------------
# Module-level helpers, constants and exceptions
# --------------------------------------------------------------------------


def test_constants_match_ftplib() -> None:
    assert ftplib2.FTP_PORT == 21
    assert ftplib2.MAXLINE == 8192
    assert ftplib2.MSG_OOB == stdlib_ftplib.MSG_OOB
    assert ftplib2.CRLF == "\r\n"
    assert ftplib2.B_CRLF == b"\r\n"


def test_exception_classes_form_ftplibs_hierarchy() -> None:
    for cls in (ftplib2.error_reply, ftplib2.error_temp, ftplib2.error_perm, ftplib2.error_proto):
        assert issubclass(cls, ftplib2.Error)
    assert issubclass(ftplib2.Error, Exception)
    for cls in (ftplib2.Error, OSError, EOFError):
        assert issubclass(cls, ftplib2.all_errors)


def test_error_exposes_the_reply_code_and_lines() -> None:
    err = ftplib2.error_perm("550-No such file\n550 Really not there")
    assert err.code == "550"
    assert err.lines == ["550-No such file", "550 Really not there"]
    assert str(err) == "550-No such file\n550 Really not there"


def test_error_without_a_reply_code_has_code_none() -> None:
    assert ftplib2.Error("got more than 8192 bytes").code is None
    assert ftplib2.error_reply().code is None


def test_parse150_extracts_the_announced_size() -> None:
    assert ftplib2.parse150("150 Opening BINARY mode data connection for f (1234 bytes).") == 1234
    assert ftplib2.parse150("150 File status okay.") is None
    with pytest.raises(ftplib2.error_reply):
        ftplib2.parse150("125 Data connection already open.")


def test_parse227_extracts_host_and_port() -> None:
    assert ftplib2.parse227("227 Entering Passive Mode (192,168,0,1,4,1).") == ("192.168.0.1", 1025)
    with pytest.raises(ftplib2.error_reply):
        ftplib2.parse227("200 not a PASV reply")
    with pytest.raises(ftplib2.error_proto):
        ftplib2.parse227("227 no numbers here")


def test_parse229_extracts_the_port_and_uses_the_peer_host() -> None:
    assert ftplib2.parse229("229 Entering Extended Passive Mode (|||6446|)", ("::1", 21)) == (
        "::1",
        6446,
    )
    with pytest.raises(ftplib2.error_reply):
        ftplib2.parse229("227 wrong code", ("::1", 21))
    with pytest.raises(ftplib2.error_proto):
        ftplib2.parse229("229 no parentheses", ("::1", 21))


def test_parse257_extracts_the_directory_and_unquotes_doubled_quotes() -> None:
    assert ftplib2.parse257('257 "/home/joe" created.') == "/home/joe"
    assert ftplib2.parse257('257 "/dir with ""quotes""" created.') == '/dir with "quotes"'
    assert ftplib2.parse257("257 no quoted name") == ""
    with pytest.raises(ftplib2.error_reply):
        ftplib2.parse257('250 "/home/joe"')


def test_print_line_prints_the_line(capsys) -> None:
    ftplib2.print_line("hello")
    assert capsys.readouterr().out == "hello\n"


_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
_BY_NAME = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def _same_default(a: object, b: object) -> bool:
    return a is b or a == b


def _signature_differences(reference: object, candidate: object) -> list[str]:
    """Calls `reference` accepts that `candidate` would reject or read differently."""
    theirs = inspect.signature(reference).parameters
    ours = inspect.signature(candidate).parameters
    problems = []
    their_positional = [p for p in theirs.values() if p.kind in _POSITIONAL]
    our_positional = [p for p in ours.values() if p.kind in _POSITIONAL]
    for index, param in enumerate(their_positional):
        mine = our_positional[index] if index < len(our_positional) else None
        if mine is None or mine.name != param.name:
            problems.append(f"positional parameter {index} is {mine}, not {param}")
        elif not _same_default(mine.default, param.default):
            problems.append(f"{param.name} defaults to {mine.default!r}, not {param.default!r}")
    for extra in our_positional[len(their_positional) :]:
        if extra.default is extra.empty:
            problems.append(f"extra positional parameter {extra} is required")
    for param in theirs.values():
        if param.kind is inspect.Parameter.VAR_POSITIONAL:
            if not any(p.kind is param.kind for p in ours.values()):
                problems.append(f"no *{param.name}")
        elif param.kind is inspect.Parameter.KEYWORD_ONLY:
            mine = ours.get(param.name)
            if mine is None or mine.kind not in _BY_NAME:
                problems.append(f"keyword parameter {param.name!r} missing")
            elif not _same_default(mine.default, param.default):
                problems.append(f"{param.name} defaults to {mine.default!r}, not {param.default!r}")
    for extra in ours.values():
        is_new_keyword = extra.kind is inspect.Parameter.KEYWORD_ONLY and extra.name not in theirs
        if is_new_keyword and extra.default is extra.empty:
            problems.append(f"extra keyword parameter {extra} is required")
    return problems


def _ftp_tls_init_reference(
    self,
    host="",
    user="",
    passwd="",
    acct="",
    *,
    context=None,
    timeout=socket._GLOBAL_DEFAULT_TIMEOUT,
    source_address=None,
    encoding="utf-8",
):
    """FTP_TLS's constructor as Python 3.12 has it (3.11 still takes keyfile and certfile)."""


def test_public_signatures_match_ftplib() -> None:
    problems = {}
    for class_name in ("FTP", "FTP_TLS"):
        stdlib_class = getattr(stdlib_ftplib, class_name)
        for name, member in vars(stdlib_class).items():
            if (name.startswith("_") and name != "__init__") or not callable(member):
                continue
            if (class_name, name) == ("FTP_TLS", "__init__"):
                member = _ftp_tls_init_reference
            difference = _signature_differences(member, getattr(getattr(ftplib2, class_name), name))
            if difference:
                problems[f"{class_name}.{name}"] = difference
    for name in ("parse150", "parse227", "parse229", "parse257", "print_line", "ftpcp"):
        difference = _signature_differences(getattr(stdlib_ftplib, name), getattr(ftplib2, name))
        if difference:
            problems[name] = difference
    assert problems == {}


# --------------------------------------------------------------------------
# The reply parser, without sockets
# --------------------------------------------------------------------------


def _reply_sample(raw: bytes, lines: list[str], sample_id: str) -> object:
    return pytest.param(raw, lines, id=sample_id)


REPLY_SAMPLES = [
    _reply_sample(b"200 Command okay.\r\n", ["200 Command okay."], "single-line"),
    _reply_sample(b"200\r\n", ["200"], "bare-code"),
    _reply_sample(b"150 Opening data connection.\r\n", ["150 Opening data connection."], "1xx"),
    _reply_sample(
        b"123-First line\r\nSecond line\r\n 234 A line beginning with numbers\r\n"
        b"123-still going\r\n456 looks like a reply\r\n123 The last line\r\n",
        [
            "123-First line",
            "Second line",
            " 234 A line beginning with numbers",
            "123-still going",
            "456 looks like a reply",
            "123 The last line",
        ],
        "multi-line-with-code-like-lines",
    ),
    _reply_sample(
        b"211-Features:\r\n MDTM\r\n REST STREAM\r\n SIZE\r\n211 End\r\n",
        ["211-Features:", " MDTM", " REST STREAM", " SIZE", "211 End"],
        "multi-line-2xx",
    ),
    _reply_sample(
        b"250-first\r\n250-second\r\n250 third\r\n",
        ["250-first", "250-second", "250 third"],
        "multi-line-all-coded",
    ),
    _reply_sample(b"220-\r\n\r\n220 \r\n", ["220-", "", "220 "], "multi-line-empty-texts"),
    _reply_sample('257 "/café ünï" created.\r\n'.encode(), ['257 "/café ünï" created.'], "utf-8"),
    _reply_sample(b"550 caf\xe9 \xff\xfe\r\n", ["550 caf\udce9 \udcff\udcfe"], "not-utf-8"),
    _reply_sample(
        b"226-ok \x80\r\n\xff\xfe raw\r\n226 done\r\n",
        ["226-ok \udc80", "\udcff\udcfe raw", "226 done"],
        "multi-line-not-utf-8",
    ),
]

TRAILING = b"221 Goodbye.\r\n22"


def parse_chunks(chunks: list[bytes], **options: object) -> tuple[list[ftplib2.Reply], bytes]:
    """Feed `chunks` one by one, taking out every reply as soon as it is complete."""
    parser = ftplib2.ReplyParser(**options)
    replies = []
    for chunk in chunks:
        parser.feed(chunk)
        while (reply := parser.next_reply()) is not None:
            replies.append(reply)
    return replies, parser.buffered


def assert_reply(reply: object, lines: list[str]) -> None:
    assert isinstance(reply, ftplib2.Reply)
    assert reply == "\n".join(lines)
    assert reply.code == lines[0][:3]
    assert reply.lines == lines


@pytest.mark.parametrize(("raw", "lines"), REPLY_SAMPLES)
def test_parser_reads_a_reply_fed_whole(raw: bytes, lines: list[str]) -> None:
    replies, buffered = parse_chunks([raw])
    assert len(replies) == 1
    assert_reply(replies[0], lines)
    assert buffered == b""


@pytest.mark.parametrize(("raw", "lines"), REPLY_SAMPLES)
def test_parser_reads_a_reply_fed_one_byte_at_a_time(raw: bytes, lines: list[str]) -> None:
    parser = ftplib2.ReplyParser()
    for index in range(len(raw) - 1):
        parser.feed(raw[index : index + 1])
        assert parser.next_reply() is None, f"a reply came out after only {index + 1} bytes"
    parser.feed(raw[-1:])
    assert_reply(parser.next_reply(), lines)
    assert parser.next_reply() is None
    assert parser.buffered == b""


@pytest.mark.parametrize(("raw", "lines"), REPLY_SAMPLES)
def test_parser_reads_a_reply_split_at_every_byte_boundary(raw: bytes, lines: list[str]) -> None:
    for cut in range(len(raw) + 1):
        replies, buffered = parse_chunks([raw[:cut], raw[cut:]])
        assert len(replies) == 1, f"split at {cut}"
        assert_reply(replies[0], lines)
        assert buffered == b""


@pytest.mark.parametrize(("raw", "lines"), REPLY_SAMPLES)
def test_parser_leaves_trailing_bytes_buffered(raw: bytes, lines: list[str]) -> None:
    parser = ftplib2.ReplyParser()
    parser.feed(raw + TRAILING)
    assert_reply(parser.next_reply(), lines)
    assert parser.buffered == TRAILING
    assert_reply(parser.next_reply(), ["221 Goodbye."])
    assert parser.buffered == b"22"
    assert parser.next_reply() is None
    assert parser.buffered == b"22"


@pytest.mark.parametrize(("raw", "lines"), REPLY_SAMPLES)
def test_parser_reads_back_to_back_replies_split_anywhere(raw: bytes, lines: list[str]) -> None:
    stream = raw + raw
    for cut in range(len(stream) + 1):
        replies, buffered = parse_chunks([stream[:cut], stream[cut:]])
        assert len(replies) == 2, f"split at {cut}"
        for reply in replies:
            assert_reply(reply, lines)
        assert buffered == b""


@pytest.mark.parametrize(("raw", "lines"), REPLY_SAMPLES)
def test_next_line_and_add_line_assemble_the_same_reply(raw: bytes, lines: list[str]) -> None:
    parser = ftplib2.ReplyParser()
    assert parser.next_line() is None
    parser.feed(raw)
    taken = []
    reply = None
    while reply is None:
        line = parser.next_line()
        assert line is not None
        taken.append(line)
        reply = parser.add_line(line)
    assert taken == lines
    assert_reply(reply, lines)
    assert parser.next_line() is None


def test_add_line_assembles_a_multiline_reply_from_strings() -> None:
    parser = ftplib2.ReplyParser()
    assert parser.add_line("230-Welcome") is None
    assert parser.add_line("230-ish line") is None
    assert_reply(parser.add_line("230 Logged in"), ["230-Welcome", "230-ish line", "230 Logged in"])
    assert_reply(parser.add_line("200 Next"), ["200 Next"])


def test_parser_decodes_with_the_given_encoding() -> None:
    replies, _ = parse_chunks([b"200 caf\xe9\r\n"], encoding="latin-1")
    assert_reply(replies[0], ["200 café"])


def test_parser_accepts_a_line_just_under_maxline() -> None:
    line = b"200 " + b"x" * 60
    replies, _ = parse_chunks([line + b"\r\n"], maxline=80)
    assert_reply(replies[0], [line.decode()])


MALFORMED_REPLIES = [
    pytest.param(b"hello there\r\n", {}, id="no-code"),
    pytest.param(b"\r\n", {}, id="empty-line"),
    pytest.param(b"20\r\n", {}, id="two-digits"),
    pytest.param(b"2x0 bad\r\n", {}, id="letter-in-code"),
    pytest.param(b"2000 four digits\r\n", {}, id="four-digits"),
    pytest.param(b"200\tTab\r\n", {}, id="tab-after-code"),
    pytest.param(b" 200 leading space\r\n", {}, id="leading-space"),
    pytest.param(b"600 out of range\r\n", {}, id="first-digit-6"),
    pytest.param(b"099 out of range\r\n", {}, id="first-digit-0"),
    pytest.param(b"200 " + b"x" * 200 + b"\r\n", {"maxline": 100}, id="line-too-long"),
    pytest.param(b"200 " + b"x" * 200, {"maxline": 100}, id="unterminated-line-too-long"),
    pytest.param(b"200 " + b"x" * 9000 + b"\r\n", {}, id="line-over-MAXLINE"),
    pytest.param(
        b"211-start\r\n" + b"more\r\n" * 20 + b"211 end\r\n", {"max_lines": 10}, id="too-many-lines"
    ),
    pytest.param(
        b"211-start\r\n" + b"x" * 50 + b"\r\n" + b"y" * 50 + b"\r\n211 end\r\n",
        {"max_bytes": 64},
        id="too-many-bytes",
    ),
]


@pytest.mark.parametrize(("raw", "options"), MALFORMED_REPLIES)
def test_parser_rejects_malformed_input_with_error_proto(raw: bytes, options: dict) -> None:
    with pytest.raises(ftplib2.error_proto):
        parse_chunks([raw], **options)
    with pytest.raises(ftplib2.error_proto):
        parse_chunks([raw[i : i + 1] for i in range(len(raw))], **options)


def test_parser_error_names_the_offending_line() -> None:
    with pytest.raises(ftplib2.error_proto, match="hello there"):
        parse_chunks([b"hello there\r\n"])


def test_parser_rejects_an_endless_multiline_reply_by_default() -> None:
    parser = ftplib2.ReplyParser()
    parser.feed(b"211-start\r\n")
    with pytest.raises(ftplib2.error_proto):
        for _ in range(20_000):
            parser.feed(b"another line\r\n")
            assert parser.next_reply() is None


_codes = st.from_regex(r"[1-5][0-9]{2}", fullmatch=True)
_texts = st.binary(max_size=30).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))


@st.composite
def valid_replies(draw: st.DrawFn) -> tuple[bytes, list[str]]:
    """A well-formed reply as raw bytes, with the lines it must parse to."""
    code = draw(_codes).encode()
    if draw(st.booleans()):
        raw_lines = [draw(st.one_of(st.just(code), st.builds(lambda t: code + b" " + t, _texts)))]
    else:
        other_code_line = st.builds(lambda c, t: c.encode() + b" " + t, _codes, _texts)
        same_code_continued = st.builds(lambda t: code + b"-" + t, _texts)
        middle = draw(
            st.lists(
                st.one_of(_texts, other_code_line, same_code_continued).filter(
                    # a line starting with the code, not followed by "-", would end the reply
                    lambda line: not (line[:3] == code and line[3:4] != b"-")
                ),
                max_size=6,
            )
        )
        raw_lines = [code + b"-" + draw(_texts), *middle, code + b" " + draw(_texts)]
    raw = b"".join(line + b"\r\n" for line in raw_lines)
    return raw, [line.decode("utf-8", "surrogateescape") for line in raw_lines]


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(cut, len(data)) for cut in cuts})
    return [data[start:end] for start, end in zip([0, *points], [*points, len(data)])]


HYPOTHESIS_SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@HYPOTHESIS_SETTINGS
@given(
    replies=st.lists(valid_replies(), min_size=1, max_size=4),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=12),
)
def test_valid_replies_parse_identically_however_they_are_split(
    replies: list[tuple[bytes, list[str]]], cuts: list[int]
) -> None:
    stream = b"".join(raw for raw, _ in replies)
    parsed, buffered = parse_chunks(split_at(stream, cuts))
    assert len(parsed) == len(replies)
    for reply, (_, lines) in zip(parsed, replies):
        assert_reply(reply, lines)
    assert buffered == b""


@HYPOTHESIS_SETTINGS
@given(
    data=st.binary(max_size=400),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=8),
    maxline=st.sampled_from([ftplib2.MAXLINE, 40]),
    max_lines=st.sampled_from([10000, 3]),
    max_bytes=st.sampled_from([1 << 20, 64]),
)
def test_arbitrary_bytes_raise_nothing_but_error_proto(
    data: bytes, cuts: list[int], maxline: int, max_lines: int, max_bytes: int
) -> None:
    with contextlib.suppress(ftplib2.error_proto):
        parse_chunks(
            split_at(data, cuts), maxline=maxline, max_lines=max_lines, max_bytes=max_bytes
        )


# --------------------------------------------------------------------------
# CPython's own ftplib tests, run against ftplib2
# --------------------------------------------------------------------------


def _run_cpython_ftplib_tests(ftplib_module: object) -> tuple[unittest.TestResult, str]:
    """Import a fresh test.test_ftplib that sees `ftplib_module` as ftplib, and run it."""
    saved_ftplib = sys.modules.get("ftplib")
    sys.modules.pop("test.test_ftplib", None)
    sys.modules["ftplib"] = ftplib_module
    try:
        module = importlib.import_module("test.test_ftplib")
        assert module.ftplib is ftplib_module
        stream = io.StringIO()
        suite = unittest.defaultTestLoader.loadTestsFromModule(module)
        result = unittest.TextTestRunner(stream=stream, verbosity=2).run(suite)
    finally:
        sys.modules.pop("test.test_ftplib", None)
        if saved_ftplib is None:
            sys.modules.pop("ftplib", None)
        else:
            sys.modules["ftplib"] = saved_ftplib
    return result, stream.getvalue()


def test_cpython_ftplib_test_suite_passes_against_ftplib2() -> None:
    try:
        importlib.import_module("test.test_ftplib")
    except ImportError as exc:
        pytest.skip(f"CPython's test.test_ftplib is not available: {exc}")
    finally:
        sys.modules.pop("test.test_ftplib", None)
    baseline, baseline_output = _run_cpython_ftplib_tests(stdlib_ftplib)
    assert baseline.wasSuccessful(), baseline_output
    result, output = _run_cpython_ftplib_tests(ftplib2)
    assert result.wasSuccessful(), output
    assert (result.testsRun, len(result.skipped)) == (
        baseline.testsRun,
        len(baseline.skipped),
    ), output
    assert sys.modules["ftplib"] is stdlib_ftplib


# --------------------------------------------------------------------------
# python -m ftplib2
# --------------------------------------------------------------------------


def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ftplib2", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=Path(ftplib2.__file__).parent,
    )


@pytest.mark.parametrize("args", [["demo"], []], ids=["demo", "no-arguments"])
def test_cli_demo_runs_a_session_against_an_embedded_server(args: list[str]) -> None:
    completed = _run_cli(*args)
    assert completed.returncode == 0, completed.stderr
    assert "220 " in completed.stdout  # the server's greeting
    assert "221 " in completed.stdout  # the reply to QUIT


def test_cli_help_prints_usage() -> None:
    completed = _run_cli("-h")
    assert completed.returncode == 0, completed.stderr
    assert "usage" in completed.stdout.lower()
    assert "ftplib2" in completed.stdout


# ==================================================================================================
# Every server is untrusted input: a scripted misbehaving server
# ==================================================================================================


# --------------------------------------------------------------------------
# 14. Property tests of the pure parsers
# --------------------------------------------------------------------------

HOSTILE_HYPOTHESIS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# Pieces of real listings, glued in random order, reach deeper into the parsers than plain text.
HOSTILE_LIST_PIECES = [
    "-rw-r--r--", "drwxr-xr-x", "lrwxrwxrwx", " ", "  ", "\t", "1", "12", "4096", "9" * 25,
    "user", "Jan", "feb", "13:45", "99:99", "2024", "0000", "->", " -> ", "total ", "+", "/",
    "r", "s", "m", "i", "up644", ",", "01-02-03", "12-31-1999", "10:00AM", "<DIR>",
    "\u00b2", "\u0663", "\udce9", "é", "0", "31", "29",
]  # fmt: skip
HOSTILE_MLSX_PIECES = [
    "type=", "file", "dir", "cdir", "OS.unix=slink:", "OS.unix=symlink", "link", "size=",
    "sizd=", "modify=", "perm=", "unique=", "20240229123456", "20241301000000", ".", "123",
    "\u00b2", "\u0663", ";", " ", "=", "name", "\udce9", "",
]  # fmt: skip


def hostile_glued(pieces: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(),
        st.lists(st.sampled_from(pieces) | st.text(max_size=3), max_size=20).map("".join),
    )


# Numbers as a hostile server may write them: huge, or in digits that str.isdigit() accepts
# but int() may not (superscripts) or that are not ASCII (Arabic-Indic).
hostile_numbers = st.one_of(
    st.integers(0, 10**30).map(str),
    st.text(alphabet="0123456789\u00b2\u00b3\u0663\u0969", min_size=1, max_size=20),
)
hostile_eplf_lines = st.builds(
    lambda facts, name: "+" + ",".join(facts) + "\t" + name,
    st.lists(st.tuples(st.sampled_from("/rsmiu"), hostile_numbers).map("".join), max_size=5),
    st.text(max_size=10),
)
hostile_mlsx_times = st.datetimes(datetime.datetime(1000, 1, 1)).map(
    lambda when: f"{when:%Y%m%d%H%M%S}"
)
hostile_mlsx_lines = st.builds(
    lambda facts, name: ";".join(facts) + "; " + name,
    st.lists(
        st.tuples(
            st.sampled_from(["type", "size", "sizd", "modify", "perm", "unique", "Modify"]),
            st.one_of(
                hostile_numbers,
                st.tuples(hostile_numbers, hostile_numbers).map(".".join),
                st.tuples(hostile_mlsx_times, hostile_numbers).map(".".join),
                st.sampled_from(["file", "dir", "OS.unix=slink:/x", "cdir"]),
            ),
        ).map("=".join),
        max_size=5,
    ),
    st.text(max_size=10),
)


@HOSTILE_HYPOTHESIS
@given(line=hostile_glued(HOSTILE_LIST_PIECES) | hostile_eplf_lines)
@example(line="+m99999999999999999999,r\tfar-future.txt")
@example(line="+m\u00b2,r\tsuperscript-time.txt")
def test_parse_list_line_raises_nothing_but_error_proto_on_any_text(line: str) -> None:
    try:
        entry = ftplib2.parse_list_line(line)
    except ftplib2.error_proto:
        return
    assert entry is None or isinstance(entry, ftplib2.Entry)


@HOSTILE_HYPOTHESIS
@given(line=hostile_glued(HOSTILE_MLSX_PIECES) | hostile_mlsx_lines)
@example(line="modify=20240101000000.\u00b2; superscript-fraction.txt")
def test_parse_mlsx_line_raises_nothing_but_error_proto_on_any_text(line: str) -> None:
    try:
        entry = ftplib2.parse_mlsx_line(line)
    except ftplib2.error_proto:
        return
    assert isinstance(entry, ftplib2.Entry)


HOSTILE_NOW = datetime.datetime(2024, 6, 15, 12, 0, tzinfo=datetime.UTC)
HOSTILE_MONTH_NAMES = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
]  # fmt: skip
hostile_names = st.text(
    st.characters(blacklist_categories=("Cc",)) | st.sampled_from(["\udce9", "\udcff", " "]),
    min_size=1,
    max_size=40,
)


@st.composite
def hostile_ls_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    """A Unix ``ls -l`` line and the entry it describes."""
    kind = draw(st.sampled_from(["-", "d", "l"]))
    perms = draw(st.text(alphabet="rwx-", min_size=9, max_size=9))
    links = draw(st.integers(1, 9999))
    owner, group = draw(
        st.lists(st.sampled_from(["root", "ftp", "www-data", "1000"]), min_size=2, max_size=2)
    )
    size = draw(st.integers(0, 10**13))
    name = draw(hostile_names)
    target = None
    if kind == "l":
        name = draw(hostile_names.filter(lambda n: " -> " not in n))
        target = draw(hostile_names)
    if draw(st.booleans()):  # within the last six months: ls shows the time, not the year
        naive_now = HOSTILE_NOW.replace(tzinfo=None)
        when = draw(st.datetimes(naive_now - datetime.timedelta(days=179), naive_now)).replace(
            second=0, microsecond=0
        )
        stamp = f"{when:%H:%M}"
    else:
        when = datetime.datetime.combine(
            draw(st.dates(datetime.date(1970, 1, 1), datetime.date(2023, 12, 1))),
            datetime.time(),
        )
        stamp = f" {when.year}"
    month = HOSTILE_MONTH_NAMES[when.month - 1]
    shown = f"{name} -> {target}" if target is not None else name
    line = (
        f"{kind}{perms} {links:>3} {owner:<8} {group:<8} {size:>10} "
        f"{month} {when.day:>2} {stamp} {shown}"
    )
    expected = {
        "name": name,
        "type": {"-": "file", "d": "dir", "l": "link"}[kind],
        "size": size,
        "target": target,
        "modify": when.replace(tzinfo=datetime.UTC),
    }
    return line, expected


@HOSTILE_HYPOTHESIS
@given(sample=hostile_ls_lines())
def test_parse_list_line_reads_back_generated_unix_ls_lines(
    sample: tuple[str, dict[str, object]],
) -> None:
    line, expected = sample
    entry = ftplib2.parse_list_line(line, now=HOSTILE_NOW)
    assert entry is not None
    assert {key: getattr(entry, key) for key in expected} == expected


@HOSTILE_HYPOTHESIS
@given(sample=hostile_ls_lines(), blanks=st.sampled_from(["", " ", "  "]))
def test_parse_list_line_fast_path_agrees_with_the_general_regex(
    sample: tuple[str, dict[str, object]], blanks: str
) -> None:
    """Nine plain columns skip the regex; the result must be what the regex gives."""
    line = sample[0].replace(" ", " " + blanks, 1)  # wider columns change nothing
    match = ftplib2._UNIX_RE.match(line)
    assert match is not None
    general = ftplib2._unix_entry(match, line, HOSTILE_NOW)
    fast = ftplib2.parse_list_line(line, now=HOSTILE_NOW)
    assert fast is not None
    assert dataclasses.astuple(fast) == dataclasses.astuple(general)


def test_parse_list_line_reads_nine_plain_columns_even_where_the_regex_misreads_them() -> None:
    """The regex's first match took "1" for the size and "www" for the month here."""
    entry = ftplib2.parse_list_line("-rw-r--r-- 1 www 33 4096 Jan 01 2020 file", HOSTILE_NOW)
    assert entry is not None
    assert (entry.name, entry.size, entry.modify) == (
        "file",
        4096,
        datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC),
    )


@pytest.mark.parametrize(
    "line",
    [
        "  -rw-r--r-- 1 owner group 12 Nov 22 05:04 indented line",
        "-rw-r--r--\xa01 owner group 12 Nov 22 05:04 non-ASCII blank between columns",
        "-rw-r--r-- 1 owner group 12 Nov 22 05:04\xa0non-ASCII blank before the name",
    ],
)
def test_parse_list_line_refuses_what_the_regex_refuses(line: str) -> None:
    with pytest.raises(ftplib2.error_proto):
        ftplib2.parse_list_line(line, HOSTILE_NOW)


@pytest.mark.parametrize(
    "line",
    [
        "-rw-r--r-- 1 owner group 12 Nov 22 05:04  leading blank.txt",
        "-rw-r--r-- 1 owner group 12 Nov 22 05:04 trailing blank ",
        "crw-rw-rw- 1 root root 1, 3 Nov 22 05:04 null",
        "-rw-r--r-- 1 owner 12 Nov 22 05:04 no group column",
        "-rw-r--r--+ 1 owner group 12 Nov 22 05:04 acl",
        "-rw-r--r-- 1 owner group 12 Nov 22 2019 old",
        "lrwxrwxrwx 1 owner group 7 Nov 22 05:04 link -> target",
    ],
)
def test_parse_list_line_odd_columns_parse_as_the_general_regex_does(line: str) -> None:
    """Lines the fast path leaves to the regex (or takes apart as the regex does)."""
    match = ftplib2._UNIX_RE.match(line)
    assert match is not None
    general = ftplib2._unix_entry(match, line, HOSTILE_NOW)
    assert dataclasses.astuple(ftplib2.parse_list_line(line, now=HOSTILE_NOW)) == (
        dataclasses.astuple(general)
    )


HOSTILE_REPLY_PIECES = [
    b"200", b"211", b"211-", b"211 ", b"-", b" ", b"\r\n", b"\n", b"\r", b"x" * 40, b"\xff",
    b"\xe9", b"999", b"1", b"",
]  # fmt: skip


@HOSTILE_HYPOTHESIS
@given(
    data=st.one_of(
        st.binary(max_size=600),
        st.lists(st.sampled_from(HOSTILE_REPLY_PIECES) | st.binary(max_size=3)).map(b"".join),
    ),
    cuts=st.lists(st.integers(0, 600), max_size=20),
    maxline=st.integers(1, 64),
    max_lines=st.integers(1, 12),
    max_bytes=st.integers(1, 300),
)
def test_reply_parser_raises_nothing_but_error_proto_on_any_bytes_in_any_chunks(
    data: bytes, cuts: list[int], maxline: int, max_lines: int, max_bytes: int
) -> None:
    parser = ftplib2.ReplyParser(maxline=maxline, max_lines=max_lines, max_bytes=max_bytes)
    bounds = [0, *sorted(c for c in cuts if c <= len(data)), len(data)]
    try:
        for start, end in itertools.pairwise(bounds):
            parser.feed(data[start:end])
            while (reply := parser.next_reply()) is not None:
                assert isinstance(reply, ftplib2.Reply)
        assert isinstance(parser.flush(), str)
    except ftplib2.error_proto:
        pass
