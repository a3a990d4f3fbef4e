"""A throwaway PostgreSQL server for the tests: initdb into a temporary folder, started on a free local port
with pg_ctl, stopped and removed at the end of the session.

The server binaries are looked up in ``CENTRIC_PG_BIN``, then ``/usr/lib/postgresql/*/bin`` (Debian's
``postgresql`` package), then ``PATH``. Without them the PostgreSQL tests are skipped with the reason —
unless ``CENTRIC_REQUIRE_POSTGRES=1`` (set by ``.ci/run``), which makes their absence a failure.

initdb refuses to run as root: as root the server runs as the ``postgres`` user (``runuser``), in a
folder that user owns.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

REQUIRE = "CENTRIC_REQUIRE_POSTGRES"
SERVER_USER = "postgres"


def find_bin() -> Path | None:
    """The folder with initdb and pg_ctl, or None."""
    candidates = [os.environ.get("CENTRIC_PG_BIN", "")]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name)
                         if Path(p).parent.name.isdigit() else 0, reverse=True)
    found = shutil.which("initdb")
    candidates.append(str(Path(found).parent) if found else "")
    for c in candidates:
        if c and (Path(c) / "initdb").is_file() and (Path(c) / "pg_ctl").is_file():
            return Path(c)
    return None


def unavailable(reason: str):
    """Skip (or, when PostgreSQL is required, fail) with ``reason``."""
    if os.environ.get(REQUIRE) == "1":
        pytest.fail(f"{reason} ({REQUIRE}=1: the PostgreSQL tests must run)", pytrace=False)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    host: str
    port: int
    user: str

    def url(self, database: str) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"

    def create_database(self, template: str | None = None) -> str:
        """A new database, empty or a copy of the database ``template`` (which nobody may be connected to);
        returns its name."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return name

    def make_template(self, name: str) -> None:
        """Make the database ``name`` a template: nobody can connect to it any more (so ``CREATE DATABASE …
        TEMPLATE`` always finds it free, and it stays as it is)."""
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as con:
            con.execute(f'ALTER DATABASE "{name}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false')

    def drop_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_server():
    """Start a server; yields a ``Server`` and stops it afterwards (a generator for a fixture)."""
    bindir = find_bin()
    if bindir is None:
        unavailable("PostgreSQL server binaries (initdb, pg_ctl) not found: install the Debian package "
                    "postgresql or set CENTRIC_PG_BIN")
    as_root = os.geteuid() == 0
    if as_root and shutil.which("runuser") is None:
        unavailable("running as root without runuser: initdb cannot run as root")
    folder = Path(tempfile.mkdtemp(prefix="centric-pg-"))
    prefix: list[str] = []
    if as_root:
        try:
            shutil.chown(folder, user=SERVER_USER)
        except (LookupError, OSError) as e:
            shutil.rmtree(folder, ignore_errors=True)
            unavailable(f"running as root and the user {SERVER_USER!r} is missing to run PostgreSQL ({e})")
        prefix = ["runuser", "-u", SERVER_USER, "--"]
    data, log = folder / "data", folder / "server.log"
    port = _free_port()
    user = "centric"

    def run(*args: str) -> None:
        p = subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            tail = (log.read_text(errors="replace")[-2000:] if log.exists() else "")
            raise RuntimeError(f"{' '.join(args[:2])} failed ({p.returncode}): {p.stderr or p.stdout}\n{tail}")

    started = False
    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", user, "--auth=trust", "-E", "UTF8", "--no-locale")
        for attempt in range(3):  # the free port may be taken before the server binds it (make test runs two legs)
            try:
                run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60", "-o",
                    f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off",
                    "start")
                break
            except RuntimeError:
                if attempt == 2 or "already in use" not in (log.read_text(errors="replace") if log.exists() else ""):
                    raise
                port = _free_port()
        started = True
        yield Server("127.0.0.1", port, user)
    finally:
        if started:
            subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                           capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)
