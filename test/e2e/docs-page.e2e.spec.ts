/**
 * GET /docs in a real browser: the API reference renders every operation from the server alone,
 * with no request to any other origin (no CDN, font or validator badge) and no console error.
 * Chromium is Debian's (installed by scripts/ensure-tools.sh when missing); the screenshot is left
 * in $E2E_ARTIFACTS_DIR (default: <tmp>/ovation-e2e) to look at.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page, Request } from 'playwright-core';
import { decodePng, ENSURE_CHROMIUM_TIMEOUT_MS, ensureChromium, launchChromium, type LaunchedChromium } from '../support/chromium';
import { startTestApp, type TestApp } from '../support/test-app';

const ARTIFACTS = process.env.E2E_ARTIFACTS_DIR ?? path.join(tmpdir(), 'ovation-e2e');

interface Visit {
  page: Page;
  requests: string[];
  failedRequests: string[];
  errorResponses: string[];
  consoleErrors: string[];
}

describe('the API reference at /docs', () => {
  let t: TestApp;
  let browser: LaunchedChromium;
  let origin: string;
  let visit: Visit;

  beforeAll(async () => {
    ensureChromium();
    t = await startTestApp();
    origin = await t.app.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchChromium();
    visit = await open(`${origin}/docs`);
  }, ENSURE_CHROMIUM_TIMEOUT_MS + 60_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  async function open(url: string): Promise<Visit> {
    const page = await browser.context.newPage();
    const seen: Visit = { page, requests: [], failedRequests: [], errorResponses: [], consoleErrors: [] };
    const shown = (request: Request) => `${request.method()} ${request.url()}`;
    // On the context, not the page: requests of any frame, worker or popup count too.
    browser.context.on('request', (request) => seen.requests.push(request.url()));
    browser.context.on('requestfailed', (request) => seen.failedRequests.push(`${shown(request)}: ${request.failure()?.errorText}`));
    browser.context.on('response', (response) => {
      if (response.status() >= 400) seen.errorResponses.push(`${shown(response.request())} → ${response.status()}`);
    });
    page.on('console', (message) => {
      if (message.type() === 'error') seen.consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => seen.consoleErrors.push(`uncaught: ${error.message}`));
    await page.goto(url, { waitUntil: 'load' });
    // Swagger UI fetches the document and renders one block per operation.
    await page.locator('.opblock').first().waitFor({ state: 'visible', timeout: 15_000 });
    await page.waitForLoadState('networkidle');
    return seen;
  }

  it('when opened, then it lists the operations of the OpenAPI document', async () => {
    const { page } = visit;
    expect(await page.title()).toBe('ovation API reference');
    await expect(page.locator('.info .title').innerText()).resolves.toContain('ovation');

    const operations = await page.$$eval('.opblock', (blocks) =>
      blocks.map((block) => {
        const method = block.querySelector('.opblock-summary-method')?.textContent ?? '';
        const pathElement = block.querySelector('.opblock-summary-path');
        // Swagger UI breaks paths with zero-width spaces; data-path holds the path as written.
        const pathText = pathElement?.getAttribute('data-path') ?? pathElement?.textContent ?? '';
        return `${method.trim()} ${pathText.replace(/\u200b/g, '').trim()}`;
      }),
    );
    expect(operations).toEqual(
      expect.arrayContaining([
        'POST /v1/reservations',
        'POST /v1/payments',
        'POST /v1/users/{userId}/balance/charges',
        'GET /v1/concerts',
        'GET /health/ready',
      ]),
    );
    // The document's own routes and the UI's are not operations of the API.
    expect(operations.filter((operation) => /\/(docs|openapi\.(json|yaml))\b/.test(operation))).toEqual([]);
    expect(operations.length).toBeGreaterThanOrEqual(16);

    const text = await page.locator('#swagger-ui').innerText();
    expect(text.replace(/\u200b/g, '')).toEqual(expect.stringContaining('/v1/users/{userId}/balance/charges'));
  });

  it('when opened, then every request goes to this server and nothing fails or logs an error', async () => {
    expect(visit.requests.length).toBeGreaterThan(3); // the page, its scripts and styles, the document
    const elsewhere = visit.requests.filter((url) => !url.startsWith('data:') && new URL(url).origin !== origin);
    expect(elsewhere).toEqual([]);
    expect(visit.requests).toEqual(expect.arrayContaining([`${origin}/docs`, `${origin}/docs/json`]));
    expect(visit.failedRequests).toEqual([]);
    expect(visit.errorResponses).toEqual([]);
    expect(visit.consoleErrors).toEqual([]);
  });

  it('when served, then the page names no other origin and the browser is told to load none', async () => {
    const page = await fetch(`${origin}/docs`);
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).not.toMatch(/https?:/);
    const html = await page.text();
    const links = html.match(/(?:src|href)="[^"]*"/g) ?? [];
    expect(links.length).toBeGreaterThan(3);
    expect(links.filter((link) => /="(https?:)?\/\//.test(link))).toEqual([]);

    const initializer = await (await fetch(`${origin}/docs/static/swagger-initializer.js`)).text();
    expect(initializer).toMatch(/validatorUrl: null/); // no badge from validator.swagger.io
    const css = await (await fetch(`${origin}/docs/static/swagger-ui.css`)).text();
    expect(css).not.toMatch(/@import|@font-face/);

    const openapi = (await (await fetch(`${origin}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(openapi.paths).filter((url) => url.startsWith('/docs'))).toEqual([]);
  });

  it('when screenshotted, then the picture shows a rendered page, not a blank one', async () => {
    const png = await visit.page.screenshot({ type: 'png' });
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(path.join(ARTIFACTS, 'docs-page.png'), png);

    expect(png.length).toBeGreaterThan(20 * 1024);
    const { width, height, pixels } = decodePng(png);
    expect([width, height]).toEqual([1280, 900]);
    const colors = new Set<number>();
    let unlikeTopLeft = 0;
    const topLeft = pixels.readUInt32BE(0);
    for (let offset = 0; offset < pixels.length; offset += 4) {
      const color = pixels.readUInt32BE(offset);
      colors.add(color);
      if (color !== topLeft) unlikeTopLeft++;
    }
    expect(colors.size).toBeGreaterThan(100); // text, method badges, borders: not one flat colour
    expect(unlikeTopLeft / (width * height)).toBeGreaterThan(0.05);
  });
});
