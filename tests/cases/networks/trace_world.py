"""A money trail for the trace tests, on the personas' shared case (KR-KNP
leads, KH-CCOS contributes):

    victim account --25,000,000 KRW--> mule account --18,000 + 2,000 USDT--> wallet
    wallet --15,000 USDT--> boss wallet

and the same boss wallet recorded by KH-CCOS on a case of its own that
KR-KNP may not see, where it sent 9,876.54 USDT on to a cash-out wallet.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import base58
from django.utils import timezone

from cases import networks
from cases.deconfliction import add_identifier

BOSS_WALLET = "TJCnKsPa7y5okkXvQAidZBzqx3QyQ6sxMW"
CASH_OUT_WALLET = "TYASr5UV6HEcXatwdFQfmLVUqQQQMUxHLS"
HIDDEN_AMOUNT = "9876.54"
HIDDEN_TITLE = "Bavet cash-out ring Sable-Osprey"


def tron_address(n: int) -> str:
    """The `n`th of a series of valid TRON addresses (0x41 and 20 bytes, checksummed)."""
    return base58.b58encode_check(b"\x41" + n.to_bytes(20, "big")).decode()


def days_ago(days: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


def money(actor, case, sender, recipient, amount: str, currency: str, days: int, **fields):
    return networks.record_transaction(
        actor=actor, case=case, from_identifier=sender, to_identifier=recipient,
        amount=Decimal(amount), currency=currency, occurred_at=days_ago(days), **fields,
    )  # fmt: skip


def tron(actor, case, value: str):
    return add_identifier(actor=actor, case=case, kind="crypto_wallet", value=value, chain="tron")


def kr_account(actor, case, value: str, bank_code: str = "011"):
    """A Korean bank account (011: NongHyup) recorded on `case`."""
    return add_identifier(
        actor=actor, case=case, kind="bank_account", value=value, bank_code=bank_code, country="KR"
    )


@dataclass
class Trail:
    case: object
    victim_account: object
    mule_account: object
    wallet: object
    boss_wallet: object
    transfer: object
    to_wallet: list
    to_boss: object


@dataclass
class Hidden:
    case: object
    boss_wallet: object
    cash_out: object
    sent: object
