"""Legal holds through the audited API: requested under a case with reason, contact and approval; listed
for re-verification; exported as evidence with a sha256 manifest; released by an administrator."""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import timedelta

import pytest

from workbench.errors import InvalidJustification, InvalidQuery, NotAuthorized
from workbench.sample.generator import scenarios

from .conftest import END, audit_rows, last_audit_id

PLAN = scenarios(END)


def test_a_hold_from_request_to_approval_and_release(analyst_case, connect_as, superuser, tmp_path):
    window = (END - timedelta(days=40), END)
    with pytest.raises(InvalidJustification, match="specific reason"):
        analyst_case.request_legal_hold(PLAN.companions[0], *window, "evidence", "Det. Ito x5521")
    before = last_audit_id(superuser)
    hold = analyst_case.request_legal_hold(
        PLAN.companions[0], *window, "Vehicle travelled with the suspect; sightings are evidence for trial",
        "Det. Ito, Robbery, ext. 5521")
    with superuser.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM alpr.reads WHERE plate = %s AND read_at >= %s AND read_at < %s",
                       (PLAN.companions[0], *window))
        expected = cursor.fetchone()[0]
    assert (hold.reads, hold.status) == (expected, "pending")
    assert audit_rows(superuser, before)[-1]["function_name"] == "legal_hold_request"

    # Pending: no name typed by the investigator approves it; the analyst cannot decide; a supervisor does.
    supervisor = connect_as("supervisor_sato")
    pending = supervisor.legal_holds_due(days=800)
    assert pending.loc[pending["hold_id"] == hold.hold_id, "status"].item() == "pending" and "plate" not in pending.columns
    with pytest.raises(NotAuthorized):
        connect_as("analyst_avery").decide_legal_hold(hold.hold_id, True, "Approving the hold myself")
    decided = supervisor.decide_legal_hold(hold.hold_id, True, "Evidence for trial, Form 15.02.00 on file")
    assert decided.details["status"] == "approved"
    with superuser.cursor() as cursor:
        cursor.execute("SELECT status, decided_by, next_verification_due IS NOT NULL FROM alpr.legal_holds "
                       "WHERE hold_id = %s", (hold.hold_id,))
        assert cursor.fetchone() == ("approved", "supervisor_sato", True)

    archive = analyst_case.evidence_export(hold.hold_id, tmp_path / "evidence.zip").path
    with zipfile.ZipFile(archive) as bundle:
        manifest = json.loads(bundle.read("manifest.json"))
        assert manifest["hold"]["hold_id"] == hold.hold_id and manifest["hold"]["approved_by"] == "supervisor_sato"
        for name, digest in manifest["files"].items():
            assert hashlib.sha256(bundle.read(name)).hexdigest() == digest
        assert len(bundle.read("reads.csv").decode().strip().splitlines()) - 1 == expected

    with pytest.raises(NotAuthorized):
        connect_as("analyst_avery").release_legal_hold(hold.hold_id, "no longer needed by me")
    admin = connect_as("admin_adams")
    assert "released" in admin.release_legal_hold(hold.hold_id, "Case adjudicated; evidence booked").message
    with pytest.raises(InvalidQuery, match="no active hold"):
        admin.release_legal_hold(hold.hold_id, "Case adjudicated; evidence booked")
    assert hold.hold_id not in set(supervisor.legal_holds_due(days=800)["hold_id"])
