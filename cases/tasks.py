"""Celery tasks of the case domain: thin wrappers around its services."""

from __future__ import annotations

from celery import shared_task

from notifications.tasks import INFRA_RETRY

from . import services, uploads


@shared_task(name="cases.expire_uploads")
def expire_uploads() -> int:
    """Beat: delete abandoned resumable uploads and their partial files."""
    return uploads.expire_uploads()


@shared_task(name="cases.expire_participations", **INFRA_RETRY)
def expire_participations() -> int:
    """Beat: end the participations whose time is up."""
    return services.expire_participations()
