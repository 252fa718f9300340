// Walks one visitor through the WebShop in headless Debian Chromium and prints one JSON line with what it saw.
// Usage: node journey.mjs --base http://127.0.0.1:PORT --smtp4dev http://127.0.0.1:PORT --out <screenshot dir> --scenario accept|decline
import { chromium } from 'playwright-core';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, arg, i, all) =>
  arg.startsWith('--') ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs, []));
const base = args.base;
const out = args.out;
const scenario = args.scenario;
const smtp4dev = args.smtp4dev;
if (!base || !out || !smtp4dev || !['accept', 'decline'].includes(scenario)) {
  console.error('usage: node journey.mjs --base URL --smtp4dev URL --out DIR --scenario accept|decline');
  process.exit(2);
}

const userDataDir = await mkdtemp(path.join(tmpdir(), 'funnel-chromium-'));
await mkdir(out, { recursive: true });
const result = { scenario, pages: [], screenshots: [], emails: [] };

// Waits until smtp4dev holds an email with this subject and returns its HTML body and raw source.
const readEmail = async (subject) => {
  for (let attempt = 0; attempt < 60; attempt++) {
    const list = await (await fetch(`${smtp4dev}/api/messages?pageSize=50`)).json();
    const found = (list.results ?? []).find((m) => m.subject === subject);
    if (found) {
      const html = await (await fetch(`${smtp4dev}/api/messages/${found.id}/html`)).text();
      const raw = await (await fetch(`${smtp4dev}/api/messages/${found.id}/raw`)).text();
      result.emails.push(subject);
      return { html, raw };
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`no email "${subject}" in smtp4dev`);
};
let context;
try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1100, height: 800 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const page = context.pages()[0] ?? await context.newPage();
  page.setDefaultTimeout(15000);
  let step = 0;
  const shot = async (name) => {
    step += 1;
    const file = path.join(out, `${scenario}-${String(step).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    result.screenshots.push(file);
    result.pages.push(new URL(page.url()).pathname);
  };
  // Loads a page and waits until its page-view beacon was answered, so the admin report counts it.
  const visit = async (action) => {
    const tracked = page.waitForResponse((r) => r.url().endsWith('/funnel/page-view'));
    tracked.catch(() => {}); // If the action fails, its error is the one to report.
    await action();
    const response = await tracked;
    if (response.status() !== 204) throw new Error(`page-view answered ${response.status()} on ${page.url()}`);
  };

  // 1. Blog post from a newsletter link, then the lead-magnet opt-in.
  await visit(() => page.goto(`${base}/blog/write-a-best-selling-ebook-in-30-days?utm_source=newsletter&utm_medium=email&utm_campaign=spring-launch`));
  await shot('blog-post');
  await page.fill('input[name=email]', `reader-${scenario}@example.com`);
  await visit(() => Promise.all([page.waitForURL('**/check-your-inbox'), page.click('#optin-form button[type=submit]')]));
  await shot('check-your-inbox');

  // 2. The confirmation email, read from smtp4dev and opened in the browser; its link confirms and leads to the sales page.
  const confirmation = await readEmail('Confirm your address to get The E-Book Quick-Start Guide');
  await page.setContent(confirmation.html);
  await shot('email-confirmation');
  await visit(() => Promise.all([page.waitForURL('**/sales'), page.click('a')]));
  await shot('confirmed-sales-page');

  // 3. The guide email that the nurture sequence sends after the confirmation; its tracked link leads to the sales page.
  const guide = await readEmail('Your E-Book Quick-Start Guide');
  result.listUnsubscribe = (guide.raw.match(/List-Unsubscribe:\s*<([^>]+)>/) ?? [])[1];
  await page.setContent(guide.html);
  await shot('email-guide');
  result.guideLink = await page.getAttribute('a:has-text("The E-Book Masterclass")', 'href');
  await visit(() => Promise.all([page.waitForURL('**/sales'), page.click('a:has-text("The E-Book Masterclass")')]));
  result.deadline = (await page.textContent('#deadline'))?.replace(/\s+/g, ' ').trim();
  result.countdown = await page.textContent('#countdown');
  result.tiers = await page.$$eval('.tier h2', (hs) => hs.map((h) => h.textContent));
  await shot('sales-page');

  // 4. Checkout with the order bump and the test card.
  await visit(() => Promise.all([page.waitForURL('**/checkout?**'), page.click('#buy-basic')]));
  await page.check('#bump');
  await page.fill('#card', '4242 4242 4242 4242');
  await shot('checkout');
  await visit(() => Promise.all([page.waitForURL('**/upsell?**'), page.click('#pay')]));
  result.upsell = await page.textContent('h2[data-offer]');
  await shot('upsell');

  // 5. The one-click upsell: accept it, or decline it and take the downsell.
  if (scenario === 'accept') {
    await visit(() => Promise.all([page.waitForURL('**/thank-you?**'), page.click('#accept')]));
  } else {
    await visit(() => Promise.all([page.waitForURL('**/upsell?**offer=**'), page.click('#decline')]));
    result.downsell = await page.textContent('h2[data-offer]');
    await shot('downsell');
    await visit(() => Promise.all([page.waitForURL('**/thank-you?**'), page.click('#accept')]));
  }
  result.order = new URL(page.url()).searchParams.get('order');
  result.paid = await page.textContent('#paid');
  result.receipt = await page.$$eval('tr[data-offer]', (rows) => rows.map((r) => r.dataset.offer));
  await shot('thank-you');

  // 6. The admin report, once the gateway's webhooks have reached the shop's endpoint (delivered every second) and the
  // dispatcher has sent the welcome that the purchase starts (the third email).
  // Up to 30 s like the email polling above: a busy CI machine may be slower than the one-second relay and dispatcher.
  const settled = async () => (await page.textContent('[data-testid="webhooks-processed"]'))?.trim() === '2'
    && (await page.textContent('[data-testid="emails-sent"]'))?.trim() === '3';
  for (let attempt = 0; attempt < 60; attempt++) {
    await page.goto(`${base}/admin`);
    if (await settled()) break;
    await page.waitForTimeout(500);
  }
  result.admin = await page.$$eval('[data-testid]', (els) => Object.fromEntries(els.map((e) => [e.dataset.testid, e.textContent.trim()])));
  result.chartBars = await page.$$eval('#funnel-chart rect', (rects) => rects.length);
  await shot('admin');
  result.ok = true;
} catch (error) {
  result.ok = false;
  result.error = String(error?.stack ?? error);
} finally {
  await context?.close().catch(() => {});
  await rm(userDataDir, { recursive: true, force: true }).catch(() => {});
}
console.log(JSON.stringify(result));
process.exit(result.ok ? 0 : 1);
