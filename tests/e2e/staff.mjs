// The staff member's evening, end to end: a real centre with the demo town, the built web app in Debian's Chromium
// (390×844, headless), enrolment, tonight's route of 60 tasks, two deliveries with full proof (one online, one
// offline), a failed attempt offline, a reload while offline, and the sync once back online, checked at the centre;
// then a door card booked by the resident, households without phones, the live viewfinder, and a new build of the
// app offered while it is open.
// Screenshots of every screen go to target/e2e-screens/staff/NN-name.png; figures are printed and written to
// target/e2e-screens/staff/figures.json. Exits 1 with FAIL-<step>.png and the browser's log on any failure.
//
//   node tests/e2e/staff.mjs          (needs target/web and target/debug/jx-centre; scripts/e2e.sh builds both)
//
// Env: E2E_TIMEOUT_S (overall bound, default 360), JX_CHROMIUM (browser binary).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  Api,
  ConsoleLog,
  E2EError,
  REPO,
  Screens,
  VIEWPORT,
  drawSignature,
  firstLine,
  kib,
  launchBrowser,
  log,
  makeRunner,
  median,
  printTable,
  startCentre,
  until,
  webBuildSizes,
  within,
} from './lib.mjs';

const OVERALL_MS = Number(process.env.E2E_TIMEOUT_S ?? 360) * 1000;
const SCREEN_DIR = path.join(REPO, 'target/e2e-screens/staff');
const WEB_DIR = path.join(REPO, 'target/web');
const N_TASKS = 60;
const STAFF_LOGIN = 's01';
const FAIL_NOTE = 'e2e: nobody answered the door, tried twice';

const tid = (id) => `[data-testid="${id}"]`;
const ROW = tid('task-row');
const OPEN_ROW = `${ROW}:is([data-status="assigned"],[data-status="checked_out"])`;

const screens = new Screens(SCREEN_DIR);
const consoleLog = new ConsoleLog();
const warnings = [];
const warn = (m) => {
  warnings.push(m);
  log(`  warning: ${m}`);
};
const figures = { suite: 'staff', ok: false, started_at: new Date().toISOString() };
const summary = []; // what the centre says of tonight's work, for the closing table
let centre, browser, context, page, tmpDir, appDir;

async function cleanup() {
  if (browser) await within('closing the browser', 10000, browser.close()).catch(() => {});
  browser = null;
  if (centre) await centre.stop().catch(() => {});
  centre = null;
  if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
  if (appDir) fs.rmSync(appDir, { recursive: true, force: true });
  try {
    fs.writeFileSync(path.join(SCREEN_DIR, 'figures.json'), JSON.stringify(figures, null, 2) + '\n');
  } catch {
    /* best effort */
  }
}

const runner = makeRunner({
  screens,
  consoleLog,
  getPage: () => page,
  cleanup,
  overallMs: OVERALL_MS,
  centreLog: path.join(SCREEN_DIR, 'centre.log'),
  report: () => printFigures(),
});
const { step } = runner;

// ---------------------------------------------------------------------------------------------------------------
// Page helpers (DOM contract only)

const visible = (sel, ms = 15000) => page.locator(sel).first().waitFor({ state: 'visible', timeout: ms });
const onScreen = (name, ms = 15000) => visible(tid(name), ms);
const click = (sel) => page.locator(sel).first().click({ timeout: 10000 });
const attr = (sel, name) => page.locator(sel).first().getAttribute(name, { timeout: 5000 });
const rowCount = () => page.locator(ROW).count();
const visibleErrors = async () => {
  const texts = [];
  for (const e of await page.locator(tid('error')).all()) if (await e.isVisible()) texts.push((await e.innerText()).trim());
  return texts;
};

async function progressIs(done) {
  const text = (await page.locator(tid('progress')).first().innerText({ timeout: 5000 })).replace(/\s+/g, '');
  return new RegExp(`(^|\\D)${done}/${N_TASKS}(\\D|$)`).test(text) ? text : false;
}

async function waitProgress(done, ms = 15000) {
  await until(`progress to show ${done}/${N_TASKS}`, () => progressIs(done), { ms }).catch(async (e) => {
    const now = await page.locator(tid('progress')).first().innerText({ timeout: 2000 }).catch(() => '(none)');
    throw new E2EError(`${e.message}; [data-testid=progress] reads ${JSON.stringify(now)}`);
  });
}

async function chip() {
  const c = page.locator(tid('sync-chip')).first();
  return { state: await c.getAttribute('data-state', { timeout: 5000 }), waiting: Number(await c.getAttribute('data-waiting', { timeout: 5000 })) };
}

async function waitChip(what, pred, ms) {
  let last;
  await until(
    `the sync chip to be ${what}`,
    async () => {
      last = await chip();
      return pred(last);
    },
    { ms, every: 250 },
  ).catch((e) => {
    throw new E2EError(`${e.message.split('; last')[0]}; it is data-state=${last?.state} data-waiting=${last?.waiting}`);
  });
  return last;
}

const handoffStep = () => attr(tid('handoff'), 'data-step');
async function waitHandoffStep(want, ms = 30000) {
  let last;
  await until(
    `handoff data-step=${want}`,
    async () => {
      last = await handoffStep();
      return last === want;
    },
    { ms },
  ).catch(async (e) => {
    const errs = await visibleErrors().catch(() => []);
    throw new E2EError(`timed out after ${ms / 1000} s waiting for handoff data-step=${want}; it is ${last}${errs.length ? `; error shown: ${JSON.stringify(errs)}` : ''}`);
  });
}

