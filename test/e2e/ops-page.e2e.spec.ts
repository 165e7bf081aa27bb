/**
 * GET /ops in a real browser (Debian's Chromium through playwright-core): the live page renders
 * from this server alone, follows the server-sent events, and its content — hottest actors, the
 * waiting line — changes under load to what the admin endpoint reports; the screenshots before and
 * after differ. Screenshots are left in $E2E_ARTIFACTS_DIR (default <tmp>/ovation-e2e).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { act, activeUser, createConcert, holdRequest } from '../support/api-client';
import { decodePng, ENSURE_CHROMIUM_TIMEOUT_MS, ensureChromium, launchChromium, type LaunchedChromium } from '../support/chromium';
import { eventually } from '../support/eventually';
import { ADMIN_KEY, startTestApp, type TestApp } from '../support/test-app';

const ARTIFACTS = process.env.E2E_ARTIFACTS_DIR ?? path.join(tmpdir(), 'ovation-e2e');

/** Fraction of pixels that differ between two screenshots of the same size. */
function pixelDifference(a: Buffer, b: Buffer): number {
  const first = decodePng(a);
  const second = decodePng(b);
  expect([second.width, second.height]).toEqual([first.width, first.height]);
  let differing = 0;
  for (let offset = 0; offset < first.pixels.length; offset += 4) {
    if (first.pixels.readUInt32BE(offset) !== second.pixels.readUInt32BE(offset)) differing++;
  }
  return differing / (first.width * first.height);
}

const tableText = (page: Page, id: string) => page.locator(`#${id} tbody`).innerText();

