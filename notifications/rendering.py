"""Texts of notifications and e-mails, in the reader's language.

A notification keeps what its text says as codes (`Notification.data`: the
object's reference, agency codes, a status, an MLA verb), never as words.
Its text is rendered from them twice: at delivery, in the recipient's
language (`Notification.text`, the line of the e-mail digest and the API's
`text`), and each time the admin shows it, in the reader's current language
(`present`), with the object's title and a link to the object when the gate
says the reader still sees it.

Stored texts name the object by its reference and agencies by their code,
never by content: e-mail leaves the system, and a reference is enough to find
the object behind the login. Titles (content) are only added in-app, at
display time, after the gate's selector has returned the object to the reader.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from .choices import EventType
from .registry import UnknownEvent, object_type_named, status_labels

TEXTS = {
    EventType.CASE_SHARED: _("Case %(ref)s was shared with your agency"),
    EventType.CASE_REVOKED: _("An agency's access to case %(ref)s ended"),
    EventType.CASE_ACCESS_REVOKED: _("Your agency's access to case %(ref)s ended"),
    EventType.CASE_STATUS_CHANGED: _("Case %(ref)s status changed to %(status)s"),
    EventType.PARTICIPATION_EXPIRING: _("Access to case %(ref)s expires soon"),
    EventType.TASK_ASSIGNED: _("New task for %(agency)s on case %(ref)s"),
    EventType.TASK_STATUS_CHANGED: _("A task on case %(ref)s is now %(status)s"),
    EventType.TASK_DUE_SOON: _("A task on case %(ref)s is due within 48 hours"),
    EventType.TASK_OVERDUE: _("A task on case %(ref)s is overdue"),
    EventType.NOTE_ADDED: _("%(by)s added a note to case %(ref)s"),
    EventType.MLA_SUBMITTED: _("%(by)s sent MLA request %(ref)s to your agency"),
    EventType.MLA_TRANSITIONED: _("MLA request %(ref)s is now %(status)s"),
    EventType.MLA_DUE_SOON: _("The response to MLA request %(ref)s is due soon"),
    EventType.MLA_OVERDUE: _("The response to MLA request %(ref)s is overdue"),
    EventType.DOCUMENT_ADDED: _("%(by)s added evidence to case %(ref)s"),
    EventType.DECONFLICTION_HIT: _(
        "%(by)s searched an identifier your agency holds (%(ref)s); it was told your "
        "agency holds a match and whom to contact"
    ),
    EventType.DECONFLICTION_CONTACT_REQUESTED: _(
        "%(by)s asks your coordinators to contact it about a deconfliction match (%(ref)s)"
    ),
    EventType.SHARE_PROPOSAL_CREATED: _("%(by)s proposes sharing case %(ref)s with %(agency)s"),
    EventType.SHARE_PROPOSAL_DECIDED: _(
        "Your proposal to share case %(ref)s with %(agency)s: %(status)s"
    ),
    EventType.ASSET_RECORDED: _("%(by)s recorded an asset on case %(ref)s: %(status)s"),
    EventType.ASSET_STATE_CHANGED: _("An asset on case %(ref)s is now %(status)s"),
    EventType.WEBHOOK_DISABLED: _(
        "A webhook endpoint of %(ref)s was disabled after repeated failures"
    ),
}
#: A task assigned to a person (who alone is told) rather than to an agency.
TASK_ASSIGNED_TO_YOU = _("A task on case %(ref)s was assigned to you")
#: `mla.transitioned` by verb (`cases.mla.TRANSITIONS` and the other steps).
MLA_TEXTS = {
    "acknowledge": _("%(by)s acknowledged MLA request %(ref)s"),
    "request-more-info": _("%(by)s asked for more information on MLA request %(ref)s"),
    "provide-info": _("%(by)s provided the information asked for on MLA request %(ref)s"),
    "start-execution": _("%(by)s started executing MLA request %(ref)s"),
    "execute": _("%(by)s executed MLA request %(ref)s"),
    "execute-partially": _("%(by)s partially executed MLA request %(ref)s"),
    "refuse": _("%(by)s refused MLA request %(ref)s"),
    "withdraw": _("%(by)s withdrew MLA request %(ref)s"),
    "file-delay-notice": _("%(by)s filed a delay notice on MLA request %(ref)s"),
    "extend-preservation": _("%(by)s extended the preservation of MLA request %(ref)s"),
    "link-follow-up": _("%(by)s linked a follow-up request to MLA request %(ref)s"),
}
FALLBACK = _("%(ref)s: something changed")

#: The words of the link to a notification's object, per object type.
LINK_LABELS = {
    "case": _("Open the case"),
    "task": _("Open the task"),
    "note": _("Open the case"),
    "mla_request": _("Open the MLA request"),
    "document": _("Open the evidence"),
    "identifier": _("Open the identifier"),
    "webhook_endpoint": _("Open the webhook endpoint"),
    "share_proposal": _("Open the case"),
}


def kind_label(kind: str) -> Promise | str:
    """The translatable name of a notification kind (lazy: translated when shown)."""
    try:
        return EventType(kind).label
    except ValueError:
        return kind


def language_of(user) -> str:
    """A `User`'s (through its membership) or an audience `Member`'s language."""
    language = getattr(user, "language", None)
    if language is None:
        membership = getattr(user, "membership", None)
        language = membership.language if membership else ""
    return language or settings.LANGUAGE_CODE


def _template(event_type: str, data: dict) -> Any:
    if event_type == EventType.MLA_TRANSITIONED and data.get("verb") in MLA_TEXTS:
        return MLA_TEXTS[data["verb"]]
    if event_type == EventType.TASK_ASSIGNED and data.get("to") == "user":
        return TASK_ASSIGNED_TO_YOU
    return TEXTS.get(event_type, FALLBACK)


def text_for(event_type: str, data: dict, *, title: str | None = None) -> str:
    """The text of an event from its codes, in the active language; with the
    object's title after it when given (in-app only: titles are content)."""
    status = data.get("status", "")
    # The state named by `status`, per event family (registered by its app).
    labels = status_labels(event_type.split(".", 1)[0])
    values = {
        "ref": data.get("ref", "?"),
        "by": data.get("by") or "?",
        "agency": data.get("agency") or "?",
        "status": str(labels.get(status, status)),
    }
    text = str(_template(event_type, data) % values)
    if title:
        text = pgettext("notification text, then the object's title", "%(text)s: %(title)s") % {
            "text": text,
            "title": title,
        }
    return text


