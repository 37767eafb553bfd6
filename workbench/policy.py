"""Agency policy profiles (TOML): load, validate, and store in the database where the SQL guard reads them."""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigurationError

PROFILE_DIR = Path(__file__).parent / "profiles"
ROLES = ("data_user", "administrator", "supervisor", "trainer", "feeder")
AGENCY_TYPES = ("law_enforcement", "prosecutorial")

# (dotted path, expected type): the fields the database functions rely on.
REQUIRED_FIELDS: tuple[tuple[str, type | tuple[type, ...]], ...] = (
    ("agency.key", str),
    ("agency.name", str),
    ("agency.seed", str),
    ("agency.jurisdiction_bbox", list),
    ("agency.map_center", list),
    ("agency.time_zone", str),
    ("case_number.pattern", str),
    ("case_number.description", str),
    ("case_number.template", str),
    ("case_number.require_registry", bool),
    ("purposes.authorized", dict),
    ("purposes.prohibited", dict),
    ("justification.min_length", int),
    ("justification.refused", list),
    ("justification.min_distinct_words", int),
    ("justification.placeholders", list),
    ("justification.prohibited_text", dict),
    ("access.session_hours", (int, float)),
    ("access.roles_with_data_access", list),
    ("access.require_supervisor_authorization", bool),
    ("access.budget.reads_per_day", int),
    ("access.budget.plates_per_day", int),
    ("access.budget.reads_per_case", int),
    ("access.budget.plates_per_case", int),
    ("access.budget.harvest_factor", (int, float)),
    ("access.budget.harvest_min_plates", int),
    ("access.limits.statement_timeout", dict),
    ("access.limits.lock_timeout", dict),
    ("access.limits.idle_in_transaction_timeout", dict),
    ("access.limits.connections_per_login", int),
    ("access.limits.data_user_connections", int),
    ("access.limits.lockout_after_failures", int),
    ("access.limits.lockout_window_minutes", int),
    ("schedule.watch_every_seconds", int),
    ("schedule.checkpoint_every_minutes", int),
    ("schedule.retention", str),
    ("schedule.hotlist_matching", str),
    ("schedule.hotlist_match_days", int),
    ("schedule.transfer_check", str),
    ("associates.purposes", list),
    ("associates.max_window_days", int),
    ("associates.approval_window_days", int),
    ("associates.max_within_seconds", int),
    ("associates.adjacent_m", (int, float)),
    ("associates.max_target_reads", int),
    ("associates.max_associates", int),
    ("transfers.max_days_between", int),
    ("transfers.max_clock_skew_minutes", int),
    ("training.course", str),
    ("training.validity_days", int),
    ("training.reorientation_after_days", int),
    ("training.pass_mark", float),
    ("training.attempts_per_day", int),
    ("training.cooldown_minutes", int),
    ("training.notify_trainer_after_failures", int),
    ("retention.purge_after", str),
    ("audit.retain_years", int),
    ("audit.approval_area_km2", float),
    ("audit.approval_window_hours", int),
    ("audit.require_scope_approval", bool),
    ("audit.flag_sensitive_places", bool),
    ("audit.flag_weights", dict),
    ("search.min_known_characters", int),
    ("search.max_window_days", int),
    ("search.max_canvass_radius_m", int),
    ("search.max_canvass_window_hours", int),
    ("search.max_scenes", int),
    ("search.max_result_rows", int),
    ("search.max_plates_without_area", int),
    ("search.max_plates_without_approval", int),
    ("sharing.allowed_agency_types", list),
    ("sharing.require_interagency_agreement", bool),
    ("sharing.refuse_out_of_state", bool),
    ("sharing.refuse_federal", bool),
    ("deleted_data.qualifying_categories", list),
)

_CRON = re.compile(r"^\s*[0-9*/,\-]+(\s+[0-9*/,\-A-Za-z]+){4}\s*$")
_INTERVAL = re.compile(r"^\s*(\d+\s+(years?|months?|days?|hours?|minutes?)\s*)+$")


