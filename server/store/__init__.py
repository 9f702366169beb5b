"""All SQL of votewire (the storage layer), one module per concept:

    db.py       pools, connections, migrations, the provinces' seed
    clock.py    the election clock's replay setting
    tokens.py   tokens and their bearers
    reports.py  the report log, editors' actions, reading reports back, the reset
    results.py  results (§5): accepting a count under the law, the Council's decisions,
                the count now or at a moment
    outcome.py  what the writer answered for one report
    feed.py     the change counter and the feed table
    picture.py  the picture now or at a moment, timelines, re-votes at a moment
    desk.py     the review queue, current turnout reports, official figures
    photos.py   bureau photos
    sessions.py editors' sessions and sign-in attempts

Callers use the names exported here (`from server import store; store.picture(...)`).
Connection failures surface as `errors.Unavailable` (`store.acquire`). The writer's logic
lives in the SQL functions of `server/migrations/`, one round trip per batch of reports.
"""

from server.store.clock import election_clock, set_election_clock
from server.store.db import (
    DB_ERRORS,
    acquire,
    connect,
    create_pool,
    migrate,
    ping,
    registered_defaults,
    seed_provinces,
)
from server.store.desk import (
    add_official,
    latest_turnout,
    officials,
    review_queue,
    withdraw_official,
)
from server.store.feed import (
    feed_floor,
    feed_since,
    last_seq,
    last_seqs,
)
from server.store.outcome import Outcome
from server.store.photos import (
    PhotoLimits,
    PhotoUsage,
    add_photo,
    board_photos,
    photo_jpeg,
    photo_usage,
    photos,
    review_photo,
)
from server.store.picture import (
    picture,
    revotes_at,
    timeline,
)
from server.store.reports import (
    accept_batch,
    apply_action,
    audit_log,
    board_items,
    published_notes,
    report_by_id,
    reports_of_token,
    reset_reports,
)
from server.store.results import Decision, latest_results, record_decision, results_body
from server.store.sessions import (
    Attempt,
    Session,
    end_session,
    open_session,
    session_bearer,
    session_hash,
    signin_attempt,
    signin_succeeded,
)
from server.store.tokens import (
    Bearer,
    bearer_by_id,
    find_bearer,
    issue_token,
    list_tokens,
    revoke_tokens,
    revoked_among,
    token_hash,
)

__all__ = [
    "Attempt",
    "Bearer",
    "DB_ERRORS",
    "Outcome",
    "PhotoLimits",
    "PhotoUsage",
    "Session",
    "accept_batch",
    "acquire",
    "add_official",
    "add_photo",
    "apply_action",
    "audit_log",
    "bearer_by_id",
    "board_items",
    "board_photos",
    "connect",
    "create_pool",
    "election_clock",
    "end_session",
    "feed_floor",
    "feed_since",
    "find_bearer",
    "issue_token",
    "last_seq",
    "last_seqs",
    "latest_turnout",
    "list_tokens",
    "migrate",
    "officials",
    "open_session",
    "photo_jpeg",
    "photo_usage",
    "photos",
    "picture",
    "ping",
    "published_notes",
    "registered_defaults",
    "report_by_id",
    "reports_of_token",
    "reset_reports",
    "review_photo",
    "review_queue",
    "revoke_tokens",
    "revoked_among",
    "revotes_at",
    "seed_provinces",
    "Decision",
    "record_decision",
    "latest_results",
    "results_body",
    "session_bearer",
    "session_hash",
    "set_election_clock",
    "signin_attempt",
    "signin_succeeded",
    "timeline",
    "token_hash",
    "withdraw_official",
]
