// k6 load for `make bench`: realistic member sessions posted to the gateway's
// webhook exactly as Telegram posts them. Each iteration is one session:
// /start, /help, "✍️ New confession", the text, Send (a callback query), /my.
import http from 'k6/http';
import { check } from 'k6';
import { Counter, Trend } from 'k6/metrics';

const GATEWAY = __ENV.GATEWAY_URL;          // http://127.0.0.1:PORT/webhook/ID
const SECRET = __ENV.WEBHOOK_SECRET;
const EMULATOR = __ENV.EMULATOR_URL;        // to find the preview's message id
const BOT_ID = __ENV.BOT_ID;
const USERS = JSON.parse(__ENV.USER_IDS);   // members known to the emulator

const latency = new Trend('webhook_latency', true);
const updates = new Counter('updates');
const failures = new Counter('failed_updates');

export const options = {
  scenarios: {
    sessions: {
      executor: 'shared-iterations',
      vus: Number(__ENV.VUS || 40),
      iterations: Number(__ENV.SESSIONS || 600),
      maxDuration: '5m',
    },
  },
  summaryTrendStats: ['avg', 'min', 'med', 'p(50)', 'p(90)', 'p(99)', 'max'],
  discardResponseBodies: true,
};

let seq = 0;

function post(update) {
  const res = http.post(GATEWAY, JSON.stringify(update), {
    headers: { 'Content-Type': 'application/json', 'X-Telegram-Bot-Api-Secret-Token': SECRET },
    tags: { name: 'webhook' },
  });
  latency.add(res.timings.duration);
  updates.add(1);
  if (!check(res, { 'status 200': (r) => r.status === 200 })) failures.add(1);
}

function message(userId, text) {
  seq += 1;
  const entities = text.startsWith('/')
    ? [{ type: 'bot_command', offset: 0, length: text.split(' ')[0].length }]
    : undefined;
  return {
    update_id: __VU * 10000000 + seq,
    message: {
      message_id: seq,
      date: Math.floor(Date.now() / 1000),
      chat: { id: userId, type: 'private', first_name: 'Bench' },
      from: { id: userId, is_bot: false, first_name: 'Bench' },
      text,
      entities,
    },
  };
}

function lastBotMessage(userId) {
  const res = http.get(`${EMULATOR}/control/bots/${BOT_ID}/chats/${userId}/messages`, {
    tags: { name: 'control' }, responseType: 'text',
  });
  const body = JSON.parse(res.body);
  const messages = (body.messages || body).filter((m) => m.from_bot);
  return messages[messages.length - 1];
}

export default function () {
  // One VU is one member at a time; members are spread so no one hits the rate limit.
  const userId = USERS[(__VU - 1) % USERS.length];
  post(message(userId, '/start'));
  post(message(userId, '/help'));
  post(message(userId, '✍️ New confession'));
  post(message(userId, `bench confession ${__VU}-${__ITER} <with> & symbols`));
  const preview = lastBotMessage(userId);
  const send = preview.reply_markup.inline_keyboard[0][0].callback_data;
  // A button press needs a callback query id Telegram issued, so this one update
  // goes through the emulator, which delivers it to the webhook like Telegram.
  const res = http.post(
    `${EMULATOR}/control/bots/${BOT_ID}/users/${userId}/press`,
    JSON.stringify({ message_id: preview.message_id, data: send }),
    { headers: { 'Content-Type': 'application/json' }, tags: { name: 'press' },
      responseType: 'text' },
  );
  latency.add(res.timings.duration);
  updates.add(1);
  if (!check(res, { 'press delivered': (r) => r.status === 200 && JSON.parse(r.body).status === 200 })) {
    failures.add(1);
  }
  post(message(userId, '/my'));
}
