"""Headless Chromium for the browser tests (Debian's ``chromium`` package).

Playwright drives it through ``executable_path``: its own browser downloads are
not used, so the suite needs nothing beyond what apt-get provides. Missing, it
is installed with apt-get when running as root, like Postgres and Redis
(``infra.ensure_binaries``), with Noto's colour emoji so that screenshots show
the bot's emoji rather than empty boxes; otherwise the error says what to run.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

from tools.devstack.infra.config import DEFAULT_ROOT

CHROMIUM_NAMES = ("chromium", "chromium-browser")
EMOJI_FONT = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")


def _chromium_path() -> Path | None:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found is None and Path(f"/usr/bin/{name}").exists():
            found = f"/usr/bin/{name}"  # PATH may be minimal under some runners
        if found is not None:
            return Path(found)
    return None


def _missing() -> list[str]:
    packages = [] if _chromium_path() is not None else ["chromium"]
    return packages + ([] if EMOJI_FONT.exists() else ["fonts-noto-color-emoji"])


def chromium() -> Path:
    """The Chromium binary, installed with apt-get first if needed (as root)."""
    if _missing():
        if os.geteuid() != 0:
            command = f"sudo apt-get install -y {' '.join(_missing())}"
            raise RuntimeError(f"the browser tests need Chromium; install it first: {command}")
        DEFAULT_ROOT.mkdir(parents=True, exist_ok=True)
        # Two suites starting at once must not run apt-get side by side.
        with open(DEFAULT_ROOT / ".chromium.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            packages = _missing()
            if packages:
                env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
                install = ["apt-get", "install", "-y", *packages]
                done = subprocess.run(install, env=env, capture_output=True, timeout=1800)
                if done.returncode != 0:
                    # A fresh machine may have no package lists yet.
                    subprocess.run(["apt-get", "update"], env=env, capture_output=True, timeout=600)
                    subprocess.run(install, env=env, capture_output=True, check=True, timeout=1800)
    found = _chromium_path()
    if found is None:
        raise RuntimeError("apt-get finished but chromium is still missing")
    return found
