// bposim what-if page: controls -> JSON API -> tables and charts. No libraries, nothing
// fetched from anywhere but this server.
"use strict";

const state = { info: null, runs: [], timer: null, erlangTimer: null, chartsOf: null };
const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) node.append(c);
  return node;
}

async function api(method, url, body) {
  const opts = { method, headers: {} };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const response = await fetch(url, opts);
  const data = response.status === 204 ? null : await response.json();
  if (!response.ok) {
    const err = new Error(data && data.error ? data.error : "HTTP " + response.status);
    err.problems = data && data.problems;
    throw err;
  }
  return data;
}

function showProblems(err) {
  const box = $("problems");
  box.replaceChildren();
  if (!err) { box.hidden = true; return; }
  box.append(el("strong", { text: err.message }));
  if (err.problems) {
    const list = el("ul");
    for (const p of err.problems) {
      const where = p.file + (p.line ? ":" + p.line : "") + (p.path ? " " + p.path : "");
      list.append(el("li", { text: where + ": " + p.message }));
    }
    box.append(list);
  }
  box.hidden = false;
}

// --- formatting ------------------------------------------------------------------------

function fmt(v, kind) {
  if (v === null || v === undefined) return "–";
  if (kind === "pct") return (100 * v).toFixed(1) + " %";
  if (kind === "sec") return v.toFixed(1) + " s";
  if (kind === "int") return Math.round(v).toLocaleString("en");
  if (kind === "money") return v.toLocaleString("en", { maximumFractionDigits: Math.abs(v) < 100 ? 2 : 0 });
  if (kind === "num") return v.toLocaleString("en", { maximumFractionDigits: 1 });
  return String(v);
}

function fmtDiff(d, kind) {
  if (!d || d[0] === null) return "–";
  const scale = kind === "pct" ? 100 : 1;
  const unit = kind === "pct" ? " pp" : kind === "sec" ? " s" : "";
  const digits = kind === "int" ? 0 : 1;
  const mean = d[0] * scale;
  let text = (mean >= 0 ? "+" : "") + mean.toFixed(digits) + unit;
  if (d[1] !== null && d[2] !== null) text += " ± " + ((d[2] - d[1]) * scale / 2).toFixed(digits);
  return text;
}

// row.better (from the metric registry): "higher" or "lower" is an improvement, or null
function diffClass(row) {
  const d = row.diff;
  if (!d || d[1] === null || d[2] === null || (d[1] <= 0 && d[2] >= 0)) return null;
  if (row.better !== "higher" && row.better !== "lower") return null;
  const up = d[1] > 0;
  return (row.better === "higher" ? up : !up) ? "better" : "worse";
}

// --- scenarios and controls ------------------------------------------------------------

async function loadScenarios(select) {
  const list = await api("GET", "/api/scenarios");
  const box = $("scenario");
  box.replaceChildren(el("option", { value: "", text: "— choose —" }));
  for (const f of list.files) box.append(el("option", { value: f, text: f }));
  for (const u of list.uploads) box.append(el("option", { value: u.key, text: u.name + " (uploaded)" }));
  if (select) box.value = select;
  else if (list.files.length) box.value = list.files[0];
  if (box.value) await loadScenario(box.value);
}

async function loadScenario(key) {
  try {
    showControls(await api("GET", "/api/scenario?key=" + encodeURIComponent(key)));
    showProblems(null);
  } catch (err) {
    state.info = null;
    $("controls").replaceChildren();
    showProblems(err);
  }
}

function numberField(label, id, value, attrs) {
  const input = el("input", Object.assign({ type: "number", id, value: value }, attrs));
  return el("div", { class: "field" }, el("label", { for: id, text: label }), input);
}

