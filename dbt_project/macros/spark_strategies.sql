{#- The project's incremental strategies on Spark (dbt-spark), and what dbt-spark needs to run
    them. DuckDB uses the default__ versions in macros/incremental.sql and latest_arrival.sql.

    Two table formats, chosen by var spark_file_format (--vars), else OEX_SPARK_FILE_FORMAT:
    - parquet (the default, what CI runs): plain Parquet tables cannot DELETE, so the rows the
      target keeps and the run's new rows are written to a work table first, then the target
      is overwritten from it (INSERT OVERWRITE: the whole table is rewritten on every run);
    - delta (Delta Lake on a cluster that has it): a MERGE removes what the run replaces, and
      only the files holding those rows are rewritten. Not run here (README, "Scaling out").

    dbt-spark builds a run's new rows as a temporary VIEW of the model's SQL, which is read
    again each time it is queried. The models read their own previous build ({{ this }}) and
    the rebuild scope, so reading the view after the target changed would give other rows:
    the view is read exactly once, into the work table, before the target is touched. -#}

{#- The same expression as the models' file_format in dbt_project.yml. -#}
{% macro spark_file_format() -%}
    {%- set file_format = var('spark_file_format', env_var('OEX_SPARK_FILE_FORMAT', '') or 'parquet') -%}
    {%- if file_format not in ['parquet', 'delta'] -%}
        {{ exceptions.raise_compiler_error(
            "var spark_file_format: '" ~ file_format ~ "' is not supported; use parquet or delta") }}
    {%- endif -%}
    {{ return(file_format) }}
{%- endmacro %}

{#- dbt-spark accepts only its built-in strategies (dbt-labs/dbt-adapters#833); this accepts
    the project's own as well, with dbt-spark's checks for the rest. -#}
{% macro dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format) -%}
    {%- if raw_strategy in ['replace_keys', 'rebuild_orders'] -%}
        {%- if file_format not in ['parquet', 'delta'] -%}
            {{ exceptions.raise_compiler_error(
                "Incremental strategy " ~ raw_strategy ~ " runs on parquet or delta tables, not "
                ~ file_format) }}
        {%- endif -%}
        {{ return(raw_strategy) }}
    {%- endif -%}
    {{ return(dbt.dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format)) }}
{%- endmacro %}

{#- dbt-spark knows the SQL of its built-in strategies only; the project's are found as dbt
    finds custom strategies on other adapters (get_incremental_<strategy>_sql). -#}
{% macro dbt_spark_get_incremental_sql(strategy, source, target, existing, unique_key, incremental_predicates) -%}
    {%- if strategy in ['replace_keys', 'rebuild_orders'] -%}
        {%- set arg_dict = {
            'target_relation': target,
            'temp_relation': source,
            'unique_key': unique_key,
            'dest_columns': adapter.get_columns_in_relation(target),
            'incremental_predicates': incremental_predicates,
        } -%}
        {{ return(adapter.get_incremental_strategy_macro(context, strategy)(arg_dict)) }}
    {%- endif -%}
    {{ return(dbt.dbt_spark_get_incremental_sql(
        strategy, source, target, existing, unique_key, incremental_predicates)) }}
{%- endmacro %}

{#- The table a run writes the target's next rows to (dropped at the end of the run). -#}
{% macro incremental_work_relation(target) -%}
    {{ return(target.incorporate(path={'identifier': target.identifier ~ '__oex_next'})) }}
{%- endmacro %}

{#- Parquet: the target's next rows as a real table, then the target overwritten from it. The
    run's new rows are read from dbt-spark's temporary view once, first, into the work table;
    `kept` then adds the target's rows the run keeps (a query that may read the work table,
    never the view); the target is overwritten last. -#}
{% macro spark_overwrite_from_work_table(arg_dict, kept) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set work = incremental_work_relation(target) -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- do run_query("drop table if exists " ~ work) -%}
    {%- do run_query(
        "create table " ~ work ~ " using parquet as "
        ~ "select " ~ columns ~ " from " ~ arg_dict['temp_relation']) -%}
    {%- if kept -%}
        {%- do run_query("insert into " ~ work ~ " " ~ kept) -%}
    {%- endif -%}
    insert overwrite table {{ target }}
    select {{ columns }} from {{ work }}
{%- endmacro %}

{#- Delta: the run's new rows as a real table, which the MERGE statements then read. -#}
{% macro spark_delta_work_table(arg_dict) -%}
    {%- set work = incremental_work_relation(arg_dict['target_relation']) -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- do run_query(
        "create or replace table " ~ work ~ " using delta as "
        ~ "select " ~ columns ~ " from " ~ arg_dict['temp_relation']) -%}
    {{ return(work) }}
{%- endmacro %}

{#- Strategy replace_keys (see latest_arrival.sql): the target keeps its rows but those of a
    replaced file and those of a key the run re-stages. -#}
{% macro spark__replace_keys_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set work = incremental_work_relation(target) -%}
    {%- set keys = arg_dict['unique_key'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- set watermark = last_build_watermark() -%}
    {%- if spark_file_format() == 'delta' -%}
        {%- set work = spark_delta_work_table(arg_dict) -%}
        {%- if watermark is none %}
            insert overwrite table {{ target }} select {{ columns }} from {{ work }}
        {%- else -%}
            {#- Delta allows no subquery in a MERGE condition: the replaced files as a list -#}
            {%- set replaced = run_query(files_ingested_since(watermark, 'replaced')).columns[0].values() -%}
            merge into {{ target }} as target_rows
            using {{ work }} as new_rows
            on {% for key in keys -%}
                target_rows.{{ key }} = new_rows.{{ key }}{{ ' and ' if not loop.last }}
            {%- endfor %}
            when matched then update set *
            when not matched then insert *
            {%- if replaced | length > 0 %}
            when not matched by source and target_rows.source_file in ({{ sql_list(replaced) }})
                then delete
            {%- endif %}
        {%- endif -%}
    {%- else -%}
        {#- with no successful build recorded, the run re-stages every key: nothing is kept -#}
        {%- set kept -%}
            {%- if watermark is not none -%}
                select {{ columns }} from (
                    select target_rows.*
                    from {{ target }} as target_rows
                    left anti join ({{ files_ingested_since(watermark, 'replaced') }}) as replaced
                        on target_rows.source_file = replaced.source_file
                    left anti join {{ work }} as new_rows
                        on {% for key in keys -%}
                            target_rows.{{ key }} = new_rows.{{ key }}{{ ' and ' if not loop.last }}
                        {%- endfor %}
                ) as kept_rows
            {%- endif -%}
        {%- endset -%}
        {{ spark_overwrite_from_work_table(arg_dict, kept | trim) }}
    {%- endif -%}
{%- endmacro %}

{#- Strategy rebuild_orders (see incremental.sql): the target keeps every row of the orders
    neither in the run's scope nor among its new rows. -#}
{% macro spark__rebuild_orders_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- if spark_file_format() == 'delta' -%}
        {%- set work = spark_delta_work_table(arg_dict) -%}
        {#- Delta allows no subquery in a DELETE: a MERGE deletes the orders rebuilt -#}
        {%- do run_query(
            "merge into " ~ target ~ " as target_rows using ("
            ~ "select order_id from " ~ rebuild_scope_relation()
            ~ " union select order_id from " ~ work ~ ") as rebuilt "
            ~ "on target_rows.order_id = rebuilt.order_id when matched then delete") -%}
        insert into {{ target }} select {{ columns }} from {{ work }}
    {%- else -%}
        {%- set work = incremental_work_relation(target) -%}
        {%- set kept -%}
            select {{ columns }} from (
                select target_rows.*
                from {{ target }} as target_rows
                left anti join (
                    select order_id from {{ rebuild_scope_relation() }}
                    union
                    select order_id from {{ work }}
                ) as rebuilt
                    on target_rows.order_id = rebuilt.order_id
            ) as kept_rows
        {%- endset -%}
        {{ spark_overwrite_from_work_table(arg_dict, kept | trim) }}
    {%- endif -%}
{%- endmacro %}

{#- on-run-end: the work tables are of no use once their targets are written. -#}
{% macro drop_incremental_work_tables() -%}
    {{ return(adapter.dispatch('drop_incremental_work_tables', 'order_exceptions')()) }}
{%- endmacro %}

{% macro default__drop_incremental_work_tables() -%}
{%- endmacro %}

{% macro spark__drop_incremental_work_tables() -%}
    {%- if execute and flags.WHICH in ['build', 'run'] -%}
        {%- for node in graph.nodes.values() | sort(attribute='unique_id') -%}
            {%- if node.resource_type == 'model' and node.config.materialized == 'incremental' -%}
                {%- set target = api.Relation.create(
                    schema=node.schema, identifier=node.alias, type='table') -%}
                {%- do run_query("drop table if exists " ~ incremental_work_relation(target)) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{#- on-run-start: on Spark the sources are the Parquet copy of the raw tables that ingestion
    writes (pipelines/defs/transformation/raw_parquet.py, one folder per table), declared as
    views of their folders. A view, not a table: Spark reads the folder's files when a model
    runs, so each run sees the files of the last ingestion and their columns. On DuckDB the
    sources are the warehouse's raw schema itself. -#}
{% macro register_raw_sources() -%}
    {{ return(adapter.dispatch('register_raw_sources', 'order_exceptions')()) }}
{%- endmacro %}

{% macro default__register_raw_sources() -%}
{%- endmacro %}

{% macro spark__register_raw_sources() -%}
    {%- if execute -%}
        {%- set location = var('raw_parquet_location') | replace('`', '``') -%}
        {%- set schemas = [] -%}
        {%- for source in graph.sources.values() | sort(attribute='unique_id') -%}
            {%- if source.schema not in schemas -%}
                {%- do run_query("create database if not exists " ~ source.schema) -%}
                {%- do schemas.append(source.schema) -%}
            {%- endif -%}
            {%- do run_query(
                "create or replace view " ~ source.schema ~ "." ~ source.identifier
                ~ " as select * from parquet.`" ~ location ~ "/" ~ source.identifier ~ "`") -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{#- Seeds on Spark. The seeds' column types are written as DuckDB reads them (varchar), which
    Spark spells `string` (its varchar needs a length). And every value is written as a literal
    escaped for Spark: dbt-spark's session cursor pastes bound values between quotes as they
    are, so a quote in a cell ("the merchant's SKUs") breaks the statement and an empty cell
    becomes the text 'None' instead of null. -#}
{% macro spark_seed_type(data_type) -%}
    {{ return('string' if data_type | lower in ['varchar', 'text'] else data_type) }}
{%- endmacro %}

{% macro spark__create_csv_table(model, agate_table) -%}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set quote_seed_column = model['config'].get('quote_columns', None) -%}
    {%- set sql -%}
        create table {{ this.render() }} (
            {%- for column_name in agate_table.column_names -%}
                {%- set type = column_override.get(
                    column_name, adapter.convert_type(agate_table, loop.index0)) -%}
                {{ adapter.quote_seed_column(column_name | string, quote_seed_column) }}
                {{ spark_seed_type(type) }}{{ ', ' if not loop.last }}
            {%- endfor -%}
        )
        {{ file_format_clause() }}
    {%- endset -%}
    {%- call statement('_') -%}
        {{ sql }}
    {%- endcall -%}
    {{ return(sql) }}
{%- endmacro %}

{% macro spark__load_csv_rows(model, agate_table) -%}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for value in row -%}
                    {%- set column_name = agate_table.column_names[loop.index0] -%}
                    {%- set type = column_override.get(
                        column_name, adapter.convert_type(agate_table, loop.index0)) -%}
                    cast({{ 'null' if value is none else sql_string(value) }} as {{ spark_seed_type(type) }})
                    {%- if not loop.last %}, {% endif -%}
                {%- endfor -%})
                {%- if not loop.last %},{% endif %}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.first -%}
            {%- do statements.append(sql) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(statements[0] if statements else '') }}
{%- endmacro %}