/** Performs `action` and waits for an error that was not on screen before it. */
async function expectError(what, action, ms = 30000) {
  const before = await visibleErrors();
  await action();
  const errs = await until(
    `[data-testid=error] after ${what}`,
    async () => {
      const now = await visibleErrors();
      return now.length && now.join('|') !== before.join('|') ? now : false;
    },
    { ms },
  ).catch(async (e) => {
    const now = await visibleErrors();
    if (now.length) {
      warn(`after ${what} the error shown is the same as before it (${JSON.stringify(now)}); taken as the refusal`);
      return now;
    }
    throw e;
  });
  log(`  refused as expected: ${JSON.stringify(errs)}`);
  return errs;
}

// ---------------------------------------------------------------------------------------------------------------
// The scenario

let coord; // the coordinator's API client
let staffId;
const tasks = { ids: [], pos: new Map(), done: [] };
const household = {};
let jpegPath;

async function openTask(id, { shot } = {}) {
  const p = tasks.pos.get(id);
  if (p) await context.setGeolocation({ latitude: p.lat, longitude: p.lng, accuracy: 8 });
  const row = page.locator(`${ROW}[data-task="${id}"]`).first();
  await row.click({ timeout: 10000 });
  await onScreen('task');
  const href = await attr(tid('call'), 'href');
  if (!href?.startsWith('tel:')) throw new E2EError(`[data-testid=call] href is ${JSON.stringify(href)}, not tel:…`);
  if (shot) await screens.shot(page, shot);
}

