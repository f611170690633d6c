// What every spec shares: the server's address, where screenshots go, the two screen sizes
// pages are photographed at, and signing in.

import { expect, type Page } from "@playwright/test";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";

export const url = (path: string) => `${process.env.CAIRN_E2E_URL}${path}`;
export const shots = resolve(process.env.CAIRN_SCREENSHOTS ?? join(import.meta.dirname, "../../target/screenshots"));
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/**
 * The page at desktop then phone size, as `<name>-desktop.png` and `<name>-phone.png`. Long
 * pages scroll inside the app's main area, so a full-page shot shows no more; they ask for a
 * taller desktop window instead (`desktopHeight`).
 */
export async function photograph(page: Page, name: string, desktopHeight = DESKTOP.height) {
  mkdirSync(shots, { recursive: true });
  await page.setViewportSize({ ...DESKTOP, height: desktopHeight });
  await page.screenshot({ path: join(shots, `${name}-desktop.png`) });
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: join(shots, `${name}-phone.png`) });
  await page.setViewportSize(DESKTOP);
}

export async function signIn(page: Page, email: string, password: string) {
  await page.goto(url("/signin"));
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("navigation", { name: "Main" })).toBeVisible();
}
