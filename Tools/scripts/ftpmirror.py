#!/usr/bin/env python3
"""Mirror a directory tree from an FTP server to a local directory, or back with --reverse.

The classic ftpmirror command line, on ftplib2: change detection from MLSD
facts (or LIST), an SQLite manifest of what was fetched, downloads under
temporary names renamed into place only when complete, resumable transfers,
parallel connections and FTPS.  Run it with --help for the manual.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import dataclasses
import datetime
import errno
import fnmatch
import functools
import hashlib
import itertools
import json
import multiprocessing
import multiprocessing.connection
import netrc
import operator
import os
import posixpath
import queue
import re
import selectors
import shutil
import signal
import sqlite3
import ssl
import stat
import sys
import threading
import time
import urllib.parse
import zlib
from collections.abc import Callable, Iterator
from typing import Any, NoReturn, Self

try:
    import ftplib2
except ImportError:  # run from a source checkout: ftplib2.py is two levels up
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    import ftplib2

try:
    from tqdm import tqdm
except ImportError:  # the progress bar is optional: plain lines do without it
    tqdm = None

MANIFEST = ".ftpmirror.db"
"""The state kept in the local root: what each mirrored file was on the server (SQLite)."""

LEGACY_MANIFEST = ".ftpmirror.json"
"""The JSON manifest of earlier versions, migrated into `MANIFEST` on first use."""

MANIFEST_FILES = (MANIFEST, MANIFEST + "-journal", MANIFEST + "-wal", MANIFEST + "-shm")

PART_SUFFIX = ".ftpmirror-part"
"""A file being transferred is ``.NAME.ftpmirror-part`` beside its final name."""

MANIFEST_FORMAT = "ftpmirror/2"
LEGACY_FORMAT = "ftpmirror/1"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
MAX_DEPTH = 100  # directory levels below the root
SEGMENT_THRESHOLD = 32 << 20  # bytes: the smallest file --segments splits, by default
COMMIT_INTERVAL = 1.0  # seconds of manifest writes grouped into one transaction
QUEUE_LIMIT = 1000  # transfers waiting for a connection, at most
STATUS_INTERVAL = 0.25  # seconds between redraws of the status line on a terminal
RESUME_WORTH = 1 << 20  # a file this big gets a partial record, committed before it starts
CASE_INSENSITIVE = sys.platform in ("win32", "darwin")  # their usual file systems

TRANSFER_ERRORS = (*ftplib2.all_errors, ValueError)  # ValueError: a name ftplib2 refuses to send

USAGE = (
    "ftpmirror [-v] [-q] [-i] [-m] [-n] [-r] [-s pat] [-l username [-p passwd [-a account]]]\n"
    "                 [options] hostname[:port] [remotedir [localdir]]\n"
    "       ftpmirror [options] ftp[s]://[user[:passwd]@]host[:port][/remotedir] [localdir]"
)

DESCRIPTION = """\
Mirror remotedir on an FTP server into localdir (by default the login directory
into the current directory), fetching only what changed since the last run.

A file is fetched when it is new, when its size differs from the local copy, or
when the server's facts for it (size, modification time, unique id; from MLSD,
else from a parsed LIST) differ from those recorded in the manifest
.ftpmirror.db in localdir (a .ftpmirror.json of older versions is migrated).  The
tree is walked and fetched as one stream, so memory grows with the largest
directory, not with the tree; deletions wait until the whole tree was listed.
Each file is written as .NAME.ftpmirror-part, checked against the server's size
and only then renamed into place with the server's modification time, so an
interrupted run never leaves a partial file under its final name; running again finishes the job (--continue resumes the
partial files instead of starting them again).  With --checksum, a copy of the
right size is checked against the server's checksum instead (HASH, XSHA256, ...,
where the server has them), and so is every file fetched.

Names from the server that could escape localdir or trick a terminal ('..',
names with '/', control or other unprintable characters, duplicates) are
refused, and symbolic links are not followed, on either side; each refusal is
reported and makes the exit status non-zero, but the mirror goes on.  With
--reverse the roles swap: localdir is uploaded into remotedir, each file under a
temporary name renamed on the server when complete, and the server's file is
never deleted to make room for it.
"""

EPILOG = """\
URLs: ftp://user:pass@host:port/dir stands for -l user -p pass host:port dir,
with %-escapes decoded; the directory is relative to the login directory
(%2F at its start makes it absolute).  ftps:// is explicit FTPS (AUTH TLS),
as for ftplib2.urlopen; --implicit-tls for TLS from the first byte.
Without a password, credentials come from ~/.netrc (for the user, if one is
given), else the login is anonymous.

Exit status: 0 when everything was mirrored, 1 when anything failed or was
refused (one line each on stderr), 2 for a usage error, 130 when interrupted.

examples:
  ftpmirror -r ftp.example.org pub/tools ./tools
  ftpmirror --parallel 4 --continue ftp://user@ftp.example.org/pub ./pub
  ftpmirror --segments 4 --segment-threshold 100M ftp://ftp.example.org/data ./data
  ftpmirror --tls -l alice --reverse ftp.example.org site ./public_html
"""


# --------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------


class Parser(argparse.ArgumentParser):
    """An argument parser whose error messages never show the password of a URL."""

    argv: tuple[str, ...] = ()  # the arguments being parsed, as given

    def error(self, message: str) -> NoReturn:
        for arg in self.argv:  # argparse quotes some of them: replace each one whole
            message = message.replace(arg, mask_password(arg))
        super().error(message)


def build_parser() -> Parser:
    """The argument parser: its --help is the tool's manual."""
    parser = Parser(
        prog="ftpmirror",
        usage=USAGE,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s (ftplib2 {ftplib2.__version__})"
    )
    parser.add_argument("target", metavar="hostname[:port] | URL", help="the server, or a URL")
    parser.add_argument(
        "remotedir", nargs="?", default=None, help="remote directory (default: login directory)"
    )
    parser.add_argument(
        "localdir", nargs="?", default=None, help="local directory (default: current directory)"
    )
    classic = parser.add_argument_group("classic options")
    classic.add_argument(
        "-v", dest="verbose", action="count", default=0,
        help="verbose: also report skipped files (-vv unchanged files, -vvv FTP commands)",
    )  # fmt: skip
    classic.add_argument("-q", dest="quiet", action="store_true", help="quiet: report errors only")
    classic.add_argument(
        "-i", dest="interactive", action="store_true",
        help="interactive: ask y/n on stdin before each transfer, new directory and deletion",
    )  # fmt: skip
    classic.add_argument(
        "-m", dest="bare_names", action="store_true",
        help="for servers that list bare names with a trailing '/' on directories: list with "
        "NLST (sizes and times from SIZE and MDTM), skip '*.o', and do not log in unless -l",
    )  # fmt: skip
    classic.add_argument(
        "-n", dest="no_login", action="store_true", help="don't log in (send no USER at all)"
    )
    classic.add_argument(
        "-r", "--delete", dest="delete", action="store_true",
        help="remove local files and directories no longer on the server (with --reverse: "
        "remote ones no longer local)",
    )  # fmt: skip
    classic.add_argument(
        "-s", "--exclude", dest="exclude", action="append", default=[], metavar="PATTERN",
        help="skip files and directories matching this glob (repeatable; a pattern with '/' "
        "is matched against the path from the mirror's root)",
    )  # fmt: skip
    classic.add_argument("-l", dest="user", metavar="USERNAME", help="log in as this user")
    classic.add_argument("-p", dest="passwd", metavar="PASSWD", help="password (needs -l)")
    classic.add_argument("-a", dest="account", metavar="ACCOUNT", help="account (needs -p)")
    modern = parser.add_argument_group("more options")
    modern.add_argument(
        "--include", action="append", default=[], metavar="PATTERN",
        help="mirror only files matching this glob (repeatable; directories are still walked)",
    )  # fmt: skip
    modern.add_argument(
        "--parallel", type=positive_int, default=1, metavar="N",
        help="transfer with N connections at once (default 1)",
    )  # fmt: skip
    modern.add_argument(
        "--segments", type=positive_int, default=1, metavar="N",
        help="fetch each file of at least --segment-threshold bytes over up to N connections "
        "at once, for servers that cap each connection's bandwidth (default 1)",
    )  # fmt: skip
    modern.add_argument(
        "--segment-threshold", type=byte_size, default=SEGMENT_THRESHOLD, metavar="SIZE",
        help="the smallest file --segments splits, in bytes or with a K, M or G suffix "
        f"(default {SEGMENT_THRESHOLD >> 20}M)",
    )  # fmt: skip
    modern.add_argument(
        "--continue", dest="resume", action="store_true",
        help="resume the partial files an interrupted run left, instead of starting again",
    )  # fmt: skip
    modern.add_argument(
        "--checksum", action="store_true",
        help="where the server offers checksums (HASH, XSHA256, XMD5, XCRC, ...): decide "
        "whether a copy of the right size is current by the server's checksum, not by its "
        "dates, and check every file fetched (with --reverse: every file sent, before it "
        "takes its place); the checksums are kept in the manifest",
    )  # fmt: skip
    modern.add_argument(
        "--only-newer", action="store_true",
        help="never overwrite a copy that is newer than the file it would be replaced with",
    )  # fmt: skip
    modern.add_argument(
        "--dry-run", action="store_true", help="print what would be done and change nothing"
    )
    modern.add_argument(
        "--reverse", action="store_true", help="upload localdir to remotedir instead"
    )
    modern.add_argument(
        "--tls", action="store_true",
        help="explicit FTPS: AUTH TLS before logging in, encrypted data connections (PROT P)",
    )  # fmt: skip
    modern.add_argument(
        "--implicit-tls", action="store_true",
        help="implicit FTPS: TLS from the first byte (port 990 unless given)",
    )  # fmt: skip
    modern.add_argument(
        "--insecure", action="store_true",
        help="with TLS, do not verify the server's certificate and host name",
    )  # fmt: skip
    modern.add_argument(
        "--cafile", metavar="FILE", help="with TLS, trust the CA certificates in this PEM file"
    )
    modern.add_argument(
        "--pipelining", action="store_const", const=True, default=None,
        help="also send PASV and RETR/MLSD/LIST together (off by default: a few servers "
        "mishandle it)",
    )  # fmt: skip
    modern.add_argument(
        "--no-pipelining", action="store_const", const=False, dest="pipelining",
        help="one command at a time, each reply read before the next command, as ftplib "
        "does (for a server or middlebox that mishandles commands sent ahead)",
    )  # fmt: skip
    modern.add_argument(
        "--port", type=port_number, metavar="PORT", help="server port (overrides host:port)"
    )
    modern.add_argument(
        "--proxy", type=proxy_url, metavar="URL",
        help="connect through this proxy: socks5://[user:pass@]host[:port], "
        "socks4a://host[:port] or http://[user:pass@]host:port (HTTP CONNECT)",
    )  # fmt: skip
    modern.add_argument(
        "--timeout", type=positive_float, default=60.0, metavar="SECONDS",
        help="network timeout (default 60)",
    )  # fmt: skip
    modern.add_argument(
        "--retries", type=non_negative_int, default=3, metavar="N",
        help="retry a transfer broken by the network up to N times, resuming it on a new "
        "connection (default 3; 0: never)",
    )  # fmt: skip
    modern.add_argument(
        "--max-dirs", type=positive_int, default=ftplib2.MAX_WALK_DIRS, metavar="N",
        help="stop, changing nothing, if the remote tree has more than N directories "
        f"(default {ftplib2.MAX_WALK_DIRS}): a server that loops cannot keep the walk going",
    )  # fmt: skip
    modern.add_argument(
        "--max-entries", type=positive_int, default=ftplib2.MAX_WALK_ENTRIES, metavar="N",
        help=f"the same for directory entries in all (default {ftplib2.MAX_WALK_ENTRIES})",
    )  # fmt: skip
    return parser


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text}")
    return value


def byte_size(text: str) -> int:
    """A size in bytes: digits, with an optional K, M or G (powers of 1024)."""
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:].upper(), 1)
    digits = text[:-1] if scale > 1 else text
    if not digits.isdigit() or not digits.isascii():
        raise argparse.ArgumentTypeError(f"not a size: {text!r}")
    return int(digits) * scale


def non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0: {text}")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text}")
    return value


def proxy_url(text: str) -> str:
    try:
        ftplib2.FTP(proxy=text)  # checks the URL; connects nowhere
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def port_number(text: str) -> int:
    value = int(text)
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"not a port number: {text}")
    return value


class UsageError(Exception):
    """The command line makes no sense; the message says why."""


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:/+")


def mask_password(url: str) -> str:
    """`url` with the password of its ``user:password@`` shown as ``***``, for messages.

    Meant for the URLs that get echoed in errors, malformed ones included (a bad port, a
    mistyped scheme, credentials in a host argument): everything from the ':' after the
    user to the last '@' is masked, so a password with a raw '/' or '@' is hidden too.
    """
    before, at, after = url.rpartition("@")
    if not at:
        return url
    scheme = _SCHEME.match(before)
    start = scheme.end() if scheme else 0
    user, colon, _ = before[start:].partition(":")
    if not colon:
        return url
    return f"{before[:start]}{user}:***@{after}"


@dataclasses.dataclass
class Site:
    """Where to connect and what to mirror, as resolved from the command line."""

    host: str
    port: int
    user: str = ""
    passwd: str = ""
    account: str = ""
    login: bool = True
    tls: str = ""  # "", "explicit" or "implicit"
    remotedir: str = ""
    localdir: str = "."

    @property
    def source(self) -> str:
        """The remote side as a URL without the password, for messages and the manifest."""
        scheme = "ftps" if self.tls == "implicit" else "ftp"
        user = urllib.parse.quote(self.user, safe="") + "@" if self.user else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{user}{host}:{self.port}/{urllib.parse.quote(self.remotedir)}"


