"""The agency directory and `me/`."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import APIView

from agencies.actors import AuthenticatedRequest
from config.api.base import (
    GatedViewSet,
    IsAgencyMember,
    ListMixin,
    RetrieveMixin,
    StrictQueryMixin,
    etag_of,
)
from gate import port

from ..models import Agency, ApiToken
from . import serializers


@extend_schema_view(
    list=extend_schema(summary="The agency directory (codes, names, countries, kinds)"),
    retrieve=extend_schema(
        summary="One agency, by its code",
        parameters=[
            OpenApiParameter(
                "code",
                str,
                OpenApiParameter.PATH,
                description="The agency's code, e.g. `KR-KNP`.",
                pattern=r"^[A-Z][A-Z0-9-]{1,19}$",
            )
        ],
    ),
)
class AgencyViewSet(ListMixin[Agency], RetrieveMixin[Agency], GatedViewSet[Agency]):
    """The directory of agencies you can share with: no member lists.

    Addressed by code (`/agencies/KR-KNP/`), as every payload names agencies.
    """

    selector = "visible_agencies"
    serializer_class = serializers.AgencySerializer
    extra_ordering_fields = ("created_at", "code")
    lookup_field = "code"
    lookup_url_kwarg = "code"

    def lookup_object(self, queryset: QuerySet[Agency], value: Any) -> Agency:
        # Codes are unique: one row at most, no ORDER BY needed.
        obj = next(iter(queryset.filter(code=str(value)).order_by()[:1]), None)
        if obj is None:
            raise exceptions.NotFound()
        return obj


class MeView(StrictQueryMixin, APIView):
    """The identity behind the credentials, so a partner system can check its token."""

    permission_classes = [IsAgencyMember]

    @extend_schema(summary="Who am I: user, agency, role", responses=serializers.MeSerializer)
    def get(self, request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> Response:
        membership = port.membership_of(request.user)
        if membership is None:  # IsAgencyMember let only members in
            raise exceptions.NotFound()
        token = request.auth if isinstance(request.auth, ApiToken) else None
        user = request.user
        data = serializers.MeSerializer(
            {
                "username": user.get_username(),
                "name": user.get_full_name() or user.get_username(),
                "membership_id": membership.public_id,
                "agency": membership.agency,
                "role": membership.role,
                "language": membership.language,
                "is_service_account": membership.is_service_account,
                "token_expires_at": token.expires_at if token else None,
            }
        ).data
        return Response(data, headers={"ETag": etag_of(None, data)})
