// Shared helpers for the end-to-end suites (staff.mjs now, the coordinator suite later): a real centre as a child
// process, a small API client, Debian's Chromium through playwright-core, bounded waits, numbered screenshots, console
// capture, failure handling and the figures table. Every wait here has a timeout; nothing waits forever.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { chromium } from 'playwright-core';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEMO_PASSWORD = 'jx-demo-2026';
export const VIEWPORT = { width: 390, height: 844 };
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const t0 = performance.now();
export const elapsed = () => ((performance.now() - t0) / 1000).toFixed(1).padStart(6);
export const log = (...a) => console.log(`[${elapsed()}s]`, ...a);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Something that went wrong, with the step it belongs to. */
export class E2EError extends Error {}

// ---------------------------------------------------------------------------------------------------------------
// Bounded waiting

/** Polls `fn` until it returns a truthy value (returned) or `ms` pass (throws, naming `what` and the last value). */
export async function until(what, fn, { ms = 15000, every = 200 } = {}) {
  const end = performance.now() + ms;
  let last;
  let lastErr;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      lastErr = e;
    }
    if (performance.now() >= end) {
      const detail = lastErr ? `; last error: ${firstLine(lastErr)}` : last !== undefined ? `; last: ${show(last)}` : '';
      throw new E2EError(`timed out after ${(ms / 1000).toFixed(0)} s waiting for ${what}${detail}`);
    }
    await sleep(every);
  }
}

