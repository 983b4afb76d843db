// The Veil sandbox: be a member, an admin and a channel reader at once.
//
// What is shown comes from the emulator's event stream (/sandbox/api/bots/{bot}/events);
// what is done goes through its control API (/control/...), as `make chat` does.
// Member text is only ever put in the page as text nodes, never parsed as HTML.
"use strict";

const $ = (id) => document.getElementById(id);

const state = {
  botId: null,
  info: null, // the "chats" event: bot, members, groups, channels
  chats: new Map(), // chat id -> Map(message id -> record)
  memberId: null,
  adminChatId: null,
  adminId: null,
  channelId: null,
  revealed: new Set(), // spoilers and expanded quotes the person opened, by key
};

// ---- helpers --------------------------------------------------------------

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

// The emulator calls everyone "User" until told a name: say who they are instead.
function displayName(person) {
  if (!person) return "";
  const name = person.first_name;
  if (name && name !== "User") return name;
  const admin = state.info && state.info.groups.some((g) => g.admins.some((a) => a.id === person.id));
  return `${admin ? "Admin" : "Member"} ${person.id}`;
}

function findPerson(id) {
  const info = state.info;
  if (!info) return null;
  for (const member of info.members) if (member.id === id) return member;
  for (const group of info.groups) {
    for (const person of group.members) if (person.id === id) return person;
  }
  return null;
}

function time(unix) {
  const date = new Date(unix * 1000);
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
}

let toastTimer = null;
function toast(text, kind) {
  const box = $("toast");
  box.textContent = text;
  box.dataset.kind = kind || "info";
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, kind === "alert" ? 6000 : 3500);
}

