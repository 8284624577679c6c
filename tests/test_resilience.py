"""Transfers that survive the network: reconnect, retries with resume, stall_timeout, cancel, keepalive.

Every test here runs real transfers through `fault_proxy.FaultProxy`, a seeded fault-injecting
TCP proxy between the client and a live server (pyftpdlib, and vsftpd where installed), which
cuts data connections with FIN or RST, cuts the control connection mid-transfer, stalls a data
connection, refuses one, and answers 421.  The same seed gives the same faults at the same byte
offsets, so a failure can be replayed.

Run only these tests::

    python -m pytest -q -p no:cacheprovider tests/test_resilience.py

The default run keeps to about a minute: 64 MiB transfers under two faults of each kind, for each
server, direction, and clear text or TLS (PROT P).  Behind the ``slow`` marker
(``-m slow``) are the full matrix, ten faults of each kind per 64 MiB transfer, and the soak
of 200 faults over 200 transfers.  Each prints its measurements (faults injected, transfers
completed, bytes sent again, stall detection times, cancel() latency) with ``-s``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import os
import pathlib
import random
import shutil
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from types import ModuleType

import pytest
import trustme
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import TLS_FTPHandler

import ftplib2
from tests.fault_proxy import (
    CONTROL,
    FIN,
    KINDS,
    REFUSE,
    REPLY_421,
    RST,
    STALL,
    Fault,
    FaultProxy,
    free_port_range,
)
from tests.servers import (
    HOSTILE_TIMEOUT,
    PASSWORD,
    TIMEOUT,
    USER,
    VSFTPD_PASSWORD,
    VSFTPD_USER,
    HostileControl,
    LiveServer,
    MirrorResult,
    VsftpdServer,
    _ensure_vsftpd_user,
    _vsftpd_unavailable,
    hostile_reset,
    hostile_serving,
    hostile_within,
    mirror_run,
    open_session,
    recv_all,
    running_server,
)

BIG = "big.bin"
BIG_SIZE = 64 << 20
STALL_TIMEOUT = 0.5


# --------------------------------------------------------------------------
# Servers behind the proxy
# --------------------------------------------------------------------------


@dataclasses.dataclass
class Backend:
    """A live server the proxy can stand in front of, as the tests need to know it."""

    name: str
    host: str
    port: int
    passive_ports: range
    user: str
    passwd: str
    root: pathlib.Path  # the login directory, on this machine
    owner: str | None = None  # who must own files put in `root` (vsftpd's user)

    def put(self, name: str, data: bytes) -> pathlib.Path:
        path = self.root / name
        path.write_bytes(data)
        if self.owner is not None:
            shutil.chown(path, self.owner)
        return path


def _big_payload() -> bytes:
    return os.urandom(BIG_SIZE)


@pytest.fixture(scope="session")
def big_payload() -> bytes:
    """BIG_SIZE random bytes, the file every big transfer moves."""
    return _big_payload()


@pytest.fixture(scope="session")
def proxy_certificate(
    certificate_authority: trustme.CA, tmp_path_factory: pytest.TempPathFactory
) -> pathlib.Path:
    """A server certificate that names the proxy's address too: clients verify it there."""
    directory = tmp_path_factory.mktemp("proxy-tls")
    directory.chmod(0o755)  # vsftpd reads it before dropping root, but be plain about it
    pem = directory / "server.pem"
    certificate_authority.issue_cert(
        "127.0.0.1", "127.0.0.2", "localhost"
    ).private_key_and_cert_chain_pem.write_to_path(str(pem))
    return pem


@pytest.fixture(scope="session")
def pyftpdlib_backend(
    tmp_path_factory: pytest.TempPathFactory, proxy_certificate: pathlib.Path
) -> Iterator[Backend]:
    """pyftpdlib (TLS optional) with a fixed passive range, for the proxy to listen on."""
    root = tmp_path_factory.mktemp("resilience-root")
    authorizer = DummyAuthorizer()
    authorizer.add_user(USER, PASSWORD, str(root), perm="elradfmwMT")
    ports = free_port_range(40)
    with running_server(
        ("127.0.0.1", 0),
        root,
        authorizer,
        handler_base=TLS_FTPHandler,
        certfile=str(proxy_certificate),
        ssl_context=None,
        passive_ports=list(ports),
    ) as live:
        yield Backend("pyftpdlib", live.host, live.port, ports, USER, PASSWORD, root)


def _vsftpd_passive_range(config: pathlib.Path) -> range:
    settings = dict(line.split("=", 1) for line in config.read_text().splitlines() if "=" in line)
    return range(int(settings["pasv_min_port"]), int(settings["pasv_max_port"]) + 1)


