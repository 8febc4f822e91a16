"""Analyses scored on PyTorch said engine "transformers"; the runtime's name is now "torch"."""

from django.db import migrations, models


def transformers_to_torch(apps, schema_editor):
    Analysis = apps.get_model("analyzer", "Analysis")
    Analysis.objects.filter(engine="transformers").update(engine="torch")


def torch_to_transformers(apps, schema_editor):
    Analysis = apps.get_model("analyzer", "Analysis")
    Analysis.objects.filter(engine="torch").update(engine="transformers")


class Migration(migrations.Migration):
    dependencies = [("analyzer", "0002_api_tokens_batches")]

    operations = [
        migrations.AlterField(
            model_name="analysis",
            name="engine",
            field=models.CharField(
                help_text="Runtime that answered: onnx-int8, onnx-fp32, torch or profanity-check.",
                max_length=64,
            ),
        ),
        migrations.RunPython(transformers_to_torch, torch_to_transformers),
    ]
