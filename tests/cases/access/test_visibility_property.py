"""Property: every path of the gate is exactly what the sharing history implies.

Hypothesis generates a few cases led by a few agencies and a sequence of
share / change_access / revoke / propose-then-accept-or-decline / hand-over /
time passing / expiry-job runs.
After every step, for a user of every agency, the selector, the list's
shape, the detail check (`is_visible`, `agency_level`), the bulk check
(`require_many`) and the notification audiences (`agencies_that_see`,
`users_who_see`) must all equal the set computed by a deliberately simple
model: an agency sees a case while it
holds a participation that is neither revoked nor past its expiry, whether
or not the expiry job has run yet.

Time is virtual: `django.utils.timezone.now` is replaced by a clock the
steps move forward, so expiry is tested without sleeping. Each example runs
inside a savepoint that is rolled back, so examples share the per-test
agencies but never each other's cases.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cases import access, proposals, services
from cases.choices import ACCESS_LEVEL_ORDER, AccessLevel
from cases.models import Case, CaseParticipation
from gate.errors import DomainError, NotFound
from gate.roles import Role
from tests.factories import make_agency, make_user

N_AGENCIES = 4
N_CASES = 3

levels = st.sampled_from([str(lvl) for lvl in ACCESS_LEVEL_ORDER])
agency_ix = st.integers(0, N_AGENCIES - 1)
# Steps name their agency by its distance from the case's current lead:
# 1..N-1 is another agency, 0 the lead itself (which must be refused), so
# the generator spends its effort on steps that change something.
other = st.integers(1, N_AGENCIES - 1)
any_offset = st.integers(0, N_AGENCIES - 1)
case_ix = st.integers(0, N_CASES - 1)
# None: no expiry; otherwise minutes from the current virtual time. Expiries
# and clock steps come in the same 10-minute ticks so that sequences often
# cross an expiry before the job runs, the case the gate must get right alone.
expiry = st.one_of(st.none(), st.integers(1, 3).map(lambda ticks: ticks * 10))

operations = st.one_of(
    st.tuples(st.just("share"), case_ix, other, levels, expiry, st.booleans()),
    st.tuples(st.just("share"), case_ix, any_offset, levels, expiry, st.booleans()),
    st.tuples(st.just("change_access"), case_ix, any_offset, levels, expiry),
    st.tuples(st.just("revoke"), case_ix, any_offset),
    st.tuples(st.just("propose"), case_ix, any_offset, levels, expiry, st.booleans()),
    st.tuples(st.just("hand_over"), case_ix, any_offset, st.one_of(st.none(), levels)),
    st.tuples(st.just("advance"), st.integers(1, 3).map(lambda ticks: ticks * 10)),
    st.tuples(st.just("expire_job")),
)


@dataclass
class ModelCase:
    """What the history says: the lead and each agency's (level, expires_at)."""

    lead: int
    grants: dict[int, tuple[str, dt.datetime | None]] = field(default_factory=dict)

    def holds(self, agency: int, now: dt.datetime) -> str | None:
        if agency not in self.grants:
            return None
        level, expires_at = self.grants[agency]
        return level if expires_at is None or expires_at > now else None


class Clock:
    def __init__(self) -> None:
        self.now = timezone.now()

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def agencies(db):
    made = []
    for i in range(N_AGENCIES):
        agency = make_agency(f"PB-{i}")
        made.append((agency, make_user(agency, Role.COORDINATOR)))
    return made


def _open_participation(case, agency):
    return CaseParticipation.objects.filter(
        case=case, agency=agency, revoked_at__isnull=True
    ).first()


def _check(agencies, cases, model, now):
    # Shown by --hypothesis-show-statistics: how often an example reaches a
    # participation that has expired but was not swept by the job.
    for m in model:
        for _level, exp in m.grants.values():
            if exp is not None and exp <= now:
                event("expired-unswept")
    all_cases = Case.objects.filter(pk__in=[case.pk for case in cases])
    for ix, (agency, user) in enumerate(agencies):
        expected = {cases[c].pk for c, m in enumerate(model) if m.holds(ix, now)}
        where = f"agency {ix} at {now}"
        assert set(access.visible_cases(user).values_list("pk", flat=True)) == expected, where
        listed = access.visible_cases_in_list_order(user)
        assert set(listed.values_list("pk", flat=True)) == expected, where
        for c, m in enumerate(model):
            held = m.holds(ix, now)
            assert access.agency_level(agency, cases[c]) == held, where
            assert access.is_visible(user, cases[c]) == (held is not None), where
        # The bulk path: all visible cases at once, and their levels.
        try:
            read = access.require_many(
                user, "view", all_cases.filter(pk__in=expected), count=len(expected)
            )
        except NotFound:
            raise AssertionError(f"require_many refused visible cases: {where}") from None
        levels = {case.pk: case.cb_gate_level for case in read}
        assert levels == {
            cases[c].pk: m.holds(ix, now) for c, m in enumerate(model) if m.holds(ix, now)
        }
    # The audience path: which agencies see each case, asked for all at once.
    everyone = [agency for agency, _user in agencies]
    for c, m in enumerate(model):
        seers = {everyone[ix].pk for ix in range(len(everyone)) if m.holds(ix, now)}
        assert access.agencies_that_see(everyone, cases[c]) == seers, f"case {c} at {now}"
        users = [user for _agency, user in agencies]
        seeing_users = {user.pk for agency, user in agencies if agency.pk in seers}
        assert access.users_who_see(users, cases[c]) == seeing_users, f"case {c} at {now}"


