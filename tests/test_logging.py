"""ftplib2's logging: what it tells the ``ftplib2`` logger, and that it prints nothing itself.

Proves, against live pyftpdlib servers, that ftplib2 logs commands sent and replies received at
DEBUG with passwords masked; connections, logins, TLS set-up and whole-file transfer summaries
at INFO; nothing at all when the application has not configured logging; and that
``set_debuglevel`` still prints what ftplib prints, whatever logging is set to.

Run only these tests with ``python -m pytest tests/test_logging.py``.
"""

from __future__ import annotations

import ftplib as stdlib_ftplib
import io
import logging
import ssl
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import ftplib2
from tests.servers import PASSWORD, USER, LiveServer, open_session


def messages(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "ftplib2" and r.levelno == level]


def test_commands_and_replies_are_logged_at_debug_with_the_password_masked(
    server: LiveServer, workdir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="ftplib2")

    with open_session(server, workdir) as ftp:
        ftp.voidcmd("NOOP")

    debug = messages(caplog, logging.DEBUG)
    assert f"-> USER {USER}" in debug
    assert "-> PASS " + "*" * len(PASSWORD) in debug
    assert "-> NOOP" in debug
    assert any(m.startswith("<- 200") for m in debug), debug
    assert any(m.startswith("<- 230") for m in debug), debug
    assert not any(PASSWORD in m for m in caplog.messages)


def test_a_multiline_reply_is_one_debug_record(
    ftp: ftplib2.FTP, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="ftplib2")

    reply = ftp.sendcmd("HELP")

    assert len(reply.lines) > 1
    assert f"<- {reply}" in messages(caplog, logging.DEBUG)


def test_connect_login_and_transfer_summaries_are_logged_at_info(
    server: LiveServer, workdir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ftplib2")
    payload = bytes(range(256)) * 100

    with ftplib2.FTP(timeout=10) as ftp:
        ftp.connect(server.host, server.port)
        ftp.login(USER, PASSWORD)
        ftp.cwd(workdir.name)
        ftp.upload(io.BytesIO(payload), "logged.bin")
        ftp.download("logged.bin", tmp_path / "logged.bin")

    info = messages(caplog, logging.INFO)
    assert info[0].startswith(f"connected to {server.host} port {server.port}: 220")
    assert f"logged in to {server.host} as {USER}" in info
    assert any(m.startswith(f"uploaded logged.bin: {len(payload)} bytes in ") for m in info), info
    assert any(m.startswith(f"downloaded logged.bin: {len(payload)} bytes in ") for m in info), info
    assert messages(caplog, logging.DEBUG) == []  # not asked for: not made


def test_tls_set_up_is_logged_at_info_with_version_and_cipher(
    tls_server: LiveServer,
    tls_client_context: ssl.SSLContext,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="ftplib2")

    with open_session(tls_server, cls=ftplib2.FTP_TLS, context=tls_client_context) as ftps:
        ftps.prot_p()
        version = ftps.sock.version()
        cipher = ftps.sock.cipher()[0]

    info = messages(caplog, logging.INFO)
    assert f"control connection secured (AUTH TLS): {version}, {cipher}" in info
    assert "data connections secured (PROT P)" in info


def test_nothing_is_printed_when_the_application_has_not_configured_logging(
    server: LiveServer, workdir: Path, tmp_path: Path
) -> None:
    script = textwrap.dedent(f"""
        import io, ftplib2
        with ftplib2.FTP(timeout=10) as ftp:
            ftp.connect({server.host!r}, {server.port})
            ftp.login({USER!r}, {PASSWORD!r})
            ftp.cwd({workdir.name!r})
            ftp.upload(io.BytesIO(b"quiet" * 1000), "quiet.bin")
            ftp.download("quiet.bin", io.BytesIO())
            try:
                ftp.delete("no such file")
            except ftplib2.error_perm:
                pass
    """)
    here = str(Path(ftplib2.__file__).resolve().parent)
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
        timeout=60, check=False, env={"PYTHONPATH": here, "PATH": "/usr/bin:/bin"},
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert (done.stdout, done.stderr) == ("", "")


def test_set_debuglevel_prints_as_ftplib_does_whatever_logging_is_set_to(
    ftp: ftplib2.FTP, server: LiveServer, caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    caplog.set_level(logging.DEBUG, logger="ftplib2")
    ftp.voidcmd("NOOP")
    assert capsys.readouterr() == ("", "")  # logging on, debugging off: nothing printed
    with stdlib_ftplib.FTP(timeout=10) as reference:
        reference.connect(server.host, server.port)
        reference.set_debuglevel(1)
        reference.voidcmd("NOOP")
        printed_by_ftplib = capsys.readouterr().out
    capsys.readouterr()  # its QUIT

    ftp.set_debuglevel(1)
    ftp.voidcmd("NOOP")

    assert capsys.readouterr().out == printed_by_ftplib
    assert printed_by_ftplib.startswith("*cmd* 'NOOP'\n*resp* ")


def test_the_abor_of_abort_is_logged_like_every_other_command(
    ftp: ftplib2.FTP, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="ftplib2")

    reply = ftp.abort()

    debug = messages(caplog, logging.DEBUG)
    assert "-> ABOR" in debug
    assert f"<- {reply}" in debug
