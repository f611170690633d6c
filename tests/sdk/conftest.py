"""Starts the mock upstream and a real `cairn serve` (the binary from CAIRN_BIN) for the
SDK tests, with users on two tiers created through the CLI."""

import os
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import mock_upstream

CONFIG = """
default_tier = "free"

[providers.up]
kind = "openai"
base_url = "{base_url}"

[providers.local]
kind = "local"
threads = 2
pull_on_start = false

[models.minilm]
provider = "local"
target = "all-minilm-l6-v2"
kind = "embedding"

[models.gpt]
provider = "up"
target = "up-echo"
input_price_per_million = 1.0
output_price_per_million = 2.0

[models.big]
provider = "up"
target = "up-echo"

[models.broken]
provider = "up"
target = "up-fail"

[models.emb]
provider = "up"
target = "up-emb"
kind = "embedding"

[tiers.free]
models = ["gpt", "broken", "emb", "minilm"]
default_model = "gpt"
requests_per_minute = 1000
tokens_per_minute = 1000000

[tiers.tiny]
models = ["gpt"]
default_model = "gpt"
requests_per_minute = 2
tokens_per_minute = 1000000
"""


class Cairn:
    def __init__(self, binary, workdir, base_url):
        self.binary = binary
        self.workdir = Path(workdir)
        self.config = self.workdir / "cairn.toml"
        self.config.write_text(CONFIG.format(base_url=base_url))
        self.data = self.workdir / "data"
        self.process = None
        self.url = None

    def cli(self, *args):
        out = subprocess.run(
            [self.binary, "--config", str(self.config), "--data-dir", str(self.data), *args],
            check=True, capture_output=True, text=True,
        )
        return out.stdout

    def user_key(self, email, tier):
        self.cli("users", "create", "--email", email, "--tier", tier)
        return self.cli("keys", "create", "--user", email).strip()

    def start(self):
        addr_file = self.workdir / "addr"
        log = open(self.workdir / "cairn.log", "w")
        self.process = subprocess.Popen(
            [self.binary, "--config", str(self.config), "--data-dir", str(self.data),
             "serve", "--listen", "127.0.0.1:0", "--addr-file", str(addr_file)],
            stdout=log, stderr=log,
        )
        deadline = time.time() + 30
        while not (addr_file.exists() and addr_file.read_text()):
            if time.time() > deadline or self.process.poll() is not None:
                raise RuntimeError("cairn did not start; see " + str(self.workdir / "cairn.log"))
            time.sleep(0.02)
        self.url = "http://" + addr_file.read_text()
        # Ready once the local embedding model has loaded.
        while True:
            try:
                urllib.request.urlopen(self.url + "/readyz").read()
                return
            except urllib.error.HTTPError:
                if time.time() > deadline:
                    raise RuntimeError("cairn did not become ready; see " + str(self.workdir / "cairn.log"))
                time.sleep(0.05)

    def stop(self):
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def cairn():
    binary = os.environ.get("CAIRN_BIN")
    if not binary:
        pytest.fail("set CAIRN_BIN to the cairn binary (scripts/test does)")
    upstream, base_url = mock_upstream.start()
    with tempfile.TemporaryDirectory() as workdir:
        server = Cairn(binary, workdir, base_url)
        server.keys = {
            "free": server.user_key("free@example.test", "free"),
            "tiny": server.user_key("tiny@example.test", "tiny"),
        }
        server.start()
        try:
            yield server
        finally:
            server.stop()
            upstream.shutdown()


@pytest.fixture()
def upstream_requests():
    return mock_upstream._Handler.received
