"""A bulk operation: a portfolio scan or import too large for one web request, done by a worker in batches.
Imported by scanner.models (Django finds the model there); kept apart because models.py is at its size limit."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class BulkOperation(models.Model):
    """The request records what to do and answers at once; a worker does it batch by batch, each batch in one
    transaction with the progress (`cursor`, `done`, `failed`), so a worker killed mid-batch leaves no half of
    it behind and the next delivery carries on from the last whole batch."""

    class Kind(models.TextChoices):
        SCAN = "scan", "portfolio scan"
        IMPORT = "import", "import"

    class State(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    ACTIVE_STATES = (State.QUEUED, State.RUNNING)
    MAX_ERRORS = 100  # per-item errors kept on the row; `failed` counts them all

    kind = models.CharField(max_length=10, choices=Kind.choices)
    portfolio = models.ForeignKey("scanner.Portfolio", on_delete=models.CASCADE, related_name="bulk_operations")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bulk_operations")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    total = models.PositiveIntegerField(default=0)  # sites to scan, or content lines to import
    done = models.PositiveIntegerField(default=0)  # items handled so far, failed ones included
    failed = models.PositiveIntegerField(default=0)
    created_sites = models.PositiveIntegerField(default=0)  # an import's sites new to the portfolio
    errors = models.JSONField(default=list, blank=True)  # [{"item": "line 3" or "host:port", "reason": ...}]
    error = models.TextField(blank=True, default="")  # why the whole operation stopped, when it did
    text = models.TextField(blank=True, default="")  # an import's input, kept until it is done
    # Where to carry on: an import's next line index; a scan's last site id handled (sites in id order).
    cursor = models.BigIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)  # deliveries to a worker; the reaper gives up after some
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now_add=True)  # the last progress; the reaper resends a silent one
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = (
            models.Index(fields=["portfolio", "-created_at"], name="bulk_portfolio_recent"),
            models.Index(fields=["state", "updated_at"], name="bulk_state_updated"),
        )

    def __str__(self) -> str:
        return f"bulk {self.kind} {self.pk} of {self.portfolio_id} ({self.state})"

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE_STATES

    @property
    def percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        return min(99, 100 * self.done // self.total) if self.total else 0