function showControls(info) {
  state.info = info;
  $("scenario-name").textContent = info.name;
  const form = $("controls");
  form.replaceChildren();
  form.append(el("fieldset", {}, el("legend", { text: "Demand and runs" }),
    numberField("volume %", "volume_pct", 100, { min: 1, max: 1000, step: 1 }),
    numberField("handle time %", "aht_pct", 100, { min: 1, max: 1000, step: 1 }),
    numberField("replications", "replications", info.replications, { min: 1, max: info.max_replications, step: 1 }),
    numberField("seed", "seed", info.seed, { min: 0, step: 1 })));
  for (const q of info.queues) {
    const fs = el("fieldset", {}, el("legend", { text: "queue " + q.id }));
    if (q.patience !== null) {
      fs.append(numberField("patience, mean (s)", "patience-" + q.id, q.patience, { min: 1, max: 86400, step: "any" }));
    }
    for (const e of q.escalations) {
      fs.append(numberField(e.mode + " to " + e.to + " (probability)", "esc-" + q.id + "-" + e.index,
        e.probability, { min: 0, max: 1, step: 0.01 }));
    }
    const due = q.service_level.due_within_hours;
    const within = due === null ? " answered within " + q.service_level.answer_within + " s"
      : " closed within " + due + " h (" + q.channel.replace("_", " ") + " backlog)";
    fs.append(el("p", { class: "note", text: "SL target " + fmt(q.service_level.target, "pct") + within
      + (q.scalable ? "" : "; volumes from a forecast CSV") }));
    form.append(fs);
  }
  for (const p of info.pools) {
    const fs = el("fieldset", {}, el("legend", { text: "pool " + p.id + (p.site ? " (" + p.site + ")" : "") }));
    if (p.form === "agents") {
      fs.append(numberField("agents", "agents-" + p.id, p.agents, { min: 0, max: 100000, step: 1 }));
    } else {
      fs.append(numberField("headcount % of " + (p.csv ? p.csv : p.form === "shifts" ? "the shifts" : "the roster"),
        "headcount-" + p.id, 100, { min: 0, max: 1000, step: 1 }));
    }
    fs.append(numberField("shrinkage", "shrinkage-" + p.id, p.shrinkage, { min: 0, max: 0.95, step: 0.01 }));
    form.append(fs);
  }
  if (info.sites.length) {
    const fs = el("fieldset", {}, el("legend", { text: "sites (headcount % of every pool there)" }));
    for (const s of info.sites) fs.append(numberField(s, "site-" + s, 100, { min: 0, max: 1000, step: 1 }));
    form.append(fs);
  }
  updateErlang();
}

function num(id) {
  const v = $(id).value;
  return v === "" ? null : Number(v);
}

function controlValues() {
  const info = state.info;
  const values = { volume_pct: num("volume_pct"), aht_pct: num("aht_pct"), replications: num("replications"),
                   seed: num("seed"), pools: {}, sites: {}, escalations: {}, patience: {} };
  for (const q of info.queues) {
    if (q.patience !== null) values.patience[q.id] = num("patience-" + q.id);
    for (const e of q.escalations) values.escalations[q.id + "." + e.index] = num("esc-" + q.id + "-" + e.index);
  }
  for (const p of info.pools) {
    values.pools[p.id] = p.form === "agents" ? { agents: num("agents-" + p.id) }
                                              : { headcount_pct: num("headcount-" + p.id) };
    values.pools[p.id].shrinkage = num("shrinkage-" + p.id);
  }
  for (const s of info.sites) values.sites[s] = num("site-" + s);
  return values;
}

// --- Erlang: instant ---------------------------------------------------------------------

function updateErlang() {
  clearTimeout(state.erlangTimer);
  state.erlangTimer = setTimeout(async () => {
    if (!state.info) return;
    const table = $("erlang");
    try {
      const res = await api("POST", "/api/erlang", { scenario: state.info.key, values: controlValues() });
      showProblems(null);
      table.replaceChildren(el("tr", {}, ...["queue", "expected offered", "Erlang SL", "target", "Erlang ASA",
        "Erlang abandoned", "agents needed at peak"].map((h) => el("th", { text: h }))));
      for (const q of state.info.queues) {
        const e = res.erlang[q.id] || {};
        table.append(el("tr", { "data-queue": q.id },
          el("td", { text: q.id }), el("td", { text: fmt(e.expected_offered, "int") }),
          el("td", { class: "erlang-sl", "data-value": e.service_level, text: fmt(e.service_level, "pct") }),
          el("td", { text: fmt(q.service_level.target, "pct") }), el("td", { text: fmt(e.asa, "sec") }),
          el("td", { text: fmt(e.abandon_rate, "pct") }), el("td", { text: fmt(e.required_agents_peak, "int") })));
      }
      table.dataset.ready = "1";
    } catch (err) {
      showProblems(err);
    }
  }, 150);
}

// --- runs ------------------------------------------------------------------------------

async function startRun() {
  if (!state.info) return;
  try {
    await api("POST", "/api/runs", { scenario: state.info.key, values: controlValues(), label: $("label").value });
    showProblems(null);
  } catch (err) {
    showProblems(err);
  }
  poll();
}

async function poll() {
  clearTimeout(state.timer);
  try {
    state.runs = await api("GET", "/api/runs");
  } catch (err) {
    showProblems(err);
  }
  renderRuns();
  renderResults();
  if (state.runs.some((r) => r.status === "queued" || r.status === "running")) {
    state.timer = setTimeout(poll, 400);
  }
}

function renderRuns() {
  const box = $("runs");
  const seen = new Set();
  for (const run of state.runs) {
    seen.add("run-" + run.id);
    let card = $("run-" + run.id);
    if (!card || card.dataset.status !== run.status) {
      const fresh = runCard(run);
      if (card) card.replaceWith(fresh); else box.append(fresh);
      card = fresh;
    }
    const bar = card.querySelector("progress");
    if (bar) { bar.max = Math.max(run.total, 1); bar.value = run.done; }
    card.querySelector(".count").textContent = run.done + " / " + run.total + " replications";
  }
  for (const card of Array.from(box.children)) if (!seen.has(card.id)) card.remove();
}

