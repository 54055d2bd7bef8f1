"""MLA request API: `/api/v1/mla-requests/`.

Thin, after `config.api.base`: reads come from `access.visible_mla_requests`
(a non-party, and the requested agency on a draft, get 404), writes call
`cases.mla`. Drafts are created, read and edited here; after submission a
request changes only by its transitions, each a `POST …/{id}/{verb}/` named
after `cases.mla.TRANSITIONS`. Requests are records: they are never deleted
(`DELETE` is 405); a request that is no longer wanted is withdrawn.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.base import CreateMixin, GatedViewSet, ListMixin, RetrieveMixin, UpdateMixin
from config.api.fields import AgencyCodeReference, PublicIdReference

from .. import access, mla
from ..choices import AssistanceType, LegalBasis, MLAKind, Urgency
from ..models import MLARequest, MLAStatusChange

PUBLIC_ID: dict[str, Any] = {"source": "public_id", "read_only": True}


class _AgencyCode(serializers.SlugRelatedField):
    def __init__(self, **kwargs: Any):
        super().__init__(slug_field="code", read_only=True, **kwargs)


class MLARequestSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(**PUBLIC_ID)
    case = serializers.SerializerMethodField(
        help_text=_("The requesting side's case; null for the requested side, which never sees it.")
    )
    requesting_agency = _AgencyCode()
    requested_agency = _AgencyCode()
    follow_up = serializers.UUIDField(
        source="follow_up.public_id", read_only=True, default=None, allow_null=True
    )
    decision_overdue = serializers.BooleanField(read_only=True)
    execution_overdue = serializers.BooleanField(read_only=True)
    preservation_expired = serializers.BooleanField(read_only=True)
    allowed_transitions = serializers.SerializerMethodField(
        help_text=_("The transitions you may take now (verbs of POST …/{id}/{verb}/).")
    )

    class Meta:
        model = MLARequest
        fields = [
            "id",
            "kind",
            "case",
            "requesting_agency",
            *mla.MLA_DRAFT_FIELDS,
            "requested_reference",
            "status",
            "received_at",
            "decision_due",
            "decision_overdue",
            "accepted_at",
            "execution_due",
            "execution_overdue",
            "closed_at",
            "delay_notice_at",
            "delay_notice_reason",
            "delay_notice_new_due",
            "preservation_expires_at",
            "preservation_expired",
            "follow_up",
            "allowed_transitions",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = fields

    def _user(self):
        return self.context["request"].user

    def get_case(self, obj: MLARequest) -> str | None:
        if access.mla_side_of(self._user(), obj) != "requesting":
            return None
        return str(obj.case.public_id)

    def get_allowed_transitions(self, obj: MLARequest) -> list[str]:
        return mla.allowed_verbs(self._user(), obj, visible=True)


class MLAStatusChangeSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(**PUBLIC_ID)
    agency = _AgencyCode()

    class Meta:
        model = MLAStatusChange
        fields = ["id", "event", "from_status", "to_status", "agency", "at", "comment"]
        read_only_fields = fields


# One field per name of `mla.MLA_DRAFT_FIELDS`, in its order: declared by hand
# for their shapes, held equal to the list by tests/cases/mla/test_draft_fields.py.
# (A comment, not the docstring: the docstring is the schema's description.)
class _DraftFields(serializers.Serializer):
    """Shapes only; completeness is checked by the service at submission."""

    requested_agency = AgencyCodeReference(required=False)
    legal_basis = serializers.ChoiceField(LegalBasis.choices, required=False)
    legal_basis_detail = serializers.CharField(required=False, allow_blank=True, max_length=300)
    assistance_types = serializers.ListField(
        child=serializers.ChoiceField(AssistanceType.choices), required=False, max_length=10
    )
    details = serializers.DictField(child=serializers.DictField(), required=False)
    facts = serializers.CharField(required=False, allow_blank=True)
    offences = serializers.CharField(required=False, allow_blank=True)
    assistance_sought = serializers.CharField(required=False, allow_blank=True)
    procedures = serializers.CharField(required=False, allow_blank=True)
    persons_concerned = serializers.CharField(required=False, allow_blank=True)
    urgency = serializers.ChoiceField(Urgency.choices, required=False)
    urgency_reason = serializers.CharField(required=False, allow_blank=True)
    confidentiality_required = serializers.BooleanField(required=False)
    language = serializers.CharField(required=False, max_length=8)
    response_due_date = serializers.DateField(required=False, allow_null=True)
    response_due_reason = serializers.CharField(required=False, allow_blank=True)
    contact_details = serializers.CharField(required=False, allow_blank=True)
    requesting_reference = serializers.CharField(required=False, allow_blank=True, max_length=100)


class MLACreateInputSerializer(_DraftFields):
    case = PublicIdReference(selector="visible_cases", unknown_message=_("Unknown case."))
    kind = serializers.ChoiceField(MLAKind.choices, default=MLAKind.FULL)
    requested_agency = AgencyCodeReference()
    legal_basis = serializers.ChoiceField(LegalBasis.choices)


class MLAUpdateInputSerializer(_DraftFields):
    pass


class TransitionInputSerializer(serializers.Serializer):
    comment = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text=_(
            "Required for refuse (grounds), execute-partially (explanation), "
            "request-more-info (question) and provide-info (answer)."
        ),
    )


class DelayNoticeInputSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True)
    new_due = serializers.DateTimeField()


class ExtendPreservationInputSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class LinkFollowUpInputSerializer(serializers.Serializer):
    follow_up = PublicIdReference(
        selector="visible_mla_requests", unknown_message=_("Unknown MLA request.")
    )


@extend_schema_view(
    list=extend_schema(summary="MLA requests your agency sent or received (drafts: sender only)"),
    retrieve=extend_schema(summary="One MLA request"),
    create=extend_schema(summary="Draft an MLA or preservation request (coordinators)"),
    update=extend_schema(summary="Edit a draft (the requesting side's coordinators)"),
    partial_update=extend_schema(summary="Edit some fields of a draft"),
)
class MLARequestViewSet(
    ListMixin[MLARequest],
    RetrieveMixin[MLARequest],
    CreateMixin[MLARequest],
    UpdateMixin[MLARequest],
    GatedViewSet[MLARequest],
):
    """Formal requests between a requesting and a requested agency.

    Only the two parties see a request (the requested one from submission
    on); the requested agency sees the request, never the case behind it.
    """

    selector = "visible_mla_requests"
    related = ("requesting_agency", "requested_agency", "case", "follow_up")
    serializer_class = MLARequestSerializer
    input_serializers = {
        "create": MLACreateInputSerializer,
        "update": MLAUpdateInputSerializer,
        "transition": TransitionInputSerializer,
        "file_delay_notice": DelayNoticeInputSerializer,
        "extend_preservation": ExtendPreservationInputSerializer,
        "link_follow_up": LinkFollowUpInputSerializer,
    }

    def create_object(self, data: dict[str, Any]) -> MLARequest:
        return mla.create_mla_request(actor=self.request.user, **data)

    def update_object(
        self, obj: MLARequest, data: dict[str, Any], *, expected_version: int | None
    ) -> MLARequest:
        return mla.update_mla_draft(
            actor=self.request.user, request=obj, expected_version=expected_version, **data
        )

    def transition(self, request: Request, verb: str) -> Response:
        obj = self.get_object()
        expected = self.expected_version(obj)
        data = self.validate_input(request.data, action="transition")
        obj = mla.transition_mla_request(
            actor=request.user,
            request=obj,
            verb=verb,
            comment=data["comment"],
            expected_version=expected,
        )
        return self.object_response(obj)

    @extend_schema(
        summary="The request's formal record of transitions and clock events",
        responses=MLAStatusChangeSerializer(many=True),
        filters=False,
    )
    @action(detail=True, methods=["get"], url_path="history", pagination_class=None)
    def history(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        obj = self.get_object()
        rows = (
            access.visible_mla_status_changes(request.user)
            .filter(request=obj)
            .select_related("agency")
        )
        return Response(MLAStatusChangeSerializer(rows, many=True).data)

    @extend_schema(
        summary="File the one delay notice (the requested side): moves the running clock",
        request=DelayNoticeInputSerializer,
        responses=MLARequestSerializer,
    )
    @action(detail=True, methods=["post"], url_path="file-delay-notice")
    def file_delay_notice(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        obj = self.get_object()
        expected = self.expected_version(obj)
        data = self.validate_input(request.data)
        obj = mla.file_delay_notice(
            actor=request.user, request=obj, expected_version=expected, **data
        )
        return self.object_response(obj)

    @extend_schema(
        summary="Extend a preservation request by another period (the requesting side)",
        request=ExtendPreservationInputSerializer,
        responses=MLARequestSerializer,
    )
    @action(detail=True, methods=["post"], url_path="extend-preservation")
    def extend_preservation(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        obj = self.get_object()
        expected = self.expected_version(obj)
        data = self.validate_input(request.data)
        obj = mla.extend_preservation(
            actor=request.user, request=obj, expected_version=expected, **data
        )
        return self.object_response(obj)

    @extend_schema(
        summary="Link a preservation request to the full request that replaces it",
        request=LinkFollowUpInputSerializer,
        responses=MLARequestSerializer,
    )
    @action(detail=True, methods=["post"], url_path="link-follow-up")
    def link_follow_up(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        obj = self.get_object()
        expected = self.expected_version(obj)
        data = self.validate_input(request.data)
        obj = mla.link_follow_up(
            actor=request.user,
            preservation=obj,
            follow_up=data["follow_up"],
            expected_version=expected,
        )
        return self.object_response(obj)


def _transition_view(verb: str):
    transition = mla.TRANSITIONS[verb]
    side = _("requested") if transition.side == "requested" else _("requesting")

    def view(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.transition(request, verb)

    view.__name__ = verb.replace("-", "_")
    view.__doc__ = f"{verb}: {', '.join(transition.sources)} → {transition.target}"
    examples = []
    if transition.requires:
        examples = [
            OpenApiExample(verb, value={"comment": str(transition.requires)}, request_only=True)
        ]
    view = action(detail=True, methods=["post"], url_path=verb, url_name=verb)(view)
    # After `action`, which replaces the function's kwargs (where a schema
    # applied before it was kept, and lost).
    return extend_schema(
        summary=f"{verb} ({side} side's coordinators): "
        f"{', '.join(transition.sources)} → {transition.target}",
        request=TransitionInputSerializer,
        responses=MLARequestSerializer,
        examples=examples,
    )(view)


# One endpoint per edge of the table: adding a transition adds its endpoint.
for _verb in mla.TRANSITIONS:
    setattr(MLARequestViewSet, _verb.replace("-", "_"), _transition_view(_verb))

__all__ = ["MLARequestViewSet"]
