"""What a page shows, as its URL says: window, granularity, group-by, filters, cost metric.

A ``View`` is parsed from the query string and written back into every link a page makes
(navigation, drill-down, breadcrumbs, downloads), so a copied URL opens the same view and a
click never loses it. It holds no token (the session cookie authenticates).

Presets are anchored on the last day with data, not on the wall clock: a bill lands a day or
two late, and "last 7 days" that ends on days without data would look like a drop in spend.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from html import escape
from urllib.parse import urlencode

from models.errors import InputError

PRESETS = {"7d": "last 7 days", "30d": "last 30 days", "mtd": "month to date",
           "last-month": "last month", "qtd": "quarter to date", "custom": "custom range"}
STEPS = {"day": "day", "week": "week", "month": "month"}
# name in the URL -> (the allocation column it sums, what the control calls it)
METRICS = {"effective": ("effective_cost", "effective (amortized)"),
           "billed": ("billed_cost", "billed"), "list": ("list_cost", "list price")}
GROUPS = {"team": "team", "namespace": "namespace", "workload": "workload",
          "cluster": "cluster", "sub_account": "account / project / subscription",
          "billing_account": "billing account", "service": "service",
          "cost_kind": "cost kind", "resource": "resource", "provider": "provider",
          "reason": "unowned reason"}
# The drill-down paths: organisation -> team -> namespace -> workload, and
# account -> service -> resource. A dimension not on a path keeps its group when clicked.
DRILL = {"team": "namespace", "namespace": "workload", "cluster": "namespace",
         "billing_account": "sub_account", "provider": "sub_account",
         "sub_account": "service", "service": "resource"}
LABEL = "label:"


@dataclass(frozen=True)
class View:
    """One page's view; empty strings mean "the page's default"."""

    preset: str = ""
    start: date | None = None
    end: date | None = None
    step: str = "day"
    group: str = ""
    filters: tuple[str, ...] = ()  # ``key:"value"`` terms, in drill order
    metric: str = "effective"

    @property
    def column(self) -> str:
        """The money column of the cost metric."""
        return METRICS[self.metric][0]

    @property
    def metric_label(self) -> str:
        return METRICS[self.metric][1]

    def grouped_by(self, default: str) -> str:
        return self.group or default

    def params(self) -> list[tuple[str, str]]:
        """The query parameters of this view (defaults left out, filters repeated)."""
        pairs = [("preset", self.preset)]
        if self.preset == "custom" or not self.preset:
            pairs += [("start", self.start.isoformat() if self.start else ""),
                      ("end", self.end.isoformat() if self.end else "")]
        pairs += [("step", "" if self.step == "day" else self.step), ("group", self.group),
                  ("metric", "" if self.metric == "effective" else self.metric)]
        pairs += [("filter", f) for f in self.filters]
        return [(k, v) for k, v in pairs if v]

    def href(self, path: str, **changes: object) -> str:
        """``path`` with this view, or this view changed (``group=...``, ``filters=...``)."""
        pairs = replace(self, **changes).params() if changes else self.params()  # type: ignore[arg-type]
        return f"{path}?{urlencode(pairs)}" if pairs else path

    def drilled(self, group: str, value: str, default_next: str | None = None) -> View:
        """This view with ``group = value`` added as a filter and the next level grouped."""
        nxt = DRILL.get(group, default_next or group)
        return replace(self, filters=(*self.filters, term(group, value)), group=nxt)


def term(key: str, value: str) -> str:
    """One filter term, the value quoted (ids hold ``:`` and ``/``)."""
    return f'{key}:"{value}"'


def split_term(text: str) -> tuple[str, str]:
    """``key:"value"`` -> (key, value) for breadcrumbs (a label key keeps its prefix)."""
    if text.startswith(LABEL):
        key, _, rest = text[len(LABEL):].partition(":")
        return LABEL + key, rest.strip('"')
    key, _, rest = text.partition(":")
    return key, rest.strip('"')


