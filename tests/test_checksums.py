"""Server checksums: FTP.checksum(), and download()/upload() with verify=True (issue 15).

Against live servers, this proves that:

* checksum() gives what hashlib and zlib give, for every algorithm, by HASH
  (draft-bryan-ftpext-hash, selecting with OPTS HASH) and by the older one-algorithm commands
  (XSHA512, XSHA256, XSHA1, XMD5, MD5, XCRC), each of them, in the reply forms real servers use:
  proftpd's mod_digest (``213 <HEX>``, or as 1.3.8 answers, ``250-Computing ...`` then
  ``250 <HEX>``; ``251 <path> <HEX>``), Globalscape's (``250 <hex>``), older
  FileZilla Servers' (HASH without a byte range); the strongest algorithm first;
  error_perm where the server offers none; paths with spaces quoted as the servers expect;
  a digest of the wrong length, a partial range or another algorithm refused with error_proto;
* download(verify=True) fails with error_proto, leaving nothing under the final name, when one
  byte of the data stream is flipped, and passes otherwise, spliced, over TLS, into a file
  object and when resuming; upload(verify=True) fails and deletes the remote file when the
  server stored other bytes than were sent;
* verify=True falls back to the size where the server has no checksum command, and refuses
  to pass unchecked where there is no SIZE either;
* ftpmirror --checksum keeps a copy whose checksum matches though its dates changed, fetches
  one whose bytes changed under the same size and dates, refuses a download with a flipped
  byte, keeps the checksums in the manifest (format ftpmirror/1, records as before), and with
  --reverse deletes a wrong upload before it takes the server's file's place.

The servers are pyftpdlib with the checksum commands added (``ChecksumHandler``), in the
forms above, and proftpd 1.3.8 with mod_digest. The tests that hold for any server with
checksums run over ``checksum_server``, a parametrization over ``CHECKSUM_SERVERS`` (both);
against proftpd, a byte is flipped by a proxy (``tests/fault_proxy.py``, fault ``flip``)
instead of by the server, for download and upload with verify and for ftpmirror --checksum.

Run only these tests with::

    python -m pytest -q -p no:cacheprovider tests/test_checksums.py
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import os
import re
import tempfile
import threading
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import pytest
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler, TLS_DTPHandler, TLS_FTPHandler
from pyftpdlib.handlers.ftp.data import DTPHandler
from pyftpdlib.handlers.ftp.producers import FileProducer

import ftplib2
from tests.fault_proxy import FLIP, FaultProxy
from tests.interop_servers import ROOT_USER, RealServer
from tests.servers import (
    MIRROR_LEGACY_MANIFEST,
    PASSWORD,
    TIMEOUT,
    USER,
    CallbackFailed,
    HostileServer,
    LiveServer,
    MirrorServer,
    RecordingFTP,
    SpliceSpy,
    _ClearCommandChannel,
    _TestServerBehaviour,
    hostile_assert_in_step,
    hostile_serving,
    mirror_login,
    mirror_parts,
    mirror_run,
    mirror_serving,
    needs_splice,
    partial_downloads,
    plant_partial_download,
    read_mirror_manifest,
    running_server,
    verbs_of,
)

ALGORITHMS = ("SHA-512", "SHA-256", "SHA-1", "MD5", "CRC32")
X_COMMANDS = {"XSHA512": "SHA-512", "XSHA256": "SHA-256", "XSHA1": "SHA-1", "XMD5": "MD5"}
X_COMMANDS |= {"MD5": "MD5", "XCRC": "CRC32"}
FLIPPED_AT = 1000  # the offset, in a transfer's data stream, of the byte the faulty server flips


def digest_of(data: bytes, algorithm: str) -> str:
    """What hashlib or zlib make of `data`: the digest checksum() must return."""
    if algorithm == "CRC32":
        return f"{zlib.crc32(data):08x}"
    return hashlib.new(algorithm.replace("-", "").lower(), data).hexdigest()


def file_digest(path: str, algorithm: str) -> str:
    with open(path, "rb") as f:
        return digest_of(f.read(), algorithm)


# --------------------------------------------------------------------------
# The test server: pyftpdlib with checksum commands
# --------------------------------------------------------------------------

_WORD = re.compile(r'"((?:\\.|[^"\\])*)"?|(\S+)')


def proftpd_words(text: str) -> list[str]:
    """Split a command's argument into words as proftpd does: quotes group, backslash escapes."""
    return [
        re.sub(r"\\(.)", r"\1", quoted) if quoted is not None and bare is None else bare
        for quoted, bare in ((m.group(1), m.group(2)) for m in _WORD.finditer(text))
    ]


class ChecksumHandler:
    """Mixed into pyftpdlib's handler: HASH, OPTS HASH and the one-algorithm commands.

    Answers as proftpd's mod_digest does by default: FEAT ``HASH CRC32;MD5;SHA-1*;SHA-256;
    SHA-512;``, ``213 SHA-1 0-<size> <hex> <path>`` to HASH, ``213 <HEX>`` to the X commands
    (proftpd 1.3.8 itself answers ``250 <HEX>`` after a ``250-`` line: see the real one's tests)
    (whose argument is split into words, a quoted path being one), ``251 <path> <HEX>`` to MD5
    (the rest of the line). The class attributes choose other forms.
    """

    extra_commands: ClassVar[dict[str, dict]] = {
        **_TestServerBehaviour.extra_commands,
        "HASH": {"perm": "r", "auth": True, "arg": True, "help": "Syntax: HASH <SP> path."},
        "MD5": {"perm": "r", "auth": True, "arg": True, "help": "Syntax: MD5 <SP> path."},
        **{
            name: {"perm": None, "auth": True, "arg": True, "help": f"Syntax: {name} <SP> path."}
            for name in ("XSHA512", "XSHA256", "XSHA1", "XMD5", "XCRC")
        },
    }
    hash_algorithms: ClassVar[tuple[str, ...]] = ("CRC32", "MD5", "SHA-1", "SHA-256", "SHA-512")
    hash_default = "SHA-1"
    hash_range = True  # False: "213 SHA-1 <hex> <path>", as older FileZilla Servers answer
    x_commands: ClassVar[tuple[str, ...]] = ("XCRC", "MD5", "XMD5", "XSHA1", "XSHA256", "XSHA512")
    x_code = "213"  # "250": Globalscape's form, in lower case
    refusal = ""  # a reply to every checksum command instead of the digest
    hash_selected: str  # per session

    def handle(self) -> None:
        self.hash_selected = self.hash_default
        super().handle()  # type: ignore[misc]

    def ftp_FEAT(self, line: str) -> None:
        ours = {"HASH", *self.extra_commands}
        feats = [f for f in self._extra_feats if f.split(" ")[0] not in ours]
        feats += self.x_commands
        if self.hash_algorithms:
            marked = (a + ("*" if a == self.hash_selected else "") for a in self.hash_algorithms)
            feats.append("HASH " + "".join(name + ";" for name in marked))
        self._extra_feats = feats
        super().ftp_FEAT(line)  # type: ignore[misc]

    def ftp_OPTS(self, line: str) -> None:
        option, _, name = line.partition(" ")
        if option.upper() != "HASH" or not self.hash_algorithms:
            super().ftp_OPTS(line)  # type: ignore[misc]
        elif not name:
            self.respond(f"200 {self.hash_selected}")
        elif name.upper() not in self.hash_algorithms:
            self.respond(f"501 {name}: Unsupported algorithm")
        else:
            self.hash_selected = name.upper()
            self.respond(f"200 {name}")

    def _digest(self, path: str, algorithm: str) -> str | None:
        """The digest of the file at `path` (a file-system path), or None after an error reply."""
        if self.refusal:
            self.respond(self.refusal)
            return None
        if not self.fs.isfile(self.fs.realpath(path)):
            self.respond(f"550 {self.fs.fs2ftp(path)}: Not a regular file")
            return None
        with self.fs.open(path, "rb") as f:
            return digest_of(f.read(), algorithm)

    def ftp_HASH(self, path: str) -> None:
        if not self.hash_algorithms:
            self.respond("500 Command HASH not understood.")
            return
        digest = self._digest(path, self.hash_selected)
        if digest is not None:
            span = f" 0-{self.fs.getsize(path)}" if self.hash_range else ""
            self.respond(f"213 {self.hash_selected}{span} {digest} {self.fs.fs2ftp(path)}")

    def ftp_MD5(self, path: str) -> None:
        if "MD5" not in self.x_commands:
            self.respond("500 Command MD5 not understood.")
            return
        digest = self._digest(path, "MD5")
        if digest is not None:
            self.respond(f"251 {self.fs.fs2ftp(path)} {digest.upper()}")

    def _x_command(self, command: str, line: str) -> None:
        if command not in self.x_commands:
            self.respond(f"500 Command {command} not understood.")
            return
        words = proftpd_words(line)
        if len(words) != 1:  # a byte range, or an unquoted path with spaces
            self.respond("501 Invalid number of parameters")
            return
        path = self.fs.ftp2fs(words[0])
        if not self.fs.validpath(path) or not self.authorizer.has_perm(self.username, "r", path):
            self.respond(f"550 {words[0]}: Permission denied")
            return
        digest = self._digest(path, X_COMMANDS[command])
        if digest is not None:
            self.respond(f"{self.x_code} {digest.upper() if self.x_code == '213' else digest}")

    def ftp_XSHA512(self, line: str) -> None:
        self._x_command("XSHA512", line)

    def ftp_XSHA256(self, line: str) -> None:
        self._x_command("XSHA256", line)

    def ftp_XSHA1(self, line: str) -> None:
        self._x_command("XSHA1", line)

    def ftp_XMD5(self, line: str) -> None:
        self._x_command("XMD5", line)

    def ftp_XCRC(self, line: str) -> None:
        self._x_command("XCRC", line)


