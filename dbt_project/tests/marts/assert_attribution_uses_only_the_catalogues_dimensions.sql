-- Assert that "what changed" splits a family only along dimensions the catalogue names for
-- one of its sub-types, and never by a missing value.
with

attribution as (
    select * from {{ ref('rpt_exception_attribution') }}
),

exception_types as (
    select * from {{ ref('int_exception_types') }}
),

allowed as (
    select distinct
        family,
        ';' || explained_by || ';' as explained_by
    from exception_types
    where kind = 'failure'
)

select
    attribution.week,
    attribution.family,
    attribution.dimension,
    attribution.dimension_value
from attribution
where
    attribution.dimension_value is null
    or attribution.dimension_value = 'unknown'
    or not exists (
        select 1
        from allowed
        where
            allowed.family = attribution.family
            and instr(allowed.explained_by, ';' || attribution.dimension || ';') > 0
    )
