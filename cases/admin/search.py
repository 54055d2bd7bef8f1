"""The admin's search page: one box over everything the reader may see.

`cases.search` finds (through the gate's selectors); this page reads the
form, and links each result to where it lives: its case's workspace, on
the tab that shows it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cases import search
from cases.choices import SearchKind
from gate.errors import ValidationFailed

PAGE_SIZE = search.DEFAULT_PAGE_SIZE
#: The workspace tab that shows each kind (`cases/static/casebridge/workspace.js`).
WORKSPACE_TABS: dict[str, str] = {
    SearchKind.CASE: "overview",
    SearchKind.NOTE: "journal",
    SearchKind.TASK: "tasks",
    SearchKind.DOCUMENT: "evidence",
    SearchKind.IDENTIFIER: "identifiers",
}


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search for"),
        min_length=search.MIN_QUERY_LENGTH,
        max_length=search.MAX_QUERY_LENGTH,
    )
    kind = forms.MultipleChoiceField(
        label=_("Look in"),
        choices=SearchKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Nothing ticked: everything."),
    )
    page = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)


@dataclass(frozen=True)
class Row:
    hit: search.Hit
    url: str
    kind_label: str


def _url(site, hit: search.Hit) -> str:
    if hit.case_pk is None:  # a document of an MLA request whose case is not seen
        return reverse("admin:cases_document_change", args=[hit.pk], current_app=site.name)
    workspace = reverse("admin:cases_case_change", args=[hit.case_pk], current_app=site.name)
    return f"{workspace}#{WORKSPACE_TABS[hit.kind]}"


def search_page(site, request: HttpRequest) -> TemplateResponse:
    """GET only: a search is a question, and its address can be kept or shared
    (it names the words, never a result)."""
    form = SearchForm(request.GET if "q" in request.GET else None)
    rows: list[Row] | None = None
    page = 1
    has_more = False
    if form.is_bound and form.is_valid():
        page = form.cleaned_data["page"] or 1
        labels = {value: str(label) for value, label in SearchKind.choices}
        try:
            found = search.search(
                request.user,
                form.cleaned_data["q"],
                kinds=form.cleaned_data["kind"] or None,
                offset=(page - 1) * PAGE_SIZE,
                limit=PAGE_SIZE,
            )
        except ValidationFailed as exc:
            for message in exc.errors.get("q", []):
                form.add_error("q", message)
        else:
            rows = [Row(hit, _url(site, hit), labels[hit.kind]) for hit in found.hits]
            has_more = found.has_more
    query = request.GET.copy()
    query.pop("page", None)
    request.current_app = site.name
    return TemplateResponse(
        request,
        "admin/casebridge/search.html",
        {
            **site.each_context(request),
            "title": _("Search"),
            "subtitle": None,
            "form": form,
            "rows": rows,
            "page": page,
            "previous_query": f"{query.urlencode()}&page={page - 1}" if page > 1 else "",
            "next_query": f"{query.urlencode()}&page={page + 1}" if has_more else "",
        },
    )
