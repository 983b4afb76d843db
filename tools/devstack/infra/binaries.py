"""The Postgres 15 and Redis binaries the local infrastructure needs (installed with apt-get
when running as root)."""

from __future__ import annotations

import shutil
from pathlib import Path

from tools.devstack.infra.config import PG_BIN, PG_TOOLS, REDIS_TOOLS
from tools.devstack.infra.processes import clean_env, is_root, pg_os_ids, run, say


def redis_bin(name: str) -> str:
    """Path of a Redis tool (``redis-server``, ``redis-cli``); RuntimeError when missing."""
    found = shutil.which(name)
    if found is None and Path(f"/usr/bin/{name}").exists():
        found = f"/usr/bin/{name}"  # PATH may be minimal (e.g. under some test runners)
    if found is None:
        raise RuntimeError(f"{name} not found; run ensure_binaries() or `apt-get install {name}`")
    return found


def psql_bin() -> Path:
    """The psql binary of Postgres 15 (the versioned one when present)."""
    # The versioned binary is what /usr/bin/psql (Debian's perl pg_wrapper) ends up running;
    # calling it directly saves ~25 ms per call, which matters for the warm no-op path.
    direct = PG_BIN / "psql"
    return direct if direct.exists() else Path("/usr/bin/psql")


def _missing_packages() -> list[str]:
    packages: list[str] = []
    if any(not (PG_BIN / tool).exists() for tool in PG_TOOLS):
        packages.append("postgresql-15")
    if any(
        shutil.which(tool) is None and not Path(f"/usr/bin/{tool}").exists() for tool in REDIS_TOOLS
    ):
        packages += ["redis-server", "redis-tools"]
    return packages


def ensure_binaries() -> None:
    """Make sure the Postgres 15 and Redis binaries exist, installing them with apt-get
    (as root) if needed. Raises RuntimeError when they are missing and we are not root."""
    packages = _missing_packages()
    if packages:
        if not is_root():
            command = f"sudo apt-get install -y {' '.join(packages)}"
            raise RuntimeError(f"missing binaries; install them first: {command}")
        say(f"installing {' '.join(packages)} with apt-get (one-off)")
        env = clean_env({"DEBIAN_FRONTEND": "noninteractive"})
        run(["apt-get", "update"], env=env, timeout=600)
        run(["apt-get", "install", "-y", *packages], env=env, timeout=1200)
        still = _missing_packages()
        if still:
            raise RuntimeError(f"apt-get finished but binaries are still missing: {still}")
    if is_root():
        if shutil.which("runuser") is None:
            raise RuntimeError("running as root needs `runuser` (util-linux) to drop to postgres")
        pg_os_ids()
