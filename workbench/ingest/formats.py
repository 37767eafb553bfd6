"""Vendor exports shaped into the staging columns the database validates (api.finish_import).

Formats: ``workbench`` (the documented CSV or Parquet layout), ``openalpr`` (OpenALPR / Rekor agent
``alpr_group`` and ``alpr_results`` messages: a JSON array, one object, or JSON Lines as the agent's queue
writes them), ``frigate`` (Frigate's ``frigate/events`` messages and ``tracked_object_update`` LPR messages)
and ``mapping`` (any vendor CSV, through a TOML mapping file). A file that is not what its format says is
refused as a whole, before the store is touched; a row that cannot be read keeps its reason and comes along,
so the database keeps it as a rejected row (nothing is dropped on the way).
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import WorkbenchError

# What api.finish_import reads, in this order (the staging table's columns).
STAGING_COLUMNS = ("line_no", "plate_raw", "read_at", "lat", "lon", "camera_id", "heading_deg", "confidence", "state",
                   "vehicle_make", "vehicle_color", "vendor_read_id", "image", "reject_reason", "raw_row")

# The workbench layout: its columns, the ones it needs, and what each holds (README "Importing reads").
WORKBENCH_COLUMNS = {
    "plate": "the plate as read (any case; spaces, dashes and dots are ignored)",
    "read_at": "ISO 8601 with a time zone, e.g. 2026-11-03T14:05:09-08:00 or ...Z",
    "camera_id": "the camera or unit id as registered for the source",
    "lat": "WGS84 latitude (empty: the registered camera's)",
    "lon": "WGS84 longitude (empty: the registered camera's)",
    "heading_deg": "0-360, direction of travel or of the camera",
    "confidence": "0-1",
    "state": "two-letter state or province code",
    "vehicle_make": "text",
    "vehicle_color": "text",
    "image": "plate image: a JPEG/PNG file path relative to the export, or base64:<bytes>",
    "vendor_read_id": "the vendor's own id of the read (re-imports are matched on it)",
}
REQUIRED_COLUMNS = ("plate", "read_at", "camera_id")
FORMATS = ("workbench", "openalpr", "frigate", "mapping")

_ZONE_AT_END = r"(?:[Zz]|[+-]\d{2}(?::?\d{2})?)\s*$"


class FileFormatError(WorkbenchError):
    """A file is not what its format says (wrong columns, truncated or malformed JSON, not Parquet): refused
    whole, nothing written."""


@dataclass
class ReadBatch:
    """Rows in the staging columns (``frame``) and how many messages were not reads at all (heartbeats,
    events without a plate), which are counted and left out."""

    frame: pd.DataFrame
    not_reads: int = 0


def detect_format(path: Path) -> str:
    """``workbench`` for CSV/Parquet, ``openalpr`` or ``frigate`` for JSON by its first message."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".parquet", ".pq", ".txt"):
        return "workbench"
    if suffix in (".json", ".jsonl", ".ndjson"):
        for message in _json_messages(path, limit=1):
            return "frigate" if _is_frigate(message) else "openalpr"
        raise FileFormatError(f"{path.name} holds no JSON message")
    raise FileFormatError(f"{path.name}: give --format (workbench, openalpr, frigate) or a --mapping file; "
                          f"{suffix or 'no extension'} says nothing")


def parse_file(path: Path, fmt: str, mapping=None) -> ReadBatch:
    """The whole file in staging columns; raises FileFormatError when it is not what ``fmt`` says."""
    path = Path(path)
    if not path.is_file():
        raise FileFormatError(f"{path} does not exist or is not a file")
    if fmt == "workbench":
        frame = _read_parquet(path) if path.suffix.lower() in (".parquet", ".pq") else _read_csv(path, ",", "utf-8")
        return ReadBatch(_workbench_rows(frame, path, None))
    if fmt == "mapping":
        if mapping is None:
            raise FileFormatError("the mapping format needs a mapping file (--mapping vendor.toml)")
        frame = _read_csv(path, mapping.delimiter, mapping.encoding)
        return ReadBatch(_workbench_rows(mapping.apply(frame, path.name), path, mapping))
    if fmt == "openalpr":
        return messages_to_rows(_json_messages(path), "openalpr")
    if fmt == "frigate":
        return messages_to_rows(_json_messages(path), "frigate")
    raise FileFormatError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")