/** One delivery through every proof step; `wrong` also tries a wrong packet and a wrong code first. */
// The resident's moment on the phone: its text at least twice the app's normal size and WCAG AA contrast.
async function checkResidentScreen(label) {
  await page.waitForSelector(tid('resident'), { timeout: 10000 });
  const m = await page.evaluate(() => {
    const px = (el) => parseFloat(getComputedStyle(el).fontSize);
    const rgb = (c) => (c.match(/[\d.]+/g) || []).slice(0, 3).map(Number);
    const lum = ([r, g, b]) => {
      const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const q = document.querySelector('[data-testid="resident-question"]');
    const root = document.querySelector('[data-testid="resident"]');
    const normal = px(document.querySelector('.app'));
    const [a, b] = [lum(rgb(getComputedStyle(q).color)), lum(rgb(getComputedStyle(root).backgroundColor))];
    const contrast = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const texts = [...root.querySelectorAll('p, button, label')].map((e) => px(e));
    return { normal, question: px(q), smallest: Math.min(...texts), contrast, voice: !!document.querySelector('[data-testid="speak"]'), silent: !!document.querySelector('[data-testid="no-voice"]') };
  });
  log(`  resident screen (${label}): text ${m.question}px (smallest ${m.smallest}px) vs normal ${m.normal}px, contrast ${m.contrast.toFixed(1)}:1, ${m.voice ? 'reads aloud' : m.silent ? 'no voice here, says so' : 'no voice notice!'}`);
  if (m.question < 2 * m.normal) throw new E2EError(`the resident's question is ${m.question}px, less than twice the normal ${m.normal}px`);
  if (m.contrast < 4.5) throw new E2EError(`the resident's screen contrast is ${m.contrast.toFixed(2)}:1, below WCAG AA 4.5:1`);
  if (!m.voice && !m.silent) throw new E2EError('the resident screen neither reads aloud nor says it cannot');
  figures.resident_screen = m;
  await screens.shot(page, `resident-${label}`);
}

async function deliver(id, { wrong = false, shots = false, label, killAfterPacket = false, resident = false }) {
  const [packet, code] = await Promise.all([coord.qrPng(id, 'packet'), coord.residentCode(id)]);
  await openTask(id, { shot: shots && `${label}-task` });
  await click(tid('start-handoff'));
  await onScreen('handoff');
  await waitHandoffStep('packet', 15000);
  if (shots) await screens.shot(page, `${label}-handoff-packet`);

  if (wrong) {
    const other = tasks.ids.find((t) => t !== id && !tasks.done.includes(t));
    const otherPng = await coord.qrPng(other, 'packet');
    await expectError('another task’s packet label', () =>
      page.locator(tid('packet-photo')).first().setInputFiles({ name: 'other-packet.png', mimeType: 'image/png', buffer: otherPng }),
    );
    const s = await handoffStep();
    if (s !== 'packet') throw new E2EError(`another task's packet label moved the handoff on to data-step=${s}`);
    await screens.shot(page, `${label}-wrong-packet`);
  }
  await page.locator(tid('packet-photo')).first().setInputFiles({ name: 'packet.png', mimeType: 'image/png', buffer: packet });
  await waitHandoffStep('confirm');
  if (shots) await screens.shot(page, `${label}-handoff-confirm`);
  if (killAfterPacket) {
    // The app is closed mid-handoff (here: the page reloaded, offline). It must open again at the same step.
    await page.reload({ waitUntil: 'domcontentloaded' });
    await onScreen('handoff', 30000);
    await waitHandoffStep('confirm', 30000);
    log('  reloaded mid-handoff: it reopened at the resident\'s confirmation, the packet scan kept');
    await screens.shot(page, `${label}-resumed-after-reload`);
  }

  if (wrong) {
    const bad = code === '000000' ? '111111' : '000000';
    await expectError('a wrong resident code', async () => {
      await page.locator(tid('code-input')).first().fill(bad, { timeout: 10000 });
      await click(tid('code-submit'));
    });
    const s = await handoffStep();
    if (s !== 'confirm') throw new E2EError(`a wrong resident code moved the handoff on to data-step=${s}`);
    await screens.shot(page, `${label}-wrong-code`);
  }
  if (resident) {
    // The phone is turned to the resident, who types the code on their own screen.
    await click(tid('resident-mode'));
    await checkResidentScreen('confirm');
    await page.locator(tid('resident-code-input')).first().fill(code, { timeout: 10000 });
    await click(tid('resident-code-submit'));
  } else {
    await page.locator(tid('code-input')).first().fill(code, { timeout: 10000 });
    await click(tid('code-submit'));
  }
  await waitHandoffStep('photo');
  if (shots) await screens.shot(page, `${label}-handoff-photo`);

  await page.locator(tid('handoff-photo')).first().setInputFiles(jpegPath);
  let s;
  await until('the handoff to move on from data-step=photo', async () => (s = await handoffStep()) !== 'photo' && s, { ms: 30000 }).catch(
    async (e) => {
      const errs = await visibleErrors().catch(() => []);
      throw new E2EError(`${e.message}${errs.length ? `; error shown: ${JSON.stringify(errs)}` : ''}`);
    },
  );
  if (s === 'signature') {
    warn(`a delivery confirmed by code asked for a signature too (data-step=signature after photo)`);
    await drawSignature(page, page.locator(tid('signature-pad')).first());
    await click(tid('signature-done'));
    await until('the handoff to move on from data-step=signature', async () => (s = await handoffStep()) !== 'signature' && s, { ms: 15000 });
  }
  if (s !== 'rating') throw new E2EError(`after the photo the handoff is at data-step=${s}, expected rating`);
  if (shots) await screens.shot(page, `${label}-handoff-rating`);
  if (resident) {
    await click(tid('resident-mode'));
    await checkResidentScreen('rating');
    await click(tid('resident-rate-5'));
  } else {
    await click(tid('rate-5'));
  }
  await waitHandoffStep('ready', 15000);
  await screens.shot(page, `${label}-handoff-ready`);
  await click(tid('finish'));
  await onScreen('tonight', 20000);
  tasks.done.push(id);
  await waitRowStatus(id, ['delivered']);
}

/** One door card off a freshly printed roll: its URL and a PNG of its QR, rendered by the browser. */
async function doorCard() {
  const html = await coord.text('/print/door-cards?count=1');
  const ctx = await browser.newContext({ deviceScaleFactor: 3 });
  try {
    const p = await ctx.newPage();
    await p.setContent(html, { waitUntil: 'load' });
    const url = await p.locator('.card').first().getAttribute('data-url');
    const png = await p.locator('.card svg').first().screenshot();
    return { url, png };
  } finally {
    await ctx.close();
  }
}

async function waitRowStatus(id, want) {
  let last;
  await until(
    `row ${id} to show data-status ∈ {${want}}`,
    async () => {
      const row = page.locator(`${ROW}[data-task="${id}"]`);
      if ((await row.count()) === 0) return 'gone';
      last = await row.first().getAttribute('data-status', { timeout: 3000 });
      return want.includes(last);
    },
    { ms: 15000 },
  ).catch((e) => {
    throw new E2EError(`${e.message.split('; last')[0]}; it is ${last}`);
  });
}

async function nextOpen(kind) {
  const rows = page.locator(kind ? `${OPEN_ROW}[data-kind="${kind}"]` : OPEN_ROW);
  for (const r of await rows.all()) {
    const id = await r.getAttribute('data-task');
    // The household-card and family-member deliveries are kept for their own step.
    if (!tasks.done.includes(id) && id !== household.card?.task && id !== household.proxy?.task) return id;
  }
  throw new E2EError(`no open ${kind ?? ''} task row left on tonight`);
}

async function outboxRows() {
  const rows = await page.locator(tid('outbox-row')).all();
  const statuses = [];
  for (const r of rows) statuses.push(await r.getAttribute('data-status'));
  const count = (s) => statuses.filter((x) => x === s).length;
  // pending: never tried; sent: tried, no answer kept. Either way still on the phone, waiting for the centre.
  return { total: statuses.length, statuses, pending: count('pending'), sent: count('sent'), waiting: count('pending') + count('sent'), rejected: count('rejected') };
}

// ---------------------------------------------------------------------------------------------------------------

await step('web-build-sizes', async () => {
  if (!fs.existsSync(WEB_DIR)) throw new E2EError(`no web build at ${WEB_DIR}: run scripts/build-web.sh`);
  // What a phone downloads: everything but the coordinator's desk (its own page and module).
  const sizes = webBuildSizes(WEB_DIR, /[\\/]desk$/);
  if (!sizes.wasm.length) throw new E2EError(`no .wasm under ${WEB_DIR}`);
  figures.web_build = sizes;
  figures.desk_build = webBuildSizes(path.join(WEB_DIR, 'desk')).total;
  log(`  the phone's download: ${sizes.files.length} .wasm/.js files, ${kib(sizes.total.gzip9)} gzip -9 (the desk, apart: ${kib(figures.desk_build.gzip9)})`);
});

await step('start-centre', async () => {
  // A copy of the build, so that the app-update step can put a new one in its place.
  appDir = fs.mkdtempSync(path.join(os.tmpdir(), 'jx-e2e-app-'));
  fs.cpSync(WEB_DIR, appDir, { recursive: true });
  centre = await startCentre({ appDir, logFile: path.join(SCREEN_DIR, 'centre.log') });
  log(`  centre at ${centre.origin}`);
});

await step('assign-60-tasks', async () => {
  coord = await Api.login(centre.api, 'c1');
  const staff = await coord.get('/staff');
  staffId = staff.find((s) => s.login === STAFF_LOGIN)?.id;
  if (!staffId) throw new E2EError(`no staff member with login ${STAFF_LOGIN} in GET /staff`);
  const created = await coord.get('/tasks?status=created');
  const pick = [...created.filter((t) => t.kind === 'delivery'), ...created.filter((t) => t.kind !== 'delivery')].slice(0, N_TASKS);
  if (pick.length < N_TASKS) throw new E2EError(`only ${pick.length} created tasks in the demo town`);
  if (pick.filter((t) => t.kind === 'delivery').length < 3) throw new E2EError('fewer than 3 created deliveries');
  // A few at a time: the centre is on 2 busy cores.
  for (let i = 0; i < pick.length; i += 6) {
    await Promise.all(pick.slice(i, i + 6).map((t) => coord.post(`/tasks/${t.id}/decisions`, { assign: { staff: staffId } })));
  }
  tasks.ids = pick.map((t) => t.id);
  // Two residents without phones: one gets a household card, another a family member who may receive for them.
  const deliveries = pick.filter((t) => t.kind === 'delivery');
  const [withCard, withProxy] = [deliveries[deliveries.length - 1].id, deliveries[deliveries.length - 2].id];
  const residentOf = async (id) => (await coord.get(`/tasks/${id}`)).task.resident;
  const rCard = await residentOf(withCard);
  const card = await coord.post(`/residents/${rCard}/card`, {});
  household.card = { task: withCard, resident: rCard, serial: card.serial, code: card.code, png: (await coord.bytes(`/residents/${rCard}/card?format=png`)).buf };
  const rProxy = await residentOf(withProxy);
  const proxy = await coord.post(`/residents/${rProxy}/proxies`, { name: '李小红', relation: '女儿' });
  household.proxy = { task: withProxy, resident: rProxy, id: proxy.id, code: proxy.code };
  log(`  household card No. ${card.serial} for the resident of ${withCard}; family member ${proxy.id} for the resident of ${withProxy}`);
  const route = await coord.get(`/staff/${staffId}/route`);
  for (const stop of route.stops) for (const t of stop.tasks) tasks.pos.set(t, stop.position);
  const placed = tasks.ids.filter((t) => tasks.pos.has(t)).length;
  figures.route = { stops: route.stops.length, green_stops: route.stops.filter((s) => s.green).length, walk_m: Math.round(route.walk_m) };
  log(`  assigned ${pick.length} tasks (${pick.filter((t) => t.kind === 'delivery').length} deliveries) to ${STAFF_LOGIN} = staff ${staffId}; route: ${route.stops.length} stops, ${placed} tasks placed`);
  if (placed < N_TASKS) warn(`${N_TASKS - placed} tasks have no position on the route; their handoffs use the last position set`);
});

await step('open-browser', async () => {
  browser = await launchBrowser();
  const first = tasks.pos.get(tasks.ids[0]) ?? { lat: 31.2304, lng: 121.4737 };
  context = await browser.newContext({
    viewport: VIEWPORT,
    geolocation: { latitude: first.lat, longitude: first.lng, accuracy: 8 },
    permissions: ['geolocation'],
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
  });
  consoleLog.attach(context);
  await ConsoleLog.watchWorkers(context);
  page = await context.newPage();
  page.setDefaultTimeout(15000);
  page.setDefaultNavigationTimeout(30000);
  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'jx-e2e-'));
  jpegPath = path.join(tmpDir, 'doorstep.jpg');
});

