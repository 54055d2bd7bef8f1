"""Identifiers and the deconfliction search form in the admin.

Identifiers are records: added through `add_identifier`, never changed or
deleted here. Recording one shows at once who else holds it
(`…/identifier/<pk>/check/`, which also re-checks it on demand). The search
page (`…/identifier/search/`) takes one identifier (kind from a list, value,
country, chain) or, for power users, up to 1,000 as CSV with a header row,
and shows per identifier the hits in visible cases in full and, for the
others, only the holding agency, its country, the kind and the date, with a
button that asks that agency to get in touch.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cases import access, deconfliction
from cases.choices import Chain, IdentifierKind
from cases.models import Identifier
from config.admin_base import FIELD_SELECTORS, GatedModelAdmin
from config.ratelimit import RateLimited
from gate.errors import DomainError
from gate.roles import Role

from . import lists
from .rows import tlp_badge

FIELD_SELECTORS[Identifier] = access.visible_identifiers

# Columns of the bulk search, by header name. Without a header row, a line is
# "kind, value" followed by a country and/or a chain, told apart by their values.
CSV_COLUMNS = (
    "kind",
    "value",
    "country",
    "chain",
    "date_of_birth",
    "platform",
    "bank_code",
    "registration_number",
)


def _by_value_or_label(choices, text: str) -> str:
    """The stored value of a choice given as its value or its label (any case):
    `phone`, `Phone number`, `tron`, `TRON`. Unknown text is returned as given,
    for the service to refuse with its own message."""
    folded = text.strip().casefold()
    for value, label in choices:
        if folded in (str(value).casefold(), str(label).casefold()):
            return value
    return text.strip()


def read_kind(text: str) -> str:
    return _by_value_or_label(IdentifierKind.choices, text)


def read_chain(text: str) -> str:
    return _by_value_or_label(Chain.choices, text)


def _is_chain(text: str) -> bool:
    return read_chain(text) in Chain.values


class IdentifierForm(forms.ModelForm):
    value = forms.CharField(label=_("value"), max_length=500)

    class Meta:
        model = Identifier
        fields = ("case", *deconfliction.IDENTIFIER_FIELDS)

    def _post_clean(self):
        """Normalisation and the rest are the service's job (errors come back on the form)."""


class SingleSearchForm(forms.Form):
    """One identifier: its kind from the same list as the identifier form."""

    kind = forms.ChoiceField(label=capfirst(_("kind")), choices=IdentifierKind.choices)
    value = forms.CharField(label=capfirst(_("value")), max_length=500)
    country = forms.CharField(
        label=capfirst(_("country")),
        max_length=3,
        required=False,
        help_text=_(
            "For a phone number written without +country code, a passport, a person "
            "or a bank account: an ISO code such as KH or KOR."
        ),
    )
    chain = forms.ChoiceField(
        label=capfirst(_("blockchain")),
        choices=[("", "—"), *Chain.choices],
        required=False,
        help_text=_("For a wallet address or a transaction hash."),
    )

    def identifiers(self) -> list[dict[str, str]]:
        return [{k: v.strip() for k, v in self.cleaned_data.items() if v and v.strip()}]


class BulkSearchForm(forms.Form):
    """Many identifiers as CSV, for power users."""

    identifiers = forms.CharField(
        label=_("Identifiers (CSV)"),
        widget=forms.Textarea(attrs={"rows": 10, "cols": 100}),
        help_text=_(
            "One identifier per line. Start with a header row naming the columns, for "
            "example: kind,value,country,chain (also: date_of_birth, platform, bank_code, "
            "registration_number). Kinds and chains may be written as on the identifier "
            "form (Phone number, TRON) or as codes (phone, tron). Without a header row, "
            "each line is kind, value, then a country and/or a chain."
        ),
    )

    def clean_identifiers(self) -> list[dict[str, str]]:
        text = self.cleaned_data["identifiers"]
        rows = [
            [cell.strip() for cell in row]
            for row in csv.reader(io.StringIO(text), skipinitialspace=True)
            if any(cell.strip() for cell in row)
        ]
        header = None
        if (
            rows
            and {c.casefold() for c in rows[0]} <= set(CSV_COLUMNS)
            and ("kind" in {c.casefold() for c in rows[0]})
        ):
            header = [c.casefold() for c in rows.pop(0)]
        limit = settings.DECONFLICTION_MAX_SEARCH
        if not rows:
            raise forms.ValidationError(gettext("Give at least one identifier."))
        if len(rows) > limit:
            raise forms.ValidationError(
                gettext("At most %(n)d identifiers per search.") % {"n": limit}
            )
        items = []
        for number, row in enumerate(rows, start=2 if header else 1):
            item = self._by_header(header, row) if header else self._by_content(row)
            if item is None:
                raise forms.ValidationError(
                    gettext(
                        "Line %(line)d has more columns than kind, value, country and chain: "
                        "start with a header row naming them."
                    )
                    % {"line": number}
                )
            item["kind"] = read_kind(item.get("kind", ""))
            item.setdefault("value", "")
            if item.get("chain"):
                item["chain"] = read_chain(item["chain"])
            items.append(item)
        return items

    @staticmethod
    def _by_header(header: list[str], row: list[str]) -> dict[str, str] | None:
        if len(row) > len(header):
            return None
        return {name: cell for name, cell in zip(header, row, strict=False) if cell}

    @staticmethod
    def _by_content(row: list[str]) -> dict[str, str] | None:
        item = {name: cell for name, cell in zip(("kind", "value"), row, strict=False)}
        for cell in row[2:]:
            if not cell:
                continue
            slot = "chain" if _is_chain(cell) else "country"
            if slot in item:
                return None
            item[slot] = cell
        return item


