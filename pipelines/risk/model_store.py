"""Trained models on disk: every version kept, one serving.

    models_dir/delivery_risk/
        hgb-20261102T1600-1a2b3c4d.pkl    the fitted model (pickle: written and read only here)
        hgb-20261102T1600-1a2b3c4d.json   what it was trained on and how it did
        serving.json                      {"version": ...}: switched only when a model passes

A model that does not beat its baseline is kept for inspection but never served: the one
serving before stays, as the issue asks. Files are written to a temporary name and renamed,
so a reader never opens half a model.
"""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

from pipelines import settings

SERVING = "serving.json"


def _folder(name: str) -> Path:
    return settings.models_dir() / name


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def save(name: str, version: str, model: object, card: dict) -> Path:
    """Keep a trained model and its card (metrics, training window) under its version."""
    folder = _folder(name)
    _write_atomically(folder / f"{version}.pkl", pickle.dumps(model))
    card_text = json.dumps({"version": version, **card}, indent=2, default=str)
    _write_atomically(folder / f"{version}.json", card_text.encode())
    return folder / f"{version}.pkl"


def serve(name: str, version: str) -> None:
    """Make `version` the model that scores from now on."""
    if not (_folder(name) / f"{version}.pkl").exists():
        raise FileNotFoundError(f"no saved model {name}/{version} to serve")
    _write_atomically(_folder(name) / SERVING, json.dumps({"version": version}).encode())


def serving_version(name: str) -> str | None:
    pointer = _folder(name) / SERVING
    if not pointer.exists():
        return None
    return json.loads(pointer.read_text(encoding="utf-8"))["version"]


def load_serving(name: str) -> object | None:
    """The model serving now, or None before any model has passed its check."""
    version = serving_version(name)
    if version is None:
        return None
    # our own file, written by save() above: never a pickle from elsewhere
    return pickle.loads((_folder(name) / f"{version}.pkl").read_bytes())