await step('enrol', async () => {
  await page.goto(centre.origin + '/', { waitUntil: 'domcontentloaded' });
  await onScreen('enrol', 60000);
  const url = await page.locator('#centre-url').inputValue({ timeout: 5000 });
  if (url.replace(/\/+$/, '') !== centre.origin) throw new E2EError(`#centre-url is pre-filled with ${JSON.stringify(url)}, not the page origin ${centre.origin}`);
  await screens.shot(page, 'enrol');
  await page.fill('#login', STAFF_LOGIN);
  await page.fill('#password', 'not-the-password');
  await expectError('a wrong password', () => click(tid('enrol-submit')));
  if (!(await page.locator(tid('enrol')).first().isVisible())) throw new E2EError('a wrong password left the enrol screen');
  await screens.shot(page, 'enrol-wrong-password');
  await page.fill('#password', 'jx-demo-2026');
  const t = performance.now();
  await click(tid('enrol-submit'));
  await onScreen('tonight', 60000);
  await until(`${N_TASKS} [data-testid=task-row] on tonight`, async () => (await rowCount()) === N_TASKS, { ms: 60000 }).catch(async (e) => {
    throw new E2EError(`${e.message.split('; last')[0]}; there are ${await rowCount()}`);
  });
  figures.enrol_to_60_rows_ms = Math.round(performance.now() - t);
  await waitProgress(0);
  const stops = await page.locator(tid('stop')).count();
  const green = await page.locator(`${ROW} ${tid('green')}`).count();
  figures.tonight = { rows: N_TASKS, stops, rows_with_green: green };
  log(`  tonight: ${N_TASKS} rows, ${stops} stops (centre's route: ${figures.route.stops}), ${green} rows marked green; chip ${JSON.stringify(await chip())}`);
  if (stops === 0) warn('tonight shows no [data-testid=stop]');
  await screens.shot(page, 'tonight');
});

await step('tonight-toggles', async () => {
  for (const [id, name] of [['theme', 'tonight-theme-toggled'], ['large-text', 'tonight-large-text'], ['lang', 'tonight-lang-toggled']]) {
    const el = page.locator(tid(id)).first();
    if ((await page.locator(tid(id)).count()) === 0 || !(await el.isVisible())) {
      warn(`no visible [data-testid=${id}] on tonight`);
      continue;
    }
    const tag = await el.evaluate((e) => e.tagName);
    if (tag === 'SELECT') {
      const before = await el.inputValue();
      const values = await el.locator('option').evaluateAll((os) => os.map((o) => o.value));
      const other = values.find((v) => v !== before);
      if (!other) continue;
      await el.selectOption(other);
      await page.waitForTimeout(300);
      await screens.shot(page, name);
      await el.selectOption(before);
    } else {
      await el.click();
      await page.waitForTimeout(300);
      await screens.shot(page, name);
      await el.click();
    }
    await page.waitForTimeout(200);
  }
  await onScreen('tonight');
  await waitProgress(0);
});

