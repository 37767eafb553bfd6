"""Policy profiles: each loads, matches its seed, and bad ones fail naming the field."""

from __future__ import annotations

import copy
import re
import tomllib
from pathlib import Path

import pytest

from workbench.errors import ConfigurationError
from workbench.policy import PROFILE_DIR, known_profiles, load_profile, validate

SEEDS = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds"


def _normalized(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("*", "")).strip()


def _quotes(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key.endswith("quote") and isinstance(value, str):
                yield value
            else:
                yield from _quotes(value)


def test_five_seed_agencies_are_built_in():
    assert known_profiles() == ["downey", "lapd", "livermore", "long_beach", "manhattan_beach"]


@pytest.mark.skipif(not SEEDS.is_dir(), reason=f"the seed policies are not beside this clone ({SEEDS}); "
                    "CI has them, a user's clone need not")
@pytest.mark.parametrize("name", ["downey", "lapd", "livermore", "long_beach", "manhattan_beach"])
def test_every_quote_is_in_the_seed_policy(name):
    profile = load_profile(name)
    seed = _normalized((SEEDS / profile.data["agency"]["seed"]).read_text())
    quotes = list(_quotes(profile.data))
    assert len(quotes) >= 8
    for quote in quotes:
        assert _normalized(quote) in seed, f"{name}: {quote!r} is not in the seed"


@pytest.mark.parametrize(("name", "purge", "logical"), [
    ("lapd", "5 years 24 hours 1 minute", "2 years"), ("long_beach", "24 months", None),
    ("livermore", "1 year", None), ("manhattan_beach", "1 year", None), ("downey", "1 year", None)])
def test_retention_matches_the_seed(name, purge, logical):
    retention = load_profile(name).data["retention"]
    assert retention["purge_after"] == purge
    assert retention.get("logical_delete_after") == logical


def test_lapd_purposes_are_the_six_authorized_uses():
    assert set(load_profile("lapd").purposes()) == {
        "criminal_investigation", "non_criminal_investigation", "administrative_investigation",
        "civil_investigation", "situational_awareness", "cognizable_threat"}


def test_livermore_refuses_infractions():
    assert "infraction_enforcement" in load_profile("livermore").data["purposes"]["prohibited"]


def test_unknown_profile_lists_the_known_ones():
    with pytest.raises(ConfigurationError, match="known profiles: downey, lapd, livermore"):
        load_profile("gotham")


def _lapd():
    return tomllib.loads((PROFILE_DIR / "lapd.toml").read_text())


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda d: d["retention"].pop("purge_after"), "missing field `retention.purge_after`"),
    (lambda d: d["case_number"].update(pattern="(["), "case_number.pattern"),
    (lambda d: d["training"].update(pass_mark="high"), "training.pass_mark"),
    (lambda d: d["retention"].update(purge_after="forever"), "retention.purge_after"),
    (lambda d: d["sharing"].update(allowed_agency_types=["commercial"]), "sharing.allowed_agency_types"),
    (lambda d: d["access"].update(roles_with_data_access=["janitor"]), "access.roles_with_data_access"),
    (lambda d: d["purposes"]["prohibited"].update(criminal_investigation={"label": "x"}), "both authorized and prohibited"),
])
def test_bad_profiles_fail_naming_the_field(mutate, message):
    data = copy.deepcopy(_lapd())
    mutate(data)
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        validate(data, "bad.toml")


def test_agency_profile_file_loads(tmp_path):
    path = tmp_path / "my_agency.toml"
    path.write_text((PROFILE_DIR / "downey.toml").read_text().replace('key = "downey"', 'key = "my_agency"'))
    assert load_profile(path).key == "my_agency"
