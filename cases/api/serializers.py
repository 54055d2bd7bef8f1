"""Shapes of the case API: `…Serializer` for output, `…InputSerializer` for input.

Input serializers check types and enumerations only; every business rule
(roles, access levels, transitions, handling codes) is the services' job.
Integer primary keys never appear: objects are `id` (their public UUID),
agencies are their code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlencode

from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from config.api.fields import AgencyCodeReference, PublicIdReference
from config.api.pagination import SyncCursorPagination

from .. import access, proposals, selectors, services
from ..access import agency_of
from ..choices import (
    AccessLevel,
    CaseStatus,
    CrimeType,
    HandlingCode,
    HandlingInstruction,
    ShareProposalOutcome,
)
from ..models import Case, CaseParticipation, CaseTombstone, Note, ShareProposal, Task

if TYPE_CHECKING:
    from django.db.models import Field

PUBLIC_ID: dict[str, Any] = {"source": "public_id", "read_only": True}


class AgencyCodeField(serializers.SlugRelatedField):
    def __init__(self, **kwargs: Any):
        super().__init__(slug_field="code", read_only=True, **kwargs)


# --- cases ----------------------------------------------------------------------


def _model_label(field: str) -> dict[str, Any]:
    """The model field's label and help text, so the schema says what the admin says."""
    model_field = cast("Field[Any, Any]", Case._meta.get_field(field))
    return {"label": capfirst(model_field.verbose_name), "help_text": model_field.help_text or None}


# A case as every partner reads it. Its fields are declared rather than
# derived from the model: the list serializes up to 500 of them per request,
# and a declared serializer skips the per-request introspection of the model
# (a third of the list's serializing time). (A comment, not a docstring: the
# schema would publish it.)
class CaseSerializer(serializers.Serializer):
    id = serializers.UUIDField(**PUBLIC_ID)
    reference = serializers.CharField(read_only=True)
    title = serializers.CharField(read_only=True)
    summary = serializers.CharField(read_only=True)
    crime_types = serializers.ListField(child=serializers.ChoiceField(CrimeType.choices))
    status = serializers.ChoiceField(CaseStatus.choices, read_only=True)
    handling_code = serializers.ChoiceField(HandlingCode.choices, read_only=True)
    handling_instruction = serializers.ChoiceField(HandlingInstruction.choices, read_only=True)
    handling_restriction = serializers.CharField(
        read_only=True, **_model_label("handling_restriction")
    )
    lead_agency = serializers.CharField(source="lead_agency_code", read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    version = serializers.IntegerField(read_only=True)


class CaseTombstoneSerializer(serializers.ModelSerializer):
    """A case your agency lost access to: its id and when, nothing else."""

    id = serializers.UUIDField(
        **PUBLIC_ID, help_text=_("The tombstone's own id (webhook events name it).")
    )
    case = serializers.UUIDField(
        source="case_public_id",
        read_only=True,
        help_text=_("The case your agency no longer sees: drop your copy, its children too."),
    )
    at = serializers.DateTimeField(
        read_only=True, help_text=_("When your agency's access ended (on record).")
    )

    class Meta:
        model = CaseTombstone
        fields = ["id", "case", "at"]
        read_only_fields = fields


class CaseInputSerializer(serializers.ModelSerializer):
    """Open or edit a case. The status changes through `POST …/status/`."""

    crime_types = serializers.ListField(
        child=serializers.ChoiceField(CrimeType.choices), required=False, max_length=20
    )

    class Meta:
        model = Case
        fields = list(services.CASE_EDITABLE_FIELDS)


class CaseStatusInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(CaseStatus.choices)


class HandOverInputSerializer(serializers.Serializer):
    new_lead = AgencyCodeReference(help_text=_("Code of the agency that will lead the case."))
    keep_level = serializers.ChoiceField(
        AccessLevel.choices,
        allow_null=True,
        default=AccessLevel.CONTRIBUTE,
        help_text=_("Access your agency keeps; null: it leaves the case."),
    )


# --- participants ---------------------------------------------------------------


class ParticipantSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(**PUBLIC_ID)
    agency = AgencyCodeField()
    granted_by_agency = serializers.SerializerMethodField(
        help_text=_("Who shared; null when unknown or not yours to know (confidential).")
    )
    active = serializers.BooleanField(source="is_active", read_only=True)
    end_reason = serializers.ChoiceField(
        CaseParticipation.EndReason.choices,
        allow_blank=True,
        read_only=True,
        help_text=_("Why the participation ended; empty while it lasts."),
    )

    class Meta:
        model = CaseParticipation
        fields = [
            "id",
            "agency",
            "level",
            "confidential",
            "active",
            "granted_by_agency",
            "granted_at",
            "expires_at",
            "revoked_at",
            "end_reason",
            "updated_at",
            "version",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "nullable": True, "example": "KR-KNP"})
    def get_granted_by_agency(self, participation: CaseParticipation) -> str | None:
        granter = participation.granted_by_agency
        if granter is None:
            return None
        disclosed = getattr(participation, "granter_disclosed", None)
        if disclosed is None:  # a participation just written, not read through the selector
            user = self.context["request"].user
            disclosed = granter.pk in access.disclosed_agency_ids(user, participation.case)
        return granter.code if disclosed else None


