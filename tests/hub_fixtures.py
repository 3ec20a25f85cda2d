"""An in-process Hub for push tests: only huggingface_hub's network entry point (its httpx2 client factory) is
replaced, so `HfApi` runs for real — repo creation, card validation, pre-upload, the commit — and the test sees what
would have been sent.

    with fake_hub("me/model") as hub:
        push(...)
    hub.committed  # sorted paths of the files in the commit
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx2
from huggingface_hub.utils import _http


@dataclass
class FakeHub:
    repo_id: str
    repo_type: str = "model"
    requests: list[tuple[str, str]] = field(default_factory=list)
    committed: list[str] = field(default_factory=list)
    validated_cards: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        prefix = "" if self.repo_type == "model" else f"{self.repo_type}s/"
        return f"https://huggingface.co/{prefix}{self.repo_id}"

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        self.requests.append((request.method, path))
        if path == "/api/repos/create":
            return httpx2.Response(200, json={"url": self.url, "name": self.repo_id})
        if path == "/api/validate-yaml":  # HfApi checks a README.md's YAML before committing it
            self.validated_cards.append(json.loads(request.content)["content"])
            return httpx2.Response(200, json={"errors": [], "warnings": []})
        if path.endswith("/preupload/main"):
            files = json.loads(request.content)["files"]
            modes = [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files]
            return httpx2.Response(200, json={"files": modes})
        if path.endswith("/commit/main"):
            lines = [json.loads(line) for line in request.content.decode().splitlines()]
            self.committed = sorted(line["value"]["path"] for line in lines if line["key"] == "file")
            return httpx2.Response(200, json={"commitUrl": f"{self.url}/commit/abc", "commitOid": "a" * 40})
        return httpx2.Response(404, json={"error": f"unexpected {request.method} {path}"})


@contextmanager
def fake_hub(repo_id: str, repo_type: str = "model"):
    hub = FakeHub(repo_id, repo_type)
    _http.set_client_factory(lambda: httpx2.Client(transport=httpx2.MockTransport(hub.handle)))
    try:
        yield hub
    finally:
        _http.set_client_factory(_http.default_client_factory)
