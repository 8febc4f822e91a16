"""Download the configured model into the project's model folder, so serving never downloads,
and export it to ONNX (fp32 and int8) in its `onnx/` subfolder for the fast runtimes.

A local model folder is not copied: its export goes into `<folder>/onnx/` too.
"""

import shutil
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

# Fail in seconds, not minutes, when the hub is unreachable (firewalls often drop packets).
HUB_TIMEOUT_SECONDS = 10
TOKENIZER_FILES = [
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
    "merges.txt",
    "vocab.json",
    "*.model",
]


def weight_files(repo_files: list[str]) -> list[str]:
    """Return the weight files to fetch: safetensors when the repo has them, else PyTorch bins."""
    safetensors = [name for name in repo_files if name.endswith(".safetensors") and "/" not in name]
    if safetensors:
        return safetensors
    return [name for name in repo_files if name.endswith(".bin") and "/" not in name]


class Command(BaseCommand):
    help = (
        "Download TOXMON_MODEL from the Hugging Face hub into TOXMON_MODEL_DIR and export it "
        "to ONNX."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force", action="store_true", help="Download and export again even if present."
        )
        parser.add_argument(
            "--no-onnx",
            action="store_true",
            help="Skip the ONNX export; the server then runs the model on PyTorch.",
        )

    def handle(
        self, *args: object, force: bool = False, no_onnx: bool = False, **options: object
    ) -> None:
        model = settings.TOXMON_MODEL
        if Path(model).is_dir():
            self.stdout.write(f"{model} is a local folder; nothing to fetch.")
            target = Path(model)
        else:
            target = settings.TOXMON_MODEL_DIR / model.replace("/", "--")
            if (target / "config.json").is_file() and not force:
                self.stdout.write(f"{model} is already in {target}.")
            else:
                self.fetch(model, target)
        if not no_onnx:
            self.export(target, force=force)

    def export(self, model_folder: Path, *, force: bool) -> None:
        """Write the ONNX fp32 and int8 files the fast runtimes serve, into model_folder/onnx."""
        from analyzer.engines.onnx_export import onnx_export

        try:
            folder = onnx_export(model_folder, force=force, log=self.stdout.write)
        except Exception as error:
            raise CommandError(
                f"Exporting {model_folder} to ONNX failed: {error}. "
                "The app will serve the model on PyTorch (TOXMON_RUNTIME=torch)."
            ) from error
        self.stdout.write(self.style.SUCCESS(f"ONNX export ready in {folder}."))

    def fetch(self, model: str, target: Path) -> None:
        from huggingface_hub import HfApi, snapshot_download

        started = time.monotonic()
        try:
            info = HfApi().model_info(model, timeout=HUB_TIMEOUT_SECONDS)
        except Exception as error:
            raise CommandError(
                f"Cannot reach the model hub for {model} "
                f"(gave up after {time.monotonic() - started:.1f} s): {error}. "
                "The app will serve the offline fallback engine unless TOXMON_REQUIRE_MODEL=1."
            ) from error
        repo_files = [sibling.rfilename for sibling in info.siblings or []]
        weights = weight_files(repo_files)
        if not weights:
            raise CommandError(f"{model} has no safetensors or PyTorch weights to download.")
        # Download next to the target and rename at the end, so an interrupted download
        # never looks like a complete model to the server.
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        self.stdout.write(f"Downloading {model} ({', '.join(weights)}) into {target} ...")
        try:
            snapshot_download(
                model,
                revision=info.sha,
                local_dir=partial,
                allow_patterns=TOKENIZER_FILES + weights,
                etag_timeout=HUB_TIMEOUT_SECONDS,
            )
        except Exception as error:
            shutil.rmtree(partial, ignore_errors=True)
            raise CommandError(f"Downloading {model} failed: {error}") from error
        shutil.rmtree(partial / ".cache", ignore_errors=True)
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)
        self.stdout.write(
            self.style.SUCCESS(f"Fetched {model} in {time.monotonic() - started:.0f} s.")
        )
