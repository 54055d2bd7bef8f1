"""Task and journal pages outside the case page (lists across cases)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cases import access, services
from cases.choices import TaskStatus
from cases.models import Note, Task
from config.admin_base import FIELD_SELECTORS, GatedModelAdmin
from gate.roles import Role

from . import lists
from .rows import tlp_badge

FIELD_SELECTORS[Task] = access.visible_tasks
FIELD_SELECTORS[Note] = access.visible_notes

TASK_FIELDS = (
    "case",
    "title",
    "description",
    "assigned_agency",
    "assigned_user",
    "priority",
    "due_date",
    "status",
)
TASK_WORK_FIELDS = ("status", "assigned_user")


class OverdueFilter(admin.SimpleListFilter):
    """Open tasks, or those past their due date. No index holds the due date
    for an agency's whole list (only per assigned agency and status): this
    filter walks the list in its order until a page of matches is found."""

    title = _("deadline")
    parameter_name = "deadline"

    def lookups(self, request, model_admin):
        return (("overdue", _("Overdue")), ("open", _("Open")))

    def queryset(self, request, queryset):
        open_ = queryset.exclude(status__in=(TaskStatus.DONE, TaskStatus.CANCELLED))
        if self.value() == "overdue":
            return open_.filter(due_date__lt=timezone.localdate())
        if self.value() == "open":
            return open_
        return queryset


@admin.register(Task)
class TaskAdmin(GatedModelAdmin):
    selector = access.visible_tasks
    list_selector = access.listed_tasks
    add_role = Role.COORDINATOR
    change_action = "work"
    fields = TASK_FIELDS
    list_display = (
        "title",
        "case_reference",
        "assigned_agency",
        "status",
        "priority",
        "due",
        "updated_at",
    )
    # The API's task list: its sync order newest first, its status, priority
    # and assigned agency filters (the last on the index keyed by the
    # assigned agency), `cases.admin.lists`.
    list_filter = (OverdueFilter, "status", "priority", lists.AssignedAgencyFilter)
    ordering = lists.TASK_ORDER
    count_pages_ahead = lists.CHILD_COUNT_PAGES_AHEAD
    sortable_by = ("updated_at",)
    search_fields = ("title", "case__reference")
    list_select_related = ("case", "assigned_agency")
    autocomplete_fields = ("case",)
    actions = ("mark_in_progress", "mark_done")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ("status",)
        if access.can(request.user, "manage", obj):
            return ("case",)
        return tuple(f for f in TASK_FIELDS if f not in TASK_WORK_FIELDS)

    @admin.display(description=_("case"))
    def case_reference(self, task):
        return task.case.reference

    @admin.display(description=_("due date"))
    def due(self, task):
        if task.due_date is None:
            return "—"
        overdue = task.due_date < timezone.localdate() and task.status not in (
            TaskStatus.DONE,
            TaskStatus.CANCELLED,
        )
        return format_html(
            '<span class="{}">{}</span>', "overdue" if overdue else "", task.due_date
        )

    def create_via_service(self, request, form):
        data = form.cleaned_data
        return services.create_task(
            actor=request.user,
            case=data["case"],
            title=data["title"],
            description=data.get("description", ""),
            assigned_agency=data["assigned_agency"],
            assigned_user=data.get("assigned_user"),
            priority=data.get("priority") or "normal",
            due_date=data.get("due_date"),
        )

    def update_via_service(self, request, obj, form):
        changes = self.changed_values(form)
        if not changes:
            return None
        return services.update_task(
            actor=request.user, task=obj, expected_version=obj.version, **changes
        )

    def _move(self, request, queryset, status):
        self.run_service_action(
            request,
            queryset,
            lambda task: services.update_task(actor=request.user, task=task, status=status),
            gettext("Updated %(count)d task(s)."),
        )

    @admin.action(description=_("Mark as in progress"))
    def mark_in_progress(self, request, queryset):
        self._move(request, queryset, TaskStatus.IN_PROGRESS)

    @admin.action(description=_("Mark as done"))
    def mark_done(self, request, queryset):
        self._move(request, queryset, TaskStatus.DONE)


class NoteForm(forms.ModelForm):
    class Meta:
        model = Note
        fields = (
            "case",
            "body",
            "handling_code",
            "handling_instruction",
            "handling_restriction",
            "source_reliability",
            "information_accuracy",
        )


@admin.register(Note)
class NoteAdmin(GatedModelAdmin):
    """The journal across cases. Append-only: notes are added, never changed."""

    selector = access.visible_notes
    list_selector = access.listed_notes
    form = NoteForm
    add_role = Role.INVESTIGATOR
    list_display = ("created_at", "case_reference", "agency", "handling", "excerpt")
    # The API's note list: newest first, the author agency on the index
    # keyed by it (`cases.admin.lists`).
    list_filter = ("handling_code", lists.AuthorAgencyFilter)
    ordering = lists.NOTE_ORDER
    count_pages_ahead = lists.CHILD_COUNT_PAGES_AHEAD
    sortable_by = ("created_at",)
    search_fields = ("body", "case__reference")
    list_select_related = ("case", "agency")
    autocomplete_fields = ("case",)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("case_reference", "agency", "created_at", "handling", *NoteForm.Meta.fields[1:])

    def get_fields(self, request, obj=None):
        if obj is None:
            return NoteForm.Meta.fields
        return ("case_reference", "agency", "created_at", "handling", *NoteForm.Meta.fields[1:])

    @admin.display(description=_("case"))
    def case_reference(self, note):
        return note.case.reference

    @admin.display(description=_("handling code"))
    def handling(self, note):
        return tlp_badge(note.handling_code)

    @admin.display(description=_("text"))
    def excerpt(self, note):
        return note.body if len(note.body) <= 80 else note.body[:79] + "…"

    def create_via_service(self, request, form):
        data = dict(form.cleaned_data)
        return services.add_note(actor=request.user, **data)
