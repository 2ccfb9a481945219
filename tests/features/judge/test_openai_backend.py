"""The OpenAI-compatible client against a real local HTTP server that injects faults."""

from __future__ import annotations

import json
import math
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from metaq.features.judge.rubric import RUBRICS, build_prompt
from metaq.features.judge.scoring.openai_backend import OpenAIJudgeBackend

P_BY_CRITERION = {"FACTUALITY": 0.9, "VALIDITY": 0.2, "COHERENCE": 0.6, "UTILITY": 0.35}


class FakeServer:
    """Speaks /v1/chat/completions. P(POSITIVE) depends on the criterion in the prompt.

    ``faults`` maps a substring of the prompt to a list of behaviours consumed one per
    request whose prompt contains it: "500", "sleep", "garbage", "nolabel", "400", "ok".
    """

    def __init__(self, faults=None, sleep=0.5):
        self.faults = {k: list(v) for k, v in (faults or {}).items()}
        self.sleep = sleep
        self.requests: Counter[str] = Counter()
        self.in_flight = 0
        self.most_in_flight = 0
        self.lock = threading.Lock()
        self.bodies: list[dict] = []

    def behaviour(self, prompt):
        with self.lock:
            for key, plan in self.faults.items():
                if key in prompt and plan:
                    return plan.pop(0)
        return "ok"

    def reply(self, body):
        prompt = body["messages"][0]["content"]
        if body["max_tokens"] > 1:  # atomizer-style generation
            return {"choices": [{"message": {"content": '["a", "b"]'}}]}
        criterion = next(c for c in P_BY_CRITERION if prompt.endswith(f"for {c}?"))
        p = P_BY_CRITERION[criterion]
        top = [{"token": "POS", "logprob": math.log(0.8 * p)},
               {"token": "NEG", "logprob": math.log(0.8 * (1 - p))},
               {"token": "The", "logprob": math.log(0.2)}]
        return {"choices": [{"message": {"content": "POS"},
                             "logprobs": {"content": [{"token": "POS", "top_logprobs": top}]}}]}

    def __enter__(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                prompt = body["messages"][0]["content"]
                with server.lock:
                    server.bodies.append(body)
                    server.requests[prompt] += 1
                    server.in_flight += 1
                    server.most_in_flight = max(server.most_in_flight, server.in_flight)
                self._answer(server.behaviour(prompt), body)

            def _answer(self, behaviour, body):
                time.sleep(0.01)
                if behaviour == "sleep":
                    time.sleep(server.sleep)
                status, payload = 200, json.dumps(server.reply(body)).encode()
                if behaviour in ("500", "400"):
                    status, payload = int(behaviour), b'{"error": "injected"}'
                elif behaviour == "garbage":
                    payload = b"<html>not json"
                elif behaviour == "nolabel":
                    payload = json.dumps({"choices": [{"logprobs": {"content": [
                        {"top_logprobs": [{"token": "The", "logprob": -0.1}]}]}}]}).encode()
                # out of flight before the reply leaves: once the client has it, it may send
                # its next request before this thread would get to count this one done
                with server.lock:
                    server.in_flight -= 1
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def _prompt(backend, steps=("Add: 2 + 3 = 5.", "So the answer is 5.")):
    return build_prompt("Ann has 2 apples and gets 3. How many?", ["Ann has 2 apples."],
                        list(steps), rubric=RUBRICS["en"], frame=backend.chat_frame())


def _backend(url, **kw):
    options = dict(timeout=0.3, max_retries=2, backoff=0.01, concurrency=4)
    return OpenAIJudgeBackend("judge", base_url=url, **{**options, **kw})


def test_probabilities_from_top_logprobs_and_request_shape():
    with FakeServer() as server:
        backend = _backend(server.url)
        prompt = _prompt(backend)
        (result,) = backend.score([prompt])
    expected = [P_BY_CRITERION[p.text.rsplit(" ", 1)[1][:-1]] for p in prompt.probes]
    np.testing.assert_allclose(result.p_positive, expected, atol=1e-12)
    assert result.status == ("ok",) * 8
    body = server.bodies[0]
    assert body["max_tokens"] == 1 and body["temperature"] == 0.0
    assert body["logprobs"] is True and body["top_logprobs"] == 20
    assert body["model"] == "judge"
    assert {b["messages"][0]["content"] for b in server.bodies} == {
        prompt.text(p) for p in prompt.probes}


def test_transient_faults_are_retried_until_success():
    faults = {"[Step 1] POSITIVE or NEGATIVE for VALIDITY": ["500", "garbage"],
              "[Step 2] POSITIVE or NEGATIVE for UTILITY": ["sleep"],
              "[Step 2] POSITIVE or NEGATIVE for COHERENCE": ["nolabel"]}
    with FakeServer(faults) as server:
        backend = _backend(server.url)
        (result,) = backend.score([_prompt(backend)])
    assert result.status == ("ok",) * 8
    assert np.isfinite(result.p_positive).all()
    assert sorted(server.requests.values()) == [1] * 5 + [2, 2, 3]


def test_persistent_and_permanent_faults_fail_only_their_probe():
    faults = {"[Step 1] POSITIVE or NEGATIVE for VALIDITY": ["500"] * 10,
              "[Step 2] POSITIVE or NEGATIVE for FACTUALITY": ["400"]}
    with FakeServer(faults) as server:
        backend = _backend(server.url)
        prompt = _prompt(backend)
        (result,) = backend.score([prompt])
    failed = [i for i, s in enumerate(result.status) if s == "failed"]
    assert [(prompt.probes[i].step, prompt.probes[i].criterion) for i in failed] == [
        (0, "validity"), (1, "factuality")]
    assert "HTTP 500" in result.errors[failed[0]] and "HTTP 400" in result.errors[failed[1]]
    assert np.isnan(result.p_positive[failed]).all()
    counts = {i: server.requests[prompt.text(prompt.probes[i])] for i in failed}
    assert counts == {failed[0]: 3, failed[1]: 1}  # 1 + max_retries tries; 4xx never retried


def test_concurrency_is_limited():
    steps = [f"Step number {i} adds {i} + 1 = {i + 1}." for i in range(8)]
    with FakeServer() as server:
        backend = _backend(server.url, concurrency=3)
        (result,) = backend.score([_prompt(backend, steps)])
    assert result.status.count("ok") == 32
    assert 1 < server.most_in_flight <= 3


def test_unreachable_server_fails_every_probe_without_raising():
    backend = _backend("http://127.0.0.1:9/v1", max_retries=1)
    (result,) = backend.score([_prompt(backend)])
    assert set(result.status) == {"failed"}
    assert "no answer" in result.errors[0]


def test_generate_returns_the_reply_text():
    with FakeServer() as server:
        assert _backend(server.url).generate(["split this"], max_new_tokens=50) == ['["a", "b"]']


@pytest.mark.parametrize("top,expected", [
    ([("POSITIVE", 0.5), ("NEGATIVE", 0.25)], 2 / 3),
    ([("P", 0.3), ("POS", 0.3), ("NEG", 0.2)], 0.75),     # label prefixes are summed
    ([("POS", 0.9), ("The", 0.05)], 0.9 / 0.95),          # missing label: smallest listed
])
def test_label_probability_cases(top, expected):
    from metaq.features.judge.scoring.openai_backend import label_probability

    answer = {"choices": [{"logprobs": {"content": [{"top_logprobs": [
        {"token": t, "logprob": math.log(p)} for t, p in top]}]}}]}
    assert label_probability(answer) == pytest.approx(expected)
