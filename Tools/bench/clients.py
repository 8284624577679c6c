"""The clients: how the benchmark drives ftplib2, ftplib, curl, lftp and the raw limit.

`Clients` logs in with ftplib2 or ftplib, builds curl and lftp command lines,
reads a file from the raw server, makes the row (`Case`) of an external tool
(or a "skipped" row when the tool is missing), and checks that an upload
arrived.  `raw_row` makes a scenario's raw-limit row.  The scenarios
themselves (what each row does) are in scenarios.py.
"""

from __future__ import annotations

import argparse
import ftplib
import shutil
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common import HOST, NULL_SINK, RAW_BUFSIZE
from measure import Case

if TYPE_CHECKING:
    from servers import Server, Workspace

# Seconds any one wait of an in-process client may last: a row that hangs fails, and the
# benchmark goes on.  No row of a sane run comes near it.
CLIENT_TIMEOUT = 120


def raw_row(raw: Server, client: str, body: Callable[[Any], None], **fields: Any) -> Case:
    """A scenario's raw-TCP row: the physical limit its other rows are compared with.

    `server` defaults to the raw server's name; a per-server limit passes its own.
    """
    fields.setdefault("server", raw.name)
    return Case(client=client, srv=raw, setup=lambda: None, body=body, role="raw", **fields)


class NullSink:
    """A binary file object whose write() discards (and counts) the data."""

    def __init__(self) -> None:
        self.count = 0

    def write(self, data: Any) -> int:
        n = len(data)
        self.count += n
        return n


def expect(got: int, want: int, what: str) -> None:
    if got != want:
        raise RuntimeError(f"{what}: got {got} bytes, expected {want}")


class Clients:
    """How each kind of client is driven: logins, tool command lines, the raw limit.

    `scenarios.Scenarios` builds the rows of every scenario on top of these.
    """

    def __init__(self, args: argparse.Namespace, ws: Workspace, ftplib2: Any) -> None:
        self.args = args
        self.ws = ws
        self.ftplib2 = ftplib2
        self.stored_mtimes: dict[Path, int] = {}
        self.curl = shutil.which("curl")
        self.lftp = shutil.which("lftp")
        self.curl_label = "curl"
        self.lftp_label = "lftp"
        if self.curl:
            self.curl_label = "curl " + _tool_version([self.curl, "--version"], 1)
        if self.lftp:
            self.lftp_label = "lftp " + _tool_version([self.lftp, "--version"], 2).rstrip(".,")

    # -- connection helpers --------------------------------------------------

    def ftplib2_login(self, srv: Server, *, pipelining: bool | None = None) -> Any:
        """A logged-in ftplib2 connection; `pipelining` as given, else its default."""
        ftp = self.ftplib2.FTP(timeout=CLIENT_TIMEOUT)
        ftp.connect(HOST, srv.port)
        ftp.login(srv.user, srv.password)
        if pipelining is not None:
            ftp.pipelining = pipelining
        return ftp

    @staticmethod
    def stdlib_login(srv: Server) -> ftplib.FTP:
        ftp = ftplib.FTP(timeout=CLIENT_TIMEOUT)
        ftp.connect(HOST, srv.port)
        ftp.login(srv.user, srv.password)
        return ftp

    @staticmethod
    def logout(ftp: Any) -> None:
        try:
            ftp.quit()
        except Exception:  # noqa: BLE001
            ftp.close()

    def lftp_argv(self, srv: Server, commands: str) -> list[str]:
        assert self.lftp is not None
        script = (
            "set cmd:fail-exit yes; set ftp:ssl-allow no; set net:max-retries 1; "
            "set net:timeout 60; set xfer:clobber yes; "
            f"open -u {srv.user},{srv.password} -p {srv.port} {HOST}; {commands}"
        )
        return [self.lftp, "-c", script]

    # -- raw limit -------------------------------------------------------------

    def raw_get(self, raw: Server, name: str, size: int) -> Callable[[Any], None]:
        request = f"GET {name}\n".encode()

        def body(_: Any) -> None:
            buf = bytearray(RAW_BUFSIZE)
            total = 0
            with socket.create_connection((HOST, raw.port)) as s:
                s.sendall(request)
                while n := s.recv_into(buf):
                    total += n
            expect(total, size, "raw GET")

        return body

    # -- rows and checks --------------------------------------------------------

    def external_row(
        self,
        srv: Server,
        label: str,
        argv: list[str] | None | str | bool,
        *,
        before: Callable[[], None] | None = None,
        after: Callable[[], None] | None = None,
        note: str = "",
        env: dict[str, str] | None = None,
        profile_argv: bool = False,
        **common: Any,
    ) -> Case:
        """The row of a tool run as a process of its own (curl, lftp, ftpmirror.py), timed whole.

        A false `argv` (the tool is not installed) gives a "skipped" row, unless `note`
        already says why the row is not run.
        """
        if not argv and not note:
            note = f"skipped: {label.split()[0]} not installed"
        return Case(
            server=srv.name,
            client=label,
            srv=srv,
            argv=argv if isinstance(argv, list) else None,
            before=before,
            after=after,
            env=env,
            profile_argv=profile_argv,
            note=note,
            **common,
        )

    def check_stored(self, srv: Server, size: int, ftp: Any = None) -> None:
        """Check that the server got all `size` bytes of an upload.

        A real file (vsftpd's) is left in place, for the next STOR to truncate
        just before it writes: see `fresh_file`.
        """
        if srv.upload_target != NULL_SINK:  # vsftpd: a file in the served tmpfs
            path = self.ws.pub / srv.upload_target
            st = path.stat()
            expect(st.st_size, size, "bytes stored")
            if self.stored_mtimes.get(path) == st.st_mtime_ns:
                raise RuntimeError(f"{path.name} was not rewritten by this run")
            self.stored_mtimes[path] = st.st_mtime_ns
            return
        own = ftp is None
        if own:
            ftp = self.ftplib2_login(srv)
        try:
            expect(ftp.size(NULL_SINK) or 0, size, "bytes stored (SIZE)")
        finally:
            if own:
                self.logout(ftp)


def _tool_version(argv: list[str], field: int) -> str:
    try:
        out = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=10).stdout
        first = out.splitlines()[0]
        if "|" in first:  # lftp: "LFTP | Version 4.9.2 | ..."
            return first.split("|")[1].split()[-1]
        return first.split()[field]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "?"
