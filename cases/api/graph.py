"""`GET /cases/{case_id}/graph/`: the picture of a case's network (`cases.graph`).

Nodes (the case's persons, organisations, places and identifiers, and the
other cases you may see that hold one of those identifiers) and edges (links;
transactions between two identifiers summed per currency; "held in" from an
identifier to another case). `kinds` keeps some kinds only; `expand=<node
id>` answers the one hop from that node instead, across the cases you may
see. A case you may not see is a 404.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.base import GatedViewSet, etag_of

from .. import graph
from ..choices import GraphKind
from ..models import Case
from ..models.network import AMOUNT_DECIMALS, AMOUNT_DIGITS


class GraphNodeSerializer(serializers.Serializer):
    id = serializers.CharField(help_text=_("`entity:<id>`, `identifier:<id>` or `case:<id>`."))
    type = serializers.ChoiceField([graph.ENTITY, graph.IDENTIFIER, graph.CASE])
    kind = serializers.CharField(help_text=_("An entity's kind, an identifier's kind, or `case`."))
    # DRF's metaclass takes declared fields off the class: `label` and
    # `source` below are the payload's, not the serializer's own attributes.
    label = serializers.CharField()  # type: ignore[assignment]
    case = serializers.UUIDField(help_text=_("The case it is recorded on."))
    on_case = serializers.BooleanField(help_text=_("Whether it is on the case asked for."))
    agency = serializers.CharField(
        allow_null=True, help_text=_("The recording agency (of a case: its lead agency).")
    )
    handling_code = serializers.CharField()
    role = serializers.CharField(allow_blank=True, help_text=_("A person's role on the case."))
    chain = serializers.CharField(allow_blank=True, help_text=_("A wallet's blockchain."))
    title = serializers.CharField(allow_blank=True, help_text=_("A case's title."))
    more_cases = serializers.BooleanField(
        help_text=_(
            "An identifier held on more cases you may see than the picture draws (the newest five)."
        )
    )


class GraphEdgeSerializer(serializers.Serializer):
    id = serializers.CharField()
    type = serializers.ChoiceField([graph.LINK, graph.TRANSACTION, graph.HELD_IN])
    kind = serializers.CharField(
        help_text=_("A link's kind; `transaction`; `held_in` (the same identifier on a case).")
    )
    source = serializers.CharField()  # type: ignore[assignment]
    target = serializers.CharField()
    case = serializers.UUIDField(help_text=_("The case it is recorded on."))
    handling_code = serializers.CharField(allow_blank=True, help_text=_("A link's."))
    evaluation = serializers.CharField(
        allow_blank=True, help_text=_("A link's 4x4 evaluation: source reliability, accuracy.")
    )
    currency = serializers.CharField(allow_blank=True)
    count = serializers.IntegerField(
        allow_null=True, help_text=_("How many transactions the edge stands for.")
    )
    total = serializers.DecimalField(
        max_digits=AMOUNT_DIGITS + 6,
        decimal_places=AMOUNT_DECIMALS,
        allow_null=True,
        help_text=_("Their total, in the currency."),
    )


class GraphSerializer(serializers.Serializer):
    case = serializers.UUIDField()
    expanded = serializers.CharField(
        allow_null=True, help_text=_("The node expanded, as drawn (the case's own if it holds it).")
    )
    nodes = GraphNodeSerializer(many=True)
    edges = GraphEdgeSerializer(many=True)
    truncated = serializers.BooleanField(
        help_text=_(
            "More money edges than a picture draws: only the busiest (most "
            "transactions, then the largest total) are in `edges`."
        )
    )


# The answer is written by `payload` below, field for field what
# GraphSerializer (the documented shape) writes, without DRF's per-field
# machinery: a large case's picture holds tens of thousands of edges, and
# the serializer spent seconds on them. tests/cases/networks/test_graph_api.py
# holds the two equal.
_TOTAL = GraphEdgeSerializer().fields["total"]


def payload(picture: graph.Graph) -> dict[str, Any]:
    """The picture as GraphSerializer writes it."""
    return {
        "case": picture.case,
        "expanded": picture.expanded,
        "nodes": [
            {
                "id": n.id,
                "type": n.type,
                "kind": n.kind,
                "label": n.label,
                "case": n.case,
                "on_case": n.on_case,
                "agency": n.agency,
                "handling_code": n.handling_code,
                "role": n.role,
                "chain": n.chain,
                "title": n.title,
                "more_cases": n.more_cases,
            }
            for n in picture.nodes.values()
        ],
        "edges": [
            {
                "id": e.id,
                "type": e.type,
                "kind": e.kind,
                "source": e.source,
                "target": e.target,
                "case": e.case,
                "handling_code": e.handling_code,
                "evaluation": e.evaluation,
                "currency": e.currency,
                "count": e.count,
                "total": None if e.total is None else _TOTAL.to_representation(e.total),
            }
            for e in picture.edges.values()
        ],
        "truncated": picture.truncated,
    }


class GraphQuerySerializer(serializers.Serializer):
    kinds = serializers.MultipleChoiceField(choices=GraphKind.choices, required=False)
    expand = serializers.CharField(max_length=100, required=False)


class CaseGraphViewSet(GatedViewSet[Case]):
    """A case's network as nodes and edges, for drawing it."""

    selector = "visible_cases"
    parent_selector = "visible_cases"
    parent_url_kwarg = "case_id"
    parent_field = "pk"
    serializer_class = GraphSerializer
    pagination_class = None  # one picture, not a page
    action_query_params = {"retrieve": ("kinds", "expand")}

    @extend_schema(
        summary="The network of a case as nodes and edges",
        parameters=[
            OpenApiParameter("case_id", OpenApiTypes.UUID, OpenApiParameter.PATH),
            OpenApiParameter(
                "kinds",
                OpenApiTypes.STR,
                enum=list(GraphKind.values),
                many=True,
                explode=True,
                description="Only these kinds of nodes and edges (repeat the parameter).",
            ),
            OpenApiParameter(
                "expand",
                OpenApiTypes.STR,
                description="A node id (`identifier:<id>`, `entity:<id>`): the one hop "
                "from it, across the cases you may see, instead of the whole case.",
            ),
        ],
        responses={200: GraphSerializer},
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = request.query_params
        query = GraphQuerySerializer(
            data={
                **({"kinds": params.getlist("kinds")} if "kinds" in params else {}),
                **({"expand": params["expand"]} if "expand" in params else {}),
            }
        )
        query.is_valid(raise_exception=True)
        picture = graph.case_graph(
            request.user,
            self.kwargs.get(self.parent_url_kwarg),
            kinds=query.validated_data.get("kinds"),
            expand=query.validated_data.get("expand"),
        )
        data = payload(picture)
        return Response(data, headers={"ETag": etag_of(None, data)})
