"""Judge through any OpenAI-compatible chat server (``vllm serve``, SGLang, TGI, ...).

Each probe is one ``/chat/completions`` request: the whole judge prompt as the user message,
``max_tokens=1``, ``temperature=0``, ``logprobs=true`` and ``top_logprobs``. P(POSITIVE) is
read from the top log-probabilities of the first reply token: the tokens that begin a label
word (``"POS"``, ``"POSITIVE"``...) are summed per label and the two sums normalised. When
only one label appears among the top entries, the other gets the smallest listed
log-probability (an upper bound on its true value, so P is pulled toward 0.5, never pushed
to 0 or 1). A server that supports automatic prefix caching (vLLM does) reuses the shared
prefix of a trace's probes across requests.

Robustness: every request has a timeout; a timeout, a connection error, HTTP 429 or 5xx, a
body that is not the expected JSON, or a reply without either label is retried with
exponential backoff (``backoff * 2**attempt`` seconds); other HTTP 4xx errors (a prompt
longer than the server's context, an unknown model) are not retried. After the last try the
probe is recorded as failed with its error, and the run goes on. At most ``concurrency``
requests are in flight. The API key is read from ``api_key`` or ``OPENAI_API_KEY`` and never
logged; the server from ``base_url`` or ``OPENAI_BASE_URL``.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from metaq.features.judge.rubric import LABELS, ChatFrame, JudgePrompt
from metaq.features.judge.scoring.base import FAILED, OK, JudgeBackend, ProbeScores

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "http://127.0.0.1:8000/v1"


class _Retryable(Exception):
    """A failure worth another try (timeout, 5xx, 429, garbage reply)."""


class _Permanent(Exception):
    """A failure that another try would repeat (most 4xx)."""


class OpenAIJudgeBackend(JudgeBackend):
    """Judge with a model served behind an OpenAI-compatible ``/chat/completions`` endpoint.

    Parameters
    ----------
    model : str
        The served model name.
    base_url : str, optional
        Server root ending in ``/v1``; default ``$OPENAI_BASE_URL`` or
        ``http://127.0.0.1:8000/v1``.
    api_key : str, optional
        Bearer token; default ``$OPENAI_API_KEY`` (none sent when unset).
    timeout : float
        Seconds per request.
    max_retries : int
        Extra tries after a retryable failure.
    backoff : float
        First wait in seconds; doubles on every retry.
    concurrency : int
        Requests in flight at once.
    top_logprobs : int
        How many top tokens the server returns (OpenAI allows up to 20).
    """

    engine = "openai"

    def __init__(self, model: str | Path, *, base_url: str | None = None,
                 api_key: str | None = None, timeout: float = 60.0, max_retries: int = 3,
                 backoff: float = 1.0, concurrency: int = 16, top_logprobs: int = 20) -> None:
        self.model_name = str(model)
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL")
                         or DEFAULT_BASE_URL).rstrip("/")
        self._api_key = api_key or os.environ.get("OPENAI_API_KEY")
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.concurrency = concurrency
        self.top_logprobs = top_logprobs

    def chat_frame(self) -> ChatFrame:
        """Empty: the server applies the model's chat template."""
        return ChatFrame(head="", tail="")

    def describe(self) -> dict[str, str]:
        """Engine, served model and server URL (never the key)."""
        return {"engine": self.engine, "model": self.model_name, "base_url": self.base_url}

    def score(self, prompts: Sequence[JudgePrompt]) -> list[ProbeScores]:
        """One request per probe, ``concurrency`` at a time; failures recorded per probe."""
        jobs = [(i, j, prompt.text(probe)) for i, prompt in enumerate(prompts)
                for j, probe in enumerate(prompt.probes)]
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            results = list(pool.map(lambda job: self._judge(job[2]), jobs))
        out: list[ProbeScores] = []
        cursor = 0
        for prompt in prompts:
            mine = results[cursor:cursor + len(prompt.probes)]
            cursor += len(prompt.probes)
            out.append(ProbeScores.from_values([r[0] for r in mine], [r[1] for r in mine],
                                               [r[2] for r in mine]))
        n_failed = sum(r[1] == FAILED for r in results)
        if n_failed:
            logger.warning("%d of %d judge request(s) failed after retries", n_failed,
                           len(results))
        return out

    def generate(self, prompts: Sequence[str], *, max_new_tokens: int) -> list[str]:
        """Greedy replies; a failed request gives ``""`` (the atomizer then falls back)."""
        def reply(prompt: str) -> str:
            body = {"max_tokens": max_new_tokens}
            try:
                answer = self._with_retries(prompt, body)
                return str(answer["choices"][0]["message"]["content"] or "")
            except (_Retryable, _Permanent, KeyError, IndexError, TypeError) as err:
                logger.warning("atomizer request failed: %s", err)
                return ""

        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(reply, prompts))

    def _judge(self, prompt: str) -> tuple[float, str, str]:
        body = {"max_tokens": 1, "logprobs": True, "top_logprobs": self.top_logprobs}
        try:
            return self._with_retries(prompt, body, parse=label_probability), OK, ""
        except (_Retryable, _Permanent) as err:
            return math.nan, FAILED, str(err)

    def _with_retries(self, prompt: str, body: dict[str, Any], parse: Any = None) -> Any:
        payload = {"model": self.model_name, "temperature": 0.0,
                   "messages": [{"role": "user", "content": prompt}], **body}
        for attempt in range(self.max_retries + 1):
            try:
                answer = self._post(payload)
                return parse(answer) if parse else answer
            except _Retryable as err:
                if attempt == self.max_retries:
                    raise
                logger.debug("judge request retry %d after: %s", attempt + 1, err)
                time.sleep(self.backoff * 2 ** attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _post(self, payload: dict[str, Any]) -> Any:
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        request = urllib.request.Request(f"{self.base_url}/chat/completions",
                                         data=json.dumps(payload).encode(), headers=headers,
                                         method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as err:
            detail = err.read()[:200].decode("utf-8", "replace")
            kind = _Retryable if err.code == 429 or err.code >= 500 else _Permanent
            raise kind(f"HTTP {err.code} from {self.base_url}: {detail}") from err
        except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
            raise _Retryable(f"no answer from {self.base_url}: {err}") from err
        try:
            return json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise _Retryable(f"reply is not JSON: {raw[:80]!r}") from err


def label_probability(answer: Any, labels: tuple[str, str] = LABELS) -> float:
    """P(first label) from a chat completion's ``top_logprobs`` (module docstring).

    Raises
    ------
    _Retryable
        When the reply has no log-probabilities or neither label among them.

    Examples
    --------
    >>> import math
    >>> top = [{"token": "POS", "logprob": math.log(0.6)},
    ...        {"token": "NEG", "logprob": math.log(0.2)}]
    >>> answer = {"choices": [{"logprobs": {"content": [{"top_logprobs": top}]}}]}
    >>> round(label_probability(answer), 6)
    0.75
    """
    try:
        top = answer["choices"][0]["logprobs"]["content"][0]["top_logprobs"]
        pairs = [(str(t["token"]).strip(), float(t["logprob"])) for t in top]
    except (KeyError, IndexError, TypeError, ValueError) as err:
        raise _Retryable(f"reply without top_logprobs: {str(answer)[:80]}") from err
    found = [[lp for tok, lp in pairs if tok and label.startswith(tok)] for label in labels]
    if not any(found) or not pairs:
        raise _Retryable(f"neither {labels[0]} nor {labels[1]} among the top tokens "
                         f"{[tok for tok, _ in pairs][:10]}")
    floor = min(lp for _, lp in pairs)
    pos, neg = (float(np.logaddexp.reduce(f)) if f else floor for f in found)
    return float(1.0 / (1.0 + math.exp(neg - pos)))
