"""Browser views for evidence: upload, authenticated download, custody report.

Thin: they parse the request, call `cases.documents` and translate domain
errors into HTTP answers. Evidence never has a public URL; these views (and
the API built on the same services) are the only way out.
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from audit import services as audit
from config.admin_base import named_by_parameter
from gate.errors import DomainError, NotFound, PermissionDenied, ValidationFailed

from . import access, documents


def _record_refusal(request: HttpRequest, exc: DomainError, obj=None) -> None:
    if isinstance(exc, (NotFound, PermissionDenied)):
        # The service rolled back; the refusal itself goes on the record here.
        audit.record_refusal(actor=request.user, obj=obj, reason=str(exc.message))


def _error(request: HttpRequest, exc: DomainError, obj=None) -> JsonResponse:
    _record_refusal(request, exc, obj)
    return JsonResponse({"errors": exc.errors}, status=exc.status_code)


def _wants_html(request: HttpRequest) -> bool:
    """A browser following a link (Accept: text/html), not a script."""
    return "text/html" in request.headers.get("accept", "")


def _refused_page(request: HttpRequest, exc: DomainError, obj) -> TemplateResponse:
    """`_error` for a person in a browser: the message on a page, same status."""
    _record_refusal(request, exc, obj)
    return TemplateResponse(
        request,
        "admin/casebridge/refused.html",
        {
            **admin.site.each_context(request),
            "title": _("Download refused"),
            "message": exc.message,
        },
        status=exc.status_code,
    )


def _not_found(request: HttpRequest, object_id) -> Http404:
    audit.record_refusal(
        actor=request.user,
        object_type="cases.document",
        object_id=str(object_id),
        reason=str(NotFound.default_message),
    )
    return Http404()


def _uuid(value: str | None, field: str) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise ValidationFailed({field: [_("Not a valid identifier.")]}) from exc


def _visible_or_404(queryset, public_id):
    obj = queryset.filter(public_id=public_id).first()
    if obj is None:
        raise NotFound()
    return obj


@login_required
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    """POST: store a file (JSON answer). GET: the upload form of the admin,
    for the case given as `?case=<public id or pk>` when there is one."""
    if request.method == "GET":
        return _upload_page(request)
    try:
        upload = request.FILES.get("file")  # parses the body (see EvidenceUploadHandler)
        if getattr(request, "evidence_upload_too_large", False):
            raise documents.too_large()
        if upload is None:
            raise ValidationFailed(
                {"file": [_("No file was received, or the upload was incomplete.")]}
            )
        case = _visible_or_404(
            access.visible_cases(request.user), _uuid(request.POST.get("case"), "case")
        )
        task_id = _uuid(request.POST.get("task"), "task")
        supersedes_id = _uuid(request.POST.get("supersedes"), "supersedes")
        doc = documents.upload_document(
            actor=request.user,
            case=case,
            file=upload,
            title=request.POST.get("title", ""),
            description=request.POST.get("description", ""),
            handling_code=request.POST.get("handling_code", "AMBER"),
            handling_instruction=request.POST.get("handling_instruction", "H0"),
            handling_restriction=request.POST.get("handling_restriction", ""),
            task=_visible_or_404(access.visible_tasks(request.user), task_id) if task_id else None,
            supersedes=(
                _visible_or_404(access.visible_documents(request.user), supersedes_id)
                if supersedes_id
                else None
            ),
        )
    except DomainError as exc:
        return _error(request, exc)
    finally:
        for f in request.FILES.values():
            f.close()  # removes the temporary upload file now, not at garbage collection
    return JsonResponse(
        {
            "id": str(doc.public_id),
            "sha256": doc.sha256,
            "size": doc.size,
            "content_type": doc.content_type,
        },
        status=201,
    )


def _upload_page(request: HttpRequest) -> HttpResponse:
    url = reverse("admin:cases_document_add")
    given = request.GET.get("case", "")
    if not given:
        return HttpResponseRedirect(url)
    case = named_by_parameter(access.visible_cases(request.user), given)
    if case is None:
        audit.record_refusal(
            actor=request.user,
            object_type="cases.case",
            object_id=given[:64],
            reason=str(NotFound.default_message),
        )
        raise Http404()
    return HttpResponseRedirect(f"{url}?{urlencode({'case': case.pk})}")


class PurposeForm(forms.Form):
    """Why a copy is taken: required for the handling codes of `documents.PURPOSE_REQUIRED`."""

    purpose = forms.CharField(
        label=_("Purpose"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text=_(
            "Say why you need a copy (for example: annex to an MLA request, analysis "
            "for the prosecutor). It goes on the document's chain of custody."
        ),
    )


def needs_purpose(doc) -> bool:
    """The rule of `cases.documents` (one place): which handling codes need a purpose."""
    return doc.handling_code in documents.PURPOSE_REQUIRED


def _purpose_page(request: HttpRequest, doc, form: PurposeForm) -> TemplateResponse:
    context = {
        **admin.site.each_context(request),
        "title": _("Download evidence"),
        "subtitle": None,
        "document": doc,
        "form": form,
        "opts": doc._meta,
    }
    response = TemplateResponse(request, "admin/cases/document/download.html", context)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def download(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Stream a verified copy. Where the handling code requires a purpose, GET
    shows a form asking for it and the POST of that form downloads."""
    doc = access.visible_documents(request.user).filter(public_id=public_id).first()
    if doc is None:
        raise _not_found(request, public_id)
    form = None
    if needs_purpose(doc):
        if request.method != "POST":
            return _purpose_page(
                request, doc, PurposeForm(initial={"purpose": request.GET.get("purpose", "")})
            )
        form = PurposeForm(request.POST)
        if not form.is_valid():
            return _purpose_page(request, doc, form)
        purpose = form.cleaned_data["purpose"]
    else:
        purpose = request.POST.get("purpose") or request.GET.get("purpose", "")
    try:
        stream = documents.download_document(actor=request.user, document=doc, purpose=purpose)
    except ValidationFailed as exc:
        if form is None:
            return _error(request, exc, doc)
        for field, messages in exc.errors.items():
            for message in messages:
                form.add_error(field if field in form.fields else None, message)
        return _purpose_page(request, doc, form)
    except DomainError as exc:
        if _wants_html(request):
            return _refused_page(request, exc, doc)
        return _error(request, exc, doc)
    response = StreamingHttpResponse(stream, content_type=doc.content_type)
    response["Content-Length"] = str(doc.size)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=doc.original_name
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    response["Digest"] = f"sha-256={doc.sha256}"
    return response


@login_required
def custody_report(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    doc = access.visible_documents(request.user).filter(public_id=public_id).first()
    if doc is None:
        raise _not_found(request, public_id)
    events = documents.custody_report(actor=request.user, document=doc)
    response = render(
        request,
        "cases/custody_report.html",
        {
            "document": doc,
            "events": list(events),
            "case_visible": access.is_visible(request.user, doc.case),
        },
    )
    response["Cache-Control"] = "no-store"
    return response
