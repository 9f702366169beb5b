"""The editors' desk (issue 6): one module per thing an editor does.

    session.py    signing in and out (`/editor/signin`, `/editor/signout`)
    table.py      the live desk page `/editor` and its data `/editor/api/desk?at=`
    overdue.py    the checkpoints and the overdue rule (which bureaus are silent)
    review.py     the review queue, its anomaly rules, one report, the actions
    official.py   official figures beside ours
    summary.py    the phase summary and its CSV, SVG and HTML
    labels.py     the desk's words (Vietnamese or English)

Photos (`server/photos.py`), token administration (`server/tokens.py`) and charts
(`server/charts.py`) are desk tools with modules of their own.

Who may enter
    An editor or admin token signs in once and gets a session cookie (`server.auth`);
    API clients may send `Authorization: Bearer <editor token>` instead. Every route
    under /editor and /charts except the sign-in itself is guarded with
    `auth.requires("editor")` (token administration: `"admin"`): no or a bad credential →
    401 `auth_failed`; a bureau token (or an editor at an admin endpoint) → 403
    `forbidden`; a browser asking a desk page without a session is sent to the sign-in
    form. `/ws/live/editor` accepts the same cookie, so the page never holds the token.

Endpoints
    GET  /editor/signin, POST /editor/signin, POST /editor/signout
    GET  /editor                        the live desk
    GET  /editor/summary?phase=N[&format=csv], GET /editor/summary.csv
    GET  /editor/api/desk?at=           the picture (internal) + overdue flags + official
    GET  /editor/api/queue              the review queue
    GET  /editor/api/reports/{id}       one report and its audit log
    POST /editor/api/reports/{id}/{verify|publish|retract|annotate}   {"why": "..."}
    GET  /editor/api/official, POST /editor/api/official, POST .../{id}/withdraw

Desk settings: `server.settings.DeskSettings` (VOTEWIRE_CHECKPOINTS,
VOTEWIRE_CHECKPOINT_GRACE_MIN, VOTEWIRE_JUMP_PP, VOTEWIRE_NEIGHBOUR_PP, VOTEWIRE_SESSION_H,
VOTEWIRE_PHOTO_MAX_MB).
"""
