/**
 * The Temporal UI check: headless Chromium (Debian's) lists orders by `OrderStatus`, opens a compensated order and
 * saves screenshots of the list, its timeline, its event history and its details, checking the story is there.
 */
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';

/** Flags that keep Chromium quiet and working as root in a container. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Waits until `text` shows in the page or any of its frames (the UI renders summaries and details in iframes). */
export async function waitForTextInFrames(page: Page, text: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const frame of page.frames()) {
      const body =
        (await frame
          .locator('body')
          .textContent({ timeout: 1_000 })
          .catch(() => null)) ?? '';
      if (body.replace(/\s+/g, ' ').includes(text)) return;
    }
    if (Date.now() > deadline) throw new Error(`"${text}" did not show within ${timeoutMs} ms`);
    await page.waitForTimeout(250);
  }
}

/** What the UI check opens and what it must find there. */
export interface UiCheckOptions {
  uiUrl: string;
  namespace: string;
  /** The status to filter by and how many orders the list must show. */
  status: string;
  expectedCount: number;
  /** A compensated order in that list, and texts its timeline must show (step summaries). */
  workflowId: string;
  expectedTexts: readonly string[];
  /** Texts the User Metadata tab must show (the workflow's summary and current details). */
  detailsTexts: readonly string[];
  /** Texts the Search Attributes tab must show (the attributes operators filter by). */
  searchAttributes: readonly string[];
  screenshotDir: string;
  chromiumPath?: string;
}

/** Runs the check; returns the screenshots written, throws on anything missing. */
export async function checkTemporalUi(options: UiCheckOptions): Promise<string[]> {
  const browser = await chromium.launch({
    executablePath: options.chromiumPath ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
  });
  const page = await browser.newPage({ viewport: { width: 1600, height: 1200 } });
  page.setDefaultTimeout(30_000);
  const shots: string[] = [];
  const shoot = async (name: string) => {
    const file = path.join(options.screenshotDir, name);
    await page.screenshot({ path: file });
    shots.push(file);
  };
  try {
    const query = encodeURIComponent(`OrderStatus="${options.status}"`);
    await page.goto(`${options.uiUrl}/namespaces/${options.namespace}/workflows?query=${query}`);
    const row = page.locator(`a:has-text("${options.workflowId}")`).first();
    await row.waitFor();
    const heading = `${options.expectedCount} Workflows`;
    await page.getByText(heading, { exact: true }).first().waitFor();
    await shoot(`temporal-ui-orders-${options.status.toLowerCase()}.png`);

    await row.click();
    for (const text of options.expectedTexts) await page.getByText(text).first().waitFor();
    await page.waitForTimeout(500);
    await shoot('temporal-ui-compensated-order-timeline.png');

    await page.getByText('Event History').first().click();
    await page.getByText('Compact').first().click();
    await page.getByText('Activity Type').first().waitFor();
    await page.waitForTimeout(500);
    await shoot('temporal-ui-compensated-order-history.png');

    // The workflow's summary and current details (what it waits on; "done" once it ended).
    await page.getByText('User Metadata').first().click();
    for (const text of options.detailsTexts) await waitForTextInFrames(page, text);
    await shoot('temporal-ui-compensated-order-details.png');

    await page.getByText('Search Attributes').first().click();
    for (const text of options.searchAttributes) await page.getByText(text).first().waitFor();
    return shots;
  } catch (err) {
    await shoot('temporal-ui-failure.png').catch(() => undefined);
    throw new Error(`Temporal UI check failed at ${page.url()}: ${(err as Error).message.split('\n')[0]}`);
  } finally {
    await browser.close();
  }
}
