"""Chart and data exports: a figure → PNG / SVG / HTML bytes; a picture → CSV / JSON text.

PNG and SVG go through kaleido, which drives Debian's Chromium (`BROWSER_PATH`, default
`/usr/bin/chromium`; kaleido is never allowed to download a browser). One browser is
kept alive for the whole process (`kaleido.start_sync_server`), started on first use:
the first export costs about 2 s, later ones about 0.2 s. Exports are serialised by a
lock (the sync server answers one call at a time); `render` blocks, so async callers
should run it in a worker thread (e.g. `starlette.concurrency.run_in_threadpool`).

Nothing here touches the network: the page kaleido renders in loads the vendored
plotly.js, no MathJax, and the stub topojson of `static/vendor/topojson/`. An exported
HTML file inlines plotly.js, the stub topojson and the Noto Sans fonts, so it opens
offline.

Fonts: Plotly rasterises its SVG as an image, which cannot use a page's web fonts, so
PNGs see only the fonts fontconfig knows. The browser is started with its own
`FONTCONFIG_FILE` (the system's configuration plus the vendored Noto Sans TTFs of
`static/vendor/fonts/ttf/`), so exports look like the board without installing fonts.
Chromium's FreeType does not read the woff2 files the board uses, hence the TTFs.
"""

from __future__ import annotations

import atexit
import base64
import csv
import html
import io
import json
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import kaleido
import plotly.graph_objects as go
from choreographer.browsers import Chromium

from dashboards import i18n
from dashboards.figures import (
    TOPOJSON_FILE_URL,
    TOPOJSON_STUB,
    VENDOR_DIR,
    Picture,
    Size,
    build,
    picture_moment,
    size_px,
)

FORMATS = ("png", "svg", "html")
MEDIA_TYPES = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "html": "text/html; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
}
DEFAULT_BROWSER = "/usr/bin/chromium"
RENDER_TIMEOUT_S = 60
"""Longest one export may take before kaleido gives up."""
PLOTLY_JS = VENDOR_DIR / "plotly.min.js"
FONTS_DIR = VENDOR_DIR / "fonts"
EXPORT_FONTS_DIR = FONTS_DIR / "ttf"
SYSTEM_FONTCONFIG = Path("/etc/fonts/fonts.conf")
CSV_FIELDS = (
    "code",
    "name",
    "voted",
    "registered",
    "turnout_pct",
    "as_of",
    "areas_done",
    "areas_total",
    "revote_units",
)
NATIONAL_CODE = "VN"
"""`code` of the national row that closes a CSV export."""

_lock = threading.Lock()
_started = False
last_timings: dict[str, float] = {}
"""Seconds taken by the latest `render` of each format (for logs and the benchmark)."""


def browser_path() -> str:
    """The Chromium kaleido drives: `BROWSER_PATH`, else Debian's `/usr/bin/chromium`."""
    path = os.environ.get("BROWSER_PATH") or DEFAULT_BROWSER
    if not os.path.isfile(path):
        raise RuntimeError(
            f"votewire: chart export needs Chromium at {path!r}. Install Debian's "
            "`chromium` (apt-get install chromium) or set BROWSER_PATH to a Chrome binary."
        )
    return path


class _Chromium(Chromium):
    """Chromium that also sees the vendored TTFs, through its own fontconfig file."""

    fontconfig_file: str | None = None

    def get_env(self) -> MutableMapping[str, str]:
        env = super().get_env()
        if self.fontconfig_file:
            env["FONTCONFIG_FILE"] = self.fontconfig_file
        return env


def _write_fontconfig() -> str:
    """A fonts.conf = the system's + `EXPORT_FONTS_DIR`, in a temporary folder."""
    folder = tempfile.mkdtemp(prefix="votewire-fonts-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    conf = Path(folder) / "fonts.conf"
    system = (
        f'  <include ignore_missing="yes">{SYSTEM_FONTCONFIG}</include>\n'
        if SYSTEM_FONTCONFIG.is_file()
        else ""
    )
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
        f"<fontconfig>\n{system}  <dir>{html.escape(str(EXPORT_FONTS_DIR))}</dir>\n"
        f"  <cachedir>{html.escape(folder)}/cache</cachedir>\n</fontconfig>\n",
        encoding="utf-8",
    )
    return str(conf)


def start() -> None:
    """Start the shared headless browser now (it otherwise starts on the first export)."""
    with _lock:
        _start_locked()


def _start_locked() -> None:
    global _started
    if _started:
        return
    path = browser_path()
    os.environ.setdefault("BROWSER_PATH", path)  # choreographer's own lookup, never a download
    page = kaleido.PageGenerator(plotly=(PLOTLY_JS.as_uri(), "utf-8"), mathjax=False)
    _Chromium.fontconfig_file = _write_fontconfig()
    kaleido.start_sync_server(
        n=1,
        timeout=RENDER_TIMEOUT_S,
        page_generator=page,
        path=path,
        browser_cls=_Chromium,
        silence_warnings=True,
    )
    _started = True


