"""An HIS agent backed by any OpenAI-compatible chat endpoint, as the paper's Llama agent.

Users who run a real LLM server (vLLM, llama.cpp, Ollama, a hosted API) can
let it name key subjects and write public prompts, which is what the paper
did with Llama-3.2-3B. The client is the standard library's urllib speaking
``POST /v1/chat/completions``, so the feature adds no dependency; requests
use temperature 0 so that a deterministic server gives repeatable groups.
An ``OPENAI_API_KEY`` in the environment is sent as a bearer token, for
servers that want one. Any failure becomes one clear HybridnetError line.
"""

from __future__ import annotations

import http.client
import json
import os
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Sequence
from typing import Any

from hybridnet.errors import HybridnetError

SUBJECT_BATCH = 40
"""Prompts per subject request: short enough for a small model's context."""

MAX_MEMBERS_SHOWN = 40
"""Distinct member prompts shown when asking for a public prompt (most frequent first)."""

TIMEOUT_S = 120.0

_SYSTEM = "You help group text-to-image prompts for a shared diffusion run."


def chat_url(base_url: str) -> str:
    """The completions URL for a base URL given with or without ``/v1``."""
    url = base_url.rstrip("/")
    if url.endswith("/chat/completions"):
        return url
    if url.endswith("/v1"):
        return url + "/chat/completions"
    return url + "/v1/chat/completions"


def _one_line(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


class OpenAIAgent:
    """Key subjects and public prompts from a chat model at ``base_url``."""

    def __init__(self, base_url: str, model: str) -> None:
        if not base_url or not model:
            raise HybridnetError(
                "agent 'openai' needs both openai_base_url and openai_model "
                f"(got base URL {base_url!r}, model {model!r})"
            )
        self.url = chat_url(base_url)
        self.model = model

    def _ask(self, prompt: str) -> str:
        body = json.dumps({
            "model": self.model,
            "temperature": 0,
            "messages": [
                {"role": "system", "content": _SYSTEM},
                {"role": "user", "content": prompt},
            ],
        }).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        if os.environ.get("OPENAI_API_KEY"):
            headers["Authorization"] = f"Bearer {os.environ['OPENAI_API_KEY']}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                payload: Any = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as err:
            detail = _one_line(err.read().decode("utf-8", "replace"))
            raise HybridnetError(
                f"openai agent: {self.url} answered HTTP {err.code}: {detail}"
            ) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError,
                http.client.HTTPException) as err:
            reason = getattr(err, "reason", err)
            raise HybridnetError(f"openai agent: cannot reach {self.url}: {reason}") from None
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise HybridnetError(f"openai agent: {self.url} did not answer with JSON") from None
        try:
            content = payload["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise HybridnetError(
                f"openai agent: {self.url} answered without choices[0].message.content: "
                f"{_one_line(json.dumps(payload))}"
            ) from None
        if not isinstance(content, str) or not content.strip():
            raise HybridnetError(f"openai agent: {self.url} answered with an empty message")
        return content.strip()

    def subjects(self, texts: Sequence[str]) -> list[str]:
        """Ask for a JSON array of subjects, one batch of prompts at a time."""
        out: list[str] = []
        for start in range(0, len(texts), SUBJECT_BATCH):
            batch = texts[start : start + SUBJECT_BATCH]
            listing = "\n".join(f"{i + 1}. {t}" for i, t in enumerate(batch))
            answer = self._ask(
                "For each numbered image prompt below, give its key subject: the main thing "
                "depicted, in one or two lowercase words. Reply with only a JSON array of "
                f"{len(batch)} strings, in order.\n\n{listing}"
            )
            subjects = _json_array(answer, self.url)
            if len(subjects) != len(batch) or not all(
                isinstance(s, str) and s.strip() for s in subjects
            ):
                raise HybridnetError(
                    f"openai agent: {self.url} returned {len(subjects)} subjects for "
                    f"{len(batch)} prompts, expected one non-empty string each: {_one_line(answer)}"
                )
            out += [s.strip().lower() for s in subjects]
        return out

    def public_prompt(self, members: Sequence[str], subjects: Sequence[str]) -> str:
        """Ask for one prompt built on the group's shared subject and features."""
        shown = [t for t, _ in Counter(members).most_common(MAX_MEMBERS_SHOWN)]
        common = ", ".join(s for s, _ in Counter(subjects).most_common(3))
        listing = "\n".join(f"- {t}" for t in shown)
        answer = self._ask(
            f"These image prompts share the key subject(s): {common}. Write one public prompt "
            "for all of them: keep the shared subject and the features most of them have in "
            "common (appearance, setting, style), leave out what only one of them asks for. "
            f"Reply with only the prompt.\n\n{listing}"
        )
        prompt = answer.strip().strip('"').strip()
        if not prompt:
            raise HybridnetError(f"openai agent: {self.url} returned an empty public prompt")
        return _one_line(prompt, limit=1000)


def _json_array(answer: str, url: str) -> list[Any]:
    """The JSON array in a reply, tolerating the code fences chat models like to add."""
    start, end = answer.find("["), answer.rfind("]")
    if start < 0 or end < start:
        raise HybridnetError(f"openai agent: {url} did not reply with a JSON array: "
                             f"{_one_line(answer)}")
    try:
        value = json.loads(answer[start : end + 1])
    except json.JSONDecodeError:
        raise HybridnetError(
            f"openai agent: {url} replied with a malformed JSON array: {_one_line(answer)}"
        ) from None
    if not isinstance(value, list):
        raise HybridnetError(f"openai agent: {url} did not reply with a JSON array")
    return value
