"""The scenarios: what each table of the report measures, and its rows.

A scenario is a method of `Scenarios` that returns its rows (`measure.Case`):
for each server, one row per client, each with a body to time (or a command
line to run) and the checks that prove the run did the work.  The table
`SCENARIOS`, at the end, lists them in the order they run: the key --only
takes, the title of the scenario's table and its method.  Tools/bench/README
says what every scenario does and how to add one.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import ftplib
import functools
import hashlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from clients import Clients, NullSink, expect, raw_row
from common import HOST, KIB, RAW_BUFSIZE, REPO
from measure import Case, fresh_file

if TYPE_CHECKING:
    from servers import Server

FTPMIRROR = REPO / "Tools" / "scripts" / "ftpmirror.py"

# Scenario keys: the names --only takes, and each row's Case.scenario.
SESSION, DOWNLOAD, UPLOAD, IDIOMS, NOOP, LISTING, SMALL, MIRROR, SEGMENTS, VERIFY = (
    "login",
    "download",
    "upload",
    "idioms",
    "noop",
    "list",
    "small",
    "mirror",
    "segments",
    "verify",
)
VERIFY_CHOICES = (False, True, "CRC32")  # download(verify=...) rows of the verify scenario
SEGMENT_COUNTS = (1, 2, 4, 8)  # download(segments=N) rows of the segments scenario
# The WAN mode's scenarios (servers behind the delay proxy, see wan.py).
WAN_CHECK, WAN_SMALL, WAN_MIRROR = ("wan-check", "wan-small", "wan-mirror")


class Scenarios(Clients):
    """Builds the rows (Cases) of every scenario."""

    def title(self, key: str) -> str:
        """The title of a scenario's table, with the sizes of this run filled in."""
        sizes = {
            "sessions": self.args.sessions,
            "size": f"{self.args.size_mib} MiB",
            "noops": self.args.noops,
            "entries": self.args.list_entries,
            "small": self.args.small_files,
            "mirror": self.ws.mirror_files,
            "segments": f"{self.args.segments_mib} MiB",
            "rate": f"{self.args.segments_rate_mib:g} MiB/s",
            "wan_files": self.args.wan_files,
            "tree": self.ws.tree_files,
            "dirs": len(self.ws.tree_dirs()),
            "rtts": " and ".join(f"{r * 1000:g}" for r in self.args.rtts),
        }
        return SCENARIOS[key].title.format(**sizes)

    def session(self, raw: Server, servers: list[Server]) -> list[Case]:
        count = self.args.sessions
        cases: list[Case] = []

        def raw_connect(_: Any) -> None:
            for _ in range(count):
                with socket.create_connection((HOST, raw.port)) as s:
                    s.sendall(b"ECHO\n")
                    s.sendall(b"QUIT\r\n")
                    s.recv(256)

        cases.append(
            raw_row(
                raw, "raw: connect + one line ping-pong", raw_connect, scenario=SESSION, ops=count
            )
        )
        for srv in servers:

            def sessions(module: Any, srv: Server = srv) -> Callable[[Any], None]:
                def body(_: Any) -> None:
                    for _ in range(count):
                        ftp = module.FTP()
                        ftp.connect(HOST, srv.port)
                        ftp.login(srv.user, srv.password)
                        ftp.quit()

                return body

            common = {"scenario": SESSION, "server": srv.name, "srv": srv, "setup": lambda: None}
            cases += [
                Case(
                    client="ftplib2 connect+login+quit",
                    body=sessions(self.ftplib2),
                    ops=count,
                    profile=True,
                    **common,
                ),
                Case(
                    client="stdlib connect+login+quit",
                    body=sessions(ftplib),
                    ops=count,
                    role="stdlib",
                    **common,
                ),
            ]
            cases.append(
                self.external_row(
                    srv,
                    self.curl_label + " -I (login, SIZE, MDTM)",
                    self.curl and [self.curl, "-sS", "-I", "-o", os.devnull, srv.url("big.bin")],
                    scenario=SESSION,
                    ops=1,
                )
            )
            cases.append(
                self.external_row(
                    srv,
                    self.lftp_label + " quote NOOP",
                    self.lftp and self.lftp_argv(srv, "quote NOOP"),
                    scenario=SESSION,
                    ops=1,
                )
            )
        return cases

    def download(self, raw: Server, servers: list[Server]) -> list[Case]:
        size = self.ws.size
        common = {"scenario": DOWNLOAD, "nbytes": size, "slow": True}
        cases = [
            raw_row(
                raw,
                "raw: sendfile → recv_into 128 KiB",
                self.raw_get(raw, "pub/big.bin", size),
                **common,
            )
        ]
        local = self.ws.dl / "big.bin"

        def raw_to_file(_: Any) -> None:
            buf = bytearray(RAW_BUFSIZE)
            view = memoryview(buf)
            total = 0
            with socket.create_connection((HOST, raw.port)) as s, open(local, "wb") as f:
                s.sendall(b"GET pub/big.bin\n")
                while n := s.recv_into(buf):
                    f.write(view[:n])
                    total += n
            expect(total, size, "raw GET to tmpfs")

        cases.append(
            Case(
                server=raw.name,
                client="raw: sendfile → recv_into 128 KiB + write to tmpfs file",
                srv=raw,
                setup=lambda: fresh_file(local),
                body=raw_to_file,
                teardown=lambda _: expect(local.stat().st_size, size, "raw GET to tmpfs"),
                **common,
            )
        )

        def check_local(ftp: Any) -> None:
            expect(local.stat().st_size, size, "download() to tmpfs")
            self.logout(ftp)

        for srv in servers:

            def retr(blocksize: int | None) -> Callable[[Any], None]:
                def body(ftp: Any) -> None:
                    sink = NullSink()
                    if blocksize is None:
                        ftp.retrbinary("RETR big.bin", sink.write)
                    else:
                        ftp.retrbinary("RETR big.bin", sink.write, blocksize)
                    expect(sink.count, size, "retrbinary")

                return body

            def download_null(ftp: Any) -> None:
                expect(ftp.download("big.bin", NullSink()), size, "download()")

            def download_file(ftp: Any) -> None:
                ftp.download("big.bin", local)

            f2 = dict(srv=srv, server=srv.name, teardown=self.logout, profile=True, **common)
            f2["setup"] = lambda srv=srv: self.ftplib2_login(srv)
            std = dict(srv=srv, server=srv.name, teardown=self.logout, **common)
            std["setup"] = lambda srv=srv: self.stdlib_login(srv)
            cases += [
                Case(client="ftplib2 retrbinary (default 8 KiB)", body=retr(None), **f2),
                Case(client="ftplib2 retrbinary blocksize=256 KiB", body=retr(256 * KIB), **f2),
                Case(client="ftplib2 download() → null sink", body=download_null, **f2),
                Case(
                    client="ftplib2 download() → tmpfs file",
                    body=download_file,
                    **{
                        **f2,
                        "setup": lambda srv=srv: (fresh_file(local), self.ftplib2_login(srv))[1],
                        "teardown": check_local,
                    },
                ),
                Case(
                    client="stdlib retrbinary (default 8 KiB)",
                    body=retr(None),
                    role="stdlib",
                    **std,
                ),
                Case(client="stdlib retrbinary blocksize=64 KiB", body=retr(64 * KIB), **std),
            ]
            cases.append(
                self.external_row(
                    srv,
                    self.curl_label,
                    self.curl and [self.curl, "-sS", "-o", os.devnull, srv.url("big.bin")],
                    **common,
                )
            )
            cases.append(
                self.external_row(
                    srv,
                    self.lftp_label + " get",
                    self.lftp and self.lftp_argv(srv, f"get big.bin -o {os.devnull}"),
                    **common,
                )
            )
        return cases

    def upload(self, raw: Server, servers: list[Server]) -> list[Case]:
        size = self.ws.size
        source = self.ws.pub / "big.bin"
        common = {"scenario": UPLOAD, "nbytes": size, "slow": True}

        def raw_put(_: Any) -> None:
            with socket.create_connection((HOST, raw.port)) as s, open(source, "rb") as f:
                s.sendall(b"PUT\n")
                s.sendfile(f)
                s.shutdown(socket.SHUT_WR)
                reply = b""
                while chunk := s.recv(100):
                    reply += chunk
            expect(int(reply.split()[1]), size, "raw PUT")

        cases = [raw_row(raw, "raw: sendfile → recv_into discard", raw_put, **common)]
        for srv in servers:
            target = srv.upload_target

            def teardown(ftp: Any, srv: Server = srv) -> None:
                try:
                    self.check_stored(srv, size, ftp)
                finally:
                    self.logout(ftp)

            def upload(ftp: Any, target: str = target) -> None:
                expect(ftp.upload(source, target), size, "upload()")

            def stor(blocksize: int | None, target: str = target) -> Callable[[Any], None]:
                def body(ftp: Any) -> None:
                    with open(source, "rb") as f:
                        if blocksize is None:
                            ftp.storbinary(f"STOR {target}", f)
                        else:
                            ftp.storbinary(f"STOR {target}", f, blocksize)

                return body

            f2 = dict(srv=srv, server=srv.name, teardown=teardown, profile=True, **common)
            f2["setup"] = lambda srv=srv: self.ftplib2_login(srv)
            std = dict(srv=srv, server=srv.name, teardown=teardown, **common)
            std["setup"] = lambda srv=srv: self.stdlib_login(srv)
            cases += [
                Case(client="ftplib2 upload() from tmpfs file", body=upload, **f2),
                Case(client="ftplib2 storbinary (default 8 KiB)", body=stor(None), **f2),
                Case(client="ftplib2 storbinary blocksize=256 KiB", body=stor(256 * KIB), **f2),
                Case(
                    client="stdlib storbinary (default 8 KiB)",
                    body=stor(None),
                    role="stdlib",
                    **std,
                ),
                Case(client="stdlib storbinary blocksize=64 KiB", body=stor(64 * KIB), **std),
            ]

            def check_stored(srv: Server = srv) -> None:
                self.check_stored(srv, size)

            cases.append(
                self.external_row(
                    srv,
                    self.curl_label + " -T",
                    self.curl and [self.curl, "-sS", "-T", str(source), srv.url(target)],
                    after=check_stored,
                    **common,
                )
            )
            cases.append(
                self.external_row(
                    srv,
                    self.lftp_label + " put",
                    self.lftp and self.lftp_argv(srv, f"put {source} -o {target}"),
                    after=check_stored,
                    **common,
                )
            )
        return cases

    def idioms(self, raw: Server, servers: list[Server]) -> list[Case]:
        """What most code does, with a real file at the other end: each against ftplib's."""
        size = self.ws.size
        source = self.ws.pub / "big.bin"
        local = self.ws.dl / "big.bin"
        common = {"scenario": IDIOMS, "nbytes": size, "slow": True}
        cases: list[Case] = []

        def get_write(ftp: Any) -> None:
            with open(local, "wb") as f:
                ftp.retrbinary("RETR big.bin", f.write)
            expect(local.stat().st_size, size, "retrbinary(cmd, f.write)")

        def get_path(ftp: Any) -> None:
            expect(ftp.download("big.bin", local), size, "download()")

        def fresh_login(login: Callable[[], Any]) -> Callable[[], Any]:
            return lambda: (fresh_file(local), login())[1]

        def get_null(ftp: Any) -> None:
            with open(os.devnull, "wb") as f:
                ftp.retrbinary("RETR big.bin", f.write)

        def raw_get_file(_: Any) -> None:
            buf = bytearray(RAW_BUFSIZE * 2)
            view = memoryview(buf)
            total = 0
            with socket.create_connection((HOST, raw.port)) as s, open(local, "wb") as f:
                s.sendall(b"GET pub/big.bin\n")
                while n := s.recv_into(buf):
                    f.write(view[:n])
                    total += n
            expect(total, size, "raw GET to tmpfs")

        def raw_put_file(_: Any) -> None:
            buf = bytearray(RAW_BUFSIZE * 2)
            view = memoryview(buf)
            with socket.create_connection((HOST, raw.port)) as s, open(source, "rb") as f:
                s.sendall(b"PUT\n")
                while n := f.readinto(buf):
                    s.sendall(view[:n])
                s.shutdown(socket.SHUT_WR)
                reply = b""
                while chunk := s.recv(100):
                    reply += chunk
            expect(int(reply.split()[1]), size, "raw PUT")

        # The limits: what the kernel's copies (and tmpfs's pages) cost any client.
        cases += [
            Case(
                server=raw.name,
                client="raw: recv_into 256 KiB + write → tmpfs file",
                srv=raw,
                setup=lambda: fresh_file(local),
                body=raw_get_file,
                **common,
            ),
            Case(
                server=raw.name,
                client="raw: readinto 256 KiB + sendall from tmpfs file",
                srv=raw,
                setup=lambda: None,
                body=raw_put_file,
                **common,
            ),
        ]
        for srv in servers:
            target = srv.upload_target

            def put_file(ftp: Any, target: str = target) -> None:
                with open(source, "rb") as f:
                    ftp.storbinary(f"STOR {target}", f)

            def put_path(ftp: Any, target: str = target) -> None:
                expect(ftp.upload(source, target), size, "upload()")

            def stored(ftp: Any, srv: Server = srv) -> None:
                try:
                    self.check_stored(srv, size, ftp)
                finally:
                    self.logout(ftp)

            f2 = lambda srv=srv: self.ftplib2_login(srv)
            std = lambda srv=srv: self.stdlib_login(srv)
            row = {"server": srv.name, "srv": srv, **common}
            get_ref = Case(
                client="stdlib retrbinary(cmd, f.write) → tmpfs file",
                setup=fresh_login(std),
                body=get_write,
                teardown=self.logout,
                **row,
            )
            put_ref = Case(
                client="stdlib storbinary(cmd, f) from tmpfs file",
                setup=std,
                body=put_file,
                teardown=stored,
                **row,
            )
            null_ref = Case(
                client="stdlib retrbinary(cmd, f.write) → /dev/null",
                setup=std,
                body=get_null,
                teardown=self.logout,
                **row,
            )
            cases += [
                null_ref,
                Case(
                    client="ftplib2 retrbinary(cmd, f.write) → /dev/null",
                    setup=f2,
                    body=get_null,
                    teardown=self.logout,
                    reference=null_ref,
                    **row,
                ),
                get_ref,
                Case(
                    client="ftplib2 retrbinary(cmd, f.write) → tmpfs file",
                    setup=fresh_login(f2),
                    body=get_write,
                    teardown=self.logout,
                    reference=get_ref,
                    profile=True,
                    **row,
                ),
                Case(
                    client="ftplib2 download(path) → tmpfs file",
                    setup=fresh_login(f2),
                    body=get_path,
                    teardown=self.logout,
                    reference=get_ref,
                    profile=True,
                    **row,
                ),
                put_ref,
                Case(
                    client="ftplib2 storbinary(cmd, f) from tmpfs file",
                    setup=f2,
                    body=put_file,
                    teardown=stored,
                    reference=put_ref,
                    profile=True,
                    **row,
                ),
                Case(
                    client="ftplib2 upload(path) from tmpfs file",
                    setup=f2,
                    body=put_path,
                    teardown=stored,
                    reference=put_ref,
                    profile=True,
                    **row,
                ),
            ]
        return cases

    def noop(self, raw: Server, servers: list[Server]) -> list[Case]:
        count = self.args.noops
        # 3x the runs: on a virtual machine a NOOP ping-pong runs either "hot" (both
        # vCPUs awake, ~15-20 us) or "cold" (~80-100 us), a run at a time.
        common = {"scenario": NOOP, "ops": count, "runs_factor": 3}

        def raw_ping(_: Any) -> None:
            with socket.create_connection((HOST, raw.port)) as s:
                s.sendall(b"ECHO\n")
                for _ in range(count):
                    s.sendall(b"NOOP\r\n")
                    reply = s.recv(256)
                    while not reply.endswith(b"\n"):
                        reply += s.recv(256)

        def noops(ftp: Any) -> None:
            for _ in range(count):
                ftp.voidcmd("NOOP")

        def raw_noops(ftp: Any) -> None:
            # The client-side limit on this server: bare socket calls, no parsing.
            sock = ftp.sock
            for _ in range(count):
                sock.sendall(b"NOOP\r\n")
                reply = sock.recv(256)
                while not reply.endswith(b"\n"):
                    reply += sock.recv(256)

        cases = [raw_row(raw, "raw: line ping-pong (Python both ends)", raw_ping, **common)]
        for srv in servers:
            cases += [
                Case(
                    server=srv.name,
                    client="raw socket: NOOP lines on a logged-in connection",
                    srv=srv,
                    setup=lambda srv=srv: self.stdlib_login(srv),
                    body=raw_noops,
                    teardown=self.logout,
                    role="raw",
                    **common,
                ),
                Case(
                    server=srv.name,
                    client="ftplib2 voidcmd('NOOP')",
                    srv=srv,
                    setup=lambda srv=srv: self.ftplib2_login(srv),
                    body=noops,
                    teardown=self.logout,
                    profile=True,
                    **common,
                ),
                Case(
                    server=srv.name,
                    client="stdlib voidcmd('NOOP')",
                    srv=srv,
                    setup=lambda srv=srv: self.stdlib_login(srv),
                    body=noops,
                    teardown=self.logout,
                    role="stdlib",
                    **common,
                ),
            ]
        return cases

    def listing(self, raw: Server, servers: list[Server]) -> list[Case]:
        entries = self.ws.list_entries
        cases: list[Case] = []
        for srv in servers:
            # The LIST bytes this server sends, saved for the raw-limit row.
            lines: list[str] = []
            with contextlib.closing(self.ftplib2_login(srv)) as ftp:
                ftp.retrlines("LIST list", lines.append)
                ftp.quit()
            data = "".join(line + "\r\n" for line in lines).encode()
            (self.ws.base / f"list-{srv.name}.txt").write_bytes(data)
            nbytes = len(data)
            common = {"scenario": LISTING, "server": srv.name, "nbytes": nbytes, "ops": entries}
            cases.append(
                raw_row(
                    raw,
                    f"raw: its LIST bytes over TCP ({nbytes / 1e6:.2f} MB)",
                    self.raw_get(raw, f"list-{srv.name}.txt", nbytes),
                    **common,
                )
            )

            def lines_of(cmd: str, parse: Callable[[str], Any] | None = None) -> Callable:
                def body(ftp: Any) -> None:
                    got: list[str] = []
                    ftp.retrlines(cmd, got.append)
                    if parse is not None:
                        parsed = [e for e in map(parse, got) if e is not None]
                        expect(len(parsed), entries, cmd + " parsed entries")
                    elif cmd.startswith("LIST"):
                        expect(len(got), entries, cmd + " lines")

                return body

            def scandir(ftp: Any) -> None:
                expect(len(ftp.scandir("list")), entries, "scandir() entries")

            def stdlib_mlsd(ftp: ftplib.FTP) -> None:
                expect(len([n for n, _ in ftp.mlsd("list") if n[0] != "."]), entries, "mlsd()")

            f2 = dict(srv=srv, teardown=self.logout, profile=True, **common)
            f2["setup"] = lambda srv=srv: self.ftplib2_login(srv)
            std = dict(srv=srv, teardown=self.logout, **common)
            std["setup"] = lambda srv=srv: self.stdlib_login(srv)
            parse = self.ftplib2.parse_list_line
            cases += [
                Case(
                    client="ftplib2 retrlines('LIST') raw lines", body=lines_of("LIST list"), **f2
                ),
                Case(
                    client="ftplib2 retrlines('LIST') + parse_list_line",
                    body=lines_of("LIST list", parse),
                    **f2,
                ),
            ]
            if srv.has_mlsd:
                cases.append(
                    Case(
                        client="ftplib2 retrlines('MLSD') raw lines",
                        body=lines_of("MLSD list"),
                        **f2,
                    )
                )
            cases += [
                Case(
                    client=f"ftplib2 scandir() ({'MLSD' if srv.has_mlsd else 'LIST'})",
                    body=scandir,
                    **f2,
                ),
                Case(
                    client="stdlib retrlines('LIST') raw lines",
                    body=lines_of("LIST list"),
                    role="stdlib",
                    **std,
                ),
            ]
            if srv.has_mlsd:
                cases.append(Case(client="stdlib mlsd() (name, facts)", body=stdlib_mlsd, **std))
            ext = {"scenario": LISTING, "nbytes": nbytes, "ops": entries}
            cases.append(
                self.external_row(
                    srv,
                    self.curl_label + " LIST",
                    self.curl and [self.curl, "-sS", "-o", os.devnull, srv.url("list/")],
                    **ext,
                )
            )
            cases.append(self.external_row(srv, self.lftp_label + " ls", self.lftp_ls(srv), **ext))
        return cases

    def lftp_ls(self, srv: Server) -> list[str] | None:
        return self.lftp_argv(srv, "ls list") if self.lftp else None

    def small(self, raw: Server, servers: list[Server]) -> list[Case]:
        names = self.ws.small_names()
        count, size = len(names), 4 * KIB
        common = {"scenario": SMALL, "nbytes": count * size, "ops": count}
        dest = self.ws.dl / "small"

        def raw_many(_: Any) -> None:
            for name in names:
                self.raw_get(raw, f"pub/small/{name}", size)(None)

        cases = [raw_row(raw, "raw: a new TCP connection per file", raw_many, **common)]

        def retr_all(ftp: Any) -> None:
            for name in names:
                sink = NullSink()
                ftp.retrbinary(f"RETR small/{name}", sink.write)
                expect(sink.count, size, name)

        def download_null(ftp: Any) -> None:
            for name in names:
                expect(ftp.download(f"small/{name}", NullSink()), size, name)

        def download_files(ftp: Any) -> None:
            for name in names:
                ftp.download(f"small/{name}", dest / name)

        def download_files_sized(ftp: Any) -> None:
            for name in names:  # the size a listing gives: no SIZE command per file
                ftp.download(f"small/{name}", dest / name, size=size)

        def make_dest(login: Callable[[], Any]) -> Callable[[], Any]:
            def setup() -> Any:
                dest.mkdir(exist_ok=True)
                return login()

            return setup

        def clear_dest(ftp: Any = None) -> None:
            got = len(os.listdir(dest)) if dest.exists() else 0
            shutil.rmtree(dest, ignore_errors=True)
            if ftp is not None:
                self.logout(ftp)
            expect(got, count, "files downloaded")

        for srv in servers:
            f2 = dict(srv=srv, server=srv.name, teardown=self.logout, profile=True, **common)
            f2["setup"] = lambda srv=srv: self.ftplib2_login(srv)
            piped = {**f2, "setup": lambda srv=srv: self.ftplib2_login(srv, pipelining=True)}
            cases += [
                Case(client="ftplib2 retrbinary() each", body=retr_all, **f2),
                Case(client="ftplib2 retrbinary() each, pipelining", body=retr_all, **piped),
                Case(client="ftplib2 download() → null sink each", body=download_null, **f2),
                Case(
                    client="ftplib2 download() → tmpfs file each",
                    body=download_files,
                    **{
                        **f2,
                        "setup": make_dest(lambda srv=srv: self.ftplib2_login(srv)),
                        "teardown": clear_dest,
                    },
                ),
                Case(
                    client="ftplib2 download(size=) → tmpfs file each, pipelining",
                    body=download_files_sized,
                    **{
                        **piped,
                        "setup": make_dest(
                            lambda srv=srv: self.ftplib2_login(srv, pipelining=True)
                        ),
                        "teardown": clear_dest,
                    },
                ),
                Case(
                    server=srv.name,
                    client="stdlib retrbinary() each",
                    srv=srv,
                    setup=lambda srv=srv: self.stdlib_login(srv),
                    body=retr_all,
                    teardown=self.logout,
                    role="stdlib",
                    **common,
                ),
            ]
            curl_argv = None
            if self.curl:
                config = self.ws.base / f"curl-small-{srv.name}.conf"
                config.write_text(
                    "".join(
                        f'url = "{srv.url("small/" + n)}"\noutput = "{os.devnull}"\n' for n in names
                    )
                )
                # -w prints each transfer's connect time, to spot stalled connections.
                curl_argv = [self.curl, "-sS", "-w", "%{time_connect}\\n", "-K", str(config)]
            curl_case = self.external_row(
                srv, self.curl_label + " (one process, reuses connection)", curl_argv, **common
            )
            curl_case.after = self._count_stalls(curl_case, count)
            cases.append(curl_case)
            lftp_argv = None
            if self.lftp:
                files = " ".join(f"small/{n}" for n in names)
                lftp_argv = self.lftp_argv(srv, f"get -O {dest} {files}")

            def lftp_after() -> None:
                clear_dest()

            cases.append(
                self.external_row(
                    srv,
                    self.lftp_label + " get (→ tmpfs files)",
                    lftp_argv,
                    before=lambda: dest.mkdir(exist_ok=True),
                    after=lftp_after,
                    **common,
                )
            )
        return cases

    def _count_stalls(self, case: Case, transfers: int) -> Callable[[], None]:
        """An after() hook: note runs where curl took ≥ 0.5 s to set up data connections."""
        log = self.ws.base / "client.log"
        runs: list[int] = []

        def after() -> None:
            times = []
            for line in log.read_text(errors="replace").split():
                with contextlib.suppress(ValueError):
                    times.append(float(line))
            runs.append(sum(t >= 0.5 for t in times))
            if any(runs):
                per_run = ", ".join(map(str, runs))
                remark = (
                    f"transfers whose data connection took ≥ 0.5 s to set up, per run: {per_run}"
                    f" of {transfers}. strace shows curl itself waiting (poll with a 1000 ms"
                    " timeout) between the 229 reply and connect(); each stall costs ~1 s"
                )
                case.remarks[:] = [remark]

        return after

    def mirror(self, raw: Server, servers: list[Server]) -> list[Case]:
        count = self.ws.mirror_files
        common = {"scenario": MIRROR, "nbytes": count * 4 * KIB, "ops": count, "slow": True}
        dest = self.ws.dl / "mirror"
        cases: list[Case] = []

        def check_and_clear() -> None:
            # Dot files are a mirror tool's own (ftpmirror's manifest), not mirrored files.
            got = sum(
                len([f for f in files if not f.startswith(".")]) for _, _, files in os.walk(dest)
            )
            shutil.rmtree(dest, ignore_errors=True)
            expect(got, count, "files mirrored")

        mirror_note = ""
        script = FTPMIRROR.relative_to(REPO)
        pythonpath = [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(pythonpath)}
        if not FTPMIRROR.exists():
            mirror_note = f"skipped: {script} does not exist"
        else:
            out = subprocess.run(
                [sys.executable, str(FTPMIRROR), "--help"],
                check=False,
                capture_output=True,
                text=True,
                timeout=60,
                env=env,
            )
            if "--parallel" not in out.stdout + out.stderr:
                mirror_note = f"skipped: {script} --help shows no --parallel option"
        for srv in servers:
            for nconn, extra in ((1, []), (4, []), (1, ["--pipelining"])):
                argv = [sys.executable, str(FTPMIRROR), "-q", "--parallel", str(nconn), *extra]
                argv += [srv.url("small"), str(dest)]
                cases.append(
                    self.external_row(
                        srv,
                        " ".join([f"{script} --parallel {nconn}", *extra]),
                        None if mirror_note else argv,
                        after=check_and_clear,
                        note=mirror_note,
                        env=env,
                        profile_argv=True,
                        **common,
                    )
                )
            for nconn in (1, 4):
                cases.append(
                    self.external_row(
                        srv,
                        f"{self.lftp_label} mirror --parallel={nconn}",
                        self.lftp
                        and self.lftp_argv(srv, f"mirror --parallel={nconn} small {dest}"),
                        after=check_and_clear,
                        **common,
                    )
                )
            for nconn in (1, 4):
                cases.append(
                    Case(
                        server=srv.name,
                        client=f"ftplib2 scandir()+download(), {nconn} thread(s) (bench code)",
                        srv=srv,
                        setup=lambda: dest.mkdir(),
                        body=self._naive_mirror(srv, nconn, dest),
                        teardown=lambda _: check_and_clear(),
                        profile=nconn == 1,
                        **common,
                    )
                )
        return cases

    def _naive_mirror(self, srv: Server, nconn: int, dest: Path) -> Callable[[Any], None]:
        """What a mirror tool at least does: list once, download on `nconn` connections."""

        def worker(names: list[str]) -> None:
            ftp = self.ftplib2_login(srv)
            try:
                for name in names:
                    ftp.download(f"small/{name}", dest / name)
            finally:
                self.logout(ftp)

        def body(_: Any) -> None:
            ftp = self.ftplib2_login(srv)
            try:
                names = [e.name for e in ftp.scandir("small") if e.type == "file"]
            finally:
                self.logout(ftp)
            if nconn == 1:
                worker(names)
                return
            with concurrent.futures.ThreadPoolExecutor(nconn) as pool:
                for future in [pool.submit(worker, names[i::nconn]) for i in range(nconn)]:
                    future.result()

        return body

    def segments(self, raw: Server, servers: list[Server]) -> list[Case]:
        """download(segments=N) on the paced servers, beside lftp's pget and curl.

        The servers are the workspace's own (`Workspace.paced`): a cap per data
        connection; the same with one connection ten times slower; the cap
        with max_cons_per_ip=2.  The rows write into a tmpfs file, checked
        whole (sha256) after each run.
        """
        size = self.ws.segments_size
        local = self.ws.dl / "seg.bin"
        with open(self.ws.pub / "seg.bin", "rb") as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()

        def check(what: str) -> Callable[[], None]:
            def after() -> None:
                expect(local.stat().st_size, size, what)
                with open(local, "rb") as f:
                    if hashlib.file_digest(f, "sha256").hexdigest() != digest:
                        raise RuntimeError(f"{what}: the copy differs from the file")

            return after

        cases: list[Case] = []
        common = {"scenario": SEGMENTS, "nbytes": size, "slow": True}
        for srv in self.ws.paced:

            def download(segments: int) -> Callable[[Any], None]:
                def body(ftp: Any) -> None:
                    ftp.download("seg.bin", local, segments=segments)

                return body

            def teardown(ftp: Any) -> None:
                self.logout(ftp)
                check("download()")()

            for n in SEGMENT_COUNTS:
                cases.append(
                    Case(
                        server=srv.name,
                        client=f"ftplib2 download(segments={n})",
                        srv=srv,
                        setup=lambda srv=srv: (fresh_file(local), self.ftplib2_login(srv))[1],
                        body=download(n),
                        teardown=teardown,
                        profile=n == 4,
                        **common,
                    )
                )
            cases.append(
                self.external_row(
                    srv,
                    self.lftp_label + " pget -n 4",
                    self.lftp and self.lftp_argv(srv, f"pget -n 4 seg.bin -o {local}"),
                    before=lambda: fresh_file(local),
                    after=check("lftp pget"),
                    **common,
                )
            )
            cases.append(
                self.external_row(
                    srv,
                    self.curl_label,
                    self.curl and [self.curl, "-sS", "-o", str(local), srv.url("seg.bin")],
                    before=lambda: fresh_file(local),
                    after=check("curl"),
                    **common,
                )
            )
        return cases

    def verify(self, raw: Server, servers: list[Server]) -> list[Case]:
        """download(verify=False/True/'CRC32') of the big file into a tmpfs file.

        Against the workspace's two checksum servers (`Workspace.checksummed`):
        pyftpdlib with HASH whose digests are kept (hashed once, in the untimed
        setup: a server whose hash is fast) and one that computes each (reads
        and hashes the whole file after the transfer).  Two rows of reference:
        the local file hashed alone, in this process, with SHA-256 and with
        CRC32: the work verify adds on the client, whatever overlaps it.
        """
        size = self.ws.size
        local = self.ws.dl / "verify.bin"
        cases: list[Case] = []
        common = {"scenario": VERIFY, "nbytes": size, "slow": True}
        for srv in self.ws.checksummed:

            def body(verify: bool | str) -> Callable[[Any], None]:
                def run(ftp: Any) -> None:
                    expect(ftp.download("big.bin", local, verify=verify), size, "download()")

                return run

            def setup(srv: Server = srv) -> Any:
                fresh_file(local)
                ftp = self.ftplib2_login(srv)
                for algorithm in ("SHA-256", "CRC32"):  # kept by the "kept" server from now
                    ftp.checksum("big.bin", algorithm)
                return ftp

            for verify in VERIFY_CHOICES:
                cases.append(
                    Case(
                        server=srv.name,
                        client=f"ftplib2 download(verify={verify!r}) → tmpfs file",
                        srv=srv,
                        setup=setup,
                        body=body(verify),
                        teardown=self.logout,
                        profile=verify is True,
                        **common,
                    )
                )
        source = self.ws.pub / "big.bin"

        def hash_alone(algorithm: str) -> Callable[[Any], None]:
            def run(_: Any) -> None:
                digest, crc = hashlib.sha256(), 0
                with open(source, "rb") as f:
                    while block := f.read(1 << 20):
                        if algorithm == "CRC32":
                            crc = zlib.crc32(block, crc)
                        else:
                            digest.update(block)

            return run

        for algorithm in ("SHA-256", "CRC32"):
            cases.append(
                Case(
                    server="(local)",
                    client=f"hash of the file alone, {algorithm}, 1 MiB reads",
                    setup=lambda: None,
                    body=hash_alone(algorithm),
                    **common,
                )
            )
        return cases

    def verify_summary(self, cases: list[Case]) -> list[str]:
        """Each verify row against verify=False on its server: wall time and client CPU."""
        out = ["Verified downloads, ratios of the medians above to verify=False:", ""]

        def median(case: Case, what: str) -> float | None:
            values = [getattr(s, what) for s in case.samples if getattr(s, what) is not None]
            return statistics.median(values) if values else None

        by_key = {(c.server, c.client): c for c in cases if c.samples}
        for srv in self.ws.checksummed:
            base = by_key.get((srv.name, "ftplib2 download(verify=False) → tmpfs file"))
            if base is None:
                continue
            wall0, cpu0 = median(base, "wall"), median(base, "cpu")
            for verify in VERIFY_CHOICES[1:]:
                case = by_key.get((srv.name, f"ftplib2 download(verify={verify!r}) → tmpfs file"))
                if case is None or not wall0:
                    continue
                wall, cpu = median(case, "wall"), median(case, "cpu")
                target = ", target <= 1.05" if verify is True and "kept" in srv.name else ""
                cpu_text = f", client CPU {cpu:.2f} s vs {cpu0:.2f} s" if cpu and cpu0 else ""
                out.append(
                    f"- {srv.name}: verify={verify!r} / verify=False: {wall / wall0:.2f}"
                    f" ({wall:.3f} s vs {wall0:.3f} s){target}{cpu_text}"
                )
        out.append("")
        return out

    def segments_summary(self, cases: list[Case]) -> list[str]:
        """The issue's targets, as ratios of this run's medians."""
        wall = {
            (c.server, c.client): statistics.median(s.wall for s in c.samples)
            for c in cases
            if c.samples
        }
        size, rate = self.ws.segments_size, self.ws.segments_rate
        capped, slowed, limited = (srv.name for srv in self.ws.paced)
        lftp = self.lftp_label + " pget -n 4"

        def t(server: str, client: str) -> float | None:
            return wall.get((server, client))

        def seg(server: str, n: int) -> float | None:
            return t(server, f"ftplib2 download(segments={n})")

        out = ["Segmented downloads, ratios of the medians above:", ""]

        def line(text: str, value: float | None, target: str, ok: bool | None) -> None:
            shown = "—" if value is None else f"{value:.2f}"
            verdict = "" if ok is None else (" (target met)" if ok else " (TARGET MISSED)")
            out.append(f"- {text}: {shown}{target}{verdict}")

        one = seg(capped, 1)
        for n in SEGMENT_COUNTS[1:]:
            mine = seg(capped, n)
            ratio = one / mine if one and mine else None
            ideal = size / (n * rate)
            if n == 4:
                line(
                    f"{capped}: segments=1 / segments={n}",
                    ratio,
                    ", target >= 3.4",
                    ratio and ratio >= 3.4,
                )
            else:
                line(f"{capped}: segments=1 / segments={n}", ratio, "", None)
            if mine:
                line(f"{capped}: segments={n} / ideal ({ideal:.2f} s)", mine / ideal, "", None)
        for n in SEGMENT_COUNTS[1:]:
            mine = seg(slowed, n)
            ideal = size / ((n - 1) * rate + rate / 10)
            ratio = mine / ideal if mine else None
            target = ", target <= 1.25" if n == 4 else ""
            line(
                f"{slowed}: segments={n} / ideal ({ideal:.2f} s)",
                ratio,
                target,
                ratio and ratio <= 1.25 if n == 4 else None,
            )
        other, mine = t(slowed, lftp), seg(slowed, 4)
        ratio = other / mine if other and mine else None
        line(
            f"{slowed}: lftp pget -n 4 / segments=4",
            ratio,
            ", target >= 1.5",
            ratio and ratio >= 1.5,
        )
        for n in SEGMENT_COUNTS[1:]:
            one, mine = seg(limited, 1), seg(limited, n)
            line(
                f"{limited}: segments=1 / segments={n}",
                one / mine if one and mine else None,
                "",
                None,
            )
        other, mine = t(capped, lftp), seg(capped, 4)
        line(
            f"{capped}: lftp pget -n 4 / segments=4",
            other / mine if other and mine else None,
            "",
            None,
        )
        out.append("")
        return out

    # -- the WAN mode: servers behind the delay proxy (wan.py) -----------------------

    def wan_check(self, raw: Server, servers: list[Server]) -> list[Case]:
        """The proxy's own check (a NOOP costs 1 round trip, connect to greeting 2), and logins."""
        cases: list[Case] = []
        noops, connects = 10, 5
        for srv in servers:
            common = {"scenario": WAN_CHECK, "server": srv.name, "srv": srv}

            def raw_noops(ftp: Any) -> None:
                sock = ftp.sock
                for _ in range(noops):
                    sock.sendall(b"NOOP\r\n")
                    reply = sock.recv(256)
                    while not reply.endswith(b"\n"):
                        reply += sock.recv(256)

            def raw_greetings(_: Any, srv: Server = srv) -> None:
                for _ in range(connects):
                    with socket.create_connection((HOST, srv.port)) as s:
                        reply = s.recv(256)
                        while not reply.endswith(b"\n"):
                            reply += s.recv(256)

            def sessions(module: Any, srv: Server = srv) -> Callable[[Any], None]:
                def body(_: Any) -> None:
                    ftp = module.FTP()
                    ftp.connect(HOST, srv.port)
                    ftp.login(srv.user, srv.password)
                    ftp.quit()

                return body

            def one_file(module: Any, srv: Server = srv, download: bool = False) -> Callable:
                def body(_: Any) -> None:
                    ftp = module.FTP()
                    ftp.connect(HOST, srv.port)
                    ftp.login(srv.user, srv.password)
                    if download:
                        expect(ftp.download("small/f0000", NullSink()), 4 * KIB, "download()")
                    else:
                        sink = NullSink()
                        ftp.retrbinary("RETR small/f0000", sink.write)
                        expect(sink.count, 4 * KIB, "retrbinary")
                    ftp.quit()

                return body

            cases += [
                Case(
                    client="raw socket: NOOP on a logged-in connection (expect 1)",
                    setup=lambda srv=srv: self.stdlib_login(srv),
                    body=raw_noops,
                    teardown=self.logout,
                    ops=noops,
                    expect_round_trips=1.0,
                    **common,
                ),
                Case(
                    client="raw socket: connect() to greeting (expect 2)",
                    setup=lambda: None,
                    body=raw_greetings,
                    ops=connects,
                    expect_round_trips=2.0,
                    **common,
                ),
                Case(
                    client="ftplib2 connect, login, QUIT",
                    setup=lambda: None,
                    body=sessions(self.ftplib2),
                    ops=1,
                    **common,
                ),
                Case(
                    client="stdlib connect, login, QUIT",
                    setup=lambda: None,
                    body=sessions(ftplib),
                    ops=1,
                    role="stdlib",
                    **common,
                ),
                Case(
                    client="ftplib2 connect, login, retrbinary() of a 4 KiB file, QUIT",
                    setup=lambda: None,
                    body=one_file(self.ftplib2),
                    ops=1,
                    **common,
                ),
                Case(
                    client="ftplib2 connect, login, download() of a 4 KiB file, QUIT",
                    setup=lambda: None,
                    body=one_file(self.ftplib2, download=True),
                    ops=1,
                    **common,
                ),
                Case(
                    client="stdlib connect, login, retrbinary() of a 4 KiB file, QUIT",
                    setup=lambda: None,
                    body=one_file(ftplib),
                    ops=1,
                    **common,
                ),
            ]
        return cases

    def wan_small(self, raw: Server, servers: list[Server]) -> list[Case]:
        """Small files one after another on one connection, at WAN latency."""
        names = self.ws.small_names()[: self.args.wan_files]
        count, size = len(names), 4 * KIB
        dest = self.ws.dl / "wan-small"
        cases: list[Case] = []

        def retr_each(ftp: Any) -> None:
            for name in names:
                sink = NullSink()
                ftp.retrbinary(f"RETR small/{name}", sink.write)
                expect(sink.count, size, name)

        def download_each(ftp: Any) -> None:
            for name in names:
                ftp.download(f"small/{name}", dest / name)

        def download_each_sized(ftp: Any) -> None:
            for name in names:
                ftp.download(f"small/{name}", dest / name, size=size)

        def download_many(ftp: Any) -> None:
            got = ftp.download_many([(f"small/{n}", dest / n, size) for n in names])
            expect(sum(got), count * size, "download_many()")

        def login(srv: Server, **options: Any) -> Callable[[], Any]:
            def setup() -> Any:
                dest.mkdir(exist_ok=True)
                ftp = self.ftplib2_login(srv, pipelining=options.get("pipelining"))
                ftp.set_pasv(options.get("passive", True))
                return ftp

            return setup

        def clear(ftp: Any = None) -> None:
            got = len(os.listdir(dest)) if dest.exists() else 0
            shutil.rmtree(dest, ignore_errors=True)
            if ftp is not None:
                self.logout(ftp)
            expect(got, count, "files downloaded")

        has_many = hasattr(self.ftplib2.FTP, "download_many")
        for srv in servers:
            common = {"scenario": WAN_SMALL, "server": srv.name, "srv": srv, "ops": count}
            to_files = {**common, "teardown": clear}
            rows = [
                Case(
                    client="stdlib retrbinary() each",
                    setup=lambda srv=srv: self.stdlib_login(srv),
                    body=retr_each,
                    teardown=self.logout,
                    role="stdlib",
                    **common,
                ),
                Case(
                    client="ftplib2 retrbinary() each",
                    setup=lambda srv=srv: self.ftplib2_login(srv),
                    body=retr_each,
                    teardown=self.logout,
                    **common,
                ),
                Case(
                    client="ftplib2 retrbinary() each, pipelining",
                    setup=lambda srv=srv: self.ftplib2_login(srv, pipelining=True),
                    body=retr_each,
                    teardown=self.logout,
                    **common,
                ),
                Case(
                    client="ftplib2 retrbinary() each, active mode",
                    setup=login(srv, passive=False),
                    body=retr_each,
                    teardown=self.logout,
                    **common,
                ),
                Case(
                    client="ftplib2 download() → tmpfs file each",
                    setup=login(srv),
                    body=download_each,
                    **to_files,
                ),
                Case(
                    client="ftplib2 download(size=) → tmpfs file each",
                    setup=login(srv),
                    body=download_each_sized,
                    **to_files,
                ),
            ]
            if has_many:
                rows += [
                    Case(
                        client="ftplib2 download_many() → tmpfs files",
                        setup=login(srv),
                        body=download_many,
                        **to_files,
                    ),
                    Case(
                        client="ftplib2 download_many() → tmpfs files, pipelining",
                        setup=login(srv, pipelining=True),
                        body=download_many,
                        **to_files,
                    ),
                    Case(
                        client="ftplib2 download_many() → tmpfs files, active mode, pipelining",
                        setup=login(srv, pipelining=True, passive=False),
                        body=download_many,
                        **to_files,
                    ),
                ]
            cases += rows
            cases += self._wan_tools(srv, names, dest, common, clear)
        return cases

    def _wan_tools(
        self,
        srv: Server,
        names: list[str],
        dest: Path,
        common: dict[str, Any],
        clear: Callable[[], None],
    ) -> list[Case]:
        """curl and lftp fetching `names`, each with a row for one file: their fixed cost."""
        cases: list[Case] = []
        for label, files in (("1 file (start-up, login)", names[:1]), ("each", names)):
            curl_argv = None
            if self.curl:
                config = self.ws.base / f"curl-wan-{srv.name}-{len(files)}.conf"
                config.write_text(
                    "".join(
                        f'url = "{srv.url("small/" + n)}"\noutput = "{os.devnull}"\n' for n in files
                    )
                )
                curl_argv = [self.curl, "-sS", "-w", "%{time_connect}\\n", "-K", str(config)]
            fields = {"scenario": WAN_SMALL, "ops": len(files)}
            curl_case = self.external_row(
                srv, f"{self.curl_label} (one process) {label}", curl_argv, **fields
            )
            curl_case.after = self._count_stalls(curl_case, len(files))
            lftp_argv = None
            if self.lftp:
                listed = " ".join(f"small/{n}" for n in files)
                lftp_argv = self.lftp_argv(srv, f"get -O {dest} {listed}")
            lftp_case = self.external_row(
                srv,
                f"{self.lftp_label} get {label}",
                lftp_argv,
                before=lambda: dest.mkdir(exist_ok=True),
                after=functools.partial(self._clear_count, dest, len(files)),
                **fields,
            )
            if len(files) > 1:
                curl_case.fixed, lftp_case.fixed = cases[0], cases[1]
            cases += [curl_case, lftp_case]
        return cases

    @staticmethod
    def _clear_count(dest: Path, count: int) -> None:
        got = len(os.listdir(dest)) if dest.exists() else 0
        shutil.rmtree(dest, ignore_errors=True)
        expect(got, count, "files downloaded")

    def wan_mirror(self, raw: Server, servers: list[Server]) -> list[Case]:
        """A tree of small files mirrored with 1 and 4 connections; listings and logins included."""
        count = self.ws.tree_files
        dest = self.ws.dl / "wan-tree"
        cases: list[Case] = []
        script = FTPMIRROR.relative_to(REPO)
        pythonpath = [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(pythonpath)}
        note = "" if FTPMIRROR.exists() else f"skipped: {script} does not exist"

        def check_and_clear(want: int = count) -> None:
            got = sum(
                len([f for f in files if not f.startswith(".")]) for _, _, files in os.walk(dest)
            )
            shutil.rmtree(dest, ignore_errors=True)
            expect(got, want, "files mirrored")

        for srv in servers:
            common = {"scenario": WAN_MIRROR, "server": srv.name, "srv": srv, "slow": True}
            tool = {"scenario": WAN_MIRROR, "slow": True}
            empty = {**tool, "ops": 1}
            cases.append(
                self.external_row(
                    srv,
                    f"{script}: an empty directory (start-up, login, listing)",
                    None if note else self._ftpmirror_argv(srv, 1, "tree/empty", dest),
                    after=lambda: check_and_clear(0),
                    note=note,
                    env=env,
                    **empty,
                )
            )
            cases.append(
                self.external_row(
                    srv,
                    f"{self.lftp_label} mirror: an empty directory",
                    self.lftp and self.lftp_argv(srv, f"mirror tree/empty {dest}"),
                    after=lambda: check_and_clear(0),
                    **empty,
                )
            )
            for nconn in (1, 4):
                fields = {**common, "ops": count}
                tool_fields = {**tool, "ops": count}
                cases += [
                    Case(
                        client=f"stdlib mlsd() + retrbinary() per file, {nconn} connection(s)"
                        " (bench code)",
                        setup=lambda: dest.mkdir(),
                        body=self._tree_mirror(srv, nconn, dest, stdlib=True),
                        teardown=lambda _: check_and_clear(),
                        role="stdlib" if nconn == 1 else "",
                        **fields,
                    ),
                    Case(
                        client=f"ftplib2 scandir() + download(size=) per file, {nconn}"
                        " connection(s) (bench code)",
                        setup=lambda: dest.mkdir(),
                        body=self._tree_mirror(srv, nconn, dest),
                        teardown=lambda _: check_and_clear(),
                        **fields,
                    ),
                    Case(
                        client=f"ftplib2 scandir() + download_many(connections={nconn})"
                        " (bench code)",
                        setup=lambda: dest.mkdir(),
                        body=self._tree_mirror(srv, nconn, dest, many=True),
                        teardown=lambda _: check_and_clear(),
                        **fields,
                    ),
                    self.external_row(
                        srv,
                        f"{script} --parallel {nconn}",
                        None if note else self._ftpmirror_argv(srv, nconn, "tree", dest),
                        after=check_and_clear,
                        note=note,
                        env=env,
                        **tool_fields,
                    ),
                    self.external_row(
                        srv,
                        f"{self.lftp_label} mirror --parallel={nconn}",
                        self.lftp and self.lftp_argv(srv, f"mirror --parallel={nconn} tree {dest}"),
                        after=check_and_clear,
                        **tool_fields,
                    ),
                ]
        return cases

    @staticmethod
    def _ftpmirror_argv(srv: Server, nconn: int, path: str, dest: Path) -> list[str]:
        argv = [sys.executable, str(FTPMIRROR), "-q", "--parallel", str(nconn)]
        return [*argv, srv.url(path), str(dest)]

    def _tree_mirror(
        self, srv: Server, nconn: int, dest: Path, *, stdlib: bool = False, many: bool = False
    ) -> Callable[[Any], None]:
        """The bench's own mirror of tree/: list it all on one connection, fetch on `nconn`.

        With `many`, the listing's connection fetches too, with download_many(), which
        opens the other connections itself.
        """

        def listing(ftp: Any) -> list[tuple[str, int]]:
            files: list[tuple[str, int]] = []
            todo = ["tree"]
            while todo:
                path = todo.pop()
                if stdlib and srv.has_mlsd:
                    entries = [(n, f.get("type"), int(f.get("size", 0))) for n, f in ftp.mlsd(path)]
                elif stdlib:  # LIST, as a program on ftplib reads it: "drwx... size ... name"
                    lines: list[str] = []
                    ftp.retrlines(f"LIST {path}", lines.append)
                    entries = []
                    for line in lines:
                        fields = line.split(None, 8)
                        kind = {"d": "dir", "-": "file"}.get(line[:1], "")
                        entries.append((fields[8], kind, int(fields[4])))
                else:
                    entries = [(e.name, e.type, e.size or 0) for e in ftp.scandir(path)]
                for name, kind, size in entries:
                    if kind == "dir":
                        todo.append(f"{path}/{name}")
                    elif kind == "file":
                        files.append((f"{path}/{name}", size))
            return files

        def fetch(files: list[tuple[str, int]]) -> None:
            ftp = self.stdlib_login(srv) if stdlib else self.ftplib2_login(srv)
            try:
                for path, size in files:
                    local = dest / path.replace("/", "_")
                    if stdlib:
                        with open(local, "wb") as f:
                            ftp.retrbinary(f"RETR {path}", f.write)
                    else:
                        ftp.download(path, local, size=size)
            finally:
                self.logout(ftp)

        def body(_: Any) -> None:
            ftp = self.stdlib_login(srv) if stdlib else self.ftplib2_login(srv)
            try:
                files = listing(ftp)
                if many:
                    pairs = [(p, dest / p.replace("/", "_"), size) for p, size in files]
                    ftp.download_many(pairs, connections=nconn)
                    return
            finally:
                self.logout(ftp)
            if nconn == 1:
                fetch(files)
                return
            with concurrent.futures.ThreadPoolExecutor(nconn) as pool:
                for future in [pool.submit(fetch, files[i::nconn]) for i in range(nconn)]:
                    future.result()

        return body


