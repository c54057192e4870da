"""Carry DRF authtoken tokens over as hashed, named tokens, then drop the plain-text table.

Scripts holding an old token keep working: knox looks a token up by its first characters and compares a
SHA-512 digest, which works for DRF's 40-character keys as well. The plain-text table is dropped so the keys
no longer sit readable in the database (and in its backups from now on).
"""

from __future__ import annotations

from django.db import migrations

OLD_TABLE = "authtoken_token"


def hash_old_tokens(apps, schema_editor):
    from knox.crypto import hash_token
    from knox.settings import CONSTANTS

    connection = schema_editor.connection
    if OLD_TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("api", "ApiToken")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id, created FROM {OLD_TABLE}")
        rows = cursor.fetchall()
    for key, user_id, created in rows:
        token = ApiToken.objects.create(
            digest=hash_token(key),
            token_key=key[: CONSTANTS.TOKEN_KEY_LENGTH],
            user_id=user_id,
            expiry=None,
            name="API token (from before named tokens)",
        )
        ApiToken.objects.filter(pk=token.pk).update(created=created)
    schema_editor.execute(f"DROP TABLE {OLD_TABLE}")


class Migration(migrations.Migration):
    dependencies = [("api", "0001_initial")]

    operations = [migrations.RunPython(hash_old_tokens, migrations.RunPython.noop)]
