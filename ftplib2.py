"""An FTP client: a drop-in replacement for the standard library's ftplib.

Change ``from ftplib import FTP`` to ``from ftplib2 import FTP`` and a program
keeps working: the classes, methods, arguments, defaults, return values and
exceptions are those of ftplib.  What changes is underneath: replies are
parsed by a bounded, incremental parser that does no I/O (`ReplyParser`), every
transfer goes through one data-connection path that keeps the control
connection in step whatever happens, and a few long-standing ftplib bugs are
fixed (see the migration page of the documentation).

The file reads in the order data flows: constants and exceptions, the reply
parser, the reply helpers (parse227 and friends), the control connection, the
FTP and FTP_TLS classes, and finally the command-line client.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import datetime
import errno
import functools
import hashlib
import io
import json
import logging
import os
import posixpath
import re
import select
import selectors
import socket
import stat
import string
import struct
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import urllib.response
import warnings
import weakref
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from email.message import Message
from types import TracebackType
from typing import Any, BinaryIO, Self

try:
    import fcntl
except ImportError:  # not on Windows, where there is no splice(2) either
    fcntl = None  # type: ignore[assignment]

try:
    import ssl
except ImportError:  # pragma: no cover - Python built without OpenSSL
    ssl = None  # type: ignore[assignment]

__all__ = [
    "FTP",
    "FTPS_PORT",
    "MAX_WALK_DIRS",
    "MAX_WALK_ENTRIES",
    "CacheFTPHandler",
    "Cancelled",
    "Entry",
    "FTPHandler",
    "ProxyError",
    "Reply",
    "ReplyParser",
    "TreeWalker",
    "WalkLimitError",
    "WalkRefused",
    "all_errors",
    "error_perm",
    "error_proto",
    "error_reply",
    "error_temp",
    "parse_list",
    "parse_list_line",
    "parse_mlsx_line",
    "urlcleanup",
    "urlopen",
    "urlretrieve",
]

__version__ = "0.1.0"
"""This release of ftplib2 (setup.py reads it from here)."""

MSG_OOB = 0x1
"""The flag that sends ABOR as urgent (out-of-band) data."""

FTP_PORT = 21
"""The default FTP control port."""

FTPS_PORT = 990
"""The default port of implicit FTPS (TLS from the first byte)."""

MAXLINE = 8192
"""The longest line, in bytes, accepted on the control or a data connection."""

MAX_WALK_DIRS = 100_000
"""The most directories one walk lists, by default (`TreeWalker`)."""

MAX_WALK_ENTRIES = 10_000_000
"""The most directory entries one walk reads, by default (`TreeWalker`)."""

CRLF = "\r\n"
B_CRLF = b"\r\n"

_GLOBAL_DEFAULT_TIMEOUT = socket._GLOBAL_DEFAULT_TIMEOUT  # type: ignore[attr-defined]
_RECV_SIZE = 1 << 18  # bytes per recv_into on data connections
_TLS_RECORD = 1 << 14  # the most plain text one TLS record carries
_REPLY_GRACE = 0.25  # seconds for a reply to follow a data connection reset before a transfer
_ABORT_GRACE = 1.0  # seconds a server gets to act on the ABOR of an upload before its reset

# The library logs, as libraries do, to its own logger and nowhere else: commands and
# replies at DEBUG (passwords masked), connections, TLS and transfer summaries at INFO.
# Nothing at WARNING or above, so nothing is printed unless the application sets logging up.
_log = logging.getLogger(__name__)


# --------------------------------------------------------------------------
# Exceptions and replies
# --------------------------------------------------------------------------


def _reply_code(text: object) -> str | None:
    if isinstance(text, str) and len(text) >= 3 and text[:3].isdigit():
        return text[:3]
    return None


class Error(Exception):
    """Base class of the module's FTP errors.

    ``args[0]`` is the server's reply text, as in ftplib; ``code`` and
    ``lines`` give it in parsed form.
    """

    @property
    def code(self) -> str | None:
        """The three-digit reply code that caused the error, or None."""
        return _reply_code(self.args[0]) if self.args else None

    @property
    def lines(self) -> list[str]:
        """The lines of the reply that caused the error (empty if none)."""
        if self.args and isinstance(self.args[0], str):
            return self.args[0].split("\n")
        return []


class error_reply(Error):
    """An unexpected reply: a code the command does not allow."""


class error_temp(Error):
    """A 4xx reply: transient failure, the command may succeed later."""


class error_perm(Error):
    """A 5xx reply: permanent failure."""


class error_proto(Error):
    """A reply or data stream that breaks the protocol."""


class _Overrun(error_proto):
    """More bytes arrived than the size known for a transfer; none past it were written."""


class _ShortTransfer(error_proto):
    """Fewer bytes arrived (or reached the server) than the size known: a drop, not an end."""


class Cancelled(Error):
    """A transfer that `FTP.cancel` stopped; the control connection is still usable."""


class _Mismatch(error_proto):
    """The server's checksum of a file differs from the local one's."""


class WalkRefused(error_perm):
    """A directory a `TreeWalker` will not enter: a link, a loop, or one it cannot tell.

    Made by the client: ``'550 <path>: not entered: <reason>'``, with the
    reason alone in `reason`.
    """

    reason = ""


class WalkLimitError(Error):
    """A walk went past its bound on directories or entries (`TreeWalker`)."""


class _DecodeError(error_proto, UnicodeDecodeError):
    """Undecodable text on a data connection, under ``errors='strict'``.

    Both an `error_proto` (so within `all_errors`) and, for code written
    against ftplib, a `UnicodeDecodeError`.
    """


if ssl is not None:
    all_errors: tuple[type[BaseException], ...] = (Error, OSError, EOFError, ssl.SSLError)
    _SSLSocket: type | None = ssl.SSLSocket
else:  # pragma: no cover
    all_errors = (Error, OSError, EOFError)
    _SSLSocket = None


class Reply(str):
    """A server reply: the text ftplib returns, plus its parsed parts.

    A `Reply` is a `str` (lines joined by ``"\\n"``, as ftplib returns them),
    so existing code keeps working; ``code`` and ``lines`` save re-parsing.
    """

    __slots__ = ()

    @property
    def code(self) -> str:
        """The three-character reply code, such as ``"226"``."""
        return self[:3]

    @property
    def lines(self) -> list[str]:
        """The reply's lines, without line endings."""
        return self.split("\n")


# --------------------------------------------------------------------------
# The reply parser: bytes in, replies out, no I/O
# --------------------------------------------------------------------------

_CODE_RE = re.compile(r"[1-5][0-9][0-9](?:[ -]|$)")


class _LineSplitter:
    """Cut a byte stream into lines at LF, refusing lines over a bound.

    Consumers check each line as they take it (`check`), and the unfinished
    last line once they have taken the finished ones (`check_tail`), so that
    whatever precedes an over-long line is still delivered, in order.
    """

    __slots__ = ("maxline", "tail")

    def __init__(self, maxline: int) -> None:
        self.maxline = maxline
        self.tail = b""

    def feed(self, data: bytes) -> list[bytes]:
        """Return the lines `data` completes (with any CR, without LF)."""
        if self.tail:
            data = self.tail + data
        lines = data.split(b"\n")
        self.tail = lines.pop()
        return lines

    def check_tail(self) -> None:
        """Raise if the unfinished line is already too long to be valid."""
        if len(self.tail) > self.maxline + 1:
            raise error_proto(f"line longer than {self.maxline} bytes")

    def check(self, raw: bytes) -> bytes:
        """Return `raw` without its CR, or raise if it is too long."""
        if raw[-1:] == b"\r":
            raw = raw[:-1]
        if len(raw) > self.maxline:
            raise error_proto(f"line longer than {self.maxline} bytes")
        return raw


class ReplyParser:
    """Incremental parser of RFC 959 replies; it does no I/O.

    Feed it bytes as they arrive, in chunks of any size, and take complete
    replies out::

        parser = ReplyParser()
        parser.feed(b"230-Welcome\\r\\n230 Logged in\\r\\n")
        parser.next_reply()   # Reply('230-Welcome\\n230 Logged in')

    ``next_reply()`` returns None until a whole reply is there.  A line longer
    than `maxline` bytes, a reply of more than `max_lines` lines or
    `max_bytes` bytes, or a first line that does not start with a reply code
    (three digits, the first 1-5, then a space, a hyphen or the end of the
    line) raises `error_proto`.  Lines are decoded with `encoding` and
    `errors`; the default ``surrogateescape`` never fails and keeps the
    original bytes recoverable.
    """

    def __init__(
        self,
        *,
        encoding: str = "utf-8",
        errors: str = "surrogateescape",
        maxline: int = MAXLINE,
        max_lines: int = 10000,
        max_bytes: int = 1 << 20,
    ) -> None:
        self.encoding = encoding
        self.errors = errors
        self.max_lines = max_lines
        self.max_bytes = max_bytes
        self._splitter = _LineSplitter(maxline)
        self._ready: collections.deque[bytes] = collections.deque()
        self._lines: list[str] = []
        self._size = 0

    @property
    def maxline(self) -> int:
        """The longest line accepted, in bytes, line ending excluded."""
        return self._splitter.maxline

    @maxline.setter
    def maxline(self, value: int) -> None:
        self._splitter.maxline = value

    @property
    def buffered(self) -> bytes:
        """The bytes fed but not yet taken out as lines."""
        return b"".join(line + b"\n" for line in self._ready) + self._splitter.tail

    def feed(self, data: bytes) -> None:
        """Add bytes received from the server."""
        self._ready.extend(self._splitter.feed(data))

    def next_line(self) -> str | None:
        """Take the next complete line, decoded and without CR LF, or None."""
        if not self._ready:
            self._splitter.check_tail()
            return None
        raw = self._splitter.check(self._ready.popleft())
        return raw.decode(self.encoding, self.errors)

    def flush(self) -> str:
        """Take the unterminated rest of the input (at end of stream)."""
        raw = self._splitter.check(self._splitter.tail)
        self._splitter.tail = b""
        return raw.decode(self.encoding, self.errors)

    def add_line(self, line: str, *, lenient: bool = False) -> Reply | None:
        """Add one line to the reply being assembled; return it when complete.

        With `lenient`, a first line that is not a proper reply but starts
        with a digit 1-5 is taken as a one-line reply, which is how ftplib
        reads a server's greeting.
        """
        lines = self._lines
        if not lines:
            if not _CODE_RE.match(line):
                # A line that might open a multi-line reply is never lenient.
                if not (lenient and line[:1] in ("1", "2", "3", "4", "5") and "-" not in line[:4]):
                    raise error_proto(f"malformed reply: {line[:200]!r}")
                return Reply(line)
            if line[3:4] != "-":
                return Reply(line)
            self._size = 0
        elif line[:3] == lines[0][:3] and line[3:4] in (" ", ""):
            lines.append(line)
            self._lines = []
            return Reply("\n".join(lines))
        lines.append(line)
        self._size += len(line) + 1
        if len(lines) >= self.max_lines or self._size > self.max_bytes:
            self._lines = []
            raise error_proto(f"reply longer than {self.max_lines} lines or {self.max_bytes} bytes")
        return None

    def next_reply(self) -> Reply | None:
        """Take the next complete reply out of the fed bytes, or None."""
        while (line := self.next_line()) is not None:
            reply = self.add_line(line)
            if reply is not None:
                return reply
        return None

    def reset(self) -> None:
        """Forget any partly assembled reply and unread input."""
        self._ready.clear()
        self._splitter.tail = b""
        self._lines = []


# --------------------------------------------------------------------------
# Reply helpers (pure functions, as in ftplib)
# --------------------------------------------------------------------------

_150_RE = re.compile(r"\((\d+) bytes\)", re.IGNORECASE | re.ASCII)
# Never starting inside a run of digits: the same match as without the lookbehind, but in
# linear time (a reply line of 8000 digits took a third of a second).
_227_RE = re.compile(r"(?<!\d)(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)", re.ASCII)
_MAX_NUMBER = (1 << 64) - 1  # the largest size or offset any file system or server holds


def _bounded(digits: str) -> int | None:
    """ASCII `digits` as an int, or None if over `_MAX_NUMBER`.

    Every number taken from a server goes through here (or a tighter
    check) before int(): a 5000-digit "size" would otherwise raise
    ValueError (Python's limit on converting long strings), which is not in
    all_errors, in the middle of a transfer.
    """
    digits = digits.lstrip("0")
    if len(digits) > 20:
        return None
    value = int(digits or "0")
    return value if value <= _MAX_NUMBER else None


def parse150(resp: str) -> int | None:
    """Return the size announced in a 150 reply ("(1234 bytes)"), or None.

    The last such text on the first line counts, as in ftplib: servers
    such as vsftpd name the file first, and a name may look like a size.
    Raises `error_reply` if the reply is not a 150, and `error_proto` if
    the size does not fit in 64 bits.
    """
    if resp[:3] != "150":
        raise error_reply(resp)
    sizes = _150_RE.findall(resp.split("\n", 1)[0])
    if not sizes:
        return None
    size = _bounded(sizes[-1])
    if size is None:
        raise error_proto(resp)
    return size


def _port_number(text: str, resp: str) -> int:
    port = _bounded(text) if text.isdigit() and text.isascii() else None
    if port is None or not 0 < port < 65536:
        raise error_proto(resp)
    return port


def parse227(resp: str) -> tuple[str, int]:
    """Return ``(host, port)`` from a 227 reply to PASV.

    `host` is the four numbers as the server wrote them, joined by dots, as
    in ftplib (it is used only with `FTP.trust_server_pasv_ipv4_address`).
    Raises `error_reply` if the reply is not a 227, and `error_proto` if the
    six numbers are missing, or the port numbers out of range (each 0-255,
    the port not 0).
    """
    if resp[:3] != "227":
        raise error_reply(resp)
    m = _227_RE.search(resp)
    if not m:
        raise error_proto(resp)
    numbers = m.groups()
    high, low = _bounded(numbers[4]), _bounded(numbers[5])
    if high is None or low is None or high > 255 or low > 255 or high == low == 0:
        raise error_proto(resp)
    return ".".join(numbers[:4]), high * 256 + low


def _ipv4_literal(host: str) -> str:
    """The dotted host of a 227 reply in decimal, to connect to; OSError if it is no address.

    Checked here rather than left to the resolver, which reads "010.0.0.1" as
    octal (8.0.0.1) and looks "256.1.1.1" up as a host name in DNS.
    """
    numbers = [_bounded(n) if n.isdigit() and n.isascii() else None for n in host.split(".")]
    if len(numbers) != 4 or any(n is None or n > 255 for n in numbers):
        raise OSError(errno.EINVAL, f"not an IPv4 address: {host[:100]!r}")
    return ".".join(map(str, numbers))


def parse229(resp: str, peer: Any) -> tuple[str, int]:
    """Return ``(host, port)`` from a 229 reply to EPSV.

    The host is that of `peer` (the control connection's peer address), as
    RFC 2428 says.  Raises `error_reply` if the reply is not a 229 and
    `error_proto` if it is malformed or the port is out of range.
    """
    if resp[:3] != "229":
        raise error_reply(resp)
    left = resp.find("(")
    right = resp.find(")", left + 1)
    if left < 0 or right < 0 or right - left < 2:
        raise error_proto(resp)
    inner = resp[left + 1 : right]
    parts = inner.split(inner[0])
    if len(parts) != 5:
        raise error_proto(resp)
    return peer[0], _port_number(parts[3], resp)


def parse257(resp: str) -> str:
    """Return the directory name quoted in a 257 reply (MKD, PWD).

    Doubled quotes inside the name stand for one quote (RFC 959).  Returns
    '' when the reply quotes no name; raises `error_reply` if it is not a 257.
    """
    if resp[:3] != "257":
        raise error_reply(resp)
    if resp[3:5] != ' "':
        return ""
    name = []
    i, n = 5, len(resp)
    while i < n:
        c = resp[i]
        i += 1
        if c == '"':
            if resp[i : i + 1] != '"':
                break
            i += 1
        name.append(c)
    return "".join(name)


def _parse_pwd(resp: str) -> str | None:
    """The directory a 257 reply to PWD names, or None if it names none.

    RFC 959 quotes it; servers from before that answer ``257 /home/sub is
    current directory``, and then the first word is taken when it is an
    absolute path (a name with a blank in it cannot be told from the text
    after it: see `FTP._return_to`).
    """
    if resp[:3] != "257":
        return None
    if resp[3:5] == ' "':
        return parse257(resp) or None
    word = resp[4:].split(" ", 1)[0] if resp[3:4] == " " else ""
    return word if word.startswith("/") else None


def _directory_of(resp: Reply) -> tuple[str, Reply]:
    """The directory a PWD reply names, with the reply; `error_proto` if it names none."""
    path = _parse_pwd(resp)
    if path is None:
        raise error_proto(f"the reply to PWD names no directory to come back to: {resp!r}")
    return path, resp


def print_line(line: str) -> None:
    """Print a line: the default callback of `FTP.retrlines`."""
    print(line)


# --------------------------------------------------------------------------
# Listings: a LIST or MLSD line in, an Entry out (pure functions)
# --------------------------------------------------------------------------


@dataclasses.dataclass(slots=True)  # not frozen: that costs a third of a listing's parse
class Entry:
    """One directory entry, from an MLSD/MLST line or a LIST line.

    `type` is ``'file'``, ``'dir'``, ``'link'`` or ``'other'``; `size` is a
    size in bytes or None; `modify` an aware UTC datetime or None (a LIST
    date without a year or zone is taken as UTC); `perm` the MLSD ``perm``
    fact, the Unix mode string or a LIST dialect's permissions as listed;
    `target` a link's target; `unique` the MLSD ``unique`` fact; `facts` the
    lower-cased MLSD facts, or the other columns of a LIST dialect beyond
    Unix, MS-DOS and EPLF under its prefix ({} otherwise); `raw` the line.
    """

    name: str
    type: str = "other"
    size: int | None = None
    modify: datetime.datetime | None = None
    perm: str | None = None
    target: str | None = None
    unique: str | None = None
    facts: dict[str, str] = dataclasses.field(default_factory=dict, compare=False)
    raw: str = dataclasses.field(default="", compare=False)


def _split_mlsx_line(line: str) -> tuple[str, dict[str, str]]:
    """``fact=value;...; name`` as the name and its facts, fact names lower-cased."""
    facts_text, sep, name = line.partition(" ")
    if not sep:
        raise error_proto(f"malformed MLSD line: {line[:200]!r}")
    facts = {}
    values = _FACT_VALUES
    for fact in facts_text.split(";"):
        if fact:
            key, _, value = fact.partition("=")
            known = _FACT_NAMES.get(key)
            if known is None:
                known = _FACT_NAMES.get(key.lower())
                if known is None:
                    facts[key.lower()] = value
                    continue
            fact_name, repeats = known
            if repeats:
                shared = values.get(value)
                if shared is not None:
                    value = shared
                elif len(values) < _MAX_FACT_VALUES:
                    values[value] = value
            facts[fact_name] = value
    return name, facts


# One string object for each fact name a listing repeats on every line: 8 facts of a
# million entries would otherwise be 8 million strings (about 440 bytes an entry).  Only
# these: a name a server makes up is not kept beyond its listing.  True marks the facts
# whose values repeat from entry to entry (``type=file``, ``unix.mode=0644``): those are
# shared too, up to `_MAX_FACT_VALUES` values for the whole process.
_FACT_NAMES = {
    name: (name, repeats)
    for names, repeats in (
        (("size", "sizd", "modify", "create", "unique", "unix.nlink", "unix.slink"), False),
        (("type", "perm", "lang", "media-type", "charset", "unix.mode", "unix.uid", "unix.gid",
          "unix.owner", "unix.group", "unix.ownername", "unix.groupname", "win32.ea"), True),
    )
    for name in names
}  # fmt: skip
_FACT_VALUES: dict[str, str] = {}
_MAX_FACT_VALUES = 4096


def parse_mlsx_line(line: str) -> Entry:
    """Parse one MLSD (or MLST) line, ``fact=value;...; name``, into an Entry.

    The last fact counts even when the server omits its trailing ``;``.
    Raises `error_proto` when the line has no facts/name separator.
    """
    name, facts = _split_mlsx_line(line)
    kind = facts.get("type", "").lower()
    target = None
    if kind == "file":
        kind = "file"  # the constant: one string for every entry, not a lower-cased copy
    elif kind in ("dir", "cdir", "pdir"):
        kind = "dir"
    elif kind.startswith("os.unix=slink"):
        kind, target = "link", facts["type"].partition(":")[2] or None
    elif kind.startswith("os.unix=symlink") or kind == "link":
        kind = "link"
    else:
        kind = "other"
    return Entry(
        name=name,
        type=kind,
        size=_int_or_none(facts.get("size", facts.get("sizd")), line),
        modify=_parse_mlsx_time(facts.get("modify")),
        perm=facts.get("perm"),
        target=target,
        unique=facts.get("unique"),
        facts=facts,
        raw=line,
    )


def _int_or_none(text: str | None, line: str = "") -> int | None:
    """A listed size: None if absent or not a number, `error_proto` if over 64 bits."""
    if text is None or not (text.isdigit() and text.isascii()):
        return None
    value = _bounded(text)
    if value is None:
        raise error_proto(f"size out of range: {line[:200]!r}")
    return value


def _parse_mlsx_time(text: str | None) -> datetime.datetime | None:
    """``YYYYMMDDHHMMSS[.sss]`` (RFC 3659 time-val, UTC) as an aware datetime."""
    if not text:
        return None
    whole, _, fraction = text.partition(".")
    if not text.isascii() or len(whole) != 14 or not whole.isdigit():
        return None
    if fraction and not fraction.isdigit():
        return None
    if whole[8:10] > "23":  # newer Pythons read hour 24 as the next midnight
        return None
    try:  # fromisoformat, not strptime or int() per field: this runs once per listed file
        stamp = datetime.datetime.fromisoformat(f"{whole[:8]}T{whole[8:]}+00:00")
    except ValueError:
        return None
    if fraction:
        stamp = stamp.replace(microsecond=int((fraction + "000000")[:6]))
    return stamp


_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
# The blanks after the mode are taken whole (\s++): else the lazy group that skips columns
# could start anywhere in them, and a mode followed by a run of blanks took quadratic time.
_UNIX_RE = re.compile(
    r"(?P<mode>[-bcdlpsDn?][-rwxsStTlL?]{9})[.+@]?\s++"
    r"(?:.*?\s)??(?P<size>\d+|\d+,\s*\d+)\s+"
    r"(?P<month>[A-Za-z]{3})\s+(?P<day>\d{1,2})\s+(?P<when>\d{1,2}:\d{2}|\d{4})\s(?P<name>.+)\Z",
    re.ASCII,
)
_DOS_RE = re.compile(
    r"(?P<month>\d{1,2})-(?P<day>\d{1,2})-(?P<year>\d{2}|\d{4})\s+"
    r"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?:\s*(?P<ampm>[AaPp][Mm]))?\s+"
    r"(?P<size><DIR>|\d+)\s+(?P<name>.+)\Z",
    re.ASCII,
)
_UNIX_TYPES = {"-": "file", "d": "dir", "l": "link"}


def parse_list(lines: Iterable[str], now: datetime.datetime | None = None) -> list[Entry]:
    """Parse a whole LIST listing into its entries, in the server's order.

    Each line goes to `parse_list_line`, with one clock for the whole
    listing (`now`, default the current UTC time); lines that describe no
    entry are left out.  A VMS entry that the server wrapped onto the next
    lines (a long name alone on its line) is first joined into one line.
    Raises `error_proto` for a line in no known form.
    """
    now = now or datetime.datetime.now(datetime.UTC)
    parsed = (parse_list_line(line, now) for line in _joined_list_lines(lines))
    return [entry for entry in parsed if entry is not None]


_VMS_SPEC_RE = re.compile(r"(?P<stem>[^\s;]+);(?P<version>\d{1,5})(?=\s|\Z)", re.ASCII)


def _joined_list_lines(lines: Iterable[str]) -> Iterator[str]:
    """`lines`, with each VMS entry the server wrapped joined into one line (see `_LineJoiner`)."""
    joiner = _LineJoiner()
    for line in lines:
        yield from joiner.push(line)
    yield from joiner.flush()


class _Listing:
    """The entries of an MLSD or LIST listing, parsed line by line as it arrives.

    ``.``, ``..`` and MLSD's ``cdir``/``pdir`` are left out (`listed` says
    whether the listing had any entry at all).  A line in no known form is
    raised as `error_proto` by `entries`, once the whole listing is read, so
    that the transfer ends in step.
    """

    def __init__(self, *, mlsd: bool) -> None:
        self.mlsd = mlsd
        self.listed = False
        self._entries: list[Entry] = []
        self._joiner = _LineJoiner()
        self._now = datetime.datetime.now(datetime.UTC)
        self._error: error_proto | None = None

    def take(self, line: str) -> None:
        """Parse one line of the listing (the callback for `FTP.retrlines`)."""
        if self.mlsd:
            if line.strip():
                self._parse(line, parse_mlsx_line)
        else:
            for whole in self._joiner.push(line):
                self._parse(whole, self._list_line)

    def entries(self) -> list[Entry]:
        """The entries, once the listing is complete."""
        for whole in self._joiner.flush():
            self._parse(whole, self._list_line)
        if self._error is not None:
            raise self._error
        return self._entries

    def _list_line(self, line: str) -> Entry | None:
        return parse_list_line(line, self._now)

    def _parse(self, line: str, parse: Callable[[str], Entry | None]) -> None:
        if self._error is not None:
            return
        try:
            entry = parse(line)
        except error_proto as exc:
            self._error = exc
            return
        if entry is None:
            return
        self.listed = True
        if entry.name in (".", "..") or (
            self.mlsd and entry.facts.get("type", "").lower() in ("cdir", "pdir")
        ):
            return
        self._entries.append(entry)


class _LineJoiner:
    """Joins each VMS entry the server wrapped into one line (blank-separated), line by line.

    OpenVMS ``DIRECTORY`` puts a name too long for its column alone on its
    line and the rest on the next, which starts with blanks (or, from some
    servers, with the size); some servers put the protection on a line of
    its own.  Only a line that starts with a VMS file spec
    (``NAME.TYPE;version``) is continued, and by at most two lines: the cost
    per line stays fixed, and no other form is touched.  Fed one line at a
    time, so that a listing can be parsed while it arrives.
    """

    __slots__ = ("continued", "pending")

    def __init__(self) -> None:
        self.pending: str | None = None  # a VMS entry that the next line may continue
        self.continued = 0

    def push(self, line: str) -> tuple[str, ...]:
        """The whole lines that `line` completes: none, one or two."""
        pending = self.pending
        if pending is not None and self.continued < 2 and _continues_vms_entry(pending, line):
            self.pending = f"{pending} {line.strip()}"
            self.continued += 1
            return ()
        done = () if pending is None else (pending,)
        if _VMS_SPEC_RE.match(line):
            self.pending, self.continued = line, 0
            return done
        self.pending = None
        return (*done, line)

    def flush(self) -> tuple[str, ...]:
        """The line still held, at the end of the listing."""
        pending, self.pending = self.pending, None
        return () if pending is None else (pending,)


def _continues_vms_entry(entry: str, line: str) -> bool:
    """Whether `line` goes on with the VMS entry `entry` rather than starting a line of its own."""
    if not line.strip() or _VMS_SPEC_RE.match(line.lstrip()) or line.startswith(_VMS_TOTALS):
        return False
    if line[:1] in (" ", "\t", "("):
        return True
    # After a name alone on its line, the next line is its rest, however it starts.
    spec = _VMS_SPEC_RE.match(entry)
    return spec is not None and not entry[spec.end() :].strip() and line[:1].isdigit()


def parse_list_line(line: str, now: datetime.datetime | None = None) -> Entry | None:
    """Parse one LIST line into an Entry.

    Reads Unix ``ls -l`` lines and their variants, MS-DOS/IIS, EPLF, MacOS
    (NetPresenz, Peter's server), NetWare, HP NonStop (Tandem), OpenVMS,
    IBM i (OS/400), OS/2 and IBM z/OS (data sets, PDS members; z/OS UNIX
    lists in Unix form); the documentation says what is read from each.
    Returns None for lines that describe no entry (``total 42``, headings,
    blank lines) and raises `error_proto` for a line in none of the forms or
    one holding a line break.  `now` (default: the current UTC time) places
    dates that carry no year.  A wrapped VMS entry must be joined first
    (`parse_list` does it).
    """
    # A line has no line break; refusing one also keeps every regex below linear, as each
    # reads a name up to the end of the line, which then always matches.
    if "\n" in line:
        raise error_proto(f"a LIST line holds no line break: {line[:200]!r}")
    parts = line.split(None, 8)
    if len(parts) == 9:  # the common `ls -l` line, taken apart without a regex
        entry = _plain_unix_entry(line, parts, now)
        if entry is not None:
            return entry
    if not line.strip() or line.startswith("total "):
        return None
    if line[:1] == "+":  # no other form starts with '+'
        return _parse_eplf(line)
    now = now or datetime.datetime.now(datetime.UTC)
    for form in _LIST_FORMS:  # in the order, and for the reasons, given there
        entry = form(line, now)
        if entry is not _NOT_THIS_FORM:
            return entry
    raise error_proto(f"unrecognised LIST line: {line[:200]!r}")


def _listed_size(digits: str, line: str) -> int:
    """The size column of a LIST line (ASCII digits); `error_proto` if over 64 bits."""
    value = _bounded(digits)
    if value is None:
        raise error_proto(f"size out of range: {line[:200]!r}")
    return value


def _plain_unix_entry(line: str, parts: list[str], now: datetime.datetime | None) -> Entry | None:
    """The Entry of ``mode links owner group size month day time-or-year name``, or None.

    None means "not that simple": the regex path decides.  Three times
    faster than the regex, which must allow for missing or odd columns.
    """
    mode, _links, _owner, _group, size, month, day, when, name = parts
    start = len(line) - len(name)
    if (
        line[:1] != mode[:1]  # the line starts with blanks
        or not line[:start].isascii()  # only ASCII blanks separate columns, as in the regex
        or line[start - 2].isspace()  # more than one blank: the name starts with blanks
        or not (size.isdigit() and size.isascii())
    ):
        return None
    kind = _unix_mode_kind(mode)
    if kind is None:
        return None
    modify = _unix_stamp(month, day, when, now or datetime.datetime.now(datetime.UTC))
    if modify is _NOT_A_DATE:
        return None
    target = None
    if kind == "link" and " -> " in name:
        name, target = name.split(" -> ", 1)
    # Up to 19 digits int() is safe and fast; longer ones are checked.
    number = int(size) if len(size) < 20 else _listed_size(size, line)
    return Entry(name, kind, number, modify, mode[1:], target, None, {}, line)


@functools.lru_cache(maxsize=256)
def _unix_mode_kind(mode: str) -> str | None:
    """The entry type of a 10-character ls mode such as ``-rw-r--r--``, or None."""
    if _UNIX_MODE_RE.fullmatch(mode) is None:
        return None
    return _UNIX_TYPES.get(mode[0], "other")


_UNIX_MODE_RE = re.compile(r"[-bcdlpsDn?][-rwxsStTlL?]{9}", re.ASCII)
_NOT_A_DATE: Any = object()


@functools.lru_cache(maxsize=1024)
def _unix_stamp(
    month: str, day: str, when: str, now: datetime.datetime
) -> datetime.datetime | None:
    """`_unix_time` of the three date columns, or `_NOT_A_DATE` if they are not in ls form."""
    if not (
        len(month) == 3
        and month.isalpha()
        and month.isascii()
        and 1 <= len(day) <= 2
        and day.isdigit()
        and day.isascii()
        and _UNIX_WHEN_RE.fullmatch(when)
    ):
        return _NOT_A_DATE
    return _unix_time(month, int(day), when, now)


_UNIX_WHEN_RE = re.compile(r"\d{1,2}:\d{2}|\d{4}", re.ASCII)


def _unix_entry(m: re.Match[str], line: str, now: datetime.datetime) -> Entry:
    mode, name = m["mode"], m["name"]
    kind = _UNIX_TYPES.get(mode[0], "other")
    target = None
    if kind == "link" and " -> " in name:
        name, target = name.split(" -> ", 1)
    size = None if "," in m["size"] else _listed_size(m["size"], line)
    return Entry(
        name=name,
        type=kind,
        size=size,
        modify=_unix_time(m["month"], int(m["day"]), m["when"], now),
        perm=mode[1:],
        target=target,
        raw=line,
    )


@functools.lru_cache(maxsize=1024)  # a listing repeats its dates: parse each once
def _unix_time(
    month_name: str, day: int, when: str, now: datetime.datetime
) -> datetime.datetime | None:
    month = _MONTHS.get(month_name.lower())
    if month is None:
        return None
    utc = datetime.UTC
    try:
        if ":" not in when:
            return datetime.datetime(int(when), month, day, tzinfo=utc)
        hour, minute = map(int, when.split(":"))
        stamp = datetime.datetime(now.year, month, day, hour, minute, tzinfo=utc)
        # ls shows the time instead of the year for the last six months: a
        # date "in the future" belongs to last year.
        if stamp > now + datetime.timedelta(days=2):
            stamp = stamp.replace(year=now.year - 1)
        return stamp
    except ValueError:
        return None


def _dos_entry(m: re.Match[str], line: str) -> Entry:
    year = int(m["year"])
    if year < 100:
        year += 2000 if year < 70 else 1900
    hour = int(m["hour"])
    if m["ampm"]:
        hour = hour % 12 + (12 if m["ampm"].lower() == "pm" else 0)
    try:
        when = datetime.datetime(
            year, int(m["month"]), int(m["day"]), hour, int(m["minute"]),
            tzinfo=datetime.UTC,
        )  # fmt: skip
    except ValueError:
        when = None
    is_dir = m["size"] == "<DIR>"
    return Entry(
        name=m["name"],
        type="dir" if is_dir else "file",
        size=None if is_dir else _listed_size(m["size"], line),
        modify=when,
        raw=line,
    )


