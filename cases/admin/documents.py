"""Evidence pages: upload through the service, read-only afterwards, custody report.

Documents are immutable, so there is no change or delete: the change page
shows the record, with links to the authenticated download and the custody
report. A correction is uploaded as a new document that supersedes the old.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from cases import access, documents, uploads
from cases.models import Document, MLARequest
from config.admin_base import FIELD_SELECTORS, GatedModelAdmin
from gate.errors import DomainError
from gate.roles import Role

from . import lists

FIELD_SELECTORS[Document] = access.visible_documents
FIELD_SELECTORS.setdefault(MLARequest, access.visible_mla_requests)

UPLOAD_FIELDS = (
    "case",
    "task",
    "supersedes",
    "title",
    "description",
    "handling_code",
    "handling_instruction",
    "handling_restriction",
)
RECORD_FIELDS = (
    "title",
    "case",
    "task",
    "mla_request",
    "description",
    "handling_code",
    "handling_instruction",
    "handling_restriction",
    "original_name",
    "content_type",
    "size",
    "sha256",
    "agency",
    "uploaded_by",
    "created_at",
    "supersedes",
    "links",
)


class DocumentUploadForm(forms.ModelForm):
    file = forms.FileField(label=_("File"), allow_empty_file=True)

    class Meta:
        model = Document
        fields = UPLOAD_FIELDS


class ResumableStartForm(forms.ModelForm):
    """The upload form without its file, which follows in chunks
    (cases/static/casebridge/uploads.js): the file's name and size instead."""

    file_name = forms.CharField(max_length=1000)
    file_size = forms.IntegerField(min_value=0)

    class Meta:
        model = Document
        fields = UPLOAD_FIELDS


