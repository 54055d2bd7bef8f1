"""Browser views for evidence: upload, authenticated download, custody report.

Thin: they parse the request, call `cases.documents` and translate domain
errors into HTTP answers. Evidence never has a public URL; these views (and
the API built on the same services) are the only way out.
"""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from audit import services as audit

from . import access, documents
from .errors import DomainError, NotFound, PermissionDenied, ValidationFailed


def _error(request: HttpRequest, exc: DomainError, obj=None) -> JsonResponse:
    if isinstance(exc, (NotFound, PermissionDenied)):
        # The service rolled back; the refusal itself goes on the record here.
        audit.record_refusal(actor=request.user, obj=obj, reason=str(exc.message))
    return JsonResponse({"errors": exc.errors}, status=exc.status_code)


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
@require_POST
def upload(request: HttpRequest) -> HttpResponse:
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


@login_required
@require_http_methods(["GET", "POST"])
def download(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    doc = access.visible_documents(request.user).filter(public_id=public_id).first()
    if doc is None:
        raise _not_found(request, public_id)
    purpose = request.POST.get("purpose") or request.GET.get("purpose", "")
    try:
        stream = documents.download_document(actor=request.user, document=doc, purpose=purpose)
    except DomainError as exc:
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
