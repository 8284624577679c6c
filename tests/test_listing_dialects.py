"""What ftplib2 reads from the LIST dialects real servers send, and what reading them costs.

Proves (issue 13, item 3) that:

* every case of tests/listing_corpus.py (320 lines in 13 dialects: Unix and its variants, IIS
  in both date styles and in Unix style, z/OS UNIX, EPLF, OpenVMS with its wrapped entries,
  z/OS data sets and PDS members, IBM i, HP NonStop, MacOS, NetWare, OS/2) parses into the
  entry written by hand beside it, alone and within the whole listing of its dialect;
* scandir() reads each dialect from a live (scripted) server, and walk() walks an OpenVMS
  server by the names it lists;
* on any text, on corpus lines cut and spliced at random, and on adversarial lines up to four
  times MAXLINE, the parsers raise nothing but error_proto, give no IBM i name holding a '/',
  and stay under a fixed CPU time per line (no regex backtracks out of linear time).

Run only these with::

    python -m pytest -q -p no:cacheprovider tests/test_listing_dialects.py
"""

from __future__ import annotations

import collections
import contextlib
import datetime
import time
from collections.abc import Callable, Iterator

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import ftplib2
from tests.listing_corpus import CORPUS, NOW, Case
from tests.servers import (
    HOSTILE_TIMEOUT,
    HostileControl,
    hostile_assert_in_step,
    hostile_serving,
    hostile_within,
)

DIALECT_HYPOTHESIS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

DIALECTS = sorted({case.dialect for case in CORPUS})

# Dialects whose dates may carry no year: placed by the time of parsing, which for scandir()
# is the clock, not the corpus's NOW.
YEARLESS_DIALECTS = {"unix", "iis-unix", "zos-uss", "mac", "netware"}

Summary = tuple[object, ...]


def summary(entry: ftplib2.Entry) -> Summary:
    """Everything an Entry says, facts and raw text included (Entry's == leaves those out)."""
    return (
        entry.name,
        entry.type,
        entry.size,
        entry.modify,
        entry.perm,
        entry.target,
        entry.unique,
        entry.facts,
        entry.raw,
    )


def expected(case: Case) -> Summary:
    return (
        case.name,
        case.type,
        case.size,
        case.modify,
        case.perm,
        case.target,
        case.unique,
        case.facts,
        case.text,
    )


def test_the_corpus_has_300_lines_in_at_least_10_dialects() -> None:
    lines = collections.Counter()
    for case in CORPUS:
        lines[case.dialect] += len(case.lines)
    assert sum(lines.values()) >= 300
    assert len(lines) >= 10
    assert min(lines.values()) >= 6


# --------------------------------------------------------------------------
# The corpus, without sockets
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "case", [pytest.param(case, id=f"{case.dialect}-{i}") for i, case in enumerate(CORPUS)]
)
def test_each_corpus_case_parses_into_the_entry_written_beside_it(case: Case) -> None:
    entries = ftplib2.parse_list(case.lines, NOW)
    if case.name is None:
        assert entries == []
    else:
        assert [summary(entry) for entry in entries] == [expected(case)]
    if len(case.lines) == 1:  # one line: parse_list_line says the same
        entry = ftplib2.parse_list_line(case.lines[0], NOW)
        assert (None if entry is None else summary(entry)) == (
            None if case.name is None else expected(case)
        )


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_whole_listing_of_each_dialect_parses_entry_by_entry(dialect: str) -> None:
    cases = [case for case in CORPUS if case.dialect == dialect]
    lines = [line for case in cases for line in case.lines]
    entries = ftplib2.parse_list(lines, NOW)
    assert [summary(entry) for entry in entries] == [
        expected(case) for case in cases if case.name is not None
    ]


