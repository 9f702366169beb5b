"""What the server sends, declared once: the picture, the feed's messages, the bureau socket's
answers and (contract v1.1 §5) the results. `ingest/messages.py` declares what comes in.

The server builds these bodies in PL/pgSQL (`picture()`, `record_change()`) and in string
concatenation (batch, resync); these models are the contract they must keep, and the tests
validate the real server's bytes against them (`tests/test_shapes.py`), so a new key or a
changed type is caught. `ingest/openapi.py` publishes them as `/api/openapi.json`.

Conventions, from the contract and the README:
- A key that is always sent but may carry `null` is declared `X | None` with no default
  (required, nullable): a province that has not reported turnout has `voted`,
  `registered`, `turnout_pct` and `as_of` null, never zero, and never a missing key.
- A key that is sometimes left out is declared with `absent()` (optional, never null).
- Extra keys are refused (`extra="forbid"`): declare a new key here before sending it.
- Times are ISO 8601 with an offset (`AwareDatetime`); percentages are unrounded.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from ingest.messages import (
    DATA_MODELS,
    KINDS,
    CompletionData,
    NoteData,
    ResultData,
    RevoteData,
    SecurityData,
    TurnoutData,
    absent,
)

Count = Annotated[int, Field(ge=0)]
Seq = Annotated[int, Field(ge=0)]
Pct = Annotated[float, Field(ge=0, le=100)]
ProvinceCode = Annotated[str, Field(pattern=r"^[0-9]{2}$", examples=["01"])]
Kind = Literal[KINDS]  # type: ignore[valid-type]
EventKind = Literal[(*KINDS, "confirmation")]  # type: ignore[valid-type]
"""What an update's event may be: a report of any kind, or the Council's decision (§5)."""
ErrorCode = Literal[
    "invalid",
    "forbidden",
    "regression",
    "rate_limited",
    "too_large",
    "unavailable",
    "auth_failed",
    "not_found",
]
"""`not_found` is HTTP only (404: an unknown report, photo, official figure or candidate)."""


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# --- the picture (protocol §2) -----------------------------------------------------------


class National(_Shape):
    """The national figures. Turnout is Σ voted / Σ registered over the provinces that
    reported turnout (`provinces_reporting`); all null before the first one."""

    voted: Count | None
    registered: Count | None
    turnout_pct: Pct | None
    provinces_reporting: Count
    provinces_total: Count
    areas_done: Count | None
    areas_total: Count | None
    revote_units: Count


class ProvinceEntry(_Shape):
    """One province in a picture or an update. `name_en`, `region`, `units_done` and
    `units_total` extend the contract."""

    code: ProvinceCode
    name: str
    name_en: str
    region: Literal["North", "Central", "South"]
    voted: Count | None
    registered: Count | None
    turnout_pct: Pct | None
    as_of: AwareDatetime | None
    """The moment the turnout figure describes (null before the first)."""
    areas_done: Count | None
    areas_total: Count | None
    units_done: Count | None
    units_total: Count | None
    revote_units: Count
    """Distinct re-vote units whose latest status is not `cancelled` (0 before any)."""
    security_level: Literal["info", "watch", "incident"] | None
    """The highest severity of the notes this reader may see (null when none)."""
    last_report_at: AwareDatetime | None
    """The latest `as_of` of any report this reader may see."""


class Picture(_Shape):
    """The body of `GET /api/snapshot` (and `?at=`). `seq` is the last change the picture
    includes; `rehearsal` extends the contract."""

    seq: Seq
    at: AwareDatetime
    rehearsal: bool
    national: National
    provinces: list[ProvinceEntry]


# --- results (protocol v1.1 §5) ---------------------------------------------------------


class Composition(_Shape):
    """§5: the elected, less those the Council did not confirm."""

    elected: Count
    women: Count
    ethnic_minority: Count
    non_party: Count
    under_40: Count
    former_deputy: Count
    religious: Count


class ResultsSummary(_Shape):
    """§5: the count nationally (`summary` of `/api/results`, `results` of an update)."""

    units_total: Count
    units_reporting: Count
    units_declared: Count
    seats_total: Count
    seats_filled: Count
    composition: Composition


class CandidateResult(_Shape):
    """§5: a candidate in a unit's result. A `waiting` unit's candidates have `votes`,
    `pct` and `rank` null; `pct` is unrounded; `confirmed` is null until the Council
    decides; `tie` marks the candidates of a last seat the rule cannot settle."""

    id: str = Field(pattern=r"^[0-9]{2}-[0-9]+-[0-9]+$", examples=["01-1-3"])
    name: str
    votes: Count | None
    pct: Pct | None
    rank: Annotated[int, Field(ge=1)] | None
    elected: bool
    leading: bool
    confirmed: bool | None
    tie: bool = absent()


class UnitResult(_Shape):
    """§5: one electoral unit in `/api/results` (and `unit` of an update)."""

    code: ProvinceCode
    unit: Annotated[int, Field(ge=1)]
    seats: Annotated[int, Field(ge=1)]
    status: Literal["waiting", "counting", "declared", "supplementary"]
    stage: Literal["provisional", "final"] | None
    as_of: AwareDatetime | None
    ballots_valid: Count | None
    ballots_invalid: Count | None
    areas_counted: Count | None
    areas_total: Count | None
    candidates: list[CandidateResult]


class Results(_Shape):
    """§5: the body of `GET /api/results` (and `?at=`)."""

    seq: Seq
    at: AwareDatetime
    summary: ResultsSummary
    units: list[UnitResult]


class Candidate(_Shape):
    """§5: a candidate on a unit's ballot (reference data)."""

    id: str = Field(pattern=r"^[0-9]{2}-[0-9]+-[0-9]+$", examples=["01-1-3"])
    ballot_no: Annotated[int, Field(ge=1)]
    name: str
    gender: Literal["M", "F"]
    birth_year: int
    ethnicity: str
    party_member: bool
    former_deputy: bool
    religion: str


