// saddlepoint playground: the page. Plain JavaScript and canvas, nothing fetched from elsewhere.
//
// One EventSource (/api/stream) opens this tab's session on the server and brings its updates:
//   session  {id, choices}        the menus and ranges
//   data     {name, dim, extent, real, modes, p_data}   when the points change
//   control  {settings, playing, speed, slow, data}     when a setting or the play state changes
//   message  "..."                an error raised while training (a divergence)
//   frame    {...}                the game after the last steps (saddlepoint/playground/frames.py)
// Requests go to /api/session/ID/{control,settings,data,upload}; an error comes back as
// {"error": sentence} and is shown in #message. window.playground holds the state (tests read it).
"use strict";

const $ = (id) => document.getElementById(id);
const COLORS = { real: "#1b9e5a", fake: "#7b3fb5", d: "#1f5fbf", dstar: "#888", manifold: "#b58ad9" };
const state = {
  id: null, choices: null, data: null, frame: null, control: null, run: null,
  history: [], framesSeen: 0, frameTimes: [], updatesPerSecond: 0,
  layers: {}, drawing: false, stroke: [], drawExtent: null, source: null, drawPending: false,
};
window.playground = state;

// ------------------------------------------------------------------------------ connection
function connect() {
  const source = new EventSource("/api/stream");
  state.source = source;
  const on = (name, handler) => source.addEventListener(name, (e) => handler(JSON.parse(e.data)));
  on("session", onSession);
  on("data", onData);
  on("control", onControl);
  on("message", (text) => showMessage(text, "error"));
  on("frame", onFrame);
  on("refused", (m) => { showMessage(m.message, "error"); setStatus("refused", "down"); source.close(); });
  source.onerror = () => setStatus("connection lost: reconnecting…", "down");
}

function setStatus(text, kind) {
  const el = $("status");
  el.textContent = text;
  el.className = "status " + (kind || "");
}

function showMessage(text, kind) {
  const el = $("message");
  el.textContent = text || "";
  el.className = text ? kind || "info" : "";
}

async function post(verb, body, headers) {
  if (!state.id) return null;
  const raw = headers !== undefined;
  let response;
  try {
    response = await fetch(`/api/session/${state.id}/${verb}`, {
      method: "POST",
      headers: raw ? headers : { "Content-Type": "application/json" },
      body: raw ? body : JSON.stringify(body),
    });
  } catch (e) {
    showMessage(`the playground server cannot be reached (${e.message}).`, "error");
    return null;
  }
  const answer = await response.json().catch(() => ({ error: `the server answered ${response.status}.` }));
  if (!response.ok) {
    showMessage(answer.error || `the server answered ${response.status}.`, "error");
    return null;
  }
  return answer;
}

// ------------------------------------------------------------------------------ events
function onSession(s) {
  state.id = s.id;
  state.choices = s.choices;
  state.history = [];
  state.run = null;
  setStatus(`session ${s.id.slice(0, 6)}`, "live");
  buildDataMenu(s.choices);
  buildModel(s.choices);
}

function onData(d) {
  state.data = d;
  $("data-description").textContent = `${d.name}: ${d.description}`;
  const menu = $("data");
  for (const option of menu.options) option.disabled = option.dataset.custom === "1" && option.value !== d.name;
  menu.value = d.name;
  scheduleDraw();
}

function onControl(c) {
  state.control = c;
  $("play").classList.toggle("on", c.playing);
  $("pause").classList.toggle("on", !c.playing);
  $("speed").value = c.speed;
  $("speed-value").textContent = c.speed;
  $("slow").checked = c.slow;
  for (const [name, value] of Object.entries(c.settings)) {
    const input = document.querySelector(`[data-setting="${name}"]`);
    if (input && document.activeElement !== input) input.value = value;
  }
  const objective = state.choices.objectives.find((o) => o.name === c.settings.objective);
  $("objective-description").textContent = objective ? objective.description : "";
}

function onFrame(f) {
  if (f.run !== state.run) { state.history = []; state.run = f.run; }
  state.frame = f;
  state.framesSeen += 1;
  const now = performance.now();
  state.frameTimes.push(now);
  while (state.frameTimes.length && state.frameTimes[0] < now - 2000) state.frameTimes.shift();
  state.updatesPerSecond = state.frameTimes.length / 2;
  $("fps").textContent = state.updatesPerSecond.toFixed(1);
  pushHistory(f);
  showNumbers(f);
  scheduleDraw();
}

// ------------------------------------------------------------------------------ numbers
function fmt(v) {
  if (v === null || v === undefined) return "–";
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(3);
  return v.toFixed(4);
}

