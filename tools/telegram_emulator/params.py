"""Bot API parameters as they arrive: query string, JSON, form or multipart.

Form and multipart values are all strings (objects JSON-encoded), so every
read converts, and a value of the wrong kind gets Telegram's 400.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web

from tools.telegram_emulator.errors import bad_request


@dataclass
class Upload:
    """A file sent in a multipart request."""

    filename: str
    content: bytes


@dataclass
class Params:
    """One call's parameters."""

    values: dict[str, Any]
    uploads: dict[str, Upload] = field(default_factory=dict)

    @classmethod
    async def read(cls, request: web.Request) -> Params:
        """Parameters from any encoding Telegram accepts."""
        values: dict[str, Any] = dict(request.query)
        uploads: dict[str, Upload] = {}
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON encoded request body") from None
            if not isinstance(body, dict):
                raise bad_request("JSON object expected as request body")
            values.update(body)
        elif request.content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader) or part.name is None:
                    continue
                if part.filename:
                    uploads[part.name] = Upload(part.filename, bytes(await part.read()))
                else:
                    values[part.name] = await part.text()
        elif request.can_read_body:
            values.update(await request.post())
        return cls(values, uploads)

    def has(self, key: str) -> bool:
        """Whether the parameter was given at all."""
        return self.values.get(key) not in (None, "")

    def raw(self, key: str) -> Any:
        """The parameter as given."""
        return self.values.get(key)

    def required(self, key: str) -> Any:
        """A parameter that must be present."""
        if not self.has(key):
            raise bad_request(f"{key} is empty")
        return self.values[key]

    def text(self, key: str, default: str | None = None) -> str | None:
        """A string parameter."""
        value = self.values.get(key, default)
        return None if value is None else str(value)

    def integer(self, key: str, default: int | None = None) -> int | None:
        """An integer parameter."""
        value = self.values.get(key)
        if value in (None, ""):
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {key} specified") from None

    def flag(self, key: str) -> bool:
        """A boolean parameter (form values arrive as "true"/"false")."""
        value = self.values.get(key)
        if isinstance(value, str):
            return value.lower() in {"true", "1"}
        return bool(value)

    def obj(self, key: str, what: str) -> Any:
        """An object parameter, JSON-encoded in form requests."""
        value = self.values.get(key)
        if isinstance(value, str):
            if value == "":
                return None
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {what} JSON object") from None
        return value

    def public(self) -> dict[str, Any]:
        """Parameters for the call log (uploads by name and size only)."""
        logged = dict(self.values)
        for name, upload in self.uploads.items():
            logged[name] = {"filename": upload.filename, "size": len(upload.content)}
        return logged
