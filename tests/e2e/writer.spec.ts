// The article writer end to end with the real small model: start a short article from the
// form, edit its outline at the review (a refused edit shows the server's reason), continue,
// watch the stages finish, read the originality report, edit the text, download it as
// Markdown and HTML, re-run one stage and keep the edit; then put the article into a
// knowledge collection and re-run the originality check, which flags every paragraph with
// the copied excerpt and its source. The form, the review, the finished article and the
// flagged report are photographed at desktop and phone size.

import { expect, test, type Browser, type BrowserContext, type Page } from "@playwright/test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ADMIN_EMAIL, ADMIN_PASSWORD } from "./server";
import { url, DESKTOP, photograph } from "./helpers";

// The model writes on two shared cores: waits are long, and nothing here measures them.
const WRITING = 600_000;

test.describe.configure({ mode: "serial" });

let context: BrowserContext;
let page: Page;
let articleUrl = "";
let exported = "";

// A topic the small model (seeded, so the same each time) outlines as JSON that fits.
const TOPIC = "How to brew green tea";
const HEADING = "Warm water, not boiling";
const ADDED = "A line added by hand after the model was done.";

test.beforeAll(async ({ browser }: { browser: Browser }) => {
  context = await browser.newContext({ viewport: DESKTOP, acceptDownloads: true });
  page = await context.newPage();
  page.on("dialog", (d) => d.accept());
  await page.goto(url("/signin"));
  await page.getByLabel("E-mail").fill(ADMIN_EMAIL);
  await page.getByLabel("Password").fill(ADMIN_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("navigation", { name: "Main" })).toBeVisible();
});

test.afterAll(async () => {
  await context.close();
});

test("writer: the form starts a short article", async () => {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Writer" }).click();
  await expect(page).toHaveURL(/\/writer$/);
  await expect(page.getByRole("heading", { name: "New article" })).toBeVisible();
  // The modes come from the server, the review is on unless turned off.
  await expect(page.getByRole("combobox", { name: "Mode", exact: true }).locator("option")).toHaveText(["blog", "technical", "academic", "social"]);
  await expect(page.getByText("Blog / SEO writing mode")).toBeVisible();
  await expect(page.getByLabel("Let me review the outline")).toBeChecked();
  await expect(page.getByRole("combobox", { name: "Model", exact: true })).toHaveValue("small");

  // From the keyboard: the fields in reading order, the form sent with Enter.
  await page.getByLabel("Topic").focus();
  await page.keyboard.type(TOPIC);
  for (const [role, name] of [
    ["combobox", "Mode"],
    ["combobox", "Model"],
    ["spinbutton", "Sections"],
    ["spinbutton", "Words per section"],
    ["checkbox", "Let me review the outline before the sections are written"],
    ["checkbox", "Write as a team: a researcher gathers notes, an editor reviews each section"],
  ] as const) {
    await page.keyboard.press("Tab");
    await expect(page.getByRole(role, { name, exact: true })).toBeFocused();
  }
  await page.getByRole("combobox", { name: "Mode", exact: true }).selectOption("blog");
  await page.getByLabel("Sections", { exact: true }).fill("2");
  await page.getByLabel("Words per section").fill("30");
  await photograph(page, "writer-form");
  await page.getByLabel("Words per section").press("Enter");

  await expect(page).toHaveURL(/\/writer\/[0-9a-f]+$/);
  articleUrl = page.url();
  // The new article's heading takes the focus; its stages show up as they start.
  await expect(page.getByRole("heading", { level: 2, name: TOPIC })).toBeFocused();
  await expect(page.locator('.stage[data-stage="keywords"]')).toBeVisible();
  await expect(page.locator(".article-list li", { hasText: TOPIC })).toBeVisible();
});

test("writer: the outline is edited at the review, then the writing continues", async () => {
  test.setTimeout(WRITING);
  const review = page.getByRole("form", { name: "Review the outline" });
  await expect(review).toBeVisible({ timeout: WRITING });
  await expect(page.locator(".status-line")).toHaveText("Waiting for your review of the outline.");
  await expect(page.locator('.stage[data-stage="outline"]')).toHaveAttribute("data-status", "succeeded");
  await expect(page.locator('.stage[data-stage="approved_outline"]')).toHaveAttribute("data-status", "waiting");

  // Two sections: the model may propose more (the count it is given is a hint).
  const headings = review.getByLabel(/^Heading of section/);
  while ((await headings.count()) > 2) {
    await review.getByRole("button", { name: `Remove section ${await headings.count()}` }).click();
  }
  // Add a section and take it out again; move the second up; rename the first.
  await review.getByRole("button", { name: "Add a section" }).click();
  await expect(headings).toHaveCount(3);
  await expect(review.getByLabel("Heading of section 3")).toBeFocused();
  await review.getByRole("button", { name: "Remove section 3" }).click();
  await expect(headings).toHaveCount(2);
  const second = await review.getByLabel("Heading of section 2").inputValue();
  await review.getByRole("button", { name: "Move section 2 up" }).click();
  await expect(review.getByLabel("Heading of section 1")).toHaveValue(second);
  await expect(review.getByRole("button", { name: "Move section 1 down" })).toBeFocused();

  // A heading of blanks passes the browser but not the server: its reason is shown.
  await review.getByLabel("Heading of section 1").fill("   ");
  await review.getByRole("button", { name: "Continue" }).click();
  await expect(page.getByRole("alert")).toContainText("heading must be a non-empty string");

  await review.getByLabel("Heading of section 1").fill(HEADING);
  await review.getByLabel("Key points of section 1 (one a line)").fill("Water at about 80 degrees\nSteep for two minutes");
  await page.locator(".main").evaluate((main) => main.scrollTo(0, 0));
  await photograph(page, "writer-review");
  await review.getByRole("button", { name: "Continue" }).click();
  await expect(review).toHaveCount(0);
  await expect(page.locator('.stage[data-stage="approved_outline"]')).toHaveAttribute("data-status", "succeeded");
});