describe('the live ops page at /ops', () => {
  let t: TestApp;
  let browser: LaunchedChromium;
  let origin: string;
  let page: Page;
  const requests: string[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    ensureChromium();
    t = await startTestApp({ RESERVATION_ENGINE: 'actor', QUEUE_MAX_ACTIVE: '40' });
    origin = await t.app.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchChromium();
    browser.context.on('request', (request) => requests.push(request.url()));
    browser.context.on('requestfailed', (request) => {
      // The event stream is cut when the server closes at the end: that one is expected.
      if (!request.url().endsWith('/ops/events')) problems.push(`failed ${request.url()}: ${request.failure()?.errorText}`);
    });
    browser.context.on('response', (response) => {
      // The wrong key of the first test is refused on purpose; anything else failing is a problem.
      if (response.status() >= 400 && response.status() !== 403) problems.push(`${response.url()} → ${response.status()}`);
    });
    page = await browser.context.newPage();
    // A CSP violation is reported as a console error: none may happen.
    page.on('console', (message) => {
      if (message.type() === 'error' && !/status of 403/.test(message.text())) problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
    await page.goto(`${origin}/ops`, { waitUntil: 'load' });
  }, ENSURE_CHROMIUM_TIMEOUT_MS + 60_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('when opened, then it shows no figure until the admin key is given; a wrong key is refused and asked again', async () => {
    await page.locator('#key-input').waitFor({ state: 'visible', timeout: 10_000 });
    expect(await page.locator('#engine').innerText()).toBe('–');
    await page.locator('#key-input').fill('not-the-admin-key');
    await page.locator('#key button').click();
    await page.locator('#status', { hasText: 'the admin key was refused' }).waitFor({ timeout: 10_000 });
    expect(await page.locator('#key-input').isVisible()).toBe(true);
    expect(await page.locator('#engine').innerText()).toBe('–');
  });

  it('when the admin key is given on an idle server, then it shows the engine, the breaker and empty tables, live from the event stream', async () => {
    await page.locator('#key-input').fill(ADMIN_KEY);
    await page.locator('#key button').click();
    await page.locator('#status', { hasText: 'live (server-sent events)' }).waitFor({ timeout: 10_000 });
    expect(await page.title()).toBe('ovation — live operations');
    expect(await page.locator('#engine').innerText()).toBe('actor');
    expect(await page.locator('#breaker').innerText()).toBe('closed');
    expect(await page.locator('#breaker').getAttribute('class')).toContain('ok');
    expect(await tableText(page, 'actors')).toContain('no live actor');
    expect(await tableText(page, 'queue')).toContain('nobody in line');
    expect(requests).toContain(`${origin}/ops/events`);
  });

  it('when load arrives, then the hottest actor and the line appear with the figures the server reports, and the picture changes', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const before = await page.screenshot({ type: 'png' });
    writeFileSync(path.join(ARTIFACTS, 'ops-page-idle.png'), before);

    const concert = await createConcert(t.app, { seatCount: 100, schedules: 2 });
    const [busy] = concert.schedules.map((s) => s.scheduleId) as [string];
    const users = await Promise.all(Array.from({ length: 30 }, () => activeUser(t.app, concert.concertId)));
    // Holds for two seconds, plus refusals on taken seats: real traffic through the actor.
    const until = Date.now() + 2_000;
    let seat = 0;
    while (Date.now() < until) {
      const batch = users.slice(0, 10).map((u, i) => act(t.app, holdRequest(u.token, busy, [((seat + i) % 60) + 1])));
      seat += 10;
      await Promise.all(batch);
    }

    const admin = await act(t.app, { method: 'GET', url: '/v1/admin/actors', headers: { 'x-admin-key': ADMIN_KEY } });
    const reported = admin.body.actors.find((a: { scheduleId: string }) => a.scheduleId === busy);
    await eventually(async () => (await tableText(page, 'actors')).includes(busy), { timeoutMs: 5_000 });
    const row = (await page.locator('#actors tbody tr', { hasText: busy }).innerText()).split('\t').map((c) => c.trim());
    expect(Number(row[1])).toBeGreaterThan(0); // heat
    expect(Number(row[4])).toBe(reported.heldSeats); // held seats: nothing expires or pays meanwhile
    expect(Number(row[3])).toBe(reported.activeHolds);
    const line = await eventually(async () => {
      const text = await tableText(page, 'queue');
      return text.includes(concert.concertId) && text;
    });
    expect(line).toMatch(new RegExp(`${concert.concertId}\\s+0\\s+0\\s+30\\s+30`)); // pre-queue, waiting, active, admitted
    expect(await page.locator('#holds-active').innerText()).toBe(String(reported.activeHolds));

    const after = await page.screenshot({ type: 'png' });
    writeFileSync(path.join(ARTIFACTS, 'ops-page-under-load.png'), after);
    expect(pixelDifference(before, after)).toBeGreaterThan(0.005);
  });

  it('when /ops/state and /ops/events are read directly, then they take the admin key and give the same snapshot, JSON and SSE', async () => {
    for (const path of ['/ops/state', '/ops/events']) {
      const refused = await fetch(`${origin}${path}`);
      expect([path, refused.status, ((await refused.json()) as { code: string }).code]).toEqual([path, 403, 'ADMIN_KEY_INVALID']);
    }
    const headers = { 'x-admin-key': ADMIN_KEY };
    const state = (await (await fetch(`${origin}/ops/state`, { headers })).json()) as Record<string, unknown>;
    expect(state).toEqual(
      expect.objectContaining({ engine: 'actor', breakers: { payment_gateway: 'closed' }, actors: expect.objectContaining({ live: 1 }) }),
    );
    const controller = new AbortController();
    const response = await fetch(`${origin}/ops/events`, { headers, signal: controller.signal });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = response.body!.getReader();
    let text = '';
    while (!text.includes('event: snapshot\ndata: ')) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    const data = text.split('event: snapshot\ndata: ')[1]!.split('\n')[0]!;
    expect(Object.keys(JSON.parse(data)).sort()).toEqual(Object.keys(state).sort());
  });

  it('when the page is served, then a CSP lets only its own script and style run and only this origin be reached', async () => {
    const response = await fetch(`${origin}/ops`);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/script-src 'sha256-[^']+'(;|$)/);
    expect(csp).toMatch(/connect-src 'self'/);
    expect(csp).not.toMatch(/unsafe-inline|https?:/);
    expect(await response.text()).not.toMatch(/(?:src|href)="(https?:)?\/\//);
  });

  it('when opened, then every request went to this server and nothing failed or logged an error', () => {
    expect(requests.filter((url) => new URL(url).origin !== origin)).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('when the server shuts down with the page open, then the stream is ended and close does not wait for it', async () => {
    const started = Date.now();
    await t.close();
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
