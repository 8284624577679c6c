"""Sphinx configuration for the ftplib2 documentation.

The reference is written by hand (no autodoc), so the HTML build imports nothing from ftplib2.
The doctest builder (``sphinx-build -b doctest Doc <dir>``) runs the ``.. doctest::`` examples
against the ftplib2.py of this checkout, which is why its directory goes first on sys.path.
"""

import re
import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(_ROOT))

# The version is declared once, as ftplib2.__version__ (setup.py reads it from there too).
_MODULE = (_ROOT / "ftplib2.py").read_text(encoding="utf-8")

project = "ftplib2"
author = "the ftplib2 authors"
copyright = "2026, the ftplib2 authors"
release = re.search(r'^__version__ = "([^"]+)"', _MODULE, re.MULTILINE).group(1)
version = ".".join(release.split(".")[:2])

extensions = ["sphinx.ext.doctest"]

# Examples that need a server are literal blocks (introduced with ``::``), which are not run. The
# pure functions and the reply parser are shown in ``.. doctest::`` blocks, which are; so is any
# bare ``>>>`` paragraph. Every test starts with these imports.
doctest_global_setup = """
import datetime
import ftplib2
from ftplib2 import *
from ftplib2 import Error, parse150, parse227, parse229, parse257
"""

root_doc = "index"
exclude_patterns = ["_build"]
default_role = "literal"
pygments_style = "sphinx"

html_theme = "alabaster"
html_theme_options = {
    "description": "A drop-in replacement for Python's ftplib",
    "fixed_sidebar": True,
}
html_title = f"ftplib2 {release}"