def _parse_eplf(line: str) -> Entry:
    """EPLF (http://cr.yp.to/ftp/list/eplf.html): ``+fact,fact,...<TAB>name``."""
    facts_text, sep, name = line[1:].partition("\t")
    if not sep:
        raise error_proto(f"malformed EPLF line: {line[:200]!r}")
    kind, size, when, unique, perm = "other", None, None, None, None
    for fact in facts_text.split(","):
        tag, value = fact[:1], fact[1:]
        if tag == "/":
            kind = "dir"
        elif tag == "r":
            kind = "file"
        elif tag == "s":
            size = _int_or_none(value, line)
        elif tag == "m" and value.isdigit() and value.isascii():
            seconds = _bounded(value)
            if seconds is not None:
                with contextlib.suppress(OverflowError, OSError, ValueError):
                    when = datetime.datetime.fromtimestamp(seconds, datetime.UTC)
        elif tag == "i":
            unique = value
        elif tag == "u" and value[:1] == "p":
            perm = value[1:]
    return Entry(name=name, type=kind, size=size, modify=when, perm=perm, unique=unique, raw=line)


# The forms below are tried in the order of _LIST_FORMS, after the fast path and EPLF.  Each
# takes a line and `now` and returns an Entry, None for a line of its form that describes no
# entry (a heading, a total), or _NOT_THIS_FORM.  Their lines begin differently, so the order
# matters only where two forms could read one line; _LIST_FORMS says where.  Columns a form
# has beyond name, type, size, time and permissions go into `Entry.facts`, named after the
# form's heading (or documentation) with the form's prefix, with the text as listed.
_NOT_THIS_FORM: Any = object()


def _unix_form(line: str, now: datetime.datetime) -> Entry | None:
    m = _UNIX_RE.match(line)
    return _NOT_THIS_FORM if m is None else _unix_entry(m, line, now)


def _dos_form(line: str, now: datetime.datetime) -> Entry | None:
    m = _DOS_RE.match(line)
    return _NOT_THIS_FORM if m is None else _dos_entry(m, line)


def _two_digit_year(digits: str, pivot: int) -> int:
    """A year listed with 2 digits (19xx from `pivot` on, else 20xx), 3 (years since 1900) or 4."""
    year = int(digits)
    if len(digits) <= 2:
        return year + (1900 if year >= pivot else 2000)
    return year + 1900 if len(digits) == 3 else year


def _utc(*fields: int) -> datetime.datetime | None:
    """The UTC datetime of `fields` (year, month, day, ...), or None if there is no such time."""
    try:
        return datetime.datetime(*fields, tzinfo=datetime.UTC)  # type: ignore[misc]
    except ValueError:
        return None


# MacOS servers (NetPresenz, Peter's server) list a file's resource fork, data fork and total
# size, and a folder as "folder" and a count; the dates are those of ls.
_MAC_RE = re.compile(
    r"(?P<mode>[-d][-rwxsStT]{9})\s+(?:(?P<rsrc>\d+)\s+(?P<data>\d+)\s+(?P<size>\d+)|folder\s+\d+)"
    r"\s+(?P<month>[A-Za-z]{3})\s+(?P<day>\d{1,2})\s+(?P<when>\d{1,2}:\d{2}|\d{4})\s(?P<name>.+)\Z",
    re.ASCII,
)


def _mac_form(line: str, now: datetime.datetime) -> Entry | None:
    m = _MAC_RE.match(line)
    if m is None or (m["size"] is None) != (m["mode"][0] == "d"):
        return _NOT_THIS_FORM
    size, facts = None, {}
    if m["size"] is not None:
        size = _listed_size(m["size"], line)
        rsrc, data = _bounded(m["rsrc"]), _bounded(m["data"])
        # Three numbers are also "links owner size" of an ls line with numeric owner and no
        # group: only forks that add up to the total make a Mac line.
        if rsrc is None or data is None or rsrc + data != size:
            return _NOT_THIS_FORM
        facts = {"mac.resource_fork": m["rsrc"], "mac.data_fork": m["data"]}
    mode = m["mode"]
    when = _unix_time(m["month"], int(m["day"]), m["when"], now)
    return Entry(m["name"], _UNIX_TYPES[mode[0]], size, when, mode[1:], None, None, facts, line)


_NETWARE_RE = re.compile(
    r"(?P<kind>[-d])\s+\[(?P<rights>[-RWCEAFMS]{8})\]\s+(?P<owner>\S+)\s+(?P<size>\d+)\s+"
    r"(?P<month>[A-Za-z]{3})\s+(?P<day>\d{1,2})\s+(?P<when>\d{1,2}:\d{2}|\d{4})\s+(?P<name>\S.*)\Z",
    re.ASCII,
)


def _netware_form(line: str, now: datetime.datetime) -> Entry | None:
    """Novell NetWare: ``d [RWCEAFMS] owner size Mon DD HH:MM|YYYY name``."""
    m = _NETWARE_RE.match(line)
    if m is None:
        return _NOT_THIS_FORM
    return Entry(
        name=m["name"],
        type="dir" if m["kind"] == "d" else "file",
        size=_listed_size(m["size"], line),
        modify=_unix_time(m["month"], int(m["day"]), m["when"], now),
        perm=m["rights"],
        facts={"netware.owner": m["owner"]},
        raw=line,
    )


_TANDEM_RE = re.compile(
    r"(?P<name>[A-Za-z][A-Za-z0-9]{0,7})\s+(?:[A-Z]\s+)?(?P<code>\d{1,5})\s+(?P<eof>\d+)\s+"
    r"(?P<day>\d{1,2})-(?P<month>[A-Za-z]{3})-(?P<year>\d{2})\s+"
    r"(?P<hour>\d{1,2}):(?P<minute>\d{2}):(?P<second>\d{2})\s+"
    r"(?P<owner>\d{1,3},\s*\d{1,3})\s+\"?(?P<rwep>[A-Za-z-]{4})\"?\s*\Z",
    re.ASCII,
)


def _tandem_form(line: str, now: datetime.datetime) -> Entry | None:
    """HP NonStop (Tandem) Guardian: ``NAME [flag] code EOF d-Mon-yy hh:mm:ss g,u "RWEP"``."""
    if line.startswith("File ") and line.rstrip().endswith("RWEP"):
        return None  # the heading
    m = _TANDEM_RE.match(line)
    if m is None:
        return _NOT_THIS_FORM
    month = _MONTHS.get(m["month"].lower())
    fields = (_two_digit_year(m["year"], 70), month or 0, int(m["day"]))
    when = _utc(*fields, int(m["hour"]), int(m["minute"]), int(m["second"]))
    return Entry(
        name=m["name"],
        type="file",  # a subvolume holds files only
        size=_listed_size(m["eof"], line),
        modify=when,
        perm=m["rwep"],
        facts={"tandem.code": m["code"], "tandem.owner": m["owner"].replace(" ", "")},
        raw=line,
    )


# A VMS entry after its file spec: blocks used[/allocated], the date, the time, the owner
# in brackets and the protection in parentheses, each of them left out by some servers.
_VMS_BLOCKS_RE = re.compile(r"(\d+)(?:/(\d+))?", re.ASCII)
_VMS_DATE_RE = re.compile(r"(\d{1,2})-([A-Za-z]{3})-(\d{4})", re.ASCII)
_VMS_TIME_RE = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,2}))?)?", re.ASCII)
_VMS_TOTALS = ("Total of ", "Grand total of ")


def _vms_form(line: str, now: datetime.datetime) -> Entry | None:
    """OpenVMS: ``NAME.TYPE;version  used/alloc  DD-MON-YYYY hh:mm:ss  [grp,owner]  (S,O,G,W)``."""
    if line.startswith(_VMS_TOTALS) or (
        line.startswith("Directory ") and len(line.split()) == 2 and ":" in line
    ):
        return None  # "Directory DISK$USER:[NAME]" above the entries, the totals below
    m = _VMS_SPEC_RE.match(line)
    if m is None:
        return _NOT_THIS_FORM
    facts = {"vms.version": m["version"]}
    blocks = date = clock = owner = protection = None
    for token in line[m.end() :].split():
        if token[:1] == "(" and token[-1:] == ")" and protection is None:
            protection = token[1:-1]
        elif token[:1] == "[" and owner is None:
            owner = token[1:].removesuffix("]")
        elif blocks is None and (size := _VMS_BLOCKS_RE.fullmatch(token)):
            blocks = size
        elif date is None and (day := _VMS_DATE_RE.fullmatch(token)):
            date = day
        elif clock is None and date is not None and (hour := _VMS_TIME_RE.fullmatch(token)):
            clock = hour
        elif owner is None and date is not None and token.replace("_", "").isalnum():
            owner = token  # an owner some servers print without brackets
        else:
            raise error_proto(f"unrecognised VMS LIST line: {line[:200]!r}")
    if (blocks is None) != (date is None):  # a spec alone is an entry, a partial line is not
        raise error_proto(f"unrecognised VMS LIST line: {line[:200]!r}")
    when = None
    if blocks is not None and date is not None:
        facts["vms.blocks"] = blocks[1]
        if blocks[2] is not None:
            facts["vms.allocated"] = blocks[2]
        when = _vms_time(date, clock)
    if owner is not None:
        facts["vms.owner"] = owner
    stem = m["stem"]
    # A directory is the file NAME.DIR;1, and CWD takes NAME; a file keeps its version, which
    # tells its versions apart and which RETR takes.
    if stem[-4:].upper() == ".DIR" and len(stem) > 4:
        name, kind = stem[:-4], "dir"
    else:
        name, kind = f"{stem};{m['version']}", "file"
    return Entry(name, kind, None, when, protection, None, None, facts, line)


def _vms_time(date: re.Match[str], clock: re.Match[str] | None) -> datetime.datetime | None:
    month = _MONTHS.get(date[2].lower())
    if month is None:
        return None
    fields = [int(date[3]), month, int(date[1])]
    if clock is not None:
        hundredths = int((clock[4] or "0").ljust(2, "0"))
        fields += [int(clock[1]), int(clock[2]), int(clock[3] or 0), hundredths * 10_000]
    return _utc(*fields)


# IBM i (OS/400) LISTFMT 0: owner (blank for anonymous users), size, date and time in the
# server job's format, object type, name.  Members and some objects have no size or date.
_OS400_RE = re.compile(
    r"(?P<owner>[A-Za-z#$@][A-Za-z0-9#$@_]{0,9})?\s+(?:(?P<size>\d+)\s+)?"
    r"(?:(?P<date>\d{1,4}[/.,-]\d{1,3}(?:[/.,-]\d{1,4})?)\s+(?P<time>\d{1,2}[:.,]\d{2}[:.,]\d{2})\s+)?"
    r"(?P<type>\*[A-Z][A-Z0-9]{0,9})(?:\s+(?P<name>\S.*))?\s*\Z",
    re.ASCII,
)
_OS400_DIRS = frozenset({"*DIR", "*DDIR", "*LIB", "*FLR"})
_OS400_FILES = frozenset({"*STMF", "*DSTMF", "*MEM", "*DOC"})


def _os400_form(line: str, now: datetime.datetime) -> Entry | None:
    m = _OS400_RE.match(line)
    if m is None:
        return _NOT_THIS_FORM
    name, kind = m["name"], m["type"]
    if name is None:
        return None  # the file that is the working directory, listed with its members
    name = name.removesuffix("/")
    if not name:
        return None
    if "/" in name:
        if not name.startswith("/"):
            return None  # FILE.FILE/MEMBER.MBR: a member, listed under its file, of that file
        name = name.rpartition("/")[2]  # a path from LIST with an argument: its last name
    if kind in _OS400_DIRS:
        type_ = "dir"
    elif kind in _OS400_FILES:
        type_ = "file"
    elif kind == "*FILE":  # a database file holds members, unless it is a save file
        type_ = "dir" if name.upper().endswith(".FILE") else "file"
    else:
        type_ = "link" if kind == "*SYMLNK" else "other"
    facts = {"os400.type": kind}
    if m["owner"]:
        facts["os400.owner"] = m["owner"]
    if m["date"]:
        facts["os400.date"], facts["os400.time"] = m["date"], m["time"]
    size = None if m["size"] is None else _listed_size(m["size"], line)
    when = _os400_time(m["date"], m["time"]) if m["date"] else None
    return Entry(name, type_, size, when, None, None, None, facts, line)


def _os400_time(date: str, clock: str) -> datetime.datetime | None:
    """The time an IBM i date and time name, if the date reads as only one day, else None.

    The date is in the server job's format (MDY, DMY, YMD or Julian YY/DDD,
    with any separator), which the listing does not say.  Two-digit years
    are those of IBM i: 40-99 are 19xx, 00-39 are 20xx.
    """
    parts = _OS400_DATE_SEP_RE.split(date)
    hms = [int(part) for part in _OS400_TIME_SEP_RE.split(clock)]
    if len(parts) == 2:  # Julian: YY/DDD
        start = _utc(_two_digit_year(parts[0], 40), 1, 1, *hms)
        if start is None or len(parts[0]) != 2 or len(parts[1]) != 3 or parts[1] == "000":
            return None
        stamp = start + datetime.timedelta(days=int(parts[1]) - 1)
        return stamp if stamp.year == start.year else None
    first, second, third = parts
    readings = {
        _utc(_two_digit_year(third, 40), int(first), int(second), *hms),  # MDY
        _utc(_two_digit_year(third, 40), int(second), int(first), *hms),  # DMY
        _utc(_two_digit_year(first, 40), int(second), int(third), *hms),  # YMD
    } - {None}
    return readings.pop() if len(readings) == 1 else None


_OS400_DATE_SEP_RE = re.compile(r"[/.,-]")
_OS400_TIME_SEP_RE = re.compile(r"[:.,]")


_OS2_RE = re.compile(
    r"\s*(?P<size>\d+)\s+(?:(?P<flag1>[A-Z]+)\s+)?(?:(?P<flag2>[A-Z]+)\s+)?"
    r"(?P<month>\d{2})-(?P<day>\d{2})-(?P<year>\d{2,4})\s+(?P<hour>\d{1,2}):(?P<minute>\d{2})"
    r"\s+(?P<name>\S.*)\Z",
    re.ASCII,
)


def _os2_form(line: str, now: datetime.datetime) -> Entry | None:
    """OS/2: ``size [attributes] [DIR] MM-DD-YY hh:mm name`` (years past 1999 may be 100...)."""
    m = _OS2_RE.match(line)
    if m is None:
        return _NOT_THIS_FORM
    flags = [flag for flag in (m["flag1"], m["flag2"]) if flag is not None]
    is_dir = "DIR" in flags
    attributes = [flag for flag in flags if flag != "DIR"]
    if len(attributes) > 1 or (attributes and attributes[0].strip("ARSH")):
        return _NOT_THIS_FORM
    year = _two_digit_year(m["year"], 70)
    when = _utc(year, int(m["month"]), int(m["day"]), int(m["hour"]), int(m["minute"]))
    return Entry(
        name=m["name"],
        type="dir" if is_dir else "file",
        size=None if is_dir else _listed_size(m["size"], line),
        modify=when,
        facts={"os2.attributes": attributes[0]} if attributes else {},
        raw=line,
    )


# IBM z/OS data sets: "Volume Unit Referred Ext Used Recfm Lrecl BlkSz Dsorg Dsname" (LISTLEVEL
# 2 drops Unit; very old servers say Date for Referred), with Ext and Used run together when
# Used fills its column.  Referred is the last time the data set was read: not a modify time.
_MVS_NOT_ON_DISK = (["Migrated"], ["ARCIVE", "Not", "Direct", "Access", "Device"])
_MVS_REFERRED_RE = re.compile(r"\d{4}/\d{2}/\d{2}|\d{2}/\d{2}/\d{2}|\*\*NONE\*\*", re.ASCII)
_MVS_DSORG_RE = re.compile(r"[A-Z]{1,4}(?:-[A-Z])?|\?+", re.ASCII)
_MVS_RECFM_RE = re.compile(r"[A-Z]{1,5}|\?+", re.ASCII)
_MVS_NUMBER_RE = re.compile(r"\d{1,6}|\?+", re.ASCII)
_MVS_MERGED_RE = re.compile(r"\d+\+*", re.ASCII)


def _mvs_dataset_form(line: str, now: datetime.datetime) -> Entry | None:
    if line.startswith("Volume ") and line.rstrip().endswith(" Dsname"):
        return None  # the heading
    tokens = line.split()
    name = tokens[-1]
    if tokens[:-1] in _MVS_NOT_ON_DISK:
        return Entry(name, "other", facts={"mvs.volume": tokens[0]}, raw=line)  # not on disk
    if tokens[:-1] == ["Pseudo", "Directory"]:
        return Entry(name, "dir", raw=line)  # a qualifier level shared by data sets
    if 2 <= len(tokens) <= 4 and tokens[-2] == "VSAM":
        facts = dict(zip(("mvs.volume", "mvs.unit"), tokens[:-2], strict=False))
        return Entry(name, "other", facts={**facts, "mvs.dsorg": "VSAM"}, raw=line)
    if not 8 <= len(tokens) <= 10:
        return _NOT_THIS_FORM
    head, (recfm, lrecl, blksz, dsorg) = tokens[:-5], tokens[-5:-1]
    referred = next((i for i, t in enumerate(head[:3]) if _MVS_REFERRED_RE.fullmatch(t)), None)
    if (
        referred not in (1, 2)
        or len(head) - referred not in (2, 3)
        or not _MVS_DSORG_RE.fullmatch(dsorg)
        or not _MVS_RECFM_RE.fullmatch(recfm)
        or not _MVS_NUMBER_RE.fullmatch(lrecl)
        or not _MVS_NUMBER_RE.fullmatch(blksz)
    ):
        return _NOT_THIS_FORM
    facts = {"mvs.volume": head[0]}
    if referred == 2:
        facts["mvs.unit"] = head[1]
    if head[referred] != "**NONE**":
        facts["mvs.referred"] = head[referred]
    counts = head[referred + 1 :]
    if len(counts) == 2 and all(count.isdigit() and count.isascii() for count in counts):
        facts["mvs.ext"], facts["mvs.used"] = counts
    elif len(counts) == 2 or not _MVS_MERGED_RE.fullmatch(counts[0]):
        return _NOT_THIS_FORM
    facts |= {"mvs.recfm": recfm, "mvs.lrecl": lrecl, "mvs.blksz": blksz, "mvs.dsorg": dsorg}
    kind = "file" if dsorg.startswith("PS") else "dir" if dsorg.startswith("PO") else "other"
    return Entry(name, kind, facts=facts, raw=line)


# IBM z/OS PDS members, with ISPF statistics ("Name VV.MM Created Changed Size Init Mod Id"),
# of a load library ("Name Size TTR Alias-of AC Attributes Amode Rmode"), or a bare name.
_MVS_MEMBER = r"(?P<name>[A-Z@#$][A-Z0-9@#$]{0,7})"
_MVS_STATS_RE = re.compile(
    _MVS_MEMBER + r"\s+(?P<vvmm>\d{2}\.\d{2})\s+(?P<created>\d{4}/\d{2}/\d{2})\s+"
    r"(?P<year>\d{4})/(?P<month>\d{2})/(?P<day>\d{2})\s+"
    r"(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?\s+"
    r"(?P<size>\d+)\s+(?P<init>\d+)\s+(?P<mod>\d+)(?:\s+(?P<id>\S+))?\s*\Z",
    re.ASCII,
)
_MVS_LOAD_RE = re.compile(
    _MVS_MEMBER + r"\s+(?P<size>[0-9A-F]{6})\s+(?P<ttr>[0-9A-F]{6})\s+"
    r"(?:(?P<alias>[A-Z@#$][A-Z0-9@#$]{0,7})\s+)?(?P<ac>\d{2})\s+(?P<rest>\S.*)\Z",
    re.ASCII,
)
_MVS_BARE_RE = re.compile(_MVS_MEMBER + r"\s*\Z", re.ASCII)


def _mvs_member_form(line: str, now: datetime.datetime) -> Entry | None:
    heading = line.lstrip()
    if heading.startswith("Name ") and ("VV.MM" in heading or " TTR " in heading):
        return None
    m = _MVS_STATS_RE.match(line)
    if m:
        fields = (int(m[k] or 0) for k in ("year", "month", "day", "hour", "minute", "second"))
        facts = {
            "mvs.vv.mm": m["vvmm"],
            "mvs.created": m["created"],
            "mvs.size": m["size"],
            "mvs.init": m["init"],
            "mvs.mod": m["mod"],
        }
        if m["id"]:
            facts["mvs.id"] = m["id"]
        return Entry(m["name"], "file", None, _utc(*fields), facts=facts, raw=line)
    m = _MVS_LOAD_RE.match(line)
    if m and len(rest := m["rest"].split()) >= 2:
        *attributes, amode, rmode = rest
        facts = {"mvs.size": m["size"], "mvs.ttr": m["ttr"], "mvs.ac": m["ac"]}
        if m["alias"]:
            facts["mvs.alias-of"] = m["alias"]
        facts |= {"mvs.attributes": " ".join(attributes), "mvs.amode": amode, "mvs.rmode": rmode}
        return Entry(m["name"], "file", facts=facts, raw=line)
    m = _MVS_BARE_RE.match(line)
    return Entry(m["name"], "file", raw=line) if m else _NOT_THIS_FORM


_LIST_FORMS = (
    _mac_form,  # before Unix: its lines are ls-like, and the Unix regex would misread them
    _unix_form,
    _dos_form,
    _netware_form,  # the rest start in ways no other form does; none reads another's lines
    _tandem_form,
    _vms_form,
    _os400_form,
    _os2_form,
    _mvs_dataset_form,
    _mvs_member_form,  # last: a member without statistics is a bare name
)


# --------------------------------------------------------------------------
# The control connection
# --------------------------------------------------------------------------


class _ControlFile:
    """The read side of the control connection, where ftplib has ``FTP.file``.

    ``readline()`` behaves like that of the text file ftplib uses, but lines
    come from a `ReplyParser` fed from the socket, so they are bounded and
    never raise UnicodeDecodeError.
    """

    def __init__(self, sock: socket.socket, parser: ReplyParser) -> None:
        self._sock: socket.socket | None = sock
        self._parser = parser
        self.deadline: float | None = None  # time.monotonic() by which the reply must be whole

    def readline(self, size: int = -1) -> str:
        # ReplyParser.feed() and next_line(), inlined: this runs once per reply line.
        parser = self._parser
        splitter = parser._splitter
        if size > 0 and splitter.maxline != size - 1:
            splitter.maxline = size - 1
        ready = parser._ready
        while not ready:
            splitter.check_tail()
            if self._sock is None:
                raise ValueError("I/O operation on closed file")
            if self.deadline is not None and time.monotonic() > self.deadline:
                raise TimeoutError("the server's reply did not arrive in time")
            data = self._sock.recv(8192)
            if not data:
                if parser.buffered:
                    raise EOFError("the server closed the connection in the middle of a line")
                return ""
            ready.extend(splitter.feed(data))
        return splitter.check(ready.popleft()).decode(parser.encoding, parser.errors) + "\n"

    def close(self) -> None:
        self._sock = None


def _log_tls(what: str, sock: Any) -> None:
    """Log at INFO that `sock` now speaks TLS, with the protocol version and cipher."""
    if _log.isEnabledFor(logging.INFO):
        cipher = sock.cipher()
        _log.info("%s: %s, %s", what, sock.version(), cipher[0] if cipher else "no cipher")


def _log_transfer(what: str, remote: str, moved: int, offset: int, started: float) -> None:
    """Log at INFO the summary of a whole-file transfer: bytes, seconds, rate."""
    if _log.isEnabledFor(logging.INFO):
        seconds = time.monotonic() - started
        rate = moved / seconds / 1e6 if seconds > 0 else float("inf")
        resumed = f" (resumed at {offset})" if offset else ""
        _log.info("%s %s: %d bytes in %.3f s, %.1f MB/s%s", what, remote, moved, seconds, rate,
                  resumed)  # fmt: skip


def _mask_password(line: str) -> str:
    """`line` with the argument of a PASS command masked, for showing it."""
    if line[:5].upper() == "PASS ":
        i = len(line.rstrip("\r\n"))
        line = line[:5] + "*" * (i - 5) + line[i:]
    return line


def _check_line(line: str) -> None:
    """Refuse a command line that could smuggle in a second command."""
    if "\r" in line or "\n" in line or "\0" in line:
        raise ValueError("an illegal newline or NUL character should not be contained")


# --------------------------------------------------------------------------
# Proxies: every connection, direct or through SOCKS5, SOCKS4a or HTTP CONNECT
# --------------------------------------------------------------------------
#
# Only an explicit proxy URL (the `proxy` argument or attribute) turns a
# proxy on: ftplib never read proxy variables from the environment, and
# neither does ftplib2.  The proxy is given the server's name as the caller
# wrote it, so the proxy resolves it.

_PROXY_DEFAULT_PORTS = {"socks5": 1080, "socks5h": 1080, "socks4a": 1080}

_SOCKS5_REPLIES = {
    1: "general SOCKS server failure",
    2: "connection not allowed by ruleset",
    3: "network unreachable",
    4: "host unreachable",
    5: "connection refused",
    6: "TTL expired",
    7: "command not supported",
    8: "address type not supported",
}

_SOCKS4_REPLIES = {
    91: "request rejected or failed",
    92: "request rejected: the proxy cannot reach the client's identd",
    93: "request rejected: identd reports another user",
}

_SOCKS_CONNECT = 1
_SOCKS_BIND = 2


class ProxyError(OSError):
    """A proxy could not be reached, or refused or failed a request.

    Raised for a refused tunnel (the target refused the connection, is
    unreachable, the proxy's rules forbid it), failed or missing proxy
    authentication, a reply that is not the proxy protocol, and active mode
    through an HTTP proxy.  `proxy` names the proxy (without its password),
    `code` is its reply code (the SOCKS5 REP, the SOCKS4 CD, the HTTP
    status) or None if there was none.  It is an OSError, so in
    ``all_errors``.
    """

    def __init__(self, message: str = "", proxy: str = "", code: int | None = None) -> None:
        super().__init__(message)
        self.proxy = proxy
        self.code = code


@dataclasses.dataclass(frozen=True)
class _Proxy:
    """A proxy URL, taken apart."""

    scheme: str  # "socks5", "socks4a" or "http"
    host: str
    port: int
    user: str = ""
    passwd: str = dataclasses.field(default="", repr=False)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme} proxy {host}:{self.port}"

    def error(self, message: str, code: int | None = None) -> ProxyError:
        return ProxyError(f"{self}: {message}", str(self), code)


def _parse_proxy(url: str) -> _Proxy:
    """Take a proxy URL apart; ValueError if ftplib2 cannot use it.

    ``socks5://[user:password@]host[:port]`` (``socks5h://`` is the same:
    names are always resolved by the proxy), ``socks4a://[user@]host[:port]``
    (SOCKS ports default to 1080) and ``http://[user:password@]host:port``
    (HTTP CONNECT).  The user and password are percent-decoded.
    """
    if not isinstance(url, str):
        raise TypeError(f"a proxy is a URL string, not {type(url).__name__}")
    if any(c < " " or c == "\x7f" for c in url):
        raise ValueError("control character in the proxy URL")
    parts = urllib.parse.urlsplit(url)
    shown = repr(url.rpartition("@")[2])  # never the password
    scheme = parts.scheme.lower()
    if scheme not in ("socks5", "socks5h", "socks4a", "http"):
        raise ValueError(f"unsupported proxy {shown}: give socks5://, socks4a:// or http://")
    port = parts.port  # ValueError if it is not a port number
    if port == 0:
        raise ValueError(f"port 0 in the proxy URL {shown}")
    if not parts.hostname:
        raise ValueError(f"no host in the proxy URL {shown}")
    if port is None:
        if scheme == "http":
            raise ValueError(f"give the HTTP proxy's port: {shown}")
        port = _PROXY_DEFAULT_PORTS[scheme]
    user = urllib.parse.unquote(parts.username or "")
    passwd = urllib.parse.unquote(parts.password or "")
    if scheme == "socks4a" and passwd:
        raise ValueError("SOCKS4a has a user id but no password")
    if scheme.startswith("socks5") and (len(user.encode()) > 255 or len(passwd.encode()) > 255):
        raise ValueError("SOCKS5 user names and passwords are at most 255 bytes")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"a proxy URL has no path: {shown}")
    return _Proxy(scheme[:6] if scheme == "socks5h" else scheme, parts.hostname, port, user, passwd)


def _open_connection(
    proxy: str | None,
    address: tuple[str, int],
    timeout: float | None,
    source_address: tuple[str, int] | None,
) -> socket.socket:
    """A TCP connection to `address`: directly, or tunnelled through `proxy` (a URL).

    Every connection ftplib2 makes to an FTP server, control or data, is
    opened here.  Through a proxy, the proxy connects to `address` (and
    resolves its name); `source_address` is then the local end of the
    connection to the proxy.
    """
    if not proxy:
        return socket.create_connection(address, timeout, source_address=source_address)
    config = _parse_proxy(proxy)
    host, port = address
    _log.debug("%s: tunnel to %s port %s", config, host, port)
    sock = _reach_proxy(config, timeout, source_address)
    try:
        if config.scheme == "http":
            _http_connect(sock, config, host, port)
        else:
            _socks_request(sock, config, _SOCKS_CONNECT, host, port)
        timeout = sock.gettimeout()
        tunnel = _Tunnel(sock.family, sock.type, sock.proto, fileno=sock.detach())
    except BaseException:
        sock.close()
        raise
    tunnel.settimeout(timeout)
    return tunnel


class _Tunnel(socket.socket):
    """A connection through a proxy, on which urgent (out-of-band) data is sent inline.

    A proxy relays a byte stream: one that does not pass urgent data on
    (tinyproxy) drops the urgent byte, which would leave an ``ABOR`` sent
    with MSG_OOB without its line end, and the server waiting for it.
    """

    def send(self, data: Any, flags: int = 0) -> int:
        return super().send(data, flags & ~socket.MSG_OOB)

    def sendall(self, data: Any, flags: int = 0) -> None:
        return super().sendall(data, flags & ~socket.MSG_OOB)


class _ProxyListener(socket.socket):
    """A port a SOCKS proxy listens on for us (BIND), as `makeport` returns it.

    `accept` waits for the proxy's second reply, which names the host that
    connected, and returns the connection to the proxy as the data
    connection.  The proxy accepts one connection only: a second `accept`
    raises `ProxyError`.
    """

    proxy: _Proxy
    announced: tuple[str, int]  # where the proxy listens, for PORT/EPRT
    peers: frozenset[str]  # the hosts a data connection may come from

    def accept(self) -> tuple[socket.socket, Any]:
        """Wait for the connection the proxy accepts; return ``(connection, address)``."""
        if getattr(self, "_taken", None) is not None:
            raise self.proxy.error(
                f"the one connection it accepted came from {self._taken}, not from the server"
            )
        address = _socks_reply(self, self.proxy)
        self._taken = address[0]
        conn = socket.socket(self.family, self.type, self.proto, fileno=socket.dup(self.fileno()))
        return conn, address


def _proxy_listen(
    proxy: str,
    server: tuple[str, int],
    peers: frozenset[str],
    timeout: float | None,
    source_address: tuple[str, int] | None,
) -> _ProxyListener:
    """Ask the SOCKS `proxy` to listen for a connection from the host of `server` (BIND).

    `peers` are the addresses the connection may come from (empty: any).
    Raises ProxyError for an HTTP proxy, which cannot listen, before
    anything is sent.
    """
    config = _can_listen(proxy)
    sock = _reach_proxy(config, timeout, source_address)
    timeout = sock.gettimeout()
    try:
        listener = _ProxyListener(sock.family, sock.type, sock.proto, fileno=sock.detach())
    except BaseException:
        sock.close()
        raise
    try:
        listener.settimeout(timeout)
        listener.proxy = config
        listener.peers = peers
        host, port = _socks_request(listener, config, _SOCKS_BIND, server[0], 0)
        if host in ("0.0.0.0", "::"):  # "where you reached me", as SOCKS4 says
            host = listener.getpeername()[0]
        listener.announced = host, port
    except BaseException:
        listener.close()
        raise
    return listener


def _can_listen(proxy: str) -> _Proxy:
    """The proxy URL taken apart, or ProxyError if the proxy cannot listen for us."""
    config = _parse_proxy(proxy)
    if config.scheme == "http":
        raise config.error(
            "an HTTP proxy cannot accept connections for us: active mode needs a SOCKS proxy "
            "(or use passive mode)"
        )
    return config


def _server_addresses(host: str) -> frozenset[str]:
    """The addresses of the FTP server `host`, for the active-mode peer check through a proxy.

    An address literal stands for itself; a name is looked up here, since the
    proxy's answer names the connecting host by address.
    """
    literal = _address_literal(host)
    if literal is not None:
        return frozenset({literal})
    found = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return frozenset(_address_literal(info[4][0]) or info[4][0] for info in found)


def _address_literal(host: str) -> str | None:
    """`host` in the canonical form of an IP address (IPv4-mapped as IPv4), or None for a name."""
    import ipaddress

    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return str(mapped if mapped is not None else address)


def _reach_proxy(
    config: _Proxy, timeout: float | None, source_address: tuple[str, int] | None
) -> socket.socket:
    try:
        return socket.create_connection(
            (config.host, config.port), timeout, source_address=source_address
        )
    except OSError as exc:
        raise config.error(f"cannot reach it: {exc}") from exc


def _recv_exactly(sock: socket.socket, n: int, config: _Proxy) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise config.error("it closed the connection in the middle of its reply")
        data += chunk
    return data


