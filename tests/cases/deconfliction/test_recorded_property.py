"""Property: a trace's borders answer as a search does.

`answer_recorded` (the borders of a money trace) asks agency by agency who
holds a value; a search (`_match`) reads every holder. Hypothesis records
phone numbers from a small pool on six cases: KR-KNP's case shared with
KH-CCOS (contribute) and TH-CCIB (view), KH-CCOS's case shared with KR-KNP
(view), KH-CCOS's own, and three cases kept out of deconfliction (KH-CCOS's,
TH-CCIB's, and KR-KNP's shared with KH-CCOS), each identifier with a random
handling code. For each reader,
both are asked about every value of the pool: the agencies named, what is
said of each, and which agencies are told of which identifier must be the
same.
"""

from __future__ import annotations

import pytest
from django.core import signing
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cases import deconfliction, services
from cases.choices import AccessLevel, HandlingCode
from cases.deconfliction import add_identifier
from cases.identifiers import keyed_hash
from gate.errors import Conflict
from gate.roles import Role
from notifications.models import OutboxMessage
from tests.factories import make_agency, make_case, make_user

pytestmark = pytest.mark.django_db

PHONES = [f"+8210{n:08d}" for n in range(4)]
#: The agencies that may record on each case (indexes into the readers).
RECORDERS = ((0, 1), (1,), (1,), (1,), (2,), (0, 1))
codes = st.sampled_from(
    [HandlingCode.GREEN, HandlingCode.AMBER, HandlingCode.RED, HandlingCode.AMBER_STRICT]
)
identifiers = st.lists(
    st.tuples(st.integers(0, 5), st.integers(0, 3), st.integers(0, 1), codes),
    min_size=3,
    max_size=14,
)


@pytest.fixture
def world(db, settings):
    settings.DECONFLICTION_SEARCH_RATE_LIMIT = 10**6
    named = (("KR-KNP", "KR"), ("KH-CCOS", "KH"), ("TH-CCIB", "TH"))
    agencies = [make_agency(code, country=country) for code, country in named]
    readers = [make_user(agency, Role.INVESTIGATOR) for agency in agencies]
    leads = [make_user(agency, Role.COORDINATOR) for agency in agencies]
    knp = make_case(leads[0], title="KNP")
    services.share_case(actor=leads[0], case=knp, agency=agencies[1], level=AccessLevel.CONTRIBUTE)
    services.share_case(actor=leads[0], case=knp, agency=agencies[2], level=AccessLevel.VIEW)
    shared_back = make_case(leads[1], title="CCOS shared")
    services.share_case(
        actor=leads[1], case=shared_back, agency=agencies[0], level=AccessLevel.VIEW
    )
    own = make_case(leads[1], title="CCOS own")
    kept = make_case(leads[1], title="CCOS kept")
    th_kept = make_case(leads[2], title="TH kept")
    # Led by KR-KNP, recorded on by KH-CCOS too: whoever records, the lead is told.
    knp_kept = make_case(leads[0], title="KNP kept")
    services.share_case(
        actor=leads[0], case=knp_kept, agency=agencies[1], level=AccessLevel.CONTRIBUTE
    )
    for lead, case in ((leads[1], kept), (leads[2], th_kept), (leads[0], knp_kept)):
        services.update_case(actor=lead, case=case, discoverable=False)
    return readers, [knp, shared_back, own, kept, th_kept, knp_kept]


def _told(since: set[int]) -> set[tuple[str, str]]:
    return {
        (str(message.object_id), message.payload["ids"]["agency"])
        for message in OutboxMessage.objects.exclude(pk__in=since).filter(
            event_type="deconfliction.hit"
        )
    }


def _said(answers) -> list[list[tuple]]:
    """What each answer names, with the token's content (its signature's time differs)."""
    return [
        [
            (
                hit.agency,
                hit.agency_country,
                hit.kind,
                hit.first_recorded,
                signing.loads(hit.contact_token, salt=deconfliction.CONTACT_TOKEN_SALT),
            )
            for hit in answer.held_elsewhere
        ]
        for answer in answers
    ]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(recorded=identifiers)
def test_a_trace_answers_and_tells_as_a_search_does(world, recorded):
    readers, cases = world
    with transaction.atomic():
        for case, value, who, code in recorded:
            recorder = RECORDERS[case][who % len(RECORDERS[case])]
            try:
                add_identifier(
                    actor=readers[recorder], case=cases[case], kind="phone",
                    value=PHONES[value], handling_code=code,
                )  # fmt: skip
            except Conflict:  # already recorded on this case
                continue
        values = [("phone", keyed_hash("phone", phone)) for phone in PHONES]
        for reader in readers:
            me = reader.membership.agency
            before = set(OutboxMessage.objects.values_list("pk", flat=True))
            searched = [
                (deconfliction.SearchAnswer(index=i, kind=kind, value=""), value_hash)
                for i, (kind, value_hash) in enumerate(values)
            ]
            deconfliction._match(reader, me, searched)
            told_by_search = _told(before)

            before = set(OutboxMessage.objects.values_list("pk", flat=True))
            answered = deconfliction.answer_recorded(actor=reader, me=me, recorded=values)

            assert _said(answered) == _said([answer for answer, _h in searched]), recorded
            assert _told(before) == told_by_search, recorded
            event(f"{sum(len(a.held_elsewhere) for a in answered)} held elsewhere")
            event(f"{len(told_by_search)} told")
        transaction.set_rollback(True)
