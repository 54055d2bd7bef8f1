"""Serializer fields that resolve references through the gate.

A payload names other objects by public id (`"case": "<uuid>"`) or, for
agencies, by code. Resolution goes through a selector of the gate (reached
through `gate.port`), so a reference to an object the user may not see fails
exactly like a reference to one that does not exist ("Unknown case."): a 400
that leaks nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Model, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from gate import port


class _GatedReference(serializers.Field):
    selector = ""
    lookup = ""
    unknown_message: Any = _("Unknown object.")

    def __init__(self, *, selector: str | None = None, unknown_message: Any = None, **kwargs):
        self.selector = selector or self.selector
        if unknown_message is not None:
            self.unknown_message = unknown_message
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet:
        request = self.context["request"]
        return port.selector(self.selector)(request.user)

    def parse(self, data: Any) -> Any:
        raise NotImplementedError

    def to_internal_value(self, data: Any) -> Model:
        try:
            value = self.parse(data)
        except (TypeError, ValueError, AttributeError):
            raise serializers.ValidationError(self.unknown_message, code="unknown") from None
        obj = self.get_queryset().filter(**{self.lookup: value}).first()
        if obj is None:
            raise serializers.ValidationError(self.unknown_message, code="unknown")
        return obj


@extend_schema_field(OpenApiTypes.UUID)
class PublicIdReference(_GatedReference):
    """A reference by public id (UUID), resolved through a gate selector."""

    lookup = "public_id"

    def parse(self, data: Any) -> uuid.UUID:
        if not isinstance(data, str):
            raise TypeError
        return uuid.UUID(data)

    def to_representation(self, value: Model) -> str:
        return str(value.public_id)


@extend_schema_field({"type": "string", "example": "KH-CCOS", "pattern": "^[A-Z][A-Z0-9-]{1,19}$"})
class AgencyCodeReference(_GatedReference):
    """An agency by its code (e.g. `KH-CCOS`), from the visible directory."""

    selector = "visible_agencies"
    lookup = "code"
    unknown_message = _("Unknown agency.")

    def parse(self, data: Any) -> str:
        if not isinstance(data, str):
            raise TypeError
        return data.strip()

    def to_representation(self, value: Model) -> str:
        return value.code
