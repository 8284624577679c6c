"""FTP through real proxies: SOCKS5 and SOCKS4 (dante), HTTP CONNECT (tinyproxy) (issue 18).

The proxies (tests/proxy_servers.py) listen on 127.0.0.2 and connect out from it; the FTP
servers here are live pyftpdlib servers on 127.0.0.1 that record the peer address of every
control and data connection they take, so each test proves that all of them came from the
proxy, none from the client. Through each proxy: login and listings, 64 MiB up and down with
the same sha256, passive mode and (SOCKS) active mode through BIND, FTP_TLS with PROT P end to
end through the tunnel, proxy authentication right and wrong, names resolved by the proxy,
the proxy's refusals as ProxyError naming the proxy and its reply code, and urlopen, the
urllib handlers and ftpmirror --proxy passing the proxy on.

The proxies need dante-server and tinyproxy (Debian) and root; without them these tests are
skipped, unless FTPLIB2_REQUIRE_PROXIES=1 (as in .ci/run). Run only these tests with::

    python -m pytest -q -p no:cacheprovider tests/test_proxies.py
"""

from __future__ import annotations

import collections
import hashlib
import io
import os
import socket
import ssl
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import trustme
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import DTPHandler, TLS_DTPHandler, TLS_FTPHandler
from pyftpdlib.handlers.ftp.dispatchers import ActiveDTP

import ftplib2
from tests.proxy_servers import (
    HTTP_PASSWORD,
    HTTP_USER,
    PROXY_HOST,
    SERVER_NAME,
    SOCKS_PASSWORD,
    SOCKS_USER,
    ProxyProcess,
    dante,
    free_port,
    proxy_url,
    tinyproxy,
)
from tests.servers import (
    PASSWORD,
    TIMEOUT,
    USER,
    LiveServer,
    _quiet_pyftpdlib,
    _TestServerBehaviour,
    mirror_run,
)

PAYLOAD_SIZE = 64 << 20
CLIENT_HOST = "127.0.0.1"
OTHER_HOST = "127.0.0.3"


# --------------------------------------------------------------------------
# FTP servers that record where each connection came from
# --------------------------------------------------------------------------


class _PeerRecorder(_TestServerBehaviour):
    """Records ("control", address) for each session the server starts."""

    peers: list[tuple[str, str]]

    def handle(self) -> None:
        self.peers.append(("control", self.remote_ip))
        super().handle()


def _recording(dtp_base: type[DTPHandler]) -> type[DTPHandler]:
    """`dtp_base`, recording ("data", address) for each data connection, passive or active."""

    class Recording(dtp_base):  # type: ignore[valid-type, misc]
        def __init__(self, sock: socket.socket, cmd_channel: _PeerRecorder) -> None:
            cmd_channel.peers.append(("data", sock.getpeername()[0]))
            super().__init__(sock, cmd_channel)

    return Recording


class RecordingServer:
    """A live pyftpdlib server on 127.0.0.1, and the peers of the connections it took."""

    def __init__(self, root: Path, **handler_attributes: object) -> None:
        authorizer = DummyAuthorizer()
        authorizer.add_user(USER, PASSWORD, str(root), perm="elradfmwMT")
        self.root = root
        self.peers: list[tuple[str, str]] = []
        _quiet_pyftpdlib()
        self.live = LiveServer(
            (CLIENT_HOST, 0), root, authorizer, mixins=(_PeerRecorder,), peers=self.peers,
            **handler_attributes,
        )  # fmt: skip
        self.port = self.live.port

    def forget(self) -> None:
        self.peers.clear()
        self.live.received.clear()

    def commands(self) -> list[str]:
        return [line for lines in self.live.received.values() for line in lines]

    def assert_all_from_proxy(self, control: int, data: int) -> None:
        """The server took `control` sessions and `data` data connections, all from the proxy."""
        seen = collections.Counter(self.peers)
        expected = collections.Counter(
            {("control", PROXY_HOST): control, ("data", PROXY_HOST): data}
        )
        assert seen == +expected, f"connections (kind, peer) the server saw: {self.peers}"


@pytest.fixture(scope="session")
def proxy_ftp_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("proxy-ftp-root")


