"""What a server says about directories and paths, and what ftplib2 and ftpmirror do with it.

Proves, against live servers (vsftpd, pyftpdlib and the scripted hostile server), that:

* a listing is trusted only for a path proven to be a directory: on a LIST-only server (vsftpd)
  a missing or unreadable directory raises error_perm instead of listing as empty, and
  ``ftpmirror -r`` then deletes nothing (issue 19, item 1);
* rmtree(), walk() and ftpmirror's remote deletion never follow a symbolic link reported as a
  directory: links are found by LIST mode bits, MLSD facts, a ``unique`` fact or a working
  directory seen twice, and a working directory that is not where the name leads (item 3);
* a path starting with ``-`` never reaches LIST, where ``ls`` would read it as options (item 8);
* an unquoted PWD reply is read, and a directory that was not read is never "returned to"
  (item 9);
* the walk of a tree is bounded as a whole and ends with a clear error, never with a partial
  mirror that -r treats as complete (issue 21, item 10).

Run only these tests with::

    FTPLIB2_REQUIRE_VSFTPD=1 PATH=$PATH:/usr/sbin python -m pytest -q -p no:cacheprovider \\
        tests/test_tree_safety.py
"""

from __future__ import annotations

import contextlib
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler

import ftplib2
from test_ftplib2 import (
    TIMEOUT,
    VSFTPD_PASSWORD,
    VSFTPD_USER,
    LiveServer,
    RecordingFTP,
    VsftpdServer,
    open_session,
    proto_cmds_without,
    running_server,
)

# --------------------------------------------------------------------------
# vsftpd: a LIST-only server whose ls reads options and lists what it cannot open as empty
# --------------------------------------------------------------------------


@pytest.fixture
def vs_dir(vsftpd: VsftpdServer) -> Iterator[Path]:
    """A fresh directory in vsftpd's root for this test, removed (permissions and all) after."""
    path = vsftpd.root / f"t-{uuid.uuid4().hex[:12]}"
    path.mkdir()
    yield path
    for item in [path, *path.rglob("*")]:
        if not item.is_symlink():
            item.chmod(0o755 if item.is_dir() else 0o644)
    shutil.rmtree(path)


@contextlib.contextmanager
def vs_session(vsftpd: VsftpdServer, directory: Path) -> Iterator[RecordingFTP]:
    """A logged-in vsftpd client whose working directory is `directory`."""
    ftp = RecordingFTP(timeout=TIMEOUT)
    try:
        ftp.connect(vsftpd.host, vsftpd.port)
        ftp.login(VSFTPD_USER, VSFTPD_PASSWORD)
        ftp.cwd(directory.name)
        yield ftp
    finally:
        ftp.close()


def make_pub(top: Path) -> Path:
    """top/pub/{a.txt, sec/b.txt}, the tree of the issue's ftpmirror runs."""
    pub = top / "pub"
    (pub / "sec").mkdir(parents=True)
    (pub / "a.txt").write_text("alpha\n", encoding="utf-8")
    (pub / "sec" / "b.txt").write_text("beta\n", encoding="utf-8")
    return pub


# Without read permission an ls cannot list a directory; without search (x) permission it
# cannot even enter it.  vsftpd answers a LIST of either with 150/226 and no error.
UNREADABLE_MODES = [
    pytest.param(0o000, id="no-permission"),
    pytest.param(0o311, id="enter-but-not-read"),
]


def test_vsftpd_scandir_of_a_missing_directory_raises_error_perm_and_stays_put(
    vsftpd: VsftpdServer, vs_dir: Path
) -> None:
    with vs_session(vsftpd, vs_dir) as ftp:
        here = ftp.pwd()
        with pytest.raises(ftplib2.error_perm) as caught:
            ftp.scandir("nope")
        assert caught.value.code == "550"
        with pytest.raises(ftplib2.error_perm):
            ftp.listdir("nope/deeper")
        assert ftp.pwd() == here


@pytest.mark.parametrize("mode", UNREADABLE_MODES)
def test_vsftpd_scandir_of_an_unreadable_directory_raises_error_perm_and_stays_put(
    vsftpd: VsftpdServer, vs_dir: Path, mode: int
) -> None:
    make_pub(vs_dir)
    (vs_dir / "pub" / "sec").chmod(mode)
    with vs_session(vsftpd, vs_dir) as ftp:
        here = ftp.pwd()
        with pytest.raises(ftplib2.error_perm):
            ftp.scandir("pub/sec")
        assert ftp.pwd() == here
        assert [e.name for e in ftp.scandir("pub")] == ["a.txt", "sec"]


