"""`GET /trace/?from=&hops=&since=&until=`: follow the money from an account or a wallet.

The trace itself is `cases.trace` (through the gate's selectors, and the
deconfliction search's own answer where money reaches what you may not
see); this module reads the query string and shapes the answer.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.base import GatedViewSet

from .. import trace
from ..choices import IdentifierKind
from ..models import Identifier


@extend_schema_field({"type": "string", "format": "decimal", "example": "21450.5"})
class DecimalText(serializers.Field):
    """An exact amount as a string, without trailing zeros ("21450.5")."""

    def to_representation(self, value: Decimal) -> str:
        return _amount(value)


class _FromField:
    """Serializers with a field called `from` (a Python keyword): declared
    here, placed first."""

    def from_field(self) -> serializers.Field:
        raise NotImplementedError

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()  # type: ignore[misc]
        return {"from": self.from_field(), **fields}


class TraceQuerySerializer(_FromField, serializers.Serializer):
    """The query string of a trace."""

    hops = serializers.IntegerField(
        min_value=trace.MIN_HOPS,
        max_value=trace.MAX_HOPS,
        default=trace.DEFAULT_HOPS,
        help_text=_("How many transactions deep to follow the money (1 to 6, default 4)."),
    )
    since = serializers.DateTimeField(
        required=False, help_text=_("Only transactions at or after this time.")
    )
    until = serializers.DateTimeField(
        required=False, help_text=_("Only transactions at or before this time.")
    )

    def from_field(self) -> serializers.Field:
        return serializers.UUIDField(
            help_text=_("The id of the identifier (an account or a wallet) to start from.")
        )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        since, until = attrs.get("since"), attrs.get("until")
        if since and until and since > until:
            raise serializers.ValidationError({"until": [_("This is before `since`.")]})
        return attrs


class TraceNodeSerializer(serializers.Serializer):
    id = serializers.UUIDField(
        help_text=_(
            "The identifier: the first the trace met with this value (the same value "
            "recorded on another case you see is the same node)."
        )
    )
    kind = serializers.ChoiceField(IdentifierKind.choices)
    value = serializers.CharField(help_text=_("As recorded."))
    case = serializers.UUIDField(help_text=_("The case the identifier is recorded on."))
    case_reference = serializers.CharField()


class TraceEdgeSerializer(_FromField, serializers.Serializer):
    id = serializers.UUIDField(help_text=_("The transaction."))
    to = serializers.UUIDField(source="target", help_text=_("The node the money reached."))
    amount = DecimalText()
    currency = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    case = serializers.UUIDField(help_text=_("The case that records the transaction."))

    def from_field(self) -> serializers.Field:
        return serializers.UUIDField(source="source", help_text=_("The node the money left."))

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        # `id` first, then `from`.
        return {"id": fields.pop("id"), **fields}


class TracePathSerializer(serializers.Serializer):
    nodes = serializers.ListField(child=serializers.UUIDField(), help_text=_("From the origin."))
    totals = serializers.DictField(
        child=DecimalText(),
        help_text=_(
            "Per currency, what can have followed the whole path: the smallest step in that "
            "currency, each step's transactions summed (money passing through several "
            "accounts is not counted twice)."
        ),
    )


class TraceBorderSerializer(serializers.Serializer):
    at = serializers.UUIDField(
        help_text=_(
            "The last node you see: its value is also held where you may not look. The "
            "path stops there for you; nothing of the other side is told."
        )
    )
    agency = serializers.CharField(help_text=_("The holding agency's code: whom to contact."))
    agency_country = serializers.CharField()
    kind = serializers.ChoiceField(IdentifierKind.choices)
    first_recorded = serializers.DateField()
    contact_token = serializers.CharField(
        help_text=_("For `POST /deconfliction/request-contact/`.")
    )


@extend_schema_serializer(many=False)
class TraceSerializer(_FromField, serializers.Serializer):
    hops = serializers.IntegerField()
    nodes = TraceNodeSerializer(many=True)
    edges = TraceEdgeSerializer(many=True)
    paths = TracePathSerializer(many=True)
    borders = TraceBorderSerializer(many=True)
    truncated = serializers.BooleanField(
        help_text=_("A bound was hit (hops aside): more transactions or paths exist.")
    )

    def from_field(self) -> serializers.Field:
        return serializers.UUIDField(source="origin", help_text=_("The origin node."))


# The answer is written by `payload` below, field for field what
# TraceSerializer (the documented shape) writes, without DRF's per-field
# machinery: a busy trace at 1M (620 edges, 500 paths, 398 borders) took
# 42 ms to serialize, 15 ms this way. tests/cases/networks/test_trace_api.py
# holds the two equal.
_OCCURRED_AT = TraceEdgeSerializer().fields["occurred_at"]
_FIRST_RECORDED = TraceBorderSerializer().fields["first_recorded"]


def _amount(value: Decimal) -> str:
    return f"{value.normalize():f}"


def payload(found: trace.Trace) -> dict[str, Any]:
    """The trace as TraceSerializer writes it."""
    return {
        "from": found.origin,
        "hops": found.hops,
        "nodes": [
            {
                "id": n.id,
                "kind": n.kind,
                "value": n.value,
                "case": n.case,
                "case_reference": n.case_reference,
            }
            for n in found.nodes
        ],
        "edges": [
            {
                "id": e.id,
                "from": e.source,
                "to": e.target,
                "amount": _amount(e.amount),
                "currency": e.currency,
                "occurred_at": _OCCURRED_AT.to_representation(e.occurred_at),
                "case": e.case,
            }
            for e in found.edges
        ],
        "paths": [
            {
                "nodes": p.nodes,
                "totals": {currency: _amount(total) for currency, total in p.totals.items()},
            }
            for p in found.paths
        ],
        "borders": [
            {
                "at": b.at,
                "agency": b.agency,
                "agency_country": b.agency_country,
                "kind": b.kind,
                "first_recorded": _FIRST_RECORDED.to_representation(b.first_recorded),
                "contact_token": b.contact_token,
            }
            for b in found.borders
        ],
        "truncated": found.truncated,
    }


class TraceViewSet(GatedViewSet[Identifier]):
    """Follow the money from an account or a wallet, over the transactions your agency
    may see."""

    selector = "visible_identifiers"
    related = ("case",)
    serializer_class = TraceSerializer
    pagination_class = None
    action_query_params = {"list": ("from", "hops", "since", "until")}
    # An identifier that does not exist or that you may not see.
    extra_error_codes = {"list": ["404"]}

    @extend_schema(
        summary="Follow the money from an account or a wallet",
        description=(
            "From the identifier `from`, the transactions out of it, then out of the accounts "
            "and wallets they reached, `hops` deep, over the transactions your agency may "
            "see. Money is followed by value across the cases you see: an account recorded "
            "on two cases is one node. Where a value is also held where you may not look, "
            "the answer is the deconfliction search's (`borders`: the agency, and a "
            "`contact_token` for `POST /deconfliction/request-contact/`), never its case or "
            "its transactions. A trace is a deconfliction search: investigators and "
            "coordinators, within the search rate, audited. Bounded: `truncated` says when "
            "more was left out."
        ),
        parameters=[TraceQuerySerializer],
        responses=TraceSerializer,
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = TraceQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        origin = self._get_by_public_id(self.get_queryset(), data["from"])
        found = trace.trace_money(
            actor=self.request.user,
            identifier=origin,
            hops=data["hops"],
            since=data.get("since"),
            until=data.get("until"),
        )
        return Response(payload(found))
