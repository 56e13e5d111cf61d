import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { projectRoot } from './paths.js';

/**
 * Browser tests of static pages (the HTML report): Debian's Chromium driven by playwright-core, a static
 * HTTP server on loopback, and a crawler that opens every page of a folder and checks what a user's
 * browser would see go wrong. No browser is downloaded: `bash infra/tools.sh install browser` installs
 * Debian's `chromium` (or set PURE_CHROMIUM to a Chromium / Chrome binary).
 */

/** Where test screenshots go (ignored by git; CI keeps the folder as an artefact). */
export const browserArtifacts = join(projectRoot, 'test-artifacts', 'browser');

/** The Chromium the tests drive: PURE_CHROMIUM, else Debian's /usr/bin/chromium. */
export function chromiumPath(): string {
  return process.env.PURE_CHROMIUM || '/usr/bin/chromium';
}

const HOW_TO_INSTALL =
  "Install it with `bash infra/tools.sh install browser` (Debian's chromium package, needs root or sudo), or set PURE_CHROMIUM to a Chromium or Chrome binary.";

/** Headless Chromium; fails (never skips) with what to do when there is none. */
export async function launchBrowser(): Promise<Browser> {
  const executablePath = chromiumPath();
  const origin = process.env.PURE_CHROMIUM ? 'PURE_CHROMIUM' : 'the default';
  try {
    accessSync(executablePath, constants.X_OK);
  } catch {
    throw new Error(
      `no Chromium at ${executablePath} (${origin}): the browser tests need one. ${HOW_TO_INSTALL}`,
    );
  }
  try {
    return await chromium.launch({ executablePath, args: ['--no-sandbox'], headless: true });
  } catch (e) {
    throw new Error(
      `Chromium at ${executablePath} did not start: ${(e as Error).message}\n${HOW_TO_INSTALL}`,
      {
        cause: e,
      },
    );
  }
}

