from django.db import migrations, models
from django.db.models import OuterRef, Subquery, Value
from django.db.models.functions import Coalesce


def fill_compliance_failing(apps, schema_editor):
    """Existing sites get their latest scan's failing profiles in one statement."""
    Site = apps.get_model("scanner", "Site")
    Scan = apps.get_model("scanner", "Scan")
    latest = Scan.objects.filter(pk=OuterRef("latest_scan_id")).values("compliance_failing")[:1]
    Site.objects.filter(latest_scan__isnull=False).update(compliance_failing=Coalesce(Subquery(latest), Value("")))


class Migration(migrations.Migration):

    dependencies = [
        ("scanner", "0021_sites_version"),
    ]

    operations = [
        migrations.AddField(
            model_name="site",
            name="compliance_failing",
            # A database default too: the benchmarks' bulk loaders (COPY) write sites without naming it.
            field=models.CharField(blank=True, db_default="", default="", max_length=400),
        ),
        migrations.RunPython(fill_compliance_failing, migrations.RunPython.noop),
    ]
