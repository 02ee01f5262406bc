import type { SettingsHistoryResponse, StoreSettingsBody, StoreSettingsPutInput } from '@eta/contracts';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_ARGS, requireChromium } from './chromium.ts';
import {
  createPostgresSchema,
  devToken,
  seedStores,
  startService,
  type PostgresSchema,
  type Service,
} from './e2e-stack.ts';

/**
 * THE END-TO-END TEST of the admin web: the freshly built app in Debian's Chromium against the REAL suite,
 * each service its own process on a free port of 127.0.0.1: Geo, the ML proxy, and vendor-bff with
 * ROLE=admin serving both the admin API and the built app, on real Postgres (a schema of this file's own)
 * seeded by vendor-bff's seed CLI, with tokens from its dev-token CLI (AUTH_DEV_KEYS=true).
 *
 * Story: an owner (session A, desktop) signs in, picks a store, raises the manual preparation time and sees
 * the preview move by exactly that much at every hour. An operator (session B, an isolated phone-sized
 * context) then changes the delivery time. The owner, without reloading, sets a maximum and saves on the
 * stale version: the conflict view shows both sides, "Apply mine" saves on top of the operator's edit, and
 * the API then holds both edits and a history of the three changes by the right people.
 *
 * Screenshots: services/admin-web/test-results/e2e-*.png (gitignored). Needs DATABASE_URL
 * (`eval "$(scripts/backing-services.sh up)"`) and Chromium (scripts/install-browser.sh).
 */

const APP_DIR = resolve(import.meta.dirname, '..');
const RESULTS = join(APP_DIR, 'test-results');

/** Store 2 of the owner's two, so the owner really picks it (store 1 opens first). */
const STORE = 2;
const OWNER = 'e2e-owner@example.com';
const OPERATOR = 'e2e-operator@example.com';
const SETUP = 'e2e-setup@example.com';

/** Manual times, no clamps, no busy mode: customers see prep + delivery = 35 min at every hour. */
const START: StoreSettingsPutInput = {
  autoPrediction: false,
  manualPrepMinutes: 15,
  manualDeliveryMinutes: 20,
  minShownMinutes: null,
  maxShownMinutes: null,
  busy: null,
};

