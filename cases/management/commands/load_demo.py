"""Load the demo world: seven agencies, one user per role each, three shared
cases, and the network of the pig-butchering case: its compound, operators,
shell company and casino group, the victims' money through Korean mule
accounts to USDT wallets on TRON, and the freeze KH-CCOS made after KR-KNP's
MLA request.

Idempotent: running it again adds nothing that is already there, so
`make run` can call it on every start (a demo database loaded before the
network existed gets it on the next start).
"""

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from agencies import services as agency_services
from agencies.choices import AgencyKind
from agencies.models import Agency, Membership
from cases import mla, networks, services
from cases.choices import (
    AccessLevel,
    AssetState,
    AssistanceType,
    EntityKind,
    HandlingCode,
    LegalBasis,
    LinkKind,
    PersonRole,
    TaskPriority,
)
from cases.deconfliction import add_identifier
from cases.models import Case, Entity
from gate.roles import Role

User = get_user_model()

#: The pig-butchering case's title: how the network finds its case again.
PIG_BUTCHERING_TITLE = "Sihanoukville compound: pig-butchering investment fraud network"
#: Addresses on TRON (valid base58check, made up for the demo).
HOT_WALLET = "TWCzSQgP2TAZjZfLbzgrR716k6HRXu2cCo"
OPERATOR_WALLET = "TVSbvKm5EfXQ7uGJK1g11CfngSVPLc1Lk6"
#: Where KH-CCOS saw the operator's USDT cashed out, on its own laundering case.
CASH_OUT_WALLET = "TYASr5UV6HEcXatwdFQfmLVUqQQQMUxHLS"
#: KH-CCOS's laundering case (not shared): a trace from KR-KNP's victim stops
#: at the operator's wallet with "KH-CCOS holds a match".
LAUNDERING_TITLE = "Laundering of scam proceeds through casinos and shell companies"

AGENCIES = [
    (
        "KH-CCOS",
        "Commission for Combating Online Scams",
        "KH",
        AgencyKind.POLICE,
        "Asia/Phnom_Penh",
    ),
    ("KR-KNP", "Korean National Police Agency", "KR", AgencyKind.POLICE, "Asia/Seoul"),
    (
        "KR-MOJ",
        "Ministry of Justice of the Republic of Korea",
        "KR",
        AgencyKind.CENTRAL_AUTHORITY,
        "Asia/Seoul",
    ),
    (
        "KH-MOJ",
        "Ministry of Justice of the Kingdom of Cambodia",
        "KH",
        AgencyKind.CENTRAL_AUTHORITY,
        "Asia/Phnom_Penh",
    ),
    (
        "UNODC",
        "United Nations Office on Drugs and Crime",
        "INT",
        AgencyKind.INTERNATIONAL,
        "Asia/Bangkok",
    ),
    ("INTERPOL", "INTERPOL", "INT", AgencyKind.INTERNATIONAL, "Asia/Singapore"),
    ("TH-CCIB", "Cyber Crime Investigation Bureau", "TH", AgencyKind.POLICE, "Asia/Bangkok"),
]
ROLES = [Role.VIEWER, Role.INVESTIGATOR, Role.COORDINATOR, Role.AGENCY_ADMIN]
LANGUAGES = {"KH": "km", "KR": "ko"}


def demo_username(code: str, role: str) -> str:
    return f"{code.lower()}.{role}"


