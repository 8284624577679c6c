"""ftpmirror's local side and its output: what it never destroys, writes through or prints.

Proves, against live pyftpdlib servers, that ``Tools/scripts/ftpmirror.py``

* with ``--reverse``, never deletes the server's file when the server refuses a rename, and
  replaces it on servers that will not rename over an existing file without ever leaving the
  final name without a whole file (issue 19, item 2);
* never writes through a symbolic or hard link planted at any name it writes locally: the
  manifest, its temporary file, partial files, final names and directories, including
  directories swapped for links after the run was planned; nor, with ``--reverse``, uploads
  a file through such a link (issue 21, item 4);
* refuses names with C1 control characters or other unprintable characters, and escapes them
  whenever it prints one, so that no raw C1 byte reaches a Latin-1 terminal (issue 21, item 7);
* never echoes the password of a URL in its messages (issue 21, item 8);
* keeps no partial file as long as the listed size after a server sent more than it listed,
  which a `--continue` run would take for the whole file (issue 21, item 3).

Run only these tests with::

    python -m pytest -q -p no:cacheprovider tests/test_mirror_safety.py
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

from tests.servers import (
    MIRROR_MANIFEST,
    MIRROR_PASSWORD,
    MIRROR_USER,
    MirrorServer,
    mirror_command,
    mirror_env,
    mirror_listing_of,
    mirror_login,
    mirror_parts,
    mirror_run,
    mirror_serving,
    mirror_snapshot,
    mirror_subprocess,
    read_mirror_manifest,
    write_mirror_manifest,
)

# ==================================================================================================
# --reverse and a server that refuses renaming (issue 19, item 2)
# ==================================================================================================

NO_RENAME_USER = "norename"


class MirrorNoRenameOverExisting:
    """RNTO onto an existing name is refused, as on servers whose file system will not replace
    a file by renaming it (IIS and FileZilla Server on Windows answer so)."""

    def ftp_RNTO(self, path: str) -> object:
        if self._rnfr and self.fs.lexists(path):  # type: ignore[attr-defined]
            self._rnfr = None
            self.respond("550 Cannot create a file when that file already exists.")  # type: ignore[attr-defined]
            return None
        return super().ftp_RNTO(path)  # type: ignore[misc]


@pytest.fixture(scope="module")
def norename_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MirrorServer]:
    """The usual server, plus a user allowed everything but renaming (perm ``elradwM``)."""
    root = tmp_path_factory.mktemp("mirror-norename-root")
    with mirror_serving(root) as server:
        server.handler.authorizer.add_user(
            NO_RENAME_USER, MIRROR_PASSWORD, str(root), perm="elradwM"
        )
        yield server


@pytest.fixture(scope="module")
def no_replace_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MirrorServer]:
    root = tmp_path_factory.mktemp("mirror-no-replace-root")
    with mirror_serving(root, mixins=(MirrorNoRenameOverExisting,)) as server:
        yield server


def _site_with_an_old_report(server: MirrorServer, tmp_path: Path) -> tuple[Path, Path]:
    """A remote directory holding report.txt (old), and a local one with a new report.txt."""
    remote = Path(tempfile.mkdtemp(prefix="u-", dir=server.root))
    (remote / "report.txt").write_bytes(b"old report, keep me\n")
    os.utime(remote / "report.txt", (1_500_000_000, 1_500_000_000))
    source = tmp_path / "source"
    source.mkdir()
    (source / "report.txt").write_bytes(b"the new report, longer than the old one\n")
    return remote, source


def test_reverse_never_deletes_the_remote_file_when_the_server_refuses_renaming(
    mirror_tool: ModuleType, norename_server: MirrorServer, tmp_path: Path
) -> None:
    remote, source = _site_with_an_old_report(norename_server, tmp_path)
    (source / "fresh.txt").write_bytes(b"a file the server does not have yet\n")
    login = ["-l", NO_RENAME_USER, "-p", MIRROR_PASSWORD, norename_server.address]

    result = mirror_run(mirror_tool, "--reverse", *login, remote.name, source)

    assert result.status == 1
    assert (remote / "report.txt").read_bytes() == b"old report, keep me\n"
    # Neither a file under its final name nor a temporary file that looks worth keeping.
    assert mirror_listing_of(remote) == ["report.txt"]
    assert len(result.error_lines) == 2, result.err
    for name in ["fresh.txt", "report.txt"]:
        line = next(line for line in result.error_lines if f"put {name}:" in line)
        assert line.endswith(
            ": cannot rename into place: 550 Not enough privileges. "
            "(the uploaded copy was deleted; the server's file is unchanged)"
        )
    assert result.summary["files"] == 0


def test_reverse_replaces_a_file_on_a_server_that_will_not_rename_over_it(
    mirror_tool: ModuleType, no_replace_server: MirrorServer, tmp_path: Path
) -> None:
    remote, source = _site_with_an_old_report(no_replace_server, tmp_path)
    final = f"{remote.name}/report.txt"
    start = len(no_replace_server.commands)

    result = mirror_run(
        mirror_tool, "--reverse", *mirror_login(no_replace_server), remote.name, source
    )

    assert result.status == 0, result.err
    assert (remote / "report.txt").read_bytes() == (source / "report.txt").read_bytes()
    assert mirror_listing_of(remote) == ["report.txt"]
    part, aside = (
        f"{remote.name}/.report.txt.ftpmirror-part",
        f"{remote.name}/..report.txt.ftpmirror-part.ftpmirror-part",
    )
    renames = [
        c for c in no_replace_server.commands_since(start) if c.startswith(("RNFR", "RNTO", "DELE"))
    ]
    # The old file is moved aside, not deleted, and deleted only once the new one is in place.
    assert renames == [
        f"RNFR {part}", f"RNTO {final}",  # refused: report.txt exists
        f"RNFR {final}", f"RNTO {aside}",
        f"RNFR {part}", f"RNTO {final}",
        f"DELE {aside}",
    ]  # fmt: skip


def test_reverse_puts_the_old_file_back_when_the_new_one_cannot_take_its_place(
    mirror_tool: ModuleType,
    no_replace_server: MirrorServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    remote, source = _site_with_an_old_report(no_replace_server, tmp_path)
    # The server lets the old file be moved aside, then refuses the new one its place.
    monkeypatch.setattr(
        no_replace_server.handler,
        "ftp_RNTO",
        _refuse_rnto_from_the_partial(no_replace_server.handler.ftp_RNTO),
        raising=False,
    )

    result = mirror_run(
        mirror_tool, "--reverse", *mirror_login(no_replace_server), remote.name, source
    )

    assert result.status == 1
    assert (remote / "report.txt").read_bytes() == b"old report, keep me\n"
    assert mirror_listing_of(remote) == ["report.txt"]
    assert len(result.error_lines) == 1, result.err
    assert result.error_lines[0] == (
        "ftpmirror: error: put report.txt: cannot rename into place: 550 Not this one. "
        "(the uploaded copy was deleted; the server's file is unchanged)"
    )


def _refuse_rnto_from_the_partial(original: object) -> object:
    def ftp_RNTO(self: object, path: str) -> object:
        source = self._rnfr or ""  # type: ignore[attr-defined]
        if source.endswith(".report.txt.ftpmirror-part") and os.path.basename(path) == "report.txt":
            self._rnfr = None  # type: ignore[attr-defined]
            self.respond("550 Not this one.")  # type: ignore[attr-defined]
            return None
        return original(self, path)  # type: ignore[operator]

    return ftp_RNTO


# ==================================================================================================
# Links planted where ftpmirror writes (issue 21, item 4)
# ==================================================================================================

PRECIOUS = b"precious, outside the mirror\n"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory beside the mirror: victim files, and a directory to lure writes into."""
    place = tmp_path / "outside"
    (place / "dir").mkdir(parents=True)
    for name in VICTIMS:
        (place / name).write_bytes(PRECIOUS)
    return place


