"""`/api/v1/notifications/`: a user's own in-app notifications.

Everyone sees only their own (`notifications.services.visible_notifications`);
another person's notification is 404 like a missing one. Notifications are
written by the delivery jobs only: the API lists, shows and marks read.
"""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers as drf_serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.base import GatedViewSet, ListMixin, RetrieveMixin

from .. import services
from ..models import Notification
from . import serializers


class NotificationFilter(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(field_name="read_at", lookup_expr="isnull")
    kind = django_filters.CharFilter()

    class Meta:
        model = Notification
        fields = ["unread", "kind"]


@extend_schema_view(
    list=extend_schema(summary="Your notifications (`?unread=true`, `?ordering=-created_at`)"),
    retrieve=extend_schema(summary="One of your notifications"),
)
class NotificationViewSet(
    ListMixin[Notification], RetrieveMixin[Notification], GatedViewSet[Notification]
):
    serializer_class = serializers.NotificationSerializer
    filterset_class = NotificationFilter
    input_serializers = {
        "mark_read": serializers.NoInputSerializer,
        "mark_all_read": serializers.NoInputSerializer,
    }
    # Marking read is idempotent and touches only the reader's own row: no
    # one else's change can be overwritten.
    if_match_exempt = frozenset({"mark_read"})

    def get_queryset(self):
        # Not a case-domain selector: a notification belongs to one person.
        return services.visible_notifications(self.request.user)

    @extend_schema(summary="Mark one notification read", request=None)
    @action(detail=True, methods=["post"], url_path="read")
    def mark_read(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        notification = services.mark_read(actor=request.user, notification=self.get_object())
        return self.object_response(notification)

    @extend_schema(
        summary="Mark all your notifications read",
        request=None,
        responses=inline_serializer(
            "MarkedRead", fields={"marked": drf_serializers.IntegerField()}
        ),
    )
    @action(detail=False, methods=["post"], url_path="read-all")
    def mark_all_read(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response({"marked": services.mark_all_read(actor=request.user)})