function meanScores(s) {
  // probabilities for the logit objectives, raw scores (critic values, energies) otherwise
  return "d_real" in s ? [s.d_real, s.d_fake, "mean D(x)", "mean D(G(z))"]
    : [s.real_score, s.fake_score, "mean D(x) (raw score)", "mean D(G(z)) (raw score)"];
}

function showNumbers(f) {
  const s = f.scalars;
  const [real, fake, realLabel, fakeLabel] = meanScores(s);
  $("iteration").textContent = f.it;
  $("d-steps").textContent = f.d_steps;
  $("d-loss").textContent = fmt(s.d_loss);
  $("g-loss").textContent = fmt(s.g_loss);
  $("d-real").textContent = fmt(real);
  $("d-fake").textContent = fmt(fake);
  $("d-real-label").textContent = realLabel;
  $("d-fake-label").textContent = fakeLabel;
  const div = f.divergence;
  $("divergence-label").textContent = div.label + (div.least !== null ? ` (least ${div.least})` : "");
  $("divergence").textContent = fmt(div.value);
  $("jsd").textContent = fmt(div.jsd);
  $("cg").textContent = fmt(div.c_g);
  $("divergence-floor").textContent = fmt(div.floor);
  $("floor").textContent = fmt(div.jsd_floor);
  const c = f.coverage;
  $("modes").textContent = c ? `${c.covered} / ${c.modes} (${(100 * c.high_quality).toFixed(1)}% near a mode)` : "– (ring8, grid25)";
  const list = $("warnings");
  list.replaceChildren();
  for (const w of f.warnings) {
    const item = document.createElement("li");
    item.textContent = `iteration ${w.iteration}: ${w.message}`;
    list.append(item);
  }
  if (!f.warnings.length) {
    const item = document.createElement("li");
    item.className = "none";
    item.textContent = "no warnings";
    list.append(item);
  }
}

function pushHistory(f) {
  const last = state.history[state.history.length - 1];
  if (last && last.it === f.it && last.d_steps === f.d_steps) return;
  const s = f.scalars;
  const [real, fake] = meanScores(s);
  state.history.push({
    it: f.it, d_steps: f.d_steps, d_loss: s.d_loss, g_loss: s.g_loss, real, fake,
    div: f.divergence.value, jsd: f.divergence.jsd, c_g: f.divergence.c_g,
  });
  if (state.history.length > 1500) state.history = state.history.filter((_, i) => i % 2 === 0);
}

// ------------------------------------------------------------------------------ controls
function buildDataMenu(choices) {
  const menu = $("data");
  menu.replaceChildren();
  for (const d of choices.data) menu.append(new Option(`${d.name} — ${d.description}`, d.name));
  for (const name of ["drawn", "uploaded"]) {
    const option = new Option(name === "drawn" ? "drawn — your drawing" : "uploaded — your CSV", name);
    option.dataset.custom = "1";
    option.disabled = true;
    menu.append(option);
  }
}

const FIELDS = [ // [setting, label, step]
  ["objective", "objective"], ["penalty", "penalty on D"], ["penalty_weight", "penalty weight", "any"],
  ["clip", "WGAN clipping", "0.005"], ["k", "k (D steps)", "1"], ["lr_d", "D's learning rate", "any"],
  ["lr_g", "G's learning rate", "any"], ["optimiser", "optimiser"], ["g_layers", "G's layers", "1"],
  ["g_width", "G's width", "1"], ["d_layers", "D's layers", "1"], ["d_width", "D's width", "1"],
  ["z_dim", "noise dimensions", "1"], ["prior", "noise prior"], ["batch_size", "batch size", "1"],
  ["seed", "seed", "1"],
];

function buildModel(choices) {
  const box = $("model");
  for (const old of box.querySelectorAll("label")) old.remove();
  const menus = {
    objective: choices.objectives.map((o) => o.name), penalty: choices.penalties,
    optimiser: choices.optimisers, prior: choices.priors,
  };
  for (const [name, text, step] of FIELDS) {
    const label = document.createElement("label");
    const caption = document.createElement("span");
    caption.textContent = text;
    if (choices.live.includes(name)) { label.className = "live"; label.title = "changes at once, while it runs"; }
    let input;
    if (menus[name]) {
      input = document.createElement("select");
      for (const value of menus[name]) input.append(new Option(value, value));
    } else {
      input = document.createElement("input");
      input.type = "number";
      input.step = step;
      const [lo, hi] = choices.ranges[name];
      input.min = lo;
      input.max = hi;
    }
    input.dataset.setting = name;
    input.id = "setting-" + name.replaceAll("_", "-");
    input.value = choices.defaults[name];
    input.addEventListener("change", () => changeSetting(name, input));
    label.append(caption, input);
    box.insertBefore(label, $("objective-description"));
  }
}

