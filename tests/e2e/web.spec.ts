// The web app end to end, as a person uses it: sign up with an invitation, sign in, chat with
// a streamed answer, stop and regenerate, upload a document and get a cited answer, create
// and revoke an API key, manage memories, sign out. Each page is photographed at desktop
// and phone size into CAIRN_SCREENSHOTS (target/screenshots by default).

import { expect, test, type Browser, type BrowserContext, type Page } from "@playwright/test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ADMIN_EMAIL, ADMIN_PASSWORD } from "./server";
import { url, shots, DESKTOP, PHONE, photograph, signIn } from "./helpers";

test.describe.configure({ mode: "serial" });

let context: BrowserContext;
let page: Page;

/** Stops the answer being written, if it is still being written. */
async function stopAnswer(p: Page) {
  const streaming = p.locator(".message.assistant.streaming");
  await expect(streaming.locator(".markdown")).not.toBeEmpty({ timeout: 120_000 }).catch(() => {});
  await p.getByRole("button", { name: "Stop" }).click({ timeout: 2_000 }).catch(() => {});
  await expect(streaming).toHaveCount(0, { timeout: 180_000 });
}

test.beforeAll(async ({ browser }: { browser: Browser }) => {
  context = await browser.newContext({ viewport: DESKTOP });
  page = await context.newPage();
  page.on("dialog", (d) => d.accept()); // confirm() before deleting or revoking
});

test.afterAll(async () => {
  await context.close();
});

test("sign-in page, invitation sign-up, sign out", async () => {
  await page.goto(url("/"));
  await expect(page.getByRole("heading", { name: "Sign in to Cairn" })).toBeVisible();
  await photograph(page, "signin");

  // A wrong password is refused on the page.
  await page.getByLabel("E-mail").fill(ADMIN_EMAIL);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toContainText("wrong e-mail or password");

  // The invitation link opens the sign-up form.
  await page.goto(url(process.env.CAIRN_E2E_INVITATION!));
  await expect(page.getByRole("heading", { name: "Create your account" })).toBeVisible();
  await page.getByLabel("E-mail").fill("newcomer@example.test");
  await page.getByLabel("Password").fill("newcomer passphrase");
  await photograph(page, "signup");
  await page.getByRole("button", { name: "Sign up" }).click();
  await expect(page.getByText("newcomer@example.test")).toBeVisible();
  await expect(page).toHaveURL(/\/chat$/);

  // The session is a cookie the page's scripts cannot read.
  const cookie = (await context.cookies()).find((c) => c.name === "cairn_session");
  expect(cookie?.httpOnly).toBe(true);
  expect(cookie?.sameSite).toBe("Lax");
  expect(await page.evaluate(() => document.cookie)).not.toContain("cairn_session");

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("heading", { name: "Sign in to Cairn" })).toBeVisible();
  expect((await context.cookies()).find((c) => c.name === "cairn_session")).toBeUndefined();

  await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
});

