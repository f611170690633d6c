// The admin dashboard end to end: a request made through the API shows up in the charts
// and the recent requests; the local provider is healthy; an invitation signs someone up,
// whose tier the admin changes and whom the admin disables.

import { expect, test } from "@playwright/test";
import { ADMIN_EMAIL, ADMIN_PASSWORD } from "./server";
import { url, photograph, signIn } from "./helpers";

test("admin dashboard: the request just made, provider health, users and tiers", async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.on("dialog", (d) => d.accept());
  await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);

  // A streamed call through the OpenAI API with a new key.
  await page.goto(url("/keys"));
  await page.getByLabel("Name").fill("dashboard e2e");
  await page.getByRole("button", { name: "Create key" }).click();
  const secret = (await page.getByTestId("new-key").textContent())!.trim();
  const call = await fetch(url("/v1/chat/completions"), {
    method: "POST",
    headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
    body: JSON.stringify({
      model: "small",
      stream: true,
      max_tokens: 8,
      messages: [{ role: "user", content: "Say hello to the dashboard." }],
    }),
  });
  expect(call.status).toBe(200);
  expect(await call.text()).toContain("[DONE]");

  await page.getByRole("link", { name: "Admin" }).click();
  await expect(page).toHaveURL(/\/admin$/);
  await expect(page.getByRole("heading", { name: "Admin", level: 1 })).toBeVisible();

  // The newest request is the one just made.
  const newest = page.locator("table.requests tbody tr").first();
  await expect(newest).toContainText(ADMIN_EMAIL);
  await expect(newest).toContainText("small");
  await expect(newest).toContainText("/v1/chat/completions");
  await expect(newest).toContainText("stream");
  await expect(newest.locator(".badge")).toHaveText("200");

  // Headline numbers and one chart per measure, with a line for the model.
  const kpis = page.getByRole("list", { name: "This window" }).or(page.locator("dl.kpis"));
  await expect(kpis.locator(".kpi", { hasText: "Requests" }).locator("dd")).not.toHaveText("0");
  await expect(page.locator("figure.chart")).toHaveCount(8);
  const requestsChart = page.locator("figure.chart", { hasText: "Requests" }).first();
  await expect(requestsChart.locator("svg")).toHaveAttribute("aria-label", /small: latest/);
  await expect(page.locator("figure.chart", { hasText: "Time to first token p50" }).locator("svg")).toHaveAttribute(
    "aria-label",
    /small: latest \d/,
  );
  await expect(page.locator("table", { hasText: "By model" })).toContainText("small");

  // Split by user: the admin's e-mail names the line.
  await page.getByLabel("Split").selectOption("user");
  await expect(page.locator("table", { hasText: "By user" })).toContainText(ADMIN_EMAIL);

  // The local provider and its models are healthy.
  const local = page.getByRole("listitem", { name: "Provider local" });
  await expect(local.locator(".badge").first()).toHaveText("ok");
  await expect(local).toContainText("smollm2-135m");
  await expect(local).toContainText("all-minilm-l6-v2");
  await photograph(page, "admin", 2400);

  // An invitation on the pro tier signs someone up.
  await page.getByLabel("E-mail (optional: only this address may use it)").fill("invited@example.test");
  await page.getByLabel("Invitation tier").selectOption("pro");
  await page.getByRole("button", { name: "Create invitation" }).click();
  const link = (await page.getByTestId("invitation-link").textContent())!.trim();
  const guest = await browser.newContext();
  const guestPage = await guest.newPage();
  await guestPage.goto(link);
  await guestPage.getByLabel("E-mail").fill("invited@example.test");
  await guestPage.getByLabel("Password").fill("invited passphrase");
  await guestPage.getByRole("button", { name: "Sign up" }).click();
  await expect(guestPage.getByRole("navigation", { name: "Main" })).toBeVisible();
  // Members have no admin page.
  await expect(guestPage.getByRole("link", { name: "Admin" })).toHaveCount(0);

  await page.reload();
  const row = page.locator('tr[data-email="invited@example.test"]');
  await expect(row.getByRole("combobox")).toHaveValue("pro");
  await row.getByRole("combobox").selectOption("free");
  await row.getByRole("button", { name: "Disable invited@example.test" }).click();
  await expect(row.locator(".badge")).toHaveText("disabled");
  await page.reload();
  await expect(row.getByRole("combobox")).toHaveValue("free");
  await expect(row.locator(".badge")).toHaveText("disabled");

  // A disabled user's session ends.
  await guestPage.reload();
  await expect(guestPage.getByRole("heading", { name: "Sign in to Cairn" })).toBeVisible();
  await guest.close();
  await context.close();
});
