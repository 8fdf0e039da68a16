// The coordinator's evening, end to end, at 1280×800 in Debian's Chromium (headless) against a real centre with the
// demo town: sign in as a coordinator, import an evening file (bad rows shown before anything is written), ask for
// the automatic assignment, move two tasks by hand, apply; filter the board from the map; print a staff member's
// labels and decode every QR on the sheet; scan a packet out at the counter. Then a staff phone (a second browser
// context, 390×844) completes a delivery and the board shows it once it has synced; a task reassigned while that
// phone is offline and then delivered by it shows as a conflict and is resolved from the exceptions; the coordinator
// asks for more proof of a delivery, the phone adds a photo and a note, and the desk accepts it. The desk
// loses its line, keeps a counter scan through a reload, and sends it when the line is back. The report and the
// week's chart close the evening. Screenshots of every screen go to target/e2e-screens/coordinator/.
//
//   node tests/e2e/coordinator.mjs     (needs target/web and target/debug/jx-centre; scripts/e2e.sh builds both)
//
// Env: E2E_TIMEOUT_S (overall bound, default 420), JX_CHROMIUM (browser binary).

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  Api,
  ConsoleLog,
  E2EError,
  REPO,
  Screens,
  VIEWPORT,
  launchBrowser,
  log,
  makeRunner,
  printTable,
  startCentre,
  until,
  within,
} from './lib.mjs';

const OVERALL_MS = Number(process.env.E2E_TIMEOUT_S ?? 420) * 1000;
const SCREEN_DIR = path.join(REPO, 'target/e2e-screens/coordinator');
const WEB_DIR = path.join(REPO, 'target/web');
const DESK = { width: 1280, height: 800 };
const tid = (id) => `[data-testid="${id}"]`;

const screens = new Screens(SCREEN_DIR);
const consoleLog = new ConsoleLog();
const figures = { suite: 'coordinator', ok: false, started_at: new Date().toISOString() };
let centre, browser, deskCtx, desk, phoneCtx, phone, tmpDir, coord;

async function cleanup() {
  if (browser) await within('closing the browser', 10000, browser.close()).catch(() => {});
  browser = null;
  if (centre) await centre.stop().catch(() => {});
  centre = null;
  if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
  try {
    fs.writeFileSync(path.join(SCREEN_DIR, 'figures.json'), JSON.stringify(figures, null, 2) + '\n');
  } catch {
    /* best effort */
  }
}

const { step, done } = makeRunner({
  screens,
  consoleLog,
  getPage: () => desk,
  cleanup,
  overallMs: OVERALL_MS,
  centreLog: path.join(SCREEN_DIR, 'centre.log'),
  report: () => console.log(JSON.stringify(figures, null, 2)),
});

const onDesk = (sel, ms = 15000) => desk.locator(sel).first().waitFor({ state: 'visible', timeout: ms });
const tab = async (name) => {
  await desk.locator(tid(`tab-${name}`)).click();
  await onDesk(tid(`page-${name}`));
};
const num = async (loc) => Number((await loc.first().innerText({ timeout: 5000 })).trim());
async function deskError() {
  const texts = [];
  for (const e of await desk.locator(tid('error')).all()) if (await e.isVisible()) texts.push((await e.innerText()).trim());
  return texts;
}

// ---------------------------------------------------------------------------------------------------------------

await step('start-centre', async () => {
  centre = await startCentre({ appDir: WEB_DIR, logFile: path.join(SCREEN_DIR, 'centre.log') });
  coord = await Api.login(centre.api, 'c1');
  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'jx-e2e-desk-'));
  log(`  centre at ${centre.origin}`);
});

