"""Packaging for ftplib2: one pure-Python module with no runtime dependencies."""

from pathlib import Path

from setuptools import setup

HERE = Path(__file__).resolve().parent

setup(
    name="ftplib2",
    version="0.1.0",
    description="A blocking, drop-in replacement for the standard library's ftplib",
    long_description=(HERE / "README").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    py_modules=["ftplib2"],
    python_requires=">=3.11",
    extras_require={
        # The embedded server that `python -m ftplib2` runs its demo against.
        "demo": ["pyftpdlib>=2.0"],
        "test": ["pytest", "pyftpdlib>=2.0", "pyopenssl", "trustme", "hypothesis", "fsspec"],
        "docs": ["sphinx"],
    },
    classifiers=[
        "Development Status :: 3 - Alpha",
        "Intended Audience :: Developers",
        "Operating System :: OS Independent",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3 :: Only",
        "Programming Language :: Python :: 3.11",
        "Topic :: Internet :: File Transfer Protocol (FTP)",
    ],
)
