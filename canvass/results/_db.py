"""The campaign database: tables, opening (SQLite or PostgreSQL), schema migrations.

One schema, written with SQLAlchemy Core, runs on an embedded SQLite file (the
default: created mode 0600, write-ahead log) and on PostgreSQL for a statewide
organisation. It holds no names and no addresses: runs and their routes, the voters
listed on each route by id with their door id, and the contact attempts with their
results and survey answers. ``volunteers`` and ``assignments`` hand routes to people
(``canvass assign``): a volunteer's name and whether they have a car, never their
home address, phone or email.

The schema carries its version in ``schema_version``; opening a database applies the
migrations it lacks, in one transaction, and refuses a database made by a newer
canvass.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ..config import PlanConfig
from ..errors import ConfigError, InputError

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "V2_COLUMNS",
    "V3_COLUMNS",
    "assignments",
    "db_label",
    "events",
    "imports",
    "listed",
    "metadata",
    "migrate",
    "open_db",
    "routes",
    "runs",
    "stops",
    "volunteers",
]

logger = logging.getLogger(__name__)

metadata = sa.MetaData()

#: Bookkeeping: one row per applied schema version.
schema_version = sa.Table(
    "schema_version",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("applied_at", sa.String(32), nullable=False),
)
#: One row per ``canvass run`` that recorded itself.
runs = sa.Table(
    "runs",
    metadata,
    sa.Column("run_id", sa.String(80), primary_key=True),
    sa.Column("run_name", sa.String(200), nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("target_election", sa.String(40), nullable=False),
    sa.Column("universe", sa.String(80), nullable=False),
    sa.Column("n_routes", sa.Integer, nullable=False),
    sa.Column("n_doors", sa.Integer, nullable=False),
    sa.Column("n_voters", sa.Integer, nullable=False),
    # version 2: the run folder, where progress.html is regenerated after imports
    sa.Column("folder", sa.String(1000), nullable=True),
)
#: The routes of each run (route ids repeat between runs).
routes = sa.Table(
    "routes",
    metadata,
    sa.Column("run_id", sa.ForeignKey("runs.run_id"), primary_key=True),
    sa.Column("route_id", sa.String(80), primary_key=True),
    sa.Column("turf_id", sa.String(80), nullable=False),
    sa.Column("volunteer", sa.String(80), nullable=False),
    sa.Column("n_doors", sa.Integer, nullable=False),
    sa.Column("n_targets", sa.Integer, nullable=False),
    sa.Column("walk_s", sa.Float, nullable=False),
    sa.Column("total_s", sa.Float, nullable=False),
)
#: Doors in walking order.
stops = sa.Table(
    "stops",
    metadata,
    sa.Column("run_id", sa.String(80), primary_key=True),
    sa.Column("route_id", sa.String(80), primary_key=True),
    sa.Column("stop", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("door_id", sa.String(80), nullable=False),
    sa.ForeignKeyConstraint(
        ["run_id", "route_id"], ["routes.run_id", "routes.route_id"]
    ),
)
#: Voters on each route's walk list (by id, with their door).
listed = sa.Table(
    "listed",
    metadata,
    sa.Column("run_id", sa.String(80), primary_key=True),
    sa.Column("route_id", sa.String(80), primary_key=True),
    sa.Column("voter_id", sa.String(80), primary_key=True),
    sa.Column("door_id", sa.String(80), nullable=False),
    sa.Column("is_target", sa.Boolean, nullable=False),
    sa.ForeignKeyConstraint(
        ["run_id", "route_id"], ["routes.run_id", "routes.route_id"]
    ),
    sa.Index("ix_listed_voter", "voter_id"),
)
#: People who walk routes (``canvass assign``): name and car, nothing else.
volunteers = sa.Table(
    "volunteers",
    metadata,
    sa.Column("volunteer_id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
    # version 2
    sa.Column("has_car", sa.Boolean, nullable=True),
)
#: Which volunteer walks which route of which run.
assignments = sa.Table(
    "assignments",
    metadata,
    sa.Column("assignment_id", sa.Integer, primary_key=True),
    sa.Column("run_id", sa.String(80), nullable=False),
    sa.Column("route_id", sa.String(80), nullable=False),
    sa.Column("volunteer_id", sa.ForeignKey("volunteers.volunteer_id"), nullable=False),
    sa.Column("assigned_at", sa.String(32), nullable=False),
    # version 2: how far the volunteer's home is from the route's start, and how
    # that was measured (walk_graph, straight_line, no_home), with any flag
    sa.Column("reach_m", sa.Float, nullable=True),
    sa.Column("reach", sa.String(20), nullable=True),
    sa.Column("flag", sa.String(200), nullable=True),
    sa.ForeignKeyConstraint(
        ["run_id", "route_id"], ["routes.run_id", "routes.route_id"]
    ),
)
#: One row per file imported.
imports = sa.Table(
    "imports",
    metadata,
    sa.Column("import_id", sa.Integer, primary_key=True),
    sa.Column("file_name", sa.String(300), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("imported_at", sa.String(32), nullable=False),
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("imported", sa.Integer, nullable=False),
    sa.Column("already", sa.Integer, nullable=False),
    sa.Column("blank", sa.Integer, nullable=False),
    sa.Column("rejected", sa.Integer, nullable=False),
)
#: Contact attempts: one row per voter per knock, with the result.
events = sa.Table(
    "events",
    metadata,
    sa.Column("event_id", sa.String(80), primary_key=True),
    sa.Column("voter_id", sa.String(80), nullable=False),
    sa.Column("door_id", sa.String(80), nullable=False),
    sa.Column("run_id", sa.String(80), nullable=True),
    sa.Column("route_id", sa.String(80), nullable=True),
    sa.Column("volunteer", sa.String(200), nullable=False),
    sa.Column("contacted_at", sa.String(32), nullable=False),
    sa.Column("contact_date", sa.Date, nullable=False),
    sa.Column("result", sa.String(20), nullable=False),
    sa.Column("answers", sa.JSON, nullable=False),
    sa.Column("source", sa.String(20), nullable=False),
    sa.Column("contact_type", sa.String(40), nullable=False),
    sa.Column("import_id", sa.ForeignKey("imports.import_id"), nullable=True),
    # version 3: when a "come back" asked to come back (docs/replan.md)
    sa.Column("come_back", sa.String(40), nullable=True),
    sa.Index("ix_events_voter", "voter_id"),
)


#: The tables of schema version 1 (a later version adds its own in its migration).
_V1_TABLES: Final = (
    schema_version, runs, routes, stops, listed, volunteers, assignments, imports,
    events,
)  # fmt: skip


def _create_v1(conn: Connection) -> None:
    """Version 1: runs, routes, stops, listed voters, volunteers, events.

    The tables are created as they are defined now; later migrations add only what
    a database made by an older canvass lacks, so both paths end the same.
    """
    metadata.create_all(conn, tables=list(_V1_TABLES))


#: Columns version 2 added: table -> columns (``canvass assign``, progress pages).
V2_COLUMNS: Final = {
    "runs": ("folder",),
    "volunteers": ("has_car",),
    "assignments": ("reach_m", "reach", "flag"),
}


#: Columns version 3 added: a "come back" result's time (docs/replan.md).
V3_COLUMNS: Final[dict[str, tuple[str, ...]]] = {"events": ("come_back",)}


def _add_columns(conn: Connection, columns: dict[str, tuple[str, ...]]) -> None:
    """Add the `columns` a table lacks (an older canvass made it)."""
    inspector = sa.inspect(conn)
    for name, cols in columns.items():
        have = {c["name"] for c in inspector.get_columns(name)}
        table = metadata.tables[name]
        for col in cols:
            if col in have:  # created by _create_v1 of this canvass
                continue
            kind = table.c[col].type.compile(dialect=conn.dialect)
            conn.execute(sa.text(f"ALTER TABLE {name} ADD COLUMN {col} {kind}"))


def _add_v2(conn: Connection) -> None:
    """Version 2: run folders, volunteers' cars, assignments' reach and flags."""
    _add_columns(conn, V2_COLUMNS)


def _add_v3(conn: Connection) -> None:
    """Version 3: the time a "come back" asked for (``events.come_back``)."""
    _add_columns(conn, V3_COLUMNS)


#: (version, function applying it to a database at the previous version), in order.
MIGRATIONS: Final[list[tuple[int, Callable[[Connection], None]]]] = [
    (1, _create_v1),
    (2, _add_v2),
    (3, _add_v3),
]
SCHEMA_VERSION: Final = MIGRATIONS[-1][0]


def db_label(url: str) -> str:
    """Return `url` without its password, for messages."""
    if "://" not in url:
        return url
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url.split("://")[0] + "://..."


def _sqlite_engine(path: Path) -> Engine:
    if not path.parent.is_dir():
        msg = (
            f"campaign.db: the folder {path.parent} does not exist; create it or "
            "point campaign.db elsewhere."
        )
        raise ConfigError(msg)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    elif path.is_dir():
        msg = f"campaign.db: {path} is a folder; give a file name such as campaign.db."
        raise ConfigError(msg)
    engine = sa.create_engine(f"sqlite:///{path}", poolclass=sa.pool.NullPool)

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi: Any, record: Any) -> None:
        cur = dbapi.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.close()

    return engine


def _postgres_engine(url: str) -> Engine:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        msg = (
            "campaign.db is a PostgreSQL URL but the psycopg driver is not installed; "
            "install it with: pip install 'canvass[postgres]'."
        )
        raise ConfigError(msg) from None
    u = sa.make_url(url)
    u = u.set(drivername="postgresql+psycopg")
    return sa.create_engine(u, poolclass=sa.pool.NullPool)


def _now() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def _current_version(conn: Connection) -> int:
    names = set(sa.inspect(conn).get_table_names())
    if "schema_version" not in names:
        if names & {t.name for t in metadata.sorted_tables}:
            msg = (
                "the campaign database has canvass tables but no schema_version; it "
                "was not made by canvass or is damaged."
            )
            raise InputError(msg)
        return 0
    value = conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar()
    return int(value or 0)


def migrate(engine: Engine, label: str) -> int:
    """Bring the database to :data:`SCHEMA_VERSION` in one transaction; return it."""
    with engine.begin() as conn:
        current = _current_version(conn)
        if current > SCHEMA_VERSION:
            msg = (
                f"{label}: the campaign database is at schema version {current}, "
                f"newer than this canvass ({SCHEMA_VERSION}); upgrade canvass."
            )
            raise InputError(msg)
        for version, apply in MIGRATIONS:
            if version > current:
                apply(conn)
                conn.execute(
                    schema_version.insert().values(version=version, applied_at=_now())
                )
                logger.info("Campaign database: schema version %s applied", version)
    return SCHEMA_VERSION


def open_db(config: PlanConfig) -> Engine:
    """
    Open the campaign database of `config`, creating or migrating it as needed.

    Parameters
    ----------
    config
        The configuration; ``campaign.db`` names a SQLite file (relative to the
        config file) or a ``postgresql://`` URL.

    Returns
    -------
    engine
        A SQLAlchemy engine at the current schema version.

    Raises
    ------
    ConfigError
        If no database is configured, or the driver or folder is missing.
    InputError
        If the database cannot be opened or was made by a newer canvass.
    """
    url = config.campaign.db
    if not url:
        msg = (
            'no campaign database: set [campaign] db = "campaign.db" (a SQLite file '
            "next to the config) or a postgresql:// URL in the config."
        )
        raise ConfigError(msg)
    if "://" in url:
        engine = _postgres_engine(url)
        label = db_label(url)
    else:
        path = config.resolve(url)
        engine = _sqlite_engine(path)
        label = str(path)
    try:
        migrate(engine, label)
    except (sa.exc.OperationalError, sa.exc.DatabaseError, sqlite3.Error) as err:
        engine.dispose()
        first = str(getattr(err, "orig", err)).splitlines()[0][:160]
        msg = f"{label}: cannot open the campaign database ({first})."
        raise InputError(msg) from None
    return engine
