"""A case's lists read for a case already through the gate (`visible_on_case`,
the workspace page) are exactly the selectors' rows of that case.

The generated world (`python -m bench.generate`, committed once for the
module) has revoked shares, shares expired but not yet swept (grants still
present), confidential participations, tasks assigned across agencies, notes
of every handling code and identifiers; evidence of several handling codes is
uploaded on some of its cases here.
"""

from __future__ import annotations

import contextlib
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.test.utils import override_settings

from cases import access, services
from cases.models import (
    Case,
    CaseParticipation,
    Document,
    Identifier,
    Note,
    Task,
    TaskLogEntry,
)
from gate.errors import DomainError
from gate.roles import Role
from tests.bench.bench_subprocess import generated_world
from tests.factories import make_document

pytestmark = pytest.mark.django_db

SELECTORS = {
    CaseParticipation: access.visible_participations,
    Task: access.visible_tasks,
    TaskLogEntry: access.visible_task_log_entries,
    Note: access.visible_notes,
    Identifier: access.visible_identifiers,
    Document: access.visible_documents,
}


@pytest.fixture(scope="module")
def generated(django_db_setup, django_db_blocker, tmp_path_factory):
    """The world, with evidence and progress committed on top. Their outbox
    messages stay unpublished: delivering each in-process, as an eager
    Celery would on every commit, takes minutes and is not what is tested."""
    with generated_world(django_db_blocker, agencies=6, cases=300, users=36):
        media = tmp_path_factory.mktemp("media")
        with (
            override_settings(MEDIA_ROOT=media),
            mock.patch("notifications.outbox.publish"),
            django_db_blocker.unblock(),
        ):
            _add_evidence_and_progress()
        yield


def _add_evidence_and_progress(limit: int = 40) -> None:
    """GREEN and RED evidence, and progress on each task, from every agency
    of some shared cases that may add them (the services refuse the others)."""
    users = get_user_model().objects.filter(membership__role=Role.COORDINATOR)
    coordinator = {u.membership.agency_id: u for u in users.select_related("membership")}
    shared = Case.objects.filter(participations__revoked_at__isnull=True).distinct()
    for case in shared.order_by("id")[:limit]:
        for participation in case.participations.filter(revoked_at__isnull=True):
            actor = coordinator.get(participation.agency_id)
            if actor is None:
                continue
            for code in ("GREEN", "RED"):
                with contextlib.suppress(DomainError):  # view-only or expired: refused
                    make_document(actor, case, handling_code=code)
            for task in case.tasks.all():
                with contextlib.suppress(DomainError):  # not a task this agency may log
                    services.log_task_progress(actor=actor, task=task, body="Done.")


def _ids(queryset) -> set[int]:
    return set(queryset.values_list("id", flat=True))


def test_lists_of_a_gated_case_equal_the_selectors_rows_of_that_case(generated):
    users = get_user_model().objects.filter(membership__role=Role.VIEWER)
    assert users.values("membership__agency").distinct().count() == 6
    assert Document.objects.values("handling_code").distinct().count() == 2
    compared = dict.fromkeys(SELECTORS, 0)
    for user in users:
        ids = list(access.visible_cases(user).order_by("id").values_list("id", flat=True)[:60])
        gated = access.require_many(user, "view", Case.objects.filter(pk__in=ids), count=len(ids))
        for case in gated:
            for model, selector in SELECTORS.items():
                expected = _ids(selector(user).filter(case=case))
                assert _ids(access.visible_on_case(user, model, case)) == expected, (
                    f"{model.__name__} of {case.reference} for {user.membership.agency.code}"
                )
                compared[model] += len(expected)
    # Every kind of row was compared, not only empty lists.
    assert all(compared.values()), compared


def test_a_case_not_read_through_the_gate_is_refused(generated):
    user = get_user_model().objects.filter(membership__role=Role.VIEWER).first()
    case = access.visible_cases(user).first()
    with pytest.raises(ValueError, match="require_many"):
        access.visible_on_case(user, Note, case)
