"""Reports built from allocated rows for people (CLI text) and the API (JSON): ``explain``.

Frames in, dicts and text out; reads nothing itself (the caller selects the rows). May
import ``models``; never the warehouse, the pipeline, the CLI or the API.
"""