class _FlippingProducer:
    """Wraps a file producer: the byte at FLIPPED_AT of the stream goes out inverted."""

    def __init__(self, producer: FileProducer) -> None:
        self._producer = producer
        self._sent = 0

    def more(self) -> bytes:
        data = self._producer.more()
        at = FLIPPED_AT - self._sent
        self._sent += len(data)
        if 0 <= at < len(data):
            data = data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]
        return data


class _FlipsOneByte:
    """Mixed into a DTP handler: a faulty data path that flips the byte at FLIPPED_AT of each
    file sent or received (or, with `drop`, loses it from a file received)."""

    drop = False
    _received = 0

    def use_sendfile(self) -> bool:
        return False  # the bytes must pass through the producer to be flipped

    def push_with_producer(self, producer: object) -> None:
        if isinstance(producer, FileProducer):
            producer = _FlippingProducer(producer)
        super().push_with_producer(producer)  # type: ignore[misc]

    def recv(self, buffer_size: int) -> bytes:
        data = super().recv(buffer_size)  # type: ignore[misc]
        at = FLIPPED_AT - self._received
        self._received += len(data)
        if 0 <= at < len(data):
            middle = b"" if self.drop else bytes([data[at] ^ 0xFF])
            data = data[:at] + middle + data[at + 1 :]
        return data


class FlippingDTPHandler(_FlipsOneByte, DTPHandler):
    pass


class FlippingTLSDTPHandler(_FlipsOneByte, TLS_DTPHandler):
    pass


class DroppingDTPHandler(_FlipsOneByte, DTPHandler):
    drop = True


def checksum_pyftpdlib(
    root: Path, authorizer: DummyAuthorizer, **attributes: object
) -> contextlib.AbstractContextManager[LiveServer]:
    """A pyftpdlib server with checksum commands, `attributes` set on its handler."""
    return running_server(
        ("127.0.0.1", 0),
        root,
        authorizer,
        mixins=(ChecksumHandler, _TestServerBehaviour),
        **attributes,
    )


class TLSChecksumHandler(ChecksumHandler, _ClearCommandChannel):
    """The checksum commands on pyftpdlib's FTPS handler."""

    extra_commands: ClassVar[dict[str, dict]] = {
        **ChecksumHandler.extra_commands,
        **_ClearCommandChannel.extra_commands,
    }


# --------------------------------------------------------------------------
# Servers, whichever they are, and clients of theirs
# --------------------------------------------------------------------------


@dataclasses.dataclass
class ChecksumServer:
    """A live server with checksum commands, as the tests that run on each of them see it."""

    name: str
    host: str
    port: int
    root: Path  # the directory the user logs in to, on this machine
    algorithms: tuple[str, ...]  # what it computes, strongest first
    user: str = USER
    password: str = PASSWORD
    live: LiveServer | None = None  # pyftpdlib's: it records the commands it receives


# Every server with checksum commands that the tests over `checksum_server` run on: the
# pyftpdlib server above, and proftpd 1.3.8 with mod_digest (tests/interop_servers.py loads it
# with "DigestAlgorithms all": HASH with all five algorithms, XCRC, MD5, XMD5, XSHA1, XSHA256
# and XSHA512).  proftpd is the interop matrix's session-wide server; its tests skip, or fail
# where FTPLIB2_REQUIRE_PROFTPD is set, as the matrix's do.
CHECKSUM_SERVERS = ["pyftpdlib", "proftpd"]


@pytest.fixture(scope="module", params=CHECKSUM_SERVERS)
def checksum_server(
    request: pytest.FixtureRequest, ftp_root: Path, authorizer: DummyAuthorizer
) -> Iterator[ChecksumServer]:
    """Each server in CHECKSUM_SERVERS, in turn."""
    if request.param == "pyftpdlib":
        with checksum_pyftpdlib(ftp_root, authorizer) as live:
            yield ChecksumServer("pyftpdlib", live.host, live.port, ftp_root, ALGORITHMS, live=live)
    elif request.param == "proftpd":
        real: RealServer = request.getfixturevalue("proftpd")
        assert real.root_user_root is not None
        # Its user with uid 0, so that it reads and overwrites the files the tests write.
        yield ChecksumServer(
            "proftpd", real.host, real.port, real.root_user_root, ALGORITHMS, ROOT_USER, real.passwd
        )
    else:  # pragma: no cover - a name listed without a branch above
        raise AssertionError(f"no fixture for {request.param}")


@pytest.fixture
def checksum_dir(checksum_server: ChecksumServer) -> Path:
    """A fresh directory in `checksum_server`'s root, for this test's files only."""
    return Path(tempfile.mkdtemp(prefix="c-", dir=checksum_server.root))


def connect(
    server: ChecksumServer | LiveServer, directory: Path, cls: type[ftplib2.FTP] = ftplib2.FTP
) -> ftplib2.FTP:
    """A logged-in client of `server` inside `directory`; the caller closes it."""
    ftp = cls(timeout=TIMEOUT)
    try:
        ftp.connect(server.host, server.port)
        ftp.login(getattr(server, "user", USER), getattr(server, "password", PASSWORD))
        ftp.cwd(directory.name)
    except BaseException:
        ftp.close()
        raise
    return ftp


@pytest.fixture
def checksum_ftp(checksum_server: ChecksumServer, checksum_dir: Path) -> Iterator[ftplib2.FTP]:
    """A client of `checksum_server`, inside `checksum_dir`."""
    ftp = connect(checksum_server, checksum_dir)
    yield ftp
    ftp.close()


class WithoutHash(ftplib2.FTP):
    """A client that does not see HASH in FEAT: it uses the one-algorithm commands."""

    def features(self) -> dict[str, str]:
        return {k: v for k, v in super().features().items() if k != "HASH"}


@pytest.fixture(scope="module")
def server_variants(
    ftp_root: Path, authorizer: DummyAuthorizer
) -> Iterator[Callable[..., LiveServer]]:
    """Start pyftpdlib checksum servers with other handler attributes, kept for the module."""
    with contextlib.ExitStack() as stack:
        started: dict[tuple[tuple[str, Any], ...], LiveServer] = {}

        def start(**attributes: Any) -> LiveServer:
            key = tuple(sorted(attributes.items()))
            if key not in started:
                started[key] = stack.enter_context(
                    checksum_pyftpdlib(ftp_root, authorizer, **attributes)
                )
            return started[key]

        yield start


# The reply forms of real servers, each a variant of the pyftpdlib checksum server.
SERVER_FORMS = {
    # proftpd's mod_digest: HASH, and the X commands answering "213 <HEX>".
    "proftpd": {},
    # proftpd's X commands and MD5 alone ("251 <path> <HEX>").
    "x-commands": {"hash_algorithms": ()},
    # Globalscape and CuteFTP servers: "250 <hex>", no SHA-2.
    "globalscape": {
        "hash_algorithms": (),
        "x_commands": ("XCRC", "XMD5", "XSHA1"),
        "x_code": "250",
    },
    # draft-twine-ftpmd5's MD5 alone.
    "md5-only": {"hash_algorithms": (), "x_commands": ("MD5",)},
    # Older FileZilla Servers: HASH without the byte range, SHA-1 selected.
    "filezilla": {
        "hash_range": False,
        "x_commands": (),
        "hash_algorithms": ("SHA-1", "SHA-256", "SHA-512", "MD5"),
    },
}


def offered(form: dict[str, Any]) -> tuple[str, ...]:
    """The algorithms a server of `form` computes, strongest first."""
    names = set(form.get("hash_algorithms", ChecksumHandler.hash_algorithms))
    names |= {X_COMMANDS[c] for c in form.get("x_commands", ChecksumHandler.x_commands)}
    return tuple(a for a in ALGORITHMS if a in names)


@pytest.fixture
def workdir_in(ftp_root: Path) -> Path:
    """A fresh directory of the pyftpdlib servers' root."""
    return Path(tempfile.mkdtemp(prefix="c-", dir=ftp_root))


# --------------------------------------------------------------------------
# checksum()
# --------------------------------------------------------------------------

