"""Real FTP servers for the interoperability matrix: proftpd, pure-ftpd and Twisted's.

Each one runs as its own process on loopback, on a free port, with a private configuration, a
temporary root and a passive port range of its own; nothing under /etc is read or written.
The session-scoped fixtures of ``tests/test_interop_matrix.py`` start them once per test run,
and its battery runs against them (and against pyftpdlib and vsftpd, from ``tests/servers.py``).

Where they come from:

* proftpd and pure-ftpd are Debian's packages, which conflict with vsftpd's: ``.ci/interop-servers``
  fetches them with ``apt-get download`` and unpacks them with ``dpkg -x`` into a cache
  directory (``$FTPLIB2_INTEROP_PREFIX``, by default ``~/.cache/ftplib2-interop``), installing only
  the shared libraries they lack.  Both log their one user in from a file of their own (proftpd's
  AuthUserFile, pure-ftpd's PureDB), mapped to the uid and gid of ``nobody``: no system user and
  no PAM.  Both need root (to chroot and to switch to that user).
* Twisted's server (``twisted.protocols.ftp``) is a test dependency; ``tests/twisted_ftpd.py``
  serves it in a subprocess, so that its reactor neither shares the test process's GIL nor
  outlives the session.

Each such fixture skips with the reason where its server cannot run (`unavailable_or_fail`), or
fails instead when the environment variable named by ``REQUIRED`` is set, as ``.ci/run`` does (like
``FTPLIB2_REQUIRE_VSFTPD`` for vsftpd).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import dataclasses
import importlib.util
import json
import os
import pathlib
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pytest
import trustme

INTEROP_USER = "ftplib2"
INTEROP_PASSWORD = "ftplib2-interop-secret"
# proftpd's second user, with uid 0: the checksum tests write the files it reads and
# overwrites, as root, where `nobody` could not touch them.
ROOT_USER = "ftplib2root"
NOBODY_UID = NOBODY_GID = 65534  # Debian's nobody and nogroup: the owner of the servers' files
STARTUP_TIMEOUT = 15

# The environment variable that turns each server's skip into a failure (.ci/run sets them all).
REQUIRED = {
    "proftpd": "FTPLIB2_REQUIRE_PROFTPD",
    "pure-ftpd": "FTPLIB2_REQUIRE_PUREFTPD",
    "twisted": "FTPLIB2_REQUIRE_TWISTED",
}


def interop_prefix() -> pathlib.Path:
    """Where .ci/interop-servers unpacked the Debian packages (the root of their file tree)."""
    default = pathlib.Path.home() / ".cache" / "ftplib2-interop"
    return pathlib.Path(os.environ.get("FTPLIB2_INTEROP_PREFIX") or default)


def unavailable_or_fail(server: str, reason: str) -> None:
    """Skip the test with `reason`, or fail it where the server is required."""
    variable = REQUIRED[server]
    if os.environ.get(variable):
        pytest.fail(f"{reason} (and {variable} is set)")
    pytest.skip(reason)


# --------------------------------------------------------------------------
# Ports, passwords, processes
# --------------------------------------------------------------------------


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on at the moment."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.create_server((host, 0), family=family) as sock:
        return sock.getsockname()[1]


_passive_ranges_taken: list[range] = []


def passive_port_range(count: int = 40) -> range:
    """`count` free ports in a row for one server's passive data connections.

    They lie below the kernel's ephemeral range (vsftpd's window lies above it, see
    test_ftplib2's _vsftpd_passive_ports) and apart from the ranges given before.  Inside the
    ephemeral range, client sockets of this and other processes, in TIME_WAIT too, hold ports
    a server then cannot bind.
    """
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            ephemeral = int(f.read().split()[0])
    except OSError:
        ephemeral = 32768  # Linux's default
    for _ in range(100):
        start = random.randrange(10000, ephemeral - count)
        ports = range(start, start + count)
        if any(ports.start < r.stop and r.start < ports.stop for r in _passive_ranges_taken):
            continue
        try:
            for port in ports:
                with socket.socket() as probe:  # no SO_REUSEADDR: TIME_WAIT counts as taken
                    probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        _passive_ranges_taken.append(ports)
        return ports
    raise RuntimeError(f"no {count} free ports in a row below {ephemeral}")


def crypt_sha512(password: str) -> str:
    """`password` hashed as crypt(3) $6$, the form proftpd's AuthUserFile and PureDB check."""
    library = ctypes.util.find_library("crypt")
    if library is None:
        raise RuntimeError("libcrypt not found")
    crypt = ctypes.CDLL(library).crypt
    crypt.restype = ctypes.c_char_p
    crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    salt = "$6$" + os.urandom(8).hex() + "$"
    hashed = crypt(password.encode(), salt.encode())
    if not hashed or not hashed.startswith(b"$6$"):
        raise RuntimeError("crypt(3) cannot make a $6$ hash here")
    return hashed.decode()


