"""Plotly figures of a report, built from the report's stored figures (the
same dict the HTML page shows), for the page (interactive) and the PDF (SVG
through the warm renderer). Pure: no Django import."""

import plotly.graph_objects as go

from sla import charts as sla_charts

FONT = "Liberation Sans, Arial, sans-serif"
STATUS_COLORS = {"succeeded": "#1a7f37", "failed": "#c0252d", "skipped": "#8c959f", "partial": "#9a6700"}


def _style(fig, brand_color):
    fig.update_layout(font={"family": FONT, "size": 12}, colorway=[brand_color, "#FFB000", "#5b6675", "#1a7f37"])
    return fig


def run_success_figure(daily, brand_color="#0B5FFF"):
    """Daily pooled run success (%) with the target as a dashed line."""
    target = daily.get("run_success_target")
    days = daily["days"]
    if target is None:
        fig = go.Figure()
        fig.add_annotation(text="No run success objective", showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
        return _style(sla_charts._layout(fig, "Daily run success", "Attained"), brand_color)
    fig = sla_charts.attainment_figure(days, daily["run_success"], target, "Daily run success (all integrations)")
    return _style(fig, brand_color)


def record_volume_figure(daily, brand_color="#0B5FFF"):
    """Records succeeded, failed and skipped per day, stacked."""
    fig = go.Figure()
    for name in ("succeeded", "failed", "skipped"):
        fig.add_trace(
            go.Bar(
                x=daily["days"],
                y=daily["records"][name],
                name=f"Records {name}",
                marker_color=STATUS_COLORS[name],
            )
        )
    fig.update_layout(barmode="stack")
    return _style(sla_charts._layout(fig, "Record volumes per day", "Records"), brand_color)


def failures_figure(daily, brand_color="#0B5FFF"):
    """Failure occurrences per day by error class (classes as workers named
    them: ``failures_by_class_figure`` passes each through ``plot_text``)."""
    fig = sla_charts.failures_by_class_figure(daily["days"], daily["failures_by_class"])
    fig.update_layout(title={"text": "Failures per day by class"})
    return _style(fig, brand_color)


def report_figures(figures, brand_color="#0B5FFF"):
    """[(id, title, plotly Figure)] of a report, in page order."""
    daily = figures["daily"]
    out = [
        ("chart-run-success", "Daily run success", run_success_figure(daily, brand_color)),
        ("chart-records", "Record volumes", record_volume_figure(daily, brand_color)),
    ]
    if daily["failures_by_class"]:
        out.append(("chart-failures", "Failures by class", failures_figure(daily, brand_color)))
    return out


def chart_specs(figures, brand_color="#0B5FFF"):
    """[{"id", "title", "figure"}]: the charts stored with the figures (as
    issued), or built now for figures that carry none."""
    if figures.get("charts") is not None:
        return figures["charts"]
    return [
        {"id": cid, "title": title, "figure": sla_charts.figure_dict(fig)}
        for cid, title, fig in report_figures(figures, brand_color)
    ]
