"""Plotly figures of the SLA and trends pages (and the reports), built from
plain data. Pure: no Django import. Pages embed ``figure_json`` and load the
locally served plotly.min.js (never a CDN).

Plotly draws every text of a figure (trace names, hover text, titles,
annotations, category ticks) as pseudo-HTML: ``<a href>`` becomes a live
link, ``<b>`` bold. Every string that did not come from this module goes
through ``plot_text`` first, here and in any chart built elsewhere."""

import html
import json
import unicodedata
from datetime import date, timedelta
from functools import cache

import plotly.graph_objects as go
import plotly.io as pio

# Characters of a label a chart shows; a longer one is cut with an ellipsis.
PLOT_TEXT_LIMIT = 80
# Control, format (bidi overrides, zero-width), line/paragraph separators.
_HIDDEN = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def plot_text(value, limit=PLOT_TEXT_LIMIT):
    """``value`` as inert text for a plotly figure: bounded to ``limit``
    characters, control and bidi characters dropped, and ``& < >`` written as
    entities, which plotly shows literally instead of reading them as markup."""
    text = "".join(c for c in str(value) if unicodedata.category(c) not in _HIDDEN)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return html.escape(text, quote=False)


LABELS = {
    "run_success": "Run success",
    "record_success": "Record success",
    "freshness": "Freshness",
    "timeliness": "Timeliness",
    "acknowledge": "Acknowledge",
    "resolve": "Resolve",
}


def _layout(fig, title, ytitle):
    fig.update_layout(
        title={"text": plot_text(title, 200), "font": {"size": 14}},
        margin={"l": 50, "r": 20, "t": 40, "b": 40},
        height=280,
        yaxis_title=ytitle,
        legend={"orientation": "h", "y": -0.2},
    )
    return fig


def attainment_figure(days, attained, target, title, period=None):
    """Daily attainment (%) of one objective, with its target as a dashed line.
    ``days``: ISO dates; ``attained``: percent or None (no data that day);
    ``period``: (first day, last day) as ISO dates the axis covers, default
    the days given. The x axis is a date axis whatever the number of points
    (one point alone would otherwise get a time-of-day axis), and the target
    line spans the whole period even with a single day of data."""
    first, last = period or ((days[0], days[-1]) if days else (None, None))
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=days, y=attained, mode="lines+markers", name="Attained", connectgaps=False))
    if first is not None:
        fig.add_trace(
            go.Scatter(
                x=[first, last], y=[target, target], mode="lines", name=f"Target {target:g}%", line={"dash": "dash"}
            )
        )
        # Half a day either side so the first and last points are not cut in half.
        fig.update_xaxes(type="date", tickformat="%d %b", range=_date_range(first, last), dtick=_dtick(first, last))
    values = [v for v in attained if v is not None] + [target]
    fig.update_yaxes(range=[max(0.0, min(values) - 1.0), 100.5], ticksuffix="%")
    return _layout(fig, title, "Attained")


DAY_MS = 86_400_000


def _date_range(first, last):
    """The axis from half a day before ``first`` to half a day after ``last``:
    a point on the first or last day is drawn whole, not cut by the edge."""
    before = date.fromisoformat(first) - timedelta(days=1)
    return [f"{before} 12:00", f"{last} 12:00"]


def _dtick(first, last):
    """One tick a day for a week or less, else one every seven days."""
    span = (date.fromisoformat(last) - date.fromisoformat(first)).days
    return DAY_MS if span <= 7 else 7 * DAY_MS


def failures_by_class_figure(starts, by_class):
    """Stacked bars: failure occurrences per bucket by error class."""
    fig = go.Figure()
    for cls in sorted(by_class):
        fig.add_trace(go.Bar(x=starts, y=by_class[cls], name=plot_text(cls)))
    if not by_class:
        fig.add_trace(go.Bar(x=starts, y=[0] * len(starts), name="No failures"))
    # The legend names the class even when there is only one.
    fig.update_layout(barmode="stack", showlegend=True)
    return _layout(fig, "Failures by class", "Occurrences")


def opened_resolved_figure(starts, opened, resolved):
    fig = go.Figure()
    fig.add_trace(go.Bar(x=starts, y=opened, name="Opened"))
    fig.add_trace(go.Bar(x=starts, y=resolved, name="Resolved"))
    fig.update_layout(barmode="group")
    return _layout(fig, "Exceptions opened vs resolved", "Exceptions")


def backlog_figure(starts, open_at_end):
    fig = go.Figure(go.Scatter(x=starts, y=open_at_end, mode="lines+markers", name="Open at end", line_shape="hv"))
    # A count of exceptions: whole-number ticks from zero, never "4.5".
    fig.update_yaxes(rangemode="tozero", tickformat=",d", dtick=_count_dtick(open_at_end))
    return _layout(fig, "Backlog (open at the end of each bucket)", "Exceptions")


def _count_dtick(values):
    """A whole tick step that gives at most about six ticks from zero."""
    top = max([v for v in values if v is not None] or [0])
    return max(1, -(-top // 5))


def response_times_figure(starts, mtta, mttr):
    """Median acknowledge and resolve times, in business minutes. Without a
    single acknowledged or resolved opening in the range the chart says so
    instead of drawing empty axes around zero; times never go below zero."""
    fig = go.Figure()
    if all(v is None for v in list(mtta) + list(mttr)):
        fig.add_annotation(
            text="No data: no exception was acknowledged or resolved in this range",
            showarrow=False,
            x=0.5,
            y=0.5,
            xref="paper",
            yref="paper",
        )
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
        return _layout(fig, "MTTA / MTTR", "")
    fig.add_trace(go.Scatter(x=starts, y=mtta, mode="lines+markers", name="Median time to acknowledge"))
    fig.add_trace(go.Scatter(x=starts, y=mttr, mode="lines+markers", name="Median time to resolve"))
    fig.update_yaxes(rangemode="tozero")
    return _layout(fig, "MTTA / MTTR", "Business minutes")


@cache
def _template_text():
    """Plotly's "plotly_white" template, the look of every chart (white
    background, light grid), as JSON text: read once. Set on each figure,
    plotly would copy and check the whole template every time, about half
    the cost of building a chart."""
    return json.dumps(pio.templates["plotly_white"].to_plotly_json())


def figure_dict(fig):
    """The figure as plotly JSON (a dict) with the charts' template: what
    pages embed, reports store and the PDF renderer draws. The same JSON as
    setting ``template="plotly_white"`` on the figure would give."""
    out = json.loads(fig.to_json())
    out.setdefault("layout", {})["template"] = json.loads(_template_text())
    return out


def figure_json(fig):
    """The figure as a JSON string for ``Plotly.newPlot`` in the page script."""
    return json.dumps(figure_dict(fig))
