"""ftp:// and ftps:// URLs: ftplib2's URL parser and its urllib handlers (urlopen, urlretrieve,
build_opener, and the caching handler that keeps logins open) against live pyftpdlib servers,
plain, over TLS and on IPv6. The tests prove what urlopen returns for files and directories, how
URLs are decoded (percent-escapes, credentials, ``;type=``, .netrc), which URLError each failure
raises, that nothing in a URL can inject an FTP command, that large files stream in flat memory,
and that cached connections are reused, kept apart, limited and closed.

Run only these tests:

    python -m pytest tests/test_urls.py
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import os
import pathlib
import socket
import ssl
import threading
import time
import tracemalloc
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from email.message import Message
from typing import Any

import pytest

import ftplib2
from tests.servers import URL_TIMEOUT, ThreadedFTPServer, url_fetch

URL_PAYLOAD = bytes(range(256)) * 64  # 16 KiB, every byte value
URL_NOTES = b"line one\nline two\n"
URL_NESTED_NAME = "fïlé 1.txt"
URL_NESTED_DIRS = ("a b", "ünï")


@dataclasses.dataclass
class URLServer:
    """A running test server and what it has seen."""

    scheme: str
    host: str
    port: int
    root: pathlib.Path
    logins: list[str]

    def url(self, path: str = "", user: str | None = "user", passwd: str = "pass") -> str:
        """The URL of `path` (already percent-encoded) on this server."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        auth = "" if user is None else f"{user}:{passwd}@"
        return f"{self.scheme}://{auth}{host}:{self.port}/{path}"


@contextlib.contextmanager
def url_serve(
    host: str,
    root: pathlib.Path,
    *,
    certfile: str | None = None,
    handler_attrs: dict[str, Any] | None = None,
) -> Iterator[URLServer]:
    """Run a pyftpdlib server on `host` for the duration of the block.

    Users: 'user'/'pass' (all permissions), 'we@ird'/'p:ss/w@rd' (read) and
    anonymous (read).  With `certfile`, TLS is required on the control and
    the data connections.
    """
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import FTPHandler, TLS_FTPHandler

    logger = logging.getLogger("pyftpdlib")
    logger.setLevel(logging.WARNING)
    logins: list[str] = []
    authorizer = DummyAuthorizer()
    authorizer.add_user("user", "pass", str(root), perm="elradfmwMT")
    authorizer.add_user("we@ird", "p:ss/w@rd", str(root), perm="elr")
    authorizer.add_anonymous(str(root))

    def on_login(handler: Any, username: str) -> None:
        logins.append(username)

    attrs: dict[str, Any] = {"authorizer": authorizer, "on_login": on_login}
    if certfile is not None:
        attrs.update(certfile=certfile, tls_control_required=True, tls_data_required=True)
    attrs.update(handler_attrs or {})
    base = FTPHandler if certfile is None else TLS_FTPHandler
    handler = type("URLTestHandler", (base,), attrs)
    server = ThreadedFTPServer((host, 0), handler, "url")
    try:
        scheme = "ftp" if certfile is None else "ftps"
        yield URLServer(scheme, host, server.port, root, logins)
    finally:
        server.stop()


def url_quote(*segments: str) -> str:
    """Percent-encode path segments (UTF-8) and join them with slashes."""
    return "/".join(urllib.parse.quote(s, safe="") for s in segments)


@pytest.fixture
def url_root(tmp_path: pathlib.Path) -> pathlib.Path:
    """The server's root: a few files and nested directories."""
    root = tmp_path / "root"
    root.mkdir()
    (root / "payload.bin").write_bytes(URL_PAYLOAD)
    (root / "notes.txt").write_bytes(URL_NOTES)
    (root / "victim.txt").write_bytes(b"do not delete")
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "sub" / "deeper" / "data.bin").write_bytes(b"deep data")
    (root / "sub" / "other.txt").write_bytes(b"other")
    nested = root.joinpath(*URL_NESTED_DIRS)
    nested.mkdir(parents=True)
    (nested / URL_NESTED_NAME).write_bytes("ünïcode\n".encode())
    return root


