"""Price catalogs -> ``price_catalog``: the fallback price of a node the bill does not cover
yet. ``aws_pricing`` (AWS Price List API, on-demand EC2), ``gcp_catalog`` (GCP Cloud Billing
catalog, Compute Engine vCPU/RAM/GPU); ``regions`` finds the regions both look up. Never
imports ``finops``.
"""
