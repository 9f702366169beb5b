"""Logging: plain lines for a terminal, or JSON lines (`VOTEWIRE_LOG_FORMAT=json`) for a log
collector. Report events carry `report_id`, `seq`, `kind` and `province` as fields. Tokens
are never logged (tests/test_security.py checks it)."""

from __future__ import annotations

import json
import logging
import os
import time

FIELDS = ("report_id", "seq", "kind", "province", "token_id")


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
        return json.dumps(out, ensure_ascii=False)


def setup(level: str | None = None, fmt: str | None = None) -> None:
    level = level or os.environ.get("VOTEWIRE_LOG", "INFO")
    fmt = fmt or os.environ.get("VOTEWIRE_LOG_FORMAT", "text")
    handler = logging.StreamHandler()
    if fmt == "json":
        formatter: logging.Formatter = JsonFormatter()
        formatter.converter = time.gmtime
    else:
        formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    handler.setFormatter(formatter)
    logging.basicConfig(level=level, handlers=[handler], force=True)
