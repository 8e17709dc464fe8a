-- 0006: money in more than one currency (issue 13). Columns agree with models/schemas.py.
--
-- cost_line keeps the exchange rate an export carries itself: 1 pricing_currency =
-- x_pricing_exchange_rate billing_currency (GCP: USD -> the billing currency,
-- `currency_conversion_rate`; Azure: `ExchangeRatePricingToBilling`; FOCUS: PricingCurrency).
ALTER TABLE cost_line ADD COLUMN pricing_currency VARCHAR;
ALTER TABLE cost_line ADD COLUMN x_pricing_exchange_rate DOUBLE;

-- allocation: billed_cost, effective_cost and list_cost are in `currency` (the reporting
-- currency); billing_* are the amounts as billed, in billing_currency; effective_cost =
-- billing_effective_cost * fx_rate.
ALTER TABLE allocation ADD COLUMN currency VARCHAR;
ALTER TABLE allocation ADD COLUMN billing_currency VARCHAR;
ALTER TABLE allocation ADD COLUMN billing_effective_cost DOUBLE;
ALTER TABLE allocation ADD COLUMN billing_billed_cost DOUBLE;
ALTER TABLE allocation ADD COLUMN billing_list_cost DOUBLE;
ALTER TABLE allocation ADD COLUMN fx_rate DOUBLE;
ALTER TABLE allocation ADD COLUMN fx_source VARCHAR;

-- Existing warehouses were allocated in one currency, without conversion: the amounts as they
-- are, in the currency of their billing account (estimates, which have none, in the bill's
-- one currency, else USD: OpenCost's prices), at rate 1. No reload. A warehouse that already
-- mixed currencies keeps each row in its own account's currency, and `finops allocate` then
-- asks for the whole history to be allocated again (it refuses to add converted days to it).
UPDATE allocation AS a SET billing_currency = c.billing_currency
FROM (SELECT billing_account_id, any_value(billing_currency) AS billing_currency
      FROM cost_line GROUP BY ALL) AS c
WHERE a.billing_account_id IS NOT DISTINCT FROM c.billing_account_id;
UPDATE allocation SET
    billing_currency = coalesce(billing_currency,
                                (SELECT mode(billing_currency) FROM cost_line), 'USD'),
    billing_effective_cost = effective_cost,
    billing_billed_cost = billed_cost,
    billing_list_cost = list_cost,
    fx_rate = 1.0,
    fx_source = 'same-currency';
UPDATE allocation SET currency = billing_currency;

-- Rates loaded with `finops fx load FILE` (a CSV of monthly or daily rates):
-- 1 from_currency = rate to_currency, valid from valid_from up to valid_to (exclusive).
CREATE TABLE fx_rate (
    from_currency VARCHAR,
    to_currency VARCHAR,
    valid_from DATE,
    valid_to DATE,
    rate DOUBLE,
    source VARCHAR,
    x_ingest_run VARCHAR
);

-- The rate each (day, billing account) of the allocation was converted at, and where it
-- came from; the `reconciliation_reporting` view converts the bill with it.
CREATE TABLE allocation_fx (
    day DATE,
    billing_account_id VARCHAR,
    priced_by VARCHAR,
    billing_currency VARCHAR,
    currency VARCHAR,
    fx_rate DOUBLE,
    fx_source VARCHAR,
    run_id VARCHAR
);
-- Migrated days: every (day, billing account) at the rate 1 it was allocated at.
INSERT INTO allocation_fx
SELECT day, billing_account_id,
       CASE WHEN price_source IN ('catalog', 'configured') THEN price_source ELSE 'bill' END,
       any_value(billing_currency), any_value(currency), 1.0, 'same-currency', any_value(run_id)
FROM allocation
GROUP BY ALL;