VICTIMS = [
    "by-symlink.txt",
    "by-hardlink.txt",
    "manifest.txt",
    "partial.txt",
    "dir/.d.bin.ftpmirror-part",  # what a stale partial file in a swapped directory would be
]


def assert_untouched(outside: Path) -> None:
    for name in VICTIMS:
        assert (outside / name).read_bytes() == PRECIOUS, name
    assert sorted(str(p.relative_to(outside)) for p in outside.rglob("*") if p.is_file()) == sorted(
        VICTIMS
    )


def test_mirror_writes_nothing_through_links_planted_before_the_run(
    mirror_tool: ModuleType,
    mirror_server: MirrorServer,
    mirror_small_remote: Path,
    outside: Path,
    tmp_path: Path,
) -> None:
    local = tmp_path / "local"
    local.mkdir()
    # The manifest is an SQLite database, which SQLite opens by path, with files of its own.
    (local / MIRROR_MANIFEST).symlink_to(outside / "manifest.txt")
    (local / f"{MIRROR_MANIFEST}-journal").symlink_to(outside / "by-symlink.txt")
    (local / f"{MIRROR_MANIFEST}-wal").symlink_to(outside / "by-symlink.txt")
    os.link(outside / "by-hardlink.txt", local / f"{MIRROR_MANIFEST}-shm")
    (local / ".a.txt.ftpmirror-part").symlink_to(outside / "partial.txt")
    os.link(outside / "by-hardlink.txt", local / ".b.o.ftpmirror-part")

    result = mirror_run(mirror_tool, *mirror_login(mirror_server), mirror_small_remote.name, local)

    assert result.status == 0, result.err
    assert_untouched(outside)
    assert mirror_snapshot(local) == mirror_snapshot(mirror_small_remote)
    assert not (local / MIRROR_MANIFEST).is_symlink()
    assert read_mirror_manifest(local)["files"]
    assert not mirror_parts(local)
    assert mirror_listing_of(local) == [MIRROR_MANIFEST, "a.txt", "b.o", "sub"]


