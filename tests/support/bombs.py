"""Queries that used to take the API down (issue 11), for the SQL sandbox's tests."""

# 100 million list elements: 11-33 s and 7.3 GB in the API process before the sandbox had
# worker processes; DuckDB's memory_limit does not cover list builds.
LIST_BOMB = "SELECT len(list(range(100000000)))"
# A 1 GB string: 11 s and 4 GB.
STRING_BOMB = "SELECT repeat('x', 1000000000)"
# One expression: DuckDB looks for an interrupt only between operators, and a sort inside a
# list expression is no operator, so this runs to its end, 16 sorts of 20 million numbers
# (~6 s on the 2-core dev machine, longer under load) at ~620 MB, under the memory cap: only
# the kill at the time limit plus the grace stops it in time.
UNINTERRUPTIBLE = "SELECT len({})".format(
    "list_sort(list_reverse_sort(" * 8 + "range(20000000)" + "))" * 8)
