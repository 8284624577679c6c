"""Tools/scripts/ftpmirror.py, run as its users run it (imported, and as a subprocess) against
live pyftpdlib servers: it mirrors a tree and converges after remote changes, survives
interruptions and resumes with --continue, uploads with --reverse, refuses hostile names and
symlinks that would write outside the target, works from LIST and NLST listings, and honours
its options (include/exclude, only-newer, interactive, TLS, URLs, .netrc, usage errors).

Run only these tests:

    python -m pytest tests/test_ftpmirror.py
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import pytest
import trustme
from pyftpdlib.handlers import FTPHandler, ThrottledDTPHandler, TLS_FTPHandler

import ftplib2
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
)

MIRROR_SMALL_FILES = 1050
MIRROR_BIG_SIZE = 2 << 20

MIRROR_TIMEOUT = 30


# --------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------


class MirrorHostileListing:
    """A server whose root listing (MLSD) names files that would escape a mirror's root."""

    hostile_names: ClassVar[list[str]] = ["../evil", "/abs", "a\x00b", "tab\there", "dup", "dup"]

    def ftp_MLSD(self, path: str) -> str | None:
        if self.fs.fs2ftp(path) != "/":  # type: ignore[attr-defined]
            return super().ftp_MLSD(path)  # type: ignore[misc]
        facts = "type=file;size=3;modify=20200101000000;"
        lines = [f"{facts} {name}" for name in self.hostile_names]
        lines += [
            "type=OS.unix=slink:/etc/passwd;size=11;modify=20200101000000; passwd",
            "type=OS.unix=slink:../../outside;modify=20200101000000; up",
            "type=OS.unix=slink:ok.txt;modify=20200101000000; inside",
            f"{facts} ok.txt",
        ]
        data = "".join(line + "\r\n" for line in lines).encode("utf-8")
        self.push_dtp_data(data, cmd="MLSD")  # type: ignore[attr-defined]
        return path


class MirrorBareNameListing:
    """An NLST that marks directories with a trailing '/', as the servers of ftpmirror -m do."""

    def ftp_NLST(self, path: str) -> str:
        fs = self.fs  # type: ignore[attr-defined]
        names = sorted(fs.listdir(path))
        marked = [name + "/" if fs.isdir(os.path.join(path, name)) else name for name in names]
        data = "".join(name + "\r\n" for name in marked).encode("utf-8")
        self.push_dtp_data(data, cmd="NLST")  # type: ignore[attr-defined]
        return path


@pytest.fixture(scope="session")
def mirror_list_server(mirror_ftp_root: Path) -> Iterator[MirrorServer]:
    """A server without MLST/MLSD: listings come from LIST in ls -l form."""
    commands = {k: v for k, v in FTPHandler.proto_cmds.items() if k not in ("MLST", "MLSD")}
    with mirror_serving(mirror_ftp_root, proto_cmds=commands) as server:
        yield server


@pytest.fixture(scope="session")
def mirror_slow_server(mirror_ftp_root: Path) -> Iterator[MirrorServer]:
    """A server that sends a burst of 256 KiB, then 256 KiB every two seconds or so.

    Tests set its ``handler.dtp_handler.write_limit`` to 0 to lift the limit.
    """
    slow = type("SlowDTPHandler", (ThrottledDTPHandler,), {"write_limit": 128 << 10})
    with mirror_serving(mirror_ftp_root, dtp_handler=slow) as server:
        yield server


@pytest.fixture(scope="session")
def mirror_bare_server(mirror_ftp_root: Path) -> Iterator[MirrorServer]:
    with mirror_serving(mirror_ftp_root, mixins=(MirrorBareNameListing,)) as server:
        yield server


@pytest.fixture(scope="session")
def mirror_hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MirrorServer]:
    root = tmp_path_factory.mktemp("mirror-hostile-root")
    (root / "ok.txt").write_bytes(b"ok\n")
    with mirror_serving(root, mixins=(MirrorHostileListing,)) as server:
        yield server


@pytest.fixture(scope="session")
def mirror_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def mirror_tls_server(
    mirror_ftp_root: Path, mirror_ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MirrorServer]:
    pem = tmp_path_factory.mktemp("mirror-tls") / "server.pem"
    mirror_ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(pem))
    with mirror_serving(
        mirror_ftp_root, handler_base=TLS_FTPHandler, certfile=str(pem), ssl_context=None
    ) as server:
        yield server


# --------------------------------------------------------------------------
# Trees
# --------------------------------------------------------------------------


def mirror_make_tree(root: Path) -> None:
    """Nested and empty directories, odd names, 1050 small files, 3 x 2 MiB and a symlink."""
    rng = random.Random(7)
    root.mkdir(parents=True, exist_ok=True)
    (root / "README.txt").write_text("a tree to mirror\n", encoding="utf-8")
    (root / "zero.bin").write_bytes(b"")
    (root / "empty").mkdir()
    (root / "deep" / "a" / "b" / "c" / "d").mkdir(parents=True)
    (root / "deep" / "a" / "b" / "c" / "d" / "leaf.txt").write_text("leaf\n", encoding="utf-8")
    (root / "deep" / "a" / "b" / "empty too").mkdir()
    (root / "with space").mkdir()
    (root / "with space" / "file with space.txt").write_text("spaced\n", encoding="utf-8")
    odd = root / "non-ascii ünïcødé"
    odd.mkdir()
    (odd / "café ☕.txt").write_text("coffee\n", encoding="utf-8")
    (odd / "日本語.txt").write_text("nihongo\n", encoding="utf-8")
    for n in range(MIRROR_SMALL_FILES):
        directory = root / "many" / f"d{n % 10:02d}"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"f{n:04d}.txt").write_bytes(rng.randbytes(rng.randrange(1, 200)))
    (root / "big").mkdir()
    for n in range(3):
        (root / "big" / f"big-{n}.bin").write_bytes(rng.randbytes(MIRROR_BIG_SIZE))
    os.symlink("README.txt", root / "link-to-readme.txt")
    # Distinct whole-second times, as a server's listing shows them.
    stamp = 1_600_000_000
    for path in sorted(root.rglob("*")):
        if not path.is_symlink():
            stamp += 1
            os.utime(path, (stamp, stamp))


