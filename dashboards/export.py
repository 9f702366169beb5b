"""Chart and data exports: a figure → PNG / SVG / HTML bytes; a picture → CSV / JSON text.

PNG and SVG go through kaleido, which drives Debian's Chromium (`BROWSER_PATH`, default
`/usr/bin/chromium`; kaleido is never allowed to download a browser). One browser is
kept alive for the whole process (`_Browser`), started on first use: the first export
costs about 2 s, later ones about 0.2 s. Exports are serialised by a lock; `render`
blocks, so async callers should run it in a worker thread (e.g.
`starlette.concurrency.run_in_threadpool`).

Shutdown is bounded: the browser is closed at exit within `STOP_TIMEOUT_S`, whatever
state it is in. (kaleido's own sync server blocks its event loop on a queue between calls
and closes at exit with a join that has no timeout: when Chromium has already died of the
same SIGTERM, as with `systemctl stop`, which signals every process of the service, that
join never returned and `votewire serve` hung after "Closing browser".)

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

import asyncio
import atexit
import base64
import contextlib
import html
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Coroutine, MutableMapping
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
OPEN_TIMEOUT_S = 60
"""Longest the browser may take to start."""
STOP_TIMEOUT_S = 5
"""Longest closing the browser may take (at exit, or `stop`); then it is abandoned."""
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

log = logging.getLogger("votewire.export")
_lock = threading.Lock()
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
    """Chromium that also sees the vendored TTFs, through its own fontconfig file, in its
    own session: a signal to the server's process group is for the server, which closes
    the browser itself."""

    fontconfig_file: str | None = None

    def get_env(self) -> MutableMapping[str, str]:
        env = super().get_env()
        if self.fontconfig_file:
            env["FONTCONFIG_FILE"] = self.fontconfig_file
        return env

    def get_popen_args(self) -> MutableMapping[str, Any]:
        args = dict(super().get_popen_args())
        if os.name == "posix":
            args["start_new_session"] = True
        return args


class _Browser:
    """One `kaleido.Kaleido` (one headless Chromium) on its own event loop, in a daemon
    thread that idles in `run_forever`, so choreographer's watchdog runs between calls.
    Every call from outside has a deadline, closing included."""

    def __init__(self, **kaleido_args: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._serve, name="votewire-kaleido", daemon=True)
        self.thread.start()
        self.stack = contextlib.AsyncExitStack()
        try:
            self.kaleido = self.call(
                self.stack.enter_async_context(kaleido.Kaleido(**kaleido_args)), OPEN_TIMEOUT_S
            )
        except BaseException:
            self.close(STOP_TIMEOUT_S)
            raise

    def _serve(self) -> None:
        try:
            self.loop.run_forever()
        finally:
            self.loop.close()

    def call(self, coro: Coroutine[Any, Any, Any], timeout: float) -> Any:
        """Run `coro` on the browser's loop; TimeoutError after `timeout` seconds."""
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    def close(self, timeout: float) -> bool:
        """Close the browser within `timeout` s; False when it had to be abandoned (its
        thread is a daemon, and Chromium exits when its pipe to us closes)."""
        try:
            self.call(self.stack.aclose(), timeout)
            return True
        except Exception as exc:  # noqa: BLE001 - closing: nothing left to do but go
            log.warning("chart browser did not close within %ss (%r): abandoned", timeout, exc)
            return False
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout)


_browser: _Browser | None = None


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


def _start_locked() -> _Browser:
    global _browser
    if _browser is not None:
        return _browser
    path = browser_path()
    os.environ.setdefault("BROWSER_PATH", path)  # choreographer's own lookup, never a download
    page = kaleido.PageGenerator(plotly=(PLOTLY_JS.as_uri(), "utf-8"), mathjax=False)
    _Chromium.fontconfig_file = _write_fontconfig()
    _browser = _Browser(
        n=1, timeout=RENDER_TIMEOUT_S, page_generator=page, path=path, browser_cls=_Chromium
    )
    return _browser


def stop(timeout: float = STOP_TIMEOUT_S) -> bool:
    """Close the shared browser within about `timeout` s (a later export starts it again).
    False when it had to be abandoned. Also runs at exit."""
    global _browser
    if not _lock.acquire(timeout=timeout):  # an export is stuck: its own deadline applies
        log.warning("chart browser busy at shutdown: abandoned")
        return False
    try:
        browser, _browser = _browser, None
        return True if browser is None else browser.close(timeout)
    finally:
        _lock.release()


atexit.register(stop)


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
        opts = dict(format=fmt, width=width, height=height, scale=1)
        with _lock:
            browser = _start_locked()
            out = browser.call(
                browser.kaleido.calc_fig(spec, opts=opts, topojson=TOPOJSON_FILE_URL),
                RENDER_TIMEOUT_S + STOP_TIMEOUT_S,
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


def picture_json(picture: Picture, *, indent: int | None = None) -> str:
    """The picture as UTF-8 JSON text (diacritics kept, not escaped)."""
    return json.dumps(picture, ensure_ascii=False, indent=indent)
