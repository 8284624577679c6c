"""What download(), upload() and open() write, where, and what they refuse before a transfer.

Against live pyftpdlib servers and the scripted hostile server, this proves that:

* download() keeps what it receives in a partial file of its own, and never truncates,
  continues or renames a file it did not create: not a user's ``NAME.part``, not a copy of one
  of its own partial files, not another user's file, not a symbolic link (issue 21, item 2);
* a size known for a download bounds what is written, spliced into a path or not: the first
  bytes past it abandon the transfer with error_proto (issue 21, item 3);
* upload() reads a pipe or a subprocess's output from where it stands (issue 21, item 11),
  refuses a text file before STOR, so the remote file is left as it was (issue 21, item 1),
  and sends nothing when resuming onto a remote file that is already whole;
* a download whose local file cannot be written raises that error, not one from its cleanup
  (issue 19, item 10);
* the documented details hold: text mode's newline translation, the *rest* that
  retrbinary() passes on, and when a download asks for SIZE.

Run only these tests with::

    python -m pytest -q -p no:cacheprovider tests/test_transfer_integrity.py
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

import ftplib2
from tests.servers import (
    HOSTILE_TIMEOUT,
    CallbackFailed,
    HostileControl,
    HostileServer,
    LiveServer,
    SpliceSpy,
    hostile_assert_in_step,
    hostile_serving,
    hostile_within,
    needs_splice,
    partial_downloads,
    plant_partial_download,
    verbs_of,
)

# --------------------------------------------------------------------------
# Partial files: only ftplib2's own are continued, truncated or renamed
# --------------------------------------------------------------------------


@pytest.mark.parametrize("resume", [False, True], ids=["fresh", "resume"])
def test_download_beside_a_users_part_file_leaves_it_alone(
    ftp: ftplib2.FTP, server: LiveServer, workdir: Path, tmp_path: Path, resume: bool
) -> None:
    """The issue's case: the server holds movie.mkv.part and movie.mkv; download both."""
    (workdir / "movie.mkv.part").write_bytes(b"A" * 400)
    (workdir / "movie.mkv").write_bytes(b"B" * 1000)
    assert ftp.download("movie.mkv.part", tmp_path / "movie.mkv.part", resume=resume) == 400
    assert ftp.download("movie.mkv", tmp_path / "movie.mkv", resume=resume) == 1000
    assert (tmp_path / "movie.mkv.part").read_bytes() == b"A" * 400
    assert (tmp_path / "movie.mkv").read_bytes() == b"B" * 1000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["movie.mkv", "movie.mkv.part"]
    assert "REST" not in verbs_of(server, ftp)


def interrupt_download(ftp: ftplib2.FTP, remote: str, target: Path) -> str:
    """Download until the first block has been written, then fail; return the partial's name."""

    def give_up(count: int) -> None:
        raise CallbackFailed("stopped after the first block")

    with pytest.raises(CallbackFailed):
        ftp.download(remote, target, callback=give_up, blocksize=1 << 16)
    assert not target.exists()
    [name] = partial_downloads(target.parent)
    return name


def test_interrupted_download_resumes_from_its_own_partial_file(
    ftp: ftplib2.FTP, server: LiveServer, workdir: Path, tmp_path: Path
) -> None:
    data = os.urandom(1 << 20)
    (workdir / "big.bin").write_bytes(data)
    target = tmp_path / "big.bin"
    part = tmp_path / interrupt_download(ftp, "big.bin", target)
    assert part.name == f".big.bin.{part.stat().st_ino}.ftplib2-part"  # as documented
    kept = part.stat().st_size
    assert 0 < kept < len(data)
    assert part.read_bytes() == data[:kept]
    assert ftp.download("big.bin", target, resume=True) == len(data)
    assert target.read_bytes() == data
    assert f"REST {kept}" in server.commands_of(ftp)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.bin"]


def test_download_without_resume_starts_its_own_partial_file_again_and_leaves_none(
    ftp: ftplib2.FTP, server: LiveServer, workdir: Path, tmp_path: Path
) -> None:
    data = os.urandom(1 << 20)
    (workdir / "big.bin").write_bytes(data)
    target = tmp_path / "big.bin"
    interrupt_download(ftp, "big.bin", target)
    assert ftp.download("big.bin", target) == len(data)
    assert target.read_bytes() == data
    assert "REST" not in verbs_of(server, ftp)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.bin"]


