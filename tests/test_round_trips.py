"""Round trips per file (issue 16, item 2): what goes out in one write, and what is not waited for.

Proves, against live pyftpdlib and vsftpd, by counting the commands each write carries and
the order of writes and replies (never by timing), that:

* ``download()`` pays no round trip for its size check: the size comes from the caller, from
  the 150 reply, or from a SIZE sent in the same write as the passive command (once a server's
  150 replies have given sizes, none is sent);
* after a download whose bytes all came, the next command goes out before that transfer's
  final reply is read (vsftpd sends it only once it has seen the client's close), and replies
  stay in step; ``pipelining = False`` keeps one command at a time, as ftplib does;
* with ``pipelining = True`` in active mode, PORT/EPRT and RETR go in one write, and a refused
  port command falls back without a hang or a wrong file, on both servers;
* ``download_many()`` fetches a list of files with these savings, keeps one listening socket
  for a whole batch in active mode, and spreads the files over several connections;
* (item 3) ``retrbinary(cmd, f.write)`` and ``storbinary(cmd, f)`` with a file from ``open()``
  or a BytesIO, which now move large blocks, store and send every byte, and a subclass that
  can watch its blocks still gets bytes of at most *blocksize*.  Their speed is the
  benchmark's to show (``Tools/bench/bench.py --only idioms``), not a test's.

Run only these::

    PATH=$PATH:/usr/sbin python -m pytest -q -p no:cacheprovider tests/test_round_trips.py
"""

from __future__ import annotations

import contextlib
import io
import os
import time
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import ftplib2
from tests.servers import (
    PASSWORD,
    TIMEOUT,
    USER,
    HostileControl,
    InteropTarget,
    LiveServer,
    hostile_serving,
    mirror_run,
)

# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


class Wire:
    """What went over a client's control connection, in order: its writes and the replies read."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []  # ("write", text) or ("reply", text)

    def writes(self) -> list[str]:
        return [text for kind, text in self.events if kind == "write"]

    def commands_per_write(self) -> list[list[str]]:
        """Each write as the command lines it carried."""
        return [w.removesuffix("\r\n").split("\r\n") for w in self.writes()]

    def index(self, kind: str, start: str, after: int = -1) -> int:
        """The index of the first event of `kind` after `after` whose text starts with `start`."""
        for i, (k, text) in enumerate(self.events):
            if i > after and k == kind and text.startswith(start):
                return i
        raise AssertionError(f"no {kind} starting with {start!r} after event {after}")


class _WireSocket:
    """Stands in for the control socket: every sendall is recorded in a `Wire`."""

    def __init__(self, sock: Any, wire: Wire) -> None:
        self._sock = sock
        self._wire = wire

    def sendall(self, data: bytes, *args: Any) -> None:
        self._wire.events.append(("write", bytes(data).decode("latin-1")))
        self._sock.sendall(data, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class WatchedFTP(ftplib2.FTP):
    """An FTP client whose control connection is watched: see `Wire`.

    Only getmultiline() is overridden, which sends nothing: commands may still go out
    ahead (overriding putline() and the like would keep them one at a time, by design).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.wire = Wire()
        super().__init__(*args, **kwargs)

    def connect(self, *args: Any, **kwargs: Any) -> str:
        welcome = super().connect(*args, **kwargs)
        self.sock = _WireSocket(self.sock, self.wire)  # type: ignore[assignment]
        return welcome

    def getmultiline(self) -> ftplib2.Reply:
        reply = super().getmultiline()
        self.wire.events.append(("reply", str(reply)))
        return reply


def watched_session(target: InteropTarget | LiveServer, directory: str = "", **attrs: Any) -> Any:
    ftp = WatchedFTP(timeout=TIMEOUT)
    try:
        ftp.connect(target.host, target.port)
        if isinstance(target, InteropTarget):
            ftp.login(target.user, target.passwd)
        else:
            ftp.login(USER, PASSWORD)
        if directory:
            ftp.cwd(directory)
        for name, value in attrs.items():
            setattr(ftp, name, value)
    except BaseException:
        ftp.close()
        raise
    return ftp


