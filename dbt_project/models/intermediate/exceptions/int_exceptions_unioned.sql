{#- Every exception rule (models tagged exception_rule, found in graph.nodes) unioned.

    dbt builds `graph` only after parsing, so it cannot infer from the loop below which rules
    this model reads. The depends_on lines declare them for the DAG; if one is missing the
    build stops with a message naming the line to add (see exception_rule_nodes). -#}
-- depends_on: {{ ref('int_exception__address_incomplete') }}
-- depends_on: {{ ref('int_exception__amount_mismatch') }}
-- depends_on: {{ ref('int_exception__below_safety_stock') }}
-- depends_on: {{ ref('int_exception__delivery_overdue') }}
-- depends_on: {{ ref('int_exception__designated_carrier') }}
-- depends_on: {{ ref('int_exception__duplicate_order') }}
-- depends_on: {{ ref('int_exception__expedited') }}
-- depends_on: {{ ref('int_exception__heavy_parcel') }}
-- depends_on: {{ ref('int_exception__late_handoff') }}
-- depends_on: {{ ref('int_exception__lost_or_damaged') }}
-- depends_on: {{ ref('int_exception__missing_in_wms') }}
-- depends_on: {{ ref('int_exception__missing_item') }}
-- depends_on: {{ ref('int_exception__out_of_delivery_range') }}
-- depends_on: {{ ref('int_exception__out_of_stock') }}
-- depends_on: {{ ref('int_exception__oversold') }}
-- depends_on: {{ ref('int_exception__payment_failed') }}
-- depends_on: {{ ref('int_exception__payment_timeout') }}
-- depends_on: {{ ref('int_exception__phone_invalid') }}
-- depends_on: {{ ref('int_exception__presale_mixed') }}
-- depends_on: {{ ref('int_exception__receiver_missing') }}
-- depends_on: {{ ref('int_exception__refund_before_shipment') }}
-- depends_on: {{ ref('int_exception__rejected_by_recipient') }}
-- depends_on: {{ ref('int_exception__remote_region_note') }}
-- depends_on: {{ ref('int_exception__returned_to_sender') }}
-- depends_on: {{ ref('int_exception__sku_discontinued') }}
-- depends_on: {{ ref('int_exception__sku_unknown') }}
-- depends_on: {{ ref('int_exception__special_packaging') }}
-- depends_on: {{ ref('int_exception__stock_mismatch') }}
-- depends_on: {{ ref('int_exception__sync_delay') }}
-- depends_on: {{ ref('int_exception__tracking_stalled') }}
-- depends_on: {{ ref('int_exception__variant_unavailable') }}
-- depends_on: {{ ref('int_exception__wrong_item') }}
{%- set rules = exception_rule_nodes() %}
{%- for node in rules if node.unique_id not in model.depends_on.nodes %}
    {{ exceptions.raise_compiler_error(
        "Rule model " ~ node.name ~ " is tagged exception_rule but int_exceptions_unioned does "
        ~ "not declare it. Add this line to int_exceptions_unioned.sql: "
        ~ "-- depends_on: {{ ref('" ~ node.name ~ "') }}") }}
{%- endfor %}

with

rule_rows as (
    {% for node in rules -%}
    select
        order_id,
        {{ sql_string(exception_rule_code(node)) }} as exception_type,
        sku,
        detected_at
    from {{ ref(node.name) }}
    {% if not loop.last %}union all{% endif %}
    {% else -%}
    select
        cast(null as {{ dbt.type_string() }}) as order_id,
        cast(null as {{ dbt.type_string() }}) as exception_type,
        cast(null as {{ dbt.type_string() }}) as sku,
        cast(null as {{ dbt.type_timestamp() }}) as detected_at
    where false
    {%- endfor %}
),

exception_types as (
    select * from {{ ref('int_exception_types') }}
),

orders as (
    select order_id, source_profile, merchant_id from {{ ref('int_orders__context') }}
),

coverage as (
    select * from {{ ref('int_sources__rule_coverage') }}
),

-- a rule judges only the orders whose source provides what it needs
assessed as (
    select
        rule_rows.*,
        exception_types.family,
        exception_types.kind
    from rule_rows
    inner join exception_types on rule_rows.exception_type = exception_types.exception_type
    inner join orders on rule_rows.order_id = orders.order_id
    inner join coverage
        on
            orders.source_profile = coverage.source_profile
            and orders.merchant_id = coverage.merchant_id
            and rule_rows.exception_type = coverage.exception_type
    where coverage.is_assessed
),

final as (
    select
        {{ dbt.hash(dbt.concat(['order_id', "'|'", 'exception_type'])) }} as exception_id,
        order_id,
        exception_type,
        family,
        kind,
        sku,
        detected_at
    from assessed
)

select * from final
