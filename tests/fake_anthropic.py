"""A scripted local fake of the Anthropic Messages API, for running the real `claude` CLI offline in tests."""

from __future__ import annotations

import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL = "claude-sonnet-4-5-20250929"
# Tool inputs may say "{cwd}" where the agent's working directory goes (Write and Edit need absolute paths,
# and a test does not always know where the worker puts its work tree). The CLI states it in its prompt.
CWD = "{cwd}"
_WORKING_DIRECTORY = re.compile(r"Primary working directory: ([^\s\\]+)")
_ids = itertools.count(1)


@dataclass(frozen=True)
class ToolUse:
    """One tool call the scripted assistant makes."""

    name: str
    input: dict[str, Any]


@dataclass(frozen=True)
class Turn:
    """One scripted model turn: tool calls (stop_reason tool_use) or, without them, final text (end_turn)."""

    text: str = ""
    tools: tuple[ToolUse, ...] = ()
    input_tokens: int = 100
    output_tokens: int = 50

    @property
    def stop_reason(self) -> str:
        return "tool_use" if self.tools else "end_turn"


@dataclass(frozen=True)
class ApiFailure:
    """A scripted turn that the server answers with an HTTP error instead of a message."""

    status: int
    error_type: str
    message: str


@dataclass(frozen=True)
class Flaky:
    """A scripted turn that fails `times` times (the CLI retries it) before it is answered with `then`."""

    failure: ApiFailure
    then: Turn
    times: int = 1


def tool_turn(*tools: ToolUse, text: str = "", input_tokens: int = 100, output_tokens: int = 50) -> Turn:
    return Turn(text=text, tools=tuple(tools), input_tokens=input_tokens, output_tokens=output_tokens)


def final_turn(text: str, *, input_tokens: int = 100, output_tokens: int = 50) -> Turn:
    return Turn(text=text, input_tokens=input_tokens, output_tokens=output_tokens)


@dataclass
class FakeAnthropic:
    """HTTP server on 127.0.0.1:0 that answers the n-th model turn of a conversation with script[n].

    Stateless per conversation: the turn is picked by counting assistant messages in the request, so
    the CLI's own retries of a turn get the same answer (a Flaky turn alone counts its failures).
    Requests that are not the main conversation (other system prompts, side queries) are answered
    from the same rule; past the script's end the last turn repeats.
    """

    script: list[Turn | ApiFailure | Flaky]
    requests: list[dict[str, Any]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _failures_served: dict[int, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def message_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["method"] == "POST" and r["path"].startswith("/v1/messages")]

    def __enter__(self) -> FakeAnthropic:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    def answer_for(self, body: dict[str, Any]) -> Turn | ApiFailure:
        assistant_turns = sum(1 for m in body.get("messages", []) if m.get("role") == "assistant")
        index = min(assistant_turns, len(self.script) - 1)
        answer = self.script[index]
        if not isinstance(answer, Flaky):
            return answer
        with self._lock:  # the only state: how often a flaky turn has failed so far
            served = self._failures_served.get(index, 0)
            self._failures_served[index] = served + 1
        return answer.failure if served < answer.times else answer.then


def _handler_for(fake: FakeAnthropic) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keeps test output quiet
            pass

        def do_HEAD(self) -> None:
            fake.requests.append({"method": "HEAD", "path": self.path})
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            fake.requests.append({"method": "GET", "path": self.path})
            self._send_json(404, {"type": "error", "error": {"type": "not_found_error", "message": self.path}})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            fake.requests.append(
                {"method": "POST", "path": self.path, "body": body, "api_key": self.headers.get("x-api-key")}
            )
            if not self.path.startswith("/v1/messages") or "count_tokens" in self.path:
                self._send_json(404, {"type": "error", "error": {"type": "not_found_error", "message": self.path}})
                return
            answer = fake.answer_for(body)
            if isinstance(answer, ApiFailure):
                error = {"type": "error", "error": {"type": answer.error_type, "message": answer.message}}
                self._send_json(answer.status, error)
            elif body.get("stream"):
                self._send_stream(_in_directory(answer, body), body.get("model") or MODEL)
            else:
                self._send_json(200, _message(_in_directory(answer, body), body.get("model") or MODEL))

        def _send_json(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("request-id", f"req_fake_{next(_ids)}")
            self.end_headers()
            self.wfile.write(data)

        def _send_stream(self, turn: Turn, model: str) -> None:
            data = "".join(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n" for event in _events(turn, model))
            encoded = data.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Content-Length", str(len(encoded)))
            self.send_header("request-id", f"req_fake_{next(_ids)}")
            self.end_headers()
            self.wfile.write(encoded)

    return Handler


def _in_directory(turn: Turn, body: dict[str, Any]) -> Turn:
    """The turn with "{cwd}" in its tool inputs replaced by the working directory the request names."""
    found = _WORKING_DIRECTORY.search(json.dumps(body))
    if not found or not turn.tools:
        return turn
    tools = tuple(ToolUse(t.name, json.loads(json.dumps(t.input).replace(CWD, found.group(1)))) for t in turn.tools)
    return Turn(turn.text, tools, turn.input_tokens, turn.output_tokens)


def _blocks(turn: Turn) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [{"type": "text", "text": turn.text}] if turn.text else []
    for tool in turn.tools:
        blocks.append({"type": "tool_use", "id": f"toolu_fake{next(_ids):06d}", "name": tool.name, "input": tool.input})
    return blocks


def _usage(turn: Turn) -> dict[str, int]:
    return {
        "input_tokens": turn.input_tokens,
        "output_tokens": turn.output_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }


def _message(turn: Turn, model: str) -> dict[str, Any]:
    return {
        "id": f"msg_fake{next(_ids):06d}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": _blocks(turn),
        "stop_reason": turn.stop_reason,
        "stop_sequence": None,
        "usage": _usage(turn),
    }


def _events(turn: Turn, model: str) -> list[dict[str, Any]]:
    """The server-sent events of one streamed message, in the order the real API sends them."""
    start = _message(turn, model) | {"content": [], "stop_reason": None, "usage": _usage(turn) | {"output_tokens": 1}}
    events: list[dict[str, Any]] = [{"type": "message_start", "message": start}]
    for index, block in enumerate(_blocks(turn)):
        events.extend(_block_events(index, block))
    delta = {"stop_reason": turn.stop_reason, "stop_sequence": None}
    events.append({"type": "message_delta", "delta": delta, "usage": {"output_tokens": turn.output_tokens}})
    events.append({"type": "message_stop"})
    return events


def _block_events(index: int, block: dict[str, Any]) -> list[dict[str, Any]]:
    if block["type"] == "text":
        opening = {"type": "text", "text": ""}
        delta = {"type": "text_delta", "text": block["text"]}
    else:
        opening = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
        delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
    return [
        {"type": "content_block_start", "index": index, "content_block": opening},
        {"type": "content_block_delta", "index": index, "delta": delta},
        {"type": "content_block_stop", "index": index},
    ]
