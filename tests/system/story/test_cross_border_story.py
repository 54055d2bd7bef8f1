"""The whole cross-border story in Chromium, by clicks only, in English, Khmer and Korean.

After each person logs in through the login form, every page is reached by a
click (no typed URL): KR-KNP opens a pig-butchering case, writes in the
journal, shares it with KH-CCOS and KR-MOJ and gives KH-CCOS a task; KH-CCOS
finds the task from its notifications, logs progress, writes a note and
uploads AMBER evidence; KR-KNP downloads it giving a purpose and reads the
chain of custody, then adds a TRON wallet (held by KH-CCOS on another case: a
deconfliction hit) and a Cambodian phone number; KR-MOJ drafts an MLA request
to KH-MOJ, is told what is missing, completes and submits it; KH-MOJ
acknowledges and asks for more information, KR-MOJ answers, KH-MOJ executes it
partially. Each side finds the other's steps in its notifications; KR-MOJ in
the case timeline, KH-MOJ in the request's history (the case itself is a 404
for KH-MOJ). UNODC finds none of it anywhere.

Along the way every visited page is recorded per person: in Khmer and Korean
no string of the project's catalogue may be left in English on it
(`tests/i18n.py`), and every same-origin link on it must answer 200 to the
person who saw it. Screenshots: test-results/story/<language>/NN-step.png
(`make screenshots` copies a few into docs/screenshots/).
"""

from __future__ import annotations

import re
import time
from urllib.parse import urldefrag, urlsplit

import pytest

from agencies.choices import AgencyKind
from cases import deconfliction
from cases.choices import Chain, HandlingCode, MLAStatus
from cases.models import Case, CustodyEvent, Identifier, MLARequest, Note, TaskLogEntry
from config.celery import app as celery_app
from gate.roles import Role
from tests.browser import RESULTS_ROOT, Session
from tests.factories import make_agency, make_case, make_user
from tests.i18n import english_leftovers

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "Golden Fortune pig-butchering ring"
SUMMARY = "Victims in Seoul lured into a fake USDT platform run from Sihanoukville."
NOTE_KNP = "Forty victims in Seoul; losses of 3.2 million USD."
TASK = "Identify the compound's payment agents"
LOG = "Two payment agents identified in Sihanoukville."
NOTE_KH = "Compound raided; 40 phones seized."
EVIDENCE = "Seized payment ledger"
PURPOSE = "Annex to the MLA request for the bank records"
WALLET = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
PHONE = "012 345 678"
QUESTION = "Which branch opened the account?"
ANSWER = "The Sihanoukville branch, in March 2025."
PARTIAL = "The subscriber data was deleted after 12 months; bank records sent."
REFERENCE = "KR-MOJ-2026-17"
LEDGER = b"%PDF-1.7\n" + b"0" * 500
OFFENCES = "Fraud (Criminal Act art. 347), up to 10 years."
SOUGHT = "Bank statements and subscriber data."
BANK = "ACLEDA Bank Plc (ACLBKHPP)"
ACCOUNT = "KH-ACLEDA-0012345678"
KH_PHONE = "+855 12 345 678"
EARLIER = "Otres beach call centre"
TYPED = (TITLE, SUMMARY, NOTE_KNP, TASK, LOG, NOTE_KH, EVIDENCE, PURPOSE, WALLET, PHONE,
         QUESTION, ANSWER, PARTIAL, REFERENCE, OFFENCES, SOUGHT, BANK, ACCOUNT, KH_PHONE,
         EARLIER, "ledger.pdf", "kh.coordinator")  # fmt: skip

# Links that are not pages to check: logging out ends the session; static
# files and the notification's "open" link (it marks read: checked at the end).
SKIP_LINK = re.compile(r"/logout/|/static/|/media/|^javascript:|^mailto:")


