"""Shared helpers for the access tests: "nothing changed", row by row."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from agencies.models import Agency, Membership
from cases.models import (
    Case,
    CaseGroupObjectPermission,
    CaseParticipation,
    CaseSequence,
    Note,
    ShareProposal,
    Task,
)

SNAPSHOT_MODELS = [
    Agency,
    Group,
    get_user_model(),
    Membership,
    Case,
    CaseSequence,
    CaseParticipation,
    CaseGroupObjectPermission,
    Task,
    Note,
    ShareProposal,
]


def db_state() -> dict[str, list[tuple]]:
    """Every row of every agency/case table, so "nothing changed" is checked
    field by field, not only by counting rows."""
    state = {}
    for model in SNAPSHOT_MODELS:
        state[model._meta.label] = list(model.objects.order_by("pk").values_list())
    state["user_groups"] = list(
        get_user_model().groups.through.objects.order_by("pk").values_list()
    )
    return state


@contextlib.contextmanager
def unchanged() -> Iterator[None]:
    """Assert the database is exactly as before the block (the block must raise
    or do nothing; the caller asserts the raise with pytest.raises)."""
    before = db_state()
    yield
    after = db_state()
    for label in before:
        assert before[label] == after[label], f"{label} changed"
