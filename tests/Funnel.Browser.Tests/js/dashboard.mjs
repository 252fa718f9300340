// Drives every page of the WebShop's Funnel dashboard in headless Debian Chromium, after journey.mjs produced data:
// checks figures against the shop's own report (/admin), retries a failed send and a failed webhook from the pages,
// checks that anonymous and token-less requests are refused, screenshots each page and runs axe-core on it.
// Prints one JSON line with what it saw.
// Usage: node dashboard.mjs --base URL --admin-key KEY --smtp4dev URL --smtp-gate FILE --webhook-key BASE64
//        --order ORDER_ID --lead EMAIL --out DIR
import { chromium } from 'playwright-core';
import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, arg, i, all) =>
  arg.startsWith('--') ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs, []));
for (const name of ['base', 'admin-key', 'smtp4dev', 'smtp-gate', 'webhook-key', 'order', 'lead', 'out']) {
  if (!args[name]) {
    console.error(`usage: node dashboard.mjs --${name} is missing (see the header of dashboard.mjs)`);
    process.exit(2);
  }
}

const base = args.base;
const admin = `${base}/funnel-admin`;
const out = args.out;
const axeSource = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const failingLead = `failed-send-${Date.now()}@example.com`;
const result = { pages: [], screenshots: [], violations: [], minorViolations: [], figures: {}, refused: {} };
const userDataDir = await mkdtemp(path.join(tmpdir(), 'funnel-chromium-'));
await mkdir(out, { recursive: true });