# ---------------------------------------------------------------- tables (CSV, Parquet, mapped CSV)

def _read_csv(path: Path, delimiter: str, encoding: str) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    head = path.read_bytes()[:4096]
    if b"\x00" in head:
        raise FileFormatError(f"{path.name} is not a text CSV (it holds binary bytes)")
    try:
        # Every column as text: the database and the rules below judge values, not the reader's guesses.
        names = pacsv.open_csv(path, read_options=pacsv.ReadOptions(encoding=encoding),
                               parse_options=pacsv.ParseOptions(delimiter=delimiter)).schema.names
        table = pacsv.read_csv(path, read_options=pacsv.ReadOptions(encoding=encoding),
                               parse_options=pacsv.ParseOptions(delimiter=delimiter),
                               convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                                   strings_can_be_null=True))
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise FileFormatError(f"{path.name} is not a well-formed CSV: {str(exc).strip()}") from None
    return table.to_pandas()


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.read_bytes()[:4] != b"PAR1":
        raise FileFormatError(f"{path.name} is not a Parquet file (it does not start with PAR1)")
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise FileFormatError(f"{path.name} is not a readable Parquet file: {exc}") from None
    frame = table.to_pandas()
    if "read_at" in frame and pd.api.types.is_datetime64_any_dtype(frame["read_at"]):
        # A timestamp column without a zone is a time without a zone: each row says so when it is rejected.
        frame["read_at"] = (frame["read_at"].map(lambda t: t.isoformat() if pd.notna(t) else None)
                            if frame["read_at"].dt.tz is None else frame["read_at"].dt.strftime("%Y-%m-%dT%H:%M:%S.%f%z"))
    return frame


