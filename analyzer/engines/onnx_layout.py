"""Where the ONNX export of a model lies and when it is complete.

Shared by the build-time export (onnx_export.py, which imports torch) and the server (loader,
onnx_engine.py), which must not import torch.
"""

import json
from pathlib import Path

ONNX_FOLDER = "onnx"
FP32_FILE = "model.onnx"
INT8_FILE = "model.int8.onnx"
METADATA_FILE = "export.json"
TOKENIZER_FILE = "tokenizer.json"
# The layout of these files; a folder exported by an older layout is exported again. Version 2:
# export.json's max_length counts RoBERTa's positions from its padding id (512, not 514).
FORMAT_VERSION = 2


def onnx_folder(model_folder: Path) -> Path:
    """Return where the ONNX export of the model in model_folder lies."""
    return Path(model_folder) / ONNX_FOLDER


def export_is_complete(folder: Path) -> bool:
    """Return True when folder holds a finished export in this version's layout."""
    metadata_path = folder / METADATA_FILE
    if not metadata_path.is_file():
        return False
    metadata = json.loads(metadata_path.read_text())
    return metadata.get("format_version") == FORMAT_VERSION and all(
        (folder / name).is_file() for name in (FP32_FILE, INT8_FILE, TOKENIZER_FILE)
    )