def test_a_wrapped_vms_entry_parsed_line_by_line_is_a_name_and_an_unrecognised_line() -> None:
    """Without parse_list's joining, the name stands alone and its rest is refused."""
    name_line = "A_VERY_LONG_FILE_NAME_INDEED.TXT;1"
    rest = "                      14/15      24-JUL-2002 14:35:40  [STAFF,JONES]   (RWE,RWE,RE,)"
    entry = ftplib2.parse_list_line(name_line, NOW)
    assert entry is not None
    assert (entry.name, entry.type, entry.size, entry.modify) == (name_line, "file", None, None)
    with pytest.raises(ftplib2.error_proto):
        ftplib2.parse_list_line(rest, NOW)
    [joined] = ftplib2.parse_list([name_line, rest], NOW)
    assert joined.modify == datetime.datetime(2002, 7, 24, 14, 35, 40, tzinfo=datetime.UTC)


def test_a_vms_entry_is_continued_by_two_lines_at_most() -> None:
    """The joining is bounded: a third continuation line is a line of its own, and refused."""
    lines = ["LONG.TXT;1", "   1/3  1-JAN-2024 00:00:00", "   [SYSTEM]", "   (RWED,RWED,RE,)"]
    with pytest.raises(ftplib2.error_proto, match="RWED,RWED,RE,"):
        ftplib2.parse_list(lines, NOW)
    [entry] = ftplib2.parse_list(lines[:3], NOW)
    assert entry.facts == {
        "vms.version": "1",
        "vms.blocks": "1",
        "vms.allocated": "3",
        "vms.owner": "SYSTEM",
    }


def test_only_a_vms_entry_is_joined_to_the_line_after_it() -> None:
    unix = "-rw-r--r--   1 ftp  ftp  1 Jan  1  2020 a"
    with pytest.raises(ftplib2.error_proto, match="continued"):
        ftplib2.parse_list([unix, "   continued?"], NOW)
    dos = "01-02-24  02:03PM       <DIR>          reports"
    with pytest.raises(ftplib2.error_proto, match="RWED"):
        ftplib2.parse_list([dos, "(RWED,RWED,RE,)"], NOW)
    specs = ftplib2.parse_list(["LOGIN.COM;1", "LOGIN.COM;2", "", "Total of 2 files."], NOW)
    assert [entry.name for entry in specs] == ["LOGIN.COM;1", "LOGIN.COM;2"]


@pytest.mark.parametrize(
    "line",
    [
        "FOO.TXT;1 garbage here",
        "FOO.TXT;1          2/4",
        "FOO.TXT;1  14-MAR-2005 10:21:33",
        "FOO.TXT;1  2/4  14-MAR-2005  [A]  [B]",
        "FOO.TXT;1  2/4  14-MAR-2005 12:45:27 PM  [GROUP,OWNER]  (RWED,RWED,RWED,RE)",
        'STARTUP       101    1646  18-Sep-00 09:03:37 170,175 "nunu" extra',
        "QPGMR USR          36864 03/24/24 14:06:34 *DIR       dir1/",
        "     0    rsa    DIR   11-25-97   09:42  junk",
        "USR001 3390   2024/05/30  1   15  FB      80 27920  XXXXXX  JCL.CNTL",
        "lowercase",
        "MEMBER123",
        "12-03-96",
        "d [RWCEAFMSX] admin  512 Nov 24  2005 Favorites",
    ],
)
def test_lines_in_no_form_raise_error_proto_naming_them(line: str) -> None:
    with pytest.raises(ftplib2.error_proto, match="LIST line"):
        ftplib2.parse_list_line(line, NOW)


def test_a_line_holding_a_line_break_is_in_no_form() -> None:
    with pytest.raises(ftplib2.error_proto, match="line break"):
        ftplib2.parse_list_line("-rw-r--r--   1 ftp  ftp  1 Jan  1  2020 a\nb", NOW)


# --------------------------------------------------------------------------
# scandir() and walk() against a live (scripted) server
# --------------------------------------------------------------------------


def hostile_list_of(listing: Callable[[], list[str]]) -> Callable[[HostileControl, str], None]:
    """A LIST handler sending the lines `listing()` gives at the time of the command."""

    def handler(ctl: HostileControl, argument: str) -> None:
        ctl.reply("150 Here comes the directory listing.")
        data = ctl.accept_data()
        data.sendall("".join(line + "\r\n" for line in listing()).encode())
        data.close()
        ctl.reply("226 Directory send OK.")

    return handler


