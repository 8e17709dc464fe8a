-- name: reconciliation_reporting
-- grain: day, billing_account_id (days that have been allocated)
-- description: The second check: the bill converted to the reporting `currency` at the rate
--   recorded for its (day, billing account) in `allocation_fx`, against the allocation's
--   reporting amounts (effective_cost), to the cent. `difference` must be 0.00 on every row;
--   it is NULL when a (day, billing account) of the bill has no recorded rate, which fails
--   the run as well. Estimates (catalog / configured prices) are left out, as in
--   `reconciliation`, and so are the days whose bill lines retention removed.
--   `reconciliation_reporting_between(start_day, end_day)`: the same from start_day to
--   end_day, read without cutting the whole bill (what `finops allocate` reads back).
CREATE OR REPLACE MACRO reconciliation_reporting_between(start_day, end_day) AS TABLE
WITH allocated_days AS (
    SELECT DISTINCT day FROM allocation
    WHERE day BETWEEN start_day AND end_day AND day >= bill_kept_from()
),
rates AS (
    SELECT day, billing_account_id, currency, fx_rate, fx_source
    FROM allocation_fx
    WHERE priced_by = 'bill' AND day BETWEEN start_day AND end_day
),
billed AS (
    SELECT d.day, d.billing_account_id, any_value(r.currency) AS currency,
           any_value(r.fx_rate) AS fx_rate, any_value(r.fx_source) AS fx_source,
           sum(d.effective_cost * r.fx_rate) AS cost,
           bool_or(r.fx_rate IS NULL) AS unrated
    FROM (SELECT * FROM cost_line_days(start_day, end_day) SEMI JOIN allocated_days USING (day)
          ) AS d
    LEFT JOIN rates AS r
        ON d.day = r.day AND d.billing_account_id IS NOT DISTINCT FROM r.billing_account_id
    GROUP BY d.day, d.billing_account_id
),
allocated AS (
    SELECT day, billing_account_id, any_value(currency) AS currency,
           sum(effective_cost) AS cost
    FROM allocation
    WHERE (price_source IS NULL OR price_source IN ('bill', 'split-bill'))
      AND day BETWEEN start_day AND end_day AND day >= bill_kept_from()
    GROUP BY day, billing_account_id
)
SELECT coalesce(b.day, a.day) AS day,
       coalesce(b.billing_account_id, a.billing_account_id) AS billing_account_id,
       coalesce(b.currency, a.currency) AS currency,
       b.fx_rate,
       b.fx_source,
       round(coalesce(b.cost, 0), 2)::DECIMAL(18, 2) AS billed_effective_cost,
       round(coalesce(a.cost, 0), 2)::DECIMAL(18, 2) AS allocated_effective_cost,
       CASE WHEN b.unrated THEN NULL
            ELSE round(coalesce(b.cost, 0) - coalesce(a.cost, 0), 2)::DECIMAL(18, 2)
       END AS difference
FROM billed AS b
FULL OUTER JOIN allocated AS a
    ON b.day = a.day AND b.billing_account_id IS NOT DISTINCT FROM a.billing_account_id;

CREATE OR REPLACE VIEW reconciliation_reporting AS
SELECT * FROM reconciliation_reporting_between(DATE '0001-01-01', DATE '9999-12-31');
