/**
 * Headless Chromium (Debian's) for the Temporal UI checks: launch it, open a page, see which expected things the page
 * shows, and keep a screenshot of every page a check looked at, pass or fail.
 */
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import { CHROMIUM_BINARY } from './debian-tools.js';

/** Flags that keep Chromium quiet and working as root in a container. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** How long a page gets to show what a check expects (the UI fetches, decodes and renders in steps). */
const SHOW_TIMEOUT_MS = 30_000;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_BINARY, args: CHROMIUM_ARGS });
}

/**
 * Opens `url` in a fresh page (its own browser context), runs `check` on it, and saves a screenshot to
 * `screenshot` afterwards whether the check passed or not: the picture of a failing page is the evidence.
 */
export async function onPage<T>(
  browser: Browser,
  url: string,
  screenshot: string,
  check: (page: Page) => Promise<T>,
  prepare?: (page: Page) => Promise<unknown>,
): Promise<T> {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1300 } });
  page.setDefaultTimeout(SHOW_TIMEOUT_MS);
  try {
    await prepare?.(page);
    await page.goto(url);
    return await check(page);
  } finally {
    await page.waitForTimeout(500); // let the last render settle for the picture
    await page.screenshot({ path: screenshot, fullPage: true }).catch(() => undefined);
    await page.context().close();
  }
}

/** The names of `locators` that did not become visible within the time (shared by all); empty when all did. */
export async function notShown(
  locators: Record<string, Locator>,
  timeoutMs = SHOW_TIMEOUT_MS,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  const missing: string[] = [];
  for (const [name, locator] of Object.entries(locators)) {
    const timeout = Math.max(1_000, deadline - Date.now());
    const shown = await locator
      .first()
      .waitFor({ timeout })
      .then(
        () => true,
        () => false,
      );
    if (!shown) missing.push(name);
  }
  return missing;
}

/** The visible text of the page and all its frames (the UI renders summaries and details in iframes). */
export async function pageText(page: Page): Promise<string> {
  const texts = await Promise.all(
    page.frames().map((frame) =>
      frame
        .locator('body')
        .textContent({ timeout: 1_000 })
        .catch(() => null),
    ),
  );
  return texts.map((text) => (text ?? '').replace(/\s+/g, ' ')).join('\n');
}

/** The `texts` that did not show in the page or its frames within the time; empty when all did. */
export async function notShownInFrames(
  page: Page,
  texts: readonly string[],
  timeoutMs = SHOW_TIMEOUT_MS,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await pageText(page);
    const missing = texts.filter((t) => !text.includes(t));
    if (missing.length === 0 || Date.now() > deadline) return missing;
    await page.waitForTimeout(250);
  }
}
