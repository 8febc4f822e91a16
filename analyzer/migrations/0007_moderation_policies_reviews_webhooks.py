"""Label policies (with history), policy versions, the action of each analysis, reviews and
webhooks. Analyses stored before policies get the action their one threshold meant: a toxic
verdict was what a policy would block."""

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
import simple_history.models
from django.conf import settings
from django.db import migrations, models


def actions_from_verdicts(apps, schema_editor):
    Analysis = apps.get_model("analyzer", "Analysis")
    Analysis.objects.filter(verdict="toxic").update(action="block")


class Migration(migrations.Migration):

    dependencies = [
        ('analyzer', '0006_batch_owner'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='WebhookEndpoint',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(help_text='Who receives it.', max_length=100)),
                ('url', models.URLField(help_text='http or https URL that receives a POST per analysis.', max_length=500, validators=[django.core.validators.URLValidator(schemes=['http', 'https'])])),
                ('secret', models.CharField(help_text='Signs each body (HMAC-SHA256); never shown again after saving.', max_length=200)),
                ('on_review', models.BooleanField(default=True, help_text='Notify texts sent to review.')),
                ('on_block', models.BooleanField(default=True, help_text='Notify blocked texts.')),
                ('is_active', models.BooleanField(default=True)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
            ],
            options={
                'verbose_name': 'webhook endpoint',
                'ordering': ['name'],
            },
        ),
        migrations.AddField(
            model_name='analysis',
            name='action',
            field=models.CharField(choices=[('allow', 'Allow'), ('review', 'Review'), ('block', 'Block')], db_index=True, default='allow', help_text='What the label policy did with the text.', max_length=16),
        ),
        migrations.CreateModel(
            name='HistoricalLabelPolicy',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('label', models.CharField(db_index=True, editable=False, max_length=64)),
                ('review_threshold', models.FloatField(help_text='A score at or above this sends the text to a person for review.', validators=[django.core.validators.MinValueValidator(0.0001), django.core.validators.MaxValueValidator(1.0)])),
                ('block_threshold', models.FloatField(help_text='A score at or above this blocks the text. At least the review threshold.', validators=[django.core.validators.MinValueValidator(0.0001), django.core.validators.MaxValueValidator(1.0)])),
                ('updated_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'historical label policy',
                'verbose_name_plural': 'historical label policies',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='HistoricalWebhookEndpoint',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('name', models.CharField(help_text='Who receives it.', max_length=100)),
                ('url', models.URLField(help_text='http or https URL that receives a POST per analysis.', max_length=500, validators=[django.core.validators.URLValidator(schemes=['http', 'https'])])),
                ('on_review', models.BooleanField(default=True, help_text='Notify texts sent to review.')),
                ('on_block', models.BooleanField(default=True, help_text='Notify blocked texts.')),
                ('is_active', models.BooleanField(default=True)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'historical webhook endpoint',
                'verbose_name_plural': 'historical webhook endpoints',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='LabelPolicy',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('label', models.CharField(editable=False, max_length=64, unique=True)),
                ('review_threshold', models.FloatField(help_text='A score at or above this sends the text to a person for review.', validators=[django.core.validators.MinValueValidator(0.0001), django.core.validators.MaxValueValidator(1.0)])),
                ('block_threshold', models.FloatField(help_text='A score at or above this blocks the text. At least the review threshold.', validators=[django.core.validators.MinValueValidator(0.0001), django.core.validators.MaxValueValidator(1.0)])),
                ('updated_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
            ],
            options={
                'verbose_name': 'label policy',
                'verbose_name_plural': 'label policies',
                'ordering': ['label'],
                'constraints': [models.CheckConstraint(condition=models.Q(('review_threshold__gt', 0), ('review_threshold__lte', models.F('block_threshold')), ('block_threshold__lte', 1)), name='label_policy_thresholds_ordered')],
            },
        ),
        migrations.CreateModel(
            name='PolicyVersion',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('thresholds', models.JSONField(help_text='{label: {"review": threshold, "block": threshold}} for every label.')),
                ('reason', models.CharField(blank=True, help_text='Why it changed.', max_length=255)),
                ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'policy version',
                'ordering': ['-id'],
            },
        ),
        migrations.AddField(
            model_name='analysis',
            name='policy_version',
            field=models.ForeignKey(blank=True, help_text='The label policy the text was judged under; empty before policies existed.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='analyses', to='analyzer.policyversion'),
        ),
        migrations.CreateModel(
            name='WebhookDelivery',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('action', models.CharField(choices=[('allow', 'Allow'), ('review', 'Review'), ('block', 'Block')], max_length=16)),
                ('body', models.TextField(help_text='The JSON sent, byte for byte the same on every attempt.')),
                ('status', models.CharField(choices=[('pending', 'Pending'), ('delivered', 'Delivered'), ('failed', 'Failed')], db_index=True, default='pending', max_length=16)),
                ('attempts', models.PositiveIntegerField(default=0)),
                ('status_code', models.PositiveIntegerField(blank=True, help_text="The receiver's last HTTP status.", null=True)),
                ('last_error', models.TextField(blank=True)),
                ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ('last_attempt_at', models.DateTimeField(blank=True, null=True)),
                ('next_attempt_at', models.DateTimeField(blank=True, null=True)),
                ('delivered_at', models.DateTimeField(blank=True, null=True)),
                ('analysis', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='deliveries', to='analyzer.analysis')),
                ('endpoint', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='analyzer.webhookendpoint')),
            ],
            options={
                'verbose_name': 'webhook delivery',
                'verbose_name_plural': 'webhook deliveries',
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='Review',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('decision', models.CharField(choices=[('toxic', 'Toxic'), ('not_toxic', 'Not toxic')], db_index=True, max_length=16)),
                ('labels', models.JSONField(blank=True, default=list, help_text='The labels the reviewer found right; empty when the text is not toxic.')),
                ('note', models.TextField(blank=True)),
                ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ('analysis', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='reviews', to='analyzer.analysis')),
                ('reviewer', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-created_at', '-id'],
                'indexes': [models.Index(fields=['analysis', 'created_at'], name='analyzer_re_analysi_0524f0_idx')],
            },
        ),
        migrations.RunPython(actions_from_verdicts, migrations.RunPython.noop),
    ]
