"""The case page: summary, handling code, participants, tasks, journal.

Follows the conventions of `config.admin_base`: rows from the gate, writes
through `cases.services`, invisible cases 404.
"""

from __future__ import annotations

import uuid
from typing import cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.forms.utils import flatatt
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from agencies.actors import AuthenticatedHttpRequest
from agencies.models import Agency
from cases import access, proposals, services
from cases.choices import AccessLevel, CaseStatus, CrimeType, ShareProposalStatus
from cases.models import (
    Asset,
    Case,
    CaseParticipation,
    Document,
    Entity,
    Identifier,
    Link,
    MLARequest,
    Note,
    ShareProposal,
    Task,
    TaskLogEntry,
    Transaction,
)
from cases.sharing import PROPOSE_INSTEAD
from cases.timeline import case_timeline
from config.admin_base import FIELD_SELECTORS, GatedModelAdmin, selector_for
from gate.errors import DomainError, NotFound
from gate.roles import Role

from . import lists, rows
from .rows import tlp_badge

# The case choices (autocomplete, selects) are ordered by the case list's
# own order (`CaseAdmin.ordering`), whose columns only this shape has: it is
# exactly `visible_cases`.
FIELD_SELECTORS[Case] = access.visible_cases_in_list_order
FIELD_SELECTORS[CaseParticipation] = access.visible_participations

#: The latest timeline events the workspace shows (the History page shows all).
WORKSPACE_TIMELINE_LIMIT = 50


def can_once(request: HttpRequest, action: str, obj) -> bool:
    """`access.can`, with the reader's standing on a case read once per request.

    Django asks the same permissions of the same case many times while it
    builds one change page (each inline, each formset, the submit row). The
    case is read once through the gate (`access.require_many`: visibility,
    level and status in one query) and every action is then answered by the
    same rules in memory (`access.require_loaded`). Kept on the request only:
    the next request asks the gate again.
    """
    if not isinstance(obj, Case) or obj.pk is None:
        return access.can(request.user, action, obj)
    loaded = case_standing(request, obj)
    if loaded is None:
        return False
    try:
        access.require_loaded(request.user, action, loaded)
    except DomainError:  # the rule's refusal: PermissionDenied or Conflict
        return False
    return True


def case_standing(request: HttpRequest, case: Case | int, cases=None) -> Case | None:
    """The case (or its pk) as the reader's agency holds it (level and status,
    through `access.require_many`), read once per request; None if invisible.
    `cases` is the one-row queryset to read it from (default: the bare case)."""
    pk = case.pk if isinstance(case, Case) else case
    standing = request.__dict__.setdefault("_cb_case_standing", {})
    if pk not in standing:
        try:
            (standing[pk],) = access.require_many(
                request.user,
                "view",
                cases if cases is not None else Case.objects.filter(pk=pk),
                count=1,
            )
        except NotFound:
            standing[pk] = None
    return standing[pk]


# --- forms of the case page and its actions -------------------------------------


class OptionsInPythonSelect(forms.Select):
    """A select whose options are written in Python, not through one template
    per option: a list of every agency costs a template render per agency
    otherwise, the largest part of the workspace's rendering for a coordinator.
    Same HTML as `forms.Select` (flat choices; grouped ones fall back to it)."""

    def render(self, name, value, attrs=None, renderer=None):
        choices = list(self.choices)
        if any(isinstance(label, (list, tuple)) for _value, label in choices):
            return super().render(name, value, attrs, renderer)
        chosen = {str(v) for v in self.format_value(value)}
        rows, found = [], False
        for option_value, label in choices:
            option_value = "" if option_value is None else str(option_value)
            selected = not found and option_value in chosen
            found = found or selected
            rows.append((option_value, " selected" if selected else "", label))
        return format_html(
            '<select name="{}"{}>{}</select>',
            name,
            flatatt(self.build_attrs(self.attrs, attrs)),
            format_html_join("", '<option value="{}"{}>{}</option>', rows),
        )


