"""``safe_next``: wherever a sign-in sends a person next stays on this site."""

from __future__ import annotations

from urllib.parse import urlsplit

from hypothesis import given
from hypothesis import settings as settings_hypothesis
from hypothesis import strategies as st

from finops.api.browser import safe_next


@settings_hypothesis(max_examples=300, deadline=None)
@given(st.text(max_size=80) | st.from_regex(r"\A[/\\]{1,3}[a-z.:@%\\/?#&=]{0,30}\Z"))
def test_safe_next_is_always_a_local_path(value: str) -> None:
    result = safe_next(value)
    parts = urlsplit(result)
    assert result.startswith("/") and not result.startswith("//") and "\\" not in result
    assert not parts.scheme and not parts.netloc
    assert not any(ord(char) < 0x20 for char in result)
