{#- Keep one row per key: the one from the latest file (a corrected re-export replaces the
    earlier row), and within a file the last line. Used by every staging model. -#}
{% macro latest_arrival(relation, key_columns) -%}
    select *
    from {{ relation }}
    qualify row_number() over (
        partition by {{ key_columns | join(', ') }}
        order by _ingested_at desc, _source_file desc, _source_line desc
    ) = 1
{%- endmacro %}
