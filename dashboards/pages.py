"""Where the pages' templates and static files live, and the one Jinja2 environment that
renders them (autoescaped: bureau text is never HTML)."""

from __future__ import annotations

from pathlib import Path

import jinja2

DASHBOARDS = Path(__file__).resolve().parent
STATIC_DIR = DASHBOARDS / "static"
TEMPLATES_DIR = DASHBOARDS / "templates"

env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(template: str, **context) -> str:
    return env.get_template(template).render(**context)
