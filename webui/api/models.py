"""API tokens: django-rest-knox's hashed tokens, with what a team needs to manage them.

knox stores only a SHA-512 digest of each token and its first characters (`token_key`) for lookup; the
token itself exists only in the response that created it. This model adds a name, a public id for
listing and revoking, and when the token was last used.
"""

from __future__ import annotations

import uuid

from django.db import models
from knox.models import AbstractAuthToken


class ApiToken(AbstractAuthToken):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=100)
    last_used = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created",)

    def __str__(self) -> str:
        # Never the digest: admin pages, logs and error reports show this.
        return f"{self.name} ({self.token_key}…) of {self.user}"

    @property
    def prefix(self) -> str:
        return self.token_key
