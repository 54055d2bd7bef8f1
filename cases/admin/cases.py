"""The case page: summary, handling code, participants, tasks, journal.

Follows the conventions of `cases.admin.base`: rows from the gate, writes
through `cases.services`, invisible cases 404.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from agencies.choices import Role
from cases import access, services
from cases.choices import AccessLevel, CaseStatus, CrimeType, HandlingCode
from cases.errors import DomainError, ValidationFailed
from cases.models import Case, CaseParticipation, Note, Task

from .base import GatedModelAdmin, GatedStackedInline, GatedTabularInline, selector_for

CASE_FIELDS = (
    "title",
    "summary",
    "crime_types",
    "handling_code",
    "handling_instruction",
    "handling_restriction",
)


def tlp_badge(code: str):
    """The handling code as a TLP 2.0 label (colours in casebridge/admin.css)."""
    label = dict(HandlingCode.choices).get(code, code)
    css = code.lower().replace("+", "-")
    return format_html('<span class="tlp tlp-{}">{}</span>', css, label)


# --- inlines ------------------------------------------------------------------


class ParticipationInline(GatedTabularInline):
    """Who shares the case. Adding a row shares, editing changes access,
    ticking "delete" revokes — each through its service."""

    model = CaseParticipation
    selector = access.visible_participations
    fields = ("agency", "level", "confidential", "expires_at", "granted_at")
    readonly_fields = ("granted_at",)
    verbose_name = _("participating agency")
    verbose_name_plural = _("participating agencies")

    def get_queryset(self, request):
        # Ended participations are history, not editable rows.
        return super().get_queryset(request).filter(revoked_at__isnull=True)

    def may_add(self, request, parent) -> bool:
        return access.can(request.user, "share", parent)

    may_change = may_add
    may_delete = may_add

    def create_via_service(self, request, parent, form):
        data = form.cleaned_data
        return services.share_case(
            actor=request.user,
            case=parent,
            agency=data["agency"],
            level=data["level"],
            expires_at=data.get("expires_at"),
            confidential=data.get("confidential", False),
        )

    def update_via_service(self, request, parent, obj, form):
        changes = self.changed_values(form)
        if "agency" in changes:
            raise ValidationFailed(
                {"agency": [_("The agency of a participation cannot change; revoke and share.")]}
            )
        kwargs = {}
        if "level" in changes:
            kwargs["level"] = changes["level"]
        if "expires_at" in changes:
            kwargs["expires_at"] = changes["expires_at"]
        if "confidential" in changes:
            kwargs["confidential"] = changes["confidential"]
        return services.change_access(actor=request.user, participation=obj, **kwargs)

    def delete_via_service(self, request, parent, obj) -> None:
        services.revoke_case(actor=request.user, participation=obj)


class TaskInline(GatedTabularInline):
    """Joint tasks. Coordinators of a managing agency plan them; investigators
    of the assigned agency move them along (status, assignee)."""

    model = Task
    selector = access.visible_tasks
    fields = ("title", "assigned_agency", "assigned_user", "priority", "due_date", "status")
    show_change_link = True

    def may_add(self, request, parent) -> bool:
        return access.can(request.user, "manage_tasks", parent)

    def may_change(self, request, parent) -> bool:
        return access.can(request.user, "contribute", parent)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not access.can(request.user, "manage_tasks", obj):
            return ("title", "assigned_agency", "priority", "due_date")
        return ()

    def create_via_service(self, request, parent, form):
        data = form.cleaned_data
        return services.create_task(
            actor=request.user,
            case=parent,
            title=data["title"],
            assigned_agency=data["assigned_agency"],
            assigned_user=data.get("assigned_user"),
            priority=data.get("priority") or "normal",
            due_date=data.get("due_date"),
        )

    def update_via_service(self, request, parent, obj, form):
        return services.update_task(
            actor=request.user,
            task=obj,
            expected_version=obj.version,
            **self.changed_values(form),
        )


class NoteInline(GatedStackedInline):
    """The case journal: append-only, so existing entries are read-only."""

    model = Note
    selector = access.visible_notes
    fields = (
        "note_heading",
        "body",
        "handling_code",
        "handling_instruction",
        "handling_restriction",
        "source_reliability",
        "information_accuracy",
    )
    readonly_fields = ("note_heading",)
    verbose_name = _("journal entry")
    verbose_name_plural = _("journal")

    def get_extra(self, request, obj=None, **kwargs):
        return 1 if obj is not None and self.may_add(request, obj) else 0

    def may_add(self, request, parent) -> bool:
        return access.can(request.user, "contribute", parent)

    @admin.display(description=_("entry"))
    def note_heading(self, note):
        if note.pk is None:
            return gettext("New entry")
        return format_html(
            "{} · {} · {}",
            timezone.localtime(note.created_at).strftime("%Y-%m-%d %H:%M"),
            note.agency.code,
            tlp_badge(note.handling_code),
        )

    def create_via_service(self, request, parent, form):
        data = form.cleaned_data
        return services.add_note(
            actor=request.user,
            case=parent,
            body=data["body"],
            handling_code=data["handling_code"],
            handling_instruction=data["handling_instruction"],
            handling_restriction=data.get("handling_restriction", ""),
            source_reliability=data["source_reliability"],
            information_accuracy=data["information_accuracy"],
        )


# --- forms of the case page and its actions -------------------------------------


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
        fields = CASE_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None and "expected_version" in self.fields:
            self.fields["expected_version"].initial = self.instance.version


class ShareForm(forms.Form):
    """Intermediate page of the "share with agency" action."""

    agency = forms.ModelChoiceField(label=_("agency"), queryset=None)
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


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("new status"), choices=CaseStatus.choices)


# --- the case admin ---------------------------------------------------------------


@admin.register(Case)
class CaseAdmin(GatedModelAdmin):
    selector = access.visible_cases
    form = CaseForm
    add_role = Role.COORDINATOR
    list_display = ("reference", "title", "handling", "status", "lead_agency", "updated_at")
    list_display_links = ("reference", "title")
    list_filter = ("status", "handling_code", "lead_agency")
    search_fields = ("reference", "title")
    date_hierarchy = None
    list_select_related = ("lead_agency",)
    inlines = (ParticipationInline, TaskInline, NoteInline)
    actions = ("share_with_agency", "change_status", "export_summary")
    change_form_template = "admin/cases/case/change_form.html"

    # "change" on the case page means "may do something here": add to the
    # journal, move a task. The case's own fields stay read-only unless the
    # gate allows "update" (get_readonly_fields).
    def has_change_permission(self, request, obj=None) -> bool:
        if not self.is_member(request):
            return False
        return obj is None or access.can(request.user, "contribute", obj)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return ((None, {"fields": CASE_FIELDS}),)
        if access.can(request.user, "update", obj):
            case_fields = (*CASE_FIELDS, "expected_version")
        else:
            case_fields = tuple(
                f if f != "crime_types" else "crime_type_labels" for f in CASE_FIELDS
            )
        return (
            (
                None,
                {"fields": (("reference", "status"), "lead_agency", *case_fields, "updated_at")},
            ),
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        fixed = ("reference", "status", "lead_agency", "updated_at")
        if access.can(request.user, "update", obj):
            return fixed
        return (*fixed, *CASE_FIELDS, "crime_type_labels")

    @admin.display(description=_("handling code"), ordering="handling_code")
    def handling(self, case):
        return tlp_badge(case.handling_code)

    @admin.display(description=_("crime types"))
    def crime_type_labels(self, case):
        labels = dict(CrimeType.choices)
        return ", ".join(str(labels.get(c, c)) for c in case.crime_types) or "—"

    # --- writes -------------------------------------------------------------------

    def create_via_service(self, request, form):
        return services.create_case(
            actor=request.user, **{f: form.cleaned_data[f] for f in CASE_FIELDS}
        )

    def update_via_service(self, request, obj, form):
        changes = {k: v for k, v in self.changed_values(form).items() if k in CASE_FIELDS}
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
        return [
            path(
                "<path:object_id>/summary/",
                self.admin_site.admin_view(self.summary_view),
                name=f"{info[0]}_{info[1]}_summary",
            ),
            *super().get_urls(),
        ]

    def summary_view(self, request: HttpRequest, object_id: str):
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
        extra_context = extra_context or {}
        extra_context["summary_url"] = reverse(
            "admin:cases_case_summary", args=[object_id], current_app=self.admin_site.name
        )
        return super().change_view(request, object_id, form_url, extra_context)

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
            self.message_user(
                request,
                gettext("You may not share: %(cases)s")
                % {"cases": ", ".join(c.reference for c in refused)},
                messages.ERROR,
            )
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


__all__ = ["CaseAdmin", "NoteInline", "ParticipationInline", "TaskInline"]