DATA = bytes(range(256)) * 1000 + b"tail"


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("cls", [ftplib2.FTP, WithoutHash], ids=["HASH", "X-commands"])
def test_checksum_equals_hashlib_and_zlib_for_every_algorithm(
    checksum_server: ChecksumServer, checksum_dir: Path, cls: type, algorithm: str
) -> None:
    if algorithm not in checksum_server.algorithms:
        pytest.skip(f"{checksum_server.name} does not compute {algorithm}")
    (checksum_dir / "data.bin").write_bytes(DATA)
    with connect(checksum_server, checksum_dir, cls) as ftp:
        assert ftp.checksum("data.bin", algorithm) == (algorithm, digest_of(DATA, algorithm))


def test_checksum_of_an_empty_file(checksum_ftp: ftplib2.FTP, checksum_dir: Path) -> None:
    (checksum_dir / "empty").write_bytes(b"")
    assert checksum_ftp.checksum("empty", "SHA-256") == ("SHA-256", hashlib.sha256().hexdigest())
    assert checksum_ftp.checksum("empty", "CRC32") == ("CRC32", "00000000")


@pytest.mark.parametrize("form", list(SERVER_FORMS))
def test_checksum_reads_each_servers_reply_form_and_picks_the_strongest(
    server_variants: Callable[..., LiveServer], workdir_in: Path, form: str
) -> None:
    server = server_variants(**SERVER_FORMS[form])
    (workdir_in / "data.bin").write_bytes(DATA)
    algorithms = offered(SERVER_FORMS[form])
    with connect(server, workdir_in) as ftp:
        assert ftp.checksum("data.bin") == (algorithms[0], digest_of(DATA, algorithms[0]))
        for algorithm in algorithms:
            assert ftp.checksum("data.bin", algorithm) == (algorithm, digest_of(DATA, algorithm))


@pytest.mark.parametrize("algorithm", ["sha256", "Sha-1", "crc-32", "md5"])
def test_checksum_takes_algorithm_names_in_any_case_with_or_without_dashes(
    checksum_ftp: ftplib2.FTP, checksum_dir: Path, algorithm: str
) -> None:
    (checksum_dir / "data.bin").write_bytes(DATA)
    name, digest = checksum_ftp.checksum("data.bin", algorithm)
    assert digest == digest_of(DATA, name)
    assert name.replace("-", "") == algorithm.replace("-", "").upper()


def test_checksum_of_an_unknown_algorithm_raises_value_error(checksum_ftp: ftplib2.FTP) -> None:
    with pytest.raises(ValueError, match="SHA-3"):
        checksum_ftp.checksum("data.bin", "SHA-3")


def test_checksum_on_a_server_without_checksum_commands_raises_error_perm(
    ftp: ftplib2.FTP, server: LiveServer
) -> None:
    with pytest.raises(ftplib2.error_perm, match="no checksum command"):
        ftp.checksum("anything")
    assert not {"HASH", "XSHA256", "XCRC", "MD5", "XMD5"} & set(verbs_of(server, ftp))


def test_checksum_of_an_algorithm_the_server_lacks_raises_error_perm(
    server_variants: Callable[..., LiveServer], workdir_in: Path
) -> None:
    server = server_variants(**SERVER_FORMS["globalscape"])
    with connect(server, workdir_in) as ftp, pytest.raises(ftplib2.error_perm, match="SHA-256"):
        ftp.checksum("data.bin", "SHA-256")


def test_checksum_of_a_missing_file_raises_the_servers_error_perm(
    checksum_ftp: ftplib2.FTP,
) -> None:
    with pytest.raises(ftplib2.error_perm) as raised:
        checksum_ftp.checksum("no such file")
    assert raised.value.code == "550"


NAMES_WITH_SPACES = [
    "with space.bin",
    "two  spaces 0 9",
    " leading",
    '"quoted" name',
    "back\\slash x",
]


@pytest.mark.parametrize("name", NAMES_WITH_SPACES)
@pytest.mark.parametrize("cls", [ftplib2.FTP, WithoutHash], ids=["HASH", "X-commands"])
def test_checksum_of_a_path_with_spaces_is_of_that_file(
    checksum_server: ChecksumServer, checksum_dir: Path, cls: type, name: str
) -> None:
    # "two  spaces 0 9" unquoted is "XSHA256 two spaces 0 9" to proftpd: nine bytes of "two".
    (checksum_dir / name).write_bytes(DATA)
    (checksum_dir / "two").write_bytes(b"another file")
    with connect(checksum_server, checksum_dir, cls) as ftp:
        for algorithm in ("SHA-256", "MD5"):
            assert ftp.checksum(name, algorithm) == (algorithm, digest_of(DATA, algorithm))


def test_md5_command_takes_the_rest_of_the_line_unquoted(
    server_variants: Callable[..., LiveServer], workdir_in: Path
) -> None:
    server = server_variants(**SERVER_FORMS["md5-only"])
    (workdir_in / "an md5 file").write_bytes(DATA)
    with connect(server, workdir_in) as ftp:
        assert ftp.checksum("an md5 file") == ("MD5", digest_of(DATA, "MD5"))
        assert server.commands_of(ftp)[-1] == "MD5 an md5 file"


def test_hash_selection_is_changed_only_when_needed_and_left_as_used(
    checksum_server: ChecksumServer, checksum_dir: Path
) -> None:
    live = checksum_server.live
    if live is None:
        pytest.skip("counts the commands the server received")
    (checksum_dir / "data.bin").write_bytes(DATA)
    with connect(checksum_server, checksum_dir) as ftp:
        ftp.checksum("data.bin", "SHA-1")  # selected already: FEAT marks it
        ftp.checksum("data.bin", "MD5")
        ftp.checksum("data.bin", "MD5")
        ftp.checksum("data.bin", "SHA-256")
        sent = [c for c in live.commands_of(ftp) if c.startswith(("OPTS HASH", "HASH"))]
        assert sent == [
            "HASH data.bin",
            "OPTS HASH MD5",
            "HASH data.bin",
            "HASH data.bin",
            "OPTS HASH SHA-256",
            "HASH data.bin",
        ]
        assert ftp.sendcmd("OPTS HASH") == "200 SHA-256"


def test_checksum_selects_again_after_the_selection_changed_behind_its_back(
    checksum_ftp: ftplib2.FTP, checksum_dir: Path
) -> None:
    (checksum_dir / "data.bin").write_bytes(DATA)
    assert checksum_ftp.checksum("data.bin", "MD5")[1] == digest_of(DATA, "MD5")
    checksum_ftp.sendcmd("OPTS HASH CRC32")
    assert checksum_ftp.checksum("data.bin", "MD5") == ("MD5", digest_of(DATA, "MD5"))


# --------------------------------------------------------------------------
# checksum() and servers that answer wrongly
# --------------------------------------------------------------------------

SHA256_OF_ABC = hashlib.sha256(b"abc").hexdigest()


def hostile_checksums(
    hostile_server: Callable[..., HostileServer], features: list[str], replies: dict[str, object]
) -> tuple[HostileServer, ftplib2.FTP]:
    """A scripted server offering `features` and answering `replies`, and a client logged in."""
    feat = "".join(f" {name}\r\n" for name in features)
    table = {"FEAT": f"211-Features:\r\n{feat}211 End\r\n".encode(), **replies}
    server = hostile_server(hostile_serving(table))
    ftp = server.connect()
    ftp.login("user", "password")
    return server, ftp


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param("213 " + SHA256_OF_ABC[:-1], id="short"),
        pytest.param("213 " + SHA256_OF_ABC + "0", id="long"),
        pytest.param("213 " + SHA256_OF_ABC[:-1] + "g", id="not-hex"),
        pytest.param("213 " + hashlib.sha512(b"abc").hexdigest(), id="sha512-length"),
        pytest.param("213 ", id="empty"),
        pytest.param("213 The checksum is " + SHA256_OF_ABC + ".", id="in-a-sentence"),
        pytest.param("213 " + "0" * 5000, id="huge"),
    ],
)
def test_a_digest_of_the_wrong_form_raises_error_proto(
    hostile_server: Callable[..., HostileServer], reply: str
) -> None:
    server, ftp = hostile_checksums(hostile_server, ["XSHA256"], {"XSHA256": reply})
    with pytest.raises(ftplib2.error_proto):
        ftp.checksum("abc")
    hostile_assert_in_step(ftp, server)


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param("213 SHA-256 10-20 " + SHA256_OF_ABC + " abc", id="partial-range"),
        pytest.param("213 SHA-256 0-3 " + SHA256_OF_ABC[:40] + " abc", id="short"),
        pytest.param("213 SHA-256 0-3", id="no-digest"),
        pytest.param("213 SHA-256 0-3 " + SHA256_OF_ABC.replace("a", "x") + " abc", id="not-hex"),
        pytest.param("250 SHA-256 0-3 " + SHA256_OF_ABC + " abc", id="not-213"),
        pytest.param(
            "213 MD5 0-3 " + hashlib.md5(b"abc").hexdigest() + " abc", id="other-algorithm"
        ),
    ],
)
def test_an_unusable_hash_reply_raises_error_proto(
    hostile_server: Callable[..., HostileServer], reply: str
) -> None:
    server, ftp = hostile_checksums(
        hostile_server, ["HASH SHA-256*;MD5"], {"HASH": reply, "OPTS": "200 SHA-256"}
    )
    with pytest.raises(ftplib2.error_proto):
        ftp.checksum("abc")
    hostile_assert_in_step(ftp, server)


