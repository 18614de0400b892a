{#- The orders an incremental run judges again for the absence rules on parcels (see
    macros/incremental.sql, scope 'open_parcels'): the orders of int_orders__rebuild_scope,
    plus every order whose parcel has not reached an end yet (delivered, rejected, returned,
    lost, damaged). A parcel that reached an end keeps its verdict: what happened before its
    end no longer moves with as_of, and a late or withdrawn scan of it puts its order in
    int_orders__rebuild_scope. Every order when no successful build is recorded. -#}
with

touched_orders as (
    select order_id from {{ ref('int_orders__rebuild_scope') }}
),

orders as (
    select order_id, shipment_id from {{ ref('int_orders__context') }}
    where shipment_id is not null
),

parcels as (
    select shipment_id, first_terminal_at from {{ ref('int_shipments__tracking_summary') }}
),

still_moving as (
    select orders.order_id
    from orders
    left join parcels on orders.shipment_id = parcels.shipment_id
    where parcels.first_terminal_at is null
),

final as (
    select order_id from touched_orders
    union
    select order_id from still_moving
)

select * from final
