"""LIST lines in the dialects real FTP servers send, each with the entry it describes.

Each case is one line, or the lines of one entry a server wrapped (OpenVMS), in the shape the
dialect's documentation and published listings show: IBM's pages for z/OS (the FTP ``DIR``
subcommand, LISTLEVEL) and IBM i (LISTFMT 0, NAMEFMT), the OpenVMS ``DIRECTORY`` command, HP's
NonStop TCP/IP guide, the EPLF definition (cr.yp.to), POSIX ``ls -l``, and listings of IIS,
NetWare, OS/2, NetPresenz and Peter's Mac server quoted by the clients that read them (Apache
Commons Net, FluentFTP, FileZilla, curl, FFFTP).  The names and numbers are made up.

The expected values were written by hand from those documents, never produced by the parser,
against these rules (Doc/howto/listings.rst has the table):

* ``modify`` is UTC, taken as listed; a date without a year is placed by ``NOW``: the year of
  ``NOW``, or the year before if that would be more than two days after ``NOW``;
* ``size`` is a size in bytes, or None where the dialect gives none (blocks, tracks, records);
* ``facts`` hold the dialect's other columns as listed, under its prefix;
* ``name`` is None for a line that describes no entry (a heading, a total, a blank line).

This module is data only; tests/test_listing_dialects.py runs it.
"""

from __future__ import annotations

import dataclasses
import datetime

NOW = datetime.datetime(2024, 6, 15, 12, 0, tzinfo=datetime.UTC)
"""The time the corpus was listed at: places the dates that carry no year."""


@dataclasses.dataclass
class Case:
    """One entry as listed, and what it says."""

    dialect: str
    lines: tuple[str, ...]
    name: str | None  # None: the lines describe no entry
    type: str = "file"
    size: int | None = None
    modify: datetime.datetime | None = None
    perm: str | None = None
    target: str | None = None
    unique: str | None = None
    facts: dict[str, str] = dataclasses.field(default_factory=dict)
    raw: str | None = None  # the entry's text, if not its one line (wrapped entries, joined)

    @property
    def text(self) -> str:
        """What Entry.raw holds: the line, or the wrapped lines joined by one blank."""
        return self.raw if self.raw is not None else self.lines[0]


def utc(*fields: int) -> datetime.datetime:
    return datetime.datetime(*fields, tzinfo=datetime.UTC)  # type: ignore[misc]


def nothing(dialect: str, line: str) -> Case:
    """A line that describes no entry."""
    return Case(dialect, (line,), None)


# The tables below are laid out by hand, one entry to a call: keep the formatter out.
# fmt: off

# --------------------------------------------------------------------------
# Unix ls -l (POSIX): mode, links, owner, group, size, date, name
# --------------------------------------------------------------------------


def unix(
    line: str,
    name: str,
    kind: str,
    size: int | None,
    modify: datetime.datetime | None,
    perm: str,
    target: str | None = None,
    dialect: str = "unix",
) -> Case:
    return Case(dialect, (line,), name, kind, size, modify, perm, target)


UNIX = [
    unix("-rw-r--r--   1 ftp      ftp       1048576 Mar 05 14:07 README",
         "README", "file", 1048576, utc(2024, 3, 5, 14, 7), "rw-r--r--"),
    unix("drwxr-xr-x   2 ftp      ftp          4096 Nov 30  2023 pub",
         "pub", "dir", 4096, utc(2023, 11, 30), "rwxr-xr-x"),
    # Without a year: in the future for this year, so last year.
    unix("drwxr-xr-x   2 ftp      ftp          4096 Nov 30 09:15 incoming",
         "incoming", "dir", 4096, utc(2023, 11, 30, 9, 15), "rwxr-xr-x"),
    unix("lrwxrwxrwx   1 root     root            7 Jan  5  2023 latest -> v2.1.0",
         "latest", "link", 7, utc(2023, 1, 5), "rwxrwxrwx", "v2.1.0"),
    # ACL (+), extended attributes (@) and SELinux context (.) markers after the mode.
    unix("-rw-r--r--+  1 alice    staff         512 Feb 29 10:00 acl-file",
         "acl-file", "file", 512, utc(2024, 2, 29, 10, 0), "rw-r--r--"),
    unix("drwxrwxr-x+  3 bob      devs         4096 Apr  1  2022 shared",
         "shared", "dir", 4096, utc(2022, 4, 1), "rwxrwxr-x"),
    unix("-rw-r--r--@  1 carol    staff       20480 May 20 08:30 photo.jpg",
         "photo.jpg", "file", 20480, utc(2024, 5, 20, 8, 30), "rw-r--r--"),
    unix("-rw-r--r--.  1 root     root         1024 Jun 14 23:59 selinux.conf",
         "selinux.conf", "file", 1024, utc(2024, 6, 14, 23, 59), "rw-r--r--"),
    unix("drwx------@ 12 dave     staff         384 Jan 31  2021 Library",
         "Library", "dir", 384, utc(2021, 1, 31), "rwx------"),
    # Numeric user and group ids.
    unix("-rw-r--r--   1 1000     1000         2048 Jun 15 11:00 numeric-ids",
         "numeric-ids", "file", 2048, utc(2024, 6, 15, 11, 0), "rw-r--r--"),
    unix("-rw-------   1 0        0              12 Dec 31  1999 y2k.txt",
         "y2k.txt", "file", 12, utc(1999, 12, 31), "rw-------"),
    # No group column.
    unix("-rw-r--r--   1 ftp          7340032 Jan 10 17:45 no-group.iso",
         "no-group.iso", "file", 7340032, utc(2024, 1, 10, 17, 45), "rw-r--r--"),
    unix("drwxr-xr-x   4 ftp             4096 Aug  9  2021 no-group-dir",
         "no-group-dir", "dir", 4096, utc(2021, 8, 9), "rwxr-xr-x"),
    # Three numbers whose first two do not add up to the third: links, owner, size.
    unix("-rw-r--r--   1 1000         1234 Jan  1  2020 numeric-owner-no-group",
         "numeric-owner-no-group", "file", 1234, utc(2020, 1, 1), "rw-r--r--"),
    # A group name with a blank in it (Windows servers imitating ls).
    unix("drwx------   4 maria    Domain Users  512 Oct  2 10:59 .settings",
         ".settings", "dir", 512, utc(2023, 10, 2, 10, 59), "rwx------"),
    nothing("unix", "total 48"),
    nothing("unix", "total 0"),
    nothing("unix", ""),
    nothing("unix", "   "),
    # Devices list major, minor in place of a size; pipes and sockets list a size.
    unix("crw-rw-rw-   1 root     root       1,   3 Jun 10 09:00 null",
         "null", "other", None, utc(2024, 6, 10, 9, 0), "rw-rw-rw-"),
    unix("brw-rw----   1 root     disk       8,   0 Jun  1 08:00 sda",
         "sda", "other", None, utc(2024, 6, 1, 8, 0), "rw-rw----"),
    unix("crw--w----   1 root     tty      136,   0 Jun 15 11:58 0",
         "0", "other", None, utc(2024, 6, 15, 11, 58), "rw--w----"),
    unix("crw-rw----   1 root     video    226,128 Feb  2 02:02 renderD128",
         "renderD128", "other", None, utc(2024, 2, 2, 2, 2), "rw-rw----"),
    unix("prw-r--r--   1 root     root            0 May  5 12:00 fifo",
         "fifo", "other", 0, utc(2024, 5, 5, 12, 0), "rw-r--r--"),
    unix("srwxrwxrwx   1 mysql    mysql           0 Apr 30 10:10 mysql.sock",
         "mysql.sock", "other", 0, utc(2024, 4, 30, 10, 10), "rwxrwxrwx"),
    # Sticky, set-user-id and set-group-id bits.
    unix("drwxrwxrwt  10 root     root         4096 Jun 15 11:30 tmp",
         "tmp", "dir", 4096, utc(2024, 6, 15, 11, 30), "rwxrwxrwt"),
    unix("-rwsr-xr-x   1 root     root        63960 Feb  7  2020 passwd",
         "passwd", "file", 63960, utc(2020, 2, 7), "rwsr-xr-x"),
    unix("-rwxr-sr-x   1 root     shadow      31312 Feb  7  2020 chage",
         "chage", "file", 31312, utc(2020, 2, 7), "rwxr-sr-x"),
    unix("-rw-r-Sr--   1 ftp      ftp            42 Mar  1 00:00 capital-S",
         "capital-S", "file", 42, utc(2024, 3, 1, 0, 0), "rw-r-Sr--"),
    unix("drwxr-xr-T   2 ftp      ftp          4096 Mar  1 00:00 capital-T",
         "capital-T", "dir", 4096, utc(2024, 3, 1, 0, 0), "rwxr-xr-T"),
    # Symbolic links: split at the first " -> ".
    unix("lrwxrwxrwx   1 ftp      ftp            11 Jun  2 16:20 docs -> share/doc",
         "docs", "link", 11, utc(2024, 6, 2, 16, 20), "rwxrwxrwx", "share/doc"),
    unix("lrwxrwxrwx   1 ftp      ftp            15 Jun  2 16:20 my link -> my target dir",
         "my link", "link", 15, utc(2024, 6, 2, 16, 20), "rwxrwxrwx", "my target dir"),
    unix("lrwxrwxrwx   1 ftp      ftp             2 Jun  2 16:20 up -> ..",
         "up", "link", 2, utc(2024, 6, 2, 16, 20), "rwxrwxrwx", ".."),
    unix("lrwxrwxrwx   1 root     root           19 Mar 10  2022 python -> /usr/bin/python3.11",
         "python", "link", 19, utc(2022, 3, 10), "rwxrwxrwx", "/usr/bin/python3.11"),
    unix("lrwxrwxrwx   1 root     root            6 Mar 10  2022 a -> b -> c",
         "a", "link", 6, utc(2022, 3, 10), "rwxrwxrwx", "b -> c"),
    # Names: blanks inside, a blank before (after the one that ends the date), after.
    unix("-rw-r--r--   1 ftp      ftp           100 Jul  4  2023 file with spaces.txt",
         "file with spaces.txt", "file", 100, utc(2023, 7, 4), "rw-r--r--"),
    unix("-rw-r--r--   1 ftp      ftp           100 Jul  4  2023  leading space",
         " leading space", "file", 100, utc(2023, 7, 4), "rw-r--r--"),
    unix("-rw-r--r--   1 ftp      ftp           100 Jul  4  2023 trailing space ",
         "trailing space ", "file", 100, utc(2023, 7, 4), "rw-r--r--"),
    unix("-rw-r--r--   1 ftp      ftp           100 Jul  4  2023 -> not a link",
         "-> not a link", "file", 100, utc(2023, 7, 4), "rw-r--r--"),
    unix("-rw-r--r--   1 ftp      ftp           300 Mar  5 14:07 .hidden",
         ".hidden", "file", 300, utc(2024, 3, 5, 14, 7), "rw-r--r--"),
    unix("-rwxr-xr-x   1 ftp      ftp           123 Mar  5  2019 Jan  1 12:00 odd",
         "Jan  1 12:00 odd", "file", 123, utc(2019, 3, 5), "rwxr-xr-x"),
    unix("-rw-r--r--   1 ftp      ftp           123 Mar  5 14:07 naïve-café.txt",
         "naïve-café.txt", "file", 123, utc(2024, 3, 5, 14, 7), "rw-r--r--"),
    unix("drwxr-xr-x   2 ftp      ftp          4096 Jun 15 11:59 .",
         ".", "dir", 4096, utc(2024, 6, 15, 11, 59), "rwxr-xr-x"),
    unix("drwxr-xr-x  14 ftp      ftp          4096 Jun 15 11:59 ..",
         "..", "dir", 4096, utc(2024, 6, 15, 11, 59), "rwxr-xr-x"),
    # Sizes: none, the largest that fits 64 bits.
    unix("-rw-rw-r--   1 user     group           0 Jun  9 07:07 empty",
         "empty", "file", 0, utc(2024, 6, 9, 7, 7), "rw-rw-r--"),
    unix("-rw-r--r--   1 ftp      ftp  18446744073709551615 Jan  1  2024 huge",
         "huge", "file", 18446744073709551615, utc(2024, 1, 1), "rw-r--r--"),
    # The six-month rule: a time, no year, for the last six months; up to two days ahead is
    # this year (clocks differ), further ahead is last year.
    unix("-rw-r--r--   1 ftp      ftp          1234 Jun 17 12:00 two-days-ahead",
         "two-days-ahead", "file", 1234, utc(2024, 6, 17, 12, 0), "rw-r--r--"),
    unix("-rw-r--r--   1 ftp      ftp          1234 Jun 18 09:00 three-days-ahead",
         "three-days-ahead", "file", 1234, utc(2023, 6, 18, 9, 0), "rw-r--r--"),
    unix("drwxr-xr-x  12 ftp      ftp          4096 Jun 16 00:00 tomorrow",
         "tomorrow", "dir", 4096, utc(2024, 6, 16, 0, 0), "rwxr-xr-x"),
    unix("-rw-r--r--   1 ftp      ftp          1234 Dec 20 10:00 last-december",
         "last-december", "file", 1234, utc(2023, 12, 20, 10, 0), "rw-r--r--"),
    unix("-rw-r--r--   1 ftp      ftp          1234 Jan  1 00:00 new-year",
         "new-year", "file", 1234, utc(2024, 1, 1, 0, 0), "rw-r--r--"),
    unix("-rw-r--r--   1 www-data www-data     5120 Sep 30 23:59 index.html",
         "index.html", "file", 5120, utc(2023, 9, 30, 23, 59), "rw-r--r--"),
    unix("-rw-r--r--   1 root     other         847 Jan 29 03:26 NOTICE",
         "NOTICE", "file", 847, utc(2024, 1, 29, 3, 26), "rw-r--r--"),
    # The year instead of the time, for anything older (or newer) than that.
    unix("-rw-r--r--   1 ftp      ftp          1234 Jun 15  2024 this-year",
         "this-year", "file", 1234, utc(2024, 6, 15), "rw-r--r--"),
    unix("dr-xr-xr-x   3 root     other        1024 Sep 14  1995 usr",
         "usr", "dir", 1024, utc(1995, 9, 14), "r-xr-xr-x"),
    unix("-rw-r--r--   1 ftp      ftp             0 Jan  1  1970 epoch",
         "epoch", "file", 0, utc(1970, 1, 1), "rw-r--r--"),
    unix("-rw-r--r--   1 ftp      ftp          1234 Feb 29  2020 leap-2020",
         "leap-2020", "file", 1234, utc(2020, 2, 29), "rw-r--r--"),
    # A day that does not exist: the entry stands, without a time.
    unix("-rw-r--r--   1 ftp      ftp          1234 Feb 30  2020 no-such-day",
         "no-such-day", "file", 1234, None, "rw-r--r--"),
    # Month names in any case, a day without padding.
    unix("-rw-r--r--   1 user     group        1234 mar  5 14:07 lowercase-month",
         "lowercase-month", "file", 1234, utc(2024, 3, 5, 14, 7), "rw-r--r--"),
    unix("-rw-r--r--   1 user     group        1234 Mar 5 14:07 unpadded-day",
         "unpadded-day", "file", 1234, utc(2024, 3, 5, 14, 7), "rw-r--r--"),
]