def _check_columns(frame: pd.DataFrame, name: str) -> None:
    columns = [str(c) for c in frame.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    unknown = [c for c in columns if c not in WORKBENCH_COLUMNS]
    if missing or unknown:
        problems = []
        if missing:
            problems.append(f"missing {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown {', '.join(unknown[:8])}{'...' if len(unknown) > 8 else ''}")
        raise FileFormatError(f"{name} does not have the workbench layout's columns ({'; '.join(problems)}). The "
                              f"layout: {', '.join(WORKBENCH_COLUMNS)} (needed: {', '.join(REQUIRED_COLUMNS)}); a "
                              "vendor's own columns need a mapping file (--mapping, see docs/imports.md)")


def _text(series: pd.Series) -> pd.Series:
    """Stripped text, None for empty (vectorized: a million rows a column in a fraction of a second)."""
    present = series.notna()
    if series.dtype == object and present.any():
        if pd.api.types.infer_dtype(series, skipna=True) != "string":  # numbers from Parquet or JSON: as text
            series = series.map(lambda v: v if isinstance(v, str) else str(v)).where(present)
    elif present.any():
        series = series.astype(str)
    stripped = series.where(present).str.strip().astype("object")
    stripped[~(present & stripped.ne(""))] = None
    return stripped


def _workbench_rows(frame: pd.DataFrame, path: Path, mapping) -> pd.DataFrame:
    _check_columns(frame, path.name)
    count = len(frame)
    reasons = pd.Series([None] * count, dtype="object")

    def note(mask: pd.Series, reason: pd.Series | str) -> None:
        fresh = mask & reasons.isna()
        if fresh.any():
            reasons[fresh] = reason if isinstance(reason, str) else reason[fresh]

    out = pd.DataFrame({"line_no": np.arange(2, count + 2, dtype=np.int32)})  # line 1 is the header
    out["plate_raw"] = _text(frame["plate"]).values
    given_time = _text(frame["read_at"])
    out["read_at"] = _parse_times(given_time, mapping, note)
    for column, parsed in (("lat", None), ("lon", None), ("heading_deg", None), ("confidence", None)):
        if column in frame:
            given = _text(frame[column])
            parsed = pd.to_numeric(given, errors="coerce")
            bad = given.notna() & parsed.isna()
            note(bad, "unparseable " + column.replace("_deg", "") + ": " + given.where(bad, "").astype(str).str.slice(0, 40))
            if column == "confidence" and mapping is not None and mapping.confidence_scale != 1:
                parsed = parsed / mapping.confidence_scale
            out[column] = parsed.astype("float64").values
        else:
            out[column] = np.nan
    out["camera_id"] = _text(frame["camera_id"]).values
    out["state"] = _state_codes(_text(frame["state"])).values if "state" in frame else None
    for column in ("vehicle_make", "vehicle_color", "vendor_read_id"):
        out[column] = _text(frame[column]).values if column in frame else None
    if "image" in frame:
        images = [_image_bytes(v, path.parent) for v in _text(frame["image"])]
        out["image"] = [b for b, _ in images]
        note(pd.Series([r is not None for _, r in images]), pd.Series([r for _, r in images], dtype="object"))
    else:
        out["image"] = None
    out["reject_reason"] = reasons.values
    rejected = reasons.notna()
    raw = pd.Series([None] * count, dtype="object")
    if rejected.any():
        raw[rejected] = frame[rejected.values].astype("object").where(frame[rejected.values].notna(), None) \
            .apply(lambda row: json.dumps({str(k): v for k, v in row.items() if v is not None}, default=str), axis=1)
    out["raw_row"] = raw.values
    return out[list(STAGING_COLUMNS)]


def _parse_times(given: pd.Series, mapping, note) -> pd.Series:
    """UTC times; a time without a zone is refused (the mapping may name the zone its export is in)."""
    zone = mapping.time_zone if mapping is not None else None
    time_format = mapping.time_format if mapping is not None else None
    present = given.notna()
    if time_format:
        parsed = pd.to_datetime(given, format=time_format, errors="coerce")
        if parsed.dt.tz is None:
            if zone is None:
                note(present, "read time has no time zone (the mapping's time_zone names the export's)")
                return pd.Series(pd.NaT, index=given.index, dtype="datetime64[ns, UTC]")
            parsed = parsed.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
        parsed = parsed.dt.tz_convert("UTC")
        note(present & parsed.isna(), "unparseable read time: " + given.fillna("").astype(str).str.slice(0, 40))
        return parsed
    has_zone = pd.Series(_matches(given, _ZONE_AT_END), index=given.index)
    if zone is not None:
        naive = pd.to_datetime(given.where(present & ~has_zone), format="ISO8601", errors="coerce")
        localized = naive.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
    else:
        note(present & ~has_zone, "read time has no time zone: " + given.fillna("").astype(str).str.slice(0, 40))
        localized = pd.Series(pd.NaT, index=given.index, dtype="datetime64[ns, UTC]")
    zoned = pd.to_datetime(given.where(has_zone), format="ISO8601", utc=True, errors="coerce")
    parsed = zoned.where(has_zone, localized)
    note(present & parsed.isna(), "unparseable read time: " + given.fillna("").astype(str).str.slice(0, 40))
    return parsed


def _matches(texts: pd.Series, pattern: str) -> np.ndarray:
    """Which texts match ``pattern`` (RE2, by pyarrow: a Python regex per row cost over a second a million)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    found = pc.match_substring_regex(pa.array(texts, type=pa.string(), from_pandas=True), pattern)
    return pc.fill_null(found, False).to_numpy(zero_copy_only=False)


def _state_codes(texts: pd.Series) -> pd.Series:
    """_state_code of each text, vectorized."""
    import pyarrow as pa
    import pyarrow.compute as pc

    codes = pc.utf8_upper(pc.utf8_trim_whitespace(pa.array(texts, type=pa.string(), from_pandas=True)))
    codes = pc.replace_substring_regex(codes, pattern="^..-(.{2})$", replacement="\\1")
    result = pd.Series(codes.to_pandas(), index=texts.index, dtype="object")
    result[result.isna() | result.eq("")] = None
    return result


def _state_code(value: str | None) -> str | None:
    """'CA', 'ca', 'us-ca' -> 'CA'; anything else as given (the database refuses what is not two letters)."""
    if value is None:
        return None
    text = value.strip().upper()
    if len(text) == 5 and text[2] == "-":
        text = text[3:]
    return text or None


def _image_bytes(value: str | None, folder: Path) -> tuple[bytes | None, str | None]:
    """The image's bytes and why they cannot be used (or None)."""
    if value is None:
        return None, None
    if value.startswith("base64:"):
        try:
            content = base64.b64decode(value[7:], validate=True)
        except ValueError:
            return None, "image is not valid base64"
    else:
        file = (folder / value).resolve()
        if not file.is_relative_to(folder.resolve()):
            return None, f"image path leaves the export's folder: {value[:80]}"
        if not file.is_file():
            return None, f"image file not found: {value[:80]}"
        content = file.read_bytes()
    return (content, None) if _decodes(content) else (None, "image does not decode as JPEG or PNG")


def _decodes(content: bytes) -> bool:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(content)) as image:
            if image.format not in ("JPEG", "PNG"):
                return False
            image.load()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return False
    return True


