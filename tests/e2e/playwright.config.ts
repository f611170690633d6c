import { defineConfig } from "@playwright/test";

// Debian's Chromium (installed by scripts/e2e), never a downloaded browser build. The flags
// keep it from reaching out to the network this machine does not have.
export default defineConfig({
  testDir: ".",
  testMatch: "*.spec.ts",
  globalSetup: "./server.ts",
  workers: 1,
  // Real models on a small machine: generous, and retried never (a failure is real).
  timeout: 240_000,
  expect: { timeout: 60_000 },
  retries: 0,
  reporter: [["list"]],
  // Failure contexts (page snapshots) land beside the screenshots, out of the source tree.
  outputDir: "../../target/e2e-results",
  use: {
    baseURL: process.env.CAIRN_E2E_URL,
    headless: true,
    viewport: { width: 1280, height: 800 },
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
    trace: "off",
  },
});
