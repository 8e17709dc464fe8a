-- name: reconciliation
-- grain: day, billing_account_id (days that have been allocated)
-- description: The bill against the allocation, per billing account and day, to the cent.
--   `difference` is round(billed - allocated, 2) and must be 0.00 on every row.
CREATE OR REPLACE VIEW reconciliation AS
WITH allocated_days AS (
    SELECT DISTINCT day FROM allocation
),
billed AS (
    SELECT day, billing_account_id, sum(effective_cost) AS cost
    FROM cost_line_daily SEMI JOIN allocated_days USING (day)
    GROUP BY ALL
),
allocated AS (
    SELECT day, billing_account_id, sum(effective_cost) AS cost
    FROM allocation
    GROUP BY ALL
)
SELECT day,
       billing_account_id,
       round(coalesce(b.cost, 0), 2)::DECIMAL(18, 2) AS billed_effective_cost,
       round(coalesce(a.cost, 0), 2)::DECIMAL(18, 2) AS allocated_effective_cost,
       round(coalesce(b.cost, 0) - coalesce(a.cost, 0), 2)::DECIMAL(18, 2) AS difference
FROM billed AS b
FULL OUTER JOIN allocated AS a USING (day, billing_account_id);
