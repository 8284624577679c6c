"""ftplib2's extensions beyond ftplib, against live pyftpdlib servers: capabilities from FEAT,
the listing parsers (MLSD, LIST in its Unix, DOS and EPLF forms), typed listings with
scandir(), the path helpers (listdir, stat, exists, walk, makedirs, rmtree, times, rename),
pipelined transfer commands, whole-file download() and upload() (resumed, spliced), open()
streams, the choice of data connection (EPSV, PASV, active), FTP_TLS.secure(), and errors and
replies as objects.

Run only these tests:

    python -m pytest tests/test_extensions.py
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import io
import os
import re
import shutil
import socket
import ssl
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler

import ftplib2
from tests.servers import (
    BIG_FILE,
    BIG_FILE_SIZE,
    NON_ASCII_NAME,
    PASSWORD,
    TIMEOUT,
    USER,
    LiveServer,
    SpliceSpy,
    fetch_each_pipelined,
    needs_splice,
    open_session,
    partial_downloads,
    plant_partial_download,
    proto_cmds_without,
    raw_reply,
    recv_all,
    running_server,
    sha256_of_file,
    spy_on_sends,
    still_open,
    track_sockets,
    verbs_of,
)


def utc(*args: int) -> datetime.datetime:
    """An aware UTC datetime: what ftplib2 returns for every time it parses."""
    return datetime.datetime(*args, tzinfo=datetime.UTC)


def canned_listing(lines: list[str]) -> Callable[[FTPHandler, str], None]:
    """A handler method that answers a listing command with exactly `lines`, whatever the path."""
    payload = "".join(line + "\r\n" for line in lines).encode("utf-8")

    def send(handler: FTPHandler, path: str) -> None:
        handler.push_dtp_data(payload, cmd="LIST")

    return send


@pytest.fixture(scope="session")
def no_rest_server(ftp_root: Path, authorizer: DummyAuthorizer) -> Iterator[LiveServer]:
    """A server without REST: FEAT lists no REST STREAM and the command itself gets a 500."""
    with running_server(
        ("127.0.0.1", 0), ftp_root, authorizer, proto_cmds=proto_cmds_without("REST")
    ) as live:
        yield live


@pytest.fixture(scope="session")
def raw_names_server(ftp_root: Path, authorizer: DummyAuthorizer) -> Iterator[LiveServer]:
    """A server that passes file names through as bytes, valid UTF-8 or not, as Unix servers do."""
    with running_server(
        ("127.0.0.1", 0), ftp_root, authorizer, unicode_errors="surrogateescape"
    ) as live:
        yield live


# --------------------------------------------------------------------------
# Capabilities: FEAT
# --------------------------------------------------------------------------


def test_features_sends_feat_once_per_login_and_again_after_a_new_login(
    ftp: ftplib2.FTP, server: LiveServer
) -> None:
    first = ftp.features()
    assert ftp.features() == first
    assert ftp.features() == first
    assert ftp.has_feature("MLST")
    assert verbs_of(server, ftp).count("FEAT") == 1
    ftp.login(USER, PASSWORD)
    assert ftp.features() == first
    assert ftp.features() == first
    assert verbs_of(server, ftp).count("FEAT") == 2


def test_features_parses_feature_names_and_their_parameters(ftp: ftplib2.FTP) -> None:
    features = ftp.features()
    assert features["REST"] == "STREAM"
    assert {"type*", "size*", "modify*", "perm*", "unique*"} <= set(features["MLST"].split(";"))
    assert features["UTF8"] == ""
    assert features["MFMT"] == ""
    assert all(name == name.upper() and " " not in name for name in features)


@pytest.mark.parametrize("name", ["MLST", "mlst", "Mlst", "rest", "Utf8"])
def test_has_feature_ignores_case(ftp: ftplib2.FTP, name: str) -> None:
    assert ftp.has_feature(name)


def test_has_feature_is_false_for_a_feature_the_server_does_not_list(ftp: ftplib2.FTP) -> None:
    assert not ftp.has_feature("XYZZY")
    assert not ftp.has_feature("")


def test_features_reads_any_case_and_keeps_parameters_as_sent(
    ftp_root: Path, authorizer: DummyAuthorizer, workdir: Path
) -> None:
    def ftp_FEAT(handler: FTPHandler, line: str) -> None:
        handler.push("211-Extensions supported:\r\n mdtm\r\n Mlst Type*;Size*;\r\n")
        handler.push(" rest STREAM\r\n LANG EN*;FR\r\n")
        handler.respond("211 END")

    with (
        running_server(("127.0.0.1", 0), ftp_root, authorizer, ftp_FEAT=ftp_FEAT) as live,
        open_session(live, workdir) as ftp,
    ):
        assert ftp.features() == {
            "MDTM": "",
            "MLST": "Type*;Size*;",
            "REST": "STREAM",
            "LANG": "EN*;FR",
        }
        assert ftp.has_feature("Mdtm")
        assert not ftp.has_feature("UTF8")
        assert "OPTS" not in verbs_of(live, ftp)


def test_features_sends_opts_utf8_on_once_when_the_server_offers_utf8(
    ftp: ftplib2.FTP, server: LiveServer
) -> None:
    for _ in range(3):
        assert "UTF8" in ftp.features()
    assert server.commands_of(ftp).count("OPTS UTF8 ON") == 1


def test_features_sends_no_opts_utf8_when_the_connection_is_not_utf8(
    server: LiveServer, workdir: Path
) -> None:
    with open_session(server, workdir, encoding="latin-1") as ftp:
        assert "UTF8" in ftp.features()
        assert "OPTS" not in verbs_of(server, ftp)


def test_features_of_a_server_without_feat_is_empty_and_asked_only_once(
    no_feat_server: LiveServer, workdir: Path
) -> None:
    with open_session(no_feat_server, workdir) as ftp:
        assert ftp.features() == {}
        assert ftp.features() == {}
        assert not ftp.has_feature("MLST")
        assert verbs_of(no_feat_server, ftp).count("FEAT") == 1
        assert ftp.voidcmd("NOOP").code == "200"


def test_scandir_on_a_server_without_feat_falls_back_to_list(
    no_feat_server: LiveServer, workdir: Path
) -> None:
    (workdir / "a.txt").write_bytes(b"hello")
    with open_session(no_feat_server, workdir) as ftp:
        entries = ftp.scandir()
        verbs = verbs_of(no_feat_server, ftp)
    assert [(e.name, e.type, e.size) for e in entries] == [("a.txt", "file", 5)]
    assert "LIST" in verbs
    assert "MLSD" not in verbs


# --------------------------------------------------------------------------
# Listing parsers, without sockets
# --------------------------------------------------------------------------

LISTING_NOW = utc(2024, 6, 15, 12, 0)
"""The `now` the LIST parser tests place year-less Unix dates against."""

UNIX_LIST_LINES = [
    pytest.param(
        "-rw-r--r--   1 owner    group        1234 Mar  5 14:07 notes.txt",
        ftplib2.Entry("notes.txt", "file", 1234, utc(2024, 3, 5, 14, 7), "rw-r--r--"),
        id="recent-date-takes-the-year-of-now",
    ),
    pytest.param(
        "-rw-r--r--   1 owner    group        1234 Jun 15 11:59 notes.txt",
        ftplib2.Entry("notes.txt", "file", 1234, utc(2024, 6, 15, 11, 59), "rw-r--r--"),
        id="a-minute-ago-is-this-year",
    ),
    pytest.param(
        "-rw-r--r--   1 owner    group        1234 Nov 20 09:30 notes.txt",
        ftplib2.Entry("notes.txt", "file", 1234, utc(2023, 11, 20, 9, 30), "rw-r--r--"),
        id="future-date-means-last-year",
    ),
    pytest.param(
        "drwxr-xr-x   2 owner    group        4096 Jan 15  2019 archive",
        ftplib2.Entry("archive", "dir", 4096, utc(2019, 1, 15), "rwxr-xr-x"),
        id="old-date-with-year",
    ),
    pytest.param(
        "-rw-r--r--   1 owner    group           5 Mar  5 14:07   two leading spaces",
        ftplib2.Entry("  two leading spaces", "file", 5, utc(2024, 3, 5, 14, 7), "rw-r--r--"),
        id="name-with-leading-spaces",
    ),
    pytest.param(
        "-rw-r--r--   1 owner    group           5 Mar  5 14:07 trailing spaces  ",
        ftplib2.Entry("trailing spaces  ", "file", 5, utc(2024, 3, 5, 14, 7), "rw-r--r--"),
        id="name-with-trailing-spaces",
    ),
    pytest.param(
        "-rw-r--r--   1 owner    group           5 Jan 15  2019 a   b  c",
        ftplib2.Entry("a   b  c", "file", 5, utc(2019, 1, 15), "rw-r--r--"),
        id="name-with-runs-of-spaces",
    ),
    pytest.param(
        "lrwxrwxrwx   1 owner    group           1 Mar  5 14:07 a -> b",
        ftplib2.Entry("a", "link", 1, utc(2024, 3, 5, 14, 7), "rwxrwxrwx", target="b"),
        id="symlink-with-target",
    ),
    pytest.param(
        "lrwxrwxrwx   1 owner    group          10 Mar  5 14:07 my link -> target dir",
        ftplib2.Entry(
            "my link", "link", 10, utc(2024, 3, 5, 14, 7), "rwxrwxrwx", target="target dir"
        ),
        id="symlink-names-with-spaces",
    ),
    pytest.param(
        "crw-rw-rw- 1 root root 1, 3 Jan 1 12:00 null",
        ftplib2.Entry("null", "other", None, utc(2024, 1, 1, 12, 0), "rw-rw-rw-"),
        id="device-file-has-no-size",
    ),
    pytest.param(
        "-rw-r--r-- 1 ftp 1234 Mar 5 14:07 file.txt",
        ftplib2.Entry("file.txt", "file", 1234, utc(2024, 3, 5, 14, 7), "rw-r--r--"),
        id="no-group-column",
    ),
    pytest.param(
        "drwxrwxrwx 0 user group 0 Jan 01 1970 name",
        ftplib2.Entry("name", "dir", 0, utc(1970, 1, 1), "rwxrwxrwx"),
        id="twisted-dtp",
    ),
    pytest.param(
        "-rw-r--r--   1 1000     1000         1234 Mar  5 14:07 notes.txt",
        ftplib2.Entry("notes.txt", "file", 1234, utc(2024, 3, 5, 14, 7), "rw-r--r--"),
        id="numeric-owner-and-group",
    ),
    pytest.param(
        "-rw-r--r--   1 owner    group        1234 Mar  5 14:07 Jan  1 12:00 old",
        ftplib2.Entry("Jan  1 12:00 old", "file", 1234, utc(2024, 3, 5, 14, 7), "rw-r--r--"),
        id="name-that-looks-like-a-date",
    ),
    pytest.param(
        "-rw-r--r--@  1 owner  staff  1234 Mar  5 14:07 mac.txt",
        ftplib2.Entry("mac.txt", "file", 1234, utc(2024, 3, 5, 14, 7), "rw-r--r--"),
        id="macos-extended-attributes-marker",
    ),
    pytest.param(
        "drwxr-xr-x+  2 owner  group  4096 Mar  5 14:07 acl",
        ftplib2.Entry("acl", "dir", 4096, utc(2024, 3, 5, 14, 7), "rwxr-xr-x"),
        id="acl-marker",
    ),
]

DOS_LIST_LINES = [
    pytest.param(
        "11-10-23  03:15PM       <DIR>          dir name",
        ftplib2.Entry("dir name", "dir", None, utc(2023, 11, 10, 15, 15)),
        id="directory-two-digit-year",
    ),
    pytest.param(
        "01-02-2024  11:05AM   1234 file.txt",
        ftplib2.Entry("file.txt", "file", 1234, utc(2024, 1, 2, 11, 5)),
        id="file-four-digit-year",
    ),
    pytest.param(
        "01-02-2024  12:30AM   1 after midnight.txt",
        ftplib2.Entry("after midnight.txt", "file", 1, utc(2024, 1, 2, 0, 30)),
        id="12AM-is-midnight",
    ),
    pytest.param(
        "01-02-2024  12:30PM   1 after noon.txt",
        ftplib2.Entry("after noon.txt", "file", 1, utc(2024, 1, 2, 12, 30)),
        id="12PM-is-noon",
    ),
]

EPLF_LIST_LINES = [
    pytest.param(
        "+i8388621.48594,m825718503,r,s280,\tdjb.html",
        ftplib2.Entry("djb.html", "file", 280, utc(1996, 3, 1, 22, 15, 3), unique="8388621.48594"),
        id="file",
    ),
    pytest.param(
        "+i8388621.50690,m824255907,/,\t514",
        ftplib2.Entry("514", "dir", None, utc(1996, 2, 13, 23, 58, 27), unique="8388621.50690"),
        id="directory",
    ),
]


@pytest.mark.parametrize(("line", "entry"), UNIX_LIST_LINES)
def test_parse_list_line_reads_unix_ls_lines(line: str, entry: ftplib2.Entry) -> None:
    parsed = ftplib2.parse_list_line(line, now=LISTING_NOW)
    assert parsed == entry
    assert parsed.raw == line


@pytest.mark.parametrize(("line", "entry"), DOS_LIST_LINES)
def test_parse_list_line_reads_ms_dos_and_iis_lines(line: str, entry: ftplib2.Entry) -> None:
    assert ftplib2.parse_list_line(line, now=LISTING_NOW) == entry


@pytest.mark.parametrize(("line", "entry"), EPLF_LIST_LINES)
def test_parse_list_line_reads_eplf_lines(line: str, entry: ftplib2.Entry) -> None:
    assert ftplib2.parse_list_line(line, now=LISTING_NOW) == entry


@pytest.mark.parametrize("line", ["total 42", "", "   "])
def test_parse_list_line_returns_none_for_lines_that_describe_no_entry(line: str) -> None:
    assert ftplib2.parse_list_line(line, now=LISTING_NOW) is None


@pytest.mark.parametrize(
    "line", ["this is not a listing line", "-rw-r--r-- 1 owner group lots Mar 5 14:07 x"]
)
def test_parse_list_line_raises_error_proto_naming_an_unrecognised_line(line: str) -> None:
    with pytest.raises(ftplib2.error_proto, match=re.escape(repr(line))):
        ftplib2.parse_list_line(line, now=LISTING_NOW)


MLSX_LINES = [
    pytest.param(
        "type=file;size=1024;modify=20240102030405;perm=adfrw;unique=801U5; report.pdf",
        ftplib2.Entry(
            "report.pdf", "file", 1024, utc(2024, 1, 2, 3, 4, 5), "adfrw", unique="801U5"
        ),
        id="all-common-facts",
    ),
    pytest.param(
        "type=file;perm=r;size=1024 report.pdf",
        ftplib2.Entry("report.pdf", "file", 1024, perm="r"),
        id="last-fact-kept-without-trailing-semicolon",
    ),
    pytest.param(
        "Type=File;SIZE=7;Modify=20240102030405; MixedCase.txt",
        ftplib2.Entry("MixedCase.txt", "file", 7, utc(2024, 1, 2, 3, 4, 5)),
        id="fact-names-and-type-ignore-case",
    ),
    pytest.param("type=cdir;perm=el; .", ftplib2.Entry(".", "dir", perm="el"), id="cdir-is-a-dir"),
    pytest.param("type=pdir; ..", ftplib2.Entry("..", "dir"), id="pdir-is-a-dir"),
    pytest.param("type=dir;sizd=4096; sub", ftplib2.Entry("sub", "dir", 4096), id="dir-sizd"),
    pytest.param(
        "type=OS.unix=slink:/srv/real;size=9; shortcut",
        ftplib2.Entry("shortcut", "link", 9, target="/srv/real"),
        id="unix-slink-with-target",
    ),
    pytest.param(
        "type=file;modify=20240102030405.25; precise",
        ftplib2.Entry("precise", "file", modify=utc(2024, 1, 2, 3, 4, 5, 250_000)),
        id="modify-with-fractional-seconds",
    ),
    pytest.param(
        "type=file;size=1;  two spaces  inside and after  ",
        ftplib2.Entry(" two spaces  inside and after  ", "file", 1),
        id="name-keeps-its-spaces",
    ),
    pytest.param(
        "type=OS.unix=chr-1/3; null", ftplib2.Entry("null", "other"), id="unknown-type-is-other"
    ),
]


@pytest.mark.parametrize(("line", "entry"), MLSX_LINES)
def test_parse_mlsx_line_reads_facts_and_name(line: str, entry: ftplib2.Entry) -> None:
    parsed = ftplib2.parse_mlsx_line(line)
    assert parsed == entry
    assert parsed.raw == line


def test_parse_mlsx_line_lower_cases_fact_names_but_keeps_their_values() -> None:
    entry = ftplib2.parse_mlsx_line("Type=File;UNIX.mode=0644;Unique=AbC; x")
    assert entry.facts == {"type": "File", "unix.mode": "0644", "unique": "AbC"}
    assert entry.unique == "AbC"


def test_parse_mlsx_line_times_are_aware_utc_datetimes() -> None:
    modify = ftplib2.parse_mlsx_line("type=file;modify=20240102030405.5; x").modify
    assert modify is not None
    assert modify.utcoffset() == datetime.timedelta(0)
    assert modify.timestamp() == utc(2024, 1, 2, 3, 4, 5).timestamp() + 0.5


@pytest.mark.parametrize(
    "modify",
    ["20240101240000", "20240230000000", "20241301000000", "20240101006000", "2024010100000x",
     "202401010000", "20240101000000.x", "２０２４0101000000"],
)  # fmt: skip
def test_parse_mlsx_line_impossible_times_are_none(modify: str) -> None:
    """Hour 24 too: RFC 3659 allows 00-23, though newer Pythons' fromisoformat take 24."""
    assert ftplib2.parse_mlsx_line(f"type=file;modify={modify}; x").modify is None