def _socks_request(
    sock: socket.socket, config: _Proxy, command: int, host: str, port: int
) -> tuple[str, int]:
    """Ask a SOCKS proxy to connect to, or listen for, (`host`, `port`); return its address."""
    if config.scheme == "socks4a":
        return _socks4_request(sock, config, command, host, port)
    methods = b"\x00\x02" if config.user or config.passwd else b"\x00"
    sock.sendall(b"\x05" + bytes([len(methods)]) + methods)
    version, method = _recv_exactly(sock, 2, config)
    if version != 5:
        raise config.error(f"not a SOCKS5 reply (version {version})")
    if method == 0x02 and 0x02 in methods:
        user, passwd = config.user.encode(), config.passwd.encode()
        sock.sendall(b"\x01" + bytes([len(user)]) + user + bytes([len(passwd)]) + passwd)
        _, status = _recv_exactly(sock, 2, config)
        if status != 0:
            raise config.error(f"user name or password refused (status {status})", status)
    elif method == 0xFF:
        wanted = "" if len(methods) > 1 else " (it may want a user name and password)"
        raise config.error(f"it accepts none of the authentication methods offered{wanted}", 255)
    elif method != 0x00:
        raise config.error(f"it chose an authentication method not offered ({method})", method)
    literal = _address_literal(host)
    if literal is None:
        name = host.encode("idna")
        if not 0 < len(name) < 256:
            raise ValueError(f"not a host name SOCKS5 can carry: {host[:100]!r}")
        target = b"\x03" + bytes([len(name)]) + name
    elif ":" in literal:
        target = b"\x04" + socket.inet_pton(socket.AF_INET6, literal)
    else:
        target = b"\x01" + socket.inet_aton(literal)
    sock.sendall(bytes([5, command, 0]) + target + port.to_bytes(2, "big"))
    return _socks_reply(sock, config)


def _socks_reply(sock: socket.socket, config: _Proxy) -> tuple[str, int]:
    """Read a SOCKS reply (either version); return the address it names."""
    if config.scheme == "socks4a":
        version, code, *rest = _recv_exactly(sock, 8, config)
        if version not in (0, 4):
            raise config.error(f"not a SOCKS4 reply (version {version})")
        if code != 90:
            reason = _SOCKS4_REPLIES.get(code, "unknown reply")
            raise config.error(f"{reason} (reply {code})", code)
        return socket.inet_ntoa(bytes(rest[2:])), int.from_bytes(bytes(rest[:2]), "big")
    version, code, _, kind = _recv_exactly(sock, 4, config)
    if version != 5:
        raise config.error(f"not a SOCKS5 reply (version {version})")
    if code != 0:
        raise config.error(f"{_SOCKS5_REPLIES.get(code, 'unknown reply')} (reply {code})", code)
    if kind == 1:
        host = socket.inet_ntoa(_recv_exactly(sock, 4, config))
    elif kind == 4:
        raw = _recv_exactly(sock, 16, config)
        host = _address_literal(socket.inet_ntop(socket.AF_INET6, raw)) or ""
    elif kind == 3:
        length = _recv_exactly(sock, 1, config)[0]
        host = _recv_exactly(sock, length, config).decode("ascii", "replace")
    else:
        raise config.error(f"unknown address type {kind} in its reply")
    return host, int.from_bytes(_recv_exactly(sock, 2, config), "big")


def _socks4_request(
    sock: socket.socket, config: _Proxy, command: int, host: str, port: int
) -> tuple[str, int]:
    literal = _address_literal(host)
    if literal is not None and ":" in literal:
        raise config.error(f"SOCKS4 cannot reach an IPv6 address ({literal})")
    user = config.user.encode()
    if b"\0" in user:
        raise ValueError("NUL in the SOCKS4 user id")
    request = bytes([4, command]) + port.to_bytes(2, "big")
    if literal is not None:
        request += socket.inet_aton(literal) + user + b"\0"
    else:  # SOCKS4a: an address of 0.0.0.x says that the name follows
        name = host.encode("idna")
        request += b"\0\0\0\1" + user + b"\0" + name + b"\0"
    sock.sendall(request)
    return _socks_reply(sock, config)


def _read_http_line(sock: socket.socket, config: _Proxy) -> bytes:
    """One line of an HTTP reply, without its CRLF, read without reading past it."""
    line = bytearray()
    while not line.endswith(b"\r\n"):
        if len(line) > 8192:
            raise config.error("a line of its reply is too long")
        byte = sock.recv(1)
        if not byte:
            raise config.error("it closed the connection in the middle of its reply")
        line += byte
    return bytes(line[:-2])


def _http_connect(sock: socket.socket, config: _Proxy, host: str, port: int) -> None:
    """Open a tunnel to (`host`, `port`) with HTTP CONNECT (RFC 9110, 9.3.6)."""
    import base64

    literal = _address_literal(host)
    name = literal if literal is not None else host.encode("idna").decode("ascii")
    target = f"[{name}]:{port}" if ":" in name else f"{name}:{port}"
    request = f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n"
    if config.user or config.passwd:
        token = base64.b64encode(f"{config.user}:{config.passwd}".encode()).decode("ascii")
        request += f"Proxy-Authorization: Basic {token}\r\n"
    sock.sendall((request + "\r\n").encode("ascii"))
    # Byte by byte: whatever follows the blank line is the FTP server's, and
    # must stay in the socket for the reply parser.
    status_line = _read_http_line(sock, config).decode("latin-1")
    match = re.fullmatch(r"HTTP/\d\.\d ([1-5]\d\d)(?: (.*))?", status_line)
    if match is None:
        raise config.error(f"not an HTTP reply: {status_line[:100]!r}")
    status, reason = int(match.group(1)), match.group(2) or ""
    if status in (401, 407):  # 401: what tinyproxy answers a wrong password
        if config.user or config.passwd:
            raise config.error(f"user name or password refused ({status} {reason})", status)
        raise config.error(f"it wants a user name and password ({status} {reason})", status)
    if not 200 <= status < 300:
        raise config.error(f"CONNECT to {target} refused: {status} {reason}", status)
    for _ in range(100):  # the header lines, up to the blank line
        if not _read_http_line(sock, config):
            return
    raise config.error("its reply to CONNECT has no end")


# --------------------------------------------------------------------------
# The client
# --------------------------------------------------------------------------


