import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        ("scanner", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="portfolio",
            name="schedule_task",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="portfolio",
                to="django_celery_beat.periodictask",
            ),
        ),
    ]
