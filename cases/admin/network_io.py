"""The import of transactions from a CSV file, on the case workspace.

One page per case (`…/transaction/import/<case id>/`, linked from the
Network tab): the file, the handling it takes and the zone of times given
without one; "Check the file" reports every rejected row and shows the
first valid ones, recording nothing; "Import" records every row or none
(`cases.transaction_import`, whose docstring says why all or nothing).
With JavaScript (casebridge/imports.js) the file goes up with a progress
bar and the report replaces the previous one without leaving the page, so
the chosen file stays chosen between the check and the import; without it,
the form posts as any other.

The page is the case's: 404 for a case the reader may not see, 403 for a
reader who may not add to it.
"""

from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from agencies.actors import AuthenticatedHttpRequest
from cases import access, transaction_import
from cases.choices import HandlingCode, HandlingInstruction
from gate.errors import DomainError

_ZONES = sorted(zoneinfo.available_timezones())


class TransactionImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("UTF-8 (in Excel: “CSV UTF-8”), with the header described above."),
    )
    handling_code = forms.ChoiceField(
        label=_("handling code"), choices=HandlingCode.choices, initial=HandlingCode.AMBER
    )
    handling_instruction = forms.ChoiceField(
        label=_("handling instruction"),
        choices=HandlingInstruction.choices,
        initial=HandlingInstruction.H0,
    )
    handling_restriction = forms.CharField(
        label=_("restriction (H3)"), required=False, max_length=500
    )
    time_zone = forms.ChoiceField(
        label=_("time zone"),
        choices=[(zone, zone) for zone in _ZONES],
        help_text=_("Of the times in the file that do not give one."),
    )


def import_view(model_admin: Any, request: AuthenticatedHttpRequest, case_id: str) -> HttpResponse:
    """The import page of one case (see the module's docstring)."""
    case = None
    if case_id.isdigit():
        case = access.visible_cases(request.user).filter(pk=case_id).first()
    if case is None:
        raise Http404(gettext("Not found."))
    if not access.can(request.user, "contribute", case):
        raise PermissionDenied
    agency = access.agency_of(request.user)
    initial = {"time_zone": agency.timezone if agency is not None else "UTC"}
    form = TransactionImportForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        initial=initial,
    )
    report = None
    case_url = reverse("admin:cases_case_change", args=[case.pk])
    if form.is_bound and form.is_valid():
        data = dict(form.cleaned_data)
        upload = data.pop("file")
        try:
            report = transaction_import.import_transactions(
                actor=request.user,
                case=case,
                file=upload,
                size=upload.size,
                dry_run="import" not in request.POST,
                **data,
            )
        except DomainError as exc:
            for field, errors in exc.errors.items():
                for message in errors:
                    form.add_error(field if field in form.fields else None, message)
        finally:
            upload.close()
        if report is not None and report.imported:
            model_admin.message_user(
                request,
                gettext("%(n)d transactions imported.") % {"n": report.imported},
                messages.SUCCESS,
            )
    context = {
        **model_admin.admin_site.each_context(request),
        "title": gettext("Import transactions from CSV"),
        "subtitle": None,
        "opts": model_admin.opts,
        "case": case,
        "case_url": case_url,
        "network_url": f"{case_url}#network",
        "form": form,
        "report": report,
        "required_columns": transaction_import.REQUIRED_COLUMNS,
        "optional_columns": transaction_import.OPTIONAL_COLUMNS,
        "example": transaction_import.EXAMPLE_CSV,
        "max_rows": settings.TRANSACTION_IMPORT_MAX_ROWS,
    }
    request.current_app = model_admin.admin_site.name
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        return TemplateResponse(request, "admin/cases/transaction/_import_result.html", context)
    return TemplateResponse(request, "admin/cases/transaction/import.html", context)
