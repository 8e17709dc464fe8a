-- name: cost_by_team_daily
-- grain: day, team, currency
-- description: What each team owns per day (effective, amortized cost) in `currency`, the
--   reporting currency of the allocation (one per warehouse: sums across billing accounts
--   billed in different currencies are made only after conversion). Unowned spend is not
--   here: it is in `unowned_spend`, so the two add up to the bill.
CREATE OR REPLACE VIEW cost_by_team_daily AS
SELECT day, team, currency, sum(effective_cost) AS effective_cost
FROM allocation
WHERE team IS NOT NULL
GROUP BY day, team, currency;