@pytest.fixture(scope="session")
def recording_server(proxy_ftp_root: Path) -> Iterator[RecordingServer]:
    server = RecordingServer(proxy_ftp_root, dtp_handler=_recording(DTPHandler))
    yield server
    server.live.stop()


@pytest.fixture(scope="session")
def recording_tls_server(
    proxy_ftp_root: Path,
    certificate_authority: trustme.CA,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RecordingServer]:
    pem = tmp_path_factory.mktemp("proxy-tls") / "server.pem"
    certificate_authority.issue_cert(CLIENT_HOST).private_key_and_cert_chain_pem.write_to_path(
        str(pem)
    )
    server = RecordingServer(
        proxy_ftp_root,
        handler_base=TLS_FTPHandler,
        dtp_handler=_recording(TLS_DTPHandler),
        certfile=str(pem),
        ssl_context=None,
    )
    yield server
    server.live.stop()


@pytest.fixture
def ftp_server(recording_server: RecordingServer) -> RecordingServer:
    recording_server.forget()
    return recording_server


@pytest.fixture
def tls_ftp_server(recording_tls_server: RecordingServer) -> RecordingServer:
    recording_tls_server.forget()
    return recording_tls_server


@pytest.fixture
def remote_dir(proxy_ftp_root: Path) -> Path:
    """A fresh directory of the servers' root, for this test's files only."""
    return Path(tempfile.mkdtemp(prefix="p-", dir=proxy_ftp_root))


@pytest.fixture(scope="session")
def payload(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """PAYLOAD_SIZE random bytes in a local file."""
    path = tmp_path_factory.mktemp("payload") / "payload.bin"
    with path.open("wb") as f:
        for _ in range(PAYLOAD_SIZE >> 20):
            f.write(os.urandom(1 << 20))
    return path


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------
# The proxies
# --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def dante_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProxyProcess]:
    """dante without authentication: SOCKS4 and SOCKS5, CONNECT and BIND."""
    with dante(tmp_path_factory.mktemp("dante")) as proxy:
        yield proxy


@pytest.fixture(scope="session")
def dante_auth_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProxyProcess]:
    """dante asking SOCKS5 clients for SOCKS_USER and SOCKS_PASSWORD (RFC 1929)."""
    with dante(tmp_path_factory.mktemp("dante-auth"), authenticate=True) as proxy:
        yield proxy


@pytest.fixture(scope="session")
def http_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProxyProcess]:
    """tinyproxy asking for HTTP_USER and HTTP_PASSWORD."""
    with tinyproxy(tmp_path_factory.mktemp("tinyproxy")) as proxy:
        yield proxy


def url_of(request: pytest.FixtureRequest, kind: str) -> str:
    """The URL of a working proxy of `kind` (with the credentials it wants)."""
    if kind == "http":
        port = request.getfixturevalue("http_proxy").port
        return proxy_url("http", port, HTTP_USER, HTTP_PASSWORD)
    return proxy_url(kind, request.getfixturevalue("dante_proxy").port)


@pytest.fixture(params=["socks5", "socks4a", "http"])
def proxy(request: pytest.FixtureRequest) -> str:
    """The URL of each kind of proxy in turn."""
    return url_of(request, request.param)


def connect(
    server: RecordingServer,
    proxy: str,
    remote_dir: Path | None = None,
    *,
    cls: type[ftplib2.FTP] = ftplib2.FTP,
    host: str = CLIENT_HOST,
    passive: bool = True,
    timeout: float = TIMEOUT,
    **kwargs: object,
) -> ftplib2.FTP:
    """A session through `proxy`, logged in, inside `remote_dir`; the caller closes it."""
    ftp = cls(timeout=timeout, proxy=proxy, **kwargs)
    try:
        ftp.connect(host, server.port)
        ftp.login(USER, PASSWORD)
        ftp.set_pasv(passive)
        if remote_dir is not None:
            ftp.cwd(remote_dir.name)
    except BaseException:
        ftp.close()
        raise
    return ftp


# --------------------------------------------------------------------------
# Sessions, listings and transfers through each proxy
# --------------------------------------------------------------------------