async function changeSetting(name, input) {
  const value = input.tagName === "SELECT" ? input.value : Number(input.value);
  const changes = { [name]: input.tagName === "SELECT" || input.value !== "" ? value : input.value };
  const current = state.control ? state.control.settings : {};
  let note = "";
  if (name === "objective" && value === "wasserstein" && current.clip === 0 && current.penalty !== "gradient") {
    changes.penalty = "gradient"; // WGAN's critic needs a Lipschitz constraint
    note = "WGAN's critic needs a Lipschitz constraint: the gradient penalty is on (or set clipping).";
  }
  if (name === "objective" && ["ebgan", "began"].includes(value) && current.penalty !== "none") {
    changes.penalty = "none";
    note = `${value} scores with an auto-encoder's energy: the penalty is off.`;
  }
  const answer = await post("settings", changes);
  if (answer === null) {
    if (state.control) input.value = state.control.settings[name]; // back to the server's value
    return;
  }
  const kept = answer.kept.length === 2 ? "" : answer.kept.length ? ` (kept ${answer.kept.join(" and ")}'s weights)` : " (new weights)";
  showMessage(note || `${name} = ${value}${kept}`, "info");
}

function setupControls() {
  for (const [id, action] of [["play", "play"], ["pause", "pause"], ["step-d", "step_d"], ["step-g", "step_g"], ["reset", "reset"]]) {
    $(id).addEventListener("click", async () => {
      const answer = await post("control", { action });
      if (answer) showMessage("", "");
    });
  }
  $("speed").addEventListener("input", () => { $("speed-value").textContent = $("speed").value; });
  $("speed").addEventListener("change", () => post("control", { action: "speed", value: Number($("speed").value) }));
  $("slow").addEventListener("change", () => post("control", { action: "slow", value: $("slow").checked }));
  $("data").addEventListener("change", async () => {
    const answer = await post("data", { name: $("data").value });
    if (answer) showMessage(`training on ${answer.description}`, "info");
  });
  $("upload").addEventListener("change", uploadFile);
  $("draw").addEventListener("click", toggleDrawing);
  $("use-drawing").addEventListener("click", useDrawing);
  $("clear-drawing").addEventListener("click", () => { state.stroke = []; scheduleDraw(); updateDrawButtons(); });
  for (const box of document.querySelectorAll("[data-layer]")) {
    state.layers[box.dataset.layer] = box.checked;
    box.addEventListener("change", () => { state.layers[box.dataset.layer] = box.checked; scheduleDraw(); });
  }
  const canvas = $("main");
  canvas.addEventListener("pointerdown", (e) => { if (state.drawing) { canvas.setPointerCapture(e.pointerId); addStrokePoint(e, true); } });
  canvas.addEventListener("pointermove", (e) => { if (state.drawing && e.buttons) addStrokePoint(e, false); });
  window.addEventListener("pagehide", () => {
    if (state.id) navigator.sendBeacon(`/api/session/${state.id}/close`);
  });
}

async function uploadFile() {
  const file = $("upload").files[0];
  if (!file) return;
  const answer = await post("upload", await file.arrayBuffer(), { "Content-Type": "text/csv", "X-Filename": file.name });
  $("upload").value = "";
  if (answer) showMessage(`training on ${answer.description}`, "info");
}

// ------------------------------------------------------------------------------ drawing
const DRAW_BOX = [[-3.5, 3.5], [-3.5, 3.5]];

function toggleDrawing() {
  state.drawing = !state.drawing;
  $("draw").classList.toggle("on", state.drawing);
  $("main").classList.toggle("drawing", state.drawing);
  if (state.drawing) {
    state.drawExtent = state.data && state.data.dim === 2 ? state.data.extent : DRAW_BOX;
    showMessage("press and drag on the plane to draw; then “train on the drawing”.", "info");
  }
  scheduleDraw();
  updateDrawButtons();
}

function updateDrawButtons() {
  $("use-drawing").disabled = state.stroke.length === 0;
  $("clear-drawing").disabled = state.stroke.length === 0;
}

function addStrokePoint(e, first) {
  const rect = $("main").getBoundingClientRect();
  const px = ((e.clientX - rect.left) * $("main").width) / rect.width;
  const py = ((e.clientY - rect.top) * $("main").height) / rect.height;
  const last = state.stroke[state.stroke.length - 1];
  const view = planeView(state.drawExtent);
  const [x, y] = view.toData(px, py);
  if (!first && last) {
    const [lx, ly] = view.toPixel(last[0], last[1]);
    if (Math.hypot(lx - px, ly - py) < 3) return;
  }
  state.stroke.push([x, y]);
  updateDrawButtons();
  scheduleDraw();
}

