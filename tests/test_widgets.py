"""The widgets drive the public API against the real store: refusals show in place, results fill the
table and the map, and the footage review saves only what a person decided."""

from __future__ import annotations

from datetime import timedelta

from workbench.access import Scene
from workbench.sample.generator import scenarios
from workbench.widgets import AccessGate, Canvass, PlateSearch, Sightings

from .conftest import END

PLAN = scenarios(END)


def test_access_gate_shows_a_refusal_in_place_then_opens(connect_as, cases):
    gate = AccessGate(connect_as("analyst_avery"), cases[0], "criminal_investigation", "inv")
    assert gate.open_case() is None
    assert "workbench-error" in gate.status.value and "audit record" in gate.status.value
    gate.justification.value = "Shooting series: witness saw partial plate " + PLAN.witness_pattern
    access = gate.open_case()
    assert access is not None and "workbench-case-open" in gate.banner.value and cases[0] in gate.banner.value


def _open_gate(connect_as, cases):
    gate = AccessGate(connect_as("analyst_avery"), cases[0], "criminal_investigation",
                      "Shooting series: witness saw partial plate " + PLAN.witness_pattern)
    gate.open_case()
    return gate


def test_plate_search_explains_the_pattern_and_fills_table_and_map(connect_as, cases):
    search = PlateSearch(_open_gate(connect_as, cases), PLAN.witness_pattern, days=60, end=END)
    assert "one unknown character" in search.explanation.value
    result = search.search()
    assert PLAN.suspect_plate in set(result.plates()["plate"])
    assert f"<b>{len(result)}</b> reads" in search.summary.value
    assert "workbench-map" in search.map_box.children[0].value and PLAN.suspect_plate in search.table.body.value
    search.pattern.value = "7?"  # too broad without an area: refused in place
    search.search()
    assert "fewer than 3 known characters" in search.status.value


def test_plate_search_within_a_typed_polygon(connect_as, cases):
    search = PlateSearch(_open_gate(connect_as, cases), PLAN.witness_pattern, days=60, end=END)
    search.use_area.value = "polygon"
    search.polygon.value = "33.0, -118.0\n33.0"
    search.search()
    assert "corner 2" in search.status.value
    search.polygon.value = "33.70, -118.30\n33.70, -118.05\n33.90, -118.05\n33.90, -118.30"  # ~560 km2
    search.search()
    assert "prior approval" in search.status.value
    search.polygon.value = "33.765, -118.185\n33.765, -118.145\n33.815, -118.145\n33.815, -118.185"
    assert len(search.search()) > 0


def test_canvass_and_sightings_widgets(connect_as, cases):
    gate = _open_gate(connect_as, cases)
    scenes = [Scene(s.label, s.at - timedelta(hours=2), s.at + timedelta(hours=2), lat=s.lat, lon=s.lon, radius_m=300)
              for s in PLAN.scenes]
    canvass = Canvass(gate, scenes, min_scenes=3)
    result = canvass.run()
    assert list(result.common["plate"]) == [PLAN.suspect_plate]
    assert all(scene.label in canvass.per_scene.value for scene in scenes)
    sightings = Sightings(gate, PLAN.suspect_plate, days=90, end=END)
    track = sightings.run()
    assert len(track) > 0 and f"sightings of <b>{PLAN.suspect_plate}</b>" in sightings.summary.value