def test_mirror_writes_nothing_through_links_planted_after_planning(
    mirror_tool: ModuleType,
    mirror_server: MirrorServer,
    mirror_small_remote: Path,
    outside: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    local = tmp_path / "local"
    args = [*mirror_login(mirror_server), mirror_small_remote.name, local]
    plant: list[Callable[[], None]] = []
    submit = mirror_tool.Mirror._submit

    def planted_then_submitted(mirror: object, *args: object) -> None:
        while plant:  # once, before the first transfer is handed to a connection
            plant.pop()()
        submit(mirror, *args)

    monkeypatch.setattr(mirror_tool.Mirror, "_submit", planted_then_submitted)

    # A fresh mirror: once the walk has decided, every name it will write is taken by a link.
    def at_every_name_of_a_fresh_mirror() -> None:
        local.mkdir()
        (local / "a.txt").symlink_to(outside / "by-symlink.txt")
        os.link(outside / "by-hardlink.txt", local / "b.o")
        (local / ".a.txt.ftpmirror-part").symlink_to(outside / "partial.txt")
        (local / f"{MIRROR_MANIFEST}.tmp").symlink_to(outside / "manifest.txt")
        (local / "sub").symlink_to(outside / "dir", target_is_directory=True)

    plant[:] = [at_every_name_of_a_fresh_mirror]
    fresh = mirror_run(mirror_tool, *args)

    assert fresh.status == 1
    assert_untouched(outside)
    assert len(fresh.error_lines) == 1, fresh.err
    assert fresh.error_lines[0].startswith("ftpmirror: error: cannot create sub: [Errno 17] ")
    for name, data in [("a.txt", b"alpha\n"), ("b.o", b"\x7fELF")]:
        assert (local / name).read_bytes() == data
        assert not (local / name).is_symlink() and os.stat(local / name).st_nlink == 1
    assert not (local / MIRROR_MANIFEST).is_symlink()
    assert not mirror_parts(local)

    # An existing mirror, whose directory is swapped for a link once the plan is made.
    plant[:] = []
    (local / "sub").unlink()
    assert mirror_run(mirror_tool, *args).status == 0
    (mirror_small_remote / "sub" / "c.txt").write_bytes(b"gamma, changed on the server\n")
    (local / "sub" / ".d.bin.ftpmirror-part").write_bytes(b"stale")  # to be removed
    (local / "gone").mkdir()  # no longer on the server: to be removed, with -r

    def swap_the_directories_for_links() -> None:
        (local / "sub").rename(tmp_path / "sub-moved")
        (local / "sub").symlink_to(outside / "dir", target_is_directory=True)
        (local / "gone").rmdir()
        (local / "gone").symlink_to(outside / "dir", target_is_directory=True)

    plant[:] = [swap_the_directories_for_links]
    swapped = mirror_run(mirror_tool, "-r", *args)

    assert swapped.status == 1
    assert_untouched(outside)
    assert (tmp_path / "sub-moved" / "c.txt").read_bytes() == b"gamma\n"
    assert any(
        line.startswith("ftpmirror: error: get sub/c.txt: ") for line in swapped.error_lines
    ), swapped.err


def test_mirror_continue_never_appends_to_a_hard_link_planted_as_the_partial_file(
    mirror_tool: ModuleType,
    mirror_server: MirrorServer,
    mirror_small_remote: Path,
    outside: Path,
    tmp_path: Path,
) -> None:
    local = tmp_path / "local"
    args = [*mirror_login(mirror_server), mirror_small_remote.name, local]
    assert mirror_run(mirror_tool, *args).status == 0
    # The manifest says a partial a.txt of the very version on the server is there...
    manifest = read_mirror_manifest(local)
    manifest["partial"]["a.txt"] = manifest["files"].pop("a.txt")
    write_mirror_manifest(local, manifest)
    (local / "a.txt").unlink()
    # ... and someone made it a hard link to a file outside, shorter than a.txt.
    (outside / "short.txt").write_bytes(b"alp")
    os.link(outside / "short.txt", local / ".a.txt.ftpmirror-part")

    result = mirror_run(mirror_tool, "--continue", *args)

    assert result.status == 0, result.err
    assert (outside / "short.txt").read_bytes() == b"alp"
    assert (local / "a.txt").read_bytes() == b"alpha\n"
    assert os.stat(local / "a.txt").st_nlink == 1
    assert not mirror_parts(local)


def test_mirror_reverse_uploads_nothing_through_links_planted_after_planning(
    mirror_tool: ModuleType,
    mirror_server: MirrorServer,
    mirror_ftp_root: Path,
    outside: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = tmp_path / "source"
    (source / "sub").mkdir(parents=True)
    (source / "report.txt").write_bytes(b"report\n")
    (source / "sub" / "c.txt").write_bytes(b"gamma\n")
    (outside / "dir" / "c.txt").write_bytes(b"secret in a directory outside\n")
    remote = Path(tempfile.mkdtemp(prefix="u-", dir=mirror_ftp_root))
    carry_out = mirror_tool.Mirror.carry_out_upload

    def swapped_then_carried_out(mirror: object, ftp: object) -> None:
        (source / "report.txt").unlink()
        (source / "report.txt").symlink_to(outside / "by-symlink.txt")
        (source / "sub").rename(tmp_path / "sub-moved")
        (source / "sub").symlink_to(outside / "dir", target_is_directory=True)
        carry_out(mirror, ftp)

    monkeypatch.setattr(mirror_tool.Mirror, "carry_out_upload", swapped_then_carried_out)

    result = mirror_run(mirror_tool, "--reverse", *mirror_login(mirror_server), remote.name, source)

    assert result.status == 1
    assert mirror_listing_of(remote) == ["sub"]
    assert mirror_listing_of(remote / "sub") == []
    assert len(result.error_lines) == 2, result.err
    assert result.error_lines[0].startswith("ftpmirror: error: put report.txt: [Errno 40] ")
    assert result.error_lines[1].startswith("ftpmirror: error: put sub/c.txt: [Errno 20] ")


# ==================================================================================================
# C1 controls and unprintable names (issue 21, item 7)
# ==================================================================================================

CSI_NAME = "csi\u009b31m-nel\u0085.txt"
RLO_NAME = "gpj.\u202etxt"  # RIGHT-TO-LEFT OVERRIDE: shows as "txt.jpg"


def test_mirror_refuses_and_escapes_c1_and_unprintable_names_on_a_latin1_terminal(
    mirror_server: MirrorServer, mirror_small_remote: Path, tmp_path: Path
) -> None:
    (mirror_small_remote / CSI_NAME).write_bytes(b"escape\n")
    (mirror_small_remote / RLO_NAME).write_bytes(b"spoof\n")
    local = tmp_path / "local"
    local.mkdir()
    # A local leftover with a C1 name: deleting it with -r prints its name.
    (local / "left\u009bover").write_bytes(b"x")
    env = {**mirror_env(tmp_path), "PYTHONIOENCODING": "latin-1"}

    done = subprocess.run(
        mirror_command("-r", "-v", *mirror_login(mirror_server), mirror_small_remote.name, local),
        capture_output=True,
        timeout=60,
        env=env,
        stdin=subprocess.DEVNULL,
        check=False,
    )

    out, err = done.stdout, done.stderr
    assert done.returncode == 1, err
    for raw in [b"\x9b", b"\x85", "\u202e".encode("utf-8")]:
        assert raw not in out and raw not in err
    text = err.decode("latin-1")
    assert "refused csi\\x9b31m-nel\\x85.txt: contains a control character" in text
    assert "refused gpj.\\u202etxt: contains an unprintable character" in text
    assert "delete left\\x9bover" in out.decode("latin-1")
    assert sorted(os.listdir(local)) == [MIRROR_MANIFEST, "a.txt", "b.o", "sub"]


def test_mirror_reverse_refuses_local_c1_names(
    mirror_tool: ModuleType, mirror_server: MirrorServer, mirror_ftp_root: Path, tmp_path: Path
) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "ok.txt").write_bytes(b"ok\n")
    (source / CSI_NAME).write_bytes(b"escape\n")
    remote = Path(tempfile.mkdtemp(prefix="u-", dir=mirror_ftp_root))

    result = mirror_run(mirror_tool, "--reverse", *mirror_login(mirror_server), remote.name, source)

    assert result.status == 1
    assert mirror_listing_of(remote) == ["ok.txt"]
    assert result.error_lines == [
        "ftpmirror: error: refused csi\\x9b31m-nel\\x85.txt: contains a control character"
    ]


@pytest.fixture(scope="module")
def raw_names_mirror_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MirrorServer]:
    """A server that passes names through as bytes, valid UTF-8 or not, as Unix servers do."""
    root = tmp_path_factory.mktemp("mirror-raw-names-root")
    with mirror_serving(root, unicode_errors="surrogateescape") as server:
        yield server


