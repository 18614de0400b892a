{#- The few generic tests this project needs (no dbt packages: the hub cannot be reached). -#}

{#- Fails on every row where the expression is false. -#}
{% test expression_is_true(model, expression) %}
select *
from {{ model }}
where not ({{ expression }})
{% endtest %}

{#- Fails on every row whose value lies outside [min_value, max_value] (nulls pass). -#}
{% test accepted_range(model, column_name, min_value=none, max_value=none) %}
select *
from {{ model }}
where {{ column_name }} is not null
  and (
    false
    {% if min_value is not none %} or {{ column_name }} < {{ min_value }} {% endif %}
    {% if max_value is not none %} or {{ column_name }} > {{ max_value }} {% endif %}
  )
{% endtest %}

{#- Fails on every combination of columns that appears more than once. -#}
{% test unique_combination(model, combination) %}
select {{ combination | join(', ') }}, count(*) as occurrences
from {{ model }}
group by {{ combination | join(', ') }}
having count(*) > 1
{% endtest %}

{#- dbt's unique test, overridden for large tables: repeats are looked for among the values'
    hashes first, then counted on the values themselves (on 45M tracking events the plain
    test took 20 s). Same failing rows as dbt's own. -#}
{% test unique(model, column_name) %}
with candidates as (
    select {{ key_hash([column_name]) }} as value_hash
    from {{ model }}
    where {{ column_name }} is not null
    group by {{ key_hash([column_name]) }}
    having count(*) > 1
)

select {{ column_name }} as unique_field, count(*) as n_records
from {{ model }}
where {{ key_hash([column_name]) }} in (select value_hash from candidates)
    and {{ column_name }} is not null
group by {{ column_name }}
having count(*) > 1
{% endtest %}