@contextlib.contextmanager
def session(target: InteropTarget, directory: str, **attrs: Any) -> Iterator[Any]:
    ftp = watched_session(target, directory, **attrs)
    try:
        yield ftp
    finally:
        ftp.close()


def put_files(target: InteropTarget, directory: str, count: int, size: int = 3000) -> dict:
    """Upload `count` files of random bytes to `directory`; return {name: bytes}."""
    files = {f"f{i}.bin": os.urandom(size + i) for i in range(count)}
    with session(target, directory) as ftp:
        for name, data in files.items():
            ftp.storbinary(f"STOR {name}", io.BytesIO(data))
    return files


# --------------------------------------------------------------------------
# download(): no round trip for the size check
# --------------------------------------------------------------------------


def test_download_sends_size_in_the_write_of_the_passive_command(
    server: LiveServer, workdir: Path, tmp_path: Path
) -> None:
    data = os.urandom(5000)
    (workdir / "f.bin").write_bytes(data)
    ftp = watched_session(server, workdir.name)
    try:
        ftp.voidcmd("TYPE I")
        assert ftp.download("f.bin", tmp_path / "f.bin") == len(data)
        ftp.voidcmd("NOOP")
        # pyftpdlib's 150 reply names no size: SIZE rides with PASV, nothing comes after RETR.
        assert ftp.wire.commands_per_write()[-3:] == [
            ["SIZE f.bin", "PASV"],
            ["RETR f.bin"],
            ["NOOP"],
        ]
        verbs = [c.split(" ")[0] for c in server.commands_of(ftp)[-4:]]
        assert verbs == ["SIZE", "PASV", "RETR", "NOOP"]
    finally:
        ftp.close()
    assert (tmp_path / "f.bin").read_bytes() == data


def test_download_checks_against_the_size_asked_ahead(hostile_server: Any, tmp_path: Path) -> None:
    """A server whose SIZE says 10 and that sends 4 bytes: the download fails, no file appears."""

    def retr(ctl: HostileControl, argument: str) -> None:
        ctl.reply("150 Here it comes.")
        conn = ctl.accept_data()
        conn.sendall(b"abcd")
        conn.close()
        ctl.reply("226 Done.")

    ftp = hostile_server(hostile_serving({"SIZE": "213 10", "RETR": retr})).connect()
    with pytest.raises(ftplib2.error_proto, match="4 bytes of 10"):
        ftp.download("f.bin", tmp_path / "f.bin")
    assert not (tmp_path / "f.bin").exists()
    assert ftp.voidcmd("NOOP").startswith("200")
    ftp.close()


def test_download_learns_that_the_150_reply_gives_the_size(
    interop: InteropTarget, interop_dir: str, tmp_path: Path
) -> None:
    files = put_files(interop, interop_dir, 3)
    with session(interop, interop_dir) as ftp:
        for name, data in files.items():
            assert ftp.download(name, tmp_path / name) == len(data)
        sizes = [c for w in ftp.wire.commands_per_write() for c in w if c.startswith("SIZE")]
    if (
        interop.name == "vsftpd"
    ):  # "150 Opening BINARY mode data connection for f0.bin (3000 bytes)"
        assert sizes == ["SIZE f0.bin"]
    else:  # pyftpdlib's 150 names no size: SIZE each time, in the passive command's write
        assert sizes == [f"SIZE {name}" for name in files]
    for name, data in files.items():
        assert (tmp_path / name).read_bytes() == data


# --------------------------------------------------------------------------
# The next command before a finished download's final reply
# --------------------------------------------------------------------------


