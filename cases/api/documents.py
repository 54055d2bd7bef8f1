"""Evidence API: upload (multipart), list, retrieve, verified download, custody.

Documents are immutable: no PUT/PATCH/DELETE; a correction is a new upload
with `supersedes`. Downloads stream the stored bytes after re-verifying their
SHA-256 (a mismatch is 409 `integrity_failure`, recorded and alerted); the
`Digest` header carries the hash for the client to check too.
"""

from __future__ import annotations

from typing import Any

import django_filters as filters
from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.base import CreateMixin, GatedViewSet, ListMixin, RetrieveMixin
from config.api.fields import PublicIdReference
from config.api.filters import DateTimeFilter, MultipleChoiceFilter
from config.api.parsers import JSONParser

from .. import access, documents
from ..choices import HandlingCode, HandlingInstruction
from ..models import CustodyEvent, Document


class DocumentSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    case = serializers.SerializerMethodField(
        help_text=_("The case; null for a party of the MLA request that does not see it.")
    )
    task = serializers.SerializerMethodField()
    supersedes = serializers.UUIDField(
        source="supersedes.public_id", read_only=True, allow_null=True
    )
    mla_request = serializers.UUIDField(
        source="mla_request.public_id", read_only=True, allow_null=True
    )
    agency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    uploaded_by_name = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = [
            "id",
            "case",
            "task",
            "mla_request",
            "supersedes",
            "title",
            "description",
            "handling_code",
            "handling_instruction",
            "handling_restriction",
            "original_name",
            "size",
            "content_type",
            "sha256",
            "agency",
            "uploaded_by_name",
            "created_at",
        ]
        read_only_fields = fields

    def _sees_case(self, doc: Document) -> bool:
        seen = getattr(doc, "case_seen", None)  # `access.listed_documents`
        if seen is not None:
            return bool(seen)
        cache = self.context.setdefault("_visible_case_ids", {})
        if doc.case_id not in cache:
            cache[doc.case_id] = access.is_visible(self.context["request"].user, doc.case)
        return cache[doc.case_id]

    def get_case(self, doc: Document) -> str | None:
        return str(doc.case.public_id) if self._sees_case(doc) else None

    def get_task(self, doc: Document) -> str | None:
        if doc.task_id is None or not self._sees_case(doc):
            return None
        return str(doc.task.public_id)

    def get_uploaded_by_name(self, doc: Document) -> str:
        return doc.uploaded_by.get_full_name() or doc.uploaded_by.get_username()


class DocumentRecordInputSerializer(serializers.Serializer):
    """What a new document says besides its bytes: give `case`, or
    `mla_request` (either party of the request may attach). Shared by the
    one-request upload and the resumable one (`uploads.py`)."""

    case = PublicIdReference(
        selector="visible_cases", unknown_message=_("Unknown case."), required=False
    )
    mla_request = PublicIdReference(
        selector="visible_mla_requests", unknown_message=_("Unknown request."), required=False
    )
    task = PublicIdReference(
        selector="visible_tasks", unknown_message=_("Unknown task."), required=False
    )
    supersedes = PublicIdReference(
        selector="visible_documents", unknown_message=_("Unknown document."), required=False
    )
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    handling_code = serializers.ChoiceField(HandlingCode.choices, default=HandlingCode.AMBER)
    handling_instruction = serializers.ChoiceField(
        HandlingInstruction.choices, default=HandlingInstruction.H0
    )
    handling_restriction = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=500
    )


class DocumentUploadInputSerializer(DocumentRecordInputSerializer):
    """Give `case`, or `mla_request` (either party of the request may attach)."""

    # Empty files reach the service, which refuses them with its own message.
    file = serializers.FileField(allow_empty_file=True, use_url=False)


class DownloadInputSerializer(serializers.Serializer):
    purpose = serializers.CharField(required=False, allow_blank=True, default="")


class CustodyEventSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    agency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    recipient_agency = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    user_name = serializers.SerializerMethodField()

    class Meta:
        model = CustodyEvent
        fields = [
            "id",
            "action",
            "occurred_at",
            "user_name",
            "agency",
            "recipient_agency",
            "ip",
            "purpose",
            "sha256",
        ]
        read_only_fields = fields

    def get_user_name(self, event: CustodyEvent) -> str | None:
        return event.user.get_username() if event.user else None


