{#- Incremental builds: a daily run rebuilds only the orders it must, a full refresh rebuilds
    every order, and both end with the same rows.

    The unit of rebuild is the order (all of an order's rows in a model are deleted and
    inserted again), chosen per run by one of two scope models:
    - int_orders__rebuild_scope: orders placed in the look-back window (var lookback_days, by
      the placed day in the reporting time zone), orders with any raw row ingested since the last successful
      build, and orders that lost a row to a corrected re-delivery since then (raw.replaced_keys,
      written by ingestion as it deletes the rows: a withdrawn order is in no staging table);
    - int_exceptions__rebuild_scope: those, plus orders whose exceptions the rules now judge
      differently, plus orders with an open exception (is_overdue is judged against the run's
      as_of);
    - int_open_parcels__rebuild_scope: the orders scope, plus orders whose parcel has not
      reached an end: the scope of the rules whose verdict moves with as_of only while the
      parcel moves (tracking_stalled).
    An incremental model names its scope in config meta.rebuild_scope ('orders', 'exceptions'
    or 'open_parcels'), filters its inputs with in_rebuild_scope() and uses the rebuild_orders
    strategy below. -#}

{#- meta.rebuild_scope -> the model holding the orders a run rebuilds -#}
{% macro rebuild_scope_models() -%}
    {{ return({
        'orders': 'int_orders__rebuild_scope',
        'exceptions': 'int_exceptions__rebuild_scope',
        'open_parcels': 'int_open_parcels__rebuild_scope',
    }) }}
{%- endmacro %}

{% macro rebuild_scope_relation() -%}
    {%- set scope = (config.get('meta') or {}).get('rebuild_scope') -%}
    {%- set scope_models = rebuild_scope_models() -%}
    {%- if scope not in scope_models -%}
        {{ exceptions.raise_compiler_error(
            "Incremental model " ~ model.name ~ " needs meta.rebuild_scope 'orders', "
            ~ "'exceptions' or 'open_parcels' in its config") }}
    {%- endif -%}
    {{ return(ref(scope_models[scope])) }}
{%- endmacro %}

{#- A predicate on an order id column: true for the orders this run rebuilds (every order on a
    full build). The same scope drives the delete of the rebuild_orders strategy. -#}
{% macro in_rebuild_scope(order_id_column) -%}
    {%- if is_incremental() -%}
        {{ order_id_column }} in (select order_id from {{ rebuild_scope_relation() }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- Strategy rebuild_orders: every row of an order in the scope, or among the new rows, is
    deleted, then the new rows are inserted. Deleting by scope (not only by the new rows)
    removes the rows of an order that no longer has any, e.g. an exception a corrected file
    cleared, or an order a corrected file withdrew. The new rows are computed into a temporary
    table before the delete. -#}
{% macro get_incremental_rebuild_orders_sql(arg_dict) -%}
    {{ return(adapter.dispatch('rebuild_orders_sql', 'order_exceptions')(arg_dict)) }}
{%- endmacro %}

{#- On Spark see macros/spark_strategies.sql. -#}
{% macro default__rebuild_orders_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }}
    where
        order_id in (select order_id from {{ rebuild_scope_relation() }})
        or order_id in (select order_id from {{ source }});

    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ source }}
{%- endmacro %}

{#- The table that records the last successful build (see record_incremental_watermark). -#}
{% macro incremental_watermark_relation() -%}
    {%- set scope_node = graph.nodes.get('model.order_exceptions.int_orders__rebuild_scope') -%}
    {{ return(api.Relation.create(
        database=scope_node.database if scope_node else target.database,
        schema=scope_node.schema if scope_node else target.schema,
        identifier='incremental_watermark')) }}
{%- endmacro %}

{#- The previous build of a model as it stands before this run rebuilds it, or none (first
    build, --full-refresh). Read without ref(): it is this run's own downstream model. -#}
{% macro previous_build_of(model_name) -%}
    {%- if not execute or flags.FULL_REFRESH -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set node = graph.nodes.get('model.order_exceptions.' ~ model_name) -%}
    {{ return(adapter.get_relation(
        database=node.database, schema=node.schema, identifier=node.alias)) }}
{%- endmacro %}

{#- The raw data the last successful build included: every row ingested up to this time.
    None when no build is recorded, or the last one failed or built only part of the chain:
    then every order is rebuilt. -#}
{% macro last_build_watermark() -%}
    {%- if not execute or flags.FULL_REFRESH -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set relation = incremental_watermark_relation() -%}
    {%- set existing = adapter.get_relation(
        database=relation.database, schema=relation.schema, identifier=relation.identifier) -%}
    {%- if existing is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set result = run_query("select max(ingested_at) from " ~ existing) -%}
    {%- set value = result.columns[0].values()[0] if result.rows | length > 0 else none -%}
    {{ return(value) }}
{%- endmacro %}

{#- on-run-end: when every incremental model and both scopes built, record what the raw data
    held (ingested_at: the latest ingestion in the ledger) and the look-back used; otherwise
    forget the watermark so the next run rebuilds every order (a failed run may have updated
    some models and not others). Then empty the scopes: they are this run's working sets, and a
    re-run after an interruption must leave the same tables as an uninterrupted run. -#}
{% macro record_incremental_watermark(results) -%}
    {#- only a build or a run moves the chain: `dbt docs generate`, `dbt test` or `dbt compile`
        build no model and must leave the watermark (and the next run's scope) as they are -#}
    {%- if execute and flags.WHICH in ['build', 'run'] -%}
        {%- set chain = [] -%}
        {%- set scopes = [] -%}
        {%- for node in graph.nodes.values() -%}
            {%- if node.resource_type == 'model' and node.name.endswith('__rebuild_scope') -%}
                {%- do scopes.append(node) -%}
            {%- endif -%}
            {%- if node.resource_type == 'model' and (
                    node.config.materialized == 'incremental'
                    or node.name.endswith('__rebuild_scope')) -%}
                {%- do chain.append(node.unique_id) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set built = [] -%}
        {%- for result in results -%}
            {%- if result.status == 'success' -%}
                {%- do built.append(result.node.unique_id) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set missing = chain | reject('in', built) | list -%}
        {%- set relation = incremental_watermark_relation() -%}
        {%- if missing -%}
            {%- do log("Incremental chain not fully built (" ~ missing | join(', ')
                ~ "): the next run rebuilds every order.", info=true) -%}
            {%- do run_query("drop table if exists " ~ relation) -%}
        {%- else -%}
            {%- do replace_table_as(relation,
                "select max(ingested_at) as ingested_at, "
                ~ var('lookback_days') ~ " as lookback_days "
                ~ "from " ~ source('ingestion', 'ingested_files')) -%}
        {%- endif -%}
        {%- for node in scopes -%}
            {%- set scope = adapter.get_relation(
                database=node.database, schema=node.schema, identifier=node.alias) -%}
            {%- if scope is not none -%}
                {%- do log(node.name ~ ": " ~ run_query("select count(*) from " ~ scope)
                    .columns[0].values()[0] ~ " orders rebuilt", info=true) -%}
                {%- do empty_table(scope) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
