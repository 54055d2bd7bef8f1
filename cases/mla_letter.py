"""The letter of request: what it says, in the request's language.

One description of the letter (`letter_of`), written in the request's
language (not the reader's: the letter goes to a foreign authority in the
language the request names), in the UNODC MLA Request Writer's order of
headings, with date, both references, a signature block and a DRAFT mark
until the request is submitted. Rendered as HTML by `cases.views_mla` and as
a PDF by `cases.mla_pdf`.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from . import mla_forms
from .choices import AssistanceType, LegalBasis, MLAKind, MLAStatus, Urgency
from .models import MLARequest


@dataclass
class Section:
    """One numbered heading of the letter and what stands under it."""

    heading: str
    paragraphs: list[str] = field(default_factory=list)
    bullets: list[str] = field(default_factory=list)
    # (title, [(label, text)]) per assistance type
    specifics: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)


@dataclass
class Letter:
    language: str
    title: str
    draft: bool
    draft_mark: str
    confidential: str
    meta: list[tuple[str, str]]
    sections: list[Section]
    signature: list[str]
    signature_lines: list[str]


def _letter_date(request: MLARequest) -> dt.date:
    """Dated the day it was submitted (received) where the sender works; a draft, today."""
    moment = request.received_at or timezone.now()
    return moment.astimezone(zoneinfo.ZoneInfo(request.requesting_agency.timezone)).date()


def _text(value: Any) -> str:
    return "; ".join(value) if isinstance(value, list) else str(value)


def letter_of(request: MLARequest) -> Letter:
    """The letter's content; call inside `translation.override(request.language)`."""
    preservation = request.kind == MLAKind.PRESERVATION
    title = (
        _("Request for expedited preservation of stored data")
        if preservation
        else _("Request for mutual legal assistance in criminal matters")
    )
    sender, receiver = request.requesting_agency, request.requested_agency
    # Never submitted (a draft, or a draft withdrawn): not a letter that was sent.
    draft = request.status == MLAStatus.DRAFT or request.received_at is None
    meta = [
        (_("Date"), date_format(_letter_date(request), "DATE_FORMAT")),
        (_("From"), f"{sender.name} ({sender.code}, {sender.country})"),
        (_("To"), f"{receiver.name} ({receiver.code}, {receiver.country})"),
        (_("Our reference"), request.requesting_reference or str(request.public_id)),
        (_("Your reference"), request.requested_reference or _("not yet assigned")),
    ]
    if draft:
        meta.append((_("Status"), _("Draft, not submitted")))
    types = dict(AssistanceType.choices)
    urgency = [
        str(dict(Urgency.choices).get(request.urgency, request.urgency))
        + (f": {request.urgency_reason}" if request.urgency_reason else "")
    ]
    if request.response_due_date:
        due = _("A response is requested by %(date)s.") % {
            "date": date_format(request.response_due_date, "DATE_FORMAT")
        }
        if request.response_due_reason:
            due += " " + _("Reasons: %(reasons)s") % {"reasons": request.response_due_reason}
        urgency.append(due)
    specifics = [
        (title_, [(label, _text(value)) for label, value in rows])
        for title_, rows in mla_forms.details_as_rows(request.details)
    ]
    sections = [
        Section(
            _("Requesting authority"),
            [
                _("%(agency)s, acting in the matter registered under reference %(case)s.")
                % {"agency": sender.name, "case": request.case.reference}
            ],
        ),
        Section(
            _("Legal basis"),
            [
                str(dict(LegalBasis.choices).get(request.legal_basis, request.legal_basis))
                + (f" — {request.legal_basis_detail}" if request.legal_basis_detail else "")
            ],
        ),
        Section(_("Urgency"), urgency),
        Section(_("Summary of facts"), [request.facts]),
        Section(_("Offences and penalties"), [request.offences]),
        Section(
            _("Persons and accounts concerned"), [request.persons_concerned or _("None named.")]
        ),
        Section(
            _("Assistance requested"),
            [request.assistance_sought] if request.assistance_sought else [],
            [str(types.get(t, t)) for t in request.assistance_types or []],
            specifics,
        ),
        Section(
            _("Procedures to be followed"),
            [request.procedures or _("No special procedure requested.")],
        ),
        Section(
            _("Confidentiality"),
            [
                _(
                    "The requesting authority asks that the existence and content of this "
                    "request be kept confidential, except as needed to execute it."
                )
                if request.confidentiality_required
                else _("No confidentiality requirement beyond the usual.")
            ],
        ),
        Section(_("Language"), [mla_forms.language_name(request.language)]),
        Section(_("Contact"), [request.contact_details or sender.name]),
    ]
    return Letter(
        language=request.language,
        title=title,
        draft=draft,
        draft_mark=_("DRAFT"),
        confidential=(
            _(
                "CONFIDENTIAL — this request and its contents must not be disclosed beyond "
                "what its execution requires."
            )
            if request.confidentiality_required
            else ""
        ),
        meta=meta,
        sections=sections,
        signature=[_("For %(agency)s") % {"agency": sender.name}],
        signature_lines=[_("Name and title"), _("Signature"), _("Official seal")],
    )