# IIS set to its "UNIX" directory listing style: ls-shaped lines with the literal words
# owner and group, all permissions, and a directory size of 0.
IIS_UNIX = [
    unix("-rwxrwxrwx   1 owner    group         1048576 Feb 10 14:03 report.pdf",
         "report.pdf", "file", 1048576, utc(2024, 2, 10, 14, 3), "rwxrwxrwx", dialect="iis-unix"),
    unix("drwxrwxrwx   1 owner    group               0 Feb 10  2023 images",
         "images", "dir", 0, utc(2023, 2, 10), "rwxrwxrwx", dialect="iis-unix"),
    unix("-r-xr-xr-x   1 owner    group            1234 Jan  5  2010 readonly.txt",
         "readonly.txt", "file", 1234, utc(2010, 1, 5), "r-xr-xr-x", dialect="iis-unix"),
    unix("drwxrwxrwx   1 owner    group               0 Jun 14 22:15 aspnet_client",
         "aspnet_client", "dir", 0, utc(2024, 6, 14, 22, 15), "rwxrwxrwx", dialect="iis-unix"),
    unix("-rwxrwxrwx   1 owner    group           18944 Oct  3 08:08 web.config",
         "web.config", "file", 18944, utc(2023, 10, 3, 8, 8), "rwxrwxrwx", dialect="iis-unix"),
    unix("-rwxrwxrwx   1 owner    group              64 Mar  9 09:09 My Document.docx",
         "My Document.docx", "file", 64, utc(2024, 3, 9, 9, 9), "rwxrwxrwx", dialect="iis-unix"),
]

# z/OS UNIX (USS) directories list in ls form; owners and groups are RACF names.
ZOS_USS = [
    nothing("zos-uss", "total 17904"),
    unix("drwxrwxr-x   2 OMVSKERN SYS1        8192 Sep 21  2016 install",
         "install", "dir", 8192, utc(2016, 9, 21), "rwxrwxr-x", dialect="zos-uss"),
    unix("drwxrwxr-x   4 OMVSKERN SYS1        8192 Mar  3  2017 archive",
         "archive", "dir", 8192, utc(2017, 3, 3), "rwxrwxr-x", dialect="zos-uss"),
    unix("-rw-rw----   1 ZUSER01  SYS1     3145011 Dec  6  2021 trace.out",
         "trace.out", "file", 3145011, utc(2021, 12, 6), "rw-rw----", dialect="zos-uss"),
    unix("-rw-r-----   1 ZUSER01  SYS1      204800 Jan  2  2022 test.bin",
         "test.bin", "file", 204800, utc(2022, 1, 2), "rw-r-----", dialect="zos-uss"),
    unix("lrwxrwxrwx     1 BPXROOT  OMVSGRP        9 Jul 13 19:13 $SYSNAME -> $SYSNAME/",
         "$SYSNAME", "link", 9, utc(2023, 7, 13, 19, 13), "rwxrwxrwx", "$SYSNAME/",
         dialect="zos-uss"),
    unix("lrwxrwxrwx     1 BPXROOT  OMVSGRP        9 Jul 13 19:13 $VERSION -> $VERSION/",
         "$VERSION", "link", 9, utc(2023, 7, 13, 19, 13), "rwxrwxrwx", "$VERSION/",
         dialect="zos-uss"),
    unix("drwxr-xr-x    10 BPXROOT  OMVSGRP     8192 Jul 13 18:52 SYSTEM",
         "SYSTEM", "dir", 8192, utc(2023, 7, 13, 18, 52), "rwxr-xr-x", dialect="zos-uss"),
    unix("-rwx------     1 ZUSER02  DEFLT1      2214 Aug 25  2004 CostReport",
         "CostReport", "file", 2214, utc(2004, 8, 25), "rwx------", dialect="zos-uss"),
    unix("lrwxrwxrwx     1 ZUSER02  DEFLT1         1 Nov  7 20:35 root -> /",
         "root", "link", 1, utc(2023, 11, 7, 20, 35), "rwxrwxrwx", "/", dialect="zos-uss"),
    unix("drwx------     2 ZUSER02  DEFLT1      8192 Nov  7 20:12 private",
         "private", "dir", 8192, utc(2023, 11, 7, 20, 12), "rwx------", dialect="zos-uss"),
    unix("-rw-r--r--   1 IBMUSER  SYS1         330 Jun  3 09:41 .profile",
         ".profile", "file", 330, utc(2024, 6, 3, 9, 41), "rw-r--r--", dialect="zos-uss"),
    unix("-rwxr-xr-x   2 BPXROOT  OMVSGRP    10665 Jul 10  2003 profile",
         "profile", "file", 10665, utc(2003, 7, 10), "rwxr-xr-x", dialect="zos-uss"),
]


# --------------------------------------------------------------------------
# MS-DOS style (IIS, other Windows servers): MM-DD-YY[YY]  hh:mm[AM|PM]  <DIR> or size  name
# --------------------------------------------------------------------------


def dos(line: str, name: str, size: int | None, modify: datetime.datetime | None) -> Case:
    return Case("iis", (line,), name, "dir" if size is None else "file", size, modify)