def test_parse_mlsx_line_without_a_name_separator_raises_error_proto() -> None:
    with pytest.raises(ftplib2.error_proto, match="type=file;size=1;"):
        ftplib2.parse_mlsx_line("type=file;size=1;")


def test_mlsd_keeps_the_last_fact_when_the_server_omits_the_trailing_semicolon(
    ftp_root: Path, authorizer: DummyAuthorizer, workdir: Path
) -> None:
    listing = canned_listing(["type=file;size=5 a.txt", "type=dir;Modify=20240102030405 sub"])
    with (
        running_server(("127.0.0.1", 0), ftp_root, authorizer, ftp_MLSD=listing) as live,
        open_session(live, workdir) as ftp,
    ):
        assert dict(ftp.mlsd()) == {
            "a.txt": {"type": "file", "size": "5"},
            "sub": {"type": "dir", "modify": "20240102030405"},
        }
        assert ftp.voidcmd("NOOP").code == "200"


# --------------------------------------------------------------------------
# scandir: typed listings over MLSD or LIST
# --------------------------------------------------------------------------


@pytest.fixture(params=["mlsd", "list"])
def listing_ftp(request: pytest.FixtureRequest, workdir: Path) -> Iterator[ftplib2.FTP]:
    """Like `ftp`, on the usual server (MLST, MLSD) then on one without FEAT (LIST)."""
    server = request.getfixturevalue("server" if request.param == "mlsd" else "no_feat_server")
    client = open_session(server, workdir)
    yield client
    client.close()