const check = (condition, message) => {
  if (!condition) throw new Error(message);
};
const poll = async (what, attempt, tries = 120, delay = 500) => {
  for (let i = 0; i < tries; i++) {
    const value = await attempt();
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
  throw new Error(`timed out waiting for ${what}`);
};

let context;
try {
  // bypassCSP: the dashboard's policy allows no script at all, so axe-core could not be injected otherwise.
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    bypassCSP: true,
    viewport: { width: 1280, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const page = context.pages()[0] ?? await context.newPage();
  page.setDefaultTimeout(30000);
  page.setDefaultNavigationTimeout(60000);

  // 1. Refused: an anonymous request, page or action, is sent to sign in (the cookie scheme's challenge).
  for (const [name, init, url] of [
    ['anonymousPage', { method: 'GET' }, `${admin}/`],
    ['anonymousAction', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'key=x' }, `${admin}/email/retry`],
  ]) {
    const response = await fetch(url, { ...init, redirect: 'manual' });
    const location = response.headers.get('location') ?? '';
    result.refused[name] = { status: response.status, location };
    check([302, 401, 403].includes(response.status) && (response.status !== 302 || location.includes('/admin/sign-in')),
      `an anonymous ${init.method} ${url} answered ${response.status} ${location}`);
  }

  // 2. Sign in with the admin key, as an operator does.
  await page.goto(`${base}/admin/sign-in?returnUrl=${encodeURIComponent('/funnel-admin/')}`);
  await page.fill('#key', args['admin-key']);
  await Promise.all([page.waitForURL('**/funnel-admin/'), page.click('button[type=submit]')]);

  // 3. Refused: a signed-in POST without the antiforgery token.
  const cookies = (await context.cookies(base)).map((c) => `${c.name}=${c.value}`).join('; ');
  const forged = await fetch(`${admin}/email/retry`, {
    method: 'POST', redirect: 'manual', body: 'key=anything',
    headers: { cookie: cookies, 'content-type': 'application/x-www-form-urlencoded' },
  });
  result.refused.withoutToken = { status: forged.status };
  check(forged.status === 400, `a POST without the antiforgery token answered ${forged.status}`);

  // 4. Data for the actions: a send that fails (the SMTP gate refuses while its file is missing) and a webhook that fails.
  const shopper = await context.newPage();
  await shopper.goto(`${base}/blog/write-a-best-selling-ebook-in-30-days`);
  await shopper.fill('input[name=email]', failingLead);
  await Promise.all([shopper.waitForURL('**/check-your-inbox'), shopper.click('#optin-form button[type=submit]')]);
  await shopper.close();

  // Signed with the shop's test-mode webhook key, as its payment gateway signs them.
  const deliver = async (overrides) => {
    const webhook = {
      id: `evt_dashboard_${overrides.name}_${Date.now()}`, kind: 'Refunded', order: args.order, occurred_at: new Date().toISOString(),
      payment_id: 'pay_dashboard_test', amount: 100, currency: 'USD', adjustment_id: null, reason: null, ...overrides.fields,
    };
    const body = JSON.stringify(webhook);
    const signature = createHmac('sha256', Buffer.from(args['webhook-key'], 'base64')).update(body).digest('hex');
    const delivered = await fetch(`${base}/funnel/webhooks/test`, {
      method: 'POST', body, headers: { 'content-type': 'application/json', 'Funnel-Test-Signature': signature },
    });
    result.webhookDeliveries = { ...result.webhookDeliveries, [overrides.name]: delivered.status };
    return webhook;
  };
  const webhook = await deliver({ name: 'failed', fields: {} }); // no refund id: applying it throws, so it is stored as failed
  // A refund of a payment the shop has not recorded: parked until that payment arrives.
  const parkedWebhook = await deliver({ name: 'parked', fields: { adjustment_id: 're_dashboard_test' } });

  // Screenshots and axe-core for the page on screen; serious and critical violations fail the run.
  const audit = async (name) => {
    await page.waitForSelector('main h1');
    const file = path.join(out, `${String(result.screenshots.length + 1).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    result.screenshots.push(file);
    result.pages.push(new URL(page.url()).pathname + new URL(page.url()).search);
    await runAxe(name);
  };
  const runAxe = async (name) => {
    await page.addScriptTag({ path: axeSource });
    const { found, passed } = await page.evaluate(async () => {
      const run = await globalThis.axe.run(document, { resultTypes: ['violations'] });
      return {
        found: run.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) })),
        passed: run.passes.length,
      };
    });
    check(passed > 0, `axe-core checked no rule on ${name}`); // it ran, rather than finding nothing
    result.axeRulesPassed = { ...result.axeRulesPassed, [name]: passed };
    for (const v of found) {
      const entry = { page: name, ...v };
      (['serious', 'critical'].includes(v.impact) ? result.violations : result.minorViolations).push(entry);
    }
  };
  const goto = async (pathAndQuery) => {
    const response = await page.goto(`${admin}${pathAndQuery}`);
    check(response?.status() === 200, `${pathAndQuery} answered ${response?.status()}`);
  };
  const leadId = async (email) => {
    await goto(`/leads?email=${encodeURIComponent(email)}`);
    const href = await page.getAttribute(`main a:has-text("${email}")`, 'href').catch(() => null);
    return href?.split('/').pop();
  };

  // 5. Email queue: the failed send appears (state FailedTransient, the page's default), and Retry sends it.
  const failingId = await poll(`the lead ${failingLead}`, () => leadId(failingLead));
  const retryRow = `tr:has(a[href$="/leads/${failingId}"])`;
  await poll('the failed confirmation on /email', async () => {
    await goto('/email');
    return (await page.locator(retryRow).count()) > 0;
  });
  result.failedSendReason = (await page.locator(`${retryRow} td`).nth(6).textContent())?.trim();
  await audit('email-queue');
  await writeFile(args['smtp-gate'], 'open'); // the SMTP server is back
  const [retried] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/email/retry')),
    page.locator(`${retryRow} button:has-text("Retry")`).click(),
  ]);
  result.sendRetry = retried.status();
  check(retried.status() === 303, `retrying the send answered ${retried.status()}`);
  await page.waitForURL('**/funnel-admin/email');
  const arrived = await poll(`the retried email to ${failingLead} in smtp4dev`, async () => {
    const list = await (await fetch(`${args.smtp4dev}/api/messages?pageSize=50`)).json();
    return (list.results ?? []).find((m) => (m.to ?? []).some((to) => to.includes(failingLead)));
  });
  result.retriedEmail = arrived.subject;

  // 6. Webhooks: the failed event is listed with its attempts; Retry applies it again (it fails again: no refund id).
  const webhookRow = `tr:has(td:text-is("${webhook.id}"))`;
  await poll('the failed webhook on /webhooks', async () => {
    await goto('/webhooks');
    return (await page.locator(webhookRow).count()) > 0;
  });
  const parkedRow = `table:has(caption:text-matches("^Parked")) tr:has(td:text-is("${parkedWebhook.id}"))`;
  result.parkedWebhookListed = (await page.locator(parkedRow).count()) === 1;
  check(result.parkedWebhookListed, `the parked webhook ${parkedWebhook.id} is not in the Parked table`);
  const attempts = async () => Number((await page.locator(`${webhookRow} td`).nth(3).textContent()).trim());
  const before = await attempts();
  await audit('webhooks');
  const [webhookRetried] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/webhooks/retry')),
    page.locator(`${webhookRow} button:has-text("Retry")`).click(),
  ]);
  result.webhookRetry = webhookRetried.status();
  check(webhookRetried.status() === 303, `retrying the webhook answered ${webhookRetried.status()}`);
  await page.waitForURL('**/funnel-admin/webhooks');
  result.webhookAttempts = { before, after: await attempts() };
  check(result.webhookAttempts.after > before, `the webhook's attempts stayed ${before} after the retry`);

  // 6b. The parked webhook: "Process now" looks for its payment again. The shop never recorded that payment, so the
  // event stays parked, with one more attempt and the reason, and the page says so in a status line.
  const parkedAttempts = async () => Number((await page.locator(`${parkedRow} td`).nth(3).textContent()).trim());
  const parkedBefore = await parkedAttempts();
  const [parkedProcessed] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/webhooks/process-parked')),
    page.locator(`${parkedRow} button:has-text("Process now")`).click(),
  ]);
  result.parkedWebhookProcess = parkedProcessed.status();
  check(parkedProcessed.status() === 303, `processing the parked webhook answered ${parkedProcessed.status()}`);
  await page.waitForURL('**/funnel-admin/webhooks?outcome=*');
  result.parkedWebhookOutcome = {
    status: (await page.locator('p[role="status"]').textContent()).trim(),
    stillParked: (await page.locator(parkedRow).count()) === 1,
    before: parkedBefore,
    after: await parkedAttempts(),
    error: (await page.locator(`${parkedRow} td`).nth(4).textContent()).trim(),
  };
  check(result.parkedWebhookOutcome.status.startsWith(`Event ${parkedWebhook.id}: still parked`),
    `the status line after Process now reads "${result.parkedWebhookOutcome.status}"`);
  check(result.parkedWebhookOutcome.stillParked, `the parked webhook ${parkedWebhook.id} left the Parked table`);
  check(result.parkedWebhookOutcome.after === parkedBefore + 1,
    `the parked webhook's attempts went from ${parkedBefore} to ${result.parkedWebhookOutcome.after}`);
  await audit('webhooks-parked-outcome');

  // 7. Overview: its figures against the shop's own report of the same log (/admin), read back to back.
  await page.goto(`${base}/admin`);
  const shop = await page.$$eval('[data-testid]', (els) => Object.fromEntries(els.map((e) => [e.dataset.testid, e.textContent.trim()])));
  const shopSteps = await page.$$eval('tr[data-step]', (rows) => rows.map((r) => [r.cells[0].textContent.trim(), r.cells[1].textContent.trim()]));
  await goto('/');
  const kpis = await page.$$eval('.kpi', (els) => Object.fromEntries(els.map((e) => [e.firstChild.textContent.trim(), e.querySelector('b').textContent.trim()])));
  const steps = await page.$$eval('table:has(caption:text-is("Steps of the funnel")) tbody tr',
    (rows) => rows.map((r) => [r.cells[0].textContent.trim(), r.cells[1].textContent.trim()]));
  result.figures = { kpis, steps, shop, shopSteps };
  check(kpis.Orders === shop.orders, `Orders ${kpis.Orders} on the dashboard, ${shop.orders} in the shop's report`);
  check(kpis.Customers === shop.customers, `Customers ${kpis.Customers} on the dashboard, ${shop.customers} in the shop's report`);
  check(kpis['Emails sent'] === shop['emails-sent'], `Emails sent ${kpis['Emails sent']} on the dashboard, ${shop['emails-sent']} in the shop's report`);
  check(JSON.stringify(steps) === JSON.stringify(shopSteps), `steps ${JSON.stringify(steps)} on the dashboard, ${JSON.stringify(shopSteps)} in the shop's report`);
  check(kpis['Entered the funnel'] === shopSteps[0]?.[1], `Entered ${kpis['Entered the funnel']}, first step ${shopSteps[0]?.[1]}`);
  await audit('overview');

  // 8. The other pages, and the journey's lead.
  for (const [name, pathAndQuery] of [
    ['email-failed-permanent', '/email?state=FailedPermanent'], ['email-sent', '/email?state=Sent'],
    ['sequences', '/sequences'], ['broadcasts', '/broadcasts'], ['pipeline', '/pipeline'], ['leads', '/leads'],
  ]) {
    await goto(pathAndQuery);
    await audit(name);
  }

  // Any page the navigation links to that the list above does not name yet (a page added later) is audited too.
  const visited = new Set(result.pages.map((p) => new URL(p, base).pathname.replace(/\/$/, '')));
  const navigation = await page.$$eval('header nav a', (links) => links.map((a) => new URL(a.href).pathname));
  result.navigation = navigation;
  for (const linked of navigation.filter((p) => !visited.has(p.replace(/\/$/, '')))) {
    const response = await page.goto(new URL(linked, base).href);
    check(response?.status() === 200, `${linked} answered ${response?.status()}`);
    await audit(linked.split('/').filter(Boolean).pop());
  }

  const journeyLead = await leadId(args.lead);
  check(journeyLead, `no lead ${args.lead} on /leads`);
  await audit('leads-search');
  await page.click(`main a:has-text("${args.lead}")`);
  await page.waitForURL(`**/funnel-admin/leads/${journeyLead}`);
  result.lead = {
    heading: (await page.textContent('main h1'))?.trim(),
    email: (await page.textContent('dt:text-is("Email") + dd'))?.trim(),
    stage: (await page.textContent('dt:text-is("Stage") + dd'))?.trim(),
    timeline: await page.locator('main table tbody tr').count(),
  };
  check(result.lead.email === args.lead, `the lead page shows ${result.lead.email}`);
  await audit('lead');

  // 9. The shop's own pages through axe-core too, last: their page views change the figures compared above.
  for (const shopPage of ['/blog/write-a-best-selling-ebook-in-30-days', '/sales', '/check-your-inbox', '/admin', '/admin/sign-in']) {
    await page.goto(`${base}${shopPage}`);
    await runAxe(`shop${shopPage}`);
  }

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
