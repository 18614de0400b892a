"""Same seed, same bytes; and --bad-rows adds malformed rows without touching the truth."""

from __future__ import annotations

from itertools import pairwise

import pyarrow as pa
import pyarrow.csv as pacsv
from generator_sample import make_sample


def _contents(root) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_same_seed_writes_byte_identical_files_and_another_seed_does_not(tmp_path):
    first = make_sample(tmp_path / "first", orders=2_000, days=10, seed=11)
    again = make_sample(tmp_path / "again", orders=2_000, days=10, seed=11)
    other = make_sample(tmp_path / "other", orders=2_000, days=10, seed=12)
    first_files = _contents(tmp_path / "first")
    assert len(first_files) > 60  # about one file per table and day, plus the truth
    assert first_files == _contents(tmp_path / "again")
    other_files = _contents(tmp_path / "other")
    shared = first_files.keys() & other_files.keys()
    assert len(shared) > 60
    differing = [name for name in shared if first_files[name] != other_files[name]]
    assert len(differing) > len(shared) // 2
    assert first.summary.split(" files in")[0] == again.summary.split(" files in")[0]
    assert first.truth.equals(again.truth)
    assert not first.truth.equals(other.truth)


def _rows(inbox, pattern) -> list[dict]:
    """Rows as the text in the file (empty cells as None), whatever the column's type."""
    rows = []
    for path in sorted(inbox.glob(pattern)):
        header = path.read_text(encoding="utf-8").splitlines()[0].replace('"', "").split(",")
        options = pacsv.ConvertOptions(
            column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=True
        )
        rows += pacsv.read_csv(path, convert_options=options).to_pylist()
    return rows


def test_bad_rows_add_every_kind_real_exports_have_and_leave_the_truth_alone(tmp_path):
    clean = make_sample(tmp_path / "clean", orders=3_000, days=10, seed=5)
    dirty = make_sample(tmp_path / "dirty", orders=3_000, days=10, seed=5, bad_rows=0.02)
    counts = dirty.manifest["bad_rows_by_kind"]
    assert set(counts) == {
        "wrong_type",
        "unparseable_timestamp",
        "future_timestamp",
        "non_positive_quantity",
        "duplicate_key",
        "empty_required",
        "unknown_enum",
    }
    assert all(count > 0 for count in counts.values())
    assert dirty.truth.equals(clean.truth)

    lines = _rows(dirty.inbox, "orders/order_lines_*.csv")
    quantities = {line["quantity"] for line in lines}
    assert {"abc", "0", "-1"} <= quantities
    real_orders = {row["order_id"] for row in _rows(clean.inbox, "orders/orders_*.csv")}
    extra = [line for line in lines if line["order_id"] not in real_orders]
    malformed = [
        line
        for line in extra
        if line["quantity"] in ("abc", "1.5", "两件", "0", "-1", "-3") or line["sku"] is None
    ]
    assert len(malformed) == len(extra)  # every extra line is malformed and references no order

    events = _rows(dirty.inbox, "orders/order_events_*.csv")
    assert any(event["event_at"] == "2026-13-45 25:61:00" for event in events)
    assert any(event["event_at"].startswith("2027-") for event in events)
    assert any(event["event_type"] == "已发货" for event in events)
    assert any(event["event_type"] is None for event in events)


def test_duplicate_keys_copy_a_real_row_right_after_it(tmp_path):
    dirty = make_sample(tmp_path, orders=2_000, days=10, seed=5, bad_rows=0.02)
    expected = dirty.manifest["bad_rows_by_table"]["orders"]["duplicate_key"]
    found = 0
    for path in sorted((dirty.inbox / "orders").glob("orders_*.csv")):
        lines = path.read_text(encoding="utf-8").splitlines()
        repeated = sum(1 for above, line in pairwise(lines) if above == line)
        ids = [line.split(",")[0] for line in lines[1:]]
        assert len(ids) - len(set(ids)) == repeated  # every repeated key is an adjacent copy
        found += repeated
    assert found == expected


def test_an_unknown_value_is_only_made_up_for_a_column_the_contract_closes():
    # A channel or carrier nobody listed is a real new one, loaded as is; only a closed list
    # (priority, event types, ticket categories...) makes an unknown value bad input.
    from pipelines.contract import load_contract
    from pipelines.generator.bad_rows import DEFECTS

    contract = load_contract()
    for (table, kind), (column, values) in DEFECTS.items():
        if kind != "unknown_enum":
            continue
        (accepted,) = [c.accepted_values for c in contract[table].columns if c.name == column]
        assert accepted and not set(values) & set(accepted), (table, column)