def resolve_site(args: argparse.Namespace) -> Site:
    """Turn the positional arguments, URL, credentials and ~/.netrc into a `Site`."""
    if args.passwd is not None and args.user is None:
        raise UsageError("-p needs -l")
    if args.account is not None and args.passwd is None:
        raise UsageError("-a needs -p")
    if args.insecure and args.cafile:
        raise UsageError("--insecure and --cafile contradict each other")
    if "://" in args.target:
        site = site_from_url(args.target)
        if args.localdir is not None:
            raise UsageError("with a URL, give at most one directory (the local one)")
        site.localdir = args.remotedir if args.remotedir is not None else "."
    else:
        host, port = split_host_port(args.target)
        site = Site(host=host, port=port or ftplib2.FTP_PORT)
        site.remotedir = args.remotedir or ""
        site.localdir = args.localdir if args.localdir is not None else "."
    if args.port:
        site.port = args.port
    if args.implicit_tls:
        site.tls = "implicit"
        if not args.port and site.port == ftplib2.FTP_PORT:
            site.port = ftplib2.FTPS_PORT
    elif args.tls and not site.tls:
        site.tls = "explicit"
    if args.user is not None:
        site.user, site.passwd, site.account = args.user, args.passwd or "", args.account or ""
    site.login = not (args.no_login or (args.bare_names and args.user is None))
    if site.login and not site.passwd:
        user, passwd, account = credentials_from_netrc(site.host)
        if not site.user or site.user == user:
            site.user, site.passwd, site.account = user, passwd, account
    for what, text in [("remote directory", site.remotedir), ("user", site.user),
                       ("password", site.passwd), ("account", site.account)]:  # fmt: skip
        if has_control_character(text):
            raise UsageError(f"control character in the {what}")
    return site


def site_from_url(url: str) -> Site:
    """``ftp[s]://user:pass@host:port/dir`` as a `Site`; the path is %-decoded."""
    shown = mask_password(url)
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError as exc:  # such as an unclosed '[' of an IPv6 address
        raise UsageError(f"bad URL {shown}: {exc}") from None
    if parts.scheme not in ("ftp", "ftps"):
        raise UsageError(f"not an ftp:// or ftps:// URL: {shown}")
    try:
        port = parts.port
    except ValueError:  # not its message: with a raw '/' in the password, it quotes the password
        raise UsageError(f"bad port in {shown}") from None
    if not parts.hostname:
        raise UsageError(f"no host in {shown}")
    path = parts.path.split(";", 1)[0]  # drop a ;type=i suffix (RFC 1738)
    site = Site(
        host=parts.hostname,
        port=port or ftplib2.FTP_PORT,
        tls="explicit" if parts.scheme == "ftps" else "",
        remotedir=urllib.parse.unquote(path.removeprefix("/")),
    )
    if parts.username is not None:
        site.user = urllib.parse.unquote(parts.username)
        site.passwd = urllib.parse.unquote(parts.password or "")
    return site


def split_host_port(text: str) -> tuple[str, int | None]:
    """``host``, ``host:port``, ``[v6addr]:port`` or a bare IPv6 address."""
    shown = mask_password(text)
    if "/" in text or "@" in text:  # a URL missing its '//', or credentials before the host
        raise UsageError(f"bad host: {shown} (a URL must start with ftp:// or ftps://)")
    port = None
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise UsageError(f"bad host: {shown}")
            port = rest[1:]
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host = text
    if not host:
        raise UsageError(f"no host in {shown!r}")
    if port is None:
        return host, None
    try:
        return host, port_number(port)
    except (ValueError, argparse.ArgumentTypeError):
        raise UsageError(f"bad port in {shown}") from None


def credentials_from_netrc(host: str) -> tuple[str, str, str]:
    """(user, password, account) for `host` from ~/.netrc; empty (anonymous) if none."""
    try:
        found = netrc.netrc().authenticators(host)
    except FileNotFoundError:
        return "", "", ""
    except (OSError, netrc.NetrcParseError) as exc:
        print(f"ftpmirror: ignoring ~/.netrc: {one_line(exc)}", file=sys.stderr)
        return "", "", ""
    if found is None:
        return "", "", ""
    user, account, passwd = found
    return user or "", passwd or "", account or ""