def test_login_and_listings_go_through_the_proxy(
    ftp_server: RecordingServer, proxy: str, remote_dir: Path
) -> None:
    (remote_dir / "a.txt").write_bytes(b"alpha\n")
    (remote_dir / "sub").mkdir()
    with connect(ftp_server, proxy, remote_dir) as ftp:
        assert ftp.getwelcome().startswith("220 ")
        assert sorted(ftp.nlst()) == ["a.txt", "sub"]
        assert {name: facts["type"] for name, facts in ftp.mlsd()} == {
            "a.txt": "file",
            "sub": "dir",
        }
        lines: list[str] = []
        ftp.dir(lines.append)
        assert len(lines) == 2 and lines[0].endswith("a.txt")
        assert ftp.pwd() == "/" + remote_dir.name
    ftp_server.assert_all_from_proxy(control=1, data=3)


@pytest.mark.parametrize(
    ("kind", "passive"),
    [
        pytest.param("socks5", True, id="socks5-passive"),
        pytest.param("socks5", False, id="socks5-active"),
        pytest.param("socks4a", True, id="socks4a-passive"),
        pytest.param("socks4a", False, id="socks4a-active"),
        pytest.param("http", True, id="http-passive"),
    ],
)
def test_64_mib_up_and_down_keep_their_sha256(
    request: pytest.FixtureRequest,
    ftp_server: RecordingServer,
    kind: str,
    passive: bool,
    payload: Path,
    remote_dir: Path,
    tmp_path: Path,
) -> None:
    down = tmp_path / "down.bin"
    with connect(ftp_server, url_of(request, kind), remote_dir, passive=passive) as ftp:
        with payload.open("rb") as f:
            ftp.storbinary("STOR up.bin", f)
        assert ftp.size("up.bin") == PAYLOAD_SIZE
        with down.open("wb") as f:
            ftp.retrbinary("RETR up.bin", f.write)
    assert sha256(down) == sha256(remote_dir / "up.bin") == sha256(payload)
    ftp_server.assert_all_from_proxy(control=1, data=2)


@pytest.mark.parametrize(
    ("kind", "passive"),
    [
        pytest.param("socks5", True, id="socks5-passive"),
        pytest.param("socks5", False, id="socks5-active"),
        pytest.param("socks4a", True, id="socks4a-passive"),
        pytest.param("http", True, id="http-passive"),
    ],
)
def test_tls_with_prot_p_runs_end_to_end_through_the_tunnel(
    request: pytest.FixtureRequest,
    tls_ftp_server: RecordingServer,
    tls_client_context: ssl.SSLContext,
    kind: str,
    passive: bool,
    remote_dir: Path,
) -> None:
    # The context trusts only the test CA and checks the name: the certificate that passes is
    # the FTP server's own, so the TLS session runs from here to the server, not to the proxy.
    data = os.urandom(3 << 20)
    ftp = connect(
        tls_ftp_server, url_of(request, kind), cls=ftplib2.FTP_TLS, context=tls_client_context
    )
    with ftp:
        assert isinstance(ftp.sock, ssl.SSLSocket)
        ftp.prot_p()
        ftp.set_pasv(passive)
        ftp.cwd(remote_dir.name)
        ftp.storbinary("STOR tls.bin", io.BytesIO(data))
        assert ftp.nlst() == ["tls.bin"]
        ftp.voidcmd("TYPE I")
        with ftp.transfercmd("RETR tls.bin") as conn:
            assert isinstance(conn, ssl.SSLSocket)
            assert conn.session_reused
            received = bytearray()
            while chunk := conn.recv(1 << 16):
                received += chunk
        assert ftp.voidresp().code == "226"
    assert received == data
    assert (remote_dir / "tls.bin").read_bytes() == data
    tls_ftp_server.assert_all_from_proxy(control=1, data=3)


