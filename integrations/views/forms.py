"""Forms of the triage pages. Every field that reaches the database or the
audit log is validated here; the exceptions writer (integrations/sync_exceptions/staff.py)
checks the state transitions."""

from django import forms
from django.utils import timezone

from integrations.sync_exceptions.staff import MAX_NOTE
from opsconsole.lib.time_params import OUT_OF_RANGE, to_utc

MAX_BULK = 500


def _no_controls(value):
    if value and "\x00" in value:
        raise forms.ValidationError("Must not contain NUL characters.")
    return value


class NoteMixin:
    def clean_note(self):
        return _no_controls(self.cleaned_data.get("note") or "")


class UntilMixin:
    def clean_until(self):
        until = self.cleaned_data.get("until")
        if until is not None:
            until = to_utc(until)
            if until is None:
                raise forms.ValidationError(OUT_OF_RANGE)
        if until is not None and until <= timezone.now():
            raise forms.ValidationError("Must be in the future.")
        return until


class BulkForm(NoteMixin, UntilMixin, forms.Form):
    ACTIONS = [("acknowledge", "Acknowledge"), ("assign", "Assign"), ("resolve", "Resolve"), ("ignore", "Ignore")]

    action = forms.ChoiceField(choices=ACTIONS)
    assignee = forms.CharField(required=False, max_length=320)
    note = forms.CharField(required=False, max_length=MAX_NOTE)
    until = forms.DateTimeField(required=False, help_text="UTC; empty: for good.")

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
    until = forms.DateTimeField(required=False, help_text="UTC; empty: for good.")
