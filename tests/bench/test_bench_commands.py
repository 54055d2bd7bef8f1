"""The benchmark commands run end to end at smoke size.

Not timed: they prove the benchmarks work (the test client, a real gunicorn,
a real Celery worker on a private redis-server, PostgreSQL) and that their
own checks pass; the figures are taken by hand at full size (bench/README.md).
Each runs as a subprocess against pytest-django's test database, which
`transactional_db` flushes after it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.bench.bench_subprocess import generate, run_bench

# Each command commits what it writes: flushed after each test.
runs_a_command = pytest.mark.django_db(transaction=True)


@runs_a_command
def test_case_page_benchmark_runs_and_its_plans_scan_no_grant_table():
    """The benchmark's own assertions (raw SQL returns the API's ids, every
    request succeeds) hold, and it prints its table; exit status 0 means no
    production plan scanned the grant or participation table sequentially."""
    out = run_bench(
        "bench.cases_page",
        *("--generate-cases", "300", "--users", "3", "--runs", "2", "--share-many", "5"),
    )
    assert "1. case page (50) end-to-end p50" in out
    assert "2. case detail ?expand= (1 request) p95" in out
    [expanded_queries] = [
        line for line in out.splitlines() if line.startswith("2. queries for the expanded")
    ]
    assert expanded_queries.endswith(" met"), expanded_queries  # the same count for every case
    assert "5. queries, share 50 + revoke 49" in out


@runs_a_command
def test_lists_benchmark_times_every_list_endpoint_through_gunicorn():
    """Every request of every line succeeds (exit status 0) for the busiest
    agency and one random one, and the table and its targets are printed."""
    generate(agencies=3, cases=200, users=30)
    out = run_bench("bench.lists", "--runs", "2", "--agencies", "1")
    header = next(line for line in out.splitlines() if line.startswith("request "))
    assert header.split()[1:5] == ["p50", "ms", "p95", "ms"]
    assert out.count("\nagency BG") == 2
    lines = out.splitlines()
    for endpoint in ("cases", "tasks", "notes", "identifiers", "participants", "mla-requests"):
        assert any(line.startswith(f"{endpoint} (no filter) ") for line in lines), endpoint
    assert "every list x filter p95 <= 50 ms, busiest agency" in out


@runs_a_command
def test_search_benchmark_runs_with_a_bounded_query_count():
    """Every query of the search benchmark answers, as the busiest agency and
    random users; exit status 0 means no request took more queries than two
    per kind and the session's, and the plans are printed."""
    out = run_bench("bench.search", *("--generate-cases", "300", "--users", "2", "--runs", "1"))
    assert "2-char Korean '김민'" in out
    assert "(bounded: at most 12)" in out
    assert "Plans, as the busiest agency's user" in out


@runs_a_command
def test_fanout_delivers_every_event_and_scenario_note_exactly_once():
    out = run_bench(
        "bench.fanout",
        *("--events", "100", "--agencies", "3", "--users", "12", "--updates", "3"),
    )
    assert "OK: 0 lost, 0 duplicated" in out
    lines = {line[:44].strip(): line[44:].split() for line in out.splitlines()}
    assert lines["no-op Celery tasks"][0] == "100"
    assert lines["outbox events -> deliveries (1 recipient)"][0] == "100"
    assert lines["events: lost / duplicated"] == ["0", "0"]
    # 3 notes, each told to the 12 coordinators and the solo agency's one.
    assert lines["scenario: 12 users x 3 notes"][0] == "39"
    assert lines["scenario: lost / duplicated"] == ["0", "0"]
    assert "ratio deliveries/s / no-op tasks/s" in lines


@runs_a_command
def test_fanout_shows_nothing_before_commit_even_with_the_task_published_early():
    out = run_bench(
        "bench.fanout",
        *("--events", "20", "--agencies", "2", "--users", "4", "--updates", "2", "--probes", "2"),
    )
    assert "0 seen before commit" in out
    lines = {line[:44].strip(): line[44:].split() for line in out.splitlines()}
    # 2 notes to the 4 coordinators and the solo agency's one, none written early.
    assert lines["notifications written before their commit"] == ["10", "0"]
    # The worker ran both early-published tasks while their message was
    # uncommitted, and nothing was written for them.
    assert lines["uncommitted probes run by the worker / seen"] == ["2", "0"]


@runs_a_command
def test_load_serves_mixed_list_and_trivial_requests_without_errors():
    out = run_bench("bench.load", "--duration", "3", "--cases", "30")
    assert "OK: 0 errors" in out
    rows = {line[:28].strip(): line[28:].split() for line in out.splitlines()}
    for label in ("mixed 80/20", "list", "detail", "note", "task", "list only", "ping"):
        requests, errors = int(rows[label][0].replace(",", "")), int(rows[label][-1])
        assert requests > 0, label
        assert errors == 0, label
    assert "ratio list req/s / ping req/s" in out


#: The one module of `bench/` a test may import: the table of list lines, pure
#: data (tests/cases/access/test_list_plans.py checks each line's plan).
IMPORTABLE = {"bench.list_lines"}


def _bench_imports(path: Path) -> list[tuple[str, int]]:
    """(module, line) of each `bench` module `path` imports."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names = [node.module or ""]
        else:
            continue
        found += [(n, node.lineno) for n in names if n == "bench" or n.startswith("bench.")]
    return found


def test_no_test_imports_the_benchmarks():
    """Tests run `bench/` as commands: importing it would run its module-level
    setup (environment defaults, `django.setup()`) inside the test process."""
    importers = [
        f"{path.name}:{line} {name}"
        for path in Path(__file__).resolve().parents[1].rglob("*.py")
        for name, line in _bench_imports(path)
        if name not in IMPORTABLE
    ]
    assert importers == []


@pytest.mark.parametrize("module", sorted(IMPORTABLE))
def test_a_benchmark_module_tests_import_has_no_setup(module):
    """It imports no other benchmark module (which would bring their setup
    in), runs no statement of its own at import (such as `django.setup()`)
    beyond defining names, and leaves the environment alone."""
    path = Path(__file__).resolve().parents[2] / (module.replace(".", "/") + ".py")
    tree = ast.parse(path.read_text(), str(path))
    assert _bench_imports(path) == []
    statements = [
        type(node).__name__
        for node in tree.body[1:]  # after the docstring
        if not isinstance(
            node,
            ast.Import
            | ast.ImportFrom
            | ast.FunctionDef
            | ast.ClassDef
            | ast.Assign
            | ast.AnnAssign,
        )
    ]
    assert statements == []
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert imported.isdisjoint({"os", "sys"})


@runs_a_command
def test_trace_benchmark_follows_the_money_through_gunicorn_and_matches_the_stock_walk():
    """On a small money network it writes itself, every trace request
    succeeds and the stock ORM walk reaches the same transactions (exit
    status 0); the table, the plans and the targets are printed."""
    generate(agencies=3, cases=200, users=30)
    out = run_bench(
        "bench.trace",
        *("--generate-money", "80", "--runs", "2", "--stock-runs", "1", "--origins", "2"),
    )
    assert "money network: " in out
    header = next(line for line in out.splitlines() if line.startswith("origin "))
    assert header.split()[1:5] == ["edges", "nodes", "bord", "paths"]
    assert "hop 1 values: " in out and "hop 1 rows  : " in out
    assert "4-hop trace p95 <= 500 ms over HTTP" in out
