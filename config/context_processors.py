"""Template context shared by every page."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def languages(request: HttpRequest) -> dict:
    """The interface languages, each under its own name and never translated
    (Django's `get_available_languages` would translate "English" to "영어"),
    so a reader stuck in a language they cannot read still finds theirs."""
    return {"cb_languages": settings.LANGUAGES}