def make_listing_tree(workdir: Path) -> dict[str, tuple[str, int | None]]:
    """Fill `workdir` with odd names; return what scandir should report: name -> (type, size)."""
    (workdir / "a.txt").write_bytes(b"hello")
    (workdir / "sub").mkdir()
    (workdir / "sub" / "inner.txt").write_bytes(b"inside")
    (workdir / NON_ASCII_NAME).write_bytes(b"non-ascii")
    (workdir / "name with  spaces.txt").write_bytes(b"spaced out")
    return {
        "a.txt": ("file", 5),
        "sub": ("dir", None),
        NON_ASCII_NAME: ("file", 9),
        "name with  spaces.txt": ("file", 10),
    }


def test_scandir_over_mlsd_and_over_list_report_the_same_names_types_and_sizes(
    server: LiveServer, no_feat_server: LiveServer, workdir: Path
) -> None:
    expected = make_listing_tree(workdir)
    seen = {}
    for kind, live in (("MLSD", server), ("LIST", no_feat_server)):
        with open_session(live, workdir) as ftp:
            seen[kind] = {
                e.name: (e.type, e.size if e.type == "file" else None) for e in ftp.scandir()
            }
            assert kind in verbs_of(live, ftp)
    assert seen["MLSD"] == expected
    assert seen["LIST"] == expected


def test_scandir_entries_carry_modification_times_and_permissions(
    listing_ftp: ftplib2.FTP, workdir: Path
) -> None:
    when = datetime.datetime.now(datetime.UTC).replace(second=0, microsecond=0)
    when -= datetime.timedelta(hours=1)
    (workdir / "a.txt").write_bytes(b"hello")
    os.utime(workdir / "a.txt", (when.timestamp(), when.timestamp()))
    [entry] = listing_ftp.scandir()
    assert entry.modify == when
    assert entry.perm


@pytest.mark.parametrize(
    ("lister", "canned"),
    [
        pytest.param(
            "ftp_MLSD",
            [
                "type=cdir;modify=20240101000000; .",
                "type=pdir;modify=20240101000000; ..",
                "type=cdir;modify=20240101000000; /the/listed/dir",
                "type=file;size=3;modify=20240101000000; a.txt",
                "type=dir;modify=20240101000000; sub",
            ],
            id="mlsd",
        ),
        pytest.param(
            "ftp_LIST",
            [
                "total 8",
                "drwxr-xr-x 2 u g 4096 Jan 01  2024 .",
                "drwxr-xr-x 9 u g 4096 Jan 01  2024 ..",
                "-rw-r--r-- 1 u g    3 Jan 01  2024 a.txt",
                "drwxr-xr-x 2 u g 4096 Jan 01  2024 sub",
            ],
            id="list",
        ),
    ],
)
def test_scandir_never_returns_dot_or_dot_dot(
    ftp_root: Path, authorizer: DummyAuthorizer, workdir: Path, lister: str, canned: list[str]
) -> None:
    attributes: dict[str, object] = {lister: canned_listing(canned)}
    if lister == "ftp_LIST":
        attributes["proto_cmds"] = proto_cmds_without("FEAT")
    with (
        running_server(("127.0.0.1", 0), ftp_root, authorizer, **attributes) as live,
        open_session(live, workdir) as ftp,
    ):
        assert sorted((e.name, e.type) for e in ftp.scandir()) == [
            ("a.txt", "file"),
            ("sub", "dir"),
        ]
        assert sorted(ftp.listdir()) == ["a.txt", "sub"]


def test_surrogateescape_lists_a_non_utf8_name_and_downloads_it_by_that_name(
    raw_names_server: LiveServer, workdir: Path
) -> None:
    with open(os.path.join(os.fsencode(workdir), b"caf\xe9.txt"), "wb") as f:
        f.write(b"named in latin-1")
    with open_session(raw_names_server, workdir, errors="surrogateescape") as ftp:
        names = ftp.listdir()
        assert names == ["caf\udce9.txt"]
        received = io.BytesIO()
        assert ftp.download(names[0], received) == len(b"named in latin-1")
        assert received.getvalue() == b"named in latin-1"


def test_strict_errors_on_a_non_utf8_name_raise_an_error_proto_unicode_error_and_stay_in_step(
    raw_names_server: LiveServer, workdir: Path
) -> None:
    with open(os.path.join(os.fsencode(workdir), b"caf\xe9.txt"), "wb") as f:
        f.write(b"named in latin-1")
    with open_session(raw_names_server, workdir) as ftp:
        with pytest.raises(ftplib2.error_proto) as excinfo:
            ftp.listdir()
        assert isinstance(excinfo.value, UnicodeDecodeError)
        assert b"caf\xe9.txt" in excinfo.value.object
        assert ftp.voidcmd("NOOP").code == "200"
        assert ftp.pwd() == f"/{workdir.name}"


# --------------------------------------------------------------------------
# Path helpers: listdir, stat, exists, walk, makedirs, rmtree, times, rename
# --------------------------------------------------------------------------


def test_listdir_returns_the_names_of_a_directory(listing_ftp: ftplib2.FTP, workdir: Path) -> None:
    expected = make_listing_tree(workdir)
    assert sorted(listing_ftp.listdir()) == sorted(expected)
    assert listing_ftp.listdir("sub") == ["inner.txt"]


def test_stat_describes_a_file_and_a_directory(listing_ftp: ftplib2.FTP, workdir: Path) -> None:
    make_listing_tree(workdir)
    when = datetime.datetime.now(datetime.UTC).replace(second=0, microsecond=0)
    when -= datetime.timedelta(days=1)
    os.utime(workdir / "a.txt", (when.timestamp(), when.timestamp()))
    entry = listing_ftp.stat("a.txt")
    assert (entry.name, entry.type, entry.size, entry.modify) == ("a.txt", "file", 5, when)
    assert listing_ftp.stat("sub").type == "dir"
    assert listing_ftp.stat("sub").name == "sub"
    inner = listing_ftp.stat("sub/inner.txt")
    assert (inner.name, inner.type, inner.size) == ("inner.txt", "file", 6)
    spaced = listing_ftp.stat("name with  spaces.txt")
    assert (spaced.name, spaced.size) == ("name with  spaces.txt", 10)


@pytest.mark.parametrize("path", ["missing.txt", "sub/missing.txt", "nodir/missing.txt"])
def test_stat_of_a_missing_path_raises_error_perm_with_550(
    listing_ftp: ftplib2.FTP, workdir: Path, path: str
) -> None:
    (workdir / "sub").mkdir()
    with pytest.raises(ftplib2.error_perm) as excinfo:
        listing_ftp.stat(path)
    assert excinfo.value.code == "550"
    assert listing_ftp.voidcmd("NOOP").code == "200"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param("a.txt", (True, False, True), id="file"),
        pytest.param("sub", (True, True, False), id="directory"),
        pytest.param("missing", (False, False, False), id="missing"),
        pytest.param("sub/inner.txt", (True, False, True), id="file-in-subdirectory"),
    ],
)
def test_exists_isdir_and_isfile_tell_what_a_path_is(
    listing_ftp: ftplib2.FTP, workdir: Path, path: str, expected: tuple[bool, bool, bool]
) -> None:
    make_listing_tree(workdir)
    assert (listing_ftp.exists(path), listing_ftp.isdir(path), listing_ftp.isfile(path)) == expected


@pytest.mark.parametrize("path", ["/", ".", "..", "/WORKDIR", "/WORKDIR/sub"])
def test_isdir_is_true_for_the_root_the_working_directory_and_its_parent(
    listing_ftp: ftplib2.FTP, workdir: Path, path: str
) -> None:
    (workdir / "sub").mkdir()
    path = path.replace("WORKDIR", workdir.name)
    listing_ftp.cwd("sub")
    assert listing_ftp.exists(path)
    assert listing_ftp.isdir(path)
    assert not listing_ftp.isfile(path)