def test_the_server_name_is_resolved_by_the_proxy(
    request: pytest.FixtureRequest, ftp_server: RecordingServer, remote_dir: Path
) -> None:
    # SERVER_NAME is in the proxies' private /etc/hosts only. The passive data connections go
    # to the same name (the PASV address is not used), which the proxy resolves again.
    (remote_dir / "f.txt").write_bytes(b"by name\n")
    for kind in ("socks5", "http"):
        with connect(ftp_server, url_of(request, kind), remote_dir, host=SERVER_NAME) as ftp:
            assert ftp.host == SERVER_NAME
            assert ftp.nlst() == ["f.txt"]
            got = bytearray()
            ftp.retrbinary("RETR f.txt", got.extend)
            assert got == b"by name\n"
    ftp_server.assert_all_from_proxy(control=2, data=4)


def test_pipelined_transfers_go_through_the_proxy(
    ftp_server: RecordingServer, proxy: str, remote_dir: Path
) -> None:
    for name in ("x", "y", "z"):
        (remote_dir / name).write_bytes(name.encode() * 1000)
    with connect(ftp_server, proxy, remote_dir) as ftp:
        ftp.pipelining = True
        for name in ("x", "y", "z"):
            got = bytearray()
            ftp.retrbinary(f"RETR {name}", got.extend)
            assert got == name.encode() * 1000
    ftp_server.assert_all_from_proxy(control=1, data=3)


def test_abort_mid_download_through_the_proxy(
    ftp_server: RecordingServer, proxy: str, payload: Path, remote_dir: Path
) -> None:
    # ABOR goes inline: a proxy that drops TCP urgent data (tinyproxy) would otherwise pass on
    # "ABOR\r" without its "\n", and the server would wait for the rest of the line.
    os.link(payload, remote_dir / "big.bin")
    with connect(ftp_server, proxy, remote_dir) as ftp:
        ftp.voidcmd("TYPE I")
        with ftp.transfercmd("RETR big.bin") as conn:
            assert conn.recv(1 << 16)
            assert ftp.abort().code in ("426", "225", "226")
        assert ftp.pwd() == "/" + remote_dir.name
        assert ftp.size("big.bin") == PAYLOAD_SIZE
    ftp_server.assert_all_from_proxy(control=1, data=1)


# --------------------------------------------------------------------------
# Proxy authentication
# --------------------------------------------------------------------------


def test_socks5_proxy_authentication_right_and_wrong(
    dante_auth_proxy: ProxyProcess, ftp_server: RecordingServer, remote_dir: Path
) -> None:
    port = dante_auth_proxy.port
    right = proxy_url("socks5", port, SOCKS_USER, SOCKS_PASSWORD)
    with connect(ftp_server, right, remote_dir) as ftp:
        assert ftp.nlst() == []
    ftp_server.assert_all_from_proxy(control=1, data=1)
    ftp_server.forget()
    cases = {
        proxy_url("socks5", port, SOCKS_USER, "wrong"): (1, "user name or password refused"),
        proxy_url("socks5", port, "nobody-here", SOCKS_PASSWORD): (1, "password refused"),
        proxy_url("socks5", port): (255, "none of the authentication methods"),
    }
    for url, (code, text) in cases.items():
        with pytest.raises(ftplib2.ProxyError) as caught:
            ftplib2.FTP(CLIENT_HOST, timeout=TIMEOUT, proxy=url)
        assert caught.value.code == code
        assert caught.value.proxy == f"socks5 proxy {PROXY_HOST}:{port}"
        assert str(caught.value).startswith(f"socks5 proxy {PROXY_HOST}:{port}: ")
        assert text in str(caught.value)
        assert "wrong" not in str(caught.value)
        assert isinstance(caught.value, ftplib2.all_errors)
    assert ftp_server.peers == []


def test_http_proxy_authentication_right_and_wrong(
    http_proxy: ProxyProcess, ftp_server: RecordingServer, remote_dir: Path
) -> None:
    port = http_proxy.port
    with connect(ftp_server, proxy_url("http", port, HTTP_USER, HTTP_PASSWORD), remote_dir) as ftp:
        assert ftp.nlst() == []
    ftp_server.assert_all_from_proxy(control=1, data=1)
    ftp_server.forget()
    cases = {
        proxy_url("http", port, HTTP_USER, "wrong"): "user name or password refused",
        proxy_url("http", port): "it wants a user name and password (407",
    }
    for url, text in cases.items():
        with pytest.raises(ftplib2.ProxyError) as caught:
            ftplib2.FTP(CLIENT_HOST, timeout=TIMEOUT, proxy=url)
        assert caught.value.code in (401, 407)  # tinyproxy answers a wrong password with 401
        assert caught.value.proxy == f"http proxy {PROXY_HOST}:{port}"
        assert text in str(caught.value)
    assert ftp_server.peers == []


