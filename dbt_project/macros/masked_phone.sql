{#- A phone number as a person may see it in a shared report: the first three and last four
    digits (139****5678), enough to recognise a customer the team already talks to. -#}
{% macro masked_phone(digits) -%}
    case
        when length({{ digits }}) >= 8
            then left({{ digits }}, 3) || '****' || right({{ digits }}, 4)
        when {{ digits }} is not null then '****' || right({{ digits }}, 2)
    end
{%- endmacro %}
