"""Seed a deployed database through the services, as the app would (run by
tests/ops/conftest.py with the app role's DATABASE_URL). Prints, on its
last line, the JSON of what it made."""

import json
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from cases import services  # noqa: E402
from cases.choices import AccessLevel  # noqa: E402
from tests.factories import make_agency, make_case, make_document, make_user  # noqa: E402


def main() -> None:
    knp = make_agency("KR-KNP", name="Korean National Police Agency", country="KR")
    ccos = make_agency("KH-CCOS", name="Commission for Combating Online Scams", country="KH")
    coordinator = make_user(knp)
    case = make_case(coordinator)
    services.share_case(actor=coordinator, case=case, agency=ccos, level=AccessLevel.CONTRIBUTE)
    documents = [
        make_document(coordinator, case, title=f"Seized ledger, volume {n}") for n in (1, 2, 3)
    ]
    print(
        json.dumps(
            {
                "case": str(case.public_id),
                "documents": {str(d.public_id): d.storage_path for d in documents},
            }
        )
    )


if __name__ == "__main__":
    main()