@pytest.fixture
def url_server(url_root: pathlib.Path) -> Iterator[URLServer]:
    """A plain FTP server on 127.0.0.1."""
    with url_serve("127.0.0.1", url_root) as server:
        yield server


@pytest.fixture(scope="module")
def url_ca() -> Any:
    """A test certificate authority (trustme)."""
    trustme = pytest.importorskip("trustme")
    return trustme.CA()


@pytest.fixture
def url_tls_server(
    url_root: pathlib.Path, url_ca: Any, tmp_path: pathlib.Path
) -> Iterator[URLServer]:
    """An FTPS server (explicit TLS required) with a certificate from `url_ca`."""
    pytest.importorskip("OpenSSL")
    certfile = tmp_path / "server.pem"
    url_ca.issue_cert("127.0.0.1", "::1", "localhost").private_key_and_cert_chain_pem.write_to_path(
        str(certfile)
    )
    with url_serve("127.0.0.1", url_root, certfile=str(certfile)) as server:
        yield server


@pytest.fixture
def url_client_context(url_ca: Any) -> ssl.SSLContext:
    """A verifying client context that trusts `url_ca`."""
    context = ssl.create_default_context()
    url_ca.configure_trust(context)
    return context


@pytest.fixture
def url_home(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> pathlib.Path:
    """An empty home directory, so that no real ~/.netrc is read."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


def url_read(url: str, **kwargs: Any) -> bytes:
    """urlopen(url) and read it all."""
    with ftplib2.urlopen(url, timeout=URL_TIMEOUT, **kwargs) as response:
        return response.read()


def url_error(url: str, **kwargs: Any) -> urllib.error.URLError:
    """The URLError urlopen(url) raises (after reading, if it gets that far)."""
    with (
        pytest.raises(urllib.error.URLError) as info,
        ftplib2.urlopen(url, timeout=URL_TIMEOUT, **kwargs) as response,
    ):
        response.read()  # a failure at the end of the data raises here
    assert not isinstance(info.value.reason, urllib.error.URLError)
    return info.value


# -- the URL parser (a pure function) -------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("ftp://h/f", {"host": "h", "port": 21, "dirs": (), "file": "f", "type": None}),
        ("ftp://h:2121/a/b/f;type=a", {"port": 2121, "dirs": ("a", "b"), "file": "f", "type": "A"}),
        ("ftp://h/a/;type=D", {"dirs": ("a",), "file": "", "type": "D"}),
        ("ftp://h", {"dirs": (), "file": ""}),
        ("ftp://[::1]:2121/x", {"host": "::1", "port": 2121, "file": "x"}),
        ("ftp://h/%2Fetc/motd", {"dirs": ("/etc",), "file": "motd"}),
        ("ftp://h//etc/motd", {"dirs": ("/", "etc"), "file": "motd"}),
        ("ftp://h/a//b/f", {"dirs": ("a", "b"), "file": "f"}),
        ("ftp://h/a%2Fb", {"dirs": (), "file": "a/b"}),
        ("ftp://h/%C3%BC%20x/%FF", {"dirs": ("ü x",), "file": "\udcff"}),
        ("ftp://u%40x:p%3As@h/", {"user": "u@x", "passwd": "p:s"}),
        ("ftps://h/f", {"secure": True, "port": 21}),
    ],
)
def test_url_parser_takes_ftp_urls_apart(url: str, expected: dict[str, Any]) -> None:
    target = ftplib2._parse_ftp_url(url)
    assert {key: getattr(target, key) for key in expected} == expected


# -- urlopen: what comes back ------------------------------------------------------


def test_urlopen_returns_binary_file_with_headers(url_server: URLServer) -> None:
    url = url_server.url("payload.bin")
    with ftplib2.urlopen(url, timeout=URL_TIMEOUT) as response:
        assert response.read() == URL_PAYLOAD
        assert isinstance(response.info(), Message)
        assert response.headers["Content-Length"] == str(len(URL_PAYLOAD))
        assert response.headers["Content-Type"] == "application/octet-stream"
        assert response.geturl() == response.url == url
        assert response.status is None
        assert response.getcode() is None
    assert url_server.logins == ["user"]


def test_urlopen_guesses_content_type_from_name(url_server: URLServer) -> None:
    with ftplib2.urlopen(url_server.url("notes.txt"), timeout=URL_TIMEOUT) as response:
        assert response.headers["Content-Type"] == "text/plain"
        assert response.read() == URL_NOTES


def test_urlopen_response_is_a_file_object(url_server: URLServer) -> None:
    with ftplib2.urlopen(url_server.url("notes.txt"), timeout=URL_TIMEOUT) as response:
        assert response.readline() == b"line one\n"
        assert list(response) == [b"line two\n"]
        assert response.read() == b""
    assert response.closed
    with ftplib2.urlopen(url_server.url("notes.txt"), timeout=URL_TIMEOUT) as response:
        assert response.readlines() == [b"line one\n", b"line two\n"]
    with ftplib2.urlopen(url_server.url("payload.bin"), timeout=URL_TIMEOUT) as response:
        buffer = bytearray(len(URL_PAYLOAD) + 10)
        received = 0
        while n := response.readinto(memoryview(buffer)[received:]):
            received += n
        assert buffer[:received] == URL_PAYLOAD
    with pytest.raises(ValueError):
        response.read()


def test_urlopen_ascii_type_returns_the_servers_line_endings(url_server: URLServer) -> None:
    assert url_read(url_server.url("notes.txt;type=a")) == b"line one\r\nline two\r\n"
    assert url_read(url_server.url("notes.txt;type=i")) == URL_NOTES


def test_urlopen_trailing_slash_lists_the_directory(url_server: URLServer) -> None:
    with ftplib2.urlopen(url_server.url("sub/"), timeout=URL_TIMEOUT) as response:
        listing = response.read().decode()
        assert response.headers["Content-Type"] == "text/plain"
    lines = listing.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("d") and lines[0].endswith(" deeper")
    assert lines[1].startswith("-") and lines[1].endswith(" other.txt")


def test_urlopen_root_url_lists_the_login_directory(url_server: URLServer) -> None:
    names = url_read(url_server.url("")).decode()
    assert "payload.bin" in names and "sub" in names


def test_urlopen_type_d_lists_names_only(url_server: URLServer) -> None:
    assert url_read(url_server.url("sub/;type=d")) == b"deeper\r\nother.txt\r\n"
    assert url_read(url_server.url("sub/other.txt;type=d")) == b"other.txt\r\n"


def test_urlopen_directory_without_slash_is_listed(url_server: URLServer) -> None:
    listing = url_read(url_server.url("sub/deeper")).decode()
    assert listing.rstrip().endswith(" data.bin")


def test_urlopen_decodes_percent_encoded_utf8_segments(url_server: URLServer) -> None:
    url = url_server.url(url_quote(*URL_NESTED_DIRS, URL_NESTED_NAME))
    assert "%20" in url and "%C3%AF" in url
    assert url_read(url) == "ünïcode\n".encode()


def test_urlopen_encoded_slash_stays_inside_one_name(url_server: URLServer) -> None:
    # %2F: one CWD "/sub", then RETR "deeper/data.bin"
    assert url_read(url_server.url("%2Fsub/deeper%2Fdata.bin")) == b"deep data"


def test_urlopen_double_slash_starts_at_the_root(url_server: URLServer) -> None:
    assert url_read(url_server.url("/sub/other.txt")) == b"other"


def test_urlopen_accepts_a_request_object(url_server: URLServer) -> None:
    request = urllib.request.Request(url_server.url("notes.txt") + "#fragment")
    with ftplib2.urlopen(request, timeout=URL_TIMEOUT) as response:
        assert response.read() == URL_NOTES
        assert response.geturl() == url_server.url("notes.txt") + "#fragment"  # as in urllib


# -- urlopen: credentials ----------------------------------------------------------


def test_urlopen_percent_decodes_user_and_password(url_server: URLServer) -> None:
    url = url_server.url("notes.txt", user="we%40ird", passwd="p%3Ass%2Fw%40rd")
    assert url_read(url) == URL_NOTES
    assert url_server.logins == ["we@ird"]


def test_urlopen_without_credentials_logs_in_anonymously(
    url_server: URLServer, url_home: pathlib.Path
) -> None:
    assert url_read(url_server.url("notes.txt", user=None)) == URL_NOTES
    assert url_server.logins == ["anonymous"]


def test_urlopen_takes_credentials_from_netrc(
    url_server: URLServer, url_home: pathlib.Path
) -> None:
    netrc = url_home / ".netrc"
    netrc.write_text(f"machine {url_server.host} login user password pass\n")
    netrc.chmod(0o600)
    assert url_read(url_server.url("notes.txt", user=None)) == URL_NOTES
    assert url_read(url_server.url("notes.txt", user="user", passwd="")) == URL_NOTES
    assert url_server.logins == ["user", "user"]


def test_urlopen_ignores_a_malformed_netrc(url_server: URLServer, url_home: pathlib.Path) -> None:
    (url_home / ".netrc").write_text("machine\n")
    assert url_read(url_server.url("notes.txt", user=None)) == URL_NOTES
    assert url_server.logins == ["anonymous"]


# -- urlopen: failures are one URLError -------------------------------------------


def test_urlopen_missing_file_raises_urlerror_with_the_550(url_server: URLServer) -> None:
    error = url_error(url_server.url("no-such-file"))
    assert isinstance(error.reason, ftplib2.error_perm)
    assert error.reason.code == "550"
    assert str(error.reason).startswith("550 ")


def test_urlopen_missing_directory_raises_urlerror(url_server: URLServer) -> None:
    error = url_error(url_server.url("no-such-dir/payload.bin"))
    assert isinstance(error.reason, ftplib2.error_perm)
    assert error.reason.code == "550"


def test_urlopen_bad_credentials_raise_urlerror_with_the_530(url_server: URLServer) -> None:
    error = url_error(url_server.url("notes.txt", passwd="wrong"))
    assert isinstance(error.reason, ftplib2.error_perm)
    assert error.reason.code == "530"


def test_urlopen_refused_connection_raises_urlerror() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    error = url_error(f"ftp://127.0.0.1:{port}/x")
    assert isinstance(error.reason, ConnectionRefusedError)


def test_urlopen_unknown_host_raises_urlerror() -> None:
    error = url_error("ftp://no-such-host.invalid/x")
    assert isinstance(error.reason, socket.gaierror)


@pytest.mark.parametrize(
    "url",
    [
        "ftp:///x",  # no host
        "ftp://user@/x",
        "http://example.com/",  # not FTP
        "ftp://h:99999/x",  # bad port
        "ftp://h:0/x",
        "ftp://h:port/x",
        "ftp://[::1/x",  # bad IPv6 literal
        "ftp://h/x;type=q",  # unknown type
        "ftp://h/x\ny",  # raw control character
    ],
)
def test_urlopen_malformed_url_raises_urlerror(url: str) -> None:
    error = url_error(url)
    assert isinstance(error.reason, str)


def test_urlopen_refuses_request_data(url_server: URLServer) -> None:
    with pytest.raises(urllib.error.URLError, match="data"):
        ftplib2.urlopen(url_server.url("notes.txt"), data=b"x", timeout=URL_TIMEOUT)
    assert url_server.logins == []


@pytest.mark.parametrize(
    "url_path",
    [
        "victim.txt%0d%0aDELE%20victim.txt",
        "victim.txt%0aDELE%20victim.txt",
        "victim.txt%0d%0aDELE%20victim.txt;type=d",
        "sub%0d%0aDELE%20victim.txt/x",
        "victim.txt%00DELE%20victim.txt",
    ],
)
def test_urlopen_encoded_crlf_cannot_inject_commands(url_server: URLServer, url_path: str) -> None:
    error = url_error(url_server.url(url_path))
    assert "CR, LF or NUL" in str(error.reason)
    assert (url_server.root / "victim.txt").exists()
    assert url_server.logins == []  # refused before connecting


def test_urlopen_encoded_crlf_in_credentials_cannot_inject(url_server: URLServer) -> None:
    url_error(url_server.url("x", user="user%0d%0aDELE%20victim.txt"))
    url_error(url_server.url("x", passwd="pass%0d%0aDELE%20victim.txt"))
    assert (url_server.root / "victim.txt").exists()


# -- urlopen: streaming and the end of a transfer ---------------------------------


def test_urlopen_streams_a_large_file_in_flat_memory(url_server: URLServer) -> None:
    chunk = hashlib.sha256(b"seed").digest() * (1 << 15)  # 1 MiB
    digest = hashlib.sha256()
    with open(url_server.root / "large.bin", "wb") as f:
        for i in range(64):
            block = bytes([i]) + chunk[1:]
            f.write(block)
            digest.update(block)
    received = hashlib.sha256()
    size = 0
    tracemalloc.start()
    try:
        with ftplib2.urlopen(url_server.url("large.bin"), timeout=URL_TIMEOUT) as response:
            assert response.headers["Content-Length"] == str(64 << 20)
            while block := response.read(1 << 16):
                received.update(block)
                size += len(block)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert size == 64 << 20
    assert received.digest() == digest.digest()
    assert peak < 8 << 20


def test_urlopen_early_close_aborts_the_transfer(url_server: URLServer) -> None:
    (url_server.root / "large.bin").write_bytes(b"x" * (16 << 20))
    with ftplib2.urlopen(url_server.url("large.bin"), timeout=URL_TIMEOUT) as response:
        assert response.read(1000) == b"x" * 1000
    assert response.closed
    assert url_read(url_server.url("notes.txt")) == URL_NOTES


def test_urlopen_short_transfer_raises_content_too_short(url_root: pathlib.Path) -> None:
    def ftp_SIZE(handler: Any, path: str) -> None:
        handler.respond(f"213 {os.path.getsize(path) + 100}")

    with (
        url_serve("127.0.0.1", url_root, handler_attrs={"ftp_SIZE": ftp_SIZE}) as server,
        pytest.raises(urllib.error.ContentTooShortError, match="got only 18 out of 118"),
    ):
        url_read(server.url("notes.txt"))


# -- ftps:// and IPv6 ----------------------------------------------------------------


def test_urlopen_ftps_verifies_the_certificate_and_protects_data(
    url_tls_server: URLServer, url_client_context: ssl.SSLContext
) -> None:
    # The server refuses clear-text control and data connections.
    url = url_tls_server.url("payload.bin")
    assert url.startswith("ftps://")
    assert url_read(url, context=url_client_context) == URL_PAYLOAD
    listing = url_read(url_tls_server.url("sub/"), context=url_client_context)
    assert b"other.txt" in listing


def test_urlopen_ftps_refuses_an_untrusted_certificate(url_tls_server: URLServer) -> None:
    error = url_error(url_tls_server.url("payload.bin"))
    assert isinstance(error.reason, ssl.SSLCertVerificationError)
    assert url_tls_server.logins == []


def test_urlopen_ftps_missing_file_raises_urlerror(
    url_tls_server: URLServer, url_client_context: ssl.SSLContext
) -> None:
    error = url_error(url_tls_server.url("no-such-file"), context=url_client_context)
    assert isinstance(error.reason, ftplib2.error_perm)


def test_urlopen_ipv6_literal(url_root: pathlib.Path) -> None:
    try:
        with socket.create_server(("::1", 0), family=socket.AF_INET6):
            pass
    except OSError:
        pytest.skip("cannot bind ::1")
    with url_serve("::1", url_root) as server:
        url = server.url("sub/other.txt")
        assert url.startswith("ftp://user:pass@[::1]:")
        assert url_read(url) == b"other"


# -- urlretrieve --------------------------------------------------------------------


def test_urlretrieve_writes_the_file_and_reports_progress(
    url_server: URLServer, tmp_path: pathlib.Path
) -> None:
    (url_server.root / "big.bin").write_bytes(URL_PAYLOAD * 20)  # 320 KiB
    target = tmp_path / "copy.bin"
    calls = []
    filename, headers = ftplib2.urlretrieve(
        url_server.url("big.bin"), target, lambda *args: calls.append(args)
    )
    assert filename == target
    assert target.read_bytes() == URL_PAYLOAD * 20
    assert headers["Content-Length"] == str(len(URL_PAYLOAD) * 20)
    blocksize = calls[0][1]
    assert calls[0] == (0, blocksize, len(URL_PAYLOAD) * 20)
    assert [c[0] for c in calls] == list(range(len(calls)))
    assert {c[1:] for c in calls} == {(blocksize, len(URL_PAYLOAD) * 20)}
    assert 0 <= calls[-1][0] * blocksize - len(URL_PAYLOAD) * 20 < blocksize


def test_urlretrieve_without_filename_makes_a_temporary_file(url_server: URLServer) -> None:
    filename, headers = ftplib2.urlretrieve(url_server.url("notes.txt"))
    try:
        assert pathlib.Path(filename).read_bytes() == URL_NOTES
        assert headers["Content-Type"] == "text/plain"
    finally:
        ftplib2.urlcleanup()
    assert not os.path.exists(filename)


def test_urlretrieve_short_transfer_raises_with_the_partial_file(
    url_root: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    def ftp_SIZE(handler: Any, path: str) -> None:
        handler.respond(f"213 {os.path.getsize(path) + 1}")

    target = tmp_path / "copy.txt"
    with (
        url_serve("127.0.0.1", url_root, handler_attrs={"ftp_SIZE": ftp_SIZE}) as server,
        pytest.raises(urllib.error.ContentTooShortError) as info,
    ):
        ftplib2.urlretrieve(server.url("notes.txt"), target)
    assert info.value.content[0] == target
    assert target.read_bytes() == URL_NOTES


def test_urlretrieve_missing_file_raises_urlerror(
    url_server: URLServer, tmp_path: pathlib.Path
) -> None:
    with pytest.raises(urllib.error.URLError):
        ftplib2.urlretrieve(url_server.url("no-such-file"), tmp_path / "x")
    assert not (tmp_path / "x").exists()


# -- urllib handlers -----------------------------------------------------------------


def test_handlers_are_urllib_handlers() -> None:
    assert issubclass(ftplib2.FTPHandler, urllib.request.FTPHandler)
    assert issubclass(ftplib2.CacheFTPHandler, ftplib2.FTPHandler)
    assert issubclass(ftplib2.CacheFTPHandler, urllib.request.CacheFTPHandler)
    assert ftplib2.FTPHandler.__name__ == "FTPHandler"
    assert ftplib2.FTPHandler.__doc__
    assert "FTPHandler" in dir(ftplib2)


def test_build_opener_uses_ftplib2_in_place_of_urllib(url_server: URLServer) -> None:
    handler = ftplib2.FTPHandler()
    opener = urllib.request.build_opener(handler)
    assert opener.handle_open["ftp"] == [handler]
    assert not any(type(h) is urllib.request.FTPHandler for h in opener.handlers)
    with opener.open(url_server.url("payload.bin"), timeout=URL_TIMEOUT) as response:
        assert response.read() == URL_PAYLOAD
        assert response.headers["Content-Length"] == str(len(URL_PAYLOAD))
    with opener.open(url_server.url("sub/"), timeout=URL_TIMEOUT) as response:
        assert b"other.txt" in response.read()
    assert url_server.logins == ["user", "user"]


def test_build_opener_failures_are_one_urlerror(url_server: URLServer) -> None:
    opener = urllib.request.build_opener(ftplib2.FTPHandler())
    with pytest.raises(urllib.error.URLError) as info:
        opener.open(url_server.url("no-such-file"), timeout=URL_TIMEOUT)
    assert isinstance(info.value.reason, ftplib2.error_perm)
    with pytest.raises(urllib.error.URLError) as info:
        opener.open(url_server.url("victim.txt%0d%0aDELE%20victim.txt"), timeout=URL_TIMEOUT)
    assert isinstance(info.value.reason, str)
    with pytest.raises(urllib.error.URLError, match="data"):
        opener.open(url_server.url("notes.txt"), data=b"x", timeout=URL_TIMEOUT)
    assert (url_server.root / "victim.txt").exists()


def test_build_opener_ftphandler_fetches_ftps(
    url_tls_server: URLServer, url_client_context: ssl.SSLContext
) -> None:
    opener = urllib.request.build_opener(ftplib2.FTPHandler(context=url_client_context))
    with opener.open(url_tls_server.url("notes.txt"), timeout=URL_TIMEOUT) as response:
        assert response.read() == URL_NOTES
    default = urllib.request.build_opener(ftplib2.FTPHandler())
    with pytest.raises(urllib.error.URLError) as info:
        default.open(url_tls_server.url("notes.txt"), timeout=URL_TIMEOUT)
    assert isinstance(info.value.reason, ssl.SSLCertVerificationError)


def test_cache_handler_logs_in_once_for_urls_in_different_directories(
    url_server: URLServer, url_cache_handler: Any
) -> None:
    opener = urllib.request.build_opener(url_cache_handler)
    assert url_fetch(opener, url_server.url("payload.bin")) == URL_PAYLOAD
    assert url_fetch(opener, url_server.url("sub/deeper/data.bin")) == b"deep data"
    assert url_fetch(opener, url_server.url("sub/other.txt")) == b"other"
    assert url_fetch(opener, url_server.url("notes.txt;type=a")) == b"line one\r\nline two\r\n"
    assert b"data.bin" in url_fetch(opener, url_server.url("sub/deeper/"))
    assert url_server.logins == ["user"]


def test_cache_handler_keeps_the_connection_after_a_missing_file(
    url_server: URLServer, url_cache_handler: Any
) -> None:
    opener = urllib.request.build_opener(url_cache_handler)
    for path in ("no-such-file", "no-such-dir/x", "sub/no-such-file"):
        with pytest.raises(urllib.error.URLError):
            url_fetch(opener, url_server.url(path))
    assert url_fetch(opener, url_server.url("sub/other.txt")) == b"other"
    assert url_server.logins == ["user"]


def test_cache_handler_keeps_the_connection_after_an_early_close(
    url_server: URLServer, url_cache_handler: Any
) -> None:
    (url_server.root / "large.bin").write_bytes(b"x" * (16 << 20))
    opener = urllib.request.build_opener(url_cache_handler)
    with opener.open(url_server.url("large.bin"), timeout=URL_TIMEOUT) as response:
        assert response.read(1000) == b"x" * 1000
    assert url_fetch(opener, url_server.url("payload.bin")) == URL_PAYLOAD
    assert url_server.logins == ["user"]


def test_cache_handler_separates_users_and_servers(
    url_server: URLServer, url_cache_handler: Any, url_home: pathlib.Path
) -> None:
    opener = urllib.request.build_opener(url_cache_handler)
    url_fetch(opener, url_server.url("notes.txt"))
    url_fetch(opener, url_server.url("notes.txt", user=None))
    url_fetch(opener, url_server.url("notes.txt", user="we%40ird", passwd="p%3Ass%2Fw%40rd"))
    url_fetch(opener, url_server.url("notes.txt"))
    url_fetch(opener, url_server.url("notes.txt", user=None))
    assert url_server.logins == ["user", "anonymous", "we@ird"]


def test_cache_handler_gives_concurrent_requests_their_own_connections(
    url_server: URLServer, url_cache_handler: Any
) -> None:
    opener = urllib.request.build_opener(url_cache_handler)
    with (
        opener.open(url_server.url("payload.bin"), timeout=URL_TIMEOUT) as first,
        opener.open(url_server.url("sub/other.txt"), timeout=URL_TIMEOUT) as second,
    ):
        assert second.read() == b"other"
        assert first.read() == URL_PAYLOAD
    assert url_server.logins == ["user", "user"]
    with (
        opener.open(url_server.url("notes.txt"), timeout=URL_TIMEOUT) as first,
        opener.open(url_server.url("sub/deeper/data.bin"), timeout=URL_TIMEOUT) as second,
    ):
        assert first.read() == URL_NOTES
        assert second.read() == b"deep data"
    assert url_server.logins == ["user", "user"]


def test_cache_handler_is_thread_safe(url_server: URLServer, url_cache_handler: Any) -> None:
    opener = urllib.request.build_opener(url_cache_handler)
    expected = {
        "payload.bin": URL_PAYLOAD,
        "sub/other.txt": b"other",
        "sub/deeper/data.bin": b"deep data",
        "notes.txt": URL_NOTES,
    }
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(5):
                for path, content in expected.items():
                    assert url_fetch(opener, url_server.url(path)) == content
        except (AssertionError, OSError) as exc:  # URLError is an OSError
            failures.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    assert 1 <= len(url_server.logins) <= 6


def test_cache_handler_closes_idle_connections_after_the_timeout(
    url_server: URLServer, url_cache_handler: Any
) -> None:
    url_cache_handler.setTimeout(0.3)
    opener = urllib.request.build_opener(url_cache_handler)
    url_fetch(opener, url_server.url("notes.txt"))
    url_fetch(opener, url_server.url("notes.txt"))
    assert len(url_server.logins) == 1
    time.sleep(0.5)
    url_fetch(opener, url_server.url("notes.txt"))
    assert len(url_server.logins) == 2
    url_cache_handler.setTimeout(0)  # from now on nothing is kept
    url_fetch(opener, url_server.url("notes.txt"))  # the last one kept
    assert len(url_server.logins) == 2
    url_fetch(opener, url_server.url("notes.txt"))
    url_fetch(opener, url_server.url("notes.txt"))
    assert len(url_server.logins) == 4


def test_cache_handler_keeps_at_most_max_conns(
    url_server: URLServer, url_cache_handler: Any
) -> None:
    url_cache_handler.setMaxConns(1)
    opener = urllib.request.build_opener(url_cache_handler)
    for _ in range(2):
        with (
            opener.open(url_server.url("notes.txt"), timeout=URL_TIMEOUT) as first,
            opener.open(url_server.url("notes.txt"), timeout=URL_TIMEOUT) as second,
        ):
            assert first.read() == second.read() == URL_NOTES
    assert len(url_server.logins) == 3  # the second round reuses one, makes one


def test_cache_handler_clear_cache_closes_connections(
    url_server: URLServer, url_cache_handler: Any
) -> None:
    opener = urllib.request.build_opener(url_cache_handler)
    url_fetch(opener, url_server.url("notes.txt"))
    url_cache_handler.clear_cache()
    with opener.open(url_server.url("notes.txt"), timeout=URL_TIMEOUT) as response:
        url_cache_handler.clear_cache()  # in use: closed with its response
        assert response.read() == URL_NOTES
    url_fetch(opener, url_server.url("notes.txt"))
    assert len(url_server.logins) == 3


def test_cache_handler_replaces_a_connection_the_server_dropped(
    url_root: pathlib.Path, url_cache_handler: Any
) -> None:
    with url_serve("127.0.0.1", url_root, handler_attrs={"timeout": 0.3}) as server:
        opener = urllib.request.build_opener(url_cache_handler)
        assert url_fetch(opener, server.url("notes.txt")) == URL_NOTES
        time.sleep(1)  # the server sends 421 and closes the idle connection
        assert url_fetch(opener, server.url("sub/other.txt")) == b"other"
        assert server.logins == ["user", "user"]


def test_cache_handler_fetches_ftps_over_one_login(
    url_tls_server: URLServer, url_client_context: ssl.SSLContext
) -> None:
    (url_tls_server.root / "large.bin").write_bytes(b"x" * (16 << 20))
    handler = ftplib2.CacheFTPHandler(context=url_client_context)
    try:
        opener = urllib.request.build_opener(handler)
        with opener.open(url_tls_server.url("large.bin"), timeout=URL_TIMEOUT) as response:
            assert response.read(1000) == b"x" * 1000  # then closed early: aborted
        assert url_fetch(opener, url_tls_server.url("payload.bin")) == URL_PAYLOAD
        assert url_fetch(opener, url_tls_server.url("sub/other.txt")) == b"other"
        assert b"other.txt" in url_fetch(opener, url_tls_server.url("sub/"))
    finally:
        handler.clear_cache()
    assert url_tls_server.logins == ["user"]
