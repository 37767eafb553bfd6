"""Hot-list files from an agency's records system (CSV: plate, state, reason, source, expiry).

Only the shape of the file is checked here; the database validates every entry again and refuses the
whole file, naming the rows to fix, when one is bad (``api.hotlist_import``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .errors import InvalidQuery

REQUIRED_COLUMNS = ("plate", "reason")
OPTIONAL_COLUMNS = ("state", "source", "expires_at")
_ALIASES = {"expiry": "expires_at", "expires": "expires_at", "expiration": "expires_at", "plate_number": "plate",
            "license_plate": "plate"}


def read_hotlist(source: str | Path | pd.DataFrame) -> list[dict[str, str | None]]:
    """Entries of a hot-list CSV (or DataFrame) as dicts for ``Workbench.import_hotlist``."""
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
    else:
        path = Path(source)
        if not path.is_file():
            raise InvalidQuery(f"no hot-list file at {path}", reason="invalid_hotlist")
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
            raise InvalidQuery(f"{path.name} is not a readable CSV file: {exc}", reason="invalid_hotlist") from None
    frame.columns = [_ALIASES.get(str(c).strip().lower(), str(c).strip().lower()) for c in frame.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise InvalidQuery(f"the hot list needs the column(s) {', '.join(missing)}; it has {', '.join(frame.columns)}",
                           reason="invalid_hotlist")
    keep = [c for c in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if c in frame.columns]
    return [{column: _text(value) for column, value in row.items()} for row in frame[keep].to_dict("records")]


def _text(value: object) -> str | None:
    """Blank cells and missing values become None (the database then names the row)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value).strip()
    return text or None