def test_next_command_goes_out_before_a_finished_downloads_final_reply(
    hostile_server: Any, tmp_path: Path
) -> None:
    """A server that sends 226 only once the next command has come: nothing waits for it."""

    def retr(ctl: HostileControl, argument: str) -> None:
        ctl.reply("150 Opening data connection (4 bytes).")
        conn = ctl.accept_data()
        conn.sendall(b"abcd")
        conn.close()
        following = ctl.recv_command()  # before the 226: the client must not wait for it
        ctl.reply("226 Transfer complete.")
        assert following == "NOOP"
        ctl.reply("200 NOOP ok.")

    server = hostile_server(hostile_serving({"RETR": retr}))
    ftp = server.connect(timeout=3)
    assert ftp.download("f.bin", tmp_path / "f.bin") == 4
    assert ftp.voidcmd("NOOP") == "200 NOOP ok."
    assert ftp.voidcmd("NOOP") == "200 NOOP ok."  # in step
    assert (tmp_path / "f.bin").read_bytes() == b"abcd"
    ftp.close()


def test_file_after_file_the_next_command_precedes_the_226(
    interop: InteropTarget, interop_dir: str, tmp_path: Path
) -> None:
    files = put_files(interop, interop_dir, 4)
    with session(interop, interop_dir) as ftp:
        for name, data in files.items():
            assert ftp.download(name, tmp_path / name, size=len(data)) == len(data)
        assert ftp.pwd().endswith(interop_dir)  # replies in step
        wire = ftp.wire
    retrs = [i for i, (k, t) in enumerate(wire.events) if k == "write" and "RETR" in t]
    assert len(retrs) == len(files)
    for previous in retrs[:-1]:
        # After a download: the next PASV goes out, then the previous file's 226 is read.
        passive = wire.index("write", "PASV", after=previous)
        final = wire.index("reply", "226", after=previous)
        assert passive < final
    for name, data in files.items():
        assert (tmp_path / name).read_bytes() == data


def test_one_command_at_a_time_when_pipelining_is_false(
    server: LiveServer, workdir: Path, tmp_path: Path
) -> None:
    data = os.urandom(5000)
    (workdir / "f.bin").write_bytes(data)
    ftp = watched_session(server, workdir.name, pipelining=False)
    try:
        for _ in range(2):
            assert ftp.download("f.bin", tmp_path / "f.bin") == len(data)
        wire = ftp.wire
        assert all(len(commands) == 1 for commands in wire.commands_per_write())
        # The size is asked after the transfer, its final reply read before anything is sent.
        first_retr = wire.index("write", "RETR")
        assert wire.index("reply", "226", first_retr) < wire.index("write", "SIZE", first_retr)
    finally:
        ftp.close()


# --------------------------------------------------------------------------
# Opt-in pipelining: active mode
# --------------------------------------------------------------------------


def test_active_pipelining_sends_port_and_retr_in_one_write_or_falls_back(
    interop: InteropTarget, interop_dir: str
) -> None:
    """vsftpd takes PORT and RETR in one write.  pyftpdlib answers that RETR (150) before the
    PORT (200, once it has connected), then sends the data but never ends the transfer: that
    order is detected, the transfer aborted and done again one command at a time, and the
    port command never sent ahead again on that connection."""
    files = put_files(interop, interop_dir, 4)
    with session(interop, interop_dir, pipelining=True) as ftp:
        ftp.set_pasv(False)
        for name, data in files.items():
            received = io.BytesIO()
            ftp.retrbinary(f"RETR {name}", received.write)
            assert received.getvalue() == data
        assert ftp.pwd().endswith(interop_dir)  # in step
        writes = ftp.wire.commands_per_write()
    together = [w[1] for w in writes if len(w) == 2 and w[0].startswith(("PORT", "EPRT"))]
    retrs = [c for w in writes for c in w if c.startswith("RETR")]
    # The first transfer goes one command at a time: the port command has not worked yet.
    if interop.name == "vsftpd":
        assert together == ["RETR f1.bin", "RETR f2.bin", "RETR f3.bin"]
        assert retrs == [f"RETR {name}" for name in files]
    else:
        assert together == ["RETR f1.bin"]
        assert ["ABOR"] in writes
        assert retrs == ["RETR f0.bin", "RETR f1.bin", "RETR f1.bin", "RETR f2.bin", "RETR f3.bin"]


