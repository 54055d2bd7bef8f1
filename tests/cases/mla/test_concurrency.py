"""Concurrent transitions on one request, with two real threads on
PostgreSQL: the row lock lets exactly one win; the other gets Conflict, and
history has one row."""

import threading

import pytest
from django.db import connection, transaction

from cases import mla
from cases.choices import MLAStatus
from cases.models import MLARequest, MLAStatusChange
from gate.errors import Conflict

pytestmark = pytest.mark.django_db(transaction=True)


def _run_in_thread(target, results, key):
    def body():
        try:
            results[key] = target()
        except Exception as exc:
            results[key] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=body)
    thread.start()
    return thread


def test_two_simultaneous_acknowledgements_one_wins(in_state, moj_coordinator):
    submitted = in_state(MLAStatus.SUBMITTED)
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def acknowledge():
        request = MLARequest.objects.get(pk=submitted.pk)
        barrier.wait()
        return mla.acknowledge_mla_request(actor=moj_coordinator, request=request)

    threads = [_run_in_thread(acknowledge, results, k) for k in ("a", "b")]
    for thread in threads:
        thread.join(timeout=30)

    outcomes = sorted(type(r).__name__ for r in results.values())
    assert outcomes == ["Conflict", "MLARequest"]
    assert MLAStatusChange.objects.filter(request=submitted, event="acknowledge").count() == 1
    row = MLARequest.objects.get(pk=submitted.pk)
    assert (row.status, row.version) == (MLAStatus.ACKNOWLEDGED, submitted.version + 1)


def test_loser_waits_for_the_lock_and_sees_the_winners_state(
    in_state, moj_coordinator, knp_coordinator
):
    """Deterministic interleaving: B passes the gate while A holds the row
    lock with its change uncommitted; after A commits, B must see the new
    state and be refused, not overwrite it."""
    acknowledged = in_state(MLAStatus.ACKNOWLEDGED)
    a_changed = threading.Event()
    b_started = threading.Event()
    results: dict[str, object] = {}

    def a_refuses():
        with transaction.atomic():
            request = MLARequest.objects.get(pk=acknowledged.pk)
            done = mla.refuse_mla_request(
                actor=moj_coordinator, request=request, grounds="Dual criminality not met."
            )
            a_changed.set()
            b_started.wait(timeout=10)
            # Give B time to reach the row lock while A still holds it.
            threading.Event().wait(0.5)
        return done

    def b_withdraws():
        a_changed.wait(timeout=10)
        request = MLARequest.objects.get(pk=acknowledged.pk)
        assert request.status == MLAStatus.ACKNOWLEDGED  # A's change is not visible yet
        b_started.set()
        return mla.withdraw_mla_request(actor=knp_coordinator, request=request)

    threads = [
        _run_in_thread(a_refuses, results, "a"),
        _run_in_thread(b_withdraws, results, "b"),
    ]
    for thread in threads:
        thread.join(timeout=30)

    assert isinstance(results["a"], MLARequest)
    assert isinstance(results["b"], Conflict)
    row = MLARequest.objects.get(pk=acknowledged.pk)
    assert row.status == MLAStatus.REFUSED
    history = MLAStatusChange.objects.filter(request=acknowledged).exclude(
        event__in=["submit", "acknowledge"]
    )
    assert [h.event for h in history] == ["refuse"]
