"""The compliance report (PDF) a worker builds for a large portfolio, as the API describes it."""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from scanner.models import ComplianceEvidence


class ComplianceEvidenceOutput(serializers.ModelSerializer):
    """A compliance report (PDF) a worker builds for a large portfolio: poll `url` until `status` is done,
    then download `file_url`."""

    url = serializers.SerializerMethodField()
    file_url = serializers.SerializerMethodField()

    class Meta:
        model = ComplianceEvidence
        fields = (
            "id",
            "url",
            "status",
            "progress",
            "sites_done",
            "sites_total",
            "error",
            "created_at",
            "finished_at",
            "file_url",
        )

    def _link(self, evidence: ComplianceEvidence, name: str) -> str:
        path = reverse(name, kwargs={"pk": evidence.portfolio_id, "evidence_id": evidence.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    def get_url(self, evidence: ComplianceEvidence) -> str:
        return self._link(evidence, "api:portfolio-evidence")

    def get_file_url(self, evidence: ComplianceEvidence) -> str | None:
        done = evidence.status == ComplianceEvidence.Status.DONE
        return self._link(evidence, "api:portfolio-evidence-file") if done else None