def test_mirror_keeps_undecodable_bytes_in_names_but_refuses_c1_bytes(
    mirror_tool: ModuleType, raw_names_mirror_server: MirrorServer, tmp_path: Path
) -> None:
    remote = Path(tempfile.mkdtemp(prefix="b-", dir=raw_names_mirror_server.root))
    for raw in [b"caf\xe9.txt", b"csi\x9b.txt"]:  # Latin-1 names: é, and CSI
        with open(os.path.join(os.fsencode(remote), raw), "wb") as f:
            f.write(raw)
    local = tmp_path / "local"

    result = mirror_run(mirror_tool, *mirror_login(raw_names_mirror_server), remote.name, local)

    assert result.status == 1
    assert sorted(os.listdir(os.fsencode(local))) == [b".ftpmirror.db", b"caf\xe9.txt"]
    assert result.error_lines == [
        "ftpmirror: error: refused csi\\x9b.txt: contains a control character"
    ]
    assert "get caf\\xe9.txt (8 bytes)" in result.out


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain é ☕", "plain é ☕"),
        ("c1 \x9b \x85", "c1 \\x9b \\x85"),
        ("c0 \x1b \x7f", "c0 \\x1b \\x7f"),
        ("bidi \u202e \u200f", "bidi \\u202e \\u200f"),
        ("line \u2028 sep", "line \\u2028 sep"),
        ("raw byte caf\udce9", "raw byte caf\\xe9"),
        ("tag \U000e0041", "tag \\U000e0041"),
    ],
)
def test_mirror_show_escapes_everything_unprintable(
    mirror_tool: ModuleType, text: str, shown: str
) -> None:
    assert mirror_tool.show(text) == shown
    assert mirror_tool.show(text).isprintable()


