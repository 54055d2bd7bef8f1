"""The event catalogue: every event a webhook may carry, its version and the
JSON Schema of its body (`GET /api/v1/events/catalogue/`).

Every event has the same envelope, and only identifiers in it: the partner
fetches the object through the API (`object.url`), where the gate decides
again what it may read. What differs per event is the `type` and the kind of
object it names, so each schema below is the envelope with those two pinned.
A change a partner's parser could notice gets a new `version`; names are
never changed, only added (`EventType`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .choices import EventType

#: Body version of every event today; sent in the body and `X-Casebridge-Event-Version`.
ENVELOPE_VERSION = 1


@dataclass(frozen=True)
class EventSpec:
    type: str
    object_type: str
    description: str | Promise
    version: int = ENVELOPE_VERSION

    def schema(self) -> dict[str, Any]:
        """JSON Schema (draft 2020-12) of the webhook body of this event."""
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": self.type,
            "description": str(self.description),
            "type": "object",
            "required": ["id", "type", "version", "time", "object"],
            "additionalProperties": False,
            "properties": {
                "id": {
                    "type": "string",
                    "format": "uuid",
                    "description": str(_("The event's id: deduplicate on it.")),
                },
                "type": {"const": self.type},
                "version": {"const": self.version},
                "time": {
                    "type": "string",
                    "format": "date-time",
                    "description": str(_("When it happened (UTC).")),
                },
                "object": {
                    "type": "object",
                    "required": ["type", "id", "url"],
                    "additionalProperties": False,
                    "properties": {
                        "type": {"const": self.object_type},
                        "id": {"type": "string", "format": "uuid"},
                        "url": {
                            "type": "string",
                            "format": "uri",
                            "description": str(
                                _("The object in the API; reading it goes through the gate.")
                            ),
                        },
                    },
                },
            },
        }


EVENTS: tuple[EventSpec, ...] = (
    EventSpec(EventType.CASE_SHARED, "case", _("A case was shared with your agency.")),
    EventSpec(
        EventType.CASE_REVOKED, "case", _("Another agency's access to a case you see ended.")
    ),
    EventSpec(
        EventType.CASE_ACCESS_REVOKED,
        "case_tombstone",
        _(
            "Your agency lost access to a case (revoked, expired or handed away): drop "
            "your copy. The object is the case's tombstone, also listed in "
            "`/api/v1/cases/tombstones/`."
        ),
    ),
    EventSpec(EventType.CASE_STATUS_CHANGED, "case", _("A case's status changed.")),
    EventSpec(
        EventType.PARTICIPATION_EXPIRING, "case", _("Your agency's access to a case expires soon.")
    ),
    EventSpec(EventType.TASK_ASSIGNED, "task", _("A task was assigned to your agency.")),
    EventSpec(EventType.TASK_STATUS_CHANGED, "task", _("A task's status changed.")),
    EventSpec(EventType.TASK_DUE_SOON, "task", _("A task is due within 48 hours.")),
    EventSpec(EventType.TASK_OVERDUE, "task", _("A task is overdue.")),
    EventSpec(EventType.NOTE_ADDED, "note", _("A note was added to a case.")),
    EventSpec(EventType.MLA_SUBMITTED, "mla_request", _("An MLA request was sent to your agency.")),
    EventSpec(EventType.MLA_TRANSITIONED, "mla_request", _("An MLA request's status changed.")),
    EventSpec(EventType.MLA_DUE_SOON, "mla_request", _("An MLA response is due soon.")),
    EventSpec(EventType.MLA_OVERDUE, "mla_request", _("An MLA response is overdue.")),
    EventSpec(EventType.DOCUMENT_ADDED, "document", _("Evidence was added to a case.")),
    EventSpec(
        EventType.DECONFLICTION_HIT,
        "identifier",
        _("Another agency searched an identifier your agency holds."),
    ),
    EventSpec(
        EventType.DECONFLICTION_CONTACT_REQUESTED,
        "identifier",
        _("Another agency asks to be contacted about a deconfliction match."),
    ),
    EventSpec(
        EventType.SHARE_PROPOSAL_CREATED,
        "share_proposal",
        _("Another managing agency proposes that your agency share a case it leads."),
    ),
    EventSpec(
        EventType.SHARE_PROPOSAL_DECIDED,
        "share_proposal",
        _("The lead agency accepted or declined your agency's share proposal."),
    ),
    EventSpec(
        EventType.ASSET_RECORDED,
        "asset",
        _("An asset was recorded on a case: frozen, seized, confiscated or returned."),
    ),
    EventSpec(
        EventType.ASSET_STATE_CHANGED,
        "asset",
        _("An asset on a case moved on (seized, confiscated, returned to victims)."),
    ),
    EventSpec(
        EventType.WEBHOOK_DISABLED,
        "webhook_endpoint",
        _("One of your webhook endpoints was disabled after repeated failures."),
    ),
)

BY_TYPE: dict[str, EventSpec] = {str(spec.type): spec for spec in EVENTS}


def version_of(event_type: str) -> int:
    spec = BY_TYPE.get(event_type)
    return spec.version if spec else ENVELOPE_VERSION


def catalogue() -> list[dict[str, Any]]:
    """The catalogue as the API serves it, in a stable order."""
    return [
        {
            "type": str(spec.type),
            "version": spec.version,
            "object_type": spec.object_type,
            "description": str(spec.description),
            "schema": spec.schema(),
        }
        for spec in EVENTS
    ]
