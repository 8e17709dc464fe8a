"""Queries that used to take the API down (issue 11), for the SQL sandbox's tests."""

# 100 million list elements: 11-33 s and 7.3 GB in the API process before the sandbox had
# worker processes; DuckDB's memory_limit does not cover list builds.
LIST_BOMB = "SELECT len(list(range(100000000)))"
# A 1 GB string: 11 s and 4 GB.
STRING_BOMB = "SELECT repeat('x', 1000000000)"
# One expression: DuckDB checks for an interrupt only between operators, so this runs for
# seconds past any interrupt (3.7 s on the 2-core dev machine) at ~600 MB, under the memory
# cap: only the kill at the time limit plus the grace stops it in time.
UNINTERRUPTIBLE = "SELECT len(list_sort(list_reverse_sort(list_sort(range(20000000)))))"