def listed(summary_: Summary, with_time: bool) -> Summary:
    return summary_ if with_time else summary_[:3] + summary_[4:]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_scandir_reads_each_dialect_from_a_live_server(hostile_server, dialect: str) -> None:
    cases = [case for case in CORPUS if case.dialect == dialect]
    lines = [line for case in cases for line in case.lines]
    server = hostile_server(hostile_serving({"LIST": hostile_list_of(lambda: lines)}))
    ftp = server.connect(timeout=HOSTILE_TIMEOUT)
    with hostile_within(3 * HOSTILE_TIMEOUT):
        entries = ftp.scandir()
    with_time = dialect not in YEARLESS_DIALECTS
    assert [listed(summary(entry), with_time) for entry in entries] == [
        listed(expected(case), with_time)
        for case in cases
        if case.name is not None and case.name not in (".", "..")
    ]
    assert server.commands.count("LIST") == 1
    hostile_assert_in_step(ftp, server)


VMS_HOME = "DISK$USER:[ANONYMOUS]"
VMS_TREE = {
    VMS_HOME: [
        "Directory DISK$USER:[ANONYMOUS]",
        "",
        "LOGIN.COM;3           2/4        14-MAR-2005 10:21:33  [STAFF,JONES]   (RWED,RWED,RE,)",
        "MAIL.DIR;1            6/9         1-FEB-2004 08:15:42  [STAFF,JONES]   (RWE,RWE,,)",
        "A_VERY_LONG_NAME_FOR_A_REPORT_FILE.TXT;2",
        "                     14/15   24-JUL-2002 14:35:40  [STAFF,JONES]   (RWE,RWE,RWE,RE)",
        "",
        "Total of 3 files, 22/28 blocks.",
    ],
    "DISK$USER:[ANONYMOUS.MAIL]": [
        "Directory DISK$USER:[ANONYMOUS.MAIL]",
        "",
        "INBOX.MAI;1          40/42        2-JUN-2024 09:00:00  [STAFF,JONES]   (RWED,RWED,,)",
        "",
        "Total of 1 file, 40/42 blocks.",
    ],
}


def vms_server_script(ctl: HostileControl) -> None:
    """An OpenVMS-like server: VMS directory specs in PWD, CWD into NAME, VMS listings."""
    here = [VMS_HOME]

    def cwd(ctl: HostileControl, argument: str) -> None:
        inside = f"{here[0][:-1]}.{argument}]"
        if argument in VMS_TREE or inside in VMS_TREE:
            here[0] = argument if argument in VMS_TREE else inside
            ctl.reply("250 CWD command successful.")
        else:
            ctl.reply(f"550 {argument}: no such directory.")

    def pwd(ctl: HostileControl, argument: str) -> None:
        ctl.reply(f'257 "{here[0]}" is current directory.')

    ctl.serve({"CWD": cwd, "PWD": pwd, "LIST": hostile_list_of(lambda: VMS_TREE[here[0]])})


def test_walk_enters_the_directories_an_openvms_listing_names(hostile_server) -> None:
    server = hostile_server(vms_server_script)
    ftp = server.connect(timeout=HOSTILE_TIMEOUT)
    with hostile_within(3 * HOSTILE_TIMEOUT):
        walked = list(ftp.walk())
    assert walked == [
        (VMS_HOME, ["MAIL"], ["LOGIN.COM;3", "A_VERY_LONG_NAME_FOR_A_REPORT_FILE.TXT;2"]),
        (f"{VMS_HOME}/MAIL", [], ["INBOX.MAI;1"]),
    ]
    assert "CWD MAIL" in server.commands
    assert ftp.pwd() == VMS_HOME  # the walk came back where it began
    hostile_assert_in_step(ftp, server)


# --------------------------------------------------------------------------
# Any text: nothing but error_proto, and a fixed cost per line
# --------------------------------------------------------------------------

LINE_COST_BOUND = 0.025
"""CPU seconds one line may cost, up to 4 * MAXLINE characters; a linear parse of the longest
takes about a millisecond, a quadratic one seconds."""

