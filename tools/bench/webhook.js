// k6 load for `make bench` (tools/bench/run.py writes the config this reads).
//
// Open-loop: each scenario is one rate step (`constant-arrival-rate`), each
// iteration sends ONE update. A VU plays its own members through short
// sessions (a confession with text or a photo, browsing a thread, commenting,
// reporting, /me, /my, /start, /help, an admin deciding a card), one step per
// iteration, so the mix is realistic while the arrival rate stays fixed.
//
// Messages are posted to the gateway's webhook exactly as Telegram posts them
// (unique update ids seeded by the bench); button presses and photos go through
// the emulator, which issues the callback query id / file id and then delivers
// the update like Telegram. The next button to press is looked up with
// `…/buttons?prefix=P&last=N` (message ids and button data only), never by
// reading a whole chat or whole messages: k6 shares the machine with the stack.
//
// MODE=chaos  `make chaos` (tools/chaos): one rate for CFG.duration, every
// update delivered by the emulator (Telegram's retries), latency tagged by the
// fault window it started in (CFG.windows, seconds after CFG.start_at);
// MODE=mixed  the rate steps; MODE=count  each session kind a few times, one
// update at a time, asking the bench (MARK_URL) to snapshot its counters after
// each; MODE=reference  plain messages to the stock-aiogram reference bot.
import http from 'k6/http';
import { check, sleep } from 'k6';
import { Counter, Trend } from 'k6/metrics';

const CFG = JSON.parse(open(__ENV.BENCH_CONFIG));
const MODE = __ENV.MODE || 'mixed';

const latency = new Trend('latency', true);
const updates = new Counter('updates');
const failures = new Counter('failures');

const KINDS = ['start', 'help', 'me', 'my', 'new', 'write', 'write_media', 'send', 'open',
  'page', 'react', 'compose', 'comment', 'report', 'decide'];

function scenarios() {
  if (MODE === 'count') {
    return { count: { executor: 'per-vu-iterations', vus: 1, iterations: 1, exec: 'count',
      maxDuration: '30m' } };
  }
  if (MODE === 'reference') {
    return { reference: { executor: 'constant-arrival-rate', rate: CFG.reference_rate,
      timeUnit: '1s', duration: `${CFG.reference_seconds}s`, preAllocatedVUs: 50,
      maxVUs: CFG.max_vus, exec: 'reference', tags: { step: 'ref' } } };
  }
  if (MODE === 'chaos') {
    return { chaos: { executor: 'constant-arrival-rate', rate: CFG.rate, timeUnit: '1s',
      duration: `${CFG.duration}s`, preAllocatedVUs: Math.min(CFG.max_vus, 50),
      maxVUs: CFG.max_vus, exec: 'mixed', gracefulStop: `${CFG.grace_seconds}s` } };
  }
  const result = {};
  CFG.rates.forEach((rate, i) => {
    result[`step${i}`] = {
      executor: 'constant-arrival-rate', rate, timeUnit: '1s',
      duration: `${CFG.step_seconds}s`, startTime: `${i * CFG.step_seconds}s`,
      preAllocatedVUs: Math.min(CFG.max_vus, Math.max(20, Math.ceil(rate / 10))),
      maxVUs: CFG.max_vus, exec: 'mixed', gracefulStop: '5s', tags: { step: String(i) },
    };
  });
  return result;
}

function thresholds() {
  // A threshold per sub-metric makes k6 report it in the summary.
  const result = {};
  if (MODE === 'chaos') {
    for (const [name] of CFG.windows) {
      result[`latency{window:${name}}`] = ['max>=0'];
      result[`updates{window:${name}}`] = ['count>=0'];
      result[`failures{window:${name}}`] = ['count>=0'];
    }
    result['dropped_iterations'] = ['count>=0'];
    return result;
  }
  const steps = MODE === 'mixed' ? CFG.rates.map((_, i) => String(i)) : ['ref'];
  for (const step of steps) {
    result[`latency{step:${step}}`] = ['max>=0'];
    result[`updates{step:${step}}`] = ['count>=0'];
    result[`failures{step:${step}}`] = ['count>=0'];
    if (MODE === 'mixed') {
      result[`dropped_iterations{scenario:step${step}}`] = ['count>=0'];
      for (const kind of KINDS) result[`latency{step:${step},kind:${kind}}`] = ['max>=0'];
    }
  }
  return result;
}

