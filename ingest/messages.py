"""The wire contract's shapes (protocol §1), declared once: server, simulator and tests share them.

`parse_frame` turns the bytes of one bureau frame into a `Hello` or a `Report`, or raises an
`Invalid` naming the offending field. Checks that need the election's configuration (the
`as_of` window, a province's registered voters) are in `check_report`, still pure.

Two rules of ours where JSON is looser than the contract:
- **No lone UTF-16 surrogates.** JSON may escape half of a pair (`"\\ud83d"`, an emoji cut
  in the middle); such a string is not Unicode text, cannot be stored nor echoed in UTF-8,
  and is refused `invalid` wherever it is (key or value), naming its path. When it is the
  `id` itself, the refusal's `id` is null (an unreadable id, as for `too_large`).
- **`null` is not "absent".** An optional field may be left out (its default applies) but
  never sent as `null`: a client that lost a value must hear about it. `absent()` declares
  such fields; `null` is refused `invalid` naming the field.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from ingest.candidates import Unit, unit_index, units_of
from ingest.errors import Invalid, encodable

KINDS = ("turnout", "completion", "revote", "security", "note", "result")
SEVERITIES = ("info", "watch", "incident")
MAX_VOTERS = 200_000_000
"""No province (nor the nation) has more voters: bounds every count to a sane bigint."""

Count = Annotated[StrictInt, Field(ge=0, le=MAX_VOTERS)]
Text = Annotated[StrictStr, Field(min_length=1, max_length=4000)]
Short = Annotated[StrictStr, Field(min_length=1, max_length=200)]
Pct = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False, strict=True)]
Positive = Annotated[StrictInt, Field(gt=0, le=MAX_VOTERS)]
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)
"""No moment of any election is outside [EARLIEST, LATEST). `datetime` itself reaches
years 1 and 9999, where moving a moment to UTC (year 1 at +14:00) or adding an hour
overflows: such a moment is refused before any arithmetic (`moment_in_range`)."""


def moment_in_range(moment: datetime) -> bool:
    """Is the aware `moment` one that arithmetic and Postgres can carry (see `EARLIEST`)?
    Comparing aware moments never overflows, so this is safe at `datetime`'s ends."""
    return EARLIEST <= moment < LATEST


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def absent() -> Any:
    """The default of a field that may be left out but is never `null`: the field is not
    required, an explicit `null` fails its type (pydantic does not validate this `None`
    default), and its JSON Schema says "optional, not nullable" (no `"default": null`)."""
    return Field(default=None, json_schema_extra=_no_default)


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class TurnoutData(_Data):
    voted: Count = absent()
    turnout_pct: Pct = absent()
    registered: Positive = absent()
    correction: StrictBool = False

    @model_validator(mode="after")
    def _one_figure(self) -> TurnoutData:
        if (self.voted is None) == (self.turnout_pct is None):
            raise ValueError("exactly one of voted or turnout_pct")
        return self


class CompletionData(_Data):
    areas_done: Count
    areas_total: Positive
    units_done: Count = absent()
    units_total: Positive = absent()


class RevoteData(_Data):
    unit: Short
    level: Literal["na", "province", "district", "commune"]
    reason: Literal["turnout_below_half", "insufficient_elected", "violation", "other"]
    note: Text = absent()
    status: Literal["announced", "scheduled", "held", "cancelled"] = "announced"
    audience: Literal["public", "internal"] = "public"
    """v1.1: `internal` keeps the whole re-vote off public screens until it is published."""


class SecurityData(_Data):
    severity: Literal["info", "watch", "incident"]
    category: Literal["security", "order", "traffic", "weather", "health", "other"]
    text: Text
    location: Short = absent()
    audience: Literal["internal", "public"] = "internal"


class NoteData(_Data):
    text: Text
    tags: Annotated[
        list[Annotated[StrictStr, Field(min_length=1, max_length=40)]], Field(max_length=20)
    ] = []
    audience: Literal["public", "internal"] = "public"


CandidateId = Annotated[StrictStr, Field(min_length=1, max_length=40)]
MAX_CANDIDATES = 100
"""No ballot has more names (2021: at most 8 per unit): bounds the `votes` object."""


class ResultData(_Data):
    """A unit's count (§5, v1.1). What needs the ballot (the unit exists in the province,
    `votes` names each of its candidates once, the votes fit the valid ballots) is checked
    by `check_result`, which knows the province."""

    unit: Annotated[StrictInt, Field(ge=1, le=10_000)]
    ballots_valid: Count
    votes: Annotated[dict[CandidateId, Count], Field(max_length=MAX_CANDIDATES)]
    ballots_invalid: Count = absent()
    stage: Literal["provisional", "final"] = "provisional"
    areas_counted: Count = absent()
    areas_total: Positive = absent()
    audience: Literal["internal", "public"] = "internal"
    """Internal until it is sent public or an editor publishes it (§5)."""
    correction: StrictBool = False