def test_download_does_not_continue_a_copy_of_its_partial_file(
    ftp: ftplib2.FTP, server: LiveServer, workdir: Path, tmp_path: Path
) -> None:
    """A partial file restored from a backup, or mirrored back from a server, under the very
    name download() gave it, is a file download() did not create: it is left as it is."""
    data = os.urandom(1 << 20)
    (workdir / "big.bin").write_bytes(data)
    target = tmp_path / "big.bin"
    name = interrupt_download(ftp, "big.bin", target)
    copy = tmp_path / "copy"
    shutil.copyfile(tmp_path / name, copy)
    os.replace(copy, tmp_path / name)
    copied = (tmp_path / name).read_bytes()
    for resume in (True, False):
        assert ftp.download("big.bin", target, resume=resume) == len(data)
        assert target.read_bytes() == data
        assert (tmp_path / name).read_bytes() == copied
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["big.bin", name])
    assert "REST" not in verbs_of(server, ftp)


@pytest.mark.parametrize("resume", [False, True], ids=["fresh", "resume"])
def test_download_does_not_write_through_a_link_named_like_its_partial_file(
    ftp: ftplib2.FTP, server: LiveServer, workdir: Path, tmp_path: Path, resume: bool
) -> None:
    (workdir / "movie.mkv").write_bytes(b"B" * 1000)
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"not yours")
    dest = tmp_path / "dest"
    dest.mkdir()
    scratch = dest / "link"
    scratch.symlink_to(outside)
    link = dest / f".movie.mkv.{os.lstat(scratch).st_ino}.ftplib2-part"
    scratch.rename(link)
    assert ftp.download("movie.mkv", dest / "movie.mkv", resume=resume) == 1000
    assert (dest / "movie.mkv").read_bytes() == b"B" * 1000
    assert outside.read_bytes() == b"not yours"
    assert link.is_symlink()
    assert "REST" not in verbs_of(server, ftp)


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="giving a file away needs root"
)
@pytest.mark.parametrize("resume", [False, True], ids=["fresh", "resume"])
def test_download_does_not_continue_a_partial_file_of_another_user(
    ftp: ftplib2.FTP, server: LiveServer, workdir: Path, tmp_path: Path, resume: bool
) -> None:
    """In a shared directory (/tmp), another user can plant a file named like a partial one."""
    (workdir / "movie.mkv").write_bytes(b"B" * 1000)
    planted = plant_partial_download(tmp_path / "movie.mkv", b"A" * 400)
    os.chown(planted, 4242, 4242)
    planted.chmod(0o666)
    assert ftp.download("movie.mkv", tmp_path / "movie.mkv", resume=resume) == 1000
    assert (tmp_path / "movie.mkv").read_bytes() == b"B" * 1000
    assert planted.read_bytes() == b"A" * 400
    assert "REST" not in verbs_of(server, ftp)


def test_download_of_a_name_at_the_length_limit_gets_a_partial_file_and_resumes(
    ftp: ftplib2.FTP, server: LiveServer, workdir: Path, tmp_path: Path
) -> None:
    """A partial file's name adds to the final one: a 255-byte name must still download."""
    name = "n" * 251 + ".bin"
    data = os.urandom(1 << 20)
    (workdir / name).write_bytes(data)
    target = tmp_path / name
    part = interrupt_download(ftp, name, target)
    assert len(os.fsencode(part)) <= 255
    kept = (tmp_path / part).stat().st_size
    assert ftp.download(name, target, resume=True) == len(data)
    assert target.read_bytes() == data
    assert f"REST {kept}" in server.commands_of(ftp)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


# --------------------------------------------------------------------------
# A known size bounds what a download writes
# --------------------------------------------------------------------------

FLOOD = 32 << 20
"""What the flooding server sends: far more than loopback socket buffers hold."""

KNOWN_SIZE = 1000


