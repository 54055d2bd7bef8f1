"""List filters. They narrow what the gate already returned; none widens it.

Any filter that names another agency's relation to a case (`agency`) goes
through a gate selector, so it cannot reveal, say, a confidential participant.
"""

from __future__ import annotations

import django_filters as filters
from django.db.models import Q, QuerySet, Subquery
from django.utils.translation import gettext_lazy as _
from django_filters.constants import EMPTY_VALUES

from agencies.models import agency_id_of
from config.api.filters import DateTimeFilter, MultipleChoiceFilter

from .. import access, search
from ..choices import (
    CaseStatus,
    CrimeType,
    HandlingCode,
    SearchKind,
    ShareProposalStatus,
    TaskPriority,
    TaskStatus,
)
from ..models import Case, CaseParticipation, CaseTombstone, Note, ShareProposal, Task


class AgencyCodeFilter(filters.CharFilter):
    """An agency named by its code, matched on its id: the lists' indexes
    keyed by agency serve the filter, where a join on the code could not."""

    def filter(self, qs: QuerySet, value: str) -> QuerySet:
        if value in EMPTY_VALUES:
            return qs
        return qs.filter(**{self.field_name: Subquery(agency_id_of(value))})


_STATUS, _HANDLING_CODE, _LEAD_AGENCY, _CRIME_TYPES, _CREATED_AT, _UPDATED_AT = (
    access.LIST_FILTER_COLUMNS
)


class CaseFilter(filters.FilterSet):
    """Filters of the case list. Each but `agency` and `q` reads the grant's
    copy of what it names (`access.LIST_FILTER_COLUMNS`: status, handling
    code, lead agency, crime types, creation, last change): a filtered page
    comes from the agency's index like an unfiltered one, its entries
    filtered in the index, and only the cases it returns are read."""

    status = MultipleChoiceFilter(choices=CaseStatus.choices, field_name=_STATUS)
    lead_agency = AgencyCodeFilter(field_name=_LEAD_AGENCY, help_text=_("Agency code."))
    agency = filters.CharFilter(
        method="filter_agency",
        help_text=_("Cases in which this agency (code) participates, as far as you may know."),
    )
    crime_type = filters.ChoiceFilter(choices=CrimeType.choices, method="filter_crime_type")
    handling_code = MultipleChoiceFilter(choices=HandlingCode.choices, field_name=_HANDLING_CODE)
    q = filters.CharFilter(method="filter_q", help_text=_("Text in the title or summary."))
    created_after = DateTimeFilter(field_name=_CREATED_AT, method="filter_since")
    created_before = DateTimeFilter(field_name=_CREATED_AT, lookup_expr="lt")
    updated_after = DateTimeFilter(field_name=_UPDATED_AT, method="filter_since")
    updated_before = DateTimeFilter(field_name=_UPDATED_AT, lookup_expr="lt")
    updated_since = DateTimeFilter(
        method="filter_updated_since",
        help_text=_(
            "Changed, or shared with your agency, at or after this time (inclusive); "
            "for a first sync from a date."
        ),
    )

    class Meta:
        model = Case
        fields: list[str] = []

    def filter_agency(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(access.takes_part(self.request.user, Subquery(agency_id_of(value))))

    def filter_updated_since(self, queryset: QuerySet, name: str, value) -> QuerySet:
        """The case's position in the agency's list (the sync order): a case
        shared after its last change counts from the share, so a first sync
        from a date does not miss it. `CaseViewSet` reads cases in that shape."""
        return queryset.filter(**{f"{access.LIST_ORDER_COLUMNS[0]}__gte": value})

    def filter_since(self, queryset: QuerySet, name: str, value) -> QuerySet:
        """`name` at or after `value`, bounded on the list position as well: a
        case is listed at the later of its last change and the share, never
        before it was created or changed, so the same cases match, and the
        agency's index starts at `value` instead of at its oldest case."""
        return queryset.filter(
            **{f"{name}__gte": value, f"{access.LIST_ORDER_COLUMNS[0]}__gte": value}
        )

    def filter_crime_type(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(access.listed_with_crime_type(value))

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """The full-text search's matching (`search.matching`: a substring of
        the title or summary, in the shape its trigram and character-pair
        indexes serve); a single character, which no such index holds, by
        `icontains`."""
        value = value.strip()
        if not value:
            return queryset
        if len(value) < search.MIN_QUERY_LENGTH:
            return queryset.filter(Q(title__icontains=value) | Q(summary__icontains=value))
        return search.matching(queryset, search.SOURCES[SearchKind.CASE], value)


class ParticipantFilter(filters.FilterSet):
    active = filters.BooleanFilter(method="filter_active", help_text=_("Only current ones."))
    updated_since = DateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = CaseParticipation
        fields: list[str] = []

    def filter_active(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        active = CaseParticipation.objects.active().values("pk")
        return queryset.filter(pk__in=active) if value else queryset.exclude(pk__in=active)


class TaskFilter(filters.FilterSet):
    case = filters.UUIDFilter(field_name="case__public_id")
    status = MultipleChoiceFilter(choices=TaskStatus.choices)
    priority = MultipleChoiceFilter(choices=TaskPriority.choices)
    assigned_agency = AgencyCodeFilter(field_name="assigned_agency_id")
    due_after = filters.DateFilter(field_name="due_date", lookup_expr="gte")
    due_before = filters.DateFilter(field_name="due_date", lookup_expr="lte")
    q = filters.CharFilter(field_name="title", lookup_expr="icontains")
    updated_since = DateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Task
        fields: list[str] = []


class NoteFilter(filters.FilterSet):
    case = filters.UUIDFilter(field_name="case__public_id")
    agency = AgencyCodeFilter(field_name="agency_id")
    created_since = DateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = Note
        fields: list[str] = []


class CaseTombstoneFilter(filters.FilterSet):
    since = DateTimeFilter(
        field_name="at",
        lookup_expr="gte",
        help_text=_(
            "Access ended at or after this time (inclusive); for a first sync from a date."
        ),
    )

    class Meta:
        model = CaseTombstone
        fields: list[str] = []


class ShareProposalFilter(filters.FilterSet):
    status = MultipleChoiceFilter(choices=ShareProposalStatus.choices)
    updated_since = DateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = ShareProposal
        fields: list[str] = []
