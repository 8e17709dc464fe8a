-- name: reconciliation
-- grain: day, billing_account_id (days that have been allocated)
-- description: The bill against the allocation, per billing account and day, to the cent, in
--   the account's own `billing_currency` (the bill's amounts against the allocation's
--   billing_* amounts: no exchange rate takes part). `difference` is
--   round(billed - allocated, 2) and must be 0.00 on every row; `billed_cost_difference` does
--   the same for billed (invoice) cost. `reconciliation_reporting` checks the conversion.
--   Allocation rows priced from the catalog or configured prices (price_source 'catalog' /
--   'configured': nodes and volumes the bill does not cover yet) are estimates on no invoice,
--   so they are left out here by design. Lines with no billing account match each other
--   (IS NOT DISTINCT FROM), so they reconcile too. Days before the first day whose bill lines
--   retention keeps (`retention`, table_name 'cost_line') are left out: their bill is gone.
--   `reconciliation_between(start_day, end_day)` is the same for the days from start_day to
--   end_day, read without cutting the whole bill (what `finops allocate` reads back).
-- The first day whose bill lines retention keeps (both reconciliations leave the days before
-- it out); 0001-01-01 when retention never removed any.
CREATE OR REPLACE MACRO bill_kept_from() AS (
    SELECT coalesce(max(kept_from), DATE '0001-01-01') FROM retention
    WHERE table_name = 'cost_line'
);

CREATE OR REPLACE MACRO reconciliation_between(start_day, end_day) AS TABLE
WITH allocated_days AS (
    SELECT DISTINCT day FROM allocation
    WHERE day BETWEEN start_day AND end_day AND day >= bill_kept_from()
),
billed AS (
    SELECT day, billing_account_id, any_value(billing_currency) AS billing_currency,
           sum(effective_cost) AS cost, sum(billed_cost) AS invoiced
    FROM cost_line_days(start_day, end_day) SEMI JOIN allocated_days USING (day)
    GROUP BY day, billing_account_id
),
allocated AS (
    SELECT day, billing_account_id, any_value(billing_currency) AS billing_currency,
           sum(billing_effective_cost) AS cost, sum(billing_billed_cost) AS invoiced
    FROM allocation
    WHERE (price_source IS NULL OR price_source IN ('bill', 'split-bill'))
      AND day BETWEEN start_day AND end_day AND day >= bill_kept_from()
    GROUP BY day, billing_account_id
)
SELECT coalesce(b.day, a.day) AS day,
       coalesce(b.billing_account_id, a.billing_account_id) AS billing_account_id,
       coalesce(b.billing_currency, a.billing_currency) AS billing_currency,
       round(coalesce(b.cost, 0), 2)::DECIMAL(18, 2) AS billed_effective_cost,
       round(coalesce(a.cost, 0), 2)::DECIMAL(18, 2) AS allocated_effective_cost,
       round(coalesce(b.cost, 0) - coalesce(a.cost, 0), 2)::DECIMAL(18, 2) AS difference,
       round(coalesce(b.invoiced, 0) - coalesce(a.invoiced, 0), 2)::DECIMAL(18, 2)
           AS billed_cost_difference
FROM billed AS b
FULL OUTER JOIN allocated AS a
    ON b.day = a.day AND b.billing_account_id IS NOT DISTINCT FROM a.billing_account_id;

CREATE OR REPLACE VIEW reconciliation AS
SELECT * FROM reconciliation_between(DATE '0001-01-01', DATE '9999-12-31');
