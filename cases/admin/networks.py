"""Entities, links, transactions and assets in the admin.

Each list reads its gate selector; a page is opened by whoever sees the row,
and changed or deleted only by the agency that recorded it (gate action
`edit`; an asset's state also by the agency holding it, on its own page
`…/asset/<id>/state/`). Every write goes through `cases.networks`, whose
refusals come back as form errors with nothing saved.

What a row names is shown only when the reader may see it too: a parent
company, a source note or document, an asset's account, MLA request and
holding agency are written out through display methods that read the
gate's `…_shown` columns, never as Django's read-only related fields (which
would print the name of whatever the key points at). The case workspace
lists the four on its Network tab (`cases.admin.cases`).
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cases import access, networks
from cases.choices import AssetState, HandlingCode
from cases.models import Asset, Entity, Link, Transaction
from config.admin_base import FIELD_SELECTORS, GatedModelAdmin
from gate.errors import DomainError
from gate.roles import Role

from . import network_io
from .rows import tlp_badge

FIELD_SELECTORS[Entity] = access.visible_entities
FIELD_SELECTORS[Link] = access.visible_links
FIELD_SELECTORS[Transaction] = access.visible_transactions
FIELD_SELECTORS[Asset] = access.visible_assets

_HANDLING = networks.HANDLING_FIELDS


class _ServiceForm(forms.ModelForm):
    """A form whose model rules are the service's (errors come back on the form)."""

    def _post_clean(self):
        """Validation is `cases.networks`' job."""


class _NetworkAdmin(GatedModelAdmin):
    """What the four pages share: who adds, changes and deletes; the case
    and the recording agency shown; fields by mode (add, change, read)."""

    add_role = Role.INVESTIGATOR
    change_action = "edit"
    delete_action = "edit"
    #: Shown above the form on an object's page (never a related field).
    shown_first: tuple[str, ...] = ("case_reference", "recorded_by", "handling")
    #: Fields of the add form, after `case`.
    add_fields: tuple[str, ...] = ()
    #: Fields the recording agency changes.
    change_fields: tuple[str, ...] = ()
    #: What a reader who may not change the row sees: display methods for
    #: every reference, plain model fields otherwise.
    read_fields: tuple[str, ...] = ()
    #: Reference fields: (the gate's `…_shown` column, the display method).
    references: dict[str, tuple[str, str]] = {}

    def _may_edit(self, request, obj) -> bool:
        return obj is not None and self.has_change_permission(request, obj)

    def _kept(self, obj) -> tuple[str, ...]:
        """References the recording agency no longer sees (another agency
        made them RED): kept as they are, shown as "—", never a choice the
        form would silently empty."""
        return tuple(
            label
            for field, (flag, label) in self.references.items()
            if getattr(obj, f"{field}_id", None) is not None and not getattr(obj, flag, False)
        )

    def _change_fields(self, obj) -> tuple[str, ...]:
        kept = self._kept(obj)
        labels = {field: label for field, (_flag, label) in self.references.items()}
        return tuple(
            labels[f] if f in labels and labels[f] in kept else f for f in self.change_fields
        )

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("case", *self.add_fields)
        if self._may_edit(request, obj):
            return (*self.shown_first, *self._change_fields(obj))
        return (*self.shown_first, *self.read_fields)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        if self._may_edit(request, obj):
            return (*self.shown_first, *self._kept(obj))
        return (*self.shown_first, *self.read_fields)

    @admin.display(description=_("case"), ordering="case__reference")
    def case_reference(self, obj):
        # A visible row is on a case the reader sees.
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:cases_case_change", args=[obj.case_id]),
            obj.case.reference,
        )  # fmt: skip

    @admin.display(description=_("agency"), ordering="agency__code")
    def recorded_by(self, obj):
        return obj.agency.code

    @admin.display(description=_("handling code"), ordering="handling_code")
    def handling(self, obj):
        return tlp_badge(obj.handling_code)

    def update_via_service(self, request, obj, form):
        changes = self.changed_values(form)
        if not changes:
            return None
        return self.update(request, obj, changes)

    def get_deleted_objects(self, objs, request):
        """Only the objects themselves: Django's page would list every row
        that names them (another agency's RED link or subsidiary, by name).
        Whether something still names them is the service's to refuse."""
        names = [str(obj) for obj in objs]
        return names, {self.opts.verbose_name_plural: len(names)}, set(), []

    def update(self, request, obj, changes: dict[str, Any]):
        raise NotImplementedError

    def _shown_label(self, obj, field: str, flag: str) -> str:
        related = getattr(obj, field)
        if related is None or not getattr(obj, flag, False):
            return "—"
        return str(related)


