{#- Keep one row per key: the one from the latest file (a corrected re-export replaces the
    earlier row), and within a file the last line. Used by every staging model.

    Most keys arrive once: a hash aggregate finds the few that arrived more than once, and only
    their rows are sorted by the window (sorting every row was the costliest step of staging:
    2.4x slower on 4.6M tracking events). -#}
{% macro latest_arrival(relation, key_columns) -%}
    {%- set keys = key_columns | join(', ') %}
    with repeated_keys as (
        select {{ keys }}
        from {{ relation }}
        group by {{ keys }}
        having count(*) > 1
    ),

    arrived_once as (
        select *
        from {{ relation }}
        anti join repeated_keys using ({{ keys }})
    ),

    arrived_again as (
        select *
        from {{ relation }}
        semi join repeated_keys using ({{ keys }})
    ),

    latest_of_repeated as (
        select *
        from arrived_again
        qualify row_number() over (
            partition by {{ keys }}
            order by _ingested_at desc, _source_file desc, _source_line desc
        ) = 1
    )

    select * from arrived_once
    union all
    select * from latest_of_repeated
{%- endmacro %}