def test_a_hash_reply_of_another_algorithm_is_retried_once_after_selecting_again(
    hostile_server: Callable[..., HostileServer],
) -> None:
    # The server's selection is not what FEAT said (another client of the session changed it).
    md5 = "213 MD5 0-3 " + hashlib.md5(b"abc").hexdigest() + " abc"
    replies = iter([md5, "213 SHA-256 0-3 " + SHA256_OF_ABC + " abc"])
    server, ftp = hostile_checksums(
        hostile_server,
        ["HASH SHA-256*;MD5"],
        {"HASH": lambda ctl, arg: ctl.reply(next(replies)), "OPTS": "200 SHA-256"},
    )
    assert ftp.checksum("abc") == ("SHA-256", SHA256_OF_ABC)
    assert server.commands[-3:] == ["HASH abc", "OPTS HASH SHA-256", "HASH abc"]


def test_hash_reply_after_keepalive_lines_is_read_from_its_last_line(
    hostile_server: Callable[..., HostileServer],
) -> None:
    reply = b"213-Computing...\r\n213-Still computing...\r\n213 SHA-256 0-3 %s abc\r\n"
    server, ftp = hostile_checksums(
        hostile_server, ["HASH SHA-256*"], {"HASH": reply % SHA256_OF_ABC.encode()}
    )
    assert ftp.checksum("abc") == ("SHA-256", SHA256_OF_ABC)
    hostile_assert_in_step(ftp, server)


def test_upper_case_digests_come_back_in_lower_case(
    hostile_server: Callable[..., HostileServer],
) -> None:
    server, ftp = hostile_checksums(
        hostile_server, ["XCRC", "XSHA256"], {"XSHA256": "213 " + SHA256_OF_ABC.upper()}
    )
    assert ftp.checksum("abc") == ("SHA-256", SHA256_OF_ABC)
    hostile_assert_in_step(ftp, server)


@pytest.mark.parametrize("refusal", ["500 Unknown command.", "502 Not implemented.", "504 No."])
def test_a_command_feat_lists_but_the_server_refuses_gives_way_to_the_next(
    hostile_server: Callable[..., HostileServer], refusal: str
) -> None:
    crc = f"{zlib.crc32(b'abc'):08X}"
    server, ftp = hostile_checksums(
        hostile_server,
        ["XSHA512", "XSHA256", "XCRC"],
        {"XSHA512": refusal, "XSHA256": refusal, "XCRC": "250 " + crc},
    )
    assert ftp.checksum("abc") == ("CRC32", crc.lower())
    assert server.commands[-3:] == ["XSHA512 abc", "XSHA256 abc", "XCRC abc"]
    with pytest.raises(ftplib2.error_perm) as raised:
        ftp.checksum("abc", "SHA-256")
    assert raised.value.code == refusal[:3]


def test_checksum_of_a_file_the_server_cannot_read_is_not_tried_elsewhere(
    hostile_server: Callable[..., HostileServer],
) -> None:
    server, ftp = hostile_checksums(
        hostile_server, ["XSHA256", "XCRC"], {"XSHA256": "550 abc: Permission denied"}
    )
    with pytest.raises(ftplib2.error_perm, match="Permission denied"):
        ftp.checksum("abc")
    assert "XCRC abc" not in server.commands


# --------------------------------------------------------------------------
# download(verify=True)
# --------------------------------------------------------------------------

BIG = os.urandom((3 << 20) + 17)  # several blocks, more than a socket buffer holds
CHECKSUM_VERBS = {"HASH", "XSHA512", "XSHA256", "XSHA1", "XMD5", "MD5", "XCRC"}


@pytest.fixture(scope="module")
def flipping_server(server_variants: Callable[..., LiveServer]) -> LiveServer:
    """The pyftpdlib checksum server, with a data path that flips one byte of each file."""
    return server_variants(dtp_handler=FlippingDTPHandler)


@pytest.fixture(scope="module")
def tls_checksum_servers(
    ftp_root: Path,
    authorizer: DummyAuthorizer,
    certificate_authority: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, LiveServer]]:
    """FTPS servers with checksum commands: "sound", and "flipping" one byte of each file."""
    pem = tmp_path_factory.mktemp("tls-checksums") / "server.pem"
    certificate_authority.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(
        str(pem)
    )
    with contextlib.ExitStack() as stack:
        servers = {
            name: stack.enter_context(
                running_server(
                    ("127.0.0.1", 0),
                    ftp_root,
                    authorizer,
                    handler_base=TLS_FTPHandler,
                    mixins=(TLSChecksumHandler, _TestServerBehaviour),
                    certfile=str(pem),
                    ssl_context=None,
                    dtp_handler=dtp,
                )
            )
            for name, dtp in (("sound", TLS_DTPHandler), ("flipping", FlippingTLSDTPHandler))
        }
        yield servers


def tls_connect(server: LiveServer, directory: Path, context: Any) -> ftplib2.FTP_TLS:
    ftp = ftplib2.FTP_TLS(context=context, timeout=TIMEOUT)
    try:
        ftp.connect(server.host, server.port)
        ftp.login(USER, PASSWORD)
        ftp.prot_p()
        ftp.cwd(directory.name)
    except BaseException:
        ftp.close()
        raise
    return ftp


def download_to(ftp: ftplib2.FTP, target: str, tmp_path: Path, **options: Any) -> bytes:
    """Download data.bin into a path or a file object (`target`); return what was written."""
    local = tmp_path / "data.bin"
    if target == "path":
        ftp.download("data.bin", local, **options)
        return local.read_bytes()
    with open(local, "wb") as f:
        ftp.download("data.bin", f, **options)
    return local.read_bytes()


@pytest.mark.parametrize("target", ["path", "file"])
def test_download_with_verify_arrives_whole_checked_by_the_servers_checksum(
    checksum_server: ChecksumServer, checksum_dir: Path, tmp_path: Path, target: str
) -> None:
    (checksum_dir / "data.bin").write_bytes(BIG)
    with connect(checksum_server, checksum_dir) as ftp:
        assert download_to(ftp, target, tmp_path, verify=True) == BIG
        if checksum_server.live is not None:
            # SHA-256 first for verify, SHA-512 though it is (see _VERIFY_ALGORITHMS).
            sent = checksum_server.live.commands_of(ftp)
            assert sent[-2:] == ["OPTS HASH SHA-256", "HASH data.bin"]
    assert not partial_downloads(tmp_path)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_download_verified_with_each_algorithm(
    checksum_server: ChecksumServer, checksum_dir: Path, tmp_path: Path, algorithm: str
) -> None:
    if algorithm not in checksum_server.algorithms:
        pytest.skip(f"{checksum_server.name} does not compute {algorithm}")
    (checksum_dir / "data.bin").write_bytes(BIG)
    with connect(checksum_server, checksum_dir, WithoutHash) as ftp:
        assert download_to(ftp, "path", tmp_path, verify=algorithm) == BIG


@pytest.mark.parametrize("target", ["path", "file"])
def test_download_with_verify_refuses_a_stream_with_one_byte_flipped(
    flipping_server: LiveServer, workdir_in: Path, tmp_path: Path, target: str
) -> None:
    (workdir_in / "data.bin").write_bytes(BIG)
    with connect(flipping_server, workdir_in) as ftp:
        # The fault is real, and the size alone does not see it:
        damaged = download_to(ftp, target, tmp_path)
        assert len(damaged) == len(BIG) and damaged != BIG
        assert damaged[FLIPPED_AT] == BIG[FLIPPED_AT] ^ 0xFF
        (tmp_path / "data.bin").unlink()
        with pytest.raises(ftplib2.error_proto, match="SHA-256"):
            download_to(ftp, target, tmp_path, verify=True)
        assert ftp.voidcmd("NOOP")[:3] == "200"
    if target == "path":
        assert not (tmp_path / "data.bin").exists()  # nothing under the final name
        assert not partial_downloads(tmp_path)  # nor wrong bytes to resume from


