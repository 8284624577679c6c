"""The documentation says what the code has: every public name of ftplib2 has an entry in the
reference under Doc/, every documented name exists, and the Sphinx build (html and doctest)
passes with warnings as errors.

Run only these tests:

    python -m pytest tests/test_docs.py
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import re
import subprocess
import sys

import pytest

import ftplib2
from tests.servers import REPO_ROOT

# --------------------------------------------------------------------------
# The documentation
# --------------------------------------------------------------------------

DOC_DIR = REPO_ROOT / "Doc"

# ftplib's constants: public, but neither in __all__ nor objects with a __module__.
_DOC_STDLIB_CONSTANTS = ("MSG_OOB", "FTP_PORT", "MAXLINE", "CRLF", "B_CRLF")
# Classes whose own methods and attributes must be documented as Class.member.
_DOC_CLASSES = ("FTP", "FTP_TLS", "Reply", "ReplyParser", "Entry", "Error")

_DOC_DIRECTIVE_RE = re.compile(
    r"^(?P<indent>[ \t]*)\.\.[ \t]+(?:py:)?"
    r"(?P<kind>module|currentmodule|function|class|exception|method|classmethod|staticmethod"
    r"|attribute|property|data|decorator)::[ \t]*(?P<signature>.*)$"
)
_DOC_OPTION_RE = re.compile(r"^[ \t]*:(?P<name>[\w-]+):[ \t]*(?P<value>.*)$")
_DOC_NAME_RE = re.compile(
    r"^(?:(?:async|final|abstract|class|static)\s+)*(?P<name>[A-Za-z_][\w.]*)"
)
_DOC_CLASS_KINDS = ("class", "exception")


def _doc_indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _doc_instance_attributes(cls: type) -> set[str]:
    """The public attributes a constructor called without arguments sets on the instance."""
    try:
        instance = cls()
    except TypeError:  # needs arguments (Entry): its dataclass fields are counted instead
        return set()
    return {name for name in getattr(instance, "__dict__", {}) if not name.startswith("_")}


def _doc_own_members(cls: type) -> set[str]:
    """The public members `cls` itself defines: in its body, as dataclass fields, or in __init__."""
    members = {name for name in vars(cls) if not name.startswith("_")}
    if dataclasses.is_dataclass(cls):
        members |= {field.name for field in dataclasses.fields(cls)}
    inherited = set()
    for base in cls.__mro__[1:]:
        if base.__module__ == "ftplib2":
            inherited |= _doc_instance_attributes(base)
        inherited |= {name for name in vars(base) if not name.startswith("_")}
    return members | (_doc_instance_attributes(cls) - inherited)


def _doc_public_names() -> set[str]:
    """Every name the reference must describe, relative to the module: 'FTP', 'FTP.scandir'..."""
    names = set(ftplib2.__all__) | set(_DOC_STDLIB_CONSTANTS)
    for name in dir(ftplib2):
        defined_here = getattr(getattr(ftplib2, name), "__module__", None) == "ftplib2"
        if defined_here and not name.startswith("_"):
            names.add(name)
    for class_name in _DOC_CLASSES:
        cls = getattr(ftplib2, class_name, None)
        if cls is None:  # FTP_TLS, on a Python without ssl
            continue
        names |= {f"{class_name}.{member}" for member in _doc_own_members(cls)}
    return names


def _doc_directive_block(lines: list[str], start: int, indent: int) -> tuple[list[str], dict, int]:
    """The signatures and options of the directive on lines[start]; also the next line's index.

    Signatures go on until the first blank line or option; a line ending in a backslash is
    continued on the next one, any other line holds a signature of its own.
    """
    match = _DOC_DIRECTIVE_RE.match(lines[start])
    signatures = [match["signature"].strip()]
    i = start + 1
    while i < len(lines) and lines[i].strip() and _doc_indent(lines[i]) > indent:
        if signatures[-1].endswith("\\"):
            signatures[-1] = signatures[-1][:-1].rstrip() + " " + lines[i].strip()
        elif _DOC_OPTION_RE.match(lines[i]):
            break
        else:
            signatures.append(lines[i].strip())
        i += 1
    options = {}
    while i < len(lines) and lines[i].strip() and (option := _DOC_OPTION_RE.match(lines[i])):
        options[option["name"]] = option["value"].strip()
        i += 1
    return [s for s in signatures if s], options, i


def _doc_objects_in(text: str) -> set[str]:
    """The full names of the Python objects an .rst file documents, as Sphinx would register them.

    Follows Sphinx's rules: the module is set by ``module``/``currentmodule`` (per file) or a
    directive's ``:module:`` option; a member directive nested in a class directive's content,
    or naming no class itself, belongs to that class; a name may carry its class (``FTP.scandir``).
    """
    lines = text.splitlines()
    module: str | None = None
    # Enclosing directives: (indentation, class prefix for their content, module for their content).
    stack: list[tuple[int, str, str | None]] = []
    found: set[str] = set()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        indent = _doc_indent(line)
        while stack and indent <= stack[-1][0]:
            stack.pop()
        match = _DOC_DIRECTIVE_RE.match(line)
        if match is None:
            i += 1
            continue
        kind = match["kind"]
        signatures, options, i = _doc_directive_block(lines, i, indent)
        if kind in ("module", "currentmodule"):
            value = signatures[0] if signatures else ""
            module = None if value in ("", "None") else value
            continue
        class_prefix = stack[-1][1] if stack else ""
        modname = options.get("module", stack[-1][2] if stack else module)
        first_fullname = None
        for signature in signatures:
            name_match = _DOC_NAME_RE.match(signature)
            if name_match is None:
                continue
            name = name_match["name"]
            if class_prefix and not (name == class_prefix or name.startswith(class_prefix + ".")):
                name = f"{class_prefix}.{name}"
            first_fullname = first_fullname or name
            found.add(f"{modname}.{name}" if modname else name)
        if first_fullname is not None:
            if kind in _DOC_CLASS_KINDS:
                content_prefix = first_fullname
            else:
                content_prefix = first_fullname.rpartition(".")[0]
            stack.append((indent, content_prefix, modname))
    return found


def _doc_documented_names(doc_dir: pathlib.Path) -> set[str]:
    """The objects of ftplib2 documented in `doc_dir`, relative to the module."""
    names = set()
    for path in sorted(doc_dir.rglob("*.rst")):
        if "_build" in path.relative_to(doc_dir).parts:
            continue
        for fullname in _doc_objects_in(path.read_text(encoding="utf-8")):
            if fullname.startswith("ftplib2."):
                names.add(fullname[len("ftplib2.") :])
    return names


def test_every_public_name_is_documented() -> None:
    assert DOC_DIR.is_dir(), f"no documentation at {DOC_DIR}"
    documented = _doc_documented_names(DOC_DIR)
    assert {"FTP", "FTP.connect", "Reply.code"} <= documented, "the Doc/ parser found nothing"
    missing = sorted(_doc_public_names() - documented)
    assert not missing, (
        "public names of ftplib2 with no entry in the reference (Doc/library.rst: add a "
        ".. function::, .. class::, .. method::, .. attribute:: or .. data:: for each): "
        + ", ".join(missing)
    )


def _doc_name_exists(name: str) -> bool:
    head, _, member = name.partition(".")
    if not hasattr(ftplib2, head):
        return False
    if not member:
        return True
    cls = getattr(ftplib2, head)
    if hasattr(cls, member):
        return True
    if not isinstance(cls, type):
        return False
    fields = dataclasses.fields(cls) if dataclasses.is_dataclass(cls) else ()
    return member in {field.name for field in fields} | _doc_instance_attributes(cls)


def test_every_documented_name_exists() -> None:
    stale = sorted(name for name in _doc_documented_names(DOC_DIR) if not _doc_name_exists(name))
    if not hasattr(ftplib2, "FTP_TLS"):  # documented, but absent on a Python without ssl
        stale = [name for name in stale if name.split(".")[0] != "FTP_TLS"]
    assert not stale, "the reference describes names that ftplib2 does not have: " + ", ".join(
        stale
    )


def test_docs_build_without_warnings(tmp_path: pathlib.Path) -> None:
    pytest.importorskip("sphinx")
    root = REPO_ROOT
    # Doc/conf.py puts this directory first on sys.path too; PYTHONPATH covers older copies.
    pythonpath = [str(root), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(pythonpath)}
    for builder in ("html", "doctest"):
        command = [
            sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", builder,
            str(root / "Doc"), str(tmp_path / builder),
        ]  # fmt: skip
        result = subprocess.run(
            command, cwd=root, env=env, capture_output=True, text=True, timeout=600, check=False
        )
        assert result.returncode == 0, (
            f"{' '.join(command)} exited with {result.returncode}\n"
            f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
        )
