"""Full-text search over what the reader may see (issue 19).

One search over case titles and summaries, notes, task titles and
descriptions, document titles and identifiers' recorded values, in any
script. Each kind starts from the gate's selector for the reader
(`access.visible_cases`, `visible_notes`, `visible_tasks`,
`visible_documents`, `visible_identifiers`): a row the reader may not see is
never matched, counted or ranked, and nothing about it reaches the answer.

* **Matching** is a case-insensitive substring of the query (`icontains`;
  on PostgreSQL `UPPER(column) LIKE UPPER('%q%')`), served by pg_trgm GIN
  indexes on `UPPER(column)` (migration 0020). Trigrams work in every script
  (Khmer and Korean have no stemmer for PostgreSQL's text search). A query of
  two characters holds no trigram, and pg_trgm would read its whole index:
  those are found in a second GIN index, of each row's upper-cased character
  pairs (`cb_search_bigrams`, same migration), each row then tested with
  `strpos` (`matching`). On SQLite (the demo) the same `icontains`,
  unindexed.
* **Rare or common**: first, each kind asks its index for the term's matches
  in every agency's rows, at most `SEARCH_RARE_MATCHES` + 1 of their ids (a
  narrowing only: the rule still decides every row, below). A rarer term's
  candidates are then read from those ids; a common one's by the walk below,
  which finds a page of them early. Either way the candidates are the same
  (the reader's first matches in its list order); only the cost differs: a
  name in 0.3 % of texts made the walk read 14,000 cases to find 50.
* **Candidates**: ranking every match of a common word would read every match
  (hundreds of thousands at 1M cases), so each kind takes its first
  `SEARCH_CANDIDATES` (50) matches the reader may see, and a search returns
  at most that many results. First in the reader's case list: cases in its
  agency's list order (`access.visible_cases_in_list_order`, most recently
  active first), case children (notes, tasks, identifiers) by their case's
  place in that list, then their own recency; documents, which a party of
  an MLA request may see without the case, by their own recency. PostgreSQL
  reads a rare word's matches from the index, and walks the agency's own
  list (its grant index) until it has enough matches of a common one,
  whatever the agency's size. Children are first narrowed so by the case
  layer of the rule alone, `CASE_LAYER_FACTOR` times the candidates, and the
  whole rule of their selector runs on those only: the disclosure of other
  agencies, which joins the case and its participations, never runs over
  thousands of matches. At most two queries per kind (the count of matches,
  the candidates), whatever the size of the data.
* **Ranking**, of the candidates, here: pg_trgm's `word_similarity` of the
  query to the field (a whole word ranks above a part of one; secondary
  fields, the summary or a task's description, weigh a little less), then
  recency. Exact for rarer queries, the best of the first for common ones.
* **Snippets**: the database cuts a short excerpt around the first match (a
  long note is never fetched whole); it is highlighted here, the text
  HTML-escaped and each match wrapped in `<mark>`.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import TrigramWordSimilarity
from django.db import connection, models
from django.db.models import F, FilteredRelation, Func, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Greatest, Length, StrIndex, Substr, Upper
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from agencies.actors import AnyUser
from agencies.models import Agency
from gate.errors import ValidationFailed

from . import access
from .choices import AccessLevel, SearchKind
from .models import Case, Document, Identifier, Note, Task

KINDS: tuple[str, ...] = tuple(SearchKind.values)
MIN_QUERY_LENGTH = 2
MAX_QUERY_LENGTH = 200
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 50
#: Characters of context the database cuts before and after the first match.
CONTEXT_BEFORE = 60
CONTEXT_AFTER = 120
#: The longest title shown (a note's first line, cut).
TITLE_CHARS = 120
#: A match in a secondary field (a case's summary, a task's description) ranks
#: a little below the same match in the title.
SECONDARY_WEIGHT = 0.9
#: At most this many characters of a partial word are dropped at a cut.
WORD_CUT = 20
#: The SQL function of migration 0020 listing a row's character pairs.
BIGRAM_FUNCTION = "cb_search_bigrams"
#: Queries shorter than a trigram use the character-pair index.
TRIGRAM = 3


@dataclass(frozen=True)
class Source:
    """Where one kind of result comes from, and how it is shown."""

    kind: str
    model: type[models.Model]
    #: The gate's selector for a user: the only rows this kind reads.
    selector: Callable[[AnyUser], QuerySet[Any]]
    #: Searched fields; the first is the title's (weight 1), the others weigh
    #: SECONDARY_WEIGHT and give the snippet when they match.
    fields: tuple[str, ...]
    #: What "recency" means for this kind.
    recency: str
    #: The order the candidates are taken in (an index's, newest first).
    window_order: tuple[str, ...]
    #: Whether the row is the case itself (else it has a `case`).
    is_case: bool = False


SOURCES: dict[str, Source] = {
    SearchKind.CASE: Source(
        SearchKind.CASE,
        Case,
        access.visible_cases,
        ("title", "summary"),
        "updated_at",
        # The index `case_updated_public` (updated_at, public_id), backwards.
        ("-updated_at", "-public_id"),
        is_case=True,
    ),
    SearchKind.NOTE: Source(
        SearchKind.NOTE, Note, access.visible_notes, ("body",), "created_at", ("-created_at", "-id")
    ),
    SearchKind.TASK: Source(
        SearchKind.TASK,
        Task,
        access.visible_tasks,
        ("title", "description"),
        "updated_at",
        ("-updated_at", "-id"),
    ),
    SearchKind.DOCUMENT: Source(
        SearchKind.DOCUMENT,
        Document,
        access.visible_documents,
        ("title",),
        "created_at",
        ("-created_at", "-id"),
    ),
    SearchKind.IDENTIFIER: Source(
        SearchKind.IDENTIFIER,
        Identifier,
        access.visible_identifiers,
        # The value as recorded, which the reader sees; never the keyed hash
        # deconfliction matches on (`cases.deconfliction`).
        ("raw_value",),
        "created_at",
        ("-created_at", "-id"),
    ),
}


@dataclass(frozen=True)
class Hit:
    """One result. `case_*` are None for a document whose case the reader
    does not see (a party of its MLA request)."""

    kind: str
    pk: int
    public_id: uuid.UUID
    case_pk: int | None
    case_public_id: uuid.UUID | None
    case_reference: str | None
    title: str
    #: HTML: the text escaped, the matches in <mark>.
    snippet: SafeString
    rank: float
    updated_at: dt.datetime


@dataclass(frozen=True)
class Results:
    hits: list[Hit]
    #: Whether a further page holds more (within the candidate cap).
    has_more: bool


def candidates() -> int:
    """How many matches of each kind are ranked, and the most a search returns."""
    return int(settings.SEARCH_CANDIDATES)


def clean_query(raw: str) -> str:
    """The query as searched: whitespace runs made one space. Too short a
    query would match nearly everything, too long a one nothing useful."""
    query = " ".join(str(raw).split())
    if len(query) < MIN_QUERY_LENGTH:
        raise ValidationFailed(
            {"q": [_("Type at least %(count)d characters.") % {"count": MIN_QUERY_LENGTH}]}
        )
    if len(query) > MAX_QUERY_LENGTH:
        raise ValidationFailed(
            {"q": [_("Type at most %(count)d characters.") % {"count": MAX_QUERY_LENGTH}]}
        )
    if "\x00" in query:
        raise ValidationFailed({"q": [_("Null characters are not allowed.")]})
    return query


def search(
    user: AnyUser,
    query: str,
    *,
    kinds: Iterable[str] | None = None,
    offset: int = 0,
    limit: int = DEFAULT_PAGE_SIZE,
) -> Results:
    """The page of results at `offset` for `query`, best first, of what
    `user` may see: at most one query per kind asked for."""
    query = clean_query(query)
    wanted = set(KINDS if kinds is None else kinds)
    chosen = [kind for kind in KINDS if kind in wanted]
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValueError(f"limit must be from 1 to {MAX_PAGE_SIZE}")
    cap = candidates()
    if offset < 0 or offset >= cap or not chosen:
        return Results([], False)
    end = min(offset + limit, cap)
    found = [
        (SOURCES[kind], row) for kind in chosen for row in _candidates(SOURCES[kind], user, query)
    ]
    order = {kind: i for i, kind in enumerate(KINDS)}
    found.sort(
        key=lambda f: (
            -float(f[1]["cb_rank"]),
            -f[1]["cb_when"].timestamp(),
            order[f[0].kind],
            -f[1]["pk"],
        )
    )
    hits = [_hit(source, row, query) for source, row in found[offset:end]]
    return Results(hits, has_more=len(found) > end and end < cap)


# --- one kind -----------------------------------------------------------------


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def matching(queryset: QuerySet[Any], source: Source, query: str) -> QuerySet[Any]:
    """The rows of `queryset` (of `source`'s model) whose searched fields
    hold `query`, in the shape the indexes of migration 0020 serve."""
    if _postgres() and len(query) < TRIGRAM:
        # No trigram in the query: the character-pair index finds the rows
        # (its expression, exactly as the migration indexed it). Where
        # PostgreSQL walks rows instead, each is tested by `strpos` first,
        # which is cheap, and its pairs are computed only when it matches.
        # Not `icontains`: PostgreSQL would read the whole trigram index for
        # it (no trigram to look up) and recheck every row's pairs.
        pairs = Func(
            *(F(name) for name in source.fields),
            function=BIGRAM_FUNCTION,
            output_field=ArrayField(models.TextField()),
        )
        found = Q()
        aliases: dict[str, Any] = {"cb_pairs": pairs}
        for i, name in enumerate(source.fields):
            aliases[f"cb_at_{i}"] = StrIndex(Upper(name), Upper(Value(query)))
            found |= Q(**{f"cb_at_{i}__gt": 0})
        return queryset.alias(**aliases).filter(found, cb_pairs__contains=[Upper(Value(query))])
    match = Q()
    for name in source.fields:
        match |= Q(**{f"{name}__icontains": query})
    return queryset.filter(match)


#: Case children are first narrowed to their first matches in the reader's
#: case list (the case layer of the rule alone, read from its agency's grant
#: index), this many times the candidates; the whole rule of their selector
#: then runs on those only. Unless more than three in four of them are hidden
#: from the reader (another agency's RED notes...), nothing is lost.
CASE_LAYER_FACTOR = 4
#: The agency's case list order (`access.LIST_ORDER_COLUMNS`), newest first.
LIST_ORDER = tuple(f"-{column}" for column in access.LIST_ORDER_COLUMNS)


def _in_case_list(source: Source, agency: Agency) -> QuerySet[Any]:
    """`source`'s rows in the cases `agency` sees, in its case list's order
    (its most recently active cases first): the join of
    `access.visible_cases_in_list_order` (the same rule, `grant_terms`),
    reached from the child. A common word's first matches are then found by
    walking the agency's own list, whatever its size."""
    path = "case__casegroupobjectpermission"
    listed = FilteredRelation(
        path, condition=access.grant_terms(AccessLevel.VIEW, agency.group_id, path=f"{path}__")
    )
    return (
        source.model._default_manager.annotate(cb_listed=listed)
        .filter(cb_listed__group_id=agency.group_id)
        .annotate(**{c: F(f"cb_listed__{c}") for c in access.LIST_ORDER_COLUMNS})
    )


def _candidates(source: Source, user: AnyUser, query: str) -> list[dict[str, Any]]:
    """This kind's candidates for `user`, in one query: at most
    `candidates()` rows, each with its rank and the excerpts.

    (The querysets are chained so that the subquery, the costly part to
    copy, is added last: building five of them is a good part of a search's
    time in Python.)"""
    k = candidates()
    agency = access.agency_of(user)
    if agency is None:
        return []
    rare = _rare_matches(source, query)
    if rare == []:
        return []
    annotations = _annotations(source, agency, query)
    if source.kind == SearchKind.DOCUMENT:
        # A document may be seen through its MLA request without its case:
        # its own selector, newest first.
        shaped = source.model._default_manager.all()
        recent = _narrowed(source.selector(user), source, query, rare)
        recent = recent.order_by(*source.window_order)
        window = recent.values("pk")[:k]
    elif source.is_case:
        # The gate's own selector for the case list, walked in its order.
        shaped = source.model._default_manager.all()
        listed = _narrowed(access.visible_cases_in_list_order(user), source, query, rare)
        window = listed.order_by(*LIST_ORDER).values("pk")[:k]
    else:
        shaped = source.selector(user).order_by(*source.window_order)
        listed = _narrowed(_in_case_list(source, agency), source, query, rare)
        listed = listed.order_by(*LIST_ORDER, *source.window_order)
        window = listed.values("pk")[: CASE_LAYER_FACTOR * k]
    rows = shaped.values(*_columns(source), **annotations).filter(pk__in=window)
    return list(rows[:k])


def rare_limit() -> int:
    """Above this many matches in a kind's table, a term is common."""
    return int(settings.SEARCH_RARE_MATCHES)


def _rare_matches(source: Source, query: str) -> list[int] | None:
    """The ids of every row of `source`'s table (any agency's) matching
    `query`, if there are at most `rare_limit()`; None if there are more.
    Read from the trigram or pair index; never shown, only narrowed on."""
    limit = rare_limit()
    # No ORDER BY: the model's list order made PostgreSQL read and sort every
    # match of a common word before the LIMIT (0.4 s for 'wallet' in tasks at
    # 1M cases) where a scan stops at the limit (13 ms).
    everyone = source.model._default_manager.order_by()
    ids = list(matching(everyone, source, query).values_list("pk", flat=True)[: limit + 1])
    return ids if len(ids) <= limit else None


def _narrowed(
    queryset: QuerySet[Any], source: Source, query: str, rare: list[int] | None
) -> QuerySet[Any]:
    """`queryset`'s rows matching `query`: among the rare term's ids, or by
    testing each row the walk reads."""
    if rare is None:
        return matching(queryset, source, query)
    return queryset.filter(pk__in=rare)


def _rank(source: Source, query: str) -> Any:
    if _postgres():
        title, *others = source.fields
        scores: list[Any] = [TrigramWordSimilarity(query, title)]
        scores += [TrigramWordSimilarity(query, name) * Value(SECONDARY_WEIGHT) for name in others]
        return scores[0] if len(scores) == 1 else Greatest(*scores)
    # SQLite: a match in the title ranks above one elsewhere, then recency.
    if len(source.fields) == 1:
        return Value(1.0, output_field=models.FloatField())
    return models.Case(
        models.When(Q(**{f"{source.fields[0]}__icontains": query}), then=Value(1.0)),
        default=Value(SECONDARY_WEIGHT),
        output_field=models.FloatField(),
    )


def _annotations(source: Source, agency: Agency, query: str) -> dict[str, Any]:
    """Rank, recency, and for each searched field the excerpt around its
    first match (position, where the excerpt starts, the field's length)."""
    annotations: dict[str, Any] = {"cb_rank": _rank(source, query), "cb_when": F(source.recency)}
    window = CONTEXT_BEFORE + len(query) + CONTEXT_AFTER
    for i, name in enumerate(source.fields):
        position = StrIndex(Upper(name), Upper(Value(query)))
        start = Greatest(position - Value(CONTEXT_BEFORE), Value(1))
        annotations[f"cb_pos_{i}"] = position
        annotations[f"cb_from_{i}"] = start
        annotations[f"cb_text_{i}"] = Substr(name, start, window)
        annotations[f"cb_len_{i}"] = Length(name)
    if source.kind == SearchKind.NOTE:
        annotations["cb_title"] = Substr("body", 1, TITLE_CHARS + 1)
    if source.kind == SearchKind.DOCUMENT:
        # A party of the document's MLA request may not see its case.
        annotations["cb_case_seen"] = access.grant_held(
            AccessLevel.VIEW, agency.group_id, case=OuterRef("case_id")
        )
    return annotations


def _columns(source: Source) -> list[str]:
    if source.is_case:
        return ["pk", "public_id", "reference", "title"]
    columns = ["pk", "public_id", "case_id", "case__public_id", "case__reference"]
    if source.kind != SearchKind.NOTE:
        columns.append(source.fields[0])
    return columns


def _hit(source: Source, row: dict[str, Any], query: str) -> Hit:
    if source.is_case:
        case_pk, case_public_id, reference = row["pk"], row["public_id"], row["reference"]
    elif row.get("cb_case_seen", True):
        case_pk, case_public_id = row["case_id"], row["case__public_id"]
        reference = row["case__reference"]
    else:
        case_pk = case_public_id = reference = None
    note = source.kind == SearchKind.NOTE
    title = first_line(row["cb_title"]) if note else row[source.fields[0]]
    return Hit(
        kind=source.kind,
        pk=row["pk"],
        public_id=row["public_id"],
        case_pk=case_pk,
        case_public_id=case_public_id,
        case_reference=reference,
        title=title,
        snippet=_snippet(source, row, query),
        rank=float(row["cb_rank"]),
        updated_at=row["cb_when"],
    )


def _snippet(source: Source, row: dict[str, Any], query: str) -> SafeString:
    """From the first secondary field that matches (it says more than the
    title, shown anyway), else from the title."""
    order = [*range(1, len(source.fields)), 0]
    for i in order:
        if row[f"cb_pos_{i}"]:
            break
    else:
        i = 0
    start = row[f"cb_from_{i}"] or 1
    text = row[f"cb_text_{i}"] or ""
    return highlight(
        text, query, cut_before=start > 1, cut_after=start - 1 + len(text) < row[f"cb_len_{i}"]
    )


# --- presentation -------------------------------------------------------------


def first_line(text: str) -> str:
    """A note's title: its first non-empty line, cut to TITLE_CHARS."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1].rstrip() + "…"


def _pattern(query: str) -> re.Pattern[str]:
    # The query's spaces stand for any whitespace of the text (a line break).
    return re.compile(r"\s+".join(re.escape(word) for word in query.split()), re.IGNORECASE)


def highlight(
    text: str, query: str, *, cut_before: bool = False, cut_after: bool = False
) -> SafeString:
    """`text` HTML-escaped, each match of `query` in <mark>, whitespace made
    single spaces; `…` where the text was cut. An excerpt that starts or ends
    inside a word loses that partial word (in scripts written with spaces)."""
    matches = list(_pattern(query).finditer(text))
    first = matches[0].start() if matches else len(text)
    last = matches[-1].end() if matches else 0
    begin, end = 0, len(text)
    if cut_before:
        space = text.find(" ", 0, min(first, WORD_CUT))
        begin = space + 1 if space >= 0 else 0
    if cut_after:
        space = text.rfind(" ", max(last, len(text) - WORD_CUT))
        end = space if space >= 0 else len(text)
    parts: list[str] = []
    position = begin
    for found in matches:
        if found.start() < begin or found.end() > end:
            continue
        parts.append(escape(_squash(text[position : found.start()])))
        parts.append(f"<mark>{escape(_squash(found.group()))}</mark>")
        position = found.end()
    parts.append(escape(_squash(text[position:end])))
    html = "".join(parts).strip()
    if cut_before:
        html = "…" + html
    if cut_after:
        html += "…"
    return mark_safe(html)  # noqa: S308  # nosec B308 B703: every piece was escaped above


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)