class FTP:
    """An FTP client connection, as ftplib's `FTP`.

    With `host`, connects (``connect(host)``); with `user` too, logs in
    (``login(user, passwd, acct)``).  If either fails the socket is closed
    before the exception propagates.  `timeout` applies to every blocking
    operation; `source_address` is the local ``(host, port)`` to bind.
    `encoding` encodes commands and decodes replies and text listings;
    `errors` is the decoding policy for text read from data connections
    (``'strict'`` as in ftplib, ``'surrogateescape'`` recommended: a name that
    is not valid in `encoding` then survives a round trip).  `proxy` is the
    URL of a SOCKS5, SOCKS4a or HTTP CONNECT proxy that every connection
    goes through (see the `proxy` attribute).
    """

    debugging = 0
    host = ""
    port = FTP_PORT
    maxline = MAXLINE
    sock: socket.socket | None = None
    file: Any = None
    welcome: str | None = None
    passiveserver = True
    trust_server_pasv_ipv4_address = False
    max_reply_lines = 10000
    """The most lines accepted in one reply."""
    max_reply_size = 1 << 20
    """The most bytes accepted in one reply."""
    _implicit_tls = False
    _tls_session: Any = None  # a TLS session for the control connection to resume
    prefer_epsv = False
    """Try EPSV before PASV on IPv4 (ftplib2 extension)."""
    active_address: str | None = None
    """The address announced by PORT/EPRT in active mode, for NAT (extension)."""
    active_port_range: range | Sequence[int] | None = None
    """The local ports active mode may listen on, for firewalls (extension)."""
    active_peer_check = True
    """Accept active-mode data connections only from the control connection's peer (extension).

    Others are closed unread and the wait goes on.  Turn it off only where
    the data legitimately comes from elsewhere (server-to-server copies,
    servers behind unusual NAT).
    """
    retry_delay = 0.5
    """Seconds before a transfer is retried (``retries``); doubled for each retry in a row
    that moved no byte, up to 30 (extension)."""
    tcp_keepalive: tuple[float, float, int] | None = (60, 15, 4)
    """TCP keepalive on the control connection: (idle, interval, probes); None: off (extension).

    While a transfer runs the control connection carries nothing, and a NAT or
    firewall may forget it: a probe after `idle` seconds of silence, then
    every `interval` seconds, keeps it known, and `probes` unanswered ones
    end it.  Set before ``connect()``; where the platform lacks a setting,
    its own default applies.
    """
    proxy: str | None = None
    """The proxy every connection goes through, as a URL, or None: direct (extension).

    ``socks5://[user:password@]host[:port]``, ``socks4a://[user@]host[:port]``
    (SOCKS ports default to 1080) or ``http://[user:password@]host:port``
    (HTTP CONNECT).  The proxy resolves the server's name.  Passive data
    connections go to the server's own host (`host`) through the proxy;
    active mode has a SOCKS proxy listen (BIND) and announces its address.
    Never taken from the environment.
    """
    _takes_dash_a: tuple[object, bool] = (None, False)  # (the connection, what LIST -a does)
    pipelining: bool | None = None
    """What may go out before the replies it follows have come (extension).

    None, the default: what changes nothing on the server.  ``download()``
    sends SIZE, when it needs the size, in one write with the passive (or
    PORT) command, and once the data of a download whose size it checked
    has all come, the next command goes out before that transfer's final
    reply, which is read right after.  True: besides, the passive (or
    PORT/EPRT) command and a download or listing command (RETR, LIST, NLST,
    MLSD, without REST) go in one write, once that command has worked on
    this connection.  False: one command at a time, each reply read before
    the next command is sent, as ftplib does.  Nothing is sent ahead when a
    method that sends commands is overridden.
    """

    def __init__(
        self,
        host: str = "",
        user: str = "",
        passwd: str = "",
        acct: str = "",
        timeout: float | None = _GLOBAL_DEFAULT_TIMEOUT,
        source_address: tuple[str, int] | None = None,
        *,
        encoding: str = "utf-8",
        errors: str = "strict",
        stall_timeout: float | None = None,
        proxy: str | None = None,
    ) -> None:
        if stall_timeout is not None and not stall_timeout > 0:
            raise ValueError(f"stall_timeout must be positive or None, not {stall_timeout!r}")
        if proxy is not None:
            if proxy:
                _parse_proxy(proxy)  # a malformed URL fails here, not at the first connection
            self.proxy = proxy or None
        self.encoding = encoding
        self.errors = errors
        self.source_address = source_address
        self.timeout = timeout
        self.stall_timeout = stall_timeout
        self._session = _Session()
        self._cancel_lock = threading.Lock()
        self._cancelled = threading.Event()
        self._busy = 0  # transfers (and download/upload calls) running, for cancel()
        self.af = socket.AF_INET
        self.lastresp = ""
        self._parser = self._new_parser()
        self._lenient = False
        self._in_reply = False  # getmultiline() is reading: getline() leaves the count to it
        self._type: str | None = None
        self._owed: collections.deque[str] = collections.deque()  # see putline()
        self._running: tuple[socket.socket, bool] | None = None  # (data connection, sending?)
        # The last data connection ntransfercmd returned: abort() closes it if still open.
        self._transfer_started = False  # the 1xx of the transfer owed first has come
        self._handed_out: weakref.ref[socket.socket] | None = None
        self._last_reply = Reply("")
        self._features: dict[str, str] | None = None
        self._hash_selected: str | None = None  # what OPTS HASH last chose, None: as FEAT says
        self._epsv_refused = False
        self._passive_verb: str | None = None  # the one that last worked, for pipelining
        self._port_worked = False  # PORT/EPRT has worked on this connection, for pipelining
        self._port_ahead = True  # and the server takes a transfer command sent with it
        self._deferred = False  # the reply owed is a finished download's: see _settle()
        self._riders: list[str] = []  # commands the next write carries ahead of its own
        self._size_ahead: int | None = None  # the answer to a SIZE that rode ahead
        self._ask_size = True  # download() may send SIZE ahead: see _download_to()
        self._batch = False  # download_many() runs: active mode keeps one listener for it
        self._batch_listener: socket.socket | None = None
        self._segment_limit: int | None = None  # connections a server took before refusing more
        if host:
            try:
                self.connect(host)
                if user:
                    self.login(user, passwd, acct)
            except BaseException:
                self.close()
                raise

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Send QUIT and close; an exception from the body is never replaced."""
        if self.sock is None:
            return
        try:
            self.quit()
        except (OSError, EOFError):
            pass
        except Error:
            if exc_type is None:
                raise
        finally:
            self.close()

    def _new_parser(self) -> ReplyParser:
        return ReplyParser(
            encoding=self.encoding,
            maxline=self.maxline,
            max_lines=self.max_reply_lines,
            max_bytes=self.max_reply_size,
        )

    # -- connection --------------------------------------------------------

    def connect(
        self,
        host: str = "",
        port: int = 0,
        timeout: float | None = -999,
        source_address: tuple[str, int] | None = None,
    ) -> str:
        """Connect to `host` and return the server's welcome (greeting).

        Leading ``120`` replies (service ready in n minutes) are waited out
        for at most `timeout` seconds in all, then TimeoutError is raised;
        the welcome is the final reply.  On failure the socket is closed.
        """
        if host != "":
            self.host = host
        if port > 0:
            self.port = port
        if timeout != -999:
            self.timeout = timeout
        if self.timeout is not None and not self.timeout:
            raise ValueError("Non-blocking socket (timeout=0) is not supported")
        if source_address is not None:
            self.source_address = source_address
        if self.sock is not None:
            self.close()
        sys.audit("ftplib.connect", self, self.host, self.port)
        self._session = _Session()
        self.sock = _open_connection(
            self.proxy, (self.host, self.port), self.timeout, self.source_address
        )
        try:
            self._keep_alive(self.sock)
            if self._implicit_tls:  # FTPS on port 990: TLS from the first byte
                self.sock = self.context.wrap_socket(  # type: ignore[attr-defined]
                    self.sock, server_hostname=self.host, session=self._tls_session
                )
                _log_tls("implicit TLS", self.sock)
            self.af = self.sock.family
            if self.proxy:  # the socket's family is the proxy's: the server's is unknown
                self.af = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            self._parser = self._new_parser()
            self.file = _ControlFile(self.sock, self._parser)
            self._owed.append("")  # the greeting
            # "Service ready in nnn minutes" may come again and again: the wait for
            # the greeting is bounded by the timeout as a whole, not per reply.
            deadline = None
            if isinstance(self.timeout, (int, float)):
                deadline = time.monotonic() + self.timeout
            self._lenient = True
            try:
                resp = self.getresp()
                while resp[:3] == "120":
                    if deadline is not None and time.monotonic() >= deadline:
                        raise TimeoutError(
                            f"no greeting within {self.timeout} s, only: {resp[:200]}"
                        )
                    resp = self.getresp()
            finally:
                self._lenient = False
            if not _CODE_RE.match(resp) and self._parser.buffered:
                # A malformed greeting is tolerated, as ftplib does, only if
                # nothing follows it: "20-Hi" then "220 Ready" would otherwise
                # leave a reply behind to answer the next command.
                raise error_proto(f"malformed greeting: {resp[:200]!r}")
        except BaseException:
            self.close()
            raise
        self.welcome = resp
        _log.info("connected to %s port %s: %s", self.host, self.port, resp.split("\n", 1)[0])
        return resp

    def _keep_alive(self, sock: socket.socket) -> None:
        """Turn on TCP keepalive on the control connection, as `tcp_keepalive` says."""
        if self.tcp_keepalive is None:
            return
        idle, interval, probes = self.tcp_keepalive
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        # TCP_KEEPALIVE is macOS's name for the idle time.
        idle_option = getattr(socket, "TCP_KEEPIDLE", getattr(socket, "TCP_KEEPALIVE", None))
        for option, value in (
            (idle_option, idle),
            (getattr(socket, "TCP_KEEPINTVL", None), interval),
            (getattr(socket, "TCP_KEEPCNT", None), probes),
        ):
            if option is not None:
                with contextlib.suppress(OSError):  # out of the platform's range: its default
                    sock.setsockopt(socket.IPPROTO_TCP, option, max(1, round(value)))

    def reconnect(self) -> str:
        """Open a new control connection in the place of this one; return its welcome.

        The new connection goes to the same host and port, from the same
        source address, with the same timeout, and is brought to the state
        the old one was in: logged in with the same credentials and account,
        in the same working directory (the `cwd` calls since the last absolute
        one are repeated), and for `FTP_TLS` with the same TLS (AUTH, PROT P,
        CCC).  Passive or active mode and the encoding are the object's own
        and stay as they are.  The old connection is closed first, without
        QUIT: it is usually broken already.  Any failure closes the new one
        and propagates; calling reconnect() again tries again.
        """
        session = self._session
        self.close()
        try:
            welcome = self.connect()
            self._restore(session)
        except BaseException:
            self.close()
            self._session = session  # for the next attempt
            raise
        return welcome

    def _restore(self, session: _Session) -> None:
        """Repeat on a new connection what `session` recorded of the old one."""
        if session.login is not None:
            self._login_again(*session.login)
            if session.acct is not None:
                self.acct(session.acct)
        self._protect_again(session)
        for dirname in session.directory:
            self.cwd(dirname)

    def _login_again(self, user: str, passwd: str, acct: str) -> None:
        self.login(user, passwd, acct)

    def cancel(self) -> bool:
        """Stop the transfer running in another thread; return whether one was running.

        Safe to call from any thread.  The transfer raises `Cancelled`, and the
        control connection stays usable: the transfer's final reply is read
        before the next command, as after any broken transfer.  A download
        stops at once (its data connection is shut down under it); an upload
        at its next block, and is aborted with ABOR, so the server does not
        take what it has for the whole file.  The retries of `download` and
        `upload` stop too.  Without a transfer running, nothing happens.
        """
        with self._cancel_lock:
            if not self._busy:
                return False
            self._cancelled.set()
            running = self._running
        if running is not None and not running[1]:
            conn = running[0]
            with contextlib.suppress(OSError):
                # The close that follows is a reset: after this shutdown, a plain one
                # could leave the server sending into a closed window for a minute.
                # (The server has the connection: its 1xx reply came first.)
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                # Not the SSLSocket's own shutdown(), which would pull its TLS state
                # away from under the thread reading it.
                socket.socket.shutdown(conn, socket.SHUT_RDWR)
        return True

    @contextlib.contextmanager
    def _cancellable(self) -> Iterator[None]:
        """A transfer (or a download or upload, with its retries) that cancel() may stop."""
        with self._cancel_lock:
            if not self._busy:
                self._cancelled.clear()  # a cancel() that came between transfers is spent
            self._busy += 1
        try:
            yield
        finally:
            with self._cancel_lock:
                self._busy -= 1

    def _raise_if_cancelled(self, cause: BaseException | None = None) -> None:
        if self._cancelled.is_set() and not isinstance(cause, Cancelled):
            raise Cancelled("the transfer was cancelled") from cause

    def _protect_again(self, session: _Session) -> None:
        """FTP_TLS: PROT P and CCC as before; plain FTP has nothing to repeat."""

    def getwelcome(self) -> str | None:
        """Return the welcome message the server sent on connecting."""
        if self.debugging:
            print("*welcome*", self.sanitize(self.welcome or ""))
        return self.welcome

    def set_debuglevel(self, level: int) -> None:
        """Set the debug level: 0 silent, 1 replies, 2 every line, 3 data lines."""
        self.debugging = level

    debug = set_debuglevel

    def set_pasv(self, val: bool) -> None:
        """Use passive mode (PASV/EPSV) if `val` is true, else active (PORT/EPRT).

        Active mode through an HTTP `proxy` raises `ProxyError` here, and
        nothing changes.
        """
        if not val and self.proxy:
            _can_listen(self.proxy)
        self.passiveserver = val

    def sanitize(self, s: str) -> str:
        """Return `s` for debug output, with the password of a PASS masked."""
        return repr(_mask_password(s))

    # -- the control connection's lines and replies ------------------------
    #
    # The replies the server still owes are kept in order (self._owed): each command sent
    # owes one, paid by its final reply (a 1xx that starts a transfer pays nothing).

    def putline(self, line: str) -> None:
        """Send one line, adding CRLF.  CR, LF or NUL in `line` raise ValueError.

        Replies still owed for earlier commands are read and dropped first, so
        that the next reply read answers this line; ABOR, which interrupts, is
        sent at once.
        """
        self._send(self._encode_line(line), [line])

    def _send(self, data: bytes, lines: Sequence[str], *, settle: bool = True) -> None:
        """Send the encoded `lines`, each of which owes a reply.

        The commands in `_riders` go first, in the same write, and their
        replies are read (see `_read_riders`) before this returns.
        """
        if self.sock is None:
            raise OSError(errno.ENOTCONN, "not connected")
        riders, self._riders = self._riders, []
        if riders:
            data = b"".join(map(self._encode_rider, riders)) + data
            lines = [*riders, *lines]
        verbs = [line.split(" ", 1)[0].upper() for line in lines]
        deferred = False
        if settle and verbs[0] != "ABOR":
            deferred = self._settle()
        self.sock.sendall(data)
        self._owed.extend(verbs)
        if deferred:
            self._read_deferred()
        if riders:
            self._read_riders(riders)

    def _settle(self) -> bool:
        """Read and drop the replies owed, but the final reply of a transfer still running.

        Each must come within the timeout; one that fails or is late closes
        the connection (see `getmultiline`) and raises.  True if the one
        reply owed is the final reply of a finished download (`_deferred`),
        left for the caller to read once its command has gone out: the
        server sends it when it has seen the data connection end, which
        vsftpd, for one, learns only from the client's close, half a round
        trip after the client saw the end.
        """
        if self._deferred and len(self._owed) == 1 and self._running is None:
            return True
        self._deferred = False
        keep = 0 if self._running is None else 1
        while len(self._owed) > keep and self.sock is not None:
            with contextlib.suppress(error_temp, error_perm):  # a transfer's 426, say
                self.getresp()
        return False

    def _read_deferred(self) -> None:
        """Read the final reply of a finished download, sent for before the command just sent.

        The download had all the bytes its size said: an error reply changes
        nothing about the file, and is dropped as `_settle` drops it.
        """
        self._deferred = False
        with contextlib.suppress(error_temp, error_perm):
            self.getresp()

    def _encode_rider(self, line: str) -> bytes:
        if self.debugging:
            print("*cmd*", self.sanitize(line))
        return self._encode_line(line)

    def _read_riders(self, riders: Sequence[str]) -> None:
        """Read the replies to the commands that rode ahead (SIZE), keeping what they tell."""
        for line in riders:
            try:
                resp = self.getresp()
            except (error_temp, error_perm) as exc:
                if str(exc)[:3] in ("500", "502"):  # no SIZE here: do not send it again
                    self._ask_size = False
                continue
            text = resp[3:].strip()
            if resp[:3] == "213" and text.isdigit() and text.isascii():
                self._size_ahead = _bounded(text)

    def _may_send_ahead(self) -> bool:
        """Whether a command may go out before the replies it follows: see `pipelining`.

        Never when a method that sends commands is overridden: whoever
        overrides one watches or changes what is sent, and must see each
        command go out through it.
        """
        if self.pipelining is False:
            return False
        cls, own = type(self), vars(self)
        return not any(getattr(cls, m) is not getattr(FTP, m) or m in own for m in _SENDING_METHODS)

    def _paid(self, reply: str) -> None:
        """Account for a whole reply read: it pays the oldest reply owed."""
        owed = self._owed
        if not owed:
            return
        # A second 1xx for one transfer, which in stream mode marks nothing, ends it:
        # pure-ftpd labels with its 150 the statistics of a download that failed (the
        # client closed the data connection), and sends no final reply.
        if reply[:1] == "1" and owed[0] in _PRELIMINARY_VERBS and not self._transfer_started:
            # A transfer started, or the greeting is coming: the final reply is owed.
            self._transfer_started = owed[0] != ""
            return
        self._transfer_started = False
        self._deferred = False  # whoever reads it, the deferred reply is no longer waiting
        if reply[:3] == "225" and "ABOR" in owed:
            # The answer to ABOR, and no transfer's: a transfer before it whose final
            # reply has not come never will (pyftpdlib drops one it had not started).
            while owed.popleft() != "ABOR":
                pass
        else:
            owed.popleft()

    def _encode_line(self, line: str) -> bytes:
        """Check, audit and (when debugging) show one outgoing line; return its bytes."""
        _check_line(line)
        sys.audit("ftplib.sendcmd", self, line)
        if line[:1] in "TtRr":
            verb = line[:4].upper()
            if verb == "TYPE":  # the caller's own choice, which size() respects
                self._type = _CALLERS_TYPE
            elif verb == "REIN":  # a new session: ASCII again, as at the start
                self._type = None
        if _log.isEnabledFor(logging.DEBUG):
            _log.debug("-> %s", _mask_password(line))
        line += CRLF
        if self.debugging > 1:
            print("*put*", self.sanitize(line))
        return line.encode(self.encoding, "surrogateescape")

    def putcmd(self, line: str) -> None:
        """Send one command line."""
        if self.debugging:
            print("*cmd*", self.sanitize(line))
        self.putline(line)

    def getline(self) -> str:
        """Read one line of the control connection, without CR LF.

        Raises EOFError if the server closed the connection and `Error` if
        the line is longer than `maxline`.
        """
        if self.file is None:
            raise OSError(errno.ENOTCONN, "not connected")
        line = self.file.readline(self.maxline + 1)
        if self.debugging > 1:
            print("*get*", self.sanitize(line))
        if not line:
            raise EOFError
        if line[-2:] == CRLF:
            line = line[:-2]
        elif line[-1:] in CRLF:
            line = line[:-1]
        if len(line) > self.maxline:
            raise error_proto(f"got more than {self.maxline} bytes")
        if not self._in_reply:  # the caller reads replies line by line: count them
            with contextlib.suppress(error_proto):
                if (reply := self._parser.add_line(line, lenient=True)) is not None:
                    self._paid(reply)
        return line

    def getmultiline(self) -> Reply:
        """Read one whole reply, single- or multi-line, and return it.

        A malformed reply raises `error_proto` and closes the connection, as
        does the server closing it (EOFError): the stream is out of step.
        """
        parser = self._parser
        file = self.file
        timed = isinstance(file, _ControlFile) and isinstance(self.timeout, (int, float))
        if timed:
            # A whole reply within the timeout: a server dripping one byte at a
            # time cannot hold the caller for longer than twice the timeout.
            file.deadline = time.monotonic() + self.timeout
        self._in_reply = True
        try:
            reply = parser.add_line(self.getline(), lenient=self._lenient)
            while reply is None:
                reply = parser.add_line(self.getline())
        except (error_proto, EOFError, OSError):
            self.close()  # a reply broken off: what follows cannot be trusted
            raise
        finally:
            self._in_reply = False
            if timed:
                file.deadline = None
        self._paid(reply)
        _log.debug("<- %s", reply)
        return reply

    def getresp(self) -> Reply:
        """Read a reply; return it if 1xx-3xx, else raise the matching error."""
        resp = self.getmultiline()
        if self.debugging:
            print("*resp*", self.sanitize(resp))
        self.lastresp = resp[:3]
        self._last_reply = resp
        c = resp[:1]
        if c in ("1", "2", "3"):
            return resp
        if c == "4":
            raise error_temp(resp)
        if c == "5":
            raise error_perm(resp)
        raise error_proto(resp)

    def voidresp(self) -> Reply:
        """Read a reply and raise `error_reply` unless it is 2xx."""
        resp = self.getresp()
        if resp[:1] != "2":
            raise error_reply(resp)
        return resp

    def sendcmd(self, cmd: str) -> Reply:
        """Send a command and return the reply (1xx-3xx; 4xx/5xx raise)."""
        self.putcmd(cmd)
        return self.getresp()

    def voidcmd(self, cmd: str) -> Reply:
        """Send a command and return the reply; raise unless it is 2xx."""
        self.putcmd(cmd)
        return self.voidresp()

    def abort(self) -> Reply:
        """Send ABOR and return the first reply owed, as ftplib does.

        That is the final reply of a transfer whose reply is still owed (426,
        or 226 if it had finished), else the answer to ABOR (225 or 226).  What
        follows stays owed: read it with `getresp`, or the next command reads
        it first.  The transfer's data connection, if still open, is closed
        too, whether a transfer method's callback or `transfercmd`'s caller
        holds it: many servers read no command while they send (vsftpd,
        Twisted's), and the close is what stops them.  Called from a callback,
        the method then returns the answer to ABOR.  A transfer that ends with
        a second 1xx and no final reply (pure-ftpd) is passed over for the
        answer to ABOR.  Raises `error_perm` when the server refuses ABOR
        (its 5xx answers first), `error_proto` on any other reply.
        """
        self._send_abor()
        running, self._running = self._running, None
        if running is None and self._handed_out is not None:
            conn = self._handed_out()
            if conn is not None and conn.fileno() >= 0 and self._transfer_owed():
                running = conn, self._owed[0] in _SENDING_VERBS
        self._handed_out = None
        if running is not None:
            self._close_aborted(*running)
        ending = self._transfer_owed()
        resp = self.getmultiline()
        if ending and resp[:1] == "1":
            resp = self.getmultiline()  # the transfer ended with no final reply (pure-ftpd)
        self.lastresp = resp[:3]
        self._last_reply = resp
        if resp[:1] == "5":
            raise error_perm(resp)  # no ABOR here; whatever else is owed stays owed
        if resp[:3] not in ("426", "225", "226"):
            raise error_proto(resp)
        return resp

    def _transfer_owed(self) -> bool:
        """Whether the oldest reply owed is the final reply of a transfer."""
        return bool(self._owed) and self._owed[0] in _TRANSFER_VERBS

    def _send_abor(self) -> None:
        """Send ABOR at once, as an ordinary line.

        Not as TCP urgent data, nor after Telnet IP and Synch (RFC 959): with
        ``MSG_OOB`` only the last byte is urgent, and a server that does not
        keep urgent data inline loses the line end (proftpd, pure-ftpd); the
        Telnet bytes before ``ABOR`` make pure-ftpd ignore the line and
        Twisted's server fail to answer it.  A server that does not read the
        control connection while it sends is stopped by the data connection's
        close (see `abort`).
        """
        line = b"ABOR" + B_CRLF
        if self.debugging > 1:
            print("*put*", self.sanitize(line.decode()))
        _log.debug("-> ABOR")
        if self.sock is None:
            raise OSError(errno.ENOTCONN, "not connected")
        self.sock.sendall(line)
        self._owed.append("ABOR")

    # -- data connections --------------------------------------------------

    def sendport(self, host: str, port: int) -> Reply:
        """Send PORT with an IPv4 `host` and `port`; return the reply."""
        numbers = host.split(".") + [str(port >> 8), str(port & 0xFF)]
        return self.voidcmd("PORT " + ",".join(numbers))

    def sendeprt(self, host: str, port: int) -> Reply:
        """Send EPRT (RFC 2428) with `host` and `port`; return the reply."""
        if self.af == socket.AF_INET:
            proto = 1
        elif self.af == socket.AF_INET6:
            proto = 2
        else:
            raise error_proto("unsupported address family")
        return self.voidcmd(f"EPRT |{proto}|{host}|{port}|")

    def makeport(self) -> socket.socket:
        """Listen on a new port, announce it (PORT or EPRT), return the socket.

        The port comes from `active_port_range` when set (for a firewall),
        and the address announced is `active_address` when set (for NAT),
        else the control connection's local address.  Through a SOCKS
        `proxy`, the proxy listens (BIND) and its address is announced;
        through an HTTP proxy, `ProxyError` is raised before anything is sent.
        """
        if self.proxy:
            return self._proxy_port()
        local = self.sock.getsockname()  # type: ignore[union-attr]
        sock = self._listen(local)
        try:
            port = sock.getsockname()[1]
            host = self.active_address or local[0]
            if self.af == socket.AF_INET:
                self.sendport(host, port)
            else:
                self.sendeprt(host, port)
            if self.timeout is not _GLOBAL_DEFAULT_TIMEOUT:
                sock.settimeout(self.timeout)
        except BaseException:
            sock.close()
            raise
        return sock

    def _proxy_port(self) -> socket.socket:
        """`makeport` through a SOCKS proxy: the proxy listens for the server."""
        peers = _server_addresses(self.host) if self.active_peer_check else frozenset()
        proxy: str = self.proxy  # type: ignore[assignment]
        sock = _proxy_listen(
            proxy, (self.host, self.port), peers, self.timeout, self.source_address
        )
        try:
            host, port = sock.announced
            host = self.active_address or host
            if self.af == socket.AF_INET and ":" not in host:
                self.sendport(host, port)
            else:
                self.voidcmd(f"EPRT |{2 if ':' in host else 1}|{host}|{port}|")
        except BaseException:
            sock.close()
            raise
        return sock

    def _listen(self, local: Any) -> socket.socket:
        ports = self.active_port_range or (0,)
        for port in ports:
            try:
                return socket.create_server((local[0], port, *local[2:]), family=self.af, backlog=1)
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE or port == ports[-1]:
                    raise
        raise OSError(errno.EADDRINUSE, "no free port in active_port_range")

    def makepasv(self) -> tuple[str, int]:
        """Ask for a passive data port (PASV, or EPSV off IPv4); return (host, port).

        The host a 227 reply names is ignored in favour of the control
        connection's peer (through a `proxy`, the server's `host`) unless
        `trust_server_pasv_ipv4_address` is set.
        With `prefer_epsv`, EPSV is tried first on IPv4 too, and PASV used
        for the rest of the connection if the server refuses it.  A 229
        answer to PASV is accepted.
        """
        if self.af == socket.AF_INET and self.prefer_epsv and not self._epsv_refused:
            try:
                return self._passive_address("EPSV", self.sendcmd("EPSV"))
            except error_perm:
                self._epsv_refused = True
        verb = "PASV" if self.af == socket.AF_INET else "EPSV"
        return self._passive_address(verb, self.sendcmd(verb))

    def _passive_address(self, verb: str, resp: str) -> tuple[str, int]:
        """The (host, port) of a reply to `verb` (PASV or EPSV); remember that it worked."""
        # Through a proxy the peer is the proxy: the server is what the proxy reached.
        peer = (self.host, self.port) if self.proxy else self.sock.getpeername()  # type: ignore[union-attr]
        if verb == "EPSV" or resp[:3] == "229":
            address = parse229(resp, peer)
        else:
            untrusted_host, port = parse227(resp)
            if self.trust_server_pasv_ipv4_address:
                address = _ipv4_literal(untrusted_host), port
            else:
                address = peer[0], port
        self._passive_verb = verb
        return address

    def _send_transfer_command(
        self, cmd: str, rest: int | str | None, conn: socket.socket | None = None
    ) -> Reply:
        if rest is not None:
            self.sendcmd(f"REST {rest}")
        self.putcmd(cmd)
        if conn is not None:
            self._wait_for_reply(conn)
        return self._transfer_reply()

    def _wait_for_reply(self, conn: socket.socket) -> None:
        """Wait for a reply, but raise at once if the passive data connection `conn` is reset.

        A server answers a transfer command only once the data connection has
        reached it; one that the network reset on the way (a firewall, a NAT)
        never will, and the wait would last the whole timeout.
        """
        sock, file = self.sock, self.file
        if sock is None or not isinstance(file, _ControlFile) or not hasattr(select, "poll"):
            return
        if self._parser._ready or (
            _SSLSocket is not None and isinstance(sock, _SSLSocket) and sock.pending()
        ):
            return  # the reply is here already
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        poller.register(conn, 0)  # errors and hang-ups are always reported
        timeout = sock.gettimeout()
        events = dict(poller.poll(None if timeout is None else timeout * 1000))
        if sock.fileno() in events or not events.get(conn.fileno(), 0) & (
            select.POLLERR | select.POLLHUP
        ):
            return
        # A server that refuses and goes (vsftpd's "500 OOPS") closes both just after
        # its reply: that reply, if it comes, is the error to report.
        poller.unregister(conn)
        if poller.poll(_REPLY_GRACE * 1000):
            return
        code = conn.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) or errno.ECONNRESET
        raise OSError(code, "the data connection was reset before the transfer began")

    def _transfer_reply(self) -> Reply:
        """Read the preliminary (1xx) reply of a transfer command."""
        verb = self._owed[0] if self._owed else ""
        resp = self.getresp()
        # Some servers send a 200 before the 150: skip it, as ftplib does.
        if resp[:1] == "2":
            self._owed.appendleft(verb)  # it paid for nothing: the final reply is still owed
            resp = self.getresp()
        if resp[:1] != "1":
            raise error_reply(resp)
        return resp

    def _skip_pipelined_reply(self) -> Reply | None:
        """Read the answer to a command sent ahead of a refused PASV/EPSV.

        None if it is a final reply (usually ``425 Use PORT or PASV first``):
        nothing runs.  A 1xx is returned: the server runs the command without
        a data connection, and its final reply is owed.
        """
        try:
            resp = self.getresp()
        except (error_reply, error_temp, error_perm):
            return None
        return resp if resp[:1] == "1" else None

    def _pipeline_verb(self, cmd: str, rest: int | str | None) -> str | None:
        """The passive command to send in one go with `cmd`, or None: one at a time.

        Only commands that change nothing on the server qualify, never with
        REST: should the passive command fail after all, the server runs the
        command without a data connection, which must not cost a file.
        """
        if not self.pipelining or rest is not None or self._passive_verb is None:
            return None
        if cmd.split(" ", 1)[0].upper() not in _PIPELINED_COMMANDS:
            return None
        if not self._may_send_ahead():
            return None  # someone watches or changes what is sent: let them see each command
        return self._passive_verb

    def _pipelined_connection(self, verb: str, cmd: str) -> tuple[socket.socket, Reply] | None:
        """Send `verb` and `cmd` together, connect, read the 1xx reply.

        Returns None, with the control connection in step, if the server
        refused the passive command and `cmd` too: the caller then goes the
        usual way, one command at a time.  If it refused the passive command
        but started `cmd` anyway, the passive command is sent again, and its
        port serves `cmd`.
        """
        _check_line(verb)
        _check_line(cmd)  # both refused before either is audited
        data = b""
        for line in (verb, cmd):
            if self.debugging:
                print("*cmd*", self.sanitize(line))
            data += self._encode_line(line)
        self._send(data, (verb, cmd))
        started = None
        try:
            resp = self.getresp()
        except (error_reply, error_temp, error_perm) as exc:
            if str(exc)[:3] == "421":  # the server is closing: nothing else will come
                raise
            self._passive_verb = None
            started = self._skip_pipelined_reply()
            if started is None:
                return None
            # The server waits for a data connection for `cmd` (pyftpdlib does):
            # ask for a port once more, ahead of the final reply still owed.
            if self.debugging:
                print("*cmd*", self.sanitize(verb))
            self._send(self._encode_line(verb), [verb], settle=False)
        try:
            if started is not None:
                resp = self.getresp()
            host, port = self._passive_address(verb, resp)
            conn = _open_connection(self.proxy, (host, port), self.timeout, self.source_address)
        except BaseException:
            # A refusal, a reply that cannot be used, or a port that cannot be
            # reached: the server may now wait (for a minute, or for ever) for a
            # data connection that will not come, and no reply to the command
            # sent ahead can be counted on in time.  The session is given up.
            self.close()
            raise
        if started is not None:
            return conn, started
        try:
            return conn, self._transfer_reply()
        except BaseException:
            conn.close()
            raise

    def ntransfercmd(
        self, cmd: str, rest: int | str | None = None
    ) -> tuple[socket.socket, int | None]:
        """Open a data connection and send `cmd`; return ``(conn, size)``.

        `size` is the byte count a 150 reply announces, or None.  With
        `rest`, a REST command first asks the server to start at that offset.
        """
        pipelined = None
        if self.passiveserver and (verb := self._pipeline_verb(cmd, rest)):
            pipelined = self._pipelined_connection(verb, cmd)
        if pipelined is not None:
            conn, resp = pipelined
        elif self.passiveserver:
            host, port = self.makepasv()
            conn = _open_connection(self.proxy, (host, port), self.timeout, self.source_address)
            try:
                resp = self._send_transfer_command(cmd, rest, conn)
            except BaseException:
                conn.close()
                raise
        elif not self.proxy and self._may_send_ahead():
            conn, resp = self._active_connection(cmd, rest)
        else:
            with self.makeport() as listener:
                resp = self._send_transfer_command(cmd, rest)
                try:
                    conn = self._accept_data(listener)
                except BaseException:
                    self._resync_after_transfer()
                    raise
            if self.timeout is not _GLOBAL_DEFAULT_TIMEOUT:
                conn.settimeout(self.timeout)
        if self.stall_timeout is not None:
            # Every wait for the data connection to move a byte, not the transfer as a whole.
            timeout = conn.gettimeout()
            conn.settimeout(min(self.stall_timeout, timeout or self.stall_timeout))
        try:
            size = parse150(resp) if resp[:3] == "150" else None
        except error_proto:
            # The transfer is under way: drop it, and read its final reply so
            # that the next command does not get it instead of its own.
            self._abandon_data(conn)
            raise
        self._handed_out = weakref.ref(conn)
        return conn, size

    def _active_connection(self, cmd: str, rest: int | str | None) -> tuple[socket.socket, Reply]:
        """Active mode as `makeport` does it, but with the batch's listener if there is one,
        and with PORT/EPRT and `cmd` in one write when `pipelining` allows.

        Returns the data connection and the 1xx reply.  A listener of a batch
        (`download_many`) is kept for the next transfer, unless this one
        failed: a server that connects as soon as it has the port (pyftpdlib)
        may have left a connection in its queue.
        """
        listener = self._batch_listener
        if listener is None:
            listener = self._listen(self.sock.getsockname())  # type: ignore[union-attr]
            if self.timeout is not _GLOBAL_DEFAULT_TIMEOUT:
                listener.settimeout(self.timeout)
            if self._batch:
                self._batch_listener = listener
        try:
            port_line = self._port_line(listener)
            resp = None
            if (
                self.pipelining
                and self._port_worked
                and self._port_ahead
                and rest is None
                and cmd.split(" ", 1)[0].upper() in _PIPELINED_COMMANDS
            ):
                resp = self._port_and_command(port_line, cmd, listener)
            if resp is None:
                self.voidcmd(port_line)
                self._port_worked = True
                resp = self._send_transfer_command(cmd, rest)
            try:
                conn = self._accept_data(listener)
            except BaseException:
                self._resync_after_transfer()
                raise
        except BaseException:
            self._drop_batch_listener()
            raise
        finally:
            if listener is not self._batch_listener:
                listener.close()
        if self.timeout is not _GLOBAL_DEFAULT_TIMEOUT:
            conn.settimeout(self.timeout)
        return conn, resp

    def _port_line(self, listener: socket.socket) -> str:
        """The PORT (IPv4) or EPRT command that announces `listener`, as `makeport` sends."""
        host = self.active_address or listener.getsockname()[0]
        port = listener.getsockname()[1]
        if self.af == socket.AF_INET:
            return "PORT " + ",".join(host.split(".") + [str(port >> 8), str(port & 0xFF)])
        return f"EPRT |2|{host}|{port}|"

    def _port_and_command(self, port_line: str, cmd: str, listener: socket.socket) -> Reply | None:
        """Send `port_line` and `cmd` in one write; return the 1xx reply to `cmd`.

        None, with the control connection in step, when the caller must go
        one command at a time:

        * the server refused the port command and `cmd` too (vsftpd: ``425
          Use PORT or PASV first``).  One that refused the port but started
          `cmd`, waiting for a connection, is sent the port command once
          more; if it refuses again, the connection is closed and the
          refusal raised;
        * the server answered `cmd` before the port command: it took `cmd`
          before its data connection was up, and pyftpdlib then sends the
          data but never ends the transfer.  That transfer is aborted (ABOR,
          its connection accepted and closed; the replies are owed) and the
          port command is never sent ahead again on this connection.
        """
        _check_line(port_line)
        _check_line(cmd)  # both refused before either is audited
        data = b"".join(map(self._encode_rider, (port_line, cmd)))
        self._send(data, (port_line, cmd))
        try:
            first = self.getresp()
        except (error_temp, error_perm) as exc:
            if str(exc)[:3] == "421":  # the server is closing: nothing else will come
                raise
            self._port_worked = False
            started = self._skip_pipelined_reply()
            if started is None:
                return None
            try:
                self._send(self._encode_rider(port_line), [port_line], settle=False)
                self.voidresp()
            except BaseException:
                self.close()  # it waits for a data connection that cannot come
                raise
            return started
        if first[:1] == "2":
            return self._transfer_reply()
        try:
            if first[:1] != "1":
                raise error_reply(first)
            self.voidresp()  # the port command's answer, late
            self._owed.appendleft(cmd.split(" ", 1)[0].upper())  # the transfer's final reply
            self._port_ahead = False
            # Its end would never come: abort it.  Its final reply, if any, and ABOR's
            # are owed, read before the next command.
            conn = self._accept_data(listener)
            try:
                self._send_abor()
            finally:
                conn.close()
        except BaseException:
            self.close()  # a transfer may wait for a connection: nothing after it can be trusted
            raise
        return None

    def _drop_batch_listener(self) -> None:
        listener, self._batch_listener = self._batch_listener, None
        if listener is not None:
            listener.close()

    def _accept_data(self, listener: socket.socket) -> socket.socket:
        """Accept the server's data connection on the active-mode `listener`.

        Whoever reaches the announced port first would otherwise supply the
        download or receive the upload, as passive mode once connected
        wherever a 227 said (CVE-2021-4189).  A connection from another host
        than the control connection's peer is closed, and the wait goes on
        within the listener's timeout as a whole.  Through a SOCKS proxy the
        peer must be the server's `host` (a name is looked up here), and as
        the proxy accepts one connection only, another host's raises
        `ProxyError`.
        """
        if not self.active_peer_check:
            return listener.accept()[0]
        if isinstance(listener, _ProxyListener):
            peers = listener.peers
        else:
            peers = frozenset({self.sock.getpeername()[0]})  # type: ignore[union-attr]
        timeout = listener.gettimeout()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            conn, address = listener.accept()
            if address[0] in peers:
                return conn
            conn.close()
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("timed out waiting for the server's data connection")
                listener.settimeout(remaining)

    def transfercmd(self, cmd: str, rest: int | str | None = None) -> socket.socket:
        """Like `ntransfercmd`, but return only the data connection."""
        return self.ntransfercmd(cmd, rest)[0]

    def _resync_after_transfer(self) -> None:
        """Read the replies owed for a broken transfer now, or give up the connection."""
        with contextlib.suppress(*all_errors):  # a reply that fails has closed the connection
            self._settle()

    @contextlib.contextmanager
    def _transfer(
        self, cmd: str, rest: int | str | None = None, *, sending: bool = False
    ) -> Iterator[socket.socket]:
        """The one data-connection path every transfer method goes through.

        On success the connection is shut down cleanly (TLS close_notify
        included).  On any exception, the callback's or the network's, the
        transfer is abandoned (see `_abandon_data`) and the exception
        propagates; its final reply is owed, read before the next command.
        """
        with self._cancellable():
            conn = self.transfercmd(cmd, rest)
            self._running = conn, sending
            try:
                self._raise_if_cancelled()
                yield conn
                self._raise_if_cancelled()  # the end of a cancelled download is no success
            except OSError as exc:
                if self._running is not None or self.sock is None:
                    self._abandon_data(conn)
                    self._raise_if_cancelled(exc)
                    raise
                # abort() in a callback ended the transfer and its data connection: no error.
            except BaseException as exc:
                self._abandon_data(conn)
                self._raise_if_cancelled(exc)
                raise
            self._close_data(conn)

    def _close_data(self, conn: socket.socket) -> None:
        """Close a data connection whose transfer went through, or that abort() ended."""
        ended = self._running is None
        try:
            if not ended and _SSLSocket is not None and isinstance(conn, _SSLSocket):
                conn.unwrap()
        except BaseException:
            self._abandon_data(conn)
            raise
        self._running = None
        conn.close()

    def _abandon_data(self, conn: socket.socket) -> None:
        """Drop a data connection mid-transfer; the transfer's final reply stays owed.

        A download is closed plainly, not reset: a server that has not yet
        accepted the connection loses a reset one without a trace, and then
        never sends the final reply (pyftpdlib does this); one that has sees
        its writes fail.  An upload is aborted first: the end of its data
        would tell the server that the file is complete.
        """
        running, self._running = self._running, None
        sending = running is not None and running[1]
        if sending and self.sock is not None:
            try:
                self._send_abor()  # its reply and the upload's (426) stay owed
            except OSError:
                self.close()  # the control connection is broken as well
        self._close_aborted(conn, sending)

    def _close_aborted(self, conn: socket.socket, sending: bool) -> None:
        """Close the data connection of a transfer being aborted.

        A download's close makes the server's writes fail, even on a server
        that reads no command while it sends (vsftpd).  An upload's is delayed
        until the server has acted on ABOR (by closing it, or answering), for
        at most a second: a server that reads commands during an upload
        (pyftpdlib) would take the end of the data, if it came first, for the
        end of the file.  It is then reset, which one that does not (vsftpd)
        sees as a failed upload.
        """
        if sending:
            if self.sock is not None and conn.fileno() >= 0:
                grace = _ABORT_GRACE
                if isinstance(self.timeout, (int, float)):
                    grace = min(grace, self.timeout)
                with selectors.DefaultSelector() as selector:
                    selector.register(self.sock, selectors.EVENT_READ)  # type: ignore[arg-type]
                    if type(conn) is socket.socket:
                        # Not a TLS one: the session tickets a TLS 1.3 server sends after
                        # the handshake, which an upload never reads, make it readable at
                        # once, and the grace would end before the server saw the ABOR.
                        selector.register(conn, selectors.EVENT_READ)
                    selector.select(grace)
            with contextlib.suppress(OSError):
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()

    def _sendall(self, conn: socket.socket, data: Any) -> None:
        """``conn.sendall(data)``, but under `stall_timeout` the timeout bounds each wait.

        ``sendall`` applies its timeout to the whole call, which a slow but
        moving link may outlast: a stall is a wait in which nothing moves.
        """
        self._raise_if_cancelled()  # an upload is cancelled between its blocks
        if self.stall_timeout is None:
            conn.sendall(data)
            return
        with memoryview(data) as whole:
            view = whole.cast("B")
            # TLS writes a piece whole within the timeout: pieces of one record each.
            piece = len(view) if type(conn) is socket.socket else _TLS_RECORD
            while view:
                view = view[conn.send(view[:piece]) :]

    def _end_transfer(self) -> Reply:
        # The final reply may already be read: by abort() in a callback.
        if self._owed:
            return self.voidresp()
        return self._last_reply

    def _set_type(self, type_: str, command: str = "") -> None:
        """Send TYPE only when it changes.

        `command` is the line the caller is about to send: it is checked for
        CR, LF and NUL first, so that a refused command sends nothing at all.
        """
        _check_line(command)
        if self._type != type_:
            try:
                self.voidcmd("TYPE " + type_)
            except BaseException:
                self._type = None  # not the caller's choice: ours, with an unknown outcome
                raise
            self._type = type_

    def retrbinary(
        self,
        cmd: str,
        callback: Callable[[bytes], object],
        blocksize: int = 8192,
        rest: int | str | None = None,
        *,
        check_size: bool = False,
    ) -> Reply:
        """Retrieve data in binary mode (TYPE I): call `callback` with each block.

        Blocks are bytes objects of at most `blocksize` bytes, except for the
        ``write`` method of a binary file from ``open()`` or of a BytesIO
        (those types exactly), which cannot tell blocks apart: it is given
        larger ones, views of a reused buffer, for the same bytes in the file
        at a fraction of the work.  `rest` is a
        restart offset (REST).  Returns the final reply.  With `check_size`
        (ftplib2 extension), the byte count is checked against the file's
        SIZE (or, failing that, the 150 reply) and a short transfer raises
        `error_proto` instead of passing as success; a long one raises it at
        its first block past the size, which the callback does not get.
        """
        self._set_type("I", cmd)
        offset, expected, limit = 0, None, None
        if check_size:
            offset = int(rest or 0)
            if cmd[:5].upper() == "RETR ":
                expected = self._remote_size(cmd[5:])
            if expected is not None:
                limit = max(expected - offset, 0)

        deliver: Callable[[memoryview], object]
        plain = _plain_file_method(callback, "write")
        splice = None
        if plain:
            # The write of a file from open() or of a BytesIO: what reaches the file is the
            # same whatever the blocks, so it takes each large read whole, as a view; and a
            # regular file's descriptor may take the bytes from the kernel directly.
            deliver = callback
            target: Any = callback.__self__  # type: ignore[attr-defined]
            if _regular_file(target):  # not a BytesIO, a pipe, a terminal
                target.flush()  # its buffer, and the descriptor at its position
                splice = (target.fileno(), None, max(blocksize, _RECV_SIZE))
        else:

            def deliver(chunk: memoryview) -> None:
                # Received in large reads whatever the block size: the callback
                # still gets blocks of at most `blocksize` bytes, at one copy each.
                for start in range(0, len(chunk), blocksize):
                    callback(bytes(chunk[start : start + blocksize]))

        try:
            received, announced = self._receive(
                cmd,
                rest,
                max(blocksize, _RECV_SIZE),
                deliver,
                splice,
                limit=limit,
                limit_to_150=check_size and expected is None and not offset,
            )
        finally:
            if splice is not None:  # the file object learns where its descriptor now is
                with contextlib.suppress(OSError, ValueError):
                    target.seek(0, os.SEEK_CUR)
        reply = self._end_transfer()
        if check_size:
            if expected is None and not offset:
                expected = announced
            _check_size(cmd, offset + received, expected)
        return reply

    def _receive(
        self,
        cmd: str,
        rest: int | str | None,
        bufsize: int,
        deliver: Callable[[memoryview], object],
        splice: tuple[int, Callable[[int], object] | None, int] | None = None,
        *,
        limit: int | None = None,
        limit_to_150: bool = False,
    ) -> tuple[int, int | None]:
        """Run `cmd` on the data path, passing `deliver` each chunk received.

        Chunks are views into one reused buffer of `bufsize` bytes.  Returns
        the byte count and the size the 150 reply announced, if any; the
        final reply is left for the caller.  `splice` is ``(fd, callback,
        blocksize)``: when the connection is a plain socket and `fd` a regular
        file, the bytes go into `fd` inside the kernel, at most `blocksize` at
        a time, and `callback` gets their counts (`deliver` is not called).

        `limit` is the most bytes the transfer may bring (with `limit_to_150`
        and no `limit`, the size the 150 reply announces): the chunk that
        goes past it is not delivered, and the transfer is abandoned with
        `error_proto`, as soon as it arrives rather than after the rest.
        """
        received: int | None = None
        with self._transfer(cmd, rest) as conn:
            resp = self._last_reply
            announced = parse150(resp) if resp[:3] == "150" else None
            if limit is None and limit_to_150:
                # Else the answer to a SIZE that rode ahead of the transfer (download()).
                limit = announced if announced is not None else self._size_ahead
            if splice is not None and _spliceable(conn, splice[0]):
                # None: the kernel would not splice from this socket, so read it
                received = _splice_into(conn, *splice, limit)
            if received is None:
                received = 0
                buf = bytearray(bufsize)
                view = memoryview(buf)
                while n := conn.recv_into(buf):
                    received += n
                    if limit is not None and received > limit:
                        break
                    deliver(view[:n])
            if limit is not None and received > limit:
                # Raised inside the transfer, so that it is abandoned, not completed.
                raise _Overrun(f"{cmd}: the server sent more than {limit} bytes")
        return received, announced

    def retrlines(self, cmd: str, callback: Callable[[str], object] | None = None) -> Reply:
        """Retrieve data in ASCII mode (TYPE A): call `callback` with each line.

        Lines are decoded with `encoding` and `errors` and passed without
        their line ending; the default callback prints them.  Returns the
        final reply.
        """
        if callback is None:
            callback = print_line
        self._set_type("A", cmd)
        with self._transfer(cmd) as conn:
            splitter = _LineSplitter(self.maxline)
            while data := conn.recv(65536):
                for raw in splitter.feed(data):
                    callback(self._decode_line(splitter.check(raw)))
                splitter.check_tail()
            if splitter.tail:
                callback(self._decode_line(splitter.check(splitter.tail)))
        return self._end_transfer()

    def _decode_line(self, raw: bytes) -> str:
        try:
            line = raw.decode(self.encoding, self.errors)
        except UnicodeDecodeError as exc:
            raise _DecodeError(exc.encoding, exc.object, exc.start, exc.end, exc.reason) from None
        if self.debugging > 2:
            print("*retr*", repr(line))
        return line

    def storbinary(
        self,
        cmd: str,
        fp: BinaryIO,
        blocksize: int = 8192,
        callback: Callable[[bytes], object] | None = None,
        rest: int | str | None = None,
    ) -> Reply:
        """Store a file in binary mode (TYPE I), reading `fp` until EOF.

        `callback` is called with each block after it is sent; `rest` is a
        restart offset (REST).  Returns the final reply.
        """
        self._set_type("I", cmd)
        # Without a callback the block size is unobservable: read big blocks.
        readsize = blocksize if callback is not None else max(blocksize, _RECV_SIZE)
        with self._transfer(cmd, rest, sending=True) as conn:
            if callback is None and _plain_file_method(getattr(fp, "read", None), "read"):
                # A file from open() or a BytesIO: a regular file goes from the kernel's
                # page cache to the socket (sendfile, which leaves fp at its end; its
                # timeout bounds each wait, as stall_timeout wants), anything else is read
                # into one reused buffer.
                if type(conn) is socket.socket and _regular_file(fp):
                    conn.sendfile(fp, fp.tell())
                else:
                    _send_file(conn, fp, readsize, None, self._sendall, _Progress())
            else:
                while buf := fp.read(readsize):
                    self._sendall(conn, buf)
                    if callback is not None:
                        callback(buf)
        return self._end_transfer()

    def storlines(
        self, cmd: str, fp: BinaryIO, callback: Callable[[bytes], object] | None = None
    ) -> Reply:
        """Store a file in ASCII mode (TYPE A), line by line from binary `fp`.

        Each line is sent with a CRLF ending.  A text file raises TypeError,
        a line over `maxline` bytes raises `Error`.  Returns the final reply.
        """
        self._set_type("A", cmd)
        with self._transfer(cmd, sending=True) as conn:
            while line := fp.readline(self.maxline + 1):
                if not isinstance(line, (bytes, bytearray)):
                    raise TypeError("storlines() needs a file opened in binary mode")
                if len(line) > self.maxline:
                    raise error_proto(f"got more than {self.maxline} bytes")
                if line[-2:] != B_CRLF:
                    if line[-1:] in (b"\r", b"\n"):
                        line = line[:-1]
                    line = line + B_CRLF
                conn.sendall(line)
                if callback is not None:
                    callback(line)
        return self._end_transfer()

    # -- commands ------------------------------------------------------------

    def login(self, user: str = "", passwd: str = "", acct: str = "") -> Reply:
        """Log in (USER, then PASS and ACCT as the server asks); return the reply.

        With no user, logs in as ``anonymous`` with password ``anonymous@``.
        """
        if not user:
            user = "anonymous"
        if not passwd:
            passwd = ""
        if not acct:
            acct = ""
        if user == "anonymous" and passwd in ("", "-"):
            passwd += "anonymous@"
        resp = self.sendcmd("USER " + user)
        if resp[:1] == "3":
            resp = self.sendcmd("PASS " + passwd)
        if resp[:1] == "3":
            resp = self.sendcmd("ACCT " + acct)
        if resp[:1] != "2":
            raise error_reply(resp)
        self._type = None
        self._features = None
        self._session.login = (user, passwd, acct)
        self._session.acct = None
        self._session.directory.clear()  # a login starts in the user's own directory
        self._hash_selected = None
        _log.info("logged in to %s as %s", self.host, user)
        return resp

    def acct(self, password: str) -> Reply:
        """Send an ACCT command; return the reply."""
        resp = self.voidcmd("ACCT " + password)
        self._session.acct = password
        return resp

    def nlst(self, *args: str) -> list[str]:
        """Return the names in a directory (NLST), one per list item."""
        cmd = "NLST" + "".join(" " + arg for arg in args)
        files: list[str] = []
        self.retrlines(cmd, files.append)
        return files

    def dir(self, *args: Any) -> None:
        """List a directory (LIST).  A last non-string argument is the line callback."""
        func = None
        if args and not isinstance(args[-1], str):
            args, func = args[:-1], args[-1]
        cmd = "LIST" + "".join(" " + arg for arg in args if arg)
        self.retrlines(cmd, func)

    def mlsd(
        self, path: str = "", facts: Iterable[str] = []
    ) -> Iterator[tuple[str, dict[str, str]]]:
        """List a directory in the standard format of MLSD (RFC 3659).

        Yields ``(name, facts)`` with fact names lower-cased.  `facts` asks
        the server for those facts first (OPTS MLST).
        """
        if facts:
            self.sendcmd("OPTS MLST " + "".join(fact + ";" for fact in facts))
        lines: list[str] = []
        self.retrlines("MLSD " + path if path else "MLSD", lines.append)
        for line in lines:
            # Only the facts: mlsd() need not pay for parsing them into an Entry.
            yield _split_mlsx_line(line)

    def rename(
        self, fromname: str, toname: str, *, both: bool = False
    ) -> Reply | tuple[Reply, Reply]:
        """Rename a file (RNFR, RNTO); return the reply to RNTO.

        With `both` (ftplib2 extension), return the replies to RNFR and RNTO
        as a pair.
        """
        first = self.sendcmd("RNFR " + fromname)
        if first[:1] != "3":
            raise error_reply(first)
        second = self.voidcmd("RNTO " + toname)
        return (first, second) if both else second

    def delete(self, filename: str) -> Reply:
        """Delete a file (DELE); return the reply."""
        resp = self.sendcmd("DELE " + filename)
        if resp[:3] not in ("250", "200"):
            raise error_reply(resp)
        return resp

    def cwd(self, dirname: str) -> Reply:
        """Change the working directory (CWD; CDUP for "..")."""
        resp = self._cwd(dirname)
        self._remember_cwd(dirname)
        return resp

    def _remember_cwd(self, dirname: str) -> None:
        """Remember a directory change for reconnect(), from the last absolute directory on."""
        trail = self._session.directory
        if dirname.startswith("/"):
            trail.clear()
        trail.append(dirname)
        if len(trail) > _MAX_DIRECTORY_TRAIL:
            with contextlib.suppress(error_reply, error_temp, error_perm):
                here = self.pwd()
                if here.startswith("/"):
                    trail[:] = [here]

    def _cwd(self, dirname: str) -> Reply:
        if dirname == "..":
            try:
                return self.voidcmd("CDUP")
            except error_perm as msg:
                if msg.args[0][:3] != "500":
                    raise
        elif dirname == "":
            dirname = "."
        return self.voidcmd("CWD " + dirname)

    def size(self, filename: str) -> int | None:
        """Return the size of a file (SIZE), or None if the reply is not a 213.

        TYPE I is sent first when the session is new or ftplib2 itself left it
        in ASCII mode (retrlines, storlines, listings), where servers refuse
        SIZE; after the caller's own TYPE command, SIZE is sent as it is.  A
        213 reply without a number, or with one over 64 bits, raises
        `error_proto`.
        """
        # The session starts in ASCII (RFC 959), where servers refuse SIZE; but a
        # type the caller chose with a TYPE command of their own is theirs to keep.
        if self._type != _CALLERS_TYPE:
            self._set_type("I", filename)
        resp = self.sendcmd("SIZE " + filename)
        if resp[:3] != "213":
            return None
        text = resp[3:].strip()
        value = _bounded(text) if text.isdigit() and text.isascii() else None
        if value is None:
            raise error_proto(resp)
        return value

    def mkd(self, dirname: str) -> str:
        """Make a directory (MKD) and return its name as the server gives it."""
        resp = self.voidcmd("MKD " + dirname)
        return parse257(resp) if resp[:3] == "257" else ""

    def rmd(self, dirname: str) -> Reply:
        """Remove a directory (RMD); return the reply."""
        return self.voidcmd("RMD " + dirname)

    def pwd(self) -> str:
        """Return the working directory (PWD), or '' if the reply names none.

        An unquoted reply (``257 /home/sub is current directory``) gives its
        first word when that is an absolute path.
        """
        return _parse_pwd(self.voidcmd("PWD")) or ""

    def quit(self) -> Reply:
        """Send QUIT and close the connection, whatever the reply."""
        try:
            return self.voidcmd("QUIT")
        finally:
            self.close()

    def close(self) -> None:
        """Close the connection without telling the server.  Safe to repeat."""
        file, self.file = self.file, None
        sock, self.sock = self.sock, None
        self._type = None
        self._features = None
        self._hash_selected = None
        self._epsv_refused = False
        self._passive_verb = None
        self._port_worked = False
        self._port_ahead = True
        self._deferred = False
        self._riders = []
        self._ask_size = True
        self._drop_batch_listener()
        self._owed.clear()
        self._transfer_started = False
        self._running = None
        self._parser.reset()
        if file is not None:
            file.close()
        if sock is not None:
            sock.close()

    # -- ftplib2 extensions: capabilities -------------------------------------

    def features(self) -> dict[str, str]:
        """Return the server's features (FEAT, RFC 2389), cached per login.

        Keys are upper-case feature names, values their parameters (``''``
        when none): ``{'MLST': 'type*;size*;modify*;', 'UTF8': '', ...}``.
        A server without FEAT gives ``{}``.  When the server offers UTF8 and
        `encoding` is UTF-8, ``OPTS UTF8 ON`` is sent once.
        """
        if self._features is None:
            try:
                resp = self.sendcmd("FEAT")
            except error_perm:
                resp = Reply("211 no features")
            features = {}
            for line in resp.lines[1:-1]:
                name, _, params = line.strip().partition(" ")
                if name:
                    features[name.upper()] = params
            self._features = features
            if "UTF8" in features and self.encoding.replace("-", "").lower() == "utf8":
                with contextlib.suppress(error_perm, error_temp):
                    self.sendcmd("OPTS UTF8 ON")
        return self._features

    def has_feature(self, name: str) -> bool:
        """Tell whether the server lists `name` (case-insensitive) in FEAT."""
        return name.upper() in self.features()

    # -- ftplib2 extensions: listings and paths ---------------------------------

    def scandir(self, path: str = "") -> list[Entry]:
        """List a directory as typed `Entry` objects, without ``.`` and ``..``.

        Uses MLSD when the server offers MLST and LIST otherwise; LIST output
        may be in any dialect `parse_list` reads.  Names are decoded with
        `encoding` and `errors`.  A missing or unreadable directory, or a
        path that is not a directory, raises `error_perm`.  Each line is
        parsed as it arrives: a long listing is held once, as its entries.
        """
        if self.has_feature("MLST"):
            listing = _Listing(mlsd=True)
            self.retrlines("MLSD " + path if path else "MLSD", listing.take)
            return listing.entries()
        if path in ("", "."):
            return self._list_here()
        # LIST takes any path: ls-like servers (vsftpd) list a missing or
        # unreadable directory as empty, a file as itself and "-d" as an
        # option.  CWD proves the path a directory, and LIST gets no path.
        with self._entered(path):
            return self._list_here()

    def _list_here(self) -> list[Entry]:
        """The working directory's entries from LIST, sent without a path."""
        listing = _Listing(mlsd=False)
        self.retrlines("LIST", listing.take)
        entries = listing.entries()
        if not listing.listed and not self._readable_here():
            raise error_perm("550 the directory cannot be read (LIST -a shows nothing in it)")
        return entries

    def _readable_here(self) -> bool:
        """Whether an empty LIST of the working directory can be believed.

        An ls-like server (vsftpd) lists a directory it may enter but not
        read as empty, where others refuse; but in a directory it can read,
        ``LIST -a`` shows at least ``.`` and ``..``.  Whether the server
        takes ``-a`` at all (pyftpdlib and Twisted list the directory without
        them) is learned once per connection from ``LIST -a ..``.
        """
        takes_a = self._takes_dash_a[1] if self._takes_dash_a[0] is self.sock else None
        if takes_a is False:
            return True
        shown = self._probe_listing("LIST -a")
        if shown:
            if any(name in (".", "..") for name in shown):
                self._takes_dash_a = (self.sock, True)
            return True
        if takes_a is None:
            parent = None if shown is None else self._probe_listing("LIST -a ..")
            if parent is None:  # refused: this server takes no ls options
                takes_a = False
            elif parent:  # the parent has entries: -a is taken if it lists the dots too
                takes_a = any(name in (".", "..") for name in parent)
            if takes_a is not None:  # an empty parent tells nothing
                self._takes_dash_a = (self.sock, takes_a)
        return not takes_a

    def _probe_listing(self, cmd: str) -> list[str] | None:
        """The names `cmd` lists (those of lines in no known form count as ''), None if refused."""
        lines: list[str] = []
        try:
            self.retrlines(cmd, lines.append)
        except (error_perm, error_temp):
            return None
        names = []
        for line in _joined_list_lines(lines):
            try:
                entry = parse_list_line(line)
            except error_proto:
                names.append("")
                continue
            if entry is not None:
                names.append(entry.name)
        return names

    def _working_directory(self) -> tuple[str, Reply]:
        """The working directory as PWD names it, with the reply; `error_proto` if it names none.

        What ftplib2 changes directory back to: never a directory it did not read.
        """
        return _directory_of(self.voidcmd("PWD"))

    def _enter_directory(self, dirname: str) -> tuple[str, Reply]:
        """`cwd(dirname)`, then `_working_directory()`: both commands in one write if allowed.

        PWD changes nothing on the server, so it may go out before CWD's reply
        has come (see `pipelining`): a round trip less per directory a walk
        enters.  If CWD fails, its error is raised, and PWD's reply, still
        owed, is read and dropped before the next command goes out.
        """
        if dirname in ("", "..") or not self._may_send_ahead():
            self.cwd(dirname)
            return self._working_directory()
        lines = ["CWD " + dirname, "PWD"]
        data = b"".join(map(self._encode_rider, lines))
        self._send(data, lines)
        self.voidresp()
        self._remember_cwd(dirname)
        return _directory_of(self.voidresp())

    def _return_to(self, where: tuple[str, Reply]) -> None:
        """Change back to a working directory read by `_working_directory`."""
        path, resp = where
        self.cwd(path)
        # An unquoted name ends at its first blank: only the same PWD reply proves it whole.
        if resp[3:5] != ' "' and self.voidcmd("PWD") != resp:
            raise error_proto(f"could not return to the working directory ({resp!r})")

    @contextlib.contextmanager
    def _entered(self, path: str) -> Iterator[None]:
        """Be in directory `path` (CWD) for the block, then back in the one PWD named before."""
        here = self._working_directory()
        self.cwd(path)
        try:
            yield
        except BaseException as exc:
            if self.sock is not None:
                try:
                    self._return_to(here)
                except all_errors as failure:  # the first failure is the one to report
                    exc.add_note(f"the working directory could not be restored: {failure}")
            raise
        self._return_to(here)

    def listdir(self, path: str = "") -> list[str]:
        """Return the names in a directory, like `os.listdir`."""
        return [entry.name for entry in self.scandir(path)]

    def stat(self, path: str) -> Entry:
        """Return the `Entry` of one path: MLST, or LIST of its parent.

        Raises `error_perm` if the path does not exist.
        """
        if self.has_feature("MLST"):
            resp = self.voidcmd("MLST " + path)
            for line in resp.lines[1:]:
                if line.startswith(" "):
                    entry = parse_mlsx_line(line[1:])
                    name = posixpath.basename(path.rstrip("/")) or entry.name
                    return dataclasses.replace(entry, name=name)
            raise error_proto(resp)
        name = posixpath.basename(path.rstrip("/"))
        if name in ("", ".", ".."):  # no parent listing names it: try entering it
            return self._stat_by_cwd(path)
        parent = posixpath.dirname(path.rstrip("/"))
        for entry in self.scandir(parent):
            if entry.name == name:
                return entry
        raise error_perm(f"550 {path}: no such file or directory")

    def _stat_by_cwd(self, path: str) -> Entry:
        if path and path.rstrip("/") != ".":  # the working directory is one: nothing to prove
            with self._entered(path):
                pass
        return Entry(name=path, type="dir")

    def exists(self, path: str) -> bool:
        """Tell whether `path` exists on the server."""
        try:
            self.stat(path)
        except error_perm:
            return False
        return True

    def isdir(self, path: str) -> bool:
        """Tell whether `path` is a directory."""
        try:
            return self.stat(path).type == "dir"
        except error_perm:
            return False

    def isfile(self, path: str) -> bool:
        """Tell whether `path` is a regular file."""
        try:
            return self.stat(path).type == "file"
        except error_perm:
            return False

    def walk(
        self,
        top: str = "",
        *,
        max_dirs: int | None = MAX_WALK_DIRS,
        max_entries: int | None = MAX_WALK_ENTRIES,
    ) -> Iterator[tuple[str, list[str], list[str]]]:
        """Walk a tree top-down like `os.walk`: yield (dirpath, dirnames, filenames).

        Directories are listed by a `TreeWalker`: links are not followed,
        loops are not entered, and more than `max_dirs` directories or
        `max_entries` entries raise `WalkLimitError`.  Removing names from
        `dirnames` prunes the walk.
        """
        walker = TreeWalker(self, top, max_dirs=max_dirs, max_entries=max_entries)
        # A stack, not recursion: a deep tree must end at the bound, not in RecursionError.
        pending: list[tuple[str, str, str]] = [("", "", top or walker.home)]
        while pending:
            rel, parent, name = pending.pop()
            dirpath = _child(parent, name) if rel else name
            try:
                entries = walker.scandir(rel)
            except WalkRefused:
                continue  # a link or a loop: named in its parent's dirnames, not entered
            walker.restore()  # the caller's relative paths hold while it looks at this one
            dirnames = [e.name for e in entries if e.type == "dir"]
            filenames = [e.name for e in entries if e.type != "dir"]
            yield dirpath, dirnames, filenames
            pending.extend((_join(rel, n), dirpath, n) for n in reversed(dirnames))

    def makedirs(self, path: str, exist_ok: bool = False) -> None:
        """Make a directory and any missing parents, like `os.makedirs`.

        Raises `error_perm` if `path` exists, unless `exist_ok`.
        """
        if self.isdir(path):
            if exist_ok:
                return
            raise error_perm(f"550 {path}: directory exists")
        parent = posixpath.dirname(path.rstrip("/"))
        if parent and parent != path and not self.isdir(parent):
            self.makedirs(parent, exist_ok=True)
        self.mkd(path)

    def remove(self, path: str) -> Reply:
        """Delete a file (DELE), like `os.remove`."""
        return self.delete(path)

    def rmtree(
        self,
        path: str,
        *,
        max_dirs: int | None = MAX_WALK_DIRS,
        max_entries: int | None = MAX_WALK_ENTRIES,
    ) -> None:
        """Delete a directory tree, like `shutil.rmtree`.

        Directories are listed by a `TreeWalker`; links and anything it will
        not enter are deleted with DELE, which never follows them.
        """
        if not path.strip("/"):
            raise ValueError(f"refusing to remove the tree at {path!r}")
        walker = TreeWalker(self, path, max_dirs=max_dirs, max_entries=max_entries)
        entries = walker.scandir("")
        walker.restore()  # DELE and RMD take the caller's paths
        # Depth first with a stack of open listings, not recursion (see walk).
        pending = [(path, "", iter(entries))]
        while pending:
            dirpath, rel, remaining = pending[-1]
            for entry in remaining:
                child = _child(dirpath, entry.name)
                if entry.type != "dir":
                    self.delete(child)
                    continue
                try:
                    below = walker.scandir(_join(rel, entry.name))
                except WalkRefused as refusal:
                    # A link, or a name the server will not say enough about:
                    # DELE removes a link, never what it leads to.
                    try:
                        self.delete(child)
                    except error_perm as failure:
                        raise refusal from failure
                    continue
                walker.restore()
                pending.append((child, _join(rel, entry.name), iter(below)))
                break
            else:
                pending.pop()
                self.rmd(dirpath)

    def mdtm(self, path: str) -> datetime.datetime:
        """Return a file's modification time (MDTM, RFC 3659) as an aware UTC datetime."""
        resp = self.voidcmd("MDTM " + path)
        when = _parse_mlsx_time(resp[4:].strip())
        if resp[:3] != "213" or when is None:
            raise error_proto(resp)
        return when

    def set_mtime(self, path: str, when: datetime.datetime | float) -> Reply:
        """Set a file's modification time (MFMT); `when` is a datetime or a POSIX time.

        A naive datetime is taken as UTC.
        """
        if not isinstance(when, datetime.datetime):
            when = datetime.datetime.fromtimestamp(when, datetime.UTC)
        elif when.tzinfo is not None:
            when = when.astimezone(datetime.UTC)
        return self.voidcmd(f"MFMT {when:%Y%m%d%H%M%S} {path}")

    # -- ftplib2 extensions: checksums ------------------------------------------

    def checksum(self, path: str, algorithm: str | None = None) -> tuple[str, str]:
        """Return ``(algorithm, hex digest)`` of a remote file, computed by the server.

        Uses HASH (draft-bryan-ftpext-hash, selecting the algorithm with
        OPTS HASH) or XSHA512, XSHA256, XSHA1, XMD5, MD5 or XCRC, whichever
        FEAT offers: the strongest algorithm first, unless `algorithm`
        (``'SHA-512'``, ``'SHA-256'``, ``'SHA-1'``, ``'MD5'``, ``'CRC32'``)
        is given.  The digest is lower-case hex, of the length the algorithm
        gives, or `error_proto` is raised.  Raises `error_perm` when the
        server offers no checksum command (or none for `algorithm`), and
        ValueError for an algorithm not in that list.  HASH's selection is
        left at the algorithm used.
        """
        candidates: tuple[str, ...] = _CHECKSUM_ALGORITHMS
        if algorithm is not None:
            wanted = _algorithm_name(algorithm)
            if wanted is None:
                raise ValueError(f"unknown checksum algorithm: {algorithm!r}")
            candidates = (wanted,)
        refusal: error_perm | None = None
        for name, command in self._checksum_commands(candidates):
            try:
                if command == "HASH":
                    return name, self._hash(path, name)
                return name, self._x_checksum(command, path, name)
            except error_perm as exc:
                # Listed in FEAT but refused as unknown or unusable: try the next one.
                if exc.code not in ("500", "501", "502", "504"):
                    raise
                refusal = exc
        if refusal is not None:
            raise refusal
        which = "" if algorithm is None else f" for {candidates[0]}"
        raise error_perm(f"502 the server offers no checksum command{which}")

    def _checksum_commands(self, algorithms: Sequence[str]) -> list[tuple[str, str]]:
        """The (algorithm, command) pairs FEAT offers for `algorithms`, in that order."""
        features = self.features()
        offered = _hash_feature(features.get("HASH", "")) if "HASH" in features else {}
        return [
            (name, command)
            for name in algorithms
            for command in ("HASH", *_CHECKSUM_COMMANDS[name])
            if (name in offered if command == "HASH" else command in features)
        ]

    def _hash(self, path: str, algorithm: str) -> str:
        """The digest HASH gives, selecting `algorithm` with OPTS HASH first if need be."""
        offered = _hash_feature(self.features()["HASH"])
        selected = self._hash_selected or offered.get("*")
        for _ in range(2):
            if selected != algorithm:
                # The server's own spelling: an exact match cannot be refused as unknown.
                self.voidcmd("OPTS HASH " + offered[algorithm])
                self._hash_selected = selected = algorithm
            resp = self.voidcmd("HASH " + path)
            # The last line: servers may send "213-" lines while they compute.
            m = _HASH_REPLY_RE.fullmatch(resp.lines[-1][4:])
            if resp[:3] != "213" or m is None:
                raise error_proto(f"unusable HASH reply: {resp[:200]!r}")
            if _algorithm_name(m["algorithm"]) == algorithm:
                if m["start"] is not None and m["start"].strip("0"):  # a part, not the whole file
                    raise error_proto(f"HASH gave a partial range: {resp[:200]!r}")
                return _digest_hex(m["digest"], algorithm, resp)
            # Another algorithm: the selection changed without us (REIN, an OPTS
            # HASH sent by hand).  Select again, once.
            self._hash_selected = selected = None
        raise error_proto(f"HASH answered with another algorithm than {algorithm}: {resp[:200]!r}")

    def _x_checksum(self, command: str, path: str, algorithm: str) -> str:
        """The digest one of the older commands (XSHA256, XCRC, MD5, ...) gives."""
        if command != "MD5" and (path[:1] == '"' or any(c.isspace() for c in path)):
            # These commands take optional byte positions after the path, so servers
            # split their argument at spaces (proftpd: "XSHA1 a b" is refused, and
            # "XSHA1 a 0 9" hashes nine bytes of a) and read a quoted path as one word,
            # with backslash escapes.  MD5 (draft-twine-ftpmd5) takes the rest of the line.
            path = '"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'
        resp = self.voidcmd(f"{command} {path}")
        # "213 <hex>" (proftpd), "250 <hex>" (Globalscape), "251 <path> <hex>" (MD5):
        # the digest is the first or the last word of the last line.
        words = resp.lines[-1][4:].split()
        for word in words[:1] + words[-1:]:
            if len(word) == _DIGEST_HEX_LENGTH[algorithm]:
                return _digest_hex(word, algorithm, resp)
        raise error_proto(f"no {algorithm} digest in the {command} reply: {resp[:200]!r}")

    # -- ftplib2 extensions: whole-file transfers --------------------------------

    def download(
        self,
        remote: str,
        local: str | os.PathLike[str] | BinaryIO,
        *,
        resume: bool = False,
        callback: Callable[[int], object] | None = None,
        blocksize: int = 1 << 18,
        size: int | None = None,
        retries: int = 0,
        verify: bool | str = False,
        segments: int = 1,
    ) -> int:
        """Download `remote` into `local` (a path or a binary file); return its size.

        A path is written as a hidden partial file of its own beside it,
        ``.<name>.<inode>.ftplib2-part``, renamed into place only once
        complete, so an interrupted download never looks complete; with
        `resume`, that partial file (or, for a file object, its current end)
        is continued with REST.  The size is checked against `size`, the 150
        reply, or SIZE: a short transfer raises `error_proto`, and so does a
        long one, at its first byte past the size.  Pass `size` when you know
        it (from a listing) to spare the SIZE command.  `callback` is called
        with the number of bytes of each block.

        With `verify`, the server's checksum of `remote` (see `checksum`; an
        algorithm name picks the algorithm) must equal the local file's,
        computed as the bytes arrive, else `error_proto`, and a path's partial
        file is deleted.  A server without checksums is checked by size only;
        one without SIZE either raises `error_perm` before the transfer.

        With `retries`, a transfer broken by the network (a reset, dropped or
        stalled connection, a data connection that ended short, a 421, 425 or
        426 reply) goes on: after `retry_delay`, `reconnect` and continue with
        REST from the bytes already written (from the start where the server
        cannot restart), up to `retries` times; then the last error is raised.

        With `segments` above 1, the file is fetched over up to that many
        connections at once: this one and new ones like it (same server,
        login, TLS, mode and directory), each RETR starting at its range
        with REST; a connection that finishes takes over part of the range
        expected to finish last.  The file is written in place, and a path's
        partial file gets a record of the ranges still missing beside it
        (``.<name>.<inode>.ftplib2-segments``) for `resume`.  Fewer
        connections are used when the server refuses more (421, 530), and
        after such a refusal this object asks for no more than it got.  A
        connection that fails gives its range to the others; when all have
        failed, `retries` goes on as above, from the ranges missing.  The extra
        connections are closed before this returns.  Without SIZE, REST or a
        `login` to repeat, or for a small file, one connection is used.
        """
        if segments != 1:
            return self._download_segments(
                remote, local, segments, resume=resume, callback=callback,
                blocksize=blocksize, size=size, verify=verify, retries=retries,
            )  # fmt: skip
        if isinstance(local, io.TextIOBase):
            raise TypeError("download() needs a path or a file opened in binary mode")
        algorithm = self._verify_algorithm(verify)
        if size is None and (resume or (verify and algorithm is None)):
            # The offset must be checked against it first; and with verify, it is
            # all there is to check, so it had better be there before the transfer.
            size = self._remote_size(remote)
            if size is None and verify and algorithm is None:
                raise error_perm(f"502 {remote}: no checksum or SIZE to verify it with")
        expected = size
        requested_resume = resume
        resume = resume and self.has_feature("REST")  # else start again from 0
        if isinstance(local, (str, os.PathLike)):
            final = os.fspath(local)
            fd, partial, new = _open_partial(final, resume, readable=algorithm is not None)
            try:
                with open(fd, "wb" if algorithm is None else "r+b") as fp:
                    offset = fp.seek(0, os.SEEK_END)
                    total = self._download_checked(
                        remote,
                        fp,
                        offset,
                        expected,
                        callback,
                        blocksize,
                        algorithm,
                        retries,
                        spliced=True,
                    )
            except BaseException as exc:
                # Keep what was received, for a resume, but not an empty file of our
                # own, nor a transfer that overran its size, nor bytes that are wrong.
                # Whatever happens here, the error to report is the one that stopped
                # the download.
                with contextlib.suppress(OSError):
                    if isinstance(exc, (_Overrun, _Mismatch)) or (
                        new and os.path.getsize(partial) == 0
                    ):
                        os.unlink(partial)
                raise
            os.replace(partial, final)
            return total
        offset = 0
        if resume:
            offset = local.seek(0, os.SEEK_END)
        elif requested_resume:  # the server cannot restart: start the file again
            local.seek(0)
            local.truncate()
        return self._download_checked(
            remote, local, offset, expected, callback, blocksize, algorithm, retries
        )

    def download_many(
        self,
        files: Iterable[tuple[str, _LocalFile] | tuple[str, _LocalFile, int | None]],
        *,
        connections: int | Sequence[FTP] = 1,
        callback: Callable[[str, int], object] | None = None,
        blocksize: int = 1 << 18,
    ) -> list[int]:
        """Download many files, in as few round trips as the server allows; return their sizes.

        Each item of `files` is ``(remote, local)`` or ``(remote, local,
        size)``, fetched as ``download(remote, local, size=size)`` fetches
        it: a path through a partial file renamed into place once complete,
        the size checked.  Pass the sizes a listing gave: then no SIZE is
        sent.  One after another, each file costs its passive (or PORT)
        command and its transfer; in active mode one listening socket serves
        the whole batch.  `callback` is called with the remote name and the
        number of bytes of each block.

        With `connections` above 1, the files are shared out over that many
        connections: this one, in the calling thread, and new ones opened as
        ``download(segments=N)`` opens them (same server, login, TLS, mode and
        working directory), each in a thread of its own and closed at the end;
        each takes the next file as soon as it is free.  One that cannot be
        opened is left out.  `connections` may instead be a sequence of other
        logged-in connections to the same server (in the directory the remote
        names are relative to), used alongside this one and left open.

        The first failure stops the batch: no file is started after it, those
        under way finish, and it is raised; files completed stay complete.
        Returns the sizes in the order of `files`.
        """
        items = [_batch_item(item) for item in files]
        opened = 0
        others: Sequence[FTP] = ()
        if isinstance(connections, int):
            if isinstance(connections, bool) or connections < 1:
                raise ValueError(f"connections must be a positive integer, not {connections!r}")
            if connections > 1 and len(items) > 1:
                if self._session.login is None:
                    _log.info("download_many: one connection: this one was not logged in here")
                else:
                    opened = min(connections, len(items)) - 1
        else:
            others = connections
        sizes: list[int] = [0] * len(items)
        lock = threading.Lock()
        todo = iter(range(len(items)))
        stop = threading.Event()
        failures: list[BaseException] = []

        def work(ftp: FTP) -> None:
            with ftp._batched():
                while not stop.is_set():
                    with lock:
                        index = next(todo, None)
                    if index is None:
                        return
                    remote, local, size = items[index]
                    each = None if callback is None else functools.partial(callback, remote)
                    try:
                        sizes[index] = ftp.download(
                            remote, local, size=size, callback=each, blocksize=blocksize
                        )
                    except BaseException as exc:  # noqa: BLE001 - raised once the others stop
                        failures.append(exc)
                        stop.set()
                        return

        where = self._segments_directory() if opened else None

        def work_on_own() -> None:
            try:
                ftp = self._segments_clone(where)
            except all_errors as exc:  # left out, as download(segments=N) leaves it
                _log.info("download_many: a connection could not be opened: %s", exc)
                return
            try:
                work(ftp)
            finally:
                with contextlib.suppress(*all_errors):
                    if not failures:
                        ftp.quit()
                ftp.close()

        helpers = [
            threading.Thread(target=work, args=(ftp,), name=f"ftplib2-download-{n}", daemon=True)
            for n, ftp in enumerate(others, 1)
        ] + [
            threading.Thread(target=work_on_own, name=f"ftplib2-download-{n}", daemon=True)
            for n in range(len(others) + 1, len(others) + 1 + opened)
        ]
        for thread in helpers:
            thread.start()
        try:
            work(self)
        finally:
            stop.set()  # on an interrupt here too: no new file; those under way finish
            for thread in helpers:
                thread.join()
        if failures:
            raise failures[0]
        return sizes

    @contextlib.contextmanager
    def _batched(self) -> Iterator[None]:
        """While a batch runs: active mode keeps its listening socket from file to file."""
        self._batch = True
        try:
            yield
        finally:
            self._batch = False
            self._drop_batch_listener()

    def _download_checked(
        self,
        remote: str,
        fp: BinaryIO,
        offset: int,
        expected: int | None,
        callback: Callable[[int], object] | None,
        blocksize: int,
        algorithm: str | None,
        retries: int,
        spliced: bool = False,
    ) -> int:
        """`_download_retrying`; then, with `algorithm`, the server's checksum must be the file's."""
        if algorithm is None:
            return self._download_retrying(
                remote, fp, offset, expected, callback, blocksize, retries, spliced
            )
        if spliced and hasattr(os, "pread"):
            # Spliced, the bytes never enter Python: hash them from the file, in a thread.
            with _TrailingDigest(fp.fileno(), algorithm, offset) as trailing:
                progress = trailing.progress(fp, callback)
                total = self._download_retrying(
                    remote, fp, offset, expected, progress, blocksize, retries, spliced,
                    rewind=False,
                )  # fmt: skip
                local_digest = trailing.hexdigest()
        else:
            # Hash the bytes on their way to the file, after the part a resume keeps.
            digest = _new_digest(algorithm)
            _hash_file_part(fp, 0, offset, digest)
            writer: Any = _DigestingWriter(fp, digest)
            total = self._download_retrying(
                remote, writer, offset, expected, callback, blocksize, retries, rewind=False
            )
            local_digest = digest.hexdigest()
        self._compare_checksum(remote, algorithm, local_digest)
        return total

    def _verify_algorithm(self, verify: bool | str) -> str | None:
        """The algorithm a transfer with `verify` is checked with: None for the size only."""
        if not verify:
            return None
        if verify is True:
            commands = self._checksum_commands(_VERIFY_ALGORITHMS)
            return commands[0][0] if commands else None
        wanted = _algorithm_name(str(verify))
        if wanted is None:
            raise ValueError(f"unknown checksum algorithm: {verify!r}")
        if not self._checksum_commands((wanted,)):
            raise error_perm(f"504 the server offers no checksum command for {wanted}")
        return wanted

    def _compare_checksum(self, remote: str, algorithm: str, local_digest: str) -> None:
        """Raise `_Mismatch` unless the server's checksum of `remote` is `local_digest`."""
        remote_digest = self.checksum(remote, algorithm)[1]
        if remote_digest != local_digest:
            raise _Mismatch(
                f"{remote}: the server's {algorithm} is {remote_digest}, "
                f"the local file's {local_digest}"
            )

    def _download_retrying(
        self,
        remote: str,
        fp: BinaryIO,
        offset: int,
        expected: int | None,
        callback: Callable[[int], object] | None,
        blocksize: int,
        retries: int,
        spliced: bool = False,
        *,
        rewind: bool = True,
    ) -> int:
        """`_download_to`, retried as `download` says; `offset` is the bytes `fp` holds.

        Without `rewind` (bytes hashed as they are written), a server that cannot
        restart ends the retries rather than have the file started again.
        """
        origin = None  # where the remote file's first byte is in `fp`, to start again there
        with contextlib.suppress(OSError, ValueError, AttributeError):
            if rewind and fp.seekable():
                origin = fp.tell() - offset
        with self._cancellable():  # retries and their waits included
            retry = _Retry(self, "download", remote, retries)
            while True:
                progress = _Progress()
                try:
                    if retry.count:
                        self.reconnect()
                        if expected is None and offset:
                            expected = self._remote_size(remote)
                        if offset and not self.has_feature("REST"):
                            if origin is None:
                                raise error_perm(
                                    f"550 {remote}: no REST, and the file cannot rewind"
                                )
                            fp.seek(origin)
                            fp.truncate()
                            offset = 0
                    return self._download_to(
                        remote, fp, offset, expected, callback, blocksize, spliced, progress
                    )
                except Exception as exc:
                    offset += progress.done
                    if not retry.again(exc, progress):
                        raise

    def _remote_size(self, path: str) -> int | None:
        self._set_type("I", path)  # a binary transfer follows: SIZE in binary, whatever came before
        try:
            return self.size(path)
        except error_perm:
            return None

    def _download_to(
        self,
        remote: str,
        fp: BinaryIO,
        offset: int,
        expected: int | None,
        callback: Callable[[int], object] | None,
        blocksize: int,
        spliced: bool = False,
        progress: _Progress | None = None,
    ) -> int:
        if progress is None:
            progress = _Progress()
        if expected is not None and offset > expected:
            raise error_proto(f"local file is longer ({offset}) than {remote} ({expected})")
        if expected is not None and offset == expected and offset:
            return offset
        self._set_type("I", remote)
        started = time.monotonic()

        written = _counted(callback, progress)

        def deliver(chunk: memoryview) -> None:
            with progress.local():
                fp.write(chunk)
            written(len(chunk))

        splice = None
        if spliced:  # a file of our own, nothing buffered in `fp`: hand the kernel its fd
            fp.flush()
            splice = (fp.fileno(), written, blocksize)
        # The size to check against is the caller's, else the 150 reply's, else SIZE's.  SIZE
        # goes out in one write with the passive (or PORT) command, and its reply comes with
        # theirs: the check costs no round trip.  Not once this server's 150 replies have given
        # sizes, nor where it does not know SIZE.
        ask = expected is None and not offset and self._ask_size and self._may_send_ahead()
        self._size_ahead = None
        if ask:
            self._riders = ["SIZE " + remote]
        try:
            received, announced = self._receive(
                "RETR " + remote,
                offset or None,
                blocksize,
                deliver,
                splice,
                limit=None if expected is None else expected - offset,
                limit_to_150=expected is None and not offset,
            )
        finally:
            self._riders = []
            ahead, self._size_ahead = self._size_ahead, None
        if expected is None and not offset:
            if announced is not None:
                expected = announced
                self._ask_size = False  # its 150 replies say the size: no SIZE from now on
            else:
                expected = ahead
        total = offset + received
        if expected is None:
            self._end_transfer()
            if not ask:  # nothing was asked before: ask now (one command at a time)
                expected = self._remote_size(remote)
            _check_size(remote, total, expected)
        else:
            _check_size(remote, total, expected)  # before the final reply: a short one is owed
            self._defer_final_reply()
        _log_transfer("downloaded", remote, received, offset, started)
        return total

    def _defer_final_reply(self) -> None:
        """Leave a checked download's final reply for after the next command has gone out.

        All the bytes its size said have come, so the transfer is complete
        whatever the reply says; reading it now would cost vsftpd's clients
        one more round trip per file (see `_settle`).  Read now when nothing
        may be sent ahead, or when the reply owed is not just this one.
        """
        if len(self._owed) == 1 and self._running is None and self._may_send_ahead():
            self._deferred = True
        else:
            self._end_transfer()

    # -- ftplib2 extensions: segmented downloads ---------------------------------------
    #
    # download(segments=N) in functions of its own, called from download() alone.

    def _download_segments(
        self,
        remote: str,
        local: str | os.PathLike[str] | BinaryIO,
        segments: int,
        *,
        resume: bool,
        callback: Callable[[int], object] | None,
        blocksize: int,
        size: int | None,
        verify: bool | str,
        retries: int,
    ) -> int:
        """`download` over up to `segments` connections at once, where that can be done."""
        if isinstance(segments, bool) or not isinstance(segments, int) or segments < 1:
            raise ValueError(f"segments must be a positive integer, not {segments!r}")
        if isinstance(local, io.TextIOBase):
            raise TypeError("download() needs a path or a file opened in binary mode")
        algorithm = self._verify_algorithm(verify)
        if size is None and segments > 1:
            size = self._remote_size(remote)
        why = self._unsegmentable(local, segments, size, algorithm)
        where = None  # the directory the extra connections enter: none for an absolute path
        if why is None and not remote.startswith("/"):
            where = self._segments_directory()
            if where is None:
                why = "the working directory is unknown (PWD)"
        if why is not None:
            _log.info("downloading %s on one connection: %s", remote, why)
            return self.download(
                remote, local, resume=resume, callback=callback, blocksize=blocksize,
                size=size, verify=verify, retries=retries,
            )  # fmt: skip
        assert size is not None
        with self._cancellable():  # retries and their waits included
            retry = _Retry(self, "download", remote, retries)
            while True:
                # Every connection failed (one that fails alone hands its range on): as
                # with one connection, reconnect and go on from the ranges still missing.
                progress = _Progress()
                counted = _counted(callback, progress)
                try:
                    if retry.count:
                        self.reconnect()
                        resume = True
                    if isinstance(local, (str, os.PathLike)):
                        return self._segments_to_path(
                            remote, os.fspath(local), size, segments, resume, counted,
                            blocksize, algorithm, where,
                        )  # fmt: skip
                    return self._segments_to_file(
                        remote, local, size, segments, resume, counted, blocksize, algorithm,
                        where,
                    )  # fmt: skip
                except Exception as exc:
                    if not retry.again(exc, progress):
                        raise

    def _segments_directory(self) -> str | None:
        """The working directory, for the extra connections to enter; None if unknown."""
        try:
            where = self.pwd()
        except (error_reply, error_temp, error_perm):
            return None
        return where or None

    def _unsegmentable(
        self,
        local: str | os.PathLike[str] | BinaryIO,
        segments: int,
        size: int | None,
        algorithm: str | None,
    ) -> str | None:
        """Why this download goes on one connection after all; None: it is split."""
        if segments == 1:
            return "one segment asked for"
        if not hasattr(os, "pwrite"):
            return "this platform has no os.pwrite to write a range in place"
        if size is None:
            return "the server gives no size"
        if size < 2 * _MIN_PIECE:
            return f"{size} bytes is too small to split"
        if not self.has_feature("REST"):
            return "the server cannot restart a transfer (no REST in FEAT)"
        if self._session.login is None:
            return "no login() to repeat on other connections"
        if isinstance(local, (str, os.PathLike)):
            return None
        try:
            fd = local.fileno()
            st = os.fstat(fd)
            flags = fcntl.fcntl(fd, fcntl.F_GETFL) if fcntl is not None else os.O_RDWR
        except (AttributeError, OSError, ValueError):
            return "the file object has no file descriptor"
        if not stat.S_ISREG(st.st_mode):
            return "the file object is not a regular file"
        if flags & os.O_APPEND:
            return "the file object is in append mode, where writes cannot be placed"
        if algorithm is not None and flags & os.O_ACCMODE != os.O_RDWR:
            return "verify needs to read the file back, and it is write-only"
        return None

    def _segments_to_path(
        self,
        remote: str,
        final: str,
        size: int,
        segments: int,
        resume: bool,
        callback: Callable[[int], object] | None,
        blocksize: int,
        algorithm: str | None,
        where: str | None,
    ) -> int:
        """A segmented download to a path: its partial file, and the record of what is missing.

        The partial file is written in place, preallocated; the record beside
        it (``.<name>.<inode>.ftplib2-segments``) says which ranges are still
        to come, so that `resume` continues them all.  Both go once the file
        is whole and checked; then the partial file takes the final name.
        """
        fd, partial, new = _open_partial(
            final, resume, readable=algorithm is not None, segmented=True
        )
        record: _SegmentsRecord | None = None
        plan: _Segments | None = None
        try:
            todo = [(0, size)]
            if not new:
                held = _read_segments(partial)
                length = os.fstat(fd).st_size
                if held is None:  # written in order: all of it is the file's start
                    if length > size:
                        raise error_proto(f"local file is longer ({length}) than {remote} ({size})")
                    todo = [(length, size)] if length < size else []
                elif held.size == size:
                    todo = held.todo
                else:  # a record that cannot be trusted, or of another version: start again
                    os.ftruncate(fd, 0)
            record = _SegmentsRecord(partial)
            record.save(size, todo)
            _preallocate(fd, size)
            plan = self._segments_plan(fd, 0, size, todo, record, callback, algorithm)
            self._run_segments(plan, remote, segments, blocksize, where, algorithm)
        except BaseException as exc:
            # Keep what was received, for a resume, with the record of what is missing;
            # but not a new file that got nothing, nor bytes that are wrong.
            with contextlib.suppress(OSError):
                wrong = isinstance(exc, (_Overrun, _Mismatch))
                if wrong or (new and (plan is None or not plan.moved)):
                    if record is not None:
                        record.close(remove=True)
                    os.unlink(partial)
                elif record is not None and plan is not None:
                    record.save(size, plan.todo())
            if record is not None:
                record.close(remove=False)
            os.close(fd)
            raise
        record.close(remove=True)  # first: a whole partial file needs no record
        os.close(fd)
        os.replace(partial, final)
        return size

    def _segments_to_file(
        self,
        remote: str,
        fp: BinaryIO,
        size: int,
        segments: int,
        resume: bool,
        callback: Callable[[int], object] | None,
        blocksize: int,
        algorithm: str | None,
        where: str | None,
    ) -> int:
        """A segmented download into a file object, written in place through its descriptor.

        On failure the file is cut back after the last byte received without a
        gap, so that `resume` continues it as a download in order would.
        """
        fp.flush()
        fd = fp.fileno()
        if resume:
            base, length = 0, fp.seek(0, os.SEEK_END)
            if length > size:
                raise error_proto(f"local file is longer ({length}) than {remote} ({size})")
        else:
            base, length = fp.tell(), 0
        todo = [(length, size)] if length < size else []
        _preallocate(fd, base + size)
        plan = self._segments_plan(fd, base, size, todo, None, callback, algorithm)
        try:
            self._run_segments(plan, remote, segments, blocksize, where, algorithm)
        except BaseException:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, base + plan.prefix())
            fp.seek(base + plan.prefix())
            raise
        fp.seek(base + size)
        return size

    def _segments_plan(
        self,
        fd: int,
        base: int,
        size: int,
        todo: list[tuple[int, int]],
        record: _SegmentsRecord | None,
        callback: Callable[[int], object] | None,
        algorithm: str | None,
    ) -> _Segments:
        digest = None
        if algorithm is not None:
            # Fed the file's whole prefix as it grows: the bytes after the first hole are
            # hashed once the holes are filled (Doc/howto/transfers.rst has what it costs).
            prefix = todo[0][0] if todo else size
            digest = _TrailingDigest(fd, algorithm, prefix, base)
        return _Segments(self, fd, base, size, todo, record, digest, callback)

    def _run_segments(
        self,
        plan: _Segments,
        remote: str,
        segments: int,
        blocksize: int,
        where: str | None,
        algorithm: str | None,
    ) -> None:
        """Fetch `plan`'s ranges on this connection and up to `segments` - 1 more.

        Extra connections are opened in threads, one per connection, and
        closed before this returns, whatever happens; a connection that
        fails gives its range back to the others.  With `algorithm`, the
        server's checksum must then be the file's.
        """
        started = time.monotonic()
        limit = segments if self._segment_limit is None else min(segments, self._segment_limit)
        left = sum(end - start for start, end in plan.todo())
        plan.to_open = max(0, min(limit, left // _MIN_PIECE) - 1)
        me = _Worker(self)
        plan.workers.append(me)

        def extra() -> None:
            self._segments_helper(plan, remote, blocksize, where, extra)

        digest = plan.digest
        try:
            try:
                plan.spawn(1, extra)
                self._work_segments(me, plan, remote, blocksize)
                plan.wait_end()
            except BaseException as exc:
                plan.fail(exc)
                raise
            finally:
                plan.join()
                if plan.refused:  # later downloads on this connection ask for no more
                    self._segment_limit = plan.accepted
            if plan.error is not None:
                raise plan.error
            _log.info(
                "downloaded %s on %d connections: %d bytes in %.3f s",
                remote, plan.accepted, plan.moved, time.monotonic() - started,
            )  # fmt: skip
            if digest is not None:
                digest.grow_to(plan.size)
                local_digest = digest.hexdigest()
        finally:
            if digest is not None:
                digest.__exit__(None, None, None)
        if digest is not None and algorithm is not None:
            self._compare_checksum(remote, algorithm, local_digest)

    def _segments_helper(
        self,
        plan: _Segments,
        remote: str,
        blocksize: int,
        where: str | None,
        spawn: Callable[[], None],
    ) -> None:
        """The thread of one extra connection: open it, fetch ranges, close it."""
        try:
            clone = self._segments_clone(where)
        except BaseException as exc:  # noqa: BLE001 - the download goes on without it
            plan.opened(None, exc)
            return
        try:
            worker = _Worker(clone)
            if plan.opened(worker):
                plan.spawn(2, spawn)
                whole = False
                with contextlib.suppress(BaseException):  # in plan.error: download() raises it
                    whole = clone._work_segments(worker, plan, remote, blocksize)
                if whole and not plan.stopping:  # else closed without a word: it is in trouble
                    with contextlib.suppress(*all_errors):
                        clone.quit()
        finally:
            clone.close()

    def _segments_clone(self, where: str | None) -> FTP:
        """A new connection like this one: same server, login, TLS, mode, directory."""
        cls = type(self)
        try:
            clone = cls()
        except TypeError:  # a subclass that needs arguments: its base class will do
            clone = _TLS_CLASS() if _TLS_CLASS and isinstance(self, _TLS_CLASS) else FTP()
        for name in _CLONED_SETTINGS:
            if hasattr(self, name):
                setattr(clone, name, getattr(self, name))
        if self.source_address is not None:  # the same address, any port
            clone.source_address = (self.source_address[0], 0, *self.source_address[2:])
        user, passwd, acct = self._session.login  # type: ignore[misc]
        try:
            if _TLS_CLASS is not None and isinstance(self, _TLS_CLASS):
                # The first connection's TLS session, resumed: one handshake less for each.
                clone._tls_session = getattr(self.sock, "session", None)
                clone.connect(self.host, self.port)
                secure = isinstance(self.sock, _SSLSocket) and not self._cleared()
                clone.login(user, passwd, acct, secure=secure)  # type: ignore[call-arg]
                if self._prot_p:
                    clone.prot_p()  # type: ignore[attr-defined]
            else:
                clone.connect(self.host, self.port)
                clone.login(user, passwd, acct)
            if where is not None:
                clone.cwd(where)
        except BaseException:
            clone.close()
            raise
        return clone

    def _work_segments(self, worker: _Worker, plan: _Segments, remote: str, blocksize: int) -> bool:
        """Fetch ranges on this connection until none is left; False if it failed."""
        while (rng := plan.take(worker)) is not None:
            try:
                self._fetch_range(worker, rng, plan, remote, blocksize)
            except (error_temp, EOFError, OSError) as exc:
                if plan.stopping:
                    return False
                # This connection failed (a 426, a reset, a timeout...): the others take
                # its range over.  A refusal (5xx), a damaged stream or a local error
                # would fail on any connection, and ends the download.
                _log.info("a connection of the download of %s failed: %s", remote, exc)
                plan.give_back(worker, exc)
                return False
            except BaseException as exc:
                plan.fail(exc)
                raise
            finally:
                plan.finish(worker)  # a range stopped short waits for a connection
        return True

    def _fetch_range(
        self, worker: _Worker, rng: _Range, plan: _Segments, remote: str, blocksize: int
    ) -> None:
        """RETR from `rng`'s start, writing until its end (which may move meanwhile).

        A range that ends before the file does is dropped as soon as it is
        complete: the data connection is closed, as a download abandoned is,
        and the server's final reply (426, or 226) is read before this
        connection's next command.  Measured against pyftpdlib and vsftpd, in
        clear and with TLS, that left the control connection usable every
        time, with the next reply within 5 ms, as ABOR does, and needs no
        command the server might mishandle.
        """
        self._set_type("I", remote)
        started = time.monotonic()
        worker.meter.restart()
        buf = bytearray(blocksize)
        view = memoryview(buf)
        first = True
        try:
            with self._transfer("RETR " + remote, rng.pos or None) as conn:
                with plan.changed:
                    worker.conn = conn
                    if plan.stopping:
                        raise _Stop
                while want := plan.wanted(rng):
                    n = conn.recv_into(buf, min(want, blocksize))
                    if not n:
                        break
                    if first:  # what a new range costs this connection, to plan the next
                        worker.startup = time.monotonic() - started
                        first = False
                    plan.write(worker, rng, view[:n])
                if plan.stopping or rng.pos < rng.end:
                    if plan.stopping:
                        raise _Stop
                elif rng.end < plan.size:
                    raise _Stop  # the rest is another connection's
                elif conn.recv_into(buf, 1):
                    raise _Overrun(f"RETR {remote}: the server sent more than {plan.size} bytes")
        except _Stop:
            return
        finally:
            worker.conn = None
        self._end_transfer()
        if rng.pos < rng.end:  # the server ended the transfer there, and said it was complete
            raise error_proto(f"{remote}: the data ended at {rng.pos} bytes, not {plan.size}")

    def upload(
        self,
        local: str | os.PathLike[str] | BinaryIO,
        remote: str,
        *,
        resume: bool = False,
        callback: Callable[[int], object] | None = None,
        blocksize: int = 1 << 18,
        retries: int = 0,
        verify: bool | str = False,
    ) -> int:
        """Upload `local` (a path or a binary file) to `remote`; return the size sent.

        A file object is read from its position to its end, and need not be
        seekable (a pipe will do), except with `resume`: then the part the
        server already has (SIZE) is skipped and the rest sent with REST +
        STOR, or APPE where REST is refused; a server with neither gets the
        whole file again.  The server's SIZE afterwards must match, else
        `error_proto`.  `callback` is called with the number of bytes of each
        block.  A text file raises TypeError before STOR.

        With `verify`, the server's checksum of `remote` (see `checksum`; an
        algorithm name picks the algorithm) must equal that of the bytes read,
        hashed as they are sent, else the remote file is deleted and
        `error_proto` raised.  A server without checksums is checked by size
        only; one without SIZE either raises `error_perm` after the upload.

        With `retries`, an upload broken by the network (as for `download`;
        and a server that has fewer bytes than were sent) goes on: after
        `retry_delay`, `reconnect`, ask SIZE and send the rest as `resume`
        does (all of it where the server has no SIZE), up to `retries` times;
        then the last error is raised.  That needs a seekable file object.
        """
        if isinstance(local, (str, os.PathLike)):
            with open(local, "rb") as fp:
                return self.upload(
                    fp, remote, resume=resume, callback=callback, blocksize=blocksize,
                    retries=retries, verify=verify,
                )  # fmt: skip
        if isinstance(local, io.TextIOBase) or not hasattr(local, "readinto"):
            # Found only once STOR has replaced the remote file with an empty one.
            raise TypeError("upload() needs a path or a file opened in binary mode")
        algorithm = self._verify_algorithm(verify)
        origin = None  # the position of the first byte to send, if the file can go back to it
        if resume or retries:
            with contextlib.suppress(OSError, ValueError):
                origin = local.tell() if local.seekable() else None
            if resume and origin is None:
                raise io.UnsupportedOperation("upload(resume=True) needs a seekable file")
        with self._cancellable():  # retries and their waits included
            retry = _Retry(self, "upload", remote, retries)
            while True:
                progress = _Progress()
                try:
                    if retry.count:
                        self.reconnect()
                        resume = True
                    return self._upload_from(
                        local,
                        remote,
                        origin,
                        resume,
                        callback,
                        blocksize,
                        progress,
                        algorithm,
                        verify,
                    )
                except Exception as exc:
                    # What was read from a file that cannot go back cannot be sent again.
                    if origin is None or not retry.again(exc, progress):
                        raise

    def _upload_from(
        self,
        local: BinaryIO,
        remote: str,
        origin: int | None,
        resume: bool,
        callback: Callable[[int], object] | None,
        blocksize: int,
        progress: _Progress,
        algorithm: str | None,
        verify: bool | str,
    ) -> int:
        """One attempt of `upload`; with `resume`, from where the server's copy ends."""
        digest = None if algorithm is None else _new_digest(algorithm)
        offset = 0
        if resume:  # only skipping what the server has needs seeking
            assert origin is not None
            offset = self._remote_size(remote) or 0
            length = local.seek(0, os.SEEK_END) - origin
            if offset > length:
                raise error_proto(f"{remote} is longer ({offset}) than the local file ({length})")
            if digest is not None:  # the part the server has is checked too
                _hash_file_part(local, origin, offset, digest)
            local.seek(origin + offset)
            if offset and offset == length:  # complete already: no empty STOR to risk it
                if algorithm is not None and digest is not None:
                    self._check_upload(remote, algorithm, digest.hexdigest())
                return offset
        source = local
        if digest is not None:
            local = _DigestingReader(local, digest)  # type: ignore[assignment]
        self._set_type("I", remote)
        started = time.monotonic()
        command, rest = "STOR " + remote, offset or None
        if rest is not None and not self.has_feature("REST"):
            command, rest = "APPE " + remote, None  # no restartable STOR: append
        opened = False
        try:
            with self._transfer(command, rest, sending=True) as conn:
                opened = True
                sent = _send_file(conn, local, blocksize, callback, self._sendall, progress)
        except error_perm as exc:
            # APPE refused as not implemented (500, 502): the server can neither restart
            # a STOR nor append, so the whole file goes, as download() starts again where
            # the server cannot restart.
            if opened or command[:4] != "APPE" or exc.code not in ("500", "502"):
                raise
            offset = 0
            source.seek(origin)
            local = source
            if algorithm is not None:  # hashed afresh, from the start, as it is sent
                digest = _new_digest(algorithm)
                local = _DigestingReader(source, digest)  # type: ignore[assignment]
            with self._transfer("STOR " + remote, sending=True) as conn:
                sent = _send_file(conn, local, blocksize, callback, self._sendall, progress)
        self._end_transfer()
        total = offset + sent
        size = self._remote_size(remote)
        if size is not None and size != total:
            message = f"{remote}: server has {size} bytes, sent {total}"
            if verify:
                self._discard_upload(remote, message)
            raise (_ShortTransfer if size < total else error_proto)(message)
        if algorithm is not None and digest is not None:
            self._check_upload(remote, algorithm, digest.hexdigest())
        elif verify and size is None:
            raise error_perm(f"502 {remote}: no checksum or SIZE to verify it with")
        _log_transfer("uploaded", remote, sent, offset, started)
        return total

    def _check_upload(self, remote: str, algorithm: str, local_digest: str) -> None:
        """Delete `remote` and raise `_Mismatch` unless the server's digest is `local_digest`."""
        remote_digest = self.checksum(remote, algorithm)[1]
        if remote_digest != local_digest:
            self._discard_upload(
                remote,
                f"{remote}: the server's {algorithm} is {remote_digest}, "
                f"the bytes sent had {local_digest}",
            )

    def _discard_upload(self, remote: str, message: str) -> None:
        """Delete a wrong upload, which must not look complete; raise `_Mismatch`, saying so."""
        try:
            self.delete(remote)
        except (error_perm, error_temp) as exc:
            raise _Mismatch(f"{message}; the server would not delete it: {exc}") from exc
        raise _Mismatch(f"{message}; deleted it from the server")

    def open(self, path: str, mode: str = "rb", *, encoding: str | None = None) -> Any:
        """Open a remote file for streaming: ``'rb'``, ``'wb'``, ``'ab'``, ``'r'``, ``'w'``.

        Returns a file object (read, readinto, iteration or write; context
        manager) that uses bounded memory for any file size.  Closing it reads
        and checks the final reply; closing a download early abandons it, and
        leaving the ``with`` block of an upload by an exception aborts it (ABOR),
        both leaving the control connection usable.  No other command can be
        sent while it is open.  Text modes decode with `encoding` (default:
        the connection's) in binary transfer mode, so the server converts no
        line endings; the text layer translates them as for a local text file
        (universal newlines when reading, os.linesep when writing).
        """
        if mode not in ("rb", "wb", "ab", "r", "w"):
            raise ValueError(f"invalid mode: {mode!r}")
        self._set_type("I", path)
        verb = {"r": "RETR ", "w": "STOR ", "a": "APPE "}[mode[0]]
        raw = _TransferFile(self, self.transfercmd(verb + path), writing=mode[0] != "r")
        if mode[0] == "r":
            reader = io.BufferedReader(raw, 1 << 16)
            if "b" in mode:
                return reader
            return io.TextIOWrapper(reader, encoding=encoding or self.encoding, errors=self.errors)
        writer = _UploadWriter(raw, 1 << 16)
        if "b" in mode:
            return writer
        return _UploadTextWriter(writer, encoding=encoding or self.encoding, errors=self.errors)


@dataclasses.dataclass
class _Session:
    """What `FTP.reconnect` repeats on a new control connection, recorded as it happened."""

    tls: bool = False  # AUTH TLS went through
    login: tuple[str, str, str] | None = None
    acct: str | None = None
    ccc: bool = False
    directory: list[str] = dataclasses.field(default_factory=list)  # cwd() arguments


_MAX_DIRECTORY_TRAIL = 16  # cwd() calls remembered before one PWD replaces them

_CALLERS_TYPE = "chosen by the caller"
"""`FTP._type` after a TYPE command the caller sent: the type is theirs, not ftplib2's."""
_PIPELINED_COMMANDS = frozenset({"RETR", "LIST", "NLST", "MLSD"})
# Commands whose 1xx reply starts a transfer, and the greeting (""), which may be led by 120.
# Any other command's 1xx reply is its answer, as ftplib takes it.
_PRELIMINARY_VERBS = frozenset({"", "RETR", "STOR", "STOU", "APPE", "LIST", "NLST", "MLSD"})
_TRANSFER_VERBS = _PRELIMINARY_VERBS - {""}
_SENDING_VERBS = frozenset({"STOR", "STOU", "APPE"})
_SENDING_METHODS = ("putline", "putcmd", "sendcmd", "makepasv", "makeport", "sendport", "sendeprt")


# Strongest first: the order checksum() tries them in, unless told which.
_CHECKSUM_ALGORITHMS = ("SHA-512", "SHA-256", "SHA-1", "MD5", "CRC32")
# verify=True's order: any of them catches a damaged transfer, and SHA-256 is the fastest
# of the strong ones where CPUs have SHA instructions (x86-64 since about 2017, ARMv8):
# measured hashing 256 MiB, SHA-256 0.24 s, SHA-512 0.35 s, MD5 0.39 s, CRC32 0.12 s.
_VERIFY_ALGORITHMS = ("SHA-256", "SHA-512", "SHA-1", "MD5", "CRC32")
_DIGEST_HEX_LENGTH = {"SHA-512": 128, "SHA-256": 64, "SHA-1": 40, "MD5": 32, "CRC32": 8}
# The older commands that each compute one algorithm, in the order they are tried.
_CHECKSUM_COMMANDS = {
    "SHA-512": ("XSHA512",),
    "SHA-256": ("XSHA256",),
    "SHA-1": ("XSHA1",),
    "MD5": ("XMD5", "MD5"),
    "CRC32": ("XCRC",),
}
_HASH_REPLY_RE = re.compile(
    # draft-bryan-ftpext-hash: "<algorithm> <start>-<end> <hex> <path>"; older
    # FileZilla Servers leave out the range.
    r"(?P<algorithm>\S+) (?:(?P<start>[0-9]+)-[0-9]+ )?(?P<digest>[0-9A-Fa-f]+)(?: .*)?"
)


def _algorithm_name(name: str) -> str | None:
    """The name in `_CHECKSUM_ALGORITHMS` that `name` spells (``sha256``, ``CRC-32``), or None."""
    key = name.upper().replace("-", "").replace("_", "")
    for algorithm in _CHECKSUM_ALGORITHMS:
        if algorithm.replace("-", "") == key:
            return algorithm
    return None


def _hash_feature(params: str) -> dict[str, str]:
    """The algorithms a FEAT line ``HASH SHA-256*;SHA-1;MD5`` offers, as the server spells them.

    Keyed by their names in `_CHECKSUM_ALGORITHMS`; the selected one (marked
    with ``*``) is also under the key ``'*'``.  Names ftplib2 cannot compute
    are left out.
    """
    offered: dict[str, str] = {}
    for item in params.split(";"):
        spelling = item.strip().rstrip("*")
        name = _algorithm_name(spelling)
        if name is not None:
            offered.setdefault(name, spelling)
            if item.strip().endswith("*"):
                offered["*"] = name
    return offered


def _digest_hex(text: str, algorithm: str, resp: str) -> str:
    """`text` in lower case, if it is a hex digest of `algorithm`'s length; else error_proto."""
    if len(text) != _DIGEST_HEX_LENGTH[algorithm] or text.strip(string.hexdigits):
        raise error_proto(f"not a {algorithm} digest: {resp[:200]!r}")
    return text.lower()


class _CRC32:
    """zlib.crc32 behind hashlib's interface (zlib releases the GIL for long buffers too)."""

    def __init__(self) -> None:
        self._value = 0

    def update(self, data: Any) -> None:
        self._value = zlib.crc32(data, self._value)

    def hexdigest(self) -> str:
        return f"{self._value:08x}"


def _new_digest(algorithm: str) -> Any:
    """A fresh local digest of `algorithm`, with hashlib's update() and hexdigest()."""
    if algorithm == "CRC32":
        return _CRC32()
    # Checking a transfer, not security: MD5 too where a FIPS policy forbids it for that.
    return hashlib.new(algorithm.replace("-", "").lower(), usedforsecurity=False)


_DIGEST_CHUNK = 1 << 20  # bytes read at a time to hash a local file


def _hash_file_part(fp: Any, start: int, length: int, digest: Any) -> None:
    """Feed `digest` `length` bytes of `fp` from `start`, leaving `fp` where it was."""
    if not length:
        return
    where = fp.tell()
    fp.seek(start)
    try:
        while length:
            data = fp.read(min(_DIGEST_CHUNK, length))
            if not data:
                raise error_proto(f"the local file ends {length} bytes short")
            digest.update(data)
            length -= len(data)
    finally:
        fp.seek(where)


class _DigestingWriter:
    """A file that hashes what is written to it, for download() into a file object."""

    def __init__(self, file: BinaryIO, digest: Any) -> None:
        self._file = file
        self._digest = digest

    def write(self, data: Any) -> int:
        self._digest.update(data)
        return self._file.write(data)


class _DigestingReader:
    """A file that hashes what is read from it, for upload()."""

    def __init__(self, file: BinaryIO, digest: Any) -> None:
        self._file = file
        self._digest = digest

    def readinto(self, buffer: Any) -> int:
        n = self._file.readinto(buffer)  # type: ignore[attr-defined]
        if n:
            self._digest.update(memoryview(buffer)[:n])
        return n


class _TrailingDigest:
    """The digest of a file being written, computed by a thread of its own behind the writer.

    download() splices the bytes into the file inside the kernel, where Python never sees
    them; reading them back from the page cache while the transfer goes on costs less than
    giving up the splice to hash them in the receiving loop, and leaves the hashing to
    another core.  Measured on 256 MiB over loopback (Doc/howto/transfers.rst), with SHA-256:
    the transfer alone took 0.21 s, with this digest 0.23 s, hashed in the loop 0.40 s, and
    hashed after the transfer 0.38 s.  It hashes what is in the file, too.

    The writer reports each block with `progress`'s callback; `hexdigest` waits for the
    thread to hash the last one.  Leaving the ``with`` block stops the thread.
    """

    def __init__(self, fd: int, algorithm: str, length: int, base: int = 0) -> None:
        self._fd = fd
        self._base = base  # where the file's first byte is in `fd`
        self._digest = _new_digest(algorithm)
        self._length = length  # the bytes in the file so far, to hash
        self._stopping = False  # stop at once, the digest unwanted
        self._finishing = False  # stop once all is hashed
        self._error: BaseException | None = None
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="ftplib2-digest", daemon=True)
        self._thread.start()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        with self._changed:
            self._stopping = True
            self._changed.notify()
        self._thread.join()

    def progress(
        self, fp: BinaryIO, callback: Callable[[int], object] | None
    ) -> Callable[[int], object]:
        """A callback for each block written into `fp`'s file, calling `callback` too."""

        def written(n: int) -> None:
            fp.flush()  # unless spliced, the block may still be in fp's buffer
            with self._changed:
                self._length += n
                self._changed.notify()
            if callback is not None:
                callback(n)

        return written

    def grow_to(self, length: int) -> None:
        """The file's first `length` bytes are written (a segmented download's whole prefix)."""
        with self._changed:
            if length > self._length:
                self._length = length
                self._changed.notify()

    def hexdigest(self) -> str:
        """Wait until all that was written is hashed; return the digest."""
        with self._changed:
            self._finishing = True
            self._changed.notify()
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._digest.hexdigest()

    def _run(self) -> None:
        done = 0
        try:
            while True:
                with self._changed:
                    while not (self._stopping or self._finishing or self._length > done):
                        self._changed.wait()
                    length = self._length
                    if self._stopping or (self._finishing and done == length):
                        return
                while done < length and not self._stopping:
                    data = os.pread(self._fd, min(_DIGEST_CHUNK, length - done), self._base + done)
                    if not data:
                        raise error_proto(f"the file being hashed ends at {done} bytes")
                    self._digest.update(data)
                    done += len(data)
        except BaseException as exc:  # noqa: BLE001 - raised by hexdigest()
            self._error = exc


_LocalFile = str | os.PathLike[str] | BinaryIO


def _batch_item(item: Sequence[Any]) -> tuple[str, Any, int | None]:
    """An item of `FTP.download_many`'s files as (remote, local, size)."""
    if len(item) == 2:
        return item[0], item[1], None
    if len(item) == 3:
        return item[0], item[1], item[2]
    raise ValueError(
        f"download_many() takes (remote, local) or (remote, local, size), not {item!r}"
    )


def _check_size(what: str, total: int, expected: int | None) -> None:
    """Raise unless a transfer's byte count matches the size known for it."""
    if expected is not None and total != expected:
        cls = _ShortTransfer if total < expected else error_proto
        raise cls(f"{what}: received {total} bytes of {expected}")


class _Progress:
    """What one attempt of a transfer moved, and whether it failed on the local side."""

    __slots__ = ("done", "failed_locally")

    def __init__(self) -> None:
        self.done = 0  # bytes written to the local file, or sent to the server
        self.failed_locally = False

    @contextlib.contextmanager
    def local(self) -> Iterator[None]:
        """Around local work (the file, the callback): a failure there is never retried."""
        try:
            yield
        except BaseException:
            self.failed_locally = True
            raise


# Errors of the network, after which a transfer may go on over a new connection.  A local
# file's errors (ENOSPC, EIO, EROFS...) are none of these.
_RETRY_ERRNOS = frozenset(
    getattr(errno, name)
    for name in (
        "ECONNRESET", "ECONNABORTED", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "ENETUNREACH",
        "EHOSTUNREACH", "ENETDOWN", "EHOSTDOWN", "ENETRESET", "ENOTCONN",
    )
    if hasattr(errno, name)
)  # fmt: skip
_RETRY_CODES = frozenset({"421", "425", "426"})
_MAX_RETRY_DELAY = 30.0


def _retryable(exc: BaseException) -> bool:
    """Whether a transfer that failed with `exc` was broken by the network or the server's state."""
    if isinstance(exc, (TimeoutError, EOFError, _ShortTransfer)):
        return True
    if isinstance(exc, error_temp):
        return str(exc)[:3] in _RETRY_CODES
    if ssl is not None and isinstance(exc, ssl.SSLError):
        # A TLS stream cut short fails in many ways (a ragged EOF, then a shutdown that
        # cannot finish...); a certificate that is refused stays refused.
        return not isinstance(exc, ssl.SSLCertVerificationError)
    return isinstance(exc, OSError) and exc.errno in _RETRY_ERRNOS


def _counted(
    callback: Callable[[int], object] | None, progress: _Progress
) -> Callable[[int], object]:
    """`callback`, counting the bytes into `progress`; an exception from it is a local failure."""

    def counted(nbytes: int) -> None:
        progress.done += nbytes
        if callback is not None:
            with progress.local():
                callback(nbytes)

    return counted


class _Retry:
    """The retries of one `download` or `upload`: which errors, how many, how long to wait."""

    def __init__(self, ftp: FTP, verb: str, remote: str, retries: int) -> None:
        self.ftp = ftp
        self.verb = verb
        self.remote = remote
        self.retries = retries
        self.count = 0  # retries so far
        self.stuck = 0  # failed attempts in a row that moved no byte

    def again(self, exc: BaseException, progress: _Progress) -> bool:
        """After a failed attempt: False to raise `exc`; True, having waited, to try again."""
        self.ftp._raise_if_cancelled(exc)
        if self.count >= self.retries or progress.failed_locally or not _retryable(exc):
            return False
        self.count += 1
        self.stuck = 0 if progress.done else self.stuck + 1
        delay = min(self.ftp.retry_delay * 2 ** max(self.stuck - 1, 0), _MAX_RETRY_DELAY)
        _log.info(
            "%s %s: %s; retry %d of %d in %.2f s",
            self.verb, self.remote, exc or type(exc).__name__, self.count, self.retries, delay,
        )  # fmt: skip
        if self.ftp._cancelled.wait(delay):
            self.ftp._raise_if_cancelled(exc)
        return True


_PART_SUFFIX = ".ftplib2-part"
_NAME_MAX = 255  # bytes in one file name: Linux, the BSDs and macOS alike


def _partial_prefix(final: str) -> tuple[str, str]:
    """The directory of `final`, and how the names of its partial files start."""
    directory, name = os.path.split(final)
    # Room for the inode number and the suffix, or the partial file could not be created.
    if len(os.fsencode(name)) > _NAME_MAX - 2 - 20 - len(_PART_SUFFIX):
        name = hashlib.sha256(os.fsencode(name)).hexdigest()
    return directory, f".{name}."


def _is_own_partial(st: os.stat_result, number: str) -> bool:
    """Whether a file named with `number` is a partial file that download() made.

    Its name carries its own inode number, which is known only once the file
    exists: no download, copy or restore from a backup gives a file a name
    with that, and no file gets it by chance.  One link, and (where there are
    owners) ours, so that a file planted in a shared directory is not taken.
    """
    return (
        stat.S_ISREG(st.st_mode)
        and number == str(st.st_ino)
        and st.st_nlink == 1
        and (not hasattr(os, "geteuid") or st.st_uid == os.geteuid())
    )


def _open_partial(
    final: str, resume: bool, readable: bool = False, segmented: bool = False
) -> tuple[int, str, bool]:
    """Open the partial file of a download to `final`; return its fd, path, and whether new.

    The partial file a previous download left is continued (with `resume`)
    or emptied and reused; any other file is left alone, and a new partial
    file is created beside it.  Nothing is followed through a symbolic link.
    Write-only, unless `readable` (verify=True hashes what was written).
    Unless `segmented` (the caller reads it), the record of a segmented
    download beside the partial file is taken into account and removed: a
    download in order keeps only the part before the record's first hole.
    """
    directory, prefix = _partial_prefix(final)
    # Write-only, not append mode: splice(2) refuses O_APPEND files.
    access = os.O_RDWR if readable else os.O_WRONLY
    flags = access | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    with os.scandir(directory or os.curdir) as entries:
        for entry in entries:
            number = entry.name[len(prefix) : -len(_PART_SUFFIX)]
            # lstat, not entry.stat(): that has no inode numbers on Windows.
            if not (
                entry.name.startswith(prefix)
                and entry.name.endswith(_PART_SUFFIX)
                and _is_own_partial(os.lstat(entry.path), number)
            ):
                continue
            try:
                fd = os.open(entry.path, flags)
            except OSError:  # gone or replaced since (a link: O_NOFOLLOW): not ours to use
                continue
            if _is_own_partial(os.fstat(fd), number):  # still that file, not one put in its place
                if not resume:
                    os.ftruncate(fd, 0)
                if not segmented:
                    try:
                        _forget_segments(entry.path, fd, resume)
                    except BaseException:
                        os.close(fd)
                        raise
                return fd, entry.path, not resume
            os.close(fd)
    # A new one: created under a name nobody has, then renamed after its inode number.
    held: list[tuple[int, str]] = []
    try:
        for _ in range(100):
            scratch = os.path.join(directory, f"{prefix}{os.urandom(8).hex()}.ftplib2-new")
            fd = os.open(scratch, flags | os.O_CREAT | os.O_EXCL, 0o666)
            held.append((fd, scratch))
            partial = os.path.join(directory, f"{prefix}{os.fstat(fd).st_ino}{_PART_SUFFIX}")
            if not os.path.lexists(partial):
                os.rename(scratch, partial)
                held.pop()
                # A segments record left by an earlier partial file of that number (deleted
                # by hand) would be taken for this one's.
                with contextlib.suppress(OSError):
                    os.unlink(_segments_record_path(partial))
                return fd, partial, True
            # Taken, by a copy of a partial file whose inode number has come free since:
            # keep this file open, so that the next one gets another number.
        raise FileExistsError(errno.EEXIST, "no free name for a partial file", partial)
    finally:
        for fd, scratch in held:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(scratch)


# The record of a segmented download: which parts of its partial file are still to come.
# ``.<name>.<inode>.ftplib2-segments`` beside ``.<name>.<inode>.ftplib2-part`` (the same
# number), so that it belongs to that one partial file and no other.
_SEGMENTS_SUFFIX = ".ftplib2-segments"
_SEGMENTS_FORMAT = "ftplib2-segments/1"
_MAX_RECORD = 1 << 20  # bytes: a record longer than this is not one of ours
_RECORD_INTERVAL = 0.5  # seconds between saves of the record while a download runs
_MIN_PIECE = 1 << 17  # bytes of the file per connection, at least: less is not worth opening one
_MIN_STEAL = 1 << 14  # bytes: the smallest part of a range another connection takes over
_MIN_GAIN = 0.02  # seconds a range must end sooner for another connection to take part of it


def _segments_record_path(partial: str) -> str:
    return partial[: -len(_PART_SUFFIX)] + _SEGMENTS_SUFFIX


@dataclasses.dataclass
class _Outstanding:
    """What a segments record says: the file's size and the (start, end) ranges still to come.

    `size` None: there is a record, but it cannot be trusted (torn, foreign, or
    of another version of the file): nothing of the partial file is.
    """

    size: int | None
    todo: list[tuple[int, int]]

    @property
    def prefix(self) -> int:
        """How many bytes from the start of the partial file are there without a hole."""
        if self.size is None:
            return 0
        return self.todo[0][0] if self.todo else self.size


def _read_segments(partial: str) -> _Outstanding | None:
    """The record beside `partial`, or None if there is none."""
    path = _segments_record_path(partial)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        return None
    except OSError:  # a link, say: not ours, and what it stands for is unknown
        return _Outstanding(None, [])
    try:
        st = os.fstat(fd)
        own = _is_own_partial(st, str(st.st_ino)) and st.st_size <= _MAX_RECORD
        data = os.read(fd, _MAX_RECORD + 1) if own else b""
    finally:
        os.close(fd)
    try:
        record = json.loads(data)
        size, todo = record["size"], [tuple(r) for r in record["todo"]]
        if record["format"] != _SEGMENTS_FORMAT or type(size) is not int or size < 0:
            raise ValueError("not a segments record")
        end = 0
        for start, stop in todo:  # in order, apart, inside the file
            if not (type(start) is int and type(stop) is int and end <= start < stop <= size):
                raise ValueError("not a segments record")
            end = stop
    except (ValueError, KeyError, TypeError):
        return _Outstanding(None, [])
    return _Outstanding(size, todo)  # type: ignore[arg-type]


def _forget_segments(partial: str, fd: int, resume: bool) -> None:
    """Remove the segments record of `partial`, open as `fd`, if it has one.

    Resumed in order, the partial file keeps only the bytes before the
    record's first hole; its holes would otherwise be taken for data.
    """
    outstanding = _read_segments(partial)
    if outstanding is None:
        return
    if resume:
        os.ftruncate(fd, min(outstanding.prefix, os.fstat(fd).st_size))
    with contextlib.suppress(FileNotFoundError):
        os.unlink(_segments_record_path(partial))


class _SegmentsRecord:
    """The segments record of one download, kept up to date while it runs.

    Created new (O_EXCL, O_NOFOLLOW) before the partial file grows holes,
    rewritten in place, and removed once the file is whole.  Each version is
    padded with spaces to the length of the one before (JSON allows them), so
    that a process killed while rewriting it leaves no tail of an older one.
    It only ever lists as written bytes that were: a crash loses at most the
    progress since the last save.
    """

    def __init__(self, partial: str) -> None:
        self.path = _segments_record_path(partial)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)  # a stale one, or a link planted there: never written through
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        self._fd: int | None = os.open(self.path, flags | getattr(os, "O_BINARY", 0), 0o666)
        self._length = 0
        self.saved_at = 0.0

    def save(self, size: int, todo: list[tuple[int, int]]) -> None:
        if self._fd is None:
            return
        text = json.dumps({"format": _SEGMENTS_FORMAT, "size": size, "todo": todo})
        data = text.encode("ascii").ljust(self._length)
        os.pwrite(self._fd, data, 0)
        self._length = len(data)
        self.saved_at = time.monotonic()

    def close(self, remove: bool) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)
        if remove:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)


