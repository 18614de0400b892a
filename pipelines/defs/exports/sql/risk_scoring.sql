-- One risk mart as a whole: how many rows were scored (none: not enough history yet), with
-- which model, on data known up to when.
with scored as (
    select * from read_parquet($risk)
),

final as (
    select
        count(*) as scored_rows,
        max(model_version) as model_version,
        max(features_as_of) as features_as_of,
    from scored
)

select * from final
