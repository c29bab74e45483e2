/* The driver's phone view: sign in, today's run one stop per screen, tallies queued
 * on the phone (localStorage) and synced when there is signal. Every entry carries
 * an idempotency key (run|point|household|stream|category-or-goods), so a batch sent
 * twice is recorded once and an edited household supersedes its earlier lines.
 * Names are only ever set as text (textContent), never as HTML. */
"use strict";

const T = {
  zh: {
    signin_title: "司机登录", truck: "车辆编号", code: "登录码(印在运行单上)", sign_in: "登录",
    bad_code: "车辆编号或登录码不对", runs: "本月车次", today: "今天", stop: "站点",
    window: "公告时段", arrival: "计划到达", navigate: "导航", households: "农牧户",
    card: "输入或扫描户卡", open: "打开", unknown_card: "本站没有这张卡", balance: "积分",
    goods_due: "应兑物品", save: "保存", saved: "已保存", cash_paid: "付现 元", goods: "兑换物品",
    qty: "数量", points_redeemed: "用积分", compost: "自家堆肥", prev: "上一站", next: "下一站",
    unload: "卸车", station: "中转站", weigh_kg: "过磅 kg", ticket: "磅单号",
    planned_kg: "计划卸车 kg", end: "收车", cash_out: "带出现金 元", cash_back: "交回现金 元",
    odo_start: "出车里程 km", odo_end: "收车里程 km", goods_back: "带回", loaded: "装车",
    close_run: "提交收车记录", online: "在线", offline: "离线", pending: "待同步",
    synced: "已同步", on_board: "车上", cash: "现金", rejected: "被拒绝", sign_out: "退出",
    none: "无", kg: "kg", back_to_runs: "车次列表",
  },
  en: {
    signin_title: "Driver sign-in", truck: "Truck id", code: "Code (on the run sheet)",
    sign_in: "Sign in", bad_code: "Wrong truck id or code", runs: "This month's runs",
    today: "today", stop: "Stop", window: "Window", arrival: "Planned arrival",
    navigate: "Navigate", households: "Households", card: "Type or scan a household card",
    open: "Open", unknown_card: "No such card at this stop", balance: "points",
    goods_due: "goods due", save: "Save", saved: "saved", cash_paid: "Cash paid CNY",
    goods: "Exchange goods", qty: "qty", points_redeemed: "points redeemed",
    compost: "composts at home", prev: "Previous", next: "Next", unload: "Unload",
    station: "Station", weigh_kg: "Weigh ticket kg", ticket: "Ticket no.",
    planned_kg: "Planned kg", end: "End of run", cash_out: "Cash float out CNY",
    cash_back: "Cash returned CNY", odo_start: "Odometer start km", odo_end: "Odometer end km",
    goods_back: "returned", loaded: "loaded", close_run: "Submit end of run", online: "online",
    offline: "offline", pending: "to sync", synced: "synced", on_board: "on board",
    cash: "cash", rejected: "rejected", sign_out: "Sign out", none: "none", kg: "kg",
    back_to_runs: "Runs",
  },
};

const LS = window.localStorage;
const K = { token: "planner.token", who: "planner.who", runs: "planner.runs", lang: "planner.lang",
  queue: "planner.queue", saved: "planner.saved", rejected: "planner.rejected" };
let lang = LS.getItem(K.lang) || JSON.parse(document.getElementById("lang-data").textContent).lang;
let run = null;
let screen = 0;
let syncing = false;

const t = (k) => (T[lang] && T[lang][k]) || T.en[k] || k;
const $ = (id) => document.getElementById(id);
const load = (k, d) => { try { return JSON.parse(LS.getItem(k)) ?? d; } catch (e) { return d; } };
const store = (k, v) => LS.setItem(k, JSON.stringify(v));

function el(tag, attrs, ...kids) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "on") for (const [ev, f] of Object.entries(v)) n.addEventListener(ev, f);
    else if (k === "text") n.textContent = v;
    else n.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of kids.flat()) if (c !== null && c !== undefined) n.append(c);
  return n;
}

function show(id) {
  for (const s of ["signin", "runs", "stop"]) $(s).hidden = s !== id;
  $("sign-out").hidden = id === "signin";
}

function applyLang() {
  document.documentElement.lang = lang === "en" ? "en" : "zh-CN";
  for (const n of document.querySelectorAll("[data-t]")) n.textContent = t(n.dataset.t);
  $("lang-switch").textContent = lang === "en" ? "中文" : "EN";
  $("sign-out").textContent = t("sign_out");
}