def _preallocate(fd: int, length: int) -> None:
    """Give the file `fd` its final `length`, its blocks reserved where the system can."""
    if os.fstat(fd).st_size >= length:
        return
    if hasattr(os, "posix_fallocate"):
        try:
            os.posix_fallocate(fd, 0, length)
            return
        except OSError as exc:  # a file system without it (EOPNOTSUPP, EINVAL): a sparse file
            if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
                raise
    os.ftruncate(fd, length)


class _Meter:
    """The recent receiving rate of one connection, in bytes per second."""

    WINDOW = 1.0  # seconds of history the rate is taken over
    WARMUP = 0.05  # seconds of data before the rate of a new transfer counts

    def __init__(self) -> None:
        self.total = 0
        self._samples: collections.deque[tuple[float, int]] = collections.deque()
        self._previous: float | None = None  # the rate of the transfer before this one

    def restart(self) -> None:
        """A new transfer begins: what it takes to set it up is no part of the rate."""
        rate = self.rate(time.monotonic())
        if rate is not None:
            self._previous = rate
        self._samples.clear()

    def add(self, n: int, now: float) -> None:
        self.total += n
        if not self._samples:  # the first block of a transfer: the clock starts after it
            self._samples.append((now, self.total))
            return
        self._samples.append((now, self.total))
        while len(self._samples) > 2 and self._samples[1][0] < now - self.WINDOW:
            self._samples.popleft()

    def rate(self, now: float) -> float | None:
        """Bytes per second lately (falling while nothing arrives); None if unknown yet."""
        if not self._samples or now - self._samples[0][0] < self.WARMUP:
            return self._previous
        since, before = self._samples[0]
        return (self.total - before) / (now - since)