export interface StaticServer {
  /** `http://127.0.0.1:<port>/`: the served folder's root. */
  url: string;
  /** Paths the server was asked for, in order. */
  requests: string[];
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Serves `root` read-only on loopback, as a static host or an S3 website would: GET and HEAD, a folder's
 * `index.html` for `/folder/`, content types by extension, 404 for anything else or outside `root`.
 */
export async function serveFolder(root: string): Promise<StaticServer> {
  const base = resolve(root);
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    requests.push(url.pathname);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    let path: string;
    try {
      path = normalize(join(base, decodeURIComponent(url.pathname)));
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (path !== base && !path.startsWith(base + sep)) {
      res.writeHead(404).end();
      return;
    }
    if (url.pathname.endsWith('/')) path = join(path, 'index.html');
    readFile(path).then(
      (body) => {
        const type = CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
        res.writeHead(200, { 'content-type': type, 'content-length': body.length });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      () => res.writeHead(404, { 'content-type': 'text/plain' }).end('not found'),
    );
  });
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', done);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

export interface CrawlOptions {
  /** URL of the report folder, ending in `/`: every page, link followed and request must stay under it. */
  root: string;
  /** Pages to start from, relative to `root`. Default `['index.html']`. */
  start?: string[];
  /**
   * Full-page screenshots of the first page (in crawl order) whose path matches each pattern, saved as
   * `<dir>/<prefix><name>.png`: by default the index, a layer index and a neuron page.
   */
  screenshots?: { dir: string; prefix: string; pages?: Record<string, RegExp> };
  /** More checks on each loaded page: returns its problems (empty when none). */
  check?: (page: Page, path: string) => Promise<string[]>;
  /** Timeout of one page's navigation and of its pictures loading, ms. Default 15,000. */
  timeoutMs?: number;
}

/** A page as the crawler saw it. */
export interface CrawledPage {
  /** Relative to the root, e.g. `layer-1.html`. */
  path: string;
  /** Pages under the root it links to (relative to the root, without `#fragment`), in document order. */
  links: string[];
  /** Its element ids, for checking the `#fragment` of links to it. */
  ids: Set<string>;
  problems: string[];
  /** Milliseconds from navigation to the end of its checks. */
  ms: number;
}

export interface CrawlResult {
  /** By path relative to the root, in crawl order. */
  pages: Map<string, CrawledPage>;
  /** Every problem, each prefixed with its page's path; empty for a clean report. */
  problems: string[];
  /** Every URL the pages requested. */
  requests: string[];
  /** Screenshots written. */
  screenshots: string[];
}

/** The default screenshots: the index, a layer index and a neuron page. */
export const REPORT_SCREENSHOTS: Record<string, RegExp> = {
  index: /^index\.html$/,
  'layer-index': /^layer-\d+\.html$/,
  'neuron-page': /^layer-\d+\/neuron-\d+\.html$/,
};

/**
 * Opens `start` in `page` and every `.html` page under `root` that the pages link to (breadth first),
 * each once, and checks on each: it loads (HTTP status < 400); no console error, no uncaught exception,
 * no `alert`/`confirm`/`prompt` dialog; no request outside `root` (another origin, a parent folder) and
 * none failed; every `<img>` with a `src` loaded (lazy ones are made eager first), except in a closed
 * `<dialog>`; every outermost inline `<svg>` that is rendered (not inside something hidden, such as a
 * closed dialog or a table row on another page) has a non-zero size; every link under `root` to something
 * other than a page points at a file that exists; and every `#fragment` of a link to a crawled page names
 * an element there. Reuses the one page; never sleeps for a fixed time.
 */
export async function crawl(page: Page, options: CrawlOptions): Promise<CrawlResult> {
  const { root } = options;
  if (!root.endsWith('/')) throw new Error(`crawl root must end with '/': ${root}`);
  const timeout = options.timeoutMs ?? 15_000;
  const pages = new Map<string, CrawledPage>();
  const problems: string[] = [];
  const requests: string[] = [];
  const screenshots: string[] = [];
  const wanted = new Map(Object.entries(options.screenshots?.pages ?? REPORT_SCREENSHOTS));
  const fragments: { from: string; to: string; id: string }[] = [];
  const assets = new Map<string, string | null>(); // other files linked to, and why they are broken
  const queue = [...(options.start ?? ['index.html'])];
  const queued = new Set(queue);

  // What the page does while it is open, collected per page by the listeners below.
  let current: string[] = [];
  const inside = (url: string) => url.startsWith(root) || /^(data|blob|about):/.test(url);
  const onRequest = (r: { url(): string }) => {
    requests.push(r.url());
    if (!inside(r.url())) current.push(`requested ${r.url()}, outside ${root}`);
  };
  const onFailed = (r: { url(): string; failure(): { errorText: string } | null }) => {
    const why = r.failure()?.errorText ?? 'failed';
    // An aborted request is one a navigation or the page itself cancelled, not a broken one.
    if (why !== 'net::ERR_ABORTED') current.push(`request failed: ${r.url()} (${why})`);
  };
  const onResponse = (r: { url(): string; status(): number }) => {
    if (r.status() >= 400) current.push(`HTTP ${r.status()} for ${r.url()}`);
  };
  const onConsole = (m: { type(): string; text(): string; location(): { url: string } }) => {
    // The browser's own look-up of /favicon.ico at the site's root (pages without an icon) is no request
    // of the page's: on a static host it is a harmless 404.
    if (m.type() === 'error' && !isFaviconLookup(m.location().url, root)) {
      current.push(`console error: ${m.text()} (${m.location().url})`);
    }
  };
  const onPageError = (e: Error) => current.push(`uncaught exception: ${e.message}`);
  const onDialog = (d: { type(): string; message(): string; dismiss(): Promise<void> }) => {
    current.push(`${d.type()} dialog opened: ${JSON.stringify(d.message())}`);
    d.dismiss().catch(() => undefined);
  };
  // Start from a blank page, not from where the last crawl ended (maybe an error page of another scheme).
  await openPage(page, 'about:blank', timeout);
  page.on('request', onRequest);
  page.on('requestfailed', onFailed);
  page.on('response', onResponse);
  page.on('console', onConsole);
  page.on('pageerror', onPageError);
  page.on('dialog', onDialog);
  try {
    while (queue.length > 0) {
      const path = queue.shift()!;
      const t0 = Date.now();
      current = [];
      const seen: CrawledPage = { path, links: [], ids: new Set(), problems: current, ms: 0 };
      pages.set(path, seen);
      const loaded = await openPage(page, root + path, timeout).catch((e: Error) => {
        current.push(`did not load: ${e.message.split('\n')[0]}`);
        return false;
      });
      if (loaded) {
        const facts = await pageFacts(page, timeout);
        current.push(...facts.problems);
        seen.ids = new Set(facts.ids);
        for (const href of facts.links) {
          const hash = href.indexOf('#');
          const target = hash < 0 ? href : href.slice(0, hash);
          const id = hash < 0 ? '' : decodeURIComponent(href.slice(hash + 1));
          if (!target.startsWith(root)) {
            if (sameFolderScheme(target, root)) current.push(`links outside ${root}: ${href}`);
            continue;
          }
          const rel = target.slice(root.length);
          if (/\.html?$/.test(rel) || rel === '') {
            const to = rel === '' ? 'index.html' : rel;
            if (id) fragments.push({ from: path, to, id });
            if (!seen.links.includes(to)) seen.links.push(to);
            if (!queued.has(to)) {
              queued.add(to);
              queue.push(to);
            }
          } else if (!assets.has(target)) {
            assets.set(target, await brokenAsset(target));
          }
          const broken = assets.get(target);
          if (broken) current.push(`links to ${href}: ${broken}`);
        }
        if (options.check) current.push(...(await options.check(page, path)));
        for (const [name, pattern] of wanted) {
          if (!pattern.test(path) || !options.screenshots) continue;
          const file = join(options.screenshots.dir, `${options.screenshots.prefix}${name}.png`);
          await mkdir(options.screenshots.dir, { recursive: true });
          await page.screenshot({ path: file, fullPage: true });
          screenshots.push(file);
          wanted.delete(name);
        }
      }
      seen.ms = Date.now() - t0;
    }
  } finally {
    page.off('request', onRequest);
    page.off('requestfailed', onFailed);
    page.off('response', onResponse);
    page.off('console', onConsole);
    page.off('pageerror', onPageError);
    page.off('dialog', onDialog);
  }
  for (const { from, to, id } of fragments) {
    const target = pages.get(to);
    if (target?.problems.every((p) => !p.startsWith('did not load')) && !target.ids.has(id)) {
      pages.get(from)!.problems.push(`links to ${to}#${id}, but ${to} has no element with that id`);
    }
  }
  for (const p of pages.values()) problems.push(...p.problems.map((problem) => `${p.path}: ${problem}`));
  return { pages, problems, requests, screenshots };
}

/** True for the browser's default favicon request (`/favicon.ico` at the root of an http(s) origin). */
export function isFaviconLookup(url: string, root: string): boolean {
  return /^https?:/.test(root) && url === new URL('/favicon.ico', root).href;
}

/** True when `url` is a relative link gone astray: same scheme and host as `root`, outside it. */
function sameFolderScheme(url: string, root: string): boolean {
  try {
    return new URL(url).origin === new URL(root).origin && new URL(url).protocol === new URL(root).protocol;
  } catch {
    return false;
  }
}

/** Why a linked file (not a page) is broken: missing, or an HTTP error; null when it is there. */
async function brokenAsset(url: string): Promise<string | null> {
  if (url.startsWith('file:')) {
    const path = fileURLToPath(url);
    return existsSync(path) && statSync(path).isFile() ? null : 'no such file';
  }
  if (!/^https?:/.test(url)) return null;
  try {
    const res = await fetch(url, { method: 'HEAD' });
    return res.ok ? null : `HTTP ${res.status}`;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * Navigates and waits for the load event; throws when the page cannot be opened or is an HTTP error.
 * After a failed navigation Chromium goes on to its error page, which can interrupt the next one: that
 * one is tried again.
 */
async function openPage(page: Page, url: string, timeout: number): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      const response = await page.goto(url, { waitUntil: 'load', timeout });
      if (response && response.status() >= 400) throw new Error(`HTTP ${response.status()}`);
      return true;
    } catch (e) {
      if (attempt >= 3 || !/interrupted by another navigation/.test((e as Error).message)) throw e;
      // After a file that did not load, Chromium's error page may still be landing (or it navigates twice
      // when leaving it for another scheme): let that finish, then go again.
      await page.waitForLoadState('load', { timeout }).catch(() => undefined);
    }
  }
}

/** The little of the DOM the page-side functions use (the project compiles without the DOM library). */
interface DomElement {
  readonly id: string;
  readonly tagName: string;
  readonly textContent: string | null;
  readonly parentElement: DomElement | null;
  getAttribute(name: string): string | null;
  closest(selector: string): DomElement | null;
  querySelector(selector: string): DomElement | null;
  querySelectorAll(selector: string): Iterable<DomElement> & { length: number };
  getBoundingClientRect(): { width: number; height: number };
  checkVisibility(): boolean;
  outerHTML: string;
}
interface DomImage extends DomElement {
  loading: string;
  readonly complete: boolean;
  readonly naturalWidth: number;
  readonly currentSrc: string;
}
interface DomAnchor extends DomElement {
  readonly href: string;
}
/** `globalThis` in the page, for functions run there with page.evaluate. */
export interface DomWindow {
  document: {
    readonly readyState: string;
    readonly body: DomElement;
    querySelector(selector: string): DomElement | null;
    querySelectorAll(selector: string): Iterable<DomElement> & { length: number };
    getElementById(id: string): DomElement | null;
  };
  requestAnimationFrame(callback: () => void): number;
}
export type { DomAnchor, DomElement, DomImage };

/**
 * Makes lazy pictures eager, waits until every picture has loaded or failed (and two frames, for scripts
 * that draw after load), then reads the page's links, ids and broken pictures and charts.
 */
async function pageFacts(
  page: Page,
  timeout: number,
): Promise<{ links: string[]; ids: string[]; problems: string[] }> {
  const problems: string[] = [];
  await page.evaluate(() => {
    const w = globalThis as unknown as DomWindow;
    for (const img of w.document.querySelectorAll('img') as Iterable<DomImage>) img.loading = 'eager';
    return new Promise<void>((done) => w.requestAnimationFrame(() => w.requestAnimationFrame(done)));
  });
  await page
    .waitForFunction(
      () => {
        const w = globalThis as unknown as DomWindow;
        return [...(w.document.querySelectorAll('img[src]') as Iterable<DomImage>)].every(
          (img) => img.complete || img.closest('dialog:not([open])') !== null,
        );
      },
      undefined,
      { timeout },
    )
    .catch(() => problems.push(`pictures still loading after ${timeout} ms`));
  const facts = await page.evaluate(() => {
    const w = globalThis as unknown as DomWindow;
    const d = w.document;
    const where = (e: DomElement): string => {
      const parts: string[] = [];
      for (let x: DomElement | null = e; x && parts.length < 3; x = x.parentElement) {
        const cls = (x.getAttribute('class') ?? '').trim().split(/\s+/).filter(Boolean);
        parts.unshift(
          `${x.tagName.toLowerCase()}${x.id ? `#${x.id}` : ''}${cls.map((c) => `.${c}`).join('')}`,
        );
      }
      return parts.join(' > ');
    };
    const closedDialog = (e: DomElement) => e.closest('dialog:not([open])') !== null;
    const problems: string[] = [];
    for (const img of d.querySelectorAll('img') as Iterable<DomImage>) {
      const src = img.getAttribute('src');
      if (!src || closedDialog(img)) continue;
      if (!(img.complete && img.naturalWidth > 0))
        problems.push(`picture not loaded: ${src} (${where(img)})`);
    }
    for (const svg of d.querySelectorAll('svg')) {
      // Hidden by design (a closed dialog, a row on another page of a table): not drawn, no size.
      if (svg.parentElement?.closest('svg') || !svg.checkVisibility()) continue;
      const { width, height } = svg.getBoundingClientRect();
      if (!(width > 0 && height > 0)) problems.push(`svg of size ${width} x ${height} (${where(svg)})`);
    }
    return {
      links: [...(d.querySelectorAll('a[href]') as Iterable<DomAnchor>)].map((a) => a.href),
      ids: [...d.querySelectorAll('[id]')].map((e) => e.id),
      problems,
    };
  });
  return { ...facts, problems: [...problems, ...facts.problems] };
}
