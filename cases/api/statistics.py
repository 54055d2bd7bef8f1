"""`GET /statistics/?scope=agency|contributors&since=&until=`: figures for coordinators.

`cases.statistics` computes them (through the gate for an agency, over the
consenting agencies' pool otherwise) and suppresses small counts; this
module reads the query string and documents the answer.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.base import GatedViewSet

from .. import statistics
from ..choices import AssetState, CrimeType, MLAStatus
from ..models import Case

COUNT_HELP = _(
    'A count, or "<5": fewer than five, or withheld so that a smaller count cannot be '
    "worked out from the totals."
)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "minimum": 0},
            {"type": "string", "enum": [statistics.SUPPRESSED]},
        ],
        "description": str(COUNT_HELP),
    }
)
class CountField(serializers.Field):
    """A published count: an integer, or the string `<5`."""

    def to_representation(self, value: Any) -> Any:
        return value


class StatisticsQuerySerializer(serializers.Serializer):
    """The query string of the statistics."""

    scope = serializers.ChoiceField(
        choices=[
            (statistics.SCOPE_AGENCY, _("Your agency, over what it may see")),
            (statistics.SCOPE_CONTRIBUTORS, _("The agencies that contribute, pooled")),
        ],
        default=statistics.SCOPE_AGENCY,
        help_text=_(
            "`agency` (default): your agency's figures, over what it may see. `contributors`: "
            "the figures pooled across the agencies that agreed to contribute (withheld while "
            "fewer than three do)."
        ),
    )
    since = serializers.DateField(
        required=False, help_text=_("First day of the period (UTC), included. Default: open.")
    )
    until = serializers.DateField(
        required=False, help_text=_("Last day of the period (UTC), included. Default: open.")
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        since, until = attrs.get("since"), attrs.get("until")
        if since is not None and until is not None and since > until:
            raise serializers.ValidationError(
                {"until": [_("The end of the period is before its start.")]}
            )
        return attrs


class CrimeTypeCountSerializer(serializers.Serializer):
    crime_type = serializers.ChoiceField(CrimeType.choices)
    count = CountField()


class CountryCountSerializer(serializers.Serializer):
    country = serializers.CharField(
        help_text=_("The lead agency's country (ISO 3166-1 alpha-2, or INT).")
    )
    count = CountField()


class CrimeTypeCountryCountSerializer(serializers.Serializer):
    crime_type = serializers.ChoiceField(CrimeType.choices)
    country = serializers.CharField()
    count = CountField()


class CaseFiguresSerializer(serializers.Serializer):
    total = CountField(help_text=_("Cases opened in the period."))
    by_crime_type = CrimeTypeCountSerializer(
        many=True, help_text=_("A case with several crime types counts in each.")
    )
    by_country = CountryCountSerializer(many=True)
    by_crime_type_and_country = CrimeTypeCountryCountSerializer(many=True)


class StateCountSerializer(serializers.Serializer):
    state = serializers.ChoiceField(MLAStatus.choices)
    count = CountField()


class MedianSerializer(serializers.Serializer):
    days = serializers.FloatField(
        allow_null=True, help_text=_("Median in days; null when there is none or it is withheld.")
    )
    suppressed = serializers.BooleanField(
        help_text=_("Withheld: fewer than five requests make it.")
    )


class RequestFiguresSerializer(serializers.Serializer):
    total = CountField(help_text=_("Requests sent in the period (a draft: created in it)."))
    by_state = StateCountSerializer(many=True, help_text=_("By their state now."))
    median_days_to_decision = MedianSerializer(
        help_text=_("From receipt to acceptance (execution started) or refusal.")
    )
    median_days_to_execution = MedianSerializer(
        help_text=_("From acceptance to execution, in full or in part.")
    )


class AssetFiguresSerializer(serializers.Serializer):
    state = serializers.ChoiceField(AssetState.choices)
    currency = serializers.CharField()
    count = CountField(help_text=_("Assets that reached the state in the period."))
    total_value = serializers.DecimalField(
        max_digits=None,
        decimal_places=None,
        coerce_to_string=True,
        allow_null=True,
        help_text=_(
            "Sum of their values, as a decimal string; null when fewer than five assets make "
            "it or one of them makes more than 85 per cent of it."
        ),
    )


class NationalityCountSerializer(serializers.Serializer):
    nationality = serializers.CharField(help_text=_("ISO 3166-1 alpha-2; empty: not recorded."))
    count = CountField()


class VictimFiguresSerializer(serializers.Serializer):
    identified = CountField(help_text=_("Victims recorded in the period: counted, never named."))
    by_nationality = NationalityCountSerializer(many=True)
    repatriated = serializers.IntegerField(
        allow_null=True, help_text=_("Always null: Casebridge does not record repatriation.")
    )
    repatriation_recorded = serializers.BooleanField()


@extend_schema_serializer(many=False)
class StatisticsSerializer(serializers.Serializer):
    scope = serializers.CharField()
    agency = serializers.CharField(help_text=_("Your agency's code."))
    since = serializers.DateField(allow_null=True)
    until = serializers.DateField(allow_null=True)
    contributors = serializers.ListField(
        child=serializers.CharField(),
        help_text=_("The agencies whose figures are pooled (scope `contributors`)."),
    )
    withheld = serializers.BooleanField(
        help_text=_("True when fewer than three agencies contribute: no pooled figure is given.")
    )
    cases = CaseFiguresSerializer(allow_null=True)
    mla_requests = RequestFiguresSerializer(allow_null=True)
    assets = AssetFiguresSerializer(many=True, allow_null=True)
    victims = VictimFiguresSerializer(allow_null=True)
    linking_identifiers = CountField(
        allow_null=True,
        help_text=_(
            "Distinct identifiers recorded by two agencies or more, as of the end of the "
            "period, where deconfliction would report the match."
        ),
    )


class StatisticsViewSet(GatedViewSet[Case]):
    """Statistics for coordinators: cases by crime type and country, MLA requests and their
    delays, assets frozen, seized and returned, victims identified, identifiers linking cases
    of different agencies. Counts below five are shown as "<5"."""

    # The figures read the gate through `cases.statistics`.
    selector = "visible_cases"
    serializer_class = StatisticsSerializer
    pagination_class = None
    action_query_params = {"list": ("scope", "since", "until")}

    @extend_schema(
        summary="Statistics for coordinators (your agency, or the contributing agencies pooled)",
        description=(
            "Aggregates only: no row, name or identifier. Coordinators only (403 otherwise). "
            'Counts from 1 to 4 are shown as "<5", and so is a second count wherever one '
            "could be worked out from a total. Sums and medians made of fewer than five items "
            "are null."
        ),
        parameters=[StatisticsQuerySerializer],
        responses=StatisticsSerializer,
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = StatisticsQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        figures = statistics.statistics(
            request.user,
            scope=params.validated_data["scope"],
            since=params.validated_data.get("since"),
            until=params.validated_data.get("until"),
        )
        return Response(StatisticsSerializer(figures).data)
