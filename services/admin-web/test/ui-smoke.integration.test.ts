import type { StoreSettingsBody } from '@eta/contracts';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatMinutes, formatTime } from '../src/i18n/format.ts';
import { BROWSER_LOCALES, chooseLanguage, norm, overflowsSideways, settled } from './browser.ts';
import { CHROMIUM, CHROMIUM_ARGS, requireChromium } from './chromium.ts';
import { intlFor } from './intl.ts';

/**
 * UI SMOKE TEST, not the end-to-end test: the built app in a real Chromium against a FAKE admin API
 * defined below, to catch a broken bundle, a broken /admin/ base, a layout that overflows a phone, and
 * the save and conflict flows wired wrongly. The end-to-end test against the real API is e2e.integration.test.ts.
 * It runs in both languages (Korean, the default, and English chosen in the app bar's menu) and checks the
 * page's words against the catalogues. The fake API has no accuracy route on purpose: the accuracy card is
 * tested against the real BFF only (e2e), and here shows its error state, worded by the error's code.
 * Screenshots go to services/admin-web/test-results/ (gitignored), prefixed by language, for a human to look at.
 *
 * Needs Debian's Chromium: scripts/install-browser.sh.
 */

const APP_DIR = resolve(import.meta.dirname, '..');
const RESULTS = join(APP_DIR, 'test-results');
const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJvd25lci03In0.c2lnbmF0dXJl';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The fake API's state: one owner with one store; settings versioned like the real thing. */
class FakeApi {
  settings: StoreSettingsBody = {
    storeId: 7,
    autoPrediction: true,
    manualPrepMinutes: 15,
    manualDeliveryMinutes: 20,
    minShownMinutes: 20,
    maxShownMinutes: null,
    busy: null,
    updatedAt: '2026-03-03T04:00:00.000Z',
    version: 3,
  };
  history: { id: number; actor: string; at: string; before: StoreSettingsBody; after: StoreSettingsBody }[] =
    [];
  /** The next PUT meets this change made "by someone else" first, as a concurrent edit would. */
  interleave: Partial<StoreSettingsBody> | null = null;
  puts: { ifMatch: string | undefined; body: unknown }[] = [];

  write(actor: string, values: Partial<StoreSettingsBody>): void {
    const before = this.settings;
    this.settings = {
      ...before,
      ...values,
      version: before.version + 1,
      updatedAt: new Date().toISOString(),
    };
    this.history.unshift({
      id: this.history.length + 1,
      actor,
      at: this.settings.updatedAt,
      before,
      after: this.settings,
    });
  }

  preview() {
    const s = this.settings;
    const points = Array.from({ length: 24 }, (_, hour) => {
      // Lunch and dinner peaks, like the real model's shape.
      const base =
        28 + Math.round(9 * Math.exp(-((hour - 12) ** 2) / 4) + 12 * Math.exp(-((hour - 19) ** 2) / 5));
      let eta = s.autoPrediction ? base : s.manualPrepMinutes + s.manualDeliveryMinutes;
      eta += s.busy?.extraMinutes ?? 0;
      if (s.minShownMinutes !== null) eta = Math.max(eta, s.minShownMinutes);
      if (s.maxShownMinutes !== null) eta = Math.min(eta, s.maxShownMinutes);
      const spread = s.autoPrediction ? 6 : 0;
      return {
        hour,
        etaMinutes: eta,
        low: eta - spread,
        high: eta + spread,
        source: s.autoPrediction ? 'model' : 'manual',
      };
    });
    return { storeId: 7, destination: { lat: 37.5665, lng: 126.978 }, points };
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      send(401, { code: 'UNAUTHENTICATED', message: 'missing or invalid token' });
      return;
    }
    const path = (req.url ?? '').split('?')[0];
    if (path === '/v1/me') return send(200, { subject: 'owner-7@example.com', role: 'owner', storeIds: [7] });
    if (path === '/v1/stores/7') {
      return send(200, {
        id: 7,
        name: '을지로 김밥 본점',
        location: { lat: 37.566, lng: 126.991 },
        category: 'meal',
        region: { guCode: '11140', dongCode: '1114055000', name: '중구 명동', regionClass: 'metropolitan' },
      });
    }
    if (path === '/v1/stores/7/settings/history') return send(200, { items: this.history });
    if (path === '/v1/stores/7/preview') return send(200, this.preview());
    if (path === '/v1/stores/7/settings' && req.method === 'GET') {
      return send(200, this.settings, { etag: `"${this.settings.version}"` });
    }
    if (path === '/v1/stores/7/settings' && req.method === 'PUT') {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Partial<StoreSettingsBody>;
      this.puts.push({ ifMatch: req.headers['if-match'], body });
      if (this.interleave !== null) {
        this.write('manager@example.com', this.interleave);
        this.interleave = null;
      }
      if (req.headers['if-match'] !== `"${this.settings.version}"`) {
        return send(412, {
          code: 'PRECONDITION_FAILED',
          message: 'settings changed',
          current: this.settings,
        });
      }
      this.write('owner-7@example.com', body);
      return send(200, this.settings, { etag: `"${this.settings.version}"` });
    }
    send(404, { code: 'NOT_FOUND', message: 'no such route' });
  }
}