await step('sign-in', async () => {
  browser = await launchBrowser();
  deskCtx = await browser.newContext({ viewport: DESK, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  consoleLog.attach(deskCtx);
  desk = await deskCtx.newPage();
  desk.setDefaultTimeout(15000);
  await desk.goto(centre.origin + '/', { waitUntil: 'domcontentloaded' });
  await onDesk(tid('enrol'), 60000);
  await desk.fill('#login', 'c1');
  await desk.fill('#password', 'jx-demo-2026');
  await screens.shot(desk, 'sign-in');
  await desk.locator(tid('enrol-submit')).click();
  await onDesk(tid('desk'), 30000);
  await onDesk(`${tid('compounds')} tbody tr`, 30000);
  await screens.shot(desk, 'board');
});

let town, evening;
await step('import', async () => {
  town = await coord.get('/town');
  const created = await coord.get('/tasks?status=created');
  const item = (await coord.get(`/tasks/${created[0].id}`)).task.service_item;
  const head = 'kind,case_number,service_item,resident_name,resident_phone,compound,building,unit,room';
  const lines = [head];
  const bad = new Map();
  for (let i = 0; i < 12; i++) {
    const c = town.compounds[i % town.compounds.length];
    const b = c.buildings[i % c.buildings.length];
    let building = b.number;
    let phoneNo = `139${String(10000000 + i * 7919).slice(-8)}`;
    if (i === 3) {
      building = 999;
      bad.set(lines.length + 1, 'building');
    }
    if (i === 7) {
      phoneNo = '12345';
      bad.set(lines.length + 1, 'resident_phone');
    }
    lines.push([i % 4 === 0 ? 'pickup' : 'delivery', `E2E-${2026}-${String(i + 1).padStart(4, '0')}`, item, `测试居民${i}`, phoneNo, c.id, building, 1, `${100 + i}`].join(','));
  }
  const file = path.join(tmpDir, 'evening.csv');
  fs.writeFileSync(file, '\ufeff' + lines.join('\r\n') + '\r\n');
  await tab('import');
  await screens.shot(desk, 'import');
  await desk.locator(tid('import-file')).setInputFiles(file);
  await onDesk(tid('import-check'), 30000);
  const errRows = desk.locator(`${tid('import-errors')} tbody tr`);
  await until('the import check to list 2 bad rows', async () => (await errRows.count()) === 2, { ms: 10000 });
  for (const r of await errRows.all()) {
    const line = Number(await r.getAttribute('data-line'));
    const field = (await r.locator('td').nth(1).innerText()).trim();
    if (bad.get(line) !== field) throw new E2EError(`the check lists line ${line} field ${field}; expected ${JSON.stringify([...bad])}`);
  }
  const before = (await coord.get('/tasks')).filter((t) => t.case_number.startsWith('E2E-')).length;
  if (before !== 0) throw new E2EError(`the check wrote ${before} tasks`);
  await screens.shot(desk, 'import-checked');
  await desk.locator(tid('import-commit')).click();
  await onDesk(tid('import-done'), 30000);
  const after = (await coord.get('/tasks')).filter((t) => t.case_number.startsWith('E2E-'));
  if (after.length !== 10) throw new E2EError(`${after.length} E2E tasks at the centre after importing the 10 good rows`);
  evening = after;
  await screens.shot(desk, 'import-done');
  log(`  10 rows imported, 2 bad rows shown first (lines ${[...bad.keys()].join(', ')})`);
});

let staff, moved = [];
await step('assign', async () => {
  staff = (await coord.get('/board')).staff;
  const open = (await coord.get('/tasks')).filter((t) => ['created', 'requested'].includes(t.status));
  await tab('assign');
  await desk.locator(tid('propose')).click();
  const rows = desk.locator(`${tid('proposal')} tbody tr`);
  await until(`the proposal to list the ${open.length} unassigned tasks`, async () => (await rows.count()) === open.length, { ms: 30000 });
  await screens.shot(desk, 'assign-proposal');
  // Move two tasks by hand, each to someone other than the proposal's choice; pin the first.
  for (const i of [0, 1]) {
    const row = rows.nth(i);
    const task = await row.getAttribute('data-task');
    const was = Number(await row.getAttribute('data-staff'));
    const to = staff.find((s) => s.staff !== was && s.staff !== staff[0].staff) ?? staff[1];
    await row.locator(tid('move')).selectOption(String(to.staff));
    await until(`row ${task} to show staff ${to.staff}`, async () => Number(await desk.locator(`${tid('proposal')} tr[data-task="${task}"]`).getAttribute('data-staff')) === to.staff);
    moved.push({ task, staff: to.staff });
  }
  await rows.nth(0).locator(tid('pin')).check();
  // The edits survive a reload (they are kept on the device until applied).
  await desk.reload({ waitUntil: 'domcontentloaded' });
  await onDesk(tid('desk'), 30000);
  await tab('assign');
  await until('the edited proposal to come back after a reload', async () => (await rows.count()) === open.length, { ms: 15000 });
  for (const m of moved) {
    const s = Number(await desk.locator(`${tid('proposal')} tr[data-task="${m.task}"]`).getAttribute('data-staff'));
    if (s !== m.staff) throw new E2EError(`after a reload task ${m.task} is with ${s}, not ${m.staff} as moved`);
  }
  await screens.shot(desk, 'assign-moved');
  await desk.locator(tid('apply')).click();
  await onDesk(tid('applied'), 30000);
  await screens.shot(desk, 'assign-applied');
  for (const m of moved) {
    const d = await coord.get(`/tasks/${m.task}`);
    if (d.state.assignee !== m.staff) throw new E2EError(`task ${m.task} is assigned to ${d.state.assignee} at the centre, not ${m.staff}`);
  }
  const left = (await coord.get('/tasks')).filter((t) => ['created', 'requested'].includes(t.status)).length;
  figures.assign = { proposed: open.length, moved: moved.length, unassigned_after: left };
  log(`  proposal of ${open.length}, 2 moved by hand, applied; ${left} left unassigned`);
});

await step('board-and-map', async () => {
  await tab('board');
  const c = town.compounds[0];
  await desk.locator(`${tid('map')} g[data-compound="${c.id}"] polygon`).click();
  await until(`the compound row ${c.id} to be selected`, async () => ((await desk.locator(`${tid('compounds')} tr[data-compound="${c.id}"]`).getAttribute('class')) ?? '').includes('on'));
  const want = (await coord.get(`/tasks?compound=${c.id}`)).length;
  const rows = desk.locator(`${tid('tasks')} tbody tr`);
  let seen;
  await until(`the task list to narrow to ${want} tasks of compound ${c.id}`, async () => {
    seen = { rows: await rows.count(), others: await desk.locator(`${tid('tasks')} tbody tr:not([data-compound="${c.id}"])`).count() };
    return seen.rows === want && seen.others === 0;
  }, { ms: 15000 }).catch((e) => {
    throw new E2EError(`${e.message}: the list has ${seen?.rows} rows, ${seen?.others} of other compounds`);
  });
  await screens.shot(desk, 'board-compound');
  const s01 = staff[0];
  await desk.locator(`${tid('staff')} tr[data-staff="${s01.staff}"]`).click();
  await onDesk(`${tid('map')} polyline.walk[data-staff="${s01.staff}"]`, 15000);
  await screens.shot(desk, 'board-staff-route');
  await desk.locator(tid('clear-filter')).click();
});

let s01, s01Tasks;
await step('print-labels', async () => {
  s01 = staff[0];
  s01Tasks = (await coord.get(`/tasks?staff=${s01.staff}`)).filter((t) => ['assigned', 'checked_out'].includes(t.status));
  await tab('counter');
  await desk.locator(`${tid('labels')}[data-staff="${s01.staff}"]`).click();
  await onDesk(tid('label-sheet'), 30000);
  const frame = desk.frameLocator(tid('label-sheet'));
  const qrs = frame.locator('.label svg');
  await until(`${s01Tasks.length} labels on the sheet`, async () => (await qrs.count()) === s01Tasks.length, { ms: 20000 });
  await screens.shot(desk, 'labels');
  const dir = path.join(tmpDir, 'labels');
  fs.mkdirSync(dir);
  const n = await qrs.count();
  for (let i = 0; i < n; i++) await qrs.nth(i).screenshot({ path: path.join(dir, `label-${String(i).padStart(3, '0')}.png`) });
  const files = fs.readdirSync(dir).map((f) => path.join(dir, f));
  const out = execFileSync(path.join(REPO, 'target/debug/jx-centre'), ['--data-dir', centre.dataDir, 'scan', ...files], { encoding: 'utf8' });
  const found = new Set();
  for (const line of out.trim().split('\n')) {
    const m = line.match(/packet-label\ttask (\S+)\tvalid/);
    if (!m) throw new E2EError(`a label's QR did not decode as a valid packet label: ${line}`);
    found.add(m[1]);
  }
  const want = new Set(s01Tasks.map((t) => t.id));
  const missing = [...want].filter((t) => !found.has(t));
  if (missing.length || found.size !== want.size) throw new E2EError(`the sheet's QR codes name ${found.size} tasks; missing ${missing.join(', ')}`);
  figures.labels = { printed: n, decoded: found.size };
  log(`  ${n} labels printed for ${s01.login}; every QR decodes to one of their tasks`);
});

async function scanOut(task) {
  const code = await coord.text(`/tasks/${task}/qr?kind=packet&format=text`);
  await desk.locator(tid('dir-out')).check();
  await desk.locator(tid('scan')).fill(code);
  await desk.locator(tid('scan')).press('Enter');
}

let t1;
await step('counter-out', async () => {
  t1 = s01Tasks.find((t) => t.kind === 'delivery' && t.status === 'assigned');
  await scanOut(t1.id);
  await onDesk(`${tid('scan-ok')}[data-task="${t1.id}"]`, 15000);
  const d = await coord.get(`/tasks/${t1.id}`);
  if (d.state.status !== 'checked_out') throw new E2EError(`task ${t1.id} is ${d.state.status} after the scan out`);
  await desk.locator(tid('dir-out')).check();
  await desk.locator(tid('scan')).fill('not a label');
  await desk.locator(tid('scan')).press('Enter');
  await until('a garbage scan to be refused, in Chinese', async () => (await deskError()).some((t) => t.includes('二维码读不懂') && t.includes('bad_code')));
  await screens.shot(desk, 'counter');
});

// ---------------------------------------------------------------------------------------------------------------
// The staff phone

const phoneOn = (sel, ms = 20000) => phone.locator(sel).first().waitFor({ state: 'visible', timeout: ms });
const step_ = () => phone.locator(tid('handoff')).first().getAttribute('data-step', { timeout: 5000 });
async function waitStep(want, ms = 30000) {
  await until(`handoff data-step=${want}`, async () => (await step_()) === want, { ms });
}
let positions = new Map(), jpeg;
async function deliverOnPhone(id) {
  const p = positions.get(id);
  if (p) await phoneCtx.setGeolocation({ latitude: p.lat, longitude: p.lng, accuracy: 8 });
  const [packet, code] = await Promise.all([coord.qrPng(id, 'packet'), coord.residentCode(id)]);
  await phone.locator(`${tid('task-row')}[data-task="${id}"]`).click();
  await phoneOn(tid('task'));
  await phone.locator(tid('start-handoff')).click();
  await waitStep('packet');
  await phone.locator(tid('packet-photo')).setInputFiles({ name: 'packet.png', mimeType: 'image/png', buffer: packet });
  await waitStep('confirm');
  await phone.locator(tid('code-input')).fill(code);
  await phone.locator(tid('code-submit')).click();
  await waitStep('photo');
  await phone.locator(tid('handoff-photo')).setInputFiles(jpeg);
  await waitStep('rating');
  await phone.locator(tid('rate-4')).click();
  await waitStep('ready');
  await phone.locator(tid('finish')).click();
  await phoneOn(tid('tonight'));
}
async function phoneSynced(ms = 60000) {
  await until('the phone to sync', async () => {
    const c = phone.locator(tid('sync-chip')).first();
    return (await c.getAttribute('data-state')) === 'synced' && Number(await c.getAttribute('data-waiting')) === 0;
  }, { ms, every: 300 });
}

await step('phone-delivers', async () => {
  const route = await coord.get(`/staff/${s01.staff}/route`);
  for (const stop of route.stops) for (const t of stop.tasks) positions.set(t, stop.position);
  const first = positions.get(t1.id) ?? { lat: 31.23, lng: 121.47 };
  phoneCtx = await browser.newContext({ viewport: VIEWPORT, geolocation: { latitude: first.lat, longitude: first.lng, accuracy: 8 }, permissions: ['geolocation'], locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  consoleLog.attach(phoneCtx);
  phone = await phoneCtx.newPage();
  await phone.goto(centre.origin + '/', { waitUntil: 'domcontentloaded' });
  await phoneOn(tid('enrol'), 60000);
  await phone.fill('#login', s01.login);
  await phone.fill('#password', 'jx-demo-2026');
  await phone.locator(tid('enrol-submit')).click();
  await phoneOn(`${tid('task-row')}[data-task="${t1.id}"]`, 60000);
  jpeg = path.join(tmpDir, 'doorstep.jpg');
  await phone.screenshot({ path: jpeg, type: 'jpeg', quality: 85 });
  const row = desk.locator(`${tid('compounds')} tr[data-compound="${t1.compound}"] td[data-col="done"]`);
  await tab('board');
  const before = await num(row);
  await deliverOnPhone(t1.id);
  await phoneSynced();
  const t = Date.now();
  await until(`the board's done count of compound ${t1.compound} to go from ${before} to ${before + 1}`, async () => (await num(row)) === before + 1, { ms: 20000 });
  figures.phone_sync_to_board_ms = Date.now() - t;
  await screens.shot(desk, 'board-after-delivery');
  await screens.shot(phone, 'phone-after-delivery');
  log(`  delivered ${t1.id} on the phone; the board showed it ${figures.phone_sync_to_board_ms} ms after the phone's sync`);
});

let t2;
await step('conflict', async () => {
  t2 = s01Tasks.find((t) => t.kind === 'delivery' && t.id !== t1.id && t.status === 'assigned');
  const other = staff.find((s) => s.staff !== s01.staff);
  await phoneCtx.setOffline(true);
  // The coordinator reassigns a task the offline phone still holds.
  await desk.locator(`${tid('staff')} tr[data-staff="${s01.staff}"]`).click();
  await desk.locator(`${tid('tasks')} tr[data-task="${t2.id}"]`).click();
  await onDesk(`${tid('drawer')}[data-task="${t2.id}"] ${tid('reassign-to')}`, 15000);
  await desk.locator(`${tid('drawer')} ${tid('reassign-to')}`).selectOption(String(other.staff));
  await desk.locator(`${tid('drawer')} ${tid('reassign')}`).click();
  await desk.locator(`${tid('drawer')} ${tid('close')}`).click();
  await desk.locator(`${tid('staff')} tr[data-staff="${other.staff}"]`).click();
  await onDesk(`${tid('tasks')} tr[data-task="${t2.id}"] ${tid('pending')}`, 15000);
  await screens.shot(desk, 'reassigned-pending');
  // The phone, still offline, delivers it; then comes back and syncs.
  await deliverOnPhone(t2.id);
  await phoneCtx.setOffline(false);
  await phoneSynced(90000);
  await tab('exceptions');
  const row = desk.locator(`${tid('conflicts')} tr[data-task="${t2.id}"]`);
  await until(`task ${t2.id} among the conflicts`, async () => (await row.count()) === 1, { ms: 20000 });
  await screens.shot(desk, 'exceptions-conflict');
  await row.locator(tid('open')).click();
  await onDesk(`${tid('drawer')} ${tid('conflict')}`, 15000);
  await screens.shot(desk, 'conflict-drawer');
  await desk.locator(`${tid('drawer')} ${tid('accept-conflict')}`).click();
  await until(`task ${t2.id} to leave the conflicts`, async () => (await row.count()) === 0, { ms: 20000 });
  const d = await coord.get(`/tasks/${t2.id}`);
  if (d.state.conflicts.length) throw new E2EError(`task ${t2.id} still has conflicts at the centre: ${JSON.stringify(d.state.conflicts)}`);
  if (d.state.assignee !== s01.staff) throw new E2EError(`accepting the fact left task ${t2.id} with ${d.state.assignee}, not ${s01.staff} who delivered it`);
  await desk.locator(`${tid('drawer')} ${tid('close')}`).click();
  await screens.shot(desk, 'exceptions-resolved');
  log(`  ${t2.id} reassigned while the phone was offline, delivered by it, shown as a conflict and accepted`);
});

await step('desk-offline', async () => {
  const t3 = s01Tasks.find((t) => t.kind === 'delivery' && ![t1.id, t2.id].includes(t.id) && t.status === 'assigned');
  const code = await coord.text(`/tasks/${t3.id}/qr?kind=packet&format=text`);
  await tab('counter');
  await deskCtx.setOffline(true);
  await onDesk(tid('offline'), 20000);
  await desk.locator(tid('dir-out')).check();
  await desk.locator(tid('scan')).fill(code);
  await desk.locator(tid('scan')).press('Enter');
  await onDesk(tid('queued'), 10000);
  await screens.shot(desk, 'offline-queued');
  // An action kept by another version of the desk, which this one cannot read: set aside and said, never sent.
  await desk.evaluate(() => {
    const q = JSON.parse(localStorage.getItem('jx.desk.queue') || '[]');
    q.unshift({ id: 999, action: { Teleport: { to: 'moon' } }, refused: null });
    localStorage.setItem('jx.desk.queue', JSON.stringify(q));
  });
  await desk.reload({ waitUntil: 'domcontentloaded' });
  await onDesk(tid('queued'), 30000);
  await onDesk(tid('queue-unreadable'), 10000);
  if ((await desk.locator(tid('queued')).count()) !== 1) throw new E2EError(`${await desk.locator(tid('queued')).count()} queued rows after the reload; the scan alone is readable`);
  await screens.shot(desk, 'offline-queued-reloaded');
  await deskCtx.setOffline(false);
  await until('the queue to empty once the line is back', async () => (await desk.locator(tid('queued')).count()) === 0, { ms: 30000 });
  const d = await coord.get(`/tasks/${t3.id}`);
  if (d.state.status !== 'checked_out') throw new E2EError(`the scan kept offline left ${t3.id} ${d.state.status}, not checked_out`);
  const aside = await desk.evaluate(() => localStorage.getItem('jx.desk.queue.unreadable') || '');
  if (!aside.includes('Teleport')) throw new E2EError(`the unreadable action was not kept aside: ${aside}`);
  await desk.locator(tid('queue-unreadable-dismiss')).click();
  await until('the unreadable notice to go once dismissed', async () => (await desk.locator(tid('queue-unreadable')).count()) === 0, { ms: 10000 });
  log('  a counter scan made offline survived a reload and went out when the line came back; an unreadable kept action was set aside, shown, and dismissed');
});

await step('history', async () => {
  await tab('board');
  await desk.locator(`${tid('staff')} tr[data-staff="${s01.staff}"]`).click();
  await desk.locator(`${tid('tasks')} tr[data-task="${t1.id}"]`).click();
  await onDesk(`${tid('drawer')} ${tid('event')}[data-kind="delivered"]`, 15000);
  await until('the delivery photo to load', async () => desk.locator(`${tid('drawer')} ${tid('photo')}`).first().evaluate((i) => i.complete && i.naturalWidth > 0).catch(() => false), { ms: 15000 });
  await screens.shot(desk, 'task-history');
  await desk.locator(`${tid('drawer')} ${tid('close')}`).click();
});

await step('proof-asked-and-added', async () => {
  // The coordinator asks for more proof of the phone's delivery; the phone shows the request, the team member adds
  // a photo and a note; the desk sees them and accepts the proof.
  const drawerEvent = (kind) => desk.locator(`${tid('drawer')} ${tid('event')}[data-kind="${kind}"]`);
  const openDrawer = async () => {
    await tab('board');
    await desk.locator(`${tid('staff')} tr[data-staff="${s01.staff}"]`).click();
    await desk.locator(`${tid('tasks')} tr[data-task="${t1.id}"]`).click();
    await onDesk(`${tid('drawer')}[data-task="${t1.id}"] ${tid('proof-actions')}`, 15000);
  };
  await openDrawer();
  await desk.locator(`${tid('drawer')} ${tid('proof-note')}`).fill('请补拍门牌号');
  await desk.locator(`${tid('drawer')} ${tid('drawer-ask-proof')}`).click();
  await until('the request in the task history', async () => (await drawerEvent('proof_requested').count()) === 1, { ms: 15000 });
  await screens.shot(desk, 'proof-asked');
  await desk.locator(`${tid('drawer')} ${tid('close')}`).click();

  const row = phone.locator(`${tid('task-row')}[data-task="${t1.id}"]`);
  await row.locator(tid('proof-asked')).first().waitFor({ state: 'visible', timeout: 60000 });
  await phoneOn(tid('proof-asked-count'));
  await screens.shot(phone, 'phone-proof-asked');
  await row.click();
  await phoneOn(tid('proof-asked-note'));
  const asked = await phone.locator(tid('proof-asked-note')).innerText();
  if (!asked.includes('请补拍门牌号')) throw new E2EError(`the phone shows the request without the coordinator's words: ${asked}`);
  await phone.locator(tid('add-proof-photo')).setInputFiles(jpeg);
  await phoneOn(tid('add-proof-photo-taken'));
  await phone.fill('#add-proof-note', '门牌在楼道左侧');
  await phone.locator(tid('add-proof-submit')).click();
  await phoneOn(tid('proof-added'));
  await until('the request to be answered on the phone', async () => (await phone.locator(tid('proof-asked-note')).count()) === 0, { ms: 10000 });
  await screens.shot(phone, 'phone-proof-added');
  await phone.locator(tid('back')).first().click();
  await phoneOn(tid('tonight'));
  if (await row.locator(tid('proof-asked')).count()) throw new E2EError('the route still asks for proof after it was added');
  await phoneSynced(90000);

  const g = await coord.get(`/tasks/${t1.id}`);
  const added = g.history.map((e) => e.payload?.proof_added).find(Boolean);
  if (!added || added.photos.length !== 1 || added.note !== '门牌在楼道左侧') throw new E2EError(`the added proof at the centre: ${JSON.stringify(added)}`);
  await openDrawer();
  await until('the added photo to load on the desk', async () => drawerEvent('proof_added').locator(tid('photo')).first().evaluate((i) => i.complete && i.naturalWidth > 0).catch(() => false), { ms: 20000 });
  await drawerEvent('proof_added').scrollIntoViewIfNeeded();
  await screens.shot(desk, 'proof-added');
  await desk.locator(`${tid('drawer')} ${tid('drawer-accept-proof')}`).click();
  await until('the acceptance in the task history', async () => (await drawerEvent('proof_accepted').count()) === 1, { ms: 15000 });
  await desk.locator(`${tid('drawer')} ${tid('close')}`).click();
  log(`  proof asked for ${t1.id} from the desk, added on the phone with a photo, seen and accepted on the desk`);
});

await step('household-card-and-family', async () => {
  // A resident without a phone: the coordinator issues their household card and registers their son.
  await desk.locator(`${tid('staff')} tr[data-staff="${s01.staff}"]`).click();
  const t = s01Tasks.find((x) => x.kind === 'delivery' && ![t1.id, t2.id].includes(x.id));
  await desk.locator(`${tid('tasks')} tr[data-task="${t.id}"]`).click();
  await onDesk(`${tid('drawer')} ${tid('household')}`, 15000);
  await desk.locator(`${tid('drawer')} ${tid('issue-card')}`).click();
  const issued = desk.locator(`${tid('drawer')} ${tid('card-issued')}`);
  await issued.waitFor({ timeout: 15000 });
  const code = await issued.getAttribute('data-code');
  if (!/^\d{6}$/.test(code ?? '')) throw new E2EError(`the issued card's code is ${JSON.stringify(code)}`);
  await desk.locator(`${tid('drawer')} ${tid('proxy-name')}`).fill('王小明');
  await desk.locator(`${tid('drawer')} ${tid('proxy-relation')}`).fill('儿子');
  await desk.locator(`${tid('drawer')} ${tid('add-proxy')}`).click();
  await desk.locator(`${tid('drawer')} ${tid('proxy-added')}`).waitFor({ timeout: 15000 });
  await until('the family member to be listed', async () => (await desk.locator(`${tid('drawer')} ${tid('proxies')} li`).count()) === 1);
  await desk.locator(`${tid('drawer')} ${tid('print-card')}`).click();
  const card = desk.frameLocator(tid('household-sheet'));
  await card.locator('svg').first().waitFor({ timeout: 15000 });
  const sheetText = await card.locator('body').innerText();
  if (!sheetText.includes(code)) throw new E2EError('the printed household card does not show its 6-digit code');
  await screens.shot(desk, 'household-card');
  const resident = (await coord.get(`/tasks/${t.id}`)).task.resident;
  const proxies = await coord.get(`/residents/${resident}/proxies`);
  if (proxies.length !== 1 || proxies[0].relation !== '儿子') throw new E2EError(`the centre lists ${JSON.stringify(proxies)}`);
  await desk.locator(`${tid('drawer')} ${tid('close')}`).click();
});

await step('door-cards-and-returns', async () => {
  await tab('counter');
  await desk.locator(tid('door-cards')).click();
  const cards = desk.frameLocator(tid('label-sheet')).locator('.card[data-url]');
  await until('40 door cards on the sheet', async () => (await cards.count()) === 40, { ms: 15000 });
  const url = await cards.first().getAttribute('data-url');
  if (!url?.startsWith(`${centre.origin}/d/`)) throw new E2EError(`a door card points at ${url}`);
  await screens.shot(desk, 'door-cards');
  await tab('exceptions');
  await onDesk(tid('to-return'));
  await screens.shot(desk, 'exceptions-to-return');
});

await step('report', async () => {
  await tab('report');
  await onDesk(`${tid('report')} tbody tr`, 20000);
  const days = desk.locator(`${tid('week')} g[data-day]`);
  if ((await days.count()) !== 7) throw new E2EError(`the week chart has ${await days.count()} days`);
  const today = Number(await days.last().getAttribute('data-done'));
  if (today < 2) throw new E2EError(`the week chart shows ${today} done today; the phone delivered 2`);
  await screens.shot(desk, 'report');
  await desk.locator(tid('lang')).click();
  await tab('board');
  await screens.shot(desk, 'board-english');
  figures.week_today_done = today;
});

await step('sign-out-and-in', async () => {
  await desk.locator(tid('sign-out')).click();
  await onDesk(tid('desk-sign-in'), 15000);
  await desk.reload({ waitUntil: 'domcontentloaded' });
  await onDesk(tid('desk-sign-in'), 30000);
  await desk.fill('#login', 's01');
  await desk.fill('#password', 'jx-demo-2026');
  await desk.locator(tid('desk-sign-in-submit')).click();
  // The desk was left in English: the centre's own words; in Chinese, the translation, the code kept in both.
  await until('a team member to be refused at the desk', async () => (await deskError()).some((t) => t.includes('not_coordinator') && t.includes('only coordinators')));
  await desk.locator(tid('lang')).first().click();
  await until('the refusal to read in Chinese', async () => (await deskError()).some((t) => t.includes('只有协调员使用工作台') && t.includes('not_coordinator')));
  await screens.shot(desk, 'desk-sign-in-refused');
  await desk.fill('#login', 'c2');
  await desk.locator(tid('desk-sign-in-submit')).click();
  await onDesk(tid('desk'), 30000);
  await onDesk(`${tid('compounds')} tbody tr`, 30000);
});

figures.ok = true;
done();
printTable('coordinator e2e', Object.entries(figures).filter(([k]) => !['suite', 'started_at'].includes(k)).map(([k, v]) => [k, JSON.stringify(v)]));
await cleanup();
console.log('coordinator e2e: passed');
process.exit(0);
