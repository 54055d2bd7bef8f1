"""The case row's `version`, `updated_at` and `updated_by` describe its own
fields only: every write on a child (task, note, progress, participation,
identifier, evidence, MLA request) leaves them alone, visible child or not,
and every change of the case's own fields moves them.
"""

from __future__ import annotations

import io

import pytest

from cases import deconfliction, documents, mla, services
from cases.choices import AccessLevel, CaseStatus, LegalBasis
from cases.models import Case
from tests.cases.mla.helpers import COMPLETE_FULL

pytestmark = pytest.mark.django_db


def _stamp(case) -> tuple:
    return Case.objects.values_list("version", "updated_at", "updated_by").get(pk=case.pk)


CHILD_WRITES = {
    "add_note": lambda w, lead, partner: services.add_note(
        actor=partner, case=w.case, body="Seen at the border.", handling_code="GREEN"
    ),
    "create_task": lambda w, lead, partner: services.create_task(
        actor=lead, case=w.case, title="Check flights", assigned_agency=w.ccos
    ),
    "update_task": lambda w, lead, partner: services.update_task(
        actor=lead, task=w.ccos_task, title="Raid both compounds"
    ),
    "log_task_progress": lambda w, lead, partner: services.log_task_progress(
        actor=partner, task=w.ccos_task, body="Compound mapped."
    ),
    "change_access": lambda w, lead, partner: services.change_access(
        actor=lead, participation=w.ccos_participation, level=AccessLevel.CONTRIBUTE
    ),
    "share_case": lambda w, lead, partner: services.share_case(
        actor=lead, case=w.case, agency=w.third, level=AccessLevel.VIEW
    ),
    "revoke_case": lambda w, lead, partner: services.revoke_case(
        actor=lead, participation=w.ccos_participation
    ),
    "add_identifier": lambda w, lead, partner: deconfliction.add_identifier(
        actor=partner, case=w.case, kind="email", value="broker@example.com"
    ),
    "upload_document": lambda w, lead, partner: documents.upload_document(
        actor=partner,
        case=w.case,
        file=io.BytesIO(b"%PDF-1.7\n" + b"0" * 500),
        name="ledger.pdf",
        title="Ledger",
        handling_code="GREEN",
    ),
    "create_mla_request": lambda w, lead, partner: mla.create_mla_request(
        actor=lead,
        case=w.case,
        requested_agency=w.ccos,
        legal_basis=LegalBasis.UNTOC,
        **COMPLETE_FULL,
    ),
}


@pytest.mark.parametrize("write", CHILD_WRITES.values(), ids=CHILD_WRITES.keys())
def test_a_write_on_a_child_leaves_the_case_row_alone(
    world, knp_coordinator, kh_coordinator, settings, tmp_path, write
):
    settings.MEDIA_ROOT = str(tmp_path)
    before = _stamp(world.case)
    write(world, knp_coordinator, kh_coordinator)
    assert _stamp(world.case) == before


#: Who makes each change: the partner (it manages the case) where the gate
#: lets it, so that `updated_by` is seen to move off the case's creator.
OWN_FIELD_WRITES = {
    "update_case": (
        "partner",
        lambda w, actor: services.update_case(actor=actor, case=w.case, title="Renamed"),
    ),
    "change_case_status": (
        "partner",
        lambda w, actor: services.change_case_status(
            actor=actor, case=w.case, status=CaseStatus.ACTIVE
        ),
    ),
    "hand_over_case": (
        "lead",
        lambda w, actor: services.hand_over_case(actor=actor, case=w.case, new_lead=w.ccos),
    ),
}


@pytest.mark.parametrize(("who", "write"), OWN_FIELD_WRITES.values(), ids=OWN_FIELD_WRITES.keys())
def test_a_change_of_the_cases_own_fields_moves_the_case_row(
    world, knp_coordinator, kh_coordinator, who, write
):
    actor = {"lead": knp_coordinator, "partner": kh_coordinator}[who]
    version, updated_at, _by = _stamp(world.case)
    write(world, actor)
    new_version, new_updated_at, updated_by = _stamp(world.case)
    assert (new_version, updated_by) == (version + 1, actor.pk)
    assert new_updated_at > updated_at
