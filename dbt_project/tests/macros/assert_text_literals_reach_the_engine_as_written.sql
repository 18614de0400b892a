-- Assert that text literals reach the engine as the project writes them, on every adapter:
-- a regex's backslashes (Spark's parser would turn '\s' into 's', and the address key would
-- lose its every "s" instead of its spaces), a quote and a backslash in a plain value.
with

samples as (
    select
        {{ regex_replace_all("concat('Wes', chr(9), 't  Road 5s')", '\\s', '') }} as no_spaces,
        {{ regex_matches("'12-34'", '\\d+-\\d+') }} as matches_digits,
        {{ sql_string("it's C:\\orders") }} as quoted
)

select *
from samples
where
    no_spaces is null or no_spaces != 'WestRoad5s'
    or matches_digits is null or not matches_digits
    or quoted is null or quoted != concat('it', chr(39), 's C:', chr(92), 'orders')
