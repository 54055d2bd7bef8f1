"""Property: search results are exactly the matching objects the reader may see.

Hypothesis generates two cases led by two of four agencies, shares (some
confidential, some revoked), and notes and tasks of every participating
agency, each with the searched word or not, notes with every handling code.
For a user of every agency, the search's results must equal the set a
deliberately simple model computes from that history:

* an agency sees a case it leads or holds an open share of;
* it sees a note or task of a case it sees when the note's author agency or
  the task's assignee may be known to it (the lead knows everyone; everyone
  knows the lead and itself; otherwise neither it nor the other may be a
  confidential participant);
* RED and AMBER+STRICT notes stay with the agency that wrote them.

Each example runs inside a transaction that is rolled back, once with every
term read as a common one (the walk of the reader's list) and once as a rare
one (its matches read from the index first).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.db import transaction
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases import search, services
from cases.choices import AccessLevel, HandlingCode
from cases.models import CaseParticipation
from gate.roles import Role
from tests.factories import make_agency, make_user

N_AGENCIES = 4
WORD = "Kestrel"
AGENCY_ONLY = {HandlingCode.RED, HandlingCode.AMBER_STRICT}

codes = st.sampled_from([str(c) for c in HandlingCode])
shares = st.lists(
    st.tuples(st.integers(0, N_AGENCIES - 1), st.booleans(), st.booleans()),  # agency, conf, revoke
    max_size=4,
)
items = st.lists(
    st.tuples(
        st.sampled_from(["note", "task"]),
        st.integers(0, N_AGENCIES - 1),  # author / assignee: taken among participants
        codes,
        st.booleans(),  # holds the word
    ),
    max_size=6,
)


@dataclass
class ModelCase:
    lead: int
    open: dict[int, bool] = field(default_factory=dict)  # agency -> confidential
    #: Ever confidential, by the latest participation (also after it ended).
    confidential: dict[int, bool] = field(default_factory=dict)

    def sees(self, agency: int) -> bool:
        return agency == self.lead or agency in self.open

    def knows(self, reader: int, other: int) -> bool:
        if reader in (self.lead, other) or other == self.lead:
            return True
        return not self.confidential.get(reader) and not self.confidential.get(other)


@pytest.fixture
def agencies(db, settings):
    settings.SEARCH_CANDIDATES = 200
    made = []
    for i in range(N_AGENCIES):
        agency = make_agency(f"SP-{i}")
        made.append((agency, make_user(agency, Role.COORDINATOR)))
    return made


def _build(agencies, lead: int, case_shares, case_items, index: int):
    lead_user = agencies[lead][1]
    case = services.create_case(actor=lead_user, title=f"Case {index}")
    model = ModelCase(lead=lead)
    for agency_ix, confidential, revoke in case_shares:
        if agency_ix == lead or agency_ix in model.open:
            continue
        services.share_case(
            actor=lead_user,
            case=case,
            agency=agencies[agency_ix][0],
            level=AccessLevel.CONTRIBUTE,
            confidential=confidential,
        )
        model.open[agency_ix] = confidential
        model.confidential[agency_ix] = confidential
        if revoke:
            participation = CaseParticipation.objects.get(
                case=case, agency=agencies[agency_ix][0], revoked_at__isnull=True
            )
            services.revoke_case(actor=lead_user, participation=participation)
            del model.open[agency_ix]
    participants = [lead, *model.open]
    expected: dict[int, set] = {}
    for n, (kind, who, code, holds_word) in enumerate(case_items):
        agency_ix = participants[who % len(participants)]
        text = f"{kind} {index}-{n} {WORD if holds_word else 'Heron'}"
        if kind == "note":
            obj = services.add_note(
                actor=agencies[agency_ix][1], case=case, body=text, handling_code=code
            )
        else:
            obj = services.create_task(
                actor=lead_user, case=case, title=text, assigned_agency=agencies[agency_ix][0]
            )
        if not holds_word:
            continue
        for reader in range(N_AGENCIES):
            if not model.sees(reader) or not model.knows(reader, agency_ix):
                continue
            if kind == "note" and code in AGENCY_ONLY and reader != agency_ix:
                continue
            expected.setdefault(reader, set()).add((kind, obj.public_id))
    return expected


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    leads=st.tuples(st.integers(0, N_AGENCIES - 1), st.integers(0, N_AGENCIES - 1)),
    case_shares=st.tuples(shares, shares),
    case_items=st.tuples(items, items),
)
@pytest.mark.parametrize("rare_limit", [0, 5000], ids=["walked", "read-from-index"])
def test_search_finds_exactly_what_the_history_lets_each_reader_see(
    agencies, leads, case_shares, case_items, rare_limit
):
    with transaction.atomic(), override_settings(SEARCH_RARE_MATCHES=rare_limit):
        try:
            expected: dict[int, set] = {}
            for index in range(2):
                built = _build(agencies, leads[index], case_shares[index], case_items[index], index)
                for reader, found in built.items():
                    expected.setdefault(reader, set()).update(found)
            for reader, (_agency, user) in enumerate(agencies):
                hits = search.search(user, WORD.lower(), kinds=["note", "task"], limit=50).hits
                assert {(h.kind, h.public_id) for h in hits} == expected.get(reader, set()), (
                    f"agency {reader}"
                )
        finally:
            transaction.set_rollback(True)
