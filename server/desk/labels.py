"""The desk's words: its pages speak Vietnamese, or English with `?lang=en`."""

from __future__ import annotations

from starlette.requests import Request

from dashboards import i18n


def desk_lang(request: Request) -> str:
    return "en" if request.query_params.get("lang") == "en" else "vi"


def desk_labels(lang: str) -> dict[str, str]:
    """The one catalogue (dashboards/catalogue.py) in the desk's language."""
    return i18n.catalogue("en" if lang == "en" else "vi")