async function useDrawing() {
  const answer = await post("data", { points: state.stroke, extent: state.drawExtent });
  if (!answer) return;
  state.stroke = [];
  if (state.drawing) toggleDrawing();
  showMessage(`training on ${answer.description}`, "info");
}

// ------------------------------------------------------------------------------ the main view
function scheduleDraw() {
  if (state.drawPending) return;
  state.drawPending = true;
  requestAnimationFrame(() => { state.drawPending = false; draw(); });
}

function planeView(extent) {
  const canvas = $("main");
  const [[x0, x1], [y0, y1]] = extent;
  const w = canvas.width, h = canvas.height;
  return {
    toPixel: (x, y) => [((x - x0) / (x1 - x0)) * w, h - ((y - y0) / (y1 - y0)) * h],
    toData: (px, py) => [x0 + (px / w) * (x1 - x0), y0 + ((h - py) / h) * (y1 - y0)],
    scale: w / (x1 - x0),
  };
}

function decodeMap(map) {
  const bytes = atob(map.data);
  const values = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes.charCodeAt(i);
    values[i] = b === 255 ? NaN : map.lo + (b / 254) * (map.hi - map.lo);
  }
  return values;
}

function dColor(t) {
  // t in [0, 1]: 0 "fake" (purple) through white to 1 "real" (green)
  const purple = [123, 63, 181], white = [255, 255, 255], green = [27, 158, 90];
  const [a, b, u] = t < 0.5 ? [purple, white, t * 2] : [white, green, (t - 0.5) * 2];
  return a.map((v, i) => Math.round(v + (b[i] - v) * u));
}

function mapToUnit(map, v) {
  // D's output as "how real": probabilities as they are, critic values on their range, energies
  // reversed (a low energy means real)
  if (map.kind === "probability") return v;
  const u = map.hi > map.lo ? (v - map.lo) / (map.hi - map.lo) : 0.5;
  return map.kind === "energy" ? 1 - u : u;
}

function paintMap(ctx, map, alpha) {
  const values = decodeMap(map);
  const n = Math.round(Math.sqrt(values.length));
  const off = document.createElement("canvas");
  off.width = n;
  off.height = n;
  const octx = off.getContext("2d");
  const image = octx.createImageData(n, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = values[i * n + j];
      const k = ((n - 1 - i) * n + j) * 4; // row 0 is the bottom of the box
      if (Number.isNaN(v)) { image.data[k + 3] = 0; continue; }
      const [r, g, b] = dColor(mapToUnit(map, v));
      image.data.set([r, g, b, Math.round(alpha * 255)], k);
    }
  }
  octx.putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(off, 0, 0, ctx.canvas.width, ctx.canvas.height);
}

function dot(ctx, x, y, r, color) {
  ctx.fillStyle = color;
  ctx.beginPath();
  ctx.arc(x, y, r, 0, 2 * Math.PI);
  ctx.fill();
}

function arrow(ctx, x, y, dx, dy, color) {
  const len = Math.hypot(dx, dy);
  if (!(len > 0.5)) return;
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  ctx.beginPath();
  ctx.moveTo(x, y);
  ctx.lineTo(x + dx, y + dy);
  ctx.stroke();
  const ux = dx / len, uy = dy / len, head = Math.min(5, len / 2);
  ctx.beginPath();
  ctx.moveTo(x + dx, y + dy);
  ctx.lineTo(x + dx - head * (ux - 0.5 * uy), y + dy - head * (uy + 0.5 * ux));
  ctx.lineTo(x + dx - head * (ux + 0.5 * uy), y + dy - head * (uy - 0.5 * ux));
  ctx.fill();
}

function draw() {
  drawMain();
  drawCurves();
}

function currentFrame() {
  // the last frame, if it was made on the data shown (a data change arrives before its frame)
  const f = state.frame;
  return f && state.data && f.dim === state.data.dim ? f : null;
}

function drawMain() {
  const canvas = $("main");
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (state.drawing) return drawDrawing(ctx);
  if (!state.data) return;
  if (state.data.dim === 1) return drawLine(ctx);
  drawPlane(ctx);
}

function drawDrawing(ctx) {
  const view = planeView(state.drawExtent);
  ctx.strokeStyle = "#ddd";
  const [ox, oy] = view.toPixel(0, 0);
  ctx.beginPath(); ctx.moveTo(0, oy); ctx.lineTo(ctx.canvas.width, oy); ctx.moveTo(ox, 0); ctx.lineTo(ox, ctx.canvas.height); ctx.stroke();
  for (const [x, y] of state.stroke) {
    const [px, py] = view.toPixel(x, y);
    dot(ctx, px, py, 4, "rgba(27,158,90,0.6)");
  }
}

