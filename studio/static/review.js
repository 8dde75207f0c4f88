/* Tint review page: batch list (progress bars, thumbnail strips), batch grid (filters, flagged drawings),
   drawing view with revision timeline, compare, block overlay, recolor, reviews, block diff, layered
   file downloads, keyboard shortcuts. Plain JS against the HTTP API; no build step. */
"use strict";

const $ = (id) => document.getElementById(id);
const FINAL = ["done", "failed", "cancelled"];
const state = { me: null, batchId: null, drawings: [], drawing: null, right: null, left: null,
  labels: null, hover: 0, picked: 0, diff: [], events: null, pendingJob: null, parts: [], part: null };

async function api(path, options = {}) {
  const init = { credentials: "same-origin", ...options };
  if (options.json !== undefined) {
    init.method = init.method || "POST";
    init.headers = { "Content-Type": "application/json" };
    init.body = JSON.stringify(options.json);
  }
  const response = await fetch(path, init);
  if (response.status === 401) { showLogin(); throw new Error("sign in first"); }
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new Error(body.detail || `${response.status} ${response.statusText}`);
  }
  return response.status === 204 ? null : response.json();
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(node.dataset, v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}
const pill = (text, cls) => el("span", { class: `pill ${cls || text}` }, String(text).replace("_", " "));
const swatch = (color) => el("span", { class: "swatch", style: `background:${color}`, title: color });

function show(section) {
  for (const id of ["login", "batches", "batch", "drawing"]) $(id).hidden = id !== section;
}

function showLogin() { show("login"); $("token-input").focus(); }

