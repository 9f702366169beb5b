"""Logging: plain lines for a terminal, or JSON lines (`VOTEWIRE_LOG_FORMAT=json`) for a log
collector. Report events carry `report_id`, `seq`, `kind` and `province` as fields. Tokens
are never logged (tests/test_security.py checks it).

One record is one line, whatever a client sent: control characters (newlines included),
the Unicode line and paragraph separators and the bidirectional controls are escaped
(`escape`: `\\n`, `\\x1b`, `\\u2028`, …), in the text format and in JSON (where `json`
escapes the C0 range and this the rest), so a name or a note cannot forge a line or
reorder one on a terminal. A traceback's lines are indented under their record.

Records made while a request is served name the token that made it (`token_id`, from
`acting_token`, set by `server.auth` once it knows the caller): the text format appends
`token_id=<n>`, the JSON format has the field.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from contextvars import ContextVar

FIELDS = ("report_id", "seq", "kind", "province", "token_id")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"

acting_token: ContextVar[int | None] = ContextVar("acting_token", default=None)
"""The id of the token whose request (or socket) the current task serves."""

UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""C0 and C1 controls, DEL, line/paragraph separators, bidirectional controls."""
SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    if char in SHORT:
        return SHORT[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape(text: str) -> str:
    """`text` on one line, with nothing that could move the cursor or reorder the line."""
    return UNSAFE.sub(_escaped, text)


def _json_escaped(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def _indented(text: str) -> str:
    """A multi-line block (a traceback) under its record: every line escaped and indented,
    so none can pass for a record of its own."""
    return "\n".join("    " + escape(line) for line in text.split("\n"))


class ActingToken(logging.Filter):
    """Adds `token_id` (the acting token, `acting_token`) to records that lack it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "token_id"):
            token_id = acting_token.get()
            if token_id is not None:
                record.token_id = token_id
        return True


class TextFormatter(logging.Formatter):
    """`<time> <level> <logger> <message> [token_id=<n>]`, the message escaped."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        record.message = escape(record.getMessage())
        record.asctime = self.formatTime(record, self.datefmt)
        line = self.formatMessage(record)
        if getattr(record, "token_id", None) is not None:
            line += f" token_id={escape(str(record.token_id))}"
        if record.exc_info:
            line += "\n" + _indented(self.formatException(record.exc_info))
        if record.stack_info:
            line += "\n" + _indented(self.formatStack(record.stack_info))
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in FIELDS:
            if hasattr(record, name):
                out[name] = getattr(record, name)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return UNSAFE.sub(_json_escaped, json.dumps(out, ensure_ascii=False, default=str))


def handler(fmt: str = "text", stream=None) -> logging.Handler:
    """A stream handler (stderr by default) writing `fmt` ("text" or "json") lines."""
    out = logging.StreamHandler(stream)
    if fmt == "json":
        formatter: logging.Formatter = JsonFormatter()
        formatter.converter = time.gmtime
    else:
        formatter = TextFormatter()
    out.setFormatter(formatter)
    out.addFilter(ActingToken())
    return out


def setup(level: str | None = None, fmt: str | None = None) -> None:
    level = level or os.environ.get("VOTEWIRE_LOG", "INFO")
    fmt = fmt or os.environ.get("VOTEWIRE_LOG_FORMAT", "text")
    logging.basicConfig(level=level, handlers=[handler(fmt)], force=True)
