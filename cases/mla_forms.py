"""Forms of MLA requests for people: a section per type of assistance instead of JSON.

`DETAIL_FIELDS` says, per assistance type (and for preservation), which
questions the drafter answers and how each is stored in `MLARequest.details`
(the structure the API takes). Which answers are *required* is not decided
here: `cases.mla.COMPLETENESS` / `PRESERVATION_REQUIRED` are the one place,
read for the "required" marks and enforced by `mla.missing_for_submission`
when the request is submitted. The same labels render the details as text
for the requested side and in the letter of request.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.utils.dateparse import parse_date
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import format_lazy
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _

from . import mla
from .choices import AssistanceType, MLAKind
from .models import MLARequest


@dataclass(frozen=True)
class DetailField:
    """One question of a section; `kind` says how it is asked and stored.

    "line": one line of text (a string); "text": a paragraph (a string);
    "lines": one item per line (a list of strings); "date": a date (an ISO
    string); "choices": ticked options (a list of codes from `choices`).
    """

    name: str
    label: Any
    kind: str = "text"
    help: Any = ""
    choices: tuple[tuple[str, Any], ...] = ()


ASSET_MEASURES = (
    ("tracing", _("Tracing")),
    ("freezing", _("Freezing or seizure")),
    ("confiscation", _("Confiscation")),
)

ONE_PER_LINE = _("One per line.")

DETAIL_FIELDS: dict[str, tuple[DetailField, ...]] = {
    AssistanceType.BANK_RECORDS: (
        DetailField(
            "bank_identifiers",
            _("Banks"),
            "lines",
            _("One bank per line: its name and BIC/SWIFT code, e.g. ACLEDA Bank Plc (ACLBKHPP)."),
        ),
        DetailField(
            "account_identifiers",
            _("Accounts"),
            "lines",
            _("One account per line: IBAN or account number."),
        ),
        DetailField("period_start", _("Period from"), "date"),
        DetailField("period_end", _("Period to"), "date"),
        DetailField(
            "records",
            _("Records sought"),
            "text",
            _("For example: statements, account opening documents, KYC files."),
        ),
    ),
    AssistanceType.SUBSCRIBER_DATA: (
        DetailField(
            "identifiers",
            _("Identifiers"),
            "lines",
            _("One per line: phone numbers, accounts, IP addresses."),
        ),
        DetailField("period_start", _("Time window from"), "date"),
        DetailField("period_end", _("Time window to"), "date"),
        DetailField(
            "providers",
            _("Service providers"),
            "lines",
            _("One per line: the operators or platforms holding the data."),
        ),
    ),
    AssistanceType.SEARCH_AND_SEIZURE: (
        DetailField("premises", _("Place to be searched"), "text"),
        DetailField("items", _("Items to be seized"), "lines", ONE_PER_LINE),
        DetailField(
            "evidence_grounds",
            _("Why the evidence is believed to be there"),
            "text",
        ),
    ),
    AssistanceType.WITNESS_STATEMENT: (
        DetailField("person", _("Person to be heard"), "text", _("Name, and how to find them.")),
        DetailField("questions", _("Questions"), "lines", _("One question per line.")),
    ),
    AssistanceType.ASSET_RECOVERY: (
        DetailField("measures", _("Measures sought"), "choices", choices=ASSET_MEASURES),
        DetailField("assets", _("Assets"), "lines", _("One per line: the asset and where it is.")),
        DetailField(
            "grounds",
            _("Link between the assets and the offence"),
            "text",
            _("And the order relied on, if any."),
        ),
    ),
    AssistanceType.SERVICE_OF_DOCUMENTS: (
        DetailField("documents", _("Documents to be served"), "lines", ONE_PER_LINE),
        DetailField("recipient", _("Person to be served"), "line"),
        DetailField("address", _("Address for service"), "text"),
    ),
    AssistanceType.OTHER: (DetailField("description", _("Assistance sought"), "text"),),
    mla.PRESERVATION_KEY: (
        DetailField("stored_data", _("Stored data to preserve"), "text"),
        DetailField("custodian", _("Who holds the data"), "text"),
    ),
}

SECTION_TITLES: dict[str, Any] = {
    **dict(AssistanceType.choices),
    mla.PRESERVATION_KEY: _("Data to preserve"),
}


def required_names(section: str) -> set[str]:
    """The answers `cases.mla` needs in `section` before submission."""
    if section == mla.PRESERVATION_KEY:
        return {name for name, _message in mla.PRESERVATION_REQUIRED}
    return {name for name, _message in mla.COMPLETENESS.get(section, [])}


def form_field_name(section: str, name: str) -> str:
    return f"{section}__{name}"


def _form_field(section: str, spec: DetailField) -> forms.Field:
    label = spec.label
    help_text = spec.help
    if spec.name in required_names(section):
        # Lazy: the form fields are built once, the help is read in the reader's language.
        help_text = format_lazy(
            "{} {}", _("Needed before the request can be submitted."), help_text
        )
    common = {"label": label, "help_text": help_text, "required": False}
    if spec.kind == "date":
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if spec.kind == "line":
        return forms.CharField(max_length=300, **common)
    if spec.kind == "choices":
        return forms.MultipleChoiceField(
            choices=spec.choices, widget=forms.CheckboxSelectMultiple, **common
        )
    return forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), **common)


def detail_form_fields() -> dict[str, forms.Field]:
    """Every section's questions as form fields named `<section>__<name>`."""
    return {
        form_field_name(section, spec.name): _form_field(section, spec)
        for section, specs in DETAIL_FIELDS.items()
        for spec in specs
    }


