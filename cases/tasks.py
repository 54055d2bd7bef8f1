"""Celery tasks of the case domain: thin wrappers around its services."""

from __future__ import annotations

from celery import shared_task

from . import uploads


@shared_task(name="cases.expire_uploads")
def expire_uploads() -> int:
    """Beat: delete abandoned resumable uploads and their partial files."""
    return uploads.expire_uploads()
