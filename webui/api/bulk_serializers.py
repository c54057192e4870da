"""A bulk operation (a large portfolio scan or import done by a worker), as the API describes it."""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from scanner.models import BulkOperation


class BulkOperationErrorOutput(serializers.Serializer):
    item = serializers.CharField(help_text="The site (host:port) or the import line it is about.")
    reason = serializers.CharField()


class BulkOperationOutput(serializers.ModelSerializer):
    """A portfolio scan or import over SCANNER_BULK_INLINE_LIMIT sites (lines), done by a worker in batches:
    poll `url` until `state` is done or failed. `done` counts the items handled (failed ones included) of
    `total`; `errors` holds the first 100 items that failed, `error` why the operation stopped, when it did."""

    url = serializers.SerializerMethodField()
    portfolio_url = serializers.SerializerMethodField()
    errors = BulkOperationErrorOutput(many=True)
    percent = serializers.IntegerField()
    # Plain text in the schema: the same four states as other jobs' status would clash as one more enum.
    state = serializers.CharField(help_text="queued, running, done or failed.")
    kind = serializers.CharField(help_text="scan or import.")

    class Meta:
        model = BulkOperation
        fields = (
            "id",
            "url",
            "kind",
            "state",
            "portfolio",
            "portfolio_url",
            "total",
            "done",
            "failed",
            "percent",
            "created_sites",
            "errors",
            "error",
            "created_at",
            "finished_at",
        )

    def _absolute(self, path: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    def get_url(self, operation: BulkOperation) -> str:
        return self._absolute(
            reverse("api:portfolio-operation", kwargs={"pk": operation.portfolio_id, "operation_id": operation.pk})
        )

    def get_portfolio_url(self, operation: BulkOperation) -> str:
        return self._absolute(reverse("api:portfolio-detail", kwargs={"pk": operation.portfolio_id}))