DATA_MODELS: dict[str, type[_Data]] = {
    "turnout": TurnoutData,
    "completion": CompletionData,
    "revote": RevoteData,
    "security": SecurityData,
    "note": NoteData,
    "result": ResultData,
}


class _Envelope(BaseModel):
    """Top-level fields are checked strictly; unknown extra ones are ignored (the contract
    may grow), but unknown fields inside `data` are refused so a typo is never lost."""

    model_config = ConfigDict(extra="ignore", strict=True)


class HelloMsg(_Envelope):
    type: Literal["hello"]
    token: Annotated[StrictStr, Field(min_length=1, max_length=512)]
    client: Annotated[StrictStr, Field(max_length=200)] | None = None


class ReportMsg(_Envelope):
    """A report (§1). On `/ws/bureau` `type` is required; `POST /api/reports` may omit it."""

    type: Literal["report"] = "report"
    id: StrictStr = Field(description="A UUID chosen by the client; a retry reuses it.")
    kind: StrictStr = Field(description=f"One of: {', '.join(KINDS)}.")
    as_of: StrictStr = Field(
        description="The moment the figure describes: ISO 8601 with an offset.",
        examples=["2021-05-23T11:00:00+07:00"],
    )
    data: dict[str, Any] = Field(
        description="The kind's fields: TurnoutData, CompletionData, RevoteData, "
        "SecurityData, NoteData or ResultData (unknown fields are refused)."
    )
    province: StrictStr = absent()
    """Only editors name it; a bureau's reports are for its own province."""


class ConfirmationMsg(_Envelope):
    """§5 (v1.1): the body of
    `POST /api/results/confirmation` (an editor's token), the National Election Council's
    decision on an elected candidate. `as_of` defaults to the election clock."""

    candidate: Annotated[StrictStr, Field(pattern=r"^[0-9]{2}-[0-9]+-[0-9]+$")]
    confirmed: StrictBool
    source: Short
    as_of: StrictStr = absent()


MAX_REPLAY_SPEED = 3600.0
"""A replay runs at most an hour per second: faster is a typo, not a demo."""


class ClockSetting(BaseModel):
    """§6: the body of `POST /api/clock` (an editor's token): the replayed moment now, and
    how many replayed seconds pass per real second (0 holds it still)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    clock: AwareDatetime = Field(examples=["2021-05-23T07:00:00+07:00"])
    speed: Annotated[float, Field(ge=0, le=MAX_REPLAY_SPEED, strict=True, examples=[60])]

    @field_validator("clock")
    @classmethod
    def _clock_in_range(cls, value: datetime) -> datetime:
        if not moment_in_range(value):
            raise ValueError(f"must be between the years {EARLIEST.year} and {LATEST.year - 1}")
        return value


def parse_clock_setting(obj: Any) -> ClockSetting:
    """A decoded `POST /api/clock` body → `ClockSetting`, or `Invalid` naming the field."""
    if not isinstance(obj, dict):
        raise Invalid.of(None, "body_not_object")
    try:
        return ClockSetting.model_validate(obj)
    except ValidationError as exc:
        raise _invalid_from(exc, id=None) from None


def parse_confirmation(obj: Any) -> ConfirmationMsg:
    """A decoded `POST /api/results/confirmation` body → `ConfirmationMsg`, or `Invalid`
    naming the field."""
    if not isinstance(obj, dict):
        raise Invalid.of(None, "body_not_object")
    try:
        return ConfirmationMsg.model_validate(obj)
    except ValidationError as exc:
        raise _invalid_from(exc, id=None) from None


@dataclass(frozen=True, slots=True)
class Report:
    """A report that has passed the contract's shape, type and range checks."""

    id: str
    """The id exactly as the client sent it (echoed in the ack)."""
    uuid: uuid.UUID
    kind: str
    as_of: datetime
    data: dict[str, Any]
    """The data as sent, defaults not filled in (it is what is stored and compared)."""
    fields: _Data
    """The validated data with defaults applied."""
    province: str | None

    @property
    def audience(self) -> str:
        return getattr(self.fields, "audience", "public")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
"""What a lone surrogate looks like in JSON text (paired ones decode to one character)."""


def loads(raw: str | bytes) -> Any:
    """Strict JSON: no NaN/Infinity, no invalid UTF-8, no lone surrogates, bounded nesting."""
    try:
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8")
        obj = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise Invalid.of(None, "not_json", detail=str(exc)[:120]) from None
    if _SURROGATE_ESCAPE.search(raw):
        _refuse_lone_surrogates(obj)
    return obj


