{#- Data tests on a daily run look at the rows the run rebuilt (README, "Incremental builds").

    A table incremental by order (strategy rebuild_orders) rewrites only the orders of its
    rebuild scope; its other rows are the ones the previous successful build wrote and tested.
    So on a daily `dbt build`, a test whose verdict on a row depends on that row alone (not
    null, accepted values, a range, an expression, a relationship from this table) reads only
    the rows of the rebuilt orders: at 10M orders the tests on the facts read 130M rows a day
    to check 300k. Tests on repeats (unique, unique_combination) compare rows with each other
    and stay whole, and so does every test on a full build, after a failed one, and in a
    plain `dbt test` (the scope tables are emptied when a build ends). -#}

{% macro default__get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do conditions.append(where) -%}
    {%- endif -%}
    {%- set scope = rebuilt_rows_condition(relation) -%}
    {%- if scope is not none -%}
        {%- do conditions.append(scope) -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- set filtered -%}
            (select * from {{ relation }} where ({{ conditions | join(') and (') }})) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}

{#- Tests whose verdict on a row needs the other rows of the table: never scoped. -#}
{% macro tests_across_rows() -%}
    {{ return(['unique', 'unique_combination']) }}
{%- endmacro %}

{#- "order_id in (<the run's rebuild scope>)" for a test of a table incremental by order on
    a daily build; none otherwise (every row is tested). -#}
{% macro rebuilt_rows_condition(relation) -%}
    {%- if not execute or flags.WHICH != 'build' or relation is string -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set test_name = (model.get('test_metadata') or {}).get('name') -%}
    {%- if test_name is none or test_name in tests_across_rows() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set tested = model_of_relation(relation, 'rebuild_orders') -%}
    {%- if tested is none or last_build_watermark() is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set scope_node = graph.nodes.get(
        'model.order_exceptions.' ~ rebuild_scope_models()[tested.config.meta.rebuild_scope]) -%}
    {%- set scope = api.Relation.create(
        database=scope_node.database, schema=scope_node.schema, identifier=scope_node.alias) -%}
    {{ return("order_id in (select order_id from " ~ scope ~ ")") }}
{%- endmacro %}