// A t.me deep link to this bot: its start payload ("" for a bare link), else null.
function deepLinkPayload(url) {
  if (!state.info) return null;
  let parsed;
  try { parsed = new URL(url); } catch { return null; }
  if (!["t.me", "telegram.me"].includes(parsed.hostname)) return null;
  const name = parsed.pathname.replace(/^\//, "").toLowerCase();
  if (name !== state.info.bot.username.toLowerCase()) return null;
  return parsed.searchParams.get("start") || "";
}

// A t.me/c/<channel>/<post> link to a post of the channel shown: that post's id, else null.
function channelPostId(url) {
  let parsed;
  try { parsed = new URL(url); } catch { return null; }
  const match = parsed.hostname === "t.me" && parsed.pathname.match(/^\/c\/(\d+)\/(\d+)$/);
  if (!match || state.channelId === null) return null;
  const internal = String(state.channelId).replace(/^-100/, "").replace(/^-/, "");
  return match[1] === internal ? Number(match[2]) : null;
}

function showChannelPost(messageId) {
  const post = $("channel-messages").querySelector(`.msg[data-message-id="${messageId}"]`);
  if (!post) { toast("That post is not in the channel (any more)", "alert"); return; }
  post.scrollIntoView({ block: "center", behavior: "smooth" });
  post.classList.remove("highlight");
  void post.offsetWidth; // restart the animation
  post.classList.add("highlight");
}

function openLink(url) {
  const payload = deepLinkPayload(url);
  if (payload !== null) {
    startAsMember(payload);
    return;
  }
  const postId = channelPostId(url);
  if (postId !== null) {
    showChannelPost(postId);
    return;
  }
  if (/^https?:\/\//i.test(url)) window.open(url, "_blank", "noopener,noreferrer");
  else toast(`This link works in Telegram only: ${url}`);
}

// A Mini App (a web_app button) opens in a new tab with the initData Telegram
// would give it for that user, signed by the emulator with the bot's token.
// The tab is opened at the click (popup blockers), and sent on once signed.
async function openMiniApp(userId, name, url, tab) {
  const launch = await control(`/users/${userId}/webapp`, { first_name: name });
  if (!launch || !launch.fragment) { if (tab) tab.close(); return; }
  const target = `${url.split("#")[0]}#${launch.fragment}`;
  if (tab) tab.location.href = target;
  else window.open(target, "_blank");
}

// A deep link pressed in the admin group is followed by the admin: their
// private chat with the bot is not shown here, so a web_app button in the
// bot's answer there (e.g. "🗂 Open moderation") is opened at once.
async function followAsAdmin(payload, tab) {
  if (state.adminId === null) { if (tab) tab.close(); toast("No admin to act as", "alert"); return; }
  const started = await control(`/users/${state.adminId}/start`, { first_name: adminName(), payload });
  let messages = [];
  try {
    const response = await fetch(`/control/bots/${state.botId}/chats/${state.adminId}/messages`);
    messages = (await response.json()).messages || [];
  } catch (error) { messages = []; }
  const answers = messages.filter((m) => m.from_bot && !m.deleted);
  const last = answers[answers.length - 1];
  const rows = (last && last.reply_markup && last.reply_markup.inline_keyboard) || [];
  const app = rows.flat().find((b) => b.web_app && b.web_app.url);
  if (started && app) { await openMiniApp(state.adminId, adminName(), app.web_app.url, tab); return; }
  if (tab) tab.close();
  if (last) toast(`${adminName()} got: ${last.text || last.caption || "a message"}`, "info");
}

// ---- the control API -------------------------------------------------------

async function control(path, body) {
  let answer = {};
  try {
    const response = await fetch(`/control/bots/${state.botId}${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      toast(`The emulator refused: ${answer.error || response.status}`, "alert");
      return null;
    }
  } catch (error) {
    toast(`Cannot reach the emulator: ${error}`, "alert");
    return null;
  }
  if (answer.status !== undefined && answer.status !== null && answer.status !== 200) {
    toast(`The bot's webhook answered ${answer.status}`, "alert");
  }
  const reply = answer.answer;
  if (reply && reply.text) toast(reply.text, reply.show_alert ? "alert" : "info");
  return answer;
}

function memberName() {
  return displayName(findPerson(state.memberId) || { id: state.memberId });
}

function adminName() {
  return displayName(findPerson(state.adminId) || { id: state.adminId });
}

function sendAsMember(text, media) {
  if (state.memberId === null) { toast("Add a member first", "alert"); return; }
  const body = { first_name: memberName() };
  if (media) { body.media = media; if (text) body.caption = text; } else body.text = text;
  return control(`/users/${state.memberId}/messages`, body);
}

function startAsMember(payload) {
  if (state.memberId === null) { toast("Add a member first", "alert"); return; }
  const body = { first_name: memberName() };
  if (payload) body.payload = payload;
  $("member-pane").classList.add("flash");
  setTimeout(() => $("member-pane").classList.remove("flash"), 700);
  return control(`/users/${state.memberId}/start`, body);
}

function press(chatId, message, data) {
  const asAdmin = chatId !== state.memberId;
  const userId = asAdmin ? state.adminId : state.memberId;
  if (userId === null) { toast("Nobody to press as", "alert"); return; }
  const body = { message_id: message.message_id, data, first_name: asAdmin ? adminName() : memberName() };
  if (asAdmin) body.chat_id = chatId;
  return control(`/users/${userId}/press`, body);
}

// ---- rendering text with its entities ---------------------------------------

const TAGS = {
  bold: "b", italic: "i", underline: "u", strikethrough: "s", code: "code",
  pre: "pre", spoiler: "span", blockquote: "blockquote", expandable_blockquote: "blockquote",
  text_link: "a", url: "a", text_mention: "span", mention: "span", hashtag: "span",
  cashtag: "span", bot_command: "span", email: "span", phone_number: "span", custom_emoji: "span",
};

function entityElement(entity, text, key) {
  const tag = TAGS[entity.type] || "span";
  const node = el(tag, `e-${entity.type}`);
  if (entity.type === "spoiler") {
    if (state.revealed.has(key)) node.classList.add("revealed");
    node.title = "spoiler: click to reveal";
    node.addEventListener("click", () => { node.classList.add("revealed"); state.revealed.add(key); });
  } else if (entity.type === "expandable_blockquote") {
    if (state.revealed.has(key)) node.classList.add("expanded");
    node.addEventListener("click", () => { node.classList.toggle("expanded"); state.revealed.add(key); });
  } else if (entity.type === "text_link" || entity.type === "url") {
    const url = entity.type === "url" ? text.slice(entity.offset, entity.offset + entity.length) : entity.url;
    if (/^(https?:|tg:)/i.test(url)) {
      node.href = url;
      node.title = url;
      node.addEventListener("click", (event) => { event.preventDefault(); openLink(url); });
    }
  } else if (entity.type === "pre" && entity.language) {
    node.dataset.language = entity.language;
  }
  return node;
}

// Text plus Bot API entities (offsets in UTF-16 code units, which is what JS strings count)
// as DOM nodes; entities nest as Telegram's HTML parser produces them.
function renderEntities(text, entities, key) {
  const root = document.createDocumentFragment();
  const stack = [{ node: root, end: text.length }];
  let position = 0;
  const flush = (upto) => {
    for (;;) {
      const top = stack[stack.length - 1];
      const stop = Math.min(upto, top.end);
      if (stop > position) {
        top.node.append(document.createTextNode(text.slice(position, stop)));
        position = stop;
      }
      if (stack.length > 1 && position >= top.end) { stack.pop(); continue; }
      return;
    }
  };
  const sorted = [...(entities || [])].sort((a, b) => a.offset - b.offset || b.length - a.length);
  sorted.forEach((entity, index) => {
    if (entity.offset < position) return; // overlaps what is already out: Telegram never nests so
    flush(entity.offset);
    const top = stack[stack.length - 1];
    const end = Math.min(entity.offset + entity.length, top.end);
    const node = entityElement(entity, text, `${key}:${index}`);
    top.node.append(node);
    stack.push({ node, end });
  });
  flush(text.length);
  return root;
}

// ---- rendering messages -----------------------------------------------------

const MEDIA_LABELS = { photo: "📷 Photo", video: "🎬 Video", voice: "🎤 Voice message", document: "📄 Document", audio: "🎵 Audio", animation: "🎞️ GIF", sticker: "🏷️ Sticker", video_note: "⏺️ Video message" };

function inlineKeyboard(chatId, message) {
  const rows = (message.reply_markup && message.reply_markup.inline_keyboard) || [];
  if (!rows.length) return null;
  const box = el("div", "inline-kb");
  for (const row of rows) {
    const line = el("div", "kb-row");
    for (const button of row) {
      const node = el("button", "kb-button", button.text);
      node.type = "button";
      if (button.callback_data !== undefined) {
        node.addEventListener("click", () => press(chatId, message, button.callback_data));
      } else if (button.url !== undefined) {
        node.classList.add("link");
        node.title = button.url;
        const inAdminGroup = chatId !== state.memberId && chatId !== state.channelId;
        node.addEventListener("click", () => {
          const payload = deepLinkPayload(button.url);
          if (inAdminGroup && payload !== null) followAsAdmin(payload, window.open("about:blank", "_blank"));
          else openLink(button.url);
        });
      } else if (button.web_app !== undefined && button.web_app.url) {
        node.classList.add("link");
        node.title = `Mini App: ${button.web_app.url}`;
        node.addEventListener("click", () => {
          const asAdmin = chatId !== state.memberId;
          const userId = asAdmin ? state.adminId : state.memberId;
          openMiniApp(userId, asAdmin ? adminName() : memberName(), button.web_app.url,
            window.open("about:blank", "_blank"));
        });
      } else {
        node.disabled = true;
        node.title = "works in Telegram only";
      }
      line.append(node);
    }
    box.append(line);
  }
  return box;
}

function messageNode(chatId, message, kind) {
  const records = state.chats.get(chatId);
  const mine = kind === "member" ? !message.from_bot
    : kind === "admin" ? !message.from_bot && message.from && message.from.id === state.adminId
      : false;
  const node = el("div", `msg ${mine ? "out" : "in"}${message.from_bot ? " from-bot" : ""}`);
  node.dataset.messageId = message.message_id;
  if (kind === "admin" && !mine) {
    const who = message.from_bot ? state.info.bot.first_name : displayName(message.from);
    node.append(el("div", "sender", who));
  }
  if (message.reply_to_message_id && records && records.has(message.reply_to_message_id)) {
    const quoted = records.get(message.reply_to_message_id);
    node.append(el("div", "reply-quote", (quoted.text || quoted.caption || "").slice(0, 80)));
  }
  if (message.media) {
    node.append(el("div", "media", MEDIA_LABELS[message.media.type] || `📎 ${message.media.type}`));
  }
  const key = `${chatId}:${message.message_id}`;
  if (message.text) {
    const body = el("div", "text");
    body.append(renderEntities(message.text, message.entities, key));
    node.append(body);
  } else if (message.caption) {
    const body = el("div", "text caption");
    body.append(renderEntities(message.caption, message.caption_entities, `${key}:c`));
    node.append(body);
  }
  const meta = el("div", "meta", (message.edit_date ? "edited " : "") + time(message.date));
  node.append(meta);
  const keyboard = inlineKeyboard(chatId, message);
  if (keyboard) node.append(keyboard);
  return node;
}

function sortedMessages(chatId) {
  const records = state.chats.get(chatId);
  if (!records) return [];
  return [...records.values()].filter((m) => !m.deleted).sort((a, b) => a.message_id - b.message_id);
}

function renderPane(listId, chatId, kind, empty) {
  const list = $(listId);
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  const messages = chatId === null ? [] : sortedMessages(chatId);
  list.replaceChildren();
  if (!messages.length) list.append(el("div", "empty", empty));
  for (const message of messages) list.append(messageNode(chatId, message, kind));
  if (atBottom || list.dataset.chat !== String(chatId)) list.scrollTop = list.scrollHeight;
  list.dataset.chat = String(chatId);
}

// The reply keyboard a member sees: the latest one the bot sent, until it removes it.
function renderReplyKeyboard() {
  const box = $("member-keyboard");
  box.replaceChildren();
  let keyboard = null;
  for (const message of sortedMessages(state.memberId)) {
    const markup = message.from_bot && message.reply_markup;
    if (!markup) continue;
    if (markup.keyboard) keyboard = markup.keyboard;
    else if (markup.remove_keyboard) keyboard = null;
  }
  box.hidden = !keyboard;
  for (const row of keyboard || []) {
    const line = el("div", "kb-row");
    for (const button of row) {
      const text = typeof button === "string" ? button : button.text;
      const node = el("button", "kb-button reply", text);
      node.type = "button";
      node.addEventListener("click", () => sendAsMember(text));
      line.append(node);
    }
    box.append(line);
  }
}

function renderMembers() {
  const select = $("member-select");
  const members = state.info ? state.info.members : [];
  if (state.memberId === null && members.length) state.memberId = members[0].id;
  select.replaceChildren();
  const ids = new Set(members.map((m) => m.id));
  if (state.memberId !== null && !ids.has(state.memberId)) {
    select.append(new Option(`${memberName()} (joining…)`, String(state.memberId)));
  }
  for (const member of members) {
    select.append(new Option(`${displayName(member)} · ${member.id}`, String(member.id)));
  }
  select.value = state.memberId === null ? "" : String(state.memberId);
  select.disabled = !select.options.length;
  $("member-title").textContent = state.memberId === null
    ? "Private chat with the bot" : `${memberName()} ↔ ${state.info.bot.first_name}`;
  if (!members.length && state.memberId === null) $("add-member-form").hidden = false;
}

function renderAdmins() {
  const select = $("admin-select");
  const group = state.info && state.info.groups.find((g) => g.id === state.adminChatId);
  select.replaceChildren();
  if (!group) { select.disabled = true; return; }
  $("admin-title").textContent = group.title;
  const count = group.members.length;
  $("admin-hint").textContent = `admin group · ${count} member${count === 1 ? "" : "s"}`;
  const people = group.members.length ? group.members : group.admins;
  if (state.adminId === null || !people.some((p) => p.id === state.adminId)) {
    state.adminId = (group.admins[0] || people[0] || { id: null }).id;
  }
  for (const person of people) {
    const name = displayName(person);
    const admin = group.admins.some((a) => a.id === person.id) && !name.startsWith("Admin ");
    select.append(new Option(`${name}${admin ? " (admin)" : ""} · ${person.id}`, String(person.id)));
  }
  select.value = String(state.adminId);
  select.disabled = false;
}

let scheduled = false;
function render() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    if (!state.info) return;
    const channel = state.info.channels.find((c) => c.id === state.channelId);
    $("bot-name").textContent = `@${state.info.bot.username} · the bot side is the real Veil gateway`;
    $("channel-title").textContent = channel ? channel.title : "Channel";
    renderMembers();
    renderAdmins();
    renderPane("member-messages", state.memberId, "member",
      state.memberId === null ? "Add a member to open the bot." : "No messages yet: press Start.");
    renderReplyKeyboard();
    renderPane("admin-messages", state.adminChatId, "admin", "Confessions to review arrive here.");
    renderPane("channel-messages", state.channelId, "channel", "Approved confessions are posted here.");
  });
}