def test_vsftpd_scandir_of_an_empty_directory_is_empty_not_an_error(
    vsftpd: VsftpdServer, vs_dir: Path
) -> None:
    (vs_dir / "empty").mkdir()
    (vs_dir / "hidden").mkdir()
    (vs_dir / "hidden" / ".dotfile").write_text("not listed without -a\n", encoding="utf-8")
    with vs_session(vsftpd, vs_dir) as ftp:
        assert ftp.scandir("empty") == []
        assert ftp.scandir("hidden") == []
        ftp.cwd("empty")
        assert ftp.scandir() == []


def test_vsftpd_scandir_of_a_file_raises_error_perm(vsftpd: VsftpdServer, vs_dir: Path) -> None:
    (vs_dir / "top.txt").write_text("top\n", encoding="utf-8")
    with vs_session(vsftpd, vs_dir) as ftp:
        with pytest.raises(ftplib2.error_perm):
            ftp.scandir("top.txt")
        assert ftp.isfile("top.txt")


# --------------------------------------------------------------------------
# Paths that start with "-": never options to ls (item 8)
# --------------------------------------------------------------------------


def make_dash_tree(top: Path) -> None:
    """top/{top.txt, -d/real.txt}."""
    (top / "-d").mkdir()
    (top / "-d" / "real.txt").write_text("real\n", encoding="utf-8")
    (top / "top.txt").write_text("top\n", encoding="utf-8")


def test_vsftpd_paths_starting_with_a_dash_are_paths_not_ls_options(
    vsftpd: VsftpdServer, vs_dir: Path
) -> None:
    make_dash_tree(vs_dir)
    with vs_session(vsftpd, vs_dir) as ftp:
        here = ftp.pwd()
        assert [(e.name, e.type) for e in ftp.scandir("-d")] == [("real.txt", "file")]
        assert ftp.listdir("-d") == ["real.txt"]
        assert not ftp.exists("-d/top.txt")
        assert ftp.isfile("-d/real.txt")
        assert ftp.stat("-d/real.txt").size == 5
        assert ftp.isdir("-d")
        walked = [(p, d, sorted(f)) for p, d, f in ftp.walk("-d")]
        assert walked == [("-d", [], ["real.txt"])]
        assert {line for line in ftp.sent if line.startswith("LIST ")} <= {"LIST -a", "LIST -a .."}
        assert ftp.pwd() == here


# --------------------------------------------------------------------------
# Unquoted PWD replies (item 9)
# --------------------------------------------------------------------------


def unquoted_pwd(handler: FTPHandler, line: str) -> None:
    handler.respond(f"257 {handler.fs.cwd} is current directory.")


def no_path_pwd(handler: FTPHandler, line: str) -> None:
    handler.respond("257 Current directory unknown.")


@contextlib.contextmanager
def list_only_server_with_pwd(
    ftp_root: Path, authorizer: DummyAuthorizer, pwd: Callable[[FTPHandler, str], None]
) -> Iterator[LiveServer]:
    with running_server(
        ("127.0.0.1", 0), ftp_root, authorizer, proto_cmds=proto_cmds_without("FEAT"), ftp_PWD=pwd
    ) as live:
        yield live


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda ftp: ftp.isdir(".."), id="isdir-parent"),
        pytest.param(lambda ftp: ftp.stat("."), id="stat-dot"),
        pytest.param(lambda ftp: ftp.stat("/"), id="stat-root"),
        pytest.param(lambda ftp: ftp.exists("../sub/inner.txt"), id="exists-via-parent"),
        pytest.param(lambda ftp: ftp.scandir(".."), id="scandir-parent"),
    ],
)
def test_unquoted_pwd_reply_is_read_and_the_working_directory_is_kept(
    ftp_root: Path, authorizer: DummyAuthorizer, workdir: Path, call: Callable
) -> None:
    (workdir / "sub").mkdir()
    (workdir / "sub" / "inner.txt").write_text("inner\n", encoding="utf-8")
    with (
        list_only_server_with_pwd(ftp_root, authorizer, unquoted_pwd) as live,
        open_session(live, workdir) as ftp,
    ):
        ftp.cwd("sub")
        assert ftp.pwd() == f"/{workdir.name}/sub"

        call(ftp)

        assert ftp.sendcmd("PWD") == f"257 /{workdir.name}/sub is current directory."


def test_pwd_reply_naming_no_directory_makes_no_round_trip_through_another_one(
    ftp_root: Path, authorizer: DummyAuthorizer, workdir: Path
) -> None:
    (workdir / "sub").mkdir()
    with (
        list_only_server_with_pwd(ftp_root, authorizer, no_path_pwd) as live,
        open_session(live, workdir) as ftp,
    ):
        ftp.cwd("sub")
        assert ftp.pwd() == ""
        with pytest.raises(ftplib2.error_proto):
            ftp.isdir("..")
        with pytest.raises(ftplib2.error_proto):
            ftp.scandir("..")
        assert ftp.stat(".").type == "dir"
        assert [line for line in live.commands_of(ftp) if line.startswith("CWD")] == [
            "CWD " + workdir.name,
            "CWD sub",
        ]
