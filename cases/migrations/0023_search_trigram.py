"""Full-text search (`cases.search`, issue 19): pg_trgm and its GIN indexes.

PostgreSQL only. The indexes are made here with SQL behind a vendor check
rather than declared as `GinIndex(opclasses=["gin_trgm_ops"])` in the
models' `Meta.indexes`: a model index is created on every database, and
SQLite (the `make run` demo) has neither GIN nor pg_trgm. The search's
condition is Django's `icontains`, which PostgreSQL receives as
`UPPER(column::text) LIKE UPPER('%q%')`; the trigram indexes are on exactly
that expression so that the planner can use them.

A query of two characters holds no trigram (pg_trgm would read its whole
index and recheck every row), so each searched table also gets a GIN index
of its rows' character pairs, upper-cased, from `cb_search_bigrams` (an
IMMUTABLE SQL function defined here); `cases.search` adds `@> ARRAY[pair]`
to such queries. Pairs holding a space are left out (a query never has one).

Built CONCURRENTLY (the migration is not atomic): on a database already
holding a million cases, writes go on while the indexes build.
"""

from django.db import migrations

BIGRAM_FUNCTION = r"""
CREATE OR REPLACE FUNCTION cb_search_bigrams(VARIADIC parts text[])
RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT coalesce(array_agg(DISTINCT pair), '{}')
    FROM unnest(parts) AS part,
         upper(part) AS up,
         generate_series(1, char_length(up) - 1) AS i,
         substr(up, i, 2) AS pair
    WHERE strpos(pair, ' ') = 0
$$
"""

# (index name, table, indexed expression)
TRIGRAM_INDEXES = [
    ("cb_search_case_title_trgm", "cases_case", "UPPER(title::text) gin_trgm_ops"),
    ("cb_search_case_summary_trgm", "cases_case", "UPPER(summary::text) gin_trgm_ops"),
    ("cb_search_note_body_trgm", "cases_note", "UPPER(body::text) gin_trgm_ops"),
    ("cb_search_task_title_trgm", "cases_task", "UPPER(title::text) gin_trgm_ops"),
    ("cb_search_task_description_trgm", "cases_task", "UPPER(description::text) gin_trgm_ops"),
    ("cb_search_document_title_trgm", "cases_document", "UPPER(title::text) gin_trgm_ops"),
    ("cb_search_identifier_value_trgm", "cases_identifier", "UPPER(raw_value::text) gin_trgm_ops"),
]
# The same columns, each table's in one call (as `cases.search` asks it).
BIGRAM_INDEXES = [
    ("cb_search_case_pairs", "cases_case", "cb_search_bigrams(title, summary)"),
    ("cb_search_note_pairs", "cases_note", "cb_search_bigrams(body)"),
    ("cb_search_task_pairs", "cases_task", "cb_search_bigrams(title, description)"),
    ("cb_search_document_pairs", "cases_document", "cb_search_bigrams(title)"),
    ("cb_search_identifier_pairs", "cases_identifier", "cb_search_bigrams(raw_value)"),
]


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # Not Django's `TrigramExtension` operation: it does nothing on SQLite going
    # forwards, but its reverse queries `pg_extension` on any database (and
    # would drop an extension other objects may use). Unapplying this
    # migration keeps pg_trgm.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(BIGRAM_FUNCTION)
    for name, table, expression in TRIGRAM_INDEXES + BIGRAM_INDEXES:
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} USING gin ({expression})"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _expression in TRIGRAM_INDEXES + BIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    schema_editor.execute("DROP FUNCTION IF EXISTS cb_search_bigrams(VARIADIC text[])")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('cases', '0022_child_list_orders'),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes),
    ]