@pytest.fixture(scope="session")
def vsftpd_backend(
    tmp_path_factory: pytest.TempPathFactory, proxy_certificate: pathlib.Path
) -> Iterator[Backend]:
    """A vsftpd of its own (require_ssl_reuse=YES), skipped where vsftpd cannot run."""
    reason = _vsftpd_unavailable()
    if reason is not None:
        if os.environ.get("FTPLIB2_REQUIRE_VSFTPD"):
            pytest.fail(reason)
        pytest.skip(reason)
    _ensure_vsftpd_user()
    workdir = tmp_path_factory.mktemp("vsftpd-resilience")
    workdir.chmod(0o755)
    server = VsftpdServer(workdir, str(proxy_certificate))
    try:
        yield Backend(
            "vsftpd",
            server.host,
            server.port,
            _vsftpd_passive_range(workdir / "vsftpd.conf"),
            VSFTPD_USER,
            VSFTPD_PASSWORD,
            server.root,
            owner=VSFTPD_USER,
        )
    finally:
        server.stop()


@pytest.fixture(params=["pyftpdlib", "vsftpd"])
def backend(request: pytest.FixtureRequest) -> Backend:
    return request.getfixturevalue(f"{request.param}_backend")


@contextlib.contextmanager
def proxy_for(backend: Backend, seed: int, **options: object) -> Iterator[FaultProxy]:
    """A fault proxy in front of `backend`; on leaving, every socket it had is closed."""
    proxy = FaultProxy((backend.host, backend.port), backend.passive_ports, seed=seed, **options)
    try:
        yield proxy
    finally:
        proxy.stop()
        assert proxy.open_sockets() == 0, "the fault proxy left sockets open"


def client(
    backend: Backend,
    proxy: FaultProxy,
    *,
    tls: ssl.SSLContext | None = None,
    **options: object,
) -> ftplib2.FTP:
    """A passive session through `proxy`, logged in (with TLS and PROT P if `tls`)."""
    ftp: ftplib2.FTP
    if tls is not None:
        ftp = ftplib2.FTP_TLS(context=tls, timeout=TIMEOUT, **options)
    else:
        ftp = ftplib2.FTP(timeout=TIMEOUT, **options)
    try:
        ftp.connect(proxy.host, proxy.port)
        ftp.login(backend.user, backend.passwd)
        if tls is not None:
            ftp.prot_p()
    except BaseException:
        ftp.close()
        raise
    return ftp


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def sha256(data: bytes | pathlib.Path) -> str:
    if isinstance(data, pathlib.Path):
        digest = hashlib.sha256()
        with data.open("rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest()
    return hashlib.sha256(data).hexdigest()


def leftovers(directory: pathlib.Path) -> list[str]:
    """Partial files of download() left in `directory`."""
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".ftplib2-part"))


# --------------------------------------------------------------------------
# The proxy itself
# --------------------------------------------------------------------------


def test_proxy_without_faults_passes_a_big_download_unchanged(
    pyftpdlib_backend: Backend, big_payload: bytes, tmp_path: pathlib.Path
) -> None:
    pyftpdlib_backend.put(BIG, big_payload)
    with proxy_for(pyftpdlib_backend, seed=1) as proxy:
        with contextlib.closing(client(pyftpdlib_backend, proxy)) as ftp:
            assert ftp.download(BIG, tmp_path / "out") == BIG_SIZE
        assert proxy.bytes_to_client == BIG_SIZE
        assert proxy.fired == []
    assert sha256(tmp_path / "out") == sha256(big_payload)


def test_proxy_schedule_is_reproducible_from_its_seed(pyftpdlib_backend: Backend) -> None:
    def drawn(seed: int) -> list[tuple[str, int, str]]:
        with proxy_for(pyftpdlib_backend, seed=seed) as proxy:
            faults = proxy.schedule(list(KINDS) * 3, max_offset=1 << 24)
            return [(f.kind, f.offset, f.how) for f in faults]

    assert drawn(7) == drawn(7)
    assert drawn(7) != drawn(8)