@pytest.fixture
def eager(settings):
    """Notification tasks run in this process, as `make run` does without a broker."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    yield
    celery_app.conf.task_always_eager = before


@pytest.fixture
def world(db, settings, tmp_path, eager):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    agencies = {
        "knp": make_agency(
            "KR-KNP", name="Korean National Police Agency", country="KR", timezone="Asia/Seoul"
        ),
        "ccos": make_agency("KH-CCOS", name="Commission for Combating Online Scams", country="KH"),
        "krmoj": make_agency(
            "KR-MOJ",
            name="Ministry of Justice of Korea",
            country="KR",
            kind=AgencyKind.CENTRAL_AUTHORITY,
            timezone="Asia/Seoul",
        ),
        "khmoj": make_agency(
            "KH-MOJ",
            name="Ministry of Justice of Cambodia",
            country="KH",
            kind=AgencyKind.CENTRAL_AUTHORITY,
        ),
        "unodc": make_agency(
            "UNODC", name="UNODC", country="INT", kind="international", timezone="Asia/Bangkok"
        ),
    }
    users = {
        "knp": make_user(agencies["knp"], Role.COORDINATOR, "knp.coordinator"),
        "kh": make_user(agencies["ccos"], Role.INVESTIGATOR, "kh.investigator"),
        "krmoj": make_user(agencies["krmoj"], Role.COORDINATOR, "krmoj.coordinator"),
        "khmoj": make_user(agencies["khmoj"], Role.COORDINATOR, "khmoj.coordinator"),
        "unodc": make_user(agencies["unodc"], Role.COORDINATOR, "unodc.coordinator"),
    }
    # Held before the story starts: KH-CCOS recorded the same wallet on an
    # earlier case of its own (the deconfliction hit KR-KNP will see).
    kh_lead = make_user(agencies["ccos"], Role.COORDINATOR, "kh.coordinator")
    earlier = make_case(kh_lead, title=EARLIER)
    deconfliction.add_identifier(
        actor=kh_lead, case=earlier, kind="crypto_wallet", value=WALLET, chain=Chain.TRON
    )
    return {"agencies": agencies, "users": users}


class Story:
    """The people's browsers, the pages they saw, and what was wrong on them."""

    def __init__(self, browser, live_server, world, language: str):
        self.browser = browser
        self.live_server = live_server
        self.world = world
        self.language = language
        self.results = RESULTS_ROOT / "story" / language
        self.results.mkdir(parents=True, exist_ok=True)
        for old in self.results.glob("*.png"):
            old.unlink()
        self.sessions: dict[str, Session] = {}
        self.step = 0
        # What people typed or named: the pages rightly show it as it was written.
        self.data = [a.name for a in world["agencies"].values()]
        self.data += [u.username for u in world["users"].values()] + list(TYPED)
        self.leftovers: dict[str, list[str]] = {}
        self.checked: dict[str, set[str]] = {}
        self.deferred: dict[str, set[str]] = {}
        self.broken: list[str] = []
        self.link_seconds = 0.0

    def login(self, who: str):
        user = self.world["users"][who]
        user.membership.language = self.language
        user.membership.save(update_fields=["language"])
        session = Session(self.browser, self.live_server, user, who, results=self.results)
        session.page.set_default_timeout(10_000)
        self.sessions[who] = session
        self.checked.setdefault(who, set())
        self.deferred.setdefault(who, set())
        self.seen(who, "landing")
        return session.page

    def page(self, who: str):
        return self.sessions[who].page

    def seen(self, who: str, step: str, *, shot: bool = True) -> str:
        """Record the page `who` is on: its screenshot, leftovers, and links."""
        page = self.page(who)
        page.wait_for_load_state()
        text = page.evaluate("document.body.innerText")
        where = f"{who} {step} {urlsplit(page.url).path}"
        if self.language != "en":
            found = english_leftovers(text, self.language, data=self.data)
            if found:
                self.leftovers[where] = found
        if shot:
            self.step += 1
            page.screenshot(path=str(self.results / f"{self.step:02d}-{step}.png"))
        self.check_links(who, where)
        return text

    def check_links(self, who: str, where: str) -> None:
        started = time.monotonic()
        self._check_links(who, where)
        self.link_seconds += time.monotonic() - started

    def _check_links(self, who: str, where: str) -> None:
        """GET every same-origin link of the page once, as `who`; 200 after redirects."""
        page = self.page(who)
        base = self.live_server.url
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
        for href in hrefs:
            url, _ = urldefrag(href)
            if not url.startswith(base) or SKIP_LINK.search(urlsplit(url).path or url):
                continue
            if url in self.checked[who]:
                continue
            if "/open/" in urlsplit(url).path:  # opening marks read: checked at the end
                self.deferred[who].add(url)
                continue
            self.checked[who].add(url)
            self._get(who, url, where)

    def _get(self, who: str, url: str, where: str) -> None:
        response = self.page(who).context.request.get(url)
        if response.status != 200:
            self.broken.append(f"{where}: {url[len(self.live_server.url) :]} → {response.status}")

    def check_deferred_links(self) -> None:
        for who, urls in self.deferred.items():
            for url in sorted(urls - self.checked[who]):
                self._get(who, url, f"{who} (notification)")

    def close(self) -> None:
        for session in self.sessions.values():
            session.close()