class _Range:
    """Bytes ``[pos, end)`` of the file, still to come; `owner` is fetching them."""

    __slots__ = ("end", "owner", "pos", "writing")

    def __init__(self, pos: int, end: int) -> None:
        self.pos = pos  # the bytes before it are in the file
        self.end = end  # lowered when another connection takes over the rest
        self.writing = 0  # bytes from `pos` on being written at this moment
        self.owner: _Worker | None = None


class _Worker:
    """One connection of a segmented download: its rate, its range, its data connection."""

    def __init__(self, ftp: FTP) -> None:
        self.ftp = ftp
        self.meter = _Meter()
        self.startup: float | None = None  # seconds from a RETR's start to its first byte
        self.range: _Range | None = None
        self.conn: socket.socket | None = None


class _Stop(Exception):
    """A connection's range ended before the file does: its RETR is dropped."""


class _Segments:
    """The shared state of a segmented download: the ranges, who has which, how it ends.

    Every field is guarded by `changed`'s lock.  A connection asks `take` for
    a range, reports each block through `write`, and gives a range back with
    `give_back` when it fails; `fail` stops them all.
    """

    def __init__(
        self,
        first: FTP,
        fd: int,
        base: int,
        size: int,
        todo: list[tuple[int, int]],
        record: _SegmentsRecord | None,
        digest: _TrailingDigest | None,
        callback: Callable[[int], object] | None,
    ) -> None:
        self.changed = threading.Condition()
        self.first = first  # the caller's connection: never closed here
        self.fd = fd
        self.base = base  # where the file's first byte goes in `fd`
        self.size = size
        self.waiting = [_Range(start, end) for start, end in todo]  # nobody's, in order
        self.running: list[_Range] = []
        self.workers: list[_Worker] = []
        self.record = record
        self.digest = digest
        self.callback = callback
        self._callback_lock = threading.Lock()
        self.error: BaseException | None = None  # the first fatal one: raised by download()
        self.lost: BaseException | None = None  # the first that cost a connection
        self.stopping = False
        self.moved = 0
        # Extra connections: how many more to open, how many are being opened, their threads.
        self.to_open = 0
        self.opening = 0
        self.accepted = 1  # connections that came up, the caller's included
        self.refused = False  # the server refused one: open no more
        self.threads: list[threading.Thread] = []

    # -- the ranges --------------------------------------------------------------

    def todo(self) -> list[tuple[int, int]]:
        ranges = [(r.pos, r.end) for r in self.running + self.waiting if r.pos < r.end]
        return sorted(ranges)

    def done(self) -> bool:
        """Whether every byte is in the file (a connection may still be winding down)."""
        return not any(r.pos < r.end for r in self.running + self.waiting)

    def prefix(self) -> int:
        """How many bytes from the file's start are written without a hole."""
        starts = [r.pos for r in self.running + self.waiting if r.pos < r.end]
        return min(starts, default=self.size)

    def take(self, worker: _Worker) -> _Range | None:
        """The next range for `worker`: waiting first, else part of the one to end last.

        Waits while there is nothing worth taking over yet; None once the
        download is complete or stopping.
        """
        with self.changed:
            while not self.stopping and not self.done():
                rng = self.waiting.pop(0) if self.waiting else self._steal(worker)
                if rng is not None:
                    rng.owner = worker
                    self.running.append(rng)
                    worker.range = rng
                    return rng
                # Rates change, and a connection that stalls should be relieved: look again.
                self.changed.wait(0.1)
            return None

    def _steal(self, thief: _Worker) -> _Range | None:
        """Split off the end of the range expected to finish last, if that saves time.

        The split is where both connections are expected to finish together,
        from their recent rates (and the time a new RETR takes to start): half
        of the range between connections of the same speed, more of it from a
        slower one, all that is left from one that has stalled.  Only worth it
        if that brings the range's end forward by more than a new RETR costs.
        """
        now = time.monotonic()
        rates = [r for w in self.workers if (r := w.meter.rate(now))]
        typical = sum(rates) / len(rates) if rates else 1.0
        startups = [w.startup for w in self.workers if w.startup is not None]
        startup = thief.startup if thief.startup is not None else max(startups, default=0.0)
        thief_rate = thief.meter.rate(now) or typical
        best: tuple[float, _Range, int] | None = None
        for rng in self.running:
            owner = rng.owner
            start = rng.pos + rng.writing
            left = rng.end - start
            if owner is None or left < 2 * _MIN_STEAL:
                continue
            rate = owner.meter.rate(now)
            if rate is None:
                rate = typical
            if rate <= 0:
                split = start  # stalled: all of it
            else:
                # Both finish at once: (split - start) / rate == startup + (end - split) / thief_rate
                split = int(
                    (startup + rng.end / thief_rate + start / rate) / (1 / rate + 1 / thief_rate)
                )
            split = max(split, start)
            finish = left / rate if rate > 0 else float("inf")
            gain = finish - (split - start) / rate if rate > 0 else finish
            if rng.end - split < _MIN_STEAL or gain < max(_MIN_GAIN, startup):
                continue
            if best is None or finish > best[0]:
                best = finish, rng, split
        if best is None:
            return None
        _, victim, split = best
        stolen = _Range(split, victim.end)
        victim.end = split
        if split == victim.pos and not victim.writing and victim.owner.conn is not None:
            # All of it: the stalled connection is woken to drop its transfer.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(victim.owner.conn, socket.SHUT_RDWR)
        return stolen

    def give_back(self, worker: _Worker, exc: BaseException) -> None:
        """`worker`'s connection failed: its range is for the others, and it is gone."""
        with self.changed:
            if self.lost is None:
                self.lost = exc
            self._release(worker)
            if worker in self.workers:
                self.workers.remove(worker)
            if not self.workers and not self.opening and not self.done():
                self._stop(exc)
            self.changed.notify_all()

    def finish(self, worker: _Worker) -> None:
        """`worker` is through with its range: complete, taken over, or stopped."""
        with self.changed:
            self._release(worker)
            self.changed.notify_all()

    def _release(self, worker: _Worker) -> None:
        """Take `worker`'s range from it; what is left of it waits for a connection."""
        rng, worker.range = worker.range, None
        if rng is not None and rng in self.running:
            self.running.remove(rng)
            rng.owner = None
            if rng.pos < rng.end:
                self.waiting.append(rng)
                self.waiting.sort(key=lambda r: r.pos)

    # -- the bytes ------------------------------------------------------------------

    def wanted(self, rng: _Range) -> int:
        """How many bytes `rng` still wants (0: ended, or stopping)."""
        with self.changed:
            return 0 if self.stopping else rng.end - rng.pos

    def write(self, worker: _Worker, rng: _Range, data: memoryview) -> int:
        """Write what of `data` (the bytes at `rng.pos` on) is still `rng`'s; return how many."""
        with self.changed:
            n = min(len(data), rng.end - rng.pos)
            rng.writing = n  # a range split meanwhile is split after these
            offset = self.base + rng.pos
        try:
            view = data[:n]
            while view:
                view = view[os.pwrite(self.fd, view, offset) :]
                offset = self.base + rng.pos + n - len(view)
        except BaseException as exc:
            self.fail(exc)  # the local file failed: no connection can help
            raise
        now = time.monotonic()
        with self.changed:
            rng.pos += n
            rng.writing = 0
            self.moved += n
            worker.meter.add(n, now)
            if self.digest is not None:
                self.digest.grow_to(self.prefix())
            if self.record is not None and now - self.record.saved_at > _RECORD_INTERVAL:
                self.record.save(self.size, self.todo())
            if rng.pos >= rng.end:
                self.changed.notify_all()
        if self.callback is not None:
            try:
                with self._callback_lock:
                    self.callback(n)
            except BaseException as exc:
                self.fail(exc)
                raise
        return n

    # -- stopping -------------------------------------------------------------------

    def fail(self, exc: BaseException) -> None:
        """Stop every connection: `exc` is what download() raises."""
        with self.changed:
            self._stop(exc)

    def _stop(self, exc: BaseException) -> None:
        if self.error is None:
            self.error = exc
        self.stopping = True
        self.to_open = 0
        for worker in self.workers:
            # Unblocks a receiving thread at once; its transfer is then dropped as any is.
            # An extra connection's control connection too: it is closed anyway.
            for sock in (worker.conn, None if worker.ftp is self.first else worker.ftp.sock):
                if sock is not None:
                    with contextlib.suppress(OSError):
                        socket.socket.shutdown(sock, socket.SHUT_RDWR)
        self.changed.notify_all()

    def wait_end(self) -> None:
        """Wait until the download is complete or stopping."""
        with self.changed:
            while not self.stopping and not self.done():
                self.changed.wait(0.1)

    # -- extra connections ------------------------------------------------------------

    def spawn(self, count: int, target: Callable[[], None]) -> None:
        """Start opening up to `count` more connections, each in a thread running `target`.

        The first connection asks for one, and each that comes up for two more:
        never more attempts at once than connections that were accepted, and
        none after a refusal.
        """
        with self.changed:
            count = 0 if self.refused or self.stopping else min(count, self.to_open)
            self.to_open -= count
            self.opening += count
            threads = [
                threading.Thread(target=target, name="ftplib2-segment", daemon=True)
                for _ in range(count)
            ]
            self.threads += threads
        for thread in threads:
            thread.start()

    def opened(self, worker: _Worker | None, exc: BaseException | None = None) -> bool:
        """An extra connection came up (`worker`) or failed (`exc`); False: not wanted now."""
        with self.changed:
            self.opening -= 1
            if worker is not None and not self.stopping and not self.done():
                self.workers.append(worker)
                self.accepted += 1
                return True
            if exc is not None:
                if isinstance(exc, Error) and exc.code in ("421", "530"):
                    # "Too many connections": 421 as it connects, or 530 to a login that
                    # worked on the first connection.  Open no more.
                    self.refused = True
                    self.to_open = 0
                    _log.info("the server refused connection %d: %s", self.accepted + 1, exc)
                if self.lost is None:
                    self.lost = exc
                if not self.workers and not self.opening and not self.done():
                    self._stop(exc)
            self.changed.notify_all()
            return False

    def join(self) -> None:
        """Wait for every extra connection's thread, those started meanwhile too."""
        with self.changed:
            self.to_open = 0
        joined = 0
        while True:
            with self.changed:
                if joined == len(self.threads):
                    return
                thread = self.threads[joined]
            thread.join()
            joined += 1


