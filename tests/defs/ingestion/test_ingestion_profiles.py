"""Source profiles, version 2: validated on load, and what each new rule does to the rows.

Each test writes a small export and a profile the way a user would, and ingests it for real.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import duckdb
import pytest

from pipelines.defs.ingestion.landing import ingest_table
from pipelines.defs.ingestion.profiles import ProfileError, load_profile


def write_profile(folder: Path, text: str, name: str = "shop.yml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text), "utf-8")
    return path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), "utf-8")
    return path


MINIMAL = """
    version: 2
    name: shop
    files: {{orders: "shop_orders*.csv"}}
    tables:
      order_events:
        from: orders
        {body}
"""


@pytest.mark.parametrize(
    ("profile", "key", "nearest"),
    [
        ("version: 2\ntime_zone: UTC\ntables: {}\n", "time_zone", "timezone"),
        (
            "files: [x_*]\ntables:\n  orders:\n    colums: {order_id: id}\n",
            "colums",
            "columns",
        ),
        (
            MINIMAL.format(body="lookups: {items: {from: orders, key: id, agregate: {}}}"),
            "agregate",
            "aggregate",
        ),
        (MINIMAL.format(body="columns: {event_id: {frist_of: [a, b]}}"), "frist_of", "first_of"),
        (MINIMAL.format(body="columns: {event_idd: id}"), "event_idd", "event_id"),
        ("files: [x_*]\ntables:\n  order: {}\n", "order", "orders"),
        (MINIMAL.format(body="unpivot: [{name: a, colums: {}}]"), "colums", "columns"),
        (MINIMAL.format(body="skip: [{when: x, reson: y}]"), "reson", "reason"),
    ],
)
def test_a_misspelt_key_names_the_file_the_key_and_the_nearest_valid_one(
    tmp_path: Path, profile: str, key: str, nearest: str
):
    path = write_profile(tmp_path, profile)

    with pytest.raises(ProfileError) as raised:
        load_profile(path)

    message = str(raised.value)
    assert str(path) in message
    assert repr(key) in message
    assert f"did you mean {nearest!r}" in message


def test_a_wrong_time_zone_or_file_name_is_refused_in_words(tmp_path: Path):
    zone = write_profile(tmp_path, "timezone: America/Sao_Pablo\nfiles: [x_*]\ntables: {}\n")
    with pytest.raises(ProfileError, match="'America/Sao_Pablo' is not a time zone name"):
        load_profile(zone)

    unknown_file = write_profile(
        tmp_path, MINIMAL.format(body="columns: {}").replace("from: orders", "from: order")
    )
    with pytest.raises(ProfileError, match="'order' is not one of the profile's files"):
        load_profile(unknown_file)


def test_on_and_yes_stay_words_not_booleans(tmp_path: Path):
    # YAML 1.1 reads `on` and `yes` as true; a lookup's `on:` key must survive
    path = write_profile(
        tmp_path,
        """
        files: {orders: "shop_orders*.csv", buyers: "shop_buyers*.csv"}
        tables:
          orders:
            from: orders
            lookups: {buyers: {from: buyers, key: buyer, on: buyer_id}}
            values: {priority: {yes: high, no: normal}}
        """,
    )

    mapping = load_profile(path).tables["orders"]

    assert mapping.lookups[0].on == "buyer_id"
    assert mapping.values["priority"] == {"yes": "high", "no": "normal"}


@pytest.fixture
def shop(tmp_path: Path):
    """An export of three files in one folder, and a profile that reads it."""
    inbox = tmp_path / "inbox"
    folder = inbox / "shop_export"
    write(
        folder / "shop_orders.csv",
        """
        id,buyer,created,paid,shipped,status,note
        A1,b1,2026-03-02 10:00:00,2026-03-02 10:05:00,,open,
        A2,b2,2026-03-02 11:00:00,,,open,
        A3,b1,2026-03-03 09:00:00,2026-03-03 09:01:00,2026-03-04 15:00:00,shipped,
        """,
    )
    write(
        folder / "shop_lines.csv",
        """
        order,sku,grams,price
        A1,S1,1500,10.00
        A1,S2,500,5.50
        A2,S1,1500,10.00
        A3,S3,250,99.99
        """,
    )
    write(
        folder / "shop_buyers.csv",
        """
        buyer_id,state,town
        b1,Bavaria,Munich
        b2,Berlin,Berlin
        """,
    )
    profiles = tmp_path / "profiles"
    write_profile(
        profiles,
        """
        version: 2
        name: shop
        timezone: Europe/Berlin
        files: {orders: "shop_orders*.csv", lines: "shop_lines*.csv", buyers: "shop_buyers*.csv"}
        tables:
          orders:
            from: orders
            lookups:
              lines:
                from: lines
                key: order
                on: id
                aggregate:
                  amount: sum(cast(price as decimal(14, 2)))
                  kilograms: sum(cast(grams as double)) / 1000
              buyers: {from: buyers, key: buyer_id, on: buyer}
            columns:
              order_id: id
              platform_order_no: id
              merchant_id: {value: DE01}
              channel: {value: Own Website}
              warehouse_id: {value: BER}
              placed_at: created
              paid_at: paid
              order_amount: {sql: lines.amount}
              weight_kg: {sql: lines.kilograms}
              province: buyers.state
              city: buyers.town
              receiver_name: {value: null}
              special_request: note
              country: {value: DE}
          order_events:
            from: orders
            columns: {order_id: id}
            unpivot:
              - name: created
                columns:
                  event_id: {join: [id, {value: c}]}
                  event_type: {value: created}
                  event_at: created
              - name: paid
                columns:
                  event_id: {join: [id, {value: p}]}
                  event_type: {value: paid}
                  event_at: paid
                skip: [{when: event_at is null, reason: not paid yet}]
              - name: shipped
                columns:
                  event_id: {join: [id, {value: s}]}
                  event_type: {value: shipped}
                  event_at: shipped
                skip: [{when: "source.status <> 'shipped'", reason: not shipped yet}]
        """,
    )
    warehouse = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield inbox, profiles, warehouse
    warehouse.close()


def ingest(shop, table: str):
    inbox, profiles_dir, warehouse = shop
    from pipelines.defs.ingestion.profiles import load_profiles

    return ingest_table(table, warehouse, inbox, profiles=load_profiles(profiles_dir))


def test_lookups_expressions_and_literals_fill_the_order(shop):
    summary = ingest(shop, "orders")
    _, _, warehouse = shop

    assert (summary.rows_read, summary.rows_loaded, summary.rows_quarantined) == (3, 3, 0)
    rows = warehouse.execute(
        """
        select order_id, order_amount::varchar, weight_kg, province, city, channel,
            receiver_name, special_request, country, strftime(placed_at, '%H:%M')
        from raw.orders order by order_id
        """
    ).fetchall()
    # Berlin is UTC+1 in March: 10:00 local is 09:00 UTC
    assert rows == [
        ("A1", "15.50", 2.0, "Bavaria", "Munich", "Own Website", None, None, "DE", "09:00"),
        ("A2", "10.00", 1.5, "Berlin", "Berlin", "Own Website", None, None, "DE", "10:00"),
        ("A3", "99.99", 0.25, "Bavaria", "Munich", "Own Website", None, None, "DE", "08:00"),
    ]
    (ledger,) = warehouse.execute(
        "select columns_not_provided from raw.ingested_files where table_name = 'orders'"
    ).fetchall()
    # a null literal and an empty column are both "not provided" to the rules
    assert "receiver_name" in ledger[0] and "receiver_phone" in ledger[0]


def test_unpivot_makes_one_event_per_step_and_skips_with_reasons(shop):
    summary = ingest(shop, "order_events")
    _, _, warehouse = shop

    assert (summary.rows_read, summary.rows_loaded, summary.rows_skipped) == (9, 6, 3)
    assert summary.rows_quarantined == 0
    assert summary.skip_reasons == {"not shipped yet": 2, "not paid yet": 1}
    events = warehouse.execute(
        "select event_id, event_type from raw.order_events order by event_id"
    ).fetchall()
    assert events == [
        ("A1-c", "created"),
        ("A1-p", "paid"),
        ("A2-c", "created"),
        ("A3-c", "created"),
        ("A3-p", "paid"),
        ("A3-s", "shipped"),
    ]
    (message, skipped, reasons) = warehouse.execute(
        "select message, rows_skipped, skip_reasons from raw.ingested_files"
    ).fetchall()[0]
    assert skipped == 3
    assert "3 skipped by the profile (2 not shipped yet; 1 not paid yet)" in message
    assert reasons == '{"not shipped yet": 2, "not paid yet": 1}'


def test_a_bad_value_in_a_branch_is_quarantined_naming_the_branch(shop):
    inbox, _, warehouse = shop
    orders = inbox / "shop_export" / "shop_orders.csv"
    orders.write_text(orders.read_text().replace("2026-03-04 15:00:00", "yesterday"), "utf-8")

    summary = ingest(shop, "order_events")

    assert (summary.rows_loaded, summary.rows_quarantined, summary.rows_skipped) == (5, 1, 3)
    ((line, reason),) = warehouse.execute(
        "select line_number, reason from raw.quarantine"
    ).fetchall()
    assert line == 4
    assert reason == "[shipped] event_at 'yesterday' is not a time in a known format"


def test_a_corrected_lookup_file_lands_the_orders_again(shop):
    inbox, _, warehouse = shop
    ingest(shop, "orders")
    lines = inbox / "shop_export" / "shop_lines.csv"
    lines.write_text(lines.read_text().replace("99.99", "89.99"), "utf-8")

    again = ingest(shop, "orders")

    assert [outcome.status for outcome in again.files] == ["replaced"]
    amounts = warehouse.execute(
        "select order_amount::varchar from raw.orders where order_id = 'A3'"
    ).fetchall()
    assert amounts == [("89.99",)]


def test_a_missing_lookup_file_rejects_the_file_saying_which(shop):
    inbox, _, _ = shop
    (inbox / "shop_export" / "shop_buyers.csv").unlink()

    summary = ingest(shop, "orders")

    (reason,) = summary.rejected.values()
    assert "buyers (shop_buyers*.csv)" in reason
    assert summary.rows_loaded == 0


def test_an_expression_naming_a_missing_column_rejects_the_file_as_the_profiles_fault(shop):
    _, profiles, _ = shop
    profile = profiles / "shop.yml"
    profile.write_text(profile.read_text().replace("sum(cast(price", "sum(cast(prize"), "utf-8")

    summary = ingest(shop, "orders")

    (reason,) = summary.rejected.values()
    assert reason.startswith("the profile's expressions do not fit this file")
    assert "prize" in reason


def test_the_examples_in_the_profiles_readme_are_valid_profiles(tmp_path: Path):
    from pipelines import settings

    readme = (settings.profiles_dir() / "README.md").read_text("utf-8")
    examples = [block.split("```")[0] for block in readme.split("```yaml\n")[1:]]

    assert len(examples) == 2
    loaded = [
        load_profile(write_profile(tmp_path, text, f"example{i}.yml"))
        for i, text in enumerate(examples)
    ]
    assert [profile.name for profile in loaded] == ["jd_orders", "my_marketplace"]
    assert loaded[1].tables["order_events"].rows_per_source_row == 2