$("login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  $("login-error").textContent = "";
  const response = await fetch("/api/session", { method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json" }, body: JSON.stringify({ token: $("token-input").value }) });
  if (!response.ok) { $("login-error").textContent = "That token is unknown or revoked."; return; }
  $("token-input").value = "";
  route();
});

function openEvents(batchId, onJob) {
  if (state.events && state.events.batchId === batchId) { state.events.onJob = onJob; return; }
  if (state.events) state.events.source.close();
  const source = new EventSource(`/api/batches/${batchId}/events`);
  state.events = { batchId, source, onJob };
  const seen = new Map();
  source.addEventListener("job", (e) => {
    const job = JSON.parse(e.data);
    const before = seen.get(job.id);
    seen.set(job.id, job.state);
    // each (re)connection starts with a snapshot: only changes matter, and jobs that end before we see them
    if (before === job.state) return;
    if (before === undefined && FINAL.includes(job.state) && job.id !== state.pendingJob) return;
    state.events.onJob(job);
  });
}

/* ---- batches ---------------------------------------------------------------------------------- */

const PROGRESS_STATES = ["done", "failed", "cancelled", "running", "queued"];

/* a batch's colorize jobs as one bar: a segment per state, widths in proportion */
function progressBar(p) {
  const total = PROGRESS_STATES.reduce((sum, s) => sum + (p[s] || 0), 0);
  const finished = (p.done || 0) + (p.failed || 0) + (p.cancelled || 0);
  return el("div", { class: "progress", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": total,
    "aria-valuenow": finished, title: PROGRESS_STATES.map((s) => `${p[s] || 0} ${s}`).join(", "),
    dataset: { testid: "batch-progress", finished, total } },
  ...PROGRESS_STATES.filter((s) => p[s]).map((s) => el("span",
    { class: `segment ${s}`, style: `width:${(100 * p[s]) / total}%`, dataset: { state: s } })));
}

function thumbnailStrip(b) {
  const more = b.drawing_count - b.thumbnails.length;
  return el("a", { class: "strip", href: `#/batch/${b.id}`, dataset: { testid: "batch-thumbnails" } },
    ...b.thumbnails.map((src) => el("img", { src, alt: "", loading: "lazy" })),
    more > 0 ? el("span", { class: "more" }, `+${more}`) : "");
}

let batchesTimer = null;
async function showBatches() {
  show("batches");
  $("crumbs").replaceChildren();
  const page = await api("/api/batches?limit=200");
  $("batch-list").replaceChildren(...page.items.map((b) => el("li", { class: "batch-row", dataset: { batch: b.id } },
    el("div", { class: "batch-head" }, el("a", { href: `#/batch/${b.id}` }, `${b.name} (batch ${b.id})`), " ",
      el("span", { class: "counts" }, `${b.drawing_count} drawing${b.drawing_count === 1 ? "" : "s"}: ` +
        `${b.progress.done} done, ${b.progress.failed} failed, ${b.progress.queued + b.progress.running} to go`)),
    progressBar(b.progress), thumbnailStrip(b))));
  // while any batch has jobs to go, look again in a while: the bars fill as jobs finish
  clearTimeout(batchesTimer);
  if (page.items.some((b) => b.progress.queued + b.progress.running > 0)) {
    batchesTimer = setTimeout(() => { if (!$("batches").hidden) showBatches(); }, 2000);
  }
}

async function loadBatch(batchId) {
  const params = new URLSearchParams({ batch: batchId, limit: 200 });
  if ($("filter-review").value) params.set("review_status", $("filter-review").value);
  if ($("filter-job").value) params.set("job_state", $("filter-job").value);
  if (state.batchId !== batchId) $("filter-character").value = "";  // another batch, other characters
  if ($("filter-character").value) params.set("character", $("filter-character").value);
  const [batch, page] = await Promise.all([api(`/api/batches/${batchId}`), api(`/api/drawings?${params}`)]);
  state.batchId = batchId;
  state.flagged = page.items.filter((d) => d.flags.length).length;
  state.drawings = $("filter-flagged").checked ? page.items.filter((d) => d.flags.length) : page.items;
  const chosen = $("filter-character").value;
  $("filter-character").replaceChildren(el("option", { value: "" }, "all"),
    ...batch.characters.map((c) => el("option", { value: c }, c)));
  $("filter-character").value = batch.characters.includes(chosen) ? chosen : "";
  return batch;
}

async function showBatch(batchId) {
  const batch = await loadBatch(batchId);
  show("batch");
  $("crumbs").replaceChildren(el("a", { href: `#/batch/${batchId}` }, batch.name));
  $("batch-title").textContent = `${batch.name} — batch ${batch.id}`;
  const p = batch.progress;
  $("batch-progress").replaceChildren(progressBar(p),
    `${p.done} done · ${p.running} running · ${p.queued} queued · ${p.failed} failed`);
  $("export-csv").href = `/api/batches/${batchId}/export?format=csv`;
  $("export-json").href = `/api/batches/${batchId}/export?format=json`;
  $("flagged-count").textContent = `${state.flagged} flagged`;
  $("flagged-count").className = `pill ${state.flagged ? "changes_requested" : ""}`;
  $("grid").replaceChildren(...state.drawings.map((d) => el("div",
    { class: d.flags.length ? "card flagged" : "card", tabindex: 0,
      dataset: { drawing: d.id, testid: "drawing-card", flagged: d.flags.length > 0 },
      onclick: () => { location.hash = `#/drawing/${d.id}`; },
      onkeydown: (e) => { if (e.key === "Enter") location.hash = `#/drawing/${d.id}`; } },
    el("img", { src: d.thumbnail_url, alt: d.name, loading: "lazy" }),
    el("div", { class: "name" }, d.character || d.name),
    el("div", {}, pill(d.latest_job ? d.latest_job.state : "no job"), " ",
      pill(d.review_status || "not ready", d.review_status || ""), " ",
      d.retakes ? pill(`${d.retakes} retake${d.retakes > 1 ? "s" : ""}`, "") : ""),
    d.flags.length ? el("div", { class: "flags", dataset: { testid: "flags" } },
      el("span", { class: "pill flag", title: d.flags.join("\n") }, "⚑ flagged"), " ", d.flags.join("; ")) : "")));
  openEvents(batchId, debounce(() => { if (!$("batch").hidden) showBatch(batchId); }, 400));
}

function debounce(fn, ms) { let t; return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); }; }
$("filter-review").addEventListener("change", () => showBatch(state.batchId));
$("filter-job").addEventListener("change", () => showBatch(state.batchId));
$("filter-character").addEventListener("change", () => showBatch(state.batchId));
$("filter-flagged").addEventListener("change", () => showBatch(state.batchId));
// a lead colors the chosen character's other drawings from its approved ones
$("propagate").addEventListener("click", async () => {
  const character = $("filter-character").value;
  if (!character) { $("propagate-info").textContent = "Choose a character first."; return; }
  try {
    const done = await api(`/api/batches/${state.batchId}/propagate`, { json: { character } });
    $("propagate-info").textContent = done.jobs.length
      ? `${done.jobs.length} drawing(s) of ${character} queued from r${done.references.join(", r")}`
      : `${character}: nothing to do`;
  } catch (e) { $("propagate-info").textContent = e.message; }
});

