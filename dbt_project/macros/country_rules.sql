{#- The rules of an order's own country (seeds/country_rules.csv), else those of '*'. Join
    with `join_country_rules()` after `from orders`, then read a rule with `country_rule()`. -#}
{% macro join_country_rules(orders='orders') -%}
    left join country_rules as own_rule on {{ orders }}.country = own_rule.country
    left join country_rules as any_country on any_country.country = '*'
{%- endmacro %}

{% macro country_rule(column) -%}
    coalesce(own_rule.{{ column }}, any_country.{{ column }})
{%- endmacro %}