def mirror_files_of(snapshot: dict[str, str]) -> list[str]:
    return [rel for rel, kind in snapshot.items() if kind != "dir"]


@pytest.fixture(scope="session")
def mirror_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    template = tmp_path_factory.mktemp("mirror-template") / "tree"
    mirror_make_tree(template)
    return template


@pytest.fixture
def mirror_remote(mirror_ftp_root: Path, mirror_template: Path) -> Path:
    """A fresh copy of the generated tree in the servers' root, for this test only."""
    remote = Path(tempfile.mkdtemp(prefix="r-", dir=mirror_ftp_root))
    shutil.copytree(mirror_template, remote, symlinks=True, dirs_exist_ok=True)
    return remote


@pytest.fixture
def mirror_medium_remote(mirror_ftp_root: Path, mirror_template: Path) -> Path:
    """The generated tree without its 1050 small files: every kind of name, fewer connections.

    Each file costs a data connection, and each closed connection holds a local port for a
    minute (TIME_WAIT): only the tests about many files mirror the whole tree.
    """
    remote = Path(tempfile.mkdtemp(prefix="m-", dir=mirror_ftp_root))
    shutil.copytree(
        mirror_template, remote, symlinks=True, dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("many"),
    )  # fmt: skip
    return remote


# --------------------------------------------------------------------------
# Mirroring a tree
# --------------------------------------------------------------------------


def test_mirror_reproduces_the_tree_then_a_second_run_transfers_nothing(
    mirror_tool: ModuleType, mirror_server: MirrorServer, mirror_remote: Path, tmp_path: Path
) -> None:
    local = tmp_path / "local"
    expected = mirror_snapshot(mirror_remote)
    files = mirror_files_of(expected)
    assert len(files) > MIRROR_SMALL_FILES

    first = mirror_run(mirror_tool, *mirror_login(mirror_server), mirror_remote.name, local)

    assert first.status == 0, first.err
    assert mirror_snapshot(local) == expected  # byte for byte, empty directories included
    assert first.summary["files"] == len(files)
    assert first.summary["bytes"] == sum((mirror_remote / rel).stat().st_size for rel in files)
    assert first.summary["errors"] == 0
    for rel in ["README.txt", "big/big-1.bin", "non-ascii ünïcødé/café ☕.txt"]:
        assert (local / rel).stat().st_mtime == (mirror_remote / rel).stat().st_mtime
    assert not (local / "link-to-readme.txt").is_symlink()  # the server shows the link's file
    manifest = read_mirror_manifest(local)
    assert set(manifest["files"]) == set(files)
    assert manifest["partial"] == {}

    second = mirror_run(mirror_tool, *mirror_login(mirror_server), mirror_remote.name, local)

    assert second.status == 0, second.err
    assert second.summary == {
        "files": 0, "bytes": 0, "unchanged": len(files), "skipped": 0, "deleted": 0, "errors": 0,
    }  # fmt: skip
    assert mirror_snapshot(local) == expected


def test_mirror_converges_after_remote_edits_additions_and_deletions_with_r(
    mirror_tool: ModuleType, mirror_server: MirrorServer, mirror_remote: Path, tmp_path: Path
) -> None:
    local = tmp_path / "local"
    args = [*mirror_login(mirror_server), mirror_remote.name, local]
    assert mirror_run(mirror_tool, *args).status == 0
    # Same size, new content and time: only the server's facts tell it changed.
    edited = mirror_remote / "many" / "d03" / "f0003.txt"
    edited.write_bytes(bytes(255 - b for b in edited.read_bytes()))
    os.utime(edited, (1_700_000_000, 1_700_000_000))
    (mirror_remote / "added dir" / "inner").mkdir(parents=True)
    (mirror_remote / "added dir" / "inner" / "new.txt").write_text("new\n", encoding="utf-8")
    (mirror_remote / "README.txt").unlink()
    (mirror_remote / "link-to-readme.txt").unlink()
    shutil.rmtree(mirror_remote / "deep")

    kept = mirror_run(mirror_tool, *args)  # without -r nothing is deleted

    assert kept.status == 0, kept.err
    assert kept.summary["files"] == 2 and kept.summary["deleted"] == 0
    assert (local / "README.txt").exists() and (local / "deep").is_dir()
    assert (local / "many" / "d03" / "f0003.txt").read_bytes() == edited.read_bytes()

    pruned = mirror_run(mirror_tool, "-r", *args)

    assert pruned.status == 0, pruned.err
    assert pruned.summary["files"] == 0
    assert pruned.summary["deleted"] == 3  # README.txt, link-to-readme.txt, deep/
    assert mirror_snapshot(local) == mirror_snapshot(mirror_remote)
    manifest = read_mirror_manifest(local)
    assert "README.txt" not in manifest["files"]


