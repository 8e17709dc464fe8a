-- name: quota_coverage
-- grain: cluster, namespace (namespaces seen in pod usage or quotas)
-- description: ResourceQuota coverage and what a quota would cost if fully used.
--   has_quota is false for namespaces that run pods without any ResourceQuota;
--   cpu/memory_utilisation = average used / hard over the hours a quota existed;
--   quota_monthly_cost = the latest hard CPU and memory at the reference prices
--   (0.031611 USD per vCPU-hour, 0.004237 USD per GiB-hour, OpenCost's defaults) x 730 hours,
--   in `currency` (USD: those prices' currency, whatever the reporting currency).
--   team is the namespace's owner in the allocation (the team with most cost there).
--   Set beside a team's budget, a quota that allows more spend than the budget is a finding.
-- quota_coverage_of(pods): the same over the namespaces seen in the table named `pods` (any
--   table with cluster and namespace): the view reads the raw pod-hours; the serving rollup
--   rollup_quota_coverage reads rollup_pod_namespace_daily (finops/rollups.py), the pod-hours'
--   (day, cluster, namespace) kept up to date by day, so a publish need not read every
--   pod-hour of the history again.
CREATE OR REPLACE MACRO quota_coverage_of(pods) AS TABLE
WITH quota AS (
    SELECT cluster, namespace,
           avg(used / nullif(hard, 0)) FILTER (WHERE resource IN ('requests.cpu', 'cpu'))
               AS cpu_utilisation,
           avg(used / nullif(hard, 0)) FILTER (WHERE resource IN ('requests.memory', 'memory'))
               AS memory_utilisation,
           arg_max(hard, hour) FILTER (WHERE resource IN ('requests.cpu', 'cpu')) AS hard_cpu,
           arg_max(hard, hour) FILTER (WHERE resource IN ('requests.memory', 'memory'))
               AS hard_memory
    FROM k8s_quota_hour
    GROUP BY ALL
),
seen AS (
    SELECT DISTINCT cluster, namespace FROM query_table(pods)
    UNION
    SELECT DISTINCT cluster, namespace FROM k8s_quota_hour
),
owner AS (
    SELECT cluster, namespace, arg_max(team, cost) AS team
    FROM (SELECT cluster, namespace, team, sum(effective_cost) AS cost
          FROM allocation WHERE team IS NOT NULL AND namespace IS NOT NULL GROUP BY ALL)
    GROUP BY ALL
)
SELECT s.cluster,
       s.namespace,
       o.team,
       q.namespace IS NOT NULL AS has_quota,
       q.hard_cpu,
       q.hard_memory,
       round(q.cpu_utilisation, 4) AS cpu_utilisation,
       round(q.memory_utilisation, 4) AS memory_utilisation,
       round((coalesce(q.hard_cpu, 0) * 0.031611
              + coalesce(q.hard_memory, 0) / 1073741824.0 * 0.004237) * 730, 2)
           AS quota_monthly_cost,
       'USD' AS currency
FROM seen AS s
LEFT JOIN quota AS q USING (cluster, namespace)
LEFT JOIN owner AS o USING (cluster, namespace);

CREATE OR REPLACE VIEW quota_coverage AS SELECT * FROM quota_coverage_of('k8s_pod_hour');
