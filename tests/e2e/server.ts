// Starts a real `cairn serve` (CAIRN_BIN) on a free port with a fresh data directory and
// the real local models, gives the first-run admin a password through the CLI, and makes
// an invitation; the tests read them from the environment. Stops the server at the end.

import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const CONFIG = `
default_tier = "free"

[web]
signup = "invite"

[memory]
# The model's own memory extraction would compete with the answers for two cores.
extract_with_model = false

[providers.local]
kind = "local"
threads = 2
max_sequences = 2
context_tokens = 2048
pull_on_start = false

[models.small]
provider = "local"
target = "smollm2-135m"

[models.minilm]
provider = "local"
target = "all-minilm-l6-v2"
kind = "embedding"

[tiers.free]
models = ["small", "minilm"]
default_model = "small"
requests_per_minute = 1000
tokens_per_minute = 10000000

[tiers.pro]
models = ["small", "minilm"]
default_model = "small"
requests_per_minute = 1000
tokens_per_minute = 10000000
`;

export const ADMIN_EMAIL = "admin@localhost";
export const ADMIN_PASSWORD = "e2e admin passphrase";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export default async function globalSetup() {
  const bin = process.env.CAIRN_BIN;
  if (!bin) throw new Error("set CAIRN_BIN to the cairn binary (scripts/e2e does)");
  const dir = mkdtempSync(join(tmpdir(), "cairn-e2e-"));
  const config = join(dir, "cairn.toml");
  writeFileSync(config, CONFIG);
  const base = ["--config", config, "--data-dir", join(dir, "data")];
  const addrFile = join(dir, "addr");
  const log = openSync(join(dir, "cairn.log"), "w");
  const server = spawn(bin, [...base, "serve", "--listen", "127.0.0.1:0", "--addr-file", addrFile], {
    stdio: ["ignore", log, log],
  });
  const fail = (why: string) => {
    server.kill("SIGTERM");
    throw new Error(`${why}; see ${join(dir, "cairn.log")}`);
  };
  const deadline = Date.now() + 180_000;
  while (!existsSync(addrFile) || !readFileSync(addrFile, "utf8")) {
    if (Date.now() > deadline || server.exitCode !== null) fail("cairn did not start");
    await sleep(50);
  }
  const url = `http://${readFileSync(addrFile, "utf8").trim()}`;
  // Ready once the local models have loaded.
  for (;;) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline || server.exitCode !== null) fail("cairn did not become ready");
    await sleep(200);
  }
  const cli = (args: string[], env: Record<string, string> = {}) =>
    execFileSync(bin, [...base, ...args], { env: { ...process.env, ...env }, encoding: "utf8" });
  cli(["users", "set-password", ADMIN_EMAIL], { CAIRN_PASSWORD: ADMIN_PASSWORD });
  const invitation = cli(["users", "invite", "--email", "newcomer@example.test"]).trim();

  process.env.CAIRN_E2E_URL = url;
  process.env.CAIRN_E2E_INVITATION = invitation;
  process.env.CAIRN_E2E_DIR = dir;
  console.log(`cairn serve at ${url}, data and log in ${dir}`);
  return async () => {
    server.kill("SIGTERM");
    await new Promise((r) => server.once("exit", r));
  };
}
