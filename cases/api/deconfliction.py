"""Deconfliction API: identifiers on cases, the bulk search, contact requests, STIX.

* `GET/POST /identifiers/`, `GET /identifiers/{id}/`: identifiers on the
  cases your agency may see (TLP:AMBER+STRICT and RED ones only to the
  agency that recorded them). Identifiers are records: not edited, not
  deleted here.
* `POST /identifiers/{id}/deconflict/`: who else holds this identifier.
* `POST /deconfliction/search/`: up to 1,000 identifiers per call; answered
  per identifier (see `cases.deconfliction`). A malformed identifier gets its
  field errors in its own answer; the call is still 200.
* `POST /deconfliction/request-contact/`: ask the holder of a match to get in
  touch, with the `contact_token` of a search answer.
* `GET /cases/{case_id}/stix/`: the case's identifiers as a STIX 2.1 bundle.
"""

from __future__ import annotations

from typing import Any

import django_filters as filters
from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.base import CreateMixin, GatedViewSet, ListMixin, RetrieveMixin
from config.api.fields import PublicIdReference
from config.api.filters import MultipleChoiceFilter
from config.api.problems import FieldErrorSerializer, field_errors

from .. import deconfliction
from ..choices import Chain, HandlingCode, HandlingInstruction, IdentifierKind
from ..models import Case, Identifier
from ..stix import export_case_stix

# --- serializers ------------------------------------------------------------------


class IdentifierSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    case = serializers.UUIDField(source="case.public_id", read_only=True)
    value = serializers.CharField(source="raw_value", read_only=True)
    agency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    # Empty for kinds that have no chain: declared, so clients accept "".
    chain = serializers.ChoiceField(Chain.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Identifier
        fields = [
            "id",
            "case",
            "kind",
            "value",
            "normalised_value",
            "chain",
            "country",
            "date_of_birth",
            "platform",
            "bank_code",
            "registration_number",
            "notes",
            "handling_code",
            "handling_instruction",
            "handling_restriction",
            "agency",
            "created_at",
        ]
        read_only_fields = fields


# Beside the case, one field per name of `deconfliction.IDENTIFIER_FIELDS`, in
# its order: declared by hand for their shapes, held equal to the list by
# tests/cases/deconfliction/test_identifier_fields.py. (A comment, not the docstring:
# the docstring is the schema's description.)
class IdentifierInputSerializer(serializers.Serializer):
    """Record an identifier. Which qualifiers a kind needs: see `search`'s items."""

    case = PublicIdReference(selector="visible_cases", unknown_message=_("Unknown case."))
    kind = serializers.ChoiceField(IdentifierKind.choices)
    value = serializers.CharField(max_length=500)
    chain = serializers.ChoiceField(Chain.choices, required=False, allow_blank=True, default="")
    country = serializers.CharField(max_length=3, required=False, allow_blank=True, default="")
    date_of_birth = serializers.DateField(required=False, allow_null=True, default=None)
    platform = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    bank_code = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    registration_number = serializers.CharField(
        max_length=40, required=False, allow_blank=True, default=""
    )
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    handling_code = serializers.ChoiceField(HandlingCode.choices, default=HandlingCode.AMBER)
    handling_instruction = serializers.ChoiceField(
        HandlingInstruction.choices, default=HandlingInstruction.H0
    )
    handling_restriction = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default=""
    )


class SearchInputSerializer(serializers.Serializer):
    identifiers = serializers.ListField(
        child=serializers.DictField(),
        allow_empty=False,
        max_length=settings.DECONFLICTION_MAX_SEARCH,
        help_text=_(
            "Each: kind, value, and as the kind needs: chain (crypto_wallet, crypto_tx), "
            "country (person: nationality; passport: issuing country; bank_account; phone: "
            "region of a number without +), date_of_birth (person, YYYY-MM-DD), platform "
            "(social_handle), bank_code (bank_account), registration_number (company)."
        ),
    )


class VisibleHitSerializer(serializers.Serializer):
    case = serializers.UUIDField(help_text=_("A case you see that holds the identifier."))
    case_reference = serializers.CharField()
    identifier = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=IdentifierKind.choices)


class RestrictedHitSerializer(serializers.Serializer):
    agency = serializers.CharField(help_text=_("The holding agency's code: whom to contact."))
    agency_country = serializers.CharField()
    kind = serializers.ChoiceField(choices=IdentifierKind.choices)
    first_recorded = serializers.DateField()
    contact_token = serializers.CharField(
        help_text=_("For `POST /deconfliction/request-contact/`.")
    )


class SearchAnswerSerializer(serializers.Serializer):
    """The answer for one searched identifier (documentation of `SearchAnswer`)."""

    index = serializers.IntegerField(help_text=_("Position in the searched list."))
    kind = serializers.CharField()
    value = serializers.CharField()
    normalised_value = serializers.CharField(help_text=_("Empty when the value is invalid."))
    errors = FieldErrorSerializer(
        many=True,
        allow_null=True,
        help_text=_("This identifier's problems (the others are still answered); else null."),
    )
    hits = VisibleHitSerializer(many=True)
    held_elsewhere = RestrictedHitSerializer(many=True)


