with

orders as (
    select * from {{ ref('int_orders__context') }}
),

run as (
    select as_of from {{ ref('int_run_as_of') }}
),

with_deadline as (
    select
        orders.*,
        {{ add_seconds('orders.placed_at', threshold('orders', 'payment_timeout_minutes') ~ ' * 60') }}
            as payment_deadline_at
    from orders
),

final as (
    select
        with_deadline.order_id,
        'payment_timeout' as exception_type,
        cast(null as {{ dbt.type_string() }}) as sku,
        with_deadline.payment_deadline_at as detected_at
    from with_deadline
    cross join run
    where (
        with_deadline.first_paid_event_at is null
        or with_deadline.first_paid_event_at > with_deadline.payment_deadline_at
    )
    and with_deadline.first_payment_failed_at is null
    and with_deadline.payment_deadline_at <= run.as_of
)

select * from final
