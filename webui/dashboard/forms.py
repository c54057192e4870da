"""Forms for the dashboard. Validation of each domain is the service's job; the form only splits the input."""

from __future__ import annotations

import re

from django import forms
from django.contrib.auth.forms import UserCreationForm

from scanner.grading.scale import GRADE_ORDER

# Anyone pasting a few thousand lines wants the API, not a form post that scans for an hour.
MAX_DOMAINS_PER_SUBMIT = 100


def split_domains(text: str) -> list[str]:
    """One entry per line or comma; blank entries are dropped, duplicates kept once in first-seen order."""
    entries = (entry.strip() for entry in re.split(r"[\n,]", text))
    return list(dict.fromkeys(entry for entry in entries if entry))


class SubmitForm(forms.Form):
    domains = forms.CharField(
        label="Domains",
        help_text="One per line or separated by commas, e.g. example.com or shop.example.com:8443.",
        widget=forms.Textarea(
            attrs={
                "rows": 6,
                "autofocus": True,
                "aria-describedby": "id_domains_help",
                "spellcheck": "false",
                "autocapitalize": "off",
            }
        ),
    )

    def clean_domains(self) -> list[str]:
        entries = split_domains(self.cleaned_data["domains"])
        if not entries:
            raise forms.ValidationError("Enter at least one domain.")
        if len(entries) > MAX_DOMAINS_PER_SUBMIT:
            raise forms.ValidationError(
                f"That is {len(entries)} domains; submit at most {MAX_DOMAINS_PER_SUBMIT} at a time "
                "(the API takes bigger batches)."
            )
        return entries


class OverviewFilterForm(forms.Form):
    """Query-string filters of the overview; invalid values are ignored rather than shown as errors."""

    grade = forms.ChoiceField(
        label="Grade", required=False, choices=[("", "Any grade")] + [(grade, grade) for grade in GRADE_ORDER]
    )
    failing = forms.BooleanField(label="Failing only (F, T, M)", required=False)
    expiring = forms.IntegerField(
        label="Certificate expires within (days)",
        required=False,
        min_value=0,
        max_value=3650,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "size": 5}),
    )
    sort = forms.ChoiceField(
        label="Sort by",
        required=False,
        choices=[
            ("site", "Name"),
            ("grade", "Grade, worst first"),
            ("expiry", "Certificate expiry, soonest first"),
            ("scanned", "Last scanned, newest first"),
        ],
    )


class SignupForm(UserCreationForm):
    pass


class PortfolioForm(forms.Form):
    name = forms.CharField(label="Portfolio name", max_length=100)


class ScheduleForm(forms.Form):
    kind = forms.ChoiceField(
        label="Rescan",
        choices=[("off", "Off"), ("daily", "Daily (03:00)"), ("weekly", "Weekly (Monday 03:00)"), ("cron", "Cron")],
    )
    cron = forms.CharField(
        label="Cron expression",
        required=False,
        help_text="Only for “Cron”: minute hour day-of-month month day-of-week, e.g. 0 3 * * 1.",
        widget=forms.TextInput(attrs={"aria-describedby": "id_cron_help", "spellcheck": "false"}),
    )


class ImportForm(forms.Form):
    text = forms.CharField(
        label="Sites",
        required=False,
        help_text="One per line: host[,port][,tag1;tag2].",
        widget=forms.Textarea(attrs={"rows": 6, "aria-describedby": "id_text_help", "spellcheck": "false"}),
    )
    file = forms.FileField(label="Or upload a CSV or text file", required=False)

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload:
            try:
                data["text"] = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise forms.ValidationError("The file is not UTF-8 text.")
        if not (data.get("text") or "").strip():
            raise forms.ValidationError("Paste some sites or choose a file.")
        return data


class WebhookForm(forms.Form):
    url = forms.URLField(label="Webhook URL", max_length=500)
    secret = forms.CharField(
        label="Signing secret",
        max_length=128,
        help_text="Used for the X-Scanner-Signature HMAC-SHA256 header.",
        widget=forms.TextInput(attrs={"aria-describedby": "id_secret_help", "autocomplete": "off"}),
    )
