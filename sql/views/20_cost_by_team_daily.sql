-- name: cost_by_team_daily
-- grain: day, team
-- description: What each team owns per day (effective, amortized cost). Unowned spend is
--   not here: it is in `unowned_spend`, so the two add up to the bill.
CREATE OR REPLACE VIEW cost_by_team_daily AS
SELECT day, team, sum(effective_cost) AS effective_cost
FROM allocation
WHERE team IS NOT NULL
GROUP BY day, team;
