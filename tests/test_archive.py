"""ftpmirror at archive scale: a streaming walk, an SQLite manifest, runs that can be killed.

Proves, against a live pyftpdlib server, with ftpmirror run as a process of its own:

* killed with SIGKILL at random moments (10 times), ftpmirror never leaves a manifest that
  makes the next run skip a file it lacks or delete one it should keep: each following run
  converges to a byte-identical copy (issue 22);
* a run that changes nothing writes nothing: no file or directory of the copy, the manifest
  included, changes its inode, size or modification time;
* memory grows with the largest directory, not with the tree: the peak RSS of a run over
  20,000 files is within a few MB of that over 2,000 (the old JSON manifest and plan held
  about 1 KB per file);
* the directory being compared costs under 1,000 bytes of peak RSS an entry, its listing,
  local names and manifest records together (they cost about 1.7 KB before);
* a walk stopped by --max-dirs deletes nothing and creates no directory for nothing, while
  the files it fetched before it stopped are whole;
* the manifest's database, and its journal, are never written through links planted in
  their place, even over an existing mirror;
* a JSON manifest of ftpmirror/1 is migrated on first use: its records still decide.

The figures themselves (CPU per file, RSS at 1,000,000 files, lftp beside it) come from
Tools/bench/archive.py, not from here.  Run only these tests with::

    python -m pytest -q -p no:cacheprovider tests/test_archive.py
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import ftplib2
from tests.servers import (
    MIRROR_LEGACY_MANIFEST,
    MIRROR_MANIFEST,
    MIRROR_PASSWORD,
    MIRROR_USER,
    MirrorServer,
    mirror_command,
    mirror_env,
    mirror_login,
    mirror_run,
    mirror_snapshot,
    mirror_subprocess,
    read_mirror_manifest,
)
from tests.test_ftpmirror import MirrorTerminal


def make_tree(root: Path, dirs: int, per_dir: int, size: int = 0) -> Path:
    """`dirs` directories of `per_dir` files of `size` bytes, in a new directory below `root`."""
    remote = Path(tempfile.mkdtemp(prefix="a-", dir=root))
    for d in range(dirs):
        (remote / f"d{d:03d}").mkdir()
        for f in range(per_dir):
            path = remote / f"d{d:03d}" / f"f{f:03d}"
            path.write_bytes(os.urandom(size) if size else b"")
    return remote


def copy_with_times(remote: Path, local: Path) -> None:
    """A copy such as ftpmirror makes: same bytes, same modification times."""
    shutil.copytree(remote, local, copy_function=shutil.copy2)


def state_of(local: Path) -> dict[str, tuple[int, int, int]]:
    """(inode, size, mtime in ns) of everything below `local`, the directories included."""
    found = {".": _stamp(local)}
    for dirpath, dirnames, filenames in os.walk(local):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            found[str(path.relative_to(local))] = _stamp(path)
    return found


def _stamp(path: Path) -> tuple[int, int, int]:
    st = path.lstat()
    return st.st_ino, st.st_size, st.st_mtime_ns


PEAK_RSS_WRAPPER = """
import runpy, sys
script = sys.argv[1]
sys.argv = sys.argv[1:]
try:
    runpy.run_path(script, run_name="__main__")
finally:
    with open("/proc/self/status", encoding="ascii") as status:
        peak = next(line for line in status if line.startswith("VmHWM:"))
    sys.stderr.write("PEAK " + peak.split()[1] + "\\n")