# ---------------------------------------------------------------- JSON messages (OpenALPR/Rekor, Frigate)

def _json_messages(path: Path, limit: int | None = None) -> Iterator[dict[str, Any]]:
    """Messages of a JSON array, a single object, or JSON Lines; a truncated file raises with where it broke."""
    with path.open("rb") as handle:
        start = handle.read(1 << 16).lstrip()
    if not start:
        return
    if start[:1] not in (b"[", b"{"):
        raise FileFormatError(f"{path.name} is not JSON (it starts with {start[:20]!r})")
    text = path.read_text(encoding="utf-8", errors="strict") if start[:1] == b"[" else None
    if text is not None:
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FileFormatError(f"{path.name} is not complete JSON (truncated?): {exc.msg} at line {exc.lineno} "
                                  f"column {exc.colno}") from None
        for count, item in enumerate(items):
            if limit is not None and count >= limit:
                return
            yield _message(item, path.name, count + 1)
        return
    with path.open(encoding="utf-8") as handle:
        first = handle.readline()
        handle.seek(0)
        try:
            json.loads(first)
            lines = True
        except json.JSONDecodeError:
            lines = False  # one object over several lines
        if not lines:
            try:
                yield _message(json.load(handle), path.name, 1)
            except json.JSONDecodeError as exc:
                raise FileFormatError(f"{path.name} is not complete JSON (truncated?): {exc.msg} at line "
                                      f"{exc.lineno} column {exc.colno}") from None
            return
        for number, line in enumerate(handle, start=1):
            if limit is not None and number > limit:
                return
            if not line.strip():
                continue
            try:
                yield _message(json.loads(line), path.name, number)
            except json.JSONDecodeError as exc:
                raise FileFormatError(f"{path.name} line {number} is not complete JSON (truncated?): {exc.msg} "
                                      f"at column {exc.colno}") from None


def _message(item: Any, name: str, number: int) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise FileFormatError(f"{name} message {number} is a JSON {type(item).__name__}, not an object")
    return item


def _is_frigate(message: dict[str, Any]) -> bool:
    return "after" in message or message.get("type") == "lpr" or "recognized_license_plate" in message \
        or "recognized_license_plate" in (message.get("data") or {})


def _epoch(value: Any) -> pd.Timestamp | None:
    """Agents send milliseconds (epoch_start) or seconds (older epoch_time); both read as UTC."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    seconds = value / 1000.0 if value > 1e11 else float(value)
    try:
        return pd.Timestamp(seconds, unit="s", tz="UTC")
    except (OverflowError, ValueError):
        return None


def _top_name(candidates: Any) -> str | None:
    """Rekor's vehicle attributes: [{"name": "white", "confidence": 80.1}, ...] -> 'white'."""
    if isinstance(candidates, list) and candidates and isinstance(candidates[0], dict):
        name = candidates[0].get("name")
        return str(name) if name else None
    return str(candidates) if isinstance(candidates, str) and candidates else None


def _camera(message: dict[str, Any]) -> str | None:
    camera = message.get("camera_id")
    if camera is None:
        return None
    site = message.get("site_id")
    return f"{site}:{camera}" if site else str(camera)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _row(line_no: int, plate: Any, read_at: pd.Timestamp | None, camera: str | None, message: dict[str, Any], *,
         confidence: float | None, state: Any, vendor_id: Any, make=None, color=None, image_b64: Any = None,
         reason: str | None = None) -> dict[str, Any]:
    image = None
    if isinstance(image_b64, str) and image_b64:
        try:
            image = base64.b64decode(image_b64, validate=True)
        except ValueError:
            reason = reason or "image is not valid base64"
        else:
            if not _decodes(image):
                image, reason = None, reason or "image does not decode as JPEG or PNG"
    if read_at is None and reason is None:
        reason = "no read time (the message's epoch is missing or not a number)"
    lat = _number(message.get("gps_latitude"))
    lon = _number(message.get("gps_longitude"))
    return {
        "line_no": line_no, "plate_raw": str(plate) if plate not in (None, "") else None,
        "read_at": read_at, "lat": lat, "lon": lon, "camera_id": camera,
        "heading_deg": _number(message.get("travel_direction")),
        "confidence": confidence, "state": _state_code(str(state)) if state else None,
        "vehicle_make": make, "vehicle_color": color, "vendor_read_id": str(vendor_id) if vendor_id else None,
        "image": image, "reject_reason": reason,
        "raw_row": json.dumps(message, default=str)[:20000] if reason else None,
    }


