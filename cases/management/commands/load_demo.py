"""Load the demo world: seven agencies, one user per role each, three shared cases.

Idempotent: running it again adds nothing that is already there, so
`make run` can call it on every start.
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
from cases import services
from cases.choices import AccessLevel, HandlingCode, TaskPriority
from cases.models import Case
from gate.roles import Role

User = get_user_model()

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
                title="Sihanoukville compound: pig-butchering investment fraud network",
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
                title="Laundering of scam proceeds through casinos and shell companies",
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
