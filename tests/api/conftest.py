"""API fixtures: ``settings`` of the published hand-written warehouse
(``tests.support.api_warehouse``) and a started ``client`` of the app over it."""

from tests.support.api_warehouse import client, settings  # noqa: F401  (fixtures)
