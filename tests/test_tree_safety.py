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
import inspect
import os
import posixpath
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
import trustme
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler

import ftplib2
from tests.servers import (
    HOSTILE_TIMEOUT,
    MIRROR_MANIFEST,
    TIMEOUT,
    VSFTPD_PASSWORD,
    VSFTPD_USER,
    HostileClientGone,
    HostileControl,
    LiveServer,
    MirrorResult,
    MirrorServer,
    RecordingFTP,
    VsftpdServer,
    hostile_listing,
    hostile_within,
    mirror_login,
    mirror_run,
    mirror_snapshot,
    mirror_subprocess,
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


def vs_mirror(
    tool: ModuleType, vsftpd: VsftpdServer, remote: str, local: Path, *options: str
) -> MirrorResult:
    return mirror_run(
        tool, *options, "-l", VSFTPD_USER, "-p", VSFTPD_PASSWORD,
        f"{vsftpd.host}:{vsftpd.port}", remote, local,
    )  # fmt: skip


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


def test_ftpmirror_r_from_vsftpd_deletes_nothing_when_the_remote_directory_is_missing(
    mirror_tool: ModuleType, vsftpd: VsftpdServer, vs_dir: Path, tmp_path: Path
) -> None:
    make_pub(vs_dir)
    local = tmp_path / "dest"
    first = vs_mirror(mirror_tool, vsftpd, f"{vs_dir.name}/pub", local, "-q", "-r")
    assert first.status == 0, first.err
    before = mirror_snapshot(local)
    assert set(before) == {"a.txt", "sec/", "sec/b.txt"}

    typo = vs_mirror(mirror_tool, vsftpd, f"{vs_dir.name}/pbu", local, "-q", "-r")

    assert typo.status == 1
    assert typo.error_lines, typo.err
    assert mirror_snapshot(local) == before


@pytest.mark.parametrize("mode", UNREADABLE_MODES)
def test_ftpmirror_r_from_vsftpd_deletes_nothing_below_an_unreadable_directory(
    mirror_tool: ModuleType, vsftpd: VsftpdServer, vs_dir: Path, tmp_path: Path, mode: int
) -> None:
    pub = make_pub(vs_dir)
    local = tmp_path / "dest"
    first = vs_mirror(mirror_tool, vsftpd, f"{vs_dir.name}/pub", local, "-q", "-r")
    assert first.status == 0, first.err
    before = mirror_snapshot(local)
    (pub / "sec").chmod(mode)

    again = vs_mirror(mirror_tool, vsftpd, f"{vs_dir.name}/pub", local, "-q", "-r")

    assert again.status == 1
    assert any("sec" in line for line in again.error_lines), again.err
    assert mirror_snapshot(local) == before  # sec/b.txt kept, no phantom sec/sec
    # The manifest still vouches for the file it cannot see: a later good run keeps it.
    (pub / "sec").chmod(0o755)
    healed = vs_mirror(mirror_tool, vsftpd, f"{vs_dir.name}/pub", local, "-r")
    assert healed.status == 0, healed.err
    assert healed.summary["files"] == 0
    assert mirror_snapshot(local) == before


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


@pytest.fixture
def dash_vsftpd(
    vsftpd: VsftpdServer, tmp_path: Path, certificate_authority: trustme.CA
) -> Iterator[VsftpdServer]:
    """A vsftpd of its own whose login directory holds ``-d``: a name ls takes for an option."""
    workdir = tmp_path / "dash-vsftpd"
    workdir.mkdir()
    workdir.chmod(0o755)
    pem = workdir / "server.pem"
    certificate_authority.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(
        str(pem)
    )
    server = VsftpdServer(workdir, str(pem))
    make_dash_tree(server.root)
    yield server
    server.stop()


def test_ftpmirror_from_vsftpd_mirrors_a_directory_named_dash_d(
    mirror_tool: ModuleType, dash_vsftpd: VsftpdServer, tmp_path: Path
) -> None:
    local = tmp_path / "dest"

    result = vs_mirror(mirror_tool, dash_vsftpd, "", local)

    assert result.status == 0, result.err
    assert set(mirror_snapshot(local)) == {"-d/", "-d/real.txt", "top.txt"}
    assert mirror_snapshot(local) == mirror_snapshot(dash_vsftpd.root)


# --------------------------------------------------------------------------
# Symbolic links reported as directories (item 3)
# --------------------------------------------------------------------------


def make_linked_tree(top: Path) -> None:
    """top/tree/{f.txt, sub/g.txt, link -> ../keep}, top/keep/important.txt."""
    (top / "tree" / "sub").mkdir(parents=True)
    (top / "tree" / "f.txt").write_text("f\n", encoding="utf-8")
    (top / "tree" / "sub" / "g.txt").write_text("g\n", encoding="utf-8")
    (top / "keep").mkdir()
    (top / "keep" / "important.txt").write_text("important\n", encoding="utf-8")
    os.symlink("../keep", top / "tree" / "link")


@pytest.fixture(params=["mlsd", "list"])
def link_ftp(request: pytest.FixtureRequest, workdir: Path) -> Iterator[ftplib2.FTP]:
    """pyftpdlib, whose MLSD shows a link to a directory as ``type=dir``; then over LIST."""
    server = request.getfixturevalue("server" if request.param == "mlsd" else "no_feat_server")
    client = open_session(server, workdir)
    yield client
    client.close()


def test_rmtree_deletes_a_link_to_a_directory_without_following_it(
    link_ftp: ftplib2.FTP, workdir: Path
) -> None:
    make_linked_tree(workdir)

    assert link_ftp.rmtree("tree") is None

    assert sorted(p.name for p in workdir.iterdir()) == ["keep"]
    assert (workdir / "keep" / "important.txt").read_text(encoding="utf-8") == "important\n"


def test_walk_lists_a_link_to_a_directory_as_a_file_name_and_does_not_enter_it(
    link_ftp: ftplib2.FTP, workdir: Path
) -> None:
    make_linked_tree(workdir)
    here = link_ftp.pwd()

    walked = [(p, sorted(d), sorted(f)) for p, d, f in link_ftp.walk("tree")]

    assert walked == [("tree", ["sub"], ["f.txt", "link"]), ("tree/sub", [], ["g.txt"])]
    assert link_ftp.pwd() == here


def test_ftpmirror_reverse_r_deletes_a_remote_link_without_following_it(
    mirror_tool: ModuleType, mirror_server: MirrorServer, mirror_ftp_root: Path, tmp_path: Path
) -> None:
    top = fresh_dir_in(mirror_ftp_root)
    (top / "site" / "old").mkdir(parents=True)
    (top / "keep").mkdir()
    (top / "keep" / "important.txt").write_text("important\n", encoding="utf-8")
    os.symlink("../../keep", top / "site" / "old" / "link")
    os.symlink("../keep", top / "site" / "gone")
    local = tmp_path / "local"
    local.mkdir()
    (local / "a.txt").write_text("alpha\n", encoding="utf-8")

    result = mirror_run(
        mirror_tool, "--reverse", "-r", *mirror_login(mirror_server), f"{top.name}/site", local
    )

    assert result.status == 0, result.err
    assert sorted(p.name for p in (top / "site").iterdir()) == ["a.txt"]
    assert (top / "keep" / "important.txt").read_text(encoding="utf-8") == "important\n"


def test_ftpmirror_reverse_does_not_upload_through_a_remote_link(
    mirror_tool: ModuleType, mirror_server: MirrorServer, mirror_ftp_root: Path, tmp_path: Path
) -> None:
    top = fresh_dir_in(mirror_ftp_root)
    (top / "site").mkdir()
    (top / "keep").mkdir()
    os.symlink("../keep", top / "site" / "docs")
    local = tmp_path / "local"
    (local / "docs").mkdir(parents=True)
    (local / "docs" / "new.txt").write_text("new\n", encoding="utf-8")
    login = [*mirror_login(mirror_server), f"{top.name}/site", local]

    refused = mirror_run(mirror_tool, "--reverse", *login)

    assert refused.status == 1
    assert "docs: a remote link is in the way (-r replaces it)" in refused.err
    assert list((top / "keep").iterdir()) == []

    replaced = mirror_run(mirror_tool, "--reverse", "-r", *login)

    assert replaced.status == 0, replaced.err
    assert list((top / "keep").iterdir()) == []
    assert (top / "site" / "docs").is_dir() and not (top / "site" / "docs").is_symlink()
    assert (top / "site" / "docs" / "new.txt").read_text(encoding="utf-8") == "new\n"


def test_ftpmirror_skips_directory_links_inside_the_tree_as_links(
    mirror_tool: ModuleType, mirror_server: MirrorServer, mirror_small_remote: Path, tmp_path: Path
) -> None:
    os.symlink("sub", mirror_small_remote / "alias")
    local = tmp_path / "local"

    result = mirror_run(mirror_tool, *mirror_login(mirror_server), mirror_small_remote.name, local)

    assert result.status == 0, result.err
    assert "skip alias: symbolic link to sub, not followed" in result.out
    assert not (local / "alias").exists()


def fresh_dir_in(root: Path) -> Path:
    """A new directory of `root`, for this test only."""
    path = root / f"lnk-{uuid.uuid4().hex[:12]}"
    path.mkdir()
    return path


# --------------------------------------------------------------------------
# A scripted server with a virtual tree: what the listing says, where CWD leads
# --------------------------------------------------------------------------


class VirtualTree:
    """A server-side tree for the hostile server: paths, their listings and their PWD.

    `listings` maps an absolute directory to its listing lines (LIST or MLSD form, sent for
    LIST and MLSD alike); `where` maps a directory to the PWD the server reports for it (a
    resolved link); `uniques` gives MLST a directory's unique fact; `dying` maps a directory
    to the reply its listing gets before the server hangs up.  `listing_of` and `exists` may
    be replaced for trees without end.
    """

    def __init__(
        self,
        listings: dict[str, list[str]] | None = None,
        where: dict[str, str] | None = None,
        *,
        mlsd: bool = False,
        uniques: dict[str, str] | None = None,
        dying: dict[str, str] | None = None,
    ) -> None:
        self.listings = listings or {}
        self.where = where or {}
        self.mlsd = mlsd
        self.uniques = uniques or {}
        self.dying = dying or {}
        self.deleted: list[str] = []
        self.removed: list[str] = []

    def exists(self, path: str) -> bool:
        return path in self.listings

    def listing_of(self, path: str) -> list[str]:
        return self.listings[path]

    def script(self, ctl: HostileControl) -> None:
        cwd = "/"

        def resolve(argument: str) -> str:
            return posixpath.normpath(posixpath.join(cwd, argument or "."))

        def change(ctl: HostileControl, argument: str) -> None:
            nonlocal cwd
            target = resolve(argument)
            if self.exists(target):
                cwd = target
                ctl.reply("250 Directory changed.")
            else:
                ctl.reply("550 No such directory.")

        def pwd(ctl: HostileControl, argument: str) -> None:
            ctl.reply(f'257 "{self.where.get(cwd, cwd)}" is the current directory.')

        def listing(ctl: HostileControl, argument: str) -> None:
            target = resolve("" if argument.startswith("-") else argument)
            if not self.exists(target):
                ctl.reply("550 No such directory.")
                return
            if target in self.dying:
                ctl.reply(self.dying[target])
                ctl.close()
                raise HostileClientGone
            lines = self.listing_of(target)
            hostile_listing("".join(line + "\r\n" for line in lines).encode())(ctl, argument)

        def mlst(ctl: HostileControl, argument: str) -> None:
            path = resolve(argument)
            unique = f"unique={self.uniques[path]};" if path in self.uniques else ""
            ctl.reply(f"250-Listing\r\n type=dir;{unique} {path}\r\n250 End")

        def dele(ctl: HostileControl, argument: str) -> None:
            self.deleted.append(resolve(argument))
            ctl.reply("250 Deleted.")

        def rmd(ctl: HostileControl, argument: str) -> None:
            self.removed.append(resolve(argument))
            ctl.reply("250 Removed.")

        feat = "211-Features:\r\n MLST type*;unique*;\r\n211 End" if self.mlsd else "502 No."
        ctl.serve(
            {
                "FEAT": feat, "CWD": change, "CDUP": lambda c, a: change(c, ".."), "PWD": pwd,
                "LIST": listing, "MLSD": listing, "MLST": mlst, "DELE": dele, "RMD": rmd,
            }
        )  # fmt: skip


def ls_dir(name: str) -> str:
    return f"drwxr-xr-x 2 u g 4096 Jan 01  2024 {name}"


def ls_file(name: str) -> str:
    return f"-rw-r--r-- 1 u g 3 Jan 01  2024 {name}"


def test_rmtree_does_not_descend_where_the_working_directory_is_not_the_named_one(
    hostile_server,
) -> None:
    # A LIST-only server that shows the link as a directory, but PWD tells where it leads.
    tree = VirtualTree(
        {
            "/": [ls_dir("tree"), ls_dir("outside")],
            "/tree": [ls_file("f.txt"), ls_dir("link")],
            "/tree/link": [ls_file("precious.txt")],
            "/outside": [ls_file("precious.txt")],
        },
        where={"/tree/link": "/outside"},
    )
    server = hostile_server(tree.script)
    ftp = server.connect()
    ftp.login()

    ftp.rmtree("tree")

    assert tree.deleted == ["/tree/f.txt", "/tree/link"]  # the link, not what it points to
    assert tree.removed == ["/tree"]
    assert ftp.pwd() == "/"


def test_walk_does_not_enter_a_directory_whose_unique_fact_was_seen_before(
    hostile_server,
) -> None:
    facts = "type=dir;modify=20240101000000"
    tree = VirtualTree(
        {
            "/": [f"{facts};unique=top; tree"],
            "/tree": [f"{facts};unique=A; a", f"{facts};unique=A; b", f"{facts};unique=top; up"],
            "/tree/a": ["type=file;size=1; x"],
            "/tree/b": ["type=file;size=1; x"],
            "/tree/up": [f"{facts};unique=top; tree"],
        },
        mlsd=True,
        uniques={"/tree": "top"},
    )
    server = hostile_server(tree.script)
    ftp = server.connect()
    ftp.login()

    walked = [(p, sorted(d), sorted(f)) for p, d, f in ftp.walk("/tree")]

    # a is entered first; b and up are the same directories as a and the top: not entered.
    assert walked == [("/tree", ["a", "b", "up"], []), ("/tree/a", [], ["x"])]


def test_walk_takes_an_mlsd_unix_mode_with_a_link_type_as_a_link(hostile_server) -> None:
    tree = VirtualTree(
        {
            "/": ["type=dir;unix.mode=0120777; link", "type=dir;unix.mode=040755; real"],
            "/link": ["type=file;size=1; outside.txt"],
            "/real": ["type=file;size=1; inside.txt"],
        },
        mlsd=True,
    )
    server = hostile_server(tree.script)
    ftp = server.connect()
    ftp.login()

    walked = [(p, sorted(d), sorted(f)) for p, d, f in ftp.walk("/")]

    assert walked == [("/", ["real"], ["link"]), ("/real", [], ["inside.txt"])]


def test_walk_raises_the_listing_failure_not_the_failure_to_change_back(hostile_server) -> None:
    tree = VirtualTree(
        {"/": [ls_dir("tree")], "/tree": [ls_dir("sub")], "/tree/sub": []},
        dying={"/tree/sub": "500 OOPS: vsf_sysutil_bind"},  # vsftpd, out of passive ports
    )
    server = hostile_server(tree.script)
    ftp = server.connect()
    ftp.login()
    walked = []

    with pytest.raises(ftplib2.error_perm) as caught:
        for dirpath, _, _ in ftp.walk("/tree"):
            walked.append(dirpath)

    assert walked == ["/tree"]
    assert caught.value.args == ("500 OOPS: vsf_sysutil_bind",)
    assert any("could not be restored" in note for note in caught.value.__notes__)


def test_scandir_raises_the_listing_failure_not_the_failure_to_change_back(
    hostile_server,
) -> None:
    tree = VirtualTree({"/": [ls_dir("sub")], "/sub": []}, dying={"/sub": "500 OOPS: bind"})
    server = hostile_server(tree.script)
    ftp = server.connect()
    ftp.login()

    with pytest.raises(ftplib2.error_perm) as caught:
        ftp.scandir("sub")

    assert caught.value.args == ("500 OOPS: bind",)
    assert any("could not be restored" in note for note in caught.value.__notes__)


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


# --------------------------------------------------------------------------
# A tree without end (issue 21, item 10)
# --------------------------------------------------------------------------


class EndlessTree(VirtualTree):
    """Every directory lists two subdirectories, links shown as directories, no unique facts."""

    def __init__(self, *, resolving: bool = False) -> None:
        super().__init__()
        self.resolving = resolving  # PWD names the one real directory, as vsftpd's would
        self.lists = 0

    def exists(self, path: str) -> bool:
        return True

    def listing_of(self, path: str) -> list[str]:
        self.lists += 1
        return [ls_dir("a"), ls_dir("b")]

    def script(self, ctl: HostileControl) -> None:
        if self.resolving:
            self.where = OneAnswer("/loop")
        super().script(ctl)


class OneAnswer(dict):
    """A mapping whose every key has the same value: every directory is one place."""

    def __init__(self, value: str) -> None:
        super().__init__()
        self.value = value

    def get(self, key: object, default: object = None) -> str:  # type: ignore[override]
        return self.value


def test_walk_of_an_endless_tree_stops_at_max_dirs_with_a_clear_error(hostile_server) -> None:
    tree = EndlessTree()
    server = hostile_server(tree.script)
    ftp = server.connect(timeout=HOSTILE_TIMEOUT)
    ftp.login()

    seen = []
    with hostile_within(20), pytest.raises(ftplib2.WalkLimitError) as caught:
        for dirpath, _, _ in ftp.walk("/", max_dirs=50):
            seen.append(dirpath)

    assert len(seen) == 50
    assert tree.lists == 50
    assert "50 directories" in str(caught.value)
    assert ftp.voidcmd("NOOP").code == "200"


def test_walk_of_an_endless_tree_stops_at_max_entries_with_a_clear_error(hostile_server) -> None:
    tree = EndlessTree()
    server = hostile_server(tree.script)
    ftp = server.connect(timeout=HOSTILE_TIMEOUT)
    ftp.login()

    with hostile_within(20), pytest.raises(ftplib2.WalkLimitError) as caught:
        for _ in ftp.walk("/", max_entries=31):
            pass

    assert tree.lists == 16  # 2 entries each: the 16th listing passes 31
    assert "31 entries" in str(caught.value)


def test_walk_is_bounded_by_default() -> None:
    for method in (ftplib2.FTP.walk, ftplib2.FTP.rmtree, ftplib2.TreeWalker):
        parameters = inspect.signature(method).parameters
        assert parameters["max_dirs"].default == ftplib2.MAX_WALK_DIRS
        assert parameters["max_entries"].default == ftplib2.MAX_WALK_ENTRIES
    assert 0 < ftplib2.MAX_WALK_DIRS < ftplib2.MAX_WALK_ENTRIES < 10**9


def test_walk_of_a_tree_that_loops_back_to_one_directory_ends_by_itself(hostile_server) -> None:
    tree = EndlessTree(resolving=True)
    server = hostile_server(tree.script)
    ftp = server.connect(timeout=HOSTILE_TIMEOUT)
    ftp.login()

    with hostile_within(10):
        walked = list(ftp.walk("/loop"))

    assert walked == [("/loop", ["a", "b"], [])]  # a and b lead back to /loop: not entered


def test_ftpmirror_of_an_endless_tree_stops_with_a_clear_error_and_changes_nothing(
    hostile_server, tmp_path: Path
) -> None:
    tree = EndlessTree()
    server = hostile_server(tree.script)
    local = tmp_path / "dest"
    local.mkdir()
    (local / "mine.txt").write_text("mine\n", encoding="utf-8")
    started = time.monotonic()

    # In a process of its own: the scripted server's sockets live in this one.
    result = mirror_subprocess(
        tmp_path, "-r", "--max-dirs", "40", "--timeout", "5",
        f"{server.host}:{server.port}", "/", local,
    )  # fmt: skip

    assert time.monotonic() - started < 30
    assert result.status == 1
    assert tree.lists == 40
    assert any("more than 40 directories" in line for line in result.error_lines), result.err
    assert sorted(p.name for p in local.iterdir()) == ["mine.txt"]
    assert not (local / MIRROR_MANIFEST).exists()


def test_a_walker_whose_connection_was_closed_restores_nothing_and_raises_nothing(
    ftp: ftplib2.FTP, workdir: Path
) -> None:
    (workdir / "sub").mkdir()
    with ftplib2.TreeWalker(ftp, ".") as walker:
        walker.scandir("")
        walker.scandir("sub")  # away from where it began
        ftp.close()  # the connection broke: e.g. a transfer failed on it
    assert ftp.sock is None
