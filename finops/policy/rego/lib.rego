# Shared by the finops ConstraintTemplates (Gatekeeper `libs`): which namespace an object is
# in, what its namespace says, its pod and workload labels, exclusions and exemptions.
# Rego v1 keywords through `import rego.v1`, so it reads the same under OPA v0 and v1.
package lib.finops

import rego.v1

workload_kinds := {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"}

obj := input.review.object

# The namespace the object is, or is in.
namespace := obj.metadata.name if {
	obj.kind == "Namespace"
} else := obj.metadata.namespace if {
	obj.metadata.namespace
} else := input.review.namespace

# The Namespace object: the object itself, or the synced copy (Gatekeeper `Config` sync).
namespace_object := obj if obj.kind == "Namespace"

namespace_object := data.inventory.cluster.v1.Namespace[namespace] if obj.kind != "Namespace"

metadata_map(o, field) := object.get(object.get(o, "metadata", {}), field, {})

namespace_labels := metadata_map(namespace_object, "labels")

namespace_labels := {} if not namespace_object

namespace_annotations := metadata_map(namespace_object, "annotations")

namespace_annotations := {} if not namespace_object

# What the engine calls pod labels: a Pod's own, or a workload's pod template's.
pod_labels := metadata_map(obj, "labels") if obj.kind == "Pod"

pod_labels := metadata_map(obj.spec.jobTemplate.spec.template, "labels") if obj.kind == "CronJob"

pod_labels := metadata_map(obj.spec.template, "labels") if {
	obj.kind in workload_kinds
	obj.kind != "CronJob"
}

pod_labels := {} if obj.kind == "Namespace"

workload_labels := metadata_map(obj, "labels") if obj.kind in workload_kinds

workload_labels := {} if not obj.kind in workload_kinds

# The workload a Pod belongs to, as the collectors name it: its controller, a ReplicaSet
# without its pod-template-hash (the Deployment). A workload object is its own.
controller := [ref | some ref in object.get(obj.metadata, "ownerReferences", []); ref.controller]

workload_name := obj.metadata.name if obj.kind in workload_kinds

workload_name := trim_suffix(ref.name, concat("-", ["", obj.metadata.labels["pod-template-hash"]])) if {
	obj.kind == "Pod"
	ref := controller[0]
	ref.kind == "ReplicaSet"
	obj.metadata.labels["pod-template-hash"]
} else := controller[0].name if {
	obj.kind == "Pod"
}

# The value of the first of `keys` present (keys compared case-insensitively), trimmed; a
# present but empty value counts as none, as the engine reads labels.
label_value(labels, keys) := value if {
	found := [labels[k] | some key in keys; some k, _ in labels; lower(k) == lower(key)]
	value := trim_space(found[0])
	value != ""
}

# A value names a team: a declared team or alias (case-insensitive), or, with no teams
# declared (zero-config), any value.
names_team(value) if count(input.parameters.allowed) == 0

names_team(value) if lower(trim_space(value)) in {lower(v) | some v in input.parameters.allowed}

matches_any(globs, name) if {
	some pattern in globs
	glob.match(pattern, [], name)
}

excluded if matches_any(object.get(input.parameters, "excludedNamespaces", []), namespace)

# An exemption holds through its `until` day (UTC).
in_force(exemption) if time.now_ns() <= time.parse_rfc3339_ns(sprintf("%sT23:59:59Z", [exemption.until]))

exempt if {
	some exemption in object.get(input.parameters, "exemptions", [])
	matches_any(exemption.namespaces, namespace)
	in_force(exemption)
}
