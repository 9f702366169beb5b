"""The contract's refusals, one family, mapped to the wire in one place (`ContractError.to_wire`).

    ContractError            code        meaning
    ├── Invalid              invalid     bad JSON, wrong shape or type, out of range, …
    ├── Forbidden            forbidden   province not yours / role may not do this
    ├── Regression           regression  turnout lower than the accepted figure
    ├── RateLimited          rate_limited
    ├── TooLarge             too_large   frame over 64 KiB
    ├── Unavailable          unavailable database down: retry later, nothing stored
    └── AuthFailed           auth_failed unknown or revoked token (socket closes 4401)

Every message is bilingual: Vietnamese first, then English, separated by " / ". The texts
live in one table, `ingest.refusals.MESSAGES`, by code, field and reason: a refusal is
raised by its key, `Invalid.of("as_of", "future", id=report.id)`, with `{slots}` as keyword
arguments (`ContractError(vi, en, field=…)` still takes the two texts as they are).

A refusal is always encodable as UTF-8: an `id` holding a lone UTF-16 surrogate (which JSON
can escape but UTF-8 cannot carry) is answered as null, like an unreadable id, and such
surrogates quoted in a field name or message become U+FFFD. (`ingest.messages.loads`
refuses them first; this is the guard for every other path that echoes client text.)
"""

from __future__ import annotations

import re
from typing import Any, Self

from ingest import refusals

_SURROGATE = re.compile("[\ud800-\udfff]")


def encodable(text: str) -> bool:
    """Whether `text` can be sent as UTF-8 (it holds no lone UTF-16 surrogate)."""
    return _SURROGATE.search(text) is None


def printable(text: str) -> str:
    """`text` with any lone surrogate replaced by U+FFFD, so it can be echoed."""
    return _SURROGATE.sub("\ufffd", text)


class ContractError(Exception):
    code = "invalid"
    retry_after_s: float | None = None
    """For `rate_limited` / `unavailable`: seconds before a retry can succeed (HTTP's
    `Retry-After`); None = the server's default; 0 = waiting will not help (no header)."""

    def __init__(
        self,
        vi: str,
        en: str,
        *,
        field: str | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(en)
        self.message_vi = printable(vi)
        self.message_en = printable(en)
        self.field = None if field is None else printable(field)
        self.id = id if id is None or encodable(id) else None

    @classmethod
    def of(
        cls,
        field: str | None = None,
        reason: str = "",
        *,
        id: str | None = None,
        **values: Any,
    ) -> Self:
        """This refusal with its message from `refusals.MESSAGES`: the most precise of
        `code.field.reason`, `code.*.reason`, `code.field`, `code`; `{field}` and the other
        `{slots}` filled from `field` and `values`."""
        key = refusals.lookup(cls.code, field, reason)
        vi, en = refusals.render(key, **{"field": field, **values})
        return cls(vi, en, field=field, id=id)

    @property
    def message(self) -> str:
        return f"{self.message_vi} / {self.message_en}"

    def to_wire(self) -> dict[str, Any]:
        return {
            "type": "error",
            "id": self.id,
            "code": self.code,
            "field": self.field,
            "message": self.message,
            "message_vi": self.message_vi,
            "message_en": self.message_en,
        }


class Invalid(ContractError):
    code = "invalid"


class Forbidden(ContractError):
    code = "forbidden"


class Regression(ContractError):
    code = "regression"


class RateLimited(ContractError):
    code = "rate_limited"


class TooLarge(ContractError):
    code = "too_large"


class Unavailable(ContractError):
    code = "unavailable"


class AuthFailed(ContractError):
    code = "auth_failed"


def unavailable(id: str | None = None) -> Unavailable:
    return Unavailable.of(id=id)


def auth_failed() -> AuthFailed:
    return AuthFailed.of("token")


def too_large(limit: int, id: str | None = None) -> TooLarge:
    return TooLarge.of(id=id, limit=limit // 1024)
