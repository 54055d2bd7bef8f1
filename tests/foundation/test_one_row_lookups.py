"""Authentication's one-row lookups (`agencies.lookups`): the ORM's SQL, compiled once."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.utils import timezone

from agencies.backends import MemberBackend
from agencies.lookups import OneRowLookup
from agencies.models import Agency
from agencies.sessions import SessionStore

pytestmark = pytest.mark.django_db


def _fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_session_user_comes_with_membership_and_agency_in_one_query(
    knp_viewer, django_assert_num_queries
):
    with django_assert_num_queries(1):
        user = MemberBackend().get_user(knp_viewer.pk)
        agency = user.membership.agency
    expected = get_user_model().objects.select_related("membership__agency").get(pk=knp_viewer.pk)
    assert _fields(user) == _fields(expected)
    assert _fields(user.membership) == _fields(expected.membership)
    assert _fields(agency) == _fields(expected.membership.agency)


def test_session_user_deactivated_since_is_not_signed_in(knp_viewer):
    get_user_model().objects.filter(pk=knp_viewer.pk).update(is_active=False)
    assert MemberBackend().get_user(knp_viewer.pk) is None


def test_session_user_deleted_since_is_not_signed_in(knp_viewer):
    pk = knp_viewer.pk
    get_user_model().objects.filter(pk=pk).delete()
    assert MemberBackend().get_user(pk) is None


def test_session_of_a_deactivated_user_is_anonymous_over_http(client, knp_viewer):
    client.force_login(knp_viewer)
    assert client.get("/api/v1/me/").status_code == 200
    get_user_model().objects.filter(pk=knp_viewer.pk).update(is_active=False)
    assert client.get("/api/v1/me/").status_code in (401, 403)


def test_a_lookup_whose_query_has_other_parameters_is_refused(knp):
    lookup = OneRowLookup(
        lambda code: Agency.objects.filter(code=code, country="KR")[:1],
        Agency._meta.get_field("code"),
        "placeholder",
    )
    with pytest.raises(RuntimeError, match="unexpected parameters"):
        lookup.get("KR-KNP")


def test_a_lookup_reads_the_row_afresh_each_time(knp):
    lookup = OneRowLookup(
        lambda code: Agency.objects.filter(code=code)[:1],
        Agency._meta.get_field("code"),
        "placeholder",
    )
    assert lookup.get("KR-KNP").active is True
    Agency.objects.filter(pk=knp.pk).update(active=False)
    assert lookup.get("KR-KNP").active is False
    assert lookup.get("NOPE") is None


def _stored_session(**data) -> SessionStore:
    store = SessionStore()
    store.update(data)
    store.create()
    return store


def test_session_store_reads_a_live_session(db):
    stored = _stored_session(marker="kept")

    assert SessionStore(stored.session_key).load() == {"marker": "kept"}


def test_session_store_treats_an_expired_session_as_none(db):
    stored = _stored_session(marker="kept")
    Session.objects.filter(session_key=stored.session_key).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )
    reader = SessionStore(stored.session_key)

    assert reader.load() == {}
    assert reader.session_key is None


def test_session_store_treats_an_unknown_key_as_none(db):
    reader = SessionStore("x" * 32)

    assert reader.load() == {}
    assert reader.session_key is None