class ShareInputSerializer(serializers.Serializer):
    agency = AgencyCodeReference(help_text=_("Code of the agency to share with."))
    level = serializers.ChoiceField(AccessLevel.choices)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    confidential = serializers.BooleanField(required=False, default=False)


class _ListedAgencyCode(AgencyCodeReference):
    """An agency code of a bulk share, looked up among the agencies the list
    serializer resolved for all items at once (the same selector and lookup:
    one query for the list, not one per item)."""

    def to_internal_value(self, data: Any):
        listed = self.context.get("listed_agencies")
        if listed is None:
            return super().to_internal_value(data)
        try:
            code = self.parse(data)
        except (TypeError, ValueError, AttributeError):
            raise serializers.ValidationError(self.unknown_message, code="unknown") from None
        if code not in listed:
            raise serializers.ValidationError(self.unknown_message, code="unknown")
        return listed[code]


class BulkShareItemSerializer(ShareInputSerializer):
    agency = _ListedAgencyCode(help_text=_("Code of the agency to share with."))


class BulkShareInputSerializer(serializers.ListSerializer):
    """Several agencies to share a case with, in one all-or-nothing request."""

    child = BulkShareItemSerializer()
    MAX_SHARES = 200  # one request, one transaction: larger lists go in batches

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_empty", False)
        kwargs.setdefault("max_length", self.MAX_SHARES)
        super().__init__(*args, **kwargs)

    def to_internal_value(self, data: Any):
        if isinstance(data, list) and len(data) <= self.MAX_SHARES:
            codes = {
                item["agency"].strip()
                for item in data
                if isinstance(item, dict) and isinstance(item.get("agency"), str)
            }
            agencies = self.child.fields["agency"].get_queryset().filter(code__in=codes)
            self.context["listed_agencies"] = {a.code: a for a in agencies}
        return super().to_internal_value(data)


class ChangeAccessInputSerializer(serializers.Serializer):
    level = serializers.ChoiceField(AccessLevel.choices, required=False)
    expires_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text=_("null: no expiry; absent: unchanged.")
    )
    confidential = serializers.BooleanField(required=False)


# --- share proposals ------------------------------------------------------------


class ShareProposalSerializer(serializers.ModelSerializer):
    """A proposal that the lead agency share its case onward, as the lead
    agency and the proposing agency see it."""

    id = serializers.UUIDField(**PUBLIC_ID)
    case = serializers.UUIDField(source="case.public_id", read_only=True)
    proposing_agency = AgencyCodeField()
    agency = AgencyCodeField(help_text=_("The agency the case would be shared with."))
    outcome = serializers.SerializerMethodField(
        help_text=_(
            "What accepting did (`shared`, or `already_participating`: nothing was "
            "shared); shown to the lead agency only, null for the proposing agency."
        )
    )

    class Meta:
        model = ShareProposal
        fields = [
            "id",
            "case",
            "proposing_agency",
            "agency",
            "level",
            "expires_at",
            "reason",
            "status",
            "outcome",
            "decided_at",
            "decision_note",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "enum": ShareProposalOutcome.values, "nullable": True})
    def get_outcome(self, proposal: ShareProposal) -> str | None:
        return proposals.outcome_shown_to(self.context["request"].user, proposal)