# --------------------------------------------------------------------------
# The program
# --------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run ftpmirror with `argv` (default: sys.argv[1:]); return the exit status."""
    parser = build_parser()
    parser.argv = tuple(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(parser.argv)
    try:
        site = resolve_site(args)
    except UsageError as exc:
        print(f"ftpmirror: {show(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    report = Report(0 if args.quiet else 1 + args.verbose, dry_run=args.dry_run)
    mirror = Mirror(site, args, report)
    try:
        mirror.run()
    except KeyboardInterrupt:
        report.error("interrupted; run again to finish (--continue resumes partial files)")
        return EXIT_INTERRUPTED
    except (*ftplib2.all_errors, ValueError, sqlite3.Error) as exc:
        report.error(f"{site.source}: {one_line(exc)}")
        return EXIT_FAILED
    except MirrorFailed as exc:
        report.error(str(exc))
        return EXIT_FAILED
    report.summary()
    return EXIT_FAILED if report.stats.errors else EXIT_OK


class MirrorFailed(Exception):
    """The mirror cannot start at all (for example, the local directory is a file)."""


# --------------------------------------------------------------------------
# Names: what may become a local file
# --------------------------------------------------------------------------


def has_control_character(text: str) -> bool:
    """Whether `text` holds a control character: C0, DEL or C1 (U+0080 to U+009F)."""
    return any(ord(c) < 32 or 127 <= ord(c) < 160 for c in text)


def unprintable(text: str) -> str | None:
    """Why `text` could play tricks when printed, or None if it cannot.

    Control characters (C0, DEL and C1) come first; then anything else that
    str.isprintable() rejects: format characters such as the bidirectional overrides,
    separators other than the space, unassigned code points.  A byte that was not valid
    in the server's encoding (a lone surrogate of 'surrogateescape') stays a byte in a
    local name: one in 0x80-0x9F counts as a control character, being one in the 8-bit
    character sets; the others are kept.
    """
    for c in text:
        if c.isprintable():
            continue
        code = ord(c)
        if code < 32 or 127 <= code < 160 or 0xDC80 <= code < 0xDCA0:
            return "contains a control character"
        if not 0xDCA0 <= code <= 0xDCFF:
            return "contains an unprintable character"
    return None


_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {
    f"{p}{i}" for p in ("COM", "LPT") for i in range(1, 10)
}


def refusal(name: str) -> str | None:
    """Why `name`, taken from a listing, must not become a file name here; None if it may."""
    if name in ("", ".", ".."):
        return "not a file name"
    if "/" in name or os.sep in name or (os.altsep and os.altsep in name):
        return "contains a path separator"
    why = unprintable(name)
    if why is not None:
        return why
    if os.path.isabs(name) or os.path.splitdrive(name)[0]:
        return "is an absolute path"
    if sys.platform == "win32" and (
        name.rstrip(". ") != name or name.split(".")[0].upper() in _WINDOWS_RESERVED
    ):
        return "is not a valid Windows file name"
    return None


def is_ours(name: str, at_root: bool) -> bool:
    """Whether `name` is one of ftpmirror's own files: a manifest or a partial transfer."""
    return (at_root and name in OWN_ROOT_NAMES) or (
        name.startswith(".") and name.endswith(PART_SUFFIX)
    )


OWN_ROOT_NAMES = frozenset((*MANIFEST_FILES, LEGACY_MANIFEST, LEGACY_MANIFEST + ".tmp"))


def part_name(name: str) -> str:
    return "." + name + PART_SUFFIX


def link_escapes(rel_dir: str, target: str | None) -> bool:
    """Whether a link in `rel_dir` to `target` leads outside the mirror's root."""
    if target is None:
        return False
    if target.startswith("/"):
        return True
    resolved = posixpath.normpath(posixpath.join(rel_dir, target))
    return resolved == ".." or resolved.startswith("../")


def show(text: str) -> str:
    """`text` safe to print: what str.isprintable() rejects is escaped, as repr() does.

    So are C1 controls, which a terminal in an 8-bit encoding would obey (U+009B is
    CSI), and undecodable bytes kept by 'surrogateescape', shown as the byte (``\\xe9``).
    """
    if text.isprintable():  # nearly every name: nothing to escape
        return text
    out = []
    for c in text:
        if c.isprintable():
            out.append(c)
            continue
        code = ord(c)
        if 0xDC80 <= code <= 0xDCFF:
            code -= 0xDC00
        if code < 0x100:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return "".join(out)


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return show(text)


def join(rel_dir: str, name: str) -> str:
    return f"{rel_dir}/{name}" if rel_dir else name


def facts_of(size: int | None, modify: datetime.datetime | None, unique: str | None) -> str:
    """A file's server facts as the manifest records them (see `facts_text`)."""
    return facts_text(size, modify.isoformat() if modify else None, unique)


# --------------------------------------------------------------------------
# Output: lines or a progress bar, errors, the summary
# --------------------------------------------------------------------------


@dataclasses.dataclass
class Stats:
    files: int = 0
    bytes: int = 0
    unchanged: int = 0
    skipped: int = 0
    deleted: int = 0
    errors: int = 0
    started: float = dataclasses.field(default_factory=time.monotonic)


class Report:
    """Everything the user sees, from any thread: action lines or a bar, errors, the summary.

    Verbosity 0 (-q) prints errors only; 1 one line per transfer and deletion
    (on a terminal, a progress bar when tqdm is installed, else a status line of
    counts, bytes and rate, redrawn at most `STATUS_INTERVAL` apart) and the
    summary; 2 adds skipped and excluded names; 3 unchanged files; 4 and up FTP
    commands.
    """

    def __init__(self, verbosity: int, *, dry_run: bool = False) -> None:
        self.verbosity = verbosity
        self.dry_run = dry_run
        self.stats = Stats()
        self._lock = threading.RLock()
        self._bar: Any = None
        self._status = False  # a status line is shown (a terminal without tqdm)
        self._shown_at = 0.0

    def say(self, text: str, level: int = 1) -> None:
        if self.verbosity >= level:
            with self._lock:
                self._write(text, sys.stdout)

    def _write(self, text: str, stream: Any) -> None:
        if self._bar is not None:
            tqdm.write(text, file=stream)
            return
        if self._status:  # the line goes above the status line, drawn again on the next tick
            sys.stdout.write("\r\x1b[K")
            sys.stdout.flush()
            self._shown_at = 0.0
        print(text, file=stream, flush=True)

    def _tick(self) -> None:
        """Redraw the status line if it is shown and due."""
        now = time.monotonic()
        if self._status and now - self._shown_at >= STATUS_INTERVAL:
            with self._lock:
                self._shown_at = now
                sys.stdout.write("\r\x1b[K" + self.counts())
                sys.stdout.flush()

    def counts(self) -> str:
        """The counts so far, as the status line and the summary show them."""
        s = self.stats
        elapsed = max(time.monotonic() - s.started, 1e-6)
        return (
            f"{s.files} files, {s.bytes} bytes transferred in {elapsed:.1f} s "
            f"({human_size(s.bytes / elapsed)}/s); {s.unchanged} unchanged, "
            f"{s.skipped} skipped, {s.deleted} deleted, {s.errors} errors"
        )

    def error(self, text: str) -> None:
        with self._lock:
            self.stats.errors += 1
            self._write(f"ftpmirror: error: {text}", sys.stderr)

    def refuse(self, rel: str, why: str) -> None:
        self.error(f"refused {show(rel)}: {why}")

    def skip(self, rel: str, why: str, level: int = 2) -> None:
        with self._lock:
            self.stats.skipped += 1
        self.say(f"skip {show(rel)}: {why}", level)

    def unchanged(self, rel: str) -> None:
        with self._lock:
            self.stats.unchanged += 1
        self.say(f"same {show(rel)}", 3)
        self._tick()

    def deleted(self, rel: str) -> None:
        with self._lock:
            self.stats.deleted += 1
        if self._bar is None and not self._status:
            self.say(f"{'would delete' if self.dry_run else 'delete'} {show(rel)}")
        self._tick()

    def transferred(self, verb: str, rel: str, nbytes: int) -> None:
        with self._lock:
            self.stats.files += 1
            self.stats.bytes += nbytes
        if self._bar is None and not self._status:
            self.say(f"{verb} {show(rel)} ({nbytes} bytes)")
        self._tick()

    @contextlib.contextmanager
    def progress(self, total_bytes: int = 0) -> Iterator[None]:
        """A progress bar for the transfers when stdout is a terminal and tqdm is there.

        Its total grows as transfers are found (`planned`); tqdm redraws it at most
        ten times a second, whatever the number of files.
        """
        terminal = self.verbosity >= 1 and not self.dry_run and sys.stdout.isatty()
        if terminal and tqdm is not None:
            tqdm.monitor_interval = 0  # no thread of its own: helpers are forked (`can_fork`)
            self._bar = tqdm(
                total=total_bytes, unit="B", unit_scale=True, unit_divisor=1024,
                file=sys.stdout, dynamic_ncols=True,
            )  # fmt: skip
        elif terminal:
            self._status = True
        try:
            yield
        finally:
            bar, self._bar = self._bar, None
            if bar is not None:
                bar.close()
            if self._status:
                with self._lock:
                    self._status = False
                    sys.stdout.write("\r\x1b[K")
                    sys.stdout.flush()

    def planned(self, nbytes: int) -> None:
        """A transfer of `nbytes` was found: the bar's total grows."""
        if self._bar is not None:
            with self._lock:
                self._bar.total += nbytes

    def advance(self, nbytes: int) -> None:
        """`nbytes` more have gone over a data connection."""
        if self._bar is not None:
            with self._lock:
                self._bar.update(nbytes)

    def summary(self) -> None:
        s = self.stats
        if self.dry_run:
            self.say(
                f"ftpmirror: dry run: would transfer {s.files} files, {s.bytes} bytes; "
                f"{s.unchanged} unchanged, {s.skipped} skipped, {s.deleted} to delete, "
                f"{s.errors} errors"
            )
            return
        self.say(f"ftpmirror: {self.counts()}")


def human_size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def ask(question: str) -> bool:
    """Ask a yes/no question on stdin; end of input means no."""
    while True:
        try:
            reply = input(f"{question} [yn] ").strip().lower()
        except EOFError:
            return False
        if reply in ("y", "yes"):
            return True
        if reply in ("", "n", "no"):
            return False
        print("Please answer y or n.")


# --------------------------------------------------------------------------
# The manifest
# --------------------------------------------------------------------------


class Manifest:
    """What each mirrored file was on the server: an SQLite database in the local root.

    Table ``files`` maps a file (its directory and name, '/'-separated below the
    root, as UTF-8 bytes with undecodable bytes kept) to the facts of the server's
    file the local copy was made from, and, with --checksum, to ``"ALGORITHM:hex"``,
    the checksum of the local copy.  Table ``partial`` does the same for the partial
    files of transfers not yet finished, so that --continue only resumes a partial
    file of the very same version.  Table ``meta`` holds the format and the source
    (server and directory); records for another source are dropped.

    It is read one directory at a time, so a run holds the records of the
    directories it is in, never the whole tree.  Writes are grouped into
    transactions (`COMMIT_INTERVAL`), and a run that changes nothing writes
    nothing: the database is opened in rollback-journal mode, which, unlike WAL,
    creates no file to read it.  A record is written only once the file it
    describes is in place, so a run killed at any moment leaves records that are
    true of the files beside them (the last ones may be missing; see `why_fetch`).

    A JSON manifest of ftpmirror/1 (``.ftpmirror.json``) is migrated on first use
    and then deleted.  The database itself, its journal and any WAL or shared-memory
    file of that name are never written through a link: SQLite opens them by path,
    so a link or a file with another hard link found in their place is removed first.
    """

    def __init__(self, root: str, source: str, report: Report, *, dry_run: bool = False) -> None:
        self.root = root
        self.source = source
        self.report = report
        self.dry_run = dry_run  # read what there is; write nothing, create nothing
        self.db: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._since: float | None = None  # when the open transaction began

    # -- opening -------------------------------------------------------------------

    def open(self) -> None:
        """Open the database if there is one, after migrating a JSON manifest."""
        if not os.path.isdir(self.root):
            return
        with LocalDir(self.root) as here:
            for name in MANIFEST_FILES:
                if not self._usable(here, name):
                    if self.dry_run:
                        return  # a dry run removes nothing: read no manifest at all
                    with contextlib.suppress(FileNotFoundError):
                        here.remove(name)
                    self.report.say(f"ftpmirror: removed {name}: a link or a shared file", 1)
            has_db = _exists(here, MANIFEST)
            has_json = _exists(here, LEGACY_MANIFEST)
        if has_db:
            self._check_meta()
        if has_json and self.db is None:
            self._migrate()

    @staticmethod
    def _usable(here: LocalDir, name: str) -> bool:
        """Whether `name` is absent or a regular file with no other link."""
        try:
            st = os.stat(here.at(name), dir_fd=here.fd, follow_symlinks=False)
        except FileNotFoundError:
            return True
        return stat.S_ISREG(st.st_mode) and st.st_nlink == 1

    def _path(self) -> str:
        return os.path.join(self.root, MANIFEST)

    def _connect(
        self, *, create: bool, fill: Callable[[sqlite3.Connection], None] | None = None
    ) -> None:
        mode = "ro" if self.dry_run else ("rwc" if create else "rw")
        uri = "file:" + urllib.parse.quote(os.path.abspath(self._path())) + f"?mode={mode}"
        db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        try:
            db.execute("PRAGMA journal_mode=DELETE")
            if create:
                db.executescript(MANIFEST_SCHEMA)
                # The format makes the database valid, and goes in one transaction with what
                # `fill` writes (a migrated manifest's records): a run killed before the
                # COMMIT leaves a database with no format, which the next run makes again
                # (and migrates again, the JSON manifest being still there).
                db.execute("BEGIN")
                if fill is not None:
                    fill(db)
                db.executemany(
                    "INSERT INTO meta VALUES (?, ?)",
                    [("format", MANIFEST_FORMAT), ("source", self.source)],
                )
                db.execute("COMMIT")
        except BaseException:
            db.close()
            raise
        self.db = db

    def _check_meta(self) -> None:
        """Open the database; keep it if it is ours and for this source, else start afresh."""
        try:
            self._connect(create=False)
            assert self.db is not None
            meta = dict(self.db.execute("SELECT key, value FROM meta").fetchall())
            if meta.get("format") != MANIFEST_FORMAT:
                raise sqlite3.DatabaseError("unknown format")
            self.db.execute("SELECT dir, name, facts, checksum FROM files LIMIT 1").fetchall()
            self.db.execute("SELECT dir, name, facts FROM partial LIMIT 1").fetchall()
        except sqlite3.DatabaseError as exc:
            self.report.say(f"ftpmirror: ignoring unreadable {MANIFEST}: {one_line(exc)}")
            self.close()
            if not self.dry_run:
                with LocalDir(self.root) as here:
                    for name in MANIFEST_FILES[:2]:  # the database and its journal
                        with contextlib.suppress(FileNotFoundError):
                            here.remove(name)
            return
        if meta.get("source") != self.source:
            self.report.say(
                f"ftpmirror: {MANIFEST} is for {show(str(meta.get('source')))}, "
                f"not {self.source}", 2,
            )  # fmt: skip
            if self.dry_run:
                self.close()
                return
            with self._lock:
                self._begin()
                self.db.execute("DELETE FROM files")
                self.db.execute("DELETE FROM partial")
                self.db.execute("UPDATE meta SET value = ? WHERE key = 'source'", (self.source,))
                self._commit()

    def _migrate(self) -> None:
        """Take the records of a JSON manifest of ftpmirror/1, then delete it."""
        data = _load_legacy(os.path.join(self.root, LEGACY_MANIFEST), self.source, self.report)

        def fill(db: sqlite3.Connection) -> None:
            if data is None:
                return
            files, partial, checksums = data
            db.executemany(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)",
                (
                    (*_key(rel), facts_text(f["size"], f["modify"], f["unique"]),
                     checksums.get(rel))
                    for rel, f in files.items()
                ),
            )  # fmt: skip
            db.executemany(
                "INSERT OR REPLACE INTO partial VALUES (?, ?, ?)",
                (
                    (*_key(rel), facts_text(f["size"], f["modify"], f["unique"]))
                    for rel, f in partial.items()
                ),
            )

        if self.dry_run:  # into memory: the dry run sees what the real run would
            self.db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
            self.db.executescript(MANIFEST_SCHEMA)
            fill(self.db)
        else:
            self._connect(create=True, fill=fill)
        if not self.dry_run:
            with LocalDir(self.root) as here:
                for name in (LEGACY_MANIFEST, LEGACY_MANIFEST + ".tmp"):
                    with contextlib.suppress(FileNotFoundError):
                        here.remove(name)
            self.report.say(f"ftpmirror: {LEGACY_MANIFEST} migrated to {MANIFEST}", 2)

    # -- reading: one directory at a time --------------------------------------------

    def records(self, rel_dir: str) -> dict[str, tuple[str, str | None]]:
        """The files recorded in directory `rel_dir`: name -> (facts, checksum)."""
        if self.db is None:
            return {}
        with self._lock:  # row by row: a big directory's rows are not held besides
            rows = self.db.execute(
                "SELECT name, facts, checksum FROM files WHERE dir = ?", (_encode(rel_dir),)
            )
            return {_decode(name): (facts, checksum) for name, facts, checksum in rows}

    def partials(self, rel_dir: str) -> dict[str, str]:
        """The partial files recorded in directory `rel_dir`: name -> facts."""
        if self.db is None:
            return {}
        with self._lock:
            rows = self.db.execute(
                "SELECT name, facts FROM partial WHERE dir = ?", (_encode(rel_dir),)
            ).fetchall()
        return {_decode(name): facts for name, facts in rows}

    def directories(self) -> Iterator[str]:
        """Every directory with a record, each once (a seek per directory, not a scan)."""
        if self.db is None:
            return
        for table in ("files", "partial"):
            last: bytes | None = None
            while True:
                with self._lock:
                    if last is None:
                        row = self.db.execute(f"SELECT min(dir) FROM {table}").fetchone()
                    else:
                        row = self.db.execute(
                            f"SELECT min(dir) FROM {table} WHERE dir > ?", (last,)
                        ).fetchone()
                if row is None or row[0] is None:
                    break
                last = row[0]
                yield _decode(last)

    # -- writing -----------------------------------------------------------------------

    def resumable(self, rel: str, facts: str | None) -> None:
        """Record (`facts`) or drop (None) the partial file of `rel` as resumable; commit now."""
        if facts is None:
            self._write(("DELETE FROM partial WHERE dir = ? AND name = ?", _key(rel)))
        else:
            self.started(rel, facts)
        self.commit()

    def finished(self, rel: str, facts: str, checksum: str | None = None) -> None:
        """Record a file now in place, made from the server's file with `facts`.

        `checksum` (``"ALGORITHM:hex"``) is the copy's; without it, any the
        record had is dropped: it was of the copy just replaced.
        """
        self._write(
            ("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)", (*_key(rel), facts, checksum)),
            ("DELETE FROM partial WHERE dir = ? AND name = ?", _key(rel)),
        )

    def started(self, rel: str, facts: str) -> None:
        """Record that the partial file of `rel` is being written from the server's `facts`."""
        self._write(("INSERT OR REPLACE INTO partial VALUES (?, ?, ?)", (*_key(rel), facts)))

    def forget(
        self, rel_dir: str, names: Iterator[str] | list[str], *, partial: bool = False
    ) -> None:
        """Drop the records of `names` in directory `rel_dir`."""
        table = "partial" if partial else "files"
        directory = _encode(rel_dir)
        self._write(
            *((f"DELETE FROM {table} WHERE dir = ? AND name = ?", (directory, _encode(n)))
              for n in names)
        )  # fmt: skip

    def forget_directory(self, rel_dir: str) -> None:
        """Drop every record of directory `rel_dir` (not of those below it)."""
        directory = (_encode(rel_dir),)
        self._write(
            ("DELETE FROM files WHERE dir = ?", directory),
            ("DELETE FROM partial WHERE dir = ?", directory),
        )

    def _write(self, *statements: tuple[str, tuple]) -> None:
        if self.dry_run or not statements:
            return
        with self._lock:
            if self.db is None:
                self._connect(create=True)
            self._begin()
            assert self.db is not None
            for sql, params in statements:
                self.db.execute(sql, params)
            if time.monotonic() - self._since > COMMIT_INTERVAL:  # type: ignore[operator]
                self._commit()

    def _begin(self) -> None:
        if self._since is None:
            assert self.db is not None
            self.db.execute("BEGIN IMMEDIATE")
            self._since = time.monotonic()

    def _commit(self) -> None:
        if self._since is not None:
            assert self.db is not None
            self.db.execute("COMMIT")
            self._since = None

    def commit(self) -> None:
        """Make every write so far durable."""
        with self._lock:
            self._commit()

    def close(self) -> None:
        with self._lock:
            db, self.db = self.db, None
            if db is not None:
                if self._since is not None:
                    db.execute("COMMIT")
                    self._since = None
                db.close()


MANIFEST_SCHEMA = """
BEGIN;
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE files (
    dir BLOB, name BLOB, facts TEXT NOT NULL, checksum TEXT, PRIMARY KEY (dir, name)
) WITHOUT ROWID;
CREATE TABLE partial (
    dir BLOB, name BLOB, facts TEXT NOT NULL, PRIMARY KEY (dir, name)
) WITHOUT ROWID;
COMMIT;
"""


def _encode(text: str) -> bytes:
    # Names come from the server decoded with 'surrogateescape': keep their bytes.
    return text.encode("utf-8", "surrogateescape")


def _decode(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def _key(rel: str) -> tuple[bytes, bytes]:
    directory, _, name = rel.rpartition("/")
    return _encode(directory), _encode(name)


def _exists(here: LocalDir, name: str) -> bool:
    try:
        os.stat(here.at(name), dir_fd=here.fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def facts_text(size: int | None, modify: str | None, unique: str | None) -> str:
    """A file's server facts as the manifest records them, compared as text."""
    return json.dumps([size, modify, unique], separators=(",", ":"))


def _load_legacy(
    path: str, source: str, report: Report
) -> tuple[dict[str, dict], dict[str, dict], dict[str, str]] | None:
    """The (files, partial, checksums) of a JSON manifest of ftpmirror/1, or None."""
    try:
        fd = os.open(path, os.O_RDONLY | _O_NOFOLLOW)
        with open(fd, encoding="ascii") as f:
            data = json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        report.say(f"ftpmirror: ignoring unreadable {LEGACY_MANIFEST}: {one_line(exc)}")
        return None
    if not isinstance(data, dict) or data.get("format") != LEGACY_FORMAT:
        report.say(f"ftpmirror: ignoring {LEGACY_MANIFEST}: unknown format")
        return None
    if data.get("source") != source:
        other = show(str(data.get("source")))
        report.say(f"ftpmirror: {LEGACY_MANIFEST} is for {other}, not {source}", 2)
        return None
    files = _valid_records(data.get("files"))
    return (
        files,
        _valid_records(data.get("partial")),
        _valid_checksums(data.get("checksums"), files),
    )


DIGEST_LENGTHS = {"SHA-512": 128, "SHA-256": 64, "SHA-1": 40, "MD5": 32, "CRC32": 8}
"""The algorithms ftplib2's checksum() names, and the hex digits of each."""

CHECKSUM_COMMANDS = frozenset({"HASH", "XSHA512", "XSHA256", "XSHA1", "XMD5", "MD5", "XCRC"})
"""The FEAT names of the commands ftplib2's checksum() uses."""


def _valid_checksums(checksums: object, files: dict[str, dict]) -> dict[str, str]:
    """The well-formed ``"ALGORITHM:hex"`` records of `checksums` for paths in `files`."""
    if not isinstance(checksums, dict):
        return {}
    valid = {}
    for rel, value in checksums.items():
        if rel in files and isinstance(value, str):
            algorithm, _, digest = value.partition(":")
            length = DIGEST_LENGTHS.get(algorithm)
            if length == len(digest) and not digest.strip("0123456789abcdef"):
                valid[rel] = value
    return valid


class HashingFile:
    """A local file that hashes what is written to it: --checksum's digest of a download."""

    def __init__(self, fp: Any, algorithm: str) -> None:
        self.fp = fp
        self.algorithm = algorithm
        if algorithm == "CRC32":
            self._crc = 0
        else:
            self._digest = hashlib.new(algorithm.replace("-", "").lower(), usedforsecurity=False)

    def update(self, data: Any) -> None:
        if self.algorithm == "CRC32":
            self._crc = zlib.crc32(data, self._crc)
        else:
            self._digest.update(data)

    def hexdigest(self) -> str:
        if self.algorithm == "CRC32":
            return f"{self._crc:08x}"
        return self._digest.hexdigest()

    def write(self, data: Any) -> int:
        self.update(data)
        return self.fp.write(data)

    def seek(self, *args: Any) -> int:
        return self.fp.seek(*args)

    def tell(self) -> int:
        return self.fp.tell()

    def truncate(self, *args: Any) -> int:
        return self.fp.truncate(*args)

    def hash_fd(self, fd: int) -> None:
        """Hash what the file `fd` holds from its current position (the fd is read, not closed)."""
        while data := os.read(fd, 1 << 20):
            self.update(data)


def _valid_records(records: object) -> dict[str, dict]:
    if not isinstance(records, dict):
        return {}
    valid = {}
    for rel, facts in records.items():
        if (
            isinstance(facts, dict)
            and set(facts) == {"size", "modify", "unique"}
            and (facts["size"] is None or type(facts["size"]) is int)
            and (facts["modify"] is None or isinstance(facts["modify"], str))
            and (facts["unique"] is None or isinstance(facts["unique"], str))
        ):
            valid[rel] = facts
    return valid


# --------------------------------------------------------------------------
# The plan: what a run will change
# --------------------------------------------------------------------------


@dataclasses.dataclass
class Transfer:
    """One file to copy; `rel` is its '/'-separated path below both roots."""

    rel: str
    size: int | None
    modify: datetime.datetime | None = None
    unique: str | None = None
    resume: bool = False  # a partial file of this very version is there, and --continue
    check: bool = False  # --checksum: a copy of the right size is there; fetch it if it differs
    known: tuple[str, str | None] | None = None  # the manifest's (facts, checksum) of the copy

    @functools.cached_property
    def facts(self) -> str:
        return facts_of(self.size, self.modify, self.unique)


@dataclasses.dataclass
class Plan:
    """What an upload (--reverse) will change, in the order it changes it.

    Downloads are not planned ahead: they stream (see `Mirror.mirror_download`).
    """

    removals: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (rel, kind)
    stale_parts: list[str] = dataclasses.field(default_factory=list)
    make_root: bool = False
    mkdirs: list[str] = dataclasses.field(default_factory=list)
    transfers: list[Transfer] = dataclasses.field(default_factory=list)


_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_O_BINARY = getattr(os, "O_BINARY", 0)  # Windows: no newline translation
# Directories opened relative to one another: what keeps the walk down from the root
# from going through a link.  POSIX systems have it; Windows does not.
_WALK_BY_DESCRIPTOR = bool(
    _O_NOFOLLOW
    and _O_DIRECTORY
    and {os.open, os.rename, os.unlink, os.mkdir, os.stat} <= os.supports_dir_fd
    and shutil.rmtree.avoids_symlink_attacks
)


class LocalDir:
    """A local directory below the mirror's root, reached without following symbolic links.

    Every file and directory ftpmirror creates, renames, deletes or uploads locally goes
    through one.  Each level below the root is opened with O_NOFOLLOW and names are then taken
    relative to that descriptor, so a link put in the place of a directory, even while
    the mirror runs, is never gone through: the operation fails instead.  (The root is
    the user's choice and may be a link.)  Where directories cannot be opened relative to
    one another (Windows), the paths are used after checking that no level is a link.
    """

    def __init__(self, root: str, rel: str = "") -> None:
        names = rel.split("/") if rel else []
        self.path = os.path.join(root, *names)
        self.fd: int | None = None
        if not _WALK_BY_DESCRIPTOR:
            here = root
            for name in names:
                here = os.path.join(here, name)
                if not stat.S_ISDIR(os.lstat(here).st_mode):
                    raise NotADirectoryError(errno.ENOTDIR, "not a directory (a link?)", here)
            return
        fd = os.open(root, os.O_RDONLY | _O_DIRECTORY)
        try:
            for name in names:
                level = os.open(name, os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW, dir_fd=fd)
                os.close(fd)
                fd = level
        except BaseException:
            os.close(fd)
            raise
        self.fd = fd

    def at(self, name: str) -> str:
        """How to name `name` in this directory to the os functions, with ``dir_fd=self.fd``."""
        return name if self.fd is not None else os.path.join(self.path, name)

    def create(self, name: str) -> int:
        """A new, empty file `name`, open for writing.

        Whatever had that name (an old partial file, a symbolic link, a hard link to a
        file elsewhere) is removed first, and the file is created afresh with O_EXCL, so
        nothing is ever written through a link planted there.
        """
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.at(name), dir_fd=self.fd)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_BINARY
        return os.open(self.at(name), flags, 0o666, dir_fd=self.fd)

    def append(self, name: str) -> int | None:
        """The file `name`, open for appending; None unless it is a regular file of its own.

        A link, a file with another (hard) link, or anything but a regular file is not
        appended to: the caller starts a new file instead.
        """
        return self._existing(name, os.O_APPEND)

    def _existing(self, name: str, mode: int) -> int | None:
        flags = os.O_WRONLY | mode | _O_NOFOLLOW | _O_BINARY | getattr(os, "O_NONBLOCK", 0)
        try:  # O_NONBLOCK: a FIFO put there fails at once instead of waiting for a reader
            fd = os.open(self.at(name), flags, dir_fd=self.fd)
        except OSError:
            return None
        st = os.fstat(fd)
        if stat.S_ISREG(st.st_mode) and st.st_nlink == 1:
            return fd
        os.close(fd)
        return None

    def update(self, name: str) -> int | None:
        """The file `name`, open for writing in place; None as for `append`.

        Not in append mode: a segmented download writes each range at its own
        offset, which append mode would put at the end.
        """
        return self._existing(name, 0)

    def read(self, name: str) -> int:
        """The regular file `name`, open for reading; OSError for a link or anything else."""
        flags = os.O_RDONLY | _O_NOFOLLOW | _O_BINARY | getattr(os, "O_NONBLOCK", 0)
        fd = os.open(self.at(name), flags, dir_fd=self.fd)  # a FIFO must not block it either
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise OSError(errno.EINVAL, "not a regular file", name)
        return fd

    def replace(self, source: str, target: str) -> None:
        """Rename `source` to `target`, replacing what is there (a link itself, not its target)."""
        os.replace(self.at(source), self.at(target), src_dir_fd=self.fd, dst_dir_fd=self.fd)

    def remove(self, name: str) -> None:
        os.unlink(self.at(name), dir_fd=self.fd)

    def rmtree(self, name: str) -> None:
        """Remove the directory `name` and all below it, never following a link."""
        shutil.rmtree(self.at(name), dir_fd=self.fd)

    def mkdir(self, name: str) -> None:
        os.mkdir(self.at(name), dir_fd=self.fd)

    def size(self, name: str) -> int:
        return os.stat(self.at(name), dir_fd=self.fd, follow_symlinks=False).st_size

    def close(self) -> None:
        fd, self.fd = self.fd, None
        if fd is not None:
            os.close(fd)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def local_kind(path: str) -> str | None:
    """'file', 'dir', 'link' or 'other' for what is at `path` (links not followed), or None."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISDIR(mode):
        return "dir"
    return "file" if stat.S_ISREG(mode) else "other"


def _kind_found(entry: os.DirEntry) -> str | os.DirEntry:
    """`_kind_of` `entry`, to keep in place of the entry: a string, not an object and its path.

    Where the directory does not give types, finding one takes a stat; if that fails,
    the entry is kept, and `_kind_of` raises the failure where the kind is needed.
    """
    try:
        return _kind_of(entry)  # type: ignore[return-value]  # not None: an entry
    except OSError:
        return entry


def _kind_of(entry: str | os.DirEntry | None) -> str | None:
    """`local_kind` of an entry of os.scandir(): its type needs no more system calls.

    A kind found before (see `_kind_found`) is returned as it is.
    """
    if entry is None or isinstance(entry, str):
        return entry
    if entry.is_symlink():
        return "link"
    if entry.is_dir(follow_symlinks=False):
        return "dir"
    return "file" if entry.is_file(follow_symlinks=False) else "other"


class Listed:
    """A remote directory entry as a run keeps it: the parts of an `ftplib2.Entry` it uses.

    A listing is held whole while its directory is compared, so each entry costs a
    run's memory as many times as its directory has entries: the listed line, the
    permissions and the facts dictionary of an Entry are left out (about 250 bytes
    an entry of a LIST line).
    """

    __slots__ = ("modify", "name", "size", "target", "type", "unique")

    def __init__(self, entry: ftplib2.Entry) -> None:
        self.name = entry.name
        self.type = entry.type
        self.size = entry.size
        self.modify = entry.modify
        self.unique = entry.unique
        self.target = entry.target


_name_of = operator.attrgetter("name")


def why_fetch(
    entry: Listed, local: os.stat_result | None, record: str | None, facts: str
) -> str | None:
    """Why the local copy of `entry` must be fetched again, or None if it is current.

    `record` is the manifest's facts for the copy, `facts` the server's now.
    """
    if local is None:
        return "new"
    if entry.size is not None and local.st_size != entry.size:
        return "size differs"
    if record is not None:
        return None if record == facts else "changed on the server"
    # No record (first run over an existing copy, or a lost manifest): trust a copy
    # whose size and time are those this tool gives a file it fetched.
    if (
        entry.size is not None
        and entry.modify is not None
        and int(local.st_mtime) == int(entry.modify.timestamp())
    ):
        return None
    return "not known to be current"


class Mirror:
    """One run: connect, then walk and fetch as one stream, or (--reverse) plan and carry out."""

    def __init__(self, site: Site, args: argparse.Namespace, report: Report) -> None:
        self.site = site
        self.args = args
        self.report = report
        self.root = site.localdir
        self.excludes = list(args.exclude) + (["*.o"] if args.bare_names else [])
        self.plan = Plan()
        self.manifest = Manifest(self.root, site.source, report, dry_run=args.dry_run)
        self.workers: Workers | None = None  # the connections downloads stream to
        self.remote_base: str | None = None  # the remote top as an absolute path, if known
        self.walker: ftplib2.TreeWalker | None = None  # lists the remote tree, once connected
        self._features: dict[str, str] = {}
        self.checksums = False  # --checksum, and the server has checksum commands
        self.algorithm = "SHA-256"  # the one to ask for first; the server's choice if not offered

    # -- paths ---------------------------------------------------------------

    def local(self, rel: str) -> str:
        return os.path.join(self.root, *rel.split("/")) if rel else self.root

    def remote(self, rel: str) -> str:
        if not self.site.remotedir:
            return rel
        return posixpath.join(self.site.remotedir, rel) if rel else self.site.remotedir

    def excluded(self, rel: str, name: str, is_file: bool) -> bool:
        """Whether -s/--exclude, or --include for a file, leaves `rel` out of the mirror."""

        def matches(pattern: str) -> bool:
            return fnmatch.fnmatchcase(rel if "/" in pattern else name, pattern)

        if any(matches(p) for p in self.excludes):
            return True
        return is_file and bool(self.args.include) and not any(map(matches, self.args.include))

    # -- connections ---------------------------------------------------------------

    def connect(self) -> ftplib2.FTP:
        """A new connection, logged in (unless -n) and with TLS as asked."""
        site = self.site
        options: dict[str, Any] = {
            "timeout": self.args.timeout,
            "errors": "surrogateescape",
            "proxy": self.args.proxy,
        }
        if site.tls:
            ftp: ftplib2.FTP = ftplib2.FTP_TLS(
                context=self.tls_context(), implicit=site.tls == "implicit", **options
            )
        else:
            ftp = ftplib2.FTP(**options)
        try:
            if self.report.verbosity >= 4:
                ftp.set_debuglevel(self.report.verbosity - 3)
            ftp.connect(site.host, site.port)
            if site.login:
                ftp.login(site.user, site.passwd, site.account)
            elif site.tls == "explicit":
                ftp.auth()
            if site.tls:
                ftp.prot_p()
            ftp.pipelining = self.args.pipelining
        except BaseException:
            ftp.close()
            raise
        return ftp

    def tls_context(self) -> ssl.SSLContext:
        if self.args.insecure:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            return context
        return ssl.create_default_context(cafile=self.args.cafile)

    # -- the run -------------------------------------------------------------------

    def run(self) -> None:
        if os.path.exists(self.root) and not os.path.isdir(self.root):
            raise MirrorFailed(f"{show(self.root)}: not a directory")
        if self.args.reverse and not os.path.isdir(self.root):
            raise MirrorFailed(f"{show(self.root)}: no such directory")
        with self.connect() as ftp:
            direction = "from" if self.args.reverse else "to"
            self.report.say(f"mirroring {self.site.source} {direction} {show(self.root)}", 2)
            self._features = ftp.features()
            if self.args.checksum:
                self.checksums = bool(CHECKSUM_COMMANDS & set(self._features))
                if not self.checksums:
                    self.report.say(
                        "ftpmirror: --checksum: the server offers no checksum command; "
                        "deciding by sizes and dates"
                    )
            if not self.args.reverse:
                self.mirror_download(ftp)
                return
            self.plan_upload(ftp)
            if self.args.dry_run:
                self.show_plan()
            else:
                self.carry_out_upload(ftp)

    def walk_remote(self, ftp: ftplib2.FTP) -> ftplib2.TreeWalker:
        """A walker for the remote tree: it never follows a link out of it, nor round a loop."""
        try:
            self.walker = ftplib2.TreeWalker(
                ftp, self.remote(""), max_dirs=self.args.max_dirs,
                max_entries=self.args.max_entries,
                lister=(lambda rel: self._bare_listing(ftp, rel)) if self.args.bare_names else None,
            )  # fmt: skip
        except TRANSFER_ERRORS as exc:  # it starts by asking where it is (PWD)
            where = show(self.remote("")) or "."
            raise MirrorFailed(f"cannot list {where}: {one_line(exc)}") from None
        return self.walker

    def listing(self, rel: str) -> list[Listed]:
        """The remote directory `rel` as entries (see `walk_remote`); changes directory into it.

        A walk past --max-dirs or --max-entries ends the run: a partial listing
        must not pass for the whole tree, which --delete would then trim to it.
        """
        assert self.walker is not None
        try:
            entries: list[Any] = self.walker.scandir(rel)
        except ftplib2.WalkLimitError as exc:
            raise MirrorFailed(
                f"{one_line(exc)}; the walk stopped, so nothing was deleted (see --max-dirs "
                "and --max-entries)"
            ) from None
        # In place, one at a time: the Entry objects are gone before the local directory
        # and the manifest's records are read in beside the listing.
        for i, entry in enumerate(entries):
            entries[i] = Listed(entry)
        return entries

    def _bare_listing(self, ftp: ftplib2.FTP, rel: str) -> list[ftplib2.Entry]:
        """-m: the working directory by NLST, with sizes and times from SIZE and MDTM."""
        entries = []
        for item in ftp.nlst():
            if item.endswith("/") and item != "/":
                entries.append(ftplib2.Entry(name=item[:-1], type="dir"))
                continue
            size = modify = None
            if refusal(item) is None and not is_ours(item, not rel):
                if "SIZE" in self._features:
                    with contextlib.suppress(ftplib2.error_perm):
                        size = ftp.size(item)
                if "MDTM" in self._features:
                    with contextlib.suppress(ftplib2.error_perm, ftplib2.error_proto):
                        modify = ftp.mdtm(item)
            entries.append(ftplib2.Entry(name=item, type="file", size=size, modify=modify))
        return entries

    def screen(self, rel_dir: str, entries: list[Listed]) -> list[Listed]:
        """The entries of a remote listing that may be mirrored; each refusal is reported.

        `entries` is sorted by name, in place: the order the reports come in.
        """

        def key(name: str) -> str:
            return name.casefold() if CASE_INSENSITIVE else name

        entries.sort(key=_name_of)
        # Equal keys are neighbours once sorted: no count of every name is needed.
        keys = sorted(key(e.name) for e in entries) if CASE_INSENSITIVE else map(_name_of, entries)
        doubled = {a for a, b in itertools.pairwise(keys) if a == b}
        accepted = []
        for entry in entries:
            rel = join(rel_dir, entry.name)
            why = refusal(entry.name)
            if why is None and key(entry.name) in doubled:
                why = "listed more than once" + (" (ignoring case)" if CASE_INSENSITIVE else "")
            if why is not None:
                self.report.refuse(rel, why)
            elif is_ours(entry.name, not rel_dir):
                self.report.skip(rel, "named like ftpmirror's own files")
            elif entry.type == "link":
                target = f" to {show(entry.target)}" if entry.target else ""
                if link_escapes(rel_dir, entry.target):
                    self.report.refuse(rel, f"symbolic link{target} points outside the mirror")
                else:
                    self.report.skip(rel, f"symbolic link{target}, not followed", level=1)
            elif entry.type not in ("file", "dir"):
                self.report.skip(rel, "neither a file nor a directory")
            elif self.excluded(rel, entry.name, entry.type == "file"):
                self.report.say(f"exclude {show(rel)}", 2)
            else:
                accepted.append(entry)
        return accepted

    def confirm(self, question: str) -> bool:
        return not self.args.interactive or self.args.dry_run or ask(question)

    # -- downloading: walking, deciding and fetching as one stream -----------------
    #
    # Each remote directory is listed before anything is decided for it, then
    # compared with the local directory and the manifest's records of it, and the
    # transfers it needs go to the connections at once (`Workers`): memory holds the
    # listings of the directories being walked and a bounded queue of transfers, not
    # the tree.  What streaming cannot prove until the walk has ended is left until
    # then: deletions (-r), the replacement of a local file or directory in the
    # way, and directories that receive no file.  A walk stopped early (a bound, an
    # interrupt, an error) therefore deletes nothing; the files fetched before it
    # stopped are complete and recorded.

    def mirror_download(self, ftp: ftplib2.FTP) -> None:
        """Walk the server's tree and fetch, create and delete here as it goes."""
        self.manifest.open()
        self._pending_dirs: list[str] = []  # not created yet: no file has needed them
        self._empty_dirs: list[str] = []  # walked, nothing in them: made once the walk ends
        self._failed_dirs: set[str] = set()
        self._removals: list[tuple[str, str]] = []  # (rel, kind): once the walk ends
        self._deferred: list[tuple[str, Transfer | None]] = []  # behind a removal: mkdir or get
        self._visited: set[str] = set()
        self._kept_below: set[str] = set()  # directories whose records stay: not listed
        make_root = not os.path.isdir(self.root)
        workers = None if self.args.dry_run else make_workers(self, ftp, "get", self._download)
        self.workers = workers
        try:
            with self.report.progress():
                with self.walk_remote(ftp):
                    entries = self._list_remote("")
                    if entries is not None:
                        self.remote_base = self._absolute_top()
                        if workers is not None and self.remote_base is None:
                            workers.before_own = self.walker.restore  # type: ignore[union-attr]
                        if make_root:
                            self._pending_dirs.append("")
                        self._walk_dir("", entries, local_is_dir=not make_root, deferred=False)
                        if make_root and self._pending_dirs == [""]:
                            self._pending_dirs.clear()
                            self._empty_dirs.append("")
                # The walk is complete, within its bounds: now what needed that proof.
                self._after_walk()
                if workers is not None:
                    workers.finish()
            if entries is not None and not self.args.dry_run:
                self._forget_unvisited()
        finally:
            if workers is not None:
                workers.abort()
            self.manifest.close()

    def _absolute_top(self) -> str | None:
        """The top as an absolute path, for transfers on any connection while the walk goes on."""
        root = self.walker.root if self.walker is not None else None
        return root if root is not None and root.startswith("/") else None

    def transfer_path(self, rel: str) -> str:
        """The remote path of `rel` to transfer: absolute when the top's PWD is."""
        base = self.remote_base
        if base is None:
            return self.remote(rel)
        return posixpath.join(base, rel) if rel else base

    def _list_remote(self, rel: str) -> list[Listed] | None:
        """The listing of remote directory `rel`, or None (reported) if it has none to trust.

        Nothing is deleted below a directory without a listing, and the
        manifest keeps its records there: a failed listing is no empty directory.
        """
        if rel.count("/") >= MAX_DEPTH:  # a server that follows a link loop, without unique facts
            self.report.error(f"{show(rel)}: more than {MAX_DEPTH} levels deep (a link loop?)")
        else:
            try:
                return self.listing(rel)
            except ftplib2.WalkRefused as exc:
                self.report.skip(rel, show(exc.reason), level=1)
            except TRANSFER_ERRORS as exc:
                where = f"cannot list {show(self.remote(rel)) or '.'}: {one_line(exc)}"
                if not rel:
                    raise MirrorFailed(where) from None
                self.report.error(where)
        self._kept_below.add(rel)
        return None

    def _walk_dir(
        self, rel: str, entries: list[Listed], local_is_dir: bool, deferred: bool
    ) -> None:
        """Decide for every entry of the listed directory `rel`, and walk its subdirectories."""
        self._visited.add(rel)
        local: dict[str, str | os.DirEntry] = {}  # name -> kind (see `_kind_found`)
        if local_is_dir:
            try:
                with os.scandir(self.local(rel)) as it:
                    local = {e.name: _kind_found(e) for e in it}
            except OSError as exc:
                self.report.error(f"cannot list {show(self.local(rel))}: {one_line(exc)}")
                local_is_dir = False
        records = self.manifest.records(rel)  # taken out as decided: what is left goes
        stale = []  # the records of files refused here go too
        partials = self.manifest.partials(rel) if local_is_dir else {}
        # Of the files being fetched, those a partial record or a partial file names: the
        # partial files of the others go.
        fetching: set[str] = set()
        for entry in self.screen(rel, entries):
            child = join(rel, entry.name)
            if entry.type == "dir":
                self._walk_subdir(child, local.get(entry.name), deferred)
                continue
            record = records.pop(entry.name, None)
            decided = self._decide_file(child, entry, local.get(entry.name), record, partials)
            if decided is None:
                if record is not None:
                    stale.append(entry.name)
                continue
            if isinstance(decided, Transfer):
                if entry.name in partials or part_name(entry.name) in local:
                    fetching.add(entry.name)
                replacing = _kind_of(local.get(entry.name)) not in (None, "file")
                self._submit(decided, deferred or replacing)
        if local_is_dir:
            for entry in entries:  # what stays is what the server does not have
                local.pop(entry.name, None)
            self._local_leftovers(rel, local, fetching)
        if not self.args.dry_run:
            stale += records
            if stale:
                self.manifest.forget(rel, stale)
            stale = [name for name in partials if name not in fetching]
            if stale:
                self.manifest.forget(rel, stale, partial=True)
        if self._pending_dirs and self._pending_dirs[-1] == rel:
            self._pending_dirs.pop()  # nothing needed it: it is made once the walk ends
            self._empty_dirs.append(rel)

    def _walk_subdir(self, rel: str, local: str | os.DirEntry | None, deferred: bool) -> None:
        kind = _kind_of(local)
        if kind not in (None, "dir") and not self.args.delete:
            self.report.error(f"{show(rel)}: a local {kind} is in the way (-r replaces it)")
            return
        # Listed before anything is decided for it: a link found on the way in changes nothing.
        entries = self._list_remote(rel)
        if entries is None:
            return
        if kind == "dir":
            self._walk_dir(rel, entries, local_is_dir=True, deferred=deferred)
            return
        if not self.confirm(f"Mirror new directory {show(rel)}?"):
            self.report.skip(rel, "declined", level=1)
            return
        if kind is not None:  # in the way: replaced only once the walk has ended
            self._removals.append((rel, kind))
            self._deferred.append((rel, None))
            self._walk_dir(rel, entries, local_is_dir=False, deferred=True)
        elif deferred:
            self._deferred.append((rel, None))
            self._walk_dir(rel, entries, local_is_dir=False, deferred=True)
        else:
            self._pending_dirs.append(rel)
            self._walk_dir(rel, entries, local_is_dir=False, deferred=False)

    def _decide_file(
        self,
        rel: str,
        entry: Listed,
        found: str | os.DirEntry | None,
        record: tuple[str, str | None] | None,
        partials: dict[str, str],
    ) -> Transfer | bool | None:
        """The transfer `entry` needs; else True if it is current or skipped, None if refused.

        `record` is the manifest's (facts, checksum) for the local copy, if it has one.

        Each outcome but a transfer is reported here.
        """
        kind = _kind_of(found)
        if kind not in (None, "file") and not self.args.delete:
            self.report.error(f"{show(rel)}: a local {kind} is in the way (-r replaces it)")
            return None
        local = None
        if kind == "file":
            # os.scandir() gave the type; the size and time cost a stat, here only, and the
            # result is not kept: a big directory would hold one for each of its files.
            try:
                local = os.lstat(self.local(rel))
            except FileNotFoundError:  # gone since the directory was listed
                kind = None
            except OSError as exc:
                self.report.error(f"cannot stat {show(rel)}: {one_line(exc)}")
                return None
        facts = facts_of(entry.size, entry.modify, entry.unique)
        why = why_fetch(entry, local, record[0] if record else None, facts)
        check = (
            self.checksums
            and local is not None
            and (entry.size is None or local.st_size == entry.size)
        )
        if check:  # the server's checksum will tell, not the dates
            why = "if its checksum differs"
        elif why is None:
            if record is None and not self.args.dry_run:
                self.manifest.finished(rel, facts)  # trusted by its size and time: recorded
            self.report.unchanged(rel)
            return True
        if (
            self.args.only_newer
            and local is not None
            and entry.modify is not None
            and local.st_mtime >= entry.modify.timestamp()
        ):
            self.report.skip(rel, "the local copy is newer", level=1)
            return True
        if not self.confirm(f"Get {show(rel)} ({why})?"):
            self.report.skip(rel, "declined", level=1)
            return True
        if kind not in (None, "file"):  # in the way: replaced only once the walk has ended
            self._removals.append((rel, kind))
        resume = (
            self.args.resume
            and partials.get(entry.name) == facts
            and local_kind(os.path.join(self.local(posixpath.dirname(rel)), part_name(entry.name)))
            == "file"
        )
        return Transfer(
            rel, entry.size, entry.modify, entry.unique, resume=resume, check=check, known=record
        )

    def _submit(self, t: Transfer, deferred: bool) -> None:
        """Hand `t` to the connections, after creating the directories it goes into."""
        if self.args.dry_run:
            self._show_transfer(t)
            return
        if deferred:
            self._deferred.append((t.rel, t))
            return
        for rel in self._pending_dirs:  # the directories walked into, outermost first
            self._make_dir(rel)
        self._pending_dirs.clear()
        if _below_any(t.rel, self._failed_dirs):
            return  # already reported
        assert self.workers is not None
        self.workers.submit(t)

    def _make_dir(self, rel: str) -> None:
        if self.args.dry_run:
            if rel:  # the top is not named: it is the destination given
                self.report.say(f"would create {show(rel)}/")
            return
        if not rel:
            try:
                os.makedirs(self.root, exist_ok=True)
            except OSError as exc:
                raise MirrorFailed(f"cannot create {show(self.root)}: {one_line(exc)}") from None
            return
        if _below_any(rel, self._failed_dirs):  # already reported
            self._failed_dirs.add(rel)
            return
        directory, name = posixpath.split(rel)
        try:
            with LocalDir(self.root, directory) as here:
                here.mkdir(name)
        except OSError as exc:
            self.report.error(f"cannot create {show(rel)}: {one_line(exc)}")
            self._failed_dirs.add(rel)

    def _local_leftovers(
        self, rel: str, local: dict[str, str | os.DirEntry], fetching: set[str]
    ) -> None:
        """Delete stale partial files now; note, for -r, local entries to delete later.

        `local` holds the entries the server's listing does not have; they are
        deleted once the walk is complete.
        """
        for name in sorted(local):
            child = join(rel, name)
            if is_ours(name, not rel):
                final = name[1 : -len(PART_SUFFIX)] if name.endswith(PART_SUFFIX) else ""
                if final and final not in fetching and not self.args.dry_run:
                    self._remove_part(child)
                continue
            if not self.args.delete:
                continue
            kind = _kind_of(local[name])
            if self.excluded(child, name, kind != "dir"):
                continue
            if self.confirm(f"Delete local {kind} {show(child)}?"):
                self._removals.append((child, kind or "file"))
            else:
                self.report.skip(child, "declined", level=1)

    def _remove_part(self, rel: str) -> None:
        directory, name = posixpath.split(rel)
        try:
            with LocalDir(self.root, directory) as here:
                here.remove(name)
        except FileNotFoundError:
            pass
        except OSError as exc:
            self.report.error(f"cannot delete {show(rel)}: {one_line(exc)}")

    def _after_walk(self) -> None:
        """Once the whole tree was listed within bounds: delete, replace, make empty directories."""
        for rel, kind in self._removals:
            if self.args.dry_run:
                self.report.deleted(rel)
            else:
                self._remove_local(rel, kind)
        self._removals = []
        for rel in sorted(self._empty_dirs):  # a parent before its children
            self._make_dir(rel)
        for rel, t in self._deferred:
            if t is None:
                self._make_dir(rel)
            else:
                self._submit(t, deferred=False)
        self._deferred = []

    def _forget_unvisited(self) -> None:
        """Drop the records of directories the walk did not reach (gone, excluded, refused)."""
        gone = [
            d for d in self.manifest.directories()
            if d not in self._visited and not any(
                d == k or d.startswith(k + "/") or not k for k in self._kept_below
            )
        ]  # fmt: skip
        for rel in gone:
            self.manifest.forget_directory(rel)

    def _remove_local(self, rel: str, kind: str) -> None:
        directory, name = posixpath.split(rel)
        try:
            with LocalDir(self.root, directory) as here:
                if kind == "dir":
                    here.rmtree(name)
                else:
                    here.remove(name)
        except OSError as exc:
            self.report.error(f"cannot delete {show(rel)}: {one_line(exc)}")
            return
        if kind != "dir":
            self.manifest.forget(directory, [name])
        self.report.deleted(rel)

    def _show_transfer(self, t: Transfer) -> None:
        for rel in self._pending_dirs:
            self._make_dir(rel)
        self._pending_dirs.clear()
        if t.check:
            self.report.say(f"would check {show(t.rel)} by checksum (and get it if it differs)")
        else:
            self.report.transferred("would get", t.rel, t.size or 0)

    def _download(self, ftp: ftplib2.FTP, t: Transfer, callback: Callable[[int], None]) -> bool:
        """Fetch `t` into its partial file; rename it into place once it is whole.

        With --checksum, a copy that `t.check` says is there is first checked against the
        server's checksum, and left as it is (False returned) if they match; a file fetched
        is hashed as it is written and must match the server's checksum, asked just before.
        """
        directory, name = posixpath.split(t.rel)
        partial = part_name(name)
        expected = self._checksum_first(ftp, t) if self.checksums else None
        if expected is not None and t.check:
            with LocalDir(self.root, directory) as here:
                held = t.known[1] if t.known is not None else None
                if held is None or held.partition(":")[0] != expected[0]:
                    hashing = HashingFile(None, expected[0])
                    fd = here.read(name)
                    try:
                        hashing.hash_fd(fd)
                    finally:
                        os.close(fd)
                    held = f"{expected[0]}:{hashing.hexdigest()}"
            if held == ":".join(expected):
                if t.known != (t.facts, held):  # a run that changes nothing writes nothing
                    self.manifest.finished(t.rel, t.facts, held)
                self.report.unchanged(t.rel)
                return False
        elif t.check and t.known is not None and t.known[0] == t.facts:
            self.report.unchanged(t.rel)  # no checksum for this file: the dates decide
            return False
        segments = 1
        if t.size is not None and t.size >= self.args.segment_threshold:
            segments = self.args.segments
        with LocalDir(self.root, directory) as here:
            # Decided here, not left to download(): without REST it would write the whole
            # file after the partial one it was given (ftplib2 resumes a file object at its end).
            fd = None
            if t.resume and ftp.has_feature("REST"):
                # Segments are written in place, each at its offset: not in append mode.
                fd = here.update(partial) if segments > 1 else here.append(partial)
            if fd is not None and t.size is not None and os.fstat(fd).st_size > t.size:
                os.close(fd)
                fd = None
            resume = fd is not None
            if fd is None:
                fd = here.create(partial)
            if segments > 1:
                # Its holes would pass for data should this process be killed: until
                # download() returns (having cut the file back to its first hole if it
                # failed), the manifest does not call this partial file resumable.
                self.manifest.resumable(t.rel, None)
            try:
                with os.fdopen(fd, "ab" if resume and segments == 1 else "wb") as fp:
                    local: Any = fp
                    if expected is not None and segments == 1:
                        local = HashingFile(fp, expected[0])
                        if resume:  # what the partial file holds is part of the file too
                            kept = here.read(partial)
                            try:
                                local.hash_fd(kept)
                            finally:
                                os.close(kept)
                    if segments == 1 and (t.size is None or t.size >= RESUME_WORTH):
                        # --continue must know what the partial file holds: recorded only
                        # now that it holds this version's bytes (resumed) or none (new),
                        # never while an older version's bytes may still be in it.
                        if not resume:
                            self.manifest.started(t.rel, t.facts)
                        self.manifest.commit()  # smaller ones are fetched again whole
                    # The listing's size spares a SIZE round trip; download() checks against it.
                    ftp.download(
                        self.transfer_path(t.rel), local, resume=resume, callback=callback,
                        size=t.size, retries=self.args.retries, segments=segments,
                    )  # fmt: skip
                    if expected is not None and segments > 1:
                        # Written out of order: hashed once whole, from the page cache.
                        local = HashingFile(None, expected[0])
                        whole = here.read(partial)
                        try:
                            local.hash_fd(whole)
                        finally:
                            os.close(whole)
                    if expected is not None and local.hexdigest() != expected[1]:
                        raise ftplib2.error_proto(
                            f"the {expected[0]} of the copy is {local.hexdigest()}, "
                            f"the server's {expected[1]}"
                        )
                    fp.flush()
                    if t.modify is not None:
                        target = fp.fileno() if os.utime in os.supports_fd else here.at(partial)
                        os.utime(target, (time.time(), t.modify.timestamp()))
            except BaseException:
                with contextlib.suppress(OSError):
                    kept = here.size(partial)
                    # Empty: nothing worth resuming.  As long as the listing says the file
                    # is: the server sent more than that, so these bytes may not be its
                    # file, and a --continue run would take them for the whole of it.
                    if kept == 0 or (t.size is not None and kept >= t.size):
                        here.remove(partial)
                    elif segments > 1:
                        self.manifest.resumable(t.rel, t.facts)
                raise
            here.replace(partial, name)
        self.manifest.finished(t.rel, t.facts, ":".join(expected) if expected else None)
        return True

    def _checksum_first(self, ftp: ftplib2.FTP, t: Transfer) -> tuple[str, str] | None:
        """The server's checksum of `t`, or None where it has none for that file.

        SHA-256 first (fast to check, and strong), else the strongest the server has;
        the algorithm of the copy's recorded checksum, if it has one, before either.
        """
        remote = self.transfer_path(t.rel)
        held = (t.known[1] or "" if t.known is not None else "").partition(":")[0]
        for algorithm in dict.fromkeys([held, self.algorithm, None]):
            if algorithm == "":
                continue
            try:
                found = ftp.checksum(remote, algorithm)
            except ftplib2.error_perm as exc:
                if exc.code in ("500", "501", "502", "504"):
                    continue  # not for that algorithm: try the next
                # Refused for this file (too big for the server's policy, say): as without
                # --checksum, the dates decide, and a file fetched is checked by size.
                self.report.say(f"no checksum for {show(t.rel)}: {one_line(exc)}", 2)
                return None
            self.algorithm = found[0]
            return found
        return None

    # -- uploading (--reverse) -----------------------------------------------------

    def plan_upload(self, ftp: ftplib2.FTP) -> None:
        """Walk the local tree and decide what to send, create and delete on the server."""
        root = self.remote("")
        exists = not root or ftp.isdir(root)
        self.plan.make_root = not exists
        if not exists:
            self._plan_local_dir(ftp, "", remote_exists=False)
            return
        with self.walk_remote(ftp):
            self._plan_local_dir(ftp, "", remote_exists=True)

    def _plan_local_dir(self, ftp: ftplib2.FTP, rel: str, remote_exists: bool) -> None:
        directory = self.local(rel)
        try:
            with os.scandir(directory) as it:
                local_entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            self.report.error(f"cannot list {show(directory)}: {one_line(exc)}")
            return
        remote: dict[str, Listed] = {}
        if remote_exists:
            try:
                listing = self.listing(rel)
            except ftplib2.WalkRefused as exc:  # uploading into it would write through a link
                self.report.error(f"{show(rel)}: remote directory not entered: {show(exc.reason)}")
                return
            except TRANSFER_ERRORS as exc:
                self.report.error(f"cannot list {show(self.remote(rel)) or '.'}: {one_line(exc)}")
                return
            counts = collections.Counter(e.name for e in listing)
            remote = {e.name: e for e in listing if counts[e.name] == 1}
        for entry in local_entries:
            name, child = entry.name, join(rel, entry.name)
            if is_ours(name, not rel):
                continue
            why = refusal(name)
            if why is not None:
                self.report.refuse(child, why)
            elif entry.is_symlink():
                inside = _is_within(os.path.realpath(entry.path), os.path.realpath(self.root))
                if inside:
                    self.report.skip(child, "symbolic link, not followed", level=1)
                else:
                    self.report.refuse(child, "symbolic link points outside the mirror")
            elif entry.is_dir(follow_symlinks=False):
                if not self.excluded(child, name, False):
                    self._plan_upload_dir(ftp, child, remote.get(name))
            elif entry.is_file(follow_symlinks=False):
                if not self.excluded(child, name, True):
                    self._plan_upload_file(child, entry.stat(follow_symlinks=False), remote)
            else:
                self.report.skip(child, "neither a file nor a directory")
        if remote_exists:
            self._plan_remote_leftovers(rel, {e.name for e in local_entries}, remote, listing)

    def _plan_upload_dir(self, ftp: ftplib2.FTP, rel: str, there: Listed | None) -> None:
        if there is not None and there.type == "dir":
            self._plan_local_dir(ftp, rel, remote_exists=True)
            return
        if there is not None and not self.args.delete:
            self.report.error(f"{show(rel)}: a remote {there.type} is in the way (-r replaces it)")
            return
        if not self.confirm(f"Upload new directory {show(rel)}?"):
            self.report.skip(rel, "declined", level=1)
            return
        if there is not None:
            self.plan.removals.append((rel, there.type))
        self.plan.mkdirs.append(rel)
        self._plan_local_dir(ftp, rel, remote_exists=False)

    def _plan_upload_file(self, rel: str, local: os.stat_result, remote: dict[str, Listed]) -> None:
        name = posixpath.basename(rel)
        there = remote.get(name)
        if there is not None and there.type != "file" and not self.args.delete:
            self.report.error(f"{show(rel)}: a remote {there.type} is in the way (-r replaces it)")
            return
        why = self._why_send(local, there)
        if why is None:
            self.report.unchanged(rel)
            return
        if (
            self.args.only_newer
            and there is not None
            and there.modify is not None
            and local.st_mtime <= there.modify.timestamp()
        ):
            self.report.skip(rel, "the remote copy is newer", level=1)
            return
        if not self.confirm(f"Upload {show(rel)} ({why})?"):
            self.report.skip(rel, "declined", level=1)
            return
        if there is not None and there.type != "file":
            self.plan.removals.append((rel, there.type))
        partial = remote.get(part_name(name))
        resume = (
            self.args.resume
            and partial is not None
            and partial.size is not None
            and partial.size <= local.st_size
        )
        self.plan.transfers.append(
            Transfer(rel, local.st_size, _utc(local.st_mtime), None, resume=resume)
        )

    def _why_send(self, local: os.stat_result, there: Listed | None) -> str | None:
        """Why a local file must be uploaded again, or None if the server's copy is current."""
        if there is None or there.type != "file":
            return "new"
        if there.size is not None and there.size != local.st_size:
            return "size differs"
        if there.modify is not None:
            remote_time = int(there.modify.timestamp())
            if remote_time != int(local.st_mtime):
                if "MFMT" in self._features:  # every upload sets it: a difference is a change
                    return "modification time differs"
                if local.st_mtime > remote_time:
                    return "newer here"
            return None
        return None if there.size is not None else "not known to be current"

    def _plan_remote_leftovers(
        self,
        rel: str,
        local_names: set[str],
        remote: dict[str, Listed],
        listing: list[Listed],
    ) -> None:
        planned = {t.rel for t in self.plan.transfers if t.resume}
        for entry in listing:
            name, child = entry.name, join(rel, entry.name)
            if refusal(name) is not None or name not in remote:
                continue  # never act on a name that could mean another path
            if is_ours(name, not rel):
                final = join(rel, name[1 : -len(PART_SUFFIX)]) if name.endswith(PART_SUFFIX) else ""
                if final and final not in planned:
                    self.plan.stale_parts.append(child)
                continue
            if name in local_names or not self.args.delete:
                continue
            if self.excluded(child, name, entry.type != "dir"):
                continue
            if self.confirm(f"Delete remote {entry.type} {show(child)}?"):
                self.plan.removals.append((child, entry.type))
            else:
                self.report.skip(child, "declined", level=1)

    def carry_out_upload(self, ftp: ftplib2.FTP) -> None:
        plan = self.plan
        if plan.make_root:
            ftp.makedirs(self.remote(""), exist_ok=True)
        for rel, kind in plan.removals:
            try:
                self._remove_remote(ftp, rel, kind)
            except TRANSFER_ERRORS as exc:
                self.report.error(f"cannot delete remote {show(rel)}: {one_line(exc)}")
            else:
                self.report.deleted(rel)
        for rel in plan.stale_parts:
            with contextlib.suppress(ftplib2.error_perm):
                ftp.delete(self.remote(rel))
        failed_dirs = set()
        for rel in plan.mkdirs:
            try:
                ftp.mkd(self.remote(rel))
            except TRANSFER_ERRORS as exc:
                self.report.error(f"cannot create remote {show(rel)}: {one_line(exc)}")
                failed_dirs.add(rel)
        transfers = [t for t in plan.transfers if not _below_any(t.rel, failed_dirs)]
        self.run_transfers(ftp, transfers, "put", self._upload)

    def _remove_remote(self, ftp: ftplib2.FTP, rel: str, kind: str) -> None:
        path = self.remote(rel)
        if kind == "dir":
            assert self.walker is not None  # there was a remote listing to plan this from
            try:
                self.walker.scandir(rel)  # entered from its parent: proven no link out of the tree
            except ftplib2.WalkRefused:
                ftp.delete(path)  # a link after all: DELE removes it, never what it leads to
                return
            self.walker.restore()
            ftp.rmtree(path, max_dirs=self.args.max_dirs, max_entries=self.args.max_entries)
        else:
            ftp.delete(path)

    def _upload(self, ftp: ftplib2.FTP, t: Transfer, callback: Callable[[int], None]) -> None:
        """Send `t` under a temporary name, rename it into place, then set its time."""
        final = self.remote(t.rel)
        partial = posixpath.join(posixpath.dirname(final), part_name(posixpath.basename(final)))
        # Never through a link put in the place of the file or a directory since planning:
        # that would publish a file from outside the mirror.
        with LocalDir(self.root, posixpath.dirname(t.rel)) as here:
            fd = here.read(posixpath.basename(t.rel))
        with open(fd, "rb") as fp:
            # --checksum: a wrong copy is deleted here, before it can take the file's place.
            ftp.upload(
                fp, partial, resume=t.resume, callback=callback, verify=self.checksums,
                retries=self.args.retries,
            )  # fmt: skip
        try:
            _rename_into_place(ftp, partial, final)
        except ftplib2.error_perm as exc:
            # A complete copy that may never take its place is no partial file worth
            # resuming: it goes, and the message says so.
            try:
                ftp.delete(partial)
            except ftplib2.all_errors:
                fate = f"the uploaded copy is left as {partial}"
            else:
                fate = "the uploaded copy was deleted"
            raise ftplib2.error_perm(
                f"cannot rename into place: {exc} ({fate}; the server's file is unchanged)"
            ) from None
        if t.modify is not None and "MFMT" in self._features:
            ftp.set_mtime(final, t.modify)

    # -- transfers, on one or more connections -----------------------------------

    def run_transfers(
        self,
        ftp: ftplib2.FTP,
        transfers: list[Transfer],
        verb: str,
        transfer_one: Callable[[ftplib2.FTP, Transfer, Callable[[int], None]], bool | None],
    ) -> None:
        """Carry out `transfers` on `ftp` and --parallel - 1 more connections of their own.

        A failed transfer is reported and the others go on; a connection that
        broke is opened again.  An interrupt (KeyboardInterrupt in this thread)
        stops every connection at its next block and propagates.
        """
        workers = make_workers(self, ftp, verb, transfer_one)
        try:
            with self.report.progress():
                for t in transfers:
                    workers.submit(t)
                workers.finish()
        finally:
            workers.abort()

    # -- --dry-run -------------------------------------------------------------------

    def show_plan(self) -> None:
        arrow = "put" if self.args.reverse else "get"
        for rel, _kind in self.plan.removals:
            self.report.deleted(rel)
        for rel in self.plan.mkdirs:
            self.report.say(f"would create {show(rel)}/")
        for t in self.plan.transfers:
            if t.check:
                self.report.say(
                    f"would check {show(t.rel)} by checksum (and {arrow} it if it differs)"
                )
            else:
                self.report.transferred(f"would {arrow}", t.rel, t.size or 0)


class Workers:
    """Transfers carried out as they are submitted, on up to --parallel connections.

    The caller's thread keeps the first connection (it lists the tree on it);
    each helper thread opens one of its own, once, for the whole run.  Helpers
    start as transfers arrive, one per transfer up to --parallel - 1, so a run
    with nothing to transfer opens no more connections.  At most `QUEUE_LIMIT`
    transfers wait: beyond that, the caller's thread carries them out itself
    before it submits more.  A failed transfer is reported and the others go on;
    a connection that broke is opened again.  `abort` stops every connection at
    its next block.  Its helpers are threads: where processes can be forked,
    `make_workers` gives `ProcessWorkers`, whose helpers are processes.
    """

    def __init__(
        self,
        mirror: Mirror,
        ftp: ftplib2.FTP,
        verb: str,
        transfer_one: Callable[[ftplib2.FTP, Transfer, Callable[[int], None]], bool | None],
    ) -> None:
        self.mirror = mirror
        self.report = mirror.report
        self.verb = verb
        self.transfer_one = transfer_one
        self.before_own: Callable[[], None] | None = None  # before the caller's connection works
        self._todo: queue.SimpleQueue[Transfer | None] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._helpers: list[threading.Thread] = []
        self._failures: list[str] = []
        self._crash: BaseException | None = None  # what stopped a helper thread
        self._own = Connection(mirror.connect, ftp)
        self._between_blocks: Callable[[], None] | None = None  # in a transfer's callback

    def submit(self, t: Transfer) -> None:
        self._raise_crash()
        if len(self._helpers) < self.mirror.args.parallel - 1:
            thread = threading.Thread(
                target=self._helper, name=f"ftpmirror-{len(self._helpers) + 1}", daemon=True
            )
            self._helpers.append(thread)
            thread.start()
        self.report.planned(t.size or 0)
        self._todo.put(t)
        while self._todo.qsize() > QUEUE_LIMIT:
            if self._work(self._own, wait=False, limit=1):
                continue
            # This connection cannot be opened again: wait for the helpers, if any is left.
            if not any(thread.is_alive() for thread in self._helpers):
                raise MirrorFailed(f"no connection to the server: {self._failures[-1]}")
            time.sleep(0.05)
            self._raise_crash()

    def finish(self) -> None:
        """Carry out what is left, on every connection, and wait for it."""
        self._work(self._own, wait=False)
        for _ in self._helpers:
            self._todo.put(None)  # one stop sign for each helper, once the queue is empty
        for thread in self._helpers:
            thread.join()
        self._raise_crash()
        self._work(self._own, wait=False)  # what a helper that could not connect put back
        while True:  # left over only when no connection could be made
            try:
                t = self._todo.get_nowait()
            except queue.Empty:
                break
            if t is not None:
                why = self._failures[-1] if self._failures else "no connection"
                self.report.error(f"{self.verb} {show(t.rel)}: not transferred: {why}")

    def abort(self) -> None:
        """Stop every connection at its next block, wait for the helpers, close the connections."""
        self._stop.set()
        for _ in self._helpers:
            self._todo.put(None)
        for thread in self._helpers:
            thread.join()
        self._own.close()

    def _helper(self) -> None:
        try:
            with Connection(self.mirror.connect) as connection:
                self._work(connection, wait=True)
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread
            # Not a transfer's failure (those are reported, and the others go on): the
            # manifest could not be written, say.
            self._fail(exc)

    def _fail(self, crash: BaseException) -> None:
        """The first helper's failure ends the run: every connection stops at its next block."""
        if self._crash is None:
            self._crash = crash
        self._stop.set()

    def _raise_crash(self) -> None:
        """Raise, in the caller's thread, what stopped a helper thread."""
        if self._crash is not None:
            raise self._crash

    def _work(self, connection: Connection, *, wait: bool, limit: int | None = None) -> bool:
        """Take transfers until a stop sign (`wait`) or an empty queue, or `limit` of them.

        False if the connection could not be opened (the transfer taken is put back).
        """
        done = 0
        while not self._stop.is_set() and (limit is None or done < limit):
            try:
                t = self._todo.get() if wait else self._todo.get_nowait()
            except queue.Empty:
                return True
            if t is None:
                if wait:
                    return True
                continue
            done += 1
            if not self._carry_out(connection, t):
                self._todo.put(t)  # for another connection
                return False
        return True

    def _carry_out(self, connection: Connection, t: Transfer) -> bool:
        """Transfer `t` on `connection`; False if it could not be opened (`t` not begun)."""
        try:
            ftp = connection.get()
        except TRANSFER_ERRORS as exc:
            self._failures.append(one_line(exc))
            self.report.say(f"ftpmirror: a connection failed: {one_line(exc)}", 2)
            return False
        if connection is self._own and self.before_own is not None:
            self.before_own()
        self._transfer(connection, ftp, t)
        return True

    def _transfer(self, connection: Connection, ftp: ftplib2.FTP, t: Transfer) -> None:
        moved = 0
        stop = self._stop
        advance = self.report.advance
        between = self._between_blocks

        def callback(n: int) -> None:
            nonlocal moved
            if stop.is_set():
                raise Stopped
            moved += n
            advance(n)
            if between is not None:
                between()

        try:
            moved_any = self.transfer_one(ftp, t, callback)
        except Stopped:
            return
        except (*TRANSFER_ERRORS, OSError) as exc:
            self.report.error(f"{self.verb} {show(t.rel)}: {one_line(exc)}")
            connection.check()
        else:
            if moved_any is not False:  # False: found current (--checksum)
                self.report.transferred(self.verb, t.rel, moved)


# Helpers as processes where fork() is safe to use (not macOS, whose system
# libraries may not survive it; Windows has no fork).  Measured on 10,000 small
# files from vsftpd: threads spend 1.25x the CPU per file at 4 connections that one
# connection spends, every blocking socket call handing the GIL to another thread
# (12 context switches a file, against 2); four processes spend 0.7x.
PROCESS_HELPERS = hasattr(os, "fork") and sys.platform != "darwin"
HELPER_WINDOW = 32  # transfers sent ahead to each helper process, at most
PUMP_INTERVAL = 0.002  # seconds: how often the walk stops to feed the helpers, at most
HELPER_AHEAD = 1 << 20  # bytes sent ahead to a helper beyond its first transfer, at most
FORWARD_INTERVAL = 0.25  # seconds: a helper's progress reaches the bar at least this often


def make_workers(
    mirror: Mirror,
    ftp: ftplib2.FTP,
    verb: str,
    transfer_one: Callable[[ftplib2.FTP, Transfer, Callable[[int], None]], bool | None],
) -> Workers:
    """`ProcessWorkers` for --parallel above 1 where processes can be forked, else `Workers`."""
    kind = ProcessWorkers if mirror.args.parallel > 1 and can_fork() else Workers
    return kind(mirror, ftp, verb, transfer_one)


def can_fork() -> bool:
    """Whether helpers can be processes: fork() is safe here, and only this thread runs.

    Another thread's locks (in OpenSSL, say) would stay locked forever in the child.
    """
    return PROCESS_HELPERS and threading.active_count() == 1


class ProcessWorkers(Workers):
    """`Workers` whose helpers are forked processes, each with its own connection.

    The caller's process still lists the tree, keeps the manifest and the
    report, and carries out transfers itself when `QUEUE_LIMIT` wait.  Each
    helper gets up to `HELPER_WINDOW` transfers at a time over a pipe (one at a
    time beyond `HELPER_AHEAD` bytes) and sends back, a message per half window
    or per `FORWARD_INTERVAL`, what its transfers report and record: the caller's
    process writes those records, so the manifest has one writer.  A record a
    file needs before its bytes are written (`Manifest.resumable`,
    `Manifest.commit`) is waited for.  A helper that cannot connect gives its
    transfers back; one that fails otherwise ends the run (exit 1), and none
    outlives the caller's process (on Linux it is killed with it).
    """

    def __init__(
        self,
        mirror: Mirror,
        ftp: ftplib2.FTP,
        verb: str,
        transfer_one: Callable[[ftplib2.FTP, Transfer, Callable[[int], None]], bool | None],
    ) -> None:
        super().__init__(mirror, ftp, verb, transfer_one)
        self._pending: collections.deque[Transfer] = collections.deque()
        self._procs: list[_Helper] = []
        self._targets = {"report": self.report, "manifest": mirror.manifest}
        self._pumped_at = 0.0
        self._between_blocks = self._pump_now_and_then
        self._selector = selectors.DefaultSelector()  # the helpers' pipes and sentinels

    def submit(self, t: Transfer) -> None:
        self._raise_crash()
        if not self._procs:
            # All at once, before any transfer: a helper forked later would hold copies of
            # the data sockets of those under way, and their ends would wait for its exit.
            # Each connects only once it is given a transfer.
            self._procs = [self._start(n) for n in range(1, self.mirror.args.parallel)]
        self.report.planned(t.size or 0)
        self._pending.append(t)
        if time.monotonic() - self._pumped_at >= PUMP_INTERVAL:
            self._pump(0)
        while len(self._pending) > QUEUE_LIMIT:
            if self._own_one():
                self._pump(0)
                continue
            # This connection cannot be opened again: wait for the helpers, if any is left.
            if not self._live():
                raise MirrorFailed(f"no connection to the server: {self._failures[-1]}")
            self._pump(0.05)

    def finish(self) -> None:
        """Carry out what is left, on every connection, and wait for it."""
        own = True
        while True:
            self._pump(0)
            if self._pending and own:
                own = self._own_one()
            elif self._pending and not self._live():
                break  # no connection left
            elif self._pending or any(h.in_flight for h in self._procs):
                self._pump(0.1)  # for what the helpers have, or will take
            else:
                break
        for helper in self._procs:
            helper.stop()
        while any(h.running() for h in self._procs):
            self._pump(0.1)
        self._close_helpers()
        for t in self._pending:  # left over only when no connection could be made
            why = self._failures[-1] if self._failures else "no connection"
            self.report.error(f"{self.verb} {show(t.rel)}: not transferred: {why}")
        self._pending.clear()

    def abort(self) -> None:
        """Stop every helper at its next block, wait for them, close the connections."""
        self._stop.set()
        for helper in self._procs:
            helper.stop(now=True)
        deadline = time.monotonic() + 10
        for helper in self._procs:
            helper.process.join(max(0.0, deadline - time.monotonic()))
            if helper.process.is_alive():  # stuck in a blocking call past its timeout
                helper.process.kill()
                helper.process.join()
        self._close_helpers()
        self._selector.close()
        self._own.close()

    # -- the caller's process --------------------------------------------------------

    def _live(self) -> list[_Helper]:
        """The helpers that can still take transfers."""
        return [h for h in self._procs if h.takes_work]

    def _own_one(self) -> bool:
        """Carry out the oldest waiting transfer on the caller's connection.

        False if that connection could not be opened (the transfer waits again).
        """
        t = self._pending.popleft()
        if not self._carry_out(self._own, t):
            self._pending.appendleft(t)
            return False
        return True

    def _pump_now_and_then(self) -> None:
        """Between the blocks of the caller's own transfer: the helpers are not kept waiting."""
        if time.monotonic() - self._pumped_at >= FORWARD_INTERVAL:
            self._pump(0)

    def _pump(self, timeout: float) -> None:
        """Take in what the helpers sent (waiting up to `timeout` for it), then feed them."""
        self._pumped_at = time.monotonic()
        while self._selector.get_map():
            ready = self._selector.select(timeout)
            if not ready:
                break
            for key, _ in ready:
                self._receive(key.data, key.fileobj)
            timeout = 0  # and whatever else has come meanwhile
        batches: dict[int, tuple[_Helper, list[Transfer]]] = {}
        live = self._live()
        while self._pending and live:  # one at a time, to the helper with the fewest
            size = self._pending[0].size or 0
            helper = min((h for h in live if h.has_room(size)), key=_IN_FLIGHT, default=None)
            if helper is None:
                break
            helper.took(size)
            batches.setdefault(id(helper), (helper, []))[1].append(self._pending.popleft())
        for helper, batch in batches.values():
            if batch:
                try:
                    helper.conn.send(("jobs", batch))
                except OSError:  # it ended: its sentinel tells why
                    self._pending.extendleft(reversed(batch))
                    helper.finished(len(batch))  # they never reached it
                    helper.takes_work = False
        self._raise_crash()

    def _receive(self, helper: _Helper, source: object) -> None:
        """One message of `helper`'s, or the news (`source` its sentinel) that it ended."""
        if source is helper.conn:
            try:
                self._handle(helper, helper.conn.recv())
                return
            except (EOFError, OSError):  # it is ending: its sentinel will say how
                self._selector.unregister(helper.conn)
                return
        helper.process.join()
        if not helper.said_bye:  # neither goodbye nor a failure sent: killed, say
            self._fail(
                MirrorFailed(f"a helper process ended with status {helper.process.exitcode}")
            )
        self._gone(helper)

    def _unwatch(self, helper: _Helper) -> None:
        for source in (helper.conn, helper.process.sentinel):
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(source)

    def _handle(self, helper: _Helper, message: tuple) -> None:
        kind = message[0]
        if kind == "events":
            _, calls, done = message
            for call in calls:
                self._apply(*call)
            helper.finished(done)
        elif kind == "call":  # the helper waits for this one
            self._apply(*message[1:])
            helper.conn.send(("done",))
        elif kind == "returned":  # it could not connect: its transfers go to others
            _, batch, why = message
            helper.finished(len(batch))
            helper.takes_work = False
            self._pending.extendleft(reversed(batch))
            self._failures.append(why)
            self.report.say(f"ftpmirror: a connection failed: {why}", 2)
        elif kind == "crash":
            self._gone(helper)
            self._fail(MirrorFailed(message[1]))
        elif kind == "bye":
            self._gone(helper)

    def _apply(self, target: str, method: str, args: tuple) -> None:
        """Make, in this process, a call a helper made on the report or the manifest."""
        getattr(self._targets[target], method)(*args)

    def _gone(self, helper: _Helper) -> None:
        """`helper` has ended, or is ending: nothing more to send it, or to wait for."""
        helper.said_bye = True
        helper.takes_work = False
        self._unwatch(helper)

    def _start(self, index: int) -> _Helper:
        context = multiprocessing.get_context("fork")
        mine, theirs = context.Pipe()
        process = context.Process(
            target=self._helper_main, args=(theirs, mine), name=f"ftpmirror-{index}",
            daemon=True,
        )  # fmt: skip
        process.start()
        theirs.close()
        helper = _Helper(process, mine)
        self._selector.register(mine, selectors.EVENT_READ, helper)
        self._selector.register(process.sentinel, selectors.EVENT_READ, helper)
        return helper

    def _close_helpers(self) -> None:
        for helper in self._procs:
            self._unwatch(helper)
            helper.takes_work = False
            helper.conn.close()
            helper.process.join(10)  # it said goodbye, or was stopped: it is ending
            if helper.process.is_alive():
                helper.process.kill()
                helper.process.join()
            helper.process.close()
        self._procs.clear()

    # -- a helper process ------------------------------------------------------------

    def _helper_main(self, conn: multiprocessing.connection.Connection, theirs: Any) -> None:
        """The body of a helper process: transfers until told to stop."""
        theirs.close()  # the caller's end of this pipe
        _die_with_parent()
        signal.signal(signal.SIGTERM, lambda *_: self._stop.set())
        link = _Link(conn)
        self.report = self.mirror.report = link.forward("report", self.report)  # type: ignore[assignment]
        self.mirror.manifest = link.forward("manifest", self.mirror.manifest)  # type: ignore[assignment]
        self._between_blocks = link.flush_now_and_then
        try:
            with Connection(self.mirror.connect) as connection:
                while not self._stop.is_set():
                    t = link.next_job()
                    if t is None:
                        break
                    try:
                        ftp = connection.get()
                    except TRANSFER_ERRORS as exc:
                        link.flush()
                        conn.send(("returned", [t, *link.jobs], one_line(exc)))
                        link.jobs.clear()
                        break
                    self._transfer(connection, ftp, t)
                    link.done += 1
            link.flush()
            conn.send(("bye",))
        except (KeyboardInterrupt, Stopped, BrokenPipeError, EOFError):
            pass  # interrupted with the caller's process, or left by it
        except BaseException as exc:  # noqa: BLE001 - the caller's process raises it
            with contextlib.suppress(OSError):
                link.flush()
                conn.send(("crash", f"{type(exc).__name__}: {exc}"))


_IN_FLIGHT = operator.attrgetter("in_flight")


@dataclasses.dataclass
class _Helper:
    """The caller's side of a helper process."""

    process: Any  # multiprocessing.context.ForkProcess
    conn: multiprocessing.connection.Connection
    sizes: collections.deque[int] = dataclasses.field(default_factory=collections.deque)
    ahead: int = 0  # the bytes of `sizes`
    takes_work: bool = True
    said_bye: bool = False

    @property
    def in_flight(self) -> int:
        """Transfers sent, not yet reported done."""
        return len(self.sizes)

    def running(self) -> bool:
        return not self.said_bye

    def has_room(self, size: int) -> bool:
        """Another transfer of `size` bytes may wait here: a few small ones, one big one.

        A big file sent ahead would wait behind another while the other
        connections may have nothing left to do.
        """
        if not self.sizes:
            return True
        return len(self.sizes) < HELPER_WINDOW and self.ahead + size <= HELPER_AHEAD

    def took(self, size: int) -> None:
        self.sizes.append(size)
        self.ahead += size

    def finished(self, count: int) -> None:
        """`count` transfers, the oldest sent, are done (in the order they were sent)."""
        for _ in range(count):
            self.ahead -= self.sizes.popleft()

    def stop(self, now: bool = False) -> None:
        """No more transfers; `now`: stop the one under way at its next block too."""
        self.takes_work = False
        if self.said_bye:
            return
        with contextlib.suppress(OSError):
            self.conn.send(("stop",))
        if now and self.process.is_alive():
            with contextlib.suppress(OSError):
                os.kill(self.process.pid, signal.SIGTERM)


class _Link:
    """A helper process's side of its pipe: transfers in, reports and records out."""

    def __init__(self, conn: multiprocessing.connection.Connection) -> None:
        self.conn = conn
        self.jobs: collections.deque[Transfer] = collections.deque()
        self.stopping = False
        self.calls: list[tuple[str, str, tuple]] = []
        self.done = 0  # transfers finished since the last message
        self.sent_at = time.monotonic()

    def forward(self, target: str, original: Any) -> Any:
        return _Forward(self, target, original)

    def call(self, target: str, method: str, args: tuple) -> None:
        if method in ("commit", "resumable"):  # durable before the transfer goes on
            self.flush()
            self.conn.send(("call", target, method, args))
            while True:
                message = self.conn.recv()
                if message[0] == "done":
                    return
                if message[0] == "stop":  # the caller's process is stopping: it will not answer
                    raise Stopped
                self._take(message)
        self.calls.append((target, method, args))

    def flush(self) -> None:
        if self.calls or self.done:
            self.conn.send(("events", self.calls, self.done))
            self.calls, self.done = [], 0
        self.sent_at = time.monotonic()

    def flush_now_and_then(self) -> None:
        if time.monotonic() - self.sent_at >= FORWARD_INTERVAL:
            self.flush()

    def next_job(self) -> Transfer | None:
        # One message for half a batch: what its transfers reported, recorded and moved,
        # and room for more, which then arrive before this helper runs out.
        if not self.jobs or self.done >= HELPER_WINDOW // 2:
            self.flush()
        else:
            self.flush_now_and_then()
        while not self.jobs:
            if self.stopping:
                return None
            self._take(self.conn.recv())
        return self.jobs.popleft()

    def _take(self, message: tuple) -> None:
        if message[0] == "jobs":
            self.jobs.extend(message[1])
        elif message[0] == "stop":
            self.stopping = True


class _Forward:
    """Stands for the report or the manifest in a helper process: method calls go to the caller."""

    def __init__(self, link: _Link, target: str, original: Any) -> None:
        self._link = link
        self._target = target
        self._original = original

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._original, name)  # plain attributes (verbosity) are read here
        if not callable(value):
            return value
        link, target = self._link, self._target
        return lambda *args: link.call(target, name, args)


def _die_with_parent() -> None:
    """Have the kernel kill this process when its parent dies (Linux), as threads would be."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Stopped(Exception):
    """Raised in a transfer's callback when another thread was interrupted."""


class Connection:
    """One worker's FTP connection: opened on first use, opened again after it broke."""

    def __init__(self, opener: Callable[[], ftplib2.FTP], ftp: ftplib2.FTP | None = None):
        self._opener = opener
        self._ftp = ftp
        self._owned = ftp is None

    def get(self) -> ftplib2.FTP:
        if self._ftp is None or self._ftp.sock is None:
            self.close()
            self._ftp = self._opener()
            self._owned = True
        return self._ftp

    def check(self) -> None:
        """After a failure: keep the connection only if it still answers."""
        if self._ftp is None or self._ftp.sock is None:
            return
        try:
            self._ftp.voidcmd("NOOP")
        except ftplib2.all_errors:
            self._ftp.close()

    def close(self) -> None:
        ftp, self._ftp = self._ftp, None
        if ftp is not None and self._owned:
            with contextlib.suppress(*ftplib2.all_errors):
                ftp.quit()
            ftp.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class NotPutBack(ftplib2.Error):
    """Replacing a remote file failed half-way, and its old version could not be renamed back."""


def _rename_into_place(ftp: ftplib2.FTP, partial: str, final: str) -> None:
    """Rename the complete upload `partial` on the server to `final`, replacing what is there.

    Some servers will not rename over an existing file.  Only when RNTO, not RNFR, is
    refused and `final` exists is the old file moved aside (to ``..NAME.ftpmirror-part
    .ftpmirror-part``, a name no file of a mirror can have), the new one renamed into place,
    and the old one deleted only then; if the new one cannot take its place, the old one is
    put back.  So nothing is deleted before the new content is in place, and error_perm
    means that `final` is as it was.
    """
    reply = ftp.sendcmd("RNFR " + partial)  # refused: error_perm, and nothing was touched
    if not reply.startswith("3"):
        raise ftplib2.error_reply(reply)
    try:
        ftp.voidcmd("RNTO " + final)
        return
    except ftplib2.error_perm:
        if not ftp.exists(final):  # refused for some other reason than the old file
            raise
    aside = posixpath.join(posixpath.dirname(final), part_name(posixpath.basename(partial)))
    ftp.rename(final, aside)
    try:
        ftp.rename(partial, final)
    except ftplib2.error_perm as refused:
        try:
            ftp.rename(aside, final)
        except ftplib2.all_errors as exc:
            raise NotPutBack(
                f"{refused}; putting the old file back failed too ({exc}): it is {aside}"
            ) from None
        raise
    # Left behind, it is removed by the next run, as a stale partial file.
    with contextlib.suppress(ftplib2.error_perm):
        ftp.delete(aside)


def _below_any(rel: str, dirs: set[str]) -> bool:
    return any(rel.startswith(d + "/") for d in dirs)


def _is_within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _utc(timestamp: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC)


def console_main() -> int:
    """The ``ftpmirror`` command (and ``python ftpmirror.py``): `main` on sys.argv."""
    # A name that cannot be printed in this terminal's encoding must not end the run.
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError):
            stream.reconfigure(errors="backslashreplace")
    return main()


if __name__ == "__main__":
    sys.exit(console_main())