class CaseForm(forms.ModelForm):
    crime_types = forms.MultipleChoiceField(
        label=_("crime types"),
        choices=CrimeType.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    # Optimistic locking: the version the person started editing from. A save
    # over someone else's newer change is refused (PreconditionFailed).
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Case
        fields = services.CASE_EDITABLE_FIELDS
        widgets = {
            "handling_code": OptionsInPythonSelect,
            "handling_instruction": OptionsInPythonSelect,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None and "expected_version" in self.fields:
            self.fields["expected_version"].initial = self.instance.version


class ShareForm(forms.Form):
    """Intermediate page of the "share with agency" action."""

    agency: forms.ModelChoiceField[Agency] = forms.ModelChoiceField(
        label=_("agency"), queryset=None
    )
    level = forms.ChoiceField(label=_("access level"), choices=AccessLevel.choices)
    expires_at = forms.DateTimeField(
        label=_("expires at"),
        required=False,
        help_text=_("Optional. Access ends automatically at this time."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    confidential = forms.BooleanField(
        label=_("confidential"),
        required=False,
        help_text=CaseParticipation._meta.get_field("confidential").help_text,
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = selector_for(
            CaseParticipation._meta.get_field("agency").related_model
        )(user)


class ProposeForm(forms.Form):
    """A co-managing agency's proposal that the lead share the case (the
    workspace's "Propose a share"). No confidentiality: the lead decides it."""

    agency = forms.ModelChoiceField(label=_("agency"), queryset=Agency.objects.none())
    level = forms.ChoiceField(label=_("access level"), choices=AccessLevel.choices)
    expires_at = forms.DateTimeField(
        label=_("expires at"),
        required=False,
        help_text=_("Optional. Access would end automatically at this time."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    reason = forms.CharField(
        label=_("reason"),
        max_length=proposals.REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why the case should go to this agency. The lead agency decides."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = selector_for(
            ShareProposal._meta.get_field("agency").related_model
        )(user)


class DecisionForm(forms.Form):
    """The lead's answer to a share proposal (accept or decline, by button)."""

    note = forms.CharField(
        label=_("note to the proposing agency"),
        required=False,
        max_length=proposals.NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Optional. Shown to the proposing agency with your decision."),
    )
    confidential = forms.BooleanField(
        label=_("confidential"),
        required=False,
        help_text=_(
            "When accepting: share confidentially. This agency will not see who else "
            "participates, and other participants will not see it."
        ),
    )


class AccessForm(forms.Form):
    """One participation's access (the workspace's "Change access" page)."""

    level = forms.ChoiceField(label=_("access level"), choices=AccessLevel.choices)
    expires_at = forms.DateTimeField(
        label=_("expires at"),
        required=False,
        help_text=_("Optional. Access ends automatically at this time; empty: no end."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    confidential = forms.BooleanField(
        label=_("confidential"),
        required=False,
        help_text=CaseParticipation._meta.get_field("confidential").help_text,
    )


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("new status"), choices=CaseStatus.choices)


class TaskLogForm(forms.Form):
    """One line of a task's progress log (the workspace's "Log progress")."""

    body = forms.CharField(
        label=_("What was done"),
        max_length=services.TASK_LOG_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class NoteForm(forms.ModelForm):
    """A new entry of the case journal (the workspace's Journal tab). The
    journal is append-only: saved entries are listed, never edited."""

    prefix = "note"  # its fields share the workspace page with the case's own

    class Meta:
        model = Note
        fields = (
            "body",
            "handling_code",
            "handling_instruction",
            "handling_restriction",
            "source_reliability",
            "information_accuracy",
        )
        widgets = {
            "body": forms.Textarea(attrs={"rows": 4}),
            "handling_code": OptionsInPythonSelect,
            "handling_instruction": OptionsInPythonSelect,
            "source_reliability": OptionsInPythonSelect,
            "information_accuracy": OptionsInPythonSelect,
        }


class NewTaskForm(forms.ModelForm):
    """A new joint task (the workspace's Tasks tab), for one of the case's
    participants the reader may know of. Who in that agency does it is set on
    the task's own page (`TaskAdmin`), where it moves along: a list of every
    member of a large agency has no place on the case page."""

    prefix = "task"  # its fields share the workspace page with the case's own

    class Meta:
        model = Task
        fields = ("title", "assigned_agency", "priority", "due_date")
        widgets = {
            "assigned_agency": OptionsInPythonSelect,
            "priority": OptionsInPythonSelect,
            "due_date": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args, user, case: Case, participants=None, **kwargs):
        """`participants`: the case's open participations the reader sees,
        when the caller has read them already (the workspace lists them)."""
        super().__init__(*args, **kwargs)
        if participants is None:
            # `case` comes from CaseAdmin.get_object, read through the gate.
            participants = access.visible_on_case(user, CaseParticipation, case).filter(
                revoked_at__isnull=True
            )
        agencies = cast("forms.ModelChoiceField[Agency]", self.fields["assigned_agency"])
        agencies.queryset = selector_for(agencies.queryset.model)(user).filter(
            pk__in=[p.agency_id for p in participants]
        )
        # Read once as a plain list: the field's own choices would count the
        # rows, then read them again through a server-side cursor.
        options = [(a.pk, agencies.label_from_instance(a)) for a in agencies.queryset]
        empty = [("", agencies.empty_label)] if agencies.empty_label is not None else []
        agencies.widget.choices = empty + options


def _form_errors(form: forms.BaseForm, exc: DomainError) -> None:
    """A service's refusal, shown on the form that asked for it."""
    for field, messages_ in exc.errors.items():
        for message in messages_:
            form.add_error(field if field in form.fields else None, message)


# --- the case admin ---------------------------------------------------------------


@admin.register(Case)
class CaseAdmin(GatedModelAdmin):
    """The case list and the case workspace.

    The list is the API's (`cases.admin.lists`): the agency's cases newest
    first in its sync order, read from the grant index, and filtered on the
    grant's copies of status, handling code, crime type and lead agency. The search
    (reference, title) walks the list; the site's search (`/admin/search/`)
    is the indexed one."""

    selector = access.visible_cases_in_list_order
    form = CaseForm
    add_role = Role.COORDINATOR
    list_display = ("reference", "title", "handling", "status", "lead_agency", "listed")
    list_display_links = ("reference", "title")
    list_filter = (
        lists.CaseStatusFilter,
        lists.CaseHandlingCodeFilter,
        lists.CaseCrimeTypeFilter,
        lists.LeadAgencyFilter,
    )
    sortable_by = ("listed",)
    search_fields = ("reference", "title")
    date_hierarchy = None
    list_select_related = ("lead_agency",)

    def get_ordering(self, request):
        # Not `ordering`: Django's checks accept only model fields there, and
        # the list's order is on the grant's columns (`lists.CASE_ORDER`).
        return lists.CASE_ORDER

    def get_queryset(self, request):
        # The workspace names the lead agency: read with the case, not after it.
        return super().get_queryset(request).select_related("lead_agency")

    def get_object(self, request, object_id, from_field=None):
        """The case with the reader's standing on it (`case_standing`), read
        through the gate once: every permission the page asks is then
        answered from that row, without reading the case a second time."""
        if from_field is not None:
            return super().get_object(request, object_id, from_field)
        try:
            pk = self.opts.pk.to_python(object_id)
        except (ValidationError, ValueError):
            raise Http404(gettext("Not found.")) from None
        # require_many is the gate: the case's row, its grants and participation in one query.
        case = case_standing(request, pk, Case.objects.select_related("lead_agency").filter(pk=pk))
        if case is None:
            raise Http404(gettext("Not found."))
        return case

    actions = ("share_with_agency", "change_status", "export_summary")
    change_form_template = "admin/cases/case/change_form.html"

    # "change" on the case page means "may do something here": add to the
    # journal, move a task. The case's own fields stay read-only unless the
    # gate allows "update" (get_readonly_fields).
    def has_change_permission(self, request, obj=None) -> bool:
        if not self.is_member(request):
            return False
        return obj is None or can_once(request, "contribute", obj)

    def gate_allows(self, request: HttpRequest, action: str, obj) -> bool:
        return can_once(request, action, obj)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return ((None, {"fields": services.CASE_EDITABLE_FIELDS}),)
        if can_once(request, "update", obj):
            case_fields = (*services.CASE_EDITABLE_FIELDS, "expected_version")
        else:
            case_fields = tuple(
                f if f != "crime_types" else "crime_type_labels"
                for f in services.CASE_EDITABLE_FIELDS
            )
        return (
            (
                None,
                {
                    "fields": (
                        ("reference", "status"),
                        "lead_agency_name",
                        *case_fields,
                        "updated_at",
                    )
                },
            ),
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        fixed = ("reference", "status", "lead_agency_name", "updated_at")
        if can_once(request, "update", obj):
            return fixed
        return (*fixed, *services.CASE_EDITABLE_FIELDS, "crime_type_labels")

    @admin.display(description=_("handling code"))
    def handling(self, case):
        return tlp_badge(case.handling_code)

    @admin.display(description=_("updated or shared"), ordering=lists.LIST_POSITION)
    def listed(self, case):
        """The case's place in the agency's list: its last change, or its
        share with the agency if that came later (a case shared today is new
        to the reader). The list is sorted by it."""
        return case.list_updated_at

    @admin.display(description=_("lead agency"))
    def lead_agency_name(self, case):
        # Text, not a link: members cannot open the agency directory's admin page.
        return str(case.lead_agency)

    @admin.display(description=_("crime types"))
    def crime_type_labels(self, case):
        labels = dict(CrimeType.choices)
        return ", ".join(str(labels.get(c, c)) for c in case.crime_types) or "—"

    # --- writes -------------------------------------------------------------------

    def create_via_service(self, request, form):
        return services.create_case(
            actor=request.user, **{f: form.cleaned_data[f] for f in services.CASE_EDITABLE_FIELDS}
        )

    def update_via_service(self, request, obj, form):
        changes = {
            k: v for k, v in self.changed_values(form).items() if k in services.CASE_EDITABLE_FIELDS
        }
        if not changes:
            return None
        return services.update_case(
            actor=request.user,
            case=obj,
            expected_version=form.cleaned_data.get("expected_version"),
            **changes,
        )

    # --- extra pages ----------------------------------------------------------------

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name

        def url(route, view, name):
            return path(
                f"<path:object_id>/{route}/",
                self.admin_site.admin_view(view),
                name=f"{info[0]}_{info[1]}_{name}",
            )

        return [
            url("summary", self.summary_view, "summary"),
            url("share", self.share_view, "share"),
            url("propose", self.propose_view, "propose"),
            url("proposal", self.proposal_view, "proposal"),
            url("status", self.status_view, "status"),
            url("task-log", self.task_log_view, "task_log"),
            url("access", self.access_view, "access"),
            url("timeline", self.timeline_view, "timeline"),
            url("note", self.note_view, "note"),
            url("task", self.new_task_view, "new_task"),
            *super().get_urls(),
        ]

    def note_view(self, request: AuthenticatedHttpRequest, object_id: str):
        """Add a journal entry (the workspace's Journal tab posts here; the
        page itself shows the form again with what was wrong)."""
        case = self.get_object(request, unquote(object_id))
        if not can_once(request, "contribute", case):
            raise PermissionDenied
        form = NoteForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            try:
                services.add_note(actor=request.user, case=case, **form.cleaned_data)
            except DomainError as exc:
                _form_errors(form, exc)
            else:
                self.message_user(request, gettext("Journal entry added."), messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:cases_case_change", args=[case.pk]) + "#journal"
                )
        return self._case_page(
            request,
            case,
            form,
            _("New journal entry on %(reference)s") % {"reference": case.reference},
            submit_label=_("Add to the journal"),
            form_id="cb-note-form",
        )

    def new_task_view(self, request: AuthenticatedHttpRequest, object_id: str):
        """Create a joint task on this case (the workspace's Tasks tab posts here)."""
        case = self.get_object(request, unquote(object_id))
        if not can_once(request, "manage_tasks", case):
            raise PermissionDenied
        data = request.POST if request.method == "POST" else None
        form = NewTaskForm(data, user=request.user, case=case)
        if form.is_bound and form.is_valid():
            try:
                task = services.create_task(actor=request.user, case=case, **form.cleaned_data)
            except DomainError as exc:
                _form_errors(form, exc)
            else:
                self.message_user(
                    request,
                    gettext("Task “%(task)s” created.") % {"task": task.title},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:cases_case_change", args=[case.pk]) + "#tasks"
                )
        return self._case_page(
            request,
            case,
            form,
            _("New task on %(reference)s") % {"reference": case.reference},
            submit_label=_("Create the task"),
            form_id="cb-task-form",
        )

    def timeline_view(self, request: AuthenticatedHttpRequest, object_id: str):
        """The workspace's Timeline tab, fetched when the tab is first opened:
        the timeline reads every kind of child through the gate, the costliest
        part of the page, and most visits never open that tab."""
        case = self.get_object(request, unquote(object_id))
        return TemplateResponse(
            request,
            "admin/cases/case/timeline.html",
            {"timeline": case_timeline(request.user, case, limit=WORKSPACE_TIMELINE_LIMIT)},
        )

    def summary_view(self, request: AuthenticatedHttpRequest, object_id: str):
        """Printable case summary (the browser prints it to PDF)."""
        case = self.get_object(request, object_id)
        return self._render_summaries(request, [case])

    def _render_summaries(self, request, cases):
        user = request.user
        items = [
            {
                "case": case,
                "handling": tlp_badge(case.handling_code),
                "participations": access.visible_participations(user)
                .filter(case=case, revoked_at__isnull=True)
                .select_related("agency"),
                "tasks": access.visible_tasks(user)
                .filter(case=case)
                .select_related("assigned_agency"),
                "notes": access.visible_notes(user).filter(case=case).select_related("agency"),
                "documents": access.visible_documents(user)
                .filter(case=case)
                .select_related("agency")
                .order_by("created_at", "id"),
                "identifiers": access.visible_identifiers(user)
                .filter(case=case)
                .select_related("agency")
                .order_by("kind", "created_at", "id"),
                "crime_types": [dict(CrimeType.choices).get(c, c) for c in case.crime_types],
            }
            for case in cases
        ]
        return TemplateResponse(
            request,
            "admin/cases/case/summary.html",
            {
                "items": items,
                "printed_at": timezone.localtime(),
                "printed_by": access.agency_of(user),
            },
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # The workspace's tabs are its navigation; the admin's sidebar of every
        # model would be rendered beside them for nothing.
        extra_context = {"is_nav_sidebar_enabled": False, **(extra_context or {})}
        extra_context["summary_url"] = reverse(
            "admin:cases_case_summary", args=[object_id], current_app=self.admin_site.name
        )
        return super().change_view(request, object_id, form_url, extra_context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk is not None:
            context.update(self._workspace(request, obj))
            if not can_once(request, "update", obj):
                # The form holds nothing the reader may change: no Save buttons.
                context.update(show_save=False, show_save_and_continue=False)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _workspace(self, request, case: Case) -> dict:
        """What the workspace's tabs show besides the change form, each list
        from its selector, in a number of queries independent of its size."""
        user = request.user
        registry = self.admin_site._registry
        may_contribute = can_once(request, "contribute", case)
        may_share = can_once(request, "share", case)
        # A co-managing agency proposes where the lead shares (the third-party rule).
        may_propose = not may_share and can_once(request, "propose_share", case)
        may_manage_tasks = can_once(request, "manage_tasks", case)
        # The case was read through the gate with the page (`get_object`):
        # each list below asks only its rows' own rules (`visible_on_case`).
        standing = case_standing(request, case)
        if standing is None:
            raise Http404(gettext("Not found."))

        def on_case(model):
            return access.visible_on_case(user, model, standing)

        tasks = list(
            on_case(Task)
            .select_related("assigned_agency", "assigned_user")
            .order_by("due_date", "id")
        )
        participations = list(
            on_case(CaseParticipation)
            .filter(revoked_at__isnull=True)
            .select_related("agency")
            .order_by("granted_at", "id")
        )
        notes = list(on_case(Note).select_related("agency").order_by("-created_at", "-id"))
        entries: dict[int, list] = {}
        for entry in (
            on_case(TaskLogEntry).select_related("user", "agency").order_by("created_at", "id")
        ):
            entries.setdefault(entry.task_id, []).append(entry)
        loggable = access.tasks_user_may_log(user, standing, tasks)
        documents = list(on_case(Document).select_related("agency").order_by("-created_at", "-id"))
        identifiers = list(
            on_case(Identifier).select_related("agency").order_by("-created_at", "-id")
        )
        network = {
            "entities": list(
                on_case(Entity).select_related("agency").order_by("kind", "name", "id")
            ),
            "links": list(
                on_case(Link)
                .select_related("from_entity", "from_identifier", "to_entity", "to_identifier")
                .order_by("-updated_at", "-id")
            ),
            "transactions": list(
                on_case(Transaction)
                .select_related("agency", "from_identifier", "to_identifier")
                .order_by("-occurred_at", "-id")
            ),
            "assets": list(
                on_case(Asset).select_related("holding_agency").order_by("-state_on", "-id")
            ),
        }
        network_models = {
            "entity": Entity,
            "link": Link,
            "transaction": Transaction,
            "asset": Asset,
        }
        may_add_network = {
            name: may_contribute
            and model in registry
            and registry[model].has_add_permission(request)
            for name, model in network_models.items()
        }
        mla_requests = list(
            access.visible_mla_requests(user)
            .filter(case=case)
            .select_related("requesting_agency", "requested_agency")
            .order_by("-created_at", "-id")
        )
        mla_admin = registry.get(MLARequest)
        document_admin = registry.get(Document)
        identifier_admin = registry.get(Identifier)
        # Links built once, not with {% url %} per row: the rows' pages.
        task_page = reverse("admin:cases_task_changelist")
        access_page = reverse("admin:cases_case_access", args=[case.pk])
        task_logs = [
            {
                "task": t,
                "entries": entries.get(t.pk, []),
                "may_log": t.pk in loggable,
                "url": f"{task_page}{t.pk}/change/",
            }
            for t in tasks
        ]
        participants = [
            {
                "participation": p,
                "is_lead": p.agency_id == case.lead_agency_id,
                # The lead's own participation never changes (services refuse).
                "access_url": f"{access_page}?participation={p.public_id}"
                if may_share and p.agency_id != case.lead_agency_id
                else None,
            }
            for p in participations
        ]
        task_log_url = reverse("admin:cases_case_task_log", args=[case.pk])
        share_proposals = list(
            proposals.visible_share_proposals(user)
            .filter(case_id=case.pk)
            .select_related("agency", "proposing_agency")
            .order_by("-created_at", "-id")
        )
        for proposal in share_proposals:
            proposal.case = case  # for `outcome_shown_to`, without a query each
        decide_url = reverse("admin:cases_case_proposal", args=[case.pk])
        return {
            "workspace": True,
            "rows": {
                "participants": rows.participants(participants, may_share),
                "task_logs": rows.task_logs(task_logs, task_log_url, get_token(request)),
                "notes": rows.notes(notes),
                "documents": rows.documents(documents),
                "identifiers": rows.identifiers(identifiers),
                "mla_requests": rows.mla_requests(mla_requests),
                **{name: getattr(rows, name)(items) for name, items in network.items()},
                "share_proposals": rows.share_proposals(
                    [
                        {
                            "proposal": p,
                            "outcome": proposals.outcome_shown_to(user, p),
                            "may_decide": may_share and p.status == ShareProposalStatus.PENDING,
                        }
                        for p in share_proposals
                    ],
                    decide_url,
                    get_token(request),
                ),
            },
            "share_proposals": share_proposals,
            "may_propose": may_propose,
            "propose_url": reverse("admin:cases_case_propose", args=[case.pk]),
            "task_logs": task_logs,
            "participants": participants,
            "notes": notes,
            "documents": documents,
            "identifiers": identifiers,
            "mla_requests": mla_requests,
            "network": network,
            "network_count": sum(len(items) for items in network.values()),
            "may_add_network": may_add_network,
            "add_network_urls": {
                name: f"{reverse(f'admin:cases_{name}_add')}?case={case.pk}"
                for name in network_models
            },
            # The latest steps, fetched with the tab; the History page tells the whole story.
            "timeline_url": reverse("admin:cases_case_timeline", args=[case.pk]),
            "history_url": reverse("admin:cases_case_history", args=[case.pk]),
            "may_share": may_share,
            "may_change_status": can_once(request, "change_status", case),
            "share_url": reverse("admin:cases_case_share", args=[case.pk]),
            "status_url": reverse("admin:cases_case_status", args=[case.pk]),
            "may_upload": may_contribute
            and document_admin is not None
            and document_admin.has_add_permission(request),
            "may_add_identifier": may_contribute
            and identifier_admin is not None
            and identifier_admin.has_add_permission(request),
            "may_draft_mla": may_contribute
            and mla_admin is not None
            and mla_admin.has_add_permission(request),
            "note_form": NoteForm() if may_contribute else None,
            "note_url": reverse("admin:cases_case_note", args=[case.pk]),
            "task_form": NewTaskForm(user=user, case=case, participants=participations)
            if may_manage_tasks
            else None,
            "new_task_url": reverse("admin:cases_case_new_task", args=[case.pk]),
            "upload_url": f"{reverse('admin:cases_document_add')}?case={case.pk}",
            "add_identifier_url": f"{reverse('admin:cases_identifier_add')}?case={case.pk}",
            "draft_mla_url": f"{reverse('admin:cases_mlarequest_add')}?case={case.pk}",
        }

    def history_view(self, request, object_id, extra_context=None):
        """The case's history is its timeline: every agency's steps the
        reader may know, not only the admin log of its own agency."""
        case = self.get_object(request, unquote(object_id))
        extra_context = {
            **(extra_context or {}),
            "timeline": case_timeline(request.user, case),
            "case_url": reverse("admin:cases_case_change", args=[case.pk]),
        }
        return super().history_view(request, object_id, extra_context)

    def _case_page(
        self, request, case, form, title, template="admin/cases/case/case_form_page.html", **extra
    ):
        return TemplateResponse(
            request,
            template,
            {
                **self.admin_site.each_context(request),
                "title": title,
                "subtitle": None,
                "case": case,
                "original": case,
                "form": form,
                "opts": self.opts,
                "case_url": reverse("admin:cases_case_change", args=[case.pk]),
                "media": self.media + form.media if form is not None else self.media,
                **extra,
            },
        )

    def share_view(self, request: AuthenticatedHttpRequest, object_id: str):
        """Share this case with an agency (the workspace's "Share" action).
        A co-managing agency's coordinator is told to propose instead (403)."""
        case = self.get_object(request, unquote(object_id))
        if not can_once(request, "share", case):
            if not can_once(request, "propose_share", case):
                raise PermissionDenied
            response = self._case_page(
                request,
                case,
                None,
                _("Share %(reference)s with an agency") % {"reference": case.reference},
                template="admin/cases/case/share_refused.html",
                nothing_to_do=PROPOSE_INSTEAD,
                propose_url=reverse("admin:cases_case_propose", args=[case.pk]),
            )
            response.status_code = 403
            return response
        if request.method == "POST":
            form = ShareForm(request.POST, user=request.user)
            if form.is_valid():
                errors = self._share_all(request, [case], form.cleaned_data)
                if not errors:
                    self.message_user(
                        request,
                        gettext("Shared %(case)s with %(agency)s.")
                        % {"case": case.reference, "agency": form.cleaned_data["agency"].code},
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(
                        reverse("admin:cases_case_change", args=[case.pk]) + "#overview"
                    )
                for field, messages_ in errors.items():
                    for message in messages_:
                        form.add_error(field if field in form.fields else None, message)
        else:
            form = ShareForm(user=request.user)
        return self._case_page(
            request,
            case,
            form,
            _("Share %(reference)s with an agency") % {"reference": case.reference},
            submit_label=_("Share"),
            form_id="cb-share-form",
        )

    def propose_view(self, request: AuthenticatedHttpRequest, object_id: str):
        """Propose that the lead agency share this case (a co-managing
        agency's coordinators; the lead's own share directly)."""
        case = self.get_object(request, unquote(object_id))
        if can_once(request, "share", case):
            return HttpResponseRedirect(reverse("admin:cases_case_share", args=[case.pk]))
        if not can_once(request, "propose_share", case):
            raise PermissionDenied
        form = ProposeForm(request.POST if request.method == "POST" else None, user=request.user)
        if form.is_bound and form.is_valid():
            try:
                proposals.propose_share(actor=request.user, case=case, **form.cleaned_data)
            except DomainError as exc:
                _form_errors(form, exc)
            else:
                self.message_user(
                    request,
                    gettext("Proposed sharing %(case)s with %(agency)s; the lead agency decides.")
                    % {"case": case.reference, "agency": form.cleaned_data["agency"].code},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:cases_case_change", args=[case.pk]) + "#overview"
                )
        return self._case_page(
            request,
            case,
            form,
            _("Propose sharing %(reference)s") % {"reference": case.reference},
            submit_label=_("Propose"),
            form_id="cb-propose-form",
        )

    def proposal_view(self, request: AuthenticatedHttpRequest, object_id: str):
        """Accept or decline one share proposal (`proposal=<public id>`; the
        workspace's buttons post here). The lead's coordinators only; a
        refusal is shown on this page, changing nothing."""
        case = self.get_object(request, unquote(object_id))
        source = request.POST if request.method == "POST" else request.GET
        proposal = _proposal_of(request.user, case, source.get("proposal"))
        if proposal is None:
            raise Http404(gettext("Not found."))
        if not can_once(request, "share", case):
            raise PermissionDenied
        form = DecisionForm(request.POST if request.method == "POST" else None)
        accept, decline = "_accept" in request.POST, "_decline" in request.POST
        if request.method == "POST" and (accept or decline) and form.is_valid():
            try:
                if accept:
                    proposals.accept_proposal(
                        actor=request.user, proposal=proposal, **form.cleaned_data
                    )
                else:
                    proposals.decline_proposal(
                        actor=request.user, proposal=proposal, note=form.cleaned_data["note"]
                    )
            except DomainError as exc:
                _form_errors(form, exc)
            else:
                done = (
                    gettext("Accepted the proposal to share %(case)s with %(agency)s.")
                    if accept
                    else gettext("Declined the proposal to share %(case)s with %(agency)s.")
                )
                self.message_user(
                    request,
                    done % {"case": case.reference, "agency": proposal.agency.code},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:cases_case_change", args=[case.pk]) + "#overview"
                )
        pending = proposal.status == ShareProposalStatus.PENDING
        return self._case_page(
            request,
            case,
            form if pending else None,
            _("Proposal to share %(reference)s with %(agency)s")
            % {"reference": case.reference, "agency": proposal.agency.code},
            template="admin/cases/case/proposal.html",
            proposal=proposal,
            outcome=proposals.outcome_shown_to(request.user, proposal),
            form_id="cb-decision-form",
            nothing_to_do=None if pending else _("This proposal has already been decided."),
        )

    def status_view(self, request: AuthenticatedHttpRequest, object_id: str):
        """Move this case along its workflow (the statuses the reader may choose)."""
        case = self.get_object(request, unquote(object_id))
        if not access.can(request.user, "change_status", case):
            raise PermissionDenied
        allowed = services.allowed_case_statuses(request.user, case)
        labels = dict(CaseStatus.choices)
        form = StatusForm(request.POST if request.method == "POST" else None)
        cast(forms.ChoiceField, form.fields["status"]).choices = [(s, labels[s]) for s in allowed]
        if request.method == "POST" and form.is_valid():
            try:
                services.change_case_status(
                    actor=request.user, case=case, status=form.cleaned_data["status"]
                )
            except DomainError as exc:
                for field, messages_ in exc.errors.items():
                    for message in messages_:
                        form.add_error(field if field in form.fields else None, message)
            else:
                self.message_user(
                    request,
                    gettext("%(case)s is now %(status)s.")
                    % {"case": case.reference, "status": labels[form.cleaned_data["status"]]},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:cases_case_change", args=[case.pk]) + "#overview"
                )
        return self._case_page(
            request,
            case,
            form if allowed else None,
            _("Change the status of %(reference)s") % {"reference": case.reference},
            submit_label=_("Change status"),
            form_id="cb-status-form",
            nothing_to_do=None if allowed else _("No status change is open to you on this case."),
        )

    def task_log_view(self, request: AuthenticatedHttpRequest, object_id: str):
        """One task's progress log, and the form that adds to it (the
        workspace posts its per-task forms here; `?task=<id>` on GET)."""
        case = self.get_object(request, unquote(object_id))
        task_id = request.POST.get("task") if request.method == "POST" else request.GET.get("task")
        task = (
            access.visible_tasks(request.user)
            .filter(case=case, pk=task_id if str(task_id or "").isdigit() else None)
            .select_related("case", "assigned_agency")
            .first()
        )
        if task is None:
            raise Http404(gettext("Not found."))
        may_log = access.can(request.user, "log_progress", task)
        form = TaskLogForm(request.POST if request.method == "POST" else None)
        if request.method == "POST":
            if not may_log:
                raise PermissionDenied
            if form.is_valid():
                try:
                    services.log_task_progress(
                        actor=request.user, task=task, body=form.cleaned_data["body"]
                    )
                except DomainError as exc:
                    _form_errors(form, exc)
                else:
                    self.message_user(
                        request,
                        gettext("Progress logged on “%(task)s”.") % {"task": task.title},
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(
                        reverse("admin:cases_case_change", args=[case.pk]) + "#tasks"
                    )
        entries = (
            access.visible_task_log_entries(request.user)
            .filter(task=task)
            .select_related("user", "agency")
            .order_by("created_at", "id")
        )
        return self._case_page(
            request,
            case,
            form if may_log else None,
            _("Progress log of “%(task)s”") % {"task": task.title},
            template="admin/cases/case/task_log.html",
            task=task,
            entries=list(entries),
            submit_label=_("Log progress"),
            form_id="cb-task-log-form",
        )

    def access_view(self, request: AuthenticatedHttpRequest, object_id: str):
        """Change or end one agency's access to this case
        (`?participation=<public id>`; the workspace's "Change access").

        Offered to whoever may share the case; the services decide the rest
        (the lead's own access, managers, confidentiality) and their refusals
        are shown on the form, changing nothing.
        """
        case = self.get_object(request, unquote(object_id))
        if not access.can(request.user, "share", case):
            raise PermissionDenied
        source = request.POST if request.method == "POST" else request.GET
        participation = _active_participation(request.user, case, source.get("participation"))
        if participation is None:
            raise Http404(gettext("Not found."))
        initial = {
            "level": participation.level,
            "expires_at": participation.expires_at,
            "confidential": participation.confidential,
        }
        form = AccessForm(request.POST if request.method == "POST" else None, initial=initial)
        case_url = reverse("admin:cases_case_change", args=[case.pk])
        agency = participation.agency.code
        if request.method == "POST":
            revoke = "_revoke" in request.POST
            if revoke or form.is_valid():
                try:
                    with transaction.atomic():
                        if revoke:
                            services.revoke_case(actor=request.user, participation=participation)
                        else:
                            changes = {n: form.cleaned_data[n] for n in form.changed_data}
                            if changes:
                                services.change_access(
                                    actor=request.user, participation=participation, **changes
                                )
                except DomainError as exc:
                    if revoke:
                        # The refusal is shown on the form, as it stands.
                        form = AccessForm(_as_data(initial), initial=initial)
                        form.is_valid()
                    for field, messages_ in exc.errors.items():
                        for message in messages_:
                            form.add_error(field if field in form.fields else None, message)
                else:
                    done = (
                        gettext("%(agency)s no longer has access to %(case)s.")
                        if revoke
                        else gettext("Changed the access of %(agency)s to %(case)s.")
                    )
                    self.message_user(
                        request, done % {"agency": agency, "case": case.reference}, messages.SUCCESS
                    )
                    return HttpResponseRedirect(case_url + "#overview")
        return self._case_page(
            request,
            case,
            form,
            _("Access of %(agency)s to %(reference)s")
            % {"agency": agency, "reference": case.reference},
            template="admin/cases/case/access.html",
            participation=participation,
            submit_label=_("Change access"),
            form_id="cb-access-form",
        )

    # --- actions ------------------------------------------------------------------------

    def get_actions(self, request):
        """Offer sharing and status changes only to roles the gate could allow them
        (coordinators); others would only be refused after choosing cases."""
        actions = super().get_actions(request)
        if not access.has_role(request.user, Role.COORDINATOR):
            for name in ("share_with_agency", "change_status"):
                actions.pop(name, None)
        return actions

    @admin.action(description=_("Export case summary (printable)"))
    def export_summary(self, request, queryset):
        return self._render_summaries(request, list(queryset.select_related("lead_agency")))

    @admin.action(description=_("Share with an agency…"))
    def share_with_agency(self, request, queryset):
        cases = list(queryset)
        refused = [c for c in cases if not access.can(request.user, "share", c)]
        if refused:
            message = gettext("You may not share: %(cases)s") % {
                "cases": ", ".join(c.reference for c in refused)
            }
            if any(access.can(request.user, "propose_share", c) for c in refused):
                message = f"{message}. {PROPOSE_INSTEAD}"
            self.message_user(request, message, messages.ERROR)
            return None
        if "apply" in request.POST:
            form = ShareForm(request.POST, user=request.user)
            if form.is_valid():
                errors = self._share_all(request, cases, form.cleaned_data)
                if not errors:
                    self.message_user(
                        request,
                        ngettext(
                            "Shared %(count)d case with %(agency)s.",
                            "Shared %(count)d cases with %(agency)s.",
                            len(cases),
                        )
                        % {"count": len(cases), "agency": form.cleaned_data["agency"].code},
                        messages.SUCCESS,
                    )
                    return None
                for field, messages_ in errors.items():
                    for message in messages_:
                        form.add_error(field if field in form.fields else None, message)
        else:
            form = ShareForm(user=request.user)
        return self._action_page(
            request, cases, form, "share_with_agency", _("Share with an agency")
        )

    def _share_all(self, request, cases, data) -> dict[str, list[str]]:
        """All or nothing, in one bulk share (`cases.sharing`): one refused case
        leaves every case unshared. Errors come keyed by the case's index
        (`"2.agency"`); the form shows them on the field, prefixed with the
        case's reference when several cases were chosen."""
        try:
            services.share_cases_with_agency(
                actor=request.user,
                cases=cases,
                agency=data["agency"],
                level=data["level"],
                expires_at=data.get("expires_at"),
                confidential=data.get("confidential", False),
            )
        except DomainError as exc:
            errors: dict[str, list[str]] = {}
            for key, messages_ in exc.errors.items():
                index, _dot, field = (key or "").partition(".")
                prefix = ""
                if index.isdigit() and int(index) < len(cases):
                    prefix = f"{cases[int(index)].reference}: " if len(cases) > 1 else ""
                else:
                    field = key
                errors.setdefault(field or "non_field_errors", []).extend(
                    prefix + m for m in messages_
                )
            return errors
        return {}

    @admin.action(description=_("Change status…"))
    def change_status(self, request, queryset):
        cases = list(queryset)
        if "apply" in request.POST:
            form = StatusForm(request.POST)
            if form.is_valid():
                status = form.cleaned_data["status"]
                self.run_service_action(
                    request,
                    cases,
                    lambda case: services.change_case_status(
                        actor=request.user, case=case, status=status
                    ),
                    gettext("Changed the status of %(count)d case(s)."),
                )
                return None
        else:
            form = StatusForm()
        return self._action_page(request, cases, form, "change_status", _("Change status"))

    def _action_page(self, request, cases, form, action, title):
        return TemplateResponse(
            request,
            "admin/cases/case/action_form.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "cases": cases,
                "form": form,
                "action": action,
                "opts": self.opts,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                "media": self.media + form.media,
            },
        )


def _as_data(initial: dict) -> dict:
    """The POST that would send `AccessForm`'s initial values back unchanged."""
    expires_at = initial["expires_at"]
    return {
        "level": initial["level"],
        "expires_at": timezone.localtime(expires_at).strftime("%Y-%m-%dT%H:%M")
        if expires_at
        else "",
        **({"confidential": "on"} if initial["confidential"] else {}),
    }


def _proposal_of(user, case: Case, public_id) -> ShareProposal | None:
    """The share proposal `public_id` on `case`, if the user may see it
    (`proposals.visible_share_proposals`; a malformed id finds nothing)."""
    try:
        public_id = uuid.UUID(str(public_id))
    except ValueError:
        return None
    return (
        proposals.visible_share_proposals(user)
        .filter(case=case, public_id=public_id)
        .select_related("agency", "proposing_agency", "case")
        .first()
    )


def _active_participation(user, case: Case, public_id) -> CaseParticipation | None:
    """The participation `public_id` of `case` that is still running, if the
    user may see it (the selector decides; a malformed id finds nothing)."""
    try:
        public_id = uuid.UUID(str(public_id))
    except ValueError:
        return None
    return (
        access.visible_participations(user)
        .filter(case=case, public_id=public_id, revoked_at__isnull=True)
        .select_related("agency", "case")
        .first()
    )


__all__ = ["CaseAdmin"]
