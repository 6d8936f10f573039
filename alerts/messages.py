"""What each channel receives for one message of an episode (contract section 6).

- webhook: ``{"event", "tenant", "integration", "summary", "url", "at", "data"}``
  plus ``alert``, ``state`` and ``message`` (fired, escalated, resolved);
  signed by ``alerts.sending``.
- slack: an incoming-webhook message (``text`` plus Block Kit blocks, a button back).
- teams: an incoming-webhook message carrying an Adaptive Card (a link back).
- email: subject, plain text and HTML, branded as the partner.

Strings from workers reach summaries (exception titles): every body here is
JSON-encoded or HTML-escaped by the template engine, and bounded."""

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from alerts.models import Event, NoticeKind
from opsconsole.branding import branding_for

SUMMARY_LIMIT = 1000

TITLES = {
    Event.INTEGRATION_LATE: "Integration late",
    Event.INTEGRATION_DOWN: "Integration down",
    Event.INTEGRATION_RECOVERED: "Integration recovered",
    Event.EXCEPTION_OPENED: "New exception",
    Event.EXCEPTION_REGRESSED: "Exception regressed",
    Event.SLA_BURN_RATE: "Error budget burning",
    Event.SLA_BREACHED: "SLA objective breached",
    Event.REPLAY_PENDING_APPROVAL: "Replay awaiting approval",
    Event.REPLAY_FAILED: "Replay failed",
    Event.TEST: "Test alert",
}

COLORS = {"firing": "#C62828", "escalated": "#8E0000", "resolved": "#2E7D32", "test": "#0B5FFF"}


def base_url(partner):
    """Where links in messages point: the partner's first host name (https),
    else ``OPSCONSOLE_BASE_URL``."""
    host = partner.hostnames.order_by("name").values_list("name", flat=True).first() if partner else None
    if host:
        return f"https://{host}"
    return getattr(settings, "OPSCONSOLE_BASE_URL", "http://localhost:8000").rstrip("/")


def alert_url(alert):
    return base_url(alert.tenant.partner) + reverse("alerts-detail", args=[alert.pk])


def title_of(notice):
    title = TITLES.get(notice.event, notice.event)
    if notice.kind == NoticeKind.RESOLVED and notice.event not in (Event.INTEGRATION_RECOVERED, Event.TEST):
        return f"Resolved: {title}"
    return title


def tone(notice):
    if notice.event == Event.TEST:
        return "test"
    if notice.kind == NoticeKind.RESOLVED:
        return "resolved"
    return "escalated" if notice.kind == NoticeKind.ESCALATED else "firing"


def document(notice):
    """The webhook body of section 6 for ``notice`` (its alert loaded)."""
    alert = notice.alert
    return {
        "event": notice.event,
        "tenant": alert.tenant.slug,
        "integration": alert.integration.slug if alert.integration_id else None,
        "summary": notice.summary[:SUMMARY_LIMIT],
        "url": alert_url(alert),
        "at": notice.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "data": alert.data,
        "alert": alert.pk,
        "state": "resolved" if notice.kind == NoticeKind.RESOLVED else "firing",
        "message": notice.kind,
    }


def _facts(notice):
    alert = notice.alert
    facts = [("Tenant", alert.tenant.name)]
    if alert.integration_id:
        facts.append(("Integration", alert.integration.name))
    if alert.priority:
        facts.append(("Priority", alert.priority))
    facts.append(("Event", notice.event))
    return facts


def slack(notice):
    """A Slack incoming-webhook message: fallback text, a header, the summary,
    facts and a button back to the alert."""
    doc = document(notice)
    title = title_of(notice)
    fields = [{"type": "mrkdwn", "text": f"*{k}*\n{_slack_escape(v)}"} for k, v in _facts(notice)]
    return {
        "text": f"{title}: {_slack_escape(doc['summary'])}",
        "attachments": [
            {
                "color": COLORS[tone(notice)],
                "blocks": [
                    {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
                    {"type": "section", "text": {"type": "mrkdwn", "text": _slack_escape(doc["summary"])}},
                    {"type": "section", "fields": fields[:10]},
                    {
                        "type": "actions",
                        "elements": [
                            {"type": "button", "text": {"type": "plain_text", "text": "Open alert"}, "url": doc["url"]}
                        ],
                    },
                ],
            }
        ],
    }


def _slack_escape(text):
    # Slack's mrkdwn reads <...> as links and & as entities.
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def teams(notice):
    """A Microsoft Teams incoming-webhook message holding an Adaptive Card
    with the summary, facts and an action back to the alert."""
    doc = document(notice)
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {
                "type": "TextBlock",
                "text": title_of(notice),
                "weight": "Bolder",
                "size": "Medium",
                "color": "Good" if tone(notice) == "resolved" else "Attention",
            },
            {"type": "TextBlock", "text": doc["summary"], "wrap": True},
            {"type": "FactSet", "facts": [{"title": k, "value": str(v)} for k, v in _facts(notice)]},
        ],
        "actions": [{"type": "Action.OpenUrl", "title": "Open alert", "url": doc["url"]}],
    }
    return {
        "type": "message",
        "summary": title_of(notice),
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def email(notice):
    """(subject, plain text, HTML) branded as the tenant's partner."""
    alert = notice.alert
    brand = branding_for(alert.tenant.partner)
    context = {
        "brand": brand,
        "notice": notice,
        "alert": alert,
        "title": title_of(notice),
        "summary": notice.summary[:SUMMARY_LIMIT],
        "facts": _facts(notice),
        "url": alert_url(alert),
        "color": COLORS[tone(notice)],
    }
    subject = f"[{brand.product_name}] {title_of(notice)}: {notice.summary[:120]}"
    subject = " ".join(subject.split())[:200]  # no line breaks in a header
    text = render_to_string("alerts/email.txt", context)
    html = render_to_string("alerts/email.html", context)
    return subject, text, html


def from_address(partner):
    """``"<product name>" <support e-mail>`` when the partner has one."""
    brand = branding_for(partner)
    address = brand.support_email or settings.DEFAULT_FROM_EMAIL
    name = brand.product_name.replace('"', "'")
    return f'"{name}" <{address}>'