class SearchResultsSerializer(serializers.Serializer):
    results = SearchAnswerSerializer(many=True)


class RequestContactInputSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=1000, help_text=_("A search answer's contact_token."))


class ContactRequestSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    holder_agency = serializers.CharField(source="holder_agency.code", read_only=True)
    kind = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class IdentifierFilter(filters.FilterSet):
    case = filters.UUIDFilter(field_name="case__public_id", help_text=_("Case id."))
    kind = MultipleChoiceFilter(choices=IdentifierKind.choices)

    class Meta:
        model = Identifier
        fields: list[str] = []


SEARCH_EXAMPLE = OpenApiExample(
    "Check a seizure",
    value={
        "identifiers": [
            {
                "kind": "crypto_wallet",
                "value": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
                "chain": "ethereum",
            },
            {"kind": "phone", "value": "+82 10 1234 5678"},
            {"kind": "person", "value": "김민준", "date_of_birth": "1990-01-02", "country": "KR"},
        ]
    },
    request_only=True,
)


def answer_json(answer: deconfliction.SearchAnswer) -> dict[str, Any]:
    """One search answer; its errors in the API's one shape (`errors: [{field,
    code, detail}]`, as in a 400 problem), or null when the item was valid."""
    data = answer.as_dict()
    data["errors"] = field_errors(answer.errors) if answer.errors else None
    return data


# --- views --------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Identifiers on the cases your agency may see"),
    retrieve=extend_schema(summary="One identifier"),
    create=extend_schema(
        summary="Record an identifier on a case (investigators of a contributing agency)"
    ),
)
class IdentifierViewSet(
    ListMixin[Identifier],
    RetrieveMixin[Identifier],
    CreateMixin[Identifier],
    GatedViewSet[Identifier],
):
    """Wallets, phones, accounts, people… recorded on cases, normalised for matching.

    Identifiers are records: not edited or deleted through the API.
    """

    selector = "visible_identifiers"
    list_selector = "listed_identifiers"
    related = ("case", "agency")
    serializer_class = IdentifierSerializer
    filterset_class = IdentifierFilter
    sync_field = "created_at"
    extra_ordering_fields = ()
    input_serializers = {"create": IdentifierInputSerializer}
    if_match_exempt = frozenset({"deconflict"})  # a question, not a change

    def create_object(self, data: dict[str, Any]) -> Identifier:
        return deconfliction.add_identifier(actor=self.request.user, **data)

    @extend_schema(
        summary="Who else holds this identifier (as a search would answer)",
        request=None,
        responses=SearchAnswerSerializer,
    )
    @action(detail=True, methods=["post"])
    def deconflict(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        answer = deconfliction.deconflict_identifier(
            actor=request.user, identifier=self.get_object()
        )
        return Response(answer_json(answer))


class DeconflictionViewSet(GatedViewSet[Identifier]):
    """The deconfliction search and contact requests (investigators and coordinators)."""

    selector = "visible_identifiers"
    serializer_class = ContactRequestSerializer
    input_serializers = {
        "search": SearchInputSerializer,
        "request_contact": RequestContactInputSerializer,
    }
    # A contact token that is forged, expired or names a match gone since is unknown.
    extra_error_codes = {"request_contact": ["404"]}

    @extend_schema(
        summary="Who holds these identifiers (up to 1,000 per call)",
        request=SearchInputSerializer,
        responses=SearchResultsSerializer,
        examples=[SEARCH_EXAMPLE],
    )
    @action(detail=False, methods=["post"])
    def search(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.validate_input(request.data)
        answers = deconfliction.search(actor=request.user, identifiers=data["identifiers"])
        return Response({"results": [answer_json(answer) for answer in answers]})

    @extend_schema(
        summary="Ask the agency holding a match to contact you",
        request=RequestContactInputSerializer,
        responses={201: ContactRequestSerializer},
    )
    @action(detail=False, methods=["post"], url_path="request-contact")
    def request_contact(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.validate_input(request.data)
        contact = deconfliction.request_contact(actor=request.user, token=data["token"])
        return Response(ContactRequestSerializer(contact).data, status=status.HTTP_201_CREATED)


class CaseStixViewSet(GatedViewSet[Case]):
    """A case's identifiers as a STIX 2.1 bundle, for MISP or OpenCTI."""

    selector = "visible_cases"
    parent_selector = "visible_cases"
    parent_url_kwarg = "case_id"
    parent_field = "pk"
    serializer_class = IdentifierSerializer
    pagination_class = None  # one bundle, not a page

    @extend_schema(
        summary="Export a case's identifiers as a STIX 2.1 bundle",
        parameters=[OpenApiParameter("case_id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        responses={(200, "application/stix+json"): OpenApiTypes.OBJECT},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        bundle = export_case_stix(actor=self.request.user, case=self.get_parent())
        return HttpResponse(bundle, content_type="application/stix+json;version=2.1")