await step('measure-load', async () => {
  const samples = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await page.reload({ waitUntil: 'commit' });
    await page.locator(ROW).nth(N_TASKS - 1).waitFor({ state: 'visible', timeout: 60000 });
    samples.push(Math.round(performance.now() - t));
  }
  const n = await rowCount();
  if (n !== N_TASKS) throw new E2EError(`after reloading tonight shows ${n} rows, not ${N_TASKS}`);
  const sw = await page.evaluate(() => !!navigator.serviceWorker?.controller).catch(() => false);
  figures.tonight_60_rows_ms = { median: median(samples), samples };
  figures.service_worker_controls_page = sw;
  log(`  navigation → 60th row visible: ${samples.join(', ')} ms (median ${median(samples)}); service worker controls the page: ${sw}`);
  if (!sw) warn('no service worker controls the page after 3 reloads (offline reload will likely fail)');
  await page.screenshot({ path: jpegPath, type: 'jpeg', quality: 85 });
});

await step('delivery-1-online', async () => {
  const id = await nextOpen('delivery');
  log(`  task ${id}`);
  await deliver(id, { wrong: true, shots: true, label: 'delivery1', resident: true });
  await waitProgress(1);
  await screens.shot(page, 'tonight-after-delivery1');
  const t = performance.now();
  const c = await waitChip('synced with nothing waiting', (c) => c.state === 'synced' && c.waiting === 0, 60000);
  figures.online_delivery_synced_ms = Math.round(performance.now() - t);
  log(`  chip ${JSON.stringify(c)} after ${figures.online_delivery_synced_ms} ms`);
});

await step('go-offline', async () => {
  await context.setOffline(true);
  await waitChip('offline', (c) => c.state === 'offline', 15000);
});

await step('delivery-2-offline', async () => {
  const id = await nextOpen('delivery');
  log(`  task ${id}`);
  await deliver(id, { label: 'delivery2', killAfterPacket: true });
  await waitProgress(2);
});

await step('failed-attempt-offline', async () => {
  const id = await nextOpen();
  log(`  task ${id}`);
  tasks.failed = id;
  await openTask(id);
  await click(tid('start-fail'));
  await onScreen('fail');
  await screens.shot(page, 'fail');
  await click(tid('reason-nobody_home'));
  await page.fill('#fail-note', FAIL_NOTE);
  // A door card off the printed roll: its QR photographed, then left at the door.
  const card = await doorCard();
  await page.locator(tid('door-card-photo')).first().setInputFiles({ name: 'door-card.png', mimeType: 'image/png', buffer: card.png });
  await visible(tid('door-card'), 20000);
  tasks.card = card.url;
  log(`  door card ${await attr(tid('door-card'), 'data-card')} read`);
  await screens.shot(page, 'fail-filled');
  await click(tid('fail-submit'));
  await onScreen('tonight', 20000);
  tasks.done.push(id);
  await waitRowStatus(id, ['attempt_failed']);
  await waitProgress(3);
  const c = await waitChip('offline with ≥ 2 waiting', (c) => c.state === 'offline' && c.waiting >= 2, 15000);
  figures.offline_waiting = c.waiting;
  log(`  chip ${JSON.stringify(c)}`);
  await screens.shot(page, 'tonight-offline');
});

let outboxBefore;
await step('outbox-offline', async () => {
  await click(tid('open-outbox'));
  await onScreen('outbox');
  await until('≥ 2 waiting (pending or sent) [data-testid=outbox-row]', async () => (await outboxRows()).waiting >= 2, { ms: 10000 }).catch(async (e) => {
    throw new E2EError(`${e.message.split('; last')[0]}; rows: ${JSON.stringify((await outboxRows()).statuses)}`);
  });
  outboxBefore = await outboxRows();
  log(`  outbox: ${JSON.stringify(outboxBefore.statuses)}`);
  if (outboxBefore.sent) warn(`offline, the outbox shows ${outboxBefore.sent} row(s) as data-status=sent (never left the phone), not pending`);
  if (outboxBefore.total < 3) warn(`the outbox lists ${outboxBefore.total} rows, fewer than the 3 items recorded tonight`);
  await screens.shot(page, 'outbox-offline');
  await click(tid('back'));
  await onScreen('tonight');
});

await step('reload-offline', async () => {
  const waitingBefore = (await chip()).waiting;
  try {
    await page.reload({ waitUntil: 'commit', timeout: 30000 });
  } catch (e) {
    throw new E2EError(`reloading while offline failed (is a service worker serving the app?): ${firstLine(e)}`);
  }
  await onScreen('tonight', 60000);
  await until(`${N_TASKS} rows after the offline reload`, async () => (await rowCount()) === N_TASKS, { ms: 30000 }).catch(async (e) => {
    throw new E2EError(`${e.message.split('; last')[0]}; there are ${await rowCount()}`);
  });
  await waitProgress(3);
  const c = await waitChip(`offline with ${waitingBefore} waiting`, (c) => c.state === 'offline' && c.waiting === waitingBefore, 15000);
  log(`  chip ${JSON.stringify(c)}`);
  await screens.shot(page, 'tonight-offline-reloaded');
  await click(tid('open-outbox'));
  await onScreen('outbox');
  const after = await until('the outbox rows to come back', async () => {
    const o = await outboxRows();
    return o.total >= outboxBefore.total && o.waiting >= outboxBefore.waiting ? o : false;
  }, { ms: 10000 }).catch(async (e) => {
    throw new E2EError(`after the offline reload the outbox holds ${JSON.stringify((await outboxRows()).statuses)}, before it ${JSON.stringify(outboxBefore.statuses)}`);
  });
  log(`  outbox: ${JSON.stringify(after.statuses)}`);
  await screens.shot(page, 'outbox-offline-reloaded');
  await click(tid('back'));
  await onScreen('tonight');
});