# --------------------------------------------------------------------------
# What the proxy refuses
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "code"),
    [("socks5", 5), ("socks4a", 91), ("http", 500)],
    ids=["socks5", "socks4a", "http"],
)
def test_a_refused_tunnel_raises_proxy_error_with_the_proxys_code(
    request: pytest.FixtureRequest, kind: str, code: int
) -> None:
    closed_port = free_port(CLIENT_HOST)  # nothing listens there
    with pytest.raises(ftplib2.ProxyError) as caught:
        ftplib2.FTP(timeout=TIMEOUT, proxy=url_of(request, kind)).connect(CLIENT_HOST, closed_port)
    assert caught.value.code == code
    assert str(caught.value).startswith(f"{kind} proxy {PROXY_HOST}:")
    assert str(code) in str(caught.value)


@pytest.mark.parametrize("kind", ["socks5", "socks4a", "http"])
def test_an_unreachable_proxy_raises_proxy_error_naming_it(
    ftp_server: RecordingServer, kind: str
) -> None:
    port = free_port(PROXY_HOST)  # no proxy there
    url = proxy_url(kind, port)
    with pytest.raises(ftplib2.ProxyError) as caught:
        ftplib2.FTP(timeout=TIMEOUT, proxy=url).connect(CLIENT_HOST, ftp_server.port)
    assert caught.value.code is None
    assert str(caught.value).startswith(f"{kind} proxy {PROXY_HOST}:{port}: cannot reach it")
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)
    assert ftp_server.peers == []


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("socks5", "not a SOCKS5 reply"),
        ("socks4a", "not a SOCKS4 reply"),
        ("http", "not an HTTP reply: '220 "),
    ],
)
def test_a_proxy_that_speaks_another_protocol_raises_proxy_error(
    ftp_server: RecordingServer, kind: str, text: str
) -> None:
    # The "proxy" is the FTP server itself: it answers with its greeting.
    url = f"{kind}://{CLIENT_HOST}:{ftp_server.port}"
    with pytest.raises(ftplib2.ProxyError, match=text):
        ftplib2.FTP(timeout=TIMEOUT, proxy=url).connect(CLIENT_HOST, 21)


def test_active_mode_through_an_http_proxy_fails_before_anything_is_sent(
    ftp_server: RecordingServer, http_proxy: ProxyProcess, remote_dir: Path
) -> None:
    (remote_dir / "f.txt").write_bytes(b"still here\n")
    url = proxy_url("http", http_proxy.port, HTTP_USER, HTTP_PASSWORD)
    with connect(ftp_server, url, remote_dir) as ftp:
        before = ftp_server.commands()
        with pytest.raises(ftplib2.ProxyError, match="active mode needs a SOCKS proxy") as caught:
            ftp.set_pasv(False)
        assert caught.value.code is None
        assert ftp.passiveserver
        assert ftp_server.commands() == before
        ftp.passiveserver = False  # past set_pasv(), the first transfer command says it
        for transfer in (ftp.nlst, lambda: ftp.retrbinary("RETR f.txt", print)):
            with pytest.raises(ftplib2.ProxyError, match="active mode needs a SOCKS proxy"):
                transfer()
        sent = ftp_server.commands()[len(before) :]
        assert {line.split()[0] for line in sent} == {"TYPE"}  # no PORT, EPRT, NLST or RETR
        ftp.set_pasv(True)  # the session is in step, and passive mode works
        got = bytearray()
        ftp.retrbinary("RETR f.txt", got.extend)
        assert got == b"still here\n"
    ftp_server.assert_all_from_proxy(control=1, data=1)


# --------------------------------------------------------------------------
# urlopen, the urllib handlers and ftpmirror
# --------------------------------------------------------------------------