def nobody_root(name: str) -> pathlib.Path:
    """A fresh directory for a server's files, owned by nobody.

    Not under pytest's temporary directory, whose mode 0700 keeps the user out.
    """
    root = pathlib.Path(tempfile.mkdtemp(prefix=f"ftplib2-{name}-"))
    root.chmod(0o755)
    os.chown(root, NOBODY_UID, NOBODY_GID)
    return root


def issue_certificate(ca: trustme.CA, path: pathlib.Path) -> pathlib.Path:
    """Write a key and certificate for the loopback names, signed by the tests' CA."""
    ca.issue_cert("127.0.0.1", "::1", "localhost").private_key_and_cert_chain_pem.write_to_path(
        str(path)
    )
    return path


class Daemon:
    """A server process in its own process group, logging into `log`.

    stop() ends the whole group: the daemons fork one process per session.
    """

    def __init__(self, argv: list[str], log: pathlib.Path) -> None:
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def wait_listening(self, *addresses: tuple[str, int]) -> None:
        """Return once every address accepts connections; raise with the log if it never does."""
        deadline = time.monotonic() + STARTUP_TIMEOUT
        for address in addresses:
            while True:
                try:
                    with socket.create_connection(address, timeout=1):
                        break
                except OSError:
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        self.stop()
                        raise RuntimeError(
                            f"{self.process.args[0]} did not listen on {address}:\n"
                            + self.log.read_text(errors="replace")
                        ) from None
                    time.sleep(0.05)

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@dataclasses.dataclass
class RealServer:
    """A running server of the matrix, as the tests reach it.

    `tls` tells whether it has explicit FTPS (AUTH TLS) on `port`; `implicit_port` is its
    implicit FTPS port, `v6_port` its port on ::1, each None where it has none.
    """

    name: str
    host: str
    port: int
    root: pathlib.Path
    daemons: list[Daemon]
    tls: bool = True
    implicit_port: int | None = None
    v6_port: int | None = None
    user: str = INTEROP_USER
    passwd: str = INTEROP_PASSWORD
    root_user_root: pathlib.Path | None = None  # ROOT_USER's home (password `passwd`)
    passive_ports: range | None = None  # its passive range, where it has one of its own

    def stop(self) -> None:
        for daemon in self.daemons:
            daemon.stop()
        shutil.rmtree(self.root, ignore_errors=True)
        if self.root_user_root is not None:
            shutil.rmtree(self.root_user_root, ignore_errors=True)


# --------------------------------------------------------------------------
# proftpd 1.3.8 with mod_tls and mod_digest
# --------------------------------------------------------------------------


def proftpd_unavailable() -> str | None:
    prefix = interop_prefix()
    if not (prefix / "usr/sbin/proftpd").exists():
        return f"proftpd is not unpacked in {prefix} (run .ci/interop-servers)"
    for module in ("mod_tls", "mod_digest"):
        if not (prefix / f"usr/lib/proftpd/{module}.so").exists():
            return f"proftpd's {module} is not unpacked in {prefix} (run .ci/interop-servers)"
    if os.geteuid() != 0:
        return "proftpd needs root to chroot and switch to its user"
    return None


def start_proftpd(workdir: pathlib.Path, certfile: pathlib.Path) -> RealServer:
    """proftpd on 127.0.0.1 and ::1, explicit FTPS on the same port, implicit FTPS on another.

    mod_tls keeps its default TLSOptions, so data connections must reuse the control
    connection's TLS session.  mod_digest offers every algorithm it has (HASH with CRC32,
    MD5, SHA-1, SHA-256 and SHA-512; XCRC, MD5, XMD5, XSHA, XSHA1, XSHA256, XSHA512), with
    its default cache of digests computed by command or during a transfer.  Besides the
    interop user (uid nobody), ROOT_USER logs in with uid 0 to a home of its own.
    """
    prefix = interop_prefix()
    root = nobody_root("proftpd")
    root_user_root = pathlib.Path(tempfile.mkdtemp(prefix="ftplib2-proftpd-root-"))
    port, implicit_port, passive = free_port(), free_port(), passive_port_range()
    users = workdir / "passwd"
    hashed = crypt_sha512(INTEROP_PASSWORD)
    users.write_text(
        f"{INTEROP_USER}:{hashed}:{NOBODY_UID}:{NOBODY_GID}::{root}:/bin/false\n"
        f"{ROOT_USER}:{hashed}:0:0::{root_user_root}:/bin/false\n"
    )
    groups = workdir / "group"
    groups.write_text(f"nogroup:x:{NOBODY_GID}:\nroot:x:0:\n")
    users.chmod(0o600)
    groups.chmod(0o600)
    config = workdir / "proftpd.conf"
    config.write_text(
        f"""\
ServerName "ftplib2 interop"
ServerType standalone
DefaultServer on
UseIPv6 on
DefaultAddress 127.0.0.1 ::1
SocketBindTight on
Port {port}
User nobody
Group nogroup
PidFile {workdir}/proftpd.pid
ScoreboardFile {workdir}/proftpd.scoreboard
SystemLog {workdir}/system.log
WtmpLog off
TransferLog none
DelayEngine off
ControlsEngine off
UseReverseDNS off
ModulePath {prefix}/usr/lib/proftpd
LoadModule mod_tls.c
LoadModule mod_digest.c
<Global>
  RootLogin on
  DigestEngine on
  DigestAlgorithms all
  AuthOrder mod_auth_file.c
  AuthUserFile {users}
  AuthGroupFile {groups}
  AuthPAM off
  RequireValidShell off
  UseFtpUsers off
  DefaultRoot ~
  Umask 022
  AllowOverwrite on
  AllowStoreRestart on
  PassivePorts {passive.start} {passive.stop - 1}
  TLSEngine on
  TLSProtocol TLSv1.2 TLSv1.3
  TLSECCertificateFile {certfile}
  TLSECCertificateKeyFile {certfile}
  TLSVerifyClient off
  TLSRequired off
  TLSLog {workdir}/tls.log
</Global>
<VirtualHost 127.0.0.1>
  Port {implicit_port}
  TLSOptions UseImplicitSSL
</VirtualHost>
"""
    )
    daemon = Daemon(
        [str(prefix / "usr/sbin/proftpd"), "--nodaemon", "--config", str(config)],
        workdir / "proftpd.out",
    )
    server = RealServer("proftpd", "127.0.0.1", port, root, [daemon], root_user_root=root_user_root)
    try:
        daemon.wait_listening(("127.0.0.1", port), ("::1", port), ("127.0.0.1", implicit_port))
    except BaseException:
        server.stop()
        raise
    server.implicit_port, server.v6_port, server.passive_ports = implicit_port, port, passive
    return server