def answer_rows(answers) -> list[dict]:
    """Search answers as the results table shows them: kinds and fields by their labels."""
    kinds = dict(IdentifierKind.choices)
    fields = {name: SingleSearchForm.base_fields.get(name) for name in CSV_COLUMNS}
    rows = []
    for answer in answers:
        errors = [
            (
                str(fields[field].label) if fields.get(field) else "",
                message,
            )
            for field, messages_ in (answer.errors or {}).items()
            for message in messages_
        ]
        rows.append(
            {
                "number": answer.index + 1,
                "kind": kinds.get(answer.kind, answer.kind),
                "value": answer.value,
                "errors": errors,
                "hits": answer.hits,
                "held_elsewhere": answer.held_elsewhere,
            }
        )
    return rows


@admin.register(Identifier)
class IdentifierAdmin(GatedModelAdmin):
    """Identifiers on the cases the agency may see, and the deconfliction search."""

    selector = access.visible_identifiers
    list_selector = access.listed_identifiers
    form = IdentifierForm
    add_role = Role.INVESTIGATOR
    list_display = ("created_at", "case_reference", "kind", "raw_value", "agency", "handling")
    # The API's identifier list: newest first on its sync-order index
    # (`cases.admin.lists`).
    list_filter = ("kind", "handling_code", lists.AuthorAgencyFilter)
    ordering = lists.IDENTIFIER_ORDER
    count_pages_ahead = lists.CHILD_COUNT_PAGES_AHEAD
    sortable_by = ("created_at",)
    search_fields = ("raw_value", "normalised_value", "case__reference")
    list_select_related = ("case", "agency")
    autocomplete_fields = ("case",)
    readonly_on_change = (
        "case_reference",
        "kind",
        "raw_value",
        "normalised_value",
        "chain",
        "country",
        "date_of_birth",
        "platform",
        "bank_code",
        "registration_number",
        "notes",
        "handling",
        "handling_instruction",
        "handling_restriction",
        "agency",
        "created_at",
    )

    def get_fields(self, request, obj=None):
        return IdentifierForm.Meta.fields if obj is None else self.readonly_on_change

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_on_change

    @admin.display(description=_("case"))
    def case_reference(self, identifier):
        # A visible identifier is on a case the reader sees (access.visible_identifiers).
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:cases_case_change", args=[identifier.case_id]),
            identifier.case.reference,
        )

    @admin.display(description=_("handling code"))
    def handling(self, identifier):
        return tlp_badge(identifier.handling_code)

    change_form_template = "admin/cases/identifier/change_form.html"

    def create_via_service(self, request, form):
        data = dict(form.cleaned_data)
        return deconfliction.add_identifier(actor=request.user, **data)

    # --- from the case page: `?case=<pk or public id>` ---------------------------

    def response_add(self, request, obj, post_url_continue=None):
        """After recording an identifier, show at once who else holds it."""
        if "_addanother" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        self.message_user(
            request,
            gettext("The identifier “%(identifier)s” was recorded on %(case)s.")
            % {"identifier": obj, "case": obj.case.reference},
            messages.SUCCESS,
        )
        self._run_check(request, obj)
        return HttpResponseRedirect(self._check_url(obj))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "may_check": access.has_role(request.user, Role.INVESTIGATOR),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    # --- the search page ------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "search/",
                self.admin_site.admin_view(self.search_view),
                name="cases_identifier_search",
            ),
            path(
                "request-contact/",
                self.admin_site.admin_view(self.request_contact_view),
                name="cases_identifier_request_contact",
            ),
            path(
                "<path:object_id>/check/",
                self.admin_site.admin_view(self.check_view),
                name="cases_identifier_check",
            ),
            *super().get_urls(),
        ]

    def _context(self, request, **extra):
        request.current_app = self.admin_site.name
        return {
            **self.admin_site.each_context(request),
            "subtitle": None,
            "opts": self.opts,
            "may_search": access.has_role(request.user, Role.INVESTIGATOR),
            **extra,
        }

    def search_view(self, request):
        """One identifier from a form (kind from a list), or many as CSV."""
        answers = None
        single, bulk = SingleSearchForm(), BulkSearchForm()
        # Roles that may not search get the note, not a form (the service refuses anyway).
        if request.method == "POST" and access.has_role(request.user, Role.INVESTIGATOR):
            if "identifiers" in request.POST:
                form = bulk = BulkSearchForm(request.POST)
            else:
                form = single = SingleSearchForm(request.POST)
            if form.is_valid():
                items = form.cleaned_data["identifiers"] if form is bulk else single.identifiers()
                answers = self._search(request, form, items)
        context = self._context(
            request,
            title=_("Deconfliction search"),
            form=single,
            bulk_form=bulk,
            bulk_open=request.method == "POST" and "identifiers" in request.POST,
            answers=None if answers is None else answer_rows(answers),
            back_url=reverse("admin:cases_identifier_search"),
        )
        return TemplateResponse(request, "admin/cases/identifier/search.html", context)

    def _search(self, request, form, items):
        """The service's answers, or None with its refusal on the form (once)."""
        try:
            return deconfliction.search(actor=request.user, identifiers=items)
        except RateLimited as exc:
            form.add_error(None, str(exc))
        except DomainError as exc:
            for message in dict.fromkeys(m for msgs in exc.errors.values() for m in msgs):
                form.add_error(None, message)
        return None

    # --- one recorded identifier ------------------------------------------------

    SESSION_KEY = "cb_identifier_check"

    def _check_url(self, obj) -> str:
        return reverse(
            "admin:cases_identifier_check", args=[obj.pk], current_app=self.admin_site.name
        )

    def _run_check(self, request, identifier) -> None:
        """Deconflict `identifier`; keep the answer for the next page (PRG)."""
        try:
            answer = deconfliction.deconflict_identifier(actor=request.user, identifier=identifier)
        except RateLimited as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        except DomainError as exc:
            self.message_user(request, str(exc.message), messages.ERROR)
            return
        request.session[self.SESSION_KEY] = {"pk": identifier.pk, "answer": answer.as_dict()}

    def check_view(self, request, object_id):
        """GET: the last check of this identifier, or a button to run it; POST: run it."""
        obj = self.get_object(request, object_id)
        if not self.has_view_permission(request, obj):
            raise Http404(gettext("Not found."))
        if request.method == "POST":
            self._run_check(request, obj)
            return HttpResponseRedirect(self._check_url(obj))
        stored = request.session.get(self.SESSION_KEY) or {}
        answers = None
        if stored.get("pk") == obj.pk:
            answers = answer_rows([_answer_from_dict(stored["answer"])])
        context = self._context(
            request,
            title=gettext("Deconfliction: %(identifier)s") % {"identifier": obj},
            original=obj,
            answers=answers,
            case_visible=access.is_visible(request.user, obj.case),
            back_url=self._check_url(obj),
        )
        return TemplateResponse(request, "admin/cases/identifier/check.html", context)

    def request_contact_view(self, request):
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ) or not back.startswith("/admin/"):
            back = reverse("admin:cases_identifier_search")
        if request.method != "POST":
            return HttpResponseRedirect(back)
        try:
            contact = deconfliction.request_contact(
                actor=request.user, token=request.POST.get("token", "")
            )
        except DomainError as exc:
            self.message_user(request, str(exc.message), messages.ERROR)
        else:
            self.message_user(
                request,
                gettext("%(agency)s's coordinators were asked to contact you.")
                % {"agency": contact.holder_agency.code},
                messages.SUCCESS,
            )
        return HttpResponseRedirect(back)


def _answer_from_dict(data: dict) -> deconfliction.SearchAnswer:
    """A stored `SearchAnswer.as_dict()` back as an answer (for `answer_rows`)."""
    return deconfliction.SearchAnswer(
        index=data["index"],
        kind=data["kind"],
        value=data["value"],
        normalised_value=data.get("normalised_value", ""),
        errors=data.get("errors"),
        hits=[deconfliction.VisibleHit(**hit) for hit in data["hits"]],
        held_elsewhere=[
            deconfliction.RestrictedHit(
                **{**held, "first_recorded": dt.date.fromisoformat(held["first_recorded"])}
            )
            for held in data["held_elsewhere"]
        ],
    )
