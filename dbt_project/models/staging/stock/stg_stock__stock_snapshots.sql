with

source as (
    {{ latest_arrival(source('stock', 'stock_snapshots'), ['snapshot_date', 'warehouse_id', 'sku']) }}
),

final as (
    select
        trim(warehouse_id) || '|' || trim(sku) || '|' || cast(snapshot_date as {{ dbt.type_string() }})
            as stock_snapshot_id,
        snapshot_date,
        trim(warehouse_id) as warehouse_id,
        trim(sku) as sku,
        on_hand,
        allocated,
        available,
        safety_stock,
        platform_available,
        in_transit_qty,
        expected_arrival_date,
        _source_file as source_file
    from source
)

select * from final
