from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("scanner", "0013_compliance_evidence"),
    ]

    operations = [
        migrations.AddField(
            model_name="channel",
            name="weekly_digest",
            field=models.BooleanField(default=False),
        ),
    ]
