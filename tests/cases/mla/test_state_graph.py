"""The whole transition graph, generated from `cases.mla.TRANSITIONS`.

Every (state, verb, actor) combination is tried: the allowed ones succeed
and write one history row; every other one is refused with the error the
gate and the table predict, and changes nothing.
"""

import pytest

from cases import mla
from cases.choices import MLAStatus
from cases.models import MLARequest, MLARequestGroupObjectPermission, MLAStatusChange
from gate.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gate.roles import Role

from .helpers import path_to, reachable_states

# actor fixture -> (side, role); side None: a non-party agency.
ACTORS = {
    "knp_coordinator": ("requesting", Role.COORDINATOR),
    "knp_investigator": ("requesting", Role.INVESTIGATOR),
    "moj_coordinator": ("requested", Role.COORDINATOR),
    "moj_investigator": ("requested", Role.INVESTIGATOR),
    "outsider": (None, Role.COORDINATOR),
}
STATES = reachable_states()
VERBS = list(mla.TRANSITIONS)


def expected_outcome(state: str, verb: str, actor: str):
    """None if the transition must succeed, else the error class it must raise."""
    side, role = ACTORS[actor]
    transition = mla.TRANSITIONS[verb]
    # The requested side is granted the request at submission: on the path
    # the walk takes to `state` without a submission (a draft, a withdrawn
    # draft) it does not exist for them.
    never_sent = "submit" not in path_to(state)
    if side is None or (side == "requested" and never_sent):
        return NotFound
    if side != transition.side or role != Role.COORDINATOR:
        return PermissionDenied
    if state not in transition.sources:
        return Conflict
    return None


ALLOWED = [
    (s, v, a) for s in STATES for v in VERBS for a in ACTORS if expected_outcome(s, v, a) is None
]
REFUSED = [
    (s, v, a)
    for s in STATES
    for v in VERBS
    for a in ACTORS
    if expected_outcome(s, v, a) is not None
]


def snapshot(request: MLARequest):
    row = MLARequest.objects.get(pk=request.pk)
    return (
        row.status,
        row.version,
        row.updated_at,
        row.received_at,
        row.accepted_at,
        MLAStatusChange.objects.filter(request=request).count(),
        MLARequestGroupObjectPermission.objects.filter(content_object=request).count(),
    )


def test_every_state_is_reachable_from_draft():
    assert set(STATES) == set(MLAStatus.values)


def test_the_graph_has_both_allowed_and_refused_moves():
    assert len(ALLOWED) == sum(len(t.sources) for t in mla.TRANSITIONS.values())
    assert len(REFUSED) > len(ALLOWED)


@pytest.mark.parametrize(("state", "verb", "actor"), ALLOWED)
def test_allowed_transition_by_the_right_side_succeeds(request, in_state, state, verb, actor):
    mla_request = in_state(state)
    user = request.getfixturevalue(actor)
    before = snapshot(mla_request)

    after = mla.transition_mla_request(
        actor=user, request=mla_request, verb=verb, comment="Stated for the record."
    )

    target = mla.TRANSITIONS[verb].target
    assert MLARequest.objects.get(pk=mla_request.pk).status == target
    assert after.version == before[1] + 1
    last = MLAStatusChange.objects.filter(request=mla_request).latest("id")
    assert (last.event, last.from_status, last.to_status) == (verb, state, target)
    assert last.actor == user
    assert last.agency == user.membership.agency
    assert MLAStatusChange.objects.filter(request=mla_request).count() == before[5] + 1


@pytest.mark.parametrize(("state", "verb", "actor"), REFUSED)
def test_any_other_combination_is_refused_and_changes_nothing(
    request, in_state, state, verb, actor
):
    mla_request = in_state(state)
    user = request.getfixturevalue(actor)
    before = snapshot(mla_request)

    with pytest.raises(expected_outcome(state, verb, actor)):
        mla.transition_mla_request(
            actor=user, request=mla_request, verb=verb, comment="Stated for the record."
        )

    assert snapshot(mla_request) == before


@pytest.mark.parametrize("verb", [v for v, t in mla.TRANSITIONS.items() if t.requires is not None])
def test_transition_needing_a_text_is_refused_without_it(request, in_state, verb):
    transition = mla.TRANSITIONS[verb]
    mla_request = in_state(transition.sources[0])
    side_actor = "knp_coordinator" if transition.side == "requesting" else "moj_coordinator"
    before = snapshot(mla_request)

    with pytest.raises(ValidationFailed) as exc:
        mla.transition_mla_request(
            actor=request.getfixturevalue(side_actor), request=mla_request, verb=verb, comment="  "
        )

    assert "comment" in exc.value.errors
    assert snapshot(mla_request) == before


def test_unknown_verb_is_a_validation_error(in_state, knp_coordinator):
    mla_request = in_state(MLAStatus.SUBMITTED)
    before = snapshot(mla_request)

    with pytest.raises(ValidationFailed):
        mla.transition_mla_request(actor=knp_coordinator, request=mla_request, verb="approve")

    assert snapshot(mla_request) == before


def test_unknown_verb_on_an_invisible_request_is_not_found(in_state, outsider):
    mla_request = in_state(MLAStatus.SUBMITTED)

    with pytest.raises(NotFound):
        mla.transition_mla_request(actor=outsider, request=mla_request, verb="approve")


def test_allowed_verbs_lists_exactly_the_table_moves_for_the_user(
    in_state, knp_coordinator, moj_coordinator, moj_investigator
):
    mla_request = in_state(MLAStatus.ACKNOWLEDGED)

    assert set(mla.allowed_verbs(moj_coordinator, mla_request)) == {
        "request-more-info",
        "start-execution",
        "refuse",
    }
    assert mla.allowed_verbs(knp_coordinator, mla_request) == ["withdraw"]
    assert mla.allowed_verbs(moj_investigator, mla_request) == []
