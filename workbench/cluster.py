"""The workbench's private PostGIS cluster: the embedded default when no WORKBENCH_DSN is set.

Debian's server binaries, one data folder of the project's, a loopback port, scram-sha-256 for every
login. initdb and postgres refuse to run as root, so as root they run as the ``postgres`` OS user.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import SetupError
from .settings import Settings

PG_MAJOR = 15
PG_BIN = Path(f"/usr/lib/postgresql/{PG_MAJOR}/bin")
POSTGIS_CONTROL = Path(f"/usr/share/postgresql/{PG_MAJOR}/extension/postgis.control")
DEBIAN_PACKAGES = (f"postgresql-{PG_MAJOR}", f"postgresql-{PG_MAJOR}-postgis-3", f"postgresql-{PG_MAJOR}-pgaudit",
                   f"postgresql-{PG_MAJOR}-cron")
SUPERUSER = "postgres"


@dataclass(frozen=True)
class ClusterState:
    data_dir: Path
    port: int
    password: str

    @property
    def host(self) -> str:
        return "127.0.0.1"


def missing_server_packages() -> list[str]:
    """Debian packages the private cluster needs that are not installed."""
    missing = []
    if not (PG_BIN / "initdb").exists():
        missing.append(DEBIAN_PACKAGES[0])
    if not POSTGIS_CONTROL.exists():
        missing.append(DEBIAN_PACKAGES[1])
    return missing


def _is_root() -> bool:
    return os.geteuid() == 0


def _run_as_server_user(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    command = ["runuser", "-u", SUPERUSER, "--", *args] if _is_root() else args
    return subprocess.run(command, capture_output=True, text=True, **kwargs)


def _state_file(settings: Settings) -> Path:
    return settings.home / "cluster.json"


def read_state(settings: Settings) -> ClusterState | None:
    path = _state_file(settings)
    if not path.exists():
        return None
    raw = json.loads(path.read_text())
    return ClusterState(Path(raw["data_dir"]), int(raw["port"]), raw["password"])


def _choose_data_dir(settings: Settings) -> Path:
    """The project's own folder when the server user can reach it; else one under its home, named by project."""
    preferred = settings.home / "pg"
    settings.home.mkdir(parents=True, exist_ok=True)
    if not _is_root():
        return preferred
    os.chmod(settings.home, 0o755)
    reachable = subprocess.run(["runuser", "-u", SUPERUSER, "--", "test", "-x", str(settings.home)],
                               capture_output=True).returncode == 0
    if reachable:
        return preferred
    # A checkout under a private folder (e.g. root's home) is not reachable by the postgres user.
    server_home = Path(pwd.getpwnam(SUPERUSER).pw_dir)
    digest = hashlib.sha256(str(settings.home.resolve()).encode()).hexdigest()[:12]
    return server_home / "alpr-workbench" / digest


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _pick_port(preferred: int) -> int:
    for port in range(preferred, preferred + 50):
        if _port_is_free(port):
            return port
    raise SetupError(f"no free loopback port in {preferred}..{preferred + 49}; set WORKBENCH_PG_PORT to a free one")


