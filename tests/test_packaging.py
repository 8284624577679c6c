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
import sysconfig
from pathlib import Path

import pytest

import ftplib2
from test_ftplib2 import (
    MIRROR_PASSWORD,
    MIRROR_USER,
    MirrorServer,
    mirror_snapshot,
)

ROOT = Path(__file__).resolve().parent.parent
DISTRIBUTED = ["setup.py", "pyproject.toml", "README", "ftplib2.py", "Tools/scripts/ftpmirror.py"]


class Installed:
    """ftplib2 installed by pip under a prefix of its own."""

    def __init__(self, prefix: Path) -> None:
        scheme = sysconfig.get_preferred_scheme("prefix")
        paths = sysconfig.get_paths(scheme, vars={"base": str(prefix), "platbase": str(prefix)})
        self.bin = Path(paths["scripts"])
        self.site_packages = Path(paths["purelib"])
        self.env = {
            **os.environ,
            "PATH": os.pathsep.join([str(self.bin), os.environ.get("PATH", "")]),
            # Only the installed copy: not the checkout, whatever the caller's PYTHONPATH says.
            "PYTHONPATH": str(self.site_packages),
        }

    def run(self, *argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(argv),
            cwd=cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def metadata(self) -> email.message.Message:
        (info,) = self.site_packages.glob("ftplib2-*.dist-info")
        text = (info / "METADATA").read_text(encoding="utf-8")
        return email.parser.Parser().parsestr(text)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    source = tmp_path_factory.mktemp("source")
    for name in DISTRIBUTED:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    prefix = tmp_path_factory.mktemp("prefix")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--prefix", str(prefix),
         str(source)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return Installed(prefix)


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