// The store on the phone is encrypted: read every file of the origin's private file system from the page and look
// for what a plain SQLite store always holds (its header, and the packet codes in the handoff events).
await step('store-encrypted-at-rest', async () => {
  const found = await page.evaluate(async () => {
    const enc = new TextEncoder();
    const needles = { header: enc.encode('SQLite format 3'), qr: enc.encode('JX1:') };
    const hits = { header: 0, qr: 0 };
    let files = 0, bytes = 0;
    const has = (hay, n) => {
      outer: for (let i = 0; i + n.length <= hay.length; i++) {
        for (let j = 0; j < n.length; j++) if (hay[i + j] !== n[j]) continue outer;
        return true;
      }
      return false;
    };
    async function walk(dir) {
      for await (const [, h] of dir.entries()) {
        if (h.kind === 'directory') { await walk(h); continue; }
        const buf = new Uint8Array(await (await h.getFile()).arrayBuffer());
        files += 1; bytes += buf.length;
        for (const [k, n] of Object.entries(needles)) if (has(buf, n)) hits[k] += 1;
      }
    }
    await walk(await navigator.storage.getDirectory());
    return { files, bytes, hits };
  });
  log(`  private file system: ${found.files} files, ${kib(found.bytes)}; plain SQLite headers ${found.hits.header}, packet codes ${found.hits.qr}`);
  figures.opfs = found;
  if (found.bytes < 64 * 1024) throw new E2EError(`the private file system holds only ${found.bytes} bytes: the store is not where it is looked for`);
  if (found.hits.header || found.hits.qr) throw new E2EError(`the store is readable at rest: ${JSON.stringify(found.hits)}`);
});

await step('back-online-sync', async () => {
  const t = performance.now();
  await context.setOffline(false);
  const c = await waitChip('synced with nothing waiting', (c) => c.state === 'synced' && c.waiting === 0, 90000);
  figures.back_online_synced_ms = Math.round(performance.now() - t);
  log(`  chip ${JSON.stringify(c)} after ${figures.back_online_synced_ms} ms`);
  await screens.shot(page, 'tonight-synced');
  await click(tid('open-outbox'));
  await onScreen('outbox');
  const o = await outboxRows();
  log(`  outbox: ${JSON.stringify(o.statuses)}`);
  await screens.shot(page, 'outbox-synced');
  if (o.waiting || o.rejected) throw new E2EError(`after the sync the outbox still has ${o.waiting} waiting and ${o.rejected} rejected rows: ${JSON.stringify(o.statuses)}`);
  await click(tid('back'));
  await onScreen('tonight');
});

await step('check-at-centre', async () => {
  const [d1, d2] = tasks.done.filter((t) => t !== tasks.failed);
  for (const id of [d1, d2]) {
    const d = await coord.get(`/tasks/${id}`);
    if (d.state.status !== 'delivered') throw new E2EError(`task ${id} is ${d.state.status} at the centre, not delivered`);
    if (d.proof_gaps.length) throw new E2EError(`task ${id} has proof gaps at the centre: ${JSON.stringify(d.proof_gaps)}`);
    const ev = d.history.find((e) => e.payload?.delivered);
    if (!ev) throw new E2EError(`task ${id} has no delivered event in its history`);
    const proof = ev.payload.delivered.proof;
    if (!proof.photos?.length) throw new E2EError(`task ${id}'s delivered event names no photo`);
    for (const sha of proof.photos) {
      const { status, buf } = await coord.bytes(`/blobs/${sha}`);
      if (status !== 200 || !buf.length) throw new E2EError(`photo ${sha} of task ${id}: GET /blobs → ${status}, ${buf.length} bytes`);
      summary.push([`${id.slice(-12)} delivered`, `photo ${sha.slice(0, 12)}… ${kib(buf.length)}, rating ${proof.rating ?? '-'}, ${proof.confirmation ? Object.keys(proof.confirmation)[0] : 'no confirmation'}`]);
    }
  }
  const f = await coord.get(`/tasks/${tasks.failed}`);
  if (f.state.status !== 'attempt_failed') throw new E2EError(`task ${tasks.failed} is ${f.state.status} at the centre, not attempt_failed`);
  const fe = f.history.find((e) => e.payload?.attempt_failed)?.payload.attempt_failed;
  if (fe?.reason !== 'nobody_home') throw new E2EError(`task ${tasks.failed}'s failed attempt has reason ${fe?.reason}, not nobody_home`);
  if (fe.note !== FAIL_NOTE) warn(`the failed attempt's note reached the centre as ${JSON.stringify(fe.note)}`);
  summary.push([`${tasks.failed.slice(-12)} attempt_failed`, `reason ${fe.reason}, attempts ${f.state.attempts}`]);
});

