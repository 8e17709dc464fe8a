"""The page frame's colours meet WCAG AA (4.5:1 for text) in light and dark mode."""

from __future__ import annotations

import re

import pytest

from dashboards import pages

TEXT_PAIRS = [("--fg", "--bg"), ("--fg", "--card"), ("--muted", "--card"), ("--muted", "--bg"),
              ("--link", "--card"), ("--link", "--bg"), ("--link", "--chip"),
              ("--head-fg", "--head"), ("--head-link", "--head")]


def palette(dark: bool) -> dict[str, str]:
    """The CSS variables of ``:root`` (light) or of the dark-scheme block."""
    light = dict(re.findall(r"(--[\w-]+):\s*(#[0-9a-fA-F]{6})", pages.STYLE.split("@media")[0]))
    block = re.search(r"prefers-color-scheme: dark\)\s*\{(.*?)\}\s*\}", pages.STYLE, re.S)
    assert block is not None
    return {**light, **dict(re.findall(r"(--[\w-]+):\s*(#[0-9a-fA-F]{6})", block.group(1)))} \
        if dark else light


def luminance(colour: str) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_text_colours_meet_wcag_aa(dark: bool) -> None:
    colours = palette(dark)
    for fg, bg in TEXT_PAIRS:
        assert contrast(colours[fg], colours[bg]) >= 4.5, (fg, bg, dark)


def test_the_apply_button_and_the_budget_bar() -> None:
    assert contrast("#ffffff", "#1f883d") >= 4.5  # the Apply button's text
    assert contrast("#6e7781", "#ffffff") >= 3.0  # budget bars: non-text contrast (was 1.45)
    assert contrast("#d1d9e0", "#24292f") >= 4.5