class Unit(_Shape):
    """§5: an electoral unit with its candidates in ballot order (reference data)."""

    code: ProvinceCode
    unit: Annotated[int, Field(ge=1)]
    seats: Annotated[int, Field(ge=1)]
    description: str
    candidates: list[Candidate]


class Units(_Shape):
    """§5: the body of `GET /api/units` (and `?province=`)."""

    units: list[Unit]


# --- the live feed (protocol §3) --------------------------------------------------------


class ConfirmationData(_Shape):
    """§5: the data of a `confirmation` event, the Council's decision on a winner."""

    unit: Annotated[int, Field(ge=1)]
    candidate: str = Field(pattern=r"^[0-9]{2}-[0-9]+-[0-9]+$", examples=["74-1-2"])
    confirmed: bool
    source: str


EVENT_DATA = {**DATA_MODELS, "confirmation": ConfirmationData}


class Event(_Shape):
    """The change an update carries: the report as sent, and `action` when it is an
    editor's (retract, publish, verify, annotate) on that report; or the Council's decision
    on a winner (kind `confirmation`, §5)."""

    id: UUID
    kind: EventKind
    as_of: AwareDatetime
    province: ProvinceCode
    data: (
        TurnoutData
        | CompletionData
        | RevoteData
        | SecurityData
        | NoteData
        | ResultData
        | ConfirmationData
    )
    action: Literal["verify", "publish", "retract", "annotate"] = absent()

    @model_validator(mode="after")
    def _data_of_its_kind(self) -> Event:
        if not isinstance(self.data, EVENT_DATA[self.kind]):
            raise ValueError(f"data is not {self.kind} data")
        return self


class Update(_Shape):
    """One accepted change this viewer may see. `prev` is the `seq` of what this viewer
    was last sent; a viewer whose last `seq` differs has missed something."""

    type: Literal["update"]
    seq: Annotated[int, Field(ge=1)]
    prev: Seq
    event: Event
    province: ProvinceEntry
    national: National
    rehearsal: bool
    unit: UnitResult = absent()
    """§5: with a `result` or a confirmation, the unit's entry."""
    results: ResultsSummary = absent()
    """§5: with a `result` or a confirmation, the national summary."""


class Batch(_Shape):
    """Consecutive updates sent as one frame (under load)."""

    type: Literal["batch"]
    updates: Annotated[list[Update], Field(min_length=1)]


class Resync(_Shape):
    """This viewer fell too far behind; a fresh snapshot follows."""

    type: Literal["resync"]


class SnapshotMessage(Picture):
    """The picture as the feed's first message (and after a resync)."""

    type: Literal["snapshot"]


class Clock(_Shape):
    """§6: the election clock, the body of `GET /api/clock`. `mode` is `replay` while a
    demo, simulation or rehearsal has set it; `speed` is replayed seconds per second."""

    clock: AwareDatetime
    mode: Literal["live", "replay"]
    speed: Annotated[float, Field(ge=0)]


class ClockMessage(Clock):
    """§6: the clock on the live feeds, after the first snapshot and whenever it is set."""

    type: Literal["clock"]


# --- the bureau socket's answers (protocol §1) -----------------------------------------


class ProvinceName(_Shape):
    code: ProvinceCode
    name: str


class Welcome(_Shape):
    """The answer to a good `hello`. `province` is null for editors' tokens; `last_seq`
    is the highest `seq` committed on the server; `rehearsal` extends the contract."""

    type: Literal["welcome"]
    province: ProvinceName | None
    role: Literal["bureau", "editor", "admin"]
    server_time: AwareDatetime
    last_seq: Seq
    rehearsal: bool


class Ack(_Shape):
    """A report durably stored (or, `duplicate`, already stored under this `id`)."""

    type: Literal["ack"]
    id: str
    seq: Annotated[int, Field(ge=1)]
    duplicate: bool


class Error(_Shape):
    """A refusal: nothing was stored. `id` is the report's, or null when unreadable;
    `message` is `message_vi + " / " + message_en` (the two extend the contract). Over
    HTTP the same body comes with the status of its code (422, 403, 409, 429, 413, 503,
    401)."""

    type: Literal["error"]
    id: str | None
    code: ErrorCode
    field: str | None
    message: str
    message_vi: str
    message_en: str


class Health(_Shape):
    """`GET /healthz`: 200 when every check holds, else 503 with the same body."""

    ok: bool
    process: bool = absent()
    database: bool = absent()
    listen: bool = absent()
    """The checks' detail goes to editors and the trusted proxy only; others get `ok`."""


LIVE_MESSAGES: tuple[type[BaseModel], ...] = (
    SnapshotMessage,
    Update,
    Batch,
    Resync,
    ClockMessage,
    Error,
)
"""What `/ws/live` sends (and `/ws/live/editor`, after its `Welcome`)."""

BUREAU_ANSWERS: tuple[type[BaseModel], ...] = (Welcome, Ack, Error)
"""What `/ws/bureau` answers."""