@needs_splice
def test_download_with_verify_keeps_the_splice_and_hashes_the_file(
    checksum_ftp: ftplib2.FTP,
    checksum_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (checksum_dir / "data.bin").write_bytes(BIG)
    spy = SpliceSpy(monkeypatch)
    assert download_to(checksum_ftp, "path", tmp_path, verify=True) == BIG
    assert spy.calls > 2


@pytest.mark.parametrize(
    "kernel",
    [
        pytest.param("splice", marks=needs_splice),
        pytest.param("no-splice", marks=needs_splice),
        pytest.param("no-pread"),
    ],
)
def test_download_with_verify_sees_the_flip_whichever_way_the_bytes_reach_the_file(
    server_variants: Callable[..., LiveServer],
    workdir_in: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kernel: str,
) -> None:
    if kernel == "no-splice":  # a kernel that will not splice from sockets: read in Python
        SpliceSpy(monkeypatch, refuse_sockets=True)
    if kernel == "no-pread":  # Windows: no digest behind the writer, hashed as it arrives
        monkeypatch.delattr(os, "pread")
    (workdir_in / "data.bin").write_bytes(BIG)
    with connect(server_variants(), workdir_in) as ftp:
        assert download_to(ftp, "path", tmp_path, verify=True) == BIG
    with (
        connect(server_variants(dtp_handler=FlippingDTPHandler), workdir_in) as ftp,
        pytest.raises(ftplib2.error_proto),
    ):
        download_to(ftp, "path", tmp_path, verify=True)


def test_download_with_verify_over_tls(
    tls_checksum_servers: dict[str, LiveServer],
    tls_client_context: Any,
    workdir_in: Path,
    tmp_path: Path,
) -> None:
    (workdir_in / "data.bin").write_bytes(BIG)
    with tls_connect(tls_checksum_servers["sound"], workdir_in, tls_client_context) as ftp:
        assert download_to(ftp, "path", tmp_path, verify=True) == BIG
    with (
        tls_connect(tls_checksum_servers["flipping"], workdir_in, tls_client_context) as ftp,
        pytest.raises(ftplib2.error_proto),
    ):
        download_to(ftp, "path", tmp_path, verify=True)
    assert not partial_downloads(tmp_path)


@pytest.mark.parametrize("kept", ["sound", "damaged"])
def test_download_resumed_with_verify_checks_the_part_it_kept_too(
    checksum_ftp: ftplib2.FTP, checksum_dir: Path, tmp_path: Path, kept: str
) -> None:
    (checksum_dir / "data.bin").write_bytes(BIG)
    prefix = bytearray(BIG[:123_456])
    if kept == "damaged":
        prefix[5] ^= 0x01
    plant_partial_download(tmp_path / "data.bin", bytes(prefix))
    if kept == "sound":
        assert checksum_ftp.download("data.bin", tmp_path / "data.bin", resume=True, verify=True)
        assert (tmp_path / "data.bin").read_bytes() == BIG
    else:
        with pytest.raises(ftplib2.error_proto):
            checksum_ftp.download("data.bin", tmp_path / "data.bin", resume=True, verify=True)
        assert not (tmp_path / "data.bin").exists()
    assert not partial_downloads(tmp_path)


def test_download_resumed_into_a_complete_partial_file_is_still_verified(
    checksum_ftp: ftplib2.FTP, checksum_dir: Path, tmp_path: Path
) -> None:
    (checksum_dir / "data.bin").write_bytes(BIG)
    damaged = bytearray(BIG)
    damaged[-1] ^= 0x01
    plant_partial_download(tmp_path / "data.bin", bytes(damaged))  # whole, but wrong
    with pytest.raises(ftplib2.error_proto):
        checksum_ftp.download("data.bin", tmp_path / "data.bin", resume=True, verify=True)
    assert not (tmp_path / "data.bin").exists()


@pytest.mark.parametrize("kept", ["sound", "damaged"])
def test_download_resumed_into_a_file_object_with_verify_hashes_what_it_holds(
    checksum_ftp: ftplib2.FTP, checksum_dir: Path, kept: str
) -> None:
    (checksum_dir / "data.bin").write_bytes(BIG)
    local = io.BytesIO(BIG[:70_000] if kept == "sound" else b"x" + BIG[1:70_000])
    if kept == "sound":
        assert checksum_ftp.download("data.bin", local, resume=True, verify=True) == len(BIG)
        assert local.getvalue() == BIG
    else:
        with pytest.raises(ftplib2.error_proto):
            checksum_ftp.download("data.bin", local, resume=True, verify=True)


def test_download_resumed_with_verify_into_a_write_only_file_is_refused_before_retr(
    checksum_server: ChecksumServer, checksum_ftp: ftplib2.FTP, checksum_dir: Path, tmp_path: Path
) -> None:
    (checksum_dir / "data.bin").write_bytes(BIG)
    (tmp_path / "data.bin").write_bytes(BIG[:1000])
    with open(tmp_path / "data.bin", "ab") as f, pytest.raises(io.UnsupportedOperation):
        checksum_ftp.download("data.bin", f, resume=True, verify=True)
    if checksum_server.live is not None:
        assert "RETR" not in verbs_of(checksum_server.live, checksum_ftp)


def test_download_with_verify_where_the_checksum_fails_keeps_the_partial_file(
    server_variants: Callable[..., LiveServer], workdir_in: Path, tmp_path: Path
) -> None:
    # A busy server (450): the bytes may be right, and a resume will verify them again.
    (workdir_in / "data.bin").write_bytes(BIG)
    with connect(server_variants(refusal="450 Busy, try later."), workdir_in) as ftp:
        with pytest.raises(ftplib2.error_temp):
            ftp.download("data.bin", tmp_path / "data.bin", verify=True)
        assert not (tmp_path / "data.bin").exists()
        assert len(partial_downloads(tmp_path)) == 1
    with connect(server_variants(), workdir_in) as ftp:
        ftp.download("data.bin", tmp_path / "data.bin", resume=True, verify=True)
        assert (tmp_path / "data.bin").read_bytes() == BIG


def test_download_with_verify_stops_its_digest_thread_whatever_happens(
    checksum_ftp: ftplib2.FTP, checksum_dir: Path, tmp_path: Path
) -> None:
    (checksum_dir / "data.bin").write_bytes(BIG)

    def fail(n: int) -> None:
        raise CallbackFailed

    with pytest.raises(CallbackFailed):
        checksum_ftp.download("data.bin", tmp_path / "data.bin", verify=True, callback=fail)
    assert not [t for t in threading.enumerate() if t.name == "ftplib2-digest"]
    checksum_ftp.download("data.bin", tmp_path / "data.bin", verify=True)
    assert not [t for t in threading.enumerate() if t.name == "ftplib2-digest"]


def test_download_with_verify_from_a_server_without_checksums_checks_the_size(
    ftp: ftplib2.FTP, server: LiveServer, workdir: Path, tmp_path: Path
) -> None:
    (workdir / "data.bin").write_bytes(BIG)
    assert download_to(ftp, "path", tmp_path, verify=True) == BIG
    verbs = verbs_of(server, ftp)
    assert verbs.index("SIZE") < verbs.index("RETR")
    assert not CHECKSUM_VERBS & set(verbs)


@pytest.fixture(scope="module")
def bare_server(server_variants: Callable[..., LiveServer]) -> LiveServer:
    """A pyftpdlib server with neither checksum commands nor SIZE."""
    proto_cmds = {**FTPHandler.proto_cmds, **_TestServerBehaviour.extra_commands}
    del proto_cmds["SIZE"]
    return server_variants(hash_algorithms=(), x_commands=(), proto_cmds=HashableDict(proto_cmds))


class HashableDict(dict):
    """A dict that can be part of server_variants's key."""

    def __hash__(self) -> int:  # type: ignore[override]
        return id(self)


def test_download_with_verify_from_a_server_without_checksums_or_size_is_refused(
    bare_server: LiveServer, workdir_in: Path, tmp_path: Path
) -> None:
    (workdir_in / "data.bin").write_bytes(BIG)
    with connect(bare_server, workdir_in) as ftp:
        with pytest.raises(ftplib2.error_perm, match="no checksum or SIZE"):
            ftp.download("data.bin", tmp_path / "data.bin", verify=True)
        assert "RETR" not in verbs_of(bare_server, ftp)
        assert ftp.download("data.bin", tmp_path / "data.bin") == len(BIG)  # unverified


def test_download_verified_with_an_algorithm_the_server_lacks_is_refused_before_retr(
    server_variants: Callable[..., LiveServer], workdir_in: Path, tmp_path: Path
) -> None:
    server = server_variants(**SERVER_FORMS["globalscape"])
    (workdir_in / "data.bin").write_bytes(BIG)
    with connect(server, workdir_in) as ftp:
        with pytest.raises(ftplib2.error_perm, match="SHA-256"):
            ftp.download("data.bin", tmp_path / "data.bin", verify="SHA-256")
        with pytest.raises(ValueError, match="SHA-3"):
            ftp.download("data.bin", tmp_path / "data.bin", verify="SHA-3")
        assert "RETR" not in verbs_of(server, ftp)
    assert not partial_downloads(tmp_path)


# --------------------------------------------------------------------------
# upload(verify=True)
# --------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["path", "file", "pipe"])
def test_upload_with_verify_is_checked_by_the_servers_checksum(
    checksum_server: ChecksumServer, checksum_dir: Path, tmp_path: Path, source: str
) -> None:
    (tmp_path / "data.bin").write_bytes(BIG)
    with connect(checksum_server, checksum_dir) as ftp:
        if source == "path":
            sent = ftp.upload(tmp_path / "data.bin", "data.bin", verify=True)
        elif source == "file":
            with open(tmp_path / "data.bin", "rb") as f:
                sent = ftp.upload(f, "data.bin", verify=True)
        else:
            r, w = os.pipe()
            writer = threading.Thread(target=lambda: (os.write(w, BIG), os.close(w)))
            writer.start()
            try:
                with open(r, "rb") as f:
                    sent = ftp.upload(f, "data.bin", verify=True)
            finally:
                writer.join()
        assert sent == len(BIG)
        if checksum_server.live is not None:
            assert "HASH data.bin" in checksum_server.live.commands_of(ftp)
    assert (checksum_dir / "data.bin").read_bytes() == BIG


@pytest.fixture(scope="module")
def no_delete_authorizer(ftp_root: Path) -> DummyAuthorizer:
    """USER with every permission, and "keeper", who may not delete."""
    authorizer = DummyAuthorizer()
    authorizer.add_user(USER, PASSWORD, str(ftp_root), perm="elradfmwMT")
    authorizer.add_user("keeper", PASSWORD, str(ftp_root), perm="elrawMT")
    return authorizer


@pytest.fixture(scope="module")
def faulty_upload_servers(
    ftp_root: Path, no_delete_authorizer: DummyAuthorizer
) -> Iterator[dict[str, LiveServer]]:
    """Checksum servers that store one byte wrong ("flipping") or one byte short ("dropping")."""
    with contextlib.ExitStack() as stack:
        yield {
            name: stack.enter_context(
                checksum_pyftpdlib(ftp_root, no_delete_authorizer, dtp_handler=dtp)
            )
            for name, dtp in (("flipping", FlippingDTPHandler), ("dropping", DroppingDTPHandler))
        }


def test_upload_with_verify_deletes_a_file_the_server_stored_wrong(
    faulty_upload_servers: dict[str, LiveServer], workdir_in: Path, tmp_path: Path
) -> None:
    (tmp_path / "data.bin").write_bytes(BIG)
    with connect(faulty_upload_servers["flipping"], workdir_in) as ftp:
        # The fault is real, and the size alone does not see it:
        assert ftp.upload(tmp_path / "data.bin", "data.bin") == len(BIG)
        stored = (workdir_in / "data.bin").read_bytes()
        assert len(stored) == len(BIG) and stored[FLIPPED_AT] == BIG[FLIPPED_AT] ^ 0xFF
        with pytest.raises(ftplib2.error_proto, match="deleted it"):
            ftp.upload(tmp_path / "data.bin", "data.bin", verify=True)
        assert ftp.voidcmd("NOOP")[:3] == "200"
    assert not (workdir_in / "data.bin").exists()


def test_upload_with_verify_deletes_a_file_the_server_stored_short(
    faulty_upload_servers: dict[str, LiveServer], workdir_in: Path, tmp_path: Path
) -> None:
    (tmp_path / "data.bin").write_bytes(BIG)
    with connect(faulty_upload_servers["dropping"], workdir_in) as ftp:
        with pytest.raises(ftplib2.error_proto, match="deleted it"):
            ftp.upload(tmp_path / "data.bin", "data.bin", verify=True)
        # Without verify, the size check raises too, but leaves the file as it was.
        with pytest.raises(ftplib2.error_proto):
            ftp.upload(tmp_path / "data.bin", "data.bin")
    assert len((workdir_in / "data.bin").read_bytes()) == len(BIG) - 1


def test_upload_with_verify_says_so_when_the_server_will_not_delete_the_wrong_file(
    faulty_upload_servers: dict[str, LiveServer], workdir_in: Path, tmp_path: Path
) -> None:
    (tmp_path / "data.bin").write_bytes(BIG)
    ftp = ftplib2.FTP(timeout=TIMEOUT)
    server = faulty_upload_servers["flipping"]
    with ftp:
        ftp.connect(server.host, server.port)
        ftp.login("keeper", PASSWORD)
        ftp.cwd(workdir_in.name)
        with pytest.raises(ftplib2.error_proto, match="would not delete it"):
            ftp.upload(tmp_path / "data.bin", "data.bin", verify=True)
    assert (workdir_in / "data.bin").exists()


@pytest.mark.parametrize("kept", ["sound", "damaged", "whole-but-damaged"])
def test_upload_resumed_with_verify_checks_the_part_the_server_kept(
    checksum_ftp: ftplib2.FTP, checksum_dir: Path, tmp_path: Path, kept: str
) -> None:
    (tmp_path / "data.bin").write_bytes(BIG)
    remote = bytearray(BIG if kept == "whole-but-damaged" else BIG[:200_000])
    if kept != "sound":
        remote[7] ^= 0x01
    (checksum_dir / "data.bin").write_bytes(remote)
    if kept == "sound":
        assert checksum_ftp.upload(tmp_path / "data.bin", "data.bin", resume=True, verify=True)
        assert (checksum_dir / "data.bin").read_bytes() == BIG
    else:
        with pytest.raises(ftplib2.error_proto, match="deleted it"):
            checksum_ftp.upload(tmp_path / "data.bin", "data.bin", resume=True, verify=True)
        assert not (checksum_dir / "data.bin").exists()


def test_upload_resumed_with_verify_from_the_middle_of_a_file_hashes_from_there(
    checksum_ftp: ftplib2.FTP, checksum_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "data.bin").write_bytes(b"header to skip" + BIG)
    (checksum_dir / "data.bin").write_bytes(BIG[:5000])
    with open(tmp_path / "data.bin", "rb") as f:
        f.seek(len(b"header to skip"))
        assert checksum_ftp.upload(f, "data.bin", resume=True, verify=True) == len(BIG)
    assert (checksum_dir / "data.bin").read_bytes() == BIG


def test_upload_with_verify_to_a_server_without_checksums_checks_the_size(
    ftp: ftplib2.FTP, server: LiveServer, workdir: Path, tmp_path: Path
) -> None:
    (tmp_path / "data.bin").write_bytes(BIG)
    assert ftp.upload(tmp_path / "data.bin", "data.bin", verify=True) == len(BIG)
    verbs = verbs_of(server, ftp)
    assert verbs.index("STOR") < verbs.index("SIZE")
    assert not CHECKSUM_VERBS & set(verbs)


def test_upload_with_verify_to_a_server_without_checksums_or_size_raises_error_perm(
    bare_server: LiveServer, workdir_in: Path, tmp_path: Path
) -> None:
    (tmp_path / "data.bin").write_bytes(BIG)
    with connect(bare_server, workdir_in) as ftp:
        with pytest.raises(ftplib2.error_perm, match="no checksum or SIZE"):
            ftp.upload(tmp_path / "data.bin", "data.bin", verify=True)
        assert ftp.upload(tmp_path / "data.bin", "data.bin") == len(BIG)  # unverified


# --------------------------------------------------------------------------
# ftpmirror --checksum
# --------------------------------------------------------------------------

MIRROR_CHECKSUM_COMMANDS = {
    name: spec for name, spec in ChecksumHandler.extra_commands.items() if name in CHECKSUM_VERBS
}


@pytest.fixture(scope="module")
def mirror_checksum_servers(mirror_ftp_root: Path) -> Iterator[dict[str, MirrorServer]]:
    """Mirror servers with checksum commands: "sound", "flipping" one byte of each file, and
    "refusing" to compute any (556, a server's policy)."""
    proto_cmds = {**FTPHandler.proto_cmds, **MIRROR_CHECKSUM_COMMANDS}
    with contextlib.ExitStack() as stack:
        yield {
            name: stack.enter_context(
                mirror_serving(
                    mirror_ftp_root, mixins=(ChecksumHandler,), proto_cmds=proto_cmds, **extra
                )
            )
            for name, extra in (
                ("sound", {}),
                ("flipping", {"dtp_handler": FlippingDTPHandler}),
                ("refusing", {"refusal": "556 Over the hashing policy's size."}),
            )
        }


def checksum_tree(root: Path) -> Path:
    """A small remote tree in the mirror servers' root; returns its directory."""
    remote = Path(tempfile.mkdtemp(prefix="k-", dir=root))
    (remote / "a.bin").write_bytes(BIG[:300_000])
    (remote / "sub").mkdir()
    (remote / "sub" / "b.txt").write_bytes(b"bravo\n" * 100)  # these two under FLIPPED_AT
    (remote / "sub" / "c with space.bin").write_bytes(BIG[1000:1800])
    return remote


def manifest_of(local: Path) -> dict[str, Any]:
    return read_mirror_manifest(local)


MIRRORED = ["a.bin", "sub/b.txt", "sub/c with space.bin"]


def test_mirror_checksum_records_the_checksums_and_keeps_copies_whose_dates_changed(
    mirror_tool: ModuleType,
    mirror_checksum_servers: dict[str, MirrorServer],
    mirror_ftp_root: Path,
    tmp_path: Path,
) -> None:
    server = mirror_checksum_servers["sound"]
    remote = checksum_tree(mirror_ftp_root)
    local = tmp_path / "local"
    args = [*mirror_login(server), remote.name, local]

    first = mirror_run(mirror_tool, "--checksum", *args)
    assert first.status == 0, first.err
    assert first.summary["files"] == 3
    manifest = manifest_of(local)
    assert manifest["format"] == "ftpmirror/2"
    assert manifest["checksums"] == {
        rel: "SHA-256:" + digest_of((remote / rel).read_bytes(), "SHA-256") for rel in MIRRORED
    }
    # Each record keeps the form every ftpmirror/1 reader takes.
    assert all(set(facts) == {"size", "modify", "unique"} for facts in manifest["files"].values())

    for rel in MIRRORED:  # the same bytes, stored again: new dates, nothing new to fetch
        os.utime(remote / rel, (1_700_000_000, 1_700_000_000))
    start = len(server.commands)
    second = mirror_run(mirror_tool, "--checksum", *args)
    assert second.status == 0, second.err
    assert second.summary["files"] == 0 and second.summary["unchanged"] == 3
    assert not [c for c in server.commands_since(start) if c.startswith("RETR")]
    assert manifest_of(local)["checksums"] == manifest["checksums"]
    # The records now hold the new dates: a run without --checksum finds nothing to do.
    third = mirror_run(mirror_tool, *args)
    assert third.status == 0 and third.summary["files"] == 0, third.out


def test_mirror_checksum_fetches_what_changed_under_the_same_size_and_dates(
    mirror_tool: ModuleType,
    mirror_checksum_servers: dict[str, MirrorServer],
    mirror_ftp_root: Path,
    tmp_path: Path,
) -> None:
    server = mirror_checksum_servers["sound"]
    remote = checksum_tree(mirror_ftp_root)
    local = tmp_path / "local"
    args = [*mirror_login(server), remote.name, local]
    assert mirror_run(mirror_tool, "--checksum", *args).status == 0
    edited = remote / "sub" / "b.txt"
    stamp = edited.stat()
    edited.write_bytes(b"BRAVO\n" * 100)  # same size
    os.utime(edited, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))

    unseen = mirror_run(mirror_tool, *args)  # the dates alone miss it
    assert unseen.summary["files"] == 0
    seen = mirror_run(mirror_tool, "--checksum", *args)
    assert seen.status == 0, seen.err
    assert seen.summary["files"] == 1 and seen.summary["unchanged"] == 2
    assert (local / "sub" / "b.txt").read_bytes() == b"BRAVO\n" * 100
    assert manifest_of(local)["checksums"]["sub/b.txt"] == "SHA-256:" + digest_of(
        b"BRAVO\n" * 100, "SHA-256"
    )


