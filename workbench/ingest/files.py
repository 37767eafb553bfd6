"""One export file into the store: read and shape it (refused whole if it is not what its format says), stage
its rows with COPY into a table only this login may write, then one audited call validates, de-duplicates and
stores them (api.finish_import). A progress bar follows the file; the counts come after the record commits."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..digests import file_sha256
from ..errors import InvalidQuery, WorkbenchError
from .formats import STAGING_COLUMNS, detect_format, parse_file
from .mapping import load_mapping

if TYPE_CHECKING:
    from ..access.imports import ImportCalls, ImportReport

COPY_CHUNK_ROWS = 200_000
SOURCE_KINDS = ("fixed", "mobile", "commercial", "shared")


def staging_csv(frame: pd.DataFrame) -> bytes:
    """Rows in the staging columns as the CSV that COPY reads (pyarrow writes it: a million rows in about a second)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    def text(column: str) -> pa.Array:
        values = frame[column]
        return pa.array(values.where(values.notna(), None).tolist() if values.dtype == object else values,
                        type=pa.string(), from_pandas=True)

    images = frame["image"]
    image_hex = [None if v is None or (isinstance(v, float) and np.isnan(v)) else "\\x" + bytes(v).hex()
                 for v in images] if images.notna().any() else [None] * len(frame)
    read_at = pd.to_datetime(frame["read_at"], utc=True)
    table = pa.table({
        "line_no": pa.array(frame["line_no"].to_numpy(dtype=np.int32)),
        "plate_raw": text("plate_raw"),
        "read_at": pa.array(read_at.dt.tz_convert("UTC").astype("datetime64[us, UTC]"), type=pa.timestamp("us", tz="UTC")),
        "lat": pa.array(frame["lat"].astype("float64"), from_pandas=True),
        "lon": pa.array(frame["lon"].astype("float64"), from_pandas=True),
        "camera_id": text("camera_id"),
        "heading_deg": pa.array(frame["heading_deg"].astype("float64"), from_pandas=True),
        "confidence": pa.array(frame["confidence"].astype("float64"), from_pandas=True),
        "state": text("state"), "vehicle_make": text("vehicle_make"), "vehicle_color": text("vehicle_color"),
        "vendor_read_id": text("vendor_read_id"),
        "image": pa.array(image_hex, type=pa.string()),
        "reject_reason": text("reject_reason"), "raw_row": text("raw_row"),
    })
    out = io.BytesIO()
    pacsv.write_csv(table, out, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    return out.getvalue()


def import_file(client: ImportCalls, path: Path, source_kind: str, *, fmt: str | None = None, mapping=None,
                source_name: str | None = None, progress: bool = True) -> ImportReport:
    """Import ``path`` for the source ``source_name`` (default: the kind itself, e.g. ``fixed``). An
    administrator's import registers a missing source of that kind; a feeder's needs it registered."""
    from tqdm.auto import tqdm

    if source_kind not in SOURCE_KINDS:
        raise WorkbenchError(f"--source is the kind of source: {', '.join(SOURCE_KINDS)} (got {source_kind!r})")
    path = Path(path)
    loaded_mapping = load_mapping(mapping) if mapping is not None else None
    chosen = "mapping" if loaded_mapping is not None else (fmt or detect_format(path))
    name = source_name or source_kind
    steps = tqdm(total=4, desc=f"importing {path.name}", unit="step", disable=not progress)
    try:
        steps.set_postfix_str("reading")
        digest = file_sha256(path)
        batch = parse_file(path, chosen, loaded_mapping)
        steps.update()
        try:
            import_id, staging_table = client.begin_import(name, chosen, path.name, digest)
        except InvalidQuery as refused:
            # An administrator's first import of a kind registers its source; a feeder's must exist already.
            if refused.reason != "unknown_source" or client.whoami().get("role") != "administrator":
                raise
            client.register_source(name, source_kind)
            import_id, staging_table = client.begin_import(name, chosen, path.name, digest)
        try:
            steps.set_postfix_str(f"staging {len(batch.frame):,} rows")
            rows = tqdm(total=len(batch.frame), desc="staging", unit="row", leave=False, disable=not progress)
            for start in range(0, len(batch.frame), COPY_CHUNK_ROWS):
                chunk = batch.frame.iloc[start:start + COPY_CHUNK_ROWS]
                client.copy_staged(staging_table, staging_csv(chunk), STAGING_COLUMNS)
                rows.update(len(chunk))
            rows.close()
            steps.update()
        except BaseException as exc:
            try:
                client.abandon_import(import_id, f"staging failed: {exc}"[:400])
            except WorkbenchError:
                pass  # the database is gone too; its staging table is dropped after two days
            raise
        steps.set_postfix_str("validating and storing (one audited call)")
        report = client.finish_import(import_id, name, batch.not_reads)
        steps.update(2)
        return report
    finally:
        steps.close()