def open_case(page, case: Case) -> None:
    """From anywhere in the admin: the case list (sidebar), then the case."""
    page.click("#site-name a")
    page.click(".app-cases a[href$='/admin/cases/case/']")
    page.click(f"#result_list a:has-text('{case.reference}')")
    page.wait_for_selector("#cb-tabs")


def success(page) -> None:
    page.wait_for_selector("ul.messagelist .success")


def notification_links(page) -> int:
    return page.locator("#notifications a.cb-notification-link").count()


def open_notification(page, text: str) -> None:
    """Open the landing page's newest notification whose text holds `text` (data, not words)."""
    page.click("#site-name a")
    page.locator("#notifications a.cb-notification-link", has_text=text).first.click()


@pytest.mark.parametrize("language", ["en", "km", "ko"])
def test_the_cross_border_story_by_clicks(browser, live_server, world, language):
    story = Story(browser, live_server, world, language)
    agencies = world["agencies"]
    try:
        play(story, agencies)
        story.check_deferred_links()
    except Exception:
        for who, session in story.sessions.items():
            session.page.screenshot(path=str(story.results / f"failed-{who}.png"))
        raise
    finally:
        story.close()
        links = sum(map(len, story.checked.values()))
        for who, urls in story.checked.items():
            print(who, *sorted(u[len(live_server.url) :] for u in urls), sep="\n  ")
        print(f"link checks: {story.link_seconds:.1f}s for {links} links")
    assert not story.broken, "Links that do not answer 200:\n" + "\n".join(story.broken)
    assert not story.leftovers, f"English left on {language} pages:\n" + "\n".join(
        f"{where}: {found}" for where, found in story.leftovers.items()
    )