def test_mirror_checksum_refuses_a_download_with_a_flipped_byte(
    mirror_tool: ModuleType,
    mirror_checksum_servers: dict[str, MirrorServer],
    mirror_ftp_root: Path,
    tmp_path: Path,
) -> None:
    remote = checksum_tree(mirror_ftp_root)
    local = tmp_path / "local"
    args = [*mirror_login(mirror_checksum_servers["flipping"]), remote.name, local]
    result = mirror_run(mirror_tool, "--checksum", *args)
    assert result.status == 1
    assert (
        len(result.error_lines) == 1 and "a.bin" in result.error_lines[0]
    )  # the one past FLIPPED_AT
    assert not (local / "a.bin").exists()
    assert not mirror_parts(local)
    assert "a.bin" not in manifest_of(local)["files"]
    assert (local / "sub" / "b.txt").read_bytes() == (remote / "sub" / "b.txt").read_bytes()


def test_mirror_checksum_hashes_a_copy_it_has_no_checksum_for(
    mirror_tool: ModuleType,
    mirror_checksum_servers: dict[str, MirrorServer],
    mirror_ftp_root: Path,
    tmp_path: Path,
) -> None:
    server = mirror_checksum_servers["sound"]
    remote = checksum_tree(mirror_ftp_root)
    local = tmp_path / "local"
    args = [*mirror_login(server), remote.name, local]
    assert mirror_run(mirror_tool, *args).status == 0  # no checksums recorded
    assert manifest_of(local)["checksums"] == {}
    damaged = bytearray((local / "a.bin").read_bytes())
    damaged[10] ^= 0x01  # a local copy gone bad, with its size and dates intact
    stamp = (local / "a.bin").stat()
    (local / "a.bin").write_bytes(damaged)
    os.utime(local / "a.bin", ns=(stamp.st_atime_ns, stamp.st_mtime_ns))

    result = mirror_run(mirror_tool, "--checksum", *args)
    assert result.status == 0, result.err
    assert result.summary["files"] == 1 and result.summary["unchanged"] == 2
    assert (local / "a.bin").read_bytes() == (remote / "a.bin").read_bytes()
    assert set(manifest_of(local)["checksums"]) == set(MIRRORED)


