"""Chart figures: whatever a worker wrote is inert text in a plotly figure."""

import json

from sla import charts

LINK = '<a href="https://evil.example/x">click me</a>'


def strings_of(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from strings_of(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings_of(v)


def test_an_error_class_with_markup_is_an_inert_legend_entry():
    fig = charts.failures_by_class_figure(["2026-11-10"], {LINK: [3], "<b>bold</b> & co": [1]})
    figure = json.loads(charts.figure_json(fig))
    assert not [s for s in strings_of(figure) if "<" in s or ">" in s]
    names = [trace["name"] for trace in figure["data"]]
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in names
    assert '&lt;a href="https://evil.example/x"&gt;click me&lt;/a&gt;' in names


def test_plot_text_bounds_and_drops_control_characters():
    assert charts.plot_text("x" * 500) == "x" * 79 + "…"
    assert charts.plot_text("a\u202eb\u2028c\x00d") == "abcd"
    assert charts.plot_text("<br>", limit=200) == "&lt;br&gt;"


def test_a_title_with_markup_is_inert():
    fig = charts.attainment_figure(["2026-11-10"], [99.0], 99.0, "Run success: <i>Contoso</i>")
    assert json.loads(charts.figure_json(fig))["layout"]["title"]["text"] == "Run success: &lt;i&gt;Contoso&lt;/i&gt;"


def test_response_times_without_openings_say_no_data_instead_of_a_zero_line():
    fig = json.loads(
        charts.figure_json(charts.response_times_figure(["2026-11-01", "2026-11-02"], [None, None], [None, None]))
    )
    assert fig["data"] == []
    assert fig["layout"]["annotations"][0]["text"].startswith("No data")


def test_response_times_start_at_zero():
    fig = json.loads(
        charts.figure_json(charts.response_times_figure(["2026-11-01", "2026-11-02"], [0.0, 0.0], [None, 3.0]))
    )
    assert fig["layout"]["yaxis"]["rangemode"] == "tozero"
    assert [t["name"] for t in fig["data"]] == ["Median time to acknowledge", "Median time to resolve"]


def test_the_backlog_counts_in_whole_exceptions_from_zero():
    layout = charts.backlog_figure(["2026-11-01", "2026-11-02", "2026-11-03"], [4, 6, 5]).to_plotly_json()["layout"]
    assert layout["yaxis"]["rangemode"] == "tozero"
    assert layout["yaxis"]["tickformat"] == ",d" and layout["yaxis"]["dtick"] == 2


def _every_chart():
    """A figure of every builder the pages, the reports and governance use."""
    from governance.trend_charts import _figure as response_figure
    from sla.reports import charts as report_charts

    days = ["2026-11-01", "2026-11-02", "2026-11-03"]
    daily = {
        "days": days,
        "run_success": [99.0, None, 97.5],
        "run_success_target": 99.0,
        "records": {"succeeded": [5, 6, 7], "failed": [1, 0, 2], "skipped": [0, 0, 1]},
        "failures_by_class": {"mapping": [1, 0, 2]},
    }
    return [
        charts.attainment_figure(days, [99.0, None, 97.5], 99.0, "Run success", period=(days[0], days[-1])),
        charts.failures_by_class_figure(days, {"mapping": [1, 0, 2]}),
        charts.opened_resolved_figure(days, [1, 2, 0], [0, 1, 1]),
        charts.backlog_figure(days, [3, 4, 2]),
        charts.response_times_figure(days, [10.0, None, 5.0], [60.0, 90.0, None]),
        charts.response_times_figure(days, [None] * 3, [None] * 3),
        response_figure(["01 Nov", "08 Nov"], [5.0, None], [9.0, 12.0], "MTTA"),
        *(fig for _id, _title, fig in report_charts.report_figures({"daily": daily}, "#123456")),
    ]


def test_every_chart_is_the_json_the_white_template_set_on_the_figure_gives():
    """The template is added to the figure's JSON rather than set on the
    figure (plotly copies and checks it on every figure): same JSON."""
    for fig in _every_chart():
        expected = json.loads(fig.to_json())
        fig.update_layout(template="plotly_white")
        expected = json.loads(fig.to_json())
        assert charts.figure_dict(fig) == expected
        assert json.loads(charts.figure_json(fig)) == expected
        assert expected["layout"]["template"]["layout"]["plot_bgcolor"] == "white"