def _apply(op, agencies, cases, model, clock) -> None:
    """Run one step on the services and on the model.

    The model also predicts whether the services must refuse the step; a
    refusal must be a DomainError and change nothing the check can see.
    """
    kind = op[0]
    now = clock.now
    if kind == "advance":
        clock.now = now + dt.timedelta(minutes=op[1])
        return
    if kind == "expire_job":
        services.expire_participations(now=now)
        for m in model:
            m.grants = {a: g for a, g in m.grants.items() if m.holds(a, now)}
        return
    c, m = op[1], model[op[1]]
    a = (m.lead + op[2]) % len(agencies)
    case = cases[c]
    case.refresh_from_db()
    lead_user = agencies[m.lead][1]
    agency = agencies[a][0]
    if kind == "share":
        _, _, _, level, minutes, confidential = op
        expires_at = now + dt.timedelta(minutes=minutes) if minutes else None
        valid = a != m.lead and m.holds(a, now) is None
        try:
            services.share_case(
                actor=lead_user,
                case=case,
                agency=agency,
                level=level,
                expires_at=expires_at,
                confidential=confidential,
            )
        except DomainError:
            assert not valid, op
            return
        assert valid, op
        m.grants[a] = (level, expires_at)
    elif kind == "change_access":
        _, _, _, level, minutes = op
        participation = _open_participation(case, agency)
        if participation is None:
            return
        expires_at = now + dt.timedelta(minutes=minutes) if minutes else None
        valid = a != m.lead and m.holds(a, now) is not None
        try:
            services.change_access(
                actor=lead_user, participation=participation, level=level, expires_at=expires_at
            )
        except DomainError:
            assert not valid, op
            return
        assert valid, op
        m.grants[a] = (level, expires_at)
    elif kind == "revoke":
        participation = _open_participation(case, agency)
        if participation is None:
            return
        valid = a != m.lead
        try:
            services.revoke_case(actor=lead_user, participation=participation)
        except DomainError:
            assert not valid, op
            return
        assert valid, op
        m.grants.pop(a, None)
    elif kind == "propose":
        # A co-manager proposes, the lead accepts or declines: the same
        # history as a share by the lead, or as nothing.
        _, _, _, level, minutes, accept = op
        managers = [
            ix for ix in m.grants if ix != m.lead and m.holds(ix, now) == AccessLevel.MANAGE
        ]
        if not managers:
            return
        expires_at = now + dt.timedelta(minutes=minutes) if minutes else None
        try:
            proposal = proposals.propose_share(
                actor=agencies[managers[0]][1],
                case=case,
                agency=agency,
                level=level,
                reason="Joint investigation",
                expires_at=expires_at,
            )
        except DomainError:
            assert a in (m.lead, managers[0]) or m.holds(a, now) is not None, op
            return
        assert a != m.lead, op
        if not accept:
            proposals.decline_proposal(actor=lead_user, proposal=proposal)
            return
        proposals.accept_proposal(actor=lead_user, proposal=proposal)
        if m.holds(a, now) is None:
            m.grants[a] = (level, expires_at)
    elif kind == "hand_over":
        keep = op[3]
        valid = a != m.lead
        try:
            services.hand_over_case(actor=lead_user, case=case, new_lead=agency, keep_level=keep)
        except DomainError:
            assert not valid, op
            return
        assert valid, op
        m.grants[a] = ("manage", None)
        if keep is None:
            m.grants.pop(m.lead)
        else:
            m.grants[m.lead] = (keep, None)
        m.lead = a
    else:
        raise AssertionError(op)


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    leads=st.lists(agency_ix, min_size=N_CASES, max_size=N_CASES),
    ops=st.lists(operations, min_size=3, max_size=20),
)
def test_visible_cases_matches_the_participation_history(agencies, leads, ops):
    clock = Clock()
    with mock.patch("django.utils.timezone.now", clock), transaction.atomic():
        try:
            cases = [
                services.create_case(actor=agencies[lead][1], title=f"Case {i}")
                for i, lead in enumerate(leads)
            ]
            model = [ModelCase(lead=lead, grants={lead: ("manage", None)}) for lead in leads]
            _check(agencies, cases, model, clock.now)
            for op in ops:
                _apply(op, agencies, cases, model, clock)
                _check(agencies, cases, model, clock.now)
        finally:
            transaction.set_rollback(True)