// ---- the event stream ---------------------------------------------------------

function onChats(info) {
  state.info = info;
  if (state.adminChatId === null && info.groups.length) state.adminChatId = info.groups[0].id;
  if (state.channelId === null && info.channels.length) state.channelId = info.channels[0].id;
  render();
}

function onMessage(record) {
  let records = state.chats.get(record.chat_id);
  if (!records) { records = new Map(); state.chats.set(record.chat_id, records); }
  records.set(record.message_id, record);
  render();
}

function connect() {
  const status = $("status");
  const source = new EventSource(`api/bots/${state.botId}/events`);
  source.addEventListener("open", () => {
    state.chats.clear(); // the stream starts again with everything
  });
  source.addEventListener("error", () => {
    status.textContent = "reconnecting…";
    status.dataset.state = "down";
  });
  source.addEventListener("reset", () => {
    state.chats.clear();
    render();
  });
  source.addEventListener("chats", (event) => {
    onChats(JSON.parse(event.data));
    // Live once the stream has said who is where: before that the composers
    // would have no admin or member to act as.
    status.textContent = "live";
    status.dataset.state = "live";
  });
  source.addEventListener("message", (event) => onMessage(JSON.parse(event.data)));
}

// ---- the person's input -----------------------------------------------------------

function nextMemberId() {
  const taken = new Set();
  for (const member of state.info ? state.info.members : []) taken.add(member.id);
  for (const group of state.info ? state.info.groups : []) {
    for (const person of group.members) taken.add(person.id);
  }
  let id = Math.max(1000, ...[...taken].filter((n) => n < 100000)) + 1;
  while (taken.has(id)) id += 1;
  return id;
}

