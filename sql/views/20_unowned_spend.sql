-- name: unowned_spend
-- grain: day, reason, provider, sub_account_id, cluster, namespace, service_name, resource_id
-- description: Spend no ownership rule claimed, with the machine-readable reason.
CREATE OR REPLACE VIEW unowned_spend AS
SELECT day,
       unowned_reason AS reason,
       provider,
       sub_account_id,
       cluster,
       namespace,
       service_name,
       resource_id,
       sum(effective_cost) AS effective_cost
FROM allocation
WHERE team IS NULL
GROUP BY ALL;
