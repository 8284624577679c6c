"""Packaging for ftplib2: one pure-Python module with no runtime dependencies.

The distribution also carries Tools/scripts/ftpmirror.py, installed as the module
``ftpmirror`` behind an ``ftpmirror`` command, so that ``pip install .`` puts the mirroring
tool on PATH while its source stays where the project's layout has it.
"""

import re
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
MIRROR_SCRIPT = Path("Tools", "scripts", "ftpmirror.py")


def version() -> str:
    """ftplib2.__version__, read without importing the module."""
    text = (HERE / "ftplib2.py").read_text(encoding="utf-8")
    return re.search(r'^__version__ = "([^"]+)"', text, re.MULTILINE).group(1)


class BuildWithMirror(build_py):
    """build_py, plus Tools/scripts/ftpmirror.py copied in as the top-level module ftpmirror."""

    def run(self) -> None:
        super().run()
        self.copy_file(str(HERE / MIRROR_SCRIPT), str(Path(self.build_lib, "ftpmirror.py")))

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        return [*super().get_outputs(include_bytecode), str(Path(self.build_lib, "ftpmirror.py"))]


setup(
    name="ftplib2",
    version=version(),
    description="A blocking, drop-in replacement for the standard library's ftplib",
    long_description=(HERE / "README").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    py_modules=["ftplib2"],
    cmdclass={"build_py": BuildWithMirror},
    entry_points={"console_scripts": ["ftpmirror = ftpmirror:console_main"]},
    python_requires=">=3.11",
    extras_require={
        # The embedded server that `python -m ftplib2` runs its demo against.
        "demo": ["pyftpdlib>=2.0"],
        # ftpmirror's progress bar (plain lines without it).
        "mirror": ["tqdm"],
        "test": [
            "pytest",
            "pyftpdlib>=2.0",
            "pyopenssl",
            "trustme",
            "hypothesis",
            "mypy>=1.14",
            "fsspec",
            "twisted",  # the FTP server of twisted.protocols.ftp, one of the interop matrix
        ],
        "docs": ["sphinx"],
    },
    classifiers=[
        "Development Status :: 3 - Alpha",
        "Intended Audience :: Developers",
        "Operating System :: OS Independent",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3 :: Only",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
        "Topic :: Internet :: File Transfer Protocol (FTP)",
    ],
)