/** Rejects after `ms` with a message naming `what` if `promise` has not settled. */
export function within(what, ms, promise) {
  let timer;
  const timeout = new Promise((_, rej) => {
    timer = setTimeout(() => rej(new E2EError(`timed out after ${(ms / 1000).toFixed(0)} s: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export const firstLine = (e) => String(e?.message ?? e).split('\n')[0];
const show = (v) => (typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v)?.slice(0, 200));

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// ---------------------------------------------------------------------------------------------------------------
// The centre

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const children = new Set();
/** Kills every child this process started (synchronous: safe in 'exit' handlers). */
export function killChildren() {
  for (const c of children) {
    try {
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
  children.clear();
}
process.on('exit', killChildren);

/**
 * Starts `target/debug/jx-centre --demo` on a free loopback port with a fresh data dir, serving `appDir` at `/`,
 * and waits for /api/v1/health → 200. Its output goes to `logFile`.
 */
export async function startCentre({ appDir = path.join(REPO, 'target/web'), logFile, bin, timeoutMs = 60000 } = {}) {
  bin ??= path.join(REPO, 'target/debug/jx-centre');
  if (!fs.existsSync(bin)) throw new E2EError(`no centre binary at ${bin}: run \`cargo build -p jx-centre\``);
  if (!fs.existsSync(path.join(appDir, 'index.html'))) throw new E2EError(`no web build at ${appDir} (index.html missing)`);
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'jx-e2e-centre-'));
  const args = ['--demo', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, '--app-dir', appDir];
  const out = logFile ? fs.openSync(logFile, 'w') : 'ignore';
  const child = spawn(bin, args, { cwd: REPO, stdio: ['ignore', out, out] });
  children.add(child);
  const origin = `http://127.0.0.1:${port}`;
  let exited = null;
  child.on('exit', (code, sig) => {
    exited = `exited with ${code ?? sig}`;
    children.delete(child);
  });
  log(`centre: ${bin} ${args.join(' ')}`);
  await until(
    `the centre's /api/v1/health → 200 at ${origin}`,
    async () => {
      if (exited) throw new E2EError(`the centre ${exited} before answering (see ${logFile ?? 'its output'})`);
      const r = await fetch(`${origin}/api/v1/health`, { signal: AbortSignal.timeout(2000) });
      return r.status === 200;
    },
    { ms: timeoutMs, every: 250 },
  ).catch((e) => {
    if (exited) throw new E2EError(`the centre ${exited} before answering (see ${logFile ?? 'its output'})`);
    throw e;
  });
  return {
    origin,
    api: `${origin}/api/v1`,
    port,
    dataDir,
    child,
    logFile,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await within('the centre to stop', 5000, new Promise((r) => child.once('exit', r))).catch(() => child.kill('SIGKILL'));
      }
      children.delete(child);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A small client for the centre's API; every request is bounded. */
export class Api {
  constructor(base, token = null) {
    this.base = base;
    this.token = token;
  }

  static async login(base, login, password = DEMO_PASSWORD) {
    const api = new Api(base);
    const r = await api.request('POST', '/auth/login', { login, password });
    api.token = r.token;
    api.who = r;
    return api;
  }

  async raw(method, p, body, { timeoutMs = 20000 } = {}) {
    const headers = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    return fetch(this.base + p, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  }

  async request(method, p, body) {
    const r = await this.raw(method, p, body);
    const text = await r.text();
    if (!r.ok) throw new E2EError(`${method} ${p} → ${r.status}: ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : null;
  }

  get(p) {
    return this.request('GET', p);
  }

  post(p, body) {
    return this.request('POST', p, body);
  }

  async bytes(p) {
    const r = await this.raw('GET', p);
    const buf = Buffer.from(await r.arrayBuffer());
    return { status: r.status, buf, type: r.headers.get('content-type') };
  }

  async text(p) {
    const r = await this.raw('GET', p);
    const t = await r.text();
    if (!r.ok) throw new E2EError(`GET ${p} → ${r.status}: ${t.slice(0, 300)}`);
    return t;
  }

  /** The packet label's (or the resident's) QR code of a task as PNG bytes. */
  async qrPng(task, kind = 'packet') {
    const { status, buf } = await this.bytes(`/tasks/${task}/qr?kind=${kind}&format=png`);
    if (status !== 200 || buf.length === 0) throw new E2EError(`QR ${kind} of ${task}: HTTP ${status}`);
    return buf;
  }

  /** The 6-digit resident code printed on a delivery's slip. */
  async residentCode(task) {
    const html = await this.text(`/tasks/${task}/slip`);
    const m = html.match(/<div class="code">\s*(\d{6})\s*<\/div>/);
    if (!m) throw new E2EError(`no 6-digit code on the slip of ${task}`);
    return m[1];
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The browser

export function findChromium() {
  const env = process.env.JX_CHROMIUM;
  const candidates = [env, '/usr/lib/chromium/chromium', '/usr/bin/chromium'].filter(Boolean);
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new E2EError(`no Chromium at ${candidates.join(' or ')}: apt-get install chromium`);
  return found;
}

/** Headless Chromium (Debian's) through playwright-core. */
export async function launchBrowser(extraArgs = []) {
  const executablePath = findChromium();
  const args = [...CHROMIUM_ARGS, ...extraArgs];
  const browser = await chromium.launch({ executablePath, headless: true, args, timeout: 60000 });
  log(`browser: ${executablePath} (Chromium ${browser.version()})`);
  return browser;
}

/**
 * Collects what the page, its workers and service workers say (console, uncaught errors, failed requests, HTTP
 * errors), to dump when a step fails.
 */
export class ConsoleLog {
  constructor() {
    this.lines = [];
  }

  add(kind, text) {
    this.lines.push(`[${elapsed()}s] ${kind}: ${text}`);
  }

  errors() {
    return this.lines.filter((l) => /(console\.error|pageerror|weberror):/.test(l));
  }

  /** What broke the centre's Content-Security-Policy (the browser says so on the console), or a page without one. */
  cspProblems() {
    return this.lines.filter((l) => /Content Security Policy|\] csp:/.test(l));
  }

  attach(context) {
    const seen = new WeakSet();
    const messages = new WeakSet();
    const once = (m) => !messages.has(m) && messages.add(m);
    const onWorker = (prefix) => (w) => {
      if (seen.has(w)) return;
      seen.add(w);
      this.add(prefix, `started ${w.url()}`);
      w.on('console', (m) => once(m) && this.add(`${prefix} console.${m.type()}`, m.text()));
      w.on('close', () => this.add(prefix, `closed ${w.url()}`));
      // Inside the worker an uncaught error still has its stack (a wasm trap's names the Rust functions).
      w.evaluate(() => {
        Error.stackTraceLimit = 40;
        self.addEventListener('error', (e) => console.error(`[e2e] uncaught in worker: ${e.error?.stack ?? e.message}`));
        self.addEventListener('unhandledrejection', (e) => console.error(`[e2e] unhandled rejection in worker: ${e.reason?.stack ?? e.reason}`));
      }).catch(() => {});
    };
    const onPage = (page) => {
      page.on('console', (m) => once(m) && this.add(`console.${m.type()}`, m.text()));
      page.on('pageerror', (e) => this.add('pageerror', e.stack || String(e)));
      page.on('worker', onWorker('worker'));
      page.on('crash', () => this.add('crash', 'the page crashed'));
      page.on('dialog', (d) => {
        this.add('dialog', `${d.type()}: ${d.message()} (accepted)`);
        d.accept().catch(() => {});
      });
    };
    context.pages().forEach(onPage);
    context.on('page', onPage);
    context.on('serviceworker', onWorker('sw'));
    context.on('weberror', (e) => this.add('weberror', e.error()?.stack || String(e.error())));
    context.on('requestfailed', (r) => this.add('requestfailed', `${r.method()} ${r.url()} ${r.failure()?.errorText ?? ''}`));
    context.on('response', (r) => {
      if (r.status() >= 400) this.add('http', `${r.status()} ${r.request().method()} ${r.url()}`);
      // Every page the centre serves comes with its policy: a page without one would pass the check below vacuously.
      if (r.request().isNavigationRequest() && r.status() < 400 && !r.headers()['content-security-policy']) {
        this.add('csp', `no Content-Security-Policy header on ${r.url()}`);
      }
    });
    // The context's 'console' event sees messages from pages and workers again; it adds what the others missed.
    context.on('console', (m) => {
      if (m.page()) return;
      if (once(m)) this.add(`${m.worker() ? 'sw' : 'ctx'} console.${m.type()}`, m.text());
    });
  }

  /**
   * An uncaught error inside a dedicated worker (a wasm trap, say) reaches only the page's Worker object; this
   * init script logs such errors to the page's console so they show in the log. It changes nothing else.
   */
  static async watchWorkers(context) {
    await context.addInitScript(() => {
      const Native = globalThis.Worker;
      if (!Native || Native.__e2e) return;
      class Watched extends Native {
        constructor(...args) {
          super(...args);
          const url = String(args[0]);
          this.addEventListener('error', (e) =>
            console.error(`[e2e] uncaught error in worker ${url}: ${e.message} (${e.filename}:${e.lineno}:${e.colno})`),
          );
          this.addEventListener('messageerror', () => console.error(`[e2e] messageerror from worker ${url}`));
        }
      }
      Watched.__e2e = true;
      globalThis.Worker = Watched;
    });
  }

  dump(max = 200) {
    const tail = this.lines.slice(-max);
    console.error(`---- browser log (last ${tail.length} of ${this.lines.length} lines) ----`);
    for (const l of tail) console.error(l);
    console.error('---- end of browser log ----');
  }
}

/** Numbered screenshots in a folder made fresh: NN-name.png. */
export class Screens {
  constructor(dir) {
    this.dir = dir;
    this.n = 0;
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
  }

  async shot(page, name, opts = {}) {
    this.n += 1;
    const file = path.join(this.dir, `${String(this.n).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path: file, timeout: 15000, ...opts });
    log(`  screenshot ${path.relative(REPO, file)}`);
    return file;
  }

  async failShot(page, step) {
    const file = path.join(this.dir, `FAIL-${step.replace(/[^A-Za-z0-9_.-]+/g, '_')}.png`);
    try {
      await page.screenshot({ path: file, timeout: 10000 });
      console.error(`failure screenshot: ${path.relative(REPO, file)}`);
    } catch (e) {
      console.error(`(no failure screenshot: ${firstLine(e)})`);
    }
  }
}

/** Draws a zig-zag on a canvas-like element with the mouse. */
export async function drawSignature(page, locator) {
  await locator.scrollIntoViewIfNeeded({ timeout: 5000 });
  const box = await locator.boundingBox({ timeout: 5000 });
  if (!box) throw new E2EError('the signature pad has no box (not visible)');
  const x0 = box.x + box.width * 0.15;
  const y0 = box.y + box.height * 0.5;
  await page.mouse.move(x0, y0);
  await page.mouse.down();
  for (let i = 1; i <= 24; i++) {
    const x = x0 + (box.width * 0.7 * i) / 24;
    const y = y0 + Math.sin(i / 2) * box.height * 0.3;
    await page.mouse.move(x, y, { steps: 2 });
  }
  await page.mouse.up();
}

// ---------------------------------------------------------------------------------------------------------------
// Figures

/** Every .wasm and .js under `dir` (but paths matching `skip`) with raw and gzip -9 sizes. */
export function webBuildSizes(dir, skip = null) {
  const files = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (skip && skip.test(p)) continue;
      if (e.isDirectory()) walk(p);
      else if (/\.(wasm|js|mjs)$/.test(e.name)) {
        const buf = fs.readFileSync(p);
        files.push({ file: path.relative(REPO, p), raw: buf.length, gzip9: zlib.gzipSync(buf, { level: 9 }).length });
      }
    }
  };
  walk(dir);
  files.sort((a, b) => b.gzip9 - a.gzip9);
  const total = files.reduce((s, f) => ({ raw: s.raw + f.raw, gzip9: s.gzip9 + f.gzip9 }), { raw: 0, gzip9: 0 });
  return { files, total, wasm: files.filter((f) => f.file.endsWith('.wasm')) };
}

export const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;

/** Prints rows of [label, value] as a two-column table. */
export function printTable(title, rows) {
  const w = Math.max(...rows.map((r) => r[0].length), title.length);
  const v = Math.max(...rows.map((r) => String(r[1]).length));
  const line = `+-${'-'.repeat(w)}-+-${'-'.repeat(v)}-+`;
  console.log(line);
  console.log(`| ${title.padEnd(w)} | ${''.padEnd(v)} |`);
  console.log(line);
  for (const [a, b] of rows) console.log(`| ${a.padEnd(w)} | ${String(b).padStart(v)} |`);
  console.log(line);
}

// ---------------------------------------------------------------------------------------------------------------
// Running a suite

/**
 * Runs a suite with an overall bound: `body(ctx)` gets `step(name, fn)`, which on failure takes FAIL-<name>.png,
 * dumps the browser log and the centre log's tail, calls `report` (the figures so far), and exits 1. `cleanup` runs
 * on every exit path.
 */
export function makeRunner({ screens, consoleLog, getPage, cleanup, overallMs, centreLog, report }) {
  let current = 'start';
  let failed = false;

  const fail = async (stepName, err) => {
    if (failed) return;
    failed = true;
    // Playwright's messages repeat their call log; the first lines say it all.
    const msg = String(err?.message ?? err).split('\n').filter((l) => l.trim()).slice(0, 4).join('\n  ');
    console.error(`\nFAILED at step “${stepName}”: ${msg}`);
    const where = err?.stack?.split('\n').find((l) => /staff\.mjs|coordinator\.mjs|lib\.mjs/.test(l));
    if (where) console.error(`  (${where.trim()})`);
    const page = getPage();
    if (page && screens) await within('failure screenshot', 12000, screens.failShot(page, stepName)).catch(() => {});
    consoleLog?.dump();
    if (centreLog && fs.existsSync(centreLog)) {
      const lines = fs.readFileSync(centreLog, 'utf8').trimEnd().split('\n');
      console.error(`---- centre log (last 40 of ${lines.length} lines; all in ${path.relative(REPO, centreLog)}) ----`);
      for (const l of lines.slice(-40)) console.error(l);
    }
    try {
      report?.();
    } catch (e) {
      console.error(`(no figures: ${firstLine(e)})`);
    }
    await within('cleanup', 15000, Promise.resolve().then(cleanup)).catch(() => {});
    killChildren();
    console.error(`\n${path.basename(process.argv[1] ?? 'e2e', '.mjs')} e2e: FAILED at step “${stepName}”`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  };

  const watchdog = setTimeout(() => {
    fail(current, new E2EError(`the whole suite ran past its bound of ${overallMs / 1000} s`)).finally(() => process.exit(1));
    // If even the failure path hangs, leave anyway.
    setTimeout(() => process.exit(1), 30000).unref();
  }, overallMs);
  watchdog.unref();
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => fail(current, new E2EError(`interrupted (${sig})`)));
  process.on('unhandledRejection', (e) => fail(current, e));

  let cspSeen = 0;
  async function step(name, fn) {
    current = name;
    log(`▶ ${name}`);
    try {
      const out = await fn();
      // The app and the desk work under the centre's Content-Security-Policy: no step may break it.
      const csp = consoleLog?.cspProblems() ?? [];
      if (csp.length > cspSeen) {
        const fresh = csp.slice(cspSeen);
        cspSeen = csp.length;
        throw new E2EError(`the Content-Security-Policy was broken: ${fresh.join(' | ')}`);
      }
      return out;
    } catch (e) {
      await fail(name, e);
      throw e; // not reached
    }
  }

  return {
    step,
    fail,
    get current() {
      return current;
    },
    done() {
      clearTimeout(watchdog);
    },
  };
}
