"""A case's network in and out: exports for analysts' tools, and transactions
imported from a CSV file.

* `GET /cases/{case_id}/graphml/`: the network as GraphML (Gephi, yEd, i2,
  Maltego).
* `GET /cases/{case_id}/network-csv/`: nodes.csv and edges.csv in one zip.
* The STIX 2.1 bundle stays at `GET /cases/{case_id}/stix/` (identifiers
  and, now, the network: `cases.stix`).
* `POST /cases/{case_id}/transactions/import/` (multipart: `file`, the
  handling for the file, `time_zone`, `dry_run`): every row or none
  (`cases.transaction_import`). 201 with the report when recorded, 200 with
  it for a check (`dry_run`), 400 with one error per rejected row and column
  (`rows.<row>.<column>`, the row numbered as a spreadsheet shows it) when
  any row is wrong, nothing recorded.

Exports are what the reader sees (the gate's selectors), each object with its
handling code; a case the reader may not see is 404. Each export is audited.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.base import GatedViewSet
from config.api.parsers import JSONParser
from gate.errors import ValidationFailed

from .. import network_export, transaction_import
from ..choices import HandlingCode, HandlingInstruction
from ..models import Case
from .deconfliction import IdentifierSerializer

CASE_ID = OpenApiParameter("case_id", OpenApiTypes.UUID, OpenApiParameter.PATH)


class _CaseExport(GatedViewSet[Case]):
    """One file of what the reader sees of a case's network."""

    selector = "visible_cases"
    parent_selector = "visible_cases"
    parent_url_kwarg = "case_id"
    parent_field = "pk"
    serializer_class = IdentifierSerializer  # unused: the answer is a file
    pagination_class = None

    def _file(self, body: bytes, content_type: str, extension: str) -> HttpResponse:
        response = HttpResponse(body, content_type=content_type)
        name = network_export.file_name(self.get_parent(), extension)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["Cache-Control"] = "no-store"
        return response


class CaseGraphMLViewSet(_CaseExport):
    """A case's network as GraphML."""

    @extend_schema(
        summary="Export a case's network as GraphML (Gephi, yEd, i2, Maltego)",
        parameters=[CASE_ID],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        body = network_export.export_graphml(actor=self.request.user, case=self.get_parent())
        return self._file(body, "application/octet-stream", "graphml")


class CaseNetworkCsvViewSet(_CaseExport):
    """A case's network as nodes.csv and edges.csv in one zip."""

    @extend_schema(
        summary="Export a case's network as CSV (nodes.csv and edges.csv, zipped)",
        parameters=[CASE_ID],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        body = network_export.export_csv_zip(actor=self.request.user, case=self.get_parent())
        return self._file(body, "application/octet-stream", "zip")


# --- import -------------------------------------------------------------------------


class TransactionImportInputSerializer(serializers.Serializer):
    file = serializers.FileField(
        allow_empty_file=True,
        use_url=False,
        help_text=_("CSV, UTF-8, with the documented header (see the operation)."),
    )
    handling_code = serializers.ChoiceField(HandlingCode.choices, default=HandlingCode.AMBER)
    handling_instruction = serializers.ChoiceField(
        HandlingInstruction.choices, default=HandlingInstruction.H0
    )
    handling_restriction = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default=""
    )
    time_zone = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("Of times given without one; by default your agency's."),
    )
    dry_run = serializers.BooleanField(
        default=False, help_text=_("Check every row and report, recording nothing.")
    )


class RowProblemSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    field = serializers.CharField()
    message = serializers.CharField()


class PreviewRowSerializer(serializers.Serializer):
    row = serializers.CharField()
    occurred_at = serializers.CharField()
    from_value = serializers.CharField()
    to_value = serializers.CharField()
    amount = serializers.CharField()
    currency = serializers.CharField()
    reference = serializers.CharField(allow_blank=True)


class ImportReportSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    rows = serializers.IntegerField(help_text=_("Rows read (blank lines aside)."))
    valid = serializers.IntegerField(help_text=_("Rows that pass every rule, duplicates aside."))
    imported = serializers.IntegerField(help_text=_("Transactions recorded (0 for a check)."))
    identifiers_created = serializers.IntegerField()
    rejected_rows = serializers.IntegerField()
    duplicate_rows = serializers.IntegerField(help_text=_("Rows skipped as duplicates."))
    duplicates = RowProblemSerializer(
        many=True, help_text=_("The rows skipped as duplicates (the first 1,000).")
    )
    preview = PreviewRowSerializer(many=True)


IMPORT_DESCRIPTION = (
    "Header (any order, any case; other columns are refused): "
    + ", ".join(transaction_import.REQUIRED_COLUMNS)
    + "; optional: "
    + ", ".join(transaction_import.OPTIONAL_COLUMNS)
    + ". Every row is recorded or none: a rejected row is a 400 naming "
    "`rows.<row>.<column>` (the header is row 1). A transfer the case already "
    "holds, or given twice, is skipped and listed in `duplicates`. "
    "At most TRANSACTION_IMPORT_MAX_ROWS rows (100,000 by default)."
)


class CaseTransactionImportViewSet(GatedViewSet[Case]):
    """Transactions of a case, imported from a CSV file."""

    selector = "visible_cases"
    parent_selector = "visible_cases"
    parent_url_kwarg = "case_id"
    parent_field = "pk"
    serializer_class = ImportReportSerializer
    pagination_class = None
    # JSON too, as the evidence upload: a JSON body is then a 400 naming the
    # missing file (or a 404 first, for a case the caller may not see).
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    input_serializers = {"import_file": TransactionImportInputSerializer}

    @extend_schema(
        summary="Import transactions from a CSV file (all rows or none)",
        description=IMPORT_DESCRIPTION,
        parameters=[CASE_ID],
        request={"multipart/form-data": TransactionImportInputSerializer},
        responses={200: ImportReportSerializer, 201: ImportReportSerializer},
    )
    @action(detail=False, methods=["post"], url_path="import")
    def import_file(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            case = self.get_parent()
            data = self.validate_input(request.data)
            upload = data.pop("file")
            report = transaction_import.import_transactions(
                actor=self.request.user, case=case, file=upload, size=upload.size, **data
            )
        finally:
            for upload in request.FILES.values():
                upload.close()
        if report.rejected_rows:
            raise ValidationFailed(report.field_errors())
        answer = ImportReportSerializer(report.as_dict()).data
        return Response(
            answer, status=status.HTTP_200_OK if report.dry_run else status.HTTP_201_CREATED
        )
