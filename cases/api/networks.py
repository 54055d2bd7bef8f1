"""Networks and money API: entities, links, transactions and assets on cases.

* `GET/POST /entities/`, `GET/PUT/PATCH /entities/{id}/`: persons,
  organisations and places. A victim is TLP:RED unless a `handling_code` is
  sent: only your agency sees it until you lower the code.
* `GET/POST /links/`, `GET/PUT/PATCH /links/{id}/`: how two nodes relate
  (each end an entity or an identifier), with source and 4x4 evaluation;
  the ends are set once.
* `GET/POST /transactions/`, `GET/PUT/PATCH /transactions/{id}/`: money
  between two identifiers; the ends, amount, currency and time are set once.
* `GET/POST /assets/`, `GET/PUT/PATCH /assets/{id}/`, `POST
  /assets/{id}/state/`: what was frozen, seized, confiscated or returned,
  with the history of its states.

All follow their case and their own handling code (`cases.access`): a link
or a transaction is listed only with both of its ends; a reference you may
not see (a RED source note, a parent company, an MLA request you are not a
party to) is null. Only the agency that recorded an object changes it
(an asset's state: also the agency holding it). Deletions are made in the
web admin, by that agency, and are not in these feeds.
"""

from __future__ import annotations

from typing import Any

import django_filters as filters
from django.db.models import Model, Prefetch, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from agencies.actors import AuthenticatedRequest
from config.api.base import CreateMixin, GatedViewSet, ListMixin, RetrieveMixin, UpdateMixin
from config.api.fields import AgencyCodeReference, PublicIdReference
from config.api.filters import DateTimeFilter, MultipleChoiceFilter

from .. import access, networks
from ..choices import (
    AssetKind,
    AssetState,
    EntityKind,
    HandlingCode,
    HandlingInstruction,
    InformationAccuracy,
    LinkKind,
    PersonRole,
    SourceReliability,
)
from ..models import Asset, AssetStateChange, Entity, Link, Transaction
from ..models.network import AMOUNT_DECIMALS, AMOUNT_DIGITS
from .filters import AgencyCodeFilter
from .serializers import PUBLIC_ID, AgencyCodeField

# --- shared pieces ----------------------------------------------------------------

NULLABLE_UUID: dict[str, Any] = {"type": "string", "format": "uuid", "nullable": True}


def _shown(serializer: serializers.Serializer, obj: Model, flag: str, selector: str) -> bool:
    """The gate's `…_shown` column of `obj` for the reader: read with the row,
    or (a row just written by a service) read again through the selector."""
    value = getattr(obj, flag, None)
    if value is None:
        user = serializer.context["request"].user
        value = getattr(access, selector)(user).filter(pk=obj.pk).values_list(flag, flat=True)
        value = next(iter(value), False)
    return bool(value)


def _reference(
    serializer: serializers.Serializer, obj: Model, field: str, flag: str, selector: str
) -> str | None:
    """The public id of `obj.<field>` if the reader may see it, else None."""
    related = getattr(obj, field)
    if related is None or not _shown(serializer, obj, flag, selector):
        return None
    return str(related.public_id)


class _Handling(serializers.Serializer):
    handling_code = serializers.ChoiceField(HandlingCode.choices, required=False)
    handling_instruction = serializers.ChoiceField(HandlingInstruction.choices, required=False)
    handling_restriction = serializers.CharField(max_length=500, required=False, allow_blank=True)


#: Fields every network object's output ends with.
_RECORD_FIELDS = (
    "handling_code",
    "handling_instruction",
    "handling_restriction",
    "agency",
    "created_at",
    "updated_at",
    "version",
)


def _case_reference() -> PublicIdReference:
    return PublicIdReference(selector="visible_cases", unknown_message=_("Unknown case."))


def _entity_reference(**kwargs: Any) -> PublicIdReference:
    return PublicIdReference(
        selector="visible_entities", unknown_message=_("Unknown entity."), **kwargs
    )