def test_active_pipelining_falls_back_when_the_port_command_is_refused(
    interop: InteropTarget, interop_dir: str
) -> None:
    """PORT to another host is refused; the RETR sent with it must not leave a server waiting.

    vsftpd answers that RETR with 425 (the connection stays in step); pyftpdlib starts it
    and waits for a data connection, so the port is announced again, refused again, and
    the connection closed: in neither case a hang, and the error is the refusal.
    """
    files = put_files(interop, interop_dir, 1)
    with session(interop, interop_dir, pipelining=True) as ftp:
        ftp.set_pasv(False)
        ftp.retrbinary("RETR f0.bin", io.BytesIO().write)  # the port command has worked
        ftp.active_address = "127.0.0.3"  # not the control connection's peer: refused
        received = io.BytesIO()
        with pytest.raises(ftplib2.error_perm) as caught:
            ftp.retrbinary("RETR f0.bin", received.write)
        assert caught.value.code in ("500", "501")
        assert received.getvalue() == b""
        sent_ahead = [w for w in ftp.wire.commands_per_write() if len(w) == 2]
        assert sent_ahead[-1][0].startswith("PORT 127,0,0,3,")
        assert sent_ahead[-1][1] == "RETR f0.bin"
        if interop.name == "vsftpd":
            assert ftp.sock is not None
            ftp.active_address = None
            received = io.BytesIO()
            ftp.retrbinary("RETR f0.bin", received.write)  # in step, and pipelining again
            assert received.getvalue() == files["f0.bin"]
        else:
            assert ftp.sock is None


# --------------------------------------------------------------------------
# download_many(): the batch path
# --------------------------------------------------------------------------


def test_download_many_with_the_listings_sizes_sends_no_size(
    interop: InteropTarget, interop_dir: str, tmp_path: Path
) -> None:
    files = put_files(interop, interop_dir, 5)
    with session(interop, interop_dir) as ftp:
        sizes = ftp.download_many(
            [(name, tmp_path / name, len(data)) for name, data in files.items()]
        )
        commands = [c for w in ftp.wire.commands_per_write() for c in w]
    assert sizes == [len(data) for data in files.values()]
    assert not [c for c in commands if c.startswith("SIZE")]
    assert [c for c in commands if c.startswith("RETR")] == [f"RETR {name}" for name in files]
    for name, data in files.items():
        assert (tmp_path / name).read_bytes() == data
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no partial file


@pytest.mark.parametrize("pipelining", [None, True])
def test_download_many_in_active_mode_keeps_one_listening_socket(
    interop: InteropTarget, interop_dir: str, tmp_path: Path, pipelining: bool | None
) -> None:
    files = put_files(interop, interop_dir, 4)
    targets = [(name, io.BytesIO(), len(data)) for name, data in files.items()]
    with session(interop, interop_dir, pipelining=pipelining) as ftp:
        ftp.set_pasv(False)
        assert ftp.download_many(targets) == [len(data) for data in files.values()]
        writes = ftp.wire.commands_per_write()
        ftp.set_pasv(True)
        assert ftp.pwd().endswith(interop_dir)  # in step, and the listener is gone
    ports = [c for w in writes for c in w if c.startswith("PORT")]
    assert len(ports) == len(files) + (pipelining is True and interop.name == "pyftpdlib")
    assert len(set(ports)) == 1  # the same port announced for every file
    if pipelining:  # after the first file, PORT and RETR in one write (pyftpdlib: tried once)
        expected = len(files) - 1 if interop.name == "vsftpd" else 1
        assert sum(len(w) == 2 and w[0].startswith("PORT") for w in writes) == expected
    for (_, local, _), data in zip(targets, files.values(), strict=True):
        assert local.getvalue() == data


