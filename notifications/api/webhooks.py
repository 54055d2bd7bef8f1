"""`/api/v1/webhooks/` and `/api/v1/events/catalogue/`: a partner system
subscribes to its agency's events.

Only agency administrators manage endpoints, and only their own agency's
(`services.visible_webhook_endpoints`): anyone else sees an empty list and a
404 for an endpoint, like a missing one. The secret is shown once, in the
answer of the create and of `rotate-secret`, and never again. A delivery is
named by its event's id (one delivery per event and endpoint), which is also
the `id` in the body the partner received.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.base import (
    CreateMixin,
    DestroyMixin,
    GatedViewSet,
    IsAgencyMember,
    ListMixin,
    RetrieveMixin,
    StrictQueryMixin,
    UpdateMixin,
    etag_of,
)

from .. import catalogue, services
from ..choices import DeliveryStatus
from ..models import Delivery, WebhookEndpoint


def _event_type() -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=[spec.type for spec in catalogue.EVENTS])


EVENTS_HELP = _("Event types to send (see `/api/v1/events/catalogue/`); empty: every event.")
#: The delivery log shows the newest deliveries, not the whole history.
DELIVERIES_SHOWN = 100


class WebhookEndpointSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    events = serializers.ListField(child=_event_type(), help_text=EVENTS_HELP)
    active = serializers.BooleanField(
        help_text=_("False: paused (nothing is sent). Disabled by the server after failures.")
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "events",
            "active",
            "consecutive_failures",
            "disabled_at",
            "created_at",
        ]
        read_only_fields = fields


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text=_(
            "Key of the HMAC-SHA256 signature (`X-Casebridge-Signature`). Shown only in this "
            "answer: store it now."
        ),
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookEndpointInputSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=500, help_text=_("https:// (signed, not encrypted)."))
    events = serializers.ListField(
        child=_event_type(), required=False, max_length=len(catalogue.EVENTS), help_text=EVENTS_HELP
    )
    active = serializers.BooleanField(required=False, help_text=_("False pauses the endpoint."))


class NoInputSerializer(serializers.Serializer):
    """Actions without a body."""


class WebhookDeliverySerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(
        source="message_id", read_only=True, help_text=_("The event's id (the body's `id`).")
    )
    event_type = serializers.CharField(source="message.event_type", read_only=True)
    event_time = serializers.DateTimeField(source="message.created_at", read_only=True)
    status = serializers.ChoiceField(choices=DeliveryStatus.choices, read_only=True)
    last_status_code = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text=_("What your server answered to the last attempt; null: no answer (yet)."),
    )

    class Meta:
        model = Delivery
        fields = [
            "id",
            "event_type",
            "event_time",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "next_attempt_at",
            "created_at",
            "delivered_at",
        ]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(summary="Your agency's webhook endpoints (agency administrators)"),
    retrieve=extend_schema(summary="One webhook endpoint (never its secret)"),
    create=extend_schema(
        summary="Subscribe a URL to your agency's events; the answer shows the secret once",
        responses={201: WebhookEndpointWithSecretSerializer},
    ),
    update=extend_schema(summary="Replace URL, events and active"),
    partial_update=extend_schema(
        summary="Change URL, events, or pause (`active: false`) and resume"
    ),
    destroy=extend_schema(summary="Delete a webhook endpoint"),
)
class WebhookEndpointViewSet(
    ListMixin[WebhookEndpoint],
    RetrieveMixin[WebhookEndpoint],
    CreateMixin[WebhookEndpoint],
    UpdateMixin[WebhookEndpoint],
    DestroyMixin[WebhookEndpoint],
    GatedViewSet[WebhookEndpoint],
):
    serializer_class = WebhookEndpointSerializer
    sync_field = "created_at"
    input_serializers = {
        "create": WebhookEndpointInputSerializer,
        "update": WebhookEndpointInputSerializer,
        "rotate_secret": NoInputSerializer,
        "redeliver": NoInputSerializer,
    }
    extra_error_codes = {"redeliver": ["409"]}

    def get_queryset(self):
        # Not case content: an endpoint belongs to its agency's administrators.
        return services.visible_webhook_endpoints(self.request.user)

    def create_object(self, data: dict[str, Any]) -> WebhookEndpoint:
        return services.create_webhook_endpoint(actor=self.request.user, **data)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        endpoint = self.create_object(self.validate_input(request.data))
        return self._with_secret(endpoint, status.HTTP_201_CREATED, created=True)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        endpoint = self.get_object()
        expected = self.expected_version(endpoint)
        data = self.validate_input(request.data, partial=partial)
        if not partial:
            data.setdefault("events", [])
            data.setdefault("active", True)
        endpoint = services.update_webhook_endpoint(
            actor=request.user, endpoint=endpoint, expected_version=expected, **data
        )
        return self.object_response(endpoint)

    def destroy_object(self, obj: WebhookEndpoint, *, expected_version: int | None) -> None:
        services.delete_webhook_endpoint(
            actor=self.request.user, endpoint=obj, expected_version=expected_version
        )

    def _with_secret(self, endpoint: WebhookEndpoint, code: int, *, created: bool = False):
        response = self.object_response(endpoint, status_code=code, created=created)
        response.data = WebhookEndpointWithSecretSerializer(endpoint).data
        return response

    @extend_schema(
        summary="A new secret, effective for the next delivery; shown once in this answer",
        request=None,
        responses=WebhookEndpointWithSecretSerializer,
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        endpoint = self.get_object()
        endpoint = services.rotate_webhook_secret(
            actor=request.user, endpoint=endpoint, expected_version=self.expected_version(endpoint)
        )
        return self._with_secret(endpoint, status.HTTP_200_OK)

    @extend_schema(
        summary=f"The endpoint's newest {DELIVERIES_SHOWN} deliveries, newest first",
        responses=WebhookDeliverySerializer(many=True),
        filters=False,
    )
    @action(detail=True, methods=["get"], url_path="deliveries", pagination_class=None)
    def deliveries(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        rows = services.webhook_deliveries(self.get_object())[:DELIVERIES_SHOWN]
        data = WebhookDeliverySerializer(rows, many=True).data
        return Response(data, headers={"ETag": etag_of(None, data)})

    @extend_schema(
        summary="Send one event to the endpoint again (a fresh series of attempts)",
        request=None,
        parameters=[
            OpenApiParameter(
                "event_id",
                {"type": "string", "format": "uuid"},
                OpenApiParameter.PATH,
                description=str(_("The delivery's `id` (its event's id).")),
            )
        ],
        responses={202: WebhookDeliverySerializer},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"deliveries/(?P<event_id>[^/]+)/redeliver",
    )
    def redeliver(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        endpoint = self.get_object()
        delivery = services.redeliver_webhook(
            actor=request.user,
            endpoint=endpoint,
            event_id=kwargs["event_id"],
            expected_version=self.expected_version(endpoint),
        )
        data = WebhookDeliverySerializer(delivery).data
        return Response(
            data, status=status.HTTP_202_ACCEPTED, headers={"ETag": etag_of(None, data)}
        )


class EventSpecSerializer(serializers.Serializer):
    type = serializers.CharField()
    version = serializers.IntegerField()
    object_type = serializers.CharField()
    description = serializers.CharField()
    schema = serializers.JSONField(help_text=_("JSON Schema (2020-12) of the webhook body."))


class EventCatalogueSerializer(serializers.Serializer):
    signature = serializers.CharField()
    headers = serializers.DictField(child=serializers.CharField())
    events = EventSpecSerializer(many=True)


class EventCatalogueView(StrictQueryMixin, APIView):
    """Every event a webhook may carry, for any member: what to subscribe to
    and how to parse it (the bodies hold identifiers, never content)."""

    permission_classes = [IsAgencyMember]

    @extend_schema(
        summary="The event catalogue: each event type, its version and body schema",
        responses=EventCatalogueSerializer,
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = EventCatalogueSerializer(
            {
                "signature": str(
                    _(
                        "X-Casebridge-Signature: sha256=HMAC-SHA256(secret, "
                        "X-Casebridge-Timestamp + '.' + body), hex"
                    )
                ),
                "headers": {
                    "X-Casebridge-Event": str(_("The event type.")),
                    "X-Casebridge-Event-Id": str(_("The event id: deduplicate on it.")),
                    "X-Casebridge-Event-Version": str(_("The body's version.")),
                    "X-Casebridge-Timestamp": str(_("Signing time, Unix seconds.")),
                    "X-Casebridge-Signature": str(_("The signature, see above.")),
                    "X-Casebridge-Delivery": str(_("The delivery attempt series.")),
                },
                "events": catalogue.catalogue(),
            }
        ).data
        return Response(data, headers={"ETag": etag_of(None, data)})