function drawPlane(ctx) {
  const d = state.data, f = currentFrame(), view = planeView(d.extent), L = state.layers;
  let legend = "";
  if (f && L.heat) { paintMap(ctx, f.heat, 0.55); legend += `D's output (${f.heat.kind}): green where D says real, purple where it says fake. `; }
  if (f && L.dstar) {
    if (f.dstar) { paintMap(ctx, { ...f.dstar, kind: "probability" }, 0.55); legend += "D* = p_data / (p_data + p_g) from 32×32 histograms. "; }
    else legend += "D*: p_g lies on a curve (one noise dimension) and has no density in the plane. ";
  }
  if (L.real) for (const [x, y] of d.real) { const [px, py] = view.toPixel(x, y); dot(ctx, px, py, 1.6, COLORS.real); }
  if (f && L.manifold) drawManifold(ctx, view, f.manifold);
  if (f && L.fake) for (const p of f.fake) { if (p[0] === null) continue; const [px, py] = view.toPixel(p[0], p[1]); dot(ctx, px, py, 2.2, COLORS.fake); }
  if (f && L.arrows) drawArrows(ctx, view, f);
  if (d.modes && L.modes) drawModes(ctx, view, d.modes, f && f.coverage);
  $("legend").textContent = legend + "Dots: real (green), G(z) on fixed noise (purple); lines: G's manifold; arrows: where G's next step pushes its samples.";
}

function drawManifold(ctx, view, grid) {
  ctx.strokeStyle = COLORS.manifold;
  ctx.lineWidth = 1;
  const line = (points) => {
    ctx.beginPath();
    points.forEach(([x, y], i) => { const [px, py] = view.toPixel(x, y); i ? ctx.lineTo(px, py) : ctx.moveTo(px, py); });
    ctx.stroke();
  };
  for (const row of grid) line(row);
  if (grid.length > 1) for (let j = 0; j < grid[0].length; j++) line(grid.map((row) => row[j]));
}

function drawArrows(ctx, view, f) {
  const lengths = f.arrows.map(([dx, dy]) => Math.hypot(dx, dy)).filter(Number.isFinite);
  const longest = Math.max(...lengths, 1e-12);
  const scale = (0.08 * ctx.canvas.width) / longest; // the longest arrow is 8% of the width
  ctx.lineWidth = 1.2;
  f.arrows.forEach(([dx, dy], i) => {
    const p = f.fake[i];
    if (p[0] === null || dx === null) return;
    const [px, py] = view.toPixel(p[0], p[1]);
    arrow(ctx, px, py, dx * scale, -dy * scale, "#333");
  });
}

function drawModes(ctx, view, modes, coverage) {
  ctx.lineWidth = 1.5;
  modes.centres.forEach(([x, y], i) => {
    const [px, py] = view.toPixel(x, y);
    const covered = coverage ? coverage.counts[i] >= coverage.min_count : false;
    ctx.strokeStyle = covered ? COLORS.real : "#d33";
    ctx.beginPath();
    ctx.arc(px, py, Math.max(7, 3 * modes.std * view.scale), 0, 2 * Math.PI);
    ctx.stroke();
  });
}

