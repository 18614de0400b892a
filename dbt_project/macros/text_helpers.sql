{#- Regex and text helpers, dispatched so the project runs on DuckDB and on Spark. -#}

{#- A regular expression as a SQL string literal. Engines read backslashes in a literal
    differently: DuckDB keeps '\s' as backslash-s, Spark's parser turns it into the letter s
    (a silent wrong result: the address key would lose every "s" and keep its spaces). Write
    the pattern as the regex engine should see it; sql_string escapes it for the adapter. -#}
{% macro regex_literal(pattern) -%}
    {{ sql_string(pattern) }}
{%- endmacro %}

{% macro regex_matches(value, pattern) -%}
    {{ return(adapter.dispatch('regex_matches', 'order_exceptions')(value, pattern)) }}
{%- endmacro %}

{% macro default__regex_matches(value, pattern) -%}
    regexp_full_match({{ value }}, {{ regex_literal(pattern) }})
{%- endmacro %}

{% macro spark__regex_matches(value, pattern) -%}
    ({{ value }} rlike {{ regex_literal('^(?:' ~ pattern ~ ')$') }})
{%- endmacro %}

{% macro regex_replace_all(value, pattern, replacement) -%}
    {{ return(adapter.dispatch('regex_replace_all', 'order_exceptions')(value, pattern, replacement)) }}
{%- endmacro %}

{% macro default__regex_replace_all(value, pattern, replacement) -%}
    regexp_replace({{ value }}, {{ regex_literal(pattern) }}, {{ regex_literal(replacement) }}, 'g')
{%- endmacro %}

{% macro spark__regex_replace_all(value, pattern, replacement) -%}
    regexp_replace({{ value }}, {{ regex_literal(pattern) }}, {{ regex_literal(replacement) }})
{%- endmacro %}

{#- A text column trimmed, with empty strings as null: exports write "" for "not given". -#}
{% macro clean_text(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}

{#- True when a text value is missing or blank. -#}
{% macro is_blank(column) -%}
    (coalesce(trim({{ column }}), '') = '')
{%- endmacro %}

{#- Whether a whole value matches a pattern held in a column (a seed's rule per country). -#}
{% macro regex_matches_pattern(value, pattern_column) -%}
    {{ return(adapter.dispatch('regex_matches_pattern', 'order_exceptions')(value, pattern_column)) }}
{%- endmacro %}

{% macro default__regex_matches_pattern(value, pattern_column) -%}
    regexp_full_match({{ value }}, {{ pattern_column }})
{%- endmacro %}

{% macro spark__regex_matches_pattern(value, pattern_column) -%}
    ({{ value }} rlike concat('^(?:', {{ pattern_column }}, ')$'))
{%- endmacro %}

{#- Whether a value is one of a ';'-separated list held in a column, or, where the column is
    empty, one of a default list. -#}
{% macro in_list(value, list_column, default_values) -%}
    (instr(
        ';' || coalesce({{ list_column }}, {{ sql_string(default_values | join(';')) }}) || ';',
        ';' || {{ value }} || ';'
    ) > 0)
{%- endmacro %}
