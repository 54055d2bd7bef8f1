"""Site-wide: the landing page, the favicon, languages under their own names,
the language switch before sign-in, the shipped webfonts and the time zone label."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client

from tests.admin_client import login

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]
NATIVE = {"en": "English", "km": "ខ្មែរ", "ko": "한국어"}


def options(html: str, select_name: str) -> dict[str, str]:
    select = re.search(rf'<select[^>]*name="{select_name}".*?</select>', html, re.S).group(0)
    return dict(re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select))


# --- landing page and favicon --------------------------------------------------------


def test_the_root_url_leads_to_the_admin_landing_page():
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_a_member_following_the_root_url_lands_on_my_work(knp_coordinator):
    response = login(knp_coordinator).get("/", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/admin/"


def test_favicon_ico_redirects_to_a_shipped_icon():
    response = Client().get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("casebridge/favicon.svg")
    assert finders.find("casebridge/favicon.svg")


def test_admin_pages_name_their_icon(knp_coordinator):
    html = login(knp_coordinator).get("/admin/").content.decode()
    icon = r'<link rel="icon" type="image/svg\+xml" href="[^"]*casebridge/favicon\.svg"'
    assert re.search(icon, html)


# --- languages under their own names -------------------------------------------------


def test_languages_are_named_in_themselves():
    assert dict(settings.LANGUAGES) == NATIVE


@pytest.mark.parametrize("language", ["en", "km", "ko"])
def test_the_preferences_picker_names_each_language_in_itself(kh_investigator, language):
    membership = kh_investigator.membership
    membership.language = language
    membership.save(update_fields=["language"])
    html = login(kh_investigator).get("/admin/preferences/").content.decode()
    picker = options(html, "language")
    assert {code: picker[code] for code in NATIVE} == NATIVE


def test_a_member_stuck_in_khmer_can_switch_to_korean(kh_investigator):
    membership = kh_investigator.membership
    membership.language = "km"
    membership.save(update_fields=["language"])
    client = login(kh_investigator)
    response = client.post("/admin/preferences/", {"language": "ko"}, follow=True)
    assert response.status_code == 200
    membership.refresh_from_db()
    assert membership.language == "ko"
    assert "환경설정을 저장했습니다." in response.content.decode()


def test_the_invite_form_names_each_language_in_itself(knp):
    from gate.roles import Role
    from tests.factories import make_user

    admin = make_user(knp, Role.AGENCY_ADMIN)
    html = login(admin).get("/admin/agencies/membership/add/").content.decode()
    picker = options(html, "language")
    assert {code: picker[code] for code in NATIVE} == NATIVE


def test_the_login_page_offers_every_language_under_its_own_name():
    html = Client().get("/admin/login/").content.decode()
    assert 'id="cb-language-form"' in html
    assert options(html, "language") == NATIVE


def test_the_language_switch_before_sign_in_changes_the_login_page():
    client = Client()
    response = client.post(
        "/i18n/setlang/", {"language": "ko", "next": "/admin/login/"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/admin/login/"
    html = response.content.decode()
    assert 'lang="ko"' in html
    assert "로그인" in html


def test_the_language_switch_does_not_redirect_elsewhere():
    response = Client().post("/i18n/setlang/", {"language": "km", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]


def test_signed_in_members_get_no_second_language_switch(knp_coordinator):
    html = login(knp_coordinator).get("/admin/").content.decode()
    assert 'id="cb-language-form"' not in html


# --- webfonts ------------------------------------------------------------------------


def test_fonts_css_declares_the_shipped_khmer_and_korean_faces():
    css = Path(finders.find("casebridge/fonts.css")).read_text()
    faces = re.findall(r"@font-face\s*{(.*?)}", css, re.S)
    sources = {re.search(r'url\("([^"]+)"\)', face).group(1): face for face in faces}
    assert set(sources) == {
        "fonts/NotoSansKhmer-Regular.ttf",
        "fonts/NotoSansKhmer-Bold.ttf",
        "fonts/CasebridgeHangul-Regular.woff",
        "fonts/CasebridgeHangul-Bold.woff",
    }
    for url, face in sources.items():
        assert finders.find(f"casebridge/{url}"), url
        if "Khmer" in url:
            assert "U+1780-17FF" in face and "U+19E0-19FF" in face
        else:
            assert "U+AC00-D7AF" in face and "U+1100-11FF" in face


def test_fonts_css_puts_the_shipped_faces_first_in_the_admin_font_stack():
    css = Path(finders.find("casebridge/fonts.css")).read_text()
    stack = re.search(r"--font-family-primary:\s*([^;]+);", css).group(1)
    families = [name.strip().strip('"') for name in stack.split(",")]
    assert families[:2] == ["Casebridge Khmer", "Casebridge Hangul"]
    assert "sans-serif" in families


def test_admin_pages_load_the_fonts(knp_coordinator):
    assert b"casebridge/fonts.css" in Client().get("/admin/login/").content
    assert b"casebridge/fonts.css" in login(knp_coordinator).get("/admin/").content


@pytest.mark.parametrize(
    "template",
    [
        "templates/admin/cases/case/summary.html",
        "cases/templates/cases/custody_report.html",
        "cases/templates/cases/mla/letter.html",
    ],
)
def test_printable_pages_outside_the_admin_load_the_fonts(template):
    assert "casebridge/fonts.css" in (ROOT / template).read_text()


def test_the_content_security_policy_allows_our_own_fonts():
    policy = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    assert "'self'" in policy["font-src"]
    assert "'self'" in policy["style-src"]


# --- time zone -------------------------------------------------------------------------


def test_every_admin_page_says_which_time_zone_its_times_are_in(knp_coordinator, kh_investigator):
    seoul = login(knp_coordinator).get("/admin/").content.decode()
    phnom_penh = login(kh_investigator).get("/admin/").content.decode()
    assert re.search(r'id="cb-timezone"[^>]*>Asia/Seoul \(UTC\+0900\)<', seoul)
    assert re.search(r'id="cb-timezone"[^>]*>Asia/Phnom_Penh \(UTC\+0700\)<', phnom_penh)


def test_the_preferences_page_names_the_agency_time_zone(kh_investigator):
    html = login(kh_investigator).get("/admin/preferences/").content.decode()
    assert "Asia/Phnom_Penh" in html


def test_the_admin_javascript_speaks_khmer(kh_investigator):
    membership = kh_investigator.membership
    membership.language = "km"
    membership.save(update_fields=["language"])
    script = login(kh_investigator).get("/admin/jsi18n/").content.decode()
    script = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), script)
    assert "មករា" in script  # January, for the calendar of date fields
    assert "ជ្រើសកាលបរិច្ឆេទ" in script  # "Choose a Date"


def test_django_strings_left_english_by_django_khmer_are_translated():
    from django.utils import translation

    with translation.override("km"):
        assert translation.gettext("Filter navigation items") == "តម្រងធាតុរុករក"
        assert translation.gettext("Enter a valid date.") == "សូមបញ្ចូលកាលបរិច្ឆេទត្រឹមត្រូវ។"