# --- entities -------------------------------------------------------------------------


class AliasesField(forms.CharField):
    """Aliases as lines of text, in any script."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 60})

    def prepare_value(self, value):
        if isinstance(value, (list, tuple)):
            return "\n".join(value)
        return value

    def to_python(self, value):
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


class EntityForm(_ServiceForm):
    aliases = AliasesField(
        label=_("aliases"), required=False, help_text=_("Other names, in any script: one per line.")
    )

    class Meta:
        model = Entity
        fields = ("case", *networks.ENTITY_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            # Left empty, the service's default: TLP:AMBER, a victim TLP:RED.
            code = self.fields["handling_code"]
            code.required, code.initial = False, ""
            code.choices = [("", gettext("Default (a victim: TLP:RED)")), *HandlingCode.choices]


@admin.register(Entity)
class EntityAdmin(_NetworkAdmin):
    """Persons, organisations and places on the cases the agency may see."""

    selector = access.visible_entities
    form = EntityForm
    list_display = ("name", "kind", "role", "case_reference", "recorded_by", "handling")
    list_filter = ("kind", "role", "handling_code")
    search_fields = ("name", "registration_number", "address", "case__reference")
    list_select_related = ("case", "agency")
    autocomplete_fields = ("case", "parent")
    add_fields = networks.ENTITY_FIELDS
    change_fields = networks.ENTITY_CHANGEABLE
    references = {"parent": ("parent_shown", "parent_shown_label")}
    shown_first = ("case_reference", "kind", "recorded_by", "handling")
    read_fields = (
        "name",
        "alias_lines",
        "description",
        "role",
        "nationality",
        "date_of_birth",
        "registration_number",
        "country",
        "parent_shown_label",
        "address",
        "latitude",
        "longitude",
        "handling_instruction",
        "handling_restriction",
    )

    @admin.display(description=_("aliases"))
    def alias_lines(self, entity):
        return format_html_join(", ", "{}", ((alias,) for alias in entity.aliases)) or "—"

    @admin.display(description=_("parent organisation"))
    def parent_shown_label(self, entity):
        return self._shown_label(entity, "parent", "parent_shown")

    def create_via_service(self, request, form):
        data = dict(form.cleaned_data)
        if not data.get("handling_code"):
            data.pop("handling_code", None)
        return networks.create_entity(actor=request.user, **data)

    def update(self, request, obj, changes):
        return networks.update_entity(
            actor=request.user, entity=obj, expected_version=obj.version, **changes
        )

    def delete_via_service(self, request, obj):
        networks.delete_entity(actor=request.user, entity=obj)


# --- links ----------------------------------------------------------------------------


class LinkForm(_ServiceForm):
    class Meta:
        model = Link
        fields = ("case", *networks.LINK_FIELDS)


def _node(obj, end: str) -> str:
    """An end of a link: its entity or its identifier (a visible link's ends are visible)."""
    entity, identifier = getattr(obj, f"{end}_entity"), getattr(obj, f"{end}_identifier")
    return str(entity if entity is not None else identifier)


@admin.register(Link)
class LinkAdmin(_NetworkAdmin):
    """Links between entities and identifiers on the cases the agency may see."""

    selector = access.visible_links
    form = LinkForm
    list_display = ("from_node", "kind", "to_node", "case_reference", "recorded_by", "handling")
    list_filter = ("kind", "handling_code")
    search_fields = ("description", "case__reference")
    list_select_related = (
        "case",
        "agency",
        "from_entity",
        "from_identifier",
        "to_entity",
        "to_identifier",
    )
    autocomplete_fields = (
        "case",
        "from_entity",
        "from_identifier",
        "to_entity",
        "to_identifier",
        "source_note",
        "source_document",
    )
    add_fields = networks.LINK_FIELDS
    change_fields = networks.LINK_CHANGEABLE
    references = {
        "source_note": ("source_note_shown", "source_note_label"),
        "source_document": ("source_document_shown", "source_document_label"),
    }
    shown_first = ("case_reference", "from_node", "to_node", "recorded_by", "handling")
    read_fields = (
        "kind",
        "source_note_label",
        "source_document_label",
        "source_reliability",
        "information_accuracy",
        "description",
        "handling_instruction",
        "handling_restriction",
    )

    @admin.display(description=_("from"))
    def from_node(self, link):
        return _node(link, "from")

    @admin.display(description=_("to"))
    def to_node(self, link):
        return _node(link, "to")

    @admin.display(description=_("source note"))
    def source_note_label(self, link):
        return self._shown_label(link, "source_note", "source_note_shown")

    @admin.display(description=_("source document"))
    def source_document_label(self, link):
        return self._shown_label(link, "source_document", "source_document_shown")

    def create_via_service(self, request, form):
        data = dict(form.cleaned_data)
        return networks.create_link(actor=request.user, **data)

    def update(self, request, obj, changes):
        return networks.update_link(
            actor=request.user, link=obj, expected_version=obj.version, **changes
        )

    def delete_via_service(self, request, obj):
        networks.delete_link(actor=request.user, link=obj)


# --- transactions ---------------------------------------------------------------------


class TransactionForm(_ServiceForm):
    class Meta:
        model = Transaction
        fields = ("case", *networks.TRANSACTION_FIELDS)


@admin.register(Transaction)
class TransactionAdmin(_NetworkAdmin):
    """Money between identifiers on the cases the agency may see."""

    selector = access.visible_transactions
    form = TransactionForm
    list_display = (
        "occurred_at",
        "from_identifier",
        "to_identifier",
        "money",
        "case_reference",
        "recorded_by",
        "handling",
    )
    list_filter = ("currency", "handling_code")
    search_fields = ("reference", "currency", "case__reference")
    list_select_related = ("case", "agency", "from_identifier", "to_identifier")
    autocomplete_fields = ("case", "from_identifier", "to_identifier", "source_document")
    date_hierarchy = None
    add_fields = networks.TRANSACTION_FIELDS
    change_fields = networks.TRANSACTION_CHANGEABLE
    references = {"source_document": ("source_document_shown", "source_document_label")}
    shown_first = (
        "case_reference",
        "from_identifier",
        "to_identifier",
        "money",
        "occurred_at",
        "recorded_by",
        "handling",
    )
    read_fields = (
        "reference",
        "source_document_label",
        "description",
        "handling_instruction",
        "handling_restriction",
    )

    @admin.display(description=_("amount"), ordering="amount")
    def money(self, record):
        return f"{record.amount.normalize():,f} {record.currency}"

    @admin.display(description=_("source document"))
    def source_document_label(self, record):
        return self._shown_label(record, "source_document", "source_document_shown")

    def create_via_service(self, request, form):
        data = dict(form.cleaned_data)
        return networks.record_transaction(actor=request.user, **data)

    def update(self, request, obj, changes):
        return networks.update_transaction(
            actor=request.user, record=obj, expected_version=obj.version, **changes
        )

    def delete_via_service(self, request, obj):
        networks.delete_transaction(actor=request.user, record=obj)

    def get_urls(self):
        return [
            path(
                "import/<str:case_id>/",
                self.admin_site.admin_view(self.import_view),
                name="cases_transaction_import",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request, case_id):
        """Transactions of a case from a CSV file (`network_io`)."""
        return network_io.import_view(self, request, case_id)


# --- assets ---------------------------------------------------------------------------


class AssetForm(_ServiceForm):
    note = forms.CharField(
        label=_("note"),
        required=False,
        max_length=networks.NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text=_("On the first step of its history: the order, the decision."),
    )

    class Meta:
        model = Asset
        fields = ("case", *networks.ASSET_FIELDS)


class AssetStateForm(forms.Form):
    state = forms.ChoiceField(label=_("state"), choices=AssetState.choices)
    on = forms.DateField(label=_("date"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(
        label=_("note"),
        required=False,
        max_length=networks.NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
    )

    def __init__(self, *args, asset: Asset, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = set(networks.allowed_asset_states(asset))
        state = cast(forms.ChoiceField, self.fields["state"])
        state.choices = [(v, lbl) for v, lbl in AssetState.choices if v in allowed]


@admin.register(Asset)
class AssetAdmin(_NetworkAdmin):
    """Assets frozen, seized, confiscated or returned, with their history."""

    selector = access.visible_assets
    form = AssetForm
    list_display = (
        "description",
        "kind",
        "worth",
        "state",
        "state_on",
        "holder",
        "case_reference",
        "handling",
    )
    list_filter = ("state", "kind", "handling_code")
    search_fields = ("description", "legal_basis", "case__reference")
    list_select_related = ("case", "agency", "holding_agency")
    autocomplete_fields = ("case", "identifier", "mla_request")
    add_fields = (*networks.ASSET_FIELDS, "note")
    change_fields = networks.ASSET_CHANGEABLE
    references = {
        "identifier": ("identifier_shown", "identifier_label"),
        "mla_request": ("mla_request_shown", "mla_request_label"),
        "holding_agency": ("holding_agency_shown", "holder"),
    }
    shown_first = (
        "case_reference",
        "state",
        "state_on",
        "history_table",
        "recorded_by",
        "handling",
    )
    read_fields = (
        "kind",
        "description",
        "worth",
        "holder",
        "legal_basis",
        "identifier_label",
        "mla_request_label",
        "handling_instruction",
        "handling_restriction",
    )
    change_form_template = "admin/cases/asset/change_form.html"

    @admin.display(description=_("value"), ordering="value")
    def worth(self, asset):
        return f"{asset.value.normalize():,f} {asset.currency}"

    @admin.display(description=_("holding agency"))
    def holder(self, asset):
        if asset.holding_agency is None or not getattr(asset, "holding_agency_shown", False):
            return "—"
        return asset.holding_agency.code

    @admin.display(description=_("account or wallet"))
    def identifier_label(self, asset):
        return self._shown_label(asset, "identifier", "identifier_shown")

    @admin.display(description=_("MLA request"))
    def mla_request_label(self, asset):
        return self._shown_label(asset, "mla_request", "mla_request_shown")

    def get_object(self, request, object_id, from_field=None):
        """The asset, with the steps of its history this reader may see
        (display methods are given the object, not the request)."""
        asset = super().get_object(request, object_id, from_field)
        asset.cb_shown_history = list(
            access.visible_asset_state_changes(request.user)
            .filter(asset=asset)
            .select_related("agency")
            .order_by("on", "created_at", "id")
        )
        return asset

    @admin.display(description=_("history"))
    def history_table(self, asset):
        steps = getattr(asset, "cb_shown_history", [])
        return format_html(
            '<ol class="cb-log" id="cb-asset-history">{}</ol>',
            format_html_join(
                "",
                '<li><strong>{}</strong> <span class="cb-meta">{} · {}</span>{}</li>',
                (
                    (
                        s.get_state_display(),
                        s.on.isoformat(),
                        s.agency.code,
                        format_html(" — {}", s.note) if s.note else "",
                    )
                    for s in steps
                ),
            ),
        )

    def create_via_service(self, request, form):
        data = dict(form.cleaned_data)
        return networks.record_asset(actor=request.user, **data)

    def update(self, request, obj, changes):
        return networks.update_asset(
            actor=request.user, asset=obj, expected_version=obj.version, **changes
        )

    def delete_via_service(self, request, obj):
        networks.delete_asset(actor=request.user, asset=obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra_context = {
            **(extra_context or {}),
            "state_url": reverse("admin:cases_asset_state", args=[obj.pk])
            if access.can(request.user, "change_state", obj) and networks.allowed_asset_states(obj)
            else None,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    # --- moving an asset on -------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "<path:object_id>/state/",
                self.admin_site.admin_view(self.state_view),
                name="cases_asset_state",
            ),
            *super().get_urls(),
        ]

    def state_view(self, request, object_id):
        """A form of the next states the asset may take; posted to
        `change_asset_state` (the recording or the holding agency)."""
        asset = self.get_object(request, object_id)
        if not self.has_view_permission(request, asset):
            raise Http404(gettext("Not found."))
        asset_url = reverse("admin:cases_asset_change", args=[asset.pk])
        may = access.can(request.user, "change_state", asset)
        form = None
        if may and networks.allowed_asset_states(asset):
            data = request.POST if request.method == "POST" else None
            form = AssetStateForm(data, asset=asset, initial={"on": timezone.localdate()})
            if request.method == "POST" and form.is_valid():
                try:
                    networks.change_asset_state(
                        actor=request.user,
                        asset=asset,
                        expected_version=asset.version,
                        **form.cleaned_data,
                    )
                except DomainError as exc:
                    for field, errors in exc.errors.items():
                        for message in errors:
                            form.add_error(field if field in form.fields else None, message)
                else:
                    self.message_user(request, gettext("The asset moved on."), messages.SUCCESS)
                    return HttpResponseRedirect(asset_url)
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request,
            "admin/cases/case/case_form_page.html",
            {
                **self.admin_site.each_context(request),
                "title": gettext("Move the asset on: %(asset)s") % {"asset": asset},
                "subtitle": None,
                "case": asset.case,
                "opts": self.opts,
                "form": form,
                "form_id": "cb-asset-state-form",
                "submit_label": gettext("Record the new state"),
                "case_url": reverse("admin:cases_case_change", args=[asset.case_id]),
                "media": self.media + form.media if form is not None else self.media,
                "nothing_to_do": None
                if form is not None
                else gettext("You cannot move this asset on from its state."),
            },
        )