def init_cluster(settings: Settings) -> ClusterState:
    """Create the cluster once; a second call returns the existing one unchanged."""
    existing = read_state(settings)
    if existing and (existing.data_dir / "PG_VERSION").exists():
        return existing
    missing = missing_server_packages()
    if missing:
        raise SetupError(
            f"PostgreSQL server packages missing: {' '.join(missing)}. Install them with "
            f"`apt-get install -y {' '.join(DEBIAN_PACKAGES)}` (as root), or run ./setup.sh"
        )
    data_dir = _choose_data_dir(settings)
    data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(data_dir, 0o700)
    if _is_root():
        shutil.chown(data_dir, user=SUPERUSER)
    password = secrets.token_urlsafe(24)
    descriptor, name = tempfile.mkstemp(prefix="workbench-initdb-")
    os.close(descriptor)
    password_file = Path(name)
    password_file.write_text(password + "\n")
    os.chmod(password_file, 0o600)
    if _is_root():
        shutil.chown(password_file, user=SUPERUSER)
    try:
        result = _run_as_server_user([
            str(PG_BIN / "initdb"), "-D", str(data_dir), "-U", SUPERUSER, f"--pwfile={password_file}",
            "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8",
        ])
    finally:
        password_file.unlink(missing_ok=True)
    if result.returncode != 0:
        raise SetupError(f"initdb failed in {data_dir}:\n{result.stderr.strip()}")
    port = _pick_port(settings.pg_port)
    config = data_dir / "postgresql.auto.conf"
    extra = (
        f"listen_addresses = '127.0.0.1'\nport = {port}\n"
        f"unix_socket_directories = '{data_dir}'\n"
        "shared_buffers = '512MB'\nwork_mem = '32MB'\nmaintenance_work_mem = '512MB'\n"
        "max_connections = 120\nmax_wal_size = '4GB'\n"
        "logging_collector = on\nlog_directory = 'log'\n"
        "password_encryption = 'scram-sha-256'\n"
    )
    _run_as_server_user(["sh", "-c", f"cat >> '{config}'"], input=extra, check=True)
    state = ClusterState(data_dir, port, password)
    settings.home.mkdir(parents=True, exist_ok=True)
    state_path = _state_file(settings)
    state_path.write_text(json.dumps({"data_dir": str(data_dir), "port": port, "password": password}))
    os.chmod(state_path, 0o600)
    return state


def is_running(state: ClusterState) -> bool:
    result = _run_as_server_user([str(PG_BIN / "pg_ctl"), "-D", str(state.data_dir), "status"])
    return result.returncode == 0


# Server settings the workbench's guard relies on (applied with ALTER SYSTEM at every start, idempotent):
# pgAudit's second record of every statement, pg_cron's scheduled watch (chainer, session limits, log intake,
# checkpoints), auth_delay on failed logins; a server log in JSON lines (parsed by the log intake), rotated
# daily under one name a day (kept per the profile's access-record retention by the intake).
SERVER_SETTINGS = {
    "shared_preload_libraries": "pgaudit,pg_cron,auth_delay",
    "cron.database_name": "postgres",
    "cron.use_background_workers": "on",
    "max_worker_processes": "16",
    "auth_delay.milliseconds": "1000",
    "log_destination": "jsonlog",
    "log_filename": "postgresql-%Y-%m-%d.log",
    "log_rotation_age": "1440",
    "log_rotation_size": "0",
    "log_connections": "on",
    "max_connections": "150",
}
PRELOADED = ("pgaudit", "pg_cron", "auth_delay")


def missing_extensions() -> list[str]:
    """Debian packages of the server extensions the guard uses that are not installed."""
    lib = Path(f"/usr/lib/postgresql/{PG_MAJOR}/lib")
    wanted = {"pgaudit": f"postgresql-{PG_MAJOR}-pgaudit", "pg_cron": f"postgresql-{PG_MAJOR}-cron",
              "auth_delay": f"postgresql-{PG_MAJOR}"}
    return sorted({package for library, package in wanted.items() if not (lib / f"{library}.so").exists()})


def _superuser_connection(state: ClusterState):
    import psycopg2

    return psycopg2.connect(host=state.host, port=state.port, user=SUPERUSER, password=state.password,
                            dbname="postgres", connect_timeout=5, application_name="workbench-cluster")


def _installed_version() -> str:
    """The version of the server binary on disk (Debian upgrades it under a running cluster)."""
    result = subprocess.run([str(PG_BIN / "postgres"), "--version"], capture_output=True, text=True)
    return result.stdout.strip().split()[-1] if result.returncode == 0 else ""


