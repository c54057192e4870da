from django.db import migrations, models

from scanner.list_facts import list_facts

BATCH = 500


def fill_list_facts(apps, schema_editor):
    """The latest scan of every site gets its list facts: those are the scans list pages read. Older scans keep
    none (filling them would read every report ever stored); a site's latest scan only ever moves to a newer one,
    stored with its facts."""
    Site = apps.get_model("scanner", "Site")
    Scan = apps.get_model("scanner", "Scan")
    latest = Site.objects.filter(latest_scan__isnull=False).values_list("latest_scan_id", flat=True)
    ids = sorted(set(latest))
    for start in range(0, len(ids), BATCH):
        scans = list(Scan.objects.filter(pk__in=ids[start : start + BATCH]).only("pk", "result"))
        for scan in scans:
            scan.list_facts = list_facts(scan.result)
        Scan.objects.bulk_update(scans, ["list_facts"])


class Migration(migrations.Migration):

    dependencies = [
        ("scanner", "0022_site_compliance_failing"),
    ]

    operations = [
        migrations.AddField(
            model_name="scan",
            name="list_facts",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.RunPython(fill_list_facts, migrations.RunPython.noop),
    ]