def test_urlopen_and_the_urllib_handlers_pass_the_proxy_on(
    ftp_server: RecordingServer, proxy: str, remote_dir: Path
) -> None:
    (remote_dir / "u.txt").write_bytes(b"through the proxy\n")
    url = f"ftp://{USER}:{PASSWORD}@{CLIENT_HOST}:{ftp_server.port}/{remote_dir.name}/u.txt"
    with ftplib2.urlopen(url, timeout=TIMEOUT, proxy=proxy) as response:
        assert response.read() == b"through the proxy\n"
    with urllib.request.build_opener(ftplib2.FTPHandler(proxy=proxy)).open(
        url, timeout=TIMEOUT
    ) as r:
        assert r.read() == b"through the proxy\n"
    cache = ftplib2.CacheFTPHandler(proxy=proxy)
    opener = urllib.request.build_opener(cache)
    for _ in range(2):
        with opener.open(url, timeout=TIMEOUT) as response:
            assert response.read() == b"through the proxy\n"
    cache.clear_cache()
    # One session each for urlopen and FTPHandler, one for both CacheFTPHandler requests.
    ftp_server.assert_all_from_proxy(control=3, data=4)


def test_urllibs_own_proxy_handler_still_sends_ftp_urls_to_the_http_proxy(
    http_proxy: ProxyProcess,
) -> None:
    # urllib's ProxyHandler turns an ftp:// request into an HTTP request to the proxy
    # ("GET ftp://..."): with ftplib2's handlers installed it does just what it does with
    # urllib's own. No FTP server listens at the URL: a direct connection would raise
    # URLError(ConnectionRefusedError), the proxy answers with an HTTP error of its own.
    proxies = {"ftp": proxy_url("http", http_proxy.port, HTTP_USER, HTTP_PASSWORD)}
    url = f"ftp://{CLIENT_HOST}:{free_port(CLIENT_HOST)}/x.txt"
    outcomes = []
    for handlers in ([], [ftplib2.FTPHandler()], [ftplib2.CacheFTPHandler()]):
        opener = urllib.request.build_opener(urllib.request.ProxyHandler(proxies), *handlers)
        with pytest.raises(urllib.error.HTTPError) as caught:
            opener.open(url, timeout=TIMEOUT)
        caught.value.close()
        outcomes.append((caught.value.code, caught.value.headers.get("Server")))
    assert outcomes[0][1].startswith("tinyproxy")  # the answer came from the proxy
    assert outcomes == [outcomes[0]] * 3


def test_no_proxy_is_taken_from_the_environment(
    ftp_server: RecordingServer, monkeypatch: pytest.MonkeyPatch, remote_dir: Path
) -> None:
    bogus = proxy_url("socks5", free_port(PROXY_HOST))
    for name in ("ftp_proxy", "FTP_PROXY", "all_proxy", "ALL_PROXY", "socks_proxy"):
        monkeypatch.setenv(name, bogus)
    with ftplib2.FTP(timeout=TIMEOUT) as ftp:
        ftp.connect(CLIENT_HOST, ftp_server.port)
        ftp.login(USER, PASSWORD)
        assert ftp.proxy is None
    assert ftp_server.peers == [("control", CLIENT_HOST)]


def test_ftpmirror_proxy_option_mirrors_through_the_proxy(
    mirror_tool: ModuleType,
    ftp_server: RecordingServer,
    proxy: str,
    remote_dir: Path,
    tmp_path: Path,
) -> None:
    (remote_dir / "one.txt").write_bytes(b"1" * 1000)
    (remote_dir / "sub").mkdir()
    (remote_dir / "sub" / "two.bin").write_bytes(os.urandom(100_000))
    local = tmp_path / "copy"
    result = mirror_run(
        mirror_tool, "--proxy", proxy, "-l", USER, "-p", PASSWORD,
        f"{CLIENT_HOST}:{ftp_server.port}", remote_dir.name, local,
    )  # fmt: skip
    assert result.status == 0, result.err
    assert (local / "one.txt").read_bytes() == (remote_dir / "one.txt").read_bytes()
    assert (local / "sub" / "two.bin").read_bytes() == (remote_dir / "sub" / "two.bin").read_bytes()
    assert ftp_server.peers and {peer for _, peer in ftp_server.peers} == {PROXY_HOST}