def _identifier_reference(**kwargs: Any) -> PublicIdReference:
    return PublicIdReference(
        selector="visible_identifiers", unknown_message=_("Unknown identifier."), **kwargs
    )


def _document_reference(**kwargs: Any) -> PublicIdReference:
    return PublicIdReference(
        selector="visible_documents", unknown_message=_("Unknown document."), **kwargs
    )


def _amount(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_DECIMALS, **kwargs
    )


class _NetworkFilter(filters.FilterSet):
    case = filters.UUIDFilter(field_name="case__public_id", help_text=_("Case id."))
    handling_code = MultipleChoiceFilter(choices=HandlingCode.choices)
    agency = AgencyCodeFilter(field_name="agency_id", help_text=_("Recording agency (code)."))
    updated_since = DateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        help_text=_("Changed at or after this time (inclusive); for a first sync from a date."),
    )


# --- entities -------------------------------------------------------------------------


class EntitySerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(**PUBLIC_ID)
    case = serializers.UUIDField(source="case.public_id", read_only=True)
    aliases = serializers.ListField(child=serializers.CharField(), read_only=True)
    role = serializers.ChoiceField(PersonRole.choices, allow_blank=True, read_only=True)
    # DRF's metaclass takes declared fields off the class: this `parent` is
    # the payload's, not the serializer's own `Field.parent`.
    parent = serializers.SerializerMethodField(  # type: ignore[assignment]
        help_text=_("The parent organisation; null if none or not yours to see.")
    )
    agency = AgencyCodeField()

    class Meta:
        model = Entity
        fields = [
            "id",
            "case",
            "kind",
            "name",
            "aliases",
            "description",
            "role",
            "nationality",
            "date_of_birth",
            "registration_number",
            "country",
            "parent",
            "address",
            "latitude",
            "longitude",
            *_RECORD_FIELDS,
        ]
        read_only_fields = fields

    @extend_schema_field(NULLABLE_UUID)
    def get_parent(self, entity: Entity) -> str | None:
        return _reference(self, entity, "parent", "parent_shown", "visible_entities")


# One field per name of `networks.ENTITY_CHANGEABLE`; only the fields sent
# reach the service (a victim sent without `handling_code` is TLP:RED).
class EntityUpdateInputSerializer(_Handling):
    """Change an entity your agency recorded (its kind stays)."""

    name = serializers.CharField(max_length=networks.NAME_MAX_LENGTH, required=False)
    aliases = serializers.ListField(
        child=serializers.CharField(max_length=networks.NAME_MAX_LENGTH),
        max_length=networks.MAX_ALIASES,
        required=False,
    )
    description = serializers.CharField(required=False, allow_blank=True)
    role = serializers.ChoiceField(
        PersonRole.choices,
        required=False,
        allow_blank=True,
        help_text=_("A person's part in the case; a victim is TLP:RED unless you send a code."),
    )
    nationality = serializers.CharField(
        max_length=3, required=False, allow_blank=True, help_text=_("A person's: KR or KOR.")
    )
    date_of_birth = serializers.DateField(required=False, allow_null=True)
    registration_number = serializers.CharField(max_length=40, required=False, allow_blank=True)
    country = serializers.CharField(
        max_length=3,
        required=False,
        allow_blank=True,
        help_text=_("Of an organisation's registration, or of a place."),
    )
    parent = _entity_reference(  # type: ignore[assignment]  # a payload field (see above)
        required=False, allow_null=True, help_text=_("An organisation on the same case.")
    )
    address = serializers.CharField(max_length=500, required=False, allow_blank=True)
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=-90, max_value=90, required=False,
        allow_null=True,
    )  # fmt: skip
    longitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=-180, max_value=180, required=False,
        allow_null=True,
    )  # fmt: skip


class EntityInputSerializer(EntityUpdateInputSerializer):
    """Record a person, an organisation or a place on a case."""

    case = _case_reference()
    kind = serializers.ChoiceField(EntityKind.choices)
    name = serializers.CharField(max_length=networks.NAME_MAX_LENGTH)