/* ---- drawing ---------------------------------------------------------------------------------- */

const revision = (id) => state.drawing.revisions.find((r) => r.id === id);

async function showDrawing(drawingId, selectRevision) {
  const detail = await api(`/api/drawings/${drawingId}`);
  const sameDrawing = state.drawing && state.drawing.id === drawingId;
  state.drawing = detail;
  if (detail.batch_id && (state.batchId !== detail.batch_id || !state.drawings.length)) {
    await loadBatch(detail.batch_id);
  }
  show("drawing");
  $("crumbs").replaceChildren(el("a", { href: `#/batch/${detail.batch_id}` }, `batch ${detail.batch_id}`),
    " / ", detail.character || detail.name);
  $("drawing-title").textContent = `${detail.character || detail.name} (${detail.name})`;
  $("retakes").textContent = `retakes: ${detail.retakes}`;
  const revs = detail.revisions;
  const keep = sameDrawing && revs.some((r) => r.id === state.right);
  const chosen = selectRevision || (keep ? state.right : revs.length ? revs[revs.length - 1].id : null);
  await selectRevisions(chosen, null);
  if (detail.batch_id) openEvents(detail.batch_id, onDrawingJob);
}

function onDrawingJob(job) {
  if (!state.drawing || job.drawing_id !== state.drawing.id || $("drawing").hidden) return;
  if (FINAL.includes(job.state)) {
    const mine = state.pendingJob === job.id;
    if (mine) {
      state.pendingJob = null;
      $("job-status").textContent = job.state === "done" ? `revision ${job.revision_id} is ready` : `job ${job.id} ${job.state}: ${job.error || ""}`;
    }
    showDrawing(state.drawing.id, mine && job.state === "done" ? job.revision_id : null);
  } else if (state.pendingJob === job.id) {
    $("job-status").textContent = `recolor job ${job.id} ${job.state}…`;
  }
}

async function selectRevisions(rightId, leftId) {
  const d = state.drawing;
  state.right = rightId;
  const right = rightId ? revision(rightId) : null;
  state.left = leftId || (right && right.parent_revision_id) || null;
  if (state.left === state.right) state.left = null;
  const left = state.left ? revision(state.left) : null;
  $("status").className = `pill ${right ? right.review_status : ""}`;
  $("status").textContent = right ? right.review_status.replace("_", " ") : "no revision yet";
  $("timeline").replaceChildren(...d.revisions.map((r) => el("li", {}, el("button", {
    class: r.id === state.right ? "selected" : r.id === state.left ? "compared" : "",
    dataset: { revision: r.id, testid: "revision" },
    title: "click: show; shift+click: compare against",
    onclick: (e) => (e.shiftKey ? selectRevisions(state.right, r.id) : selectRevisions(r.id, null)) },
  `r${r.id} ${r.kind}${r.parent_revision_id ? ` ← r${r.parent_revision_id}` : ""} · ${r.review_status.replace("_", " ")}`))));
  $("right-img").src = right ? right.assets.colored : d.line_url;
  $("right-caption").textContent = right ? `revision ${right.id} (${right.kind})` : "line drawing";
  $("left-img").src = left ? left.assets.colored : d.line_url;
  $("left-caption").textContent = left ? `revision ${left.id} (${left.kind})` : "line drawing";
  for (const fmt of ["psd", "ora"]) {  // the shown revision as a layered file for a colorist
    $(`download-${fmt}`).hidden = !right;
    if (right) $(`download-${fmt}`).href = `/api/revisions/${right.id}/export?format=${fmt}`;
  }
  state.picked = 0; state.hover = 0; state.labels = null; state.diff = [];
  $("recolor-form").hidden = true;
  state.parts = []; state.part = null;
  $("part-form").hidden = true; $("load-parts").hidden = false;
  $("block-info").textContent = "Hover the right image to see its blocks; click one to pick it.";
  renderReviews(right);
  renderPrompt(right);
  if (!right) { $("diff").replaceChildren(); paint(); return; }
  const [blocks, diff] = await Promise.all([api(`/api/revisions/${right.id}/blocks`),
    left ? api(`/api/revisions/${right.id}/diff?against=${left.id}`) : Promise.resolve({ changed: [] })]);
  state.blocks = new Map(blocks.blocks.map((b) => [b.id, b]));
  state.diff = diff.changed;
  renderDiff(left);
  state.labels = await loadLabels(blocks);
  paint();
}