def initial_from_details(details: dict | None) -> dict[str, Any]:
    """The form's initial values from a stored `details`."""
    initial: dict[str, Any] = {}
    for section, specs in DETAIL_FIELDS.items():
        stored = (details or {}).get(section) or {}
        for spec in specs:
            value = stored.get(spec.name)
            if value in (None, "", []):
                continue
            if spec.kind == "lines":
                value = "\n".join(map(str, value)) if isinstance(value, list) else str(value)
            elif spec.kind == "date":
                value = (parse_date(value) if isinstance(value, str) else None) or value
            elif spec.kind == "choices" and not isinstance(value, list):
                value = [value]
            initial[form_field_name(section, spec.name)] = value
    return initial


def _stored(spec: DetailField, value: Any) -> Any:
    if spec.kind == "lines":
        return [line.strip() for line in (value or "").splitlines() if line.strip()]
    if spec.kind == "date":
        return value.isoformat() if isinstance(value, dt.date) else None
    if spec.kind == "choices":
        return list(value or [])
    return (value or "").strip()


def details_from_cleaned(
    cleaned: dict[str, Any], sections: list[str], previous: dict | None
) -> dict[str, dict]:
    """`details` for the chosen sections: the answers given, keeping any other
    keys the API stored there; sections no longer chosen are dropped."""
    details: dict[str, dict] = {}
    for section in sections:
        own = dict((previous or {}).get(section) or {})
        for spec in DETAIL_FIELDS.get(section, ()):
            value = _stored(spec, cleaned.get(form_field_name(section, spec.name)))
            if value in (None, "", []):
                own.pop(spec.name, None)
            else:
                own[spec.name] = value
        if own:
            details[section] = own
    return details


def sections_of(kind: str, assistance_types: list[str]) -> list[str]:
    """The detail sections a request of `kind` with these types fills in."""
    if kind == MLAKind.PRESERVATION:
        return [mla.PRESERVATION_KEY]
    return [t for t in assistance_types if t in DETAIL_FIELDS]


def missing_by_form_field(missing: dict[str, list[str]]) -> dict[str, list[str]]:
    """`mla.missing_for_submission`'s keys (`details.bank_records.period_start`)
    as the form's field names (`bank_records__period_start`)."""
    out: dict[str, list[str]] = {}
    for key, messages in missing.items():
        if key.startswith("details."):
            _prefix, section, name = key.split(".", 2)
            key = form_field_name(section, name)
        out.setdefault(key, []).extend(messages)
    return out


def where_in_words(key: str) -> str:
    """A field of `missing_for_submission` (or of a service error) named for people:
    "Bank records — Period from" for `details.bank_records.period_start`."""
    if key.startswith("details."):
        _prefix, section, name = [*key.split(".", 2), "", ""][:3]
        return f"{SECTION_TITLES.get(section, section)} — {_label_of(section, name)}"
    if key in ("non_field_errors", "__all__", ""):
        return ""
    try:
        where = str(MLARequest._meta.get_field(key).verbose_name)
    except Exception:  # a key that is not a field is shown as it is
        where = key.replace("_", " ")
    return where[:1].upper() + where[1:]


def missing_in_words(request) -> list[str]:
    """What keeps `request` from being submitted, each as "<where>: <what to do>"."""
    return [
        f"{where_in_words(key)}: {message}"
        for key, messages in mla.missing_for_submission(request).items()
        for message in messages
    ]


def _label_of(section: str, name: str) -> str:
    for spec in DETAIL_FIELDS.get(section, ()):
        if spec.name == name:
            return str(spec.label)
    return name.replace("_", " ")