def openalpr_rows(message: dict[str, Any], line_no: int) -> list[dict[str, Any]] | None:
    """Reads of one agent message (None: not a read, e.g. a heartbeat)."""
    kind = message.get("data_type")
    if kind == "alpr_group":
        best = message.get("best_plate") or {}
        plate = message.get("best_plate_number", best.get("plate"))
        confidence = _number(message.get("best_confidence", best.get("confidence")))
        vehicle = message.get("vehicle") or {}
        return [_row(line_no, plate, _epoch(message.get("epoch_start")), _camera(message), message,
                     confidence=confidence / 100.0 if confidence is not None else None,
                     state=message.get("best_region") or best.get("region"),
                     vendor_id=message.get("best_uuid") or (message.get("uuids") or [None])[0],
                     make=_top_name(vehicle.get("make")), color=_top_name(vehicle.get("color")),
                     image_b64=best.get("plate_crop_jpeg") or message.get("best_plate_jpeg"))]
    if kind == "alpr_results" or (kind is None and isinstance(message.get("results"), list)):
        rows = []
        for index, result in enumerate(message.get("results") or []):
            if not isinstance(result, dict):
                continue
            confidence = _number(result.get("confidence"))
            uuid = message.get("uuid")
            rows.append(_row(line_no, result.get("plate"), _epoch(result.get("epoch_time", message.get("epoch_time"))),
                             _camera(message), message,
                             confidence=confidence / 100.0 if confidence is not None else None,
                             state=result.get("region"), vendor_id=f"{uuid}#{index}" if uuid else None))
        return rows
    return None  # heartbeat, or another message type of the agent


def frigate_rows(message: dict[str, Any], line_no: int) -> list[dict[str, Any]] | None:
    """A Frigate message's read (None: no recognized plate, or not an object's event)."""
    if message.get("type") == "lpr":  # frigate/tracked_object_update
        plate, score, when, camera, object_id = (message.get("plate"), message.get("score"), message.get("timestamp"),
                                                 message.get("camera"), message.get("id"))
    else:
        event = message.get("after") or message
        data = event.get("data") or {}
        plate = event.get("recognized_license_plate", data.get("recognized_license_plate"))
        score = event.get("recognized_license_plate_score", data.get("recognized_license_plate_score"))
        if isinstance(plate, list | tuple) and plate:  # [plate, score] in some releases
            plate, score = plate[0], plate[1] if len(plate) > 1 else score
        when, camera, object_id = event.get("start_time"), event.get("camera"), event.get("id")
    if not plate:
        return None
    read_at = _epoch(when) if isinstance(when, int | float) and not isinstance(when, bool) else None
    score = _number(score)
    # One read per tracked object: its id is the vendor's read id, so later updates of it are duplicates.
    return [_row(line_no, plate, read_at, str(camera) if camera else None, message, confidence=score, state=None,
                 vendor_id=f"frigate:{object_id}" if object_id else None)]


def messages_to_rows(messages: Iterable[dict[str, Any]], fmt: str) -> ReadBatch:
    shape = openalpr_rows if fmt == "openalpr" else frigate_rows
    rows: list[dict[str, Any]] = []
    not_reads = 0
    for number, message in enumerate(messages, start=1):
        made = shape(message, number)
        if made is None:
            not_reads += 1
        else:
            rows.extend(made)
    frame = pd.DataFrame(rows, columns=list(STAGING_COLUMNS))
    if not frame.empty:
        frame["read_at"] = pd.to_datetime(frame["read_at"], utc=True)
    return ReadBatch(frame, not_reads)