# ==================================================================================================
# Passwords in URLs (issue 21, item 8)
# ==================================================================================================

SECRET = "Sekr1tPW"


@pytest.mark.parametrize(
    "argv",
    [
        [f"ftp://alice:{SECRET}@host.invalid:99999/pub"],  # a bad port
        [f"ftp://alice:{SECRET}/x@host.invalid/pub"],  # a raw '/' in the password
        [f"fpt://alice:{SECRET}@host.invalid/pub"],  # a mistyped scheme
        [f"ftp://alice:{SECRET}@/pub"],  # no host
        [f"ftp://alice:{SECRET}@[::1/pub"],  # a broken IPv6 address
        [f"ftp:/alice:{SECRET}@host.invalid/pub"],  # one slash short: not taken as a URL
        [f"alice:{SECRET}@host.invalid:21"],  # no scheme at all
        ["--port", f"ftp://alice:{SECRET}@host.invalid/", "host.invalid"],  # argparse's errors
        ["host.invalid", "pub", "local", f"ftp://alice:{SECRET}@host.invalid/"],
    ],
)
def test_mirror_usage_errors_never_show_the_password(tmp_path: Path, argv: list[str]) -> None:
    result = mirror_subprocess(tmp_path, "--timeout", 5, *argv)

    assert result.status == 2, result.err
    assert SECRET not in result.out + result.err
    assert ":***@" in result.err
    assert "Traceback" not in result.err