def test_makedirs_creates_a_new_top_level_directory_by_absolute_path(
    listing_ftp: ftplib2.FTP, ftp_root: Path, workdir: Path
) -> None:
    top = f"{workdir.name}-top"
    try:
        listing_ftp.makedirs(f"/{top}/a/b")
        assert (ftp_root / top / "a" / "b").is_dir()
    finally:
        shutil.rmtree(ftp_root / top, ignore_errors=True)


def make_walk_tree(top: Path) -> None:
    """top/{a.txt, d1/{b.txt, d11/{c.txt}}, d2/{e.txt}, empty/}."""
    (top / "d1" / "d11").mkdir(parents=True)
    (top / "d2").mkdir()
    (top / "empty").mkdir()
    (top / "a.txt").write_bytes(b"a")
    (top / "d1" / "b.txt").write_bytes(b"b")
    (top / "d1" / "d11" / "c.txt").write_bytes(b"c")
    (top / "d2" / "e.txt").write_bytes(b"e")


def test_walk_visits_the_tree_top_down(ftp: ftplib2.FTP, workdir: Path) -> None:
    make_walk_tree(workdir / "tree")
    visited = [
        (dirpath, sorted(dirnames), sorted(filenames))
        for dirpath, dirnames, filenames in ftp.walk("tree")
    ]
    assert sorted(visited) == [
        ("tree", ["d1", "d2", "empty"], ["a.txt"]),
        ("tree/d1", ["d11"], ["b.txt"]),
        ("tree/d1/d11", [], ["c.txt"]),
        ("tree/d2", [], ["e.txt"]),
        ("tree/empty", [], []),
    ]
    order = [dirpath for dirpath, _, _ in visited]
    assert order[0] == "tree"
    assert order.index("tree/d1") < order.index("tree/d1/d11")


def test_walk_without_a_top_starts_at_the_working_directory(
    ftp: ftplib2.FTP, workdir: Path
) -> None:
    make_walk_tree(workdir)
    first = next(iter(ftp.walk()))
    assert first[0] == f"/{workdir.name}"
    assert sorted(first[1]) == ["d1", "d2", "empty"]


def test_walk_does_not_descend_into_dirnames_removed_in_place(
    ftp: ftplib2.FTP, server: LiveServer, workdir: Path
) -> None:
    make_walk_tree(workdir / "tree")
    visited = []
    for dirpath, dirnames, _ in ftp.walk("tree"):
        visited.append(dirpath)
        if "d1" in dirnames:
            dirnames.remove("d1")
    assert sorted(visited) == ["tree", "tree/d2", "tree/empty"]
    assert not any("tree/d1" in line for line in server.commands_of(ftp))


def test_makedirs_creates_missing_parents(ftp: ftplib2.FTP, workdir: Path) -> None:
    (workdir / "a").mkdir()
    assert ftp.makedirs("a/b/c/d") is None
    assert (workdir / "a" / "b" / "c" / "d").is_dir()
    assert ftp.isdir("a/b/c/d")


def test_makedirs_of_an_existing_directory_passes_with_exist_ok_and_raises_error_perm_without(
    ftp: ftplib2.FTP, workdir: Path
) -> None:
    (workdir / "a" / "b").mkdir(parents=True)
    ftp.makedirs("a/b", exist_ok=True)
    with pytest.raises(ftplib2.error_perm) as excinfo:
        ftp.makedirs("a/b")
    assert excinfo.value.code == "550"
    with pytest.raises(ftplib2.error_perm):
        ftp.makedirs("a/b", exist_ok=False)
    assert sorted(p.name for p in (workdir / "a").iterdir()) == ["b"]


def test_remove_deletes_a_file(ftp: ftplib2.FTP, workdir: Path) -> None:
    (workdir / "doomed.txt").write_bytes(b"x")
    assert ftp.remove("doomed.txt").code == "250"
    assert not (workdir / "doomed.txt").exists()
    with pytest.raises(ftplib2.error_perm):
        ftp.remove("doomed.txt")


def test_rmtree_removes_a_nested_tree(ftp: ftplib2.FTP, workdir: Path) -> None:
    make_walk_tree(workdir / "tree")
    (workdir / "tree" / "d2" / "more").mkdir()
    make_listing_tree(workdir / "tree" / "d2" / "more")
    (workdir / "keep.txt").write_bytes(b"keep")
    assert ftp.rmtree("tree") is None
    assert sorted(p.name for p in workdir.iterdir()) == ["keep.txt"]


@pytest.mark.parametrize("path", ["", "/", "//"])
def test_rmtree_of_the_root_or_an_empty_path_raises_value_error_and_sends_nothing(
    ftp: ftplib2.FTP, server: LiveServer, workdir: Path, path: str
) -> None:
    (workdir / "keep.txt").write_bytes(b"keep")
    before = server.commands_of(ftp)
    with pytest.raises(ValueError):
        ftp.rmtree(path)
    assert server.commands_of(ftp) == before
    assert (workdir / "keep.txt").exists()


def test_mdtm_returns_the_modification_time_as_an_aware_utc_datetime(
    ftp: ftplib2.FTP, workdir: Path
) -> None:
    when = utc(2021, 5, 6, 7, 8, 9)
    (workdir / "dated.txt").write_bytes(b"x")
    os.utime(workdir / "dated.txt", (when.timestamp(), when.timestamp()))
    modified = ftp.mdtm("dated.txt")
    assert modified == when
    assert modified.utcoffset() == datetime.timedelta(0)


@pytest.mark.parametrize(
    "when",
    [
        pytest.param(utc(2020, 1, 2, 3, 4, 5), id="aware-utc-datetime"),
        pytest.param(
            datetime.datetime(
                2020, 1, 2, 5, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=2))
            ),
            id="aware-datetime-in-another-zone",
        ),
        pytest.param(datetime.datetime(2020, 1, 2, 3, 4, 5), id="naive-datetime-taken-as-utc"),
        pytest.param(utc(2020, 1, 2, 3, 4, 5).timestamp(), id="posix-float"),
    ],
)
def test_set_mtime_sets_the_time_mdtm_reads_back(
    ftp: ftplib2.FTP, workdir: Path, when: datetime.datetime | float
) -> None:
    (workdir / "dated.txt").write_bytes(b"x")
    assert ftp.set_mtime("dated.txt", when).code == "213"
    assert ftp.mdtm("dated.txt") == utc(2020, 1, 2, 3, 4, 5)
    assert (workdir / "dated.txt").stat().st_mtime == utc(2020, 1, 2, 3, 4, 5).timestamp()


def test_rename_with_both_returns_the_rnfr_and_rnto_replies(
    ftp: ftplib2.FTP, workdir: Path
) -> None:
    (workdir / "old.txt").write_bytes(b"moving")
    replies = ftp.rename("old.txt", "new.txt", both=True)
    assert isinstance(replies, tuple)
    first, second = replies
    assert isinstance(first, ftplib2.Reply)
    assert isinstance(second, ftplib2.Reply)
    assert (first.code, second.code) == ("350", "250")
    assert (workdir / "new.txt").read_bytes() == b"moving"
    assert not (workdir / "old.txt").exists()


# --------------------------------------------------------------------------
# Pipelining: the passive command and the transfer command in one write
# --------------------------------------------------------------------------


def test_pipelining_sends_the_passive_command_with_retr_and_listings_after_a_first_transfer(
    ftp_in_each_family: ftplib2.FTP, workdir: Path
) -> None:
    ftp = ftp_in_each_family
    files = {f"f{i}.bin": os.urandom(5000 + i) for i in range(5)}
    for name, data in files.items():
        (workdir / name).write_bytes(data)
    spy = fetch_each_pipelined(ftp, files)
    assert sorted(ftp.nlst()) == sorted(files)
    assert {name for name, _ in ftp.mlsd()} >= set(files)
    lines: list[str] = []
    ftp.retrlines("LIST", lines.append)
    assert len(lines) == len(files)
    verb = b"PASV" if ftp.af == socket.AF_INET else b"EPSV"
    rest = [name.encode() for name in files][1:]
    assert verb + b"\r\n" in spy.writes  # the first time, one command at a time
    assert spy.pipelined() == [
        *[verb + b"\r\nRETR " + name + b"\r\n" for name in rest],
        verb + b"\r\nNLST\r\n",
        verb + b"\r\nMLSD\r\n",
        verb + b"\r\nLIST\r\n",
    ]
    assert ftp.voidcmd("NOOP").code == "200"


def test_pipelining_works_under_tls_with_protected_data_connections(
    tls_ftp: ftplib2.FTP_TLS, workdir: Path
) -> None:
    files = {f"s{i}.bin": os.urandom(3000 + i) for i in range(3)}
    for name, data in files.items():
        (workdir / name).write_bytes(data)
    spy = fetch_each_pipelined(tls_ftp, files)
    assert sorted(tls_ftp.nlst()) == sorted(files)
    assert len(spy.pipelined()) == len(files)  # all but the first RETR, and the NLST
    assert tls_ftp.voidcmd("NOOP").code == "200"