function runCard(run) {
  const card = el("div", { class: "run " + run.status, id: "run-" + run.id, "data-status": run.status });
  const changed = Object.entries(run.settings).map(([k, v]) => k + " = " + JSON.stringify(v)).join("; ");
  card.append(el("div", {}, el("strong", { text: run.label }), " ",
    el("span", { class: "status", text: run.status }), " ", el("progress", { value: run.done, max: Math.max(run.total, 1) }),
    " ", el("span", { class: "count" })));
  card.append(el("div", { class: "note", text: run.scenario + ", seed " + run.seed + ": " + (changed || "no change from the base") }));
  if (run.error) card.append(el("div", { class: "note", text: run.error }));
  const buttons = el("div", {});
  if (run.status === "queued" || run.status === "running") {
    buttons.append(el("button", { type: "button", class: "cancel", text: "Cancel",
      onclick: () => api("POST", "/api/runs/" + run.id + "/cancel", {}).then(poll, showProblems) }));
  } else {
    buttons.append(el("button", { type: "button", text: "Remove",
      onclick: () => api("DELETE", "/api/runs/" + run.id).then(poll, showProblems) }));
  }
  if (run.status === "done") {
    const name = el("input", { class: "save-name", maxlength: 80, value: run.label.replace(/[^A-Za-z0-9_-]+/g, "-") });
    const out = el("span", { class: "saved" });
    buttons.append(" save as ", name, el("button", { type: "button", text: "Save",
      onclick: async () => {
        try {
          const saved = await api("POST", "/api/runs/" + run.id + "/save", { name: name.value });
          out.textContent = " saved " + saved.scenario + " and " + saved.results + "/";
          showProblems(null);
          loadScenarios($("scenario").value);
        } catch (err) { showProblems(err); }
      } }), out);
    buttons.append(" ", el("button", { type: "button", text: "Charts",
      onclick: () => { state.chartsOf = run.id; renderResults(); } }));
  }
  card.append(buttons);
  return card;
}

function renderResults() {
  const done = state.runs.filter((r) => r.status === "done" && r.results);
  const box = $("results");
  if (!done.length) { box.replaceChildren(el("p", { class: "note", text: "Run a variant to see its results." }));
                      $("charts").replaceChildren(); return; }
  const key = done.map((r) => r.id).join(",");
  if (box.dataset.key !== key) {
    box.dataset.key = key;
    const table = el("table", { id: "figures" });
    const head = el("tr", {}, el("th", { text: "" }), el("th", { text: "figure" }), el("th", { text: "base" }));
    for (const r of done) head.append(el("th", { text: r.label + " (" + r.replications + " reps)" }), el("th", { text: "Δ" }));
    table.append(head);
    const first = done[0].results.figures;
    const byRun = done.map((r) => new Map(r.results.figures.map((f) => [f.scope + "|" + f.metric, f])));
    for (const f of first) {
      const tr = el("tr", {}, el("td", { class: "group", text: f.group }), el("td", { text: f.label }),
        el("td", { text: fmt(f.base[0], f.kind) }));
      done.forEach((r, k) => {
        const g = byRun[k].get(f.scope + "|" + f.metric);
        tr.append(el("td", { class: "value", "data-job": r.id, "data-metric": f.metric, "data-scope": f.scope,
                             "data-value": g ? g.value[0] : "", text: g ? fmt(g.value[0], g.kind) : "–" }),
                  el("td", { class: "diff " + ((g && diffClass(g)) || ""), text: g ? fmtDiff(g.diff, g.kind) : "–" }));
      });
      table.append(tr);
    }
    box.replaceChildren(table);
  }
  const shown = done.find((r) => r.id === state.chartsOf) || done[done.length - 1];
  const charts = $("charts");
  if (charts.dataset.job !== String(shown.id)) {
    charts.dataset.job = String(shown.id);
    charts.replaceChildren(el("h2", { text: "Service level by interval: " + shown.label }));
    for (const c of shown.results.charts) {
      const holder = el("div", { class: "chart-holder" });
      holder.innerHTML = c.svg;  // SVG written by the server, every text escaped there
      charts.append(holder);
    }
  }
}

// --- wiring ----------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  $("scenario").addEventListener("change", (e) => { if (e.target.value) loadScenario(e.target.value); });
  $("controls").addEventListener("input", updateErlang);
  $("controls").addEventListener("submit", (e) => e.preventDefault());
  $("run").addEventListener("click", startRun);
  $("upload").addEventListener("change", (e) => {
    const file = e.target.files[0];
    if (!file) return;
    file.text().then((text) => api("POST", "/api/upload", { filename: file.name, text }))
      .then((info) => loadScenarios(info.key), showProblems);
    e.target.value = "";
  });
  loadScenarios().then(poll, showProblems);
});
