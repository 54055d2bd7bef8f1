"""A case's timeline: its audit events, told in words, through the gate.

The audit log records everything done on a case and its children (tasks,
notes, evidence, identifiers, MLA requests, task progress, the network). A reader is
shown an event only when it may see the object the event concerns *now*
(the `cases.access` selectors decide, as everywhere) and may learn of the
agency that did it, and of any agency the event names (a share with a
confidential participant names it). Event texts are built from the objects
the reader sees, not from the log's recorded values.

The number of queries does not depend on the size of the case: one per kind
of child, one for the disclosed agencies and one for the events.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from audit.models import AuditAction, AuditEvent, AuditOutcome

from . import access
from .choices import (
    AccessLevel,
    AssetState,
    CaseStatus,
    IdentifierKind,
    LinkKind,
    MLAStatus,
    TaskStatus,
)
from .models import Case
from .services import CASE_EDITABLE_FIELDS, CASE_SERVICE_ONLY_FIELDS

#: The latest events a timeline shows.
TIMELINE_LIMIT = 200


@dataclass(frozen=True)
class TimelineEntry:
    """One line of a case timeline."""

    when: dt.datetime
    actor: str
    agency: str
    text: str
    # The child it concerns: case, task, note, document, identifier, mla,
    # task_log, network (an entity, a link, a transaction or an asset).
    kind: str


def _labels(choices) -> dict[str, str]:
    return {value: str(label) for value, label in choices}


def case_timeline(user, case: Case, *, limit: int = TIMELINE_LIMIT) -> list[TimelineEntry]:
    """What happened on `case` that `user`'s agency may know, newest first.

    Empty when the case is invisible to the user.
    """
    if case.pk is None or not access.visible_cases(user).filter(pk=case.pk).exists():
        return []
    disclosed = dict(
        access.visible_participations(user)
        .filter(case_id=case.pk)
        .values_list("agency_id", "agency__code")
    )
    disclosed_codes = set(disclosed.values())

    # Per object type: the visible objects of this case, {object id in the log: label}.
    def ids(queryset, *fields) -> dict[str, tuple]:
        rows = queryset.filter(case_id=case.pk).values_list(*fields)
        return {str(row[0]): row[1:] for row in rows}

    objects: dict[str, dict[str, tuple]] = {
        "cases.case": {str(case.public_id): (case.reference,)},
        "cases.task": ids(access.visible_tasks(user), "public_id", "title"),
        "cases.note": ids(access.visible_notes(user), "public_id"),
        "cases.document": ids(access.visible_documents(user), "public_id", "title"),
        "cases.identifier": ids(access.visible_identifiers(user), "public_id", "kind", "raw_value"),
        "cases.mlarequest": ids(
            access.visible_mla_requests(user),
            "public_id",
            "requesting_agency_id",
            "requested_agency_id",
            "requested_agency__code",
            "status",
        ),
        "cases.tasklogentry": ids(
            access.visible_task_log_entries(user), "public_id", "task__title"
        ),
        "cases.entity": ids(access.visible_entities(user), "public_id", "name"),
        "cases.link": ids(access.visible_links(user), "public_id", "kind"),
        "cases.transaction": ids(access.visible_transactions(user), "public_id", "currency"),
        "cases.asset": ids(access.visible_assets(user), "public_id", "description"),
    }
    condition = Q()
    for object_type, found in objects.items():
        if found:
            condition |= Q(object_type=object_type, object_id__in=list(found))
    events = (
        AuditEvent.objects.filter(condition)
        .exclude(outcome=AuditOutcome.REFUSED)
        .exclude(action=AuditAction.PERMISSION_REFUSED)
        .order_by("-seq")
        .only(
            "occurred_at",
            "actor_label",
            "agency_id",
            "agency_code",
            "action",
            "object_type",
            "object_id",
            "changes",
            "reason",
        )[:limit]
    )
    entries = []
    for event in events:
        found = objects[event.object_type][event.object_id]
        agency_id = event.agency_id if event.agency_id is not None else case.lead_agency_id
        if event.object_type == "cases.mlarequest":
            # The parties of a request know each other, case participants or not.
            known = agency_id in (found[0], found[1]) or agency_id in disclosed
        else:
            known = agency_id in disclosed
        if not known:
            continue
        named = (event.changes or {}).get("agency") if event.object_type == "cases.case" else None
        if isinstance(named, str) and named not in disclosed_codes:
            continue
        text = _describe(event, found)
        if text is None:
            continue
        entries.append(
            TimelineEntry(
                when=event.occurred_at,
                actor=event.actor_label if event.agency_id is not None else _("system"),
                agency=event.agency_code or disclosed.get(agency_id, ""),
                text=text,
                kind=_KINDS[event.object_type],
            )
        )
    return entries


_KINDS = {
    "cases.case": "case",
    "cases.task": "task",
    "cases.note": "note",
    "cases.document": "document",
    "cases.identifier": "identifier",
    "cases.mlarequest": "mla",
    "cases.tasklogentry": "task_log",
    "cases.entity": "network",
    "cases.link": "network",
    "cases.transaction": "network",
    "cases.asset": "network",
}


def _before_after(changes: dict, field: str) -> tuple[Any, Any]:
    value = changes.get(field)
    if isinstance(value, dict):
        return value.get("before"), value.get("after")
    return None, value


def _describe_case(event: AuditEvent, found: tuple) -> str:
    changes = event.changes or {}
    statuses = _labels(CaseStatus.choices)
    levels = _labels(AccessLevel.choices)
    if event.action == AuditAction.CREATE:
        return _("opened the case.")
    if event.action == AuditAction.SHARE:
        return _("shared the case with %(agency)s (%(level)s).") % {
            "agency": changes.get("agency", ""),
            "level": levels.get(changes.get("level"), changes.get("level", "")),
        }
    if event.action == AuditAction.REVOKE:
        if event.reason == "expired":
            return _("The access of %(agency)s expired.") % {"agency": changes.get("agency", "")}
        return _("ended the access of %(agency)s.") % {"agency": changes.get("agency", "")}
    if event.action == AuditAction.TRANSITION:
        before, after = _before_after(changes, "status")
        return _("changed the status from %(before)s to %(after)s.") % {
            "before": statuses.get(before, before),
            "after": statuses.get(after, after),
        }
    if "participation" in changes:
        return _("changed the access of %(agency)s.") % {"agency": changes.get("agency", "")}
    if "lead_agency" in changes:
        _before, after = _before_after(changes, "lead_agency")
        return _("handed the case over to %(agency)s.") % {"agency": after}
    fields = sorted(k for k in changes if k in _CASE_FIELD_NAMES)
    if not fields:
        return _("updated the case.")
    return _("updated the case: %(fields)s.") % {
        "fields": ", ".join(str(_CASE_FIELD_NAMES[f]) for f in fields)
    }


#: Field names of a case, as the case form labels them (lazy: translated when read).
_CASE_FIELD_NAMES = {
    name: Case._meta.get_field(name).verbose_name
    for name in (*CASE_EDITABLE_FIELDS, *CASE_SERVICE_ONLY_FIELDS)
}


def _describe_task(event: AuditEvent, found: tuple) -> str:
    title = found[0]
    if event.action == AuditAction.CREATE:
        return _("created the task “%(title)s”.") % {"title": title}
    before, after = _before_after(event.changes or {}, "status")
    if after is not None and before != after:
        statuses = _labels(TaskStatus.choices)
        return _("moved the task “%(title)s” from %(before)s to %(after)s.") % {
            "title": title,
            "before": statuses.get(before, before),
            "after": statuses.get(after, after),
        }
    return _("updated the task “%(title)s”.") % {"title": title}


def _describe_document(event: AuditEvent, found: tuple) -> str:
    title = found[0]
    if event.action == AuditAction.UPLOAD:
        return _("uploaded the evidence “%(title)s”.") % {"title": title}
    if event.action == AuditAction.DOWNLOAD:
        return _("downloaded the evidence “%(title)s”.") % {"title": title}
    if event.action == AuditAction.INTEGRITY_FAILURE:
        return _("found that the evidence “%(title)s” failed its integrity check.") % {
            "title": title
        }
    return _("changed the evidence “%(title)s”.") % {"title": title}


def _describe_identifier(event: AuditEvent, found: tuple) -> str:
    kind, value = found
    return _("added the identifier %(kind)s %(value)s.") % {
        "kind": _labels(IdentifierKind.choices).get(kind, kind),
        "value": value,
    }


def _describe_mla(event: AuditEvent, found: tuple) -> str:
    requested = found[2]
    statuses = _labels(MLAStatus.choices)
    if event.action == AuditAction.CREATE:
        return _("drafted an MLA request to %(agency)s.") % {"agency": requested}
    before, after = _before_after(event.changes or {}, "status")
    if after is not None and before != after:
        return _("moved the MLA request to %(agency)s from %(before)s to %(after)s.") % {
            "agency": requested,
            "before": statuses.get(before, before),
            "after": statuses.get(after, after),
        }
    return _("updated the MLA request to %(agency)s.") % {"agency": requested}


def _describe_entity(event: AuditEvent, found: tuple) -> str:
    if event.action == AuditAction.CREATE:
        return _("recorded “%(name)s” in the network.") % {"name": found[0]}
    return _("updated “%(name)s” in the network.") % {"name": found[0]}


def _describe_link(event: AuditEvent, found: tuple) -> str:
    kind = _labels(LinkKind.choices).get(found[0], found[0])
    if event.action == AuditAction.CREATE:
        return _("recorded a link (%(kind)s).") % {"kind": kind}
    return _("updated a link (%(kind)s).") % {"kind": kind}


def _describe_transaction(event: AuditEvent, found: tuple) -> str:
    if event.action == AuditAction.CREATE:
        return _("recorded a transaction in %(currency)s.") % {"currency": found[0]}
    return _("updated a transaction in %(currency)s.") % {"currency": found[0]}


def _describe_asset(event: AuditEvent, found: tuple) -> str:
    description = found[0]
    if event.action == AuditAction.CREATE:
        return _("recorded the asset “%(asset)s”.") % {"asset": description}
    _before, after = _before_after(event.changes or {}, "state")
    if event.action == AuditAction.TRANSITION and after:
        return _("moved the asset “%(asset)s” to %(state)s.") % {
            "asset": description,
            "state": _labels(AssetState.choices).get(after, after),
        }
    return _("updated the asset “%(asset)s”.") % {"asset": description}


def _describe(event: AuditEvent, found: tuple) -> str | None:
    describe: Callable[[AuditEvent, tuple], str] | None = {
        "cases.case": _describe_case,
        "cases.task": _describe_task,
        "cases.note": lambda e, f: _("added a journal entry."),
        "cases.document": _describe_document,
        "cases.identifier": _describe_identifier,
        "cases.mlarequest": _describe_mla,
        "cases.tasklogentry": lambda e, f: (
            _("logged progress on the task “%(title)s”.") % {"title": f[0]}
        ),
        "cases.entity": _describe_entity,
        "cases.link": _describe_link,
        "cases.transaction": _describe_transaction,
        "cases.asset": _describe_asset,
    }.get(event.object_type)
    return describe(event, found) if describe else None


__all__ = ["TIMELINE_LIMIT", "TimelineEntry", "case_timeline"]
