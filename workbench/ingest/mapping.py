"""TOML mapping files: how an agency's other vendor CSV exports become the workbench layout.

A mapping names, for each workbench column, the vendor's column that holds it, and how its values read: the
time format and the zone the export's times are in (when they carry none), the confidence scale, the
delimiter and encoding. ``mappings/generic_fixed_camera.toml`` is a worked example.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from ..errors import ConfigurationError
from .formats import REQUIRED_COLUMNS, WORKBENCH_COLUMNS, FileFormatError

MAPPING_DIR = Path(__file__).parent / "mappings"


@dataclass(frozen=True)
class Mapping:
    name: str
    columns: dict[str, str]  # workbench column -> the vendor's column
    delimiter: str = ","
    encoding: str = "utf-8"
    time_format: str | None = None
    time_zone: str | None = None
    confidence_scale: float = 1.0
    source: Path | None = None

    def apply(self, frame: pd.DataFrame, file_name: str) -> pd.DataFrame:
        """The vendor's columns renamed to the workbench layout; the ones the mapping does not name dropped."""
        missing = [vendor for vendor in self.columns.values() if vendor not in frame.columns]
        if missing:
            raise FileFormatError(f"{file_name} lacks columns the mapping {self.name!r} names: {', '.join(missing)} "
                                  f"(it has: {', '.join(map(str, frame.columns[:20]))})")
        return frame[list(self.columns.values())].rename(columns={v: k for k, v in self.columns.items()})


def load_mapping(path: str | Path) -> Mapping:
    """A mapping file by path, or a shipped one by name (``generic_fixed_camera``)."""
    path = Path(path)
    if not path.suffix and (MAPPING_DIR / f"{path}.toml").exists():
        path = MAPPING_DIR / f"{path}.toml"
    if not path.is_file():
        raise ConfigurationError(f"mapping file {path} does not exist; shipped mappings: "
                                 f"{', '.join(p.stem for p in sorted(MAPPING_DIR.glob('*.toml')))}")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"mapping {path.name}: not valid TOML: {exc}") from None
    section = data.get("mapping")
    if not isinstance(section, dict):
        raise ConfigurationError(f"mapping {path.name}: needs a [mapping] table")
    columns = section.get("columns")
    if not isinstance(columns, dict) or not all(isinstance(v, str) and v for v in columns.values()):
        raise ConfigurationError(f"mapping {path.name}: [mapping.columns] maps workbench columns to the vendor's "
                                 "column names (text)")
    unknown = [key for key in columns if key not in WORKBENCH_COLUMNS]
    if unknown:
        raise ConfigurationError(f"mapping {path.name}: unknown workbench columns {', '.join(unknown)}; known: "
                                 f"{', '.join(WORKBENCH_COLUMNS)}")
    missing = [key for key in REQUIRED_COLUMNS if key not in columns]
    if missing:
        raise ConfigurationError(f"mapping {path.name}: [mapping.columns] must name {', '.join(missing)}")
    values = section.get("values", {})
    zone = values.get("time_zone")
    if zone is not None:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigurationError(f"mapping {path.name}: time_zone {zone!r} is not an IANA zone") from None
    scale = values.get("confidence_scale", 1)
    if isinstance(scale, bool) or not isinstance(scale, int | float) or scale <= 0:
        raise ConfigurationError(f"mapping {path.name}: confidence_scale must be a positive number (1 or 100)")
    delimiter = section.get("delimiter", ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise ConfigurationError(f"mapping {path.name}: delimiter must be one character")
    return Mapping(name=str(section.get("name", path.stem)), columns=dict(columns), delimiter=delimiter,
                   encoding=str(section.get("encoding", "utf-8")), time_format=values.get("time_format"),
                   time_zone=zone, confidence_scale=float(scale), source=path)
