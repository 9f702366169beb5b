"""The board's slides, its two layouts, and reading the page's URL parameters."""

from __future__ import annotations

from typing import Any

from dashboards import i18n

RESULT_SLIDES = ("hemicycle", "results_map", "composition")
"""The results' slides (`dashboards.figures.build_results`): they join the rotation once the
public results have a unit reporting, and sit out their turn until then."""
TURNOUT_FIGURES = ("map", "ranking", "completion", "history")
"""Turnout slides drawn by Plotly from a `dashboards.figures` builder."""
SLIDES = (*RESULT_SLIDES, "map", "tiles", "ranking", "completion", "revotes", "history", "notes")
"""Every slide, in the default order: the results first (once there are any, they are the
news), then the day's turnout."""
FIGURE_SLIDES = (*RESULT_SLIDES, *TURNOUT_FIGURES)
"""Slides drawn by Plotly; the others (tiles, re-votes, notes) are HTML."""
DIMENSIONS = ("gender", "region", "former_deputy")
"""What the hemicycle's seats can be coloured by (`?seats=`; the first is the default)."""
WINNERS_MAX = 24
"""The ticker knows the winners of at most this many units, the latest declared first."""
DEFAULT_SECONDS = 12
SECONDS_RANGE = (1, 3600)
STALE_RANGE = (2, 86_400)
ITEMS_REFRESH_S = 60
REFRESH_RANGE = (2, 3600)
LAYOUTS: dict[str, dict[str, Any]] = {
    "full": {
        "size": (1920, 1080),
        "figure": (1352, 800),
        "scale": 1.3,
        "ranking_n": 10,
        "tile_digits": 2,
        "notes_max": 6,
        "photos_max": 6,
        "mixed": (4, 3),
        "revotes_max": 8,
        "results_figure": (1352, 784),
        "results_scale": 1.15,
    },
    "strip": {
        "size": (1920, 360),
        "figure": (1352, 262),
        "scale": 0.95,
        "ranking_n": 5,
        "tile_digits": 1,
        "notes_max": 3,
        "photos_max": 3,
        "mixed": (2, 1),
        "revotes_max": 5,
        "results_figure": (1352, 262),
        "results_scale": 1.0,
    },
}
"""Board size, figure size (the slide's plot area, matched by board.css), text scale of the
figures, and how much each HTML slide shows. A strip has room for fewer rows. The notes
slide shows up to `notes_max` notes, or up to `photos_max` photos, or, when there are
both, `mixed` = (photos, notes), as board.css lays them out. The results' figures take
`results_scale` times their size's natural text scale (`dashboards.figures.build_results`),
and on 16:9 a plot area `results_figure` a line lower than the others (the count's figures
sit under the slide's title)."""
STRIP_COLUMNS = 21
"""The strip lays the 63 tiles out north to south in three rows of 21."""


def bounded_int(raw: str | None, default: int, bounds: tuple[int, int]) -> int:
    """An integer parameter, `default` when absent or unreadable, clamped to `bounds`."""
    try:
        value = int(raw) if raw not in (None, "") else default
    except ValueError:
        value = default
    return max(bounds[0], min(bounds[1], value))


def parse_slides(raw: str | None, seconds: int) -> list[dict[str, Any]]:
    """`map,tiles:20,ranking` → [{name, seconds}]; unknown names are ignored, and nothing
    usable means every slide in the default order."""
    out = []
    for part in (raw or "").split(","):
        name, _, secs = part.strip().partition(":")
        if name in SLIDES:
            out.append({"name": name, "seconds": bounded_int(secs, seconds, SECONDS_RANGE)})
    return out or [{"name": name, "seconds": seconds} for name in SLIDES]


def board_lang(raw: str | None) -> str:
    return raw if raw in i18n.LANGS else i18n.DEFAULT_LANG


def board_layout(raw: str | None) -> str:
    return "strip" if raw == "strip" else "full"


def board_seats(raw: str | None) -> str:
    """The hemicycle's colouring (`?seats=gender|region|former_deputy`), gender by default."""
    return raw if raw in DIMENSIONS else DIMENSIONS[0]


def has_results(summary: dict | None) -> bool:
    """Whether the results slides join the rotation: a unit has a public result."""
    return bool(summary and summary.get("units_reporting"))