async function serveStatic(root: string, urlPath: string, res: ServerResponse): Promise<void> {
  // Everything under /admin/ that is not a file is the app (client-side state lives in the page).
  const rel = normalize(urlPath.replace(/^\/admin\/?/, '')).replace(/^(\.\.[/\\])+/, '');
  const file = join(root, rel);
  const target = rel !== '' && rel !== '.' && existsSync(file) ? file : join(root, 'index.html');
  res.writeHead(200, { 'content-type': TYPES[extname(target)] ?? 'application/octet-stream' });
  res.end(await readFile(target));
}

describe('admin-web UI smoke (static build + fake API, not the e2e)', () => {
  let dist: string | undefined;

  beforeAll(async () => {
    requireChromium();
    // A fresh build into a temp dir: a stale dist/ would make this test judge yesterday's code.
    dist = await mkdtemp(join(tmpdir(), 'admin-web-dist-'));
    await build({
      root: APP_DIR,
      configFile: join(APP_DIR, 'vite.config.ts'),
      logLevel: 'error',
      build: { outDir: dist, emptyOutDir: true, sourcemap: false },
    });
    await mkdir(RESULTS, { recursive: true });
  }, 240_000);

  afterAll(async () => {
    if (dist) await rm(dist, { recursive: true, force: true });
  });

  describe.each(BROWSER_LOCALES)('in $locale', ({ locale }) => {
    const { intl, t } = intlFor(locale);
    const shot = (name: string) => join(RESULTS, `${locale}-${name}.png`);
    let profile: string | undefined;
    let server: Server | undefined;
    let origin: string;
    let context: BrowserContext | undefined;
    const api = new FakeApi();
    const consoleErrors: string[] = [];

    beforeAll(async () => {
      const root = dist;
      if (root === undefined) throw new Error('the app was not built');
      server = createServer((req, res) => {
        const url = req.url ?? '/';
        const done = url.startsWith('/v1/')
          ? api.handle(req, res)
          : serveStatic(root, url.split('?')[0] ?? '/', res);
        done.catch((err: unknown) => {
          res.writeHead(500);
          res.end(String(err));
        });
      });
      await new Promise<void>((ok) => server?.listen(0, '127.0.0.1', ok));
      origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      // A profile per language: localStorage (the remembered language) starts empty, as on a new device.
      profile = await mkdtemp(join(tmpdir(), 'admin-web-chromium-'));
      context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: [...CHROMIUM_ARGS],
        // A device in another zone and language: the app must still show Seoul time in its own language.
        timezoneId: 'Europe/Berlin',
        locale: 'de-DE',
      });
      context.on('weberror', (e) => consoleErrors.push(e.error().message));
    }, 120_000);

    afterAll(async () => {
      await context?.close();
      await new Promise<void>((ok) => (server ? server.close(() => ok()) : ok()));
      if (profile) await rm(profile, { recursive: true, force: true });
    });

    async function newPage(viewport: { width: number; height: number }): Promise<Page> {
      if (context === undefined) throw new Error('no browser');
      const page = await context.newPage();
      await page.setViewportSize(viewport);
      page.on('console', (m) => {
        // The 412, 400 and 404 answers are part of the flows under test; Chromium logs every 4xx as an error.
        if (m.type() === 'error' && !/^Failed to load resource: .* status of 4\d\d/.test(m.text())) {
          consoleErrors.push(m.text());
        }
      });
      return page;
    }

    async function signIn(page: Page): Promise<void> {
      await page.goto(`${origin}/admin/`);
      await chooseLanguage(page, locale);
      await page.getByTestId('signin-token').fill(`Bearer ${TOKEN}`);
      await page.getByTestId('signin-submit').click();
      await page.getByTestId('store-name').waitFor();
      await page.getByTestId('preview-chart').waitFor();
    }

    it('signs in, saves busy mode, and updates preview and history (desktop)', async () => {
      const page = await newPage({ width: 1280, height: 900 });
      await page.goto(`${origin}/admin/`);
      await page.getByTestId('signin-form').waitFor();
      // A new device opens in Korean, whatever the browser's own language.
      expect(await page.locator('html').getAttribute('lang')).toBe('ko');
      await chooseLanguage(page, locale);
      expect(await page.title()).toBe(t('app.documentTitle'));
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe(t('signin.title'));
      await page.screenshot({ path: shot('signin-desktop') });

      await signIn(page);
      expect(await page.getByTestId('store-name').textContent()).toBe('을지로 김밥 본점');
      expect(await page.locator('#settings-title').textContent()).toBe(t('settings.title'));
      expect(await page.getByTestId('signout').textContent()).toBe(t('app.signOut'));
      const before = await page.getByTestId('preview-summary').textContent();

      await page.getByTestId('busy-switch').click();
      await page.getByTestId('busy-extra').fill('15');
      await page.getByTestId('busy-duration-60').click();
      expect(await page.getByTestId('busy-duration-60').textContent()).toBe(formatMinutes(intl, 60));
      await page.getByTestId('settings-save').click();
      await page.getByTestId('save-success').waitFor();

      expect(api.puts.at(-1)?.ifMatch).toBe('"3"');
      expect(api.settings.busy?.extraMinutes).toBe(15);
      // Saved at the server's time, shown in Seoul (the device is in Berlin).
      expect(norm(await page.getByTestId('save-success').textContent())).toBe(
        norm(t('settings.saved', { time: formatTime(intl, api.settings.updatedAt) })),
      );
      // The preview reloads after a save: busy minutes raise every hour.
      // 30 s, not expect.poll's 1 s default: a wait for the reload, not a bound on how fast it is.
      await expect
        .poll(() => page.getByTestId('preview-summary').textContent(), { timeout: 30_000 })
        .not.toBe(before);
      await page.getByTestId('history-item').first().waitFor();
      const entry = norm(await page.getByTestId('history-item').first().textContent());
      expect(entry).toContain(t('field.busy'));
      expect(entry).toContain(norm(t('value.off')));
      // The accuracy card has no fake data: it shows the 404 worded by its code.
      expect(await page.getByTestId('accuracy-error').textContent()).toBe(
        t('error.request', { status: 404, message: 'no such route' }),
      );
      await page.screenshot({ path: shot('store-desktop'), fullPage: true });
      await page.close();
    }, 90_000);

    it('shows a conflict as yours vs current and re-applies my change on the new version', async () => {
      const page = await newPage({ width: 1280, height: 900 });
      await signIn(page);
      const startVersion = api.settings.version;
      api.interleave = { maxShownMinutes: 55 };

      await page.getByTestId('field-manualPrepMinutes').fill('25');
      await page.getByTestId('settings-save').click();
      await page.getByTestId('conflict-dialog').waitFor();
      const mine = norm(await page.getByTestId('conflict-row-manualPrepMinutes').textContent());
      const theirs = norm(await page.getByTestId('conflict-row-maxShownMinutes').textContent());
      expect(mine).toContain(formatMinutes(intl, 25));
      expect(mine).toContain(t('conflict.byYou'));
      expect(theirs).toContain(formatMinutes(intl, 55));
      expect(theirs).toContain(t('conflict.byOthers'));
      expect(theirs).toContain(t('value.noMaximum'));
      expect(await page.locator('#conflict-title').textContent()).toBe(t('conflict.title'));
      await settled(page);
      await page.screenshot({ path: shot('conflict-desktop') });

      await page.getByTestId('conflict-retry').click();
      await page.getByTestId('save-success').waitFor();
      expect(api.puts.at(-1)?.ifMatch).toBe(`"${startVersion + 1}"`);
      // Mine re-applied, theirs kept.
      expect(api.settings).toMatchObject({ manualPrepMinutes: 25, maxShownMinutes: 55 });
      await page.close();
    }, 90_000);

    it('fits a 360x740 phone without sideways scrolling and shows inline errors', async () => {
      const page = await newPage({ width: 360, height: 740 });
      await signIn(page);
      expect(await overflowsSideways(page)).toBe(false);
      await page.screenshot({ path: shot('store-phone') });
      await page.screenshot({ path: shot('store-phone-full'), fullPage: true });

      await page.getByTestId('field-minShownMinutes').fill('90');
      await page.getByTestId('field-maxShownMinutes').fill('60');
      await page.getByTestId('settings-save').click();
      await page.getByTestId('save-error').waitFor();
      expect(await page.getByTestId('save-error').textContent()).toBe(t('settings.fixFields'));
      expect(await page.getByText(t('issue.minAboveMax')).count()).toBe(1);
      expect(await overflowsSideways(page)).toBe(false);
      await page.getByTestId('field-minShownMinutes').scrollIntoViewIfNeeded();
      await page.screenshot({ path: shot('errors-phone') });

      api.interleave = { autoPrediction: false };
      await page.getByTestId('field-minShownMinutes').fill('30');
      await page.getByTestId('settings-save').click();
      await page.getByTestId('conflict-dialog').waitFor();
      expect(await overflowsSideways(page)).toBe(false);
      await settled(page);
      await page.screenshot({ path: shot('conflict-phone') });
      await page.getByTestId('conflict-discard').click();
      await page.getByTestId('conflict-dialog').waitFor({ state: 'detached' });
      // Discarding takes the server's values into the form.
      expect(await page.getByTestId('field-minShownMinutes').inputValue()).toBe('20');
      await page.close();
    }, 90_000);

    it('remembers the language across a reload, and re-words the open page when switched', async () => {
      const other = locale === 'ko' ? 'en' : 'ko';
      const page = await newPage({ width: 1280, height: 900 });
      await signIn(page);
      await page.reload();
      await page.getByTestId('store-name').waitFor();
      expect(await page.locator('html').getAttribute('lang')).toBe(locale);
      expect(await page.locator('#settings-title').textContent()).toBe(t('settings.title'));

      await chooseLanguage(page, other);
      const o = intlFor(other);
      expect(await page.locator('#settings-title').textContent()).toBe(o.t('settings.title'));
      expect(await page.locator('#history-title').textContent()).toBe(o.t('history.title'));
      expect(await page.title()).toBe(o.t('app.documentTitle'));
      // The editing state survives the switch: only the words change.
      expect(await page.getByTestId('field-manualPrepMinutes').inputValue()).toBe(
        String(api.settings.manualPrepMinutes),
      );

      await chooseLanguage(page, locale);
      expect(await page.locator('#settings-title').textContent()).toBe(t('settings.title'));
      expect(await page.evaluate(() => window.localStorage.getItem('admin-web.locale'))).toBe(locale);
      await page.close();
    }, 90_000);

    it('logged no errors in the page', () => {
      expect(consoleErrors).toEqual([]);
    });
  });
});
