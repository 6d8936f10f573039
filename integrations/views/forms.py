"""Forms of the triage pages. Every field that reaches the database or the
audit log is validated here; the exceptions writer (integrations/sync_exceptions/staff.py)
checks the state transitions."""

from django import forms
from django.utils import timezone

from integrations.sync_exceptions.staff import MAX_NOTE
from opsconsole.lib.localtime import NonexistentLocalTime, from_local
from opsconsole.lib.time_params import OUT_OF_RANGE, to_utc

MAX_BULK = 500


def _no_controls(value):
    if value and "\x00" in value:
        raise forms.ValidationError("Must not contain NUL characters.")
    return value


class NoteMixin:
    def clean_note(self):
        return _no_controls(self.cleaned_data.get("note") or "")


class LocalDateTimeField(forms.DateTimeField):
    """A wall-clock date and time as a person types it (``datetime-local``),
    kept naive: the view reads it in the tenant's zone (``until_in``)."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is not None and timezone.is_aware(value):
            # Django made it aware in the server's zone (UTC); undo that.
            value = timezone.make_naive(value, timezone.get_current_timezone())
        return value


def until_in(naive, tenant):
    """The instant ``naive`` (a tenant-local wall-clock time, or None) means in
    ``tenant``'s zone, in UTC; a ValidationError when that time does not exist
    there (the hour skipped for daylight saving), is out of range or past."""
    if naive is None:
        return None
    try:
        until = to_utc(from_local(naive, tenant))
    except NonexistentLocalTime as exc:
        raise forms.ValidationError(str(exc)) from exc
    except OverflowError:
        until = None
    if until is None:
        raise forms.ValidationError(OUT_OF_RANGE)
    if until <= timezone.now():
        raise forms.ValidationError("Must be in the future.")
    return until


class UntilMixin:
    """``until`` is local time: in ``tenant``'s zone when the form has one
    (the exception page), else naive, read per exception by the caller."""

    tenant = None

    def clean_until(self):
        naive = self.cleaned_data.get("until")
        if naive is None or self.tenant is None:
            return naive
        return until_in(naive, self.tenant)


class BulkForm(NoteMixin, UntilMixin, forms.Form):
    ACTIONS = [("acknowledge", "Acknowledge"), ("assign", "Assign"), ("resolve", "Resolve"), ("ignore", "Ignore")]

    action = forms.ChoiceField(choices=ACTIONS)
    assignee = forms.CharField(required=False, max_length=320)
    note = forms.CharField(required=False, max_length=MAX_NOTE)
    until = LocalDateTimeField(required=False, help_text="Each tenant's local time; empty: for good.")

    def __init__(self, *args, staff=None, **kw):
        super().__init__(*args, **kw)
        self.staff = {e.lower() for e in (staff.values_list("email", flat=True) if staff is not None else [])}

    def clean(self):
        data = super().clean()
        raw = self.data.getlist("ids") if hasattr(self.data, "getlist") else []
        if not raw:
            self.add_error(None, "Select at least one exception.")
        elif len(raw) > MAX_BULK:
            self.add_error(None, f"At most {MAX_BULK} exceptions at once.")
        elif not all(v.isdigit() and len(v) < 18 for v in raw):
            self.add_error(None, "Exception ids are numbers.")
        else:
            data["ids"] = sorted({int(v) for v in raw})
        if data.get("action") == "assign":
            email = (data.get("assignee") or "").strip().lower()
            if email and email not in self.staff:
                self.add_error("assignee", "Not a staff user of your partner.")
            data["assignee"] = email
        return data


class AssignForm(forms.Form):
    assignee = forms.CharField(required=False, max_length=320)


class CommentForm(forms.Form):
    body = forms.CharField(max_length=MAX_NOTE, strip=True)

    def clean_body(self):
        return _no_controls(self.cleaned_data["body"])


class ResolveForm(NoteMixin, forms.Form):
    note = forms.CharField(required=False, max_length=MAX_NOTE)


class IgnoreForm(NoteMixin, UntilMixin, forms.Form):
    note = forms.CharField(required=False, max_length=MAX_NOTE)
    until = LocalDateTimeField(required=False, help_text="The tenant's local time; empty: for good.")

    def __init__(self, *args, tenant=None, **kw):
        super().__init__(*args, **kw)
        self.tenant = tenant