IIS = [
    dos("02-10-24  02:03PM       <DIR>          reports", "reports", None, utc(2024, 2, 10, 14, 3)),
    dos("02-10-24  02:03PM              1048576 annual report.pdf",
        "annual report.pdf", 1048576, utc(2024, 2, 10, 14, 3)),
    dos("12-31-99  11:59PM                  512 millennium.txt",
        "millennium.txt", 512, utc(1999, 12, 31, 23, 59)),
    # 12 AM is midnight, 12 PM noon.
    dos("01-01-00  12:00AM                    0 midnight.txt", "midnight.txt", 0, utc(2000, 1, 1)),
    dos("07-04-23  12:30PM                 2048 noon.txt",
        "noon.txt", 2048, utc(2023, 7, 4, 12, 30)),
    dos("04-01-19  12:01AM                  100 april.txt",
        "april.txt", 100, utc(2019, 4, 1, 0, 1)),
    dos("04-01-19  12:59PM                  100 april-noon.txt",
        "april-noon.txt", 100, utc(2019, 4, 1, 12, 59)),
    # Two-digit years from 70 are 19xx, the others 20xx.
    dos("01-01-70  12:00AM                    1 seventy", "seventy", 1, utc(1970, 1, 1)),
    dos("05-28-01  01:19PM       <DIR>          inetpub",
        "inetpub", None, utc(2001, 5, 28, 13, 19)),
    # IIS with the long date (FtpDirBrowseShowLongDate): four-digit years.
    dos("03-15-2024  09:05AM       <DIR>          long-date-dir",
        "long-date-dir", None, utc(2024, 3, 15, 9, 5)),
    dos("03-15-2024  09:05PM                 7777 long-date-file.bin",
        "long-date-file.bin", 7777, utc(2024, 3, 15, 21, 5)),
    dos("11-30-2023  10:00AM                  123 report 2023.xlsx",
        "report 2023.xlsx", 123, utc(2023, 11, 30, 10, 0)),
    dos("01-31-2005  04:30PM                  999 archive-2005.zip",
        "archive-2005.zip", 999, utc(2005, 1, 31, 16, 30)),
    dos("09-30-1999  10:00PM       <DIR>          old-long-date",
        "old-long-date", None, utc(1999, 9, 30, 22, 0)),
    # Servers with a 24-hour clock.
    dos("06-01-98  17:45                  1024 CONFIG.SYS",
        "CONFIG.SYS", 1024, utc(1998, 6, 1, 17, 45)),
    dos("10-01-11  19:30       <DIR>          Temp", "Temp", None, utc(2011, 10, 1, 19, 30)),
    dos("06-15-2024  11:45                    64 twentyfour-hour-long.txt",
        "twentyfour-hour-long.txt", 64, utc(2024, 6, 15, 11, 45)),
    dos("06-15-2024  23:45       <DIR>          night", "night", None, utc(2024, 6, 15, 23, 45)),
    dos("02-29-24  06:00AM                   29 leap.txt", "leap.txt", 29, utc(2024, 2, 29, 6, 0)),
    dos("02-30-23  06:00AM                   30 bad-date.txt", "bad-date.txt", 30, None),
    dos("10-05-22  11:11AM           4294967296 four-gib.iso",
        "four-gib.iso", 4294967296, utc(2022, 10, 5, 11, 11)),
    dos("10-05-22  11:11AM                   55 name  with  double  spaces.txt",
        "name  with  double  spaces.txt", 55, utc(2022, 10, 5, 11, 11)),
    dos("10-05-22  11:11AM       <DIR>          2024 budget drafts",
        "2024 budget drafts", None, utc(2022, 10, 5, 11, 11)),
    dos("10-05-22  11:11AM                 1234 $Recycle.Bin.log",
        "$Recycle.Bin.log", 1234, utc(2022, 10, 5, 11, 11)),
    dos("10-05-22  11:11AM                   12 .gitignore",
        ".gitignore", 12, utc(2022, 10, 5, 11, 11)),
    dos("12-25-23  08:00AM                 2222 Ünïcödé.txt",
        "Ünïcödé.txt", 2222, utc(2023, 12, 25, 8, 0)),
    dos("08-08-08  08:08AM       <DIR>          aspnet_client",
        "aspnet_client", None, utc(2008, 8, 8, 8, 8)),
    dos("08-08-08  08:08PM                18944 web.config",
        "web.config", 18944, utc(2008, 8, 8, 20, 8)),
    dos("11-11-11  11:11AM                    1 one-byte",
        "one-byte", 1, utc(2011, 11, 11, 11, 11)),
    dos("07-14-96  10:57AM               238912 $WINNT$.INF",
        "$WINNT$.INF", 238912, utc(1996, 7, 14, 10, 57)),
]


# --------------------------------------------------------------------------
# EPLF (cr.yp.to/ftp/list/eplf.html): +facts<TAB>name
# --------------------------------------------------------------------------


def eplf(
    line: str,
    name: str,
    kind: str,
    size: int | None,
    modify: datetime.datetime | None,
    unique: str | None = None,
    perm: str | None = None,
) -> Case:
    return Case("eplf", (line,), name, kind, size, modify, perm, None, unique)


EPLF = [
    eplf("+i123.456,m1700000000,r,s1024,\tfile.txt",
         "file.txt", "file", 1024, utc(2023, 11, 14, 22, 13, 20), "123.456"),
    eplf("+i123.457,m1700000001,/,\tdir",
         "dir", "dir", None, utc(2023, 11, 14, 22, 13, 21), "123.457"),
    eplf("+m1700000000,r,s0,\tempty", "empty", "file", 0, utc(2023, 11, 14, 22, 13, 20)),
    eplf("+r,s5,\tno-time", "no-time", "file", 5, None),
    eplf("+/,\tno-time-dir", "no-time-dir", "dir", None, None),
    eplf("+i9.9,m0,r,s1,\tepoch", "epoch", "file", 1, utc(1970, 1, 1), "9.9"),
    eplf("+i1.2,m1000000000,r,s18446744073709551615,\thuge",
         "huge", "file", 18446744073709551615, utc(2001, 9, 9, 1, 46, 40), "1.2"),
    eplf("+i1.3,m1700000000,up644,r,s10,\tperm",
         "perm", "file", 10, utc(2023, 11, 14, 22, 13, 20), "1.3", "644"),
    eplf("+m1700000000,r,s10,\tname with spaces",
         "name with spaces", "file", 10, utc(2023, 11, 14, 22, 13, 20)),
    eplf("+i1.4,m1700000000,r,s10,\t\ttab-first",
         "\ttab-first", "file", 10, utc(2023, 11, 14, 22, 13, 20), "1.4"),
    # A time past 64 bits is no time.
    eplf("+i1.5,r,s10,m99999999999999999999,\tfar-future", "far-future", "file", 10, None, "1.5"),
    eplf("+i1.6,m1700000000,\tno-type",
         "no-type", "other", None, utc(2023, 11, 14, 22, 13, 20), "1.6"),
    eplf("+i1.7,m1700000000,r,s10,x,\tunknown-fact",
         "unknown-fact", "file", 10, utc(2023, 11, 14, 22, 13, 20), "1.7"),
]


# --------------------------------------------------------------------------
# OpenVMS DIRECTORY/SIZE/DATE/OWNER/PROTECTION:
#   NAME.TYPE;version  used[/allocated] blocks  DD-MON-YYYY hh:mm:ss[.cc]  [group,owner]  (S,O,G,W)
# A directory is NAME.DIR;1 (its name is NAME, what CWD takes); a file keeps its version.
# Sizes are in 512-byte blocks, not bytes: size is None and the blocks are facts.
# --------------------------------------------------------------------------


def vms(
    lines: str | tuple[str, ...],
    name: str,
    kind: str,
    modify: datetime.datetime | None,
    perm: str | None,
    facts: dict[str, str],
    raw: str | None = None,
) -> Case:
    lines = (lines,) if isinstance(lines, str) else lines
    return Case("vms", lines, name, kind, None, modify, perm, facts=facts, raw=raw)


def vf(version: str, blocks: str | None = None, allocated: str | None = None,
       owner: str | None = None) -> dict[str, str]:  # fmt: skip
    """The facts of a VMS entry."""
    facts = {"vms.version": version}
    if blocks is not None:
        facts["vms.blocks"] = blocks
    if allocated is not None:
        facts["vms.allocated"] = allocated
    if owner is not None:
        facts["vms.owner"] = owner
    return facts


