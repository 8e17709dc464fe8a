"""Exchange rates -> ``fx_rate``: ``rates`` reads a CSV of monthly or daily rates (``finops fx
load FILE``), checked row by row. Never imports ``finops``.
"""