class Command(BaseCommand):
    help = "Load demo agencies, users and cases (idempotent)."

    def handle(self, *args, **options):
        password = settings.DEMO_PASSWORD
        with transaction.atomic():
            agencies = {code: self._agency(code, *rest) for code, *rest in AGENCIES}
            for agency in agencies.values():
                for role in ROLES:
                    self._member(agency, role, password)
            self._platform_admin(password)
            self._cases(agencies)
            self._network(agencies)
            self._cash_out(agencies)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(
            f"Log in at /admin/ as e.g. kr-knp.coordinator, kh-ccos.investigator or "
            f"unodc.viewer ({{agency code}}.{{viewer|investigator|coordinator|agency_admin}}),"
            f" password: {password}. Platform administrator: platform.admin."
        )

    def _agency(self, code, name, country, kind, tz) -> Agency:
        existing = Agency.objects.filter(code=code).first()
        if existing:
            return existing
        return agency_services.create_agency(
            code=code, name=name, country=country, kind=kind, timezone=tz
        )

    def _member(self, agency: Agency, role: str, password: str) -> None:
        username = demo_username(agency.code, role)
        if User.objects.filter(username=username).exists():
            return
        membership = agency_services.create_member(
            username=username,
            agency=agency,
            role=role,
            password=password,
            email=f"{username}@demo.casebridge.invalid",
        )
        lang = LANGUAGES.get(agency.country, "")
        if lang:
            Membership.objects.filter(pk=membership.pk).update(language=lang)

    def _platform_admin(self, password: str) -> None:
        if not User.objects.filter(username="platform.admin").exists():
            User.objects.create_superuser(
                "platform.admin", "admin@demo.casebridge.invalid", password
            )

    def _user(self, code: str, role: str):
        return User.objects.get(username=demo_username(code, role))

    def _cases(self, agencies: dict[str, Agency]) -> None:
        today = timezone.now().date()
        knp = self._user("KR-KNP", Role.COORDINATOR)
        ccos = self._user("KH-CCOS", Role.COORDINATOR)

        if not Case.objects.filter(lead_agency=agencies["KR-KNP"]).exists():
            case = services.create_case(
                actor=knp,
                title=PIG_BUTCHERING_TITLE,
                summary=(
                    "Korean victims lured through dating apps into a fake crypto trading "
                    "platform; funds moved through USDT (TRC-20) wallets. Operators traced to "
                    "a compound in Sihanoukville staffed by trafficked workers."
                ),
                crime_types=["investment_fraud", "romance_fraud", "money_laundering"],
                handling_code=HandlingCode.AMBER,
            )
            services.change_case_status(actor=knp, case=case, status="active")
            services.share_case(
                actor=knp, case=case, agency=agencies["KH-CCOS"], level=AccessLevel.CONTRIBUTE
            )
            services.share_case(
                actor=knp, case=case, agency=agencies["INTERPOL"], level=AccessLevel.VIEW
            )
            services.share_case(
                actor=knp,
                case=case,
                agency=agencies["UNODC"],
                level=AccessLevel.VIEW,
                expires_at=timezone.now() + dt.timedelta(days=90),
            )
            services.create_task(
                actor=knp,
                case=case,
                title="Identify compound operators from seized phones",
                assigned_agency=agencies["KH-CCOS"],
                priority=TaskPriority.HIGH,
                due_date=today + dt.timedelta(days=14),
            )
            services.create_task(
                actor=knp,
                case=case,
                title="Collect victim statements (Seoul, Busan)",
                assigned_agency=agencies["KR-KNP"],
                due_date=today + dt.timedelta(days=7),
            )
            services.add_note(
                actor=knp,
                case=case,
                body="42 victim complaints linked through the same trading site domain.",
                source_reliability="B",
                information_accuracy="2",
            )
            services.add_note(
                actor=self._user("KH-CCOS", Role.INVESTIGATOR),
                case=case,
                body="Compound raided; 300 workers rescued, devices seized.",
                handling_code=HandlingCode.GREEN,
                source_reliability="A",
                information_accuracy="1",
            )

        if not Case.objects.filter(lead_agency=agencies["KH-CCOS"]).exists():
            trafficking = services.create_case(
                actor=ccos,
                title="Trafficking of workers into scam compounds (Preah Sihanouk)",
                summary="Recruitment through fake job offers; forced labour in compounds.",
                crime_types=["human_trafficking", "forced_labour"],
            )
            services.share_case(
                actor=ccos,
                case=trafficking,
                agency=agencies["TH-CCIB"],
                level=AccessLevel.CONTRIBUTE,
            )
            services.share_case(
                actor=ccos,
                case=trafficking,
                agency=agencies["UNODC"],
                level=AccessLevel.VIEW,
                confidential=True,
            )
            services.create_task(
                actor=ccos,
                case=trafficking,
                title="Trace recruiters' border crossings",
                assigned_agency=agencies["TH-CCIB"],
                due_date=today + dt.timedelta(days=21),
            )
            laundering = services.create_case(
                actor=ccos,
                title=LAUNDERING_TITLE,
                summary="Casino junket accounts and shell companies used to layer funds.",
                crime_types=["money_laundering", "illegal_gambling"],
                handling_code=HandlingCode.AMBER_STRICT,
            )
            services.add_note(
                actor=ccos,
                case=laundering,
                body="Internal only: FIU referral pending.",
                handling_code=HandlingCode.AMBER_STRICT,
            )

    def _network(self, agencies: dict[str, Agency]) -> None:
        """Who runs the compound and where the victims' money went, as KR-KNP
        and KH-CCOS would each have recorded their part of it."""
        case = Case.objects.filter(
            lead_agency=agencies["KR-KNP"], title=PIG_BUTCHERING_TITLE
        ).first()
        if case is None or Entity.objects.filter(case=case).exists():
            return
        knp = self._user("KR-KNP", Role.INVESTIGATOR)
        knp_coordinator = self._user("KR-KNP", Role.COORDINATOR)
        ccos = self._user("KH-CCOS", Role.INVESTIGATOR)
        now = timezone.now()
        today = timezone.localdate()

        def entity(actor, kind: str, name: str, **fields):
            return networks.create_entity(actor=actor, case=case, kind=kind, name=name, **fields)

        def identifier(actor, kind: str, value: str, **fields):
            return add_identifier(actor=actor, case=case, kind=kind, value=value, **fields)

        def link(actor, kind: str, **ends):
            return networks.create_link(actor=actor, case=case, kind=kind, **ends)

        def money(actor, sender, recipient, amount: str, currency: str, days_ago: int, **fields):
            return networks.record_transaction(
                actor=actor,
                case=case,
                from_identifier=sender,
                to_identifier=recipient,
                amount=amount,
                currency=currency,
                occurred_at=now - dt.timedelta(days=days_ago),
                **fields,
            )

        # KH-CCOS: the compound, its operators, the shell company and its parent.
        compound = entity(
            ccos,
            EntityKind.PLACE,
            "Golden Fortune compound",
            aliases=["ភូមិមាសសំណាង", "金福园区"],
            address="Otres 2, Sangkat 4, Preah Sihanouk",
            country="KH",
            latitude="10.585600",
            longitude="103.530000",
        )
        group = entity(
            ccos,
            EntityKind.ORGANISATION,
            "Horizon Star Casino Group",
            aliases=["恒星娱乐集团"],
            registration_number="00007777",
            country="KH",
        )
        shell = entity(
            ccos,
            EntityKind.ORGANISATION,
            "Golden Sands Trading Co., Ltd.",
            registration_number="00031415",
            country="KH",
            parent=group,
            description="Shell company: the compound's lease and payroll run through it.",
        )
        boss = entity(
            ccos,
            EntityKind.PERSON,
            "Chen Wei",
            aliases=["陈伟", "Boss Chen"],
            nationality="CN",
            role=PersonRole.SUSPECT,
        )
        manager = entity(
            ccos,
            EntityKind.PERSON,
            "Sok Dara",
            aliases=["សុខ ដារ៉ា"],
            nationality="KH",
            role=PersonRole.FACILITATOR,
        )
        hot_wallet = identifier(ccos, "crypto_wallet", HOT_WALLET, chain="tron")
        boss_wallet = identifier(ccos, "crypto_wallet", OPERATOR_WALLET, chain="tron")
        link(ccos, LinkKind.CONTROLS, from_entity=boss, to_entity=shell)
        link(ccos, LinkKind.LOCATED_AT, from_entity=shell, to_entity=compound)
        link(ccos, LinkKind.EMPLOYS, from_entity=shell, to_entity=manager)
        link(ccos, LinkKind.HOLDS_WALLET, from_entity=shell, to_identifier=hot_wallet)
        link(
            ccos,
            LinkKind.HOLDS_WALLET,
            from_entity=boss,
            to_identifier=boss_wallet,
            source_reliability="B",
            information_accuracy="2",
        )

        # KR-KNP: a victim (TLP:RED: KR-KNP's alone), her account, the mules.
        victim = entity(
            knp, EntityKind.PERSON, "김지영", aliases=["Kim Ji-young"], nationality="KR",
            role=PersonRole.VICTIM,
        )  # fmt: skip
        mule = entity(
            knp, EntityKind.PERSON, "박성호", aliases=["Park Sung-ho"], nationality="KR",
            role=PersonRole.FACILITATOR,
            description="Rented his accounts to the network for KRW 500,000 a month.",
        )  # fmt: skip
        victim_account = identifier(
            knp, "bank_account", "123-45-6789-012", bank_code="004", country="KR"
        )
        mule_shinhan = identifier(
            knp, "bank_account", "110-555-123456", bank_code="088", country="KR"
        )
        mule_woori = identifier(
            knp, "bank_account", "1002-345-678901", bank_code="020", country="KR"
        )
        link(knp, LinkKind.HOLDS_ACCOUNT, from_entity=victim, to_identifier=victim_account)
        link(knp, LinkKind.HOLDS_ACCOUNT, from_entity=mule, to_identifier=mule_shinhan)
        link(knp, LinkKind.HOLDS_ACCOUNT, from_entity=mule, to_identifier=mule_woori)
        money(
            knp,
            victim_account,
            mule_shinhan,
            "30000000",
            "KRW",
            62,
            reference="KB-0412-778812",
            description="'Deposit' into the trading platform",
        )
        money(
            knp,
            victim_account,
            mule_woori,
            "20000000",
            "KRW",
            55,
            reference="KB-0419-113307",
            description="'Withdrawal fee'",
        )
        # Bought as USDT through an OTC desk, sent to the compound's hot wallet.
        money(knp, mule_shinhan, hot_wallet, "21450", "USDT-TRC20", 61, reference="7f3a" * 16)
        money(knp, mule_woori, hot_wallet, "14300", "USDT-TRC20", 54, reference="c09e" * 16)
        # KH-CCOS: from the hot wallet on to the boss's wallet.
        money(ccos, hot_wallet, boss_wallet, "30000", "USDT-TRC20", 50,
              reference="5b1d" * 16)  # fmt: skip

        # KR-KNP asks Cambodia to freeze the hot wallet; KH-CCOS freezes, then seizes.
        moj = self._user("KH-MOJ", Role.COORDINATOR)
        request = mla.create_mla_request(
            actor=knp_coordinator,
            case=case,
            requested_agency=agencies["KH-MOJ"],
            legal_basis=LegalBasis.ASEAN_MLAT,
            assistance_types=[AssistanceType.ASSET_RECOVERY],
            details={
                AssistanceType.ASSET_RECOVERY: {
                    "measures": ["freezing"],
                    "assets": [f"USDT (TRC-20) on the wallet {HOT_WALLET}"],
                    "grounds": "Proceeds of the fraud on Korean victims, traced from their "
                    "accounts through mule accounts.",
                }
            },
            facts="Korean victims were defrauded through a fake crypto trading platform run "
            "from a compound in Sihanoukville.",
            offences="Fraud (Criminal Act art. 347); money laundering.",
            assistance_sought="Freeze the USDT held on the compound's hot wallet.",
            requesting_reference="KNP-MLA-2025-031",
        )
        mla.submit_mla_request(actor=knp_coordinator, request=request)
        mla.acknowledge_mla_request(actor=moj, request=request)
        mla.start_execution(actor=moj, request=request)
        frozen = networks.record_asset(
            actor=knp_coordinator,
            case=case,
            kind="crypto",
            description="USDT on the compound's hot wallet",
            value="35750",
            currency="USDT-TRC20",
            state=AssetState.FROZEN,
            state_on=today - dt.timedelta(days=20),
            holding_agency=agencies["KH-CCOS"],
            legal_basis="ASEAN Treaty on Mutual Legal Assistance in Criminal Matters (2004); "
            "freezing order of the Preah Sihanouk provincial court",
            identifier=hot_wallet,
            mla_request=request,
            note="Frozen by KH-CCOS at the issuer's request after KNP-MLA-2025-031.",
        )
        networks.change_asset_state(
            actor=ccos,
            asset=frozen,
            state=AssetState.SEIZED,
            on=today - dt.timedelta(days=5),
            note="Moved to a wallet held by KH-CCOS.",
        )
        networks.record_asset(
            actor=knp,
            case=case,
            kind="bank_balance",
            description="Balance of the Shinhan mule account",
            value="4200000",
            currency="KRW",
            state=AssetState.FROZEN,
            state_on=today - dt.timedelta(days=40),
            holding_agency=agencies["KR-KNP"],
            legal_basis="Telecommunications-based Financial Fraud Refund Act: payment suspension",
            identifier=mule_shinhan,
        )

    def _cash_out(self, agencies: dict[str, Agency]) -> None:
        """KH-CCOS's laundering case, which KR-KNP may not see, holds the
        operator's wallet too and the USDT it cashed out: following the
        victim's money, KR-KNP reaches that wallet and learns only that
        KH-CCOS holds a match (whom to ask for contact)."""
        case = Case.objects.filter(lead_agency=agencies["KH-CCOS"], title=LAUNDERING_TITLE).first()
        if case is None or case.identifiers.exists():
            return
        ccos = self._user("KH-CCOS", Role.INVESTIGATOR)
        boss_wallet = add_identifier(
            actor=ccos, case=case, kind="crypto_wallet", value=OPERATOR_WALLET, chain="tron"
        )
        cash_out = add_identifier(
            actor=ccos, case=case, kind="crypto_wallet", value=CASH_OUT_WALLET, chain="tron"
        )
        networks.record_transaction(
            actor=ccos,
            case=case,
            from_identifier=boss_wallet,
            to_identifier=cash_out,
            amount="9876.54",
            currency="USDT-TRC20",
            occurred_at=timezone.now() - dt.timedelta(days=45),
            description="Cashed out through a casino junket account",
        )
