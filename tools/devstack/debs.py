"""Binaries from Debian packages, unpacked into the project instead of installed.

``apt-get install prometheus`` would also register (and on some machines start)
a system service listening on every interface. The suite and ``make chaos``
only need the binaries, run by Veil's own code on loopback, so the package is
downloaded with ``apt-get download`` and unpacked with ``dpkg-deb -x`` under
``.veil/tools`` (no root needed once the package lists exist).
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import tempfile
from pathlib import Path

TOOLS_ROOT = Path(__file__).resolve().parents[2] / ".veil" / "tools"


def debian_binary(name: str, package: str, root: Path = TOOLS_ROOT) -> Path:
    """The path of binary ``name`` from Debian package ``package``.

    A binary already on PATH wins; otherwise the package is unpacked once under
    ``root/<package>`` (a file lock keeps two concurrent runs from racing).
    """
    found = shutil.which(name)
    if found is not None:
        return Path(found)
    target = root / package
    # Daemons (nginx) live in usr/sbin, tools (promtool, prometheus) in usr/bin.
    candidates = [target / "usr" / folder / name for folder in ("bin", "sbin")]
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f".{package}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not any(path.exists() for path in candidates):
            _unpack(package, target)
    for binary in candidates:
        if binary.exists():
            return binary
    raise RuntimeError(f"package {package} has no usr/bin/{name} or usr/sbin/{name}")


def _unpack(package: str, target: Path) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        download = ["apt-get", "download", package]
        done = subprocess.run(download, cwd=scratch, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            # A fresh machine may have no package lists yet.
            subprocess.run(["apt-get", "update"], capture_output=True, check=True, timeout=600)
            subprocess.run(download, cwd=scratch, capture_output=True, check=True, timeout=600)
        (deb,) = Path(scratch).glob(f"{package}_*.deb")
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        subprocess.run(["dpkg-deb", "-x", str(deb), str(partial)], check=True, timeout=600)
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)