def parse(query: Mapping[str, str], filters: Sequence[str], groups: Sequence[str] = ()) -> View:
    """The view a query string asks for; a bad value is a 400 naming the parameter."""
    preset = query.get("preset", "")
    if preset and preset not in PRESETS:
        raise InputError(f"preset {preset!r}: expected one of {sorted(PRESETS)}")
    step = query.get("step") or "day"
    if step not in STEPS:
        raise InputError(f"step {step!r}: expected one of {sorted(STEPS)}")
    metric = query.get("metric") or "effective"
    if metric not in METRICS:
        raise InputError(f"metric {metric!r}: expected one of {sorted(METRICS)}")
    group = query.get("group", "")
    if group and group not in GROUPS and group not in groups:
        raise InputError(f"group {group!r}: expected one of {sorted(GROUPS)} or label:<key>")
    # the form's "filter on <dimension> = <value>" pair joins the filters (links never
    # carry the pair itself: every link writes the view's ``filter`` terms)
    key, value = query.get("fkey", ""), query.get("fvalue", "").strip().strip('"')
    added = (term(key, value),) if key and value else ()
    return View(preset=preset, start=_day(query, "start"), end=_day(query, "end"), step=step,
                group=group, filters=(*(f for f in filters if f.strip()), *added),
                metric=metric)


def _day(query: Mapping[str, str], key: str) -> date | None:
    text = query.get(key) or ""
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        raise InputError(f"{key} {text[:40]!r}: expected a day, YYYY-MM-DD") from None


