"""The control connection as a count of replies the server still owes.

Proves, against live pyftpdlib and vsftpd, in clear text and with TLS on both connections
(PROT P), that:

* a transfer that ends early leaves its final reply owed instead of reading it, so that
  ``abort()`` returns that reply as ftplib's does and ``getmultiline()`` then reads the answer
  to ABOR (the byte-range pattern of fsspec, which pandas and dask use for ``ftp://``);
* a caller's own ``getresp()``/``getline()`` reads owed replies in order, and any new command
  first reads (and drops) what is still owed, so code that never reads them stays in step;
* ``abort()`` from a download's callback ends the transfer on servers that do not read
  commands while they send (vsftpd);
* pipelining survives a passive command refused while the server still takes the transfer
  command sent with it (pyftpdlib answers that ``RETR`` with ``150`` and waits).

Run only these::

    PATH=$PATH:/usr/sbin python -m pytest -q -p no:cacheprovider tests/test_owed_replies.py
"""

from __future__ import annotations

import contextlib
import io
import os
import posixpath
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler

import ftplib2
from test_ftplib2 import (
    PASSWORD,
    TIMEOUT,
    USER,
    InteropTarget,
    LiveServer,
    open_session,
    running_server,
)

# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


class TransferDone(Exception):
    """Raised by a callback that has received all it wants, as fsspec's FTP file system does."""


class Cancelled(Exception):
    """Raised by a callback, or in a ``with`` body, to give up an upload."""


def read_range(ftp: ftplib2.FTP, path: str, start: int, length: int) -> tuple[bytes, list[str]]:
    """Read `length` bytes at `start` the way fsspec does; return them and abort()'s replies."""
    out: list[bytes] = []

    def callback(data: bytes) -> None:
        out.append(data)
        if sum(map(len, out)) >= length:
            raise TransferDone

    replies: list[str] = []
    try:
        ftp.retrbinary(f"RETR {path}", callback, blocksize=2**16, rest=start)
    except TransferDone:
        replies.append(ftp.abort())  # ftplib: the transfer's final reply (226 or 426)
        replies.append(ftp.getmultiline())  # ftplib: the answer to ABOR (225 or 226)
    return b"".join(out)[:length], replies


@contextlib.contextmanager
def session(interop: InteropTarget, secure: bool) -> Iterator[ftplib2.FTP]:
    """A logged-in session on `interop`, with TLS on both connections if `secure`."""
    ftp = interop.connect_tls() if secure else interop.connect()
    try:
        yield ftp
    finally:
        ftp.close()


def put(interop: InteropTarget, secure: bool, path: str, data: bytes) -> None:
    with session(interop, secure) as ftp:
        ftp.storbinary(f"STOR {path}", io.BytesIO(data))


SECURITY = [pytest.param(False, id="plain"), pytest.param(True, id="tls")]

BIG = 32 << 20  # far more than loopback socket buffers hold: the server is still sending


@contextlib.contextmanager
def within(seconds: float) -> Iterator[None]:
    start = time.monotonic()
    yield
    assert time.monotonic() - start < seconds


# --------------------------------------------------------------------------
# abort() and getmultiline() as ftplib has them: the fsspec pattern
# --------------------------------------------------------------------------


@pytest.mark.parametrize("secure", SECURITY)
def test_fsspec_range_reads_get_ftplibs_replies_and_the_session_goes_on(
    interop: InteropTarget, interop_dir: str, secure: bool
) -> None:
    data = os.urandom(4 << 20)
    path = f"{interop_dir}/data.bin"
    put(interop, secure, path, data)
    with session(interop, secure) as ftp:
        for start in (0, 100_000, 1_000_000, 2_500_000, 4_000_000):
            chunk, (final, abor) = read_range(ftp, path, start, 10_000)
            assert chunk == data[start : start + 10_000]
            assert final[:3] in ("226", "426")
            assert abor[:3] in ("225", "226")
        assert [posixpath.basename(name) for name in ftp.nlst(interop_dir)] == ["data.bin"]
        assert ftp.quit()[:3] == "221"