test("writer: the stages finish, the article and its originality report are shown", async () => {
  test.setTimeout(WRITING);
  await expect(page.locator(".status-line")).toHaveText("Finished.", { timeout: WRITING });
  // Every stage ran or was skipped (no collections: no research), each with a Re-run button.
  const stages = page.locator(".stage");
  for (const status of await stages.evaluateAll((els) => els.map((e) => e.getAttribute("data-status")))) {
    expect(["succeeded", "skipped"]).toContain(status);
  }
  await expect(page.locator('.stage[data-stage="drafts"] .stage-meta')).toContainText("2/2 sections");
  await expect(page.getByRole("button", { name: "Re-run Meta description" })).toBeVisible();

  const body = page.locator(".article-body");
  await expect(body.getByRole("heading", { level: 2, name: HEADING })).toBeVisible();
  const report = page.getByRole("region", { name: "Originality" });
  await expect(report.locator(".verdict")).not.toBeEmpty();
  await expect(report.locator(".originality-sections > li")).toHaveCount(2);
  await expect(report.locator(".originality-sections h4").first()).toHaveText(HEADING);
  await expect(page.locator(".article-list li", { hasText: "finished" }).first()).toBeVisible();
  await photograph(page, "writer-article");
});

test("writer: the text is edited, downloaded as Markdown and HTML, and kept by a re-run", async () => {
  test.setTimeout(WRITING);
  await page.getByRole("button", { name: "Edit", exact: true }).click();
  const source = page.getByLabel("Markdown", { exact: true });
  await expect(source).toBeFocused();
  const text = await source.inputValue();
  await source.fill(`${text.trimEnd()}\n\n${ADDED}\n`);
  await expect(page.getByRole("region", { name: "Preview" })).toContainText(ADDED);
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.locator(".article-body")).toContainText(ADDED);
  await expect(page.getByText(/edited by you/)).toBeVisible();

  const markdown = await download(page, "Download Markdown");
  expect(markdown.name).toMatch(/\.md$/);
  expect(markdown.text).toContain(`## ${HEADING}`);
  expect(markdown.text).toContain(ADDED);
  exported = markdown.text;
  const html = await download(page, "Download HTML");
  expect(html.name).toMatch(/\.html$/);
  expect(html.text).toContain(`<h2>${HEADING}</h2>`);
  expect(html.text).toContain(`<p>${ADDED}</p>`);

  // A new meta description leaves the text alone: the edit stays.
  const status = page.locator(".status-line");
  await page.getByRole("button", { name: "Re-run Meta description" }).click();
  await expect(status).not.toHaveText("Finished.");
  await expect(status).toHaveText("Finished.", { timeout: WRITING });
  await expect(page.locator('.stage[data-stage="meta"]')).toHaveAttribute("data-status", "succeeded");
  await expect(page.locator(".article-body")).toContainText(ADDED);

  // It is all still there after a reload.
  await page.goto(articleUrl);
  await expect(page.locator(".article-body")).toContainText(ADDED);
  await expect(page.getByRole("region", { name: "Originality" })).toBeVisible();
});

test("writer: a paragraph found in a knowledge collection is flagged with its source", async () => {
  test.setTimeout(WRITING);
  await page.goto(url("/knowledge"));
  await page.getByLabel("New collection").fill("Tea notes");
  await page.getByRole("button", { name: "Create" }).click();
  await expect(page.getByRole("heading", { name: "Tea notes" })).toBeVisible();
  await page.getByLabel("Upload documents").setInputFiles({
    name: "tea-copy.md",
    mimeType: "text/markdown",
    buffer: Buffer.from(exported),
  });
  await expect(page.locator("tr", { hasText: "tea-copy.md" }).locator(".badge")).toHaveText("indexed", { timeout: WRITING });

  await page.goto(articleUrl);
  const report = page.getByRole("region", { name: "Originality" });
  await expect(report.locator(".verdict")).toHaveText("No paragraph resembles existing text.");
  await page.getByRole("button", { name: "Re-run Originality check" }).click();
  await expect(report.locator(".verdict")).toHaveText(/^\d+ paragraphs? resembles? existing text\.$/, { timeout: WRITING });
  const flagged = report.locator(".originality-sections > li.flagged");
  await expect(flagged.first().locator(".badge")).toHaveText("resembles a source");
  await expect(flagged.first()).toContainText("Copied wording");
  await expect(flagged.first()).toContainText("the document tea-copy.md");
  const excerpt = (await flagged.first().locator(".excerpt mark").first().textContent()) ?? "";
  // The excerpt is the copied stretch of the source (maybe shortened): words of the article.
  const words = (text: string) => (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).join(" ");
  expect(words(excerpt).split(" ").length).toBeGreaterThan(4);
  expect(words(exported)).toContain(words(excerpt.replace(/…$/, "")));
  // The article itself is untouched, the user's edit included.
  await expect(page.locator(".article-body")).toContainText(ADDED);
  await report.scrollIntoViewIfNeeded();
  await photograph(page, "writer-originality");
});

async function download(p: Page, button: string): Promise<{ name: string; text: string }> {
  const [file] = await Promise.all([p.waitForEvent("download"), p.getByRole("link", { name: button }).click()]);
  return { name: file.suggestedFilename(), text: readFileSync(await file.path(), "utf8") };
}
