"""`GET /search/?q=`: full-text search over what your agency may see.

The search itself, and which rows it may read, is `cases.search` (through
the gate's selectors); this module reads the query string and shapes the
answer. Results come ranked, a page at a time (`page_size` up to 50, `next`
while more remain), at most `SEARCH_CANDIDATES` in all: refine the query
rather than page further.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from config.api.base import GatedViewSet
from gate.errors import ValidationFailed

from .. import search
from ..choices import SearchKind
from ..models import Case

CURSOR = "cursor"


class SearchQuerySerializer(serializers.Serializer):
    """The query string of a search."""

    q = serializers.CharField(
        min_length=search.MIN_QUERY_LENGTH,
        max_length=search.MAX_QUERY_LENGTH,
        help_text=_(
            "Text to find, in any script (at least 2 characters): a case-insensitive part of "
            "a case's title or summary, a note, a task's title or description, a document's "
            "title or an identifier's value."
        ),
    )
    kind = serializers.MultipleChoiceField(
        choices=SearchKind.choices,
        required=False,
        help_text=_("Only these kinds of result (repeat the parameter for several). Default: all."),
    )
    page_size = serializers.IntegerField(
        min_value=1,
        max_value=search.MAX_PAGE_SIZE,
        default=search.DEFAULT_PAGE_SIZE,
        help_text=_("Results per page (default 20, at most 50)."),
    )
    cursor = serializers.CharField(
        required=False, help_text=_("Opaque position from a `next` link.")
    )

    def validate_q(self, value: str) -> str:
        try:
            return search.clean_query(value)
        except ValidationFailed as exc:
            raise serializers.ValidationError(exc.errors["q"]) from None

    def validate_cursor(self, value: str) -> int:
        """The offset a `next` link carries; anything else is refused."""
        try:
            padded = value + "=" * (-len(value) % 4)
            offset = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())["offset"]
        except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
            offset = None
        if not isinstance(offset, int) or isinstance(offset, bool):
            raise serializers.ValidationError(_("Invalid cursor."))
        if not 0 < offset < search.candidates():
            raise serializers.ValidationError(_("Invalid cursor."))
        return offset


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode().rstrip("=")


class SearchResultSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(SearchKind.choices)
    id = serializers.UUIDField(source="public_id")
    case = serializers.UUIDField(
        source="case_public_id",
        allow_null=True,
        help_text=_(
            "The case the result belongs to (the case itself for a case); null for a "
            "document of an MLA request whose case your agency does not see."
        ),
    )
    case_reference = serializers.CharField(allow_null=True)
    title = serializers.CharField(help_text=_("The title; for a note, its first line."))
    snippet = serializers.CharField(
        help_text=_(
            "HTML: a short excerpt around the first match, every character escaped, the "
            "matched text in `<mark>` … `</mark>`."
        )
    )
    rank = serializers.FloatField(
        help_text=_("Relevance from 0 to 1 (trigram word similarity); higher first.")
    )
    updated_at = serializers.DateTimeField(
        help_text=_("Last change (cases, tasks) or creation (notes, documents, identifiers).")
    )


@extend_schema_serializer(many=False)
class SearchPageSerializer(serializers.Serializer):
    next = serializers.URLField(
        allow_null=True, help_text=_("The next page of results; null on the last.")
    )
    results = SearchResultSerializer(many=True)


class SearchViewSet(GatedViewSet[Case]):
    """Full-text search over the cases, notes, tasks, documents and identifiers your agency
    may see, ranked, with the matches highlighted."""

    # The search reads the gate through `cases.search`, one selector per kind.
    selector = "visible_cases"
    serializer_class = SearchResultSerializer
    pagination_class = None
    action_query_params = {"list": ("q", "kind", "page_size", CURSOR)}

    @extend_schema(
        summary="Search what your agency may see (cases, notes, tasks, documents, identifiers)",
        description=(
            "Case-insensitive; any script (Latin, Hangul, Khmer, Chinese…); two characters "
            "at least. Ranked by similarity of the words, then by recency. Each kind ranks "
            "its first matches in your agency's case list, most recently active cases first "
            "(a limit the server sets, 50 by default), and a search returns at most that many "
            "results: for more, make the query more precise."
        ),
        parameters=[SearchQuerySerializer],
        responses=SearchPageSerializer,
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = SearchQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        offset = data.get(CURSOR, 0)
        size = data["page_size"]
        found = search.search(
            request.user, data["q"], kinds=data.get("kind") or None, offset=offset, limit=size
        )
        next_link = None
        if found.has_more:
            next_link = replace_query_param(
                request.build_absolute_uri(), CURSOR, encode_cursor(offset + size)
            )
        return Response(
            {
                "next": next_link,
                "results": SearchResultSerializer(found.hits, many=True).data,
            }
        )