@pytest.mark.parametrize("kind", [FIN, RST, CONTROL, REFUSE, REPLY_421])
def test_each_fault_breaks_a_plain_retrbinary(
    pyftpdlib_backend: Backend, big_payload: bytes, kind: str
) -> None:
    """ftplib's own methods never retry: each fault surfaces as an error of all_errors."""
    pyftpdlib_backend.put(BIG, big_payload)
    with proxy_for(pyftpdlib_backend, seed=2) as proxy:
        with contextlib.closing(client(pyftpdlib_backend, proxy)) as ftp:
            proxy.schedule([kind], max_offset=BIG_SIZE // 2)
            received = 0

            def count(block: bytes) -> None:
                nonlocal received
                received += len(block)

            with pytest.raises(ftplib2.all_errors):
                ftp.retrbinary("RETR " + BIG, count, check_size=True)
        assert [f.kind for f in proxy.fired] == [kind]
        assert received < BIG_SIZE


# --------------------------------------------------------------------------
# reconnect()
# --------------------------------------------------------------------------


def cut_control(ftp: ftplib2.FTP) -> None:
    """Break the control connection under the client, as a network would."""
    assert ftp.sock is not None
    ftp.sock.shutdown(socket.SHUT_RDWR)


def test_reconnect_restores_login_directory_and_mode(
    server: LiveServer, workdir: pathlib.Path
) -> None:
    (workdir / "sub").mkdir()
    (workdir / "sub" / "f.txt").write_bytes(b"in sub\n")
    ftp = open_session(server, workdir, passive=False)
    with contextlib.closing(ftp):
        ftp.cwd("sub")
        cut_control(ftp)
        with pytest.raises(ftplib2.all_errors):
            ftp.pwd()
        welcome = ftp.reconnect()
        assert welcome.startswith("220")
        assert ftp.getwelcome() == welcome
        assert ftp.pwd() == f"/{workdir.name}/sub"
        assert ftp.passiveserver is False
        assert ftp.nlst() == ["f.txt"]  # an active-mode data connection on the new session
        commands = server.commands_of(ftp)
        assert commands[:3] == [f"USER {USER}", f"PASS {PASSWORD}", f"CWD {workdir.name}"]
        assert "CWD sub" in commands


def test_reconnect_repeats_relative_cwds_after_the_last_absolute_one(
    server: LiveServer, workdir: pathlib.Path
) -> None:
    (workdir / "a" / "b").mkdir(parents=True)
    ftp = open_session(server)
    with contextlib.closing(ftp):
        ftp.cwd("/" + workdir.name)
        ftp.cwd("a")
        ftp.cwd("b")
        ftp.cwd("..")
        ftp.reconnect()
        assert ftp.pwd() == f"/{workdir.name}/a"
        assert server.commands_of(ftp)[2:] == [
            f"CWD /{workdir.name}",
            "CWD a",
            "CWD b",
            "CDUP",
            "PWD",
        ]


def test_reconnect_keeps_a_long_walk_short_with_one_pwd(
    server: LiveServer, workdir: pathlib.Path
) -> None:
    (workdir / "d").mkdir()
    ftp = open_session(server, workdir)
    with contextlib.closing(ftp):
        for _ in range(20):
            ftp.cwd("d")
            ftp.cwd("..")
        ftp.reconnect()
        assert ftp.pwd() == f"/{workdir.name}"
        # USER, PASS, at most 17 CWDs (from the last PWD on), PWD: not the 40 of the walk.
        assert len(server.commands_of(ftp)) <= 20


def test_reconnect_restores_tls_and_prot_p(
    tls_server: LiveServer, tls_client_context: ssl.SSLContext, workdir: pathlib.Path
) -> None:
    (workdir / "f.bin").write_bytes(b"x" * 1000)
    ftp = open_session(tls_server, cls=ftplib2.FTP_TLS, context=tls_client_context)
    with contextlib.closing(ftp):
        ftp.prot_p()
        ftp.cwd(workdir.name)
        cut_control(ftp)
        with pytest.raises(ftplib2.all_errors):
            ftp.voidcmd("NOOP")
        ftp.reconnect()
        assert isinstance(ftp.sock, ssl.SSLSocket)
        conn = ftp.transfercmd("RETR f.bin")
        try:
            assert isinstance(conn, ssl.SSLSocket)  # PROT P again
            assert conn.session_reused
            assert recv_all(conn) == b"x" * 1000
        finally:
            conn.close()
        assert ftp.voidresp().code == "226"
        assert server_commands_start(tls_server, ftp) == [
            "AUTH TLS", f"USER {USER}", f"PASS {PASSWORD}", "PBSZ 0", "PROT P", f"CWD {workdir.name}"
        ]  # fmt: skip


def server_commands_start(server: LiveServer, ftp: ftplib2.FTP) -> list[str]:
    commands = server.commands_of(ftp)
    return commands[: commands.index(f"CWD {ftp.pwd().rsplit('/', 1)[-1]}") + 1]


def test_reconnect_after_an_insecure_tls_login_stays_in_clear(
    tls_server: LiveServer, tls_client_context: ssl.SSLContext
) -> None:
    ftp = ftplib2.FTP_TLS(context=tls_client_context, timeout=TIMEOUT)
    with contextlib.closing(ftp):
        ftp.connect(tls_server.host, tls_server.port)
        ftp.login(USER, PASSWORD, secure=False)
        ftp.reconnect()
        assert not isinstance(ftp.sock, ssl.SSLSocket)
        assert ftp.pwd() == "/"


def test_reconnect_restores_tls_session_reuse_for_vsftpd(
    vsftpd_backend: Backend, tls_client_context: ssl.SSLContext, tmp_path: pathlib.Path
) -> None:
    """vsftpd (require_ssl_reuse=YES) refuses a data connection that does not resume the session."""
    vsftpd_backend.put("reuse.bin", b"r" * 100_000)
    with proxy_for(vsftpd_backend, seed=3) as proxy:
        ftp = client(vsftpd_backend, proxy, tls=tls_client_context)
        with contextlib.closing(ftp):
            cut_control(ftp)
            ftp.reconnect()
            assert ftp.download("reuse.bin", tmp_path / "reuse.bin") == 100_000


def test_reconnect_failure_leaves_the_object_closed(server: LiveServer) -> None:
    ftp = open_session(server)
    with contextlib.closing(ftp):
        ftp.login(USER, PASSWORD)
        ftp.port = 1  # nothing listens there
        with pytest.raises(OSError):
            ftp.reconnect()
        assert ftp.sock is None


# --------------------------------------------------------------------------
# Keepalive
# --------------------------------------------------------------------------


def keepalive_of(sock: socket.socket) -> tuple[int, int, int, int]:
    return (
        sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
        sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
        sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL),
        sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT),
    )