def _value_text(spec: DetailField | None, value: Any) -> Any:
    if spec is not None and spec.kind == "choices":
        labels = dict(spec.choices)
        value = [labels.get(v, v) for v in (value if isinstance(value, list) else [value])]
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    if spec is not None and spec.kind == "date":
        day = parse_date(value) if isinstance(value, str) else None
        return day.isoformat() if day else str(value)
    return str(value)


def details_as_rows(details: dict | None) -> list[tuple[str, list[tuple[str, Any]]]]:
    """`details` as (section title, [(label, text or list of texts)]) in the
    order of `DETAIL_FIELDS`; keys it does not know are shown after, by name."""
    sections = []
    for section, stored in (details or {}).items():
        if not isinstance(stored, dict) or not stored:
            continue
        specs = {s.name: s for s in DETAIL_FIELDS.get(section, ())}
        names = [n for n in specs if n in stored] + [n for n in stored if n not in specs]
        rows = [
            (_label_of(section, n), _value_text(specs.get(n), stored[n]))
            for n in names
            if stored[n] not in (None, "", [])
        ]
        sections.append((str(SECTION_TITLES.get(section, section)), rows))
    return sections


def details_html(details: dict | None) -> SafeString:
    """The details as labelled text (read-only pages)."""
    parts = []
    for title, rows in details_as_rows(details):
        items = format_html_join(
            "",
            "<dt>{}</dt><dd>{}</dd>",
            (
                (label, "; ".join(value) if isinstance(value, list) else value)
                for label, value in rows
            ),
        )
        parts.append(format_html('<h4>{}</h4><dl class="mla-details">{}</dl>', title, items))
    return format_html_join("", "{}", ((p,) for p in parts))


# --- language of the request --------------------------------------------------


# Django's own table names Khmer "Khmer" in Khmer; its people write ខ្មែរ.
LOCAL_NAMES = {"km": "ខ្មែរ"}


def language_name(code: str) -> str:
    """A language by its own name, with the reader's name for it: "ខ្មែរ (Khmer)"."""
    try:
        info = get_language_info(code)
    except KeyError:
        return code
    local = LOCAL_NAMES.get(code, info["name_local"])
    translated = str(info.get("name_translated", info["name"]))
    return local if local == translated else f"{local} ({translated})"


def language_choices(current: str | None = None) -> list[tuple[str, str]]:
    """The languages a letter can be written in, by name; a stored code from
    the API that is not among them stays choosable."""
    choices = [(code, language_name(code)) for code, _name in settings.LANGUAGES]
    if current and current not in dict(choices):
        choices.append((current, language_name(current)))
    return choices


# --- transitions ----------------------------------------------------------------

# What a verb's text field is called on its page; `Transition.requires` is its help.
TEXT_LABELS: dict[str, Any] = {
    "request-more-info": _("Your question"),
    "provide-info": _("The information provided"),
    "execute-partially": _("What could not be executed, and why"),
    "refuse": _("Grounds for refusal"),
    "withdraw": _("Reason (optional)"),
}

# Verbs whose page asks for a confirmation even though they need no text:
# they end the request.
CONFIRM_VERBS = {"execute", "withdraw"}


class TransitionForm(forms.Form):
    """One verb's form: the text it needs (if any) and the version seen."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, verb: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.verb = verb
        transition = mla.TRANSITIONS[verb]
        if verb in TEXT_LABELS:
            self.fields["comment"] = forms.CharField(
                label=TEXT_LABELS[verb],
                help_text=transition.requires or "",
                required=False,  # the service says when it is missing
                widget=forms.Textarea(attrs={"rows": 6, "cols": 80}),
            )


class DelayNoticeForm(forms.Form):
    """A delay notice: the reasons and the new date the answer is expected by."""

    reason = forms.CharField(
        label=_("Reasons for the delay"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
    )
    new_due_date = forms.DateField(
        label=_("New expected date"),
        widget=forms.DateInput(attrs={"type": "date"}),
        required=False,
        help_text=_("The request will be answered by the end of this day."),
    )
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def clean_new_due_date(self):
        value = self.cleaned_data.get("new_due_date")
        if value is None:
            raise forms.ValidationError(_("Give the new expected date."))
        return value


class ExtendPreservationForm(forms.Form):
    """Another preservation period: the reason is optional."""

    comment = forms.CharField(
        label=_("Reason (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
    )
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class LinkFollowUpForm(forms.Form):
    """The full request that replaces a preservation request, picked from a list."""

    follow_up = forms.ModelChoiceField(
        label=_("Follow-up request"),
        queryset=None,
        help_text=_("A submitted full request to the same agency."),
        error_messages={"required": _("Choose the follow-up request.")},
    )
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["follow_up"].queryset = candidates