class EntityFilter(_NetworkFilter):
    kind = MultipleChoiceFilter(choices=EntityKind.choices)
    role = MultipleChoiceFilter(choices=PersonRole.choices)

    class Meta:
        model = Entity
        fields: list[str] = []


@extend_schema_view(
    list=extend_schema(summary="Persons, organisations and places on the cases you may see"),
    retrieve=extend_schema(summary="One entity"),
    create=extend_schema(
        summary="Record an entity on a case (investigators of a contributing agency)",
        examples=[
            OpenApiExample(
                "An operator",
                value={
                    "case": "5f0c6a9e-8d1b-4a8e-9a57-3f6f1e2b7c10",
                    "kind": "person",
                    "name": "Chen Wei",
                    "aliases": ["陈伟", "Boss Chen"],
                    "nationality": "CN",
                    "role": "suspect",
                },
                request_only=True,
            )
        ],
    ),
    update=extend_schema(summary="Change an entity your agency recorded"),
    partial_update=extend_schema(summary="Change some fields of an entity your agency recorded"),
)
class EntityViewSet(
    ListMixin[Entity],
    RetrieveMixin[Entity],
    CreateMixin[Entity],
    UpdateMixin[Entity],
    GatedViewSet[Entity],
):
    """Persons (suspects, facilitators, victims, witnesses), organisations and places.

    A victim stays with the agency that recorded it (TLP:RED) until that
    agency lowers its handling code.
    """

    selector = "visible_entities"
    related = ("case", "agency", "parent")
    extra_ordering_fields = ("created_at",)
    serializer_class = EntitySerializer
    filterset_class = EntityFilter
    input_serializers = {"create": EntityInputSerializer, "update": EntityUpdateInputSerializer}

    def create_object(self, data: dict[str, Any]) -> Entity:
        return networks.create_entity(actor=self.request.user, **data)

    def update_object(
        self, obj: Entity, data: dict[str, Any], *, expected_version: int | None
    ) -> Entity:
        return networks.update_entity(
            actor=self.request.user, entity=obj, expected_version=expected_version, **data
        )


# --- links ----------------------------------------------------------------------------


class LinkSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(**PUBLIC_ID)
    case = serializers.UUIDField(source="case.public_id", read_only=True)
    from_entity = serializers.UUIDField(
        source="from_entity.public_id", read_only=True, allow_null=True
    )
    from_identifier = serializers.UUIDField(
        source="from_identifier.public_id", read_only=True, allow_null=True
    )
    to_entity = serializers.UUIDField(source="to_entity.public_id", read_only=True, allow_null=True)
    to_identifier = serializers.UUIDField(
        source="to_identifier.public_id", read_only=True, allow_null=True
    )
    source_note = serializers.SerializerMethodField(
        help_text=_("The note it comes from; null if none or not yours to see.")
    )
    source_document = serializers.SerializerMethodField(
        help_text=_("The document it comes from; null if none or not yours to see.")
    )
    agency = AgencyCodeField()

    class Meta:
        model = Link
        fields = [
            "id",
            "case",
            "kind",
            "from_entity",
            "from_identifier",
            "to_entity",
            "to_identifier",
            "source_note",
            "source_document",
            "source_reliability",
            "information_accuracy",
            "description",
            *_RECORD_FIELDS,
        ]
        read_only_fields = fields

    @extend_schema_field(NULLABLE_UUID)
    def get_source_note(self, link: Link) -> str | None:
        return _reference(self, link, "source_note", "source_note_shown", "visible_links")

    @extend_schema_field(NULLABLE_UUID)
    def get_source_document(self, link: Link) -> str | None:
        return _reference(self, link, "source_document", "source_document_shown", "visible_links")


class _LinkSource(serializers.Serializer):
    source_note = PublicIdReference(
        selector="visible_notes", unknown_message=_("Unknown note."), required=False,
        allow_null=True,
    )  # fmt: skip
    source_document = _document_reference(required=False, allow_null=True)
    source_reliability = serializers.ChoiceField(SourceReliability.choices, required=False)
    information_accuracy = serializers.ChoiceField(InformationAccuracy.choices, required=False)
    description = serializers.CharField(required=False, allow_blank=True)