def stop() -> None:
    """Close the shared browser (a later export starts it again)."""
    global _started
    with _lock:
        if _started:
            kaleido.stop_sync_server(silence_warnings=True)
            _started = False


def render(fig: go.Figure, fmt: str, width: int | None = None, height: int | None = None) -> bytes:
    """`fig` as PNG, SVG or self-contained HTML bytes, `width` × `height` CSS pixels
    (default: the figure's own size, which every builder sets)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use one of {list(FORMATS)}")
    width = int(width or fig.layout.width or 1200)
    height = int(height or fig.layout.height or 675)
    begin = time.perf_counter()
    if fmt == "html":
        out = _html(fig, width, height)
    else:
        spec = fig.to_plotly_json()
        with _lock:
            _start_locked()
            out = kaleido.calc_fig_sync(
                spec,
                opts=dict(format=fmt, width=width, height=height, scale=1),
                topojson=TOPOJSON_FILE_URL,
            )
    last_timings[fmt] = time.perf_counter() - begin
    return out


def export_chart(
    name: str,
    picture: Picture,
    lang: str = "vi",
    size: Size = "web",
    fmt: str = "png",
    **options: Any,
) -> bytes:
    """Build chart `name` for `picture` and render it: what an export route needs."""
    width, height = size_px(size)
    return render(build(name, picture, lang, size, **options), fmt, width, height)


def filename(name: str, picture: Picture, lang: str, size: Size, fmt: str) -> str:
    """ "votewire-map-vi-web-20210523-1500.png": the moment shown, in the election's zone."""
    local = i18n.to_local(picture_moment(picture))
    moment = f"{local:%Y%m%d-%H%M}" if local else "nodata"
    size_name = size if isinstance(size, str) else "x".join(map(str, size))
    return f"votewire-{name}-{lang}-{size_name}-{moment}.{fmt}"


# --- HTML ------------------------------------------------------------------------------


def _font_face_css() -> str:
    """The vendored @font-face rules with each woff2 inlined as a data: URL."""
    css = (FONTS_DIR / "fonts.css").read_text(encoding="utf-8")

    def inline(match: re.Match[str]) -> str:
        data = base64.b64encode((FONTS_DIR / match.group(1)).read_bytes()).decode("ascii")
        return f"url(data:font/{match.group(2)};base64,{data})"

    return re.sub(r"url\(\./([^)]+\.(woff2|otf))\)", inline, css)


def _html(fig: go.Figure, width: int, height: int) -> bytes:
    fig = go.Figure(fig)
    fig.update_layout(width=width, height=height)
    title = re.sub(r"<[^>]+>", "", fig.layout.title.text or "votewire")
    meta = fig.layout.meta
    lang = (meta.get("lang") if isinstance(meta, dict) else None) or i18n.DEFAULT_LANG
    body = fig.to_html(
        full_html=True,
        include_plotlyjs=True,
        include_mathjax=False,
        config={"displaylogo": False, "responsive": False},
    )
    head = (
        f"<title>{html.escape(title)}</title>\n"
        f"<style>{_font_face_css()}\nbody{{margin:0}}</style>\n"
        # Plotly looks here before fetching world_110m.json from its CDN.
        f"<script>window.PlotlyGeoAssets={{topojson:{{world_110m:{json.dumps(TOPOJSON_STUB)}}}}};"
        "</script>\n"
    )
    body = body.replace("<html>", f'<html lang="{html.escape(lang)}">', 1)
    body = body.replace("</head>", head + "</head>", 1)
    return body.encode("utf-8")


# --- data exports ----------------------------------------------------------------------


def picture_csv(picture: Picture, lang: str = "vi") -> str:
    """One row per province (`CSV_FIELDS`, names in `lang`), then the national row (code
    "VN"). Nulls stay empty cells, never 0; figures are unrounded. For Excel, prefix a BOM."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_FIELDS)

    def cell(value: Any) -> Any:
        return "" if value is None else value

    for p in picture["provinces"]:
        writer.writerow(
            [
                cell(p.get(f)) if f != "name" else i18n.province_name(p["code"], lang)
                for f in CSV_FIELDS
            ]
        )
    nat = picture.get("national") or {}
    writer.writerow(
        [
            NATIONAL_CODE,
            i18n.label("national", lang),
            cell(nat.get("voted")),
            cell(nat.get("registered")),
            cell(nat.get("turnout_pct")),
            cell(picture_moment(picture)),
            cell(nat.get("areas_done")),
            cell(nat.get("areas_total")),
            cell(nat.get("revote_units")),
        ]
    )
    return out.getvalue()


def picture_json(picture: Picture, *, indent: int | None = None) -> str:
    """The picture as UTF-8 JSON text (diacritics kept, not escaped)."""
    return json.dumps(picture, ensure_ascii=False, indent=indent)