test("chat: a streamed answer, stop, regenerate, edit, rename, search", async () => {
  await page.goto(url("/chat"));
  await expect(page.getByRole("heading", { name: "What can I help with?" })).toBeVisible();
  await expect(page.getByLabel("Model")).toHaveValue("small");
  await photograph(page, "chat-empty");

  const box = page.getByLabel("Message");
  await box.fill("Write one short sentence about mountains.");
  await box.press("Enter");
  // The answer streams: first the writing indicator, then text grows, then it is stored.
  const streaming = page.locator(".message.assistant.streaming");
  await expect(streaming).toBeVisible();
  await expect(page).toHaveURL(/\/chat\/[0-9a-f]+$/);
  const answer = page.locator(".message.assistant:not(.streaming)").last();
  await expect(answer.locator(".markdown")).not.toBeEmpty({ timeout: 180_000 });
  await expect(streaming).toHaveCount(0, { timeout: 180_000 });
  await expect(page.getByRole("button", { name: "Regenerate" })).toBeVisible();
  const conversationUrl = page.url();

  // Stop an answer midway: what was written so far is kept.
  await box.fill("Now tell me a long story about a cairn on a mountain, with many details.");
  await box.press("Enter");
  await stopAnswer(page);
  await expect(page.locator(".message.assistant")).toHaveCount(2);
  await expect(page.locator(".message.user")).toHaveCount(2);

  // Regenerate replaces the last answer (still two turns); stop it once it starts.
  await page.getByRole("button", { name: "Regenerate" }).click();
  await stopAnswer(page);
  await expect(page.locator(".message.user")).toHaveCount(2);

  // Edit the first message and send it again: everything after it is replaced.
  await page.locator(".message.user").first().getByRole("button", { name: "Edit" }).click();
  await page.getByLabel("Edit message").fill("Say hello to the hikers.");
  await page.getByRole("button", { name: "Send", exact: true }).first().click();
  await stopAnswer(page);
  await expect(page.locator(".message.user")).toHaveCount(1);
  await expect(page.locator(".message.user .bubble")).toHaveText("Say hello to the hikers.");

  // Rename it from the list, then find it by searching.
  const item = page.locator(".conversations li.active");
  await item.getByRole("button", { name: /^Rename/ }).click();
  await page.getByLabel("New title").fill("Hikers");
  await page.getByLabel("New title").press("Enter");
  await expect(page.locator(".conversation-title")).toHaveText("Hikers");
  await page.getByLabel("Search conversations").fill("hikers");
  await expect(page.locator(".conversations li")).toHaveCount(1);
  await page.getByLabel("Search conversations").fill("no such words anywhere");
  await expect(page.getByText("Nothing found.")).toBeVisible();
  await page.getByLabel("Search conversations").fill("");
  await page.goto(conversationUrl);
  await expect(page.locator(".message.user")).toHaveCount(1);
  await photograph(page, "chat");
});

test("knowledge: upload a document, then a cited answer", async () => {
  await page.goto(url("/knowledge"));
  await page.getByLabel("New collection").fill("Field guide");
  await page.getByRole("button", { name: "Create" }).click();
  await expect(page.getByRole("heading", { name: "Field guide" })).toBeVisible();
  const text = [
    "# Cairns",
    "",
    "A cairn is a human-made pile of stones. On the Zorbel ridge, hikers build cairns",
    "from blue slate, and the tallest cairn there, called Old Morwen, stands four metres high.",
    "",
    "# Weather",
    "",
    "Fog on the Zorbel ridge usually lifts before noon.",
  ].join("\n");
  await page.getByLabel("Upload documents").setInputFiles({
    name: "zorbel.md",
    mimeType: "text/markdown",
    buffer: Buffer.from(text),
  });
  const row = page.locator("tr", { hasText: "zorbel.md" });
  await expect(row.locator(".badge")).toHaveText("indexed", { timeout: 120_000 });
  await photograph(page, "knowledge");

  // A failing document shows its reason.
  await page.getByLabel("Upload documents").setInputFiles({
    name: "broken.pdf",
    mimeType: "application/pdf",
    buffer: Buffer.from("%PDF-1.7 this is not really a PDF"),
  });
  const broken = page.locator("tr", { hasText: "broken.pdf" });
  await expect(broken.locator(".badge")).toHaveText("failed", { timeout: 60_000 });
  await expect(broken.locator(".error")).not.toBeEmpty();
  await broken.getByRole("button", { name: "Delete broken.pdf" }).click();
  await expect(broken).toHaveCount(0);

  // A new conversation grounded in the collection.
  await page.goto(url("/chat"));
  await page.getByRole("button", { name: /^Sources/ }).click();
  await page.getByLabel("Field guide").check();
  await page.keyboard.press("Escape");
  await expect(page.getByRole("button", { name: "Sources (1)" })).toBeVisible();
  const box = page.getByLabel("Message");
  await box.fill("How tall is Old Morwen on the Zorbel ridge?");
  await box.press("Enter");
  const streaming = page.locator(".message.assistant.streaming");
  const chips = page.locator(".citations .chip");
  await expect(chips.first()).toContainText("zorbel.md", { timeout: 120_000 });
  // The sources come first; how long the tiny model then rambles is not under test.
  await stopAnswer(page);
  await chips.first().click();
  const source = page.getByRole("dialog");
  await expect(source).toContainText("Old Morwen");
  await photograph(page, "chat-source");
  await page.keyboard.press("Escape");
  await expect(source).toHaveCount(0);
  // The citations are stored with the answer (a stopped one too, once the server saw the
  // stop).
  await expect(async () => {
    await page.reload();
    await expect(page.locator(".citations .chip").first()).toContainText("zorbel.md", { timeout: 2_000 });
  }).toPass({ timeout: 30_000 });
});