function loadLabels(blocks) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => {
      const canvas = el("canvas", { width: blocks.width, height: blocks.height });
      const ctx = canvas.getContext("2d", { willReadFrequently: true });
      ctx.drawImage(img, 0, 0);
      const rgba = ctx.getImageData(0, 0, blocks.width, blocks.height).data;
      const ids = new Uint16Array(blocks.width * blocks.height);
      for (let i = 0; i < ids.length; i++) ids[i] = rgba[4 * i] * 256 + rgba[4 * i + 1];
      resolve({ ids, width: blocks.width, height: blocks.height });
    };
    img.onerror = reject;
    img.src = blocks.labels_url;
  });
}

function paint() {
  const changed = new Set(state.diff.map((c) => c.id));
  for (const side of ["left", "right"]) {
    const canvas = $(`${side}-overlay`);
    const L = state.labels;
    if (!L) { canvas.width = 1; canvas.height = 1; continue; }
    canvas.width = L.width; canvas.height = L.height;
    const ctx = canvas.getContext("2d");
    const image = ctx.createImageData(L.width, L.height);
    const px = image.data;
    const W = L.width;
    for (let i = 0; i < L.ids.length; i++) {
      const id = L.ids[i];
      let c = null;
      if (side === "right" && (id === state.picked || (state.part && state.part.regions.includes(id)))) c = [20, 90, 255, 150];
      else if (side === "right" && id === state.hover) c = [255, 255, 255, 110];
      // changed blocks get a magenta outline, so their colors stay readable
      else if (changed.has(id) && (L.ids[i - 1] !== id || L.ids[i + 1] !== id || L.ids[i - W] !== id || L.ids[i + W] !== id)) c = [255, 0, 200, 255];
      if (c) { px[4 * i] = c[0]; px[4 * i + 1] = c[1]; px[4 * i + 2] = c[2]; px[4 * i + 3] = c[3]; }
    }
    ctx.putImageData(image, 0, 0);
    // gaps in the lines that region finding closed: an orange ring each, where a fill was stopped
    const shown = side === "right" ? state.right : state.left;
    const gaps = shown ? ((revision(shown).proof || {}).gaps || { closed: [] }).closed : [];
    ctx.strokeStyle = "rgba(255, 140, 0, 0.9)"; ctx.lineWidth = Math.max(1, W / 256);
    for (const [x, y, length] of gaps) {
      ctx.beginPath(); ctx.arc(x + 0.5, y + 0.5, Math.max(4, length + 2), 0, 2 * Math.PI); ctx.stroke();
    }
    canvas.dataset.gaps = String(gaps.length);
    // regions a reference matched unsurely: a red dashed box each, so a lead checks their color
    const unsure = new Set(shown ? ((revision(shown).proof || {}).reference_flagged || []) : []);
    if (unsure.size) {
      const box = new Map();
      for (let i = 0; i < L.ids.length; i++) {
        const id = L.ids[i];
        if (!unsure.has(id)) continue;
        const x = i % W, y = (i - x) / W, b = box.get(id);
        if (!b) box.set(id, [x, y, x, y]);
        else { b[0] = Math.min(b[0], x); b[1] = Math.min(b[1], y); b[2] = Math.max(b[2], x); b[3] = Math.max(b[3], y); }
      }
      ctx.save(); ctx.setLineDash([3, 2]); ctx.strokeStyle = "rgba(220, 30, 30, 0.95)";
      for (const [x0, y0, x1, y1] of box.values()) ctx.strokeRect(x0 - 1.5, y0 - 1.5, x1 - x0 + 3, y1 - y0 + 3);
      ctx.restore();
    }
    canvas.dataset.unsure = String(unsure.size);
  }
}