def _configure(state: ClusterState) -> bool:
    """Apply SERVER_SETTINGS; True when one of them only takes effect after a restart."""
    missing = missing_extensions()
    if missing:
        raise SetupError(f"server extensions missing: install {' '.join(missing)} (`apt-get install -y "
                         f"{' '.join(missing)}` as root, or ./setup.sh), then run `workbench db up` again")
    connection = _superuser_connection(state)
    connection.autocommit = True
    restart = False
    try:
        with connection.cursor() as cursor:
            for name, value in SERVER_SETTINGS.items():
                cursor.execute("SELECT setting, context FROM pg_settings WHERE name = %s", (name,))
                row = cursor.fetchone()
                if row is not None and row[0].replace(" ", "") == value:
                    continue
                if row is None:  # an extension's setting, known once its library is loaded after the restart
                    restart = True
                    continue
                if name == "shared_preload_libraries":  # a list of names, each quoted on its own
                    cursor.execute(f"ALTER SYSTEM SET {name} = " + ", ".join(["%s"] * len(PRELOADED)), PRELOADED)
                else:
                    cursor.execute(f"ALTER SYSTEM SET {name} = %s", (value,))
                restart = restart or row[1] == "postmaster"
            cursor.execute("SELECT pg_reload_conf()")
    finally:
        connection.close()
    return restart


def _running_version(state: ClusterState) -> str:
    connection = _superuser_connection(state)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            return cursor.fetchone()[0].split()[0]
    finally:
        connection.close()


def restart(state: ClusterState) -> None:
    log_file = state.data_dir / "server.log"
    result = _run_as_server_user([str(PG_BIN / "pg_ctl"), "-D", str(state.data_dir), "-l", str(log_file),
                                  "-w", "-t", "60", "-m", "fast", "restart"])
    if result.returncode != 0:
        raise SetupError(f"the private cluster did not restart:\n{result.stdout}{result.stderr}\nsee {log_file}")


def _configure_and_restart(state: ClusterState) -> None:
    """Settings first, then (once the libraries are loaded) the settings of their extensions."""
    for _ in range(3):
        if not _configure(state):
            return
        restart(state)
    raise SetupError(f"the server settings of {state.data_dir} did not take; see its postgresql.auto.conf")


def start(settings: Settings) -> ClusterState:
    """initdb when needed, then start and configure; restarts when the server binary was upgraded under the
    running cluster (every PL/pgSQL call fails until then) or a setting needs it."""
    state = init_cluster(settings)
    if is_running(state):
        if _installed_version() and _running_version(state) != _installed_version():
            restart(state)  # Debian upgraded postgresql-15 under it (e.g. installing an extension package)
        _configure_and_restart(state)
        return state
    if not _port_is_free(state.port):
        raise SetupError(f"port {state.port} on 127.0.0.1 is taken by another program; free it or remove "
                         f"{_state_file(settings)} and set WORKBENCH_PG_PORT to a free port")
    log_file = state.data_dir / "server.log"
    result = _run_as_server_user([str(PG_BIN / "pg_ctl"), "-D", str(state.data_dir), "-l", str(log_file),
                                  "-w", "-t", "60", "start"])
    if result.returncode != 0:
        raise SetupError(f"the private cluster did not start:\n{result.stdout}{result.stderr}\nsee {log_file}")
    _configure_and_restart(state)
    return state


def stop(settings: Settings) -> bool:
    state = read_state(settings)
    if state is None or not is_running(state):
        return False
    result = _run_as_server_user([str(PG_BIN / "pg_ctl"), "-D", str(state.data_dir), "-w", "-m", "fast", "stop"])
    if result.returncode != 0:
        raise SetupError(f"pg_ctl stop failed: {result.stderr.strip()}")
    return True


def status(settings: Settings) -> dict[str, object]:
    state = read_state(settings)
    if state is None:
        return {"initialized": False, "running": False}
    return {"initialized": True, "running": is_running(state), "data_dir": str(state.data_dir),
            "host": state.host, "port": state.port}
