"""The PDF of a report: the shared report body rendered for print, charts as
SVG from the warm renderer, WeasyPrint for the pages, and the partner's
product name in the metadata (title, author, producer)."""

import pydyf
import weasyprint
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from opsconsole.branding import branding_for
from sla.reports.charts import report_figures
from sla.reports.renderer import renderer
from sla.reports.text import present


def refuse_remote(url, timeout=10, ssl_context=None):
    """WeasyPrint's fetcher for reports: only ``data:`` URIs (an uploaded
    logo); nothing is fetched from the network while a report is made."""
    if url.startswith("data:"):
        return weasyprint.default_url_fetcher(url, timeout=timeout, ssl_context=ssl_context)
    raise ValueError("reports fetch nothing remote")


def render_pdf(tenant, figures, report=None):
    """PDF bytes of ``figures`` (``report``: the issued version it becomes, or
    None for a provisional one). Raises RendererUnavailable without Chromium."""
    brand = branding_for(tenant.partner)
    charts = report_figures(figures, brand.primary_color)
    svgs = renderer.svgs([fig for _, _, fig in charts])
    context = {
        "f": present(figures),
        "brand": brand,
        "report": report,
        "pdf": True,
        "charts": [
            {"id": cid, "title": title, "svg": mark_safe(svg.decode("utf-8"))}  # noqa: S308 - kaleido's SVG, text escaped
            for (cid, title, _), svg in zip(charts, svgs, strict=True)
        ],
    }
    html = render_to_string("sla/reports/report_pdf.html", context)
    document = weasyprint.HTML(string=html, url_fetcher=refuse_remote).render()

    def producer(doc, pdf):
        pdf.info["Producer"] = pydyf.String(brand.product_name)
        pdf.info["Creator"] = pydyf.String(brand.product_name)

    return document.write_pdf(finisher=producer)