VMS = [
    nothing("vms", "Directory DISK$USER:[ANONYMOUS]"),
    nothing("vms", "Directory SYS$SYSDEVICE:[FTP.PUB]"),
    vms("LOGIN.COM;3           2/4        14-MAR-2005 10:21:33  [STAFF,JONES]   (RWED,RWED,RE,)",
        "LOGIN.COM;3", "file", utc(2005, 3, 14, 10, 21, 33), "RWED,RWED,RE,",
        vf("3", "2", "4", "STAFF,JONES")),
    vms("LOGIN.COM;2           2/4        10-JAN-2005 09:00:00  [STAFF,JONES]   (RWED,RWED,RE,)",
        "LOGIN.COM;2", "file", utc(2005, 1, 10, 9, 0), "RWED,RWED,RE,",
        vf("2", "2", "4", "STAFF,JONES")),
    vms("MAIL.DIR;1            6/9         1-FEB-2004 08:15:42  [STAFF,JONES]   (RWE,RWE,,)",
        "MAIL", "dir", utc(2004, 2, 1, 8, 15, 42), "RWE,RWE,,", vf("1", "6", "9", "STAFF,JONES")),
    vms("SUBDIR.DIR;1          1/3        28-DEC-2023 23:59:59  [SYSTEM]        (RWE,RWE,RE,RE)",
        "SUBDIR", "dir", utc(2023, 12, 28, 23, 59, 59), "RWE,RWE,RE,RE",
        vf("1", "1", "3", "SYSTEM")),
    vms("README.TXT;12   18/18  31-JUL-1998 16:40:02  [GROUP1,USER1]  (RWED,RWED,RWED,RE)",
        "README.TXT;12", "file", utc(1998, 7, 31, 16, 40, 2), "RWED,RWED,RWED,RE",
        vf("12", "18", "18", "GROUP1,USER1")),
    vms("B.;3            12/12  9-OCT-1998 04:13:50  [GROUP,OWNER]   (RWED,RWED,RWED,RE)",
        "B.;3", "file", utc(1998, 10, 9, 4, 13, 50), "RWED,RWED,RWED,RE",
        vf("3", "12", "12", "GROUP,OWNER")),
    vms("DATA.DAT;1          97/108       19-AUG-1997 15:25:07  [PROJ,ANALYST]  (RWED,,RWED,RE)",
        "DATA.DAT;1", "file", utc(1997, 8, 19, 15, 25, 7), "RWED,,RWED,RE",
        vf("1", "97", "108", "PROJ,ANALYST")),
    # Used blocks only, hundredths of a second, no owner or protection.
    vms("REPORT.LIS;7           212        9-OCT-2003 17:45:21.37",
        "REPORT.LIS;7", "file", utc(2003, 10, 9, 17, 45, 21, 370000), None, vf("7", "212")),
    vms("BACKUP.SAV;1        4000/4002    29-FEB-2000 03:00:00  [OPER]          (RWED,RWED,,)",
        "BACKUP.SAV;1", "file", utc(2000, 2, 29, 3, 0), "RWED,RWED,,",
        vf("1", "4000", "4002", "OPER")),
    # Minutes without seconds; no time at all.
    vms("NOTES.TXT;1              4/6    19-SEP-2007 08:40  [DOCS]  (RWE,RWE,RE,)",
        "NOTES.TXT;1", "file", utc(2007, 9, 19, 8, 40), "RWE,RWE,RE,", vf("1", "4", "6", "DOCS")),
    vms("OLD.TXT;1               3/6     23-MAR-2001    [ARCH_01]   (RWED,RWED,RE,)",
        "OLD.TXT;1", "file", utc(2001, 3, 23), "RWED,RWED,RE,", vf("1", "3", "6", "ARCH_01")),
    # A month that is none (the entry stands, without a time), an owner without brackets.
    vms("ODD.TXT;1               5/6     04-JUI-2004    OPERATOR   (RWED,RWED,RE,)",
        "ODD.TXT;1", "file", None, "RWED,RWED,RE,", vf("1", "5", "6", "OPERATOR")),
    # The owner before the size.
    vms("INDEX.HTML;4   [WEB]    7/9    11-NOV-2009 21:15  (RWED,RWED,RE,RE)",
        "INDEX.HTML;4", "file", utc(2009, 11, 11, 21, 15), "RWED,RWED,RE,RE",
        vf("4", "7", "9", "WEB")),
    vms("TOOLS.DIR;1           1/3        12-jun-2024 11:00:00  [SYSTEM]  (RWE,RWE,RE,RE)",
        "TOOLS", "dir", utc(2024, 6, 12, 11, 0), "RWE,RWE,RE,RE", vf("1", "1", "3", "SYSTEM")),
    # ODS-5 names: lower case, ^-escaped characters.
    vms("lower_case.txt;1       1/3        12-JUN-2024 11:00:00  [SYSTEM]  (RWED,RWED,RE,)",
        "lower_case.txt;1", "file", utc(2024, 6, 12, 11, 0), "RWED,RWED,RE,",
        vf("1", "1", "3", "SYSTEM")),
    vms("my^_file^.tar.gz;1     9/9        12-JUN-2024 11:00:00  [SYSTEM]  (RWED,RWED,RE,)",
        "my^_file^.tar.gz;1", "file", utc(2024, 6, 12, 11, 0), "RWED,RWED,RE,",
        vf("1", "9", "9", "SYSTEM")),
    vms("projects.dir;1         1/3        12-JUN-2024 11:00:00  [SYSTEM]  (RWE,RWE,RE,)",
        "projects", "dir", utc(2024, 6, 12, 11, 0), "RWE,RWE,RE,", vf("1", "1", "3", "SYSTEM")),
    vms("BIG.BCK;1     2097152/2097152    01-JAN-2024 00:00:00  [BACKUP]  (RWED,RWED,,)",
        "BIG.BCK;1", "file", utc(2024, 1, 1), "RWED,RWED,,",
        vf("1", "2097152", "2097152", "BACKUP")),
    vms("VERSIONED.DAT;32767   1/3        12-JUN-2024 11:00:00  [SYSTEM]  (RWED,RWED,RE,)",
        "VERSIONED.DAT;32767", "file", utc(2024, 6, 12, 11, 0), "RWED,RWED,RE,",
        vf("32767", "1", "3", "SYSTEM")),
    # An owner too long for its column, cut off before its bracket.
    vms("WEBROOT.DIR;1  31/40  21-MAR-2001 12:11:09  [WEB_SRV,HTTP$SERVER_ACCT  (RWE,RWE,RE,RE)",
        "WEBROOT", "dir", utc(2001, 3, 21, 12, 11, 9), "RWE,RWE,RE,RE",
        vf("1", "31", "40", "WEB_SRV,HTTP$SERVER_ACCT")),
    vms("SCRATCH.TMP;1            0/0     5-MAY-2024 05:05:05  [USER]   (RWED,RWED,,)",
        "SCRATCH.TMP;1", "file", utc(2024, 5, 5, 5, 5, 5), "RWED,RWED,,",
        vf("1", "0", "0", "USER")),
    vms("PROTECTED.DAT;1          3/3     5-MAY-2024 05:05:05  [USER]   (,,,)",
        "PROTECTED.DAT;1", "file", utc(2024, 5, 5, 5, 5, 5), ",,,", vf("1", "3", "3", "USER")),
    # A file spec alone is a name and type; in a listing it is joined to the lines after it.
    vms("LONELY.TXT;1", "LONELY.TXT;1", "file", None, None, vf("1")),
    nothing("vms", "Total of 3 files, 12/36 blocks."),
    nothing("vms", "Total of 1 file, 2/4 blocks."),
    nothing("vms", "Grand total of 2 directories, 7 files, 44/60 blocks."),
    # A name too long for its column, alone on its line; the rest on the next, indented...
    vms(("A_VERY_LONG_FILE_NAME_INDEED.TXT;1",
         "                      17/18      05-DEC-2005 19:22:11  [STAFF,JONES]   (RWE,RWE,RWE,RE)"),
        "A_VERY_LONG_FILE_NAME_INDEED.TXT;1", "file", utc(2005, 12, 5, 19, 22, 11),
        "RWE,RWE,RWE,RE", vf("1", "17", "18", "STAFF,JONES"),
        raw="A_VERY_LONG_FILE_NAME_INDEED.TXT;1 17/18      05-DEC-2005 19:22:11  [STAFF,JONES]"
        "   (RWE,RWE,RWE,RE)"),
    vms(("SYS$STARTUP_CONFIGURATION.LOG;417",
         "                         6/9    02-OCT-2006 06:41:52  [SYSTEM]   (RWED,RWED,RE,)"),
        "SYS$STARTUP_CONFIGURATION.LOG;417", "file", utc(2006, 10, 2, 6, 41, 52),
        "RWED,RWED,RE,", vf("417", "6", "9", "SYSTEM"),
        raw="SYS$STARTUP_CONFIGURATION.LOG;417 6/9    02-OCT-2006 06:41:52  [SYSTEM]"
        "   (RWED,RWED,RE,)"),
    vms(("ANOTHER_EXTREMELY_LONG_DIRECTORY.DIR;1",
         "                     1/3     3-MAR-2023 03:03:03  [STAFF,JONES]  (RWE,RWE,RE,)"),
        "ANOTHER_EXTREMELY_LONG_DIRECTORY", "dir", utc(2023, 3, 3, 3, 3, 3), "RWE,RWE,RE,",
        vf("1", "1", "3", "STAFF,JONES"),
        raw="ANOTHER_EXTREMELY_LONG_DIRECTORY.DIR;1 1/3     3-MAR-2023 03:03:03  [STAFF,JONES]"
        "  (RWE,RWE,RE,)"),
    vms(("EXTRACT_AND_MAIL_REPORTS.COM;4",
         "                        3/6   11-NOV-2011 11:11:11  [OPS]   (RWE,RWE,RWE,RE)"),
        "EXTRACT_AND_MAIL_REPORTS.COM;4", "file", utc(2011, 11, 11, 11, 11, 11), "RWE,RWE,RWE,RE",
        vf("4", "3", "6", "OPS"),
        raw="EXTRACT_AND_MAIL_REPORTS.COM;4 3/6   11-NOV-2011 11:11:11  [OPS]   (RWE,RWE,RWE,RE)"),
    # ... or not indented, as some servers send it.
    vms(("PAYROLL_EXPORT_2024_Q1.CSV;1",
         "90812/90816     24-APR-2024 07:55:03  [FINANCE,CLERK]      (RWED,RWED,RE,)"),
        "PAYROLL_EXPORT_2024_Q1.CSV;1", "file", utc(2024, 4, 24, 7, 55, 3), "RWED,RWED,RE,",
        vf("1", "90812", "90816", "FINANCE,CLERK"),
        raw="PAYROLL_EXPORT_2024_Q1.CSV;1 90812/90816     24-APR-2024 07:55:03  [FINANCE,CLERK]"
        "      (RWED,RWED,RE,)"),
    # The protection on a line of its own.
    vms(("PROJECT.MEM;6        3/4     17-MAY-1999 14:21:07  [ENG,LEE]", "(RWED,RWED,RE,)"),
        "PROJECT.MEM;6", "file", utc(1999, 5, 17, 14, 21, 7), "RWED,RWED,RE,",
        vf("6", "3", "4", "ENG,LEE"),
        raw="PROJECT.MEM;6        3/4     17-MAY-1999 14:21:07  [ENG,LEE] (RWED,RWED,RE,)"),
    vms(("ARCHIVE.DIR;1          87/99    02-NOV-2002 10:10:44  [ENG,LEE]",
         "          (RWE,RWE,,)"),
        "ARCHIVE", "dir", utc(2002, 11, 2, 10, 10, 44), "RWE,RWE,,", vf("1", "87", "99", "ENG,LEE"),
        raw="ARCHIVE.DIR;1          87/99    02-NOV-2002 10:10:44  [ENG,LEE] (RWE,RWE,,)"),
    # Both: three lines.
    vms(("THE_LONGEST_NAME_IN_THIS_DIRECTORY.DAT;2",
         "                     20/21    06-JUN-2024 06:06:06  [STAFF,JONES]",
         "          (RWED,RWED,RE,)"),
        "THE_LONGEST_NAME_IN_THIS_DIRECTORY.DAT;2", "file", utc(2024, 6, 6, 6, 6, 6),
        "RWED,RWED,RE,", vf("2", "20", "21", "STAFF,JONES"),
        raw="THE_LONGEST_NAME_IN_THIS_DIRECTORY.DAT;2 20/21    06-JUN-2024 06:06:06  [STAFF,JONES]"
        " (RWED,RWED,RE,)"),
]


