"""The typed client over the database's audited api functions. It holds no policy of its own: the database
decides, audits, and this client turns its answers into results or specific errors. One connection serves
whoever logged in; the calls are grouped by the people they serve (data_user, supervisor, administrator,
trainer modules) over one shared core."""

from __future__ import annotations

import json
from datetime import datetime

from .. import db
from ..settings import Settings, load_settings
from .administrator import AdministratorCalls
from .core import client_info, raise_for
from .data_user import CaseAccess
from .imports import ImportCalls
from .results import AccessGrant
from .supervisor import SupervisorCalls
from .trainer import TrainingCalls


class Workbench(SupervisorCalls, AdministratorCalls, TrainingCalls, ImportCalls):
    """One person's connection: every call runs as their own database login, and the database refuses
    (and audits) whatever that login's role may not do."""

    @property
    def map_context(self):
        """Tiles, the agency's centre and offline layers shared by every map of this connection."""
        if getattr(self, "_map_context", None) is None:
            from ..maps import map_context

            self._map_context = map_context(self)
        return self._map_context

    def purposes(self) -> dict[str, str]:
        return {key: value["label"] for key, value in self.policy["purposes"]["authorized"].items()}

    def open_case(self, case_number: str, purpose: str, justification: str) -> CaseAccess:
        """Open an audited access session; raises the specific refusal (already audited) when denied."""
        row = self._call("open_access", case_number=case_number, purpose=purpose, justification=justification,
                         client=json.dumps(client_info()))[0]
        raise_for(row)
        return CaseAccess(self, AccessGrant(str(row.access_id), row.case_number, row.purpose, row.expires_at,
                                            row.audit_id))

    def sample_end(self) -> datetime | None:
        """The day the loaded sample city ends (its planted scenarios are dated from it), or None."""
        rows = self._call("sample_info")
        return rows[0].end_date if rows else None

    def cameras(self):
        return self._table("cameras")

    def sensitive_places(self):
        return self._table("sensitive_places")


def connect(dsn: str | None = None, *, user: str | None = None, password: str | None = None,
            settings: Settings | None = None) -> Workbench:
    """Connect as a person's own database login (WORKBENCH_DSN, or the private cluster with ``user``)."""
    settings = settings or load_settings({"dsn": dsn} if dsn else None)
    engine = db.make_engine(db.user_url(settings, user, password)).execution_options(isolation_level="AUTOCOMMIT")
    db.check_reachable(engine)
    return Workbench(engine, settings)
