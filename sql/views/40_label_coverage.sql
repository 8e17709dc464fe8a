-- name: label_coverage
-- grain: day, currency
-- description: How much of the spend, and how many namespaces, a valid team owns.
--   spend_share = owned effective cost / all allocated effective cost that day; total_cost
--   and owned_cost are in `currency` (the reporting currency);
--   a namespace counts as covered when every one of its direct rows (cpu, ram, gpu, storage,
--   load_balancer, network; shared/idle spreads excluded) has a team that day.
CREATE OR REPLACE VIEW label_coverage AS
WITH spend AS (
    SELECT day,
           currency,
           sum(effective_cost) AS total_cost,
           sum(effective_cost) FILTER (WHERE team IS NOT NULL) AS owned_cost
    FROM allocation
    GROUP BY day, currency
),
namespaces AS (
    SELECT day, cluster, namespace, bool_and(team IS NOT NULL) AS covered
    FROM allocation
    WHERE namespace IS NOT NULL AND shared_from IS NULL
      AND cost_kind IN ('cpu', 'ram', 'gpu', 'storage', 'load_balancer', 'network')
    GROUP BY ALL
),
ns AS (
    SELECT day, count(*) AS namespaces, count(*) FILTER (WHERE covered) AS namespaces_with_team
    FROM namespaces
    GROUP BY day
)
SELECT s.day,
       s.currency,
       round(s.total_cost, 2) AS total_cost,
       round(coalesce(s.owned_cost, 0), 2) AS owned_cost,
       round(coalesce(s.owned_cost, 0) / nullif(s.total_cost, 0), 4) AS spend_share,
       coalesce(n.namespaces, 0) AS namespaces,
       coalesce(n.namespaces_with_team, 0) AS namespaces_with_team,
       round(n.namespaces_with_team / nullif(n.namespaces, 0), 4) AS namespace_share
FROM spend AS s
LEFT JOIN ns AS n USING (day);