def test_download_many_spreads_the_files_over_the_connections(
    server: LiveServer, workdir: Path, tmp_path: Path
) -> None:
    files = {f"f{i}.bin": os.urandom(2000 + i) for i in range(12)}
    for name, data in files.items():
        (workdir / name).write_bytes(data)
    sessions = [watched_session(server, workdir.name) for _ in range(3)]
    try:
        first, *others = sessions
        sizes = first.download_many([(name, tmp_path / name) for name in files], connections=others)
        retrs = [[c for c in server.commands_of(ftp) if c.startswith("RETR")] for ftp in sessions]
    finally:
        for ftp in sessions:
            ftp.close()
    assert sizes == [len(data) for data in files.values()]
    assert all(retrs)  # every connection fetched some
    assert sorted(c for each in retrs for c in each) == sorted(f"RETR {n}" for n in files)
    for name, data in files.items():
        assert (tmp_path / name).read_bytes() == data


def test_download_many_opens_connections_of_its_own(
    server: LiveServer, workdir: Path, tmp_path: Path
) -> None:
    # Enough files that the two new connections are logged in before this one is done.
    files = {f"f{i}.bin": os.urandom(3000 + i) for i in range(120)}
    for name, data in files.items():
        (workdir / name).write_bytes(data)
    before = set(server.received)
    ftp = watched_session(server, workdir.name)
    try:
        sizes = ftp.download_many([(name, tmp_path / name) for name in files], connections=3)
        assert ftp.voidcmd("NOOP").startswith("200")
    finally:
        ftp.close()

    def fetching() -> list[list[str]]:
        sessions = [server.received[key] for key in set(server.received) - before]
        return [s for s in sessions if any(c.startswith("RETR") for c in s)]

    # Its own connections say goodbye (this one is closed without QUIT); the server's
    # thread may record the last QUIT a moment after download_many() has returned.
    deadline = time.monotonic() + 5
    while sum(s[-1] == "QUIT" for s in fetching()) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sum(s[-1] == "QUIT" for s in fetching()) == 2
    assert len(fetching()) == 3  # this one and two of its own, logged in, in the same directory
    for commands in fetching():
        assert f"CWD /{workdir.name}" in commands or f"CWD {workdir.name}" in commands
    assert sum(c.startswith("RETR") for s in fetching() for c in s) == len(files)
    assert sizes == [len(data) for data in files.values()]
    for name, data in files.items():
        assert (tmp_path / name).read_bytes() == data


def test_download_many_forgets_a_login_made_on_an_earlier_connection(
    server: LiveServer, workdir: Path, tmp_path: Path
) -> None:
    """connect() starts a new session: the last one's login is not repeated on new connections."""
    files = {f"g{i}.bin": os.urandom(2000 + i) for i in range(4)}
    for name, data in files.items():
        (workdir / name).write_bytes(data)
    ftp = watched_session(server)
    try:
        ftp.connect(server.host, server.port)  # a new session, not logged in
        before = set(server.received)
        with pytest.raises(ftplib2.error_perm, match="^530"):
            ftp.download_many([(f"{workdir.name}/{n}", tmp_path / n) for n in files], connections=3)
    finally:
        ftp.close()
    sessions = [server.received[key] for key in set(server.received) - before]
    assert not any(c.startswith(("USER", "PASS")) for s in sessions for c in s)


def test_download_many_refuses_a_count_of_connections_under_one(ftp: ftplib2.FTP) -> None:
    with pytest.raises(ValueError, match="positive integer"):
        ftp.download_many([("a", io.BytesIO())], connections=0)


def test_download_many_stops_at_the_first_failure(
    server: LiveServer, workdir: Path, tmp_path: Path
) -> None:
    for name in ("a", "c"):
        (workdir / name).write_bytes(name.encode() * 100)
    ftp = watched_session(server, workdir.name)
    try:
        with pytest.raises(ftplib2.error_perm):
            ftp.download_many([(n, tmp_path / n) for n in ("a", "b", "c")])
        assert ftp.voidcmd("NOOP").startswith("200")
        retrs = [c for c in server.commands_of(ftp) if c.startswith("RETR")]
    finally:
        ftp.close()
    assert retrs == ["RETR a", "RETR b"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]
    assert (tmp_path / "a").read_bytes() == b"a" * 100


def test_download_many_refuses_a_malformed_item(ftp: ftplib2.FTP) -> None:
    with pytest.raises(ValueError, match="remote, local"):
        ftp.download_many([("a",)])  # type: ignore[list-item]