export const options = {
  scenarios: scenarios(),
  thresholds: thresholds(),
  summaryTrendStats: ['avg', 'med', 'p(50)', 'p(90)', 'p(99)', 'max', 'count'],
  discardResponseBodies: true,
  setupTimeout: '60s',
};

export function handleSummary(data) {
  return { [__ENV.SUMMARY_PATH]: JSON.stringify(data) };
}

const JSON_HEADERS = { 'Content-Type': 'application/json' };
let seq = 0;

// The fault window (CFG.windows: [name, from, to] in seconds after start_at) now.
function windowNow() {
  if (MODE !== 'chaos') return undefined;
  const t = Date.now() / 1000 - CFG.start_at;
  const found = CFG.windows.find(([, from, to]) => t >= from && t < to);
  return found ? found[0] : CFG.windows[CFG.windows.length - 1][0];
}

let told = 0;

function record(kind, res, ok, window) {
  const tags = window ? { kind, window } : { kind };
  latency.add(res.timings.duration, tags);
  updates.add(1, tags);
  if (!ok) {
    failures.add(1, tags);
    // What failed, on the bench's output (a few per VU; faults make many in chaos).
    if (MODE !== 'chaos' && told < 3) {
      told += 1;
      const what = res.status === 200 ? `delivery ${String(res.body).slice(0, 120)}`
        : `status ${res.status} ${res.error || ''} ${String(res.body || '').slice(0, 160)}`;
      console.warn(`failed update (${kind}): ${what}`);
    }
  }
  return ok;
}

const TIMEOUT = CFG.request_timeout || '60s';

function nextUpdateId() {
  seq += 1;
  return CFG.update_id_base + __VU * 1000000 + seq;
}

// A member's message, posted to the webhook as Telegram would.
function say(member, kind, text) {
  const c = CFG.communities[member.c];
  if (CFG.via_emulator) {
    // Telegram's delivery (and its retries) end to end: the emulator makes the update
    // (and numbers it); seq still advances so every confession's text is unique.
    nextUpdateId();
    return viaEmulator(kind, `${c.bot_id}/users/${member.id}/messages`, { text });
  }
  const entities = text.startsWith('/')
    ? [{ type: 'bot_command', offset: 0, length: text.split(' ')[0].length }] : undefined;
  const update = {
    update_id: nextUpdateId(),
    message: {
      message_id: seq, date: Math.floor(Date.now() / 1000),
      chat: { id: member.id, type: 'private', first_name: 'Bench' },
      from: { id: member.id, is_bot: false, first_name: 'Bench' }, text, entities,
    },
  };
  const res = http.post(c.url, JSON.stringify(update), {
    headers: { ...JSON_HEADERS, 'X-Telegram-Bot-Api-Secret-Token': c.secret },
    tags: { name: 'webhook' }, responseType: 'text',
  });
  const ok = record(kind, res, check(res, { 'webhook 200': (r) => r.status === 200 }));
  if (ok && res.body) runReply(c, res.body);
  return ok;
}

// Telegram executes a method returned in the webhook answer; so does the driver.
function runReply(c, body) {
  const reply = JSON.parse(body);
  if (!reply || typeof reply.method !== 'string') return;
  const { method, ...params } = reply;
  http.post(`${CFG.emulator}/bot${c.token}/${method}`, JSON.stringify(params),
    { headers: JSON_HEADERS, tags: { name: 'reply' } });
}

// Through the emulator: it makes the update (callback query id, file id) and delivers it.
function viaEmulator(kind, path, body) {
  const window = windowNow();
  return recordDelivery(kind, toEmulator(path, body), window);
}

function toEmulator(path, body) {
  return http.post(`${CFG.emulator}/control/bots/${path}`, JSON.stringify(body),
    { headers: JSON_HEADERS, tags: { name: 'emulator' }, responseType: 'text',
      timeout: TIMEOUT });
}

function recordDelivery(kind, res, window) {
  const ok = check(res, {
    'delivered 200': (r) => r.status === 200 && JSON.parse(r.body).status === 200,
  });
  return record(kind, res, ok, window);
}

// The bot's messages among the chat's newest `n` with a button starting with
// `prefix`, oldest first, each as { message_id, buttons: [callback data] }: the
// emulator sends only the buttons, so the driver parses no whole messages.
function withButtons(botId, chatId, prefix, n) {
  const res = http.get(`${CFG.emulator}/control/bots/${botId}/chats/${chatId}/buttons`
    + `?last=${n}&prefix=${encodeURIComponent(prefix)}`,
  { tags: { name: 'control' }, responseType: 'text' });
  if (res.status !== 200) return [];
  return JSON.parse(res.body).messages;
}