async function api(method, path, body) {
  const headers = { "Content-Type": "application/json" };
  const token = LS.getItem(K.token);
  if (token) headers.Authorization = "Bearer " + token;
  const r = await fetch(path, { method, headers, body: body ? JSON.stringify(body) : undefined,
    cache: "no-store" });
  if (r.status === 401 && path !== "/api/driver/session") { signOut(); throw new Error("401"); }
  return r;
}

function signOut() {
  LS.removeItem(K.token);
  show("signin");
}

// --- status bar --------------------------------------------------------------------
function savedFor(runId) { return load(K.saved, {})[runId] || {}; }

function onBoard() {
  if (!run) return "";
  const lines = Object.values(savedFor(run.id));
  const paid = lines.reduce((a, e) => a + (e.cash_cny || 0), 0);
  const handed = {};
  for (const e of lines) if (e.goods_item) handed[e.goods_item] = (handed[e.goods_item] || 0) + e.goods_qty;
  const cash = (run.cash_float_cny || 0) - paid;
  const goods = (run.goods_loaded || []).map((g) => `${g.name} ${g.count - (handed[g.item] || 0)}`);
  return `${t("on_board")}: ${t("cash")} ${cash.toFixed(2)}` + (goods.length ? " · " + goods.join(" ") : "");
}

function status() {
  const q = Object.keys(load(K.queue, {})).length;
  $("net").textContent = navigator.onLine ? t("online") : t("offline");
  $("net").className = "net " + (navigator.onLine ? "on" : "off");
  $("pending").textContent = q ? `${t("pending")} ${q}` : t("synced");
  $("pending").dataset.count = String(q);
  $("onboard").textContent = onBoard();
  const rej = load(K.rejected, []);
  if (rej.length) $("pending").textContent += ` · ${t("rejected")} ${rej.length}`;
}

// --- queue and sync ----------------------------------------------------------------
function enqueue(runId, records) {
  const q = load(K.queue, {});
  const saved = load(K.saved, {});
  saved[runId] = saved[runId] || {};
  for (const r of records) {
    const kind = r.stream ? "entries" : "closes";
    q[r.key] = { run: runId, kind, rec: r };
    if (kind === "entries") saved[runId][r.key] = r;
  }
  store(K.queue, q);
  store(K.saved, saved);
  status();
  sync();
}

async function sync() {
  if (syncing || !navigator.onLine || !LS.getItem(K.token)) return;
  const q = load(K.queue, {});
  const byRun = {};
  for (const [key, item] of Object.entries(q)) {
    (byRun[item.run] = byRun[item.run] || { entries: [], closes: [], sent: {} });
    byRun[item.run][item.kind].push(item.rec);
    byRun[item.run].sent[key] = JSON.stringify(item.rec);
  }
  syncing = true;
  try {
    for (const [runId, batch] of Object.entries(byRun)) {
      let r;
      try {
        r = await api("POST", `/api/driver/runs/${encodeURIComponent(runId)}/entries`,
          { entries: batch.entries, closes: batch.closes });
      } catch (e) { break; }
      if (r.ok || r.status === 422 || r.status === 403) {
        const now = load(K.queue, {});
        if (!r.ok) {
          const detail = await r.json().catch(() => ({}));
          const rej = load(K.rejected, []);
          rej.push({ run: runId, status: r.status, detail: detail.detail });
          store(K.rejected, rej.slice(-20));
        }
        for (const [key, sent] of Object.entries(batch.sent)) {
          if (now[key] && JSON.stringify(now[key].rec) === sent) delete now[key];
        }
        store(K.queue, now);
      }
    }
  } finally {
    syncing = false;
    status();
  }
}

// --- runs --------------------------------------------------------------------------
async function loadRuns(auto) {
  let data = load(K.runs, null);
  try {
    const r = await api("GET", "/api/driver/runs");
    if (r.ok) { data = await r.json(); store(K.runs, data); }
  } catch (e) { /* offline: the copy on the phone */ }
  if (!data) { show("signin"); return; }
  $("title").textContent = `${data.vehicle} · ${data.month}`;
  const list = el("ul", { class: "runlist" });
  for (const b of data.runs) {
    list.append(el("li", {}, el("a", { href: "#", class: b.id === data.today ? "today" : null,
      on: { click: (ev) => { ev.preventDefault(); openRun(b.id); } } },
    `${b.date} · ${b.id} · ${b.stops} ${t("stop")}` + (b.today ? ` (${t("today")})` : ""))));
  }
  $("runs").replaceChildren(el("h1", { text: t("runs") }), list);
  show("runs");
  if (auto && data.today) openRun(data.today);
}

