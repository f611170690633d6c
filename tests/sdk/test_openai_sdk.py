"""Cairn driven by the official `openai` Python SDK, unchanged but for base_url and key."""

import json

import openai
import pytest


def client(cairn, tier="free"):
    return openai.OpenAI(base_url=cairn.url + "/v1", api_key=cairn.keys[tier], max_retries=0)


def test_chat_completion(cairn, upstream_requests):
    reply = client(cairn).chat.completions.create(
        model="gpt",
        messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello"}],
        temperature=0.3, top_p=0.9, max_tokens=50, stop=["\n\n"], seed=1, user="u1",
        response_format={"type": "text"},
    )
    assert reply.object == "chat.completion"
    assert reply.model == "gpt"
    assert reply.choices[0].message.content == "echo: hello"
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage.prompt_tokens == 9 and reply.usage.completion_tokens == 2
    sent = upstream_requests[-1]
    assert sent["model"] == "up-echo"
    assert (sent["temperature"], sent["max_tokens"], sent["seed"], sent["user"]) == (0.3, 50, 1, "u1")


def test_streaming_with_usage(cairn):
    stream = client(cairn).chat.completions.create(
        model="gpt", messages=[{"role": "user", "content": "stream this please"}],
        stream=True, stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "echo: stream this please"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 4
    assert all(c.model == "gpt" for c in chunks)


def test_streaming_without_usage_chunk(cairn):
    chunks = list(client(cairn).chat.completions.create(
        model="gpt", messages=[{"role": "user", "content": "hi"}], stream=True))
    assert all(c.usage is None for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_tool_calls_round_trip(cairn, upstream_requests):
    tools = [{"type": "function", "function": {
        "name": "calculator", "description": "evaluates arithmetic",
        "parameters": {"type": "object", "properties": {"expression": {"type": "string"}}}}}]
    sdk = client(cairn)
    reply = sdk.chat.completions.create(
        model="gpt", messages=[{"role": "user", "content": "what is 6*7?"}], tools=tools, tool_choice="auto")
    call = reply.choices[0].message.tool_calls[0]
    assert reply.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "calculator"
    assert json.loads(call.function.arguments) == {"expression": "6*7"}
    assert upstream_requests[-1]["tools"] == tools
    final = sdk.chat.completions.create(model="gpt", messages=[
        {"role": "user", "content": "what is 6*7?"},
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
        {"role": "tool", "tool_call_id": call.id, "content": "42"},
        {"role": "user", "content": "so?"},
    ], tools=tools, tool_choice="none")
    assert final.choices[0].message.content == "echo: so?"


def test_models_are_those_of_the_tier(cairn):
    assert [m.id for m in client(cairn).models.list()] == ["gpt", "broken", "emb", "minilm"]
    assert [m.id for m in client(cairn, "tiny").models.list()] == ["gpt"]
    assert client(cairn).models.retrieve("emb").id == "emb"


def test_embeddings(cairn):
    result = client(cairn).embeddings.create(model="emb", input=["one two three", "four"])
    assert len(result.data) == 2 and len(result.data[0].embedding) == 4
    assert result.model == "emb"
    assert result.usage.prompt_tokens == 4


def test_local_embeddings_through_the_sdk(cairn):
    # The SDK asks for base64 and decodes it: this checks the local engine's encoding too.
    result = client(cairn).embeddings.create(
        model="minilm", input=["The cat sits on the mat.", "A kitten rests on a rug.", "Bond yields rose."])
    a, b, c = (d.embedding for d in result.data)
    assert len(a) == 384
    dot = lambda x, y: sum(p * q for p, q in zip(x, y))
    assert abs(dot(a, a) - 1.0) < 1e-3
    assert dot(a, b) > dot(a, c)
    assert result.usage.prompt_tokens > 0


@pytest.mark.parametrize("kwargs, error, param", [
    ({"model": "gpt", "messages": []}, openai.BadRequestError, "messages"),
    ({"model": "gpt", "messages": [{"role": "user", "content": "x"}], "max_tokens": -1},
     openai.BadRequestError, "max_tokens"),
    ({"model": "gpt", "messages": [{"role": "user", "content": "x"}], "temperature": 9},
     openai.BadRequestError, "temperature"),
    ({"model": "big", "messages": [{"role": "user", "content": "x"}]}, openai.PermissionDeniedError, None),
    ({"model": "nope", "messages": [{"role": "user", "content": "x"}]}, openai.NotFoundError, "model"),
    ({"model": "broken", "messages": [{"role": "user", "content": "x"}]}, openai.InternalServerError, None),
])
def test_errors_raise_the_sdk_exceptions(cairn, kwargs, error, param):
    with pytest.raises(error) as caught:
        client(cairn).chat.completions.create(**kwargs)
    body = caught.value.body
    assert body["message"] and body["type"] and body["code"]
    if param:
        assert body["param"] == param


def test_unknown_role_is_rejected(cairn):
    with pytest.raises(openai.BadRequestError) as caught:
        client(cairn).chat.completions.create(model="gpt", messages=[{"role": "robot", "content": "x"}])
    assert "robot" in caught.value.message


def test_bad_key(cairn):
    bad = openai.OpenAI(base_url=cairn.url + "/v1", api_key="sk-cairn-not-a-key", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.models.list()


def test_rate_limit(cairn):
    tiny = client(cairn, "tiny")
    ok = 0
    with pytest.raises(openai.RateLimitError) as caught:
        for _ in range(5):
            tiny.chat.completions.create(model="gpt", messages=[{"role": "user", "content": "x"}])
            ok += 1
    assert ok == 2
    headers = caught.value.response.headers
    assert int(headers["retry-after"]) >= 1
    assert headers["x-ratelimit-limit-requests"] == "2"


def test_oversized_body(cairn):
    huge = "x" * (50 << 20)
    with pytest.raises((openai.APIStatusError, openai.APIConnectionError)) as caught:
        client(cairn).chat.completions.create(model="gpt", messages=[{"role": "user", "content": huge}])
    if isinstance(caught.value, openai.APIStatusError):
        assert caught.value.status_code == 413
    # Whatever the transport did, the server still answers.
    assert client(cairn).chat.completions.create(
        model="gpt", messages=[{"role": "user", "content": "still there?"}]).choices[0].message.content


def test_grounded_answer_carries_citations(cairn, upstream_requests):
    import time

    import httpx

    auth = {"Authorization": "Bearer " + cairn.keys["free"]}
    collection = httpx.post(cairn.url + "/api/collections", json={"name": "sdk"}, headers=auth).json()
    upload = httpx.post(
        cairn.url + "/api/documents", headers=auth, data={"collection_id": collection["id"]},
        files={"file": ("tides.md", b"# Tides\n\n## Causes\n\nTides are caused by the Moon's gravity.\n")},
    )
    assert upload.status_code == 202, upload.text
    document = upload.json()["data"][0]["document"]
    deadline = time.time() + 60
    while document["status"] not in ("indexed", "failed"):
        assert time.time() < deadline, document
        time.sleep(0.05)
        document = httpx.get(cairn.url + "/api/documents/" + document["id"], headers=auth).json()
    assert document["status"] == "indexed", document

    reply = client(cairn).chat.completions.create(
        model="gpt", messages=[{"role": "user", "content": "What causes tides?"}],
        extra_body={"collections": [collection["id"]]},
    )
    citations = reply.model_extra["citations"]
    assert citations[0]["index"] == 1 and citations[0]["document_name"] == "tides.md"
    assert citations[0]["heading_path"] == ["Tides", "Causes"]
    assert "[1] tides.md" in upstream_requests[-1]["messages"][0]["content"]

    stream = client(cairn).chat.completions.create(
        model="gpt", messages=[{"role": "user", "content": "What causes tides?"}],
        extra_body={"collections": [collection["id"]]}, stream=True,
    )
    chunks = list(stream)
    assert chunks[0].model_extra["citations"][0]["document_name"] == "tides.md"

    with pytest.raises(openai.NotFoundError):
        client(cairn).chat.completions.create(
            model="gpt", messages=[{"role": "user", "content": "x"}],
            extra_body={"collections": ["no-such-collection"]},
        )