def preset_window(preset: str, through: date) -> tuple[date, date]:
    """The first and last day of a preset, ending on ``through`` (the last day with data)."""
    if preset == "7d":
        return through - timedelta(days=6), through
    if preset == "30d":
        return through - timedelta(days=29), through
    if preset == "mtd":
        return through.replace(day=1), through
    if preset == "last-month":
        last = through.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last
    if preset == "qtd":
        return through.replace(month=3 * ((through.month - 1) // 3) + 1, day=1), through
    raise InputError(f"preset {preset!r} has no fixed window")


def requested_days(view: View, through: date | None) -> tuple[date | None, date | None]:
    """The start and end the reader is asked for: a preset's, else the URL's own."""
    if view.preset and view.preset != "custom" and through is not None:
        return preset_window(view.preset, through)
    return view.start, view.end


def _select(name: str, text: str, options: Mapping[str, str], chosen: str) -> str:
    items = "".join(f'<option value="{escape(k)}"{" selected" if k == chosen else ""}>'
                    f"{escape(v)}</option>" for k, v in options.items())
    return (f'<label for="c-{name}">{escape(text)}</label>'
            f'<select id="c-{name}" name="{name}">{items}</select>')


def _day_input(name: str, text: str, value: date) -> str:
    return (f'<label for="c-{name}">{escape(text)}</label>'
            f'<input id="c-{name}" type="date" name="{name}" value="{value.isoformat()}">')


def _filters(view: View, path: str) -> str:
    """The active filters: kept as hidden fields, each shown with a link that removes it."""
    chips = []
    for i, text in enumerate(view.filters):
        rest = view.filters[:i] + view.filters[i + 1:]
        key, value = split_term(text)
        chips.append(f'<input type="hidden" name="filter" value="{escape(text)}">'
                     f'<span class="chip">{escape(key)} = {escape(value)} '
                     f'<a href="{escape(view.href(path, filters=rest))}" '
                     f'aria-label="remove filter {escape(key)} = {escape(value)}">×</a></span>')
    return "".join(chips)


def form(view: View, path: str, start: date, end: date, default_group: str,
         label_keys: Sequence[str] = (), *, window_only: bool = False) -> str:
    """The controls of a page: a plain GET form (works without scripts; with them, a change
    applies at once). Choosing dates makes the range custom. ``window_only`` for a page
    whose content only a window changes (the rest of the view is kept for the links)."""
    groups = {**GROUPS, **{LABEL + k: f"label {k}" for k in label_keys}}
    preset = view.preset or "custom"
    window = (f'<form class="controls" method="get" action="{escape(path)}" '
              'aria-label="What this page shows">'
              f"{_select('preset', 'Window', PRESETS, preset)}"
              f"{_day_input('start', 'from', start)}{_day_input('end', 'to', end)}")
    if window_only:
        kept = "".join(f'<input type="hidden" name="{k}" value="{escape(v)}">'
                       for k, v in view.params() if k in ("step", "group", "metric", "filter"))
        return f'{window}{kept}<button type="submit">Apply</button></form>' \
               f"<script>{WINDOW_JS}</script>"
    return (
        f"{window}"
        f"{_select('step', 'Granularity', STEPS, view.step)}"
        f"{_select('group', 'Group by', groups, view.grouped_by(default_group))}"
        f"{_select('metric', 'Cost', {k: v[1] for k, v in METRICS.items()}, view.metric)}"
        f"{_select('fkey', 'Filter on', groups, 'namespace')}"
        '<label for="c-fvalue">equal to</label>'
        '<input id="c-fvalue" name="fvalue" placeholder="e.g. checkout" size="14">'
        '<label for="c-filter">or filters</label>'
        '<input id="c-filter" name="filter" placeholder=\'namespace:"a","b"\' size="16">'
        f"{_filters(view, path)}"
        '<button type="submit">Apply</button></form>'
        f"<script>{CONTROLS_JS}</script>"
    )


# The window alone: the preset applies at once, a typed day makes the range custom.
WINDOW_JS = """(function(){var f=document.currentScript.previousElementSibling,
p=f.querySelector('#c-preset');p.addEventListener('change',function(){if(p.value!=='custom'){
f.querySelector('#c-start').disabled=true;f.querySelector('#c-end').disabled=true;}
f.requestSubmit();});f.querySelectorAll('input[type=date]').forEach(function(d){
d.addEventListener('change',function(){p.value='custom';});});})();"""

# Selects apply at once; a date typed by hand turns the window into a custom range. On submit
# the "filter on ... equal to ..." pair becomes a ``filter`` term and empty or overridden
# fields are left out, so the URL holds the view and nothing else.
CONTROLS_JS = """(function(){var f=document.currentScript.previousElementSibling;
f.querySelectorAll('select:not(#c-fkey)').forEach(function(s){s.addEventListener('change',
function(){f.requestSubmit();});});
f.querySelectorAll('input[type=date]').forEach(function(d){d.addEventListener('change',
function(){f.querySelector('#c-preset').value='custom';});});
f.addEventListener('submit',function(){var k=f.querySelector('#c-fkey'),
v=f.querySelector('#c-fvalue'),t=f.querySelector('#c-filter'),x=v.value.trim();
if(x){var h=document.createElement('input');h.type='hidden';h.name='filter';
h.value=k.value+':"'+x.replace(/"/g,'')+'"';f.appendChild(h);}
k.disabled=true;v.disabled=true;if(!t.value.trim()){t.disabled=true;}
if(f.querySelector('#c-preset').value!=='custom'){f.querySelector('#c-start').disabled=true;
f.querySelector('#c-end').disabled=true;}});})();"""


def crumbs(trail: Sequence[tuple[str, str]]) -> str:
    """Breadcrumbs: ``(text, href)`` from the top down; the last one is where we are."""
    if len(trail) < 2:
        return ""
    items = [f'<li><a href="{escape(href)}">{escape(text)}</a></li>' for text, href in trail[:-1]]
    items.append(f'<li aria-current="page">{escape(trail[-1][0])}</li>')
    return f'<nav class="crumbs" aria-label="Breadcrumb"><ol>{"".join(items)}</ol></nav>'


def trail(view: View, root: tuple[str, str], path: str) -> list[tuple[str, str]]:
    """The breadcrumbs of ``view``: ``root`` (text, path), then one crumb per filter, each
    linking to the view with the filters up to it (grouped by the next filter's key)."""
    found = [(root[0], view.href(root[1], filters=(), group=_group_of(view.filters, 0)))]
    for i, text in enumerate(view.filters):
        key, value = split_term(text)
        found.append((f"{key} {value}", view.href(path, filters=view.filters[:i + 1],
                                                  group=_group_of(view.filters, i + 1))))
    return found


def _group_of(filters: Sequence[str], i: int) -> str:
    """The group-by that the filter at ``i`` was drilled from ("" past the end: kept)."""
    return split_term(filters[i])[0] if i < len(filters) else ""