def echo_id(obj: Any) -> str | None:
    """The `id` of a decoded frame as a refusal may echo it: a string of at most 100
    characters that UTF-8 can carry, else None."""
    value = obj.get("id") if isinstance(obj, dict) else None
    ok = isinstance(value, str) and len(value) <= 100 and encodable(value)
    return value if ok else None


def _refuse_lone_surrogates(obj: Any) -> None:
    """Raise `Invalid` naming the first key or string holding a lone surrogate, if any."""
    path = _lone_surrogate_path(obj)
    if path is None:
        return
    if path:
        raise Invalid.of(path, "surrogate", id=echo_id(obj))
    raise Invalid.of(None, "surrogate_in_frame", id=echo_id(obj))


def _lone_surrogate_path(obj: Any) -> str | None:
    """The path ("data.tags.0", "" for the frame itself) of the first key or string, in
    document order, holding a lone surrogate; None when there is none. Iterative: nesting
    as deep as `json.loads` allows cannot exhaust the stack."""

    def children(path: str, items: Any) -> Iterator[tuple[str, Any]]:
        return ((f"{path}.{key}" if path else str(key), item) for key, item in items)

    stack: list[Iterator[tuple[str, Any]]] = [iter([("", obj)])]
    while stack:
        for path, value in stack[-1]:
            if isinstance(value, str):
                if not encodable(value):
                    return path
            elif isinstance(value, dict):
                bad = next((k for k in value if not encodable(k)), None)
                if bad is not None:
                    return f"{path}.{bad}" if path else bad
                stack.append(children(path, value.items()))
                break
            elif isinstance(value, list):
                stack.append(children(path, enumerate(value)))
                break
        else:
            stack.pop()
    return None


def _loc(error: dict, prefix: str = "") -> str:
    parts = [str(p) for p in error["loc"] if not str(p).startswith("function-")]
    return ".".join([prefix, *parts] if prefix else parts)


def _invalid_from(exc: ValidationError, *, id: str | None, prefix: str = "") -> Invalid:
    err = exc.errors(include_url=False)[0]
    field = _loc(err, prefix)
    if err["type"] == "extra_forbidden":
        return Invalid.of(field, "unknown_field", id=id)
    if err["input"] is None and err["type"] != "missing":
        return Invalid.of(field, "null", id=id)
    if err["type"] == "value_error" and "exactly one of" in err["msg"]:
        return Invalid.of(f"{prefix}.voted" if prefix else "voted", "exactly_one", id=id)
    return Invalid.of(field, "value", id=id, detail=err["msg"])


def parse_frame(raw: str | bytes) -> HelloMsg | Report:
    """One bureau frame → a `HelloMsg` or a `Report` (shape and types only)."""
    obj = loads(raw)
    if not isinstance(obj, dict):
        raise Invalid.of(None, "frame_not_object")
    id = echo_id(obj)
    kind = obj.get("type")
    if kind == "hello":
        try:
            return HelloMsg.model_validate(obj)
        except ValidationError as exc:
            raise _invalid_from(exc, id=None) from None
    if kind != "report":
        raise Invalid.of("type", id=id)
    try:
        msg = ReportMsg.model_validate(obj)
    except ValidationError as exc:
        raise _invalid_from(exc, id=id) from None
    return _report(msg)


def parse_report(obj: Any) -> Report:
    """A report body already decoded (e.g. `POST /api/reports`); `type` may be omitted."""
    if not isinstance(obj, dict):
        raise Invalid.of(None, "report_body_not_object")
    id = echo_id(obj)
    try:
        msg = ReportMsg.model_validate(obj)
    except ValidationError as exc:
        raise _invalid_from(exc, id=id) from None
    return _report(msg)


def _report(msg: ReportMsg) -> Report:
    try:
        report_uuid = uuid.UUID(msg.id)
    except ValueError:
        raise Invalid.of("id", id=msg.id if len(msg.id) <= 100 else None) from None
    if msg.kind not in DATA_MODELS:
        raise Invalid.of("kind", id=msg.id, kind=msg.kind[:40], kinds=", ".join(KINDS))
    try:
        as_of = datetime.fromisoformat(msg.as_of)
    except ValueError:
        as_of = None
    if as_of is None or as_of.tzinfo is None:
        raise Invalid.of("as_of", id=msg.id)
    try:
        fields = DATA_MODELS[msg.kind].model_validate(msg.data)
    except ValidationError as exc:
        raise _invalid_from(exc, id=msg.id, prefix="data") from None
    if msg.kind == "completion":
        _done_le_total(fields, "areas", msg.id)
        _done_le_total(fields, "units", msg.id)
    if msg.kind == "result":
        counted, total = fields.areas_counted, fields.areas_total  # type: ignore[attr-defined]
        if counted is not None and total is not None and counted > total:
            raise Invalid.of(
                "data.areas_counted",
                "done_above_total",
                id=msg.id,
                done=counted,
                total=total,
                total_field="data.areas_total",
            )
    return Report(
        id=msg.id,
        uuid=report_uuid,
        kind=msg.kind,
        as_of=as_of,
        data=msg.data,
        fields=fields,
        province=msg.province,
    )


