"""The custody report keeps confidential participation confidential."""

import pytest

from cases import access, documents, services
from cases.choices import AccessLevel
from gate.roles import Role
from tests.factories import make_user


@pytest.fixture
def unodc_confidential(shared_case, knp_coordinator, unodc):
    services.share_case(
        actor=knp_coordinator,
        case=shared_case,
        agency=unodc,
        level=AccessLevel.VIEW,
        confidential=True,
    )
    return make_user(unodc, Role.VIEWER)


def _agencies_in_report(user, doc) -> set[str]:
    events = documents.custody_report(actor=user, document=doc)
    return {e.agency.code for e in events if e.agency} | {
        e.recipient_agency.code for e in events if e.recipient_agency
    }


def test_confidential_participants_download_is_hidden_from_other_participants(
    upload, unodc_confidential, kh_viewer, knp_coordinator
):
    doc = upload(actor=knp_coordinator)  # a confidential participant sees only the lead's
    list(documents.download_document(actor=unodc_confidential, document=doc))
    assert "UNODC" not in _agencies_in_report(kh_viewer, doc)
    assert "UNODC" in _agencies_in_report(knp_coordinator, doc)


def test_confidential_participant_sees_only_its_own_and_the_leads_events(
    upload, unodc_confidential, kh_viewer, knp_coordinator
):
    doc = upload(actor=knp_coordinator)
    list(documents.download_document(actor=kh_viewer, document=doc))
    list(documents.download_document(actor=unodc_confidential, document=doc))
    assert _agencies_in_report(unodc_confidential, doc) == {"UNODC", "KR-KNP"}


def test_confidential_participant_does_not_see_other_agencies_documents(upload, unodc_confidential):
    doc = upload()  # by KH-CCOS, which the confidential participant must not learn of
    assert not access.visible_documents(unodc_confidential).filter(pk=doc.pk).exists()


def test_custody_events_of_invisible_documents_are_invisible(upload, outsider):
    upload()
    assert not access.visible_custody_events(outsider).exists()
