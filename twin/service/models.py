"""The model registry: uploaded dispatchers by version, one of them serving, with rollback.

``<models>/<model_id>/`` holds ``v<N>.onnx`` per uploaded version and ``registry.json``:
``{"model", "serving": N | null, "history": [earlier serving versions, oldest first],
"versions": [{"version", "hash" (SHA-256 of the file), "size", "uploaded", "by", "card"}]}``.
Each file is written in one rename, so a crash never leaves a half model or registry.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from twin.service.policy import OnnxPolicy
from twin.studies.store import atomic_file, write_json_atomic

__all__ = ["MODEL_ID", "ModelConflict", "ModelRegistry", "UnknownModel"]

MODEL_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
"""What a model id may be: a plain name (it is a folder name)."""
_MODEL_ID = re.compile(MODEL_ID)


class UnknownModel(KeyError):
    """No such model or version; the message names it."""

    def __str__(self) -> str:
        return str(self.args[0])


class ModelConflict(RuntimeError):
    """The registry cannot do this now (nothing to roll back to, nothing serving)."""


class ModelRegistry:
    """The registry of one models folder (see the module doc); thread-safe."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self._lock = threading.Lock()
        self._policies: dict[tuple[str, int], OnnxPolicy] = {}

    def _folder(self, model_id: str) -> Path:
        if not _MODEL_ID.match(model_id):
            raise UnknownModel(f"model: letters, digits and _.- only, at most 64 (got {model_id!r})")
        return self.root / model_id

    def _read(self, model_id: str) -> dict[str, Any]:
        path = self._folder(model_id) / "registry.json"
        if not path.is_file():
            raise UnknownModel(f"model: no such model (got {model_id!r})")
        registry: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return registry

    def upload(self, model_id: str, content: bytes, by: str) -> dict[str, Any]:
        """Store ``content`` as the next version of ``model_id`` (not serving yet) and return
        its entry.

        Raises:
            UnknownModel: the id is not a plain name.
            twin.service.policy.PolicyError: the bytes are not an exported dispatcher.
        """
        folder = self._folder(model_id)
        policy = OnnxPolicy(content)
        with self._lock:
            try:
                registry = self._read(model_id)
            except UnknownModel:
                registry = {"model": model_id, "serving": None, "history": [], "versions": []}
            version = 1 + max((entry["version"] for entry in registry["versions"]), default=0)
            entry = {
                "version": version,
                "hash": hashlib.sha256(content).hexdigest(),
                "size": len(content),
                "uploaded": datetime.now(UTC).isoformat(),
                "by": by,
                "card": policy.card,
            }
            folder.mkdir(parents=True, exist_ok=True)
            with atomic_file(folder / f"v{version}.onnx") as temporary:
                temporary.write_bytes(content)
            registry["versions"].append(entry)
            write_json_atomic(folder / "registry.json", registry)
            self._policies[(model_id, version)] = policy
        return entry

    def list(self) -> list[dict[str, Any]]:
        """Every model: id, serving version and its hash, versions stored."""
        models = []
        if self.root.is_dir():
            for path in sorted(self.root.glob("*/registry.json")):
                registry = json.loads(path.read_text(encoding="utf-8"))
                serving = next((v for v in registry["versions"] if v["version"] == registry["serving"]), None)
                models.append(
                    {
                        "model": registry["model"],
                        "serving": registry["serving"],
                        "hash": serving["hash"] if serving else None,
                        "versions": len(registry["versions"]),
                    }
                )
        return models

    def get(self, model_id: str) -> dict[str, Any]:
        """The registry document of one model.

        Raises:
            UnknownModel: no such model.
        """
        return self._read(model_id)

    def promote(self, model_id: str, version: int) -> dict[str, Any]:
        """Make ``version`` the serving one; the one serving before can be rolled back to.

        Raises:
            UnknownModel: no such model or version.
        """
        with self._lock:
            registry = self._read(model_id)
            if not any(entry["version"] == version for entry in registry["versions"]):
                raise UnknownModel(f"version: model {model_id} has no such version (got {version})")
            if registry["serving"] is not None and registry["serving"] != version:
                registry["history"].append(registry["serving"])
            registry["serving"] = version
            write_json_atomic(self._folder(model_id) / "registry.json", registry)
        return registry

    def rollback(self, model_id: str) -> dict[str, Any]:
        """Serve again the version that served before the current one.

        Raises:
            UnknownModel: no such model.
            ModelConflict: no earlier serving version.
        """
        with self._lock:
            registry = self._read(model_id)
            if not registry["history"]:
                raise ModelConflict(f"model {model_id}: no earlier serving version to roll back to")
            registry["serving"] = registry["history"].pop()
            write_json_atomic(self._folder(model_id) / "registry.json", registry)
        return registry

    def policy(self, model_id: str, version: int | None = None) -> tuple[int, str, OnnxPolicy]:
        """The version, hash and loaded policy of ``version`` (default: the serving one).

        Raises:
            UnknownModel: no such model or version.
            ModelConflict: no version given and none serving.
        """
        registry = self._read(model_id)
        if version is None:
            version = registry["serving"]
            if version is None:
                raise ModelConflict(f"model {model_id}: no version is serving (promote one, or name a version)")
        entry = next((v for v in registry["versions"] if v["version"] == version), None)
        if entry is None:
            raise UnknownModel(f"version: model {model_id} has no such version (got {version})")
        key = (model_id, int(version))
        policy = self._policies.get(key)
        if policy is None:
            policy = OnnxPolicy((self._folder(model_id) / f"v{version}.onnx").read_bytes())
            self._policies[key] = policy
        return int(version), str(entry["hash"]), policy