def _done_le_total(fields: Any, what: str, id: str) -> None:
    done, total = getattr(fields, f"{what}_done"), getattr(fields, f"{what}_total")
    if (done is None) != (total is None):
        missing = f"data.{what}_total" if total is None else f"data.{what}_done"
        raise Invalid.of(missing, "pair_missing", id=id)
    if done is not None and done > total:
        raise Invalid.of(
            f"data.{what}_done",
            "done_above_total",
            id=id,
            done=done,
            total=total,
            total_field=f"data.{what}_total",
        )


def check_result(report: Report, province: str) -> Unit:
    """The checks of a `result` that need the ballot (§5), in the contract's order: the
    unit exists in `province`; `votes` names each of its candidates once; no candidate has
    more votes than the valid ballots; the votes sum to at most `ballots_valid × seats` (a
    ballot marks at most `seats` names). Returns the unit."""
    f: ResultData = report.fields  # type: ignore[assignment]
    unit = unit_index().get((province, f.unit))
    if unit is None:
        raise Invalid.of(
            "data.unit",
            "unknown_unit",
            id=report.id,
            unit=f.unit,
            province=province,
            units=len(units_of(province)),
        )
    ballot = [c.id for c in unit.candidates]
    missing = next((cid for cid in ballot if cid not in f.votes), None)
    if missing is not None:
        raise Invalid.of("data.votes", "missing_candidate", id=report.id, candidate=missing)
    unknown = next((cid for cid in f.votes if cid not in set(ballot)), None)
    if unknown is not None:
        raise Invalid.of(
            "data.votes",
            "unknown_candidate",
            id=report.id,
            candidate=unknown,
            unit=unit.id,
        )
    for cid in ballot:
        if f.votes[cid] > f.ballots_valid:
            raise Invalid.of(
                f"data.votes.{cid}",
                "above_valid",
                id=report.id,
                candidate=cid,
                votes=f.votes[cid],
                valid=f.ballots_valid,
            )
    total, limit = sum(f.votes.values()), f.ballots_valid * unit.seats
    if total > limit:
        raise Invalid.of(
            "data.votes",
            "sum_above_limit",
            id=report.id,
            total=total,
            limit=limit,
            valid=f.ballots_valid,
            seats=unit.seats,
        )
    return unit


def derive_voted(pct: float, registered: int) -> int:
    """round(turnout_pct × registered / 100), half away from zero, exact in decimal."""
    value = Decimal(repr(pct)) * registered / 100
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def turnout_figures(report: Report, default_registered: int) -> tuple[int, int]:
    """(voted, registered) of a turnout report, deriving a count from a percentage."""
    f: TurnoutData = report.fields  # type: ignore[assignment]
    registered = f.registered or default_registered
    voted = f.voted if f.voted is not None else derive_voted(f.turnout_pct or 0.0, registered)
    return voted, registered


def check_moment(
    as_of: datetime,
    *,
    window: tuple[datetime, datetime],
    now: datetime,
    future_slack: timedelta = timedelta(minutes=5),
    id: str | None = None,
) -> None:
    """A figure's moment is inside the election window and not after the election clock's
    now plus the slack (§1)."""
    start, end = window
    if not start <= as_of <= end:
        raise Invalid.of(
            "as_of",
            "window",
            id=id,
            start=start,
            end=end,
            start_iso=start.isoformat(),
            end_iso=end.isoformat(),
        )
    if as_of > now + future_slack:
        raise Invalid.of("as_of", "future", id=id)


def check_report(
    report: Report,
    *,
    window: tuple[datetime, datetime],
    now: datetime,
    registered: int,
    future_slack: timedelta = timedelta(minutes=5),
) -> None:
    """Range checks that need configuration: the `as_of` window and voted ≤ registered."""
    check_moment(report.as_of, window=window, now=now, future_slack=future_slack, id=report.id)
    if report.kind == "turnout":
        voted, reg = turnout_figures(report, registered)
        if voted > reg:
            raise Invalid.of(
                "data.voted" if report.fields.voted is not None else "data.turnout_pct",  # type: ignore[attr-defined]
                "above_registered",
                id=report.id,
                voted=voted,
                registered=reg,
            )
