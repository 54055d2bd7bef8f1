"""Case API: thin viewsets over `cases.access` (reads) and `cases.services` (writes).

Decisions documented for partners:
* Cases are never deleted (they are records): `DELETE /cases/{id}/` is 405;
  a case ends by status (`POST /cases/{id}/status/` to `closed`, then
  `archived`). The status is not writable by PUT/PATCH because transitions
  have their own rules (closing is the lead agency's).
* Notes are append-only (a journal that can be rewritten is worthless as a
  record): no PUT/PATCH/DELETE; a correction is a new note.
* Tasks are not deleted either: set their status to `cancelled`.
* `DELETE /cases/{case_id}/participants/{id}/` revokes that agency's access;
  the participation stays on record with `revoked_at`.
* `POST /cases/{case_id}/participants/bulk/` shares with a list of agencies
  in one transaction (`cases.sharing`): all or nothing, errors per index.
* Only the lead agency shares a case onward: another managing agency
  proposes (`POST /cases/{case_id}/share-proposals/`) and the lead accepts or
  declines (`POST /share-proposals/{id}/accept/`, `…/decline/`). A
  co-manager's share is 403, whoever it names (`cases.proposals`).
* `GET /cases/{id}/?expand=participants,tasks,notes` reads a case with its
  children in one request (`cases.selectors`), each list as its own
  endpoint's first page; the answer's ETag is its own (`expanded_etag`).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import F, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from agencies.actors import AuthenticatedRequest
from config.api.base import (
    CreateMixin,
    DestroyMixin,
    GatedViewSet,
    ListMixin,
    RetrieveMixin,
    UpdateMixin,
    etag_of,
)
from gate.errors import NotFound

from .. import access, proposals, selectors, services
from ..models import Case, CaseParticipation, CaseTombstone, Note, ShareProposal, Task
from . import filters, serializers

CASE_EXAMPLE = OpenApiExample(
    "Open a case",
    value={
        "title": "Sihanoukville compound investment fraud",
        "summary": "Pig-butchering network run from a scam compound; victims in Korea.",
        "crime_types": ["investment_fraud", "money_laundering"],
        "handling_code": "AMBER",
        "handling_instruction": "H0",
    },
    request_only=True,
)


LIST_FIELDS = (
    "public_id",
    "reference",
    "title",
    "summary",
    "crime_types",
    "status",
    "handling_code",
    "handling_instruction",
    "handling_restriction",
    "created_at",
    "updated_at",
    "version",
)


#: The `expand` parameter: child list names, comma-separated (`selectors.EXPANSIONS`).
EXPAND_PATTERN = "^({names})(,({names}))*$".format(names="|".join(selectors.EXPANSIONS))
EXPAND_PARAMETER = OpenApiParameter(
    "expand",
    str,
    OpenApiParameter.QUERY,
    pattern=EXPAND_PATTERN,
    description=(
        "Read the case with some of its children in one request: any of `participants`, "
        "`tasks`, `notes`, comma-separated (`expand=participants,tasks,notes`). An unknown "
        "name is 400 naming `expand`."
    ),
)
_PARTICIPANTS, _TASKS, _NOTES = (selectors.CHILD_ORDERS[name] for name in selectors.EXPANSIONS)
EXPANDED_DESCRIPTION = (
    "Without `expand`: the case; its `ETag` is its `version` (send it in `If-Match`).\n\n"
    "With `expand`, the case's own fields plus, for each child list named, the key of "
    "that name holding exactly what its own endpoint's first page holds, read through "
    "the same rules (a confidential participant, another agency's RED or AMBER+STRICT "
    "note stay out as they do there), and `<name>_next`: that page's `next` link, null "
    "when the list is complete:\n\n"
    f"* `participants`: all participations, ended ones too, oldest share first, at most "
    f"{_PARTICIPANTS.limit}: `GET /cases/{{id}}/participants/?ordering="
    f"{_PARTICIPANTS.ordering}&page_size={_PARTICIPANTS.limit}`;\n"
    f"* `tasks`: the tasks, oldest first, at most {_TASKS.limit}: "
    f"`GET /tasks/?case={{id}}&ordering={_TASKS.ordering}&page_size={_TASKS.limit}`;\n"
    f"* `notes`: the latest {_NOTES.limit} notes, newest first: "
    f"`GET /notes/?case={{id}}&ordering={_NOTES.ordering}&page_size={_NOTES.limit}`; "
    "`notes_next` continues with the older ones.\n\n"
    "A fixed number of queries whatever the case holds. The `ETag` of an expanded answer "
    'is weak (`W/"…"`), a hash of that answer: use it in `If-None-Match` (304 while '
    "nothing you see in it changed); `If-Match` on a write takes the case's own "
    'version, `"<version>"`, never this tag (412).'
)


def expanded_etag(data: dict[str, Any]) -> str:
    """The ETag of a case read with its children: weak, a hash of the answer.

    Not the case's version: that follows the case's own fields only (a child a
    participant may not see must not change what it sees), so it stays put
    when a task or a note changes, and an `If-None-Match` on it would answer
    304 over children that did. A hash of this reader's answer moves with
    what the reader sees and nothing else: another agency's RED note leaves
    it as it was. Weak, so that it is never taken for the case's version:
    `If-Match` compares strongly and refuses it (412); a write names the
    case's `"<version>"`, and the plain read's ETag stays that version.
    """
    return f"W/{etag_of(None, data)}"


def shaped_for_list(queryset: QuerySet, *extra: str) -> QuerySet:
    """Rows of exactly the columns the list shows (and `extra`), the lead
    agency's code joined in, as dicts: a page of 500 costs one query and no
    model instance per row (a sixth of the list's time). `CaseSerializer`
    reads a row and a `Case` alike."""
    return queryset.values(*LIST_FIELDS, *extra, lead_agency_code=F("lead_agency__code"))


@extend_schema_view(
    list=extend_schema(summary="List the cases your agency may see (sync order by default)"),
    retrieve=extend_schema(
        summary="One case, optionally with its participants, tasks and latest notes",
        description=EXPANDED_DESCRIPTION,
        parameters=[EXPAND_PARAMETER],
        responses=serializers.CaseDetailSerializer,
    ),
    create=extend_schema(
        summary="Open a case led by your agency (coordinators)", examples=[CASE_EXAMPLE]
    ),
    update=extend_schema(summary="Edit a case (coordinators of a managing agency)"),
    partial_update=extend_schema(summary="Edit some fields of a case"),
)
class CaseViewSet(
    ListMixin[Case], RetrieveMixin[Case], CreateMixin[Case], UpdateMixin[Case], GatedViewSet[Case]
):
    """Case files your agency leads or was given access to.

    Cases are never deleted (they are records): a case ends by its status.
    """

    selector = "visible_cases_in_list_order"
    related = ("lead_agency",)
    extra_ordering_fields = ("created_at",)
    serializer_class = serializers.CaseSerializer
    filterset_class = filters.CaseFilter
    input_serializers = {
        "create": serializers.CaseInputSerializer,
        "update": serializers.CaseInputSerializer,
        "change_status": serializers.CaseStatusInputSerializer,
        "hand_over": serializers.HandOverInputSerializer,
    }
    action_query_params = {"retrieve": ("expand",)}
    etag_descriptions = {
        "retrieve": _(
            "The case's version; send it back in `If-Match`. With `expand`: a weak tag of "
            'the answer (`W/"…"`), for `If-None-Match` only.'
        )
    }

    def get_queryset(self) -> QuerySet:
        queryset = super().get_queryset()
        if self.action == "list" and not getattr(self, "swagger_fake_view", False):
            # With the keyset columns of the page's order only: the list by
            # creation is then read from its index alone (an unknown ordering
            # is refused by the paginator).
            ordering = self.request.query_params.get("ordering", self.sync_field)
            by_creation = ordering.lstrip("-") == "created_at"
            columns = access.LIST_CREATED_COLUMNS if by_creation else access.LIST_ORDER_COLUMNS
            return shaped_for_list(queryset, *columns)
        return queryset

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The case; with `expand`, with the child lists it names
        (`selectors.case_with_children`: the case read once through the gate,
        one query per list) and an ETag of its own (`expanded_etag`)."""
        if "expand" not in request.query_params:
            return super().retrieve(request, *args, **kwargs)
        # Names are checked before the case is read: a hidden case and a
        # missing one get the same 400.
        names = selectors.expansions(
            name for value in request.query_params.getlist("expand") for name in value.split(",")
        )
        try:
            public_id = uuid.UUID(str(kwargs.get(self.lookup_url_kwarg)))
            expanded = selectors.case_with_children(self.request.user, public_id, names)
        except (ValueError, NotFound):
            raise exceptions.NotFound() from None  # as the plain read answers
        data = serializers.CaseDetailSerializer(
            expanded, context=self.get_serializer_context()
        ).data
        return Response(data, headers={"ETag": expanded_etag(data)})

    def keyset_columns(self, field: str) -> tuple[str, str]:
        """The list pages on the grant's indexed copies: in the sync order, the
        case's position in the agency's list; by creation, the case's
        (created_at, public_id), the same values. Each is an index per agency."""
        if self.action == "list":
            if field == self.sync_field:
                return access.LIST_ORDER_COLUMNS
            if field == "created_at":
                return access.LIST_CREATED_COLUMNS
        return field, "public_id"

    def create_object(self, data: dict[str, Any]) -> Case:
        return services.create_case(actor=self.request.user, **data)

    def update_object(
        self, obj: Case, data: dict[str, Any], *, expected_version: int | None
    ) -> Case:
        return services.update_case(
            actor=self.request.user, case=obj, expected_version=expected_version, **data
        )

    @extend_schema(
        summary="Move a case along its workflow (open → active → suspended/closed → archived)",
        responses=serializers.CaseSerializer,
        examples=[OpenApiExample("Close", value={"status": "closed"}, request_only=True)],
    )
    @action(detail=True, methods=["post"], url_path="status")
    def change_status(self, request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> Response:
        case = self.get_object()
        expected = self.expected_version(case)
        data = self.validate_input(request.data)
        case = services.change_case_status(
            actor=request.user, case=case, status=data["status"], expected_version=expected
        )
        return self.object_response(case)

    @extend_schema(
        summary="Hand the lead of a case over to another agency (the lead's coordinators)",
        responses=serializers.CaseSerializer,
        examples=[
            OpenApiExample(
                "Hand over",
                value={"new_lead": "KH-CCOS", "keep_level": "contribute"},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"], url_path="hand-over")
    def hand_over(self, request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> Response:
        case = self.get_object()
        expected = self.expected_version(case)
        data = self.validate_input(request.data)
        case = services.hand_over_case(
            actor=request.user,
            case=case,
            new_lead=data["new_lead"],
            keep_level=data["keep_level"],
            expected_version=expected,
        )
        return self.object_response(case)


@extend_schema_view(
    list=extend_schema(
        summary="Cases your agency lost access to (sync: drop them from your copy)",
        description=(
            "A case revoked from your agency, expired, or handed away without your agency "
            "staying leaves the case feed; it appears here instead, as its id and the time "
            "access ended, in the same keyset sync order as the other feeds (`resume`). "
            "Tasks, notes, documents, identifiers and participants of that case went with "
            "it. Shared with your agency again, the case returns to the case feed and its "
            "tombstone is removed. Only your agency's own tombstones are listed."
        ),
    ),
    retrieve=extend_schema(summary="One tombstone (named by `case.access_revoked` events)"),
)
class CaseTombstoneViewSet(
    ListMixin[CaseTombstone], RetrieveMixin[CaseTombstone], GatedViewSet[CaseTombstone]
):
    """Tombstones: the cases your agency no longer sees, with the time access ended."""

    selector = "visible_case_tombstones"
    serializer_class = serializers.CaseTombstoneSerializer
    filterset_class = filters.CaseTombstoneFilter
    sync_field = "at"
    extra_ordering_fields = ()


@extend_schema_view(
    list=extend_schema(summary="Agencies participating in a case (as far as you may know)"),
    retrieve=extend_schema(summary="One participation"),
    create=extend_schema(
        summary="Share the case with an agency (coordinators of the lead agency; a "
        "co-managing agency proposes instead)",
        examples=[
            OpenApiExample(
                "Share", value={"agency": "KH-CCOS", "level": "contribute"}, request_only=True
            )
        ],
    ),
    update=extend_schema(summary="Change an agency's access"),
    partial_update=extend_schema(summary="Change some of an agency's access"),
    destroy=extend_schema(summary="Revoke an agency's access (kept on record)"),
)
class ParticipantViewSet(
    ListMixin[CaseParticipation],
    RetrieveMixin[CaseParticipation],
    CreateMixin[CaseParticipation],
    UpdateMixin[CaseParticipation],
    DestroyMixin[CaseParticipation],
    GatedViewSet[CaseParticipation],
):
    """Which agencies take part in a case, at which access level, until when.

    A confidential participant is shown only to the lead agency (and itself).
    Revoking keeps the participation on record, with `revoked_at`.
    """

    selector = "visible_participations"
    parent_selector = "visible_cases"
    parent_url_kwarg = "case_id"
    parent_field = "case"
    extra_ordering_fields = ("granted_at",)
    related = ("agency", "granted_by_agency", "case")
    serializer_class = serializers.ParticipantSerializer
    filterset_class = filters.ParticipantFilter
    input_serializers = {
        "create": serializers.ShareInputSerializer,
        "share_many": serializers.BulkShareInputSerializer,
        "update": serializers.ChangeAccessInputSerializer,
    }

    def create_object(self, data: dict[str, Any]) -> CaseParticipation:
        return services.share_case(actor=self.request.user, case=self.get_parent(), **data)

    @extend_schema(
        summary="Share the case with several agencies at once (all or nothing)",
        description=(
            "A list of shares, each as for a single share. Either every agency is "
            "given access or none is: a refused item is named by its index in the "
            "errors (`2.agency`). At most 200 agencies per request."
        ),
        responses={201: serializers.ParticipantSerializer(many=True)},
        examples=[
            OpenApiExample(
                "Share with two agencies",
                value=[
                    {"agency": "KH-CCOS", "level": "contribute"},
                    {"agency": "TH-CCIB", "level": "view", "expires_at": "2026-12-31T00:00:00Z"},
                ],
                request_only=True,
            )
        ],
    )
    @action(detail=False, methods=["post"], url_path="bulk", pagination_class=None)
    def share_many(self, request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> Response:
        case = self.get_parent()  # an invisible case is 404 before the body is read
        shares = self.validate_input(request.data)
        participations = services.share_case_with_agencies(
            actor=request.user, case=case, shares=shares
        )
        for participation in participations:
            # The granter is the requester's own agency: always theirs to know
            # (and no query per row to find that out).
            participation.granter_disclosed = True
        data = self.get_serializer(participations, many=True).data
        return Response(data, status=status.HTTP_201_CREATED)

    def update_object(
        self, obj: CaseParticipation, data: dict[str, Any], *, expected_version: int | None
    ) -> CaseParticipation:
        return services.change_access(
            actor=self.request.user,
            participation=obj,
            level=data.get("level"),
            expires_at=data.get("expires_at", ...),
            confidential=data.get("confidential"),
            expected_version=expected_version,
        )

    def destroy_object(self, obj: CaseParticipation, *, expected_version: int | None) -> None:
        services.revoke_case(
            actor=self.request.user, participation=obj, expected_version=expected_version
        )


class _ProposalSelector(GatedViewSet[ShareProposal]):
    """Share proposals are read through their own selector (`cases.proposals`),
    which is built on the gate's case selector."""

    def get_selected(self, name: str) -> QuerySet:
        if name == "visible_share_proposals":
            return proposals.visible_share_proposals(self.request.user)
        return super().get_selected(name)


@extend_schema_view(
    list=extend_schema(
        summary="Share proposals on a case (the lead agency's, and your agency's own)"
    ),
    create=extend_schema(
        summary="Propose that the lead agency share the case (coordinators of a co-managing "
        "agency)",
        description=(
            "Only the lead agency shares a case onward; another managing agency proposes, "
            "with a reason, and the lead accepts or declines. The answer never depends on "
            "a participation your agency may not see: a proposal naming an agency that "
            "already takes part unknown to you is pending like any other. The lead's "
            "coordinators are told; your agency's are told the decision."
        ),
        examples=[
            OpenApiExample(
                "Propose",
                value={
                    "agency": "TH-CCIB",
                    "level": "view",
                    "reason": "The compound's payments run through Thai accounts.",
                },
                request_only=True,
            )
        ],
    ),
)
class CaseShareProposalViewSet(
    ListMixin[ShareProposal], CreateMixin[ShareProposal], _ProposalSelector
):
    """Proposals that the lead agency share a case onward (the third-party rule).

    Seen by the lead agency and the agency that proposed; to anyone else they
    do not exist. Decided at `/share-proposals/{id}/`.
    """

    selector = "visible_share_proposals"
    parent_selector = "visible_cases"
    parent_url_kwarg = "case_id"
    parent_field = "case"
    related = ("case", "agency", "proposing_agency")
    extra_ordering_fields = ("created_at",)
    serializer_class = serializers.ShareProposalSerializer
    filterset_class = filters.ShareProposalFilter
    input_serializers = {"create": serializers.ShareProposalInputSerializer}

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        case = self.get_parent()  # an invisible case is 404 before the body is read
        data = self.validate_input(request.data)
        proposal = proposals.propose_share(actor=request.user, case=case, **data)
        response = self.object_response(proposal, status_code=status.HTTP_201_CREATED)
        namespace = request.resolver_match.namespace if request.resolver_match else ""
        name = "share-proposal-detail"
        response["Location"] = reverse(
            f"{namespace}:{name}" if namespace else name,
            kwargs={"id": str(proposal.public_id)},
            request=request,
        )
        return response


@extend_schema_view(retrieve=extend_schema(summary="One share proposal"))
class ShareProposalViewSet(RetrieveMixin[ShareProposal], _ProposalSelector):
    """A share proposal, and its decision by the lead agency's coordinators.

    Accepting shares the case as proposed (confidentially if the lead says
    so). `outcome` is the lead's alone to read.
    """

    selector = "visible_share_proposals"
    related = ("case", "agency", "proposing_agency")
    serializer_class = serializers.ShareProposalSerializer
    input_serializers = {
        "accept": serializers.ProposalAcceptInputSerializer,
        "decline": serializers.ProposalDecisionInputSerializer,
    }

    @extend_schema(
        summary="Accept a share proposal: share the case as proposed (the lead's coordinators)",
        responses=serializers.ShareProposalSerializer,
    )
    @action(detail=True, methods=["post"], url_path="accept")
    def accept(self, request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> Response:
        proposal = self.get_object()
        expected = self.expected_version(proposal)
        data = self.validate_input(request.data)
        proposal = proposals.accept_proposal(
            actor=request.user, proposal=proposal, expected_version=expected, **data
        )
        return self.object_response(proposal)

    @extend_schema(
        summary="Decline a share proposal (the lead's coordinators)",
        responses=serializers.ShareProposalSerializer,
    )
    @action(detail=True, methods=["post"], url_path="decline")
    def decline(self, request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> Response:
        proposal = self.get_object()
        expected = self.expected_version(proposal)
        data = self.validate_input(request.data)
        proposal = proposals.decline_proposal(
            actor=request.user, proposal=proposal, expected_version=expected, **data
        )
        return self.object_response(proposal)


@extend_schema_view(
    list=extend_schema(summary="Tasks on the cases your agency may see"),
    retrieve=extend_schema(summary="One task"),
    create=extend_schema(summary="Create a task on a case (coordinators of a managing agency)"),
    update=extend_schema(summary="Edit a task"),
    partial_update=extend_schema(
        summary="Edit some fields of a task (the assigned agency's investigators: status, assignee)"
    ),
)
class TaskViewSet(
    ListMixin[Task], RetrieveMixin[Task], CreateMixin[Task], UpdateMixin[Task], GatedViewSet[Task]
):
    """Joint-investigation tasks, each owned by one participating agency.

    Tasks are not deleted: set their status to `cancelled`.
    """

    selector = "visible_tasks"
    list_selector = "listed_tasks"
    extra_ordering_fields = ("created_at",)
    related = ("case", "assigned_agency", "assigned_user__membership")
    serializer_class = serializers.TaskSerializer
    filterset_class = filters.TaskFilter
    input_serializers = {
        "create": serializers.TaskCreateInputSerializer,
        "update": serializers.TaskUpdateInputSerializer,
    }

    def create_object(self, data: dict[str, Any]) -> Task:
        return services.create_task(actor=self.request.user, **data)

    def update_object(
        self, obj: Task, data: dict[str, Any], *, expected_version: int | None
    ) -> Task:
        return services.update_task(
            actor=self.request.user, task=obj, expected_version=expected_version, **data
        )


@extend_schema_view(
    list=extend_schema(summary="Notes on the cases your agency may see (oldest first)"),
    retrieve=extend_schema(summary="One note"),
    create=extend_schema(
        summary="Add a note to a case (investigators of a contributing agency); notes are "
        "append-only"
    ),
)
class NoteViewSet(ListMixin[Note], RetrieveMixin[Note], CreateMixin[Note], GatedViewSet[Note]):
    """The case journal. Append-only: a correction is a new note."""

    selector = "visible_notes"
    list_selector = "listed_notes"
    related = ("case", "agency", "author")
    serializer_class = serializers.NoteSerializer
    filterset_class = filters.NoteFilter
    sync_field = "created_at"
    input_serializers = {"create": serializers.NoteInputSerializer}

    def create_object(self, data: dict[str, Any]) -> Note:
        return services.add_note(actor=self.request.user, **data)
