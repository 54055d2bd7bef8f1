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
  two characters holds no trigram, and pg_trgm would then read its whole
  index; such queries also ask a second GIN index, of each row's character
  pairs (`cb_search_bigrams`, same migration), which finds them directly. The
  `LIKE` stays the condition in every case: the indexes only narrow. On
  SQLite (the demo) the same `icontains`, unindexed.
* **Ranking**: pg_trgm's `word_similarity` of the query to the field (a whole
  word ranks above a part of one; secondary fields, the summary or a task's
  description, weigh a little less), then recency. Ranking every match of a
  common word would read every match (hundreds of thousands at 1M cases), so
  each kind ranks its `SEARCH_CANDIDATES` most recent matches: exact for
  rarer queries, the best of the latest for common ones, and a search never
  returns more than that many results. One query per kind, whatever the
  size of the data.
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
from django.db.models import Exists, F, Func, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Greatest, Length, StrIndex, Substr, Upper
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from agencies.actors import AnyUser
from gate.errors import ValidationFailed

from . import access
from .choices import SearchKind
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
    hits: list[Hit] = []
    for kind in chosen:
        hits.extend(_search_kind(SOURCES[kind], user, query, end + 1))
    order = {kind: i for i, kind in enumerate(KINDS)}
    hits.sort(key=lambda h: (-h.rank, -h.updated_at.timestamp(), order[h.kind], -h.pk))
    return Results(hits[offset:end], has_more=len(hits) > end and end < cap)


# --- one kind -----------------------------------------------------------------


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def matching(queryset: QuerySet[Any], source: Source, query: str) -> QuerySet[Any]:
    """The rows of `queryset` (of `source`'s model) whose searched fields
    hold `query`, in the shape the indexes of migration 0020 serve."""
    match = Q()
    for name in source.fields:
        match |= Q(**{f"{name}__icontains": query})
    if _postgres() and len(query) < TRIGRAM:
        # No trigram in the query: narrow by the character-pair index too
        # (its expression, exactly as the migration indexed it).
        pairs = Func(
            *(F(name) for name in source.fields),
            function=BIGRAM_FUNCTION,
            output_field=ArrayField(models.TextField()),
        )
        queryset = queryset.alias(cb_pairs=pairs).filter(cb_pairs__contains=[Upper(Value(query))])
    return queryset.filter(match)


def _search_kind(source: Source, user: AnyUser, query: str, need: int) -> list[Hit]:
    """The `need` best of this kind's candidates, in one query."""
    visible = matching(source.selector(user), source, query)
    window = visible.order_by(*source.window_order).values("pk")[: candidates()]
    annotations = _annotations(source, user, query)
    rows = (
        source.model._default_manager.filter(pk__in=window)
        .annotate(**annotations)
        .order_by("-cb_rank", "-cb_when", "-pk")
        .values(*_columns(source), *annotations)[:need]
    )
    return [_hit(source, row, query) for row in rows]


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


def _annotations(source: Source, user: AnyUser, query: str) -> dict[str, Any]:
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
        annotations["cb_case_seen"] = Exists(
            access.visible_cases(user).filter(pk=OuterRef("case_id"))
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