@pytest.mark.parametrize("secure", SECURITY)
def test_abort_after_a_finished_transfer_returns_its_reply_first(
    interop: InteropTarget, interop_dir: str, secure: bool
) -> None:
    path = f"{interop_dir}/small.bin"
    put(interop, secure, path, b"s" * 1000)
    with session(interop, secure) as ftp:
        assert ftp.retrbinary(f"RETR {path}", lambda block: None)[:3] == "226"
        assert ftp.abort()[:3] == "225"  # nothing owed: the answer to ABOR
        assert ftp.voidcmd("NOOP")[:3] == "200"
        # The server has sent everything, and its 226, when the callback gives up.
        chunk, (final, abor) = read_range(ftp, path, 0, 10)
        assert chunk == b"s" * 10
        assert final[:3] == "226"
        assert abor[:3] == "225"
        assert ftp.voidcmd("NOOP")[:3] == "200"


@pytest.mark.parametrize("secure", SECURITY)
def test_abort_from_a_callback_mid_transfer_returns_426_and_the_transfer_the_rest(
    interop: InteropTarget, interop_dir: str, secure: bool
) -> None:
    path = f"{interop_dir}/big.bin"
    put(interop, secure, path, bytes(BIG))
    with session(interop, secure) as ftp:
        aborted: list[str] = []

        def callback(block: bytes) -> None:
            if not aborted:
                aborted.append(ftp.abort())

        with within(TIMEOUT):
            final = ftp.retrbinary(f"RETR {path}", callback)
        assert aborted[0][:3] == "426"
        assert final[:3] in ("225", "226")  # the answer to ABOR, read as ftplib reads it
        assert ftp.voidcmd("NOOP")[:3] == "200"


@pytest.mark.parametrize("secure", SECURITY)
def test_abort_after_closing_a_transfercmd_connection_returns_426_then_the_abor_answer(
    interop: InteropTarget, interop_dir: str, secure: bool
) -> None:
    path = f"{interop_dir}/big.bin"
    put(interop, secure, path, bytes(BIG))
    with session(interop, secure) as ftp:
        ftp.voidcmd("TYPE I")
        with ftp.transfercmd(f"RETR {path}") as conn:
            assert conn.recv(8192)
        assert ftp.abort()[:3] == "426"
        assert ftp.getmultiline()[:3] in ("225", "226")
        assert ftp.voidcmd("NOOP")[:3] == "200"


# --------------------------------------------------------------------------
# Owed replies: read by the caller in order, or by the next command
# --------------------------------------------------------------------------


@pytest.mark.parametrize("secure", SECURITY)
def test_a_transfer_ended_by_its_callback_owes_its_final_reply(
    interop: InteropTarget, interop_dir: str, secure: bool
) -> None:
    path = f"{interop_dir}/big.bin"
    put(interop, secure, path, bytes(BIG))
    with session(interop, secure) as ftp:
        with pytest.raises(TransferDone):
            ftp.retrbinary(f"RETR {path}", _give_up)
        with pytest.raises(ftplib2.error_temp) as failed:
            ftp.getresp()  # the transfer's own final reply
        assert failed.value.code == "426"
        assert ftp.voidcmd("NOOP")[:3] == "200"
        # Not read by the caller: the next command reads it first.
        with pytest.raises(TransferDone):
            ftp.retrbinary(f"RETR {path}", _give_up)
        assert ftp.voidcmd("NOOP")[:3] == "200"
        received = bytearray()
        assert ftp.retrbinary(f"RETR {path}", received.extend, rest=BIG - 5)[:3] == "226"
        assert received == bytes(5)


def _give_up(block: bytes) -> None:
    raise TransferDone


def test_getline_reads_an_owed_reply_and_counts_it(ftp: ftplib2.FTP, workdir: Path) -> None:
    (workdir / "big.bin").write_bytes(bytes(BIG))
    with pytest.raises(TransferDone):
        ftp.retrbinary("RETR big.bin", _give_up)
    assert ftp.getline().startswith("426 ")
    with within(TIMEOUT / 2):
        assert ftp.voidcmd("NOOP")[:3] == "200"  # nothing left to wait for


def test_a_command_after_an_unfinished_transfercmd_gets_its_own_reply(
    ftp: ftplib2.FTP, workdir: Path
) -> None:
    (workdir / "f.txt").write_bytes(b"contents")
    ftp.voidcmd("TYPE I")
    with ftp.transfercmd("RETR f.txt") as conn:
        assert conn.recv(100) == b"contents"
    # No voidresp(): ftplib would give the 226 to PWD.
    assert ftp.pwd() == f"/{workdir.name}"