@pytest.mark.skipif(not hasattr(socket, "TCP_KEEPIDLE"), reason="no TCP_KEEPIDLE here")
def test_control_connection_has_tcp_keepalive_by_default(server: LiveServer) -> None:
    ftp = open_session(server)
    with contextlib.closing(ftp):
        assert keepalive_of(ftp.sock) == (1, 60, 15, 4)


@pytest.mark.skipif(not hasattr(socket, "TCP_KEEPIDLE"), reason="no TCP_KEEPIDLE here")
def test_tcp_keepalive_setting_is_applied_and_can_be_turned_off(
    server: LiveServer, tls_server: LiveServer, tls_client_context: ssl.SSLContext
) -> None:
    class Eager(ftplib2.FTP_TLS):
        tcp_keepalive = (20, 5, 3)

    with contextlib.closing(open_session(tls_server, cls=Eager, context=tls_client_context)) as ftp:
        assert keepalive_of(ftp.sock) == (1, 20, 5, 3)  # under TLS too
        ftp.reconnect()
        assert keepalive_of(ftp.sock) == (1, 20, 5, 3)
    plain = ftplib2.FTP(timeout=TIMEOUT)
    plain.tcp_keepalive = None
    with contextlib.closing(plain):
        plain.connect(server.host, server.port)
        assert plain.sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 0


# --------------------------------------------------------------------------
# stall_timeout
# --------------------------------------------------------------------------


def reacted(fault: Fault) -> None:
    """Wait until the proxy has seen the client react to a stall (its thread may lag behind)."""
    deadline = time.monotonic() + 2
    while fault.reacted is None and time.monotonic() < deadline:
        time.sleep(0.01)


def test_stall_timeout_is_keyword_only_and_checked() -> None:
    assert ftplib2.FTP().stall_timeout is None
    assert ftplib2.FTP(stall_timeout=2.5).stall_timeout == 2.5
    assert ftplib2.FTP_TLS(stall_timeout=1).stall_timeout == 1
    with pytest.raises(ValueError):
        ftplib2.FTP(stall_timeout=0)
    with pytest.raises(TypeError):
        ftplib2.FTP("", "", "", "", 10, None, "utf-8")  # type: ignore[misc]


