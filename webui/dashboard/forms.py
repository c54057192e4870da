"""Forms for the dashboard. Validation of each domain is the service's job; the form only splits the input."""

from __future__ import annotations

import re

from django import forms
from django.contrib.auth.forms import UserCreationForm

from scanner.models import GRADE_ORDER

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