"""


def peak_rss_mb(tmp_path: Path, *argv: object) -> float:
    """Run ftpmirror as a process and return its peak resident set size, in MB.

    Read from /proc/self/status (VmHWM) as it exits: the ru_maxrss of a child started
    from this process would carry this process's own peak across exec().
    """
    command = mirror_command(*argv)
    done = subprocess.run(
        [command[0], "-c", PEAK_RSS_WRAPPER, *command[1:]],
        env=mirror_env(tmp_path),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    peak = [line for line in done.stderr.splitlines() if line.startswith("PEAK ")]
    return int(peak[-1].split()[1]) / 1024


# --------------------------------------------------------------------------
# Killed at random moments
# --------------------------------------------------------------------------


def test_mirror_killed_ten_times_at_random_moments_always_converges(
    mirror_server: MirrorServer, mirror_ftp_root: Path, tmp_path: Path
) -> None:
    rng = random.Random(22)  # the moments vary with the machine's speed, the choices do not
    remote = make_tree(mirror_ftp_root, dirs=8, per_dir=25, size=2000)
    (remote / "big.bin").write_bytes(os.urandom(3 << 20))  # long enough to be killed in
    local = tmp_path / "local"
    args = [*mirror_login(mirror_server), remote.name, local]
    files = sorted(p.relative_to(remote) for p in remote.rglob("*") if p.is_file())
    assert mirror_subprocess(tmp_path, *args).status == 0

    def disturb(kill: int) -> None:
        # Work for the run to be killed in: changed files (some of the same size, which
        # only the manifest tells apart), files lost here, files only here (-r deletes them).
        for rel in rng.sample(files, 12):
            path = remote / rel
            data = path.read_bytes()
            same_size = rng.random() < 0.5
            path.write_bytes(os.urandom(len(data)) if same_size else os.urandom(len(data) + 7))
            stamp = 1_700_000_000 + kill * 1000 + rng.randrange(1000)
            os.utime(path, (stamp, stamp))
        for rel in rng.sample(files, 5):
            (local / rel).unlink(missing_ok=True)
        for n in range(3):
            (local / f"d00{n}" / f"extra-{kill}").write_bytes(b"not on the server")

    # How long such a run takes on this machine: the kills fall inside one.
    disturb(10)
    began = time.monotonic()
    assert mirror_subprocess(tmp_path, "-r", *args).status == 0
    duration = time.monotonic() - began
    unfinished = 0  # kills that left work undone: the test is no test without them
    for kill in range(10):
        disturb(kill)
        before = {rel for rel in files if (local / rel).exists()}
        options = rng.choice([["-r"], ["-r", "--parallel", "3"], ["-r", "--continue"]])
        process = subprocess.Popen(
            mirror_command(*options, *args),
            env=mirror_env(tmp_path),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.2, 0.9) * duration)
        process.send_signal(signal.SIGKILL)
        process.wait()
        # Killed: nothing the server has may have gone (replaced is fine, removed is not).
        assert {rel for rel in files if (local / rel).exists()} >= before, f"kill {kill}"
        unfinished += mirror_snapshot(local) != mirror_snapshot(remote)

        again = mirror_subprocess(tmp_path, "-r", *args)

        assert again.status == 0, f"kill {kill}: {again.err}"
        assert mirror_snapshot(local) == mirror_snapshot(remote), f"kill {kill}"
        assert not list(local.rglob("*.ftpmirror-part")), f"kill {kill}"
    assert unfinished >= 3, unfinished


# --------------------------------------------------------------------------
# A run that changes nothing writes nothing
# --------------------------------------------------------------------------


def test_mirror_rerun_that_changes_nothing_writes_nothing(
    mirror_server: MirrorServer, mirror_ftp_root: Path, tmp_path: Path
) -> None:
    remote = make_tree(mirror_ftp_root, dirs=3, per_dir=10, size=100)
    (remote / "empty").mkdir()
    local = tmp_path / "local"
    args = [*mirror_login(mirror_server), remote.name, local]
    first = mirror_subprocess(tmp_path, "-r", *args)
    assert first.status == 0, first.err
    assert (local / MIRROR_MANIFEST).is_file()
    before = state_of(local)
    time.sleep(0.05)  # a write now would show in the modification times

    again = mirror_subprocess(tmp_path, "-r", *args)

    assert again.status == 0, again.err
    assert state_of(local) == before
    assert sorted(os.listdir(local)) == [MIRROR_MANIFEST, "d000", "d001", "d002", "empty"]


# --------------------------------------------------------------------------
# Memory: bounded by the directory, not the tree
# --------------------------------------------------------------------------


def test_mirror_memory_grows_with_the_directory_not_the_tree(
    mirror_server: MirrorServer, mirror_ftp_root: Path, tmp_path: Path
) -> None:
    peaks = []
    for dirs in (20, 200):  # 2,000 and 20,000 files, 100 in each directory
        remote = make_tree(mirror_ftp_root, dirs=dirs, per_dir=100)
        local = tmp_path / f"local-{dirs}"
        copy_with_times(remote, local)  # trusted by size and time: the walk, not transfers
        peaks.append(peak_rss_mb(tmp_path, "-q", *mirror_login(mirror_server), remote.name, local))
        assert len(read_mirror_manifest(local)["files"]) == dirs * 100
        shutil.rmtree(remote)

    # ftpmirror/1 held the tree: 13 MB more here.  SQLite's page cache (2 MB at most) and
    # the path of each directory visited may grow.
    assert peaks[1] - peaks[0] < 5, peaks


def test_mirror_memory_per_entry_of_the_directory_being_compared(
    mirror_server: MirrorServer, mirror_ftp_root: Path, tmp_path: Path
) -> None:
    peaks = {}
    for files in (1_000, 20_000):  # in one directory
        remote = make_tree(mirror_ftp_root, dirs=1, per_dir=files)
        local = tmp_path / f"local-{files}"
        copy_with_times(remote, local)
        args = ["-q", *mirror_login(mirror_server), remote.name, local]
        first = peak_rss_mb(tmp_path, *args)  # trusted by size and time: recorded
        again = peak_rss_mb(tmp_path, *args)  # the records read back: nothing to do
        assert len(read_mirror_manifest(local)["files"]) == files
        peaks[files] = max(first, again)
        shutil.rmtree(remote)

    # While a directory is compared, a run holds its listing, the local names and the
    # manifest's records: about 1.7 KB an entry of pyftpdlib's MLSD when each kept its
    # ftplib2.Entry, its os.DirEntry with a stat result and a Counter of the names; under
    # 700 bytes since.
    per_entry = (peaks[20_000] - peaks[1_000]) * (1 << 20) / 19_000
    assert per_entry < 1_000, peaks


# --------------------------------------------------------------------------
# A walk stopped by a bound
# --------------------------------------------------------------------------


def test_mirror_stopped_by_max_dirs_deletes_nothing_and_keeps_whole_files(
    mirror_server: MirrorServer, mirror_ftp_root: Path, tmp_path: Path
) -> None:
    remote = make_tree(mirror_ftp_root, dirs=12, per_dir=3, size=500)
    (remote / "d011" / "empty").mkdir()
    local = tmp_path / "local"
    local.mkdir()
    (local / "mine.txt").write_bytes(b"not on the server")

    result = mirror_subprocess(
        tmp_path, "-r", "--max-dirs", "6", *mirror_login(mirror_server), remote.name, local
    )

    assert result.status == 1
    assert any("more than 6 directories" in line for line in result.err.splitlines()), result.err
    assert "nothing was deleted" in result.err
    assert (local / "mine.txt").read_bytes() == b"not on the server"
    assert not (local / "d011").exists()  # the walk never got there
    fetched = [p for p in local.rglob("f*") if p.is_file()]
    for path in fetched:  # whatever it fetched is whole
        assert path.read_bytes() == (remote / path.relative_to(local)).read_bytes()
    assert not list(local.rglob("*.ftpmirror-part"))


# --------------------------------------------------------------------------
# The database's files and links
# --------------------------------------------------------------------------


def test_mirror_never_writes_through_links_planted_at_the_database_of_a_mirror(
    mirror_server: MirrorServer, mirror_ftp_root: Path, tmp_path: Path
) -> None:
    remote = make_tree(mirror_ftp_root, dirs=2, per_dir=3, size=100)
    local = tmp_path / "local"
    args = [*mirror_login(mirror_server), remote.name, local]
    assert mirror_subprocess(tmp_path, *args).status == 0
    outside = tmp_path / "outside"
    outside.mkdir()
    # The database moved out and linked back; its journal and WAL names linked out too.
    (local / MIRROR_MANIFEST).rename(outside / "manifest.db")
    (local / MIRROR_MANIFEST).symlink_to(outside / "manifest.db")
    (local / f"{MIRROR_MANIFEST}-journal").symlink_to(outside / "journal")
    (local / f"{MIRROR_MANIFEST}-wal").symlink_to(outside / "wal")
    kept = (outside / "manifest.db").read_bytes()
    (remote / "d001" / "f002").write_bytes(b"changed on the server")

    result = mirror_subprocess(tmp_path, *args)

    assert result.status == 0, result.err
    assert (outside / "manifest.db").read_bytes() == kept
    assert sorted(os.listdir(outside)) == ["manifest.db"]
    assert not (local / MIRROR_MANIFEST).is_symlink()
    assert len(read_mirror_manifest(local)["files"]) == 6
    assert mirror_snapshot(local) == mirror_snapshot(remote)
    assert sorted(os.listdir(local)) == [MIRROR_MANIFEST, "d000", "d001"]


def legacy_copy(mirror_server: MirrorServer, remote: Path, local: Path) -> dict[str, dict]:
    """A copy of `remote` with the JSON manifest an ftpmirror/1 run left; return its records.

    The copy of d000/f000 has another time: only its record makes a run trust it.
    """
    copy_with_times(remote, local)
    os.utime(local / "d000" / "f000", (1_000_000_000, 1_000_000_000))
    with ftplib2.FTP() as ftp:
        ftp.connect("127.0.0.1", mirror_server.port)
        ftp.login(MIRROR_USER, MIRROR_PASSWORD)
        entries = ftp.scandir(f"{remote.name}/d000")
    records = {
        f"d000/{e.name}": {"size": e.size, "modify": e.modify.isoformat(), "unique": e.unique}
        for e in entries
    }
    host, port = mirror_server.address.split(":")
    source = f"ftp://{MIRROR_USER}@{host}:{port}/{remote.name}"
    legacy = {"format": "ftpmirror/1", "source": source, "files": records, "partial": {}}
    (local / MIRROR_LEGACY_MANIFEST).write_text(json.dumps(legacy), encoding="ascii")
    return records


def test_mirror_migrates_a_json_manifest_and_its_records_still_decide(
    mirror_server: MirrorServer, mirror_ftp_root: Path, tmp_path: Path
) -> None:
    remote = make_tree(mirror_ftp_root, dirs=1, per_dir=3, size=100)
    local = tmp_path / "local"
    records = legacy_copy(mirror_server, remote, local)

    result = mirror_subprocess(
        tmp_path, "-v", "-v", *mirror_login(mirror_server), remote.name, local
    )

    assert result.status == 0, result.err
    assert result.summary["files"] == 0 and result.summary["unchanged"] == 3
    assert f"{MIRROR_LEGACY_MANIFEST} migrated to {MIRROR_MANIFEST}" in result.out
    assert not (local / MIRROR_LEGACY_MANIFEST).exists()
    assert read_mirror_manifest(local)["files"] == records


# --------------------------------------------------------------------------
# Fixed and per-file costs
# --------------------------------------------------------------------------


def test_mirror_sends_no_command_per_file_but_the_transfer_and_logs_in_once_per_worker(
    mirror_server: MirrorServer, mirror_ftp_root: Path, tmp_path: Path
) -> None:
    remote = make_tree(mirror_ftp_root, dirs=3, per_dir=10, size=100)
    local = tmp_path / "local"
    args = [*mirror_login(mirror_server), remote.name, local]
    start = len(mirror_server.commands)

    first = mirror_subprocess(tmp_path, "--parallel", "3", *args)

    assert first.status == 0, first.err
    verbs = [line.split()[0].upper() for line in mirror_server.commands_since(start)]
    assert verbs.count("USER") == 3  # one connection per worker, for the whole run
    assert verbs.count("RETR") == 30
    assert "SIZE" not in verbs and "MDTM" not in verbs  # the listing has the facts
    start = len(mirror_server.commands)

    again = mirror_subprocess(tmp_path, "--parallel", "3", *args)

    assert again.status == 0, again.err
    verbs = [line.split()[0].upper() for line in mirror_server.commands_since(start)]
    assert verbs.count("USER") == 1  # nothing to transfer: no other connection
    assert "RETR" not in verbs


# --------------------------------------------------------------------------
# Progress on a terminal
# --------------------------------------------------------------------------


def test_mirror_on_a_terminal_without_tqdm_shows_a_status_line_instead_of_a_line_per_file(
    mirror_tool: ModuleType,
    mirror_server: MirrorServer,
    mirror_ftp_root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(mirror_tool, "tqdm", None)
    remote = make_tree(mirror_ftp_root, dirs=4, per_dir=50, size=10)
    started = time.monotonic()

    result = mirror_run(
        mirror_tool, *mirror_login(mirror_server), remote.name, tmp_path / "local",
        stdout=MirrorTerminal(),
    )  # fmt: skip

    elapsed = time.monotonic() - started
    assert result.status == 0, result.err
    assert "get " not in result.out
    assert result.summary["files"] == 200 and result.summary["bytes"] == 2000
    draws = result.out.split("\r\x1b[K")[1:-1]  # the last one clears it for the summary
    assert 1 <= len(draws) <= elapsed / 0.25 + 2, len(draws)  # at most 4 a second
    assert all(" files, " in draw and " unchanged, " in draw for draw in draws)


# --------------------------------------------------------------------------
# Workers, partial records and migration: what a review found
# --------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
@pytest.mark.parametrize("helpers", ["threads", "processes"])
def test_mirror_stops_with_an_error_when_a_helper_fails_outside_a_transfer(
    mirror_server: MirrorServer,
    mirror_ftp_root: Path,
    mirror_tool: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    helpers: str,
) -> None:
    """Not a transfer's failure (those are reported, and the others go on): it ends the run."""
    monkeypatch.setattr(mirror_tool, "can_fork", lambda: helpers == "processes")
    remote = make_tree(mirror_ftp_root, dirs=2, per_dir=6, size=100)
    download = mirror_tool.Mirror._download
    caller = os.getpid()

    def failing(self: object, *args: object) -> bool:
        # In a helper: a process of its own, or (without fork) a thread named so.
        if os.getpid() != caller or threading.current_thread().name.startswith("ftpmirror-"):
            raise sqlite3.OperationalError("database is locked")
        return download(self, *args)

    monkeypatch.setattr(mirror_tool.Mirror, "_download", failing)
    assert_stopped_by_a_locked_manifest(mirror_tool, mirror_server, remote, tmp_path)


