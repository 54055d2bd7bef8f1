"""Admin pages that are not a model's: "My work" and personal preferences."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from agencies import services as agency_services
from cases import access
from cases.choices import TaskStatus
from gate.errors import DomainError

OPEN_TASK_STATUSES = (TaskStatus.TODO, TaskStatus.IN_PROGRESS, TaskStatus.BLOCKED)
RECENT_SHARE_DAYS = 30


def my_work(site, request: HttpRequest, extra_context=None) -> TemplateResponse:
    """My agency's open tasks by due date, cases shared with us lately, what is overdue.

    Everything comes from the gate's selectors, so the page shows what the
    agency may see and nothing more.
    """
    user = request.user
    agency = access.agency_of(user)
    today = timezone.localdate()
    context = {
        **site.each_context(request),
        "title": site.index_title,
        "subtitle": None,
        "app_list": site.get_app_list(request),
        "agency": agency,
        **(extra_context or {}),
    }
    if agency is not None:
        my_tasks = (
            access.visible_tasks(user)
            .filter(assigned_agency=agency, status__in=OPEN_TASK_STATUSES)
            .select_related("case")
            .order_by("due_date", "id")
        )
        since = timezone.now() - dt.timedelta(days=RECENT_SHARE_DAYS)
        shared = (
            access.visible_participations(user)
            .filter(agency=agency, revoked_at__isnull=True, granted_at__gte=since)
            .exclude(case__lead_agency=agency)
            .select_related("case", "case__lead_agency")
            .order_by("-granted_at")
        )
        context.update(
            {
                "open_tasks": my_tasks[:50],
                "overdue_tasks": my_tasks.filter(due_date__lt=today)[:50],
                "recent_shares": shared[:20],
                "today": today,
            }
        )
    request.current_app = site.name
    return TemplateResponse(request, "admin/casebridge/my_work.html", context)


class PreferencesForm(forms.Form):
    language = forms.ChoiceField(
        label=_("language"),
        choices=[("", _("Browser's language")), *settings.LANGUAGES],
        required=False,
    )


def preferences(site, request: HttpRequest) -> TemplateResponse | HttpResponseRedirect:
    """Each person picks the language of their screens (kept on their membership)."""
    membership = access.membership_of(request.user)
    if membership is None:
        return HttpResponseRedirect(reverse("admin:index", current_app=site.name))
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            try:
                agency_services.set_language(
                    actor=request.user, language=form.cleaned_data["language"]
                )
            except DomainError as exc:
                for field, errors in exc.errors.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                language = form.cleaned_data["language"] or settings.LANGUAGE_CODE
                translation.activate(language)
                messages.success(request, gettext("Your preferences were saved."))
                return HttpResponseRedirect(reverse("admin:preferences", current_app=site.name))
    else:
        form = PreferencesForm(initial={"language": membership.language})
    return TemplateResponse(
        request,
        "admin/casebridge/preferences.html",
        {
            **site.each_context(request),
            "title": _("Preferences"),
            "subtitle": None,
            "form": form,
            "timezone": membership.agency.timezone,
        },
    )