function blockAt(event) {
  const L = state.labels;
  if (!L) return 0;
  const box = event.target.getBoundingClientRect();
  const x = Math.floor(((event.clientX - box.left) / box.width) * L.width);
  const y = Math.floor(((event.clientY - box.top) / box.height) * L.height);
  if (x < 0 || y < 0 || x >= L.width || y >= L.height) return 0;
  return L.ids[y * L.width + x];
}

$("right-overlay").addEventListener("mousemove", (e) => {
  const id = blockAt(e);
  if (id === state.hover) return;
  state.hover = id;
  const b = state.blocks && state.blocks.get(id);
  if (b && !state.picked) $("block-info").replaceChildren(`block ${id} `, swatch(b.color), ` ${b.color}, ${b.area} px`);
  paint();
});
$("right-overlay").addEventListener("mouseleave", () => { state.hover = 0; paint(); });
$("right-overlay").addEventListener("click", (e) => {
  const id = blockAt(e);
  const b = state.blocks && state.blocks.get(id);
  if (!b) return;
  state.picked = id;
  $("block-info").replaceChildren(`picked block ${id} `, swatch(b.color), ` ${b.color}`);
  $("block-color").value = b.color;
  $("recolor-form").hidden = false;
  paint();
});

$("recolor-button").addEventListener("click", async () => {
  if (!state.picked || !state.right) return;
  try {
    const job = await api(`/api/revisions/${state.right}/recolor`,
      { json: { edits: { [state.picked]: $("block-color").value } } });
    state.pendingJob = job.id;
    $("job-status").textContent = `recolor job ${job.id} ${job.state}…`;
    if (!state.drawing.batch_id) pollJob(job.id);
  } catch (err) { $("job-status").textContent = err.message; }
});

/* parts: one block per part of the shown revision (the part model), recolored as a whole */
function pickPart(name) {
  state.part = state.parts.find((b) => b.part === name) || null;
  if (state.part) $("part-color").value = state.part.color;
  paint();
}
$("load-parts").addEventListener("click", async () => {
  if (!state.right) return;
  try {
    $("job-status").textContent = "finding parts…";
    const byPart = await api(`/api/revisions/${state.right}/blocks?by=parts`);
    state.parts = byPart.blocks.filter((b) => b.part !== "background");
    $("part-select").replaceChildren(...state.parts.map((b) => el("option", { value: b.part },
      `${b.part} (${b.regions.length} region${b.regions.length > 1 ? "s" : ""}, ${b.color})`)));
    $("job-status").textContent = state.parts.length ? "" : "no part found in this drawing";
    $("load-parts").hidden = true;
    $("part-form").hidden = !state.parts.length;
    if (state.parts.length) pickPart(state.parts[0].part);
  } catch (err) { $("job-status").textContent = err.message; }
});
$("part-select").addEventListener("change", (e) => pickPart(e.target.value));
$("recolor-part-button").addEventListener("click", async () => {
  if (!state.part || !state.right) return;
  try {
    const job = await api(`/api/revisions/${state.right}/recolor`,
      { json: { parts: { [state.part.part]: $("part-color").value } } });
    state.pendingJob = job.id;
    $("job-status").textContent = `recolor job ${job.id} ${job.state}…`;
    if (!state.drawing.batch_id) pollJob(job.id);
  } catch (err) { $("job-status").textContent = err.message; }
});

async function pollJob(jobId) {
  const job = await api(`/api/jobs/${jobId}`);
  if (FINAL.includes(job.state)) onDrawingJob(job);
  else setTimeout(() => pollJob(jobId), 700);
}

function renderDiff(left) {
  if (!left) { $("diff").replaceChildren(el("li", {}, "Pick an older revision (shift+click) to compare.")); return; }
  if (!state.diff.length) { $("diff").replaceChildren(el("li", {}, `No block changed since r${left.id}.`)); return; }
  $("diff").replaceChildren(...state.diff.map((c) => el("li", { dataset: { testid: "diff-block" } },
    `block ${c.id} `, swatch(c.before), " → ", swatch(c.after), ` ${c.before} → ${c.after}`)));
}