# --------------------------------------------------------------------------
# IBM z/OS data sets (FTP server LIST of a qualifier):
#   Volume Unit Referred Ext Used Recfm Lrecl BlkSz Dsorg Dsname
# LISTLEVEL 2 drops Unit; old servers say "Date" for "Referred" and print MM/DD/YY. Ext and
# Used run together when Used fills its column. Referred is when the data set was last read,
# not written: modify is None. PS (sequential) is a file, PO/PO-E (partitioned) a directory
# of members (CWD enters it), anything else "other". The name is the data set name as listed:
# relative to the working directory's prefix, or quoted and absolute.
# --------------------------------------------------------------------------


def mvs(line: str, name: str, kind: str, facts: dict[str, str]) -> Case:
    return Case("mvs-dataset", (line,), name, kind, facts=facts)


def mf(volume: str, unit: str | None, referred: str | None, ext: str | None, used: str | None,
       recfm: str, lrecl: str, blksz: str, dsorg: str) -> dict[str, str]:  # fmt: skip
    """The facts of a data set line."""
    facts = {"mvs.volume": volume}
    if unit is not None:
        facts["mvs.unit"] = unit
    if referred is not None:
        facts["mvs.referred"] = referred
    if ext is not None:
        facts["mvs.ext"], facts["mvs.used"] = ext, used  # type: ignore[assignment]
    facts |= {"mvs.recfm": recfm, "mvs.lrecl": lrecl, "mvs.blksz": blksz, "mvs.dsorg": dsorg}
    return facts


MVS_DATASETS = [
    nothing("mvs-dataset", "Volume Unit    Referred Ext Used Recfm Lrecl BlkSz Dsorg Dsname"),
    nothing("mvs-dataset", "Volume Referred      Ext      Used Recfm Lrecl BlkSz Dsorg Dsname"),
    nothing("mvs-dataset", "Volume Unit    Date  Ext Used Recfm Lrecl BlkSz Dsorg Dsname"),
    mvs("USR001 3390   2024/05/30  1   15  FB      80 27920  PO  JCL.CNTL", "JCL.CNTL", "dir",
        mf("USR001", "3390", "2024/05/30", "1", "15", "FB", "80", "27920", "PO")),
    mvs("USR001 3390   2024/06/14  2   45  VB     255 27998  PS  LOG.MISC", "LOG.MISC", "file",
        mf("USR001", "3390", "2024/06/14", "2", "45", "VB", "255", "27998", "PS")),
    mvs("USR002 3390   2023/12/01  1    1  FB      80  3120  PO-E  SOURCE.COBOL", "SOURCE.COBOL",
        "dir", mf("USR002", "3390", "2023/12/01", "1", "1", "FB", "80", "3120", "PO-E")),
    mvs("USR002 3390   **NONE**    1    3  FBA    133 27930  PS  SYSOUT.LISTING", "SYSOUT.LISTING",
        "file", mf("USR002", "3390", None, "1", "3", "FBA", "133", "27930", "PS")),
    mvs("USR003 3390   2024/01/15  1   60  U        0 32760  PO  LOAD.LIB", "LOAD.LIB", "dir",
        mf("USR003", "3390", "2024/01/15", "1", "60", "U", "0", "32760", "PO")),
    mvs("USR003 3390   2024/01/15  3  120  VBS  32756 32760  PS  SMF.DUMP", "SMF.DUMP", "file",
        mf("USR003", "3390", "2024/01/15", "3", "120", "VBS", "32756", "32760", "PS")),
    # Used too wide for its column: run into Ext, or shown as +++++. Neither is given then.
    mvs("USR004 3390   2023/08/19  1+++++  VBS  32760 27998  PS  HUGE.SEQ", "HUGE.SEQ", "file",
        mf("USR004", "3390", "2023/08/19", None, None, "VBS", "32760", "27998", "PS")),
    mvs("USR004 3390   2021/07/03  214322  FB   27920 27920  PS  BIG.EXTRACT",
        "BIG.EXTRACT", "file",
        mf("USR004", "3390", "2021/07/03", None, None, "FB", "27920", "27920", "PS")),
    mvs("USR005 3390   2024/06/15  1    1  F       80    80  PS  CARD.DECK", "CARD.DECK", "file",
        mf("USR005", "3390", "2024/06/15", "1", "1", "F", "80", "80", "PS")),
    mvs("USR005 3390   2024/06/15  1    5  V     1024  1028  PS  VAR.FILE", "VAR.FILE", "file",
        mf("USR005", "3390", "2024/06/15", "1", "5", "V", "1024", "1028", "PS")),
    mvs("USR006 3390   2024/03/03  1   10  FB      80  6160  DA  DIRECT.FILE",
        "DIRECT.FILE", "other",
        mf("USR006", "3390", "2024/03/03", "1", "10", "FB", "80", "6160", "DA")),
    mvs("USR011 3390   2024/04/04  1    1  FB      80  3120  PS  A.B.C.D.E.F.G.H",
        "A.B.C.D.E.F.G.H",
        "file", mf("USR011", "3390", "2024/04/04", "1", "1", "FB", "80", "3120", "PS")),
    mvs("SCR001 3390   2024/06/01  5  300  FB     133 27930  PS  $SPOOL.OUT", "$SPOOL.OUT", "file",
        mf("SCR001", "3390", "2024/06/01", "5", "300", "FB", "133", "27930", "PS")),
    mvs("SCR002 3390   2024/06/01  1    1  FB      80   800  PS  #TEMP.@DATA",
        "#TEMP.@DATA", "file",
        mf("SCR002", "3390", "2024/06/01", "1", "1", "FB", "80", "800", "PS")),
    mvs("WORK01 3390   2024/06/12  1    2  VBA    137 27998  PS  ISPF.LOG", "ISPF.LOG",
        "file", mf("WORK01", "3390", "2024/06/12", "1", "2", "VBA", "137", "27998", "PS")),
    # The old layout: a date MM/DD/YY, 3380 devices.
    mvs("OLDPK1 3380D  03/11/96  1    2  FB      80  6160  PS  HOSTS.LOCAL", "HOSTS.LOCAL", "file",
        mf("OLDPK1", "3380D", "03/11/96", "1", "2", "FB", "80", "6160", "PS")),
    mvs("OLDPK1 3380D  04/22/96  1    1  FB      80  3120  PS  TCPIP.PROFILE", "TCPIP.PROFILE",
        "file", mf("OLDPK1", "3380D", "04/22/96", "1", "1", "FB", "80", "3120", "PS")),
    # LISTLEVEL 2: no Unit, wider columns.
    mvs("USR008 2024/05/01      1        22  VB    1028 27998  PO   WORK.PDS", "WORK.PDS", "dir",
        mf("USR008", None, "2024/05/01", "1", "22", "VB", "1028", "27998", "PO")),
    mvs("USR008 2024/05/02      1 198273645  VBS  32760 27998  PS   ARCHIVE.SEQ", "ARCHIVE.SEQ",
        "file", mf("USR008", None, "2024/05/02", "1", "198273645", "VBS", "32760", "27998", "PS")),
    mvs("USR008 2024/05/03      1         7  FB      80 27920 PO-E  COPYLIB", "COPYLIB", "dir",
        mf("USR008", None, "2024/05/03", "1", "7", "FB", "80", "27920", "PO-E")),
    # Listed with a quoted pattern: absolute names, quotes and all.
    mvs("USR009 3390   2024/06/10  1    2  FB      80  3120  PS  'PROD.DAILY.REPORT'",
        "'PROD.DAILY.REPORT'", "file",
        mf("USR009", "3390", "2024/06/10", "1", "2", "FB", "80", "3120", "PS")),
    mvs("USR009 3390   2024/06/10  1   30  FB      80 27920  PO  'PROD.JCLLIB'", "'PROD.JCLLIB'",
        "dir", mf("USR009", "3390", "2024/06/10", "1", "30", "FB", "80", "27920", "PO")),
    # Data sets not on a disk: migrated by HSM, archived; VSAM clusters and their components.
    Case("mvs-dataset",
         ("Migrated                                                OLD.ARCHIVE.DATA",),
         "OLD.ARCHIVE.DATA", "other", facts={"mvs.volume": "Migrated"}),
    Case("mvs-dataset", ("Migrated                                                'SYS2.OLD.LOG'",),
         "'SYS2.OLD.LOG'", "other", facts={"mvs.volume": "Migrated"}),
    Case("mvs-dataset",
         ("ARCIVE Not Direct Access Device                         ARCH.BACKUP.G0001V00",),
         "ARCH.BACKUP.G0001V00", "other", facts={"mvs.volume": "ARCIVE"}),
    Case("mvs-dataset", ("                                                   VSAM CUSTOMER.KSDS",),
         "CUSTOMER.KSDS", "other", facts={"mvs.dsorg": "VSAM"}),
    Case("mvs-dataset",
         ("USR010 3390                                        VSAM CUSTOMER.KSDS.DATA",),
         "CUSTOMER.KSDS.DATA", "other",
         facts={"mvs.volume": "USR010", "mvs.unit": "3390", "mvs.dsorg": "VSAM"}),
    Case("mvs-dataset",
         ("USR010 3390                                        VSAM CUSTOMER.KSDS.INDEX",),
         "CUSTOMER.KSDS.INDEX", "other",
         facts={"mvs.volume": "USR010", "mvs.unit": "3390", "mvs.dsorg": "VSAM"}),
    # SITE DIRECTORYMODE: the next qualifiers, as directories.
    Case("mvs-dataset", ("Pseudo Directory                                        PAYROLL",),
         "PAYROLL", "dir"),
    Case("mvs-dataset", ("Pseudo Directory INVOICES",), "INVOICES", "dir"),
]