class ShareProposalInputSerializer(serializers.Serializer):
    agency = AgencyCodeReference(help_text=_("Code of the agency to share with."))
    level = serializers.ChoiceField(AccessLevel.choices)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    reason = serializers.CharField(
        max_length=proposals.REASON_MAX_LENGTH,
        help_text=_("Why the case should go to this agency: the lead agency decides on it."),
    )
    confidential = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_("Only the lead agency makes a share confidential: `true` is refused."),
    )


class ProposalDecisionInputSerializer(serializers.Serializer):
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=proposals.NOTE_MAX_LENGTH,
        help_text=_("Shown to the proposing agency with the decision."),
    )


class ProposalAcceptInputSerializer(ProposalDecisionInputSerializer):
    confidential = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_("Share confidentially (the lead agency's choice)."),
    )


# --- tasks ------------------------------------------------------------------------


class TaskSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(**PUBLIC_ID)
    case = serializers.UUIDField(source="case.public_id", read_only=True)
    assigned_agency = AgencyCodeField()
    assigned_user = serializers.SerializerMethodField(
        help_text=_("The assignee's membership id, shown only to the assignee's own agency.")
    )
    assigned_to_me = serializers.SerializerMethodField()

    class Meta:
        model = Task
        fields = [
            "id",
            "case",
            "title",
            "description",
            "assigned_agency",
            "assigned_user",
            "assigned_to_me",
            "status",
            "priority",
            "due_date",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = fields

    def _viewer(self):
        return self.context["request"].user

    @extend_schema_field({"type": "string", "format": "uuid", "nullable": True})
    def get_assigned_user(self, task: Task) -> str | None:
        user = task.assigned_user
        membership = getattr(user, "membership", None) if user else None
        mine = agency_of(self._viewer())
        if membership is None or mine is None or membership.agency_id != mine.pk:
            return None
        return str(membership.public_id)

    def get_assigned_to_me(self, task: Task) -> bool:
        return task.assigned_user_id is not None and task.assigned_user_id == self._viewer().pk


class _AssigneeReference(PublicIdReference):
    """A member of the requester's own agency, by membership id."""

    selector = "visible_memberships"
    unknown_message = _("Unknown member of your agency.")

    def to_representation(self, value: Any) -> str:
        return str(value.membership.public_id)

    def to_internal_value(self, data: Any) -> Any:
        return super().to_internal_value(data).user


class TaskCreateInputSerializer(serializers.Serializer):
    case = PublicIdReference(selector="visible_cases", unknown_message=_("Unknown case."))
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    assigned_agency = AgencyCodeReference()
    assigned_user = _AssigneeReference(required=False, allow_null=True, default=None)
    priority = serializers.ChoiceField(Task._meta.get_field("priority").choices, default="normal")
    due_date = serializers.DateField(required=False, allow_null=True, default=None)


class TaskUpdateInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    assigned_agency = AgencyCodeReference(required=False)
    assigned_user = _AssigneeReference(required=False, allow_null=True)
    status = serializers.ChoiceField(Task._meta.get_field("status").choices, required=False)
    priority = serializers.ChoiceField(Task._meta.get_field("priority").choices, required=False)
    due_date = serializers.DateField(required=False, allow_null=True)


# --- notes ------------------------------------------------------------------------


class NoteSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(**PUBLIC_ID)
    case = serializers.UUIDField(source="case.public_id", read_only=True)
    agency = AgencyCodeField()
    author_name = serializers.SerializerMethodField()

    class Meta:
        model = Note
        fields = [
            "id",
            "case",
            "agency",
            "author_name",
            "body",
            "handling_code",
            "handling_instruction",
            "handling_restriction",
            "source_reliability",
            "information_accuracy",
            "created_at",
        ]
        read_only_fields = fields

    def get_author_name(self, note: Note) -> str:
        return note.author.get_full_name() or note.author.get_username()


class NoteInputSerializer(serializers.ModelSerializer):
    case = PublicIdReference(selector="visible_cases", unknown_message=_("Unknown case."))

    class Meta:
        model = Note
        fields = [
            "case",
            "body",
            "handling_code",
            "handling_instruction",
            "handling_restriction",
            "source_reliability",
            "information_accuracy",
        ]


# --- a case with its children (`GET /cases/{id}/?expand=…`) ----------------------

#: Each child list's endpoint: its route name, whether the case is in its path
#: (`case_id`) or its filter (`?case=`).
_CHILD_ROUTES: dict[str, tuple[str, bool]] = {
    "participants": ("participant-list", True),
    "tasks": ("task-list", False),
    "notes": ("note-list", False),
}


# One case with the child lists asked for in `expand`. The instance is a
# `selectors.CaseWithChildren`; each list holds exactly the first page of its
# own endpoint in the order `selectors.CHILD_ORDERS` gives, with the same
# serializer, and `<name>_next` is that page's `next` link. The help texts
# name the bounds of `selectors.CHILD_ORDERS` (a test holds them equal). (A
# comment, not a docstring: the schema would publish it.)
class CaseDetailSerializer(CaseSerializer):
    participants = ParticipantSerializer(
        many=True,
        required=False,
        help_text=_(
            "With `expand=participants`: as `GET /cases/{id}/participants/?ordering=granted_at"
            "&page_size=100` (at most 100). Absent without the expansion."
        ),
    )
    participants_next = serializers.URLField(
        required=False,
        allow_null=True,
        help_text=_(
            "With `expand=participants`: the participants' next page, after the last one "
            "given here; null when they are all here. Absent without the expansion."
        ),
    )
    tasks = TaskSerializer(
        many=True,
        required=False,
        help_text=_(
            "With `expand=tasks`: as `GET /tasks/?case={id}&ordering=created_at&page_size=100` "
            "(at most 100). Absent without the expansion."
        ),
    )
    tasks_next = serializers.URLField(
        required=False,
        allow_null=True,
        help_text=_(
            "With `expand=tasks`: the tasks' next page, after the last one given here; null "
            "when they are all here. Absent without the expansion."
        ),
    )
    notes = NoteSerializer(
        many=True,
        required=False,
        help_text=_(
            "With `expand=notes`: the latest 20 notes, newest first, as `GET /notes/?case={id}"
            "&ordering=-created_at&page_size=20`. Absent without the expansion."
        ),
    )
    notes_next = serializers.URLField(
        required=False,
        allow_null=True,
        help_text=_(
            "With `expand=notes`: the older notes, after the last one given here; null when "
            "they are all here. Absent without the expansion."
        ),
    )

    def to_representation(self, instance: selectors.CaseWithChildren) -> dict[str, Any]:
        # The case's own fields by the case serializer, never by this one's
        # parent method: `Case.tasks` and `Case.notes` are the case's reverse
        # relations, every row of them, gate or no gate.
        data = dict(CaseSerializer(instance.case, context=self.context).data)
        for name in instance.expanded:
            page = getattr(instance, name)
            data[name] = self.fields[name].to_representation(page.rows)
            data[f"{name}_next"] = self._next_link(name, instance.case, page)
        return data

    def _next_link(self, name: str, case: Case, page: selectors.ChildPage) -> str | None:
        """The child endpoint's `next` link after the last row given (the same
        link that endpoint's first page would carry), or None."""
        if not page.more:
            return None
        request = self.context["request"]
        route, in_path = _CHILD_ROUTES[name]
        namespace = request.resolver_match.namespace if request.resolver_match else ""
        url = reverse(
            f"{namespace}:{route}" if namespace else route,
            kwargs={"case_id": str(case.public_id)} if in_path else {},
            request=request,
        )
        order, last = page.order, page.rows[-1]
        query = {
            **({} if in_path else {"case": str(case.public_id)}),
            "ordering": order.ordering,
            "page_size": str(order.limit),
            "cursor": SyncCursorPagination.encode_cursor(
                order.ordering, getattr(last, order.field), str(last.public_id)
            ),
        }
        # Sorted, as the paginator writes its links.
        return f"{url}?{urlencode(sorted(query.items()))}"
