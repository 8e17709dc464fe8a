-- 0011: the compacted daily bill (finops/bill_compact.py). Columns agree with models/schemas.py.
--
-- cost_line_compact: cost_line_daily grouped per day by the columns the allocation reads,
-- money summed (one row per distinct attributes; lines the bill split per pod keep their hour,
-- truncated; every other line's charge_period_start is NULL). Every load that changes
-- cost_line rebuilds the days it changed in its own transaction (the days are recorded in
-- pending_rollup_day under 'cost_line', and consumed by the same load).
CREATE TABLE IF NOT EXISTS cost_line_compact (
    day DATE,
    billing_account_id VARCHAR,
    sub_account_id VARCHAR,
    provider VARCHAR,
    service_name VARCHAR,
    service_category VARCHAR,
    resource_id VARCHAR,
    charge_category VARCHAR,
    charge_description VARCHAR,
    commitment_discount_status VARCHAR,
    sku_id VARCHAR,
    consumed_unit VARCHAR,
    pricing_unit VARCHAR,
    x_line_item_type VARCHAR,
    x_cluster VARCHAR,
    x_namespace VARCHAR,
    x_pod VARCHAR,
    x_split_parent_resource_id VARCHAR,
    tags MAP(VARCHAR, VARCHAR),
    charge_period_start TIMESTAMP,
    billed_cost DOUBLE,
    effective_cost DOUBLE,
    list_cost DOUBLE
);

-- An existing warehouse: every day from the bill's first to its last is pending, so opening
-- it builds the table once (Warehouse.migrate, after the views it is computed from exist).
INSERT INTO pending_rollup_day
SELECT CAST(unnest(generate_series(min(first_day), max(last_day), INTERVAL 1 DAY)) AS DATE),
       'cost_line'
FROM (
    SELECT date_trunc('day', charge_period_start) AS first_day,
           date_trunc('day', greatest(charge_period_end - INTERVAL 1 MICROSECOND,
                                      charge_period_start)) AS last_day
    FROM cost_line
    WHERE charge_period_start IS NOT NULL
)
HAVING count(*) > 0;