# --------------------------------------------------------------------------
# IBM z/OS members of a partitioned data set (LIST in a PDS):
#   Name VV.MM Created Changed Size Init Mod Id   (ISPF statistics; Size, Init, Mod in lines)
#   Name Size TTR Alias-of AC Attributes Amode Rmode   (a load library; Size in hex)
# or the bare name of a member without statistics. A member is a file; its size in bytes is
# not listed.
# --------------------------------------------------------------------------


def member(line: str, name: str, modify: datetime.datetime | None, facts: dict[str, str]) -> Case:
    return Case("mvs-member", (line,), name, "file", None, modify, facts=facts)


def stats(vvmm: str, created: str, size: str, init: str, mod: str, userid: str) -> dict[str, str]:
    return {"mvs.vv.mm": vvmm, "mvs.created": created, "mvs.size": size, "mvs.init": init,
            "mvs.mod": mod, "mvs.id": userid}  # fmt: skip


def load(size: str, ttr: str, ac: str, attributes: str, amode: str, rmode: str,
         alias: str | None = None) -> dict[str, str]:  # fmt: skip
    facts = {"mvs.size": size, "mvs.ttr": ttr, "mvs.ac": ac}
    if alias is not None:
        facts["mvs.alias-of"] = alias
    return facts | {"mvs.attributes": attributes, "mvs.amode": amode, "mvs.rmode": rmode}


MVS_MEMBERS = [
    nothing("mvs-member", " Name     VV.MM   Created       Changed      Size  Init   Mod   Id"),
    nothing("mvs-member",
            " Name      Size     TTR   Alias-of AC --------- Attributes --------- Amode Rmode"),
    member("IEFBR14X  01.00 2024/01/02 2024/01/02 09:00     5     5     0 USER01", "IEFBR14X",
           utc(2024, 1, 2, 9, 0), stats("01.00", "2024/01/02", "5", "5", "0", "USER01")),
    member("PAYJOB    01.12 2019/03/04 2024/06/14 17:45   120    98    31 OPER02", "PAYJOB",
           utc(2024, 6, 14, 17, 45), stats("01.12", "2019/03/04", "120", "98", "31", "OPER02")),
    member("COMPILE   02.07 2020/11/11 2023/12/31 23:59   450   400    62 DEV003", "COMPILE",
           utc(2023, 12, 31, 23, 59), stats("02.07", "2020/11/11", "450", "400", "62", "DEV003")),
    member("$README   01.01 2024/06/15 2024/06/15 11:30    42    42     0 USER01", "$README",
           utc(2024, 6, 15, 11, 30), stats("01.01", "2024/06/15", "42", "42", "0", "USER01")),
    member("#CONFIG   01.05 2022/02/22 2024/02/29 08:00    10     8     3 SYSPROG", "#CONFIG",
           utc(2024, 2, 29, 8, 0), stats("01.05", "2022/02/22", "10", "8", "3", "SYSPROG")),
    member("@ALIAS    01.00 2024/05/05 2024/05/06 06:06     1     1     0 U1", "@ALIAS",
           utc(2024, 5, 6, 6, 6), stats("01.00", "2024/05/05", "1", "1", "0", "U1")),
    member("A         01.00 2024/05/05 2024/05/06 06:06     1     1     0 U1", "A",
           utc(2024, 5, 6, 6, 6), stats("01.00", "2024/05/05", "1", "1", "0", "U1")),
    member("MEMBER8C  99.99 2001/01/01 2024/06/01 00:00 99999 99999 99999 LONGID8", "MEMBER8C",
           utc(2024, 6, 1), stats("99.99", "2001/01/01", "99999", "99999", "99999", "LONGID8")),
    member("PAYCALC   01.04 2003/04/17 2003/05/02 16:21    23    19     4 FIN002", "PAYCALC",
           utc(2003, 5, 2, 16, 21), stats("01.04", "2003/04/17", "23", "19", "4", "FIN002")),
    member("DAILY     01.02 2024/06/10 2024/06/11 07:00    80    75     5 BATCH", "DAILY",
           utc(2024, 6, 11, 7, 0), stats("01.02", "2024/06/10", "80", "75", "5", "BATCH")),
    member("BADDATE   01.02 2024/06/10 2024/02/30 07:00    80    75     5 BATCH", "BADDATE",
           None, stats("01.02", "2024/06/10", "80", "75", "5", "BATCH")),
    # Members without statistics: the name alone, maybe padded.
    member("NOSTATS", "NOSTATS", None, {}),
    member("NOSTATS2                                                          ",
           "NOSTATS2", None, {}),
    member("X", "X", None, {}),
    member("$$$INDEX", "$$$INDEX", None, {}),
    # Load modules.
    member("HELLO     000120   00000F          00 FO             RN RU            31    ANY",
           "HELLO", None, load("000120", "00000F", "00", "FO RN RU", "31", "ANY")),
    member("HELLOA    000120   00000F HELLO    00 FO             RN RU            31    ANY",
           "HELLOA", None, load("000120", "00000F", "00", "FO RN RU", "31", "ANY", "HELLO")),
    member("BIGPGM    0F4A28   000213          01 FO                              31    ANY",
           "BIGPGM", None, load("0F4A28", "000213", "01", "FO", "31", "ANY")),
    member("OLDPGM    003C00   000A07          00 FO                              24    24",
           "OLDPGM", None, load("003C00", "000A07", "00", "FO", "24", "24")),
    member("REUSE64   001000   000B01          00 FO             RN RU            64    ANY",
           "REUSE64", None, load("001000", "000B01", "00", "FO RN RU", "64", "ANY")),
    member("NOEXEC    000800   000C02          00 NX                              31    ANY",
           "NOEXEC", None, load("000800", "000C02", "00", "NX", "31", "ANY")),
]


# --------------------------------------------------------------------------
# IBM i (OS/400), LISTFMT 0: owner, size, date, time, object type, name
# The owner is blank for anonymous users; members have no size or date. The date is in the
# server job's format (MDY, DMY, YMD or Julian YY/DDD, with its separator), which the listing
# does not name: modify is set only where the date reads as one day, and the date and time
# are facts either way. Two-digit years 40-99 are 19xx, 00-39 20xx. NAMEFMT 1 names a file
# NAME.FILE (a directory of members) and a save file NAME.SAVF; NAMEFMT 0 says NAME.
# --------------------------------------------------------------------------


def ibmi(
    line: str,
    name: str,
    kind: str,
    size: int | None,
    modify: datetime.datetime | None,
    object_type: str,
    owner: str | None,
    date: str | None = None,
    time: str | None = None,
) -> Case:
    facts = {"os400.type": object_type}
    if owner is not None:
        facts["os400.owner"] = owner
    if date is not None:
        facts["os400.date"], facts["os400.time"] = date, time  # type: ignore[assignment]
    return Case("os400", (line,), name, kind, size, modify, facts=facts)