describe('admin-web end to end (Chromium, real vendor-bff + Geo + ML proxy + Postgres)', () => {
  let dist: string | undefined;
  let pg: PostgresSchema | undefined;
  const services: Service[] = [];
  let bff: Service;
  let browser: Browser | undefined;
  let owner: { context: BrowserContext; page: Page } | undefined;
  let operator: { context: BrowserContext; page: Page } | undefined;
  let ownerToken: string;
  let operatorToken: string;
  let startVersion: number;
  /** PUTs session A sent, in order: the version it claimed and the answer's status. */
  const ownerPuts: { ifMatch: string | undefined; status: number }[] = [];
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    requireChromium();
    const databaseUrl = process.env['DATABASE_URL'];
    // Postgres is the point of this test; without it, fail rather than pass on something else.
    if (databaseUrl === undefined || databaseUrl === '') {
      throw new Error('DATABASE_URL is not set: eval "$(scripts/backing-services.sh up)" first');
    }
    await mkdir(RESULTS, { recursive: true });

    // A fresh build into a temp dir, served by the BFF: a stale dist/ would make this test judge old code.
    dist = await mkdtemp(join(tmpdir(), 'admin-web-e2e-dist-'));
    const building = build({
      root: APP_DIR,
      configFile: join(APP_DIR, 'vite.config.ts'),
      logLevel: 'error',
      build: { outDir: dist, emptyOutDir: true, sourcemap: false },
    });

    pg = await createPostgresSchema(databaseUrl, 'e2e');
    const db = { DATABASE_URL: pg.url, DATABASE_POOL_MAX: '3' };
    const [geo, ml] = await Promise.all([
      startService('geo', {}),
      startService('ml-proxy', {}),
      seedStores(db, 5),
      building,
    ]);
    services.push(geo, ml);
    const redis = process.env['REDIS_URL'];
    bff = await startService('vendor-bff', {
      ...db,
      ROLE: 'admin',
      GEO_URL: geo.origin,
      ML_PROXY_URL: ml.origin,
      AUTH_DEV_KEYS: 'true',
      ADMIN_WEB_DIR: dist,
      MIGRATE_ON_START: 'false',
      // Redis when the test command provides it, under a key prefix (and invalidation channel) of its own.
      ...(redis ? { REDIS_URL: redis, CACHE_KEY_PREFIX: `${pg.schema}:` } : {}),
    });
    services.push(bff);

    const setupToken = await devToken({ operator: true }, SETUP);
    [ownerToken, operatorToken] = await Promise.all([
      devToken({ stores: [1, STORE] }, OWNER),
      devToken({ operator: true }, OPERATOR),
    ]);

    // Manual times through the real API first, so the manual-time change below moves the preview.
    const current = await api<StoreSettingsBody>(setupToken, `/v1/stores/${STORE}/settings`);
    const put = await fetch(`${bff.origin}/v1/stores/${STORE}/settings`, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${setupToken}`,
        'content-type': 'application/json',
        'if-match': `"${current.version}"`,
      },
      body: JSON.stringify(START),
    });
    expect(put.status, await put.clone().text()).toBe(200);
    startVersion = ((await put.json()) as StoreSettingsBody).version;

    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS] });
    browser.on('disconnected', () => consoleErrors.push('chromium disconnected'));
  }, 300_000);

  afterAll(async () => {
    // Everything started here goes, whatever failed; each step on its own so one failure stops nothing else.
    const steps: (() => Promise<unknown>)[] = [
      async () => owner?.context.close(),
      async () => operator?.context.close(),
      async () => browser?.close(),
      ...services.reverse().map((s) => () => s.stop()),
      async () => pg?.drop(),
      async () => (dist ? rm(dist, { recursive: true, force: true }) : undefined),
    ];
    for (const step of steps) await step().catch((err: unknown) => console.error('e2e cleanup:', err));
  }, 120_000);

  async function api<T>(token: string, path: string): Promise<T> {
    const res = await fetch(`${bff.origin}${path}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status, `GET ${path}: ${await res.clone().text()}`).toBe(200);
    return (await res.json()) as T;
  }

  async function openSession(viewport: { width: number; height: number }, phone: boolean) {
    if (browser === undefined) throw new Error('no browser');
    // A context per person: its own cookies and sessionStorage, like two devices.
    const context = await browser.newContext({
      viewport,
      ...(phone ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
      timezoneId: 'Asia/Seoul',
      locale: 'en-GB',
    });
    context.on('weberror', (e) => consoleErrors.push(e.error().message));
    const page = await context.newPage();
    // Generous: two shared cores run three services and Chromium at once.
    page.setDefaultTimeout(30_000);
    page.on('console', (m) => {
      // The 412 is part of the story; Chromium logs every 4xx answer as an error.
      if (m.type() === 'error' && !/^Failed to load resource: .* status of 4\d\d/.test(m.text())) {
        consoleErrors.push(m.text());
      }
    });
    return { context, page };
  }

  async function signIn(page: Page, token: string): Promise<void> {
    await page.goto(`${bff.origin}/admin/`);
    await page.getByTestId('signin-token').fill(`Bearer ${token}`);
    await page.getByTestId('signin-submit').click();
    await page.getByTestId('store-name').waitFor();
  }

  /** What the preview chart plots, one number per hour 0..23 (the chart's data-values). */
  async function chartValues(page: Page): Promise<number[]> {
    const text = await page.getByTestId('preview-chart').getAttribute('data-values');
    return (text ?? '').split(',').filter(Boolean).map(Number);
  }

  /**
   * A full-page screenshot from the top: taken scrolled down, the sticky app bar is drawn in the middle
   * of the page.
   */
  async function fullShot(page: Page, name: string): Promise<void> {
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(RESULTS, name), fullPage: true });
  }

  /** Screenshots mid-transition show half-faded dialogs; wait for every animation to end. */
  const settled = (page: Page) =>
    page.evaluate(() => Promise.all(document.getAnimations().map((a) => a.finished)).then(() => undefined));

  it('owner: signs in, picks the store, saves a longer preparation time and the preview moves by it', async () => {
    owner = await openSession({ width: 1280, height: 900 }, false);
    const { page } = owner;
    page.on('response', (res) => {
      if (res.request().method() === 'PUT') {
        ownerPuts.push({ ifMatch: res.request().headers()['if-match'], status: res.status() });
      }
    });
    await signIn(page, ownerToken);
    await page.getByTestId('me-subject').filter({ hasText: OWNER }).waitFor();

    // Store 1 opens first; pick the store under test from the owner's two.
    await page.getByTestId('store-select').click();
    await page.getByTestId(`store-option-${STORE}`).click();
    await page.getByTestId('store-name').waitFor();
    // Waits here get 30 s like the chart's below: expect.poll's own 1 s cap is a race on a busy machine.
    await expect
      .poll(() => page.getByTestId('field-manualPrepMinutes').inputValue(), { timeout: 30_000 })
      .toBe('15');
    expect(await page.getByTestId('field-manualDeliveryMinutes').inputValue()).toBe('20');

    await page.getByTestId('preview-chart').waitFor();
    // ECharts drew something: a canvas inside the chart element.
    expect(await page.getByTestId('preview-chart').locator('canvas').count()).toBeGreaterThan(0);
    await expect.poll(() => chartValues(page), { timeout: 30_000 }).toHaveLength(24);
    const before = await chartValues(page);
    expect(before).toEqual(Array.from({ length: 24 }, () => 35));
    // The page shows what the API answers, hour by hour.
    const apiBefore = await api<{ points: { etaMinutes: number }[] }>(
      ownerToken,
      `/v1/stores/${STORE}/preview`,
    );
    expect(apiBefore.points.map((p) => p.etaMinutes)).toEqual(before);

    await page.getByTestId('field-manualPrepMinutes').fill('25');
    await page.getByTestId('settings-save').click();
    await page.getByTestId('save-success').waitFor();

    // The preview reloads after the save: +10 minutes at every hour.
    await expect.poll(() => chartValues(page), { timeout: 30_000 }).toEqual(before.map((m) => m + 10));
    expect(await page.getByTestId('preview-summary').textContent()).toContain('45 min all day');
    await page.getByTestId('history-item').first().filter({ hasText: OWNER }).waitFor();
    expect(ownerPuts).toEqual([{ ifMatch: `"${startVersion}"`, status: 200 }]);
    await fullShot(page, 'e2e-owner-saved-desktop.png');
  }, 120_000);

  it('operator on a phone: opens the same store and saves a longer delivery time', async () => {
    operator = await openSession({ width: 360, height: 740 }, true);
    const { page } = operator;
    await page.goto(`${bff.origin}/admin/`);
    await page.getByTestId('signin-token').fill(`Bearer ${operatorToken}`);
    await page.getByTestId('signin-submit').click();
    // An operator may open any store: by id.
    await page.getByTestId('store-id-input').fill(String(STORE));
    await page.getByTestId('store-open').click();
    await page.getByTestId('store-name').waitFor();
    // It sees the owner's saved value, not the seed's.
    await expect
      .poll(() => page.getByTestId('field-manualPrepMinutes').inputValue(), { timeout: 30_000 })
      .toBe('25');

    await page.getByTestId('field-manualDeliveryMinutes').fill('30');
    await page.getByTestId('settings-save').click();
    await page.getByTestId('save-success').waitFor();
    await expect.poll(() => chartValues(page), { timeout: 30_000 }).toEqual(Array(24).fill(55));
    // Nothing sticks out sideways on a phone.
    expect(
      await page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth),
    ).toBe(false);
    await fullShot(page, 'e2e-operator-saved-phone.png');
  }, 120_000);

  it('owner, not reloaded: a save on the stale version shows the conflict, and "Apply mine" keeps both edits', async () => {
    if (owner === undefined) throw new Error('the owner session did not start');
    const { page } = owner;
    // The owner's form still shows the delivery time it loaded: nothing refreshed it.
    expect(await page.getByTestId('field-manualDeliveryMinutes').inputValue()).toBe('20');

    await page.getByTestId('field-maxShownMinutes').fill('50');
    await page.getByTestId('settings-save').click();
    await page.getByTestId('conflict-dialog').waitFor();
    const theirs = page.getByTestId('conflict-row-manualDeliveryMinutes');
    const mine = page.getByTestId('conflict-row-maxShownMinutes');
    expect(await theirs.textContent()).toContain('someone else');
    expect(await theirs.textContent()).toContain('30 min');
    expect(await mine.textContent()).toContain('you');
    expect(await mine.textContent()).toContain('50 min');
    expect(await mine.textContent()).toContain('No maximum');
    // Only the two fields that changed since the owner's version are listed.
    expect(await page.locator('[data-testid^="conflict-row-"]').count()).toBe(2);
    await settled(page);
    await page.screenshot({ path: join(RESULTS, 'e2e-owner-conflict-desktop.png') });

    await page.getByTestId('conflict-retry').click();
    await page.getByTestId('save-success').waitFor();
    await page.getByTestId('conflict-dialog').waitFor({ state: 'detached' });
    expect(await page.getByTestId('field-manualDeliveryMinutes').inputValue()).toBe('30');
    expect(await page.getByTestId('field-maxShownMinutes').inputValue()).toBe('50');
    // 25 + 30 = 55, capped at the owner's new maximum.
    await expect.poll(() => chartValues(page), { timeout: 30_000 }).toEqual(Array(24).fill(50));
    expect(ownerPuts).toEqual([
      { ifMatch: `"${startVersion}"`, status: 200 },
      { ifMatch: `"${startVersion + 1}"`, status: 412 },
      { ifMatch: `"${startVersion + 2}"`, status: 200 },
    ]);
    await page.getByTestId('history-item').nth(2).waitFor();
    await settled(page);
    await fullShot(page, 'e2e-owner-applied-desktop.png');
  }, 120_000);

  it('the API holds both edits, and the history the three changes by the right people', async () => {
    const settings = await api<StoreSettingsBody>(ownerToken, `/v1/stores/${STORE}/settings`);
    expect(settings).toMatchObject({
      storeId: STORE,
      autoPrediction: false,
      manualPrepMinutes: 25,
      manualDeliveryMinutes: 30,
      minShownMinutes: null,
      maxShownMinutes: 50,
      busy: null,
      version: startVersion + 3,
    });

    const { items } = await api<SettingsHistoryResponse>(ownerToken, `/v1/stores/${STORE}/settings/history`);
    // Newest first: the owner's retry, the operator's edit, the owner's first save, then the test's setup.
    expect(items.map((i) => i.actor)).toEqual([OWNER, OPERATOR, OWNER, SETUP]);
    const [retry, operatorEdit, firstSave] = items;
    expect(firstSave).toMatchObject({
      before: { manualPrepMinutes: 15, version: startVersion },
      after: { manualPrepMinutes: 25, version: startVersion + 1 },
    });
    expect(operatorEdit).toMatchObject({
      before: { manualDeliveryMinutes: 20, version: startVersion + 1 },
      after: { manualDeliveryMinutes: 30, manualPrepMinutes: 25, version: startVersion + 2 },
    });
    expect(retry).toMatchObject({
      before: { maxShownMinutes: null, manualDeliveryMinutes: 30, version: startVersion + 2 },
      after: { maxShownMinutes: 50, manualDeliveryMinutes: 30, version: startVersion + 3 },
    });

    const preview = await api<{ points: { etaMinutes: number; source: string }[] }>(
      ownerToken,
      `/v1/stores/${STORE}/preview`,
    );
    expect(preview.points.map((p) => p.etaMinutes)).toEqual(Array(24).fill(50));
    expect(new Set(preview.points.map((p) => p.source))).toEqual(new Set(['manual']));
  });

  it('logged no errors in either page', () => {
    expect(consoleErrors).toEqual([]);
  });
});
