"""Forms for the dashboard. Validation of each domain is the service's job; the form only splits the input."""

from __future__ import annotations

import re

from django import forms
from django.contrib.auth.forms import UserCreationForm

from scanner.grading.compliance import PROFILES
from scanner.grading.scale import GRADE_ORDER
from scanner.imports import MAX_IMPORT_BYTES
from scanner.models import Alert, Channel

from .remembered_widgets import RememberedWidgets

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
    """Query-string filters of the overview and portfolio pages; invalid values are shown and ignored."""

    # Its widgets' contexts are plain text, numbers and choices of text: safe to render each distinct one once.
    default_renderer = RememberedWidgets()

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=253,
        widget=forms.SearchInput(attrs={"placeholder": "host name or tag", "spellcheck": "false"}),
    )
    portfolio = forms.TypedChoiceField(label="Portfolio", required=False, coerce=int, empty_value=None)
    tag = forms.ChoiceField(label="Tag", required=False)
    grade = forms.ChoiceField(
        label="Grade",
        required=False,
        choices=[("", "Any grade")] + [(grade, grade) for grade in GRADE_ORDER] + [("none", "Not graded")],
    )
    failing = forms.ChoiceField(
        label="State",
        required=False,
        choices=[
            ("", "Any state"),
            ("on", "Graded F/T/M or unreachable"),
            ("graded", "Graded F/T/M (reachable)"),
            ("unreachable", "Unreachable"),
        ],
    )
    fails = forms.ChoiceField(
        label="Fails compliance profile",
        required=False,
        # Short names: a select cannot wrap, and the page must fit a 375 px screen.
        choices=[("", "Any")] + [(profile.id, profile.short) for profile in PROFILES.values()],
    )
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
            ("grade", "Grade, worst first"),
            ("site", "Name"),
            ("expiry", "Certificate expiry, soonest first"),
            ("scanned", "Last scanned, newest first"),
        ],
    )

    def __init__(self, *args, user, with_portfolio: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        from scanner import selectors

        if with_portfolio:
            self.fields["portfolio"].choices = [("", "All portfolios")] + selectors.portfolio_names(user=user)
        else:
            del self.fields["portfolio"]
        self.fields["tag"].choices = [("", "Any tag")] + [(tag, tag) for tag in selectors.tag_names(user=user)]


class SignupForm(UserCreationForm):
    """A username, an e-mail address for alerts (confirmed by a link before anything is sent) and a password.
    Validation only: the view passes the cleaned data to services.account_signup."""

    email = forms.EmailField(
        label="E-mail for alerts",
        required=False,
        help_text="Optional. We send a confirmation link; alerts go here only after you follow it.",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "aria-describedby": "id_email_help"}),
    )

    class Meta(UserCreationForm.Meta):
        fields = ("username", "email")

    def save(self, commit: bool = True):
        raise NotImplementedError("accounts are created by services.account_signup, within the sign-up limits")


class PortfolioForm(forms.Form):
    name = forms.CharField(label="Portfolio name", max_length=100)


class ScheduleForm(forms.Form):
    # Drawn on every portfolio page: each distinct widget (plain contexts only) is rendered once.
    default_renderer = RememberedWidgets()

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
    # Drawn on every portfolio page: each distinct widget (plain contexts only) is rendered once.
    default_renderer = RememberedWidgets()

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
            # Checked before reading: the upload sits in a temporary file, and read() would pull it all into memory.
            if upload.size > MAX_IMPORT_BYTES:
                raise forms.ValidationError(
                    f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MiB; split it or use the API."
                )
            try:
                data["text"] = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise forms.ValidationError("The file is not UTF-8 text.")
        if not (data.get("text") or "").strip():
            raise forms.ValidationError("Paste some sites or choose a file.")
        return data


class ChannelForm(forms.Form):
    kind = forms.ChoiceField(label="Kind", choices=Channel.Kind.choices)
    name = forms.CharField(label="Name (optional)", max_length=100, required=False)
    target = forms.CharField(
        label="E-mail address or webhook URL",
        max_length=500,
        help_text="An address for e-mail; the incoming-webhook URL Slack or Teams gave you; any URL for a webhook.",
        widget=forms.TextInput(
            attrs={"aria-describedby": "id_target_help", "spellcheck": "false", "autocomplete": "off"}
        ),
    )
    secret = forms.CharField(
        label="Signing secret (webhooks only)",
        max_length=128,
        required=False,
        help_text="Signs each webhook body: X-Scanner-Signature: sha256=HMAC-SHA256(secret, body).",
        widget=forms.TextInput(attrs={"aria-describedby": "id_secret_help", "autocomplete": "off"}),
    )
    weekly_digest = forms.BooleanField(
        label="Weekly digest (e-mail only)",
        required=False,
        help_text="Mondays: per portfolio, what changed in 7 days, what expires within 30 days, what fails.",
        widget=forms.CheckboxInput(attrs={"aria-describedby": "id_weekly_digest_help"}),
    )


class AccountEmailForm(forms.Form):
    email = forms.CharField(
        label="E-mail address",
        max_length=254,
        required=False,
        help_text="Alerts and the confirmation link go here. Leave empty to remove it.",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "aria-describedby": "id_email_help"}),
    )


class AlertFilterForm(forms.Form):
    status = forms.ChoiceField(label="Delivery", required=False, choices=[("", "Any")] + list(Alert.Status.choices))
    open_only = forms.BooleanField(label="Not acknowledged only", required=False)


class PortfolioChannelsForm(forms.Form):
    # Drawn on every portfolio page: each distinct widget (plain contexts only) is rendered once.
    default_renderer = RememberedWidgets()

    notify_all = forms.ChoiceField(
        label="Send this portfolio's alerts to",
        choices=[("all", "Every channel"), ("chosen", "Only the channels ticked below")],
        widget=forms.RadioSelect,
    )
    channels = forms.ModelMultipleChoiceField(
        label="Channels", queryset=Channel.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channels"].queryset = Channel.objects.filter(owner=user)
