"""A fake OpenAI-compatible upstream for the SDK tests; it stands in for a paid API.

Chat answers "echo: <last user message>" (streamed word by word when asked, with a usage
chunk when `stream_options.include_usage` is set); with `tools`, it answers with a call of
the first tool. Model `up-fail` answers 500. Embeddings are 4-dimensional.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _last_user_text(body):
    for message in reversed(body.get("messages", [])):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                return " ".join(p.get("text", "") for p in content)
            return content or ""
    return ""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    received = []

    def log_message(self, *args):
        pass

    def _json(self, status, value):
        data = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        _Handler.received.append(body)
        if self.path == "/v1/embeddings":
            inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
            data = [
                {"object": "embedding", "index": i, "embedding": [float(len(s)), 0.1, 0.2, 0.3]}
                for i, s in enumerate(inputs)
            ]
            tokens = sum(len(s.split()) for s in inputs)
            return self._json(200, {"object": "list", "data": data, "model": body["model"],
                                    "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})
        if self.path != "/v1/chat/completions":
            return self._json(404, {"error": {"message": "no such route"}})
        if body["model"] == "up-fail":
            return self._json(500, {"error": {"message": "model exploded", "type": "server_error"}})
        answer = "echo: " + _last_user_text(body)
        usage = {"prompt_tokens": 9, "completion_tokens": len(answer.split()),
                 "total_tokens": 9 + len(answer.split())}
        base = {"id": "chatcmpl-mock", "created": 1700000000, "model": body["model"]}
        tool_call = None
        if body.get("tools") and body.get("tool_choice") != "none":
            name = body["tools"][0]["function"]["name"]
            tool_call = {"id": "call_1", "type": "function",
                         "function": {"name": name, "arguments": json.dumps({"expression": "6*7"})}}
        if not body.get("stream"):
            message = {"role": "assistant", "content": None if tool_call else answer}
            if tool_call:
                message["tool_calls"] = [tool_call]
            return self._json(200, {**base, "object": "chat.completion", "usage": usage, "choices": [
                {"index": 0, "message": message, "logprobs": None,
                 "finish_reason": "tool_calls" if tool_call else "stop"}]})
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("connection", "close")
        self.end_headers()

        def send(value):
            self.wfile.write(b"data: " + json.dumps(value).encode() + b"\n\n")
            self.wfile.flush()

        chunk = {**base, "object": "chat.completion.chunk"}
        send({**chunk, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                    "finish_reason": None}]})
        for i, word in enumerate(answer.split(" ")):
            send({**chunk, "choices": [{"index": 0, "delta": {"content": word if i == 0 else " " + word},
                                        "finish_reason": None}]})
        send({**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        if (body.get("stream_options") or {}).get("include_usage"):
            send({**chunk, "choices": [], "usage": usage})
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
        self.close_connection = True


def start():
    """Starts the mock on a free loopback port; returns (server, base_url)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/v1"