class LinkUpdateInputSerializer(_LinkSource, _Handling):
    """Change what a link your agency recorded says; its ends stay."""

    kind = serializers.ChoiceField(LinkKind.choices, required=False)


class LinkInputSerializer(LinkUpdateInputSerializer):
    """Record how two nodes of a case relate: give one of `from_entity` and
    `from_identifier`, and one of `to_entity` and `to_identifier`, each on
    the same case."""

    case = _case_reference()
    kind = serializers.ChoiceField(LinkKind.choices)
    from_entity = _entity_reference(required=False, allow_null=True)
    from_identifier = _identifier_reference(required=False, allow_null=True)
    to_entity = _entity_reference(required=False, allow_null=True)
    to_identifier = _identifier_reference(required=False, allow_null=True)


class LinkFilter(_NetworkFilter):
    kind = MultipleChoiceFilter(choices=LinkKind.choices)
    node = filters.UUIDFilter(
        method="filter_node", help_text=_("Links from or to this entity or identifier (id).")
    )

    class Meta:
        model = Link
        fields: list[str] = []

    def filter_node(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        return queryset.filter(
            Q(from_entity__public_id=value)
            | Q(from_identifier__public_id=value)
            | Q(to_entity__public_id=value)
            | Q(to_identifier__public_id=value)
        )


@extend_schema_view(
    list=extend_schema(summary="Links on the cases you may see (with both ends)"),
    retrieve=extend_schema(summary="One link"),
    create=extend_schema(
        summary="Record a link between two nodes of a case (investigators of a contributing "
        "agency)",
        examples=[
            OpenApiExample(
                "An operator holds a wallet",
                value={
                    "case": "5f0c6a9e-8d1b-4a8e-9a57-3f6f1e2b7c10",
                    "kind": "holds_wallet",
                    "from_entity": "1d7b9a52-4b0f-4d39-8f7e-2a9c6b1e5d33",
                    "to_identifier": "8c2e4f10-6a3d-4b7e-9c1a-5e8f2d0b7a44",
                    "source_reliability": "B",
                    "information_accuracy": "2",
                },
                request_only=True,
            )
        ],
    ),
    update=extend_schema(summary="Change a link your agency recorded"),
    partial_update=extend_schema(summary="Change some fields of a link your agency recorded"),
)
class LinkViewSet(
    ListMixin[Link], RetrieveMixin[Link], CreateMixin[Link], UpdateMixin[Link], GatedViewSet[Link]
):
    """How entities and identifiers relate: controls, owns, employs, uses a phone,
    holds an account or a wallet, is located at, transferred money to…

    Listed only when you may see both ends.
    """

    selector = "visible_links"
    related = (
        "case",
        "agency",
        "from_entity",
        "from_identifier",
        "to_entity",
        "to_identifier",
        "source_note",
        "source_document",
    )
    extra_ordering_fields = ("created_at",)
    serializer_class = LinkSerializer
    filterset_class = LinkFilter
    input_serializers = {"create": LinkInputSerializer, "update": LinkUpdateInputSerializer}

    def create_object(self, data: dict[str, Any]) -> Link:
        return networks.create_link(actor=self.request.user, **data)

    def update_object(
        self, obj: Link, data: dict[str, Any], *, expected_version: int | None
    ) -> Link:
        return networks.update_link(
            actor=self.request.user, link=obj, expected_version=expected_version, **data
        )


# --- transactions ---------------------------------------------------------------------


class TransactionSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(**PUBLIC_ID)
    case = serializers.UUIDField(source="case.public_id", read_only=True)
    from_identifier = serializers.UUIDField(source="from_identifier.public_id", read_only=True)
    to_identifier = serializers.UUIDField(source="to_identifier.public_id", read_only=True)
    amount = _amount(read_only=True)
    source_document = serializers.SerializerMethodField(
        help_text=_("The statement or export it comes from; null if none or not yours to see.")
    )
    agency = AgencyCodeField()

    class Meta:
        model = Transaction
        fields = [
            "id",
            "case",
            "from_identifier",
            "to_identifier",
            "amount",
            "currency",
            "occurred_at",
            "reference",
            "source_document",
            "description",
            *_RECORD_FIELDS,
        ]
        read_only_fields = fields

    @extend_schema_field(NULLABLE_UUID)
    def get_source_document(self, record: Transaction) -> str | None:
        return _reference(
            self, record, "source_document", "source_document_shown", "visible_transactions"
        )


class TransactionUpdateInputSerializer(_Handling):
    """Change a transaction's reference, source, description or handling; its
    ends, amount, currency and time are a record and stay."""

    reference = serializers.CharField(max_length=200, required=False, allow_blank=True)
    source_document = _document_reference(required=False, allow_null=True)
    description = serializers.CharField(required=False, allow_blank=True)


class TransactionInputSerializer(TransactionUpdateInputSerializer):
    """Record money moving from one identifier (account, wallet, mobile money
    number) of a case to another of the same case."""

    case = _case_reference()
    from_identifier = _identifier_reference()
    to_identifier = _identifier_reference()
    amount = _amount(help_text=_("Greater than zero; up to 18 decimals (send it as a string)."))
    currency = serializers.CharField(
        max_length=21, help_text=_("An ISO 4217 code (KRW, USD) or a token with its network.")
    )
    occurred_at = serializers.DateTimeField()
    reference = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text=_("The transaction hash or the bank's reference."),
    )


