"""An asset recorded or moved on is told to the workers of the agencies that
see it, through the outbox; never to an outsider, never with its content in
the payload."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cases import networks
from cases.choices import AssetState, HandlingCode
from config.celery import app as celery_app
from notifications.models import Notification, OutboxMessage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _eager(settings):
    """Tasks run in this process, as `make run` does without a broker."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    yield
    celery_app.conf.task_always_eager = before


def _record(actor, case, **fields):
    values = {
        "kind": "crypto",
        "description": "USDT on the compound's hot wallet Larch-Owl",
        "value": "35750",
        "currency": "USDT-TRC20",
        "state": AssetState.FROZEN,
        "state_on": timezone.localdate() - dt.timedelta(days=3),
        **fields,
    }
    return networks.record_asset(actor=actor, case=case, **values)


def texts_of(user) -> list[str]:
    return list(Notification.objects.filter(recipient=user).values_list("text", flat=True))


def test_a_recorded_asset_is_told_to_the_partners_workers(
    shared_case, knp_coordinator, kh_investigator, outsider, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        asset = _record(knp_coordinator, shared_case)
    (text,) = texts_of(kh_investigator)
    assert text == f"KR-KNP recorded an asset on case {shared_case.reference}: Frozen"
    assert texts_of(outsider) == [] and texts_of(knp_coordinator) == []
    (message,) = OutboxMessage.objects.filter(object_id=asset.public_id)
    assert "Larch-Owl" not in str(message.payload) and "35750" not in str(message.payload)


def test_a_red_asset_is_told_to_nobody_outside_its_agency(
    shared_case, knp_coordinator, kh_investigator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _record(knp_coordinator, shared_case, handling_code=HandlingCode.RED)
    assert texts_of(kh_investigator) == []


def test_an_asset_moving_on_is_told_in_its_new_state(
    shared_case, knp_coordinator, kh_investigator, ccos, django_capture_on_commit_callbacks
):
    asset = _record(knp_coordinator, shared_case, holding_agency=ccos)
    with django_capture_on_commit_callbacks(execute=True):
        networks.change_asset_state(
            actor=kh_investigator, asset=asset, state=AssetState.SEIZED, on=timezone.localdate()
        )
    assert f"An asset on case {shared_case.reference} is now Seized" in texts_of(knp_coordinator)
