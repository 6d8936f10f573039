"""The PDF of a report: the shared report body rendered for print, charts as
SVG from the warm renderer, WeasyPrint for the pages, and the partner's
product name in the metadata (title, author, producer)."""

from base64 import b64encode

import pydyf
import weasyprint
from django.template.loader import render_to_string
from weasyprint.urls import URLFetcher

from opsconsole.branding import branding_for
from sla.reports.charts import chart_specs
from sla.reports.renderer import renderer
from sla.reports.text import present


def data_only_fetcher():
    """WeasyPrint's fetcher for reports: ``data:`` URIs only (the charts and an
    uploaded logo); nothing is fetched from the network while a report is made."""
    return URLFetcher(allowed_protocols=("data",), allow_redirects=False)


def render_pdf(tenant, figures, report=None):
    """PDF bytes of ``figures`` (``report``: the issued version it becomes, or
    None for a provisional one). Raises RendererUnavailable without Chromium."""
    brand = branding_for(tenant.partner)
    specs = chart_specs(figures, brand.primary_color)
    svgs = renderer.svgs([spec["figure"] for spec in specs])
    context = {
        "f": present(figures),
        "brand": brand,
        "report": report,
        "pdf": True,
        # Images rather than inline <svg>: WeasyPrint then draws each chart
        # without running the page's CSS over every node of it.
        "charts": [
            {"id": spec["id"], "title": spec["title"], "src": "data:image/svg+xml;base64," + b64encode(svg).decode()}
            for spec, svg in zip(specs, svgs, strict=True)
        ],
    }
    html = render_to_string("sla/reports/report_pdf.html", context)
    document = weasyprint.HTML(string=html, url_fetcher=data_only_fetcher()).render()

    def producer(doc, pdf):
        pdf.info["Producer"] = pydyf.String(brand.product_name)
        pdf.info["Creator"] = pydyf.String(brand.product_name)

    return document.write_pdf(finisher=producer)
