"""MLA request pages: drafts edited through `cases.mla`, transitions as
buttons (only the ones the table allows this person now), history inline.

Follows `cases.admin.base`: rows from `access.visible_mla_requests`, so a
non-party (and the requested agency on a draft) gets 404 on every page.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.translation import gettext as _gettext
from django.utils.translation import gettext_lazy as _

from agencies.choices import Role
from cases import access, mla
from cases.choices import AssistanceType, MLAStatus
from cases.errors import DomainError, NotFound
from cases.models import MLARequest, MLAStatusChange

from .base import FIELD_SELECTORS, GatedModelAdmin, GatedTabularInline

FIELD_SELECTORS[MLARequest] = access.visible_mla_requests

DRAFT_FORM_FIELDS = (
    "requested_agency",
    "legal_basis",
    "legal_basis_detail",
    "assistance_types",
    "details",
    "facts",
    "offences",
    "assistance_sought",
    "procedures",
    "persons_concerned",
    "urgency",
    "urgency_reason",
    "confidentiality_required",
    "language",
    "response_due_date",
    "response_due_reason",
    "contact_details",
    "requesting_reference",
)
CLOCK_FIELDS = (
    "status",
    "received_at",
    "decision_due",
    "decision_overdue",
    "accepted_at",
    "execution_due",
    "execution_overdue",
    "delay_notice_at",
    "delay_notice_new_due",
    "delay_notice_reason",
    "preservation_expires_at",
    "preservation_expired",
    "closed_at",
)


class MLAStatusChangeInline(GatedTabularInline):
    """The formal record: read-only, written only by the services."""

    model = MLAStatusChange
    selector = access.visible_mla_status_changes
    fields = ("at", "event", "from_status", "to_status", "agency", "comment")
    readonly_fields = fields
    can_delete = False
    verbose_name = _("history entry")
    verbose_name_plural = _("history")


class MLARequestForm(forms.ModelForm):
    assistance_types = forms.MultipleChoiceField(
        label=_("assistance types"),
        choices=AssistanceType.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    # Optimistic locking, as on the case page.
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = MLARequest
        fields = ("case", "kind", *DRAFT_FORM_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None and "expected_version" in self.fields:
            self.fields["expected_version"].initial = self.instance.version


class TransitionForm(forms.Form):
    verb = forms.ChoiceField(choices=[(v, v) for v in mla.TRANSITIONS])
    comment = forms.CharField(required=False, widget=forms.Textarea)


@admin.register(MLARequest)
class MLARequestAdmin(GatedModelAdmin):
    selector = access.visible_mla_requests
    form = MLARequestForm
    add_role = Role.COORDINATOR
    change_action = "act_requesting"
    list_display = (
        "public_id",
        "kind",
        "requesting_agency",
        "requested_agency",
        "status",
        "decision_due",
        "decision_late",
        "execution_due",
        "execution_late",
    )
    list_filter = ("status", "kind", "urgency")
    search_fields = ("requesting_reference", "requested_reference")
    list_select_related = ("requesting_agency", "requested_agency")
    inlines = (MLAStatusChangeInline,)
    change_form_template = "admin/cases/mlarequest/change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).with_clock_flags()

    @admin.display(description=_("decision overdue"), boolean=True)
    def decision_late(self, obj) -> bool:
        return obj.is_decision_overdue

    @admin.display(description=_("execution overdue"), boolean=True)
    def execution_late(self, obj) -> bool:
        return obj.is_execution_overdue

    # Only a draft is edited, by the requesting side's coordinators; everyone
    # else who may see the request gets the read-only page.
    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.status != MLAStatus.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("case", "kind", *DRAFT_FORM_FIELDS)
        editable = self.has_change_permission(request, obj)
        return (
            "requesting_agency",
            "kind",
            *DRAFT_FORM_FIELDS,
            "requested_reference",
            *CLOCK_FIELDS,
            *(("expected_version",) if editable else ()),
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        fixed = ("requesting_agency", "kind", "requested_reference", *CLOCK_FIELDS)
        if self.has_change_permission(request, obj):
            return fixed
        return (*fixed, *DRAFT_FORM_FIELDS)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()

    # --- writes -------------------------------------------------------------

    def create_via_service(self, request, form):
        data = form.cleaned_data
        fields = {f: data[f] for f in DRAFT_FORM_FIELDS if f in data}
        fields.pop("requested_agency", None)
        fields.pop("legal_basis", None)
        return mla.create_mla_request(
            actor=request.user,
            case=data["case"],
            kind=data["kind"],
            requested_agency=data["requested_agency"],
            legal_basis=data["legal_basis"],
            **fields,
        )

    def update_via_service(self, request, obj, form):
        changes = {k: v for k, v in self.changed_values(form).items() if k in DRAFT_FORM_FIELDS}
        if not changes:
            return None
        return mla.update_mla_draft(
            actor=request.user,
            request=obj,
            expected_version=form.cleaned_data.get("expected_version"),
            **changes,
        )

    # --- transitions ----------------------------------------------------------

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/transition/",
                self.admin_site.admin_view(self.transition_view),
                name=f"{info[0]}_{info[1]}_transition",
            ),
            *super().get_urls(),
        ]

    def transition_view(self, request, object_id: str):
        """POST a verb (and its comment): the service decides; refusals become messages."""
        obj = self.get_object(request, object_id)
        change_url = reverse(
            "admin:cases_mlarequest_change", args=[obj.pk], current_app=self.admin_site.name
        )
        if request.method != "POST":
            return HttpResponseRedirect(change_url)
        form = TransitionForm(request.POST)
        if not form.is_valid():
            self.message_user(request, _gettext("Unknown transition."), messages.ERROR)
            return HttpResponseRedirect(change_url)
        verb = form.cleaned_data["verb"]
        try:
            mla.transition_mla_request(
                actor=request.user,
                request=obj,
                verb=verb,
                comment=form.cleaned_data["comment"],
            )
        except NotFound as exc:
            raise Http404(str(exc.message)) from exc
        except DomainError as exc:
            for field_messages in exc.errors.values():
                for message in field_messages:
                    self.message_user(request, f"{verb}: {message}", messages.ERROR)
        else:
            self.message_user(request, _gettext("Done: %(verb)s.") % {"verb": verb})
        return HttpResponseRedirect(change_url)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        obj = self.get_object(request, object_id)
        extra_context["transitions"] = [
            {"verb": verb, "requires": mla.TRANSITIONS[verb].requires}
            for verb in mla.allowed_verbs(request.user, obj)
        ]
        extra_context["transition_url"] = reverse(
            "admin:cases_mlarequest_transition", args=[obj.pk], current_app=self.admin_site.name
        )
        extra_context["letter_url"] = reverse("mla-request-letter", args=[obj.public_id])
        return super().change_view(request, object_id, form_url, extra_context)


__all__ = ["MLARequestAdmin", "MLAStatusChangeInline"]
