"""Texts of notifications and e-mails, in the recipient's language.

Texts name the object by its reference only (a case reference, an agency
code), never by its content: e-mail leaves the system, and a reference is
enough to find the object behind the login.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from .choices import EventType

TEXTS = {
    EventType.CASE_SHARED: _("Case %(ref)s was shared with your agency."),
    EventType.CASE_REVOKED: _("An agency's access to case %(ref)s ended."),
    EventType.PARTICIPATION_EXPIRING: _("Access to case %(ref)s expires soon."),
    EventType.TASK_ASSIGNED: _("A task on case %(ref)s was assigned to you."),
    EventType.TASK_STATUS_CHANGED: _("A task on case %(ref)s changed status."),
    EventType.TASK_DUE_SOON: _("A task on case %(ref)s is due within 48 hours."),
    EventType.TASK_OVERDUE: _("A task on case %(ref)s is overdue."),
    EventType.NOTE_ADDED: _("A note was added to case %(ref)s."),
    EventType.MLA_SUBMITTED: _("MLA request %(ref)s was received."),
    EventType.MLA_TRANSITIONED: _("MLA request %(ref)s changed status."),
    EventType.MLA_DUE_SOON: _("The response to MLA request %(ref)s is due soon."),
    EventType.MLA_OVERDUE: _("The response to MLA request %(ref)s is overdue."),
    EventType.DOCUMENT_ADDED: _("A document was added to case %(ref)s."),
    EventType.DECONFLICTION_HIT: _(
        "%(by)s searched an identifier your agency holds (%(ref)s); it was told your "
        "agency holds a match and whom to contact."
    ),
    EventType.DECONFLICTION_CONTACT_REQUESTED: _(
        "%(by)s asks your coordinators to contact it about a deconfliction match (%(ref)s)."
    ),
    EventType.WEBHOOK_DISABLED: _(
        "A webhook endpoint of %(ref)s was disabled after repeated failures."
    ),
}
FALLBACK = _("%(ref)s: something changed.")


def language_of(user) -> str:
    """A `User`'s (through its membership) or an audience `Member`'s language."""
    language = getattr(user, "language", None)
    if language is None:
        membership = getattr(user, "membership", None)
        language = membership.language if membership else ""
    return language or settings.LANGUAGE_CODE


def render(event_type: str, reference: str, user, ids: dict | None = None) -> str:
    """`ids` are the message's payload ids; `by` is an agency code (deconfliction)."""
    return render_in(language_of(user), event_type, reference, ids)


def render_in(language: str, event_type: str, reference: str, ids: dict | None = None) -> str:
    """The text for every recipient reading `language`: texts name the object
    and the event, never the recipient, so a fan-out renders once per language."""
    values = {"ref": reference, "by": (ids or {}).get("by", "?")}
    with translation.override(language):
        return str(TEXTS.get(event_type, FALLBACK) % values)
