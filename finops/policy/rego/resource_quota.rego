# finops: a ResourceQuota that bounds CPU and memory, required in tenant namespaces before
# workloads run there (a namespace without one is "unbounded" in `finops governance`).
# Reads the namespace's quotas from Gatekeeper's synced inventory.
package finopsresourcequota

import data.lib.finops
import rego.v1

cpu_keys := {"cpu", "requests.cpu", "limits.cpu"}

memory_keys := {"memory", "requests.memory", "limits.memory"}

quotas := [q | some q in object.get(object.get(object.get(data.inventory.namespace, finops.namespace, {}), "v1", {}), "ResourceQuota", {})]

limits(keys) if {
	some quota in quotas
	some key, _ in object.get(quota.spec, "hard", {})
	key in keys
}

bounded if {
	limits(cpu_keys)
	limits(memory_keys)
}

violation contains {"msg": msg, "details": {"namespace": finops.namespace, "quotas": count(quotas)}} if {
	input.review.object.kind != "Namespace"
	not finops.excluded
	not finops.exempt
	not bounded
	msg := sprintf("%v %v/%v: namespace %v has no ResourceQuota bounding cpu and memory, so nothing caps its spend", [
		input.review.object.kind, finops.namespace, input.review.object.metadata.name, finops.namespace,
	])
}
