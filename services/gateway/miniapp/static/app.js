// Veil's moderation Mini App: the queue of pending confessions and the figures.
// Everything shown comes from /miniapp/<community>/api/…, authenticated with the
// initData Telegram gives the page. Member text is only ever set as textContent.
"use strict";

(function () {
  const community = (location.pathname.match(/\/miniapp\/(\d+)\//) || [])[1];
  const api = (path) => `/miniapp/${community}/api/${path}`;

  // Telegram passes the launch data in the URL fragment (#tgWebAppData=…);
  // telegram-web-app.js, when loaded, exposes the same as Telegram.WebApp.initData.
  function initData() {
    const webApp = window.Telegram && window.Telegram.WebApp;
    if (webApp && webApp.initData) return webApp.initData;
    const fragment = new URLSearchParams(location.hash.slice(1));
    return fragment.get("tgWebAppData") || window.VEIL_INIT_DATA || "";
  }

  // Telegram's colours (tgWebAppThemeParams in the fragment) as CSS variables.
  function applyTheme() {
    const raw = new URLSearchParams(location.hash.slice(1)).get("tgWebAppThemeParams");
    if (!raw) return;
    try {
      for (const [key, value] of Object.entries(JSON.parse(raw))) {
        if (/^#[0-9a-f]{3,8}$/i.test(String(value))) {
          document.documentElement.style.setProperty(`--tg-theme-${key.replace(/_/g, "-")}`, value);
        }
      }
    } catch (error) {
      // A malformed theme leaves the default colours.
    }
  }

  const $ = (id) => document.getElementById(id);
  let reasons = [];
  let maxReason = 100;

  function notice(text, error) {
    const box = $("notice");
    box.textContent = text;
    box.className = error ? "error" : "";
    box.hidden = !text;
  }

  async function call(path, body) {
    const response = await fetch(api(path), {
      method: body ? "POST" : "GET",
      headers: { Authorization: `tma ${initData()}`, "Content-Type": "application/json" },
      body: body ? JSON.stringify(body) : undefined,
    });
    const payload = await response.json().catch(() => ({ error: response.statusText }));
    if (!response.ok) {
      const hint = response.status === 401 ? " Open the Mini App again from Telegram." : "";
      throw new Error(`${payload.error || response.status}.${hint}`);
    }
    return payload;
  }

  function age(seconds) {
    if (seconds < 60) return "just now";
    if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
    if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
    return `${Math.floor(seconds / 86400)} d ago`;
  }

  async function decide(item, li, action, reason) {
    li.querySelectorAll("button").forEach((b) => (b.disabled = true));
    try {
      const result = await call(`confessions/${item.id}/decision`, { action, reason });
      notice(`#${result.number}: ${result.outcome}`);
    } catch (error) {
      notice(String(error.message), true);
    }
    await loadQueue();
  }

  function renderItem(item) {
    const li = $("item-template").content.firstElementChild.cloneNode(true);
    li.dataset.number = item.number;
    li.querySelector(".number").textContent = `#${item.number}`;
    li.querySelector(".age").textContent = age(item.age_seconds);
    li.querySelector(".text").textContent = item.text || "(no text)";
    if (item.media) {
      const media = li.querySelector(".media");
      media.textContent = item.media;
      media.hidden = false;
    }
    if (item.pii) {
      const pii = li.querySelector(".pii");
      pii.textContent = item.pii;
      pii.hidden = false;
    }
    if (item.flagged) {
      const flag = li.querySelector(".flag");
      flag.textContent = `⚠️ contains “${item.flagged}”`;
      flag.hidden = false;
    }
    const form = li.querySelector(".reject-form");
    const select = form.querySelector(".reason");
    const typed = form.querySelector(".typed");
    typed.maxLength = maxReason;
    select.append(new Option("No reason", ""));
    reasons.forEach((r) => select.append(new Option(r, r)));
    select.append(new Option("Type a reason…", "\u0000typed"));
    select.addEventListener("change", () => {
      typed.hidden = select.value !== "\u0000typed";
      if (!typed.hidden) typed.focus();
    });
    li.querySelector(".approve").addEventListener("click", () => decide(item, li, "approve", ""));
    li.querySelector(".reject").addEventListener("click", () => (form.hidden = !form.hidden));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const reason = select.value === "\u0000typed" ? typed.value.trim() : select.value;
      decide(item, li, "reject", reason);
    });
    const confirmBan = li.querySelector(".ban-confirm");
    li.querySelector(".ban").addEventListener("click", () => (confirmBan.hidden = !confirmBan.hidden));
    li.querySelector(".confirm-ban").addEventListener("click", () => decide(item, li, "ban", ""));
    return li;
  }

  async function loadQueue() {
    try {
      const queue = await call("queue");
      reasons = queue.reasons;
      maxReason = queue.max_reason;
      $("title").textContent = `${queue.community} · Moderation`;
      $("count").textContent = String(queue.count);
      $("queue-empty").hidden = queue.items.length > 0;
      $("queue-items").replaceChildren(...queue.items.map(renderItem));
      document.body.dataset.loaded = "queue";
    } catch (error) {
      notice(String(error.message), true);
      document.body.dataset.loaded = "error";
    }
  }

  function figure(label, value) {
    const div = document.createElement("div");
    div.className = "figure";
    const b = document.createElement("b");
    b.textContent = value;
    div.append(b, document.createTextNode(label));
    return div;
  }

  function duration(seconds) {
    if (!seconds) return "–";
    if (seconds < 90) return `${seconds} s`;
    if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
    if (seconds < 129600) return `${Math.round(seconds / 3600)} h`;
    return `${Math.round(seconds / 86400)} d`;
  }

  async function loadFigures() {
    try {
      const f = await call("stats");
      const rate = f.approval_rate === null ? "–" : `${Math.round(f.approval_rate * 100)}%`;
      $("figure-cards").replaceChildren(
        figure(`confessions in ${f.days} days`, String(f.confessions)),
        figure("approval rate", rate),
        figure("median time to decision", duration(f.median_decision_seconds)),
        figure("members who confessed", String(f.confessing_members)),
        figure("members who commented", String(f.commenting_members)),
        figure("pending now", String(f.pending)),
      );
      const top = Math.max(1, ...f.per_day.map((d) => d.confessions));
      $("per-day").replaceChildren(
        ...f.per_day.map((d) => {
          const bar = document.createElement("div");
          bar.className = "bar";
          bar.title = `${d.day}: ${d.confessions}`;
          bar.style.height = `${(100 * d.confessions) / top}%`;
          const n = document.createElement("span");
          n.textContent = d.confessions ? String(d.confessions) : "";
          bar.append(n);
          return bar;
        }),
      );
      $("no-comments").hidden = f.most_commented.length > 0;
      $("most-commented").replaceChildren(
        ...f.most_commented.map((p) => {
          const li = document.createElement("li");
          li.textContent = `#${p.number} · ${p.comments} comments`;
          return li;
        }),
      );
      document.body.dataset.loaded = "figures";
    } catch (error) {
      notice(String(error.message), true);
    }
  }

  function commentItem(c, withActions) {
    const li = document.createElement("li");
    li.className = "comment";
    li.dataset.id = c.id;
    const head = document.createElement("div");
    const who = document.createElement("b");
    who.textContent = c.pseudonym;
    const where = document.createElement("span");
    where.className = "muted";
    where.textContent = ` on #${c.number} · ${age(c.age_seconds)} · ${c.status}` +
      (c.reports ? ` · ${c.reports} reports, weighted ${c.weight}` : "") +
      (c.reasons && c.reasons.length ? ` (${c.reasons.join(", ")})` : "");
    head.append(who, where);
    const text = document.createElement("p");
    text.className = "text";
    text.textContent = c.text;
    li.append(head);
    // What the doxxing guard or the word filter flagged, as on its card.
    for (const line of c.flagged || []) {
      const flag = document.createElement("div");
      flag.className = "flag";
      flag.textContent = line;
      li.append(flag);
    }
    li.append(text);
    if (withActions) {
      const actions = document.createElement("div");
      actions.className = "actions";
      for (const [action, label] of [["restore", "↩️ Restore"], ["delete", "🗑 Delete"]]) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = action;
        button.textContent = label;
        button.addEventListener("click", async () => {
          actions.querySelectorAll("button").forEach((b) => (b.disabled = true));
          try {
            const result = await call(`comments/${c.id}/decision`, { action, number: c.number });
            notice(`${c.pseudonym} on #${c.number}: ${result.outcome}`);
          } catch (error) {
            notice(String(error.message), true);
          }
          await loadHidden();
        });
        actions.append(button);
      }
      li.append(actions);
    }
    return li;
  }

  async function loadHidden() {
    try {
      const found = await call("comments/hidden");
      $("hidden-empty").hidden = found.comments.length > 0;
      $("hidden-items").replaceChildren(...found.comments.map((c) => commentItem(c, true)));
      document.body.dataset.loaded = "comments";
    } catch (error) {
      notice(String(error.message), true);
    }
  }

  $("search-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const q = $("search-query").value.trim();
    const results = $("search-results");
    try {
      const found = await call(`search?q=${encodeURIComponent(q)}`);
      const shown = [];
      if (found.confession) {
        const c = found.confession;
        const div = document.createElement("div");
        div.className = "comment confession";
        const head = document.createElement("b");
        head.textContent = `#${c.number} · ${c.status} · ${age(c.age_seconds)}`;
        const text = document.createElement("p");
        text.className = "text";
        text.textContent = c.text || "(no text)";
        div.append(head, text);
        shown.push(div);
      }
      const list = document.createElement("ol");
      list.append(...found.comments.map((c) => commentItem(c, c.status === "hidden")));
      if (found.comments.length) shown.push(list);
      if (!shown.length) {
        const none = document.createElement("p");
        none.className = "muted";
        none.textContent = "Nothing found.";
        shown.push(none);
      }
      results.replaceChildren(...shown);
      notice("");
    } catch (error) {
      results.replaceChildren();
      notice(String(error.message), true);
    }
  });

  const lines = (text) => text.split("\n").map((l) => l.trim()).filter(Boolean);

  function fillRules(rules) {
    const form = $("rules-form");
    for (const name of ["cooldown", "cap", "maxlen", "filter", "publish"]) {
      form.elements[name].value = rules[name];
    }
    form.elements.words.value = rules.words.join("\n");
    form.elements.reasons.value = rules.reasons.join("\n");
  }

  async function loadRules() {
    try {
      fillRules(await call("rules"));
      document.body.dataset.loaded = "rules";
    } catch (error) {
      notice(String(error.message), true);
    }
  }

  $("rules-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const body = {};
    for (const name of ["cooldown", "cap", "maxlen", "filter", "publish"]) {
      body[name] = form.elements[name].value.trim();
    }
    body.words = lines(form.elements.words.value);
    body.reasons = lines(form.elements.reasons.value);
    $("save-rules").disabled = true;
    try {
      fillRules(await call("rules", body));
      notice("Rules saved.");
    } catch (error) {
      notice(String(error.message), true);
    }
    $("save-rules").disabled = false;
  });

  document.querySelectorAll(".tab").forEach((tab) =>
    tab.addEventListener("click", () => {
      document.querySelectorAll(".tab").forEach((t) => t.classList.toggle("active", t === tab));
      $("queue").hidden = tab.dataset.tab !== "queue";
      $("figures").hidden = tab.dataset.tab !== "figures";
      $("rules").hidden = tab.dataset.tab !== "rules";
      $("comments").hidden = tab.dataset.tab !== "comments";
      notice("");
      if (tab.dataset.tab === "figures") loadFigures();
      else if (tab.dataset.tab === "comments") loadHidden();
      else if (tab.dataset.tab === "rules") loadRules();
      else loadQueue();
    }),
  );

  applyTheme();
  if (window.Telegram && window.Telegram.WebApp) window.Telegram.WebApp.ready();
  if (!initData()) notice("Open this page from the bot in Telegram (/panel in the admin chat).", true);
  loadQueue();
})();
