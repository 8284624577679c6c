"""Twisted's FTP server (twisted.protocols.ftp) for the interoperability tests, as a script.

    python tests/twisted_ftpd.py ROOT PORTS_FILE PASSIVE_START PASSIVE_STOP USER PASSWORD

serves ROOT to USER on 127.0.0.1 and ::1 (a free port each) until SIGTERM, with passive data
connections on ports PASSIVE_START to PASSIVE_STOP - 1, and writes ``{"ipv4": port, "ipv6":
port}`` to PORTS_FILE once it listens.  ``tests/interop_servers.py`` starts it; it is no test
module, and imports nothing but Twisted.
"""

from __future__ import annotations

import json
import os
import sys

from twisted.cred.checkers import InMemoryUsernamePasswordDatabaseDontUse
from twisted.cred.portal import Portal
from twisted.internet import reactor
from twisted.protocols.ftp import FTP, BaseFTPRealm, FTPFactory
from twisted.python.filepath import FilePath


class NoDelayFTP(FTP):
    """Twisted's FTP protocol with Nagle's algorithm off on the control connection.

    Twisted leaves it on, so the final reply of a transfer waits for the client's delayed ACK
    of the 1xx before it (40 ms on Linux): a deployment would turn it off, and the 200-file
    test takes one second instead of twenty.
    """

    def connectionMade(self) -> None:
        self.transport.setTcpNoDelay(True)
        super().connectionMade()


class OneHomeRealm(BaseFTPRealm):
    """Every user's home is the one root."""

    def __init__(self, root: str) -> None:
        super().__init__(root)
        self.root = FilePath(root)

    def getHomeDirectory(self, avatarId: object) -> FilePath:
        return self.root


def main(argv: list[str]) -> None:
    root, ports_file, passive_start, passive_stop, user, password = argv
    checker = InMemoryUsernamePasswordDatabaseDontUse()
    checker.addUser(user, password)  # str, as the protocol passes them
    factory = FTPFactory(Portal(OneHomeRealm(root), [checker]))
    factory.protocol = NoDelayFTP
    factory.allowAnonymous = False
    factory.passivePortRange = range(int(passive_start), int(passive_stop))
    ipv4 = reactor.listenTCP(0, factory, interface="127.0.0.1")
    ipv6 = reactor.listenTCP(0, factory, interface="::1")
    partial = ports_file + ".part"
    with open(partial, "w") as f:
        json.dump({"ipv4": ipv4.getHost().port, "ipv6": ipv6.getHost().port}, f)
    os.replace(partial, ports_file)  # whole, or not there yet
    reactor.run()


if __name__ == "__main__":
    main(sys.argv[1:])