def test_mirror_trusts_an_existing_copy_when_the_manifest_is_lost_or_corrupt(
    mirror_tool: ModuleType, mirror_server: MirrorServer, mirror_small_remote: Path, tmp_path: Path
) -> None:
    local = tmp_path / "local"
    args = [*mirror_login(mirror_server), mirror_small_remote.name, local]
    assert mirror_run(mirror_tool, *args).status == 0
    (local / MIRROR_MANIFEST).write_text("__import__('os').system('false')", encoding="ascii")

    again = mirror_run(mirror_tool, *args)

    assert again.status == 0, again.err
    assert again.summary["files"] == 0 and again.summary["unchanged"] == 4
    assert read_mirror_manifest(local)["files"]


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
@pytest.mark.parametrize("helpers", ["threads", "processes"])
def test_mirror_parallel_connections_give_the_same_tree(
    mirror_tool: ModuleType,
    mirror_server: MirrorServer,
    mirror_remote: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    helpers: str,
) -> None:
    # This process runs the test servers' threads: ftpmirror would not fork here on its own.
    monkeypatch.setattr(mirror_tool, "can_fork", lambda: helpers == "processes")
    start = len(mirror_server.commands)
    local = tmp_path / "local"

    result = mirror_run(
        mirror_tool, "--parallel", 4, *mirror_login(mirror_server), mirror_remote.name, local
    )

    assert result.status == 0, result.err
    assert mirror_snapshot(local) == mirror_snapshot(mirror_remote)
    assert not mirror_parts(local)
    logins = [c for c in mirror_server.commands_since(start) if c == f"USER {MIRROR_USER}"]
    assert len(logins) == 4, "\n".join(
        mirror_server.commands_since(start) + [result.out, result.err]
    )


