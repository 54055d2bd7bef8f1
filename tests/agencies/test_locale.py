"""Each member's screens speak their language and show their agency's time."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django.utils import timezone, translation

from agencies.middleware import MembershipLocaleMiddleware

pytestmark = pytest.mark.django_db


def seen_during_request(user) -> tuple[str, str]:
    seen = {}

    def view(request):
        seen["tz"] = timezone.get_current_timezone_name()
        seen["lang"] = translation.get_language()

    request = RequestFactory().get("/admin/")
    request.user = user
    with translation.override("en"):
        MembershipLocaleMiddleware(view)(request)
    return seen["tz"], seen["lang"]


def test_a_member_sees_their_agencys_time_zone(knp_coordinator, kh_investigator):
    assert seen_during_request(knp_coordinator)[0] == "Asia/Seoul"
    assert seen_during_request(kh_investigator)[0] == "Asia/Phnom_Penh"


def test_a_members_chosen_language_wins_over_the_browser(kh_investigator):
    membership = kh_investigator.membership
    membership.language = "km"
    membership.save(update_fields=["language"])
    assert seen_during_request(kh_investigator)[1] == "km"


def test_without_a_choice_the_browser_language_stays(kh_investigator):
    assert seen_during_request(kh_investigator)[1] == "en"


def test_anonymous_requests_keep_the_defaults():
    assert seen_during_request(AnonymousUser()) == ("UTC", "en")


def test_the_time_zone_does_not_leak_into_the_next_request(knp_coordinator):
    seen_during_request(knp_coordinator)
    assert timezone.get_current_timezone_name() == "UTC"


def test_the_compiled_catalogues_translate_the_domain_vocabulary():
    from cases.choices import CaseStatus, TaskStatus

    with translation.override("ko"):
        assert str(TaskStatus.IN_PROGRESS.label) == "진행 중"
    with translation.override("km"):
        assert str(CaseStatus.CLOSED.label) == "បិទ"
