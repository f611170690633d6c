// The chat page's feedback, starting points and long histories, as a person uses them, against
// the real server and model: a thumbs down with a comment on a streamed answer that is still
// there after a reload and stored for the data flywheel; a conversation started from a prompt
// template in a writing mode; a 1,000-conversation history and a 500-message conversation,
// seeded through the HTTP API (conversation import), opened, scrolled and typed into. The
// times they take are printed (`measured:` lines), never asserted.

import { expect, test, type APIRequestContext, type Browser, type BrowserContext, type Page } from "@playwright/test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { url, DESKTOP, photograph } from "./helpers";

function measured(what: string, ms: number) {
  console.log(`measured: ${what}: ${Math.round(ms)} ms`);
}

test.describe.configure({ mode: "serial" });

const EMAIL = "chatter@example.test";
let context: BrowserContext;
let page: Page;
let api: APIRequestContext;
let csrf = "";
/** The first-run admin's API key, which the server wrote into its data directory. */
const adminKey = () => readFileSync(join(process.env.CAIRN_E2E_DIR!, "data", "admin-key.txt"), "utf8").trim();

/** A write as the web app makes it: the session cookie and its CSRF token. */
async function write(method: "POST" | "PUT" | "DELETE", path: string, data?: unknown) {
  const response = await api.fetch(url(path), { method, data, headers: { "x-csrf-token": csrf } });
  expect(response.ok(), `${method} ${path}: ${response.status()} ${await response.text()}`).toBe(true);
  return response.json();
}

/** Stops the answer being written, once it has begun. */
async function stopAnswer(p: Page) {
  const streaming = p.locator(".message.assistant.streaming");
  await expect(streaming.locator(".markdown")).not.toBeEmpty({ timeout: 120_000 }).catch(() => {});
  await p.getByRole("button", { name: "Stop" }).click({ timeout: 2_000 }).catch(() => {});
  await expect(streaming).toHaveCount(0, { timeout: 180_000 });
}

test.beforeAll(async ({ browser }: { browser: Browser }) => {
  // A member of their own, invited by the admin through the API.
  const invited = await fetch(url("/api/admin/invitations"), {
    method: "POST",
    headers: { authorization: `Bearer ${adminKey()}`, "content-type": "application/json" },
    body: JSON.stringify({ email: EMAIL }),
  });
  expect(invited.status).toBe(201);
  const { token } = await invited.json();

  context = await browser.newContext({ viewport: DESKTOP });
  api = context.request;
  const signedUp = await api.post(url("/api/auth/signup"), {
    data: { email: EMAIL, password: "chatter passphrase", invitation: token },
  });
  expect(signedUp.ok()).toBe(true);
  csrf = (await signedUp.json()).csrf_token;
  page = await context.newPage();
});

test.afterAll(async () => {
  await context.close();
});

test("feedback: thumbs down with a comment on a streamed answer, kept, stored for the flywheel", async () => {
  await page.goto(url("/chat"));
  const box = page.getByLabel("Message");
  await box.fill("Say hello to a hiker.");
  await box.press("Enter");
  await expect(page).toHaveURL(/\/chat\/[0-9a-f]+$/);
  // How long the tiny model goes on is not under test: its first words are the answer, kept
  // by the server when stopped. Rating waits until the page has the stored copy.
  await stopAnswer(page);
  const answer = page.locator(".message.assistant").last();
  await expect(answer.locator(".markdown")).not.toBeEmpty();
  await expect(answer.getByRole("button", { name: "Good answer" })).toBeVisible();
  const good = answer.getByRole("button", { name: "Good answer" });
  const bad = answer.getByRole("button", { name: "Bad answer" });
  await expect(good).toHaveAttribute("aria-pressed", "false");
  await expect(bad).toHaveAttribute("aria-pressed", "false");

  // From the keyboard: a thumbs up opens the comment box; Escape closes it and gives the
  // focus back; Enter on the pressed thumb takes the rating back.
  await good.focus();
  await page.keyboard.press("Enter");
  await expect(good).toHaveAttribute("aria-pressed", "true");
  const comment = answer.getByLabel("Comment (optional)");
  await expect(comment).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(comment).toHaveCount(0);
  await expect(good).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(good).toHaveAttribute("aria-pressed", "false");

  // A thumbs down with a comment, saved with Enter.
  await bad.click();
  await expect(bad).toHaveAttribute("aria-pressed", "true");
  await expect(good).toHaveAttribute("aria-pressed", "false");
  await comment.fill("Too short, and no greeting.");
  await photograph(page, "chat-feedback");
  await comment.press("Enter");
  await expect(comment).toHaveCount(0);
  await expect(answer).toContainText("Too short, and no greeting.");

  // Still there after a reload.
  await page.reload();
  const reloaded = page.locator(".message.assistant").last();
  await expect(reloaded.getByRole("button", { name: "Bad answer" })).toHaveAttribute("aria-pressed", "true");
  await expect(reloaded.getByRole("button", { name: "Good answer" })).toHaveAttribute("aria-pressed", "false");
  await expect(reloaded).toContainText("Too short, and no greeting.");

  // Stored for the flywheel: the admin's listing has the answer, its prompt and its model.
  const listed = await fetch(url("/api/admin/feedback?rating=down"), {
    headers: { authorization: `Bearer ${adminKey()}` },
  });
  expect(listed.status).toBe(200);
  const entry = (await listed.json()).data.find((f: any) => f.comment === "Too short, and no greeting.");
  expect(entry).toBeTruthy();
  expect(entry.rating).toBe("down");
  expect(entry.prompt).toBe("Say hello to a hiker.");
  expect(entry.model).toBe("small");
  const id = page.url().split("/").pop();
  const stored = await (await api.get(url(`/api/conversations/${id}`))).json();
  const rated = stored.messages[stored.messages.length - 1];
  expect(entry.message_id).toBe(rated.id);
  expect(entry.answer).toBe(rated.content);
  expect(rated.feedback).toMatchObject({ rating: "down", comment: "Too short, and no greeting." });
});