def test_mirror_without_checksum_drops_the_checksum_of_a_file_it_fetches_again(
    mirror_tool: ModuleType,
    mirror_checksum_servers: dict[str, MirrorServer],
    mirror_ftp_root: Path,
    tmp_path: Path,
) -> None:
    server = mirror_checksum_servers["sound"]
    remote = checksum_tree(mirror_ftp_root)
    local = tmp_path / "local"
    args = [*mirror_login(server), remote.name, local]
    assert mirror_run(mirror_tool, "--checksum", *args).status == 0
    (remote / "a.bin").write_bytes(b"new and shorter")
    (remote / "sub" / "c with space.bin").unlink()
    assert mirror_run(mirror_tool, "-r", *args).summary["files"] == 1
    assert set(manifest_of(local)["checksums"]) == {"sub/b.txt"}


def test_mirror_manifest_checksums_are_checked_when_migrated(
    mirror_tool: ModuleType, tmp_path: Path
) -> None:
    files = {rel: {"size": 1, "modify": None, "unique": None} for rel in ("a", "b", "c", "d")}
    sha = "SHA-256:" + "ab" * 32
    data = {
        "format": "ftpmirror/1",
        "source": "ftp://x:21/",
        "files": files,
        "partial": {},
        "checksums": {
            "a": sha,
            "b": "SHA-256:" + "AB" * 32,  # upper case: not as written
            "c": "SHA-256:" + "ab" * 31,  # short
            "d": "SHA-3:" + "ab" * 32,  # unknown algorithm
            "gone": sha,  # no such file
        },
    }
    report = mirror_tool.Report(verbosity=1)
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / MIRROR_LEGACY_MANIFEST).write_text(json.dumps(data), encoding="ascii")
        data = {**data}
        data.pop("checksums", None)  # as every manifest before --checksum
    # The JSON manifest of ftpmirror/1 is migrated, only valid records taken.
    for name, checksums in [("one", {"a": sha}), ("two", {})]:
        manifest = mirror_tool.Manifest(str(tmp_path / name), "ftp://x:21/", report)
        manifest.open()
        manifest.close()
        loaded = read_mirror_manifest(tmp_path / name)
        assert loaded["files"] == files
        assert loaded["checksums"] == checksums
        assert not (tmp_path / name / MIRROR_LEGACY_MANIFEST).exists()


def test_mirror_checksum_on_a_server_without_checksums_decides_by_dates(
    mirror_tool: ModuleType, mirror_server: MirrorServer, mirror_ftp_root: Path, tmp_path: Path
) -> None:
    remote = checksum_tree(mirror_ftp_root)
    local = tmp_path / "local"
    args = [*mirror_login(mirror_server), remote.name, local]
    result = mirror_run(mirror_tool, "--checksum", *args)
    assert result.status == 0, result.err
    assert "no checksum command" in result.out
    assert result.summary["files"] == 3
    assert mirror_run(mirror_tool, "--checksum", *args).summary["unchanged"] == 3


def test_mirror_checksum_dry_run_says_what_it_would_check(
    mirror_tool: ModuleType,
    mirror_checksum_servers: dict[str, MirrorServer],
    mirror_ftp_root: Path,
    tmp_path: Path,
) -> None:
    server = mirror_checksum_servers["sound"]
    remote = checksum_tree(mirror_ftp_root)
    local = tmp_path / "local"
    args = [*mirror_login(server), remote.name, local]
    assert mirror_run(mirror_tool, "--checksum", *args).status == 0
    start = len(server.commands)
    result = mirror_run(mirror_tool, "--checksum", "--dry-run", *args)
    assert result.status == 0, result.err
    assert "would check sub/b.txt by checksum" in result.out
    assert not CHECKSUM_VERBS & {c.split()[0] for c in server.commands_since(start)}


