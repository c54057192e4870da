"""A portfolio's compliance report built by a worker.
Imported by scanner.models (Django finds the model there); kept apart because models.py is at its size limit."""

from __future__ import annotations

from django.db import models


class ComplianceEvidence(models.Model):
    """A portfolio's compliance report (PDF) built by a worker: a large portfolio's report takes longer than a
    web request should. The file's bytes live in the row, so any web node can serve what any worker built."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING)

    portfolio = models.ForeignKey("scanner.Portfolio", on_delete=models.CASCADE, related_name="compliance_evidence")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)  # percent, 100 once the file is stored
    sites_total = models.PositiveIntegerField(default=0)
    sites_done = models.PositiveIntegerField(default=0)
    content = models.BinaryField(null=True, blank=True)  # the PDF, once done
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = (models.Index(fields=["portfolio", "-created_at"], name="evidence_portfolio_recent"),)

    def __str__(self) -> str:
        return f"compliance evidence {self.pk} of {self.portfolio} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES
