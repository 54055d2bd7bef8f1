"""Identifiers and the deconfliction search form in the admin.

Identifiers are records: added through `add_identifier`, never changed or
deleted here. The search page (`…/identifier/search/`) takes up to 1,000
identifiers, one per line, and shows per identifier the hits in visible
cases in full and, for the others, only the holding agency, its country,
the kind and the date, with a button that asks that agency to get in touch.
"""

from __future__ import annotations

import csv
import io

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from agencies.choices import Role
from cases import access, deconfliction
from cases.errors import DomainError
from cases.models import Identifier
from config.ratelimit import RateLimited

from .base import FIELD_SELECTORS, GatedModelAdmin
from .cases import tlp_badge

FIELD_SELECTORS[Identifier] = access.visible_identifiers

LINE_COLUMNS = (
    "kind",
    "value",
    "chain",
    "country",
    "date_of_birth",
    "platform",
    "bank_code",
    "registration_number",
)


class IdentifierForm(forms.ModelForm):
    value = forms.CharField(label=_("value"), max_length=500)

    class Meta:
        model = Identifier
        fields = (
            "case",
            "kind",
            "value",
            "chain",
            "country",
            "date_of_birth",
            "platform",
            "bank_code",
            "registration_number",
            "notes",
            "handling_code",
            "handling_instruction",
            "handling_restriction",
        )

    def _post_clean(self):
        """Normalisation and the rest are the service's job (errors come back on the form)."""


class SearchForm(forms.Form):
    identifiers = forms.CharField(
        label=_("identifiers"),
        widget=forms.Textarea(attrs={"rows": 12, "cols": 100}),
        help_text=_(
            "One per line: kind, value, then as the kind needs: chain, country, date of "
            "birth, platform, bank code, registration number (comma-separated, quotes allowed). "
            "Kinds: crypto_wallet, crypto_tx, phone, email, iban, bank_account, domain, url, "
            "social_handle, person, passport, company, ip_address."
        ),
    )

    def clean_identifiers(self) -> list[dict[str, str]]:
        lines = [line for line in self.cleaned_data["identifiers"].splitlines() if line.strip()]
        limit = settings.DECONFLICTION_MAX_SEARCH
        if len(lines) > limit:
            raise forms.ValidationError(
                gettext("At most %(n)d identifiers per search.") % {"n": limit}
            )
        items = []
        for row in csv.reader(io.StringIO("\n".join(lines)), skipinitialspace=True):
            item = {k: v.strip() for k, v in zip(LINE_COLUMNS, row, strict=False) if v.strip()}
            item.setdefault("kind", "")
            item.setdefault("value", "")
            items.append(item)
        return items


@admin.register(Identifier)
class IdentifierAdmin(GatedModelAdmin):
    """Identifiers on the cases the agency may see, and the deconfliction search."""

    selector = access.visible_identifiers
    form = IdentifierForm
    add_role = Role.INVESTIGATOR
    list_display = ("created_at", "case_reference", "kind", "raw_value", "agency", "handling")
    list_filter = ("kind", "handling_code", "agency")
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

    @admin.display(description=_("case"), ordering="case__reference")
    def case_reference(self, identifier):
        return identifier.case.reference

    @admin.display(description=_("handling code"), ordering="handling_code")
    def handling(self, identifier):
        return tlp_badge(identifier.handling_code)

    def create_via_service(self, request, form):
        data = dict(form.cleaned_data)
        return deconfliction.add_identifier(actor=request.user, **data)

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
            *super().get_urls(),
        ]

    def search_view(self, request):
        answers = None
        if request.method == "POST":
            form = SearchForm(request.POST)
            if form.is_valid():
                try:
                    answers = deconfliction.search(
                        actor=request.user, identifiers=form.cleaned_data["identifiers"]
                    )
                except RateLimited as exc:
                    form.add_error(None, str(exc))
                except DomainError as exc:
                    for field, errors in exc.errors.items():
                        for error in errors:
                            form.add_error(field if field in form.fields else None, error)
        else:
            form = SearchForm()
        context = {
            **self.admin_site.each_context(request),
            "title": _("Deconfliction search"),
            "subtitle": None,
            "opts": self.opts,
            "form": form,
            "answers": answers,
            "may_search": access.has_role(request.user, Role.INVESTIGATOR),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/cases/identifier/search.html", context)

    def request_contact_view(self, request):
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:cases_identifier_search"))
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
        return HttpResponseRedirect(reverse("admin:cases_identifier_search"))