test("start from a template in a writing mode", async () => {
  await page.goto(url("/chat"));
  await expect(page.getByRole("heading", { name: "Start from a template" })).toBeVisible();
  const technical = page.getByRole("group", { name: "Writing mode" }).getByRole("button", { name: "Technical" });
  await expect(technical).toHaveAttribute("aria-pressed", "false");
  await photograph(page, "chat-starters");

  // A preset's blanks, filled in, fill the message box.
  await page.getByRole("button", { name: /^Summarize/ }).click();
  await expect(page.getByLabel("Text", { exact: true })).toBeFocused();
  await page.getByLabel("Text", { exact: true }).fill("Cairns are piles of stones that mark trails above the tree line.");
  await page.getByLabel("Points (optional)").fill("2");
  await page.getByRole("button", { name: "Use template" }).click();
  const box = page.getByLabel("Message");
  await expect(box).toBeFocused();
  await expect(box).toHaveValue(/^Summarise the following text in 2 bullet points:\s+Cairns are piles of stones/);

  // The writing mode becomes the new conversation's system prompt.
  await technical.click();
  await expect(technical).toHaveAttribute("aria-pressed", "true");
  await box.press("Enter");
  await expect(page).toHaveURL(/\/chat\/[0-9a-f]+$/);
  // The answer is not what this is about: stop it once the question is stored (it can be
  // edited then).
  await expect(page.locator(".message.user").getByRole("button", { name: "Edit" })).toBeVisible();
  await page.getByRole("button", { name: "Stop" }).click({ timeout: 2_000 }).catch(() => {});
  await expect(page.locator(".message.assistant.streaming")).toHaveCount(0, { timeout: 180_000 });
  await expect(page.getByText("Instructions for this conversation")).toBeVisible();
  const id = page.url().split("/").pop();
  const stored = await (await api.get(url(`/api/conversations/${id}`))).json();
  expect(stored.system_prompt).toContain("precise technical writing");
  expect(stored.messages[0].content).toMatch(/^Summarise the following text in 2 bullet points/);
  await photograph(page, "chat-template");

  // A new conversation starts without a mode again.
  await page.getByRole("link", { name: "New conversation" }).click();
  await expect(technical).toHaveAttribute("aria-pressed", "false");
});

test("a 1,000-conversation history pages as it scrolls, and search finds one", async () => {
  const started = Date.now();
  // Imported one after the other, oldest first: each a question and an answer, one of them
  // with a rare word.
  const HISTORY = 1000;
  for (let i = 0; i < HISTORY; i++) {
    const n = String(i).padStart(4, "0");
    await write("POST", "/api/conversations", {
      title: `History ${n}`,
      messages: [
        { role: "user", content: `Question ${n}: what do you know about ${n === "0737" ? "needle-in-a-haystack" : "trails"}?` },
        { role: "assistant", content: `Answer ${n}: trails are marked with **cairns**.`, model: "small" },
      ],
    });
  }
  measured(`importing ${HISTORY} conversations through the API`, Date.now() - started);

  let t = Date.now();
  await page.goto(url("/chat"));
  const items = page.locator(".conversations li", { hasText: "History" });
  await expect(items.first()).toBeVisible();
  measured("opening the chat page with the history list", Date.now() - t);
  // The newest first, one page of them, not a thousand.
  await expect(items.first()).toContainText("History 0999");
  expect(await items.count()).toBeLessThan(HISTORY);
  await expect(page.getByRole("button", { name: "Load more" })).toBeVisible();

  // Scrolling the list to its end loads the next pages, until none is left; none is skipped.
  t = Date.now();
  const list = page.locator(".conversations");
  const all = list.locator("li a");
  while ((await page.getByRole("button", { name: "Load more" }).count()) > 0) {
    const before = await all.count();
    await list.evaluate((el) => (el.scrollTop = el.scrollHeight));
    await expect(async () => expect(await all.count()).toBeGreaterThan(before)).toPass({ timeout: 10_000 });
  }
  await expect(page.getByRole("button", { name: "Load more" })).toHaveCount(0);
  await expect(items).toHaveCount(HISTORY);
  measured(`scrolling the list through all ${HISTORY} conversations`, Date.now() - t);
  await expect(items.last()).toContainText("History 0000");
  // The conversations of the tests before are older still, at the very end.
  await expect(all.last()).toContainText("Say hello to a hiker.");

  // Search goes through every conversation's messages, not only the ones loaded.
  t = Date.now();
  await page.getByLabel("Search conversations").fill("needle-in-a-haystack");
  await expect(page.locator(".conversations li")).toHaveCount(1);
  measured("searching the history", Date.now() - t);
  await page.locator(".conversations li a").first().click();
  await expect(page.locator(".message.user .bubble")).toContainText("Question 0737");
  await page.getByLabel("Search conversations").fill("");
  await expect(items.first()).toContainText("History 0999");
  await photograph(page, "chat-history");
});

