"""Shared helpers of the network tests: "nothing changed", and the audit trail."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from audit.models import AuditAction, AuditEvent
from cases.models import Asset, AssetStateChange, Entity, Link, Transaction

NETWORK_MODELS = (Entity, Link, Transaction, Asset, AssetStateChange)


def network_state() -> dict[str, list[tuple]]:
    state = {m._meta.label: list(m.objects.order_by("pk").values_list()) for m in NETWORK_MODELS}
    # The API records a refused request (`permission_refused`): not a change.
    state["audit"] = list(
        AuditEvent.objects.exclude(action=AuditAction.PERMISSION_REFUSED)
        .order_by("seq")
        .values_list("seq", flat=True)
    )
    return state


@contextlib.contextmanager
def unchanged() -> Iterator[None]:
    """Assert that no network row changed and no change was audited in the block."""
    before = network_state()
    yield
    after = network_state()
    for label in before:
        assert before[label] == after[label], f"{label} changed"


def audit_of(obj) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            object_type=obj._meta.label_lower, object_id=str(obj.public_id)
        ).order_by("seq")
    )