def flooding_server(
    start: Callable[[Callable[[HostileControl], object]], HostileServer],
    announce: bool,
    sent: list[int],
) -> HostileServer:
    """A server that says a file has KNOWN_SIZE bytes (SIZE, and the 150 if `announce`) and
    then streams FLOOD bytes of it; `sent` gets the count it managed to send."""

    def retr(ctl: HostileControl, argument: str) -> None:
        size = f" ({KNOWN_SIZE} bytes)" if announce else ""
        ctl.reply(f"150 Opening BINARY mode data connection{size}.")
        data = ctl.accept_data()
        chunk = b"F" * (1 << 16)
        try:
            while sent[0] < FLOOD:
                data.sendall(chunk)
                sent[0] += len(chunk)
        except OSError:  # the client has abandoned the transfer
            ctl.reply("426 Connection closed; transfer aborted.")
            return
        data.close()
        ctl.reply("226 Transfer complete.")

    size = f"213 {KNOWN_SIZE}" if not announce else "502 SIZE not implemented."
    return start(hostile_serving({"RETR": retr, "SIZE": size}))


OVERRUN_CASES = [
    pytest.param("path", "size", False, id="path-spliced-size-given", marks=needs_splice),
    pytest.param("path", "size", True, id="path-read-size-given"),
    pytest.param("path", "150", False, id="path-spliced-size-announced", marks=needs_splice),
    pytest.param("file-object", "size", False, id="file-object-size-given"),
    pytest.param("file-object", "150", False, id="file-object-size-announced"),
    pytest.param("retrbinary", "size", False, id="retrbinary-check-size-SIZE"),
    pytest.param("retrbinary", "150", False, id="retrbinary-check-size-announced"),
]


@pytest.mark.parametrize(("target", "known_from", "no_splice"), OVERRUN_CASES)
def test_download_stops_at_the_first_byte_past_a_known_size(
    hostile_server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    target: str,
    known_from: str,
    no_splice: bool,
) -> None:
    sent = [0]
    server = flooding_server(hostile_server, announce=known_from == "150", sent=sent)
    ftp = server.connect()
    if target == "path" and hasattr(os, "splice"):
        spy = SpliceSpy(monkeypatch, refuse_sockets=no_splice)
    size = KNOWN_SIZE if known_from == "size" else None
    written = io.BytesIO()
    delivered: list[bytes] = []
    with hostile_within(3 * HOSTILE_TIMEOUT), pytest.raises(ftplib2.error_proto):
        if target == "path":
            ftp.download("flood.bin", tmp_path / "flood.bin", size=size)
        elif target == "file-object":
            ftp.download("flood.bin", written, size=size)
        else:
            ftp.retrbinary("RETR flood.bin", delivered.append, check_size=True)
    assert sent[0] < FLOOD  # abandoned, not read to the end
    assert list(tmp_path.iterdir()) == []  # neither the file nor its partial one
    assert len(written.getvalue()) <= KNOWN_SIZE
    assert sum(map(len, delivered)) <= KNOWN_SIZE
    if target == "path" and hasattr(os, "splice"):
        assert spy.calls and bool(spy.refused) == no_splice
    hostile_assert_in_step(ftp, server)


