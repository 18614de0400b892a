{#- Week-over-week change in failure count per group (a family or a root cause), split by
    each dimension value: which merchant, warehouse, channel, carrier, province, SKU or payment
    method moved the count, and what share of the group's change it explains. A sub-type is
    split only along the dimensions the catalogue says can explain it (its explained_by: a
    payment failure has no carrier), and an exception without a value (no SKU at fault)
    explains nothing along that dimension. Special requests are work to do, not changes to
    explain. -#}
{%- set dimensions = {
    'merchant': 'merchant_id',
    'warehouse': 'warehouse_id',
    'channel': 'channel',
    'carrier': 'carrier',
    'province': 'province',
    'sku': 'sku',
    'payment_method': 'payment_method',
} %}
{%- set groups = ['family', 'root_cause'] %}

with

exceptions as (
    select * from {{ ref('int_exceptions__handling') }}
    where kind = 'failure'
),

exception_types as (
    select * from {{ ref('int_exception_types') }}
),

orders as (
    select * from {{ ref('int_orders__context') }}
),

latest_week as (
    select max(week_start) as week_start from orders
),

-- joined once: each of the 12 group x dimension splits below reads this, not the orders
exception_orders as (
    select
        orders.week_start,
        exceptions.family,
        exceptions.root_cause,
        orders.merchant_id,
        orders.warehouse_id,
        orders.channel,
        orders.carrier,
        orders.province,
        orders.payment_method,
        exceptions.sku,
        ';' || exception_types.explained_by || ';' as explained_by
    from exceptions
    inner join orders on exceptions.order_id = orders.order_id
    inner join exception_types on exceptions.exception_type = exception_types.exception_type
),

dimension_values as (
    {% for group in groups -%}
        {% for dimension, column in dimensions.items() -%}
            select
                week_start,
                '{{ group }}' as group_type,
                {{ group }} as group_value,
                '{{ dimension }}' as dimension,
                {{ column }} as dimension_value
            from exception_orders
            where
                {{ column }} is not null
                and instr(explained_by, ';{{ dimension }};') > 0
            {% if not loop.last %}union all{% endif %}
        {% endfor -%}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

weekly_counts as (
    select
        week_start,
        group_type,
        group_value,
        dimension,
        dimension_value,
        count(*) as exceptions
    from dimension_values
    group by week_start, group_type, group_value, dimension, dimension_value
),

-- a value seen last week but not this week still explains part of the change
week_keys as (
    select
        week_start,
        group_type,
        group_value,
        dimension,
        dimension_value
    from weekly_counts
    union
    select
        cast({{ dbt.dateadd('day', 7, 'weekly_counts.week_start') }} as date) as week_start,
        weekly_counts.group_type,
        weekly_counts.group_value,
        weekly_counts.dimension,
        weekly_counts.dimension_value
    from weekly_counts
    cross join latest_week
    where weekly_counts.week_start < latest_week.week_start
),

compared as (
    select
        week_keys.week_start,
        week_keys.group_type,
        week_keys.group_value,
        week_keys.dimension,
        week_keys.dimension_value,
        coalesce(this_week.exceptions, 0) as exceptions,
        coalesce(last_week.exceptions, 0) as exceptions_last_week
    from week_keys
    left join weekly_counts as this_week
        on
            week_keys.week_start = this_week.week_start
            and week_keys.group_type = this_week.group_type
            and week_keys.group_value = this_week.group_value
            and week_keys.dimension = this_week.dimension
            and week_keys.dimension_value = this_week.dimension_value
    left join weekly_counts as last_week
        on
            week_keys.week_start = cast({{ dbt.dateadd('day', 7, 'last_week.week_start') }} as date)
            and week_keys.group_type = last_week.group_type
            and week_keys.group_value = last_week.group_value
            and week_keys.dimension = last_week.dimension
            and week_keys.dimension_value = last_week.dimension_value
),

with_change as (
    select
        *,
        exceptions - exceptions_last_week as change,  -- noqa: RF04
        sum(exceptions - exceptions_last_week) over (
            partition by week_start, group_type, group_value, dimension
        ) as group_change
    from compared
),

final as (
    select
        week_start,
        {{ iso_week_label('week_start') }} as week,  -- noqa: RF04
        group_type,
        group_value,
        dimension,
        dimension_value,
        exceptions,
        exceptions_last_week,
        change,
        group_change,
        case when group_change <> 0 then cast(change as {{ type_double() }}) / group_change end
            as contribution_share,
        -- first the values that pushed the count the way it went, the biggest push first
        row_number() over (
            partition by week_start, group_type, group_value, dimension
            order by
                case when group_change < 0 then -change else change end desc,
                abs(change) desc,
                dimension_value
        ) as contribution_rank
    from with_change
)

select * from final