def test_ftpmirror_refuses_a_malformed_proxy_url_without_showing_the_password(
    mirror_tool: ModuleType, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as caught:
        mirror_tool.main(["--proxy", "ftp://me:hunter2@proxy:1", "example.org", "d", str(tmp_path)])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "--proxy" in err and "socks5://" in err
    assert "hunter2" not in err


# --------------------------------------------------------------------------
# Proxy URLs
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "ftp://proxy:21",
        "socks5://",
        "socks5://proxy:notaport",
        "socks5://proxy:0",
        "http://proxy",  # an HTTP proxy's port must be given
        "socks4a://me:hunter2@proxy:1080",  # SOCKS4 has no password
        "http://proxy:8080/path",
        "socks5://pro\nxy:1080",
    ],
)
def test_a_malformed_proxy_url_raises_value_error_before_any_connection(url: str) -> None:
    with pytest.raises(ValueError) as caught:
        ftplib2.FTP(proxy=url)
    assert "hunter2" not in str(caught.value)
    with pytest.raises(ValueError):
        ftplib2.urlopen("ftp://127.0.0.1:1/x", proxy=url)
    with pytest.raises(ValueError):
        ftplib2.FTPHandler(proxy=url)


def test_the_proxy_is_a_keyword_argument_and_an_attribute() -> None:
    assert ftplib2.FTP.proxy is None
    assert ftplib2.FTP(proxy="socks5://h:1").proxy == "socks5://h:1"
    assert ftplib2.FTP(proxy="").proxy is None  # as from an empty setting: no proxy
    assert ftplib2.FTP_TLS(proxy="socks5h://h").proxy == "socks5h://h"
    assert issubclass(ftplib2.ProxyError, OSError)
    assert "ProxyError" in ftplib2.__all__


# --------------------------------------------------------------------------
# Active mode: whose connection the proxy hands over
# --------------------------------------------------------------------------


class _ElsewhereActiveDTP(ActiveDTP):
    """Connects to the client's announced port from 127.0.0.3, not from the server's address."""

    def connect_af_unspecified(self, addr: tuple[str, int], source_address: object = None) -> None:
        super().connect_af_unspecified(addr, (OTHER_HOST, 0))


@pytest.fixture(scope="session")
def elsewhere_server(proxy_ftp_root: Path) -> Iterator[RecordingServer]:
    """A server whose active-mode data connections come from another host (OTHER_HOST)."""
    server = RecordingServer(
        proxy_ftp_root, dtp_handler=_recording(DTPHandler), active_dtp=_ElsewhereActiveDTP
    )
    yield server
    server.live.stop()


@pytest.mark.parametrize("kind", ["socks5", "socks4a"])
def test_active_mode_refuses_a_data_connection_from_another_host(
    request: pytest.FixtureRequest, elsewhere_server: RecordingServer, kind: str, remote_dir: Path
) -> None:
    # The BIND request names the server, and dante hands over no connection from elsewhere:
    # its second reply refuses (SOCKS5 reply 2, SOCKS4 reply 91). Nothing is downloaded.
    # pyftpdlib connects at PORT; if dante's close reaches it before RETR, it answers RETR with
    # 150 and then waits for a data connection for ever, so the transfer's final reply never
    # comes: the client then gives the session up after its timeout (short here). Either way
    # the control connection is never left out of step.
    elsewhere_server.forget()
    (remote_dir / "f.txt").write_bytes(b"secret\n")
    received = bytearray()
    url = url_of(request, kind)
    with connect(elsewhere_server, url, remote_dir, passive=False, timeout=2) as ftp:
        with pytest.raises(ftplib2.ProxyError) as caught:
            ftp.retrbinary("RETR f.txt", received.extend)
        assert caught.value.code == {"socks5": 2, "socks4a": 91}[kind]
        assert str(caught.value).startswith(f"{kind} proxy {PROXY_HOST}:")
        if ftp.sock is not None:
            ftp.set_pasv(True)
            assert ftp.nlst() == ["f.txt"]
    assert received == b""
