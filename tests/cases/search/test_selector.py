"""`cases.search.search`: what each reader finds, and only that."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases import search, services
from cases.choices import AccessLevel
from gate.errors import ValidationFailed
from tests.factories import make_case, make_user

from .conftest import WORDS


def _found(user, query, **kwargs) -> list[tuple[str, object]]:
    return [(hit.kind, hit.public_id) for hit in search.search(user, query, **kwargs).hits]


@pytest.mark.parametrize("kind", list(WORDS))
def test_each_kind_is_found_by_the_lead(world, knp_coordinator, kind):
    expected = getattr(world, kind).public_id
    assert _found(knp_coordinator, WORDS[kind]) == [(kind, expected)]


@pytest.mark.parametrize("kind", list(WORDS))
def test_each_kind_is_found_by_a_partner_the_case_is_shared_with(world, kh_investigator, kind):
    assert _found(kh_investigator, WORDS[kind]) == [(kind, getattr(world, kind).public_id)]


def test_a_hit_names_its_case(world, knp_coordinator):
    (hit,) = search.search(knp_coordinator, "USDT").hits
    assert (hit.case_public_id, hit.case_reference, hit.case_pk) == (
        world.case.public_id,
        world.case.reference,
        world.case.pk,
    )
    assert hit.title == world.task.title


@pytest.mark.parametrize("query", [*WORDS.values(), "Kestrel", "compound"])
def test_an_agency_the_case_is_not_shared_with_finds_nothing(world, outsider, query):
    assert search.search(outsider, query).hits == []


def test_an_outsider_finds_its_own_case_and_nothing_else(world, outsider):
    own = make_case(outsider, title="Sihanoukville raid of UNODC")
    assert _found(outsider, "Sihanoukville") == [("case", own.public_id)]


def test_a_red_note_of_another_agency_is_not_found(world, knp_coordinator):
    assert search.search(knp_coordinator, "Kestrel").hits == []


def test_a_red_note_is_found_by_its_own_agency(world, kh_investigator):
    assert _found(kh_investigator, "Kestrel") == [("note", world.red_note.public_id)]


def test_a_revoked_agency_finds_nothing_any_more(world, knp_coordinator, kh_investigator):
    participation = world.case.participations.get(agency__code="KH-CCOS")
    services.revoke_case(actor=knp_coordinator, participation=participation)
    assert search.search(kh_investigator, "Seoul").hits == []


def test_kind_narrows_the_search(world, knp_coordinator):
    # "compound" is in the case's summary and the identifier's value.
    assert {k for k, _ in _found(knp_coordinator, "compound")} == {"case", "identifier"}
    assert {k for k, _ in _found(knp_coordinator, "compound", kinds=["identifier"])} == {
        "identifier"
    }


def test_matching_ignores_case(world, knp_coordinator):
    assert _found(knp_coordinator, "sEOUL") == [("note", world.note.public_id)]


@pytest.mark.parametrize("query", ["", " ", "a", " a  ", "x" * 201])
def test_a_query_too_short_or_too_long_is_refused(knp_coordinator, query):
    with pytest.raises(ValidationFailed) as caught:
        search.search(knp_coordinator, query)
    assert list(caught.value.errors) == ["q"]


def test_percent_and_underscore_are_plain_characters(world, knp_coordinator):
    assert search.search(knp_coordinator, "%%").hits == []
    assert search.search(knp_coordinator, "__").hits == []


def test_a_user_of_no_agency_finds_nothing(world, django_user_model):
    nobody = django_user_model.objects.create_user("nobody", password="x")
    assert search.search(nobody, "Seoul").hits == []


# --- pages ----------------------------------------------------------------------


def test_pages_follow_each_other_without_overlap(knp_coordinator, settings):
    settings.SEARCH_CANDIDATES = 10
    case = make_case(knp_coordinator, title="Paging case")
    for i in range(12):
        services.add_note(actor=knp_coordinator, case=case, body=f"Ledger page {i}")
    first = search.search(knp_coordinator, "ledger", limit=4)
    second = search.search(knp_coordinator, "ledger", offset=4, limit=4)
    last = search.search(knp_coordinator, "ledger", offset=8, limit=4)
    assert first.has_more and second.has_more and not last.has_more
    ids = [h.public_id for page in (first, second, last) for h in page.hits]
    # At most SEARCH_CANDIDATES results, each once.
    assert len(ids) == len(set(ids)) == 10


# --- ranking ---------------------------------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram ranking")
def test_a_whole_word_ranks_above_part_of_a_word(knp_coordinator):
    part = make_case(knp_coordinator, title="Lotusland casino", summary="")
    whole = make_case(knp_coordinator, title="Operation Lotus", summary="")
    hits = search.search(knp_coordinator, "lotus").hits
    assert [h.public_id for h in hits] == [whole.public_id, part.public_id]
    assert hits[0].rank > hits[1].rank


def test_equal_matches_come_newest_first(knp_coordinator):
    older = make_case(knp_coordinator, title="Operation Lotus one", summary="")
    newer = make_case(knp_coordinator, title="Operation Lotus two", summary="")
    hits = search.search(knp_coordinator, "lotus").hits
    assert [h.public_id for h in hits] == [newer.public_id, older.public_id]


# --- snippets --------------------------------------------------------------------


def test_stored_html_is_escaped_in_the_snippet(knp_coordinator):
    case = make_case(knp_coordinator, title="Escape case")
    services.add_note(
        actor=knp_coordinator,
        case=case,
        body='<script>alert("x")</script> paid <b>Kestrel</b> & co',
    )
    (hit,) = search.search(knp_coordinator, "kestrel").hits
    assert hit.snippet == (
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; paid "
        "&lt;b&gt;<mark>Kestrel</mark>&lt;/b&gt; &amp; co"
    )


def test_html_in_the_query_is_escaped_inside_the_mark(knp_coordinator):
    case = make_case(knp_coordinator, title="Escape case")
    services.add_note(actor=knp_coordinator, case=case, body="Tag <b>here</b>")
    (hit,) = search.search(knp_coordinator, "<b>").hits
    assert hit.snippet == "Tag <mark>&lt;b&gt;</mark>here&lt;/b&gt;"


def test_the_snippet_is_cut_around_the_first_match_of_a_long_note(knp_coordinator):
    case = make_case(knp_coordinator, title="Long note")
    body = "Lorem ipsum dolor sit amet. " * 40 + "The cashier Kestrel fled. " + "Tail text. " * 40
    services.add_note(actor=knp_coordinator, case=case, body=body)
    (hit,) = search.search(knp_coordinator, "kestrel").hits
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…")
    assert "<mark>Kestrel</mark>" in hit.snippet
    assert len(hit.snippet) < 250
    assert hit.title == body[: search.TITLE_CHARS - 1].rstrip() + "…"


def test_a_case_snippet_comes_from_the_summary_when_it_matches(knp_coordinator):
    make_case(knp_coordinator, title="Compound raid", summary="Raid on the compound in Bavet.")
    (hit,) = search.search(knp_coordinator, "compound").hits
    assert hit.title == "Compound raid"
    assert hit.snippet == "Raid on the <mark>compound</mark> in Bavet."


@pytest.mark.parametrize(
    ("text", "query", "expected"),
    [
        ("Kestrel and kestrel", "KESTREL", "<mark>Kestrel</mark> and <mark>kestrel</mark>"),
        ("two\nlines  here", "two lines", "<mark>two lines</mark> here"),
        ("a < b", "<", "a <mark>&lt;</mark> b"),
        ("no match at all", "zz", "no match at all"),
    ],
)
def test_highlight(text, query, expected):
    assert search.highlight(text, query) == expected


def test_highlight_drops_the_partial_words_at_a_cut():
    assert search.highlight("ipsum dolor Kestrel sit am", "kestrel", cut_before=True,
                            cut_after=True) == "…dolor <mark>Kestrel</mark> sit…"  # fmt: skip


# --- any script ------------------------------------------------------------------

SCRIPTS = {
    "Korean": ("피해자 김민수 진술 확보", ["김민", "김민수", "민수"]),
    "Khmer": ("ជនសង្ស័យ សុខ ដារ៉ា នៅក្រុងព្រះសីហនុ", ["សុ", "សុខ", "ដារ៉ា"]),
    "Chinese": ("嫌疑人王伟在西港园区负责洗钱", ["王伟", "王伟在", "西港"]),
}


@pytest.mark.parametrize("script", list(SCRIPTS))
def test_two_and_three_character_queries_find_any_script(knp_coordinator, script):
    text, queries = SCRIPTS[script]
    case = make_case(knp_coordinator, title=f"{script} case", summary=text)
    note = services.add_note(actor=knp_coordinator, case=case, body=text)
    make_case(knp_coordinator, title="Unrelated", summary="Nothing here")
    for query in queries:
        hits = search.search(knp_coordinator, query).hits
        assert {(h.kind, h.public_id) for h in hits} == {
            ("case", case.public_id),
            ("note", note.public_id),
        }, query
        assert all(f"<mark>{query}</mark>" in h.snippet for h in hits), query


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's indexes")
@pytest.mark.parametrize(
    ("kind", "query", "index"),
    [
        ("note", "김민", "cb_search_note_pairs"),
        ("note", "김민수", "cb_search_note_body_trgm"),
        ("case", "王伟", "cb_search_case_pairs"),
        ("case", "សុខ", "cb_search_case_title_trgm"),
        ("identifier", "xu", "cb_search_identifier_pairs"),
        ("task", "wallet", "cb_search_task_title_trgm"),
    ],
)
def test_the_search_condition_is_served_by_the_migrations_indexes(db, kind, query, index):
    """The condition as the search writes it can be read from the index made
    for the query's length (character pairs for two characters, trigrams
    beyond): the expressions are the same. Plain scans are switched off, so
    that the planner, on these tiny tables, has no other way than an index."""
    source = search.SOURCES[kind]
    queryset = search.matching(source.model.objects.all(), source, query).values("pk")
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        for scan in ("seqscan", "indexscan", "indexonlyscan"):
            cursor.execute(f"SET LOCAL enable_{scan} = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan, plan


# --- a fixed number of queries ------------------------------------------------------


def _queries(user, query: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        search.search(user, query)
    return len(captured)


def test_the_query_count_does_not_grow_with_the_matches(knp_coordinator, knp, ccos):
    case = make_case(knp_coordinator, title="Ledger case one")
    services.add_note(actor=knp_coordinator, case=case, body="Ledger note")
    services.create_task(actor=knp_coordinator, case=case, title="Ledger task", assigned_agency=knp)
    services.share_case(actor=knp_coordinator, case=case, agency=ccos, level=AccessLevel.VIEW)
    one = _queries(knp_coordinator, "ledger")
    for i in range(29):
        other = make_case(knp_coordinator, title=f"Ledger case {i}", summary="ledger")
        services.add_note(actor=knp_coordinator, case=other, body=f"Ledger note {i}")
        services.create_task(
            actor=knp_coordinator, case=other, title=f"Ledger task {i}", assigned_agency=knp
        )
    assert len(search.search(knp_coordinator, "ledger", limit=50).hits) == 50
    # Per kind, the count of the term's matches, and its candidates where
    # it has any (cases, notes and tasks here; no document or identifier).
    assert _queries(knp_coordinator, "ledger") == one == len(search.KINDS) + 3


def test_one_kind_costs_two_queries(world, knp_coordinator):
    search.search(knp_coordinator, "Seoul")  # the membership, read once per user
    with CaptureQueriesContext(connection) as captured:
        search.search(knp_coordinator, "Seoul", kinds=["note"])
    assert len(captured) == 2


def test_a_term_nobody_wrote_costs_one_query_per_kind(world, knp_coordinator):
    search.search(knp_coordinator, "Seoul")
    with CaptureQueriesContext(connection) as captured:
        assert search.search(knp_coordinator, "zyxwvut").hits == []
    assert len(captured) == len(search.KINDS)


def test_a_viewer_finds_what_its_agency_sees(world, knp):
    viewer = make_user(knp, "viewer")
    assert _found(viewer, "Seoul") == [("note", world.note.public_id)]


def test_newer_matches_hidden_from_the_reader_do_not_crowd_out_older_visible_ones(
    shared_case, knp_coordinator, kh_investigator, settings
):
    """Children are narrowed by their case first (CASE_LAYER_FACTOR times the
    candidates), then by the whole rule: hidden rows among the newest matches
    only shorten that first list."""
    settings.SEARCH_CANDIDATES = 2
    older = services.add_note(actor=knp_coordinator, case=shared_case, body="Ledger, visible")
    for i in range(search.CASE_LAYER_FACTOR * 2 - 2):
        services.add_note(
            actor=kh_investigator, case=shared_case, body=f"Ledger {i}", handling_code="RED"
        )
    assert _found(knp_coordinator, "ledger") == [("note", older.public_id)]
