"""Changing a password revokes every API token of the account: whoever knew the old password may hold one."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models.signals import pre_save
from django.dispatch import receiver

from webui.api.tokens import tokens_revoke_all


@receiver(pre_save, sender=get_user_model())
def revoke_tokens_on_password_change(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    if raw or instance.pk is None:
        return
    # Django re-hashes a password in place at login when its hasher settings change (check_password's setter
    # saves only "password", with no new raw password set): same password, so the tokens stay.
    if (
        getattr(instance, "_password", None) is None
        and update_fields is not None
        and set(update_fields) == {"password"}
    ):
        return
    stored = sender.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    if stored is not None and stored != instance.password:
        tokens_revoke_all(user_id=instance.pk)
