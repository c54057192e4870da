"""Token revocation beyond the token service's own calls: a changed password revokes every API token of the
account (whoever knew the old password may hold one), and any token deleted or account changed by any path
(the admin, a cascade from a deleted user, a deactivated account) stops every web process reusing its check."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from webui.api.models import ApiToken
from webui.api.tokens import tokens_changed, tokens_revoke_all


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


@receiver(post_delete, sender=ApiToken)
def forget_checked_tokens_on_delete(sender, instance, **kwargs) -> None:
    tokens_changed()


@receiver(post_save, sender=get_user_model())
def forget_checked_tokens_on_account_change(sender, instance, created=False, update_fields=None, **kwargs) -> None:
    # A login saves last_login alone: nothing a token check reads.
    if not created and (update_fields is None or "is_active" in update_fields):
        tokens_changed()
