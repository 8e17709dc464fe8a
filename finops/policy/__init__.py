"""Policy as code: ``finops.yaml`` -> admission policies (``finops policy export``).

``parameters`` derives what the policies need from the config (label keys, the teams and
aliases a label may name, the ownership chain, mapped and catalog namespaces, excluded
namespaces, exemptions with their expiry); ``gatekeeper`` writes ConstraintTemplates (the
Rego in ``rego/``) and Constraints, ``kyverno`` ClusterPolicies; both start in audit mode.
Pure: config in, manifests (dicts) out; the CLI reads the catalog and writes the files.
May import ``models`` and ``finops.governance.scope``.
"""
