# finops: the team label, required on namespaces and workloads (Pods and their controllers).
# An object is owned when a step of finops.yaml's ownership chain names a known team, exactly
# as the allocation engine decides; what it would report as `no-team-label` or
# `unknown-team` is denied (or, in audit mode, reported).
package finopsteamlabel

import data.lib.finops
import rego.v1

raw_value("pod-label") := finops.label_value(finops.pod_labels, input.parameters.labelKeys)

raw_value("workload-label") := finops.label_value(finops.workload_labels, input.parameters.labelKeys)

raw_value("namespace-label") := finops.label_value(finops.namespace_labels, input.parameters.labelKeys)

raw_value("namespace-annotation") := finops.label_value(finops.namespace_annotations, input.parameters.labelKeys)

raw_value("backstage") := input.parameters.catalogIds[finops.workload_name]

raw_value("backstage") := input.parameters.catalogNamespaces[finops.namespace] if {
	not input.parameters.catalogIds[finops.workload_name]
}

owns(step) if finops.names_team(raw_value(step))

owns("mapping") if finops.matches_any(input.parameters.mappedNamespaces, finops.namespace)

owned if {
	some step in input.parameters.chain
	owns(step)
}

seen contains value if {
	some step in input.parameters.chain
	value := raw_value(step)
}

reason := "unknown-team" if count(seen) > 0

reason := "no-team-label" if count(seen) == 0

violation contains {"msg": msg, "details": {"reason": reason, "values": seen}} if {
	not finops.excluded
	not finops.exempt
	not owned
	msg := sprintf("%v %v/%v: %v: finops cannot tell which team owns its cost (label keys %v; known teams %v)", [
		input.review.object.kind, finops.namespace, input.review.object.metadata.name, reason,
		input.parameters.labelKeys, input.parameters.allowed,
	])
}