// The resident finds the door card, scans it with their own phone (a third browser), and picks another evening on
// the centre's page; the staff phone, once synced, shows the visit booked.
await step('door-card-booking', async () => {
  const f = await coord.get(`/tasks/${tasks.failed}`);
  if (!f.history.some((e) => e.payload?.door_card_left)) throw new E2EError(`task ${tasks.failed}'s history has no door_card_left event`);
  const ctx = await browser.newContext({ viewport: VIEWPORT, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  try {
    const r = await ctx.newPage();
    await r.goto(tasks.card, { waitUntil: 'domcontentloaded' });
    const evenings = r.locator('button[name="evening"]');
    await evenings.first().waitFor({ timeout: 15000 });
    const n = await evenings.count();
    const page1 = await r.content();
    if (f.task && page1.includes(f.task.address.room)) throw new E2EError('the resident page shows the room number');
    await screens.shot(r, 'resident-door-card');
    const evening = await evenings.nth(1).getAttribute('value');
    await Promise.all([r.waitForNavigation({ waitUntil: 'domcontentloaded' }), evenings.nth(1).click()]);
    await screens.shot(r, 'resident-door-card-booked');
    log(`  the resident's page offered ${n} evenings; booked ${evening}`);
    const g = await coord.get(`/tasks/${tasks.failed}`);
    if (!g.history.some((e) => e.payload?.rescheduled)) throw new E2EError(`no rescheduled event at the centre after booking ${evening}`);
  } finally {
    await ctx.close();
  }
  await page.locator(`${ROW}[data-task="${tasks.failed}"] ${tid('booked-for')}`).first().waitFor({ state: 'visible', timeout: 60000 });
  await screens.shot(page, 'tonight-booked');
});

// Residents without phones, offline: one shows the household card kept at home, another's daughter receives with
// her own code; both on the resident's screen, then synced and checked at the centre.
async function deliverOnResidentScreen(id, confirm, label) {
  const p = tasks.pos.get(id);
  if (p) await context.setGeolocation({ latitude: p.lat, longitude: p.lng, accuracy: 8 });
  const packet = await coord.qrPng(id, 'packet');
  await page.locator(`${ROW}[data-task="${id}"]`).first().click({ timeout: 10000 });
  await onScreen('task');
  await click(tid('start-handoff'));
  await waitHandoffStep('packet');
  await page.locator(tid('packet-photo')).first().setInputFiles({ name: 'packet.png', mimeType: 'image/png', buffer: packet });
  await waitHandoffStep('confirm');
  await click(tid('resident-mode'));
  await checkResidentScreen(label);
  await confirm();
  await waitHandoffStep('photo', 30000);
  await page.locator(tid('handoff-photo')).first().setInputFiles(jpegPath);
  await waitHandoffStep('rating', 30000);
  await click(tid('rate-5'));
  await waitHandoffStep('ready');
  await click(tid('finish'));
  await onScreen('tonight', 20000);
  tasks.done.push(id);
}

await step('households-offline', async () => {
  // The phone learns of the card and the family member on a pull once their codes' hashes are made.
  for (const [id, attr, want] of [[household.card.task, 'data-household', 'true'], [household.proxy.task, 'data-proxies', '1']]) {
    await until(`task ${id} to show ${attr}=${want} on the phone`, async () => {
      await page.locator(`${ROW}[data-task="${id}"]`).first().click({ timeout: 10000 });
      await onScreen('task');
      const v = await page.locator(tid('task')).first().getAttribute(attr);
      await click(tid('back'));
      await onScreen('tonight');
      return v === want;
    }, { ms: 60000, every: 2000 });
  }
  await context.setOffline(true);
  await deliverOnResidentScreen(household.card.task, async () => {
    await click(tid('resident-way-card'));
    await page.locator(tid('resident-card-photo')).first().setInputFiles({ name: 'household-card.png', mimeType: 'image/png', buffer: household.card.png });
  }, 'household-card');
  await deliverOnResidentScreen(household.proxy.task, async () => {
    await click(tid(`resident-way-proxy-${household.proxy.id}`));
    await screens.shot(page, 'resident-proxy');
    await page.locator(tid('resident-code-input')).first().fill(household.proxy.code);
    await click(tid('resident-code-submit'));
  }, 'proxy');
  await context.setOffline(false);
  await waitChip('synced with nothing waiting', (c) => c.state === 'synced' && c.waiting === 0, 90000);
  for (const [id, kind] of [[household.card.task, 'household_card'], [household.proxy.task, 'proxy']]) {
    const d = await coord.get(`/tasks/${id}`);
    const ev = d.history.find((e) => e.payload?.delivered);
    const conf = ev?.payload.delivered.proof.confirmation;
    if (d.state.status !== 'delivered' || !conf?.[kind]) throw new E2EError(`task ${id} is ${d.state.status} with confirmation ${JSON.stringify(conf)}, not a ${kind}`);
    if (d.proof_gaps.length) throw new E2EError(`task ${id} has proof gaps at the centre: ${JSON.stringify(d.proof_gaps)}`);
    if (kind === 'proxy' && conf.proxy.relation !== '女儿') throw new E2EError(`the handoff records the proxy as ${JSON.stringify(conf.proxy)}`);
    summary.push([`${id.slice(-12)} delivered`, kind === 'proxy' ? `to family member ${conf.proxy.name} (${conf.proxy.relation})` : `household card No. ${household.card.serial}`]);
  }
  log('  a household card and a family member confirmed two deliveries offline; the centre finds no gap');
});

// The live viewfinder, on a second phone (a second browser whose camera is a file): Chromium's fake camera plays a
// Y4M video of a packet label, and the handoff moves past the packet step by itself.
async function labelVideo(png, file) {
  const W = 640, H = 480;
  const luma = await page.evaluate(async ([b64, W, H]) => {
    const img = new Image();
    img.src = 'data:image/png;base64,' + b64;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = W; c.height = H;
    const g = c.getContext('2d');
    g.fillStyle = '#fff'; g.fillRect(0, 0, W, H);
    g.imageSmoothingEnabled = false;
    const side = Math.min(W, H) * 0.8;
    g.drawImage(img, (W - side) / 2, (H - side) / 2, side, side);
    const d = g.getImageData(0, 0, W, H).data;
    let bin = '';
    for (let i = 0; i < W * H; i++) bin += String.fromCharCode(Math.round(0.299 * d[4 * i] + 0.587 * d[4 * i + 1] + 0.114 * d[4 * i + 2]));
    return btoa(bin);
  }, [png.toString('base64'), W, H]);
  const y = Buffer.from(luma, 'base64');
  const chroma = Buffer.alloc((W / 2) * (H / 2), 128);
  const frame = Buffer.concat([Buffer.from('FRAME\n'), y, chroma, chroma]);
  fs.writeFileSync(file, Buffer.concat([Buffer.from(`YUV4MPEG2 W${W} H${H} F5:1 Ip A1:1 C420jpeg\n`), frame, frame]));
}

await step('live-viewfinder', async () => {
  const id = tasks.ids.find((t) => !tasks.done.includes(t) && t !== tasks.failed);
  if (!id) throw new E2EError('no open task left for the viewfinder');
  const { status, buf } = await coord.bytes(`/tasks/${id}/qr?kind=packet&format=png`);
  if (status !== 200) throw new E2EError(`packet label of ${id}: ${status}`);
  const video = path.join(tmpDir, 'label.y4m');
  await labelVideo(buf, video);
  const camera = await launchBrowser([
    '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
    `--use-file-for-fake-video-capture=${video}`,
  ]);
  try {
    const pos = tasks.pos.get(id) ?? { lat: 31.2304, lng: 121.4737 };
    const ctx = await camera.newContext({
      viewport: VIEWPORT,
      geolocation: { latitude: pos.lat, longitude: pos.lng, accuracy: 8 },
      permissions: ['geolocation', 'camera'],
      locale: 'zh-CN',
      timezoneId: 'Asia/Shanghai',
    });
    consoleLog.attach(ctx);
    const p = await ctx.newPage();
    p.setDefaultTimeout(30000);
    await p.goto(centre.origin + '/', { waitUntil: 'domcontentloaded' });
    await p.waitForSelector(tid('enrol'));
    await p.fill('#login', STAFF_LOGIN);
    await p.fill('#password', 'jx-demo-2026');
    await p.click(tid('enrol-submit'));
    await p.click(`${ROW}[data-task="${id}"]`);
    await p.click(tid('start-handoff'));
    await p.waitForSelector(`${tid('handoff')}[data-step="packet"]`);
    const t = performance.now();
    await p.click(tid('live-scan'));
    await p.waitForSelector(tid('viewfinder'));
    await screens.shot(p, 'viewfinder-scanning');
    await p.waitForSelector(`${tid('handoff')}[data-step="confirm"]`, { timeout: 45000 });
    figures.viewfinder_to_packet_ms = Math.round(performance.now() - t);
    log(`  the viewfinder read the packet label of ${id.slice(-12)} in ${figures.viewfinder_to_packet_ms} ms; on to the resident's confirmation`);
    await screens.shot(p, 'viewfinder-read');
  } finally {
    await within('closing the camera browser', 10000, camera.close()).catch(() => {});
  }
});

await step('app-update', async () => {
  // A new build lands on the centre while the app is open: once the browser has found it (the app asks every ten
  // minutes; here at once), the page offers to reload, and after the reload the route is there as it was.
  await page.goto(centre.origin + '/', { waitUntil: 'domcontentloaded' });
  await onScreen('tonight', 60000);
  const rows = await page.locator(ROW).count();
  if (await page.locator(tid('update-ready')).count()) throw new E2EError('an update is offered before there is one');
  fs.appendFileSync(path.join(appDir, 'sw.js'), `\n// another build (${new Date().toISOString()})\n`);
  await page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r && r.update()));
  await page.locator(tid('update-ready')).first().waitFor({ state: 'visible', timeout: 30000 });
  const words = await page.locator(tid('update-ready')).first().innerText();
  if (!words.includes('新版本') || !words.includes('不会丢失')) throw new E2EError(`the update banner says: ${words}`);
  await screens.shot(page, 'update-ready');
  await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.locator(tid('update-reload')).first().click()]);
  await onScreen('tonight', 60000);
  await until(`the route's ${rows} rows after the reload`, async () => (await page.locator(ROW).count()) === rows, { ms: 30000 });
  if (await page.locator(tid('update-ready')).count()) throw new E2EError('the update is still offered after the reload');
  log(`  a new build was offered with a reload button; after the reload the route had its ${rows} rows`);
});