async function openRun(id) {
  let view = load("planner.run." + id, null);
  try {
    const r = await api("GET", `/api/driver/runs/${encodeURIComponent(id)}`);
    if (r.ok) { view = await r.json(); store("planner.run." + id, view); mergeRecorded(view); }
  } catch (e) { /* offline */ }
  if (!view) return;
  run = view;
  screen = 0;
  render();
}

function mergeRecorded(view) {
  // What the ledger already holds for this run counts as saved on the phone too.
  const saved = load(K.saved, {});
  const mine = saved[view.id] || {};
  for (const e of view.recorded || []) if (!mine[e.key]) mine[e.key] = e;
  saved[view.id] = mine;
  store(K.saved, saved);
}

function screens() {
  const out = [];
  for (const st of run.steps) if (st.type === "collect" || st.type === "unload") out.push(st);
  out.push({ type: "end" });
  return out;
}

function render() {
  const all = screens();
  screen = Math.max(0, Math.min(screen, all.length - 1));
  const st = all[screen];
  const nav = el("div", { class: "pager" },
    el("button", { type: "button", id: "prev", disabled: screen === 0,
      on: { click: () => { screen -= 1; render(); } } }, t("prev")),
    el("span", { text: `${screen + 1} / ${all.length}` }),
    el("button", { type: "button", id: "next", disabled: screen === all.length - 1,
      on: { click: () => { screen += 1; render(); } } }, t("next")));
  const body = st.type === "collect" ? collectScreen(st) : st.type === "unload" ? unloadScreen(st) : endScreen();
  $("stop").replaceChildren(
    el("p", {}, el("a", { href: "#", id: "to-runs", on: { click: (ev) => { ev.preventDefault(); loadRuns(false); } } }, "← " + t("back_to_runs"))),
    nav, body);
  show("stop");
  status();
  window.scrollTo(0, 0);
}

function num(v) { const x = parseFloat(String(v).replace(",", ".")); return Number.isFinite(x) ? x : null; }
const round2 = (x) => Math.round(x * 100) / 100;

function collectScreen(st) {
  const head = el("div", { class: "stophead" },
    el("h1", { class: "stopname", text: st.name }),
    el("p", {}, `${t("arrival")} ${st.arrival.slice(11)}` + (st.window ? ` · ${t("window")} ${st.window[0]}–${st.window[1]}` : "")),
    st.lat !== null ? el("a", { class: "button", href: `geo:${st.lat},${st.lon}?q=${st.lat},${st.lon}` }, t("navigate")) : null);
  const list = el("div", { class: "households" });
  const forms = {};
  for (const h of st.households) { const f = householdForm(st, h); forms[h.id] = f; list.append(f); }
  const cardInput = el("input", { id: "card", placeholder: t("card"), autocomplete: "off", autocapitalize: "characters" });
  const cardMsg = el("span", { class: "error", hidden: true, text: t("unknown_card") });
  const openCard = (ev) => {
    ev.preventDefault();
    const v = cardInput.value.trim().toUpperCase();
    const h = st.households.find((x) => x.code.toUpperCase() === v || x.id.toUpperCase() === v);
    cardMsg.hidden = !!h;
    if (h) { forms[h.id].open = true; forms[h.id].scrollIntoView(); cardInput.value = ""; }
  };
  const card = el("form", { class: "cardform", on: { submit: openCard } }, cardInput, el("button", { type: "submit" }, t("open")), cardMsg);
  return el("div", {}, head, card, el("h2", { text: `${t("households")} (${st.households.length})` }), list);
}