def assert_stopped_by_a_locked_manifest(
    tool: ModuleType, server: MirrorServer, remote: Path, tmp_path: Path
) -> None:
    """A --parallel 3 run ends with exit 1 and why, and no helper outlives it."""
    result = mirror_run(
        tool, "--parallel", "3", *mirror_login(server), remote.name, tmp_path / "local"
    )
    assert result.status == 1, result
    assert "database is locked" in result.err
    assert not any(t.name.startswith("ftpmirror-") for t in threading.enumerate())
    assert not multiprocessing.active_children()


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
@pytest.mark.parametrize("helpers", ["threads", "processes"])
def test_mirror_stops_with_an_error_when_the_manifest_fails_for_a_helper(
    mirror_server: MirrorServer,
    mirror_ftp_root: Path,
    mirror_tool: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    helpers: str,
) -> None:
    """A record a helper's transfer sends back that cannot be written ends the run."""
    monkeypatch.setattr(mirror_tool, "can_fork", lambda: helpers == "processes")
    remote = make_tree(mirror_ftp_root, dirs=2, per_dir=6, size=100)
    finished = mirror_tool.Manifest.finished
    written: list[str] = []

    def failing(self: object, rel: str, *args: object) -> None:
        if len(written) >= 3:
            raise sqlite3.OperationalError("database is locked")
        written.append(rel)
        finished(self, rel, *args)

    monkeypatch.setattr(mirror_tool.Manifest, "finished", failing)
    assert_stopped_by_a_locked_manifest(mirror_tool, mirror_server, remote, tmp_path)