def test_pipelining_steps_aside_for_a_sending_method_replaced_on_the_instance(
    ftp: ftplib2.FTP, workdir: Path
) -> None:
    (workdir / "a.bin").write_bytes(b"a" * 100)
    seen: list[str] = []
    real = ftp.putcmd

    def watching(line: str) -> None:
        seen.append(line)
        real(line)

    ftp.putcmd = watching  # type: ignore[method-assign]
    ftp.pipelining = True
    for _ in range(3):
        ftp.retrbinary("RETR a.bin", lambda block: None)
    assert seen.count("PASV") == 3 and seen.count("RETR a.bin") == 3


def test_pipelining_is_off_by_default(ftp: ftplib2.FTP, workdir: Path) -> None:
    (workdir / "a.bin").write_bytes(b"a" * 100)
    spy = spy_on_sends(ftp)
    for _ in range(3):
        ftp.retrbinary("RETR a.bin", lambda block: None)
    assert spy.pipelined() == []


def test_pipelining_leaves_uploads_and_restarts_one_command_at_a_time(
    ftp: ftplib2.FTP, workdir: Path, tmp_path: Path
) -> None:
    data = os.urandom(200_000)
    (workdir / "a.bin").write_bytes(data)
    plant_partial_download(tmp_path / "a.bin", data[:50_000])
    ftp.pipelining = True
    ftp.retrbinary("RETR a.bin", lambda block: None)  # the passive command has worked
    spy = spy_on_sends(ftp)
    ftp.storbinary("STOR up.bin", io.BytesIO(data))
    ftp.upload(io.BytesIO(data), "up2.bin")
    assert ftp.download("a.bin", tmp_path / "a.bin", resume=True) == len(data)  # REST
    with ftp.open("a.bin", "ab") as stream:  # APPE
        stream.write(b"more")
    assert spy.pipelined() == []
    assert (tmp_path / "a.bin").read_bytes() == data
    assert (workdir / "up.bin").read_bytes() == (workdir / "up2.bin").read_bytes() == data


def test_pipelining_steps_aside_for_a_subclass_that_overrides_makepasv(
    server: LiveServer, workdir: Path
) -> None:
    seen: list[tuple[str, int]] = []

    class NatFixingFTP(ftplib2.FTP):
        def makepasv(self) -> tuple[str, int]:
            host, port = super().makepasv()
            seen.append((host, port))
            return host, port

    (workdir / "a.bin").write_bytes(b"a" * 100)
    with contextlib.closing(open_session(server, workdir, cls=NatFixingFTP)) as ftp:
        ftp.pipelining = True
        spy = spy_on_sends(ftp)
        for _ in range(3):
            ftp.retrbinary("RETR a.bin", lambda block: None)
    assert len(seen) == 3
    assert spy.pipelined() == []


def test_pipelined_download_of_a_missing_file_raises_error_perm_and_stays_in_step(
    ftp: ftplib2.FTP, workdir: Path
) -> None:
    (workdir / "a.bin").write_bytes(b"a" * 100)
    ftp.pipelining = True
    ftp.retrbinary("RETR a.bin", lambda block: None)
    spy = spy_on_sends(ftp)
    with pytest.raises(ftplib2.error_perm):
        ftp.retrbinary("RETR missing.bin", lambda block: None)
    assert len(spy.pipelined()) == 1
    assert ftp.voidcmd("NOOP").code == "200"
    blocks: list[bytes] = []
    ftp.retrbinary("RETR a.bin", blocks.append)
    assert b"".join(blocks) == b"a" * 100


# --------------------------------------------------------------------------
# Whole-file transfers: download and upload
# --------------------------------------------------------------------------

TRANSFER_TARGETS = ["pathlib-path", "str-path", "file-object"]


@pytest.mark.parametrize("target_kind", TRANSFER_TARGETS)
def test_download_writes_the_file_and_reports_progress_in_byte_counts(
    ftp: ftplib2.FTP, workdir: Path, tmp_path: Path, target_kind: str
) -> None:
    data = os.urandom(300_000)
    (workdir / "blob.bin").write_bytes(data)
    counts: list[int] = []
    path = tmp_path / "blob.bin"
    if target_kind == "file-object":
        with path.open("wb") as target:
            size = ftp.download("blob.bin", target, callback=counts.append, blocksize=1 << 16)
    else:
        target = path if target_kind == "pathlib-path" else str(path)
        size = ftp.download("blob.bin", target, callback=counts.append, blocksize=1 << 16)
    assert size == len(data)
    assert path.read_bytes() == data
    assert sum(counts) == len(data)
    assert all(0 < count <= 1 << 16 for count in counts)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blob.bin"]


@needs_splice
@pytest.mark.parametrize("blocksize", [4096, 1 << 18, 1 << 20])
def test_download_to_a_path_is_spliced_into_the_file_without_passing_through_python(
    ftp: ftplib2.FTP,
    workdir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    blocksize: int,
) -> None:
    data = os.urandom((3 << 20) + 17)
    (workdir / "big.bin").write_bytes(data)
    spy = SpliceSpy(monkeypatch)
    counts: list[int] = []
    size = ftp.download(
        "big.bin", tmp_path / "big.bin", callback=counts.append, blocksize=blocksize
    )
    assert size == len(data) == sum(counts)
    assert (tmp_path / "big.bin").read_bytes() == data
    assert spy.calls >= 2 * len(counts)  # socket -> pipe, then pipe -> file, per block
    assert all(0 < count <= max(blocksize, 4096) for count in counts)
    assert ftp.voidcmd("NOOP").code == "200"