function householdForm(st, h) {
  const saved = savedFor(run.id);
  const keyOf = (stream, cat) => [run.id, st.place, h.id, stream, cat, ""].join("|");
  const goodsKey = (item) => [run.id, st.place, h.id, "exchange", "", item].join("|");
  const fields = [];
  const inputs = {};
  for (const c of run.categories) {
    if (c.stream === "compost") continue;
    const prev = saved[keyOf(c.stream, c.id)];
    const exp = h.expected[c.id];
    const inp = el("input", { type: "number", step: "0.1", min: "0", inputmode: "decimal",
      name: `${c.stream}:${c.id}`, value: prev && prev.kg !== null ? prev.kg : null,
      placeholder: exp ? exp.toFixed(1) : "0" });
    inputs[`${c.stream}:${c.id}`] = inp;
    fields.push(el("label", {}, `${lang === "en" ? c.name_en : c.name} (${c.stream === "sell" ? "¥" + c.price_cny_kg + "/kg" : c.points_per_kg + " " + t("balance") + "/kg"})`, inp));
  }
  const cash = el("input", { type: "number", step: "0.01", min: "0", name: "cash", inputmode: "decimal" });
  const sellCash = () => run.categories.filter((c) => c.stream === "sell")
    .reduce((a, c) => a + (num(inputs[`sell:${c.id}`].value) || 0) * c.price_cny_kg, 0);
  for (const c of run.categories) if (c.stream === "sell") inputs[`sell:${c.id}`].addEventListener("input", () => { cash.value = round2(sellCash()).toFixed(2); });
  const goodsSel = el("select", { name: "goods_item" }, el("option", { value: "", text: t("none") }),
    run.goods_items.map((g) => el("option", { value: g.id, text: `${lang === "en" ? g.name_en : g.name} (${g.points})` })));
  const goodsQty = el("input", { type: "number", min: "0", step: "1", name: "goods_qty", inputmode: "numeric", value: "" });
  const due = h.goods_due || [];
  if (due.length) { goodsSel.value = due[0].item; goodsQty.value = due[0].count; }
  const points = el("input", { type: "number", min: "0", step: "1", name: "points_redeemed", inputmode: "numeric" });
  const compostCats = run.categories.filter((c) => c.stream === "compost");
  const compost = el("input", { type: "checkbox", name: "compost", checked: true });
  const msg = el("span", { class: "ok" });
  const done = Object.keys(saved).some((k) => k.startsWith(`${run.id}|${st.place}|${h.id}|`));
  const save = (ev) => {
    ev.preventDefault();
    const recs = [];
    const base = { run_id: run.id, point: st.place, household: h.id };
    let cashLeft = num(cash.value);
    const sells = run.categories.filter((c) => c.stream === "sell");
    sells.forEach((c, i) => {
      const kg = num(inputs[`sell:${c.id}`].value);
      const key = keyOf("sell", c.id);
      if (kg === null && !saved[key]) return;
      const k = kg || 0;
      let paid = round2(k * c.price_cny_kg);
      if (cashLeft !== null) { paid = i === sells.length - 1 ? round2(Math.max(cashLeft, 0)) : Math.min(paid, round2(Math.max(cashLeft, 0))); cashLeft -= paid; }
      recs.push({ ...base, stream: "sell", category: c.id, kg: k, price_cny_kg: c.price_cny_kg, cash_cny: paid, key });
    });
    for (const c of run.categories.filter((x) => x.stream === "exchange")) {
      const kg = num(inputs[`exchange:${c.id}`].value);
      const key = keyOf("exchange", c.id);
      if (kg === null && !saved[key]) continue;
      recs.push({ ...base, stream: "exchange", category: c.id, kg: kg || 0, key });
    }
    if (goodsSel.value && num(goodsQty.value) !== null) {
      const rec = { ...base, stream: "exchange", goods_item: goodsSel.value, goods_qty: Math.round(num(goodsQty.value)), key: goodsKey(goodsSel.value) };
      if (num(points.value) !== null) rec.points_redeemed = num(points.value);
      recs.push(rec);
    }
    for (const c of compostCats) recs.push({ ...base, stream: "compost", category: c.id, compost_declared: compost.checked, key: keyOf("compost", c.id) });
    enqueue(run.id, recs);
    msg.textContent = "✓ " + t("saved");
    form.classList.add("done");
  };
  const summary = el("summary", {},
    el("b", { class: "hname", text: h.name || h.id }), " ", el("small", { text: h.code }),
    el("span", { class: "bal", text: ` · ${Math.round(h.points_balance || 0)} ${t("balance")}` }),
    due.length ? el("span", { class: "due", text: ` · ${t("goods_due")}: ` + due.map((d) => `${d.item}×${d.count}`).join(" ") }) : null);
  const form = el("details", { class: "household" + (done ? " done" : ""), "data-household": h.id }, summary,
    el("form", { on: { submit: save } }, fields,
      el("label", {}, t("cash_paid"), cash),
      el("label", {}, t("goods"), goodsSel), el("label", {}, t("qty"), goodsQty),
      el("label", {}, t("points_redeemed"), points),
      compostCats.length ? el("label", { class: "check" }, compost, t("compost")) : null,
      el("button", { type: "submit", class: "save" }, t("save")), msg));
  return form;
}

