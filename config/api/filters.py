"""Filter building blocks shared by every endpoint's FilterSet."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters as filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend


class UtcIsoDateTimeField(IsoDateTimeField):
    """ISO 8601 with an offset, normalised to UTC before it reaches the database.

    PostgreSQL refuses offsets beyond ±15:59 and Python cannot shift dates
    near its limits: both are a clear 400 here, never a 500.
    """

    def to_python(self, value: Any) -> dt.datetime | None:
        result = super().to_python(value)
        if result is None:
            return None
        try:
            return result.astimezone(dt.UTC)
        except (OverflowError, ValueError):
            raise forms.ValidationError(_("Date and time out of range."), code="invalid") from None


class DateTimeFilter(filters.IsoDateTimeFilter):
    """Use this (not django-filter's) for every date-time filter."""

    field_class = UtcIsoDateTimeField


class MultipleChoiceFilter(filters.MultipleChoiceFilter):
    """django-filter's, without its DISTINCT: every list filters a column of
    its own rows (no join multiplies them), and a DISTINCT makes PostgreSQL
    sort an agency's whole visible set instead of reading a page from an index."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("distinct", False)
        super().__init__(*args, **kwargs)


class FilterBackend(DjangoFilterBackend):
    """django-filter, skipped when the request names none of the filters.

    Building the FilterSet and its form is a noticeable share of a list
    request and, with no filter given, filters nothing. A parameter that
    merely starts with a filter's name (range widgets' `_after`/`_min`
    suffixes) still goes through it, so every given value is validated.
    """

    def filter_queryset(self, request: Any, queryset: QuerySet, view: Any) -> QuerySet:
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return queryset
        names = tuple(filterset_class.base_filters)
        if not any(key.startswith(names) for key in request.query_params):
            return queryset
        return super().filter_queryset(request, queryset, view)
