"""What a day's allocation needs that depends on its inputs alone: the bill routed, the pods
keyed (``pod_keys``), the node-hours (``nodes``) and the clusters seen.

``prepare_day`` builds it once per day; the pipeline's runner calls it on its reading thread,
so one day is prepared while the engine allocates the day before. ``PreparedDay.for_cluster``
cuts out one cluster's share for a (cluster, day) partition.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from finops.allocation.inputs import AllocationInputs, compact_bill
from finops.allocation.nodes import node_hours
from finops.allocation.pod_hours import PodHours
from finops.allocation.pod_keys import PodFrame, key_pods
from finops.allocation.route import Routed, route_day
from models.config import FinOpsConfig


@dataclass(frozen=True)
class PreparedDay:
    inputs: AllocationInputs
    routed: Routed
    pods: PodFrame
    hours: pl.DataFrame  # node_hours of inputs.nodes
    clusters: list[str]

    def for_cluster(self, cluster: str, config: FinOpsConfig) -> PreparedDay:
        """One cluster's inputs and routed lines, its pods keyed and node-hours made anew."""
        inputs = self.inputs.for_cluster(cluster)
        return PreparedDay(inputs, self.routed.for_cluster(cluster),
                           key_pods(inputs.keyed_pods(), inputs.namespaces, config),
                           node_hours(inputs.nodes, config), [cluster])


def prepare_day(day_inputs: AllocationInputs, config: FinOpsConfig) -> PreparedDay:
    hours = node_hours(day_inputs.nodes, config)
    bill = day_inputs.bill if day_inputs.bill_is_compact else compact_bill(day_inputs.bill)
    routed = route_day(bill, hours, day_inputs.volumes, day_inputs.lbs, config)
    keyed = day_inputs.keyed_pods()
    pods = key_pods(keyed, day_inputs.namespaces, config)
    return PreparedDay(day_inputs, routed, pods, hours, _clusters(day_inputs, keyed, routed))


def _clusters(day_inputs: AllocationInputs, pods: PodHours, routed: Routed) -> list[str]:
    """Every cluster seen in usage or in the routed bill that day."""
    frames = (day_inputs.nodes, pods.attrs, day_inputs.volumes, day_inputs.lbs)
    names = pl.concat([f.select("cluster") for f in frames] + [routed.clusters()])
    return sorted(names.get_column("cluster").drop_nulls().unique().to_list())