def test_mirror_pipelining_gives_the_same_tree_with_pipelined_downloads(
    mirror_tool: ModuleType,
    mirror_server: MirrorServer,
    mirror_remote: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pipelined: list[str] = []
    real = ftplib2.FTP._pipelined_connection

    def counting(self: ftplib2.FTP, verb: str, cmd: str) -> Any:
        pipelined.append(cmd)
        return real(self, verb, cmd)

    monkeypatch.setattr(ftplib2.FTP, "_pipelined_connection", counting)
    local = tmp_path / "local"

    result = mirror_run(
        mirror_tool, "--pipelining", *mirror_login(mirror_server), mirror_remote.name, local
    )

    assert result.status == 0, result.err
    assert mirror_snapshot(local) == mirror_snapshot(mirror_remote)
    assert not mirror_parts(local)
    assert sum(cmd.startswith("RETR ") for cmd in pipelined) >= 3


def test_mirror_dry_run_prints_the_plan_and_changes_nothing(
    mirror_tool: ModuleType, mirror_server: MirrorServer, mirror_small_remote: Path, tmp_path: Path
) -> None:
    local = tmp_path / "local"
    args = [*mirror_login(mirror_server), mirror_small_remote.name, local]

    fresh = mirror_run(mirror_tool, "--dry-run", *args)

    assert fresh.status == 0, fresh.err
    assert not local.exists()
    assert "would get sub/c.txt (6 bytes)" in fresh.out
    assert "dry run: would transfer 4 files, 272 bytes" in fresh.out

    assert mirror_run(mirror_tool, *args).status == 0
    (mirror_small_remote / "a.txt").write_text("alpha, longer\n", encoding="utf-8")
    (mirror_small_remote / "sub" / "c.txt").unlink()
    (local / "local only").mkdir()
    before = {p: (p.stat().st_mtime_ns, p.read_bytes() if p.is_file() else None)
              for p in local.rglob("*")}  # fmt: skip

    planned = mirror_run(mirror_tool, "--dry-run", "-r", *args)

    assert planned.status == 0, planned.err
    assert "would get a.txt (14 bytes)" in planned.out
    assert "would delete sub/c.txt" in planned.out
    assert "would delete local only" in planned.out
    after = {p: (p.stat().st_mtime_ns, p.read_bytes() if p.is_file() else None)
             for p in local.rglob("*")}  # fmt: skip
    assert after == before


# --------------------------------------------------------------------------
# Interruptions
# --------------------------------------------------------------------------


def test_mirror_interrupted_run_leaves_no_partial_under_a_final_name_and_continue_resumes(
    mirror_tool: ModuleType,
    mirror_server: MirrorServer,
    mirror_medium_remote: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    local = tmp_path / "local"
    args = [*mirror_login(mirror_server), mirror_medium_remote.name, local]
    received = 0
    advance = mirror_tool.Report.advance

    def interrupt_after_a_mebibyte(self: object, nbytes: int) -> None:
        nonlocal received
        received += nbytes
        advance(self, nbytes)
        if received > 1 << 20:
            raise KeyboardInterrupt

    monkeypatch.setattr(mirror_tool.Report, "advance", interrupt_after_a_mebibyte)
    interrupted = mirror_run(mirror_tool, *args)
    monkeypatch.undo()

    assert interrupted.status == 130
    assert "interrupted" in interrupted.err
    parts = mirror_parts(local)
    assert [p.name for p in parts] == [".big-0.bin.ftpmirror-part"]
    assert 0 < parts[0].stat().st_size < MIRROR_BIG_SIZE
    assert not (local / "big" / "big-0.bin").exists()
    remote = mirror_snapshot(mirror_medium_remote)
    for rel, digest in mirror_snapshot(local).items():  # whatever is there under its name is whole
        if not rel.endswith(".ftpmirror-part"):
            assert remote[rel] == digest, rel
    partial_size = parts[0].stat().st_size
    start = len(mirror_server.commands)

    resumed = mirror_run(mirror_tool, "--continue", *args)

    assert resumed.status == 0, resumed.err
    assert mirror_snapshot(local) == remote
    assert f"REST {partial_size}" in mirror_server.commands_since(start)
    total = sum((mirror_medium_remote / rel).stat().st_size for rel in mirror_files_of(remote))
    already = sum((local / rel).stat().st_size for rel in ["README.txt"])
    assert resumed.summary["bytes"] == total - partial_size - already


def test_mirror_killed_subprocess_is_finished_by_a_run_with_continue(
    mirror_slow_server: MirrorServer,
    mirror_ftp_root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    remote = Path(tempfile.mkdtemp(prefix="k-", dir=mirror_ftp_root))
    (remote / "a.txt").write_text("first\n", encoding="utf-8")
    (remote / "big").mkdir()
    (remote / "big" / "big.bin").write_bytes(os.urandom(MIRROR_BIG_SIZE))
    local = tmp_path / "local"
    part = local / "big" / ".big.bin.ftpmirror-part"
    argv = [*mirror_login(mirror_slow_server), remote.name, local]
    process = subprocess.Popen(
        mirror_command(*argv),
        env=mirror_env(tmp_path),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + MIRROR_TIMEOUT
        while not (part.exists() and part.stat().st_size >= 64 << 10):
            assert process.poll() is None, "ftpmirror ended before it could be killed"
            assert time.monotonic() < deadline, "no partial file appeared"
            time.sleep(0.01)
    finally:
        process.kill()
        process.wait()

    assert not (local / "big" / "big.bin").exists()
    assert part.stat().st_size < MIRROR_BIG_SIZE
    rests = continue_at_full_speed(mirror_slow_server, monkeypatch, tmp_path, argv, remote, local)
    assert rests and int(rests[0].split()[1]) >= 64 << 10


def continue_at_full_speed(
    server: MirrorServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    argv: list[Any],
    remote: Path,
    local: Path,
) -> list[str]:
    """Run --continue with the slow server's limit lifted; the REST commands it sent."""
    start = len(server.commands)
    monkeypatch.setattr(server.handler.dtp_handler, "write_limit", 0)

    finished = mirror_subprocess(tmp_path, "--continue", *argv)

    assert finished.status == 0, finished.err
    assert mirror_snapshot(local) == mirror_snapshot(remote)
    return [c for c in server.commands_since(start) if c.startswith("REST ")]


class ParallelRun:
    """ftpmirror --parallel 3 in a process of its own, fetching three big files slowly."""

    def __init__(self, server: MirrorServer, ftp_root: Path, tmp_path: Path) -> None:
        self.remote = Path(tempfile.mkdtemp(prefix="p-", dir=ftp_root))
        for n in range(3):
            (self.remote / f"big-{n}.bin").write_bytes(os.urandom(MIRROR_BIG_SIZE))
        self.local = tmp_path / "local"
        self.argv = [*mirror_login(server), self.remote.name, self.local]
        self.process = subprocess.Popen(
            mirror_command("--parallel", "3", *self.argv),
            env=mirror_env(tmp_path),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def parts(self) -> dict[str, int]:
        """The partial files' sizes, by name."""
        return {p.name: p.stat().st_size for p in self.local.glob(".*-part")}

    def wait_until_all_three_are_under_way(self) -> None:
        deadline = time.monotonic() + MIRROR_TIMEOUT
        while len([n for n in self.parts().values() if n > 0]) < 3:
            assert self.process.poll() is None, "ftpmirror ended before its time"
            assert time.monotonic() < deadline, "the transfers did not all start"
            time.sleep(0.01)

    def end(self) -> str:
        """Its standard error, once it has ended (killed if it had not)."""
        try:
            _, err = self.process.communicate(timeout=MIRROR_TIMEOUT)
        finally:
            self.process.kill()
            self.process.wait()
        return err

    def stays_as_it_is(self) -> dict[str, int]:
        """The partial files, which no helper goes on writing."""
        stopped = self.parts()
        time.sleep(2.5)  # the slow server sends 256 KiB about every two seconds
        assert self.parts() == stopped
        return stopped


def test_mirror_killed_with_parallel_connections_stops_writing_at_once(
    mirror_slow_server: MirrorServer, mirror_ftp_root: Path, tmp_path: Path
) -> None:
    """Its helpers (processes of their own) die with it: no copy goes on growing."""
    run = ParallelRun(mirror_slow_server, mirror_ftp_root, tmp_path)
    try:
        run.wait_until_all_three_are_under_way()
    finally:
        run.process.kill()
        run.process.wait()  # not communicate(): a helper left alive would hold its stderr
        assert run.process.stderr is not None
        run.process.stderr.close()

    time.sleep(0.5)  # what was in flight when it died has landed
    stopped = run.stays_as_it_is()
    assert len(stopped) == 3 and all(0 < n < MIRROR_BIG_SIZE for n in stopped.values())


def test_mirror_whose_helper_process_is_killed_stops_with_an_error(
    mirror_slow_server: MirrorServer, mirror_ftp_root: Path, tmp_path: Path
) -> None:
    """A helper killed from outside (the OOM killer, say) ends the run: exit 1, and why."""
    run = ParallelRun(mirror_slow_server, mirror_ftp_root, tmp_path)
    children = Path(f"/proc/{run.process.pid}/task/{run.process.pid}/children")
    try:
        if not children.exists():
            pytest.skip("no /proc/PID/task/TID/children here")
        run.wait_until_all_three_are_under_way()
        os.kill(int(children.read_text().split()[0]), signal.SIGKILL)
    finally:
        err = run.end()
    assert run.process.returncode == 1, err
    assert "a helper process ended with status -9" in err
    for copy in run.local.glob("big-*.bin"):  # whatever took its place is whole
        assert copy.read_bytes() == (run.remote / copy.name).read_bytes()


def test_mirror_interrupted_with_parallel_connections_stops_them_all_and_can_continue(
    mirror_slow_server: MirrorServer,
    mirror_ftp_root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ctrl-C (SIGINT to ftpmirror alone): every helper stops, and --continue finishes."""
    run = ParallelRun(mirror_slow_server, mirror_ftp_root, tmp_path)
    try:
        run.wait_until_all_three_are_under_way()
        run.process.send_signal(signal.SIGINT)
        interrupted = time.monotonic()
    finally:
        err = run.end()
    took = time.monotonic() - interrupted
    assert run.process.returncode == 130, err
    assert took < 6, took  # each stops at its next block (the server's come 2 s apart)
    assert "interrupted" in err
    stopped = run.stays_as_it_is()
    assert len(stopped) == 3 and all(0 < n < MIRROR_BIG_SIZE for n in stopped.values())
    rests = continue_at_full_speed(
        mirror_slow_server, monkeypatch, tmp_path, run.argv, run.remote, run.local
    )
    assert len(rests) == 3  # each partial file was resumed, none fetched again whole


# --------------------------------------------------------------------------
# --reverse
# --------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
@pytest.mark.parametrize("helpers", ["threads", "processes"])
def test_mirror_reverse_uploads_a_tree_that_mirrors_back_identical(
    mirror_tool: ModuleType,
    mirror_server: MirrorServer,
    mirror_template: Path,
    mirror_ftp_root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    helpers: str,
) -> None:
    monkeypatch.setattr(mirror_tool, "can_fork", lambda: helpers == "processes")
    source = tmp_path / "source"
    # Without its many small files (see mirror_medium_remote); the link becomes a file.
    shutil.copytree(mirror_template, source, ignore=shutil.ignore_patterns("many"))
    remote_name = Path(tempfile.mkdtemp(prefix="u-", dir=mirror_ftp_root)).name + "/site"
    login = mirror_login(mirror_server)

    planned = mirror_run(mirror_tool, "--reverse", "--dry-run", *login, remote_name, source)

    assert planned.status == 0, planned.err
    assert "would put big/big-0.bin (2097152 bytes)" in planned.out
    assert not (mirror_ftp_root / remote_name).exists()

    uploaded = mirror_run(mirror_tool, "--reverse", "--parallel", 2, *login, remote_name, source)

    assert uploaded.status == 0, uploaded.err
    remote = mirror_ftp_root / remote_name
    assert mirror_snapshot(remote) == mirror_snapshot(source)
    assert not mirror_parts(remote)
    assert (remote / "big" / "big-2.bin").stat().st_mtime == (
        source / "big" / "big-2.bin"
    ).stat().st_mtime

    again = mirror_run(mirror_tool, "--reverse", *login, remote_name, source)
    assert again.status == 0, again.err
    assert again.summary["files"] == 0

    (source / "deep" / "a" / "b" / "c" / "d" / "leaf.txt").unlink()
    (source / "README.txt").write_text("changed\n", encoding="utf-8")
    synced = mirror_run(mirror_tool, "--reverse", "-r", *login, remote_name, source)
    assert synced.status == 0, synced.err
    assert (synced.summary["files"], synced.summary["deleted"]) == (1, 1)

    back = tmp_path / "back"
    returned = mirror_run(mirror_tool, *login, remote_name, back)
    assert returned.status == 0, returned.err
    assert mirror_snapshot(back) == mirror_snapshot(source)


# --------------------------------------------------------------------------
# Safety
# --------------------------------------------------------------------------


def test_mirror_refuses_hostile_names_from_scandir_and_writes_nothing_outside(
    mirror_tool: ModuleType,
    mirror_server: MirrorServer,
    mirror_small_remote: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    local = tmp_path / "inside" / "local"
    local.parent.mkdir()
    real_scandir = ftplib2.FTP.scandir
    when = ftplib2.parse_mlsx_line("type=file;modify=20200101000000; x").modify
    hostile = ["../evil", "/abs", "a\x00b", "x\ny", "..", ".", "", "sub/../../up"]

    def scandir_with_hostile_names(ftp: ftplib2.FTP, path: str = "") -> list[ftplib2.Entry]:
        entries = real_scandir(ftp, path)
        if not path and ftp.pwd() == f"/{mirror_small_remote.name}":  # listed where it is
            entries += [ftplib2.Entry(name, "file", 3, when) for name in hostile]
            entries += [ftplib2.Entry("evil-dir/..", "dir")]
            entries += [ftplib2.Entry("a.txt", "file", 6, when)]  # a second a.txt
            entries += [ftplib2.Entry("out", "link", target="/etc/passwd")]
            entries += [ftplib2.Entry("up", "link", target="../../etc")]
            entries += [ftplib2.Entry("in", "link", target="sub/c.txt")]
        return entries

    monkeypatch.setattr(ftplib2.FTP, "scandir", scandir_with_hostile_names)
    result = mirror_run(mirror_tool, *mirror_login(mirror_server), mirror_small_remote.name, local)

    assert result.status == 1
    assert mirror_listing_of(tmp_path) == ["inside"]
    assert mirror_listing_of(tmp_path / "inside") == ["local"]
    assert mirror_listing_of(local) == [MIRROR_MANIFEST, "b.o", "sub"]  # a.txt is ambiguous
    assert (local / "sub" / "c.txt").read_text(encoding="utf-8") == "gamma\n"
    refusals = [line for line in result.error_lines if "refused" in line]
    assert len(refusals) == len(hostile) + 1 + 2 + 2  # names, evil-dir/.., a.txt twice, 2 links
    assert result.summary["errors"] == len(result.error_lines)
    assert "refused x\\x0ay: contains a control character" in result.err
    assert "refused out: symbolic link to /etc/passwd points outside the mirror" in result.err
    assert "skip in: symbolic link to sub/c.txt, not followed" in result.out
    assert all("\n" not in line and "\x00" not in line for line in result.err.splitlines())


def test_mirror_refuses_hostile_names_on_the_wire_with_a_nonzero_exit(
    mirror_hostile_server: MirrorServer, tmp_path: Path
) -> None:
    local = tmp_path / "mirror" / "local"

    result = mirror_subprocess(tmp_path, *mirror_login(mirror_hostile_server), "", local)

    assert result.status == 1
    assert mirror_listing_of(tmp_path / "mirror") == ["local"]
    assert mirror_listing_of(local) == [MIRROR_MANIFEST, "ok.txt"]
    assert (local / "ok.txt").read_bytes() == b"ok\n"
    assert len(result.error_lines) == 8  # dup is refused twice
    for name in ["../evil", "/abs", "a\\x00b", "tab\\x09here", "dup", "passwd", "up"]:
        assert f"refused {name}:" in result.err
    assert "skip inside: symbolic link to ok.txt, not followed" in result.out


def test_mirror_never_writes_through_a_local_symlink(
    mirror_tool: ModuleType, mirror_server: MirrorServer, mirror_small_remote: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    local = tmp_path / "local"
    local.mkdir()
    (local / "sub").symlink_to(outside)
    args = [*mirror_login(mirror_server), mirror_small_remote.name, local]

    refused = mirror_run(mirror_tool, *args)

    assert refused.status == 1
    assert "sub: a local link is in the way (-r replaces it)" in refused.err
    assert mirror_listing_of(outside) == []

    replaced = mirror_run(mirror_tool, "-r", *args)

    assert replaced.status == 0, replaced.err
    assert mirror_listing_of(outside) == []
    assert not (local / "sub").is_symlink()
    assert mirror_snapshot(local) == mirror_snapshot(mirror_small_remote)


def test_mirror_drops_the_record_of_a_file_refused_for_what_is_in_its_way(
    mirror_tool: ModuleType, mirror_server: MirrorServer, mirror_small_remote: Path, tmp_path: Path
) -> None:
    local = tmp_path / "local"
    args = [*mirror_login(mirror_server), mirror_small_remote.name, local]
    assert mirror_run(mirror_tool, *args).status == 0
    (local / "a.txt").unlink()
    (local / "a.txt").mkdir()

    refused = mirror_run(mirror_tool, *args)

    assert refused.status == 1
    assert "a.txt: a local dir is in the way (-r replaces it)" in refused.err
    assert set(read_mirror_manifest(local)["files"]) == {"b.o", "sub/c.txt", "sub/d.bin"}
    (local / "a.txt").rmdir()
    assert_an_unrecorded_copy_is_fetched_again(mirror_tool, args, local)


def assert_an_unrecorded_copy_is_fetched_again(
    tool: ModuleType, args: list[Any], local: Path
) -> None:
    """Another file of the server's size in a.txt's place: with no record, only its size and
    time could vouch for it, and its time is not the server's."""
    (local / "a.txt").write_text("ALPHA\n", encoding="utf-8")
    os.utime(local / "a.txt", (1_000_000_000, 1_000_000_000))

    again = mirror_run(tool, *args)

    assert again.status == 0, again.err
    assert (local / "a.txt").read_text(encoding="utf-8") == "alpha\n"


def test_mirror_drops_the_records_of_files_gone_from_the_server_or_excluded(
    mirror_tool: ModuleType, mirror_server: MirrorServer, mirror_small_remote: Path, tmp_path: Path
) -> None:
    local = tmp_path / "local"
    args = [*mirror_login(mirror_server), mirror_small_remote.name, local]
    assert mirror_run(mirror_tool, *args).status == 0
    aside = mirror_small_remote.with_name(mirror_small_remote.name + "-aside")
    (mirror_small_remote / "a.txt").rename(aside)  # the same file, its facts unchanged

    gone = mirror_run(mirror_tool, "-s", "b.o", *args)

    assert gone.status == 0, gone.err
    assert set(read_mirror_manifest(local)["files"]) == {"sub/c.txt", "sub/d.bin"}
    aside.rename(mirror_small_remote / "a.txt")  # the server's file back as it was
    assert_an_unrecorded_copy_is_fetched_again(mirror_tool, args, local)


def test_mirror_skips_directory_links_that_loop_back(
    mirror_tool: ModuleType, mirror_server: MirrorServer, mirror_small_remote: Path, tmp_path: Path
) -> None:
    # pyftpdlib's MLSD follows links; the LIST of the same directory shows them.
    os.symlink(".", mirror_small_remote / "sub" / "loop")
    os.symlink("..", mirror_small_remote / "sub" / "up")
    local = tmp_path / "local"

    result = mirror_run(mirror_tool, *mirror_login(mirror_server), mirror_small_remote.name, local)

    assert result.status == 0, result.err
    assert "skip sub/loop: symbolic link to ., not followed" in result.out
    assert "skip sub/up: symbolic link to .., not followed" in result.out
    expected = mirror_snapshot(mirror_small_remote)
    del expected["sub/loop/"], expected["sub/up/"]
    assert mirror_snapshot(local) == expected


def test_mirror_reports_a_refused_download_once_and_leaves_no_empty_partial(
    mirror_tool: ModuleType, mirror_server: MirrorServer, mirror_small_remote: Path, tmp_path: Path
) -> None:
    # pyftpdlib lists a link out of its root as a file, then refuses to send it.
    os.symlink("/etc/hostname", mirror_small_remote / "escape")
    local = tmp_path / "local"

    result = mirror_run(mirror_tool, *mirror_login(mirror_server), mirror_small_remote.name, local)

    assert result.status == 1
    assert len(result.error_lines) == 1
    assert result.error_lines[0].startswith("ftpmirror: error: get escape: 550 ")
    assert not mirror_parts(local)
    assert result.summary["files"] == 4


class MirrorFakeBar:
    """Stands in for tqdm.tqdm: records what a progress bar would show."""

    bars: ClassVar[list[MirrorFakeBar]] = []

    def __init__(self, total: int, **options: object) -> None:
        self.total, self.shown, self.closed = total, 0, False
        self.bars.append(self)

    def update(self, nbytes: int) -> None:
        self.shown += nbytes

    def close(self) -> None:
        self.closed = True

    @staticmethod
    def write(text: str, file: io.TextIOBase) -> None:
        print(text, file=file)


class MirrorTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_mirror_shows_a_progress_bar_on_a_terminal_when_tqdm_is_there(
    mirror_tool: ModuleType,
    mirror_server: MirrorServer,
    mirror_small_remote: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(mirror_tool, "tqdm", MirrorFakeBar)
    MirrorFakeBar.bars.clear()

    result = mirror_run(
        mirror_tool, *mirror_login(mirror_server), mirror_small_remote.name, tmp_path / "local",
        stdout=MirrorTerminal(),
    )  # fmt: skip

    assert result.status == 0, result.err
    [bar] = MirrorFakeBar.bars
    assert (bar.total, bar.shown, bar.closed) == (272, 272, True)
    assert "get " not in result.out  # the bar replaces the lines
    assert result.summary["files"] == 4


# --------------------------------------------------------------------------
# Listings without MLSD: LIST and -m (NLST)
# --------------------------------------------------------------------------


def test_mirror_from_a_list_only_server_skips_symlinks_and_detects_changes(
    mirror_tool: ModuleType,
    mirror_list_server: MirrorServer,
    mirror_medium_remote: Path,
    tmp_path: Path,
) -> None:
    os.symlink("/etc/passwd", mirror_medium_remote / "escape")
    local = tmp_path / "local"
    args = [*mirror_login(mirror_list_server), mirror_medium_remote.name, local]

    first = mirror_run(mirror_tool, *args)

    assert first.status == 1  # the link out of the tree
    assert first.error_lines == [
        "ftpmirror: error: refused escape: symbolic link to /etc/passwd points outside the mirror"
    ]
    assert "skip link-to-readme.txt: symbolic link to README.txt, not followed" in first.out
    expected = mirror_snapshot(mirror_medium_remote)
    del expected["escape"], expected["link-to-readme.txt"]
    assert mirror_snapshot(local) == expected

    (mirror_medium_remote / "escape").unlink()
    second = mirror_run(mirror_tool, *args)

    assert second.status == 0, second.err
    assert second.summary["files"] == 0
    assert second.summary["skipped"] == 1


def test_mirror_m_lists_bare_names_with_nlst_and_skips_object_files(
    mirror_tool: ModuleType,
    mirror_bare_server: MirrorServer,
    mirror_small_remote: Path,
    tmp_path: Path,
) -> None:
    local = tmp_path / "local"
    start = len(mirror_bare_server.commands)

    result = mirror_run(
        mirror_tool, "-m", *mirror_login(mirror_bare_server), mirror_small_remote.name, local
    )

    assert result.status == 0, result.err
    expected = mirror_snapshot(mirror_small_remote)
    del expected["b.o"]
    assert mirror_snapshot(local) == expected
    commands = mirror_bare_server.commands_since(start)
    assert any(c.startswith("NLST") for c in commands)
    assert not any(c.startswith(("MLSD", "LIST")) for c in commands)
    again = mirror_run(
        mirror_tool, "-m", *mirror_login(mirror_bare_server), mirror_small_remote.name, local
    )
    assert again.summary["files"] == 0


# --------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------


def test_mirror_include_and_exclude_select_what_is_mirrored(
    mirror_tool: ModuleType, mirror_server: MirrorServer, mirror_medium_remote: Path, tmp_path: Path
) -> None:
    local = tmp_path / "local"

    result = mirror_run(
        mirror_tool, "--include", "*.txt", "--exclude", "big", "-s", "deep/a/b",
        *mirror_login(mirror_server), mirror_medium_remote.name, local,
    )  # fmt: skip

    assert result.status == 0, result.err
    files = sorted(mirror_files_of(mirror_snapshot(local)))
    assert files == [
        "README.txt", "link-to-readme.txt", "non-ascii ünïcødé/café ☕.txt",
        "non-ascii ünïcødé/日本語.txt", "with space/file with space.txt",
    ]  # fmt: skip
    assert not (local / "big").exists()
    assert (local / "empty").is_dir()
    assert not (local / "deep" / "a" / "b").exists()


def test_mirror_only_newer_keeps_a_local_copy_edited_since(
    mirror_tool: ModuleType, mirror_server: MirrorServer, mirror_small_remote: Path, tmp_path: Path
) -> None:
    local = tmp_path / "local"
    args = [*mirror_login(mirror_server), mirror_small_remote.name, local]
    assert mirror_run(mirror_tool, *args).status == 0
    (local / "a.txt").write_text("edited here\n", encoding="utf-8")

    kept = mirror_run(mirror_tool, "--only-newer", *args)

    assert kept.status == 0, kept.err
    assert (local / "a.txt").read_text(encoding="utf-8") == "edited here\n"
    assert kept.summary["skipped"] == 1

    replaced = mirror_run(mirror_tool, *args)
    assert replaced.summary["files"] == 1
    assert (local / "a.txt").read_text(encoding="utf-8") == "alpha\n"


def test_mirror_interactive_asks_before_new_directories_and_files(
    mirror_tool: ModuleType, mirror_server: MirrorServer, mirror_small_remote: Path, tmp_path: Path
) -> None:
    local = tmp_path / "local"
    # Sorted walk: a.txt, b.o, then directory sub (declined, so nothing below it is asked).
    answers = "y\nmaybe\nn\nn\n"

    result = mirror_run(
        mirror_tool, "-i", *mirror_login(mirror_server), mirror_small_remote.name, local,
        stdin=answers,
    )  # fmt: skip

    assert result.status == 0, result.err
    assert mirror_listing_of(local) == [MIRROR_MANIFEST, "a.txt"]
    assert result.out.count("[yn]") == 4
    assert "Please answer y or n." in result.out
    assert result.summary["skipped"] == 2


def test_mirror_over_tls_verifies_the_server_with_cafile(
    mirror_tool: ModuleType,
    mirror_tls_server: MirrorServer,
    mirror_small_remote: Path,
    mirror_ca: trustme.CA,
    tmp_path: Path,
) -> None:
    ca_file = tmp_path / "ca.pem"
    mirror_ca.cert_pem.write_to_path(str(ca_file))
    local = tmp_path / "local"
    start = len(mirror_tls_server.commands)

    result = mirror_run(
        mirror_tool, "--tls", "--cafile", ca_file, "--parallel", 2,
        *mirror_login(mirror_tls_server), mirror_small_remote.name, local,
    )  # fmt: skip

    assert result.status == 0, result.err
    assert mirror_snapshot(local) == mirror_snapshot(mirror_small_remote)
    commands = mirror_tls_server.commands_since(start)
    assert commands[0] == "AUTH TLS" and "PROT P" in commands

    # A process of its own, as from a shell: its helpers are processes, each with TLS too.
    shutil.rmtree(local)
    start = len(mirror_tls_server.commands)
    alone = mirror_subprocess(
        tmp_path, "--tls", "--cafile", ca_file, "--parallel", "3",
        *mirror_login(mirror_tls_server), mirror_small_remote.name, local,
    )  # fmt: skip
    assert alone.status == 0, alone.err
    assert mirror_snapshot(local) == mirror_snapshot(mirror_small_remote)
    commands = mirror_tls_server.commands_since(start)
    logins = len([c for c in commands if c.startswith("USER ")])
    assert logins >= 2 and commands.count("AUTH TLS") == commands.count("PROT P") == logins

    unverified = mirror_run(
        mirror_tool, "--tls", *mirror_login(mirror_tls_server), mirror_small_remote.name, local
    )
    assert unverified.status == 1
    assert len(unverified.error_lines) == 1
    assert "CERTIFICATE_VERIFY_FAILED" in unverified.err

    insecure = mirror_run(
        mirror_tool, "--tls", "--insecure",
        *mirror_login(mirror_tls_server), mirror_small_remote.name, local,
    )  # fmt: skip
    assert insecure.status == 0, insecure.err


def test_mirror_takes_an_ftp_url_with_escaped_credentials_and_path(
    mirror_tool: ModuleType, mirror_server: MirrorServer, mirror_small_remote: Path, tmp_path: Path
) -> None:
    spaced = mirror_small_remote / "dir with space"
    spaced.mkdir()
    (spaced / "x.txt").write_text("x\n", encoding="utf-8")
    password = "s3cr%40t%3A%2Fx"
    url = f"ftp://{MIRROR_USER}:{password}@{mirror_server.address}/{mirror_small_remote.name}/dir%20with%20space"
    local = tmp_path / "local"

    result = mirror_run(mirror_tool, url, local)

    assert result.status == 0, result.err
    assert mirror_snapshot(local) == {"x.txt": hashlib.sha256(b"x\n").hexdigest()}


def test_mirror_reads_credentials_from_netrc_else_logs_in_anonymously(
    mirror_tool: ModuleType,
    mirror_server: MirrorServer,
    mirror_small_remote: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    start = len(mirror_server.commands)

    anonymous = mirror_run(
        mirror_tool, mirror_server.address, mirror_small_remote.name, tmp_path / "a"
    )

    assert anonymous.status == 0, anonymous.err
    assert "USER anonymous" in mirror_server.commands_since(start)

    netrc_file = home / ".netrc"
    netrc_file.write_text(
        f"machine 127.0.0.1 login {MIRROR_USER} password {MIRROR_PASSWORD}\n", encoding="utf-8"
    )
    netrc_file.chmod(0o600)
    start = len(mirror_server.commands)

    named = mirror_run(mirror_tool, mirror_server.address, mirror_small_remote.name, tmp_path / "n")

    assert named.status == 0, named.err
    assert f"USER {MIRROR_USER}" in mirror_server.commands_since(start)


def test_mirror_n_sends_no_login(
    mirror_tool: ModuleType, mirror_server: MirrorServer, mirror_small_remote: Path, tmp_path: Path
) -> None:
    start = len(mirror_server.commands)

    result = mirror_run(
        mirror_tool, "-n", mirror_server.address, mirror_small_remote.name, tmp_path
    )

    assert result.status == 1  # pyftpdlib wants a login before anything else
    assert not any(c.startswith(("USER", "PASS")) for c in mirror_server.commands_since(start))
    assert len(result.error_lines) == 1 and "cannot list" in result.err


def test_mirror_parses_hosts_ports_and_urls(mirror_tool: ModuleType) -> None:
    split = mirror_tool.split_host_port
    assert split("ftp.example.org") == ("ftp.example.org", None)
    assert split("ftp.example.org:2121") == ("ftp.example.org", 2121)
    assert split("[::1]:21") == ("::1", 21)
    assert split("::1") == ("::1", None)
    site = mirror_tool.site_from_url("ftps://u%20v:p%3Aw@host.example/%2Fpub/a%20b;type=i")
    assert (site.host, site.port, site.tls) == ("host.example", 21, "explicit")
    assert (site.user, site.passwd, site.remotedir) == ("u v", "p:w", "/pub/a b")
    assert mirror_tool.site_from_url("ftp://host/pub").remotedir == "pub"
    with pytest.raises(mirror_tool.UsageError):
        mirror_tool.site_from_url("http://host/")
    with pytest.raises(mirror_tool.UsageError):
        split("host:99999")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-p", "pw", "host"], "-p needs -l"),
        (["--tls", "--insecure", "--cafile", "x.pem", "host"], "contradict"),
        (["ftp://host/dir", "local", "extra"], "at most one directory"),
        (["ftp://host/a%0Ab"], "control character in the remote directory"),
    ],
)
def test_mirror_usage_errors_exit_2_with_one_line(
    tmp_path: Path, argv: list[str], message: str
) -> None:
    result = mirror_subprocess(tmp_path, *argv)

    assert result.status == 2
    assert result.err.count("\n") == 1 and message in result.err


def test_mirror_unreachable_server_exits_1_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]

    result = mirror_subprocess(tmp_path, "--timeout", 5, f"127.0.0.1:{port}", "", tmp_path / "l")

    assert result.status == 1
    assert result.err.count("\n") == 1 and "Connection refused" in result.err
    assert not (tmp_path / "l").exists()


def test_mirror_help_is_the_manual(tmp_path: Path) -> None:
    result = mirror_subprocess(tmp_path, "--help")

    assert result.status == 0
    assert result.out.startswith("usage: ftpmirror [-v] [-q] [-i] [-m] [-n] [-r] [-s pat]")
    options = ["--parallel", "--continue", "--only-newer", "--dry-run", "--reverse", "--tls"]
    for option in [*options, "--pipelining"]:
        assert option in result.out
    assert "Exit status" in result.out
