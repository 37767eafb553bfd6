"""Connections: the administrator's (migrations, loading) and each person's own login."""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import OperationalError

from . import cluster
from .errors import ConfigurationError, DatabaseUnavailable
from .settings import Settings


def _embedded_url(settings: Settings, user: str, password: str | None, database: str | None = None) -> URL:
    state = cluster.read_state(settings)
    if state is None:
        raise DatabaseUnavailable(
            f"the private PostGIS cluster is not set up under {settings.home}; run `workbench db up` "
            "(or ./setup.sh), or set WORKBENCH_DSN to an existing server"
        )
    return URL.create("postgresql+psycopg2", username=user, password=password, host=state.host,
                      port=state.port, database=database or settings.database)


def admin_url(settings: Settings, database: str | None = None) -> URL:
    """URL with rights to migrate: WORKBENCH_ADMIN_DSN, or the private cluster's superuser."""
    if settings.admin_dsn:
        url = make_url(str(settings.admin_dsn)).set(drivername="postgresql+psycopg2")
        return url.set(database=database) if database else url
    if settings.dsn:
        raise ConfigurationError("WORKBENCH_DSN is set but WORKBENCH_ADMIN_DSN is not: migrations and loading "
                                 "need a login with rights to create objects; set WORKBENCH_ADMIN_DSN")
    state = cluster.read_state(settings)
    password = state.password if state else None
    return _embedded_url(settings, cluster.SUPERUSER, password, database)


def user_url(settings: Settings, user: str | None = None, password: str | None = None) -> URL:
    """URL for a person's own login: WORKBENCH_DSN, or the private cluster with the given login."""
    if settings.dsn:
        url = make_url(str(settings.dsn)).set(drivername="postgresql+psycopg2")
        if user:
            url = url.set(username=user, password=password)
        return url
    if not user:
        raise ConfigurationError("a database login is needed: connect(user=..., password=...) "
                                 "or set WORKBENCH_DSN with your own login")
    return _embedded_url(settings, user, password)


def describe(url: URL) -> str:
    """Host, port and database of a URL, never its password."""
    return f"{url.host}:{url.port or 5432}/{url.database}"


def make_engine(url: URL, *, application_name: str = "alpr-workbench", pool_size: int = 2) -> Engine:
    return create_engine(url, pool_size=pool_size, max_overflow=4, pool_pre_ping=True,
                         connect_args={"application_name": application_name, "connect_timeout": 5})


def check_reachable(engine: Engine) -> None:
    """Raise DatabaseUnavailable naming host and port (never the password) and how to start a server."""
    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
    except OperationalError as exc:
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig else "connection failed"
        if "password authentication failed" in detail:
            raise DatabaseUnavailable(f"login refused by {describe(engine.url)} for user "
                                      f"{engine.url.username!r}: wrong password or no such login") from None
        raise DatabaseUnavailable(
            f"cannot reach PostGIS at {describe(engine.url)}: {detail}. Start the private cluster with "
            "`workbench db up` (or ./setup.sh), or point WORKBENCH_DSN at a running server"
        ) from None
