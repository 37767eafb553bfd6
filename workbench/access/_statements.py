"""Named statements from sql/client/api_calls.sql."""

from __future__ import annotations

import re
from functools import cache

from sqlalchemy import TextClause, text

from ..migrate import sql_file


@cache
def _all() -> dict[str, str]:
    blocks = re.split(r"^-- name: (\w+)\s*$", sql_file("client/api_calls.sql"), flags=re.MULTILINE)
    return {blocks[i]: blocks[i + 1].strip() for i in range(1, len(blocks), 2)}


def statement(name: str) -> TextClause:
    return text(_all()[name])