class DocumentFilter(filters.FilterSet):
    case = filters.UUIDFilter(field_name="case__public_id")
    task = filters.UUIDFilter(field_name="task__public_id")
    mla_request = filters.UUIDFilter(field_name="mla_request__public_id")
    handling_code = MultipleChoiceFilter(choices=HandlingCode.choices)
    sha256 = filters.CharFilter()
    created_after = DateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = DateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Document
        fields: list[str] = []


class CustodyReportSerializer(serializers.Serializer):
    """The custody endpoint's answer: the document and its events, oldest first."""

    document = DocumentSerializer()
    events = CustodyEventSerializer(many=True)


@extend_schema_view(
    list=extend_schema(summary="Evidence documents on the cases your agency may see"),
    retrieve=extend_schema(summary="One document's record (not its bytes)"),
    create=extend_schema(
        summary="Upload evidence (multipart; investigators of a contributing agency)",
        request={"multipart/form-data": DocumentUploadInputSerializer},
    ),
)
class DocumentViewSet(
    ListMixin[Document], RetrieveMixin[Document], CreateMixin[Document], GatedViewSet[Document]
):
    """Evidence files with their chain of custody. Immutable: a correction is a
    new upload that `supersedes` the old document."""

    selector = "visible_documents"
    list_selector = "listed_documents"
    related = ("case", "task", "mla_request", "supersedes", "agency", "uploaded_by")
    serializer_class = DocumentSerializer
    filterset_class = DocumentFilter
    sync_field = "created_at"
    extra_ordering_fields = ()
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    input_serializers = {
        "create": DocumentUploadInputSerializer,
        "download": DownloadInputSerializer,
    }
    # A purpose missing where the handling code needs one; bytes that fail
    # their SHA-256 check (`integrity_failure`), on GET as on POST.
    extra_error_codes = {"download": ["400", "409"]}
    # A download changes nothing a client could overwrite (its custody entry
    # is appended); GET takes its purpose in the query string.
    if_match_exempt = frozenset({"download"})
    action_query_params = {"download": ("purpose",)}

    def accepted_query_params(self) -> set[str]:
        names = super().accepted_query_params()
        if self.request.method == "POST":  # a POST download's purpose is in its body
            names.discard("purpose")
        return names

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            request.data  # noqa: B018  (parse the body: the upload handler flags oversize)
            if getattr(request._request, "evidence_upload_too_large", False):
                raise documents.too_large()
            return super().create(request, *args, **kwargs)
        finally:
            for upload in request.FILES.values():
                upload.close()

    def create_object(self, data: dict[str, Any]) -> Document:
        return documents.upload_document(actor=self.request.user, **data)

    # The bytes as `application/octet-stream` (an attachment, never rendered);
    # their media type is the record's `content_type`. One declared type is
    # what generated clients can parse (none takes `*/*`).
    @extend_schema(
        methods=["GET"],
        summary="Download the evidence bytes, re-verified (RED/AMBER need `?purpose=`)",
        parameters=[OpenApiParameter("purpose", OpenApiTypes.STR, required=False)],
        request=None,
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    @extend_schema(
        methods=["POST"],
        summary="Download the evidence bytes, re-verified (RED/AMBER need a purpose)",
        request=DownloadInputSerializer,
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get", "post"], parser_classes=[JSONParser])
    def download(self, request: Request, *args: Any, **kwargs: Any) -> StreamingHttpResponse:
        doc = self.get_object()
        source = request.data if request.method == "POST" else request.query_params
        data = self.validate_input(source)
        stream = documents.download_document(
            actor=request.user, document=doc, purpose=data["purpose"]
        )
        response = StreamingHttpResponse(stream, content_type="application/octet-stream")
        response["Content-Length"] = str(doc.size)
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=doc.original_name
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "no-store"
        response["Digest"] = f"sha-256={doc.sha256}"
        return response

    @extend_schema(
        summary="The document's chain of custody (oldest first)",
        responses=CustodyReportSerializer,
        filters=False,
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def custody(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        doc = self.get_object()
        events = documents.custody_report(actor=request.user, document=doc)
        return Response(
            {
                "document": DocumentSerializer(doc, context=self.get_serializer_context()).data,
                "events": CustodyEventSerializer(events, many=True).data,
            }
        )
