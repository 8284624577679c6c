"""The control connection as a count of replies the server still owes.

Proves, against live pyftpdlib and vsftpd, in clear text and with TLS on both connections
(PROT P), that:

* a transfer that ends early leaves its final reply owed instead of reading it, so that
  ``abort()`` returns that reply as ftplib's does and ``getmultiline()`` then reads the answer
  to ABOR (the byte-range pattern of fsspec, which pandas and dask use for ``ftp://``);
* a caller's own ``getresp()``/``getline()`` reads owed replies in order, and any new command
  first reads (and drops) what is still owed, so code that never reads them stays in step;
* ``abort()`` from a transfer's callback ends the transfer even on servers that read no
  command during one (vsftpd);
* an upload stopped by an exception (a callback, ``upload()``, the body of
  ``with ftp.open(path, "wb")``) reaches the server as an abort, never as a complete file;
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
import trustme
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler, TLS_FTPHandler

import ftplib2
from tests.servers import (
    PASSWORD,
    TIMEOUT,
    USER,
    VSFTPD_PASSWORD,
    VSFTPD_USER,
    InteropTarget,
    LiveServer,
    VsftpdServer,
    _ClearCommandChannel,
    _TestServerBehaviour,
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
        # The server has sent everything when the callback gives up; whether it has also
        # ended the transfer (226, then 225 for nothing to abort) or is still at it when the
        # ABOR comes (426, then 226) is a race.  The transfer's reply comes first either way.
        chunk, (final, abor) = read_range(ftp, path, 0, 10)
        assert chunk == b"s" * 10
        assert (final[:3], abor[:3]) in (("226", "225"), ("426", "226"))
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
def test_abort_from_an_upload_callback_ends_the_upload(
    interop: InteropTarget, interop_dir: str, secure: bool
) -> None:
    """vsftpd reads no command during an upload: abort() must end the data connection too."""
    path = f"{interop_dir}/aborted.bin"
    with session(interop, secure) as ftp:
        aborted: list[str] = []
        sent = [0]

        def callback(block: bytes) -> None:
            sent[0] += len(block)
            if sent[0] >= GIVE_UP_AFTER and not aborted:
                aborted.append(ftp.abort())

        with within(TIMEOUT):
            final = ftp.storbinary(f"STOR {path}", io.BytesIO(bytes(UPLOAD_SIZE)), 65536, callback)
        # pyftpdlib drops an upload of which it has read nothing yet with a lone 225.
        assert aborted[0][:3] in ("426", "225")
        assert final[:3] in ("225", "226")
        assert ftp.voidcmd("NOOP")[:3] == "200"
        assert ftp.size(path) < UPLOAD_SIZE


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
# Uploads stopped by an exception are aborted, not completed
# --------------------------------------------------------------------------


def _recording(outcome: str) -> Callable[[FTPHandler, str], None]:
    def record(self: FTPHandler, file: str) -> None:
        self.outcomes[os.path.basename(file)] = outcome

    return record


RECORDING = {
    "on_file_received": _recording("complete"),
    "on_incomplete_file_received": _recording("incomplete"),
}


@pytest.fixture(scope="module", params=SECURITY)
def recording_server(
    request: pytest.FixtureRequest,
    ftp_root: Path,
    authorizer: DummyAuthorizer,
    certificate_authority: trustme.CA,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveServer]:
    """pyftpdlib recording whether each upload was received complete or incomplete."""
    outcomes: dict[str, str] = {}
    attributes = {**RECORDING, "outcomes": outcomes}
    if not request.param:
        with running_server(("127.0.0.1", 0), ftp_root, authorizer, **attributes) as live:
            live.outcomes = outcomes  # type: ignore[attr-defined]
            yield live
        return
    pem = tmp_path_factory.mktemp("tls") / "server.pem"
    certificate_authority.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(
        str(pem)
    )
    with running_server(
        ("127.0.0.1", 0),
        ftp_root,
        authorizer,
        handler_base=TLS_FTPHandler,
        mixins=(_ClearCommandChannel, _TestServerBehaviour),
        certfile=str(pem),
        ssl_context=None,
        **attributes,
    ) as live:
        live.outcomes = outcomes  # type: ignore[attr-defined]
        live.secure = True  # type: ignore[attr-defined]
        yield live


def _upload_session(server: LiveServer, workdir: Path, tls_client_context) -> ftplib2.FTP:
    if getattr(server, "secure", False):
        ftp = open_session(server, cls=ftplib2.FTP_TLS, context=tls_client_context)
        try:
            ftp.prot_p()
            ftp.cwd(workdir.name)
        except BaseException:
            ftp.close()
            raise
        return ftp
    return open_session(server, workdir)


UPLOAD_SIZE = 8 << 20
GIVE_UP_AFTER = 1 << 20


def _giving_up(wait: Callable[[], None] = lambda: None) -> Callable[[object], None]:
    """A callback that raises Cancelled once GIVE_UP_AFTER bytes have gone out."""
    sent = [0]

    def callback(block: object) -> None:
        sent[0] += block if isinstance(block, int) else len(block)  # type: ignore[arg-type]
        if sent[0] >= GIVE_UP_AFTER:
            wait()
            raise Cancelled

    return callback


def _open_and_fail(ftp: ftplib2.FTP, name: str, mode: str, wait: Callable[[], None]) -> None:
    with ftp.open(name, mode) as remote:
        block = "x" * 65536 if "b" not in mode else b"x" * 65536
        for _ in range(GIVE_UP_AFTER // 65536):
            remote.write(block)
        wait()
        raise Cancelled


CANCELLED_UPLOADS: dict[str, Callable[[ftplib2.FTP, str, Callable[[], None]], object]] = {
    "storbinary": lambda ftp, name, wait: ftp.storbinary(
        f"STOR {name}", io.BytesIO(bytes(UPLOAD_SIZE)), 65536, _giving_up(wait)
    ),
    "storlines": lambda ftp, name, wait: ftp.storlines(
        f"STOR {name}", io.BytesIO((b"x" * 1023 + b"\n") * (UPLOAD_SIZE // 1024)), _giving_up(wait)
    ),
    "upload": lambda ftp, name, wait: ftp.upload(
        io.BytesIO(bytes(UPLOAD_SIZE)), name, callback=_giving_up(wait), blocksize=65536
    ),
    "open-wb": lambda ftp, name, wait: _open_and_fail(ftp, name, "wb", wait),
    "open-w": lambda ftp, name, wait: _open_and_fail(ftp, name, "w", wait),
}


@pytest.mark.parametrize("how", list(CANCELLED_UPLOADS))
def test_an_upload_stopped_by_an_exception_is_received_as_incomplete(
    recording_server: LiveServer, workdir: Path, tls_client_context, how: str
) -> None:
    name = f"cancelled-{how}.bin"
    with contextlib.closing(_upload_session(recording_server, workdir, tls_client_context)) as ftp:
        before = recording_server.data_connections_of(ftp)

        def until_the_server_receives() -> None:
            recording_server.wait_for_data_connections(ftp, before + 1)

        with pytest.raises(Cancelled):
            CANCELLED_UPLOADS[how](ftp, name, until_the_server_receives)
        # Owed: the upload's final reply (426) and the answer to ABOR; or, when pyftpdlib
        # had not yet read any of the data (TLS), only "225": it drops the upload unanswered.
        replies = [ftp.getmultiline()[:3]]
        if replies[0] == "426":
            replies.append(ftp.getmultiline()[:3])
        assert replies in (["426", "226"], ["225"])
        assert ftp.voidcmd("NOOP")[:3] == "200"
    assert recording_server.outcomes[name] == "incomplete"  # type: ignore[attr-defined]
    assert (workdir / name).stat().st_size < UPLOAD_SIZE


@pytest.fixture
def vsftpd_target(vsftpd: VsftpdServer, tls_client_context) -> InteropTarget:
    return InteropTarget(
        "vsftpd", vsftpd.host, vsftpd.port, vsftpd.port, VSFTPD_USER, VSFTPD_PASSWORD,
        tls_client_context,
    )  # fmt: skip


@pytest.mark.parametrize("how", list(CANCELLED_UPLOADS))
@pytest.mark.parametrize("secure", SECURITY)
def test_an_upload_stopped_by_an_exception_reaches_vsftpd_as_a_failure(
    vsftpd_target: InteropTarget, secure: bool, how: str
) -> None:
    """vsftpd reads no command during an upload: only a reset tells it the upload failed."""
    name = f"cancelled-{how}-{os.urandom(6).hex()}.bin"
    with session(vsftpd_target, secure) as ftp:
        with within(TIMEOUT), pytest.raises(Cancelled):
            CANCELLED_UPLOADS[how](ftp, name, lambda: None)
        with pytest.raises(ftplib2.error_temp) as aborted:
            ftp.getresp()
        assert aborted.value.code == "426"
        assert ftp.voidcmd("NOOP")[:3] == "200"
        ftp.delete(name)


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