function drawLine(ctx) {
  // the paper's Figure 1: p_data (dotted), p_g (solid), D (dashed), D* (grey dashed), z -> x
  const d = state.data, f = currentFrame(), L = state.layers, w = ctx.canvas.width, h = ctx.canvas.height;
  const [x0, x1] = d.extent[0];
  const px = (x) => ((x - x0) / (x1 - x0)) * w;
  const axis = h * 0.66, top = h * 0.06, zLine = h * 0.92;
  const bins = d.p_data.length, centre = (i) => x0 + ((i + 0.5) * (x1 - x0)) / bins;
  const peak = Math.max(...d.p_data, ...(f ? f.p_g.filter(Number.isFinite) : [])) * 1.1 || 1;
  const py = (v) => axis - (v / peak) * (axis - top);
  const pd = (v) => axis - v * (axis - top); // D on [0, 1]
  const curve = (values, color, dash, y, xs) => {
    ctx.strokeStyle = color; ctx.setLineDash(dash); ctx.lineWidth = 2; ctx.beginPath();
    let pen = false;
    values.forEach((v, i) => {
      if (v === null || !Number.isFinite(v)) { pen = false; return; }
      const X = px(xs(i)), Y = y(v);
      pen ? ctx.lineTo(X, Y) : ctx.moveTo(X, Y);
      pen = true;
    });
    ctx.stroke(); ctx.setLineDash([]);
  };
  ctx.strokeStyle = "#999"; ctx.lineWidth = 1;
  ctx.beginPath(); ctx.moveTo(0, axis); ctx.lineTo(w, axis); ctx.stroke();
  ctx.fillStyle = "#666"; ctx.font = "12px sans-serif";
  const step = Math.pow(10, Math.floor(Math.log10((x1 - x0) / 2)));
  for (let t = Math.ceil(x0 / step) * step; t <= x1; t += step) ctx.fillText(String(+t.toPrecision(6)), Math.max(2, px(t) - 3), axis + 14);
  ctx.fillText("x", w - 12, axis - 4);
  ctx.fillText("z", 4, zLine - 4);
  let legend = "p_data dotted black, p_g solid purple";
  curve(d.p_data, "#000", [2, 3], py, centre);
  if (f) {
    curve(f.p_g, COLORS.fake, [], py, centre);
    if (L.heat) {
      const n = f.d_curve.length;
      const values = f.heat.kind === "probability" ? f.d_curve : f.d_curve.map((v) => mapToUnit(f.heat, v));
      curve(values, COLORS.d, [8, 4], pd, (i) => x0 + (i * (x1 - x0)) / (n - 1));
      legend += ", D dashed blue" + (f.heat.kind === "probability" ? " (0 to 1)" : ` (${f.heat.kind}, scaled)`);
    }
    if (L.dstar) { curve(f.d_star, COLORS.dstar, [3, 3], pd, centre); legend += ", D* = p_data / (p_data + p_g) grey dashed"; }
    if (L.real) for (const [x] of d.real.slice(0, 200)) { ctx.fillStyle = COLORS.real; ctx.fillRect(px(x) - 0.5, axis + 18, 1, 8); }
    if (L.fake) for (const p of f.fake) { if (p[0] !== null) { ctx.fillStyle = COLORS.fake; ctx.fillRect(px(p[0]) - 0.5, axis - 8, 1, 8); } }
    if (L.arrows) {
      const lengths = f.arrows.map(([dx]) => Math.abs(dx)).filter(Number.isFinite);
      const scale = (0.06 * w) / Math.max(...lengths, 1e-12);
      f.arrows.slice(0, 32).forEach(([dx], i) => {
        const p = f.fake[i];
        if (p[0] !== null && dx !== null) arrow(ctx, px(p[0]), axis - 14 - (i % 4) * 6, dx * scale, 0, "#333");
      });
      legend += ", arrows: G's push on its samples";
    }
    if (L.manifold) {
      ctx.strokeStyle = "#999"; ctx.beginPath(); ctx.moveTo(w * 0.2, zLine); ctx.lineTo(w * 0.8, zLine); ctx.stroke();
      f.mapping.u.forEach((u, i) => {
        const x = f.mapping.x[i];
        if (x === null) return;
        ctx.strokeStyle = COLORS.manifold; ctx.beginPath(); ctx.moveTo(w * (0.2 + 0.6 * u), zLine); ctx.lineTo(px(x), axis + 30); ctx.stroke();
      });
      legend += "; lines from z (its prior's quantiles, below) to x = G(z)";
    }
  }
  $("legend").textContent = legend + ".";
}

// ------------------------------------------------------------------------------ curves
function plot(canvas, series, title) {
  const ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
  ctx.clearRect(0, 0, w, h);
  const points = state.history;
  const values = series.flatMap((s) => points.map((p) => p[s.key])).filter(Number.isFinite);
  ctx.fillStyle = "#333"; ctx.font = "11px sans-serif";
  ctx.fillText(title, 4, 11);
  if (points.length < 2 || !values.length) return;
  let lo = Math.min(...values), hi = Math.max(...values);
  for (const s of series) if (s.line !== undefined) { lo = Math.min(lo, s.line); hi = Math.max(hi, s.line); }
  if (hi - lo < 1e-9) { hi += 0.5; lo -= 0.5; }
  const left = 44, top = 16, bottom = h - 14;
  const X = (i) => left + (i / (points.length - 1)) * (w - left - 4);
  const Y = (v) => bottom - ((v - lo) / (hi - lo)) * (bottom - top);
  ctx.fillStyle = "#666";
  ctx.fillText(fmt(hi), 2, top + 8);
  ctx.fillText(fmt(lo), 2, bottom);
  ctx.fillText(`it ${points[0].it} … ${points[points.length - 1].it}`, left, h - 2);
  let x = left + 4 + ctx.measureText(title).width;
  for (const s of series) {
    ctx.strokeStyle = s.color; ctx.setLineDash(s.dash || []); ctx.lineWidth = 1.5; ctx.beginPath();
    let pen = false;
    points.forEach((p, i) => {
      const v = p[s.key];
      if (!Number.isFinite(v)) { pen = false; return; }
      pen ? ctx.lineTo(X(i), Y(v)) : ctx.moveTo(X(i), Y(v));
      pen = true;
    });
    ctx.stroke();
    if (s.line !== undefined) { ctx.setLineDash([2, 3]); ctx.beginPath(); ctx.moveTo(left, Y(s.line)); ctx.lineTo(w, Y(s.line)); ctx.stroke(); }
    ctx.setLineDash([]);
    ctx.fillStyle = s.color;
    ctx.fillText(s.label, x + 8, 11);
    x += 8 + ctx.measureText(s.label).width;
  }
}

