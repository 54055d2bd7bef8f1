"""The changelists' orders and filters: the API lists' shape, in the admin.

An agency's list of cases, tasks, notes, identifiers, documents or MLA
requests is read from an index and stops after its page, at any size, only
if its order and its filters are ones an index serves for the agency. The
API lists found those (`cases.api`); the admin pages take the same:

* **Cases** come from `access.visible_cases_in_list_order` (exactly
  `visible_cases`, with the grant joined), newest first in the agency's
  sync order (`access.LIST_ORDER_COLUMNS`: the case's last change or its
  share with the agency, whichever is later), read backwards from the
  grant index on (group, permission, position). Status, handling code,
  lead agency and crime type filter on the grant's copies of them
  (`access.LIST_FILTER_COLUMNS`), which that index carries: a filtered page
  is read from the same index.
* **Child lists** (tasks, notes, identifiers, documents, MLA requests)
  walk their own sync-order index newest first (the API's `sync_field`,
  reversed: what an investigator opens a page for is what changed last)
  and ask the gate's rule of each row, as the API's lists do; an agency
  that sees few cases has its tasks, notes and identifiers read case by
  case instead (the API's `list_selector`: `access.listed_tasks`…, here the
  admin's `list_selector`). An agency filter reads the index keyed by that
  agency where there is one (tasks by assigned agency, notes by author
  agency: migration 0022).

A child list's count reads one page past the one shown
(`count_pages_ahead = CHILD_COUNT_PAGES_AHEAD`: "more than 200 tasks", then
300 on the next page…), not 10,000 rows: each row it reads costs the
rule's probes (about 0.3 ms a row for the busiest agency at 1M cases), and
past a few hundred rows PostgreSQL stops walking the index and hashes every
row of the table instead (seconds). The case list's count reads the grant
index only and goes to the cap.

Newest first rather than the API's oldest first: the indexes read either
way, and a web page is for what happened lately; a sync client starts
from the oldest. Only these orders are offered as sortable columns
(`sortable_by`): sorting by title, case or due date has no index for an
agency, so it would sort every row the agency sees.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from cases import access
from cases.choices import CaseStatus, CrimeType, HandlingCode
from config.admin_base import AgencyColumnFilter, ColumnFilter

LIST_POSITION, LIST_PUBLIC_ID = access.LIST_ORDER_COLUMNS
LIST_STATUS, LIST_HANDLING_CODE, LIST_LEAD_AGENCY, LIST_CRIME_TYPES = access.LIST_FILTER_COLUMNS[:4]

#: Newest first in each list's sync order (its API's, reversed); the public
#: id is unique, so Django adds no other key to the order.
CASE_ORDER = (f"-{LIST_POSITION}", f"-{LIST_PUBLIC_ID}")
TASK_ORDER = ("-updated_at", "-public_id")
NOTE_ORDER = ("-created_at", "-public_id")
IDENTIFIER_ORDER = ("-created_at", "-public_id")
DOCUMENT_ORDER = ("-created_at", "-public_id")
MLA_REQUEST_ORDER = ("-updated_at", "-public_id")

#: Pages past the one shown that a child list counts (see above).
CHILD_COUNT_PAGES_AHEAD = 1


# --- cases: the grant's copies ----------------------------------------------------


class CaseStatusFilter(ColumnFilter):
    title = _("status")
    parameter_name = "status"
    column = LIST_STATUS
    column_choices = CaseStatus.choices


class CaseHandlingCodeFilter(ColumnFilter):
    title = _("handling code")
    parameter_name = "handling_code"
    column = LIST_HANDLING_CODE
    column_choices = HandlingCode.choices


class LeadAgencyFilter(AgencyColumnFilter):
    title = _("lead agency")
    parameter_name = "lead_agency"
    column = LIST_LEAD_AGENCY


class CaseCrimeTypeFilter(ColumnFilter):
    """Cases of a crime type: the API's `crime_type`, on the grant's copy of
    the case's crime types (a list: containment, not equality)."""

    title = _("crime types")
    parameter_name = "crime_type"
    column = LIST_CRIME_TYPES
    column_choices = CrimeType.choices

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        return queryset.filter(access.listed_with_crime_type(value))


# --- child lists: agencies by id ------------------------------------------------


class AssignedAgencyFilter(AgencyColumnFilter):
    """Tasks assigned to an agency: the index on (assigned agency, updated_at,
    public_id), the API's `assigned_agency`."""

    title = _("assigned agency")
    parameter_name = "assigned_agency"
    column = "assigned_agency_id"


class AuthorAgencyFilter(AgencyColumnFilter):
    """Notes, identifiers, documents written by an agency (the API's notes
    `agency`; notes read the index on (agency, created_at, public_id))."""

    title = _("agency")
    parameter_name = "agency"
    column = "agency_id"


class ContentTypeFilter(ColumnFilter):
    """Evidence by its detected type. The choices are the types evidence may
    have (`EVIDENCE_ALLOWED_TYPES`), not the types found by reading every
    document the agency sees; a type no longer allowed is still matched
    when named in the query string."""

    title = _("content type (detected)")
    parameter_name = "content_type"
    column = "content_type"

    def lookups(self, request, model_admin):
        return [(mime, mime) for mime in settings.EVIDENCE_ALLOWED_TYPES]
