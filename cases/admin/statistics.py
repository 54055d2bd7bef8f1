"""The admin's Statistics page: the figures of `cases.statistics` as charts.

The charts are bars drawn as SVG on the server: no chart library, no
script, nothing inline that the Content Security Policy (`style-src
'self'`, `script-src 'self'`) would refuse; they print and read the same in
every language. A suppressed count ("<5") gets no bar: its length would
give the number back.

Coordinators read the figures; an agency's administrators, who read no
case figures (separation of duties), set here whether their agency
contributes to the pooled figures (`agencies.services.set_statistics_contribution`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from agencies import services as agency_services
from cases import access, statistics
from cases.choices import AssetState, CrimeType, MLAStatus
from gate.errors import DomainError
from gate.roles import ROLE_RANK, Role

#: Widths are per cent of the chart's bar column.
FULL_BAR = 100


class StatisticsForm(forms.Form):
    scope = forms.ChoiceField(
        label=_("Figures of"),
        choices=[
            (statistics.SCOPE_AGENCY, _("My agency (what it may see)")),
            (statistics.SCOPE_CONTRIBUTORS, _("The contributing agencies, pooled")),
        ],
        required=False,
    )
    since = forms.DateField(
        label=_("First day"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("Last day"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end of the period is before its start."))
        return data


class ContributionForm(forms.Form):
    contributes = forms.BooleanField(
        label=_("Contribute my agency's figures to the pooled statistics"), required=False
    )


@dataclass(frozen=True)
class Bar:
    label: str
    shown: Any  # a count, or "<5"
    width: float


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    bars: list[Bar]


def _chart(key: str, title: str, rows: list[tuple[str, Any]]) -> Chart:
    largest = max((n for _label, n in rows if isinstance(n, int)), default=0)
    return Chart(
        key=key,
        title=title,
        bars=[
            Bar(
                label=label,
                shown=n,
                width=round(FULL_BAR * n / largest, 1) if isinstance(n, int) and largest else 0,
            )
            for label, n in rows
        ],
    )


def _charts(figures: dict[str, Any]) -> list[Chart]:
    crime = dict(CrimeType.choices)
    state = dict(MLAStatus.choices)
    cases, requests, victims = figures["cases"], figures["mla_requests"], figures["victims"]
    return [
        _chart(
            "crime-types",
            gettext("Cases by crime type"),
            [(str(crime[r["crime_type"]]), r["count"]) for r in cases["by_crime_type"]],
        ),
        _chart(
            "countries",
            gettext("Cases by country of the lead agency"),
            [(r["country"], r["count"]) for r in cases["by_country"]],
        ),
        _chart(
            "mla-states",
            gettext("MLA requests by state"),
            [(str(state[r["state"]]), r["count"]) for r in requests["by_state"]],
        ),
        _chart(
            "nationalities",
            gettext("Victims identified, by nationality"),
            [
                (r["nationality"] or gettext("Not recorded"), r["count"])
                for r in victims["by_nationality"]
            ],
        ),
    ]


def _crime_table(cases: dict[str, Any]) -> dict[str, Any]:
    """The crime type x country table, pivoted for the page."""
    crime = dict(CrimeType.choices)
    countries = [row["country"] for row in cases["by_country"]]
    cells = {
        (r["crime_type"], r["country"]): r["count"] for r in cases["by_crime_type_and_country"]
    }
    return {
        "countries": countries,
        "rows": [
            {
                "label": crime[r["crime_type"]],
                "cells": [cells.get((r["crime_type"], c), 0) for c in countries],
                "total": r["count"],
            }
            for r in cases["by_crime_type"]
        ],
        "column_totals": [r["count"] for r in cases["by_country"]],
        "total": cases["total"],
    }


def _contribution(site, request: HttpRequest, agency) -> HttpResponseRedirect:
    form = ContributionForm(request.POST)
    if form.is_valid():
        try:
            agency_services.set_statistics_contribution(
                actor=request.user, agency=agency, contributes=form.cleaned_data["contributes"]
            )
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, gettext("Your agency's choice was saved."))
    return HttpResponseRedirect(reverse("admin:statistics", current_app=site.name))


def statistics_page(site, request: HttpRequest) -> TemplateResponse | HttpResponseRedirect:
    """GET: the figures (coordinators). POST: the agency's consent (its administrators)."""
    membership = access.membership_of(request.user)
    agency = membership.agency if membership else None
    may_consent = agency is not None and agency_services.may_set_statistics_contribution(
        request.user, agency
    )
    reads = membership is not None and ROLE_RANK[membership.role] >= ROLE_RANK[Role.COORDINATOR]
    if request.method == "POST" and may_consent:
        return _contribution(site, request, agency)
    context: dict[str, Any] = {
        **site.each_context(request),
        "title": _("Statistics"),
        "subtitle": None,
        "agency": agency,
        "may_consent": may_consent,
        "contribution_form": ContributionForm(
            initial={"contributes": agency.contributes_statistics if agency else False}
        ),
        "reads": reads,
        "suppressed": statistics.SUPPRESSED,
        "min_contributors": statistics.MIN_CONTRIBUTORS,
    }
    if not reads and not may_consent:
        context["message"] = gettext("Statistics are for coordinators.")
        request.current_app = site.name
        return TemplateResponse(request, "admin/casebridge/refused.html", context, status=403)
    if reads:
        form = StatisticsForm(request.GET or None)
        context["form"] = form
        if not form.is_bound or form.is_valid():
            data = form.cleaned_data if form.is_bound else {}
            figures = statistics.statistics(
                request.user,
                scope=data.get("scope") or statistics.SCOPE_AGENCY,
                since=data.get("since"),
                until=data.get("until"),
            )
            context["figures"] = figures
            if not figures["withheld"]:
                context["charts"] = _charts(figures)
                context["crime_table"] = _crime_table(figures["cases"])
                requests = figures["mla_requests"]
                context["delays"] = [
                    (_("Median time to decision"), requests["median_days_to_decision"]),
                    (_("Median time to execution"), requests["median_days_to_execution"]),
                ]
                states = dict(AssetState.choices)
                context["asset_rows"] = [
                    {**row, "state_label": states[row["state"]]} for row in figures["assets"]
                ]
    request.current_app = site.name
    return TemplateResponse(request, "admin/casebridge/statistics.html", context)
