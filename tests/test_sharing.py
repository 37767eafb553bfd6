"""Sharing with other agencies: a written request on file, a supervisor's decision, the profile's refusals
(commercial, federal, out of state, no agreement) that no approval overrides, and a watermarked export."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from workbench.errors import InvalidQuery, NotAuthorized

from .conftest import END


@pytest.fixture(scope="module")
def agencies(connect_as):
    admin = connect_as("admin_adams")
    suffix = uuid.uuid4().hex[:6]
    names = {"partner": f"Signal Hill PD {suffix}", "no_agreement": f"Lakewood Sheriff {suffix}",
             "commercial": f"Repo Analytics Inc {suffix}", "federal": f"Federal Task Force {suffix}",
             "out_of_state": f"Reno PD {suffix}"}
    admin.record_sharing_agency(names["partner"], "law_enforcement", "CA", agreement="IAA 2025-014")
    admin.record_sharing_agency(names["no_agreement"], "law_enforcement", "CA")
    admin.record_sharing_agency(names["commercial"], "commercial", "CA", agreement="contract 7")
    admin.record_sharing_agency(names["federal"], "law_enforcement", "CA", federal=True, agreement="MOU 3")
    admin.record_sharing_agency(names["out_of_state"], "law_enforcement", "NV", agreement="IAA 2024-2")
    return names


@pytest.mark.parametrize("kind, reason", [
    ("commercial", "this profile shares only with"), ("federal", "federal agencies are refused"),
    ("out_of_state", "out-of-state agencies are refused"), ("no_agreement", "no interagency agreement"),
])
def test_the_profile_refuses_some_agencies_whatever_the_supervisor_says(connect_as, agencies, kind, reason):
    request = connect_as("supervisor_sato").record_sharing_request(
        agencies[kind], "Officer Example", "Locate a vehicle in a felony investigation of theirs")
    with pytest.raises(InvalidQuery, match=reason):
        connect_as("supervisor_sato").decide_sharing(request, True, "Looks fine to me at first sight")


def test_an_export_for_another_agency_needs_an_approved_request(connect_as, agencies, analyst_case, superuser,
                                                                tmp_path):
    supervisor = connect_as("supervisor_sato")
    request = supervisor.record_sharing_request(agencies["partner"], "Det. Ruiz, Signal Hill PD",
                                                "Robbery series crossing into Signal Hill; suspect vehicle sightings")
    sightings = analyst_case.plate_history("7WXB124", END - timedelta(days=30), END)
    with pytest.raises(NotAuthorized, match="not approved"):
        analyst_case.export(sightings, tmp_path / "for_signal_hill.csv", sharing_request=request)
    assert not (tmp_path / "for_signal_hill.csv").exists()
    assert supervisor.decide_sharing(request, True, "Interagency agreement IAA 2025-014 on file").details["decision"] == "approved"
    path = analyst_case.export(sightings, tmp_path / "for_signal_hill.csv", sharing_request=request).path
    assert f"Shared under ALPR sharing request {request}" in path.read_text()
    with superuser.cursor() as cursor:
        cursor.execute("SELECT outcome, parameters ->> 'agency' FROM alpr.audit_log "
                       "WHERE function_name = 'sharing_export' ORDER BY audit_id")
        assert cursor.fetchall()[-2:] == [("denied", None), ("granted", agencies["partner"])]