/** Varied Markdown, as long conversations have: paragraphs, lists, code, tables. */
function turn(i: number): { role: string; content: string; model?: string } {
  if (i % 2 === 0) return { role: "user", content: `Question ${i / 2 + 1}: how would you mark trail ${i / 2 + 1}?` };
  const n = (i + 1) / 2;
  const shapes = [
    `Answer ${n}: build a **cairn** every hundred metres.\n\n- flat stones at the base\n- smaller ones on top\n- never on fragile ground`,
    `Answer ${n}: here is a checklist script.\n\n\`\`\`python\ndef spacing(length_m: int) -> int:\n    return max(1, length_m // 100)\n\nprint(spacing(${n * 37}))\n\`\`\``,
    `Answer ${n}:\n\n| marker | where |\n|---|---|\n| cairn | open ground |\n| blaze | forest |\n\nPick by terrain.`,
    `Answer ${n}: ${"Keep them low and visible from the last one. ".repeat(6)}`,
  ];
  return { role: "assistant", content: shapes[n % shapes.length], model: "small" };
}

test("a 500-message conversation opens at its end, scrolls back to its start, and typing stays quick", async () => {
  const COUNT = 500;
  let t = Date.now();
  const created = await write("POST", "/api/conversations", {
    title: "Long trail conversation",
    messages: Array.from({ length: COUNT }, (_, i) => turn(i)),
  });
  measured(`importing a ${COUNT}-message conversation`, Date.now() - t);
  expect(created.messages).toHaveLength(COUNT);

  t = Date.now();
  await page.goto(url(`/chat/${created.id}`));
  const last = page.locator(".message.assistant").last();
  await expect(last).toContainText(`Answer ${COUNT / 2}:`);
  await expect(last).toBeInViewport();
  measured(`opening the ${COUNT}-message conversation until its last answer shows`, Date.now() - t);
  const timing = await page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming;
    return { domContentLoaded: nav.domContentLoadedEventEnd, load: nav.loadEventEnd };
  });
  measured("  of which the app's own load (domContentLoaded)", timing.domContentLoaded);
  // Only the end is in the page; the rest is a button (or a scroll) away.
  const earlier = page.getByRole("button", { name: /^Show earlier messages/ });
  await expect(earlier).toHaveCount(1);
  expect(await page.locator(".message").count()).toBeLessThan(COUNT);

  // Scrolling up to the top shows earlier messages by itself, keeping the reader's place...
  const scroller = page.locator(".messages");
  const shown = await page.locator(".message").count();
  await scroller.evaluate((el) => (el.scrollTop = 0));
  await expect(async () => expect(await page.locator(".message").count()).toBeGreaterThan(shown)).toPass();
  expect(await scroller.evaluate((el) => el.scrollTop)).toBeGreaterThan(0);
  // ...and the button does it from the keyboard, until the very first question.
  t = Date.now();
  while ((await earlier.count()) > 0) {
    await earlier.focus();
    await page.keyboard.press("Enter");
  }
  await expect(page.locator(".message")).toHaveCount(COUNT);
  measured(`showing all ${COUNT} messages`, Date.now() - t);
  const firstQuestion = page.locator(".message.user").first();
  await firstQuestion.scrollIntoViewIfNeeded();
  await expect(firstQuestion).toContainText("Question 1:");
  await expect(firstQuestion).toBeInViewport();

  // Typing does not re-render the conversation: every key lands at once.
  const box = page.getByLabel("Message");
  await box.focus();
  const text = "Thanks! One more question about the trail above the tree line, please.";
  t = Date.now();
  await page.keyboard.type(text);
  const typing = Date.now() - t;
  await expect(box).toHaveValue(text);
  measured(`typing ${text.length} characters with ${COUNT} messages on the page (per key)`, typing / text.length);

  // A thumbs up works on an imported answer too.
  const answer = page.locator(".message.assistant").last();
  await answer.scrollIntoViewIfNeeded();
  await answer.getByRole("button", { name: "Good answer" }).click();
  await expect(answer.getByRole("button", { name: "Good answer" })).toHaveAttribute("aria-pressed", "true");
  await page.keyboard.press("Escape");
  await photograph(page, "chat-long");
});