function renderReviews(right) {
  $("reviews").replaceChildren(...(right ? right.reviews : []).map((r) => el("li", {},
    r.verdict ? pill(r.verdict) : "", ` ${r.author}: ${r.comment}`,
    r.blocks.length ? ` (block ${r.blocks.join(", ")})` : "")));
}

function renderPrompt(right) {
  const prompt = right && state.drawing.prompts.find((p) => p.id === right.prompt_id);
  $("prompt").textContent = prompt ? `${prompt.kind} (prompt ${prompt.id}${prompt.parent_prompt_id ? `, from ${prompt.parent_prompt_id}` : ""})\n${JSON.stringify(prompt.payload, null, 1)}` : "—";
}

async function review(verdict) {
  if (!state.right) return;
  const comment = $("comment").value;
  const blocks = $("pin-block").checked && state.picked ? [state.picked] : [];
  if (!verdict && !comment.trim()) return;
  try {
    await api(`/api/revisions/${state.right}/reviews`, { json: { verdict, comment, blocks } });
    $("comment").value = "";
    await showDrawing(state.drawing.id, state.right);
  } catch (err) { $("job-status").textContent = err.message; }
}
$("approve").addEventListener("click", () => review("approved"));
$("request-changes").addEventListener("click", () => review("changes_requested"));
$("comment-button").addEventListener("click", () => review(null));

function step(delta) {
  const i = state.drawings.findIndex((d) => d.id === state.drawing.id);
  const next = state.drawings[i + delta];
  if (next) location.hash = `#/drawing/${next.id}`;
}
$("prev-drawing").addEventListener("click", () => step(-1));
$("next-drawing").addEventListener("click", () => step(1));

function setMode(mode) {
  $("compare").className = mode;
  $("slider").hidden = mode !== "slider";
  document.querySelector(`input[name=mode][value=${mode}]`).checked = true;
}
for (const radio of document.querySelectorAll("input[name=mode]")) radio.addEventListener("change", (e) => setMode(e.target.value));
$("slider").addEventListener("input", (e) => {
  $("compare").style.setProperty("--cut", `${e.target.value}%`);
  $("compare").style.setProperty("--cut-px", `${(e.target.value * 386) / 100}px`);
});

document.addEventListener("keydown", (e) => {
  const active = document.activeElement;
  const typing = active.tagName === "TEXTAREA" || active.tagName === "SELECT" ||
    (active.tagName === "INPUT" && ["text", "password", "search", "number"].includes(active.type));
  if (typing || e.metaKey || e.ctrlKey || e.altKey) return;
  if (e.key === "?") { $("help").showModal(); return; }
  if ($("drawing").hidden) return;
  const revs = state.drawing.revisions.map((r) => r.id);
  const at = revs.indexOf(state.right);
  const actions = { j: () => step(1), ArrowRight: () => step(1), k: () => step(-1), ArrowLeft: () => step(-1),
    a: () => review("approved"), r: () => review("changes_requested"),
    "[": () => at > 0 && selectRevisions(revs[at - 1], null), "]": () => at < revs.length - 1 && selectRevisions(revs[at + 1], null),
    s: () => setMode($("compare").className === "slider" ? "side" : "slider"),
    Escape: () => { location.hash = `#/batch/${state.drawing.batch_id}`; } };
  if (actions[e.key]) { e.preventDefault(); actions[e.key](); }
});
$("help-button").addEventListener("click", () => $("help").showModal());

/* ---- routing ---------------------------------------------------------------------------------- */

async function route() {
  try {
    state.me = state.me || (await api("/api/me"));
    $("who").textContent = `${state.me.name} (${state.me.role})`;
    const [, kind, id] = location.hash.split("/");
    if (kind === "batch") await showBatch(Number(id));
    else if (kind === "drawing") await showDrawing(Number(id));
    else await showBatches();
  } catch (err) {
    if (!$("login").hidden) return;
    document.title = `Tint review — ${err.message}`;
    console.error(err);
  }
}
window.addEventListener("hashchange", route);
route();