# --------------------------------------------------------------------------
# Issue 16, item 3: the everyday idioms with plain files
# --------------------------------------------------------------------------

PLAIN_WRITERS = {
    "BytesIO": lambda path: io.BytesIO(),
    "open(wb)": lambda path: open(path, "wb"),  # noqa: SIM115 - closed by the test
    "open(wb, buffering=0)": lambda path: open(path, "wb", buffering=0),  # noqa: SIM115
    "open(w+b)": lambda path: open(path, "w+b"),  # noqa: SIM115
}


def _written(f: Any, path: Path) -> bytes:
    if isinstance(f, io.BytesIO):
        return f.getvalue()
    f.close()
    return path.read_bytes()


@pytest.mark.parametrize("kind", list(PLAIN_WRITERS))
def test_retrbinary_into_a_plain_files_write_stores_every_byte(
    interop: InteropTarget, interop_dir: str, tmp_path: Path, kind: str
) -> None:
    """The write of a file from open() or a BytesIO takes large reads whole: same bytes."""
    data = os.urandom(3 * 2**20 + 12345)
    with session(interop, interop_dir) as ftp:
        ftp.storbinary("STOR big.bin", io.BytesIO(data))
        f = PLAIN_WRITERS[kind](tmp_path / "big.bin")
        try:
            assert ftp.retrbinary("RETR big.bin", f.write).code == "226"
            assert _written(f, tmp_path / "big.bin") == data
            f = PLAIN_WRITERS[kind](tmp_path / "tail.bin")
            ftp.retrbinary("RETR big.bin", f.write, rest=2**20 + 7)
            assert _written(f, tmp_path / "tail.bin") == data[2**20 + 7 :]
        finally:
            f.close()


@pytest.mark.parametrize("mode", ["wb", "w+b", "wb0", "ab"])
def test_retrbinary_into_a_file_keeps_the_file_objects_position(
    interop: InteropTarget, interop_dir: str, tmp_path: Path, mode: str
) -> None:
    """Bytes written before and after land around the download, wherever they come from."""
    data = os.urandom(2**20 + 5)
    path = tmp_path / "f.bin"
    with session(interop, interop_dir) as ftp:
        ftp.storbinary("STOR f.bin", io.BytesIO(data))
        buffering = 0 if mode == "wb0" else -1
        with open(path, mode.rstrip("0"), buffering=buffering) as f:
            f.write(b"head")
            if mode == "w+b":
                f.seek(0)
                assert f.read(2) == b"he"  # a read buffer, and a position inside it
                f.seek(4)
            ftp.retrbinary("RETR f.bin", f.write)
            assert f.tell() == 4 + len(data)
            f.write(b"tail")
            if mode == "w+b":
                f.seek(2)
                assert f.read(4) == b"ad" + data[:2]
    assert path.read_bytes() == b"head" + data + b"tail"


def test_retrbinary_into_a_subclass_still_gets_blocks_of_blocksize(
    interop: InteropTarget, interop_dir: str
) -> None:
    """A subclass may override write() and see the blocks: it gets bytes of blocksize at most."""
    data = os.urandom(300_000)
    blocks: list[tuple[type, int]] = []

    class Watched(io.BytesIO):
        def write(self, block: Any) -> int:
            blocks.append((type(block), len(block)))
            return super().write(block)

    with session(interop, interop_dir) as ftp:
        ftp.storbinary("STOR f.bin", io.BytesIO(data))
        received = Watched()
        ftp.retrbinary("RETR f.bin", received.write, blocksize=4096)
    assert received.getvalue() == data
    assert {kind for kind, _ in blocks} == {bytes}
    assert max(n for _, n in blocks) <= 4096