@needs_splice
def test_download_resumed_into_a_part_file_is_spliced_after_its_end(
    ftp: ftplib2.FTP, workdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = os.urandom(1 << 20)
    (workdir / "big.bin").write_bytes(data)
    part = plant_partial_download(tmp_path / "big.bin", data[:300_000])
    spy = SpliceSpy(monkeypatch)
    assert ftp.download("big.bin", tmp_path / "big.bin", resume=True) == len(data)
    assert (tmp_path / "big.bin").read_bytes() == data
    assert spy.calls
    assert not part.exists()


@needs_splice
@pytest.mark.parametrize(
    "refused",
    [
        pytest.param("files", id="file-system-refuses-splice-so-copy-from-the-pipe"),
        pytest.param("sockets", id="kernel-refuses-splice-from-sockets-so-recv"),
    ],
)
def test_download_falls_back_where_splice_is_refused(
    ftp: ftplib2.FTP,
    workdir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    refused: str,
) -> None:
    data = os.urandom((2 << 20) + 5)
    (workdir / "big.bin").write_bytes(data)
    spy = SpliceSpy(
        monkeypatch, refuse_files=refused == "files", refuse_sockets=refused == "sockets"
    )
    counts: list[int] = []
    assert ftp.download("big.bin", tmp_path / "big.bin", callback=counts.append) == len(data)
    assert (tmp_path / "big.bin").read_bytes() == data
    assert sum(counts) == len(data)
    if refused == "sockets":
        assert spy.refused == 1  # refused once, before anything moved; then plain reads
    else:
        assert spy.refused >= 1


def test_download_opens_the_part_file_write_only_and_not_for_appending(
    ftp: ftplib2.FTP, workdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Write-only: a partial file that may be written but not read still resumes (as "ab"
    did); not O_APPEND, which splice(2) refuses; never through a symbolic link."""
    data = os.urandom(500_000)
    (workdir / "big.bin").write_bytes(data)
    plant_partial_download(tmp_path / "big.bin", data[:123_456])
    flags_seen: list[int] = []
    real_open = os.open

    def recording_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if str(path).endswith((".ftplib2-part", ".ftplib2-new")):
            flags_seen.append(flags)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", recording_open)
    assert ftp.download("big.bin", tmp_path / "big.bin", resume=True) == len(data)
    assert ftp.download("big.bin", tmp_path / "again.bin") == len(data)
    assert (tmp_path / "big.bin").read_bytes() == (tmp_path / "again.bin").read_bytes() == data
    assert len(flags_seen) == 2
    assert all(f & os.O_ACCMODE == os.O_WRONLY and not f & os.O_APPEND for f in flags_seen)
    assert all(f & os.O_NOFOLLOW for f in flags_seen)
    assert [bool(f & os.O_CREAT) for f in flags_seen] == [False, True]  # resumed, then new


@needs_splice
def test_download_over_tls_is_not_spliced_and_arrives_intact(
    tls_ftp: ftplib2.FTP_TLS, workdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = os.urandom(1 << 20)
    (workdir / "big.bin").write_bytes(data)
    spy = SpliceSpy(monkeypatch)
    assert tls_ftp.download("big.bin", tmp_path / "big.bin") == len(data)
    assert (tmp_path / "big.bin").read_bytes() == data
    assert spy.calls == 0


@pytest.mark.parametrize("source_kind", TRANSFER_TARGETS)
def test_upload_sends_the_file_and_reports_progress_in_byte_counts(
    ftp: ftplib2.FTP, workdir: Path, tmp_path: Path, source_kind: str
) -> None:
    data = os.urandom(300_000)
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    counts: list[int] = []
    if source_kind == "file-object":
        with path.open("rb") as source:
            size = ftp.upload(source, "up.bin", callback=counts.append)
    else:
        source = path if source_kind == "pathlib-path" else str(path)
        size = ftp.upload(source, "up.bin", callback=counts.append)
    assert size == len(data)
    assert (workdir / "up.bin").read_bytes() == data
    assert sum(counts) == len(data)


def test_upload_from_a_non_file_stream_sends_it_all(ftp: ftplib2.FTP, workdir: Path) -> None:
    data = os.urandom(300_000)
    counts: list[int] = []
    assert ftp.upload(io.BytesIO(data), "up.bin", callback=counts.append) == len(data)
    assert (workdir / "up.bin").read_bytes() == data
    assert sum(counts) == len(data)


def test_download_to_a_path_writes_a_part_file_and_renames_it_when_complete(
    ftp: ftplib2.FTP, workdir: Path, tmp_path: Path
) -> None:
    data = os.urandom(300_000)
    (workdir / "blob.bin").write_bytes(data)
    target = tmp_path / "blob.bin"
    seen: list[tuple[bool, list[str]]] = []
    ftp.download(
        "blob.bin",
        target,
        callback=lambda n: seen.append((target.exists(), partial_downloads(tmp_path))),
        blocksize=1 << 16,
    )
    assert seen
    assert all(not exists and len(parts) == 1 for exists, parts in seen)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blob.bin"]
    assert target.read_bytes() == data


def test_download_resume_continues_a_part_file_from_its_end_with_rest(
    ftp: ftplib2.FTP, server: LiveServer, workdir: Path, tmp_path: Path
) -> None:
    data = os.urandom(200_000)
    (workdir / "blob.bin").write_bytes(data)
    target = tmp_path / "blob.bin"
    plant_partial_download(target, data[:70_000])
    counts: list[int] = []
    assert ftp.download("blob.bin", target, resume=True, callback=counts.append) == len(data)
    assert target.read_bytes() == data
    assert sum(counts) == len(data) - 70_000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blob.bin"]
    assert "REST 70000" in server.commands_of(ftp)


def test_download_resume_into_a_file_object_continues_from_its_end(
    ftp: ftplib2.FTP, server: LiveServer, workdir: Path
) -> None:
    data = os.urandom(200_000)
    (workdir / "blob.bin").write_bytes(data)
    target = io.BytesIO(data[:50_000])
    assert ftp.download("blob.bin", target, resume=True) == len(data)
    assert target.getvalue() == data
    assert "REST 50000" in server.commands_of(ftp)


def test_download_resume_of_a_complete_part_file_renames_it_without_a_transfer(
    ftp: ftplib2.FTP, server: LiveServer, workdir: Path, tmp_path: Path
) -> None:
    data = os.urandom(10_000)
    (workdir / "blob.bin").write_bytes(data)
    plant_partial_download(tmp_path / "blob.bin", data)
    assert ftp.download("blob.bin", tmp_path / "blob.bin", resume=True) == len(data)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blob.bin"]
    assert (tmp_path / "blob.bin").read_bytes() == data
    assert "RETR" not in verbs_of(server, ftp)


@pytest.mark.parametrize("target_kind", ["path", "file-object"])
def test_download_resume_on_a_server_without_rest_starts_over_and_gets_the_whole_file(
    no_rest_server: LiveServer, workdir: Path, tmp_path: Path, target_kind: str
) -> None:
    data = os.urandom(100_000)
    (workdir / "blob.bin").write_bytes(data)
    target = tmp_path / "blob.bin"
    stale = b"stale bytes that are not the start of the file"
    with open_session(no_rest_server, workdir) as ftp:
        if target_kind == "path":
            plant_partial_download(target, stale)
            assert ftp.download("blob.bin", target, resume=True) == len(data)
            assert partial_downloads(tmp_path) == []
        else:
            with target.open("w+b") as fp:
                fp.write(stale)
                assert ftp.download("blob.bin", fp, resume=True) == len(data)
        assert "REST" not in verbs_of(no_rest_server, ftp)
    assert target.read_bytes() == data


def test_download_of_a_missing_file_raises_error_perm_and_creates_no_local_file(
    ftp: ftplib2.FTP, tmp_path: Path
) -> None:
    with pytest.raises(ftplib2.error_perm) as excinfo:
        ftp.download("missing.bin", tmp_path / "missing.bin")
    assert excinfo.value.code == "550"
    assert list(tmp_path.iterdir()) == []
    assert ftp.voidcmd("NOOP").code == "200"


def test_upload_resume_sends_only_the_missing_part_with_rest_then_stor(
    ftp: ftplib2.FTP, server: LiveServer, workdir: Path, tmp_path: Path
) -> None:
    data = os.urandom(200_000)
    source = tmp_path / "blob.bin"
    source.write_bytes(data)
    (workdir / "blob.bin").write_bytes(data[:70_000])
    counts: list[int] = []
    assert ftp.upload(source, "blob.bin", resume=True, callback=counts.append) == len(data)
    assert (workdir / "blob.bin").read_bytes() == data
    assert sum(counts) == len(data) - 70_000
    commands = server.commands_of(ftp)
    rest = commands.index("REST 70000")
    assert commands[rest + 1] == "STOR blob.bin"


def test_upload_resume_of_a_file_the_server_lacks_sends_it_whole_with_stor(
    ftp: ftplib2.FTP, server: LiveServer, workdir: Path
) -> None:
    data = os.urandom(50_000)
    assert ftp.upload(io.BytesIO(data), "fresh.bin", resume=True) == len(data)
    assert (workdir / "fresh.bin").read_bytes() == data
    assert "REST" not in verbs_of(server, ftp)
    assert "STOR fresh.bin" in server.commands_of(ftp)


def test_upload_resume_appends_with_appe_when_the_server_has_no_rest(
    no_rest_server: LiveServer, workdir: Path
) -> None:
    data = os.urandom(200_000)
    (workdir / "blob.bin").write_bytes(data[:70_000])
    with open_session(no_rest_server, workdir) as ftp:
        assert not ftp.has_feature("REST")
        assert ftp.upload(io.BytesIO(data), "blob.bin", resume=True) == len(data)
        verbs = verbs_of(no_rest_server, ftp)
    assert (workdir / "blob.bin").read_bytes() == data
    assert "APPE" in verbs
    assert "REST" not in verbs
    assert "STOR" not in verbs


def test_download_shorter_than_its_size_raises_error_proto_and_leaves_no_final_file(
    ftp_root: Path, authorizer: DummyAuthorizer, workdir: Path, tmp_path: Path
) -> None:
    def ftp_SIZE(handler: FTPHandler, path: str) -> None:
        handler.respond(f"213 {os.path.getsize(path) + 100}")

    (workdir / "blob.bin").write_bytes(b"x" * 1000)
    target = tmp_path / "blob.bin"
    with (
        running_server(("127.0.0.1", 0), ftp_root, authorizer, ftp_SIZE=ftp_SIZE) as liar,
        open_session(liar, workdir) as ftp,
    ):
        with pytest.raises(ftplib2.error_proto, match="received 1000 bytes of 1100"):
            ftp.download("blob.bin", target)
        assert ftp.voidcmd("NOOP").code == "200"
    assert not target.exists()


def test_download_resume_with_a_part_file_longer_than_the_remote_raises_error_proto(
    ftp: ftplib2.FTP, workdir: Path, tmp_path: Path
) -> None:
    (workdir / "blob.bin").write_bytes(b"x" * 1000)
    target = tmp_path / "blob.bin"
    part = plant_partial_download(target, b"y" * 1500)
    with pytest.raises(ftplib2.error_proto):
        ftp.download("blob.bin", target, resume=True)
    assert not target.exists()
    assert part.read_bytes() == b"y" * 1500
    assert ftp.voidcmd("NOOP").code == "200"


def test_upload_resume_to_a_remote_file_longer_than_the_local_one_raises_error_proto(
    ftp: ftplib2.FTP, workdir: Path
) -> None:
    (workdir / "blob.bin").write_bytes(b"x" * 1500)
    with pytest.raises(ftplib2.error_proto):
        ftp.upload(io.BytesIO(b"y" * 1000), "blob.bin", resume=True)
    assert (workdir / "blob.bin").read_bytes() == b"x" * 1500
    assert ftp.voidcmd("NOOP").code == "200"


# --------------------------------------------------------------------------
# open(): remote files as streams
# --------------------------------------------------------------------------


def test_open_rb_read_returns_the_whole_file(ftp: ftplib2.FTP, workdir: Path) -> None:
    data = os.urandom(300_000)
    (workdir / "blob.bin").write_bytes(data)
    with ftp.open("blob.bin", "rb") as f:
        assert f.read() == data
    assert ftp.voidcmd("NOOP").code == "200"


def test_open_rb_readinto_fills_buffers_with_the_file(ftp: ftplib2.FTP, workdir: Path) -> None:
    data = os.urandom(100_000)
    (workdir / "blob.bin").write_bytes(data)
    received = bytearray()
    buffer = bytearray(7_000)
    with ftp.open("blob.bin", "rb") as f:
        while n := f.readinto(buffer):
            received += buffer[:n]
    assert received == data


def test_open_rb_iterates_over_lines(ftp: ftplib2.FTP, workdir: Path) -> None:
    data = b"".join(b"line %d\n" % number for number in range(10_000)) + b"no newline"
    (workdir / "lines.txt").write_bytes(data)
    with ftp.open("lines.txt", "rb") as f:
        assert list(f) == data.splitlines(keepends=True)


def test_open_closed_after_100_bytes_of_a_big_file_returns_promptly_and_stays_in_step(
    ftp: ftplib2.FTP, workdir: Path, big_files: dict[str, Path]
) -> None:
    with big_files[BIG_FILE].open("rb") as local:
        expected = local.read(100)
    with ftp.open(f"/{BIG_FILE}", "rb") as f:
        head = f.read(100)
        closing = time.monotonic()
    assert time.monotonic() - closing < 2
    assert head == expected
    with pytest.raises(ftplib2.error_temp, match="^426"):  # aborted, not read to the end
        ftp.getresp()  # the transfer's final reply, owed
    assert ftp.voidcmd("NOOP").code == "200"
    assert ftp.pwd() == f"/{workdir.name}"


def test_open_wb_writes_the_file_on_close(ftp: ftplib2.FTP, workdir: Path) -> None:
    data = os.urandom(300_000)
    with ftp.open("new.bin", "wb") as f:
        f.write(data[:1000])
        f.write(memoryview(data)[1000:])
    assert (workdir / "new.bin").read_bytes() == data
    assert ftp.voidcmd("NOOP").code == "200"


def test_open_of_a_missing_file_raises_error_perm_and_stays_in_step(
    ftp: ftplib2.FTP, workdir: Path
) -> None:
    with pytest.raises(ftplib2.error_perm) as excinfo:
        ftp.open("missing.bin", "rb")
    assert excinfo.value.code == "550"
    assert ftp.voidcmd("NOOP").code == "200"
    assert ftp.pwd() == f"/{workdir.name}"


def test_open_ab_appends_to_the_file(ftp: ftplib2.FTP, workdir: Path) -> None:
    (workdir / "log.txt").write_bytes(b"first\n")
    with ftp.open("log.txt", "ab") as f:
        f.write(b"second\n")
    assert (workdir / "log.txt").read_bytes() == b"first\nsecond\n"


@pytest.mark.parametrize("encoding", [None, "latin-1"])
def test_open_text_modes_write_and_read_non_ascii_text(
    ftp: ftplib2.FTP, workdir: Path, encoding: str | None
) -> None:
    text = "grüße, ñandú\nzweite Zeile\n"
    with ftp.open("text.txt", "w", encoding=encoding) as f:
        f.write(text)
    assert (workdir / "text.txt").read_bytes() == text.encode(encoding or "utf-8")
    with ftp.open("text.txt", "r", encoding=encoding) as f:
        assert f.read() == text
    with ftp.open("text.txt", "r", encoding=encoding) as f:
        assert list(f) == ["grüße, ñandú\n", "zweite Zeile\n"]


@pytest.mark.parametrize("mode", ["rw", "rb+", "x", "", "wbb"])
def test_open_with_an_invalid_mode_raises_value_error_and_sends_nothing(
    ftp: ftplib2.FTP, server: LiveServer, mode: str
) -> None:
    before = server.commands_of(ftp)
    with pytest.raises(ValueError):
        ftp.open("any.txt", mode)
    assert server.commands_of(ftp) == before


def test_open_streams_a_big_file_in_bounded_memory(
    ftp: ftplib2.FTP, big_files: dict[str, Path]
) -> None:
    digest = hashlib.sha256()
    size = 0
    tracemalloc.start()
    try:
        with ftp.open(f"/{BIG_FILE}", "rb") as f:
            while block := f.read(1 << 16):
                digest.update(block)
                size += len(block)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert size == BIG_FILE_SIZE
    assert digest.hexdigest() == sha256_of_file(big_files[BIG_FILE])
    assert peak < 4 << 20


# --------------------------------------------------------------------------
# Data connections: EPSV on IPv4, PASV fallbacks, active ports and addresses
# --------------------------------------------------------------------------


def passive_verbs(server: LiveServer, ftp: ftplib2.FTP) -> list[str]:
    return [verb for verb in verbs_of(server, ftp) if verb in ("PASV", "EPSV")]


def test_prefer_epsv_sends_epsv_instead_of_pasv_on_ipv4(server: LiveServer, workdir: Path) -> None:
    (workdir / "f.txt").write_bytes(b"over EPSV")
    with open_session(server, workdir) as ftp:
        ftp.prefer_epsv = True
        received = bytearray()
        ftp.retrbinary("RETR f.txt", received.extend)
        ftp.retrbinary("RETR f.txt", lambda block: None)
        assert passive_verbs(server, ftp) == ["EPSV", "EPSV"]
    assert received == b"over EPSV"


def test_ipv4_without_prefer_epsv_sends_pasv(server: LiveServer, workdir: Path) -> None:
    (workdir / "f.txt").write_bytes(b"over PASV")
    with open_session(server, workdir) as ftp:
        ftp.retrbinary("RETR f.txt", lambda block: None)
        assert passive_verbs(server, ftp) == ["PASV"]


def _refuse_epsv_with_502(handler: FTPHandler, line: str) -> None:
    handler.respond("502 EPSV not implemented.")


@pytest.mark.parametrize(
    "refusal",
    [
        pytest.param({"proto_cmds": proto_cmds_without("EPSV")}, id="unknown-command-500"),
        pytest.param({"ftp_EPSV": _refuse_epsv_with_502}, id="not-implemented-502"),
    ],
)
def test_prefer_epsv_falls_back_to_pasv_once_and_remembers_the_refusal(
    ftp_root: Path, authorizer: DummyAuthorizer, workdir: Path, refusal: dict[str, object]
) -> None:
    (workdir / "f.txt").write_bytes(b"over PASV")
    with (
        running_server(("127.0.0.1", 0), ftp_root, authorizer, **refusal) as live,
        open_session(live, workdir) as ftp,
    ):
        ftp.prefer_epsv = True
        for _ in range(3):
            received = bytearray()
            ftp.retrbinary("RETR f.txt", received.extend)
            assert received == b"over PASV"
        assert passive_verbs(live, ftp) == ["EPSV", "PASV", "PASV", "PASV"]


def test_a_229_reply_to_pasv_is_accepted(
    ftp_root: Path, authorizer: DummyAuthorizer, workdir: Path
) -> None:
    def ftp_PASV(handler: FTPHandler, line: str) -> None:
        handler._make_epasv(extmode=True)  # answers "229 Entering extended passive mode"

    (workdir / "f.txt").write_bytes(b"229 to PASV")
    with (
        running_server(("127.0.0.1", 0), ftp_root, authorizer, ftp_PASV=ftp_PASV) as live,
        open_session(live, workdir) as ftp,
    ):
        received = bytearray()
        assert ftp.retrbinary("RETR f.txt", received.extend).code == "226"
        assert received == b"229 to PASV"
        assert passive_verbs(live, ftp) == ["PASV"]


def announced_port(server: LiveServer, ftp: ftplib2.FTP) -> tuple[str, int]:
    """The (address, port) of the last PORT command `ftp` sent."""
    [*_, line] = [line for line in server.commands_of(ftp) if line.startswith("PORT ")]
    numbers = line[5:].split(",")
    return ".".join(numbers[:4]), int(numbers[4]) << 8 | int(numbers[5])


def test_active_port_range_listens_on_a_free_port_of_the_range(
    server: LiveServer, workdir: Path
) -> None:
    (workdir / "f.txt").write_bytes(b"active data")
    with socket.create_server(("127.0.0.1", 0)) as taken:
        first = taken.getsockname()[1]
        ports = range(first, first + 5)
        with open_session(server, workdir, passive=False) as ftp:
            ftp.active_port_range = ports
            for _ in range(2):
                received = bytearray()
                ftp.retrbinary("RETR f.txt", received.extend)
                assert received == b"active data"
                address, port = announced_port(server, ftp)
                assert port in ports
                assert port != first  # taken: the client moved on to the next one
                assert address == "127.0.0.1"


def test_active_port_range_with_every_port_taken_raises_oserror_before_sending_port(
    server: LiveServer, workdir: Path
) -> None:
    (workdir / "f.txt").write_bytes(b"active data")
    with (
        socket.create_server(("127.0.0.1", 0)) as taken,
        open_session(server, workdir, passive=False) as ftp,
    ):
        port = taken.getsockname()[1]
        ftp.active_port_range = range(port, port + 1)
        with pytest.raises(OSError):
            ftp.retrbinary("RETR f.txt", lambda block: None)
        assert "PORT" not in verbs_of(server, ftp)
        assert ftp.voidcmd("NOOP").code == "200"


def test_active_address_is_the_address_port_announces(server: LiveServer, workdir: Path) -> None:
    (workdir / "f.txt").write_bytes(b"active data")
    with open_session(server, workdir, passive=False) as ftp:
        ftp.active_address = "127.0.0.1"
        received = bytearray()
        ftp.retrbinary("RETR f.txt", received.extend)
        assert received == b"active data"
        assert announced_port(server, ftp)[0] == "127.0.0.1"


def test_active_address_the_server_sees_as_foreign_is_refused_with_error_perm(
    server: LiveServer, workdir: Path
) -> None:
    (workdir / "f.txt").write_bytes(b"active data")
    with open_session(server, workdir, passive=False) as ftp:
        ftp.active_address = "127.0.0.2"
        with pytest.raises(ftplib2.error_perm) as excinfo:
            ftp.retrbinary("RETR f.txt", lambda block: None)
        assert excinfo.value.code == "501"
        assert "127.0.0.2" in str(excinfo.value)
        assert announced_port(server, ftp)[0] == "127.0.0.2"
        assert "RETR" not in verbs_of(server, ftp)
        assert ftp.voidcmd("NOOP").code == "200"


# --------------------------------------------------------------------------
# FTP_TLS.secure(): verified TLS in one call
# --------------------------------------------------------------------------


def test_ftp_tls_secure_logs_in_over_tls_and_protects_data_connections(
    tls_server: LiveServer, tls_client_context: ssl.SSLContext, workdir: Path, tmp_path: Path
) -> None:
    (workdir / "f.txt").write_bytes(b"secret")
    with ftplib2.FTP_TLS.secure(
        tls_server.host,
        USER,
        PASSWORD,
        port=tls_server.port,
        context=tls_client_context,
        timeout=TIMEOUT,
    ) as ftp:
        assert isinstance(ftp.sock, ssl.SSLSocket)
        assert tls_server.commands_of(ftp) == [
            "AUTH TLS",
            f"USER {USER}",
            f"PASS {PASSWORD}",
            "PBSZ 0",
            "PROT P",
        ]
        ftp.cwd(workdir.name)
        ftp.voidcmd("TYPE I")
        with ftp.transfercmd("RETR f.txt") as conn:
            assert isinstance(conn, ssl.SSLSocket)
            assert recv_all(conn) == b"secret"
        assert ftp.voidresp().code == "226"
        received = io.BytesIO()
        assert ftp.download("f.txt", received) == len(b"secret")
        assert received.getvalue() == b"secret"
        data = os.urandom(300_000)
        (tmp_path / "up.bin").write_bytes(data)
        assert ftp.upload(tmp_path / "up.bin", "up.bin") == len(data)
        assert (workdir / "up.bin").read_bytes() == data


def test_ftp_tls_secure_with_the_system_cas_rejects_the_test_certificate_before_the_password(
    tls_server: LiveServer,
) -> None:
    sessions_before = set(tls_server.received)
    with track_sockets() as opened, pytest.raises(ssl.SSLCertVerificationError):
        ftplib2.FTP_TLS.secure(
            tls_server.host, USER, PASSWORD, port=tls_server.port, timeout=TIMEOUT
        )
    assert opened
    assert still_open(opened) == []
    new_sessions = [tls_server.received[key] for key in set(tls_server.received) - sessions_before]
    assert new_sessions == [["AUTH TLS"]]


def test_ftp_tls_secure_trusts_the_ca_named_by_cafile(
    tls_server: LiveServer, certificate_authority: trustme.CA, tmp_path: Path
) -> None:
    cafile = tmp_path / "ca.pem"
    certificate_authority.cert_pem.write_to_path(str(cafile))
    with ftplib2.FTP_TLS.secure(
        tls_server.host, USER, PASSWORD, port=tls_server.port, cafile=str(cafile), timeout=TIMEOUT
    ) as ftp:
        assert isinstance(ftp.sock, ssl.SSLSocket)
        assert ftp.pwd() == "/"
        assert ftp.nlst()


# --------------------------------------------------------------------------
# Errors and replies as objects
# --------------------------------------------------------------------------


def test_error_perm_from_a_550_carries_the_code_and_the_reply_line(ftp: ftplib2.FTP) -> None:
    with pytest.raises(ftplib2.error_perm) as excinfo:
        ftp.delete("missing.txt")
    error = excinfo.value
    assert error.code == "550"
    assert len(error.lines) == 1
    assert error.lines[0].startswith("550 ")
    assert error.lines == [str(error)]


@pytest.mark.parametrize(
    ("raw", "error_class", "code"),
    [
        pytest.param(
            b"550-Cannot delete:\r\n the file is locked\r\n550 Try again later.\r\n",
            ftplib2.error_perm,
            "550",
            id="5xx-error-perm",
        ),
        pytest.param(
            b"450-Busy:\r\n450-still busy\r\n450 Try again later.\r\n",
            ftplib2.error_temp,
            "450",
            id="4xx-error-temp",
        ),
    ],
)
def test_multiline_error_reply_keeps_every_line(
    ftp: ftplib2.FTP, raw: bytes, error_class: type[ftplib2.Error], code: str
) -> None:
    with pytest.raises(error_class) as excinfo:
        raw_reply(ftp, raw)
    expected_lines = raw.decode().removesuffix("\r\n").split("\r\n")
    assert excinfo.value.code == code
    assert excinfo.value.lines == expected_lines
    assert str(excinfo.value) == "\n".join(expected_lines)
    assert ftp.voidcmd("NOOP").code == "200"


def test_multiline_reply_has_its_code_and_lines(ftp: ftplib2.FTP) -> None:
    reply = raw_reply(ftp, b"211-Status of server:\r\n Connected\r\n211 End of status.\r\n")
    assert isinstance(reply, ftplib2.Reply)
    assert reply.code == "211"
    assert reply.lines == ["211-Status of server:", " Connected", "211 End of status."]
    assert reply == "211-Status of server:\n Connected\n211 End of status."


def test_a_real_multiline_reply_has_its_code_and_lines(ftp: ftplib2.FTP) -> None:
    reply = ftp.sendcmd("FEAT")
    assert reply.code == "211"
    assert len(reply.lines) > 2
    assert reply.lines[0].startswith("211-")
    assert reply.lines[-1].startswith("211 ")
    assert " REST STREAM" in reply.lines


def test_scandir_of_a_listing_of_only_dot_and_dot_dot_is_empty_without_asking_again(
    ftp_root: Path, authorizer: DummyAuthorizer, workdir: Path
) -> None:
    canned = [
        "drwxr-xr-x 2 u g 4096 Jan 01  2024 .",
        "drwxr-xr-x 9 u g 4096 Jan 01  2024 ..",
    ]
    with (
        running_server(
            ("127.0.0.1", 0), ftp_root, authorizer,
            ftp_LIST=canned_listing(canned), proto_cmds=proto_cmds_without("FEAT"),
        ) as live,
        open_session(live, workdir) as ftp,
    ):  # fmt: skip
        assert ftp.scandir() == []
        # A listing with entries proves the directory readable: no LIST -a to check it.
        assert [c for c in live.commands_of(ftp) if c.startswith("LIST")] == ["LIST"]


@pytest.mark.parametrize("lister", ["ftp_MLSD", "ftp_LIST"])
def test_scandir_raises_a_malformed_line_once_the_listing_is_read_and_stays_in_step(
    ftp_root: Path, authorizer: DummyAuthorizer, workdir: Path, lister: str
) -> None:
    if lister == "ftp_MLSD":
        canned = ["type=file;size=1; a", "type=file;no-separator", "type=file;size=2; b"]
    else:
        canned = ["-rw-r--r-- 1 u g 1 Jan 01  2024 a", "?? not a listing line", "-rw-r--r-- 1 u g"]
    attributes: dict[str, object] = {lister: canned_listing(canned)}
    if lister == "ftp_LIST":
        attributes["proto_cmds"] = proto_cmds_without("FEAT")
    with (
        running_server(("127.0.0.1", 0), ftp_root, authorizer, **attributes) as live,
        open_session(live, workdir) as ftp,
    ):
        with pytest.raises(ftplib2.error_proto):
            ftp.scandir()
        assert ftp.voidcmd("NOOP").startswith("200")


def test_mlsd_entries_share_one_string_for_each_fact_name(
    ftp_root: Path, authorizer: DummyAuthorizer, workdir: Path
) -> None:
    canned = [
        f"type=file;Size={n};modify=20240101000000;UNIX.mode=0644;x.made-up=1; f{n}"
        for n in range(3)
    ]
    with (
        running_server(
            ("127.0.0.1", 0), ftp_root, authorizer, ftp_MLSD=canned_listing(canned)
        ) as live,
        open_session(live, workdir) as ftp,
    ):
        first, *others = ftp.scandir()
    assert [(e.name, e.size) for e in (first, *others)] == [("f0", 0), ("f1", 1), ("f2", 2)]
    names = list(first.facts)
    assert names == ["type", "size", "modify", "unix.mode", "x.made-up"]
    for entry in others:
        # The facts RFC 3659 and the unix.* convention name are held once per process;
        # a made-up one is not kept beyond its listing.
        assert [a is b for a, b in zip(names, entry.facts)] == [True] * 4 + [False]
        # Values that repeat from entry to entry are shared too; sizes and times are not.
        assert entry.facts["unix.mode"] is first.facts["unix.mode"]
        assert entry.type is first.type


def test_shared_fact_values_are_bounded_whatever_a_server_sends() -> None:
    saved = dict(ftplib2._FACT_VALUES)
    try:
        for n in range(2 * ftplib2._MAX_FACT_VALUES):
            entry = ftplib2.parse_mlsx_line(f"type=file;perm=r{n};unix.mode=0{n:o}; f{n}")
            assert entry.perm == f"r{n}"  # past the bound, kept as given
        assert len(ftplib2._FACT_VALUES) == ftplib2._MAX_FACT_VALUES
    finally:
        ftplib2._FACT_VALUES.clear()
        ftplib2._FACT_VALUES.update(saved)
