"""MLA request pages: drafts edited through `cases.mla`, transitions as
buttons (only the ones the table allows this person now), history in words.

Follows `config.admin_base`: rows from `access.visible_mla_requests`, so a
non-party (and the requested agency on a draft) gets 404 on every page.

The draft is a form per type of assistance (`cases.mla_forms`), which builds
the same `details` the API takes; completeness is `cases.mla`'s, checked on
submission and listed on the draft's page in words. Transitions are small
forms of their own, outside the change form (a form inside a form is dropped
by browsers): a button posts directly when the step needs nothing else, or
opens `<id>/transition/?verb=<verb>`, a page asking only what the step needs.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import Http404, HttpResponseRedirect
from django.template.defaultfilters import linebreaks_filter
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cases import access, mla, mla_forms
from cases.choices import AssistanceType, MLAKind, MLAStatus
from cases.models import MLARequest, MLAStatusChange
from config.admin_base import FIELD_SELECTORS, GatedModelAdmin, GatedTabularInline
from gate.errors import DomainError, NotFound
from gate.roles import Role

from . import lists

FIELD_SELECTORS[MLARequest] = access.visible_mla_requests

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
# Flags shown only when they are true, as a sentence (never "False").
FLAG_DISPLAYS = {
    "decision_overdue": "decision_overdue_flag",
    "execution_overdue": "execution_overdue_flag",
    "preservation_expired": "preservation_expired_flag",
}
# How the JSON and coded fields read on a read-only page.
READONLY_DISPLAYS = {
    "requesting_agency": "requesting_agency_text",
    "requested_agency": "requested_agency_text",
    "assistance_types": "assistance_types_text",
    "details": "details_text",
    "language": "language_text",
    "confidentiality_required": "confidentiality_text",
}
# Optional texts left out of the read-only page when empty.
OPTIONAL = {
    "legal_basis_detail",
    "persons_concerned",
    "procedures",
    "urgency_reason",
    "response_due_date",
    "response_due_reason",
    "contact_details",
    "requesting_reference",
    "requested_reference",
}


def _layout(names: tuple[str, ...], *, details: tuple) -> list[tuple]:
    """The page's sections, in the order of a letter of request; `names` are
    the draft fields as they appear on this page (edited or read-only)."""

    def pick(*wanted: str) -> tuple[str, ...]:
        return tuple(n for n in names if n in wanted)

    sections = [
        (
            None,
            {
                "fields": pick(
                    "case",
                    "status",
                    "kind",
                    "requesting_agency_text",
                    "requested_agency",
                    "requested_agency_text",
                    "legal_basis",
                    "legal_basis_detail",
                    "language",
                    "language_text",
                    "requesting_reference",
                    "requested_reference",
                    "expected_version",
                )
            },
        ),
        (_("Facts"), {"fields": pick("facts", "offences", "persons_concerned")}),
        (
            _("Assistance requested"),
            {
                "fields": pick(
                    "assistance_types",
                    "assistance_types_text",
                    "assistance_sought",
                    "procedures",
                    "details_text",
                )
            },
        ),
        *details,
        (
            _("Urgency and deadline"),
            {
                "fields": pick(
                    "urgency", "urgency_reason", "response_due_date", "response_due_reason"
                )
            },
        ),
        (
            _("Confidentiality and contact"),
            {"fields": pick("confidentiality_required", "confidentiality_text", "contact_details")},
        ),
    ]
    return [section for section in sections if section[1]["fields"]]


# Steps outside the state machine's table, each with its own predicate in `cases.mla`.
OTHER_STEPS = {
    "file-delay-notice": mla.may_file_delay_notice,
    "extend-preservation": mla.may_extend_preservation,
    "link-follow-up": mla.may_link_follow_up,
}


class MLAStatusChangeInline(GatedTabularInline):
    """The formal record in words, for both sides: read-only, written only by the services."""

    model = MLAStatusChange
    selector = access.visible_mla_status_changes
    fields = ("at", "what_happened")
    readonly_fields = fields
    can_delete = False
    verbose_name = _("history entry")
    verbose_name_plural = _("history")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("agency")

    @admin.display(description=_("what happened"))
    def what_happened(self, obj: MLAStatusChange) -> str:
        # The filter escapes the text, then marks its own <p>/<br> safe.
        text = linebreaks_filter(str(obj), autoescape=True)
        return format_html('<div class="mla-step">{}</div>', text)


class _MLARequestFormBase(forms.ModelForm):
    assistance_types = forms.MultipleChoiceField(
        label=_("Types of assistance"),
        choices=AssistanceType.choices,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "mla-assistance-type"}),
        required=False,
        help_text=_("Each type chosen opens its own section below."),
    )
    language = forms.ChoiceField(label=_("Language of the request"), choices=())
    # Optimistic locking, as on the case page.
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = MLARequest
        fields = ("case", "kind", *mla.MLA_DRAFT_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = self.instance.language if self.instance.pk else None
        if "language" in self.fields:
            self.fields["language"].choices = mla_forms.language_choices(current)
            if current is None:
                self.fields["language"].initial = "en"
        if self.instance.pk is not None:
            if "expected_version" in self.fields:
                self.fields["expected_version"].initial = self.instance.version
            for name, value in mla_forms.initial_from_details(self.instance.details).items():
                if name in self.fields:
                    self.initial.setdefault(name, value)

    def clean(self):
        cleaned = super().clean()
        kind = self.instance.kind if self.instance.pk else cleaned.get("kind", MLAKind.FULL)
        sections = mla_forms.sections_of(kind, cleaned.get("assistance_types") or [])
        cleaned["details"] = mla_forms.details_from_cleaned(
            cleaned, sections, self.instance.details if self.instance.pk else None
        )
        return cleaned


# The questions of every section are declared fields of the form.
MLARequestForm = type(
    "MLARequestForm",
    (_MLARequestFormBase,),
    {"__module__": __name__, **mla_forms.detail_form_fields()},
)


@admin.register(MLARequest)
class MLARequestAdmin(GatedModelAdmin):
    selector = access.visible_mla_requests
    form = MLARequestForm
    add_role = Role.COORDINATOR
    change_action = "act_requesting"
    list_display = (
        "__str__",
        "status",
        "requesting_code",
        "requested_code",
        "decision_due",
        "decision_late",
        "execution_due",
        "execution_late",
        "updated_at",
    )
    list_display_links = ("__str__",)
    # The API's request list, newest first (`cases.admin.lists`).
    list_filter = ("status", "kind", "urgency")
    ordering = lists.MLA_REQUEST_ORDER
    sortable_by = ("updated_at",)
    search_fields = ("requesting_reference", "requested_reference")
    list_select_related = ("requesting_agency", "requested_agency")
    inlines = (MLAStatusChangeInline,)
    change_form_template = "admin/cases/mlarequest/change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).with_clock_flags()

    @admin.display(description=_("from"))
    def requesting_code(self, obj) -> str:
        return obj.requesting_agency.code

    @admin.display(description=_("to"))
    def requested_code(self, obj) -> str:
        return obj.requested_agency.code

    @admin.display(description=_("decision overdue"), boolean=True)
    def decision_late(self, obj) -> bool:
        return obj.is_decision_overdue

    @admin.display(description=_("execution overdue"), boolean=True)
    def execution_late(self, obj) -> bool:
        return obj.is_execution_overdue

    # --- read-only displays -------------------------------------------------

    # Agencies as text: their admin pages are the platform administrator's.
    @admin.display(description=_("requesting agency"))
    def requesting_agency_text(self, obj) -> str:
        return str(obj.requesting_agency)

    @admin.display(description=_("requested agency"))
    def requested_agency_text(self, obj) -> str:
        return str(obj.requested_agency)

    @admin.display(description=_("confidentiality required"))
    def confidentiality_text(self, obj) -> str:
        return gettext("Yes") if obj.confidentiality_required else gettext("No")

    @admin.display(description=_("types of assistance"))
    def assistance_types_text(self, obj) -> str:
        labels = dict(AssistanceType.choices)
        return ", ".join(str(labels.get(t, t)) for t in obj.assistance_types or []) or "—"

    @admin.display(description=_("specifics"))
    def details_text(self, obj) -> str:
        return mla_forms.details_html(obj.details) or "—"

    @admin.display(description=_("language of the request"))
    def language_text(self, obj) -> str:
        return mla_forms.language_name(obj.language)

    @admin.display(description=_("decision overdue"))
    def decision_overdue_flag(self, obj) -> str:
        return gettext("Yes: the decision is overdue.")

    @admin.display(description=_("execution overdue"))
    def execution_overdue_flag(self, obj) -> str:
        return gettext("Yes: the execution is overdue.")

    @admin.display(description=_("preservation expired"))
    def preservation_expired_flag(self, obj) -> str:
        return gettext("Yes: the preservation period has ended.")

    # --- layout -------------------------------------------------------------

    # Only a draft is edited, by the requesting side's coordinators; everyone
    # else who may see the request gets the read-only page.
    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.status != MLAStatus.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    def _detail_fieldsets(self, sections: list[str]) -> tuple:
        return tuple(
            (
                mla_forms.SECTION_TITLES[section],
                {
                    "fields": tuple(
                        mla_forms.form_field_name(section, spec.name)
                        for spec in mla_forms.DETAIL_FIELDS[section]
                    ),
                    "classes": ("mla-section", f"mla-section-{section}"),
                },
            )
            for section in sections
        )

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            names = ("case", "kind", *mla.MLA_DRAFT_FIELDS)
            return _layout(names, details=self._detail_fieldsets(list(mla_forms.DETAIL_FIELDS)))
        if self.has_change_permission(request, obj):
            names = ("status", "requesting_agency_text", *mla.MLA_DRAFT_FIELDS, "expected_version")
            sections = (
                [mla.PRESERVATION_KEY]
                if obj.kind == MLAKind.PRESERVATION
                else [s for s in mla_forms.DETAIL_FIELDS if s != mla.PRESERVATION_KEY]
            )
            return _layout(names, details=self._detail_fieldsets(sections))
        names = tuple(
            READONLY_DISPLAYS.get(n, n)
            for n in (*mla.MLA_DRAFT_FIELDS, "requested_reference")
            if n not in OPTIONAL or getattr(obj, n) not in ("", None)
        )
        shown = ("status", "requesting_agency_text", "kind", *names)
        clocks = self._clock_fields(obj)
        return [
            *_layout(shown, details=()),
            *([(_("Deadlines"), {"fields": clocks})] if clocks else []),
        ]

    def _clock_fields(self, obj) -> tuple[str, ...]:
        """Only the dates and flags that say something (the status stands at the top)."""
        shown = []
        for name in CLOCK_FIELDS:
            value = getattr(obj, name)
            if name == "status":
                continue
            if name in FLAG_DISPLAYS:
                if value:
                    shown.append(FLAG_DISPLAYS[name])
            elif value not in (None, ""):
                shown.append(name)
        return tuple(shown)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        if self.has_change_permission(request, obj):
            return ("requesting_agency_text", "status")
        return (
            "kind",
            "requested_reference",
            *CLOCK_FIELDS,
            *FLAG_DISPLAYS.values(),
            *mla.MLA_DRAFT_FIELDS,
            *READONLY_DISPLAYS.values(),
        )

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()

    # --- writes -------------------------------------------------------------

    def create_via_service(self, request, form):
        data = form.cleaned_data
        fields = {f: data[f] for f in mla.MLA_DRAFT_FIELDS if f in data}
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
        changes = {k: v for k, v in self.changed_values(form).items() if k in mla.MLA_DRAFT_FIELDS}
        stored = MLARequest.objects.values_list("details", flat=True).get(pk=obj.pk)
        if form.cleaned_data.get("details", stored) != stored:
            changes["details"] = form.cleaned_data["details"]
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

    def _actions_for(self, request, obj) -> list[dict]:
        """The buttons this person may press now: the table's verbs, and the delay notice."""
        url = reverse(
            "admin:cases_mlarequest_transition", args=[obj.pk], current_app=self.admin_site.name
        )
        verbs = mla.allowed_verbs(request.user, obj)
        verbs += [verb for verb, may in OTHER_STEPS.items() if may(request.user, obj)]
        return [
            {
                "verb": verb,
                "label": mla.verb_label(verb),
                "url": f"{url}?verb={verb}",
                # Steps that need text or end the request open their own page.
                "page": verb in mla_forms.TEXT_LABELS
                or verb in mla_forms.CONFIRM_VERBS
                or verb in OTHER_STEPS,
            }
            for verb in verbs
        ]

    def transition_view(self, request, object_id: str):
        """One step's page: GET shows what it asks, POST lets the service decide.

        A refusal re-renders the form with the service's errors and changes nothing.
        """
        obj = self.get_object(request, object_id)
        change_url = reverse(
            "admin:cases_mlarequest_change", args=[obj.pk], current_app=self.admin_site.name
        )
        verb = request.POST.get("verb") or request.GET.get("verb") or ""
        if verb not in mla.TRANSITIONS and verb not in OTHER_STEPS:
            raise Http404(gettext("Not found."))
        allowed = {a["verb"] for a in self._actions_for(request, obj)}
        if request.method != "POST" and verb not in allowed:
            self.message_user(
                request, gettext("This step is not open to you now."), messages.WARNING
            )
            return HttpResponseRedirect(change_url)
        form_class, extra = self._form_for(request, obj, verb)
        if request.method == "POST":
            form = form_class(request.POST, **extra)
            if form.is_valid():
                try:
                    self._take(request, obj, verb, form.cleaned_data)
                except NotFound as exc:
                    raise Http404(str(exc.message)) from exc
                except DomainError as exc:
                    self._errors_on(form, exc)
                else:
                    step = obj.history.select_related("agency").order_by("-at", "-id").first()
                    done = str(step) if step else mla.verb_label(verb)
                    self.message_user(request, done, messages.SUCCESS)
                    return HttpResponseRedirect(change_url)
        else:
            form = form_class(initial={"expected_version": obj.version}, **extra)
        missing = (
            mla_forms.missing_in_words(obj)
            if verb == "submit" and obj.status == MLAStatus.DRAFT
            else []
        )
        # What this step answers (the question, for "provide the information").
        latest = obj.history.select_related("agency").order_by("-at", "-id").first()
        context = {
            **self.admin_site.each_context(request),
            "latest_step": str(latest) if latest else "",
            "title": mla.verb_label(verb),
            "subtitle": str(obj),
            "opts": self.opts,
            "original": obj,
            "object": obj,
            "verb": verb,
            "verb_label": mla.verb_label(verb),
            "form": form,
            "missing": missing,
            "change_url": change_url,
            "has_view_permission": True,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/cases/mlarequest/transition.html", context)

    def _form_for(self, request, obj, verb: str) -> tuple[type, dict]:
        if verb == "file-delay-notice":
            return mla_forms.DelayNoticeForm, {}
        if verb == "extend-preservation":
            return mla_forms.ExtendPreservationForm, {}
        if verb == "link-follow-up":
            candidates = mla.follow_up_candidates(request.user, obj)
            return mla_forms.LinkFollowUpForm, {"candidates": candidates}
        return mla_forms.TransitionForm, {"verb": verb}

    def _take(self, request, obj, verb: str, data: dict) -> None:
        version = data.get("expected_version")
        if verb == "extend-preservation":
            mla.extend_preservation(
                actor=request.user,
                request=obj,
                reason=data.get("comment") or "",
                expected_version=version,
            )
            return
        if verb == "link-follow-up":
            mla.link_follow_up(
                actor=request.user,
                preservation=obj,
                follow_up=data["follow_up"],
                expected_version=version,
            )
            return
        if verb == "file-delay-notice":
            mla.file_delay_notice(
                actor=request.user,
                request=obj,
                reason=data.get("reason") or "",
                new_due=mla.end_of_day(data["new_due_date"], obj.requested_agency),
                expected_version=version,
            )
            return
        mla.transition_mla_request(
            actor=request.user,
            request=obj,
            verb=verb,
            comment=data.get("comment") or "",
            expected_version=version,
        )

    @staticmethod
    def _errors_on(form, exc: DomainError) -> None:
        """The service's errors on the form: its own fields by name, the rest in words."""
        fields = {"new_due": "new_due_date"}
        for key, field_messages in exc.errors.items():
            key = fields.get(key, key)
            if key in form.fields and key != "expected_version":
                for message in field_messages:
                    form.add_error(key, message)
                continue
            where = mla_forms.where_in_words(key)
            for message in field_messages:
                form.add_error(None, f"{where}: {message}" if where else message)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        obj = self.get_object(request, object_id)
        extra_context["mla_actions"] = self._actions_for(request, obj)
        # The state machine's steps alone (the delay notice is not one of them).
        extra_context["transitions"] = [
            a for a in extra_context["mla_actions"] if a["verb"] in mla.TRANSITIONS
        ]
        extra_context["mla_missing"] = (
            mla_forms.missing_in_words(obj)
            if obj.status == MLAStatus.DRAFT and self.has_change_permission(request, obj)
            else []
        )
        # The case, for those who may open it (never the requested side).
        if access.can(request.user, "view", obj.case):
            extra_context["case_url"] = reverse(
                "admin:cases_case_change", args=[obj.case_id], current_app=self.admin_site.name
            )
        extra_context["letter_url"] = reverse("mla-request-letter", args=[obj.public_id])
        extra_context["letter_pdf_url"] = reverse("mla-request-letter-pdf", args=[obj.public_id])
        return super().change_view(request, object_id, form_url, extra_context)


__all__ = ["MLARequestAdmin", "MLAStatusChangeInline"]