CORPUS_LINES = [line for case in CORPUS for line in case.lines]
CORPUS_TOKENS = sorted({token for line in CORPUS_LINES for token in line.split()})
SEPARATORS = [" ", "  ", "   ", "\t", "", "\r", "\n", "\u00a0"]
ODD_PIECES = [
    "/", ";", ";1", "*", "*FILE", "[", "]", "(", ")", ",", "-", ":", ".", "+", "'", '"',
    "9" * 25, "\u00b2", "\u0663", "\udce9", "é", "folder", "<DIR>", "Migrated", "VSAM",
    "Directory", "Total of", "PO-E", "+++++", "**NONE**",
]  # fmt: skip

tokens = st.sampled_from(CORPUS_TOKENS) | st.sampled_from(ODD_PIECES) | st.text(max_size=3)
glued_lines = st.lists(st.tuples(tokens, st.sampled_from(SEPARATORS)), max_size=40).map(
    lambda pairs: "".join(token + separator for token, separator in pairs)
)


@st.composite
def spliced_lines(draw: st.DrawFn) -> str:
    """A corpus line with a few cuts, insertions and splices from other corpus lines."""
    line = draw(st.sampled_from(CORPUS_LINES))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(line)))
        end = draw(st.integers(at, min(len(line), at + 12)))
        other = draw(st.sampled_from(CORPUS_LINES))
        start = draw(st.integers(0, len(other)))
        piece = draw(st.sampled_from([other[start : start + 15], "", draw(tokens)]))
        line = line[:at] + piece + line[end:]
    return line


# A fragment repeated to thousands of characters: what makes a backtracking regex blow up.
repeated_lines = st.builds(
    lambda head, fragment, count: head + fragment * count,
    st.sampled_from(["", *(line[:12] for line in CORPUS_LINES)]),
    glued_lines.filter(bool),  # an empty fragment repeats to nothing
    st.integers(1, 2000),
).map(lambda line: line[: 4 * ftplib2.MAXLINE])


def cpu_seconds(parse: Callable[[], object]) -> float:
    """The least CPU time of three runs of `parse` (which may raise error_proto).

    One run far over the bound is enough: a quadratic parse of a long line takes seconds.
    """
    best = float("inf")
    for _ in range(3):
        start = time.thread_time()
        with contextlib.suppress(ftplib2.error_proto):
            parse()
        best = min(best, time.thread_time() - start)
        if best > 4 * LINE_COST_BOUND:
            break
    return best


def check_entry(line: str) -> None:
    """Parse `line`: nothing but error_proto, a well-formed result, within the cost bound."""
    try:
        entry = ftplib2.parse_list_line(line, NOW)
    except ftplib2.error_proto:
        entry = None
    if entry is not None:
        assert isinstance(entry, ftplib2.Entry)
        assert isinstance(entry.name, str) and entry.type in ("file", "dir", "link", "other")
        assert entry.size is None or 0 <= entry.size <= 2**64 - 1
        assert entry.modify is None or entry.modify.tzinfo is datetime.UTC
        if "os400.type" in entry.facts:
            assert "/" not in entry.name
    assert cpu_seconds(lambda: ftplib2.parse_list_line(line, NOW)) < LINE_COST_BOUND


@DIALECT_HYPOTHESIS
@given(line=st.text() | glued_lines | spliced_lines())
@example(line="A_LONG_NAME.TXT;1 " + "(" * 3000)
@example(line="-rw-r--r--" + " " * 3000)  # took quadratic time: 0.35 s, 1.3 s at MAXLINE
@example(line="01-02-2024  11:05" + " " * 3000 + "x")
@example(line="QPGMR  *MEM  /")
@example(line="QPGMR  *MEM  /..")
@example(line="Pseudo Directory")
@example(line="JONES  100 24/000 08:30:00 *STMF julian.txt")
@example(line="JONES  100 99/366 08:30:00 *STMF julian.txt")
def test_parse_list_line_raises_nothing_but_error_proto_within_its_cost(line: str) -> None:
    check_entry(line)


@settings(DIALECT_HYPOTHESIS, max_examples=150)
@given(line=repeated_lines)
def test_long_repetitive_lines_cost_no_more_than_the_bound(line: str) -> None:
    check_entry(line)