class TransactionFilter(_NetworkFilter):
    currency = filters.CharFilter(method="filter_currency", help_text=_("KRW, USDT-TRC20…"))
    identifier = filters.UUIDFilter(
        method="filter_identifier", help_text=_("From or to this identifier (id).")
    )
    occurred_after = DateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = DateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = Transaction
        fields: list[str] = []

    def filter_currency(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(currency=value.strip().upper())

    def filter_identifier(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        return queryset.filter(
            Q(from_identifier__public_id=value) | Q(to_identifier__public_id=value)
        )


@extend_schema_view(
    list=extend_schema(summary="Transactions on the cases you may see (with both ends)"),
    retrieve=extend_schema(summary="One transaction"),
    create=extend_schema(
        summary="Record a transaction between two identifiers of a case (investigators of a "
        "contributing agency)",
        examples=[
            OpenApiExample(
                "From a victim's account to a mule account",
                value={
                    "case": "5f0c6a9e-8d1b-4a8e-9a57-3f6f1e2b7c10",
                    "from_identifier": "2b6e1c9a-7d4f-4e3a-8b5c-1f0a9d2e6c77",
                    "to_identifier": "9a1c3e5f-2b4d-4c6e-8f0a-7b9d1e3f5a22",
                    "amount": "25000000",
                    "currency": "KRW",
                    "occurred_at": "2025-03-01T10:42:00+09:00",
                    "reference": "KB-20250301-0042",
                },
                request_only=True,
            )
        ],
    ),
    update=extend_schema(summary="Change a transaction your agency recorded (not its money)"),
    partial_update=extend_schema(
        summary="Change some fields of a transaction your agency recorded"
    ),
)
class TransactionViewSet(
    ListMixin[Transaction],
    RetrieveMixin[Transaction],
    CreateMixin[Transaction],
    UpdateMixin[Transaction],
    GatedViewSet[Transaction],
):
    """Money moving between identifiers: amount, currency or token, time, reference.

    Listed only when you may see both identifiers.
    """

    selector = "visible_transactions"
    related = ("case", "agency", "from_identifier", "to_identifier", "source_document")
    extra_ordering_fields = ("occurred_at", "created_at")
    serializer_class = TransactionSerializer
    filterset_class = TransactionFilter
    input_serializers = {
        "create": TransactionInputSerializer,
        "update": TransactionUpdateInputSerializer,
    }

    def create_object(self, data: dict[str, Any]) -> Transaction:
        return networks.record_transaction(actor=self.request.user, **data)

    def update_object(
        self, obj: Transaction, data: dict[str, Any], *, expected_version: int | None
    ) -> Transaction:
        return networks.update_transaction(
            actor=self.request.user, record=obj, expected_version=expected_version, **data
        )


# --- assets ---------------------------------------------------------------------------


class AssetStateChangeSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(**PUBLIC_ID)
    agency = AgencyCodeField(help_text=_("The agency that recorded this step."))

    class Meta:
        model = AssetStateChange
        fields = ["id", "state", "on", "note", "agency", "created_at"]
        read_only_fields = fields


#: The attribute the list's prefetch puts the visible steps of an asset in.
_SHOWN_HISTORY = "shown_history"


class AssetSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(**PUBLIC_ID)
    case = serializers.UUIDField(source="case.public_id", read_only=True)
    value = _amount(read_only=True)
    holding_agency = serializers.SerializerMethodField(
        help_text=_("Code of the agency that froze, seized or holds it; null if none or unknown.")
    )
    identifier = serializers.SerializerMethodField(
        help_text=_("The account or wallet it sits on; null if none or not yours to see.")
    )
    mla_request = serializers.SerializerMethodField(
        help_text=_("The MLA request it came from; null if none or you are not a party to it.")
    )
    history = serializers.SerializerMethodField(
        help_text=_("Its states with their dates, oldest first.")
    )
    agency = AgencyCodeField()

    class Meta:
        model = Asset
        fields = [
            "id",
            "case",
            "kind",
            "description",
            "value",
            "currency",
            "state",
            "state_on",
            "holding_agency",
            "legal_basis",
            "identifier",
            "mla_request",
            "history",
            *_RECORD_FIELDS,
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "nullable": True, "example": "KH-CCOS"})
    def get_holding_agency(self, asset: Asset) -> str | None:
        holder = asset.holding_agency
        if holder is None or not _shown(self, asset, "holding_agency_shown", "visible_assets"):
            return None
        return holder.code

    @extend_schema_field(NULLABLE_UUID)
    def get_identifier(self, asset: Asset) -> str | None:
        return _reference(self, asset, "identifier", "identifier_shown", "visible_assets")

    @extend_schema_field(NULLABLE_UUID)
    def get_mla_request(self, asset: Asset) -> str | None:
        return _reference(self, asset, "mla_request", "mla_request_shown", "visible_assets")

    @extend_schema_field(AssetStateChangeSerializer(many=True))
    def get_history(self, asset: Asset) -> list[dict[str, Any]]:
        steps = getattr(asset, _SHOWN_HISTORY, None)
        if steps is None:
            user = self.context["request"].user
            steps = access.visible_asset_state_changes(user).filter(asset=asset)
            steps = steps.select_related("agency").order_by("on", "created_at", "id")
        return list(AssetStateChangeSerializer(steps, many=True).data)


class AssetUpdateInputSerializer(_Handling):
    """Change what is known of an asset your agency recorded; its state moves
    on through `POST /assets/{id}/state/`."""

    kind = serializers.ChoiceField(AssetKind.choices, required=False)
    description = serializers.CharField(required=False)
    value = _amount(required=False)
    currency = serializers.CharField(max_length=21, required=False)
    holding_agency = AgencyCodeReference(
        required=False,
        allow_null=True,
        help_text=_("Code of the agency that froze, seized or holds it."),
    )
    legal_basis = serializers.CharField(max_length=300, required=False, allow_blank=True)
    identifier = _identifier_reference(
        required=False, allow_null=True, help_text=_("The account or wallet it sits on.")
    )
    mla_request = PublicIdReference(
        selector="visible_mla_requests",
        unknown_message=_("Unknown MLA request."),
        required=False,
        allow_null=True,
        help_text=_("An MLA request of the same case, that your agency is a party to."),
    )


class AssetInputSerializer(AssetUpdateInputSerializer):
    """Record an asset frozen, seized, confiscated or returned, with the
    first step of its history."""

    case = _case_reference()
    kind = serializers.ChoiceField(AssetKind.choices)
    description = serializers.CharField()
    value = _amount(help_text=_("Zero or more; up to 18 decimals (send it as a string)."))
    currency = serializers.CharField(
        max_length=21, help_text=_("An ISO 4217 code (KRW, USD) or a token with its network.")
    )
    state = serializers.ChoiceField(AssetState.choices)
    state_on = serializers.DateField(help_text=_("Since when it is in this state."))
    note = serializers.CharField(
        max_length=networks.NOTE_MAX_LENGTH, required=False, allow_blank=True
    )


class AssetStateInputSerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        AssetState.choices,
        help_text=_(
            "Onwards only: frozen → seized → confiscated → returned (steps may be skipped)."
        ),
    )
    on = serializers.DateField(help_text=_("No earlier than the current state's date."))
    note = serializers.CharField(
        max_length=networks.NOTE_MAX_LENGTH, required=False, allow_blank=True
    )


