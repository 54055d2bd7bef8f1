"""factory-boy factories; every write goes through the real services."""

import datetime as dt
import io

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from agencies import services as agency_services
from agencies.choices import AgencyKind
from cases import services
from cases.models import CaseGroupObjectPermission, CaseParticipation
from gate.roles import Role

User = get_user_model()
PASSWORD = "correct-horse-battery-staple"


class AgencyFactory(factory.Factory):
    class Meta:
        model = dict

    code = factory.Sequence(lambda n: f"AG-{n:04d}")
    name = factory.LazyAttribute(lambda o: f"Agency {o.code}")
    country = "KH"
    kind = AgencyKind.POLICE
    timezone = "Asia/Phnom_Penh"

    @classmethod
    def _create(cls, model_class, **kwargs):
        return agency_services.create_agency(**kwargs)

    _build = _create


def make_agency(code: str | None = None, **kwargs):
    if code:
        kwargs["code"] = code
    return AgencyFactory(**kwargs)


_user_seq = iter(range(1, 10**9))


def make_user(agency, role: str = Role.COORDINATOR, username: str | None = None):
    username = username or f"{agency.code.lower()}.{role}.{next(_user_seq)}"
    membership = agency_services.create_member(
        username=username, agency=agency, role=role, password=PASSWORD
    )
    return membership.user


def make_case(actor, **kwargs):
    kwargs.setdefault("title", "Sihanoukville compound investment fraud")
    kwargs.setdefault("summary", "Pig-butchering network run from a scam compound.")
    kwargs.setdefault("crime_types", ["investment_fraud"])
    return services.create_case(actor=actor, **kwargs)


def make_document(actor, case, title="Seized ledger Umber-Heron", handling_code="GREEN", **kw):
    """A small PDF uploaded through the evidence service (MEDIA_ROOT: the caller's)."""
    from cases.documents import upload_document

    return upload_document(
        actor=actor,
        case=case,
        file=io.BytesIO(b"%PDF-1.7\n" + b"0" * 500),
        name="seized-ledger.pdf",
        title=title,
        handling_code=handling_code,
        **kw,
    )


def pass_expiry(case, agency) -> None:
    """The clock passes the expiry of `agency`'s share of `case`: the record
    and its grants now end a second ago, as if the time had come (the expiry
    job has not run)."""
    past = timezone.now() - dt.timedelta(seconds=1)
    CaseParticipation.objects.filter(case=case, agency=agency, revoked_at__isnull=True).update(
        expires_at=past
    )
    CaseGroupObjectPermission.objects.filter(content_object=case, group_id=agency.group_id).update(
        expires_at=past
    )


def make_network(actor, case) -> dict[str, list[str]]:
    """A person holding an account that sent money to a wallet, the link
    between them and a freeze, recorded by `actor` on `case`: the public ids
    of each, by API route (the fuzzers' `REAL_IDS`)."""
    from cases import networks
    from cases.deconfliction import add_identifier

    person = networks.create_entity(actor=actor, case=case, kind="person", name="Chen Wei")
    account = add_identifier(actor=actor, case=case, kind="iban", value="DE89370400440532013000")
    wallet = add_identifier(
        actor=actor,
        case=case,
        kind="crypto_wallet",
        value="TWCzSQgP2TAZjZfLbzgrR716k6HRXu2cCo",
        chain="tron",
    )
    link = networks.create_link(
        actor=actor, case=case, kind="holds_account", from_entity=person, to_identifier=account
    )
    moved = networks.record_transaction(
        actor=actor,
        case=case,
        from_identifier=account,
        to_identifier=wallet,
        amount="1520.5",
        currency="USDT-TRC20",
        occurred_at=timezone.now() - dt.timedelta(days=1),
    )
    asset = networks.record_asset(
        actor=actor,
        case=case,
        kind="crypto",
        description="USDT on the wallet",
        value="1520.5",
        currency="USDT-TRC20",
        state="frozen",
        state_on=timezone.localdate() - dt.timedelta(days=1),
        identifier=wallet,
    )
    return {
        "entities": [str(person.public_id)],
        "identifiers": [str(account.public_id), str(wallet.public_id)],
        "links": [str(link.public_id)],
        "transactions": [str(moved.public_id)],
        "assets": [str(asset.public_id)],
    }
