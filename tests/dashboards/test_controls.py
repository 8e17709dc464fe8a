"""The view in the URL: presets, parsing, links that keep it, drill-down and breadcrumbs."""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qsl, urlsplit

import pytest

from dashboards import controls, pages
from dashboards.controls import View
from models.errors import InputError

THROUGH = date(2026, 5, 14)


@pytest.mark.parametrize(("preset", "start", "end"), [
    ("7d", date(2026, 5, 8), THROUGH), ("30d", date(2026, 4, 15), THROUGH),
    ("mtd", date(2026, 5, 1), THROUGH), ("last-month", date(2026, 4, 1), date(2026, 4, 30)),
    ("qtd", date(2026, 4, 1), THROUGH),
])
def test_presets_end_on_the_last_day_with_data(preset: str, start: date, end: date) -> None:
    assert controls.preset_window(preset, THROUGH) == (start, end)
    view = controls.parse({"preset": preset, "start": "2020-01-01"}, [])
    assert controls.requested_days(view, THROUGH) == (start, end)  # the preset wins


def test_custom_range_and_bad_values() -> None:
    view = controls.parse({"preset": "custom", "start": "2026-05-01", "end": "2026-05-02"}, [])
    assert controls.requested_days(view, THROUGH) == (date(2026, 5, 1), date(2026, 5, 2))
    for query, word in [({"preset": "year"}, "preset"), ({"step": "hour"}, "step"),
                        ({"metric": "net"}, "metric"), ({"group": "colour"}, "group"),
                        ({"start": "May 1"}, "start")]:
        with pytest.raises(InputError, match=word):
            controls.parse(query, [])
    assert controls.parse({"group": "label:app"}, [], ["label:app"]).group == "label:app"


def test_links_keep_the_view_and_never_a_token() -> None:
    view = controls.parse({"preset": "7d", "step": "week", "group": "cluster",
                           "metric": "list"}, ['namespace:"a b"', ""])
    href = view.href("/dashboards/finance")
    query = parse_qsl(urlsplit(href).query)
    assert ("preset", "7d") in query and ("step", "week") in query
    assert ("group", "cluster") in query and ("metric", "list") in query
    assert ("filter", 'namespace:"a b"') in query and len([k for k, _ in query
                                                          if k == "filter"]) == 1
    assert "start" not in dict(query) and "token" not in href  # a preset, not fixed days
    assert controls.parse(dict(query), [v for k, v in query if k == "filter"]) == view
    assert View().href("/x") == "/x" and View().column == "effective_cost"


def test_drill_down_goes_one_level_and_crumbs_lead_back() -> None:
    view = View(preset="mtd", group="sub_account")
    one = view.drilled("sub_account", "111")
    two = one.drilled("service", "Amazon S3")
    assert (one.group, two.group) == ("service", "resource")
    assert two.filters == ('sub_account:"111"', 'service:"Amazon S3"')
    assert View().drilled("team", "payments").group == "namespace"
    trail = controls.trail(two, ("Organisation", "/dashboards/finance"), "/dashboards/finance")
    assert [text for text, _ in trail] == ["Organisation", "sub_account 111",
                                           "service Amazon S3"]
    back = dict(parse_qsl(urlsplit(trail[1][1]).query))
    assert back["filter"] == 'sub_account:"111"' and back["group"] == "service"
    html = controls.crumbs(trail)
    assert html.count("<a ") == 2 and 'aria-current="page">service Amazon S3' in html


def test_form_labels_every_control_and_escapes() -> None:
    view = View(filters=('namespace:"<x>"',))
    html = controls.form(view, "/dashboards/finance", THROUGH, THROUGH, "team", ["app"])
    for name in ("preset", "start", "end", "step", "group", "metric", "fkey", "fvalue",
                 "filter"):
        assert f'<label for="c-{name}">' in html and f'id="c-{name}"' in html
    assert '<option value="label:app">label app</option>' in html
    assert "<x>" not in html and "&lt;x&gt;" in html
    assert 'aria-label="remove filter namespace = &lt;x&gt;"' in html


def test_percent_is_never_minus_zero() -> None:
    assert pages.percent(-0.04) == "0.0 %" and pages.percent(-0.04, signed=True) == "0.0 %"
    assert pages.percent(12.34, signed=True) == "+12.3 %" and pages.percent(None) == "n/a"


def test_the_forms_filter_pair_joins_the_filters() -> None:
    view = controls.parse({"fkey": "namespace", "fvalue": ' "checkout" '}, ['cluster:"a"'])
    assert view.filters == ('cluster:"a"', 'namespace:"checkout"')
    assert "fkey" not in view.href("/x") and controls.parse({"fkey": "team"}, []).filters == ()


def test_a_window_only_form_keeps_the_rest_of_the_view() -> None:
    view = View(preset="7d", group="cluster", filters=('namespace:"a"',), metric="list")
    html = controls.form(view, "/dashboards/unowned", THROUGH, THROUGH, "reason",
                         window_only=True)
    assert 'id="c-preset"' in html and 'id="c-group"' not in html and 'id="c-fkey"' not in html
    assert '<input type="hidden" name="group" value="cluster">' in html
    assert '<input type="hidden" name="filter" value="namespace:&quot;a&quot;">' in html
