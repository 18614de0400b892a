"""Queries the ingestion tests share (imported by name: pytest puts this folder on sys.path)."""


def quarantined(connection, table_name: str) -> list[tuple]:
    """(line_number, column_name, reason) of a table's quarantined rows, in file order."""
    return connection.execute(
        "select line_number, column_name, reason from raw.quarantine "
        "where table_name = ? order by line_number",
        [table_name],
    ).fetchall()


def ledger(connection, table_name: str) -> list[dict]:
    return (
        connection.execute(
            "select * from raw.ingested_files where table_name = ? order by ingested_at",
            [table_name],
        )
        .fetch_df()
        .to_dict("records")
    )


def count(connection, table_name: str) -> int:
    return connection.execute(f"select count(*) from raw.{table_name}").fetchall()[0][0]