def test_mirror_never_shows_the_password_of_a_url_even_verbose(
    mirror_tool: ModuleType, mirror_server: MirrorServer, mirror_small_remote: Path, tmp_path: Path
) -> None:
    password = "s3cr%40t%3A%2Fx"  # MIRROR_PASSWORD, escaped
    url = f"ftp://{MIRROR_USER}:{password}@{mirror_server.address}/{mirror_small_remote.name}"

    result = mirror_run(mirror_tool, "-vvvvv", url, tmp_path / "local")

    assert result.status == 0, result.err
    assert "PASS ****" in result.out
    for secret in [MIRROR_PASSWORD, password, "s3cr"]:
        assert secret not in result.out + result.err


# ==================================================================================================
# A server that sends more than it listed (follow-up of issue 21, item 3)
# ==================================================================================================

LISTED = b"listed content\n" * 64  # what the listing's size promises: 960 bytes


class OverlongStream:
    """A pyftpdlib producer: the listed bytes, a pause, then bytes the listing never had.

    The pause makes the client read the listed bytes on their own, so that what it has when
    the surplus arrives is exactly the listed size: the case that looks complete.
    """

    def __init__(self) -> None:
        self.parts = [LISTED, b"extra bytes the listing never mentioned\n" * 4096]

    def more(self) -> bytes:
        if len(self.parts) == 1:
            time.sleep(0.3)
        return self.parts.pop(0) if self.parts else b""


class MirrorOverlongRetr:
    """Lists the file as it is on disk, then sends a stream that goes on past its size."""

    def ftp_RETR(self, path: str) -> object:
        self.respond("150 Here it comes.")  # type: ignore[attr-defined]
        self.push_dtp_data(OverlongStream(), isproducer=True, cmd="RETR")  # type: ignore[attr-defined]
        return path


def test_mirror_keeps_no_partial_file_that_would_pass_as_whole_after_an_overlong_transfer(
    mirror_tool: ModuleType, tmp_path: Path
) -> None:
    remote = tmp_path / "remote"
    remote.mkdir()
    (remote / "a.bin").write_bytes(LISTED)
    local = tmp_path / "local"
    with mirror_serving(remote, mixins=(MirrorOverlongRetr,)) as liar:
        first = mirror_run(mirror_tool, *mirror_login(liar), "/", local)
    assert first.status == 1
    assert not (local / "a.bin").exists()
    # download() stopped at the listed size: a partial file of exactly that size is one that
    # a --continue run, finding the same listing, would rename into place as whole.
    assert [p.stat().st_size for p in mirror_parts(local) if p.stat().st_size >= len(LISTED)] == []

    with mirror_serving(remote) as honest:
        second = mirror_run(mirror_tool, "--continue", *mirror_login(honest), "/", local)

    assert second.status == 0, second.err
    assert (local / "a.bin").read_bytes() == LISTED