function drawCurves() {
  plot($("curve-loss"), [
    { key: "d_loss", color: COLORS.real, label: "D's loss" },
    { key: "g_loss", color: COLORS.fake, label: "G's loss" },
  ], "losses");
  plot($("curve-d"), [
    { key: "real", color: COLORS.real, label: "D(x)" },
    { key: "fake", color: COLORS.fake, label: "D(G(z))" },
  ], "mean D");
  const div = state.frame ? state.frame.divergence : null;
  const series = [
    { key: "div", color: "#1f5fbf", label: div ? div.label : "divergence", line: div && div.least !== null ? div.least : undefined },
  ];
  if (div && div.label.startsWith("JSD") === false) series.push({ key: "jsd", color: "#999", label: "JSD", dash: [4, 3] });
  plot($("curve-div"), series, "at D*");
}

// ------------------------------------------------------------------------------ panels
function debounce(fn, ms) {
  let timer = null;
  return () => { clearTimeout(timer); timer = setTimeout(fn, ms); };
}

const ab = { answer: null, start: [1, 0], shown: null };

async function loadAbGame() {
  const eta = $("ab-eta").value, steps = $("ab-steps").value;
  $("ab-eta-value").textContent = eta;
  $("ab-steps-value").textContent = steps;
  const query = new URLSearchParams({ eta, steps, a: ab.start[0], b: ab.start[1] });
  const response = await fetch(`/api/ab-game?${query}`);
  const answer = await response.json();
  if (!response.ok) { $("ab-numbers").textContent = answer.error; return; }
  ab.answer = answer;
  ab.shown = null;
  drawAbGame();
  const r = answer.radius;
  $("ab-numbers").textContent = `distance from (0, 0): start ${fmt(r.start)}; simultaneous after ${answer.steps} steps ` +
    `${fmt(r.simultaneous)} (grows by √(1+η²) a step); alternating at most ${fmt(r.alternating_max)} ` +
    `(a² + b² − η ab = ${fmt(answer.invariant)} kept to ${answer.invariant_drift.toExponential(1)}); ` +
    `continuous ${fmt(r.continuous)} (a circle).`;
}

function abView(canvas) {
  const a = ab.answer, paths = ["simultaneous", "alternating", "continuous"].filter((p) => document.querySelector(`[data-path="${p}"]`).checked);
  let extent = 1.2 * Math.hypot(...ab.start);
  for (const p of paths) for (const [x, y] of a[p]) extent = Math.max(extent, 1.1 * Math.abs(x), 1.1 * Math.abs(y));
  const w = canvas.width, h = canvas.height;
  return { paths, extent, px: (x) => w / 2 + (x / extent) * (w / 2), py: (y) => h / 2 - (y / extent) * (h / 2) };
}

function drawAbGame() {
  const canvas = $("ab-canvas"), ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
  ctx.clearRect(0, 0, w, h);
  if (!ab.answer) return;
  const v = abView(canvas), colors = { simultaneous: "#d33", alternating: "#1f5fbf", continuous: "#000" };
  ctx.strokeStyle = "#ddd"; ctx.beginPath(); ctx.moveTo(0, h / 2); ctx.lineTo(w, h / 2); ctx.moveTo(w / 2, 0); ctx.lineTo(w / 2, h); ctx.stroke();
  ctx.fillStyle = "#666"; ctx.font = "11px sans-serif";
  ctx.fillText("a", w - 10, h / 2 - 4); ctx.fillText("b", w / 2 + 4, 10);
  ctx.fillText(`±${v.extent.toFixed(2)}`, 4, 12);
  const upto = ab.shown === null ? Infinity : ab.shown;
  for (const p of v.paths) {
    const path = ab.answer[p].slice(0, upto + 1);
    ctx.strokeStyle = colors[p]; ctx.setLineDash(p === "continuous" ? [4, 3] : []); ctx.lineWidth = 1.3; ctx.beginPath();
    path.forEach(([x, y], i) => (i ? ctx.lineTo(v.px(x), v.py(y)) : ctx.moveTo(v.px(x), v.py(y))));
    ctx.stroke(); ctx.setLineDash([]);
    const [hx, hy] = path[path.length - 1];
    dot(ctx, v.px(hx), v.py(hy), 3, colors[p]);
  }
  ctx.fillStyle = "#000"; ctx.font = "16px sans-serif"; ctx.fillText("★", v.px(0) - 6, v.py(0) + 6);
  dot(ctx, v.px(ab.start[0]), v.py(ab.start[1]), 4, "#888");
}

