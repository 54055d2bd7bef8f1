"""The suppression rule of `cases.statistics`, on tables given by hand."""

from __future__ import annotations

from cases.statistics import SUPPRESSED, cell, one_way, protect, two_way


def test_counts_from_one_to_four_are_shown_as_less_than_five():
    assert [cell(n) for n in (0, 1, 4, 5, 12)] == [0, SUPPRESSED, SUPPRESSED, 5, 12]


def test_a_lone_small_count_takes_a_complementary_cell_with_it():
    """Total 28 and visible 10 and 15 would give the 3 back: the smallest
    other cell (10) is hidden too."""
    shown, total = one_way({"executed": 10, "refused": 3, "submitted": 15})
    assert shown == {"executed": SUPPRESSED, "refused": SUPPRESSED, "submitted": 15}
    assert total == 28


def test_two_small_counts_with_a_known_sum_take_a_large_cell_with_them():
    """1 + 1 = 2 would be exact: a cell of 5 or more joins them."""
    shown, total = one_way({"a": 1, "b": 1, "c": 9, "d": 20})
    assert shown == {"a": SUPPRESSED, "b": SUPPRESSED, "c": SUPPRESSED, "d": 20}
    assert total == 31


def test_a_line_with_no_other_cell_hides_its_total():
    shown, total = one_way({"KR": 3})
    assert shown == {"KR": SUPPRESSED}
    assert total == SUPPRESSED


def test_nothing_is_hidden_when_every_count_is_large():
    assert protect({"a": 5, "b": 7, "t": 12}, [["a", "b", "t"]]) == set()


def test_a_two_way_table_protects_rows_columns_and_totals():
    cells = {
        ("fraud", "KR"): 3,
        ("fraud", "KH"): 20,
        ("trafficking", "KR"): 12,
        ("trafficking", "KH"): 9,
    }
    rows = {"fraud": 23, "trafficking": 21}
    columns = {"KR": 15, "KH": 29}
    table = two_way(cells, rows, columns, 44)
    hidden = {key for key, value in table.cells.items() if value == SUPPRESSED}
    assert ("fraud", "KR") in hidden
    # No row or column keeps its small cell as its only hidden value, and
    # none is recomputable from what is shown.
    for line in (
        [("fraud", "KR"), ("fraud", "KH")],
        [("trafficking", "KR"), ("trafficking", "KH")],
        [("fraud", "KR"), ("trafficking", "KR")],
        [("fraud", "KH"), ("trafficking", "KH")],
    ):
        inside = [key for key in line if key in hidden]
        assert len(inside) != 1, line
    assert _recoverable(cells, table) == set()


def _recoverable(cells, table) -> set:
    """Hidden cells a reader could compute exactly from one row or column and its total."""
    found = set()
    for axis in (0, 1):
        totals = table.row_totals if axis == 0 else table.column_totals
        for name, total in totals.items():
            line = [key for key in cells if key[axis] == name]
            hidden = [key for key in line if table.cells[key] == SUPPRESSED]
            if len(hidden) == 1 and total != SUPPRESSED:
                found.add(hidden[0])
    return found


def test_suppressing_a_cell_cascades_to_the_column_it_is_in():
    """Hiding a complementary cell in a row leaves it alone in its column:
    that column takes one more."""
    cells = {
        ("a", "X"): 2,
        ("a", "Y"): 8,
        ("b", "Y"): 6,
        ("b", "Z"): 30,
        ("c", "X"): 11,
        ("c", "Z"): 7,
    }
    rows = {"a": 10, "b": 36, "c": 18}
    columns = {"X": 13, "Y": 14, "Z": 37}
    table = two_way(cells, rows, columns, 64)
    assert _recoverable(cells, table) == set()
    assert table.cells[("a", "X")] == SUPPRESSED