@admin.register(Document)
class DocumentAdmin(GatedModelAdmin):
    selector = access.visible_documents
    # The list asks, with its page, whether the reader sees each document's
    # case (`case_seen`): a party of an MLA request may not.
    list_selector = access.listed_documents
    add_role = Role.INVESTIGATOR
    list_display = (
        "title",
        "case_shown",
        "agency",
        "handling_code",
        "content_type",
        "size",
        "created_at",
    )
    # The API's document list: newest first (`cases.admin.lists`).
    list_filter = ("handling_code", lists.ContentTypeFilter, lists.AuthorAgencyFilter)
    ordering = lists.DOCUMENT_ORDER
    count_pages_ahead = lists.CHILD_COUNT_PAGES_AHEAD
    sortable_by = ("created_at",)
    list_select_related = ("case", "agency")
    search_fields = ("title", "original_name", "sha256")
    autocomplete_fields = ()
    change_form_template = "admin/cases/document/change_form.html"

    @admin.display(description=_("case"))
    def case_shown(self, document: Document) -> str:
        """The document's case, if the reader sees it. Evidence filed on an
        MLA request carries the requesting side's case, which the requested
        side does not see: it learns nothing of it here either (the change
        page leaves the field out, `get_readonly_fields`)."""
        if document.case_id is None or not getattr(document, "case_seen", False):
            return "—"
        return str(document.case)

    # --- upload from the case page: `?case=<pk or public id>` -------------------

    def response_add(self, request, obj, post_url_continue=None):
        """Back to the case page when the upload started there (`?case=`)."""
        came_from_case = request.GET.get("case") and not (
            "_continue" in request.POST or "_addanother" in request.POST
        )
        if came_from_case and access.is_visible(request.user, obj.case):
            self.message_user(
                request,
                _("The evidence “%(title)s” was uploaded.") % {"title": obj.title},
                messages.SUCCESS,
            )
            return HttpResponseRedirect(
                reverse(
                    "admin:cases_case_change",
                    args=[obj.case_id],
                    current_app=self.admin_site.name,
                )
            )
        return super().response_add(request, obj, post_url_continue)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            resumable = kwargs.pop("resumable", False)
            kwargs["form"] = ResumableStartForm if resumable else DocumentUploadForm
            extra = ("file_name", "file_size") if resumable else ("file",)
            kwargs["fields"] = (*UPLOAD_FIELDS, *extra)
        return super().get_form(request, obj, change, **kwargs)

    def render_change_form(self, request, context, add=False, change=False, **kwargs):
        if add:
            # The page's script sends the file in chunks (tus, `/api/v1/uploads/`)
            # and resumes after a broken link; without it the form posts as ever.
            start_url = reverse("admin:cases_document_upload_start")
            if request.GET.get("case"):  # started from the case: back there when done
                start_url += "?" + urlencode({"case": request.GET["case"]})
            context["resumable_upload"] = {
                "start_url": start_url,
                "chunk_size": settings.EVIDENCE_UPLOAD_MAX_CHUNK,
            }
        return super().render_change_form(request, context, add, change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return (*UPLOAD_FIELDS, "file")
        return self.get_readonly_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        if not access.is_visible(request.user, obj.case):
            # A party of the MLA request that does not see the case learns nothing of it.
            return tuple(f for f in RECORD_FIELDS if f not in ("case", "task"))
        return RECORD_FIELDS

    def create_via_service(self, request, form) -> Document:
        data = form.cleaned_data
        return documents.upload_document(
            actor=request.user,
            case=data["case"],
            task=data.get("task"),
            supersedes=data.get("supersedes"),
            file=data["file"],
            title=data["title"],
            description=data.get("description", ""),
            handling_code=data["handling_code"],
            handling_instruction=data["handling_instruction"],
            handling_restriction=data.get("handling_restriction", ""),
        )

    @admin.display(description=_("Evidence"))
    def links(self, obj: Document) -> str:
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("cases:document-download", args=[obj.public_id]),
            _("Download (verified)"),
            reverse("admin:cases_document_custody", args=[obj.pk]),
            _("Chain of custody"),
        )

    def get_urls(self):
        return [
            path(
                "upload/",
                self.admin_site.admin_view(require_POST(self.upload_start_view)),
                name="cases_document_upload_start",
            ),
            path(
                "upload/<uuid:upload_id>/done/",
                self.admin_site.admin_view(self.upload_done_view),
                name="cases_document_upload_done",
            ),
            path(
                "<path:object_id>/custody/",
                self.admin_site.admin_view(self.custody_view),
                name="cases_document_custody",
            ),
            *super().get_urls(),
        ]

    def custody_view(self, request, object_id):
        obj = self.get_object(request, object_id)
        if obj is None or not self.has_view_permission(request, obj):
            raise Http404
        events = documents.custody_report(actor=request.user, document=obj)
        return TemplateResponse(
            request,
            "cases/custody_report.html",
            {
                "document": obj,
                "events": list(events),
                "case_visible": access.is_visible(request.user, obj.case),
            },
        )

    def upload_start_view(self, request):
        """Check the upload form (without its file) and open a resumable upload:
        JSON with the upload's API address, or the form's errors by field."""
        if not self.has_add_permission(request):
            raise Http404
        form = self.get_form(request, resumable=True)(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                upload = uploads.start_upload(
                    actor=request.user,
                    length=data["file_size"],
                    name=data["file_name"],
                    **{name: data.get(name) for name in UPLOAD_FIELDS if name in data},
                )
            except DomainError as exc:
                return JsonResponse({"errors": exc.errors}, status=400)
            done_url = reverse("admin:cases_document_upload_done", args=[upload.public_id])
            if request.GET.get("case"):
                done_url += "?" + urlencode({"case": request.GET["case"]})
            return JsonResponse(
                {
                    "location": reverse("api:v1:upload-detail", kwargs={"id": upload.public_id}),
                    "done_url": done_url,
                },
                status=201,
            )
        errors = {
            "file" if name in ("file_name", "file_size") else name: [str(m) for m in messages_]
            for name, messages_ in form.errors.items()
        }
        return JsonResponse({"errors": errors}, status=400)

    def upload_done_view(self, request, upload_id: uuid.UUID):
        """Where the script lands once the last chunk made the document."""
        upload = (
            access.visible_uploads(request.user)
            .filter(public_id=upload_id, document__isnull=False)
            .select_related("document")
            .first()
        )
        if upload is None:
            raise Http404
        document = upload.document
        self.message_user(
            request,
            _("The evidence “%(title)s” was uploaded.") % {"title": document.title},
            messages.SUCCESS,
        )
        if (
            request.GET.get("case")
            and document.case_id
            and access.is_visible(request.user, document.case)
        ):
            # Started from the case's Evidence tab, as `response_add` does.
            return HttpResponseRedirect(
                reverse("admin:cases_case_change", args=[document.case_id]) + "#evidence"
            )
        return HttpResponseRedirect(reverse("admin:cases_document_change", args=[document.pk]))