function closeDraft() { return load("planner.close." + run.id, { tickets: {} }); }
function saveDraft(d) { store("planner.close." + run.id, d); }

function unloadScreen(st) {
  const d = closeDraft();
  const tk = d.tickets[st.place] || {};
  const planned = Object.values(st.unloaded || {}).reduce((a, b) => a + b, 0);
  const kg = el("input", { type: "number", min: "0", step: "0.1", inputmode: "decimal", name: "weigh_kg", value: tk.kg ?? null });
  const no = el("input", { name: "ticket", maxlength: "64", value: tk.ticket ?? null });
  const keep = () => { const x = closeDraft(); x.tickets[st.place] = { kg: num(kg.value), ticket: no.value }; saveDraft(x); };
  kg.addEventListener("change", keep); no.addEventListener("change", keep);
  return el("div", {}, el("h1", { text: `${t("unload")}: ${st.name}` }),
    el("p", { text: `${t("planned_kg")} ${planned.toFixed(1)}` }),
    el("label", {}, t("weigh_kg"), kg), el("label", {}, t("ticket"), no));
}

function endScreen() {
  const d = closeDraft();
  const f = (name, label, value) => el("label", {}, t(label), el("input", { type: "number", min: "0", step: "0.01", inputmode: "decimal", name, value: value ?? null }));
  const goods = (run.goods_loaded || []).map((g) => el("label", {}, `${g.name} ${t("loaded")} ${g.count}, ${t("goods_back")}`,
    el("input", { type: "number", min: "0", step: "1", name: "goods:" + g.item, value: (d.goods || {})[g.item] ?? null })));
  const msg = el("span", { class: "ok" });
  const form = el("form", { id: "close-form", on: { submit: (ev) => {
    ev.preventDefault();
    const fd = new FormData(form);
    const x = closeDraft();
    const rec = { run_id: run.id, key: run.id + "|close", goods: [], weigh_tickets: [] };
    for (const k of ["cash_float_out_cny", "cash_returned_cny", "odometer_start_km", "odometer_end_km"]) {
      const v = num(fd.get(k)); if (v !== null) rec[k] = v;
    }
    x.goods = {};
    for (const g of run.goods_loaded || []) {
      const v = num(fd.get("goods:" + g.item));
      x.goods[g.item] = v;
      rec.goods.push({ item: g.item, loaded: g.count, returned: v === null ? null : Math.round(v) });
    }
    for (const [station, tk] of Object.entries(x.tickets || {})) if (tk.kg !== null && tk.kg !== undefined) rec.weigh_tickets.push({ station, kg: tk.kg, ticket: tk.ticket || "" });
    saveDraft(x);
    enqueue(run.id, [rec]);
    msg.textContent = "✓ " + t("saved");
  } } },
  f("cash_float_out_cny", "cash_out", d.cash_float_out_cny ?? run.cash_float_cny),
  f("cash_returned_cny", "cash_back", null), f("odometer_start_km", "odo_start", null),
  f("odometer_end_km", "odo_end", null), goods,
  el("button", { type: "submit" }, t("close_run")), msg);
  return el("div", {}, el("h1", { text: t("end") }), form);
}

// --- start -------------------------------------------------------------------------
$("signin-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("signin-error").hidden = true;
  let r;
  try {
    r = await api("POST", "/api/driver/session", { vehicle: $("vehicle").value.trim(), code: $("code").value.trim() });
  } catch (e) { $("signin-error").textContent = t("offline"); $("signin-error").hidden = false; return; }
  if (!r.ok) { $("signin-error").textContent = t("bad_code"); $("signin-error").hidden = false; return; }
  const s = await r.json();
  LS.setItem(K.token, s.token);
  store(K.who, { vehicle: s.vehicle, month: s.month });
  $("code").value = "";
  loadRuns(true);
});
$("lang-switch").addEventListener("click", (ev) => { ev.preventDefault(); lang = lang === "en" ? "zh" : "en"; LS.setItem(K.lang, lang); applyLang(); if (run && !$("stop").hidden) render(); status(); });
$("sign-out").addEventListener("click", (ev) => { ev.preventDefault(); signOut(); });
window.addEventListener("online", () => { status(); sync(); });
window.addEventListener("offline", status);
setInterval(sync, 10000);
if ("serviceWorker" in navigator) navigator.serviceWorker.register("/driver/sw.js", { scope: "/driver/" }).catch(() => {});
applyLang();
status();
if (LS.getItem(K.token)) loadRuns(true); else show("signin");
