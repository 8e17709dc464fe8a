"""API fixtures: ``settings`` of the published hand-written warehouse
(``tests.support.api_warehouse``) and a started ``client`` of the app over it; and
``governance_client``, the app over the governance scenario (``tests.support.governance_data``)."""

from tests.support.api_warehouse import client, settings  # noqa: F401  (fixtures)
from tests.support.governance_data import governance_client  # noqa: F401  (fixture)