def test_mirror_records_a_partial_file_only_once_it_holds_none_of_another_version(
    mirror_server: MirrorServer,
    mirror_ftp_root: Path,
    mirror_tool: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    remote = make_tree(mirror_ftp_root, dirs=1, per_dir=1, size=2 << 20)
    local = tmp_path / "local"
    args = ["--continue", *mirror_login(mirror_server), remote.name, local]
    download = ftplib2.FTP.download

    def interrupted(self: ftplib2.FTP, *a: object, callback: Any = None, **kw: object) -> int:
        def stop(n: int) -> None:
            raise KeyboardInterrupt

        return download(self, *a, callback=stop, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(ftplib2.FTP, "download", interrupted)
    assert mirror_run(mirror_tool, *args).status == mirror_tool.EXIT_INTERRUPTED
    [part] = [p for p in (local / "d000").iterdir() if p.name.endswith("-part")]
    assert part.stat().st_size > 0  # the first version's bytes, recorded as resumable
    monkeypatch.undo()

    # The server's file changes; the next run must not record the new version's facts
    # beside the old version's bytes, which a kill would then leave for --continue.
    (remote / "d000" / "f000").write_bytes(os.urandom(2 << 20))
    os.utime(remote / "d000" / "f000", (2_000_000_000, 2_000_000_000))
    started = mirror_tool.Manifest.started
    held: list[int] = []

    def recording(self: object, rel: str, facts: str) -> None:
        held.append(part.stat().st_size if part.exists() else 0)
        started(self, rel, facts)

    monkeypatch.setattr(mirror_tool.Manifest, "started", recording)
    result = mirror_run(mirror_tool, *args)
    assert result.status == 0, result
    assert held and set(held) == {0}, held
    assert (local / "d000" / "f000").read_bytes() == (remote / "d000" / "f000").read_bytes()


def test_mirror_fails_instead_of_waiting_forever_when_no_connection_can_be_made(
    mirror_server: MirrorServer,
    mirror_ftp_root: Path,
    mirror_tool: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    remote = make_tree(mirror_ftp_root, dirs=1, per_dir=8, size=10)
    monkeypatch.setattr(mirror_tool, "QUEUE_LIMIT", 2)
    connect = mirror_tool.Mirror.connect
    opened: list[int] = []

    def once(self: object) -> ftplib2.FTP:
        if opened:
            raise ConnectionRefusedError(111, "Connection refused")
        opened.append(1)
        return connect(self)

    def broken(self: object, ftp: ftplib2.FTP, t: object, callback: object) -> bool:
        ftp.close()  # the connection breaks during the first transfer
        raise EOFError

    monkeypatch.setattr(mirror_tool.Mirror, "connect", once)
    monkeypatch.setattr(mirror_tool.Mirror, "_download", broken)
    results: list[Any] = []
    runner = threading.Thread(
        target=lambda: results.append(
            mirror_run(mirror_tool, *mirror_login(mirror_server), remote.name, tmp_path / "l")
        ),
        daemon=True,
    )
    runner.start()
    runner.join(30)
    assert not runner.is_alive(), "ftpmirror kept trying to connect"
    [result] = results
    assert result.status == 1
    assert "no connection to the server" in result.err


def test_mirror_killed_during_the_migration_migrates_again(
    mirror_server: MirrorServer,
    mirror_ftp_root: Path,
    mirror_tool: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    remote = make_tree(mirror_ftp_root, dirs=1, per_dir=2, size=100)
    local = tmp_path / "local"
    records = legacy_copy(mirror_server, remote, local)
    args = ["-v", "-v", *mirror_login(mirror_server), remote.name, local]

    def killed(db: object) -> None:  # the process dies while the records go in
        raise KeyboardInterrupt

    real_connect = mirror_tool.Manifest._connect

    def connect(self: object, *, create: bool, fill: Any = None) -> None:
        real_connect(self, create=create, fill=killed if fill is not None else None)

    monkeypatch.setattr(mirror_tool.Manifest, "_connect", connect)
    assert mirror_run(mirror_tool, *args).status == mirror_tool.EXIT_INTERRUPTED
    monkeypatch.undo()
    assert (local / MIRROR_LEGACY_MANIFEST).exists()

    result = mirror_run(mirror_tool, *args)
    assert result.status == 0, result
    assert result.summary["unchanged"] == 2 and result.summary["files"] == 0
    assert read_mirror_manifest(local)["files"] == records
