"""Probe models added to the copies of the dbt project that tests/spark builds."""

# Models that read their own previous build as the run's new rows: on an incremental run every
# row comes back with `builds` one higher. dbt-spark holds new rows in a temporary view of this
# SQL, so a strategy that read the view after changing the target would lose them.
PROBES = {
    "probe_replace_keys": """
{{ config(materialized='incremental', incremental_strategy='replace_keys',
          unique_key=['order_id'], schema='probes') }}
{% if is_incremental() %}
select order_id, builds + 1 as builds, source_file from {{ this }}
{% else %}
select order_id, 1 as builds, source_file from {{ ref('stg_orders__orders') }}
{% endif %}
""",
    "probe_rebuild_orders": """
{{ config(materialized='incremental', incremental_strategy='rebuild_orders',
          meta={'rebuild_scope': 'orders'}, schema='probes') }}
-- depends_on: {{ ref('int_orders__rebuild_scope') }}
{% if is_incremental() %}
select order_id, builds + 1 as builds from {{ this }}
{% else %}
select order_id, 1 as builds from {{ ref('stg_orders__orders') }}
{% endif %}
""",
}
PROBE_SCHEMA = "probes"