def render_in(language: str, event_type: str, data: dict) -> str:
    """The stored text for every recipient reading `language`: texts name the
    object and the event, never the recipient, so a fan-out renders once per
    language."""
    with translation.override(language):
        return text_for(event_type, data)


def render(event_type: str, data: dict, user) -> str:
    return render_in(language_of(user), event_type, data)


def facts_of(message, object_type, obj) -> dict[str, str]:
    """The codes a message's texts need, read once at delivery: the object's
    reference, what its object type adds (`ObjectType.facts`), and the
    message's own ids (`by`, `verb`, `status`: what the emitter said wins)."""
    data = {"ref": object_type.reference(obj)}
    if object_type.facts is not None:
        data.update({k: v for k, v in object_type.facts(message, obj).items() if v})
    ids = message.payload.get("ids") or {}
    data.update({k: str(ids[k]) for k in ("by", "verb", "status") if ids.get(k)})
    return data


# --- display time: the reader's language, the reader's gate -------------------


@dataclass(frozen=True)
class Shown:
    """A notification as its reader sees it now."""

    pk: int
    kind: str
    text: str
    kind_label: Promise | str
    url: str | None  # the object's page, only if the reader may open it now
    link_label: Promise | str | None
    unread: bool
    created_at: dt.datetime

    @property
    def open_url(self) -> str:
        """Marks it read, then leads to the object (or to the notification)."""
        return reverse("admin:notifications_notification_open", args=[self.pk])

    @property
    def detail_url(self) -> str:
        return reverse("admin:notifications_notification_change", args=[self.pk])


def present(notifications: Iterable, reader) -> dict[int, Shown]:
    """`notifications` (the reader's own) rendered in the active language, each
    with a link to its object if the reader still sees it.

    Visibility is the gate's selector of each object type, asked once per
    type for the whole page; an object the reader no longer sees gets no
    link and no title, only the text that was already told.
    """
    notifications = list(notifications)
    wanted: dict[str, set] = defaultdict(set)
    for notification in notifications:
        wanted[notification.object_type].add(notification.object_id)
    types, seen = {}, {}
    for name, ids in wanted.items():
        try:
            object_type = types[name] = object_type_named(name)
        except UnknownEvent:
            continue
        if object_type.selector is not None:
            objects = object_type.selector(reader).filter(public_id__in=ids)
        else:
            candidates = object_type.model.objects.filter(public_id__in=ids)
            objects = [o for o in candidates if object_type.user_can_see(reader, o)]
        for obj in objects:
            seen[(name, obj.public_id)] = obj

    shown = {}
    for notification in notifications:
        object_type = types.get(notification.object_type)
        obj = seen.get((notification.object_type, notification.object_id))
        title = url = None
        if obj is not None and object_type is not None:
            title = object_type.title(obj) if object_type.title else None
            url = object_type.admin_url(reader, obj) if object_type.admin_url else None
        if notification.data:
            text = text_for(notification.kind, notification.data, title=title)
        else:
            text = notification.text  # an older row, stored without codes
        shown[notification.pk] = Shown(
            pk=notification.pk,
            kind=notification.kind,
            text=text,
            kind_label=kind_label(notification.kind),
            url=url,
            link_label=LINK_LABELS.get(notification.object_type) if url else None,
            unread=notification.read_at is None,
            created_at=notification.created_at,
        )
    return shown


def present_one(notification, reader) -> Shown:
    return present([notification], reader)[notification.pk]
