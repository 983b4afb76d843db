"""Running commands and daemons for the local infrastructure: subprocesses with context on
failure, pids, ports, folders the postgres OS user can reach, cross-process locks."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pwd
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

from tools.devstack.infra.config import PG_OS_USER, InfraConfig


def say(msg: str) -> None:
    """A progress line on stderr."""
    print(f"[devstack] {msg}", file=sys.stderr, flush=True)


def is_root() -> bool:
    """This process runs as root."""
    return os.geteuid() == 0


def pg_os_ids() -> tuple[int, int]:
    """(uid, gid) of the postgres OS user; RuntimeError when there is none."""
    try:
        entry = pwd.getpwnam(PG_OS_USER)
    except KeyError as exc:
        raise RuntimeError(
            f"running as root but there is no {PG_OS_USER!r} OS user to run Postgres as "
            "(install postgresql-15, which creates it)"
        ) from exc
    return entry.pw_uid, entry.pw_gid


def as_pg_user(cmd: Sequence[str]) -> list[str]:
    """Wrap a server-side command so it runs as the postgres OS user when we are root."""
    if is_root():
        return ["runuser", "-u", PG_OS_USER, "--", *cmd]
    return list(cmd)


def chown_pg(path: Path) -> None:
    """Give ``path`` to the postgres OS user (when running as root)."""
    if is_root():
        uid, gid = pg_os_ids()
        os.chown(path, uid, gid)


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for our commands: without the caller's libpq variables, plus ``extra``."""
    # Drop the caller's libpq variables (PGHOST, PGDATABASE, PGOPTIONS, PGDATA...): they would
    # silently redirect or alter our commands. LC_ALL=C keeps tool messages in plain English.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    if extra:
        env.update(extra)
    return env


def _tail(text: str, lines: int = 20) -> str:
    kept = text.strip().splitlines()[-lines:]
    return "\n".join(f"    {line}" for line in kept) if kept else "    (empty)"


def file_tail(path: Path, lines: int = 30) -> str:
    """The last ``lines`` of a file, indented, for an error message."""
    try:
        return _tail(path.read_text(errors="replace"), lines)
    except OSError as exc:
        return f"    (cannot read: {exc})"


def _failure(
    cmd: Sequence[str], what: str, stdout: str, stderr: str, logs: Sequence[Path]
) -> RuntimeError:
    parts = [f"`{' '.join(str(c) for c in cmd)}` {what}"]
    if stderr.strip():
        parts.append(f"  stderr (tail):\n{_tail(stderr)}")
    if stdout.strip():
        parts.append(f"  stdout (tail):\n{_tail(stdout)}")
    for log in logs:
        parts.append(f"  log {log} (tail):\n{file_tail(log)}")
    return RuntimeError("\n".join(parts))


def _text(data: str | bytes | None) -> str:
    # TimeoutExpired carries bytes even when text=True was requested.
    if data is None:
        return ""
    return data.decode(errors="replace") if isinstance(data, bytes) else data


def run(
    cmd: Sequence[str | Path],
    *,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 60.0,
    check: bool = True,
    logs: Sequence[Path] = (),
) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing output; raise a RuntimeError with context on failure.

    With ``check=False`` nothing raises for a non-zero exit or a timeout (reported as exit
    124, like timeout(1)): callers use that for probes, where "no answer" is an answer."""
    argv = [str(c) for c in cmd]
    try:
        proc = subprocess.run(
            argv,
            input=input,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=dict(env) if env is not None else clean_env(),
            cwd=cwd,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        raise RuntimeError(f"cannot run {argv[0]!r}: {exc}") from exc
    except subprocess.TimeoutExpired as exc:
        if not check:
            return subprocess.CompletedProcess(argv, 124, _text(exc.stdout), _text(exc.stderr))
        raise _failure(
            argv, f"timed out after {timeout:g}s", _text(exc.stdout), _text(exc.stderr), logs
        ) from exc
    if check and proc.returncode != 0:
        raise _failure(argv, f"failed (exit {proc.returncode})", proc.stdout, proc.stderr, logs)
    return proc


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    """Poll ``predicate`` until it holds (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def pid_alive(pid: int, name: str) -> bool:
    """True if ``pid`` runs a process whose command line mentions ``name`` (zombies count as
    dead: our PID 1 may never reap the daemons we orphan)."""
    proc = Path(f"/proc/{pid}")
    if not proc.parent.is_dir():  # no procfs: best effort
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    try:
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        cmdline = (proc / "cmdline").read_bytes()
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X") and name.encode() in cmdline


def read_pid(path: Path) -> int | None:
    """The pid in a pidfile's first line; None when missing or unreadable."""
    try:
        return int(path.read_text().splitlines()[0].strip())
    except (OSError, ValueError, IndexError):
        return None


def port_open(port: int) -> bool:
    """Something accepts TCP connections on 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def check_port_free(port: int, what: str, option: str) -> None:
    """RuntimeError naming ``option`` when something already listens on ``port``."""
    if port_open(port):
        raise RuntimeError(
            f"cannot start {what} on 127.0.0.1:{port}: the port is already in use by another "
            f"process (pick other ports with {option})"
        )


def mkdirs(path: Path) -> None:
    """mkdir -p, making every folder we create world-traversable (mode 0755) regardless of
    umask, because the postgres OS user has to walk through them."""
    missing: list[Path] = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process won the race
            folder.mkdir()
            folder.chmod(0o755)


def ensure_pg_traversable(path: Path) -> None:
    """Let the postgres OS user reach ``path``: add o+x to ancestors that lack it (e.g. a
    0700 mkdtemp folder). Only execute is added - nothing becomes listable or readable."""
    if not is_root():
        return
    pg_uid, _ = pg_os_ids()
    for folder in [*reversed(path.parents), path]:
        st = folder.stat()
        if st.st_uid != pg_uid and not st.st_mode & stat.S_IXOTH:
            say(f"chmod o+x {folder} so the postgres user can reach its data folder")
            folder.chmod(stat.S_IMODE(st.st_mode) | stat.S_IXOTH)


@contextlib.contextmanager
def lock(cfg: InfraConfig, name: str) -> Iterator[None]:
    """Serialise start/stop/destroy across processes (e.g. parallel pytest workers)."""
    mkdirs(cfg.root)
    with open(cfg.root / f".{name}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def wait_pid_gone(pid: int, name: str, timeout: float) -> bool:
    """Wait until ``pid`` (running ``name``) is gone; False on timeout."""
    return wait_until(lambda: not pid_alive(pid, name), timeout=timeout, interval=0.02)


def kill_pid(pid: int, name: str, sig: int = signal.SIGKILL, timeout: float = 10.0) -> bool:
    """Send ``sig`` to ``pid`` and wait until it is gone; False if it survives."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    return wait_pid_gone(pid, name, timeout)