function animateAbGame() {
  if (!ab.answer) return;
  const steps = ab.answer.steps, started = performance.now(), seconds = 3;
  const tick = () => {
    const t = Math.min(1, (performance.now() - started) / (seconds * 1000));
    ab.shown = Math.round(t * steps);
    drawAbGame();
    if (t < 1) requestAnimationFrame(tick); else ab.shown = null;
  };
  requestAnimationFrame(tick);
}

async function loadLambda() {
  const lambda = $("lambda").value, mu = $("q-mu").value, sigma = $("q-sigma").value;
  $("lambda-value").textContent = lambda;
  $("q-mu-value").textContent = mu;
  $("q-sigma-value").textContent = sigma;
  const response = await fetch(`/api/lambda-divergence?${new URLSearchParams({ lambda, mu, sigma })}`);
  const answer = await response.json();
  if (!response.ok) { $("lambda-numbers").textContent = answer.error; return; }
  drawLambda(answer);
  const b = answer.best, y = answer.yours;
  $("lambda-numbers").textContent = `best Q for λ = ${answer.lambda}: N(${b.mean.toFixed(2)}, ${b.std.toFixed(2)}²), ` +
    `${b.covers_both_modes ? "covers both modes" : "sits on one mode"} (D_λ = ${b.value.toFixed(4)}). ` +
    `Your Q: D_λ = ${y.d_lambda.toFixed(4)}, JSD = ${y.jsd.toFixed(4)}, KL(P‖Q) = ${y.kl_pq.toFixed(3)}, KL(Q‖P) = ${y.kl_qp.toFixed(3)}.`;
}

function drawLambda(a) {
  const canvas = $("lambda-canvas"), ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
  ctx.clearRect(0, 0, w, h);
  const peak = Math.max(...a.p, ...a.best.curve, ...a.yours.curve) * 1.1;
  const X = (i) => (i / (a.x.length - 1)) * w, Y = (v) => h - 16 - (v / peak) * (h - 30);
  ctx.fillStyle = "#ddd"; ctx.beginPath(); ctx.moveTo(0, Y(0));
  a.p.forEach((v, i) => ctx.lineTo(X(i), Y(v)));
  ctx.lineTo(w, Y(0)); ctx.fill();
  const line = (values, color, dash, width) => {
    ctx.strokeStyle = color; ctx.setLineDash(dash); ctx.lineWidth = width; ctx.beginPath();
    values.forEach((v, i) => (i ? ctx.lineTo(X(i), Y(v)) : ctx.moveTo(X(i), Y(v))));
    ctx.stroke(); ctx.setLineDash([]);
  };
  line(a.from_covering_start.curve, "#e8a0a0", [2, 3], 1);
  line(a.from_seeking_start.curve, "#e8a0a0", [2, 3], 1);
  line(a.best.curve, "#d33", [], 2);
  line(a.yours.curve, "#1f5fbf", [6, 4], 2);
  ctx.fillStyle = "#333"; ctx.font = "11px sans-serif";
  ctx.fillText("P (grey), best Q (red; dotted: the other minimum), your Q (blue dashed)", 4, 12);
  for (const t of [-6, -4, -2, 0, 2, 4, 6]) ctx.fillText(String(t), Math.min(w - 12, Math.max(2, ((t + 6) / 12) * w - 4)), h - 3);
}

function setupPanels() {
  const reload = debounce(loadAbGame, 120);
  $("ab-eta").addEventListener("input", reload);
  $("ab-steps").addEventListener("input", reload);
  for (const box of document.querySelectorAll("[data-path]")) box.addEventListener("change", drawAbGame);
  $("ab-animate").addEventListener("click", animateAbGame);
  $("ab-canvas").addEventListener("click", (e) => {
    if (!ab.answer) return;
    const canvas = $("ab-canvas"), rect = canvas.getBoundingClientRect(), v = abView(canvas);
    const x = ((e.clientX - rect.left) / rect.width) * canvas.width, y = ((e.clientY - rect.top) / rect.height) * canvas.height;
    const a = ((x - canvas.width / 2) / (canvas.width / 2)) * v.extent, b = -((y - canvas.height / 2) / (canvas.height / 2)) * v.extent;
    ab.start = [Math.max(-5, Math.min(5, a)), Math.max(-5, Math.min(5, b))].map((t) => Number(t.toFixed(3)));
    loadAbGame();
  });
  const lambda = debounce(loadLambda, 120);
  for (const id of ["lambda", "q-mu", "q-sigma"]) $(id).addEventListener("input", lambda);
  loadAbGame();
  loadLambda();
}

setupControls();
setupPanels();
connect();
