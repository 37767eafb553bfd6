"""The sample city's audit history: ordinary casework plus planted misuse, done as the demo people through
the real audited api (audit rows cannot be written any other way), so a supervisor opening notebook 05
finds every kind of flag in the review queue, each on its planted example.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .. import errors
from ..access import CaseAccess, Scene, connect
from ..policy import Profile
from ..settings import Settings
from . import city
from .generator import scenarios
from .load import DEMO_USERS, sample_cases

PASSWORDS = {user.login: user.password for user in DEMO_USERS}


@dataclass(frozen=True)
class PlantedHistory:
    """Audit record ids of each planted example, by the flag it should raise."""

    planted: dict[str, list[int]]
    ordinary: list[int]


def plant_audit_history(settings: Settings, profile: Profile, end: datetime) -> PlantedHistory:
    plan = scenarios(end)
    cases = list(sample_cases(profile, end))
    audit = profile.data["audit"]
    planted: dict[str, list[int]] = {}
    ordinary: list[int] = []

    def plant(flag: str, audit_id: int | None) -> None:
        planted.setdefault(flag, []).append(audit_id)

    people = {login: connect(user=login, password=PASSWORDS[login], settings=settings)
              for login in ("analyst_avery", "investigator_ito", "analyst_deactivated", "admin_adams", "supervisor_sato")}
    try:
        avery, ito = people["analyst_avery"], people["investigator_ito"]
        # Ordinary casework: the witness's partial plate, the scenes canvassed, the suspect's sightings.
        case = avery.open_case(cases[0], "criminal_investigation",
                               f"Shooting series: witness saw a partial plate {plan.witness_pattern}")
        ordinary.append(case.grant.audit_id)
        ordinary.append(case.search_plates(plan.witness_pattern, end - timedelta(days=60), end).audit_id)
        for scene in plan.scenes:
            result = case.canvass([Scene(scene.label, scene.at - timedelta(hours=2), scene.at + timedelta(hours=2),
                                         lat=scene.lat, lon=scene.lon, radius_m=300)])
            ordinary.append(result.audit_id)
        for _ in range(8):  # the usual small canvasses that make the agency's baseline
            scene = plan.scenes[0]
            case.canvass([Scene(scene.label, scene.at - timedelta(hours=1), scene.at + timedelta(hours=1),
                                lat=scene.lat, lon=scene.lon, radius_m=250)])
        ordinary.append(case.plate_history(plan.suspect_plate, end - timedelta(days=90), end).audit_id)

        # A separated analyst tries to get back in (Professional Standards).
        try:
            people["analyst_deactivated"].open_case(cases[0], "criminal_investigation",
                                                    "Still following the shooting series after leaving")
        except errors.AccountDeactivated as refused:
            plant("deactivated_account", refused.audit_id)
        # The same boilerplate typed for three cases.
        boilerplate = "Following up the open leads of the unit this week"
        for case_number in cases[:3]:
            plant("boilerplate_justification", ito.open_case(case_number, "criminal_investigation", boilerplate).grant.audit_id)
        ito_case = ito.open_case(cases[1], "criminal_investigation", "Stolen vehicle recovery: tow list plates")
        # Searching near a sensitive place (a clinic) and a city-wide canvass without approval.
        clinic = next(p for p in city.sensitive_places() if p["kind"] == "health_clinic")
        near = ito_case.canvass([Scene("clinic block", end - timedelta(hours=3), end, lat=clinic["lat"] + 0.002,
                                       lon=clinic["lon"], radius_m=300)])
        plant("sensitive_place", near.audit_id)
        try:
            ito_case.canvass([Scene("whole city", end - timedelta(hours=2), end, lat=33.80, lon=-118.17, radius_m=4900)])
        except errors.ApprovalRequired as refused:
            plant("over_scope", refused.audit_id)
        # Far above the usual scope, yet under the approval threshold.
        big = ito_case.canvass([Scene("half the city", end - timedelta(hours=1), end, lat=33.80, lon=-118.17,
                                      radius_m=3900)])
        plant("disproportionate_scope", big.audit_id)
        # A case used to look up a long list of different plates.
        # A case used to look up a long list of different plates, in one hour: also unusual volume.
        limit = int(audit.get("case_plate_limit", 50))
        lookups = [ito_case.plate_history(f"9ZZZ{number:03d}", end - timedelta(days=7), end).audit_id
                   for number in range(max(limit, int(audit.get("unusual_calls_per_hour", 60))))]
        plant("case_many_plates", lookups[limit - 1])
        # Someone else's access id.
        try:
            CaseAccess(ito, case.grant).plate_history(plan.suspect_plate, end - timedelta(days=7), end)
        except errors.AccessExpired as refused:
            plant("foreign_access_id", refused.audit_id)
        # The same plate under three cases.
        for case_number in cases[:3]:
            other = ito.open_case(case_number, "criminal_investigation", f"Case {case_number}: is the suspect car involved")
            plant("plate_under_many_cases",
                  other.plate_history(plan.stolen_plates[1], end - timedelta(days=30), end).audit_id)
        # A deleted-data search by an administrator under a court order (where the profile has logical deletion),
        # asked for, approved by the supervisor in their own session, then run as approved.
        try:
            admin_case = people["admin_adams"].open_case(cases[0], "criminal_investigation",
                                                         "Court-ordered search of older reads for the shooting series")
            request = admin_case.request_scope_approval(
                "search_deleted", "Court order 26-CR-1182 (demo) for the suspect vehicle's older reads",
                details={"plate": plan.suspect_plate, "from": end - timedelta(days=2000), "to": end,
                         "category": "court_order", "court_order": "Order 26-CR-1182 (demo)"})
            people["supervisor_sato"].decide_scope_approval(request.approval_id, True,
                                                            "Court order seen and filed, memo 2026-311 (demo)")
            plant("deleted_data_search", admin_case.search_deleted(request.approval_id).audit_id)
        except errors.AccessDenied as refused:  # this profile's rules refuse it: that is planted too
            plant("deleted_data_search", refused.audit_id)
    finally:
        for person in people.values():
            person.close()
    return PlantedHistory(planted, ordinary)
