"""`/api/v1/uploads/`: resumable evidence uploads, the tus 1.0 protocol.

Core, creation, expiration, checksum (sha1, sha256) and termination
(https://tus.io/protocols/resumable-upload). The rules live in
`cases.uploads`; this module speaks the protocol's headers:

* `POST /uploads/` with `Upload-Length` and `Upload-Metadata` (base64
  values: `case` or `mla_request`, `title`, `filename`, optional `task`,
  `supersedes`, `description`, `handling_code`, `handling_instruction`,
  `handling_restriction`, and `sha256`, the whole file's hash in hex, checked
  at the end) answers 201 with `Location` and `Upload-Expires`;
* `HEAD /uploads/{id}/` gives `Upload-Offset` (where to go on from);
* `PATCH /uploads/{id}/` with `Upload-Offset` and a body of
  `application/offset+octet-stream` appends a chunk (at most
  EVIDENCE_UPLOAD_MAX_CHUNK bytes, else 413); a wrong offset is 409; with
  the last byte the upload becomes a document, named by `Document-Location`;
* `DELETE /uploads/{id}/` abandons it; `GET /uploads/{id}/` is its JSON record.

Every error is problem+json like the rest of the API. An upload is its
uploader's: for anyone else it does not exist (404). The chunk is read from
the request stream 64 KiB at a time, never through `request.body`/`data`.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.utils.http import http_date
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from config.api.base import GatedViewSet
from config.api.problems import PROBLEM_CONTENT_TYPE, ProblemSerializer
from gate.errors import ValidationFailed

from .. import documents, uploads
from ..models import EvidenceUpload
from .documents import DocumentRecordInputSerializer

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,expiration,checksum,termination"
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"


class TusVersionUnsupported(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "tus_version_unsupported"
    default_detail = _("This server speaks tus 1.0.0 (Tus-Resumable: 1.0.0).")


class UploadMetadataSerializer(DocumentRecordInputSerializer):
    """`Upload-Metadata` of a new upload (each value base64 in the header)."""

    filename = serializers.CharField(max_length=255)
    sha256 = serializers.RegexField(
        r"^[0-9a-fA-F]{64}$",
        required=False,
        default="",
        error_messages={"invalid": _("Give the SHA-256 as 64 hexadecimal digits.")},
    )


class UploadSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    case = serializers.UUIDField(source="case.public_id", read_only=True)
    document = serializers.UUIDField(source="document.public_id", read_only=True, allow_null=True)
    sha256 = serializers.CharField(source="declared_sha256", read_only=True)

    class Meta:
        model = EvidenceUpload
        fields = [
            "id",
            "case",
            "title",
            "original_name",
            "length",
            "offset",
            "sha256",
            "created_at",
            "expires_at",
            "document",
        ]
        read_only_fields = fields


def _int_header(request: Request, name: str) -> int:
    value = request.headers.get(name)
    if value is None or not value.strip().isdigit():
        raise ValidationFailed({name: [_("Give a whole number of bytes.")]})
    return int(value)


def parse_metadata(header: str) -> dict[str, str]:
    """tus `Upload-Metadata`: `key base64,key base64`; a value may be absent."""
    values: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in header.split(","))):
        key, _sep, encoded = pair.partition(" ")
        try:
            values[key] = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise ValidationFailed(
                {"Upload-Metadata": [_("The value of %(key)s is not base64 UTF-8.") % {"key": key}]}
            ) from None
    return values


def _checksum(request: Request) -> tuple[str, bytes] | None:
    header = request.headers.get("Upload-Checksum")
    if not header:
        return None
    algorithm, _sep, encoded = header.strip().partition(" ")
    try:
        return algorithm.lower(), base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error:
        raise ValidationFailed({"Upload-Checksum": [_("The digest is not base64.")]}) from None


TUS_RESUMABLE = OpenApiParameter(
    "Tus-Resumable",
    str,
    OpenApiParameter.HEADER,
    required=True,
    enum=[TUS_VERSION],
    description=str(_("The tus protocol version: 1.0.0.")),
)
PROBLEM = ProblemSerializer
TUS_412 = OpenApiResponse(
    PROBLEM, description=str(_("`Tus-Resumable` names a version other than 1.0.0 (`Tus-Version`)."))
)
OFFSET_HEADER = {"Upload-Offset": {"schema": {"type": "integer"}}}


@extend_schema_view(
    create=extend_schema(
        summary="Start a resumable evidence upload (tus creation)",
        description=str(
            _(
                "Send no body. `Upload-Metadata` carries the document's record, each value "
                "base64: `case` (or `mla_request`), `title`, `filename`, and optionally `task`, "
                "`supersedes`, `description`, `handling_code`, `handling_instruction`, "
                "`handling_restriction`, `sha256` (hex; the finished file must match). The "
                "same checks as a one-request upload run now, and again at the last byte."
            )
        ),
        request=None,
        parameters=[
            TUS_RESUMABLE,
            OpenApiParameter("Upload-Length", int, OpenApiParameter.HEADER, required=True),
            OpenApiParameter("Upload-Metadata", str, OpenApiParameter.HEADER, required=True),
        ],
        responses={
            201: UploadSerializer,
            (412, PROBLEM_CONTENT_TYPE): TUS_412,
            (413, PROBLEM_CONTENT_TYPE): OpenApiResponse(
                PROBLEM, description=str(_("Longer than the evidence limit."))
            ),
        },
    ),
    retrieve=extend_schema(
        summary="An upload's state; HEAD gives `Upload-Offset` (tus core)",
        responses={200: UploadSerializer},
    ),
    partial_update=extend_schema(
        summary="Append a chunk at `Upload-Offset` (tus core)",
        description=str(
            _(
                "The body is the next bytes, `Content-Type: application/offset+octet-stream`, at "
                "most EVIDENCE_UPLOAD_MAX_CHUNK (8 MiB) per request. With the last byte the file "
                "is checked and stored as evidence; `Document-Location` names the document. A "
                "broken body keeps what arrived (unless `Upload-Checksum` was sent): ask HEAD."
            )
        ),
        request={OFFSET_CONTENT_TYPE: OpenApiTypes.BINARY},
        parameters=[
            TUS_RESUMABLE,
            OpenApiParameter("Upload-Offset", int, OpenApiParameter.HEADER, required=True),
            OpenApiParameter(
                "Upload-Checksum",
                str,
                OpenApiParameter.HEADER,
                description=str(_("`sha1 <base64>` or `sha256 <base64>` of this chunk.")),
            ),
        ],
        responses={
            204: OpenApiResponse(
                description=str(_("Appended; `Upload-Offset` is the new offset."))
            ),
            (409, PROBLEM_CONTENT_TYPE): OpenApiResponse(
                PROBLEM, description=str(_("`Upload-Offset` is not where the upload stands."))
            ),
            (412, PROBLEM_CONTENT_TYPE): TUS_412,
            (413, PROBLEM_CONTENT_TYPE): OpenApiResponse(
                PROBLEM, description=str(_("The chunk is too large."))
            ),
            (423, PROBLEM_CONTENT_TYPE): OpenApiResponse(
                PROBLEM, description=str(_("Another request is writing this upload; retry."))
            ),
            (460, PROBLEM_CONTENT_TYPE): OpenApiResponse(
                PROBLEM, description=str(_("The chunk failed its checksum."))
            ),
        },
    ),
    destroy=extend_schema(
        summary="Abandon an upload and its bytes (tus termination)",
        parameters=[TUS_RESUMABLE],
        responses={
            204: None,
            (412, PROBLEM_CONTENT_TYPE): TUS_412,
            (423, PROBLEM_CONTENT_TYPE): OpenApiResponse(PROBLEM),
        },
    ),
)
class UploadViewSet(GatedViewSet[EvidenceUpload]):
    """Resumable evidence uploads (tus 1.0): see the module docstring."""

    selector = "visible_uploads"
    related = ("case", "document")
    serializer_class = UploadSerializer
    pagination_class = None
    filter_backends: list[Any] = []
    input_serializers = {"create": UploadMetadataSerializer}

    def if_match_required(self, method: str) -> bool:
        """Never: tus orders writes by `Upload-Offset` (409 when stale) and its
        clients do not send `If-Match`."""
        return False

    # --- protocol headers -----------------------------------------------------

    def _require_tus(self, request: Request) -> None:
        version = request.headers.get("Tus-Resumable")
        if version is None:
            raise ValidationFailed({"Tus-Resumable": [_("Send Tus-Resumable: 1.0.0.")]})
        if version != TUS_VERSION:
            raise TusVersionUnsupported()

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Tus-Resumable"] = TUS_VERSION
        response["Cache-Control"] = "no-store"
        if response.status_code == status.HTTP_412_PRECONDITION_FAILED:
            response["Tus-Version"] = TUS_VERSION
        return response

    def _state_headers(self, upload: EvidenceUpload) -> dict[str, str]:
        headers = {
            "Upload-Offset": str(upload.offset),
            "Upload-Length": str(upload.length),
            "Upload-Expires": http_date(upload.expires_at.timestamp()),
        }
        if upload.document_id is not None:
            headers["Document-Location"] = reverse(
                "api:v1:document-detail",
                kwargs={"id": str(upload.document.public_id)},
                request=self.request,
            )
        return headers

    # --- actions ----------------------------------------------------------------

    @extend_schema(exclude=True)
    def options(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """tus discovery."""
        return Response(
            status=status.HTTP_204_NO_CONTENT,
            headers={
                "Tus-Version": TUS_VERSION,
                "Tus-Extension": TUS_EXTENSIONS,
                "Tus-Max-Size": str(documents.max_upload_size()),
                "Tus-Checksum-Algorithm": ",".join(uploads.CHECKSUM_ALGORITHMS),
            },
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self._require_tus(request)
        length = _int_header(request, "Upload-Length")
        metadata = parse_metadata(request.headers.get("Upload-Metadata", ""))
        data = self.validate_input(metadata)
        upload = uploads.start_upload(
            actor=request.user, length=length, name=data.pop("filename"), **data
        )
        response = self.object_response(upload, status_code=status.HTTP_201_CREATED, created=True)
        for name, value in self._state_headers(upload).items():
            response[name] = value
        return response

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        upload = self.get_object()
        if request.method == "HEAD":
            self._require_tus(request)
            return Response(status=status.HTTP_200_OK, headers=self._state_headers(upload))
        response = self.object_response(upload)
        for name, value in self._state_headers(upload).items():
            response[name] = value
        return response

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        upload = self.get_object()
        self._require_tus(request)
        if request.content_type.split(";")[0].strip() != OFFSET_CONTENT_TYPE:
            raise exceptions.UnsupportedMediaType(request.content_type)
        offset = _int_header(request, "Upload-Offset")
        length = _int_header(request, "Content-Length")
        # `request.stream` is the raw body, read here 64 KiB at a time: never
        # `request.body`/`request.data`, which would hold the chunk in memory.
        upload = uploads.append_chunk(
            actor=request.user,
            upload=upload,
            offset=offset,
            stream=request.stream,
            length=length,
            checksum=_checksum(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT, headers=self._state_headers(upload))

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        upload = self.get_object()
        self._require_tus(request)
        uploads.abandon_upload(actor=request.user, upload=upload)
        return Response(status=status.HTTP_204_NO_CONTENT)
