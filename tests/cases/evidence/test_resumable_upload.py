"""`/api/v1/uploads/`: resumable evidence uploads (tus 1.0) through HTTP.

Bytes in transit are nobody's evidence: they become a `Document`, with its
hash, custody entry, audit event and notification, only when the last byte
is in and verified; an interrupted upload resumes from the offset the
server confirms; another agency cannot even tell that an upload exists.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib

import pytest
from django.core.management import call_command
from django.utils import timezone

from audit.models import AuditAction, AuditEvent
from cases import uploads
from cases.models import CustodyEvent, Document, EvidenceUpload
from cases.services import revoke_case
from tests.factories import make_user

from .conftest import pdf_bytes, stored_files

URL = "/api/v1/uploads/"
TUS = {"HTTP_TUS_RESUMABLE": "1.0.0"}
SIZE = 50_000


@pytest.fixture(autouse=True)
def _small_chunks(settings):
    from django.core.cache import cache

    cache.clear()
    settings.EVIDENCE_UPLOAD_MAX_CHUNK = 16 * 1024


@pytest.fixture
def api():
    from rest_framework.test import APIClient

    def client_for(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return client_for


def metadata(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def create(client, case, length: int = SIZE, **extra: str):
    values = {
        "case": str(case.public_id),
        "title": "Seized ledger",
        "filename": "ledger.pdf",
        "handling_code": "GREEN",
        **extra,
    }
    return client.post(
        URL, HTTP_UPLOAD_LENGTH=str(length), HTTP_UPLOAD_METADATA=metadata(**values), **TUS
    )


def patch(client, location: str, offset: int, data: bytes, **extra):
    return client.generic(
        "PATCH",
        location,
        data,
        content_type="application/offset+octet-stream",
        HTTP_UPLOAD_OFFSET=str(offset),
        **TUS,
        **extra,
    )


def send(client, location: str, data: bytes, start: int = 0, stop: int | None = None):
    """Send `data[start:stop]` in 16 KiB chunks; return the last response."""
    stop = len(data) if stop is None else stop
    response = None
    for offset in range(start, stop, 16 * 1024):
        response = patch(client, location, offset, data[offset : min(offset + 16 * 1024, stop)])
        assert response.status_code == 204, response.content
    return response


def head(client, location: str):
    return client.head(location, **TUS)


def test_creation_answers_location_expiry_and_offset_zero(api, kh_investigator, shared_case):
    response = create(api(kh_investigator), shared_case)
    assert response.status_code == 201, response.json()
    assert response["Tus-Resumable"] == "1.0.0"
    assert response["Upload-Offset"] == "0"
    assert response["Upload-Expires"].endswith("GMT")
    assert response["Location"].endswith(f"/api/v1/uploads/{response.json()['id']}/")
    assert Document.objects.count() == 0


def test_chunks_append_and_the_last_one_makes_the_verified_document(
    api, kh_investigator, shared_case
):
    client = api(kh_investigator)
    data = pdf_bytes(SIZE)
    location = create(client, shared_case, sha256=hashlib.sha256(data).hexdigest())["Location"]

    first = patch(client, location, 0, data[:16384])
    assert first.status_code == 204 and first["Upload-Offset"] == "16384"
    assert Document.objects.count() == 0, "nothing is evidence before the last byte"
    last = send(client, location, data, start=16384)

    doc = Document.objects.get()
    assert last["Upload-Offset"] == str(SIZE)
    assert last["Document-Location"].endswith(f"/api/v1/documents/{doc.public_id}/")
    assert doc.sha256 == hashlib.sha256(data).hexdigest()
    assert (doc.size, doc.original_name, doc.uploaded_by) == (SIZE, "ledger.pdf", kh_investigator)
    assert doc.custody_events.get().action == CustodyEvent.Action.UPLOAD
    assert AuditEvent.objects.filter(action=AuditAction.UPLOAD, object_id=str(doc.public_id))
    assert client.get(location).json()["document"] == str(doc.public_id)


def test_interrupted_at_60_percent_resumes_from_the_offset_head_gives(
    api, kh_investigator, shared_case
):
    data = pdf_bytes(SIZE)
    location = create(api(kh_investigator), shared_case)["Location"]
    send(api(kh_investigator), location, data, stop=SIZE * 60 // 100)

    # A new connection (the old one broke): where do we stand?
    client = api(kh_investigator)
    offset = int(head(client, location)["Upload-Offset"])
    assert offset == SIZE * 60 // 100
    send(client, location, data, start=offset)

    assert Document.objects.get().sha256 == hashlib.sha256(data).hexdigest()


def test_wrong_offset_is_409_and_changes_nothing(api, kh_investigator, shared_case):
    client = api(kh_investigator)
    location = create(client, shared_case)["Location"]
    patch(client, location, 0, pdf_bytes(1000))

    response = patch(client, location, 500, b"x" * 100)

    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "offset_mismatch"
    assert head(client, location)["Upload-Offset"] == "1000"


def test_another_agency_gets_404_that_says_nothing(api, kh_investigator, outsider, shared_case):
    location = create(api(kh_investigator), shared_case)["Location"]
    missing = location.replace(location.rstrip("/").rsplit("/", 1)[1], "0" * 32)
    stranger = api(outsider)

    for response, other in (
        (head(stranger, location), head(stranger, missing)),
        (patch(stranger, location, 0, b"%PDF"), patch(stranger, missing, 0, b"%PDF")),
        (stranger.delete(location, **TUS), stranger.delete(missing, **TUS)),
        (stranger.get(location), stranger.get(missing)),
    ):
        assert response.status_code == other.status_code == 404
        assert response.content == other.content
    assert head(api(kh_investigator), location)["Upload-Offset"] == "0"


def test_a_colleague_of_the_same_agency_cannot_append_either(
    api, kh_investigator, ccos, shared_case
):
    location = create(api(kh_investigator), shared_case)["Location"]
    colleague = make_user(ccos, "investigator", "kh.colleague")
    assert patch(api(colleague), location, 0, b"%PDF").status_code == 404


def test_creation_on_a_case_the_agency_may_not_add_to_is_refused(
    api, kh_viewer, outsider, shared_case
):
    assert create(api(kh_viewer), shared_case).status_code == 403
    assert create(api(outsider), shared_case).status_code == 400  # unknown case: a field error
    assert EvidenceUpload.objects.count() == 0


def test_permission_lost_before_the_last_byte_refuses_and_keeps_nothing(
    api, kh_investigator, knp_coordinator, shared_case, evidence_root
):
    client = api(kh_investigator)
    data = pdf_bytes(SIZE)
    location = create(client, shared_case)["Location"]
    send(client, location, data, stop=32768)
    participation = shared_case.participations.get(agency__code="KH-CCOS")
    revoke_case(actor=knp_coordinator, participation=participation)

    response = patch(client, location, 32768, data[32768:49152])

    assert response.status_code == 404
    assert Document.objects.count() == 0


def test_declared_sha256_that_does_not_match_stores_nothing(
    api, kh_investigator, shared_case, evidence_root
):
    client = api(kh_investigator)
    data = pdf_bytes(SIZE)
    location = create(client, shared_case, sha256="ab" * 32)["Location"]
    send(client, location, data, stop=SIZE - 1000)

    response = patch(client, location, SIZE - 1000, data[SIZE - 1000 :])

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "sha256"
    assert Document.objects.count() == 0
    assert EvidenceUpload.objects.count() == 0
    assert stored_files(evidence_root) == []


def test_chunk_with_a_wrong_checksum_is_460_and_dropped(api, kh_investigator, shared_case):
    client = api(kh_investigator)
    location = create(client, shared_case)["Location"]
    chunk = pdf_bytes(1000)
    good = base64.b64encode(hashlib.sha256(chunk).digest()).decode()
    bad = base64.b64encode(hashlib.sha256(b"other").digest()).decode()

    refused = patch(client, location, 0, chunk, HTTP_UPLOAD_CHECKSUM=f"sha256 {bad}")
    assert refused.status_code == 460
    assert refused.json()["code"] == "checksum_mismatch"
    assert head(client, location)["Upload-Offset"] == "0"
    accepted = patch(client, location, 0, chunk, HTTP_UPLOAD_CHECKSUM=f"sha256 {good}")
    assert accepted["Upload-Offset"] == "1000"


def test_chunk_over_the_limit_is_413(api, kh_investigator, shared_case):
    client = api(kh_investigator)
    location = create(client, shared_case)["Location"]
    response = patch(client, location, 0, pdf_bytes(16 * 1024 + 1))
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert head(client, location)["Upload-Offset"] == "0"


def test_upload_longer_than_the_evidence_limit_is_refused_at_creation(
    api, kh_investigator, shared_case
):
    response = create(api(kh_investigator), shared_case, length=10**12)
    assert response.status_code == 413
    assert EvidenceUpload.objects.count() == 0


def test_bad_metadata_is_a_field_error(api, kh_investigator, shared_case):
    client = api(kh_investigator)
    response = client.post(
        URL,
        HTTP_UPLOAD_LENGTH="100",
        HTTP_UPLOAD_METADATA=metadata(case=str(shared_case.public_id), filename="a.pdf"),
        **TUS,
    )
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["title"]
    no_length = client.post(URL, HTTP_UPLOAD_METADATA=metadata(title="x"), **TUS)
    assert no_length.json()["errors"][0]["field"] == "Upload-Length"


def test_other_tus_versions_are_412_with_the_supported_one(api, kh_investigator, shared_case):
    response = api(kh_investigator).post(URL, HTTP_TUS_RESUMABLE="0.2.2", HTTP_UPLOAD_LENGTH="1")
    assert response.status_code == 412
    assert response["Tus-Version"] == "1.0.0"


def test_options_announces_the_extensions(api, kh_investigator):
    response = api(kh_investigator).options(URL)
    assert response.status_code == 204
    assert response["Tus-Extension"] == "creation,expiration,checksum,termination"
    assert "sha256" in response["Tus-Checksum-Algorithm"]


def test_delete_abandons_the_upload_and_its_bytes(api, kh_investigator, shared_case):
    client = api(kh_investigator)
    location = create(client, shared_case)["Location"]
    patch(client, location, 0, pdf_bytes(1000))
    upload = EvidenceUpload.objects.get()

    assert client.delete(location, **TUS).status_code == 204

    assert not uploads.partial_path(upload).exists()
    assert head(client, location).status_code == 404


def test_expired_upload_is_gone_and_the_sweep_removes_its_bytes(api, kh_investigator, shared_case):
    client = api(kh_investigator)
    location = create(client, shared_case)["Location"]
    patch(client, location, 0, pdf_bytes(1000))
    upload = EvidenceUpload.objects.get()
    EvidenceUpload.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    assert head(client, location).status_code == 404
    assert patch(client, location, 1000, b"0" * 10).status_code == 404
    call_command("expire_uploads", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert not EvidenceUpload.objects.exists()
    assert not uploads.partial_path(upload).exists()


def test_the_sweep_leaves_live_uploads_alone(api, kh_investigator, shared_case):
    location = create(api(kh_investigator), shared_case)["Location"]
    assert uploads.expire_uploads() == 0
    assert head(api(kh_investigator), location).status_code == 200


def test_a_second_writer_at_the_same_time_is_423(api, kh_investigator, shared_case):
    import fcntl

    client = api(kh_investigator)
    location = create(client, shared_case)["Location"]
    with open(uploads.partial_path(EvidenceUpload.objects.get()), "r+b") as busy:
        fcntl.flock(busy.fileno(), fcntl.LOCK_EX)
        response = patch(client, location, 0, pdf_bytes(1000))
    assert response.status_code == 423
    assert response.json()["code"] == "upload_locked"


def test_a_hostile_json_body_elsewhere_is_still_413(api, kh_investigator, settings):
    """The uploads read their own stream; every other endpoint keeps Django's limit."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api(kh_investigator).post(
        "/api/v1/notes/", '{"body": "' + "x" * 5000 + '"}', content_type="application/json"
    )
    assert response.status_code == 413


def test_chunks_bigger_than_the_form_limit_are_accepted(
    api, kh_investigator, shared_case, settings
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client = api(kh_investigator)
    location = create(client, shared_case)["Location"]
    assert patch(client, location, 0, pdf_bytes(16 * 1024))["Upload-Offset"] == "16384"


def test_an_upload_can_supersede_a_document(api, kh_investigator, shared_case, upload):
    old = upload()
    client = api(kh_investigator)
    data = pdf_bytes(2000)
    location = create(client, shared_case, length=2000, supersedes=str(old.public_id))["Location"]
    patch(client, location, 0, data)
    assert Document.objects.get(supersedes=old).sha256 == hashlib.sha256(data).hexdigest()