// The newest of the last few bot messages with a button starting with `prefix`
// (notifications the worker sends meanwhile may land after the message wanted).
function lastWith(botId, chatId, prefix) {
  const found = withButtons(botId, chatId, prefix, 4);
  return found[found.length - 1];
}

function buttons(message, prefix) {
  return ((message && message.buttons) || []).filter((d) => d.startsWith(prefix));
}

function pick(list) {
  return list[Math.floor(Math.random() * list.length)];
}

function press(s, kind, message, data) {
  const bot = CFG.communities[s.member.c].bot_id;
  return viaEmulator(kind, `${bot}/users/${s.member.id}/press`,
    { message_id: message.message_id, data });
}

// Press one of the buttons starting with `prefix` under the thread message,
// or page/sort when there is none (a thread without comments yet).
function pressThread(s, kind, prefix) {
  let choices = buttons(s.thread, prefix);
  if (choices.length === 0) { choices = buttons(s.thread, 'tv:'); kind = 'page'; }
  if (choices.length === 0) return say(s.member, 'help', '/help');
  const ok = press(s, kind, s.thread, pick(choices));
  s.thread = lastWith(CFG.communities[s.member.c].bot_id, s.member.id, 'tv:') || s.thread;
  return ok;
}

const steps = {
  start: (s) => say(s.member, 'start', '/start'),
  help: (s) => say(s.member, 'help', '/help'),
  me: (s) => say(s.member, 'me', '/me'),
  my: (s) => say(s.member, 'my', '/my'),
  new: (s) => say(s.member, 'new', '✍️ New confession'),
  write: (s) => say(s.member, 'write', `bench confession ${__VU}-${seq} <with> & symbols`),
  write_media: (s) => viaEmulator('write_media',
    `${CFG.communities[s.member.c].bot_id}/users/${s.member.id}/messages`,
    { media: 'photo', caption: `bench photo ${__VU}-${seq}` }),
  send: (s) => {
    const preview = lastWith(CFG.communities[s.member.c].bot_id, s.member.id, 'd:send:');
    const send = buttons(preview, 'd:send:');
    if (send.length === 0) return say(s.member, 'help', '/help');
    return press(s, 'send', preview, send[0]);
  },
  open: (s) => {
    const c = CFG.communities[s.member.c];
    const ok = say(s.member, 'open', `/start c_${pick(c.numbers)}`);
    s.thread = lastWith(c.bot_id, s.member.id, 'tv:');
    return ok;
  },
  page: (s) => pressThread(s, 'page', 'tv:'),
  react: (s) => pressThread(s, 'react', 'cm:' + pick(['up', 'dn'])),
  // ⚠️ shows the reasons (the same thread message, edited); one is pressed.
  report: (s) => {
    const bot = CFG.communities[s.member.c].bot_id;
    const asks = buttons(s.thread, 'cm:rp:');
    if (asks.length === 0) return pressThread(s, 'page', 'tv:');
    press(s, 'report', s.thread, pick(asks));
    const picker = lastWith(bot, s.member.id, 'cm:rp:') || s.thread;
    const reasons = buttons(picker, 'cm:rp:').filter((d) => !d.endsWith(':0'));
    if (reasons.length === 0) return pressThread(s, 'page', 'tv:');
    const ok = press(s, 'report', picker, pick(reasons));
    s.thread = lastWith(bot, s.member.id, 'tv:') || s.thread;
    return ok;
  },
  compose: (s) => pressThread(s, 'compose', 'cc:'),
  comment: (s) => say(s.member, 'comment', `bench comment ${__VU}-${seq}`),
  decide: (s) => {
    const c = CFG.communities[s.member.c];
    const action = Math.random() < 0.8 ? 'approve' : 'reject';
    // Admins of every VU decide the same chat's cards: one another VU decided
    // between reading the buttons and pressing is gone (the emulator refuses
    // the press, as a client shows no button to press), and no update was
    // made, so another card is picked.
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const cards = withButtons(c.bot_id, c.admin_chat, 'mod:approve:', 12);
      if (cards.length === 0) break;
      const card = pick(cards);
      const window = windowNow();
      const res = toEmulator(`${c.bot_id}/press`, {
        user_id: c.admin, chat_id: c.admin_chat, message_id: card.message_id,
        data: buttons(card, `mod:${action}:`)[0],
      });
      if (res.status === 400 && String(res.body).includes('has no button')) continue;
      return recordDelivery('decide', res, window);
    }
    return say(s.member, 'help', '/help');
  },
};

