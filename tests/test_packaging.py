"""What ``pip install`` gives a user: the ftplib2 module and the ``ftpmirror`` command.

The project is built and installed the way a user installs it (pip, with build isolation) into
a scratch prefix, from a copy of the files the distribution is made of, so that the checkout
gets no build/ or egg-info litter. Then ``ftpmirror`` runs from that prefix's bin directory,
against a live pyftpdlib server.

Run only these tests with ``python -m pytest tests/test_packaging.py``.
"""

from __future__ import annotations

import email.parser
import os
import shutil
import subprocess
import sys
import venv as venv_module
from pathlib import Path

import pytest

import ftplib2
from tests.servers import MIRROR_PASSWORD, MIRROR_USER, MirrorServer, mirror_snapshot

ROOT = Path(__file__).resolve().parent.parent
DISTRIBUTED = ["setup.py", "pyproject.toml", "README", "ftplib2.py", "Tools/scripts/ftpmirror.py"]


class Installed:
    """ftplib2 installed by pip into a virtual environment of its own, as a user installs it."""

    def __init__(self, venv: Path) -> None:
        self.venv = venv
        self.bin = venv / ("Scripts" if os.name == "nt" else "bin")
        self.python = self.bin / "python"
        self.env = {
            **os.environ,
            "PATH": os.pathsep.join([str(self.bin), os.environ.get("PATH", "")]),
            "VIRTUAL_ENV": str(venv),
        }
        # Only the installed copy: not the checkout, whatever the caller's PYTHONPATH says.
        self.env.pop("PYTHONPATH", None)

    def run(self, *argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(argv), cwd=cwd, env=self.env, capture_output=True, text=True, timeout=120,
            check=False,
        )  # fmt: skip

    def metadata(self) -> email.message.Message:
        done = self.run(
            str(self.python), "-c",
            "import importlib.metadata as m; print(m.distribution('ftplib2').read_text('METADATA'))",
            cwd=self.venv,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return email.parser.Parser().parsestr(done.stdout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    source = tmp_path_factory.mktemp("source")
    for name in DISTRIBUTED:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    venv = tmp_path_factory.mktemp("venv")
    venv_module.create(venv, with_pip=False, clear=True)
    installed = Installed(venv)
    # The running pip installs into the venv: quicker than bootstrapping a pip inside it.
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(installed.python), "install", "--quiet",
         "--no-deps", str(source)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return installed


def test_pip_install_puts_ftpmirror_on_path_and_it_reports_ftplib2s_version(
    installed: Installed, tmp_path: Path
) -> None:
    command = shutil.which("ftpmirror", path=installed.env["PATH"])
    assert command is not None and Path(command).parent == installed.bin

    done = installed.run("ftpmirror", "--version", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"ftpmirror (ftplib2 {ftplib2.__version__})"


def test_installed_ftpmirror_mirrors_a_tree_from_a_live_server(
    installed: Installed, tmp_path: Path
) -> None:
    remote = tmp_path / "remote"
    (remote / "sub").mkdir(parents=True)
    (remote / "a.txt").write_text("alpha\n", encoding="utf-8")
    (remote / "sub" / "b.bin").write_bytes(bytes(range(256)) * 40)
    server = MirrorServer(remote)
    try:
        local = tmp_path / "local"
        done = installed.run(
            "ftpmirror", "-q", "-l", MIRROR_USER, "-p", MIRROR_PASSWORD, server.address, "/",
            str(local), cwd=tmp_path,
        )  # fmt: skip
    finally:
        server.stop()

    assert done.returncode == 0, done.stderr
    assert mirror_snapshot(local) == mirror_snapshot(remote)


def test_the_mirror_extra_brings_tqdm_for_the_progress_bar(installed: Installed) -> None:
    requires = installed.metadata().get_all("Requires-Dist") or []

    assert any(r.startswith("tqdm") and 'extra == "mirror"' in r for r in requires), requires


def test_the_installed_version_is_the_modules_version(installed: Installed) -> None:
    assert installed.metadata()["Version"] == ftplib2.__version__


# What a type checker makes of an installed ftplib2. A single-module distribution cannot carry
# a py.typed marker (PEP 561 covers packages only), so mypy treats ftplib2 as untyped unless
# the user's configuration says to follow it; pyright reads the annotations of installed code
# without a marker. Doc/library.rst ("Type checking") gives the configuration.

USER_SCRIPT = """\
from ftplib2 import FTP, Entry

def largest(host: str) -> str:
    with FTP(host, timeout=30) as ftp:
        ftp.login()
        entries: list[Entry] = ftp.scandir("pub")
        reveal_type(ftp.size("README"))
        return max(entries, key=lambda e: e.size or 0).name
"""

MYPY_CONFIG = """\
[mypy]
strict = True

[mypy-ftplib2]
follow_untyped_imports = True
"""


def run_mypy(installed: Installed, workdir: Path, script: str, config: str | None) -> str:
    """mypy's report on `script`, checked against the venv's installed ftplib2 only."""
    (workdir / "user.py").write_text(script, encoding="utf-8")
    argv = [sys.executable, "-m", "mypy", "--no-incremental", "--python-executable",
            str(installed.python)]  # fmt: skip
    if config is not None:
        (workdir / "mypy.ini").write_text(config, encoding="utf-8")
        argv += ["--config-file", str(workdir / "mypy.ini")]
    done = subprocess.run(
        [*argv, "user.py"], cwd=workdir, capture_output=True, text=True, timeout=300,
        check=False, env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )  # fmt: skip
    return done.stdout + done.stderr


def test_mypy_uses_the_installed_annotations_when_told_to_follow_ftplib2(
    installed: Installed, tmp_path: Path
) -> None:
    report = run_mypy(installed, tmp_path, USER_SCRIPT, MYPY_CONFIG)

    assert 'Revealed type is "int | None"' in report, report
    assert "Success: no issues found" in report, report


def test_mypy_then_catches_a_wrong_use_of_ftplib2(installed: Installed, tmp_path: Path) -> None:
    wrong = USER_SCRIPT.replace('ftp.scandir("pub")', 'ftp.nlst("pub")')

    report = run_mypy(installed, tmp_path, wrong, MYPY_CONFIG)

    assert 'list[str]", variable has type "list[Entry]"' in report, report


def test_mypy_without_that_setting_reports_ftplib2_as_untyped(
    installed: Installed, tmp_path: Path
) -> None:
    # The limit Doc/library.rst states: if mypy ever reads single-module distributions by
    # itself, this fails and the docs can drop the setting.
    report = run_mypy(installed, tmp_path, USER_SCRIPT, None)

    assert "missing library stubs or py.typed marker  [import-untyped]" in report, report