def test_mirror_reverse_checksum_deletes_a_wrong_upload_before_it_takes_the_files_place(
    mirror_tool: ModuleType,
    mirror_checksum_servers: dict[str, MirrorServer],
    mirror_ftp_root: Path,
    tmp_path: Path,
) -> None:
    remote = Path(tempfile.mkdtemp(prefix="r-", dir=mirror_ftp_root))
    (remote / "a.bin").write_bytes(b"the server's own version")
    local = tmp_path / "local"
    local.mkdir()
    (local / "a.bin").write_bytes(BIG[:300_000])
    (local / "small.txt").write_bytes(b"under a thousand bytes")
    flipping = mirror_checksum_servers["flipping"]
    result = mirror_run(
        mirror_tool, "--reverse", "--checksum", *mirror_login(flipping), remote.name, local
    )
    assert result.status == 1
    assert len(result.error_lines) == 1 and "a.bin" in result.error_lines[0]
    assert (remote / "a.bin").read_bytes() == b"the server's own version"
    assert sorted(os.listdir(remote)) == ["a.bin", "small.txt"]  # no partial upload left
    sound = mirror_checksum_servers["sound"]
    result = mirror_run(
        mirror_tool, "--reverse", "--checksum", *mirror_login(sound), remote.name, local
    )
    assert result.status == 0, result.err
    assert (remote / "a.bin").read_bytes() == BIG[:300_000]


def test_mirror_checksum_of_files_the_server_will_not_hash_goes_by_size_and_dates(
    mirror_tool: ModuleType,
    mirror_checksum_servers: dict[str, MirrorServer],
    mirror_ftp_root: Path,
    tmp_path: Path,
) -> None:
    remote = checksum_tree(mirror_ftp_root)
    local = tmp_path / "local"
    args = [*mirror_login(mirror_checksum_servers["refusing"]), remote.name, local]
    first = mirror_run(mirror_tool, "--checksum", "-v", "-v", *args)
    assert first.status == 0, first.err
    assert first.summary["files"] == 3
    assert "no checksum for a.bin: 556 Over" in first.out
    assert manifest_of(local)["checksums"] == {}
    second = mirror_run(mirror_tool, "--checksum", *args)
    assert second.status == 0, second.err
    assert second.summary["unchanged"] == 3 and second.summary["files"] == 0


# --------------------------------------------------------------------------
# Each command, on each server; proftpd behind a proxy that flips a byte
# --------------------------------------------------------------------------


class OnlyCommand(RecordingFTP):
    """A client that sees one checksum command in FEAT (`command`), none of the others."""

    command = ""

    def features(self) -> dict[str, str]:
        others = CHECKSUM_VERBS - {self.command}
        return {k: v for k, v in super().features().items() if k not in others}


def test_the_server_offers_every_algorithm_by_hash_and_by_a_command_of_its_own(
    checksum_server: ChecksumServer, checksum_dir: Path
) -> None:
    with connect(checksum_server, checksum_dir) as ftp:
        features = ftp.features()
    hashed = {name.rstrip("*") for name in features["HASH"].split(";") if name}
    assert hashed == set(checksum_server.algorithms)
    assert set(X_COMMANDS) <= set(features)


@pytest.mark.parametrize("command", list(X_COMMANDS))
def test_checksum_through_each_command_equals_hashlib_and_zlib(
    checksum_server: ChecksumServer, checksum_dir: Path, command: str
) -> None:
    algorithm = X_COMMANDS[command]
    (checksum_dir / "data file.bin").write_bytes(DATA)
    (checksum_dir / "data").write_bytes(b"another file")
    cls = type("Only" + command, (OnlyCommand,), {"command": command})
    with connect(checksum_server, checksum_dir, cls) as ftp:
        assert ftp.checksum("data file.bin") == (algorithm, digest_of(DATA, algorithm))
        assert [line.split()[0] for line in ftp.sent if line.split()[0] in CHECKSUM_VERBS] == [
            command
        ]


@pytest.fixture(scope="module")
def proftpd_proxy(request: pytest.FixtureRequest) -> Iterator[tuple[FaultProxy, ChecksumServer]]:
    """proftpd's ChecksumServer as reached through a FaultProxy (its host and port the proxy's)."""
    real: RealServer = request.getfixturevalue("proftpd")
    assert real.root_user_root is not None and real.passive_ports is not None
    with FaultProxy((real.host, real.port), real.passive_ports) as proxy:
        yield proxy, ChecksumServer(
            "proftpd", proxy.host, proxy.port, real.root_user_root, ALGORITHMS, ROOT_USER,
            real.passwd,
        )  # fmt: skip


@pytest.fixture
def proftpd_dir(proftpd_proxy: tuple[FaultProxy, ChecksumServer]) -> Path:
    return Path(tempfile.mkdtemp(prefix="c-", dir=proftpd_proxy[1].root))


def flip_next_transfer(proxy: FaultProxy) -> None:
    """The next data connection through `proxy` carries its byte FLIPPED_AT inverted."""
    proxy.clear()
    proxy.schedule([FLIP], min_offset=FLIPPED_AT, max_offset=FLIPPED_AT)


@pytest.mark.parametrize("target", ["path", "file"])
def test_download_from_proftpd_with_verify_refuses_a_stream_with_one_byte_flipped(
    proftpd_proxy: tuple[FaultProxy, ChecksumServer], proftpd_dir: Path, tmp_path: Path, target: str
) -> None:
    proxy, server = proftpd_proxy
    (proftpd_dir / "data.bin").write_bytes(BIG)
    with connect(server, proftpd_dir) as ftp:
        assert download_to(ftp, target, tmp_path, verify=True) == BIG  # sound, through the proxy
        (tmp_path / "data.bin").unlink()
        flip_next_transfer(proxy)  # the fault is real, and the size alone does not see it:
        damaged = download_to(ftp, target, tmp_path)
        assert len(damaged) == len(BIG) and damaged[FLIPPED_AT] == BIG[FLIPPED_AT] ^ 0xFF
        (tmp_path / "data.bin").unlink()
        flip_next_transfer(proxy)
        with pytest.raises(ftplib2.error_proto, match="SHA-256"):
            download_to(ftp, target, tmp_path, verify=True)
        assert not proxy.pending()
        assert ftp.voidcmd("NOOP")[:3] == "200"
    if target == "path":
        assert not (tmp_path / "data.bin").exists()  # nothing under the final name
        assert not partial_downloads(tmp_path)


def test_upload_to_proftpd_with_verify_deletes_a_file_that_arrived_with_a_byte_flipped(
    proftpd_proxy: tuple[FaultProxy, ChecksumServer], proftpd_dir: Path, tmp_path: Path
) -> None:
    proxy, server = proftpd_proxy
    (tmp_path / "data.bin").write_bytes(BIG)
    with connect(server, proftpd_dir) as ftp:
        assert ftp.upload(tmp_path / "data.bin", "sound.bin", verify=True) == len(BIG)
        assert (proftpd_dir / "sound.bin").read_bytes() == BIG
        flip_next_transfer(proxy)
        with pytest.raises(ftplib2.error_proto, match="deleted it"):
            ftp.upload(tmp_path / "data.bin", "data.bin", verify=True)
        assert not proxy.pending()
        assert ftp.voidcmd("NOOP")[:3] == "200"
    assert sorted(os.listdir(proftpd_dir)) == ["sound.bin"]


def test_mirror_checksum_from_proftpd_records_its_checksums_and_refuses_a_flipped_byte(
    mirror_tool: ModuleType, proftpd_proxy: tuple[FaultProxy, ChecksumServer], tmp_path: Path
) -> None:
    proxy, server = proftpd_proxy
    remote = checksum_tree(server.root)
    local = tmp_path / "local"
    login = ["-l", server.user, "-p", server.password, f"{server.host}:{server.port}"]
    args = [*login, remote.name, local]
    first = mirror_run(mirror_tool, "--checksum", *args)
    assert first.status == 0, first.err
    assert first.summary["files"] == 3
    assert manifest_of(local)["checksums"] == {
        rel: "SHA-256:" + digest_of((remote / rel).read_bytes(), "SHA-256") for rel in MIRRORED
    }
    for rel in MIRRORED:  # the same bytes, stored again: new dates, nothing new to fetch
        os.utime(remote / rel, (1_700_000_000, 1_700_000_000))
    second = mirror_run(mirror_tool, "--checksum", *args)
    assert second.status == 0, second.err
    assert second.summary["files"] == 0 and second.summary["unchanged"] == 3

    (local / "a.bin").unlink()  # fetched again, through a proxy that damages it
    flip_next_transfer(proxy)
    third = mirror_run(mirror_tool, "--checksum", *args)
    assert third.status == 1
    assert len(third.error_lines) == 1 and "a.bin" in third.error_lines[0]
    assert not (local / "a.bin").exists()
    assert not mirror_parts(local)