// [name, weight (sessions), steps]; about a third of the updates browse threads.
const SESSIONS = [
  ['confess', 10, ['new', 'write', 'send']],
  ['confess_media', 3, ['new', 'write_media', 'send']],
  ['browse', 6, ['open', 'page', 'react']],
  ['comment', 5, ['open', 'compose', 'comment']],
  ['report', 2, ['open', 'report']],
  ['me', 5, ['me']],
  ['my', 5, ['my']],
  ['start', 4, ['start']],
  ['help', 2, ['help']],
  ['moderate', 4, ['decide']],
];
const TOTAL_WEIGHT = SESSIONS.reduce((sum, s) => sum + s[1], 0);

// Members of this VU: every max_vus-th one from its slot, so no two VUs of a
// scenario play the same member. Telegram sends a chat's next update only once
// the last one was answered; two VUs sharing a member would send it two at once
// (the wrap-around of a plain modulo did: VU 1's third member was VU 151's
// first). A VU numbered past max_vus (scenarios overlapping in their grace
// period) takes the slot of the one max_vus before it, which is then ending.
let session = null;
let turn = 0;

function member() {
  const slot = (__VU - 1) % CFG.max_vus;
  const own = Math.floor((CFG.members.length - 1 - slot) / CFG.max_vus) + 1;
  const index = slot + (turn % own) * CFG.max_vus;
  turn += 1;
  const [id, c] = CFG.members[index];
  return { id, c };
}

function newSession(chosen) {
  let sessionSpec = chosen;
  if (!sessionSpec) {
    let r = Math.random() * TOTAL_WEIGHT;
    sessionSpec = SESSIONS.find((s) => (r -= s[1]) < 0) || SESSIONS[0];
  }
  return { name: sessionSpec[0], steps: sessionSpec[2], pos: 0, member: member(), thread: null };
}

export function mixed() {
  if (session === null || session.pos >= session.steps.length) session = newSession(null);
  const ok = steps[session.steps[session.pos]](session);
  session.pos = ok ? session.pos + 1 : session.steps.length;  // a failed step ends the session
}

function mark(kind) {
  sleep(CFG.settle_seconds);  // let asynchronous work (cards sent by the worker) land
  http.post(CFG.mark_url, JSON.stringify({ kind }), { headers: JSON_HEADERS,
    tags: { name: 'mark' } });
}

export function count() {
  sleep(5);  // the seeding's notices drain first: idle intervals measure only the background
  mark(null);
  for (let r = 0; r < CFG.count_reps + 2; r += 1) { sleep(1); mark('idle'); }
  for (const spec of SESSIONS) {
    for (let r = 0; r < CFG.count_reps; r += 1) {
      const s = newSession(spec);
      for (const step of s.steps) {
        steps[step](s);
        mark(step);
      }
    }
  }
}

export function reference() {
  const text = Math.random() < 0.5 ? '/start' : 'hello';
  const res = http.post(CFG.reference_url, JSON.stringify({
    update_id: nextUpdateId(),
    message: {
      message_id: seq, date: Math.floor(Date.now() / 1000),
      chat: { id: 42, type: 'private', first_name: 'Bench' },
      from: { id: 42, is_bot: false, first_name: 'Bench' }, text,
      entities: text.startsWith('/') ? [{ type: 'bot_command', offset: 0, length: 6 }] : undefined,
    },
  }), { headers: JSON_HEADERS, tags: { name: 'reference' } });
  record(text === 'hello' ? 'write' : 'start', res, check(res, { 'ref 200': (r) => r.status === 200 }));
}

export function setup() {
  if (MODE === 'chaos') {
    // Faults are scheduled against the same wall clock (tools/chaos/script.py).
    const wait = CFG.start_at - Date.now() / 1000;
    if (wait > 0) sleep(wait);
  }
  // Tells the bench the steps start now (it samples CPU at each step boundary).
  if (MODE === 'mixed') {
    http.post(CFG.mark_url, JSON.stringify({ kind: '__start__' }), { headers: JSON_HEADERS });
  }
}