def test_download_of_exactly_the_known_size_is_not_cut(
    hostile_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bound is the size itself: a file of exactly that size arrives whole."""

    def retr(ctl: HostileControl, argument: str) -> None:
        ctl.reply(f"150 Opening BINARY mode data connection ({KNOWN_SIZE} bytes).")
        data = ctl.accept_data()
        data.sendall(b"x" * (KNOWN_SIZE - 1))
        ctl.sleep(0.05)
        data.sendall(b"y")
        data.close()
        ctl.reply("226 Transfer complete.")

    server = hostile_server(hostile_serving({"RETR": retr}))
    ftp = server.connect()
    assert ftp.download("exact.bin", tmp_path / "exact.bin", size=KNOWN_SIZE) == KNOWN_SIZE
    assert (tmp_path / "exact.bin").read_bytes() == b"x" * (KNOWN_SIZE - 1) + b"y"
    assert ftp.download("exact.bin", io.BytesIO()) == KNOWN_SIZE  # bound by the 150's size
    hostile_assert_in_step(ftp, server)


# --------------------------------------------------------------------------
# upload(): non-seekable files, and files it cannot send
# --------------------------------------------------------------------------


def test_upload_sends_a_pipe_from_where_it_stands_to_its_end(
    ftp: ftplib2.FTP, workdir: Path
) -> None:
    data = os.urandom(300_000)  # more than a pipe holds: the writer runs alongside
    r, w = os.pipe()

    def write_all() -> None:
        with os.fdopen(w, "wb") as sink:
            sink.write(data)

    writer = threading.Thread(target=write_all)
    writer.start()
    try:
        with os.fdopen(r, "rb") as source:
            assert source.read(10) == data[:10]
            assert ftp.upload(source, "piped.bin") == len(data) - 10
    finally:
        writer.join()
    assert (workdir / "piped.bin").read_bytes() == data[10:]


def test_upload_sends_the_output_of_a_subprocess(ftp: ftplib2.FTP, workdir: Path) -> None:
    script = "import sys; sys.stdout.buffer.write(bytes(range(256)) * 2000)"
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE) as child:
        assert ftp.upload(child.stdout, "child.bin") == 512_000
    assert child.returncode == 0
    assert (workdir / "child.bin").read_bytes() == bytes(range(256)) * 2000


def test_upload_resume_from_a_pipe_raises_before_sending_anything(
    ftp: ftplib2.FTP, server: LiveServer
) -> None:
    r, w = os.pipe()
    os.close(w)
    before = server.commands_of(ftp)
    with os.fdopen(r, "rb") as source, pytest.raises(OSError):
        ftp.upload(source, "piped.bin", resume=True)
    assert server.commands_of(ftp) == before
    assert ftp.voidcmd("NOOP").code == "200"


@pytest.mark.parametrize("resume", [False, True], ids=["fresh", "resume"])
def test_upload_of_a_text_file_raises_type_error_before_touching_the_remote_file(
    ftp: ftplib2.FTP, server: LiveServer, workdir: Path, tmp_path: Path, resume: bool
) -> None:
    (workdir / "notes.txt").write_bytes(b"the server's notes\n")
    local = tmp_path / "notes.txt"
    local.write_text("my notes\n", encoding="utf-8")
    before = server.commands_of(ftp)
    with local.open(encoding="utf-8") as text, pytest.raises(TypeError, match="binary"):
        ftp.upload(text, "notes.txt", resume=resume)
    assert server.commands_of(ftp) == before
    assert (workdir / "notes.txt").read_bytes() == b"the server's notes\n"
    assert ftp.voidcmd("NOOP").code == "200"


def test_download_into_a_text_file_raises_type_error_before_retr(
    ftp: ftplib2.FTP, server: LiveServer, workdir: Path, tmp_path: Path
) -> None:
    (workdir / "notes.txt").write_bytes(b"the server's notes\n")
    before = server.commands_of(ftp)
    with (
        (tmp_path / "notes.txt").open("w", encoding="utf-8") as text,
        pytest.raises(TypeError, match="binary"),
    ):
        ftp.download("notes.txt", text)
    assert server.commands_of(ftp) == before
    assert ftp.voidcmd("NOOP").code == "200"


def test_upload_resume_onto_a_remote_file_that_is_already_whole_sends_no_data(
    ftp: ftplib2.FTP, server: LiveServer, workdir: Path
) -> None:
    data = os.urandom(50_000)
    (workdir / "whole.bin").write_bytes(data)
    assert ftp.upload(io.BytesIO(data), "whole.bin", resume=True) == len(data)
    assert (workdir / "whole.bin").read_bytes() == data
    verbs = verbs_of(server, ftp)
    assert "STOR" not in verbs and "APPE" not in verbs and "REST" not in verbs


# --------------------------------------------------------------------------
# Errors: the one that happened, not one from the cleanup
# --------------------------------------------------------------------------


@pytest.mark.skipif(not os.path.isdir("/sys/kernel"), reason="needs Linux's sysfs")
def test_download_into_a_directory_that_refuses_new_files_raises_that_error(
    ftp: ftplib2.FTP, server: LiveServer, workdir: Path
) -> None:
    """/sys refuses to create files, even for root: the issue's own case."""
    (workdir / "a.txt").write_bytes(b"a")
    with pytest.raises(PermissionError) as excinfo:
        ftp.download("a.txt", "/sys/a.txt")
    assert excinfo.value.__context__ is None
    assert "RETR" not in verbs_of(server, ftp)
    assert ftp.voidcmd("NOOP").code == "200"


def test_download_whose_directory_vanishes_raises_the_transfers_own_error(
    ftp: ftplib2.FTP, workdir: Path, tmp_path: Path
) -> None:
    (workdir / "big.bin").write_bytes(os.urandom(1 << 20))
    dest = tmp_path / "dest"
    dest.mkdir()

    def vanish(count: int) -> None:
        shutil.rmtree(dest)
        raise CallbackFailed("the directory is gone")

    with pytest.raises(CallbackFailed):
        ftp.download("big.bin", dest / "big.bin", callback=vanish, blocksize=1 << 16)
    assert ftp.voidcmd("NOOP").code == "200"


# --------------------------------------------------------------------------
# The documented details
# --------------------------------------------------------------------------


def test_open_text_mode_reads_with_universal_newlines_like_a_local_text_file(
    ftp: ftplib2.FTP, workdir: Path
) -> None:
    (workdir / "mixed.txt").write_bytes(b"one\r\ntwo\rthree\nfour")
    with ftp.open("mixed.txt", "r", encoding="utf-8") as text:
        assert list(text) == ["one\n", "two\n", "three\n", "four"]
    # The binary stream has the bytes as the server sent them, for a wrapper of one's own.
    with io.TextIOWrapper(ftp.open("mixed.txt", "rb"), encoding="utf-8", newline="") as text:
        assert text.read() == "one\r\ntwo\rthree\nfour"
    with ftp.open("written.txt", "w", encoding="utf-8") as text:
        text.write("a\nb\n")
    assert (workdir / "written.txt").read_bytes() == f"a{os.linesep}b{os.linesep}".encode()


def test_retrbinary_sends_a_non_numeric_rest_as_given_like_ftplib(
    ftp: ftplib2.FTP, server: LiveServer, workdir: Path
) -> None:
    (workdir / "blob.bin").write_bytes(b"x" * 100)
    with pytest.raises(ftplib2.error_perm):
        ftp.retrbinary("RETR blob.bin", lambda block: None, rest="abc")
    assert "REST abc" in server.commands_of(ftp)
    assert ftp.voidcmd("NOOP").code == "200"
    # With check_size, the offset is added to the byte count, so it must be a number.
    before = server.commands_of(ftp)
    with pytest.raises(ValueError):
        ftp.retrbinary("RETR blob.bin", lambda block: None, rest="abc", check_size=True)
    assert not [c for c in server.commands_of(ftp)[len(before) :] if c.startswith("RE")]
    assert ftp.voidcmd("NOOP").code == "200"


def test_download_asks_for_size_with_the_passive_command_when_the_150_announces_none(
    ftp: ftplib2.FTP, server: LiveServer, workdir: Path, tmp_path: Path
) -> None:
    (workdir / "blob.bin").write_bytes(b"x" * 1000)
    assert ftp.download("blob.bin", tmp_path / "blob.bin") == 1000
    commands = server.commands_of(ftp)
    # In one write with PASV (tests/test_round_trips.py): no round trip of its own.
    assert commands.index("SIZE blob.bin") + 1 == commands.index("PASV")
    assert commands.index("PASV") + 1 == commands.index("RETR blob.bin")
    assert ftp.download("blob.bin", tmp_path / "blob.bin", size=1000) == 1000
    assert server.commands_of(ftp).count("SIZE blob.bin") == 1  # not with a size given
    before = len(server.commands_of(ftp))
    assert ftp.download("blob.bin", tmp_path / "blob.bin", resume=True) == 1000
    resumed = server.commands_of(ftp)[before:]
    assert resumed[0] == "SIZE blob.bin" and resumed[-1] == "RETR blob.bin"  # resuming: first
