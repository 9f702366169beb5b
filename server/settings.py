"""Every setting in one place, read from the environment, with its default.

`SETTINGS` is the table the README documents (a test keeps the two in step). A bad value
stops the process with one line that names the variable and what it expects.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from ingest.election import Election

__all__ = [
    "SETTINGS",
    "ConfigError",
    "DeskSettings",
    "EdgeSettings",
    "Election",
    "Settings",
    "load",
    "utc_now",
]

# name: (default, description)
SETTINGS: dict[str, tuple[str, str]] = {
    "DATABASE_URL": ("", "Postgres to use; unset = an embedded Postgres under VOTEWIRE_DATA"),
    "VOTEWIRE_DATA": ("./.votewire", "data folder (embedded Postgres, secrets)"),
    "VOTEWIRE_ELECTION_DATE": ("2021-05-23", "polling day"),
    "VOTEWIRE_ZONE": ("Asia/Ho_Chi_Minh", "the election's time zone"),
    "VOTEWIRE_POLLS_OPEN": ("07:00", "polls open (local time)"),
    "VOTEWIRE_POLLS_CLOSE": ("19:00", "polls close (local time)"),
    "VOTEWIRE_WINDOW_START": ("2021-05-13", "first day an as_of is accepted (early voting)"),
    "VOTEWIRE_WINDOW_END": ("2021-06-13", "last day an as_of is accepted (re-votes), to 23:59"),
    "VOTEWIRE_REHEARSAL": ("0", "1 = shift the election day (and window) onto today's date"),
    "VOTEWIRE_FUTURE_SLACK_S": ("300", "how far past the server clock an as_of may be"),
    "VOTEWIRE_MAX_FRAME": ("65536", "frames larger than this are refused too_large"),
    "VOTEWIRE_HARD_FRAME": ("1048576", "frames larger than this close the socket (1009)"),
    "VOTEWIRE_RATE_PER_S": ("5", "reports per second a token may sustain"),
    "VOTEWIRE_RATE_BURST": ("120", "reports a token may send in a burst"),
    "VOTEWIRE_ABUSE_LIMIT": ("200", "refusals in a row after which a bureau socket is closed"),
    "VOTEWIRE_VIEWER_QUEUE": ("512", "frames queued per viewer before it is resynced"),
    "VOTEWIRE_FEED_RETAIN": ("10000", "updates a viewer may resume with since= (at least)"),
    "VOTEWIRE_COALESCE_MS": ("20", "updates arriving within this tick share one batch frame"),
    "VOTEWIRE_FANOUT": ("postgres", "postgres (LISTEN/NOTIFY, many processes) or local"),
    "VOTEWIRE_LISTEN_CHECK_S": ("5", "how often the LISTEN connection is checked"),
    "VOTEWIRE_GC_QUIET_S": (
        "1",
        "full garbage collections wait for this long without a broadcast (at most 60 s past"
        " due); 0 = CPython's own timing",
    ),
    "VOTEWIRE_DB_TIMEOUT_S": ("5", "database connect/query timeout before 'unavailable'"),
    "VOTEWIRE_DB_POOL": ("10", "database connections a process may open (besides LISTEN)"),
    "VOTEWIRE_STALE_S": ("1800", "a province figure older than this is marked stale"),
    "VOTEWIRE_BOARD_STALE_S": ("120", "the board shows STALE after this long without updates"),
    "VOTEWIRE_SECRET": ("", "cookie signing key; unset = generated under VOTEWIRE_DATA"),
    "VOTEWIRE_CHECKPOINTS": (
        "09:00,11:00,14:00,17:00,19:00",
        "local times by which every bureau should have sent turnout (else: overdue)",
    ),
    "VOTEWIRE_CHECKPOINT_GRACE_MIN": ("15", "minutes after a checkpoint before it counts"),
    "VOTEWIRE_JUMP_PP": ("40", "a turnout move of more points than this goes to review"),
    "VOTEWIRE_NEIGHBOUR_PP": ("25", "this many points from the neighbours' median: review"),
    "VOTEWIRE_SESSION_H": ("12", "hours an editor's sign-in lasts"),
    "VOTEWIRE_SIGNIN_FAILURES": ("20", "wrong desk sign-ins a client address may make a minute"),
    "VOTEWIRE_PHOTO_MAX_MB": ("5", "largest photo upload accepted (MiB)"),
    "VOTEWIRE_PHOTO_PER_MIN": ("10", "photos one token may upload in any minute (then 429)"),
    "VOTEWIRE_PHOTO_QUOTA": ("100", "photos a province may have in all, any status (then 429)"),
    "VOTEWIRE_LOG": ("INFO", "log level (DEBUG, INFO, WARNING, ERROR)"),
    "VOTEWIRE_LOG_FORMAT": ("text", "text, or json: one JSON object per line, with report_id/seq"),
    "VOTEWIRE_ALLOWED_ORIGINS": ("", "other page origins allowed to open our sockets (comma list)"),
    "VOTEWIRE_TRUSTED_PROXIES": (
        "127.0.0.1",
        "addresses whose X-Forwarded-Proto/-For are believed (comma list, CIDR or *)",
    ),
    "VOTEWIRE_SECURE_COOKIES": ("0", "1 = the desk's cookie is always Secure (behind TLS)"),
    "VOTEWIRE_HEADER_TIMEOUT_S": ("10", "a request's headers must arrive whole within this"),
    "VOTEWIRE_BODY_IDLE_S": ("30", "a request body silent this long closes its connection"),
    "VOTEWIRE_MAX_CONNECTIONS": (
        "12000",
        "open connections (sockets included) per process; beyond: 503 and closed",
    ),
}


class ConfigError(Exception):
    """A setting has a value the program cannot use; the message says which and why."""


def _get(env: dict[str, str], name: str) -> str:
    return env.get(name, SETTINGS[name][0])


def _parse(env: dict[str, str], name: str, kind, hint: str):
    raw = _get(env, name)
    try:
        return kind(raw)
    except (ValueError, TypeError):
        raise ConfigError(f"{name}={raw!r} is not valid: expected {hint}") from None


@dataclass(frozen=True)
class DeskSettings:
    """The editors' desk: the checkpoints' grace, review thresholds, sessions, photos (the
    checkpoints themselves are the election's: `Election.checkpoints`)."""

    grace: timedelta
    jump_pp: float
    neighbour_pp: float
    session_s: int
    photo_max_bytes: int
    signin_failures: int = 20
    """Wrong sign-ins per client address per minute; past them 429 until one ages out."""
    photo_per_min: int = 10
    """Photos one token may upload in any minute; past them 429."""
    photo_quota: int = 100
    """Photos a province may have in all (every status); past them 429."""


def _desk(env: dict[str, str]) -> DeskSettings:
    def number(name: str) -> float:
        value = _parse(env, name, float, "a number")
        if value < 0:
            raise ConfigError(
                f"{name}={_get(env, name)!r} is not valid: expected a positive number"
            )
        return value

    return DeskSettings(
        grace=timedelta(minutes=number("VOTEWIRE_CHECKPOINT_GRACE_MIN")),
        jump_pp=number("VOTEWIRE_JUMP_PP"),
        neighbour_pp=number("VOTEWIRE_NEIGHBOUR_PP"),
        session_s=int(number("VOTEWIRE_SESSION_H") * 3600),
        photo_max_bytes=int(number("VOTEWIRE_PHOTO_MAX_MB") * 1024 * 1024),
        signin_failures=int(number("VOTEWIRE_SIGNIN_FAILURES")),
        photo_per_min=int(number("VOTEWIRE_PHOTO_PER_MIN")),
        photo_quota=int(number("VOTEWIRE_PHOTO_QUOTA")),
    )


@dataclass(frozen=True)
class EdgeSettings:
    """What the process believes of its proxy and bounds per connection (server/cli/)."""

    trusted_proxies: tuple[str, ...] = ("127.0.0.1",)
    secure_cookies: bool = False
    header_timeout_s: float = 10.0
    body_idle_s: float = 30.0
    max_connections: int = 12000


def _positive(env: dict[str, str], name: str, kind, hint: str):
    value = _parse(env, name, kind, hint)
    if value <= 0:
        raise ConfigError(f"{name}={_get(env, name)!r} is not valid: expected {hint} > 0")
    return value


def _edge(env: dict[str, str]) -> EdgeSettings:
    def positive(name: str, kind, hint: str):
        return _positive(env, name, kind, hint)

    return EdgeSettings(
        trusted_proxies=tuple(
            p.strip() for p in _get(env, "VOTEWIRE_TRUSTED_PROXIES").split(",") if p.strip()
        ),
        secure_cookies=_get(env, "VOTEWIRE_SECURE_COOKIES").lower() in ("1", "true", "yes", "on"),
        header_timeout_s=positive("VOTEWIRE_HEADER_TIMEOUT_S", float, "seconds"),
        body_idle_s=positive("VOTEWIRE_BODY_IDLE_S", float, "seconds"),
        max_connections=positive("VOTEWIRE_MAX_CONNECTIONS", int, "an integer"),
    )


@dataclass(frozen=True)
class Settings:
    database_url: str | None
    data_dir: Path
    election: Election
    future_slack: timedelta
    max_frame: int
    hard_frame: int
    rate_per_s: float
    rate_burst: int
    abuse_limit: int
    viewer_queue: int
    feed_retain: int
    coalesce_ms: int
    fanout: str
    listen_check_s: float
    gc_quiet_s: float
    db_timeout_s: float
    stale_s: int
    board_stale_s: int
    desk: DeskSettings
    secret: str = field(repr=False, default="")
    allowed_origins: tuple[str, ...] = ()
    edge: EdgeSettings = field(default_factory=EdgeSettings)
    db_pool: int = 10

    @property
    def zone_name(self) -> str:
        return self.election.zone.key


def _checkpoints(env: dict[str, str]) -> tuple[time, ...]:
    raw = _get(env, "VOTEWIRE_CHECKPOINTS")
    try:
        return tuple(sorted(time.fromisoformat(t.strip()) for t in raw.split(",") if t.strip()))
    except ValueError:
        raise ConfigError(
            f"VOTEWIRE_CHECKPOINTS={raw!r} is not valid: expected local times like 09:00,11:00"
        ) from None


def load(env: dict[str, str] | None = None, *, today: date | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    day = _parse(env, "VOTEWIRE_ELECTION_DATE", date.fromisoformat, "a date like 2021-05-23")
    try:
        zone = ZoneInfo(_get(env, "VOTEWIRE_ZONE"))
    except Exception:
        raise ConfigError(
            f"VOTEWIRE_ZONE={_get(env, 'VOTEWIRE_ZONE')!r} is not a time zone: "
            "expected e.g. Asia/Ho_Chi_Minh"
        ) from None
    opens = _parse(env, "VOTEWIRE_POLLS_OPEN", time.fromisoformat, "HH:MM")
    closes = _parse(env, "VOTEWIRE_POLLS_CLOSE", time.fromisoformat, "HH:MM")
    w0 = _parse(env, "VOTEWIRE_WINDOW_START", date.fromisoformat, "a date")
    w1 = _parse(env, "VOTEWIRE_WINDOW_END", date.fromisoformat, "a date")
    rehearsal = _get(env, "VOTEWIRE_REHEARSAL").lower() in ("1", "true", "yes", "on")
    if rehearsal:
        shift = (today or datetime.now(zone).date()) - day
        day, w0, w1 = day + shift, w0 + shift, w1 + shift
    election = Election(
        day=day,
        zone=zone,
        polls_open=opens,
        polls_close=closes,
        window_start=datetime.combine(w0, time(0, 0), tzinfo=zone),
        window_end=datetime.combine(w1, time(23, 59, 59, 999999), tzinfo=zone),
        checkpoints=_checkpoints(env),
        rehearsal=rehearsal,
    )
    fanout = _get(env, "VOTEWIRE_FANOUT")
    if fanout not in ("postgres", "local"):
        raise ConfigError(f"VOTEWIRE_FANOUT={fanout!r}: expected 'postgres' or 'local'")
    return Settings(
        database_url=_get(env, "DATABASE_URL") or None,
        data_dir=Path(_get(env, "VOTEWIRE_DATA")).resolve(),
        election=election,
        future_slack=timedelta(seconds=_parse(env, "VOTEWIRE_FUTURE_SLACK_S", float, "seconds")),
        max_frame=_parse(env, "VOTEWIRE_MAX_FRAME", int, "bytes"),
        hard_frame=_parse(env, "VOTEWIRE_HARD_FRAME", int, "bytes"),
        rate_per_s=_parse(env, "VOTEWIRE_RATE_PER_S", float, "a number"),
        rate_burst=_parse(env, "VOTEWIRE_RATE_BURST", int, "an integer"),
        abuse_limit=_parse(env, "VOTEWIRE_ABUSE_LIMIT", int, "an integer"),
        viewer_queue=_parse(env, "VOTEWIRE_VIEWER_QUEUE", int, "an integer"),
        feed_retain=_parse(env, "VOTEWIRE_FEED_RETAIN", int, "an integer"),
        coalesce_ms=_parse(env, "VOTEWIRE_COALESCE_MS", int, "milliseconds"),
        fanout=fanout,
        listen_check_s=_parse(env, "VOTEWIRE_LISTEN_CHECK_S", float, "seconds"),
        gc_quiet_s=_parse(env, "VOTEWIRE_GC_QUIET_S", float, "seconds"),
        db_timeout_s=_parse(env, "VOTEWIRE_DB_TIMEOUT_S", float, "seconds"),
        stale_s=_parse(env, "VOTEWIRE_STALE_S", int, "seconds"),
        board_stale_s=_parse(env, "VOTEWIRE_BOARD_STALE_S", int, "seconds"),
        desk=_desk(env),
        secret=_get(env, "VOTEWIRE_SECRET"),
        allowed_origins=tuple(
            o.strip() for o in _get(env, "VOTEWIRE_ALLOWED_ORIGINS").split(",") if o.strip()
        ),
        edge=_edge(env),
        db_pool=_positive(env, "VOTEWIRE_DB_POOL", int, "an integer"),
    )


def utc_now() -> datetime:
    return datetime.now(UTC)
