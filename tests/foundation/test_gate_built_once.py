"""The gate's selectors are built once per agency and thread (`access._per_agency`).

What is kept is structure only: every grant, participation, expiry and the
permission itself are read by each request's SQL, so a selector built before
a change answers as one built after it.
"""

import datetime as dt
import threading
from unittest import mock

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from cases import access, services
from cases.choices import AccessLevel
from cases.models import CaseGroupObjectPermission, CaseParticipation
from tests.factories import make_case

pytestmark = pytest.mark.django_db

SELECTORS = (
    access.visible_cases,
    access.visible_cases_in_list_order,
    access.visible_participations,
    access.visible_tasks,
    access.visible_notes,
)


def _case_ids(selector, user) -> set[int]:
    queryset = selector(user)
    if queryset.model.__name__ == "Case":
        return set(queryset.values_list("pk", flat=True))
    return set(queryset.values_list("case_id", flat=True))


def _warm(user) -> None:
    for selector in SELECTORS:
        list(selector(user))


def test_an_expiry_hides_the_case_from_selectors_built_before_it(
    case, knp_coordinator, ccos, kh_investigator
):
    services.share_case(
        actor=knp_coordinator,
        case=case,
        agency=ccos,
        level=AccessLevel.CONTRIBUTE,
        expires_at=timezone.now() + dt.timedelta(hours=1),
    )
    services.create_task(actor=knp_coordinator, case=case, title="Trace", assigned_agency=ccos)
    services.add_note(actor=knp_coordinator, case=case, body="Statements collected.")
    _warm(kh_investigator)
    for selector in SELECTORS:
        assert case.pk in _case_ids(selector, kh_investigator), selector.__name__

    later = timezone.now() + dt.timedelta(hours=2)
    with mock.patch("django.utils.timezone.now", return_value=later):
        for selector in SELECTORS:
            assert case.pk not in _case_ids(selector, kh_investigator), selector.__name__


def test_a_revocation_hides_the_case_from_selectors_built_before_it(
    shared_case, task, note, knp_coordinator, ccos, kh_investigator
):
    _warm(kh_investigator)
    participation = CaseParticipation.objects.get(case=shared_case, agency=ccos)
    services.revoke_case(actor=knp_coordinator, participation=participation)
    for selector in SELECTORS:
        assert shared_case.pk not in _case_ids(selector, kh_investigator), selector.__name__


def test_a_rebuilt_permission_table_is_followed_by_selectors_built_before_it(
    shared_case, ccos, kh_investigator
):
    """Nothing keeps a permission's id: a worker outliving a rebuilt permission
    table (as a test database's is) must not silently see nothing."""
    _warm(kh_investigator)
    old = Permission.objects.get(codename="view_case", content_type__app_label="cases")
    content_type, name = old.content_type, old.name
    old.delete()  # its grants go with it
    new = Permission.objects.create(codename="view_case", content_type=content_type, name=name)
    assert new.pk != old.pk
    assert shared_case.pk not in _case_ids(access.visible_cases, kh_investigator)
    CaseGroupObjectPermission.objects.create(
        group_id=ccos.group_id, permission=new, content_object=shared_case
    )
    for selector in (access.visible_cases, access.visible_cases_in_list_order):
        assert shared_case.pk in _case_ids(selector, kh_investigator), selector.__name__


def test_each_agency_gets_its_own_selectors(shared_case, kh_investigator, outsider):
    _warm(kh_investigator)
    for selector in SELECTORS:
        assert _case_ids(selector, outsider) == set(), selector.__name__
    assert shared_case.pk in _case_ids(access.visible_cases, kh_investigator)


def test_a_selector_hands_out_a_new_unevaluated_queryset_each_time(
    case, knp_coordinator, knp_viewer
):
    first = access.visible_cases(knp_viewer)
    assert list(first) == [case]
    later_case = make_case(knp_coordinator)
    second = access.visible_cases(knp_viewer)
    assert second is not first
    assert second._result_cache is None
    assert set(second) == {case, later_case}


def test_a_selector_built_in_one_thread_is_not_handed_to_another(case, knp_viewer):
    mine = access.visible_cases(knp_viewer)
    theirs = []
    thread = threading.Thread(target=lambda: theirs.append(access.visible_cases(knp_viewer).query))
    thread.start()
    thread.join()
    # Clones share their built parent's where-tree leaves; another thread's do not.
    assert mine.query.where.children[0] is not theirs[0].where.children[0]


def test_built_selectors_are_bounded_per_thread(case, knp_viewer, settings, monkeypatch):
    monkeypatch.setattr(access, "_MAX_BUILT_PER_THREAD", 2)
    access._built.querysets = None
    for selector in SELECTORS:
        assert selector(knp_viewer) is not None
    assert len(access._built.querysets) == 2
    assert list(access.visible_cases(knp_viewer)) == [case]
