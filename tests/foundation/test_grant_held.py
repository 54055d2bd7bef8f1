"""`access.GrantHeld`, the grant check written as SQL, answers as guardian does.

Guardian's own `get_objects_for_group` is the reference: the gate's SQL is
hand-written for speed, so it is held to the library's answer for every level,
alone and nested in another query (where Django renames the case's alias).
"""

import pytest
from guardian.shortcuts import get_objects_for_group

from cases import access, services
from cases.choices import ACCESS_LEVEL_ORDER, AccessLevel
from cases.models import Case, CaseGroupObjectPermission, Task
from tests.factories import make_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases_at_each_level(knp_coordinator, ccos):
    """One case shared with KH-CCOS at each level, and one not shared."""
    shared = {}
    for level in ACCESS_LEVEL_ORDER:
        case = make_case(knp_coordinator, title=f"Shared at {level}")
        services.share_case(actor=knp_coordinator, case=case, agency=ccos, level=level)
        shared[level] = case
    make_case(knp_coordinator, title="Not shared")
    return shared


def _guardian(ccos, level: str) -> set[int]:
    found = get_objects_for_group(ccos.group, f"cases.{level}_case", klass=Case)
    return set(found.values_list("pk", flat=True))


@pytest.mark.parametrize("level", ACCESS_LEVEL_ORDER)
def test_grant_held_selects_the_cases_guardian_grants_at_each_level(
    cases_at_each_level, ccos, level
):
    held = set(
        Case.objects.filter(access.GrantHeld(ccos.group_id, level)).values_list("pk", flat=True)
    )

    assert held == _guardian(ccos, level)
    assert held  # the fixture grants every level on at least one case


def test_grant_held_nested_in_another_query_reads_the_inner_case(
    cases_at_each_level, ccos, knp, knp_coordinator
):
    for case in Case.objects.all():
        services.create_task(
            actor=knp_coordinator, case=case, title="Trace wallets", assigned_agency=knp
        )
    inner = Case.objects.filter(access.GrantHeld(ccos.group_id, AccessLevel.MANAGE))

    task_cases = set(Task.objects.filter(case__in=inner).values_list("case_id", flat=True))

    assert task_cases == _guardian(ccos, AccessLevel.MANAGE)
    assert len(task_cases) == 1


def test_grant_held_sees_a_revoked_grant_gone(cases_at_each_level, ccos):
    case = cases_at_each_level[AccessLevel.VIEW]
    CaseGroupObjectPermission.objects.filter(content_object=case, group=ccos.group).delete()

    held = Case.objects.filter(access.GrantHeld(ccos.group_id, AccessLevel.VIEW))

    assert case not in held