def play(story: Story, agencies: dict) -> None:
    # --- KR-KNP opens the case, writes in the journal, shares it, plans a task ----------
    knp = story.login("knp")
    knp.click("a.addlink[href$='/admin/cases/case/add/']")
    knp.fill("#id_title", TITLE)
    knp.fill("#id_summary", SUMMARY)
    knp.check("input[name=crime_types][value=investment_fraud]")
    knp.check("input[name=crime_types][value=romance_fraud]")
    story.seen("knp", "new-case")
    knp.click("input[name=_continue]")
    success(knp)
    case = Case.objects.get(title=TITLE)
    story.data.append(case.reference)
    knp.click("#cb-tab-journal")
    knp.fill("#id_note-body", NOTE_KNP)
    knp.click("#cb-note-form input[type=submit]")
    success(knp)
    assert Note.objects.filter(case=case, body=NOTE_KNP).exists()
    story.seen("knp", "workspace")

    for agency in (agencies["ccos"], agencies["krmoj"]):
        knp.click("#cb-tab-overview")
        knp.click("#cb-share-link")
        knp.select_option("#id_agency", str(agency.pk))
        knp.select_option("#id_level", "contribute")
        story.seen("knp", f"share-{agency.code.lower()}")
        knp.click("#cb-share-form input[name=apply_submit]")
        success(knp)
    assert set(case.participations.values_list("agency__code", flat=True)) >= {
        "KH-CCOS",
        "KR-MOJ",
    }

    knp.click("#cb-tab-tasks")
    knp.fill("#id_task-title", TASK)
    knp.select_option("#id_task-assigned_agency", str(agencies["ccos"].pk))
    story.seen("knp", "new-task")
    knp.click("#cb-task-form input[type=submit]")
    success(knp)
    task = case.tasks.get(title=TASK)

    # --- KH-CCOS: the task from the notifications, progress, a note, evidence ----------
    kh = story.login("kh")
    assert notification_links(kh) >= 1
    open_notification(kh, TASK)
    story.seen("kh", "task-from-notification")
    kh.click(f".field-case a:has-text('{case.reference}')")
    kh.wait_for_selector("#cb-tabs")
    kh.click("#cb-tab-tasks")
    kh.fill(f"#cb-log-body-{task.pk}", LOG)
    kh.click(f"#cb-task-log-{task.pk} .cb-log-submit")
    success(kh)
    assert TaskLogEntry.objects.filter(task=task, body=LOG).exists()
    story.seen("kh", "task-log")
    kh.click("#cb-tab-journal")
    kh.fill("#id_note-body", NOTE_KH)
    kh.click("#cb-note-form input[type=submit]")
    success(kh)
    assert Note.objects.filter(case=case, body=NOTE_KH).exists()
    kh.click("#cb-tab-evidence")
    kh.click("#cb-upload-evidence")
    kh.fill("#id_title", EVIDENCE)
    kh.select_option("#id_handling_code", HandlingCode.AMBER)
    kh.set_input_files(
        "#id_file",
        files=[{"name": "ledger.pdf", "mimeType": "application/pdf", "buffer": LEDGER}],
    )
    story.seen("kh", "upload-evidence")
    kh.click("input[name=_save]")
    success(kh)
    kh.wait_for_selector("#cb-tabs")
    document = case.documents.get(title=EVIDENCE)
    assert document.handling_code == HandlingCode.AMBER

    # --- KR-KNP downloads the evidence with a purpose, reads the custody ---------------
    open_case(knp, case)
    knp.click("#cb-tab-evidence")
    story.seen("knp", "workspace-evidence")
    knp.click(f"tr.cb-document[data-document='{document.public_id}'] .cb-download")
    knp.fill("#id_purpose", PURPOSE)
    story.seen("knp", "download-purpose")
    with knp.expect_download() as download:
        knp.click("#download-submit")
    assert download.value.suggested_filename == document.original_name
    knp.click("#document-custody")
    custody = story.seen("knp", "custody")
    assert PURPOSE in custody
    assert CustodyEvent.objects.filter(document=document, action="download").exists()
    knp.click(f"a[href$='/admin/cases/document/{document.pk}/change/']")  # back to the admin

    # --- KR-KNP adds a TRON wallet and a Cambodian phone number: a hit ----------------
    open_case(knp, case)
    knp.click("#cb-tab-identifiers")
    knp.click("#cb-add-identifier")
    knp.select_option("#id_kind", "crypto_wallet")
    knp.fill("#id_value", WALLET)
    knp.select_option("#id_chain", Chain.TRON)
    story.seen("knp", "add-wallet")
    knp.click("input[name=_save]")
    knp.wait_for_selector(".deconfliction-hit")
    hit = story.seen("knp", "deconfliction-hit")
    assert "KH-CCOS" in hit
    assert knp.locator(".request-contact").count() >= 1
    knp.click("#add-another-identifier")
    knp.select_option("#id_kind", "phone")
    knp.fill("#id_value", PHONE)
    knp.fill("#id_country", "KH")
    knp.click("input[name=_save]")
    knp.wait_for_selector("#back-to-case")
    story.seen("knp", "phone-checked")
    knp.click("#back-to-case")
    knp.click("#cb-tab-identifiers")
    assert knp.locator("tr.cb-identifier").count() == 2
    assert set(Identifier.objects.filter(case=case).values_list("kind", flat=True)) == {
        "crypto_wallet",
        "phone",
    }
    story.seen("knp", "workspace-identifiers")

    # --- KR-MOJ drafts the MLA request, is told what is missing, submits ---------------
    krmoj = story.login("krmoj")
    krmoj.click(f"#recent-shares a:has-text('{case.reference}')")
    krmoj.click("#cb-tab-mla")
    krmoj.click("#cb-draft-mla")
    krmoj.select_option("#id_requested_agency", str(agencies["khmoj"].pk))
    krmoj.select_option("#id_legal_basis", "untoc")
    krmoj.fill("#id_facts", SUMMARY)
    krmoj.fill("#id_offences", OFFENCES)
    krmoj.fill("#id_assistance_sought", SOUGHT)
    krmoj.fill("#id_requesting_reference", REFERENCE)
    krmoj.check("input[name=assistance_types][value=bank_records]")
    krmoj.check("input[name=assistance_types][value=subscriber_data]")
    krmoj.fill("#id_bank_records__bank_identifiers", BANK)
    krmoj.fill("#id_bank_records__account_identifiers", ACCOUNT)
    krmoj.fill("#id_bank_records__period_start", "2025-01-01")
    krmoj.fill("#id_subscriber_data__identifiers", KH_PHONE)
    story.seen("krmoj", "mla-draft")
    krmoj.click("input[name=_continue]")
    krmoj.wait_for_selector("#mla-missing")
    story.seen("krmoj", "mla-missing")
    assert krmoj.locator("#mla-missing li").count() >= 3
    krmoj.fill("#id_bank_records__period_end", "2025-06-30")
    krmoj.fill("#id_subscriber_data__period_start", "2025-01-01")
    krmoj.fill("#id_subscriber_data__period_end", "2025-06-30")
    krmoj.click("input[name=_continue]")
    success(krmoj)
    assert krmoj.locator("#mla-missing").count() == 0
    request = MLARequest.objects.get(case=case)
    krmoj.click("#mla-verb-submit")
    success(krmoj)
    story.seen("krmoj", "mla-submitted")
    assert MLARequest.objects.get(pk=request.pk).status == MLAStatus.SUBMITTED

    # --- KH-MOJ acknowledges, asks for more; KR-MOJ answers; KH-MOJ executes partially --
    khmoj = story.login("khmoj")
    assert notification_links(khmoj) >= 1
    open_notification(khmoj, "KR-MOJ")
    khmoj.wait_for_selector("#mla-transitions")
    story.seen("khmoj", "mla-received")
    khmoj.click("#mla-verb-acknowledge")
    success(khmoj)
    khmoj.click("#mla-verb-request-more-info")
    khmoj.fill("#id_comment", QUESTION)
    story.seen("khmoj", "mla-question")
    khmoj.click("#mla-transition-confirm")
    success(khmoj)
    assert MLARequest.objects.get(pk=request.pk).status == MLAStatus.MORE_INFO_REQUESTED

    open_notification(krmoj, "KH-MOJ")
    krmoj.wait_for_selector("#mla-transitions")
    assert QUESTION in story.seen("krmoj", "mla-question-received")
    krmoj.click("#mla-verb-provide-info")
    krmoj.fill("#id_comment", ANSWER)
    krmoj.click("#mla-transition-confirm")
    success(krmoj)
    assert MLARequest.objects.get(pk=request.pk).status == MLAStatus.ACKNOWLEDGED

    open_notification(khmoj, "KR-MOJ")
    khmoj.wait_for_selector("#mla-transitions")
    assert ANSWER in story.seen("khmoj", "mla-answer-received")
    khmoj.click("#mla-verb-start-execution")
    success(khmoj)
    khmoj.click("#mla-verb-execute-partially")
    khmoj.fill("#id_comment", PARTIAL)
    khmoj.click("#mla-transition-confirm")
    success(khmoj)
    khmoj.locator(".inline-group").last.scroll_into_view_if_needed()
    history = story.seen("khmoj", "mla-history")
    assert PARTIAL in history and ANSWER in history and QUESTION in history
    assert MLARequest.objects.get(pk=request.pk).status == MLAStatus.PARTIALLY_EXECUTED
    khmoj.click("#site-name a")
    khmoj.click("#notifications a.cb-all-notifications")
    story.seen("khmoj", "requested-notifications")
    steps = khmoj.locator("#result_list tbody tr", has_text=REFERENCE)
    assert steps.count() >= 2  # submitted, information provided
    # The requested side never sees the case (asked directly, not offered by the UI).
    assert khmoj.locator("#mla-case-link").count() == 0
    answer = khmoj.context.request.get(
        f"{story.live_server.url}/admin/cases/case/{case.pk}/change/"
    )
    assert answer.status == 404
    assert TITLE not in answer.text() and case.reference not in answer.text()

    # --- KR-MOJ: the notification, the request page, the case timeline -----------------
    open_notification(krmoj, "KH-MOJ")
    krmoj.wait_for_url(f"**/admin/cases/mlarequest/{request.pk}/change/")
    assert PARTIAL in story.seen("krmoj", "mla-result")
    krmoj.click("#mla-case-link")
    krmoj.click("#cb-tab-timeline")
    krmoj.wait_for_selector("#cb-timeline-body[data-cb-loaded]")
    timeline = story.seen("krmoj", "case-timeline")
    entries = krmoj.locator("#cb-timeline li.cb-timeline-entry")
    assert entries.count() >= 5
    assert "KH-MOJ" in timeline
    # Each of KH-MOJ's four steps is on the requesting side's timeline.
    assert entries.filter(has_text="khmoj.coordinator").count() >= 4
    krmoj.click("#cb-tab-mla")
    assert krmoj.locator("tr.cb-mla-request").count() == 1
    story.seen("krmoj", "workspace-mla")
    krmoj.click("#site-name a")
    krmoj.click("#notifications a.cb-all-notifications")
    story.seen("krmoj", "notification-list")
    steps = krmoj.locator("#result_list tbody tr", has_text=REFERENCE)
    assert steps.count() >= 4  # acknowledged, asked, started, partially executed

    # KR-KNP, the lead, is no party to KR-MOJ's request: its timeline holds the case's work.
    open_case(knp, case)
    knp.click("#cb-tab-timeline")
    knp.wait_for_selector("#cb-timeline-body[data-cb-loaded]")
    story.seen("knp", "lead-timeline")

    # --- UNODC finds none of it anywhere ------------------------------------------------
    unodc = story.login("unodc")
    secrets = (TITLE, case.reference, REFERENCE, TASK, EVIDENCE, str(case.public_id))

    def hidden(where: str) -> None:
        text = story.seen("unodc", where)
        content = unodc.content()
        for secret in secrets:
            assert secret not in text and secret not in content, (where, secret)

    hidden("unodc-landing")
    assert notification_links(unodc) == 0
    unodc.click(".app-cases a[href$='/admin/cases/case/']")
    hidden("unodc-cases")
    unodc.click("#site-name a")
    unodc.click(".app-cases a[href$='/admin/cases/mlarequest/']")
    hidden("unodc-mla-requests")
    unodc.click("#site-name a")
    unodc.click("#notifications a.cb-all-notifications")
    hidden("unodc-notifications")