class AssetFilter(_NetworkFilter):
    kind = MultipleChoiceFilter(choices=AssetKind.choices)
    state = MultipleChoiceFilter(choices=AssetState.choices)

    class Meta:
        model = Asset
        fields: list[str] = []


@extend_schema_view(
    list=extend_schema(summary="Assets frozen, seized, confiscated or returned, on your cases"),
    retrieve=extend_schema(summary="One asset, with its history"),
    create=extend_schema(
        summary="Record an asset on a case (investigators of a contributing agency)",
        examples=[
            OpenApiExample(
                "A freeze",
                value={
                    "case": "5f0c6a9e-8d1b-4a8e-9a57-3f6f1e2b7c10",
                    "kind": "crypto",
                    "description": "USDT on the compound's hot wallet",
                    "value": "120000",
                    "currency": "USDT-TRC20",
                    "state": "frozen",
                    "state_on": "2025-04-02",
                    "holding_agency": "KH-CCOS",
                },
                request_only=True,
            )
        ],
    ),
    update=extend_schema(summary="Change an asset your agency recorded"),
    partial_update=extend_schema(summary="Change some fields of an asset your agency recorded"),
)
class AssetViewSet(
    ListMixin[Asset],
    RetrieveMixin[Asset],
    CreateMixin[Asset],
    UpdateMixin[Asset],
    GatedViewSet[Asset],
):
    """Assets and the history of their states (frozen, seized, confiscated,
    returned to victims), with the agency holding them, the legal basis and
    the MLA request they came from."""

    selector = "visible_assets"
    related = ("case", "agency", "holding_agency", "identifier", "mla_request")
    extra_ordering_fields = ("created_at",)
    serializer_class = AssetSerializer
    filterset_class = AssetFilter
    input_serializers = {
        "create": AssetInputSerializer,
        "update": AssetUpdateInputSerializer,
        "change_state": AssetStateInputSerializer,
    }

    def get_queryset(self) -> QuerySet:
        queryset = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):
            return queryset
        steps = access.visible_asset_state_changes(self.request.user).select_related("agency")
        return queryset.prefetch_related(
            Prefetch(
                "history",
                queryset=steps.order_by("on", "created_at", "id"),
                to_attr=_SHOWN_HISTORY,
            )
        )

    def create_object(self, data: dict[str, Any]) -> Asset:
        return networks.record_asset(actor=self.request.user, **data)

    def update_object(
        self, obj: Asset, data: dict[str, Any], *, expected_version: int | None
    ) -> Asset:
        return networks.update_asset(
            actor=self.request.user, asset=obj, expected_version=expected_version, **data
        )

    @extend_schema(
        summary="Move an asset on: seized, confiscated, returned (the recording or the holding "
        "agency)",
        responses=AssetSerializer,
        examples=[
            OpenApiExample(
                "Seized", value={"state": "seized", "on": "2025-05-20"}, request_only=True
            )
        ],
    )
    @action(detail=True, methods=["post"], url_path="state")
    def change_state(self, request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> Response:
        asset = self.get_object()
        expected = self.expected_version(asset)
        data = self.validate_input(request.data)
        asset = networks.change_asset_state(
            actor=request.user, asset=asset, expected_version=expected, **data
        )
        return self.object_response(asset)