class Scenario(NamedTuple):
    title: str  # of its table; {sessions}, {size}, ... are filled in by Scenarios.title
    build: Callable[[Scenarios, Server, list[Server]], list[Case]]  # (raw, servers) -> rows
    # Lines under its table, from its rows once they have run (ratios between rows).
    summary: Callable[[Scenarios, list[Case]], list[str]] | None = None
    wan: bool = False  # run against the servers behind the delay proxy, at every --rtt


# Every scenario, in the order they run and are reported.
SCENARIOS: dict[str, Scenario] = {
    SESSION: Scenario(
        "Connect, log in and QUIT ({sessions} sessions per run in process, 1 per tool run)",
        Scenarios.session,
    ),
    DOWNLOAD: Scenario("Download of one {size} file", Scenarios.download),
    UPLOAD: Scenario("Upload of one {size} file (server discards it)", Scenarios.upload),
    IDIOMS: Scenario(
        "The everyday idioms with a real file, {size}: each against ftplib's same idiom",
        Scenarios.idioms,
    ),
    NOOP: Scenario("{noops} NOOP round trips on one connection", Scenarios.noop),
    LISTING: Scenario("Listing of a directory of {entries} entries", Scenarios.listing),
    SMALL: Scenario("{small} small-file (4 KiB) downloads on one connection", Scenarios.small),
    MIRROR: Scenario("Mirror of a directory of {mirror} small files (4 KiB)", Scenarios.mirror),
    SEGMENTS: Scenario(
        "Segmented download of one {segments} file, data connections capped at {rate} each",
        Scenarios.segments,
        Scenarios.segments_summary,
    ),
    VERIFY: Scenario(
        "Download of one {size} file with verify, from servers with HASH",
        Scenarios.verify,
        Scenarios.verify_summary,
    ),
    WAN_CHECK: Scenario(
        "WAN (RTT {rtts} ms): the delay proxy's check, and sessions",
        Scenarios.wan_check,
        wan=True,
    ),
    WAN_SMALL: Scenario(
        "WAN (RTT {rtts} ms): {wan_files} small files (4 KiB) on one connection, per file",
        Scenarios.wan_small,
        wan=True,
    ),
    WAN_MIRROR: Scenario(
        "WAN (RTT {rtts} ms): mirror of a tree of {tree} small files in {dirs} directories, "
        "per file (logins and listings included)",
        Scenarios.wan_mirror,
        wan=True,
    ),
}
