-- name: unowned_spend
-- grain: day, reason, provider, sub_account_id, cluster, namespace, service_name, resource_id, currency
-- description: Spend no ownership rule claimed, with the machine-readable reason, in
--   `currency` (the reporting currency of the allocation).
CREATE OR REPLACE VIEW unowned_spend AS
SELECT day,
       unowned_reason AS reason,
       provider,
       sub_account_id,
       cluster,
       namespace,
       service_name,
       resource_id,
       currency,
       sum(effective_cost) AS effective_cost
FROM allocation
WHERE team IS NULL
GROUP BY ALL;
