-- name: cost_line_daily
-- grain: one cost_line row per UTC day it covers
-- description: The bill cut into days. A line whose charge period spans several days (a
--   monthly fee, tax, a commitment purchase) is spread over those days in proportion to the
--   hours it covers, so every per-day figure (allocation, reconciliation, dashboards) uses
--   the same day assignment. Money columns are scaled by the share of the line in that day.
--   Each branch reads cost_line itself (no shared CTE): DuckDB materializes a CTE used twice,
--   which made every filtered read (one day, one account) cut the whole bill first. A line
--   is on one day when it ends by the next midnight: a comparison with the start's date,
--   cheap on every line of a year's bill (the few multi-day lines are cut afterwards).
--   `cost_line_days(from_day, to_day)` is the same for the days from_day..to_day, each
--   branch bounded on the charge period so DuckDB skips the row groups of other days by their
--   min/max (the bill is loaded per billing period): what the reconciliation read-back of a
--   one-day run reads instead of every line's period of the months kept.
CREATE OR REPLACE MACRO cost_line_days(from_day, to_day) AS TABLE
WITH single_day AS (
    SELECT *, charge_period_start::DATE AS day
    FROM cost_line
    WHERE charge_period_start IS NOT NULL
      AND (charge_period_end IS NULL
           OR charge_period_end <= CAST(charge_period_start AS DATE) + 1)
      AND charge_period_start >= from_day AND charge_period_start < to_day + 1
),
multi_day AS (
    SELECT * EXCLUDE (last_day, day_start),
           day_start::DATE AS day,
           (epoch(least(charge_period_end, day_start + INTERVAL 1 DAY))
            - epoch(greatest(charge_period_start, day_start)))
           / (epoch(charge_period_end) - epoch(charge_period_start)) AS day_share
    FROM (
        SELECT *, unnest(generate_series(date_trunc('day', charge_period_start), last_day,
                                         INTERVAL 1 DAY)) AS day_start
        FROM (
            SELECT *, date_trunc('day', greatest(charge_period_end - INTERVAL 1 MICROSECOND,
                                                 charge_period_start)) AS last_day
            FROM cost_line
            WHERE charge_period_end > CAST(charge_period_start AS DATE) + 1
              AND charge_period_start < to_day + 1 AND charge_period_end > from_day
        )
    )
)
SELECT * FROM single_day
UNION ALL BY NAME
SELECT * EXCLUDE (day_share) REPLACE (
    list_cost * day_share AS list_cost,
    billed_cost * day_share AS billed_cost,
    effective_cost * day_share AS effective_cost,
    contracted_cost * day_share AS contracted_cost,
    pricing_quantity * day_share AS pricing_quantity,
    consumed_quantity * day_share AS consumed_quantity
) FROM multi_day
WHERE day BETWEEN from_day AND to_day;

CREATE OR REPLACE VIEW cost_line_daily AS
SELECT * FROM cost_line_days(DATE '0001-01-01', DATE '9999-12-31');
