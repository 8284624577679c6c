"""Real proxies for tests/test_proxies.py: dante (SOCKS4 and SOCKS5) and tinyproxy (HTTP CONNECT).

Each proxy runs as a child process from a private config file in a temporary directory, listens
on PROXY_HOST (127.0.0.2) and connects out from that address too, so that an FTP server on
127.0.0.1 can tell the proxy's connections from the client's. Nothing of the system's is
touched: the proxy runs in a private mount namespace (``unshare --mount``) in which copies of
/etc/hosts (with SERVER_NAME, a name only the proxy can resolve) and, for the SOCKS5 proxy with
authentication, of /etc/passwd and /etc/shadow (with a throwaway user) are mounted over the real
files. That needs root, as dante's user switching does.

Where a proxy cannot be run the tests that need it are skipped with the reason, unless
FTPLIB2_REQUIRE_PROXIES=1 (set by .ci/run, which installs both): then they fail.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

PROXY_HOST = "127.0.0.2"
SERVER_NAME = "ftp-server.proxy-only.test"  # resolves to 127.0.0.1, but only for the proxies
SOCKS_USER = "ftplib2-proxy-test"
SOCKS_PASSWORD = "pa ss:w@rd/1"  # needs %-escapes in a URL
HTTP_USER = "ftplib2"
HTTP_PASSWORD = "http-s3cret"
STARTUP_TIMEOUT = 10


def unavailable(reason: str) -> None:
    """Skip the test, or fail it where the proxies are required (CI)."""
    if os.environ.get("FTPLIB2_REQUIRE_PROXIES") == "1":
        pytest.fail(f"FTPLIB2_REQUIRE_PROXIES=1, but {reason}")
    pytest.skip(reason)


def find_program(name: str) -> str:
    """The path of `name` (also in /usr/sbin, where Debian puts danted), else skip."""
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if path is None:
        unavailable(
            f"{name} is not installed (Debian: apt-get install dante-server tinyproxy openssl)"
        )
    return path  # type: ignore[return-value]


def free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def proxy_url(scheme: str, port: int, user: str = "", password: str = "") -> str:
    credentials = ""
    if user:
        credentials = urllib.parse.quote(user, safe="")
        if password:
            credentials += ":" + urllib.parse.quote(password, safe="")
        credentials += "@"
    return f"{scheme}://{credentials}{PROXY_HOST}:{port}"


def in_private_etc(overlays: dict[str, Path], argv: list[str]) -> list[str]:
    """`argv` run in a mount namespace of its own, with each /etc file of `overlays` replaced."""
    unshare = shutil.which("unshare") or "/usr/bin/unshare"
    mounts = " && ".join(f'mount --bind "${i + 1}" {target}' for i, target in enumerate(overlays))
    count = len(overlays)
    script = f'{mounts} && shift {count} && exec "$@"'
    sources = [str(path) for path in overlays.values()]
    return (
        [unshare, "--mount", "--propagation", "private", "sh", "-c", script, "sh"] + sources + argv
    )


def check_private_etc() -> None:
    """Skip unless this process may make a mount namespace and bind-mount in it."""
    try:
        done = subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "mount", "--bind", "/", "/mnt"],
            capture_output=True,
            timeout=STARTUP_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        unavailable(f"cannot run unshare for the proxies' private /etc: {exc}")
    if done.returncode != 0:
        unavailable(
            "the proxies need a private mount namespace (root): "
            + done.stderr.decode(errors="replace").strip()
        )


def hosts_file(directory: Path) -> Path:
    """A copy of /etc/hosts in which SERVER_NAME is 127.0.0.1."""
    path = directory / "hosts"
    path.write_text(Path("/etc/hosts").read_text() + f"\n127.0.0.1 {SERVER_NAME}\n")
    return path


class ProxyProcess:
    """A proxy running as a child process until `stop`; its output goes to `log`."""

    def __init__(self, name: str, argv: list[str], port: int, log: Path) -> None:
        self.name = name
        self.port = port
        self.log = log
        with log.open("ab") as out:
            self._process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            try:
                socket.create_connection((PROXY_HOST, port), timeout=1).close()
                return
            except OSError:
                pass
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = log.read_text(errors="replace")[-2000:]
                unavailable(f"{name} did not start listening on {PROXY_HOST}:{port}:\n{tail}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(STARTUP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


def dante_config(directory: Path, port: int, method: str) -> Path:
    """A danted.conf: SOCKS4 and SOCKS5, CONNECT and BIND, for clients on loopback."""
    config = directory / "danted.conf"
    config.write_text(
        f"""\