@pytest.mark.parametrize("tls", [False, True], ids=["clear", "tls"])
@pytest.mark.parametrize("direction", ["download", "upload"])
def test_stalled_transfer_raises_timeout_error_within_stall_timeout(
    pyftpdlib_backend: Backend,
    big_payload: bytes,
    tls_client_context: ssl.SSLContext,
    tmp_path: pathlib.Path,
    direction: str,
    tls: bool,
) -> None:
    """Detected in stall_timeout (+ 1 s at most), though `timeout` is far longer."""
    pyftpdlib_backend.put(BIG, big_payload)
    source = tmp_path / "source.bin"
    source.write_bytes(big_payload)
    with proxy_for(pyftpdlib_backend, seed=4) as proxy:
        context = tls_client_context if tls else None
        ftp = client(pyftpdlib_backend, proxy, tls=context, stall_timeout=STALL_TIMEOUT)
        with contextlib.closing(ftp):
            (fault,) = proxy.schedule([STALL], max_offset=BIG_SIZE // 4)
            started = time.monotonic()
            with pytest.raises(TimeoutError):
                if direction == "download":
                    ftp.download(BIG, tmp_path / "out.bin")
                else:
                    ftp.upload(source, f"up-{tls}.bin")
            raised = time.monotonic()
            assert fault.fired is not None
            assert raised - fault.fired <= STALL_TIMEOUT + 1.0
            assert raised - started < TIMEOUT
            reacted(fault)
            assert fault.detection is not None and fault.detection <= STALL_TIMEOUT + 1.0
        print(f"\nstall ({direction}, tls={tls}) detected in {fault.detection:.3f} s")


# --------------------------------------------------------------------------
# download() and upload() with retries, under faults
# --------------------------------------------------------------------------

FAULTS_PER_KIND = 2  # per 64 MiB transfer in the default run; `slow` runs ten
MEASURED: list[dict[str, object]] = []  # printed at the end of the module, with -s


@pytest.fixture(scope="module", autouse=True)
def report_measurements() -> Iterator[None]:
    yield
    if not MEASURED:
        return
    print("\n\nresilience measurements:")
    for row in MEASURED:
        print("  " + ", ".join(f"{key}={value}" for key, value in row.items()))


def wait_for_fds(limit: int) -> int:
    """The process's open fds, once they are back to `limit` (servers in threads close late)."""
    deadline = time.monotonic() + 5
    while (count := open_fds()) > limit and time.monotonic() < deadline:
        time.sleep(0.05)
    return count


def transfer_under_faults(
    backend: Backend,
    payload: bytes,
    tmp_path: pathlib.Path,
    *,
    direction: str,
    context: ssl.SSLContext | None,
    kinds: list[str],
    seed: int,
    max_rounds: int = 10,
) -> dict[str, object]:
    """64 MiB downloads or uploads with `retries` until all `kinds` of faults have been injected.

    Usually one transfer takes them all; but a fault can let a transfer finish (vsftpd goes on
    sending when the control connection is cut), and then the next transfer takes the rest.
    Each must end with an identical file, no partial file, and the bytes sent again within
    a fifth of the file; afterwards the process has no more fds open than before.
    """
    if direction == "download":
        backend.put(BIG, payload)
    source = tmp_path / "source.bin"
    source.write_bytes(payload)
    digest = sha256(payload)
    fds = open_fds()
    rounds = 0
    resent = []
    with proxy_for(backend, seed=seed) as proxy:
        ftp = client(backend, proxy, tls=context, stall_timeout=STALL_TIMEOUT)
        with contextlib.closing(ftp):
            ftp.retry_delay = 0.01
            data_faults = sum(kind != REPLY_421 for kind in kinds)
            proxy.schedule(kinds, max_offset=len(payload) // (data_faults + 1))
            started = time.monotonic()
            while proxy.pending() and rounds < max_rounds:
                rounds += 1
                before = proxy.bytes_to_client + proxy.bytes_to_server
                if direction == "download":
                    result = tmp_path / f"copy-{rounds}.bin"
                    total = ftp.download(BIG, result, retries=2 * len(kinds) + 2)
                else:
                    result = backend.root / f"up-{seed}-{rounds}-{os.getpid()}.bin"
                    total = ftp.upload(source, result.name, retries=2 * len(kinds) + 2)
                moved = proxy.bytes_to_client + proxy.bytes_to_server - before
                assert total == len(payload)
                assert sha256(result) == digest
                result.unlink()
                assert leftovers(tmp_path) == []
                resent.append(moved - len(payload))
                assert resent[-1] <= 0.2 * len(payload)
            elapsed = time.monotonic() - started
        assert proxy.pending() == 0, "some faults never fired"
        stalls = [f.detection for f in proxy.fired if f.kind == STALL]
        fired = len(proxy.fired)
    assert wait_for_fds(fds) <= fds
    assert all(d is not None and d <= STALL_TIMEOUT + 1.0 for d in stalls), stalls
    row = {
        "server": backend.name,
        "tls": context is not None,
        "direction": direction,
        "faults": fired,
        "transfers": rounds,
        "resent_MiB": round(sum(resent) / (1 << 20), 2),
        "resent_ratio_max": round(max(resent) / len(payload), 3),
        "stall_detection_s": [round(d, 3) for d in stalls if d is not None],
        "seconds": round(elapsed, 2),
    }
    MEASURED.append(row)
    return row


@pytest.mark.parametrize("tls", [False, True], ids=["clear", "tls"])
@pytest.mark.parametrize("direction", ["download", "upload"])
def test_big_transfer_with_retries_survives_every_kind_of_fault(
    backend: Backend,
    big_payload: bytes,
    tls_client_context: ssl.SSLContext,
    tmp_path: pathlib.Path,
    direction: str,
    tls: bool,
) -> None:
    kinds = [kind for kind in KINDS for _ in range(FAULTS_PER_KIND)]
    transfer_under_faults(
        backend, big_payload, tmp_path,
        direction=direction, context=tls_client_context if tls else None,
        kinds=kinds, seed=hash((backend.name, direction, tls)) & 0xFFFF,
    )  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("tls", [False, True], ids=["clear", "tls"])
@pytest.mark.parametrize("direction", ["download", "upload"])
def test_big_transfer_with_retries_survives_ten_faults_of_each_kind(
    backend: Backend,
    big_payload: bytes,
    tls_client_context: ssl.SSLContext,
    tmp_path: pathlib.Path,
    direction: str,
    tls: bool,
    kind: str,
) -> None:
    if kind == REPLY_421 and tls:
        kinds = [REPLY_421, FIN] * 10  # under TLS a 421 answers a reconnection: cause them
    else:
        kinds = [kind] * 10
    transfer_under_faults(
        backend, big_payload, tmp_path,
        direction=direction, context=tls_client_context if tls else None,
        kinds=kinds, seed=hash((backend.name, direction, tls, kind)) & 0xFFFF,
    )  # fmt: skip


@pytest.mark.parametrize("kind", KINDS)
def test_download_without_retries_raises_the_fault_and_leaves_no_final_file(
    pyftpdlib_backend: Backend, big_payload: bytes, tmp_path: pathlib.Path, kind: str
) -> None:
    pyftpdlib_backend.put(BIG, big_payload)
    final = tmp_path / "final.bin"
    with proxy_for(pyftpdlib_backend, seed=11) as proxy:
        ftp = client(pyftpdlib_backend, proxy, stall_timeout=STALL_TIMEOUT)
        with contextlib.closing(ftp):
            proxy.schedule([kind], max_offset=BIG_SIZE // 2)
            with pytest.raises(ftplib2.all_errors) as raised:
                ftp.download(BIG, final)
        assert [f.kind for f in proxy.fired] == [kind]
    assert not final.exists()
    # The error itself, as the network or the server gave it: nothing wraps it.
    assert type(raised.value) in {
        ConnectionResetError, BrokenPipeError, EOFError, TimeoutError,
        ftplib2.error_temp, ftplib2._ShortTransfer,
    }  # fmt: skip


def test_retries_run_out_and_the_last_error_is_raised(
    pyftpdlib_backend: Backend, big_payload: bytes, tmp_path: pathlib.Path
) -> None:
    pyftpdlib_backend.put(BIG, big_payload)
    with proxy_for(pyftpdlib_backend, seed=12) as proxy:
        ftp = client(pyftpdlib_backend, proxy)
        with contextlib.closing(ftp):
            ftp.retry_delay = 0.01
            proxy.schedule([RST] * 3, max_offset=BIG_SIZE // 8)
            with pytest.raises(ConnectionResetError):
                ftp.download(BIG, tmp_path / "final.bin", retries=2)
        assert len(proxy.fired) == 3
        assert proxy.control_connections == 3  # the first connection and two reconnections
    assert not (tmp_path / "final.bin").exists()
    # What was received is kept for a later resume.
    (partial,) = leftovers(tmp_path)
    assert 0 < (tmp_path / partial).stat().st_size < BIG_SIZE


def test_a_local_error_is_never_retried(
    pyftpdlib_backend: Backend, big_payload: bytes, tmp_path: pathlib.Path
) -> None:
    pyftpdlib_backend.put(BIG, big_payload)

    class Full(OSError):
        pass

    def callback(n: int) -> None:
        raise ConnectionResetError("a callback's own error, not the network's")

    with proxy_for(pyftpdlib_backend, seed=13) as proxy:
        ftp = client(pyftpdlib_backend, proxy)
        with contextlib.closing(ftp):
            with pytest.raises(ConnectionResetError, match="callback"):
                ftp.download(BIG, tmp_path / "f.bin", callback=callback, retries=5)
            assert proxy.control_connections == 1
            ftp.retry_delay = 0.01
            sink = io.BytesIO()
            with pytest.raises(ftplib2.error_perm):  # the server's refusal: not retried either
                ftp.download("missing.bin", sink, retries=5)
        assert proxy.control_connections == 1


# --------------------------------------------------------------------------
# cancel()
# --------------------------------------------------------------------------


class Canceller:
    """Runs a transfer in a thread and cancels it from this one once `after` bytes have moved."""

    def __init__(self, ftp: ftplib2.FTP, after: int) -> None:
        self.ftp = ftp
        self.after = after
        self.moved = 0
        self.started = threading.Event()
        self.outcome: BaseException | int | None = None
        self.ended = 0.0

    def callback(self, n: int) -> None:
        self.moved += n
        if self.moved >= self.after:
            self.started.set()
        time.sleep(0.003)  # a slower link, so that the transfer is still running when cancelled

    def run(self, transfer: Callable[[Callable[[int], None]], int]) -> float:
        """Start `transfer(callback)`, cancel it; return the seconds from cancel() to its end."""

        def target() -> None:
            try:
                self.outcome = transfer(self.callback)
            except BaseException as exc:  # noqa: BLE001 - examined by the test
                self.outcome = exc
            self.ended = time.monotonic()

        thread = threading.Thread(target=target)
        thread.start()
        try:
            assert self.started.wait(TIMEOUT), "the transfer did not get going"
            cancelled = time.monotonic()
            assert self.ftp.cancel() is True
        finally:
            thread.join(TIMEOUT)
        assert not thread.is_alive()
        return self.ended - cancelled


@pytest.mark.parametrize("tls", [False, True], ids=["clear", "tls"])
@pytest.mark.parametrize("direction", ["download", "upload"])
def test_cancel_stops_a_big_transfer_within_a_second_and_the_connection_stays_usable(
    backend: Backend,
    big_payload: bytes,
    tls_client_context: ssl.SSLContext,
    tmp_path: pathlib.Path,
    direction: str,
    tls: bool,
) -> None:
    backend.put(BIG, big_payload)
    source = tmp_path / "source.bin"
    source.write_bytes(big_payload)
    target = tmp_path / "copy.bin"
    with proxy_for(backend, seed=21) as proxy:
        ftp = client(backend, proxy, tls=tls_client_context if tls else None)
        with contextlib.closing(ftp):
            canceller = Canceller(ftp, after=4 << 20)
            if direction == "download":
                latency = canceller.run(lambda cb: ftp.download(BIG, target, callback=cb))
            else:
                latency = canceller.run(
                    lambda cb: ftp.upload(source, f"cancel-{tls}.bin", callback=cb)
                )
            assert isinstance(canceller.outcome, ftplib2.Cancelled)
            assert isinstance(canceller.outcome, ftplib2.all_errors)
            assert canceller.moved < BIG_SIZE
            # An upload is aborted with ABOR, then the server gets up to a second to act on it
            # before its data connection is reset: vsftpd reads no command during an upload.
            assert latency < (1.0 if direction == "download" or backend.name != "vsftpd" else 1.5)
            assert not target.exists()
            # The same connection goes on: no reconnection, and the next commands get their replies.
            assert ftp.voidcmd("NOOP").code == "200"
            assert ftp.size(BIG) == BIG_SIZE
            backend.put("small.bin", b"s" * 1000)
            assert ftp.download("small.bin", tmp_path / "small.bin") == 1000
            assert ftp.cancel() is False  # nothing running
        assert proxy.control_connections == 1
    MEASURED.append(
        {"cancel": backend.name, "tls": tls, "direction": direction, "latency_s": round(latency, 3)}
    )


def test_cancel_stops_the_retries_while_they_wait(
    pyftpdlib_backend: Backend, big_payload: bytes, tmp_path: pathlib.Path
) -> None:
    pyftpdlib_backend.put(BIG, big_payload)
    with proxy_for(pyftpdlib_backend, seed=22) as proxy:
        ftp = client(pyftpdlib_backend, proxy)
        with contextlib.closing(ftp):
            ftp.retry_delay = 30.0
            proxy.schedule([RST], max_offset=BIG_SIZE // 4)
            canceller = Canceller(ftp, after=BIG_SIZE)  # never: cancelled once the fault fired
            deadline = time.monotonic() + TIMEOUT

            def fault_fired(cb: Callable[[int], None]) -> None:
                while not proxy.fired and time.monotonic() < deadline:
                    time.sleep(0.01)
                time.sleep(0.1)  # in the retry's wait by now
                canceller.started.set()

            waiter = threading.Thread(target=fault_fired, args=(None,))
            waiter.start()
            latency = canceller.run(lambda cb: ftp.download(BIG, tmp_path / "copy.bin", retries=3))
            waiter.join()
            assert isinstance(canceller.outcome, ftplib2.Cancelled)
            assert isinstance(canceller.outcome.__cause__, ConnectionResetError)
            assert latency < 1.0
        assert proxy.control_connections == 1  # no reconnection was made


def test_a_cancel_between_transfers_is_spent(server: LiveServer, workdir: pathlib.Path) -> None:
    (workdir / "f.bin").write_bytes(b"f" * 100_000)
    ftp = open_session(server, workdir)
    with contextlib.closing(ftp):
        assert ftp.cancel() is False
        out = io.BytesIO()
        assert ftp.download("f.bin", out) == 100_000


# --------------------------------------------------------------------------
# ftpmirror --retries
# --------------------------------------------------------------------------


def make_remote_tree(backend: Backend, name: str) -> dict[str, str]:
    """A tree to mirror in `backend`'s root: six 3 MiB files and twenty small ones."""
    rng = random.Random(name)
    top = backend.root / name
    (top / "sub").mkdir(parents=True)
    for n in range(6):
        (top / f"big-{n}.bin").write_bytes(rng.randbytes(3 << 20))
    for n in range(20):
        (top / "sub" / f"small-{n}.txt").write_bytes(rng.randbytes(rng.randrange(1, 5000)))
    return tree_digest(top)


def tree_digest(top: pathlib.Path) -> dict[str, str]:
    return {
        str(path.relative_to(top)): sha256(path)
        for path in sorted(top.rglob("*"))
        if path.is_file() and path.name != ".ftpmirror.json" and not path.name.endswith("-part")
    }


def mirror_through(
    tool: ModuleType,
    backend: Backend,
    proxy: FaultProxy,
    remote: str,
    local: pathlib.Path,
    *extra: str,
) -> MirrorResult:
    return mirror_run(
        tool, "-l", backend.user, "-p", backend.passwd, "--timeout", "2", *extra,
        f"{proxy.host}:{proxy.port}", remote, local,
    )  # fmt: skip


def test_ftpmirror_with_retries_converges_byte_identical_under_faults(
    pyftpdlib_backend: Backend, mirror_tool: ModuleType, tmp_path: pathlib.Path
) -> None:
    """Cuts (FIN, RST), control connections cut and stalls hit file transfers; one run finishes."""
    expected = make_remote_tree(pyftpdlib_backend, "tree-a")
    local = tmp_path / "mirror"
    with proxy_for(pyftpdlib_backend, seed=31) as proxy:
        # Past any listing, within a 3 MiB file: only file transfers are cut.
        proxy.schedule([FIN, RST, CONTROL, STALL] * 2, min_offset=1 << 16, max_offset=2 << 20)
        # Eight faults over six files: one file may take several of them.
        result = mirror_through(
            mirror_tool, pyftpdlib_backend, proxy, "tree-a", local, "--retries", "10"
        )
        assert proxy.pending() == 0
        fired = len(proxy.fired)
    assert result.status == 0, result.err
    assert result.summary["errors"] == 0
    assert tree_digest(local) == expected
    assert not [p for p in local.rglob("*") if "part" in p.name]
    MEASURED.append({"ftpmirror": "tree-a", "faults": fired, "files": len(expected)})


def test_ftpmirror_without_retries_reports_the_flaky_file_and_goes_on(
    pyftpdlib_backend: Backend, mirror_tool: ModuleType, tmp_path: pathlib.Path
) -> None:
    expected = make_remote_tree(pyftpdlib_backend, "tree-b")
    local = tmp_path / "mirror"
    with proxy_for(pyftpdlib_backend, seed=32) as proxy:
        proxy.schedule([RST], min_offset=1 << 16, max_offset=2 << 20)
        first = mirror_through(
            mirror_tool, pyftpdlib_backend, proxy, "tree-b", local, "--retries", "0"
        )
        assert first.status == 1
        assert len(first.error_lines) == 1  # one file failed; the others were mirrored
        assert len(tree_digest(local)) == len(expected) - 1
        second = mirror_through(mirror_tool, pyftpdlib_backend, proxy, "tree-b", local)
    assert second.status == 0, second.err
    assert tree_digest(local) == expected


# --------------------------------------------------------------------------
# The soak
# --------------------------------------------------------------------------

SOAK_FAULTS = 200
SOAK_TRANSFERS = 200
SOAK_SIZE = 4 << 20


@pytest.mark.slow
@pytest.mark.parametrize("tls", [False, True], ids=["clear", "tls"])
def test_soak_200_faults_over_200_transfers(
    backend: Backend, tls_client_context: ssl.SSLContext, tmp_path: pathlib.Path, tls: bool
) -> None:
    """Downloads and uploads in turn, one fault each (kinds in turn), until both counts are reached."""
    payload = random.Random(41).randbytes(SOAK_SIZE)
    digest = sha256(payload)
    backend.put("soak.bin", payload)
    source = tmp_path / "source.bin"
    source.write_bytes(payload)
    fds = open_fds()
    completed = scheduled = 0
    with proxy_for(backend, seed=41) as proxy:
        ftp = client(backend, proxy, tls=tls_client_context if tls else None, stall_timeout=0.3)
        with contextlib.closing(ftp):
            ftp.retry_delay = 0.01
            started = time.monotonic()
            while completed < SOAK_TRANSFERS or proxy.pending():
                assert completed < 2 * SOAK_TRANSFERS, "faults are not being injected"
                if scheduled < SOAK_FAULTS:
                    kinds = [KINDS[completed % len(KINDS)]]
                    if tls and kinds == [REPLY_421]:  # under TLS, only a reconnection's greeting
                        kinds = [RST, REPLY_421][: SOAK_FAULTS - scheduled]
                    proxy.schedule(kinds, min_offset=1 << 16, max_offset=SOAK_SIZE // 2)
                    scheduled += len(kinds)
                if completed % 2:
                    result = tmp_path / "soak-copy.bin"
                    assert ftp.download("soak.bin", result, retries=5) == SOAK_SIZE
                else:
                    result = backend.root / f"soak-up-{tls}.bin"
                    assert ftp.upload(source, result.name, retries=5) == SOAK_SIZE
                assert sha256(result) == digest
                result.unlink()
                completed += 1
            elapsed = time.monotonic() - started
        fired = len(proxy.fired)
        stalls = [f.detection for f in proxy.fired if f.kind == STALL and f.detection is not None]
        moved = proxy.bytes_to_client + proxy.bytes_to_server
    assert fired == SOAK_FAULTS
    assert leftovers(tmp_path) == []
    assert wait_for_fds(fds) <= fds
    MEASURED.append(
        {
            "soak": backend.name, "tls": tls, "faults": fired, "transfers": completed,
            "resent_ratio": round((moved - completed * SOAK_SIZE) / (completed * SOAK_SIZE), 3),
            "stall_detection_max_s": round(max(stalls), 3), "seconds": round(elapsed, 1),
        }
    )  # fmt: skip


# --------------------------------------------------------------------------
# A TLS data connection reset before its handshake
# --------------------------------------------------------------------------


def test_tls_data_connection_reset_before_the_handshake_leaves_no_socket_open(
    hostile_server, certificate_authority: trustme.CA, tls_client_context: ssl.SSLContext
) -> None:
    """CPython's wrap_socket() leaks the SSLSocket it made when its recv(1) probe of a connection
    that is no longer connected fails with ECONNRESET; seen under the refuse fault.  The
    autouse no_socket_left_open fixture fails this test if the socket is left open."""
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    certificate_authority.issue_cert("127.0.0.1").configure_cert(server_context)

    def retr(ctl: HostileControl, argument: str) -> None:
        hostile_reset(ctl.accept_data())  # a firewall's answer, before any TLS
        ctl.sleep(0.1)  # the reset reaches the client before the reply does
        ctl.reply("150 Opening BINARY mode data connection.")
        ctl.reply("426 Connection reset.")

    server = hostile_server(hostile_serving({"RETR": retr}))
    ftp = server.connect(cls=ftplib2.FTP_TLS, context=tls_client_context)
    with contextlib.closing(ftp):
        ftp.login("user", "secret", secure=False)  # the control connection is not under test
        ftp.prot_p()
        with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.all_errors):
            ftp.retrbinary("RETR file.bin", lambda block: None)
        assert ftp.voidcmd("NOOP").code == "200"  # and the connection stays in step
