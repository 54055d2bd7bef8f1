"""The role layer through the API: a viewer reads but never writes."""

import pytest

from cases.models import Case, CaseParticipation, Note, Task

pytestmark = pytest.mark.usefixtures("_no_sync_margin")


@pytest.fixture
def counts():
    def snapshot():
        return (
            Case.objects.count(),
            Task.objects.count(),
            Note.objects.count(),
            CaseParticipation.objects.count(),
            tuple(Case.objects.values_list("version", "status", "title")),
        )

    return snapshot


def test_viewer_reads_the_shared_case(api, shared_case, kh_viewer):
    assert api(kh_viewer).get(f"/api/v1/cases/{shared_case.public_id}/").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("patch", "/api/v1/cases/{case}/", {"title": "Viewer edit"}),
        ("put", "/api/v1/cases/{case}/", {"title": "Viewer edit"}),
        ("post", "/api/v1/cases/{case}/status/", {"status": "active"}),
        ("post", "/api/v1/cases/{case}/hand-over/", {"new_lead": "KH-CCOS"}),
        ("post", "/api/v1/cases/{case}/participants/", {"agency": "UNODC", "level": "view"}),
        ("post", "/api/v1/notes/", {"case": "{case}", "body": "Viewer note"}),
        ("post", "/api/v1/tasks/", {"case": "{case}", "title": "T", "assigned_agency": "KH-CCOS"}),
        ("post", "/api/v1/cases/", {"title": "Viewer case"}),
    ],
)
def test_viewer_writes_are_refused_with_403(
    api, shared_case, kh_viewer, unodc, counts, method, path, payload
):
    case_id = str(shared_case.public_id)
    body = {
        k: v.replace("{case}", case_id) if isinstance(v, str) else v for k, v in payload.items()
    }
    before = counts()
    etag = f'"{shared_case.version}"'
    response = getattr(api(kh_viewer), method)(
        path.replace("{case}", case_id), body, format="json", HTTP_IF_MATCH=etag
    )
    assert response.status_code == 403, response.json()
    assert response.json()["code"] == "permission_denied"
    assert counts() == before


def test_viewer_cannot_move_a_task(api, task, kh_viewer):
    response = api(kh_viewer).patch(
        f"/api/v1/tasks/{task.public_id}/", {"status": "done"}, HTTP_IF_MATCH=f'"{task.version}"'
    )
    assert response.status_code == 403
    task.refresh_from_db()
    assert task.status == "todo"


def test_viewer_cannot_revoke_a_participation(api, shared_case, kh_viewer):
    participation = CaseParticipation.objects.get(case=shared_case, agency__code="KH-CCOS")
    url = f"/api/v1/cases/{shared_case.public_id}/participants/{participation.public_id}/"
    etag = f'"{participation.version}"'
    assert api(kh_viewer).delete(url, HTTP_IF_MATCH=etag).status_code == 403
    participation.refresh_from_db()
    assert participation.revoked_at is None


def test_investigator_of_assigned_agency_moves_the_task(api, task, kh_investigator):
    response = api(kh_investigator).patch(
        f"/api/v1/tasks/{task.public_id}/",
        {"status": "in_progress"},
        HTTP_IF_MATCH=f'"{task.version}"',
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "in_progress"