logoutput: {directory / "danted.log"}
internal: {PROXY_HOST} port = {port}
external: {PROXY_HOST}
socksmethod: {method}
clientmethod: none
user.privileged: root
user.unprivileged: nobody
client pass {{
    from: 127.0.0.0/8 to: 0.0.0.0/0
}}
socks pass {{
    from: 127.0.0.0/8 to: 0.0.0.0/0
    command: connect bind bindreply
    log: error
}}
"""
    )
    return config


@contextlib.contextmanager
def dante(directory: Path, *, authenticate: bool = False) -> Iterator[ProxyProcess]:
    """danted on PROXY_HOST; with `authenticate`, SOCKS5 only, for SOCKS_USER and SOCKS_PASSWORD.

    dante's username method checks the system password database: the throwaway user is added
    to copies of /etc/passwd and /etc/shadow that only this danted sees.
    """
    danted = find_program("danted")
    check_private_etc()
    port = free_port(PROXY_HOST)
    overlays = {"/etc/hosts": hosts_file(directory)}
    if authenticate:
        openssl = find_program("openssl")
        hashed = subprocess.run(
            [openssl, "passwd", "-6", "-stdin"],
            input=SOCKS_PASSWORD,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        passwd, shadow = directory / "passwd", directory / "shadow"
        passwd.write_text(
            Path("/etc/passwd").read_text()
            + f"{SOCKS_USER}:x:64999:64999::/nonexistent:/usr/sbin/nologin\n"
        )
        shadow.write_text(Path("/etc/shadow").read_text() + f"{SOCKS_USER}:{hashed}:19000::::::\n")
        shadow.chmod(0o600)
        overlays |= {"/etc/passwd": passwd, "/etc/shadow": shadow}
    config = dante_config(directory, port, "username" if authenticate else "none")
    pidfile = directory / "danted.pid"
    argv = in_private_etc(overlays, [danted, "-f", str(config), "-p", str(pidfile)])
    proxy = ProxyProcess("danted", argv, port, directory / "danted.out")
    try:
        yield proxy
    finally:
        proxy.stop()


@contextlib.contextmanager
def tinyproxy(directory: Path) -> Iterator[ProxyProcess]:
    """tinyproxy on PROXY_HOST, for HTTP_USER and HTTP_PASSWORD (Basic), CONNECT to any port."""
    program = find_program("tinyproxy")
    check_private_etc()
    port = free_port(PROXY_HOST)
    config = directory / "tinyproxy.conf"
    # No ConnectPort line: CONNECT to any port (the default config allows 443 and 563 only).
    config.write_text(
        f"""\
Port {port}
Listen {PROXY_HOST}
Bind {PROXY_HOST}
Timeout 60
MaxClients 100
Allow 127.0.0.0/8
BasicAuth {HTTP_USER} {HTTP_PASSWORD}
LogLevel Warning
"""
    )
    overlays = {"/etc/hosts": hosts_file(directory)}
    argv = in_private_etc(overlays, [program, "-d", "-c", str(config)])
    proxy = ProxyProcess("tinyproxy", argv, port, directory / "tinyproxy.out")
    try:
        yield proxy
    finally:
        proxy.stop()