@pytest.mark.parametrize("kind", ["BytesIO", "open(rb)", "open(rb, buffering=0)"])
def test_storbinary_from_a_plain_file_sends_every_byte(
    interop: InteropTarget, interop_dir: str, tmp_path: Path, kind: str
) -> None:
    data = os.urandom(2 * 2**20 + 999)
    source = tmp_path / "source.bin"
    source.write_bytes(data)
    with session(interop, interop_dir) as ftp:
        f: Any
        if kind == "BytesIO":
            f = io.BytesIO(data)
        else:
            f = open(source, "rb", buffering=0 if "buffering" in kind else -1)  # noqa: SIM115
        with f:
            f.seek(1000)  # from the file's position, as ftplib sends it
            assert ftp.storbinary("STOR f.bin", f).code == "226"
            assert f.tell() == len(data)  # left at its end, as ftplib leaves it
        received = io.BytesIO()
        ftp.retrbinary("RETR f.bin", received.write)
    assert received.getvalue() == data[1000:]


# --------------------------------------------------------------------------
# Walks and ftpmirror: PWD with each CWD, the final reply after the next command
# --------------------------------------------------------------------------


def test_a_walk_sends_pwd_in_the_write_of_each_cwd(
    interop: InteropTarget, interop_dir: str
) -> None:
    with session(interop, interop_dir) as ftp:
        for name in ("a", "a/b", "c"):
            ftp.mkd(name)
        ftp.wire.events.clear()
        walked = sorted(top for top, _, _ in ftp.walk("."))
        assert ftp.pwd().endswith(interop_dir)  # back where it began, in step
        writes = ftp.wire.commands_per_write()
    assert walked == [".", "./a", "./a/b", "./c"]
    pairs = [w for w in writes if w[0].startswith("CWD ")]
    assert len(pairs) >= 4  # the top, a, a/b, c; and back
    entering = [w for w in pairs if w != pairs[-1]]
    assert all(w[1:] == ["PWD"] for w in entering), writes


def test_a_refused_cwd_sent_with_its_pwd_raises_and_stays_in_step(
    interop: InteropTarget, interop_dir: str
) -> None:
    with session(interop, interop_dir) as ftp:
        with pytest.raises(ftplib2.error_perm):
            ftp._enter_directory("no-such-directory")
        assert ftp.pwd().endswith(interop_dir)
        assert ["CWD no-such-directory", "PWD"] in ftp.wire.commands_per_write()


def test_one_cwd_at_a_time_in_a_walk_when_pipelining_is_false(
    interop: InteropTarget, interop_dir: str
) -> None:
    with session(interop, interop_dir, pipelining=False) as ftp:
        ftp.mkd("a")
        assert [top for top, _, _ in ftp.walk(".")] == [".", "./a"]
        assert all(len(w) == 1 for w in ftp.wire.commands_per_write())


@pytest.mark.parametrize("option", [None, "--no-pipelining"])
def test_ftpmirror_reads_each_files_final_reply_after_the_next_command(
    interop: InteropTarget,
    interop_dir: str,
    mirror_tool: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    option: str | None,
) -> None:
    files = put_files(interop, interop_dir, 4)
    watched: list[WatchedFTP] = []

    class Recorded(WatchedFTP):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            watched.append(self)

    module = types.ModuleType("ftplib2")
    module.__dict__.update(vars(ftplib2))
    module.FTP = Recorded  # type: ignore[attr-defined]
    monkeypatch.setattr(mirror_tool, "ftplib2", module)
    options = [option] if option else []
    result = mirror_run(
        mirror_tool, *options, "-l", interop.user, "-p", interop.passwd,
        f"{interop.host}:{interop.port}", interop_dir, tmp_path / "copy",
    )  # fmt: skip
    assert result.status == 0, result
    for name, data in files.items():
        assert (tmp_path / "copy" / name).read_bytes() == data
    [ftp] = watched  # four small files: one connection
    wire = ftp.wire
    retrs = [i for i, (k, t) in enumerate(wire.events) if k == "write" and "RETR" in t]
    assert len(retrs) == len(files)
    for previous in retrs[:-1]:
        passive = wire.index("write", "PASV", after=previous)
        final = wire.index("reply", "226", after=previous)
        assert (passive < final) == (option is None)
    if option:
        assert all(len(w) == 1 for w in wire.commands_per_write())
