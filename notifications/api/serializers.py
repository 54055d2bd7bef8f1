from django.conf import settings
from rest_framework import serializers

from ..models import Notification
from ..registry import object_type_named


class NotificationSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    object = serializers.SerializerMethodField()
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "text", "object", "read", "read_at", "created_at", "updated_at"]
        read_only_fields = fields

    def get_object(self, notification: Notification) -> dict:
        """Type, id and API URL of the object; fetching it goes through the gate again."""
        try:
            path = object_type_named(notification.object_type).api_path
        except LookupError:
            path = None
        url = None
        if path:
            base = settings.CASEBRIDGE_BASE_URL.rstrip("/")
            url = f"{base}/api/v1/{path.format(id=notification.object_id)}"
        return {"type": notification.object_type, "id": str(notification.object_id), "url": url}

    def get_read(self, notification: Notification) -> bool:
        return notification.read_at is not None


class NoInputSerializer(serializers.Serializer):
    """Mark-read actions take no body."""
