"""Report pages (contract 5): ``/reports/{tenant}/`` (archive),
``/reports/{tenant}/{YYYY-MM}/`` (HTML, interactive charts), ``….pdf`` and
``….csv``. A closed month is served from its issued version (issued at the
first request); the current month is rendered live and marked provisional.

Every problem is a clear answer, never a 500: a malformed month or version
400, a month out of range or a missing version 404, no Chromium 503. Callers
with a token or key get JSON, browsers a page."""

import functools
import logging

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.text import slugify

from opsconsole.branding import branding_for
from opsconsole.roles import Perm, can
from sla.reports import access, csvfile, issuing
from sla.reports.archive import current_month, report_urls, reports_for_tenant
from sla.reports.charts import chart_specs
from sla.reports.pdf import render_pdf
from sla.reports.periods import BadPeriod, Month
from sla.reports.renderer import RendererUnavailable
from sla.reports.text import present

log = logging.getLogger(__name__)


class BadVersion(ValueError):
    pass


def _wants_json(request):
    return bool(request.headers.get("Authorization")) or "json" in request.headers.get("Accept", "")


def problem(request, status, message):
    """A JSON ``{"detail"}`` for API callers, else a page in the console's layout."""
    if _wants_json(request) or request.path.endswith((".pdf", ".csv")):
        return JsonResponse({"detail": message}, status=status)
    return render(request, "sla/reports/problem.html", {"status": status, "message": message}, status=status)


def report_endpoint(view):
    """Resolve caller, tenant and month for ``view(request, user, tenant, month, now)``
    and turn every domain error into its answer."""

    @functools.wraps(view)
    def wrapper(request, tenant, period=None):
        try:
            user, tenant_obj = access.tenant_for_report(request, tenant)
            request.partner = tenant_obj.partner  # the report wears its partner's brand
            month = Month.parse(period) if period is not None else None
            return view(request, user, tenant_obj, month, timezone.now())
        except access.NotSignedIn:
            return redirect_to_login(request.get_full_path())
        except access.BadCredentials as exc:
            return JsonResponse({"detail": str(exc)}, status=401)
        except Http404:
            return problem(request, 404, "No such tenant.")
        except access.OutOfScope as exc:
            return problem(request, 403, str(exc))
        except (BadPeriod, BadVersion) as exc:
            return problem(request, 400, str(exc))
        except (issuing.PeriodOutOfRange, issuing.NoSuchVersion) as exc:
            return problem(request, 404, str(exc))
        except RendererUnavailable as exc:
            log.error("report %s/%s: %s", tenant, period, exc)
            return problem(request, 503, str(exc))

    return wrapper


def _version(request):
    value = request.GET.get("version")
    if value is None:
        return None
    if not value.isascii() or not value.isdigit() or not 0 < int(value) < 100_000:
        raise BadVersion("The version must be a whole number from 1, such as ?version=2.")
    return int(value)


def resolve_report(request, user, tenant, month, now):
    """(issued report or None, figures): the issued version of a closed month
    (issuing version 1 at the first request), or live figures of the current one."""
    version = _version(request)
    if issuing.check_period(tenant, month, now):
        if version is not None:
            report = issuing.get_issued(tenant, month, version)
        else:
            report = issuing.issued_or_issue(tenant, month, user, now)
        return report, report.figures
    if version is not None:
        raise issuing.NoSuchVersion(f"{month} has not closed yet; its report has no issued versions.")
    return None, issuing.live_figures(tenant, month, now)


def file_name(tenant, month, report, ext):
    product = slugify(branding_for(tenant.partner).product_name) or "report"
    suffix = f"v{report.version}" if report else "provisional"
    return f"{product}-{tenant.slug}-{month}-{suffix}.{ext}"


def _file(content, content_type, name, report, disposition):
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'{disposition}; filename="{name}"'
    response["Cache-Control"] = "private, no-cache"
    if report is not None:
        response["X-Report-Version"] = str(report.version)
    return response


@report_endpoint
def report_html(request, user, tenant, month, now):
    report, figures = resolve_report(request, user, tenant, month, now)
    brand = branding_for(tenant.partner)
    charts = [dict(spec, data_id=f"{spec['id']}-data") for spec in chart_specs(figures, brand.primary_color)]
    html_url, pdf_url, csv_url = report_urls(tenant.slug, str(month))
    query = f"?version={report.version}" if report is not None and request.GET.get("version") else ""
    context = {
        "tenant": tenant,
        "f": present(figures),
        "report": report,
        "versions": issuing.issued_versions(tenant, month).only("version") if report else [],
        "charts": charts,
        "pdf": False,
        "pdf_url": pdf_url + query,
        "csv_url": csv_url + query,
        "can_reissue": report is not None and can(user, Perm.GOVERN),
    }
    return render(request, "sla/reports/report.html", context)


@report_endpoint
def report_pdf(request, user, tenant, month, now):
    report, figures = resolve_report(request, user, tenant, month, now)
    content = bytes(report.pdf) if report is not None else render_pdf(tenant, figures)
    return _file(content, "application/pdf", file_name(tenant, month, report, "pdf"), report, "inline")


@report_endpoint
def report_csv(request, user, tenant, month, now):
    report, figures = resolve_report(request, user, tenant, month, now)
    content = bytes(report.csv) if report is not None else csvfile.render(figures["rows"])
    return _file(content, "text/csv; charset=utf-8", file_name(tenant, month, report, "csv"), report, "attachment")


@report_endpoint
def archive(request, user, tenant, month, now):
    current = current_month(tenant, now)
    first = issuing.first_month(tenant)
    closed, m = [], current.previous()
    while m >= first and len(closed) < 24:
        closed.append((str(m), m.label))
        m = m.previous()
    context = {
        "tenant": tenant,
        "entries": reports_for_tenant(tenant),
        "current": str(current),
        "current_label": current.label,
        "closed": closed,
    }
    return render(request, "sla/reports/archive.html", context)
