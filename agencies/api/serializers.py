from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from gate.roles import Role

from ..models import Agency


class AgencySerializer(serializers.ModelSerializer):
    """A directory entry: who the agency is, never who works there."""

    id = serializers.UUIDField(source="public_id", read_only=True)

    class Meta:
        model = Agency
        fields = ["id", "code", "name", "country", "kind", "timezone", "active"]
        read_only_fields = fields


class MeSerializer(serializers.Serializer):
    """Who the credentials belong to: a person or an agency's API client."""

    username = serializers.CharField()
    name = serializers.CharField()
    membership_id = serializers.UUIDField(help_text=_("Your membership's id (task assignee)."))
    agency = AgencySerializer()
    role = serializers.ChoiceField(Role.choices)
    language = serializers.CharField(allow_blank=True)
    is_service_account = serializers.BooleanField()
    token_expires_at = serializers.DateTimeField(
        allow_null=True, help_text=_("When the token used for this request expires, if any.")
    )