def _child(directory: str, name: str) -> str:
    """Join a listed name to its directory, refusing names that would leave it."""
    if not name or name in (".", "..") or "/" in name or "\0" in name:
        raise error_proto(f"refusing listed name {name!r} in {directory!r}")
    return posixpath.join(directory, name)


def _join(rel: str, name: str) -> str:
    """A path below a walk's top, '/'-separated ('' is the top)."""
    return f"{rel}/{name}" if rel else name


# --------------------------------------------------------------------------
# Walking a tree without leaving it
# --------------------------------------------------------------------------


class TreeWalker:
    """Lists the directories of one tree on a server, without leaving the tree.

    `FTP.walk`, `FTP.rmtree` and ftpmirror list through one.  Each directory
    is entered with CWD (which proves it is one) and listed there, so no
    path ever reaches LIST; its entries come typed as `FTP.scandir` gives
    them, except that a directory the server shows to be a link by any
    means it has is typed ``'link'``: LIST mode bits, MLSD
    ``type=OS.unix=slink`` or a ``unix.mode`` with the link type, and, for
    MLSD listings (which may follow links), the mode bits of a LIST of the
    same directory.  `scandir` refuses (`WalkRefused`) to enter a
    directory whose ``unique`` fact or working directory (PWD) was seen
    before in this walk, whose PWD is not the one its name leads to (a link
    the server resolved), or whose listings disagree about it.  More than
    `max_dirs` directories or `max_entries` entries in all raise
    `WalkLimitError` (None: no bound).  `lister`, if given, is called with
    the path being listed and lists the working directory (which is that
    directory) in place of ``ftp.scandir()``.

    The working directory changes as directories are entered; `restore`
    changes back to the one PWD named when the walker was made, and so does
    leaving a ``with`` block on the walker.
    """

    dirs = 0
    """How many directories this walker has listed."""
    entries = 0
    """How many entries those directories held."""

    def __init__(
        self,
        ftp: FTP,
        top: str = "",
        *,
        max_dirs: int | None = MAX_WALK_DIRS,
        max_entries: int | None = MAX_WALK_ENTRIES,
        lister: Callable[[str], list[Entry]] | None = None,
    ) -> None:
        self.ftp = ftp
        self.top = top
        self.max_dirs = max_dirs
        self.max_entries = max_entries
        self.lister = lister
        self._home = ftp._working_directory()
        self._away = False
        self._root: str | None = None  # the top, as PWD names it once entered
        self._places: dict[str, str] = {}  # PWD of each directory entered -> its path
        self._uniques: dict[str, str] = {}  # unique fact of each directory entered -> its path
        # path of each entry listed but files -> its unique fact ('' if none): not files,
        # so that a walk of a million files does not hold a million entries.
        self._listed: dict[str, str] = {}
        self._doubts: dict[str, str] = {}  # path -> why its listings disagree about it

    @property
    def home(self) -> str:
        """The working directory when the walker was made, as PWD named it."""
        return self._home[0]

    @property
    def root(self) -> str | None:
        """The top of the walk as PWD named it once listed; None before that.

        When it is an absolute path, ``posixpath.join(walker.root, rel)`` names
        a listed directory or file for any connection of the same login, wherever
        this one's working directory is.
        """
        return self._root

    def scandir(self, rel: str = "") -> list[Entry]:
        """Enter directory `rel` of the tree and list it.

        `rel` is '' for the top, else the names leading to it from the top,
        joined with '/', as the walk listed them.  Raises `WalkRefused` for
        a directory it will not enter, `WalkLimitError` past a bound, and
        whatever entering or listing raises (`error_perm` for a directory
        that cannot be entered or read).  The working directory stays the
        listed one until `restore`, or goes back at once if this raises (if
        that fails too, a note on the exception says so).
        """
        label = posixpath.join(self.top, rel) if self.top and rel else rel or self.top or "."
        if self.max_dirs is not None and self.dirs >= self.max_dirs:
            raise WalkLimitError(
                f"{label}: more than {self.max_dirs} directories in the walk of "
                f"{self.top or '.'} (max_dirs): a loop, or a bigger tree than allowed"
            )
        try:
            self._enter(rel, label)
            entries = self._list(rel)
        except WalkRefused:
            self.restore()  # callers go on with the walk: it must be where it began
            raise
        except BaseException as exc:
            self._restore_after(exc)
            raise
        self.dirs += 1
        self.entries += len(entries)
        if self.max_entries is not None and self.entries > self.max_entries:
            self.restore()
            raise WalkLimitError(
                f"{label}: more than {self.max_entries} entries in the walk of "
                f"{self.top or '.'} (max_entries): a loop, or a bigger tree than allowed"
            )
        for entry in entries:
            if entry.type != "file":
                self._listed[_join(rel, entry.name)] = entry.unique or ""
        return entries

    def restore(self) -> None:
        """Change back to the working directory the walk started from, if it left it."""
        if self._away:
            self.ftp._return_to(self._home)
            self._away = False

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """`restore`; an exception from the block is never replaced.

        A connection closed meanwhile has no working directory left to
        restore: then nothing is sent, and nothing raised.
        """
        if exc is None:
            if self.ftp.sock is not None:
                self.restore()
        else:
            self._restore_after(exc)

    def _restore_after(self, exc: BaseException) -> None:
        if self.ftp.sock is not None:
            try:
                self.restore()
            except all_errors as failure:  # the first failure is the one to report
                exc.add_note(f"the working directory could not be restored: {failure}")

    def _enter(self, rel: str, label: str) -> None:
        ftp = self.ftp
        if not rel:
            if self._root is not None or self.top:
                self._away = True
                place = ftp._enter_directory(self._root if self._root is not None else self.top)[0]
            else:
                place = ftp._working_directory()[0]
            self._root = place
            self._places.setdefault(place, "")
            unique = self._unique_of_top()
            if unique:
                self._uniques.setdefault(unique, "")
            return
        for name in rel.split("/"):
            _child(label, name)  # refuses a name that would leave the tree
        if self._root is None:
            raise ValueError("list the top of the walk first")
        why = self._doubts.get(rel)
        if why is not None:
            raise _refused(label, why)
        unique = self._listed.get(rel)
        if unique and unique in self._uniques:
            raise _refused(label, self._same_as(self._uniques[unique]))
        # An absolute path from the top's PWD: no CWD depends on the one before it.
        self._away = True
        if self._root.startswith("/"):
            place = ftp._enter_directory(posixpath.join(self._root, rel))[0]
        else:
            ftp.cwd(self._root)
            place = ftp._enter_directory(rel)[0]
        if place in self._places:
            raise _refused(label, self._same_as(self._places[place]))
        expected = posixpath.join(self._root, rel)
        if self._root.startswith("/") and place.rstrip("/") != expected.rstrip("/"):
            inside = place.startswith(self._root.rstrip("/") + "/")
            where = "" if inside else ", outside the tree"
            raise _refused(label, f"a link to {place}{where}")
        self._places[place] = rel
        if unique:
            self._uniques[unique] = rel

    @staticmethod
    def _same_as(rel: str) -> str:
        return f"same directory as {rel or 'the top'} (a link?)"

    def _unique_of_top(self) -> str | None:
        if not self.ftp.has_feature("MLST"):
            return None
        try:
            resp = self.ftp.voidcmd("MLST .")
        except (error_perm, error_temp, error_reply):
            return None
        for line in resp.lines[1:]:
            if line.startswith(" "):
                with contextlib.suppress(error_proto):
                    return parse_mlsx_line(line[1:]).unique
        return None

    def _list(self, rel: str) -> list[Entry]:
        entries = self.lister(rel) if self.lister is not None else self.ftp.scandir()
        entries = [_typed_by_mode(entry) for entry in entries]
        # MLSD may follow links (pyftpdlib, pure-ftpd -b): ask LIST, whose ls marks them.
        unsure = {e.name for e in entries if e.type == "dir" and e.facts}
        if not unsure:
            return entries
        listed = self._unix_listing()
        checked = []
        for entry in entries:
            other = listed.get(entry.name) if entry.name in unsure else None
            if other is not None and other.type == "link":
                entry = dataclasses.replace(entry, type="link", target=other.target)
            elif other is not None and other.type != "dir":
                why = f"MLSD lists a directory, LIST a {other.type}"
                self._doubts[_join(rel, entry.name)] = why
            checked.append(entry)
        return checked

    def _unix_listing(self) -> dict[str, Entry]:
        """The working directory's entries in LIST lines of ``ls -l`` form, by name."""
        lines: list[str] = []
        try:
            self.ftp.retrlines("LIST", lines.append)
        except (error_perm, error_temp):
            return {}
        found = {}
        now = datetime.datetime.now(datetime.UTC)
        for line in lines:
            if not _UNIX_MODE_RE.match(line):  # MS-DOS and EPLF lines do not show links
                continue
            with contextlib.suppress(error_proto):
                entry = parse_list_line(line, now)
                if entry is not None:
                    found[entry.name] = entry
        return found


def _refused(path: str, reason: str) -> WalkRefused:
    refusal = WalkRefused(f"550 {path}: not entered: {reason}")
    refusal.reason = reason
    return refusal


def _typed_by_mode(entry: Entry) -> Entry:
    """`entry`, typed ``'link'`` if an MLSD ``unix.mode`` fact with file-type bits says so."""
    text = entry.facts.get("unix.mode", "")
    # Most servers send the permission bits only (0755): those tell nothing.
    if entry.type == "dir" and _OCTAL_RE.fullmatch(text) and stat.S_ISLNK(int(text, 8)):
        return dataclasses.replace(entry, type="link")
    return entry


_OCTAL_RE = re.compile(r"[0-7]{1,8}", re.ASCII)


def _spliceable(conn: socket.socket, fd: int) -> bool:
    """Whether splice(2) can move `conn`'s bytes into `fd`: Linux, no TLS, a regular file."""
    return (
        hasattr(os, "splice") and type(conn) is socket.socket and stat.S_ISREG(os.fstat(fd).st_mode)
    )


_SPLICE_REFUSED = (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EPERM)


def _splice_into(
    conn: socket.socket,
    fd: int,
    callback: Callable[[int], object] | None,
    blocksize: int,
    limit: int | None = None,
) -> int | None:
    """Move everything `conn` receives into file `fd` through a pipe; return the count.

    Returns None, having moved nothing, if the kernel refuses to splice
    from the socket (a seccomp sandbox, an emulated kernel).  Stops at the
    first bytes that take the count past `limit`, without writing them,
    and returns that count.

    The bytes never enter Python: socket to pipe without a copy, pipe to
    the page cache with one.  Measured writing 512 MiB into tmpfs, it took
    about 0.21 s against 0.27-0.50 s for recv_into + write (256 KiB at a
    time: 0.22 s).  The socket's timeout applies to each wait for data.
    """
    timeout = conn.gettimeout()
    sock_fd = conn.fileno()
    r, w = os.pipe()
    received = 0
    try:
        with contextlib.suppress(OSError):  # a bigger pipe: fewer, larger moves
            fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, blocksize)
        flags = os.SPLICE_F_MOVE | os.SPLICE_F_NONBLOCK
        while True:
            try:
                n = os.splice(sock_fd, w, blocksize, flags=flags)
            except BlockingIOError:
                _wait_readable(sock_fd, timeout)
                continue
            except OSError as exc:
                if not received and exc.errno in _SPLICE_REFUSED:
                    return None  # a sandbox or kernel without it: nothing moved yet
                raise
            if not n:
                return received
            received += n
            if limit is not None and received > limit:
                return received  # what is past it stays in the pipe, unwritten
            _drain_pipe(r, fd, n)
            if callback is not None:
                callback(n)
    finally:
        os.close(r)
        os.close(w)


def _drain_pipe(r: int, fd: int, n: int) -> None:
    """Move `n` bytes from pipe `r` into file `fd`, copying where splice is refused."""
    while n:
        try:
            n -= os.splice(r, fd, n, flags=os.SPLICE_F_MOVE)
        except OSError as exc:
            if exc.errno not in _SPLICE_REFUSED:
                raise
            # A file system without splice support: copy what the pipe holds.
            data = os.read(r, n)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            n -= len(data)


def _wait_readable(fd: int, timeout: float | None) -> None:
    """Wait until `fd` is readable; raise TimeoutError after `timeout` seconds."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    if not poller.poll(None if timeout is None else timeout * 1000):
        raise TimeoutError("timed out")


# The binary files of open() and io.BytesIO, whose read() and write() behave the same
# whatever the block sizes, and take and fill any buffer (readinto, a memoryview).
_PLAIN_FILES = (io.BufferedWriter, io.BufferedReader, io.BufferedRandom, io.FileIO, io.BytesIO)


def _plain_file_method(method: object, name: str) -> bool:
    """Whether `method` is the `name` method (read, write) of a plain file (`_PLAIN_FILES`).

    Exactly those types, not subclasses, which may override it: a caller can
    then not tell which block sizes it was called with.
    """
    return type(getattr(method, "__self__", None)) in _PLAIN_FILES and (
        getattr(method, "__name__", None) == name
    )


def _regular_file(fp: Any) -> bool:
    """Whether `fp` has a descriptor, of a regular file (sendfile(2) reads nothing else)."""
    try:
        return stat.S_ISREG(os.fstat(fp.fileno()).st_mode)
    except (OSError, ValueError):
        return False


def _send_file(
    conn: socket.socket,
    fp: BinaryIO,
    blocksize: int,
    callback: Callable[[int], object] | None,
    sendall: Callable[[socket.socket, Any], None],
    progress: _Progress,
) -> int:
    """Send `fp` from its position to its end through one reused buffer; return the count.

    Not sendfile(2): measured over loopback against pyftpdlib and vsftpd it
    was 15-20% slower than 256 KiB sends, and no cheaper for the client.
    """
    sent = 0
    buf = bytearray(blocksize)
    view = memoryview(buf)
    while True:
        with progress.local():
            n = fp.readinto(buf)  # type: ignore[attr-defined]
        if not n:
            return sent
        sendall(conn, view[:n])
        sent += n
        progress.done += n
        if callback is not None:
            with progress.local():
                callback(n)


class _TransferFile(io.RawIOBase):
    """The raw file under `FTP.open`: one data connection, read or written."""

    def __init__(self, ftp: FTP, conn: socket.socket, writing: bool) -> None:
        self._ftp = ftp
        self._conn = conn
        self._writing = writing
        self._eof = False
        self._broken = False  # a write failed: the upload cannot be complete
        ftp._running = conn, writing

    def readable(self) -> bool:
        return not self._writing

    def writable(self) -> bool:
        return self._writing

    def readinto(self, b: Any) -> int:
        n = self._conn.recv_into(b)
        if n == 0:
            self._eof = True
        return n

    def write(self, b: Any) -> int:
        with memoryview(b) as view:
            try:
                self._conn.sendall(view)
            except BaseException:
                self._broken = True
                raise
            return view.nbytes

    def close(self) -> None:
        if self.closed:
            return
        if self._broken or not (self._writing or self._eof):
            self.abandon()
            return
        try:
            self._ftp._close_data(self._conn)
            self._ftp._end_transfer()
        finally:
            super().close()

    def abandon(self) -> None:
        """Close without completing: a download is dropped, an upload aborted."""
        if self.closed:
            return
        try:
            self._ftp._abandon_data(self._conn)
        finally:
            super().close()


class _UploadWriter(io.BufferedWriter):
    """`FTP.open`'s binary upload: leaving a ``with`` block by an exception aborts it."""

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if exc_type is not None:
            self.raw.abandon()  # what is still buffered is dropped with it
        super().__exit__(exc_type, *rest)


class _UploadTextWriter(io.TextIOWrapper):
    """`FTP.open`'s text upload: leaving a ``with`` block by an exception aborts it."""

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if exc_type is not None:
            self.buffer.raw.abandon()
        super().__exit__(exc_type, *rest)


if ssl is not None:

    def _unverified_context() -> ssl.SSLContext:
        # ftplib's default: encrypted but unauthenticated, kept for compatibility.
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context

    class FTP_TLS(FTP):
        """An FTP client with TLS (RFC 4217), as ftplib's `FTP_TLS`.

        ``login()`` secures the control connection first (AUTH TLS);
        ``prot_p()`` secures data connections, which then resume the
        control connection's TLS session.  The default `context`, like
        ftplib's, does not verify the server's certificate: pass
        ``ssl.create_default_context()`` to verify it.
        """

        ssl_version = ssl.PROTOCOL_TLS_CLIENT

        def __init__(
            self,
            host: str = "",
            user: str = "",
            passwd: str = "",
            acct: str = "",
            *,
            context: ssl.SSLContext | None = None,
            timeout: float | None = _GLOBAL_DEFAULT_TIMEOUT,
            source_address: tuple[str, int] | None = None,
            encoding: str = "utf-8",
            errors: str = "strict",
            implicit: bool = False,
            keyfile: str | None = None,
            certfile: str | None = None,
            stall_timeout: float | None = None,
            proxy: str | None = None,
        ) -> None:
            if keyfile is not None or certfile is not None:
                context = _legacy_context(context, keyfile, certfile)
            self.context = context if context is not None else _unverified_context()
            self._prot_p = False
            # After CCC, sock is still an SSLSocket object (without TLS), as in
            # ftplib: which socket CCC cleared is remembered instead.
            self._cleared_sock: socket.socket | None = None
            if implicit:
                self._implicit_tls = True
                self.port = FTPS_PORT
            super().__init__(
                host, user, passwd, acct, timeout, source_address,
                encoding=encoding, errors=errors, stall_timeout=stall_timeout, proxy=proxy,
            )  # fmt: skip

        @classmethod
        def secure(
            cls,
            host: str,
            user: str = "",
            passwd: str = "",
            acct: str = "",
            *,
            port: int = 0,
            context: ssl.SSLContext | None = None,
            cafile: str | None = None,
            implicit: bool = False,
            **kwargs: Any,
        ) -> FTP_TLS:
            """Connect, verify the server, log in and protect data: the safe way in.

            The certificate and host name are checked against the system's
            trusted CAs (or `cafile`, or your `context`); the control
            connection is secured before the password is sent and data
            connections use TLS (PROT P).  With `implicit`, TLS starts with
            the first byte (port 990 unless `port` says otherwise).  Other
            keyword arguments go to the constructor.
            """
            if context is None:
                context = ssl.create_default_context(cafile=cafile)
            ftp = cls(context=context, implicit=implicit, **kwargs)
            try:
                ftp.connect(host, port)
                ftp.login(user, passwd, acct)
                ftp.prot_p()
            except BaseException:
                ftp.close()
                raise
            return ftp

        def login(
            self, user: str = "", passwd: str = "", acct: str = "", secure: bool = True
        ) -> Reply:
            """Log in, first securing the control connection unless `secure` is false.

            After `ccc`, the connection cannot be secured again: with `secure`
            true, ValueError is raised and nothing is sent, rather than the
            password in clear text.
            """
            if secure and self._cleared():
                raise ValueError(
                    "CCC returned the control connection to clear text: refusing to send "
                    "the password in clear (secure=False would send it)"
                )
            if secure and not isinstance(self.sock, ssl.SSLSocket):
                self.auth()
            return super().login(user, passwd, acct)

        def auth(self) -> Reply:
            """Secure the control connection (AUTH TLS); return the reply.

            Raises ValueError if it is already secure.  Any byte the server
            sent after its reply and before the handshake is refused
            (`error_proto`): it would be unauthenticated plain text.
            """
            if self._cleared():
                raise ValueError("CCC returned the control connection to clear text for good")
            if isinstance(self.sock, ssl.SSLSocket):
                raise ValueError("Already using TLS")  # noqa: TRY004 - as ftplib
            resp = self.voidcmd("AUTH TLS")
            try:
                if self._parser.buffered:
                    raise error_proto("server sent data between AUTH TLS and the handshake")
                self.sock = self.context.wrap_socket(
                    self.sock, server_hostname=self.host, session=self._tls_session
                )
            except BaseException:
                self.close()
                raise
            self.file = _ControlFile(self.sock, self._parser)
            self._session.tls = True
            _log_tls("control connection secured (AUTH TLS)", self.sock)
            return resp

        def ccc(self) -> Reply:
            """Return the control connection to clear text (CCC); return the reply.

            Raises ValueError if it is not secured (never was, or CCC already).
            """
            if self._cleared() or not isinstance(self.sock, ssl.SSLSocket):
                raise ValueError("not using TLS")
            resp = self.voidcmd("CCC")
            self.sock = self.sock.unwrap()
            self._cleared_sock = self.sock
            self.file = _ControlFile(self.sock, self._parser)
            self._session.ccc = True
            _log.info("control connection back to clear text (CCC)")
            return resp

        def _restore(self, session: _Session) -> None:
            if session.tls and not isinstance(self.sock, ssl.SSLSocket):
                self.auth()
            super()._restore(session)

        def _protect_again(self, session: _Session) -> None:
            if self._prot_p:
                self.prot_p()
            if session.ccc:
                self.ccc()

        def _login_again(self, user: str, passwd: str, acct: str) -> None:
            self.login(user, passwd, acct, secure=False)  # secured above, if it was before

        def _cleared(self) -> bool:
            """Whether CCC returned this control connection (not an earlier one) to clear text."""
            return self.sock is not None and self.sock is self._cleared_sock

        def prot_p(self) -> Reply:
            """Secure data connections (PBSZ 0, PROT P); return the reply."""
            self.voidcmd("PBSZ 0")
            resp = self.voidcmd("PROT P")
            self._prot_p = True
            _log.info("data connections secured (PROT P)")
            return resp

        def prot_c(self) -> Reply:
            """Use clear-text data connections (PROT C); return the reply."""
            resp = self.voidcmd("PROT C")
            self._prot_p = False
            _log.info("data connections in clear text (PROT C)")
            return resp

        def ntransfercmd(
            self, cmd: str, rest: int | str | None = None
        ) -> tuple[socket.socket, int | None]:
            """As `FTP.ntransfercmd`, with the data connection in TLS after `prot_p`.

            The TLS session of the control connection is resumed.  The wrapping
            is done here, not in the base class, as in ftplib: subclasses that
            call ``FTP.ntransfercmd`` and wrap the connection themselves work.
            """
            conn, size = super().ntransfercmd(cmd, rest)
            if not self._prot_p:
                return conn, size
            # Resuming the session is what servers such as vsftpd
            # (require_ssl_reuse) insist on: it proves the data connection
            # comes from the client that logged in.
            try:
                conn = self.context.wrap_socket(
                    conn, server_hostname=self.host, session=getattr(self.sock, "session", None)
                )
            except BaseException as exc:
                _close_left_behind(exc)
                self._abandon_data(conn)
                raise
            return conn, size

    def _close_left_behind(exc: BaseException) -> None:
        """Close the SSLSocket that a failed ``wrap_socket`` made and did not close.

        CPython (3.11-3.13) probes a socket that is no longer connected with
        ``recv(1)``, and re-raises a reset from it without closing the
        SSLSocket it has made, which owns the connection's descriptor by then:
        a data connection reset before its handshake would leak it.
        """
        tb = exc.__traceback__
        while tb is not None:
            made = tb.tb_frame.f_locals.get("self")
            if isinstance(made, ssl.SSLSocket):
                made.close()  # a no-op where wrap_socket closed it itself
            tb = tb.tb_next

    def _legacy_context(
        context: ssl.SSLContext | None, keyfile: str | None, certfile: str | None
    ) -> ssl.SSLContext:
        # Python 3.11's ftplib still takes keyfile/certfile; 3.12 removed them.
        if sys.version_info >= (3, 12):
            raise TypeError("FTP_TLS() takes no keyfile or certfile: pass an SSLContext")
        if context is not None:
            raise ValueError("context and keyfile/certfile arguments are mutually exclusive")
        warnings.warn(
            "keyfile and certfile are deprecated, use a custom context instead",
            DeprecationWarning,
            stacklevel=3,
        )
        context = _unverified_context()
        context.load_cert_chain(certfile, keyfile)  # type: ignore[arg-type]
        return context

    __all__.append("FTP_TLS")
    all_errors = (Error, OSError, EOFError, ssl.SSLError)
    _TLS_CLASS: type[FTP_TLS] | None = FTP_TLS