function wire() {
  $("member-composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("member-input");
    const media = $("member-media").value;
    const text = input.value.trim();
    if (!text && !media) return;
    input.value = "";
    $("member-media").value = "";
    if (!media && (text === "/start" || text.startsWith("/start "))) startAsMember(text.slice(7).trim());
    else sendAsMember(text, media);
  });
  $("admin-composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("admin-input");
    const text = input.value.trim();
    // The admin is chosen when the page is next drawn: choose now if not yet.
    if (state.adminId === null) renderAdmins();
    if (!text || state.adminId === null) return;
    input.value = "";
    control(`/users/${state.adminId}/messages`, { text, chat_id: state.adminChatId, first_name: adminName() });
  });
  $("member-select").addEventListener("change", (event) => {
    state.memberId = Number(event.target.value);
    render();
  });
  $("admin-select").addEventListener("change", (event) => {
    state.adminId = Number(event.target.value);
    render();
  });
  $("add-member").addEventListener("click", () => {
    const form = $("add-member-form");
    form.hidden = !form.hidden;
    if (!form.hidden) $("new-member-name").focus();
  });
  $("add-member-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("new-member-name");
    const id = nextMemberId();
    state.memberId = id;
    state.info.members.push({ id, first_name: input.value.trim() || `Member ${id}` });
    input.value = "";
    $("add-member-form").hidden = true;
    render();
    await startAsMember("");
  });
  $("bot-select").addEventListener("change", (event) => {
    const url = new URL(window.location.href);
    url.searchParams.set("bot", event.target.value);
    window.location.href = url.toString();
  });
}

async function main() {
  wire();
  const wanted = new URLSearchParams(window.location.search).get("bot");
  const response = await fetch("api/bots");
  const { bots } = await response.json();
  const select = $("bot-select");
  for (const bot of bots) select.append(new Option(`@${bot.bot.username}`, String(bot.bot.id)));
  $("bot-pick").hidden = bots.length < 2;
  state.botId = wanted ? Number(wanted) : bots.length ? bots[0].bot.id : null;
  if (state.botId === null) {
    $("bot-name").textContent = "no bot has a webhook yet: is `make up` running?";
    return;
  }
  select.value = String(state.botId);
  connect();
}

main();
