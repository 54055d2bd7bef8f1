"""A small network on KR-KNP's case shared with KH-CCOS (at contribute): a
victim's Korean account, a mule account, a TRON wallet, the person behind
it and the shell company, as the personas of tests/conftest.py record them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from cases import networks
from cases.choices import EntityKind, PersonRole
from cases.deconfliction import add_identifier
from tests.factories import make_case

from .trace_world import (
    BOSS_WALLET,
    CASH_OUT_WALLET,
    HIDDEN_AMOUNT,
    HIDDEN_TITLE,
    Hidden,
    Trail,
    kr_account,
    money,
    tron,
)

TRON_WALLET = "TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqeL"
MULE_WALLET = "TJCnKsPa7y5okkXvQAidZBzqx3QyQ6sxMW"


@pytest.fixture
def victim_account(shared_case, knp_coordinator):
    return kr_account(knp_coordinator, shared_case, "110-234-567890", bank_code="088")


@pytest.fixture
def mule_account(shared_case, knp_coordinator):
    return kr_account(knp_coordinator, shared_case, "356-0123-4567-83")


@pytest.fixture
def wallet(shared_case, kh_investigator):
    return add_identifier(
        actor=kh_investigator, case=shared_case, kind="crypto_wallet", value=TRON_WALLET,
        chain="tron",
    )  # fmt: skip


@pytest.fixture
def operator(shared_case, kh_investigator):
    return networks.create_entity(
        actor=kh_investigator,
        case=shared_case,
        kind=EntityKind.PERSON,
        name="Chen Wei",
        aliases=["陈伟", "Boss Chen"],
        nationality="CN",
        role=PersonRole.SUSPECT,
    )


@pytest.fixture
def company(shared_case, knp_coordinator):
    return networks.create_entity(
        actor=knp_coordinator,
        case=shared_case,
        kind=EntityKind.ORGANISATION,
        name="Golden Sands Trading Co., Ltd.",
        registration_number="00012345",
        country="KH",
    )


@pytest.fixture
def victim(shared_case, knp_coordinator):
    return networks.create_entity(
        actor=knp_coordinator,
        case=shared_case,
        kind=EntityKind.PERSON,
        name="김민지",
        role=PersonRole.VICTIM,
        nationality="KR",
    )


@pytest.fixture
def transfer(shared_case, knp_coordinator, victim_account, mule_account):
    return networks.record_transaction(
        actor=knp_coordinator,
        case=shared_case,
        from_identifier=victim_account,
        to_identifier=mule_account,
        amount=Decimal("25000000"),
        currency="KRW",
        occurred_at=timezone.now() - dt.timedelta(days=30),
        reference="KB-20250301-0042",
    )


# --- a money trail (trace_world.py) ---------------------------------------------


@pytest.fixture
def trail(shared_case, knp_coordinator, kh_investigator, victim_account, mule_account, wallet,
          transfer) -> Trail:  # fmt: skip
    to_wallet = [
        money(knp_coordinator, shared_case, mule_account, wallet, "18000", "USDT-TRC20", 29),
        money(knp_coordinator, shared_case, mule_account, wallet, "2000", "USDT-TRC20", 28),
    ]
    boss_wallet = tron(kh_investigator, shared_case, BOSS_WALLET)
    to_boss = money(kh_investigator, shared_case, wallet, boss_wallet, "15000", "USDT-TRC20", 20)
    return Trail(
        shared_case, victim_account, mule_account, wallet, boss_wallet, transfer, to_wallet,
        to_boss,
    )  # fmt: skip


@pytest.fixture
def hidden(kh_coordinator, kh_investigator) -> Hidden:
    """KH-CCOS's own case, never shared: the boss wallet sends on from there."""
    case = make_case(kh_coordinator, title=HIDDEN_TITLE)
    boss = tron(kh_investigator, case, BOSS_WALLET)
    cash_out = tron(kh_investigator, case, CASH_OUT_WALLET)
    sent = money(kh_investigator, case, boss, cash_out, HIDDEN_AMOUNT, "USDT-TRC20", 10)
    return Hidden(case, boss, cash_out, sent)