OS400 = [
    # 06/11/97 is 11 June as MDY, 6 November as DMY: no time is given.
    ibmi("SMITHJ      4718592 06/11/97 09:54:21 *FILE     BACKUPSAVF", "BACKUPSAVF", "file",
         4718592, None, "*FILE", "SMITHJ", "06/11/97", "09:54:21"),
    ibmi("QSYS            53248 03/19/01 11:42:17 *DIR       QOpenSys/", "QOpenSys", "dir", 53248,
         utc(2001, 3, 19, 11, 42, 17), "*DIR", "QSYS", "03/19/01", "11:42:17"),
    # Read as MDY or DMY, the same day.
    ibmi("QDOC            30720 01/01/70 00:00:00 *FLR       QDLS/", "QDLS", "dir", 30720,
         utc(1970, 1, 1), "*FLR", "QDOC", "01/01/70", "00:00:00"),
    ibmi("QSYS                0 10/28/98 08:15:33 *LIB       QSYS.LIB/", "QSYS.LIB", "dir", 0,
         utc(1998, 10, 28, 8, 15, 33), "*LIB", "QSYS", "10/28/98", "08:15:33"),
    ibmi("QSECOFR             0 07/29/99 09:12:44 *STMF      HTTPD.CONF.BAK", "HTTPD.CONF.BAK",
         "file", 0, utc(1999, 7, 29, 9, 12, 44), "*STMF", "QSECOFR", "07/29/99", "09:12:44"),
    ibmi("JONES            5133 12/18/23 17:20:02 *STMF      invoice.pdf", "invoice.pdf", "file",
         5133, utc(2023, 12, 18, 17, 20, 2), "*STMF", "JONES", "12/18/23", "17:20:02"),
    ibmi("JONES             518 03/24/24 13:31:05 *STMF      readme", "readme", "file", 518,
         utc(2024, 3, 24, 13, 31, 5), "*STMF", "JONES", "03/24/24", "13:31:05"),
    ibmi("JONES           40960 03/24/24 13:31:09 *DIR       projects/", "projects", "dir", 40960,
         utc(2024, 3, 24, 13, 31, 9), "*DIR", "JONES", "03/24/24", "13:31:09"),
    # 13.06.22 is DMY (13 June 2022) or YMD (22 June 2013): no time.
    ibmi("JONES            8192 13.06.22 10:02:44 *DIR       exports/", "exports", "dir", 8192,
         None, "*DIR", "JONES", "13.06.22", "10:02:44"),
    ibmi("JONES            8192 31.12.23 23:59:59 *DIR       yearend/", "yearend", "dir", 8192,
         None, "*DIR", "JONES", "31.12.23", "23:59:59"),
    # YMD, the only reading of 99/12/31.
    ibmi("JONES            1024 99/12/31 23:59:59 *STMF      ymd.txt", "ymd.txt", "file", 1024,
         utc(1999, 12, 31, 23, 59, 59), "*STMF", "JONES", "99/12/31", "23:59:59"),
    # Julian: day 167 of 2024.
    ibmi("JONES             100 24/167 08:30:00 *STMF      julian.txt", "julian.txt", "file", 100,
         utc(2024, 6, 15, 8, 30), "*STMF", "JONES", "24/167", "08:30:00"),
    ibmi("QSYS            77824 02.23.00 15.09.55 *DIR       dotted/", "dotted", "dir", 77824,
         utc(2000, 2, 23, 15, 9, 55), "*DIR", "QSYS", "02.23.00", "15.09.55"),
    ibmi("JONES              17 06/12/21 09:30:00 *STMF      notes with spaces.txt",
         "notes with spaces.txt", "file", 17, None, "*STMF", "JONES", "06/12/21", "09:30:00"),
    ibmi("JONES      6442450944 06/20/24 11:11:11 *STMF      big.bin", "big.bin", "file",
         6442450944, utc(2024, 6, 20, 11, 11, 11), "*STMF", "JONES", "06/20/24", "11:11:11"),
    # A path (LIST with an argument): the entry is its last name.
    ibmi("FTPUSER  7311 05/21/16 08:14:02 *STMF /DATA/REPORTS/AUD0204.PDF", "AUD0204.PDF", "file",
         7311, utc(2016, 5, 21, 8, 14, 2), "*STMF", "FTPUSER", "05/21/16", "08:14:02"),
    # NAMEFMT 1 in a library: a database file (a directory of members), a save file.
    ibmi("QPGMR           16384 06/14/24 15:45:09 *FILE      QCLSRC.FILE", "QCLSRC.FILE", "dir",
         16384, utc(2024, 6, 14, 15, 45, 9), "*FILE", "QPGMR", "06/14/24", "15:45:09"),
    ibmi("QPGMR        20971520 06/13/24 22:30:00 *FILE      NIGHTLY.SAVF", "NIGHTLY.SAVF", "file",
         20971520, utc(2024, 6, 13, 22, 30), "*FILE", "QPGMR", "06/13/24", "22:30:00"),
    # In a file: the file itself (no name) describes no entry; then its members.
    nothing("os400", "QPGMR           98304 06/14/24 07:59:41 *FILE"),
    ibmi("QPGMR                                   *MEM       MKREPORT.MBR", "MKREPORT.MBR", "file",
         None, None, "*MEM", "QPGMR"),
    ibmi("QPGMR                                   *MEM       STARTUP.MBR", "STARTUP.MBR", "file",
         None, None, "*MEM", "QPGMR"),
    # A member listed under its file, in a library: an entry of that file, not of the library.
    nothing("os400", "QPGMR                                   *MEM       QCLSRC.FILE/STARTUP.MBR"),
    # Anonymous sessions: no owner.
    ibmi("              3145728 06/30/97 16:05:33 *FILE     ANONSAVF", "ANONSAVF", "file", 3145728,
         utc(1997, 6, 30, 16, 5, 33), "*FILE", None, "06/30/97", "16:05:33"),
    ibmi("                                        *MEM       ANONMBR.MBR", "ANONMBR.MBR", "file",
         None, None, "*MEM", None),
    # Other object types.
    ibmi("QSYS               0 06/01/24 00:00:00 *PGM       QCMD.PGM", "QCMD.PGM", "other", 0,
         None, "*PGM", "QSYS", "06/01/24", "00:00:00"),
    ibmi("QSYS           12288 06/02/24 01:02:03 *USRSPC    SPACE1.USRSPC", "SPACE1.USRSPC",
         "other", 12288, None, "*USRSPC", "QSYS", "06/02/24", "01:02:03"),
    ibmi("QSYS            4096 06/13/24 04:05:06 *SYMLNK    link-to-home", "link-to-home", "link",
         4096, utc(2024, 6, 13, 4, 5, 6), "*SYMLNK", "QSYS", "06/13/24", "04:05:06"),
    ibmi("JONES            2048 06/14/24 07:08:09 *DSTMF     distributed.txt", "distributed.txt",
         "file", 2048, utc(2024, 6, 14, 7, 8, 9), "*DSTMF", "JONES", "06/14/24", "07:08:09"),
    ibmi("JONES            8192 06/15/24 10:11:12 *DDIR      distdir/", "distdir", "dir", 8192,
         utc(2024, 6, 15, 10, 11, 12), "*DDIR", "JONES", "06/15/24", "10:11:12"),
    ibmi("JONES           45056 06/16/24 13:14:15 *DOC       LETTER.DOC", "LETTER.DOC", "file",
         45056, utc(2024, 6, 16, 13, 14, 15), "*DOC", "JONES", "06/16/24", "13:14:15"),
]


# --------------------------------------------------------------------------
# HP NonStop (Tandem) Guardian subvolumes:
#   File  Code  EOF  Last Modification  Owner  RWEP
# A name of up to 8 letters and digits, the file code, the end of file in bytes, d-Mon-yy
# hh:mm:ss, group,user and the security string. Some servers put a one-letter flag after the
# name. A subvolume holds files only.
# --------------------------------------------------------------------------


def tandem(
    line: str,
    name: str,
    size: int,
    modify: datetime.datetime | None,
    rwep: str,
    code: str,
    owner: str,
) -> Case:
    facts = {"tandem.code": code, "tandem.owner": owner}
    return Case("tandem", (line,), name, "file", size, modify, rwep, facts=facts)


TANDEM = [
    nothing("tandem", "File         Code             EOF  Last Modification    Owner  RWEP"),
    tandem('STARTUP       101             1930  12-Oct-00 07:41:09 170,175 "nunu"', "STARTUP",
           1930, utc(2000, 10, 12, 7, 41, 9), "nunu", "101", "170,175"),
    tandem('TACLINIT   O  101             2048  7-Apr-03  22:10:06 255,255 "oooo"', "TACLINIT",
           2048, utc(2003, 4, 7, 22, 10, 6), "oooo", "101", "255,255"),
    tandem('CUSTDB          0            81920 23-Jan-24 19:02:49 120, 44 "nnnn"', "CUSTDB", 81920,
           utc(2024, 1, 23, 19, 2, 49), "nnnn", "0", "120,44"),
    tandem('CUSTIDX         0            20480 23-Jan-24 19:02:50 120, 44 "nnnn"', "CUSTIDX", 20480,
           utc(2024, 1, 23, 19, 2, 50), "nnnn", "0", "120,44"),
    tandem('ORDERS          0            14336 30-Nov-23 10:47:56 120, 44 "nnnn"', "ORDERS", 14336,
           utc(2023, 11, 30, 10, 47, 56), "nnnn", "0", "120,44"),
    tandem('MONTH01         0             6144  2-Jan-24 15:36:34 120, 44 "nnnn"', "MONTH01", 6144,
           utc(2024, 1, 2, 15, 36, 34), "nnnn", "0", "120,44"),
    tandem('MONTH02         0          7340032  2-Feb-24 16:26:15 120, 44 "nnnn"', "MONTH02",
           7340032, utc(2024, 2, 2, 16, 26, 15), "nnnn", "0", "120,44"),
    tandem('YEAREND         0         91226112 22-Jan-24 14:04:19 120, 44 "nunu"', "YEAREND",
           91226112, utc(2024, 1, 22, 14, 4, 19), "nunu", "0", "120,44"),
    tandem('PROGOBJ       100           458752 14-May-15 09:31:40 200, 10 "nnnn"', "PROGOBJ",
           458752, utc(2015, 5, 14, 9, 31, 40), "nnnn", "100", "200,10"),
    tandem('EDITSRC       101            20992 19-Apr-09 17:02:33 200, 10 "nnnn"', "EDITSRC",
           20992, utc(2009, 4, 19, 17, 2, 33), "nnnn", "101", "200,10"),
    tandem('EDITSRC2      101            12800 11-Aug-09 08:12:01 200, 10 "nnnn"', "EDITSRC2",
           12800, utc(2009, 8, 11, 8, 12, 1), "nnnn", "101", "200,10"),
    tandem('AUDLOG        101             3174 28-Sep-03 21:15:45 160,107 "nnnn"', "AUDLOG", 3174,
           utc(2003, 9, 28, 21, 15, 45), "nnnn", "101", "160,107"),
    tandem('AUDLOGO      1000             4096 28-Sep-03 21:16:02 160,107 "nunu"', "AUDLOGO", 4096,
           utc(2003, 9, 28, 21, 16, 2), "nunu", "1000", "160,107"),
    tandem('EMPTY           0                0  1-Jan-99 00:00:00 255,255 "----"', "EMPTY", 0,
           utc(1999, 1, 1), "----", "0", "255,255"),
    tandem('LOGFILE         0         12345678 29-Feb-24 23:59:59   8,  1 "gggg"', "LOGFILE",
           12345678, utc(2024, 2, 29, 23, 59, 59), "gggg", "0", "8,1"),
    tandem('SECRET          0             1000 15-Jun-24 11:00:00 255,255 "oooo"', "SECRET", 1000,
           utc(2024, 6, 15, 11, 0), "oooo", "0", "255,255"),
    tandem('BADDATE         0              100 31-Feb-24 12:00:00 255,255 "nnnn"', "BADDATE", 100,
           None, "nnnn", "0", "255,255"),
    tandem("MIXED         101              512  5-May-05 05:05:05 100,200 NUNU", "MIXED", 512,
           utc(2005, 5, 5, 5, 5, 5), "NUNU", "101", "100,200"),
]


# --------------------------------------------------------------------------
# MacOS servers (NetPresenz, Peter's server): ls-like lines with a file's resource fork, data
# fork and total size (the sum), and a folder as "folder" and a count that is not a size.
# --------------------------------------------------------------------------


def mac(
    line: str,
    name: str,
    size: int | None,
    modify: datetime.datetime,
    perm: str,
    forks: tuple[str, str] | None,
) -> Case:
    facts = {} if forks is None else {"mac.resource_fork": forks[0], "mac.data_fork": forks[1]}
    kind = "dir" if forks is None else "file"
    return Case("mac", (line,), name, kind, size, modify, perm, facts=facts)


