"""The moderators group: staff in it review analyses and read the policies and the calibration
report, but change no policy, token or webhook."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "moderators"
PERMISSIONS = [
    "view_analysis",
    "view_batch",
    "view_review",
    "add_review",
    "view_labelpolicy",
    "view_policyversion",
    # What Perspective clients suggested (comments:suggestscore), which the queue lists.
    "view_feedback",
]


def moderators_create(apps, schema_editor):
    # Permissions are made after migrations by default; the group needs them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="analyzer", codename__in=PERMISSIONS)
    )


def moderators_delete(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("analyzer", "0007_moderation_policies_reviews_webhooks"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(moderators_create, moderators_delete)]