@dataclass(frozen=True)
class Profile:
    """A validated profile; ``data`` is the parsed TOML, stored in the database as jsonb."""

    key: str
    data: dict[str, Any]
    source: Path

    @property
    def sha256(self) -> str:
        return hashlib.sha256(json.dumps(self.data, sort_keys=True).encode()).hexdigest()

    def purposes(self) -> dict[str, str]:
        """Authorized purpose key -> label."""
        return {key: value["label"] for key, value in self.data["purposes"]["authorized"].items()}

    def case_number(self, seq: int, year: int) -> str:
        return self.data["case_number"]["template"].format(yy=f"{year % 100:02d}", seq=seq)


def known_profiles() -> list[str]:
    return sorted(path.stem for path in PROFILE_DIR.glob("*.toml"))


def _get(data: dict[str, Any], dotted: str) -> Any:
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(dotted)
        node = node[part]
    return node


def validate(data: dict[str, Any], source: str) -> None:
    """Raise ConfigurationError naming the first bad field."""
    for dotted, expected in REQUIRED_FIELDS:
        try:
            value = _get(data, dotted)
        except KeyError:
            raise ConfigurationError(f"profile {source}: missing field `{dotted}`") from None
        if isinstance(value, bool) and expected is not bool:
            raise ConfigurationError(f"profile {source}: field `{dotted}` expected {expected}, got a boolean")
        if not isinstance(value, expected):
            raise ConfigurationError(
                f"profile {source}: field `{dotted}` expected {getattr(expected, '__name__', expected)}, "
                f"got {type(value).__name__} {value!r}")
    try:
        re.compile(data["case_number"]["pattern"])
    except re.error as exc:
        raise ConfigurationError(f"profile {source}: field `case_number.pattern` is not a valid regex: {exc}") from None
    if not data["purposes"]["authorized"]:
        raise ConfigurationError(f"profile {source}: field `purposes.authorized` lists no purpose")
    for group in ("authorized", "prohibited"):
        for key, value in data["purposes"][group].items():
            if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
                raise ConfigurationError(f"profile {source}: purpose key `purposes.{group}.{key}` must be snake_case")
            if not isinstance(value, dict) or not isinstance(value.get("label"), str):
                raise ConfigurationError(f"profile {source}: field `purposes.{group}.{key}.label` is missing")
    unknown_purposes = [key for key in data["associates"]["purposes"] if key not in data["purposes"]["authorized"]]
    if unknown_purposes:
        raise ConfigurationError(f"profile {source}: field `associates.purposes` names {unknown_purposes}, which "
                                 "are not authorized purposes of this profile")
    overlap = set(data["purposes"]["authorized"]) & set(data["purposes"]["prohibited"])
    if overlap:
        raise ConfigurationError(f"profile {source}: purposes {sorted(overlap)} are both authorized and prohibited")
    for role in data["access"]["roles_with_data_access"]:
        if role not in ROLES:
            raise ConfigurationError(f"profile {source}: field `access.roles_with_data_access` has unknown role "
                                     f"{role!r}; known: {list(ROLES)}")
    for agency_type in data["sharing"]["allowed_agency_types"]:
        if agency_type not in AGENCY_TYPES:
            raise ConfigurationError(f"profile {source}: field `sharing.allowed_agency_types` has {agency_type!r}; "
                                     f"sharing is for {list(AGENCY_TYPES)} only")
    for dotted in ("retention.purge_after", "retention.logical_delete_after", "retention.legal_hold_reverify_after"):
        try:
            value = _get(data, dotted)
        except KeyError:
            continue
        if not isinstance(value, str) or not _INTERVAL.match(value):
            raise ConfigurationError(f"profile {source}: field `{dotted}` = {value!r} is not an interval "
                                     "like '2 years' or '5 years 24 hours 1 minute'")
    for flag, weight in data["audit"]["flag_weights"].items():
        if isinstance(weight, bool) or not isinstance(weight, int) or not 0 <= weight <= 100:
            raise ConfigurationError(f"profile {source}: field `audit.flag_weights.{flag}` must be a whole number "
                                     f"0-100, got {weight!r}")
    if not 0 < data["training"]["pass_mark"] <= 1:
        raise ConfigurationError(f"profile {source}: field `training.pass_mark` must be in (0, 1]")
    try:
        ZoneInfo(data["agency"]["time_zone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(f"profile {source}: field `agency.time_zone` = {data['agency']['time_zone']!r} is not "
                                 "an IANA time zone like 'America/Los_Angeles'") from None
    for key, rule in data["justification"]["prohibited_text"].items():
        if key not in data["purposes"]["prohibited"]:
            raise ConfigurationError(f"profile {source}: field `justification.prohibited_text.{key}` names no "
                                     "prohibited purpose of this profile")
        if not isinstance(rule, dict) or rule.get("action") not in ("refuse", "flag") \
                or not isinstance(rule.get("terms"), list) or not all(isinstance(t, str) and t for t in rule["terms"]):
            raise ConfigurationError(f"profile {source}: field `justification.prohibited_text.{key}` must be "
                                     "{ action = \"refuse\" or \"flag\", terms = [regular expressions] }")
    budget = data["access"]["budget"]
    for key, value in budget.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ConfigurationError(f"profile {source}: field `access.budget.{key}` must be a positive number, "
                                     f"got {value!r}")
    for setting in ("statement_timeout", "lock_timeout", "idle_in_transaction_timeout"):
        by_role = data["access"]["limits"][setting]
        for role, value in by_role.items():
            if role not in ROLES or not isinstance(value, str) or not re.fullmatch(r"\d+(ms|s|min|h)?", value):
                raise ConfigurationError(f"profile {source}: field `access.limits.{setting}.{role}` must be a role and a "
                                         f"duration like '60s' or '0' (none), got {value!r}")
    if data["search"]["max_plates_without_area"] > data["search"]["max_plates_without_approval"]:
        raise ConfigurationError(f"profile {source}: field `search.max_plates_without_area` is above "
                                 "`search.max_plates_without_approval`")
    for job in ("retention", "hotlist_matching", "transfer_check"):
        if not _CRON.match(data["schedule"][job]):
            raise ConfigurationError(f"profile {source}: field `schedule.{job}` = {data['schedule'][job]!r} is not a "
                                     "cron line of five fields like '15 3 * * *'")
    polygon = data["agency"].get("jurisdiction_polygon")
    if polygon is not None and (not isinstance(polygon, list) or len(polygon) < 3 or not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(v, int | float) for v in p) for p in polygon)):
        raise ConfigurationError(f"profile {source}: field `agency.jurisdiction_polygon` must be at least three "
                                 "[lon, lat] corners")
    bbox = data["agency"]["jurisdiction_bbox"]
    if len(bbox) != 4 or not (-180 <= bbox[0] < bbox[2] <= 180 and -90 <= bbox[1] < bbox[3] <= 90):
        raise ConfigurationError(f"profile {source}: field `agency.jurisdiction_bbox` must be "
                                 "[min_lon, min_lat, max_lon, max_lat]")


def load_profile(name_or_path: str | Path) -> Profile:
    """A built-in profile by name, or an agency's own TOML file by path."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        if str(name_or_path) not in known_profiles():
            raise ConfigurationError(f"unknown policy profile {str(name_or_path)!r}; known profiles: "
                                     f"{', '.join(known_profiles())} (or WORKBENCH_POLICY_FILE=your.toml)")
        path = PROFILE_DIR / f"{name_or_path}.toml"
    if not path.exists():
        raise ConfigurationError(f"policy profile file {path} does not exist")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"profile {path.name}: not valid TOML: {exc}") from None
    validate(data, path.name)
    return Profile(data["agency"]["key"], data, path)


def profile_from_settings(settings) -> Profile:
    return load_profile(settings.policy_file or settings.policy)
