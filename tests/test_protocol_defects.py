"""Regression tests for defects of the control connection, reply helpers, TLS and active mode.

Each test reproduces one reported defect against a live server (pyftpdlib, vsftpd, or the
scripted hostile server of test_ftplib2.py) and failed before its fix:

* issue 19, item 5: ``connect()`` waits for ever while a server keeps sending ``120``.

Run only these with::

    python -m pytest -q -p no:cacheprovider tests/test_protocol_defects.py
"""

from __future__ import annotations

import pytest

import ftplib2
from test_ftplib2 import (
    HOSTILE_TIMEOUT,
    HostileControl,
    hostile_assert_in_step,
    hostile_within,
)

# --------------------------------------------------------------------------
# Issue 19, item 5: an endless run of 120 replies
# --------------------------------------------------------------------------


def test_connect_gives_up_on_endless_120_replies_once_the_timeout_has_passed(
    hostile_server,
) -> None:
    """A server that answers "120 ready in a minute" again and again cannot hold connect()."""

    def script(ctl: HostileControl) -> None:
        # Far longer than the client's timeout, but not for ever: unfixed, connect() returns
        # the 220 late instead of hanging the test run.
        for _ in range(int(4 * HOSTILE_TIMEOUT / 0.05)):
            ctl.reply("120 Service ready in 1 minute.")
            ctl.sleep(0.05)
        ctl.serve()

    server = hostile_server(script)
    ftp = server.new_client()
    with hostile_within(HOSTILE_TIMEOUT + 1.0), pytest.raises(TimeoutError) as caught:
        ftp.connect(server.host, server.port)
    assert isinstance(caught.value, ftplib2.all_errors)
    assert "120" in str(caught.value)
    assert ftp.sock is None and ftp.file is None


def test_connect_still_waits_out_a_few_120_replies_within_the_timeout(hostile_server) -> None:
    def script(ctl: HostileControl) -> None:
        for _ in range(5):
            ctl.reply("120 Service ready in 1 minute.")
            ctl.sleep(0.05)
        ctl.serve()

    server = hostile_server(script)
    ftp = server.new_client()
    assert ftp.connect(server.host, server.port) == "220 Hostile test server ready."
    hostile_assert_in_step(ftp, server)