test("API keys: create (shown once), use, revoke; own usage", async () => {
  await page.goto(url("/keys"));
  await page.getByLabel("Name").fill("e2e laptop");
  await page.getByRole("button", { name: "Create key" }).click();
  const secret = (await page.getByTestId("new-key").textContent())!.trim();
  expect(secret).toMatch(/^sk-cairn-/);
  await photograph(page, "keys");
  const models = await fetch(url("/v1/models"), { headers: { authorization: `Bearer ${secret}` } });
  expect(models.status).toBe(200);

  await page.getByRole("button", { name: "Done" }).click();
  await expect(page.getByTestId("new-key")).toHaveCount(0);
  await page.getByRole("button", { name: "Revoke e2e laptop" }).click();
  await expect(page.locator("tr", { hasText: "e2e laptop" }).locator(".badge")).toHaveText("revoked");
  const refused = await fetch(url("/v1/models"), { headers: { authorization: `Bearer ${secret}` } });
  expect(refused.status).toBe(401);

  // The chats above were metered as this user's.
  await expect(page.locator("table", { hasText: "By model" })).toContainText("small");
});

test("memory: add, edit, delete, turn off", async () => {
  await page.goto(url("/memory"));
  await page.getByLabel("Add a memory").fill("I hike on the Zorbel ridge every summer");
  await page.getByRole("button", { name: "Add", exact: true }).click();
  const item = page.locator(".memories li", { hasText: "Zorbel" });
  await expect(item).toBeVisible();
  await item.getByRole("button", { name: "Edit" }).click();
  await page.getByLabel("Memory text").fill("I hike on the Zorbel ridge every autumn");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.locator(".memories")).toContainText("every autumn");
  await photograph(page, "memory");
  await page.locator(".memories li", { hasText: "autumn" }).getByRole("button", { name: "Delete" }).click();
  await expect(page.locator(".memories")).not.toContainText("autumn");

  const toggle = page.getByRole("switch");
  await expect(toggle).toBeChecked();
  await toggle.uncheck();
  await expect(page.getByText("Off: nothing new is learnt")).toBeVisible();
  await page.reload();
  await expect(page.getByRole("switch")).not.toBeChecked();
  await page.getByRole("switch").check();
  await expect(page.getByRole("switch")).toBeChecked();
});

test("keyboard only: sign in and send a message", async ({ browser }) => {
  const ctx = await browser.newContext({ viewport: PHONE });
  const p = await ctx.newPage();
  await p.goto(url("/signin"));
  await expect(p.getByLabel("E-mail")).toBeFocused();
  await p.keyboard.type(ADMIN_EMAIL);
  await p.keyboard.press("Tab");
  await p.keyboard.type(ADMIN_PASSWORD);
  await p.keyboard.press("Enter");
  await expect(p.getByRole("navigation", { name: "Main" })).toBeVisible();
  await expect(p.getByLabel("Message")).toBeFocused();
  await p.keyboard.type("Hi!");
  await p.keyboard.press("Enter");
  await expect(p.locator(".message.user .bubble")).toHaveText("Hi!");
  await expect(p.locator(".message.assistant .markdown").first()).not.toBeEmpty({ timeout: 120_000 });
  await p.keyboard.press("Escape"); // stops the answer, if it is still being written
  await expect(p.locator(".message.assistant.streaming")).toHaveCount(0, { timeout: 180_000 });
  await expect(p.locator(".message.assistant")).toHaveCount(1);
  await ctx.close();
  writeFileSync(join(shots, "README.txt"), "Screenshots written by scripts/e2e (tests/e2e/*.spec.ts): <page>-desktop.png and <page>-phone.png.\n");
});
