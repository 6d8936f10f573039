"""Charts of the response-trends page: MTTA and MTTR per week, median and
95th percentile, in business minutes. Pure plotly, no Django; a week
without samples is a gap, never a zero."""

import plotly.graph_objects as go

from sla.charts import _layout, figure_dict


def _figure(weeks, median, p95, title):
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=weeks, y=median, mode="lines+markers", name="Median", connectgaps=False))
    fig.add_trace(go.Scatter(x=weeks, y=p95, mode="lines+markers", name="95th percentile", line={"dash": "dot"}))
    fig.update_xaxes(type="category")
    fig.update_yaxes(rangemode="tozero")
    _layout(fig, title, "Business minutes")
    # Room under the axis for slanted week labels on a phone, then the legend.
    fig.update_layout(legend={"orientation": "h", "y": -0.3}, margin={"b": 60})
    return fig


def response_figures(points, title):
    """[{id, title, figure}] for the page: one chart for MTTA, one for MTTR."""
    # Short labels ("14 Sep") keep twelve weeks readable on a phone.
    weeks = [p["week"].strftime("%d %b") for p in points]
    out = []
    for key, label in (("ack", "Time to acknowledge"), ("res", "Time to resolve")):
        text = f"{label} · {title}"
        fig = _figure(weeks, [p[f"{key}_median"] for p in points], [p[f"{key}_p95"] for p in points], text)
        out.append({"id": f"chart-{key}", "title": text, "figure": figure_dict(fig)})
    return out