MAC = [
    mac("-------r--         412  2203648  2204060 Nov 22  1995 Installer.sit", "Installer.sit",
        2204060, utc(1995, 11, 22), "------r--", ("412", "2203648")),
    mac("drwxrwxr-x               folder        5 Feb 14  1997 Utilities", "Utilities", None,
        utc(1997, 2, 14), "rwxrwxr-x", None),
    mac("-rw-r--r--           0    15873    15873 Aug  3  2009 avatar.png", "avatar.png", 15873,
        utc(2009, 8, 3), "rw-r--r--", ("0", "15873")),
    mac("-rw-r--r--       61234    30012    91246 Aug 14  2011 holiday.jpg", "holiday.jpg", 91246,
        utc(2011, 8, 14), "rw-r--r--", ("61234", "30012")),
    mac("-rw-r--r--       70000    50000   120000 Jan 22 14:51 Name with spaces.jpg",
        "Name with spaces.jpg", 120000, utc(2024, 1, 22, 14, 51), "rw-r--r--", ("70000", "50000")),
    mac("drwxr-xr-x               folder        0 Jan  9 16:02 Alias folder", "Alias folder", None,
        utc(2024, 1, 9, 16, 2), "rwxr-xr-x", None),
    mac("-rwx------           0     8192     8192 Mar  1 09:00 script", "script", 8192,
        utc(2024, 3, 1, 9, 0), "rwx------", ("0", "8192")),
    mac("-rw-r--r--        1024        0     1024 Feb  2  1998 ResourceOnly", "ResourceOnly", 1024,
        utc(1998, 2, 2), "rw-r--r--", ("1024", "0")),
    mac("-rw-r--r--         286    96121    96407 Sep  2  2012 presentation.key",
        "presentation.key", 96407, utc(2012, 9, 2), "rw-r--r--", ("286", "96121")),
    mac("-rw-r--r--       83000  1430000  1513000 Oct  5  2012 slides.pdf", "slides.pdf", 1513000,
        utc(2012, 10, 5), "rw-r--r--", ("83000", "1430000")),
    mac("drwxrwxrwx               folder       12 Aug 31  1999 Public", "Public", None,
        utc(1999, 8, 31), "rwxrwxrwx", None),
    mac("drwxr-xr-x               folder      137 Jun 10 10:10 System Folder",
        "System Folder", None, utc(2024, 6, 10, 10, 10), "rwxr-xr-x", None),
    mac("-------r--           0        0        0 Dec 25  1997 Empty file", "Empty file", 0,
        utc(1997, 12, 25), "------r--", ("0", "0")),
    mac("-rw-rw-rw-         512     4096     4608 Oct 10 10:10 note.txt", "note.txt", 4608,
        utc(2023, 10, 10, 10, 10), "rw-rw-rw-", ("512", "4096")),
    mac("-r--r--r--       10240  1048576  1058816 Apr  1  2001 readonly.img", "readonly.img",
        1058816, utc(2001, 4, 1), "r--r--r--", ("10240", "1048576")),
    mac("drwx------               folder        3 Sep  9  2009 Private", "Private", None,
        utc(2009, 9, 9), "rwx------", None),
    mac("-rw-r--r--         100      200      300 Jun 15 11:00  leading space", " leading space",
        300, utc(2024, 6, 15, 11, 0), "rw-r--r--", ("100", "200")),
    mac("-rw-r--r--           0      512      512 May 31 23:59 ReadMe", "ReadMe", 512,
        utc(2024, 5, 31, 23, 59), "rw-r--r--", ("0", "512")),
]


# --------------------------------------------------------------------------
# Novell NetWare: type, [rights], owner, size, ls date, name
# --------------------------------------------------------------------------


def netware(
    line: str, name: str, kind: str, size: int, modify: datetime.datetime, rights: str, owner: str
) -> Case:
    return Case("netware", (line,), name, kind, size, modify, rights,
                facts={"netware.owner": owner})  # fmt: skip


NETWARE = [
    netware("d [RWCEAFMS] admin                         512 Apr 17  2006 Bookmarks", "Bookmarks",
            "dir", 512, utc(2006, 4, 17), "RWCEAFMS", "admin"),
    netware("- [RWCEAFMS] admin                       23552 Mar 14 09:45 Quarterly Summary.doc",
            "Quarterly Summary.doc", "file", 23552, utc(2024, 3, 14, 9, 45), "RWCEAFMS", "admin"),
    netware("d [R----F--] supervisor                   512 Jan 18 07:12 public", "public", "dir",
            512, utc(2024, 1, 18, 7, 12), "R----F--", "supervisor"),
    netware("- [R----F--] jsmith                    187392 Oct 21 16:44 report.exe", "report.exe",
            "file", 187392, utc(2023, 10, 21, 16, 44), "R----F--", "jsmith"),
    netware("d [-----F--] SERVER1_SYS                  512 Apr 11 21:17 SYS", "SYS", "dir", 512,
            utc(2024, 4, 11, 21, 17), "-----F--", "SERVER1_SYS"),
    netware("d [----AF--] 0                            512 Feb 23 08:41 _ADMIN",
            "_ADMIN", "dir", 512, utc(2024, 2, 23, 8, 41), "----AF--", "0"),
    netware("d [-W---F--] SERVER1_VOL2                 512 Apr 11 21:19 VOL2", "VOL2", "dir", 512,
            utc(2024, 4, 11, 21, 19), "-W---F--", "SERVER1_VOL2"),
    netware("- [RW-E-F--] jdoe                        4096 Jun 15 11:59 run.nlm", "run.nlm", "file",
            4096, utc(2024, 6, 15, 11, 59), "RW-E-F--", "jdoe"),
    netware("- [R-CEAFMS] jdoe                       10240 Jun  1 08:00 Meeting notes for June.doc",
            "Meeting notes for June.doc", "file", 10240, utc(2024, 6, 1, 8, 0), "R-CEAFMS", "jdoe"),
    netware("- [--------] guest                          0 Jan  1  2000 empty.txt", "empty.txt",
            "file", 0, utc(2000, 1, 1), "--------", "guest"),
    netware("d [RWCEAFMS] jdoe                         512 Dec 31  1999 y2k", "y2k", "dir", 512,
            utc(1999, 12, 31), "RWCEAFMS", "jdoe"),
    netware("- [RWCEAFMS] jdoe                  4294967296 May  5 05:05 big.dat", "big.dat", "file",
            4294967296, utc(2024, 5, 5, 5, 5), "RWCEAFMS", "jdoe"),
    netware("- [RWCEAFMS] jdoe                          12 Feb 29 12:00 leap.txt", "leap.txt",
            "file", 12, utc(2024, 2, 29, 12, 0), "RWCEAFMS", "jdoe"),
    netware("d [RWCEAFMS] jdoe                         512 Jun 18 09:00 future-ish", "future-ish",
            "dir", 512, utc(2023, 6, 18, 9, 0), "RWCEAFMS", "jdoe"),
]


# --------------------------------------------------------------------------
# OS/2: size, attributes (A, R, S, H), DIR, MM-DD-YY hh:mm, name. Past 1999 some servers print
# the years since 1900 (100, 103). A directory's size is no size.
# --------------------------------------------------------------------------


def os2(
    line: str,
    name: str,
    kind: str,
    size: int | None,
    modify: datetime.datetime,
    attributes: str | None,
) -> Case:
    facts = {} if attributes is None else {"os2.attributes": attributes}
    return Case("os2", (line,), name, kind, size, modify, facts=facts)


OS2 = [
    os2("     0           DIR   11-03-97   08:45  home", "home", "dir", None,
        utc(1997, 11, 3, 8, 45), None),
    os2("   512      A          12-02-98   14:20  Config.java", "Config.java",
        "file", 512, utc(1998, 12, 2, 14, 20), "A"),
    os2(" 98304      A          10-11-98   09:13  STARTUP.CMD", "STARTUP.CMD", "file", 98304,
        utc(1998, 10, 11, 9, 13), "A"),
    os2("  4096    RSA    DIR   02-14-97   10:01  SYSDIR", "SYSDIR", "dir", None,
        utc(1997, 2, 14, 10, 1), "RSA"),
    os2(" 28672      A          03-01-97   11:22  OS2BOOT", "OS2BOOT", "file", 28672,
        utc(1997, 3, 1, 11, 22), "A"),
    os2("     0           DIR   06-20-97   15:05  Printer Setup", "Printer Setup", "dir",
        None, utc(1997, 6, 20, 15, 5), None),
    os2("     0           DIR   07-04-2000 09:30  archive", "archive", "dir", None,
        utc(2000, 7, 4, 9, 30), None),
    os2("40960      A    05-14-103  08:08  late.txt", "late.txt", "file", 40960,
        utc(2003, 5, 14, 8, 8), "A"),
    os2("    0 DIR       03-12-103  17:20  newdir", "newdir", "dir", None,
        utc(2003, 3, 12, 17, 20), None),
    os2(" 2048 DIR  A    11-06-100  22:10  dirattr", "dirattr", "dir", None,
        utc(2000, 11, 6, 22, 10), "A"),
    os2("  1024      R          06-15-24   11:00  readonly.cfg", "readonly.cfg", "file", 1024,
        utc(2024, 6, 15, 11, 0), "R"),
    os2("  2048      H          03-03-99   03:03  hidden.sys", "hidden.sys", "file", 2048,
        utc(1999, 3, 3, 3, 3), "H"),
    os2("  4096      SH         03-03-99   03:03  syshidden.sys", "syshidden.sys", "file", 4096,
        utc(1999, 3, 3, 3, 3), "SH"),
    os2("  8192      RSHA       03-03-99   03:03  all.sys", "all.sys", "file", 8192,
        utc(1999, 3, 3, 3, 3), "RSHA"),
    os2("     0                 03-03-99   03:03  noattr.txt", "noattr.txt", "file", 0,
        utc(1999, 3, 3, 3, 3), None),
    os2("6000000000      A          12-01-98   07:07  BIG.DAT", "BIG.DAT", "file", 6000000000,
        utc(1998, 12, 1, 7, 7), "A"),
]


CORPUS: list[Case] = [
    *UNIX,
    *IIS_UNIX,
    *ZOS_USS,
    *IIS,
    *EPLF,
    *VMS,
    *MVS_DATASETS,
    *MVS_MEMBERS,
    *OS400,
    *TANDEM,
    *MAC,
    *NETWARE,
    *OS2,
]
"""Every case, grouped by dialect."""
# fmt: on
