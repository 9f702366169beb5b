"""What the results' figures share: the moment a results body shows, its seats (who sits
where, with the attributes of the reference list), the subtitle line, and the strip's
("band") proportions and text scale.

A results body is the contract's `/api/results` body (§5): `seq`, `at`, `summary`,
`units` with their candidates. The body names the candidates and their votes; who they
are (gender, birth year, ethnicity, party, former deputy, religion) is public reference
data, read here from `ingest.candidates.candidate_index()`, and where a unit lies (its
province's region) from `ingest.fixtures`.

Seats: a candidate `elected` and not refused by the Council (`confirmed` is not False) sits;
a candidate `leading` in a unit still counting is shown apart (lighter), never as elected;
every other seat is empty. The summary's figures (`seats_filled`, `units_declared`, the
composition) are shown as the body gives them, never recomputed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dashboards import i18n
from dashboards.figures.frame import Size, scale_of, size_px
from dashboards.i18n import label
from ingest import fixtures as fx
from ingest.candidates import Candidate, candidate_index

Results = dict[str, Any]
BAND_SIZE = (1920, 360)
"""The agency's LED strip: what `band=True` is drawn for when no other size is asked."""
BAND_TEXT_HEIGHT = 300
"""A band's natural text scale is its height over this (1.2 on the 360-pixel strip)."""


@dataclass(frozen=True, slots=True)
class Seat:
    """A candidate holding (or, `leading`, about to hold) a seat."""

    candidate: Candidate
    code: str
    unit: int
    pct: float | None
    leading: bool

    @property
    def region(self) -> str:
        province = fx.province_index().get(self.code)
        return province.region3 if province else ""


def results_moment(results: Results, units: list[dict] | None = None) -> str | None:
    """The moment a results body shows (contract §6): its `at` when it has one, else the
    latest `as_of` among `units` (default: all its units); None when nothing is counted."""
    if results.get("at"):
        return results["at"]
    shown = results.get("units", ()) if units is None else units
    moments = [u["as_of"] for u in shown if u.get("as_of")]
    if not moments:
        return None
    return max(moments, key=lambda m: i18n.to_local(m))


def seats(results: Results) -> tuple[list[Seat], list[Seat]]:
    """(seated, leading) in unit order then rank: the elected less those the Council did
    not confirm, and the candidates leading in units still counting."""
    index = candidate_index()
    seated, leading = [], []
    for unit in results.get("units", ()):
        for c in unit.get("candidates", ()):
            person = index.get(c["id"])
            if person is None:
                continue
            seat = Seat(person, unit["code"], unit["unit"], c.get("pct"), bool(c.get("leading")))
            if c.get("elected") and c.get("confirmed") is not False:
                seated.append(seat)
            elif c.get("leading") and not c.get("elected"):
                leading.append(seat)
    return seated, leading


def seats_total(results: Results) -> int:
    summary = results.get("summary") or {}
    if summary.get("seats_total") is not None:
        return int(summary["seats_total"])
    return sum(u.get("seats", 0) for u in results.get("units", ()))


def unit_name(code: str, unit: int, lang: str) -> str:
    """ "Hà Nội · ĐV 1" / "Ha Noi · Unit 1"."""
    return f"{i18n.province_name(code, lang)} · {label('res_unit_short', lang).format(unit=unit)}"


def results_line(results: Results, lang: str, units: list[dict] | None = None) -> str:
    """The subtitle: "as of …", then units declared and seats filled as the summary gives
    them."""
    summary = results.get("summary") or {}
    parts = [i18n.as_of_label(results_moment(results, units), lang)]
    if summary.get("units_total"):
        parts.append(
            f"{label('res_units_declared', lang)}: {summary.get('units_declared', 0)}"
            f"/{summary['units_total']}"
        )
    if summary.get("seats_total"):
        parts.append(
            f"{label('res_seats_filled', lang)}: {summary.get('seats_filled', 0)}"
            f"/{summary['seats_total']}"
        )
    return " · ".join(parts)


def frame_size(size: Size, band: bool) -> tuple[int, int]:
    """The figure's pixels: a band asked at the default size is the LED strip."""
    if band and size == "web":
        return BAND_SIZE
    return size_px(size)


def text_scale(width: int, height: int, band: bool, scale: float) -> float:
    """Text and margin scale: the size's natural scale (1 at 1200×675; a band's height over
    `BAND_TEXT_HEIGHT`) times `scale` (a wall board asks for larger type)."""
    natural = height / BAND_TEXT_HEIGHT if band else scale_of(width, height)
    return natural * scale


def moment_meta(fig: Any, results: Results, units: list[dict] | None = None, **extra: Any) -> None:
    """`meta.at` is the moment shown (the frame puts a picture's; a results body has its
    own), beside the figure's own options (`extra`)."""
    meta = dict(fig.layout.meta or {})
    meta["at"] = results_moment(results, units)
    meta.update(extra)
    fig.update_layout(meta=meta)
