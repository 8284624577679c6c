"""Fixtures and helpers shared by the test modules under ``tests/``.

The live servers and helpers still live in ``test_ftplib2.py`` (the drop-in API suite at the
root); this file makes every public fixture and helper of it visible here, so that a module in
``tests/`` uses the same live pyftpdlib, hostile and mirror servers.
"""

from test_ftplib2 import *
