"""order-exceptions: the Dagster code location and the `oex` command line."""