def test_a_command_sent_from_a_callback_does_not_wait_for_the_running_transfer(
    ftp: ftplib2.FTP, workdir: Path
) -> None:
    """pyftpdlib answers NOOP while it sends: a keep-alive from a callback gets its 200."""
    (workdir / "big.bin").write_bytes(bytes(BIG))
    replies: list[str] = []

    def keep_alive(block: bytes) -> None:
        if not replies:
            replies.append(ftp.voidcmd("NOOP"))

    with within(TIMEOUT):
        assert ftp.retrbinary("RETR big.bin", keep_alive)[:3] == "226"
    assert replies[0][:3] == "200"
    assert ftp.voidcmd("NOOP")[:3] == "200"


def test_ccc_after_a_transfer_ended_early_reads_what_is_owed_first(
    tls_server: LiveServer, tls_client_context, workdir: Path
) -> None:
    (workdir / "big.bin").write_bytes(bytes(BIG))
    ftp = open_session(tls_server, workdir, cls=ftplib2.FTP_TLS, context=tls_client_context)
    with contextlib.closing(ftp):
        ftp.prot_p()
        with pytest.raises(TransferDone):
            ftp.retrbinary("RETR big.bin", _give_up)
        assert ftp.ccc()[:3] == "200"
        assert ftp.voidcmd("NOOP")[:3] == "200"
        assert ftp.retrbinary("RETR big.bin", lambda b: None, rest=BIG - 1)[:3] == "226"


# --------------------------------------------------------------------------
# Pipelining after a passive command refused while the server takes the RETR
# --------------------------------------------------------------------------


def _refusing_pasv(refused: frozenset[int]) -> Callable[[FTPHandler, str], None]:
    def ftp_PASV(self: FTPHandler, line: str) -> None:
        self.pasv_count = getattr(self, "pasv_count", 0) + 1
        if self.pasv_count in refused:
            self.respond("425 Can't open passive connection now.")
        else:
            FTPHandler.ftp_PASV(self, line)

    return ftp_PASV


@pytest.fixture(scope="module")
def second_pasv_refused(ftp_root: Path, authorizer: DummyAuthorizer) -> Iterator[LiveServer]:
    with running_server(
        ("127.0.0.1", 0), ftp_root, authorizer, ftp_PASV=_refusing_pasv(frozenset({2}))
    ) as live:
        yield live


@pytest.fixture(scope="module")
def second_and_third_pasv_refused(
    ftp_root: Path, authorizer: DummyAuthorizer
) -> Iterator[LiveServer]:
    with running_server(
        ("127.0.0.1", 0), ftp_root, authorizer, ftp_PASV=_refusing_pasv(frozenset({2, 3}))
    ) as live:
        yield live


def _pipelining_session(server: LiveServer, workdir: Path) -> ftplib2.FTP:
    """A session with a short timeout: a wait for a reply that never comes fails quickly."""
    ftp = ftplib2.FTP(timeout=3)
    try:
        ftp.connect(server.host, server.port)
        ftp.login(USER, PASSWORD)
        ftp.cwd(workdir.name)
    except BaseException:
        ftp.close()
        raise
    ftp.pipelining = True
    return ftp


def test_pipelined_retr_after_a_transient_pasv_refusal_gets_its_file_and_the_next_its_own(
    second_pasv_refused: LiveServer, workdir: Path
) -> None:
    for name in ("one", "two", "three"):
        (workdir / name).write_bytes(name.encode() * 1000)
    with contextlib.closing(_pipelining_session(second_pasv_refused, workdir)) as ftp:
        for name in ("one", "two", "three"):  # "two" is sent with the refused PASV
            received = bytearray()
            with within(3):
                assert ftp.retrbinary(f"RETR {name}", received.extend)[:3] == "226"
            assert received == name.encode() * 1000
        assert ftp.voidcmd("NOOP")[:3] == "200"
        commands = second_pasv_refused.commands_of(ftp)
    assert commands.count("RETR two") == 1  # never sent twice


def test_pipelined_retr_after_two_pasv_refusals_raises_425_without_waiting(
    second_and_third_pasv_refused: LiveServer, workdir: Path
) -> None:
    for name in ("one", "two"):
        (workdir / name).write_bytes(b"x")
    with contextlib.closing(_pipelining_session(second_and_third_pasv_refused, workdir)) as ftp:
        ftp.retrbinary("RETR one", lambda block: None)
        with within(2), pytest.raises(ftplib2.error_temp) as refused:
            ftp.retrbinary("RETR two", lambda block: None)
        assert refused.value.code == "425"
        # The server still waits for a data connection for "RETR two": nothing it owes can be
        # counted on, so the session is given up rather than left to hang.
        assert ftp.sock is None