function printFigures() {
  figures.warnings = warnings;
  figures.console_errors = consoleLog.errors();
  const w = figures.web_build;
  const ms = (v) => (v === undefined ? '-' : `${v} ms`);
  const rows = [];
  if (w) {
    rows.push(['web build, .wasm + .js gzip -9', kib(w.total.gzip9)], ['web build, .wasm + .js raw', kib(w.total.raw)]);
    for (const f of w.wasm) rows.push([`  ${path.basename(f.file)} gzip -9 / raw`, `${kib(f.gzip9)} / ${kib(f.raw)}`]);
  }
  const load = figures.tonight_60_rows_ms;
  rows.push(
    ['nav → 60th row (median of 3)', ms(load?.median)],
    ['  samples', load ? load.samples.join(', ') + ' ms' : '-'],
    ['enrol submit → 60 rows', ms(figures.enrol_to_60_rows_ms)],
    ['online delivery → synced', ms(figures.online_delivery_synced_ms)],
    ['back online → synced', ms(figures.back_online_synced_ms)],
    ['live viewfinder → packet read', ms(figures.viewfinder_to_packet_ms)],
  );
  console.log('');
  printTable(figures.ok ? 'staff e2e figures' : 'staff e2e figures (run failed)', rows);
  if (summary.length) printTable('at the centre', summary);
  if (figures.console_errors.length) {
    console.log(`browser console errors (${figures.console_errors.length}):`);
    for (const l of figures.console_errors.slice(0, 20)) console.log(`  ${l.split('\n')[0]}`);
  }
  if (warnings.length) {
    console.log(`warnings (${warnings.length}):`);
    for (const m of warnings) console.log(`  - ${m}`);
  }
}

await step('figures', async () => {
  runner.done();
  figures.ok = true;
  printFigures();
});

await cleanup();
console.log(`\nstaff e2e: passed (${screens.n} screenshots in ${path.relative(REPO, SCREEN_DIR)}, figures.json beside them)`);
console.log('1 passed, 0 failed');
process.exit(0);
