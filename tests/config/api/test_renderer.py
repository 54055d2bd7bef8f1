"""The orjson renderer writes what DRF's JSONRenderer writes."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer

from config.api.renderers import ORJSONRenderer

pytestmark = pytest.mark.usefixtures("_no_sync_margin")

SAMPLE = {
    "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "when": dt.datetime(2026, 11, 23, 14, 5, 6, 789123, tzinfo=dt.UTC),
    "day": dt.date(2026, 11, 23),
    "amount": decimal.Decimal("12.50"),
    "label": gettext_lazy("Cases"),
    "text": "Khmer ករណី, Korean 사건, separators \u2028 \u2029",
    "nested": [{"n": 1, "ok": True, "none": None}],
    7: "non-string key",
}


def test_orjson_output_equals_drf_json_output():
    assert ORJSONRenderer().render(SAMPLE) == JSONRenderer().render(SAMPLE)


def test_an_unknown_type_is_an_error_not_a_silent_null():
    with pytest.raises(TypeError):
        ORJSONRenderer().render({"x": object()})


def test_an_indent_request_is_pretty_printed_as_drf_does():
    media_type = "application/json; indent=2"
    assert ORJSONRenderer().render(SAMPLE, media_type) == JSONRenderer().render(SAMPLE, media_type)