# --------------------------------------------------------------------------
# pure-ftpd 1.0.50
# --------------------------------------------------------------------------


def pureftpd_unavailable() -> str | None:
    prefix = interop_prefix()
    for program in ("usr/sbin/pure-ftpd", "usr/bin/pure-pw"):
        if not (prefix / program).exists():
            return f"{program} is not unpacked in {prefix} (run .ci/interop-servers)"
    if os.geteuid() != 0:
        return "pure-ftpd needs root to chroot and switch to its user"
    return None


def start_pureftpd(
    workdir: pathlib.Path, certfile: pathlib.Path, root: pathlib.Path, host: str
) -> tuple[Daemon, int]:
    """One pure-ftpd process on `host` (it binds one address per process), TLS optional.

    Returns the process and its port.
    """
    prefix = interop_prefix()
    port, passive = free_port(host), passive_port_range()
    users = workdir / "pureftpd.passwd"
    # PureDB's source format: login, hash, uid, gid, gecos, home ("/./": chrooted there), then
    # limits and quotas, left empty.
    users.write_text(
        f"{INTEROP_USER}:{crypt_sha512(INTEROP_PASSWORD)}:{NOBODY_UID}:{NOBODY_GID}::{root}/./"
        + ":" * 12
        + "\n"
    )
    database = workdir / "pureftpd.pdb"
    subprocess.run(
        [str(prefix / "usr/bin/pure-pw"), "mkdb", str(database), "-f", str(users)],
        check=True,
        capture_output=True,
    )
    daemon = Daemon(
        [
            str(prefix / "usr/sbin/pure-ftpd"),
            f"--bind={host},{port}",
            f"--login=puredb:{database}",
            "--noanonymous",
            "--chrooteveryone",
            "--dontresolve",
            f"--passiveportrange={passive.start}:{passive.stop - 1}",
            "--tls=1",  # TLS allowed, not required
            f"--certfile={certfile}",
            "--umask=133:022",
            "--syslogfacility=none",
            f"--pidfile={workdir}/pure-ftpd-{port}.pid",
        ],
        workdir / f"pure-ftpd-{port}.out",
    )
    daemon.wait_listening((host, port))
    return daemon, port


# --------------------------------------------------------------------------
# Twisted's FTP server (twisted.protocols.ftp)
# --------------------------------------------------------------------------


def twisted_unavailable() -> str | None:
    if importlib.util.find_spec("twisted") is None:
        return "Twisted is not installed (pip install '.[test]')"
    return None


def start_twisted(workdir: pathlib.Path) -> RealServer:
    """Twisted's FTP server in a subprocess (tests/twisted_ftpd.py), on 127.0.0.1 and ::1."""
    root = pathlib.Path(tempfile.mkdtemp(prefix="ftplib2-twisted-"))
    passive = passive_port_range()
    ports_file = workdir / "ports.json"
    script = pathlib.Path(__file__).with_name("twisted_ftpd.py")
    daemon = Daemon(
        [sys.executable, str(script), str(root), str(ports_file), str(passive.start)]
        + [str(passive.stop), INTEROP_USER, INTEROP_PASSWORD],
        workdir / "twisted.out",
    )
    server = RealServer("twisted", "127.0.0.1", 0, root, [daemon], tls=False)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not ports_file.exists():
        if daemon.process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise RuntimeError("Twisted's FTP server did not start:\n" + daemon.log.read_text())
        time.sleep(0.05)
    ports = json.loads(ports_file.read_text())
    server.port, server.v6_port = ports["ipv4"], ports["ipv6"]
    return server