@DIALECT_HYPOTHESIS
@given(lines=st.lists(spliced_lines() | glued_lines | st.sampled_from(["   x", "(", "1/2"])))
def test_parse_list_raises_nothing_but_error_proto(lines: list[str]) -> None:
    try:
        entries = ftplib2.parse_list(lines, NOW)
    except ftplib2.error_proto:
        return
    assert all(isinstance(entry, ftplib2.Entry) for entry in entries)
    assert len(entries) <= len(lines)


def adversarial_lines(length: int) -> Iterator[tuple[str, str]]:
    """Lines built to make a backtracking parser work hard, about `length` characters long."""

    def fill(head: str, fragment: str, tail: str = "") -> str:
        return head + fragment * ((length - len(head) - len(tail)) // len(fragment)) + tail

    yield "unix-mode-blanks", fill("-rw-r--r--", " ")
    yield "unix-mode-blanks-x", fill("-rw-r--r--", " ", "x")
    yield "unix-numbers", fill("-rw-r--r-- ", "1 ")
    yield "unix-dates", fill("-rw-r--r-- ", "1 Jan  1 ")
    yield "unix-dates-no-name", fill("-rw-r--r-- ", "1 Jan  1  2020", " ")
    yield "unix-device", fill("-rw-r--r-- ", "1, ")
    yield "unix-newline-end", fill("-rw-r--r--", " 1 Jan 1 2020 x", "\n")
    yield "unix-long-name", fill("-rw-r--r-- 1 a b 1 Jan  1  2020 ", "x")
    yield "mac-numbers", fill("-rw-r--r-- ", "1 2 3 ")
    yield "dos-blanks-after-time", fill("01-02-2024  11:05", " ", "x")
    yield "dos-blanks-no-name", fill("01-02-2024  11:05AM  1234", " ")
    yield "dos-blanks-newline", fill("01-02-2024  11:05AM  1234", " ", "\n")
    yield "netware-owner", fill("d [RWCEAFMS] ", "a", " 512 Jan  1  2020")
    yield "tandem-numbers", fill("NAME ", "1 ")
    yield "vms-spec", fill("", "A", ";1")
    yield "vms-semicolons", fill("A", ";1")
    yield "vms-owners", fill("A.B;1  1/2  1-JAN-2020 ", "[G,O] ")
    yield "vms-parentheses", fill("A.B;1 ", "(")
    yield "os400-numbers", fill("QSYS ", "1 ", "*FILE x")
    yield "os400-dates", fill("QSYS 1 ", "01/01/01 ")
    yield "os400-blanks", fill("", " ", "*MEM")
    yield "os2-flags", fill("1 ", "A ")
    yield "os2-blanks", fill("", " ", "1")
    yield "mvs-dates", fill("VOL001 3390 ", "2024/01/01 ", "FB 80 80 PS X")
    yield "mvs-migrated", fill("", "Migrated ")
    yield "mvs-member-stats", fill("ABC 01.00 ", "2024/01/01 ")
    yield "mvs-member-name", fill("", "A")
    yield "eplf-facts", fill("+", "s1,", "\tname")
    yield "eplf-commas", fill("+", ",")
    yield "blanks", fill("", " ")
    yield "digits", fill("", "9")


@pytest.mark.parametrize(
    "kind", [kind for kind, _ in adversarial_lines(ftplib2.MAXLINE)]
)  # fmt: skip
def test_adversarial_lines_cost_a_bounded_linear_time(kind: str) -> None:
    """At MAXLINE and at four times MAXLINE: under the bound, and four times the length is
    not much more than four times the time (a quadratic parse would be sixteen)."""
    short = dict(adversarial_lines(ftplib2.MAXLINE))[kind]
    long = dict(adversarial_lines(4 * ftplib2.MAXLINE))[kind]
    short_cost = cpu_seconds(lambda: ftplib2.parse_list_line(short, NOW))
    assert short_cost < LINE_COST_BOUND
    long_cost = cpu_seconds(lambda: ftplib2.parse_list_line(long, NOW))
    assert long_cost < LINE_COST_BOUND
    assert long_cost < 8 * max(short_cost, 0.0005)