else:  # pragma: no cover
    _TLS_CLASS = None

# What an extra connection of a segmented download copies from the first.
_CLONED_SETTINGS = (
    "timeout", "encoding", "errors", "proxy", "passiveserver", "prefer_epsv",
    "trust_server_pasv_ipv4_address", "active_address", "active_port_range",
    "active_peer_check", "maxline", "max_reply_lines", "max_reply_size", "debugging",
    "pipelining", "context", "_implicit_tls",
)  # fmt: skip


def ftpcp(source: FTP, sourcename: str, target: FTP, targetname: str = "", type: str = "I") -> None:
    """Copy a file from one server to another without passing through here.

    The source listens (PASV), the target connects to it (PORT), then STOR
    and RETR run side by side (server-to-server, "FXP").
    """
    if not targetname:
        targetname = sourcename
    source.voidcmd("TYPE " + type)
    target.voidcmd("TYPE " + type)
    sourcehost, sourceport = parse227(source.sendcmd("PASV"))
    target.sendport(sourcehost, sourceport)
    treply = target.sendcmd("STOR " + targetname)
    if treply[:3] not in ("125", "150"):
        raise error_proto(treply)
    sreply = source.sendcmd("RETR " + sourcename)
    if sreply[:3] not in ("125", "150"):
        raise error_proto(sreply)
    source.voidresp()
    target.voidresp()


# --------------------------------------------------------------------------
# ftp:// and ftps:// URLs, fetched as urllib.request fetches them
# --------------------------------------------------------------------------
#
# urlopen/urlretrieve and the urllib.request handlers FTPHandler and
# CacheFTPHandler, which are subclasses of urllib's own so that
# build_opener() uses them in place of urllib's.

_URL_TYPES = {"a": "A", "i": "I", "d": "D"}


@dataclasses.dataclass(frozen=True)
class _URLTarget:
    """What an ftp:// or ftps:// URL names, percent-decoded (RFC 1738, 3.2)."""

    secure: bool
    user: str
    passwd: str
    host: str
    port: int
    dirs: tuple[str, ...]
    file: str
    type: str | None  # "A", "I" or "D" from ";type=", else None


def _url_unquote(text: str) -> str:
    # Bytes that are not UTF-8 become surrogates, which putline() encodes back
    # to the same bytes: a name in any encoding reaches the server unchanged.
    return urllib.parse.unquote(text, errors="surrogateescape")


def _parse_ftp_url(url: str) -> _URLTarget:
    """Take an ftp:// or ftps:// URL apart; raise URLError if it is not one.

    ``ftp://[user[:password]@]host[:port]/dir/.../file[;type=a|i|d]``: the
    user, the password and each path segment are percent-decoded, so ``%2F``
    is a slash inside one segment.  Empty segments are skipped, except a
    leading one (``ftp://host//etc/motd``), which stands for the root, as in
    urllib.  A CR, LF or NUL, raw or decoded, is refused: sent to the server
    it would end the command early and let the rest pose as a command.
    """
    if any(c < " " or c == "\x7f" for c in url):
        raise urllib.error.URLError("ftp error: control character in URL")
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise urllib.error.URLError(f"ftp error: {exc}") from None
    if parts.scheme not in ("ftp", "ftps"):
        raise urllib.error.URLError(f"unknown url type: {parts.scheme!r}")  # no URL: passwords
    host = _url_unquote(parts.hostname or "")
    if not host:
        raise urllib.error.URLError("ftp error: no host given")
    if port == 0:
        raise urllib.error.URLError("ftp error: port 0 is not a port")
    path = parts.path + ("?" + parts.query if parts.query else "")
    path, _, params = path.partition(";")
    type_ = None
    for param in params.split(";") if params else ():
        name, _, value = param.partition("=")
        if name.lower() == "type":
            if value.lower() not in _URL_TYPES:
                raise urllib.error.URLError(f"ftp error: unknown transfer type {value!r}")
            type_ = _URL_TYPES[value.lower()]
    segments = [_url_unquote(segment) for segment in path.split("/")[1:]] or [""]
    dirs = [d for d in segments[:-1] if d]
    if len(segments) > 1 and not segments[0]:
        dirs.insert(0, "/")
    user = _url_unquote(parts.username or "")
    passwd = _url_unquote(parts.password or "")
    for text in (user, passwd, host, *segments):
        if "\r" in text or "\n" in text or "\0" in text:
            raise urllib.error.URLError("ftp error: CR, LF or NUL in URL")
    return _URLTarget(
        secure=parts.scheme == "ftps",
        user=user,
        passwd=passwd,
        host=host,
        port=port or FTP_PORT,
        dirs=tuple(dirs),
        file=segments[-1],
        type=type_,
    )


def _url_credentials(target: _URLTarget) -> tuple[str, str]:
    """The URL's user and password, else those ~/.netrc has for the host.

    The netrc password also serves when the URL names its user but no
    password.  An unreadable or malformed netrc counts as none, and no user
    at all means an anonymous login.
    """
    import netrc

    user, passwd = target.user, target.passwd
    if user and passwd:
        return user, passwd
    try:
        auth = netrc.netrc().authenticators(target.host)
    except (OSError, netrc.NetrcParseError):
        return user, passwd
    if auth is not None:
        login, _, password = auth
        if not user:
            return login or "", password or ""
        if user == login:
            return user, password or ""
    return user, passwd


def _url_error(exc: BaseException) -> urllib.error.URLError:
    """The URLError to raise for an FTP or network failure."""
    if isinstance(exc, EOFError):
        return urllib.error.URLError("ftp error: the server closed the connection")
    return urllib.error.URLError(exc)


def _reusable(exc: BaseException) -> bool:
    """Tell whether the control connection is still in step after `exc`.

    A reply error means the reply was read; a ValueError (CR/LF in a name)
    that nothing was sent.  421 means the server is closing the connection.
    """
    if isinstance(exc, ValueError):
        return True
    return isinstance(exc, (error_reply, error_temp, error_perm)) and exc.code != "421"


class _URLConnection:
    """A logged-in connection serving URLs one at a time (urllib's ``ftpwrapper``).

    `enter` changes to a URL's directory and `retrfile` starts its transfer;
    once the response is read to its end or closed, the connection goes back
    to `release` (a cache) if it is still in step, and is closed otherwise.
    """

    def __init__(
        self,
        user: str,
        passwd: str,
        host: str,
        port: int,
        timeout: float | None,
        *,
        secure: bool = False,
        context: ssl.SSLContext | None = None,
        release: Callable[[_URLConnection], None] | None = None,
        proxy: str | None = None,
    ) -> None:
        self.key = (secure, user, passwd, host, port, timeout)
        self.release = release
        self.home: str | None = None  # the login directory, for reuse
        self.used = False
        self.busy = False
        self.close_when_done = False
        self.listing = False  # whether the current response is a listing
        self.generation = 0  # CacheFTPHandler's, when created
        if secure:
            if ssl is None:  # pragma: no cover
                raise urllib.error.URLError("ftp error: ftps:// needs the ssl module")
            if context is None:
                context = ssl.create_default_context()
            self.ftp: FTP = FTP_TLS(context=context, timeout=timeout, proxy=proxy)
        else:
            self.ftp = FTP(timeout=timeout, proxy=proxy)
        try:
            self.ftp.connect(host, port)
            self.ftp.login(user, passwd)
            if secure:
                self.ftp.prot_p()  # type: ignore[attr-defined]
            if release is not None:
                with contextlib.suppress(error_reply, error_temp, error_perm):
                    self.home = self.ftp.pwd() or None
        except BaseException:
            self.ftp.close()
            raise

    def enter(self, dirs: Sequence[str]) -> None:
        """Take the connection for one URL and change to its directory.

        A reused connection first goes back to the login directory (which
        also proves it alive), then one CWD per segment, as RFC 1738 says.
        """
        self.busy = True
        try:
            if self.used:
                if self.home is None:
                    raise error_proto("the login directory is unknown")
                self.ftp.cwd(self.home)
            self.used = True
            for name in dirs:
                self.ftp.cwd(name)
        except BaseException as exc:
            self._done(_reusable(exc))
            raise

    def retrfile(self, file: str, type: str) -> tuple[io.BufferedReader, int | None]:
        """Start retrieving `file` (a listing if empty, or if `type` is ``'D'``).

        Returns the response body and its length if known.  `type` is
        ``'I'`` (binary), ``'A'`` (ASCII, bytes as the server sends them) or
        ``'D'`` (NLST).  A RETR refused with 550 falls back to listing `file`
        as a directory, and if that fails too the 550 is raised.
        """
        try:
            conn, length, expected = self._start(file, type.upper())
        except BaseException as exc:
            self._done(_reusable(exc))
            raise
        stream = _URLStream(_TransferFile(self.ftp, conn, writing=False), expected, self._done)
        return io.BufferedReader(stream, 1 << 16), length

    def _start(self, file: str, type: str) -> tuple[socket.socket, int | None, int | None]:
        """Send the transfer command; return (data connection, length, length to check)."""
        ftp = self.ftp
        self.listing = True
        if type == "D":
            ftp._set_type("A")
            conn, length = ftp.ntransfercmd("NLST " + file if file else "NLST")
            return conn, length, None
        if file:
            ftp._set_type(type)  # first: SIZE is refused in ASCII mode, the default
            size = self._size(file) if type == "I" else None
            try:
                conn, announced = ftp.ntransfercmd("RETR " + file)
            except error_perm as exc:
                if exc.code != "550":
                    raise
                try:  # perhaps a directory named without its trailing slash
                    ftp.cwd(file)
                except error_perm:
                    raise exc from None
            else:
                self.listing = False
                length = size if size is not None else announced
                return conn, length, length if type == "I" else None
        ftp._set_type("A")
        conn, length = ftp.ntransfercmd("LIST")
        return conn, length, None

    def _size(self, file: str) -> int | None:
        try:
            return self.ftp.size(file)
        except Error:
            if self.ftp.sock is None:
                raise
            return None

    def _done(self, reusable: bool) -> None:
        """The request is over: hand the connection back, or close it."""
        self.busy = False
        in_step = reusable and self.ftp.sock is not None
        if in_step and self.release is not None and not self.close_when_done:
            self.release(self)
        else:
            self.close()

    def close(self) -> None:
        """Close the connection, or mark it to close once its response is done."""
        if self.busy:
            self.close_when_done = True
            return
        # QUIT without waiting for the answer, nor for replies still owed: an
        # idle connection being dropped must not hold up the request that drops it.
        with contextlib.suppress(*all_errors):
            if self.ftp.sock is not None and not self.ftp._owed:
                self.ftp.putcmd("QUIT")
        self.ftp.close()


class _URLStream(io.RawIOBase):
    """The body of a URL response, read straight from the data connection.

    At the end of the data the final reply is read and the length checked
    against the expected one: a failed or short transfer raises URLError
    (ContentTooShortError when short) from ``read()`` rather than passing
    as a complete file.  Closing before the end aborts the transfer.
    """

    def __init__(
        self, transfer: _TransferFile, expected: int | None, done: Callable[[bool], None]
    ) -> None:
        self._transfer = transfer
        self._expected = expected
        self._done = done  # called once, with whether the connection is in step
        self._received = 0
        self._over = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._over:
            return 0
        n = self._transfer.readinto(buffer)
        if n:
            self._received += n
            return n
        self._over = True
        try:
            self._transfer.close()  # reads the final reply
        except all_errors as exc:
            self._done(_reusable(exc))
            raise _url_error(exc) from exc
        self._done(True)
        if self._expected is not None and self._received < self._expected:
            raise urllib.error.ContentTooShortError(
                f"retrieval incomplete: got only {self._received} out of {self._expected} bytes",
                None,
            )
        return 0

    def close(self) -> None:
        if self.closed:
            return
        try:
            if not self._over:
                self._over = True
                reusable = True
                try:
                    self._transfer.close()  # aborts the transfer
                except all_errors:
                    reusable = False  # the abort's own failure: nothing left to report
                self._done(reusable)
        finally:
            super().close()


def _url_headers(file: str, type: str, listing: bool, length: int | None) -> Message:
    """Content-type (guessed from the name) and Content-length, as urllib gives them."""
    import email
    import mimetypes

    if listing:
        ctype = "text/plain"
    else:
        ctype = mimetypes.guess_type(file)[0] or (
            "text/plain" if type == "A" else "application/octet-stream"
        )
    text = f"Content-type: {ctype}\n"
    if length is not None and length >= 0:
        text += f"Content-length: {length}\n"
    return email.message_from_string(text)


def _fetch(
    url: str,
    data: object,
    timeout: float | None,
    connect: Callable[..., Any],
) -> urllib.response.addinfourl:
    """Open `url` through `connect`, which has the signature of ``FTPHandler.connect_ftp``."""
    target = _parse_ftp_url(url)
    if data is not None:
        raise urllib.error.URLError("ftp error: FTP URLs take no request data")
    user, passwd = _url_credentials(target)
    secure = {"secure": True} if target.secure else {}
    type_ = target.type or "I"
    try:
        conn = connect(user, passwd, target.host, target.port, list(target.dirs), timeout, **secure)
        fp, length = conn.retrfile(target.file, type_)
    except urllib.error.URLError:
        raise
    except (*all_errors, ValueError) as exc:
        raise _url_error(exc) from exc
    listing = getattr(conn, "listing", not target.file or type_ == "D")
    headers = _url_headers(target.file, type_, listing, length)
    return urllib.response.addinfourl(fp, headers, url)


def _connect_url(
    user: str,
    passwd: str,
    host: str,
    port: int,
    dirs: Sequence[str],
    timeout: float | None,
    *,
    secure: bool = False,
    context: ssl.SSLContext | None = None,
    proxy: str | None = None,
) -> _URLConnection:
    """A connection for one URL, closed when its response is."""
    conn = _URLConnection(
        user, passwd, host, port, timeout, secure=secure, context=context, proxy=proxy
    )
    conn.enter(dirs)
    return conn


def urlopen(
    url: str | urllib.request.Request,
    data: bytes | None = None,
    timeout: float | None = _GLOBAL_DEFAULT_TIMEOUT,
    *,
    context: ssl.SSLContext | None = None,
    proxy: str | None = None,
) -> urllib.response.addinfourl:
    """Open an ftp:// or ftps:// URL, as ``urllib.request.urlopen`` does.

    ``ftp://[user[:password]@]host[:port]/path[;type=a|i|d]`` (RFC 1738):
    the user and password are percent-decoded, and taken from ``~/.netrc``
    when the URL has none (else the login is anonymous); each directory of
    the path is entered with its own CWD and the last segment retrieved
    (``%2F`` is a slash inside a name: ``ftp://host/%2Fetc/motd`` is
    ``/etc/motd``).  ``;type=i`` (the default) transfers in binary,
    ``;type=a`` in ASCII (the bytes as the server sends them), and
    ``;type=d`` lists the names (NLST).  A path ending in ``/`` lists the
    directory (LIST), and so does a file name the server refuses with 550
    but lets us CWD into.  ``ftps://`` is explicit FTPS (AUTH TLS on port
    21, data connections protected), with the certificate checked against
    `context` (default: ``ssl.create_default_context()``).  IPv6 literals
    go in brackets: ``ftp://[::1]:2121/file``.  `proxy` is a proxy URL for
    the control and data connections, as `FTP.proxy` takes it (not
    urllib's HTTP proxies: no environment variable is read).

    Returns urllib's response object for FTP, an
    ``urllib.response.addinfourl``: a binary file object (``read``,
    ``readinto``, ``readline``, iteration, ``close``, context manager)
    streamed from the data connection, so any size takes bounded memory;
    closing it early aborts the transfer.  ``info()`` (or ``headers``) is an
    ``email.message.Message`` with ``Content-type`` (guessed from the name;
    ``application/octet-stream`` if no guess, ``text/plain`` for a listing
    or ASCII transfer) and ``Content-length`` (from SIZE or the 150 reply,
    when known); ``geturl()`` and ``url`` give the URL; ``status``,
    ``code`` and ``getcode()`` are None, as urllib has them for FTP.
    The connection is closed (QUIT) when the response is; for reuse across
    URLs, see `CacheFTPHandler`.

    Every failure raises one ``urllib.error.URLError``: its ``reason`` is
    the ftplib2 error (whose text is the server's reply: a missing file is
    ``error_perm('550 ...')``, bad credentials ``error_perm('530 ...')``),
    the OSError (refused connection, unknown host, certificate) or a
    message for a malformed URL.  `data` must be None: FTP has no request
    body.  A failed final reply or a short transfer raises URLError
    (``ContentTooShortError``) from ``read()`` at the end of the data.
    """
    if not isinstance(url, str):  # a urllib.request.Request
        if data is None:
            data = url.data
        url = url.full_url
    url = urllib.parse.unwrap(url)  # a #fragment stays, for geturl(), as in urllib
    sys.audit("urllib.Request", url, data, {}, "GET")

    if proxy is not None:
        _parse_proxy(proxy)  # a malformed URL is the caller's error, not a URLError

    def connect(*args: Any, secure: bool = False) -> _URLConnection:
        return _connect_url(*args, secure=secure, context=context, proxy=proxy)

    return _fetch(url, data, timeout, connect)


_url_tempfiles: list[str] = []


def urlretrieve(
    url: str | urllib.request.Request,
    filename: str | os.PathLike[str] | None = None,
    reporthook: Callable[[int, int, int], object] | None = None,
    data: bytes | None = None,
) -> tuple[str | os.PathLike[str], Message]:
    """Copy what an ftp:// or ftps:// URL names to a local file, as urllib does.

    Returns ``(filename, headers)``: without `filename` a temporary file is
    made (removed by `urlcleanup`).  `reporthook` is called with a block
    number, the block size and the total size (-1 if unknown): with 0 before
    the transfer, then with 1, 2, ... as each block starts to arrive.  A
    transfer shorter than the announced size raises
    ``urllib.error.ContentTooShortError`` with the file left as received;
    any other failure raises a URLError, as from `urlopen`.
    """
    with urlopen(url, data) as fp:
        headers = fp.info()
        if filename:
            tfp = open(filename, "wb")  # noqa: SIM115 - closed by the with below
        else:
            import tempfile

            tfp = tempfile.NamedTemporaryFile(delete=False)  # noqa: SIM115
            filename = tfp.name
            _url_tempfiles.append(filename)
        result = filename, headers
        with tfp:
            blocksize = 1 << 16
            size = int(headers["Content-Length"]) if "content-length" in headers else -1
            read = blocknum = 0
            if reporthook is not None:
                reporthook(blocknum, blocksize, size)
            try:
                # read1: a failing read(n) would drop the bytes it had gathered,
                # and a short file must be left with all that was received.
                while block := fp.read1(blocksize):
                    read += len(block)
                    tfp.write(block)
                    if reporthook is not None and -(-read // blocksize) > blocknum:
                        blocknum += 1  # blocknum * blocksize stays within a block of `read`
                        reporthook(blocknum, blocksize, size)
            except urllib.error.ContentTooShortError as exc:
                exc.content = result
                raise
    if size >= 0 and read < size:
        raise urllib.error.ContentTooShortError(
            f"retrieval incomplete: got only {read} out of {size} bytes", result
        )
    return result


def urlcleanup() -> None:
    """Remove the temporary files `urlretrieve` made."""
    while _url_tempfiles:
        with contextlib.suppress(OSError):
            os.unlink(_url_tempfiles.pop())


class FTPHandler(urllib.request.FTPHandler):
    """A urllib handler that fetches ftp:// and ftps:// URLs through ftplib2.

    A drop-in for ``urllib.request.FTPHandler``, of which it is a subclass,
    so that ``urllib.request.build_opener(ftplib2.FTPHandler())`` uses it in
    place of urllib's.  ftps:// is explicit FTPS, checked against `context`
    (default: ``ssl.create_default_context()``).  URLs behave as with
    `urlopen`; each request has a connection of its own, closed with its
    response.  With `proxy` (a URL, as `FTP.proxy` takes it), every
    connection goes through that proxy.
    """

    def __init__(self, *, context: ssl.SSLContext | None = None, proxy: str | None = None) -> None:
        super().__init__()
        if proxy is not None:
            _parse_proxy(proxy)
        self._context = context
        self._proxy = proxy

    def ftp_open(self, req: urllib.request.Request) -> urllib.response.addinfourl:
        """Open an ftp:// request (called by ``OpenerDirector.open``)."""
        timeout = getattr(req, "timeout", _GLOBAL_DEFAULT_TIMEOUT)
        return _fetch(req.full_url, req.data, timeout, self.connect_ftp)

    def ftps_open(self, req: urllib.request.Request) -> urllib.response.addinfourl:
        """Open an ftps:// request (called by ``OpenerDirector.open``)."""
        return self.ftp_open(req)

    def connect_ftp(
        self,
        user: str,
        passwd: str,
        host: str,
        port: int,
        dirs: Sequence[str],
        timeout: float | None,
        *,
        secure: bool = False,
    ) -> Any:
        """Return a logged-in connection in directory `dirs` (a list of names).

        As in urllib, the result has ``retrfile(file, type)``, which returns
        ``(file object, length or None)``, and ``close()``.  `secure` (for
        ftps://) secures the control and data connections with TLS.
        """
        return _connect_url(
            user, passwd, host, port, dirs, timeout,
            secure=secure, context=self._context, proxy=self._proxy,
        )  # fmt: skip


class CacheFTPHandler(FTPHandler, urllib.request.CacheFTPHandler):
    """An `FTPHandler` that keeps logged-in connections for reuse.

    A drop-in for ``urllib.request.CacheFTPHandler`` (and a subclass of
    it).  Requests for the same user, password, host, port and timeout
    share connections whatever their directory: a reused connection goes
    back to its login directory first.  It is thread-safe, and a connection
    serves one request at a time: it is taken while its response is open
    and returned when the response is closed or read to its end.  Idle
    connections are closed after `setTimeout` seconds (checked on each
    request), and at most `setMaxConns` are kept.  `context` and `proxy`
    are as for `FTPHandler`.
    """

    def __init__(self, *, context: ssl.SSLContext | None = None, proxy: str | None = None) -> None:
        super().__init__(context=context, proxy=proxy)  # type: ignore[call-arg]
        self.delay: float = 60
        self.max_conns = 16
        self._lock = threading.RLock()
        self._idle: list[tuple[float, _URLConnection]] = []  # (expiry, connection)
        self._generation = 0  # bumped by clear_cache(): older connections are not kept

    def setTimeout(self, t: float) -> None:
        """Close connections left idle for more than `t` seconds (default 60)."""
        self.delay = t

    def setMaxConns(self, m: int) -> None:
        """Keep at most `m` idle connections (default 16)."""
        self.max_conns = m

    def connect_ftp(
        self,
        user: str,
        passwd: str,
        host: str,
        port: int,
        dirs: Sequence[str],
        timeout: float | None,
        *,
        secure: bool = False,
    ) -> Any:
        """Return an idle connection for this user and server, or a new one, in `dirs`."""
        key = (secure, user, passwd, host, port, timeout)
        while (conn := self._checkout(key)) is not None:
            try:
                conn.enter(dirs)
            except Error as exc:
                if exc.code != "421":  # 421: the server dropped it while idle
                    raise
            except (OSError, EOFError):
                pass  # dropped while idle, and closed by enter(): try the next
            else:
                return conn
        generation = self._generation  # a clear_cache() from now on rules it out
        conn = _URLConnection(
            user, passwd, host, port, timeout,
            secure=secure, context=self._context, release=self._checkin,  # type: ignore[attr-defined]
            proxy=self._proxy,  # type: ignore[attr-defined]
        )  # fmt: skip
        conn.generation = generation
        conn.enter(dirs)
        return conn

    def check_cache(self) -> None:
        """Close the connections idle for too long, and those over the limit."""
        with self._lock:
            surplus = self._expire()
        for conn in surplus:
            conn.close()

    def clear_cache(self) -> None:
        """Close every idle connection; those in use are closed when their response is."""
        with self._lock:
            idle, self._idle = self._idle, []
            self._generation += 1
        for _, conn in idle:
            conn.close()

    def _checkout(self, key: tuple[Any, ...]) -> _URLConnection | None:
        with self._lock:
            surplus = self._expire()
            found = None
            for i in range(len(self._idle) - 1, -1, -1):  # the most recently used first
                if self._idle[i][1].key == key:
                    found = self._idle.pop(i)[1]
                    break
        for conn in surplus:
            conn.close()
        return found

    def _checkin(self, conn: _URLConnection) -> None:
        surplus = []
        with self._lock:
            if conn.generation == self._generation and conn.home is not None:
                self._idle.append((time.monotonic() + self.delay, conn))
            else:
                surplus.append(conn)
            surplus += self._expire()
        for old in surplus:
            old.close()

    def _expire(self) -> list[_URLConnection]:
        """Take out of the cache what must be closed (with the lock held)."""
        now = time.monotonic()
        surplus = [conn for expiry, conn in self._idle if expiry <= now]
        self._idle = [(expiry, conn) for expiry, conn in self._idle if expiry > now]
        while len(self._idle) > max(self.max_conns, 0):
            oldest = min(range(len(self._idle)), key=lambda i: self._idle[i][0])
            surplus.append(self._idle.pop(oldest)[1])
        return surplus


# --------------------------------------------------------------------------
# Command-line client: python -m ftplib2
# --------------------------------------------------------------------------

_USAGE = """\
usage: python -m ftplib2 [demo]
       python -m ftplib2 [-d] [-r[file]] host [-l[dir]] [-d[dir]] [-p] [file] ...

With no arguments (or 'demo'), run a demonstration session against a local
server started for the purpose (needs pyftpdlib: pip install 'ftplib2[demo]').

Otherwise, as 'python -m ftplib':
  -d        raise the debug level (repeatable, before host)
  -r[file]  read credentials from a netrc file (default ~/.netrc)
  -l[dir]   list a directory         -d[dir]  change directory
  -p        toggle passive mode      file     retrieve a file to stdout
"""


def test(argv: list[str] | None = None) -> int:
    """The command-line client of ``python -m ftplib2`` (ftplib's ``test()``)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args == ["demo"]:
        return _demo()
    if args[0] in ("-h", "--help"):
        print(_USAGE, end="")
        return 0
    debugging = 0
    rcfile = None
    while args and args[0] == "-d":
        debugging += 1
        args.pop(0)
    if args and args[0][:2] == "-r":
        rcfile = args.pop(0)[2:] or None
    if not args:
        print(_USAGE, end="", file=sys.stderr)
        return 2
    host = args.pop(0)
    userid = passwd = acct = ""
    try:
        import netrc

        auth = netrc.netrc(rcfile).authenticators(host)
    except (OSError, netrc.NetrcParseError):
        if rcfile is not None:
            print("Could not open account file -- using anonymous login.", file=sys.stderr)
    else:
        if auth is not None:
            userid, acct, passwd = auth[0], auth[1] or "", auth[2] or ""
    with FTP(host) as ftp:
        ftp.set_debuglevel(debugging)
        ftp.login(userid, passwd, acct)
        for arg in args:
            if arg[:2] == "-l":
                ftp.dir(arg[2:])
            elif arg[:2] == "-d":
                ftp.sendcmd("CWD " + arg[2:] if arg[2:] else "CWD")
            elif arg == "-p":
                ftp.set_pasv(not ftp.passiveserver)
            else:
                ftp.retrbinary("RETR " + arg, sys.stdout.buffer.write, 65536)
                sys.stdout.buffer.flush()
    return 0


def _demo() -> int:
    """Start a pyftpdlib server on loopback and show a short session against it."""
    import hashlib
    import io
    import logging
    import os
    import secrets
    import tempfile
    import threading

    try:
        from pyftpdlib.authorizers import DummyAuthorizer
        from pyftpdlib.handlers import FTPHandler
        from pyftpdlib.servers import FTPServer
    except ImportError:
        print("the demo needs pyftpdlib: pip install 'ftplib2[demo]'", file=sys.stderr)
        return 1
    quiet = logging.getLogger("pyftpdlib")
    quiet.addHandler(logging.NullHandler())  # keeps pyftpdlib from logging to stderr
    quiet.propagate = False
    password = secrets.token_hex(8)
    with tempfile.TemporaryDirectory(prefix="ftplib2-demo-") as root:
        authorizer = DummyAuthorizer()
        authorizer.add_user("demo", password, root, perm="elradfmwMT")
        handler = type("DemoHandler", (FTPHandler,), {"authorizer": authorizer})
        server = FTPServer(("127.0.0.1", 0), handler)
        stop = threading.Event()

        def serve() -> None:
            while not stop.is_set():
                server.serve_forever(timeout=0.05, blocking=False, handle_exit=False)
            server.close_all()

        thread = threading.Thread(target=serve, name="ftplib2-demo-server", daemon=True)
        thread.start()
        host, port = server.address[:2]
        print(f"started a pyftpdlib server on {host}:{port}, root {root}")
        try:
            payload = os.urandom(4 << 20)
            with FTP() as ftp:
                welcome = ftp.connect(host, port, timeout=10)
                print(f"connect   -> {welcome}")
                print(f"login     -> {ftp.login('demo', password)}")
                print(f"mkd       -> {ftp.mkd('demo dir')}")
                print(f"cwd       -> {ftp.cwd('demo dir')}")
                reply = ftp.storbinary("STOR data.bin", io.BytesIO(payload))
                print(f"upload    -> {reply} ({len(payload)} bytes)")
                ftp.storlines("STOR notes.txt", io.BytesIO(b"ftplib2\nsays hello\n"))
                for name, facts in ftp.mlsd():
                    print(f"list      -> {name!r:14} {facts.get('type')} {facts.get('size')} bytes")
                received = bytearray()
                reply = ftp.retrbinary("RETR data.bin", received.extend)
                print(f"download  -> {reply} ({len(received)} bytes)")
                sent_hash = hashlib.sha256(payload).hexdigest()
                got_hash = hashlib.sha256(received).hexdigest()
                same = sent_hash == got_hash
                print(f"checksum  -> sha256 {got_hash[:16]}... {'matches' if same else 'DIFFERS'}")
                print(f"size      -> {ftp.size('data.bin')}")
                print(f"quit      -> {ftp.quit()}")
        finally:
            stop.set()
            thread.join()
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(test())
