// ganfit lab: the page. Plain canvas, no library: it draws what the server sends (lab/frames.py).
"use strict";
const $ = (id) => document.getElementById(id);
const token = new URLSearchParams(location.search).get("token") || "";
const REAL = "#d62728", FAKE = "#1f77b4", DCOL = "#2ca02c";
const lab = { setup: null, frame: null, snaps: [], rows: [], losses: [], drawing: false, points: [], messages: [] };
window.lab = lab; // for the browser tests and the curious

// ---- the connection: a dropped one is retried, and the server keeps this tab's game (paused) meanwhile
let ws, retries = 0, leaving = false;
// the tab's id, kept over a reload in sessionStorage where the page may use it (an iframe of another
// site, as a notebook shows the lab, may be denied storage: then the id lasts as long as the page)
let store = null;
try { store = window.sessionStorage; } catch { store = null; }
const sid = (store && store.getItem("ganfit-lab-session")) || Math.random().toString(36).slice(2);
if (store) store.setItem("ganfit-lab-session", sid);
function connect() {
  ws = new WebSocket(`ws://${location.host}/ws?token=${encodeURIComponent(token)}&session=${sid}`);
  ws.onopen = () => { if (retries) say("reconnected: the game is paused where it was"); retries = 0; layers(); };
  ws.onmessage = (e) => receive(JSON.parse(e.data));
  ws.onclose = (e) => {
    if (leaving) return;
    if (e.code >= 4400 && e.code < 4500) return say(e.reason || "the lab refused this page", true); // not retried
    if (retries++ < 25) { say("connection lost: reconnecting...", true); setTimeout(connect, 1000); }
    else say("disconnected from the lab server: is `ganfit lab` still running?", true);
  };
}
window.addEventListener("pagehide", () => { leaving = true; if (ws && ws.readyState === 1) ws.send(JSON.stringify({ cmd: "bye" })); });
function send(msg) {
  if (!ws || ws.readyState !== 1) return say("not connected", true);
  ws.send(JSON.stringify(msg));
}
function say(text, bad) {
  const m = $("message");
  m.textContent = text;
  m.className = bad ? "" : "ok";
  lab.messages.push(text);
}

function receive(msg) {
  if (msg.type === "error") return say(msg.text, true);
  if (msg.type === "saved") return say(`saved: ${msg.text}`);
  if (msg.type === "setup") return onSetup(msg);
  if (msg.type === "frame") return onFrame(msg);
}

function onSetup(msg) {
  lab.setup = msg;
  lab.snaps = msg.snapshots.slice();
  lab.rows = msg.rows.slice();
  lab.losses = [];
  const c = msg.config;
  for (const k of NUMBERS) $(k).value = c[k];
  $("epochs_total").value = c.epochs;
  $("loss").value = c.loss;
  $("optimizer").value = c.optimizer;
  $("spectral_norm").checked = !!c.spectral_norm;
  for (const k of ["noise", "d_view", "g_activations", "d_activations"]) $(k).value = c[k];
  $("target").value = /^(array|csv|npy):/.test(c.target) ? "" : c.target; // data: kept as they are
  $("recipe").value = "";
  $("engine").textContent = `${msg.views.target} · ${c.d_view} · ${c.loss} · engine: ${msg.engine}`;
  const sp = $("speed");
  if (!sp.options.length) for (const s of msg.speeds) sp.add(new Option(s ? String(s) : "max", s));
  sp.value = String(msg.speed);
  lab.speed = msg.speed;
  layout();
}

function onFrame(msg) {
  if (!msg.members && lab.frame) msg.members = lab.frame.members; // refreshed a few times a second
  lab.frame = msg;
  $("epoch").textContent = msg.epoch.toLocaleString("en");
  $("epochs").textContent = msg.epochs.toLocaleString("en");
  $("play").textContent = msg.running ? "❚❚ pause" : "▶ play";
  $("play").dataset.running = msg.running ? "1" : "0";
  if (msg.losses) lab.losses.push([msg.epoch, msg.losses[0][0] + msg.losses[1][0], msg.losses[2][0]]);
  if (lab.losses.length > 4000) lab.losses.splice(0, 2000);
  lab.rows.push(...msg.rows);
  lab.snaps.push(...msg.snapshots);
  const t = $("time"), atEnd = +t.value >= +t.max;
  t.max = lab.snaps.length;
  if (atEnd) t.value = t.max;
  draw();
}

// ---- drawing helpers
function scale(a0, a1, b0, b1) { return (v) => b0 + ((v - a0) / (a1 - a0 || 1)) * (b1 - b0); }
function finite(xs) { return xs.filter((v) => v !== null && Number.isFinite(v)); }
function line(ctx, xs, ys, sx, sy, color, width = 1.5, dash = []) {
  ctx.strokeStyle = color; ctx.lineWidth = width; ctx.setLineDash(dash); ctx.beginPath();
  let up = true;
  for (let i = 0; i < xs.length; i++) {
    if (ys[i] === null || xs[i] === null) { up = true; continue; }
    const X = sx(xs[i]), Y = sy(ys[i]);
    up ? ctx.moveTo(X, Y) : ctx.lineTo(X, Y); up = false;
  }
  ctx.stroke(); ctx.setLineDash([]);
}
function title(ctx, text) { ctx.fillStyle = "#333"; ctx.font = "12px system-ui"; ctx.fillText(text, 6, 14); }
function canvas(id, w, h, parent) {
  let c = $(id);
  if (!c) { c = document.createElement("canvas"); c.id = id; c.width = w; c.height = h; parent.appendChild(c); }
  const ctx = c.getContext("2d"); ctx.clearRect(0, 0, c.width, c.height);
  return [c, ctx];
}

function layout() {
  $("views").innerHTML = ""; $("members").innerHTML = "";
  $("layers").style.display = lab.setup.views.dim === 2 ? "" : "none";
}

function memberNote() { const m = lab.frame && lab.frame.member; return m ? `, member ${m}` : ""; }
function shown() { // the main view at the time slider: a snapshot, or live
  const t = +$("time").value;
  if (t < lab.snaps.length) { $("timelabel").textContent = `snapshot, epoch ${lab.snaps[t].epoch}`; return lab.snaps[t]; }
  $("timelabel").textContent = "live";
  return lab.frame && lab.frame.main;
}

function draw() {
  if (!lab.setup) return;
  lab.drawn = (lab.drawn || 0) + 1; // frames drawn (benchmarks/lab_speed.py --browser counts them)
  const v = shown();
  if (v) lab.setup.views.dim === 1 ? draw1d(v) : draw2d(v);
  drawCurves(); drawMembers(); drawOverview();
}

// ---- the model overview: noise -> G -> fake -> D <- real, and the three losses of the last epoch. In slow
// motion (3 epochs/s or less) the server plays each epoch as D's steps, a frame, then G's steps, a frame:
// the frame says which half it shows, and the net that just moved is lit.
const SUBSTEPS = {
  d: "D's step: on a batch of real samples D is pushed to say 'real' (1), on G's samples (G held still) 'fake' (0). G's step comes next.",
  g: "G's step: G's samples go through D (D held still); G moves them where D says 'real', along the arrows.",
};
function drawOverview() {
  const [, ctx] = canvas("overview", 880, 104), c = lab.setup.config, f = lab.frame;
  const sub = f && f.half;
  const box = (x, w, text, color, note, lit) => {
    ctx.fillStyle = color; ctx.globalAlpha = sub && !lit ? 0.3 : 1; ctx.fillRect(x, 22, w, 36); ctx.globalAlpha = 1;
    ctx.fillStyle = "#fff"; ctx.font = "bold 13px system-ui"; ctx.fillText(text, x + 8, 44);
    if (note) { ctx.fillStyle = "#555"; ctx.font = "11px system-ui"; ctx.fillText(note, x, 72); }
  };
  const arrow = (x0, x1) => { ctx.strokeStyle = "#888"; ctx.beginPath(); ctx.moveTo(x0, 40); ctx.lineTo(x1, 40); ctx.lineTo(x1 - 6, 36); ctx.moveTo(x1, 40); ctx.lineTo(x1 - 6, 44); ctx.stroke(); };
  box(10, 110, "noise z", "#999", c.noise, true);
  arrow(120, 150); box(150, 130, `G (${c.g_hidden} wide)`, FAKE, `${c.optimizer} lr ${c.lr_g}, ${c.g_steps} step(s)/epoch`, sub !== "d");
  arrow(280, 310); box(310, 90, "fake x", FAKE, "", true);
  arrow(400, 430); box(430, 150, `D (${c.d_hidden} wide)`, DCOL, `${c.d_view}, ${c.optimizer} lr ${c.lr_d}, ${c.d_steps} step(s)`, sub !== "g");
  box(640, 90, "real x", REAL, lab.setup.views.target.slice(0, 28), sub !== "g"); arrow(640, 580);
  ctx.fillStyle = "#333"; ctx.font = "12px system-ui";
  const l = f && f.losses;
  ctx.fillText(`loss ${c.loss}` + (l ? `: D on real ${l[0][0]}, D on fake ${l[1][0]}, G ${l[2][0]} (member 0)` : ""), 10, 14);
  if (sub) { ctx.fillStyle = "#a40"; ctx.fillText(SUBSTEPS[sub], 10, 96); }
}

// ---- 1-D: density, D beside D*, G's map beside the optimal map
function draw1d(v) {
  const S = lab.setup.views, box = $("views"), W = 300, H = 220, pad = 24;
  let [, ctx] = canvas("density", W, H, box);
  const sx = scale(S.extent[0], S.extent[1], pad, W - 6);
  const top = 1.3 * Math.max(...finite(S.pdf), 1e-9);
  let sy = scale(0, top, H - pad, 20);
  line(ctx, S.x, S.pdf, sx, sy, REAL, 2);
  ctx.fillStyle = "rgba(31,119,180,0.4)";
  const bw = (sx(S.x[1]) - sx(S.x[0]));
  v.density.forEach((d, i) => { if (d) { const y = sy(Math.min(d, top)); ctx.fillRect(sx(S.x[i]) - bw / 2, y, bw, H - pad - y); } });
  title(ctx, `fake (blue) vs real density, epoch ${v.epoch}${memberNote()}`);
  if (lab.drawing) { ctx.fillStyle = "#000"; for (const p of lab.points) ctx.fillRect(sx(p[0]), H - pad - 8, 1, 8); }
  [, ctx] = canvas("disc", W, H, box);
  if (v.d) {
    const lo = S.verdict === "probability" ? 0 : Math.min(...finite(v.d)), hi = S.verdict === "probability" ? 1 : Math.max(...finite(v.d));
    sy = scale(lo, hi, H - pad, 20);
    line(ctx, S.d_x, v.d, sx, sy, DCOL, 2);
    if (v.d_star) line(ctx, S.x, v.d_star, sx, sy, "#000", 1.5, [5, 4]);
    title(ctx, "D(x) (green) and the optimal D* (dashed)");
  } else if (v.verdict) {
    const r = v.verdict[0][0], f = v.verdict[0][1];
    ctx.fillStyle = REAL; ctx.fillRect(60, H - pad - r * 150, 60, r * 150);
    ctx.fillStyle = FAKE; ctx.fillRect(160, H - pad - f * 150, 60, f * 150);
    title(ctx, `D sees whole batches: its verdict on real ${r.toFixed(3)}, fake ${f.toFixed(3)}`);
  }
  [, ctx] = canvas("gmap", W, H, box);
  const sz = scale(S.z[0], S.z[S.z.length - 1], pad, W - 6);
  sy = scale(S.extent[0], S.extent[1], H - pad, 20);
  if (S.opt_map) line(ctx, S.z, S.opt_map, sz, sy, "#000", 1.5, [5, 4]);
  line(ctx, S.z, v.g_map, sz, sy, FAKE, 2);
  title(ctx, "G's map z → G(z) and the optimal monotone map (dashed)");
}

// ---- 2-D: one canvas with layers (heat map, real, fake, G's manifold, G's push)
function draw2d(v) {
  const S = lab.setup.views, W = 440, H = 440;
  const [c, ctx] = canvas("plane", W, H, $("views"));
  const [x0, x1, y0, y1] = S.extent, sx = scale(x0, x1, 0, W), sy = scale(y0, y1, H, 0);
  lab.toData = (px, py) => [x0 + (px / W) * (x1 - x0), y0 + (1 - py / H) * (y1 - y0)];
  if ($("show-heat").checked && v.heat) heat(ctx, v.heat, W, H, S.verdict === "probability");
  const dots = (pts, color, r) => { ctx.fillStyle = color; for (const p of pts) if (p[0] !== null) ctx.fillRect(sx(p[0]) - r, sy(p[1]) - r, 2 * r, 2 * r); };
  if ($("show-real").checked) dots(S.real, REAL, 1.5);
  if ($("show-warp").checked && v.warp) {
    const [rows, n] = S.warp_shape;
    for (let r = 0; r < rows; r++) {
      const seg = v.warp.slice(r * n, (r + 1) * n);
      line(ctx, seg.map((p) => p[0]), seg.map((p) => p[1]), sx, sy, "rgba(90,60,160,0.6)", 1);
    }
  }
  if ($("show-fake").checked) dots(v.fake, FAKE, 1.5);
  if ($("show-arrows").checked && v.arrows) arrows(ctx, v, sx, sy, (x1 - x0));
  if (lab.drawing) dots(lab.points, "#000", 2);
  const noHeat = S.per_sample ? "" : " (D sees whole batches or packs: no per-point heat map)";
  title(ctx, `epoch ${v.epoch}${memberNote()}: real (red), fake (blue)${v.heat ? ", D's output" : noHeat}`);
  c.onmousedown = (e) => startDraw(e, c); c.onmousemove = (e) => moveDraw(e, c); c.onmouseup = () => (lab.down = false);
}
function heat(ctx, h, W, H, prob) {
  const n = h.length, m = h[0].length, off = document.createElement("canvas");
  off.width = m; off.height = n;
  const o = off.getContext("2d"), img = o.createImageData(m, n), flat = finite(h.flat());
  const lo = prob ? 0 : Math.min(...flat), hi = prob ? 1 : Math.max(...flat);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) {
    const t = h[i][j] === null ? 0.5 : (h[i][j] - lo) / (hi - lo || 1), k = ((n - 1 - i) * m + j) * 4;
    img.data[k] = 255 - 90 * (1 - t); img.data[k + 1] = 255 - 60 * Math.abs(t - 0.5) * 2 - 30; img.data[k + 2] = 255 - 90 * t; img.data[k + 3] = 255;
  }
  o.putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = true; ctx.drawImage(off, 0, 0, W, H);
}
function arrows(ctx, v, sx, sy, span) {
  const len = v.arrows.map((a) => Math.hypot(a[0], a[1])).filter(Number.isFinite).sort((a, b) => a - b);
  const ref = len[Math.floor(0.9 * (len.length - 1))] || 1;
  ctx.strokeStyle = "#333"; ctx.lineWidth = 1; ctx.beginPath();
  v.arrows.forEach((a, i) => {
    const p = v.fake[i]; if (!p || a[0] === null) return;
    const k = (0.04 * span) / ref;
    ctx.moveTo(sx(p[0]), sy(p[1])); ctx.lineTo(sx(p[0] + a[0] * k), sy(p[1] + a[1] * k));
  });
  ctx.stroke();
}

// ---- curves: losses per frame (member 0), metric medians per row, the count of members that learned
function median(xs) { const f = finite(xs).sort((a, b) => a - b); return f.length ? f[Math.floor(f.length / 2)] : null; }
function drawCurves() {
  let [c, ctx] = canvas("losses", 290, 150);
  plotSeries(ctx, c, lab.losses.map((r) => r[0]), [[lab.losses.map((r) => r[1]), "#a33", "D"], [lab.losses.map((r) => r[2]), FAKE, "G"]], "losses, member 0: D (red), G (blue)");
  [c, ctx] = canvas("metrics", 290, 150);
  const dim = lab.setup.views.dim, name = dim === 1 ? "ks" : "sw", e = lab.rows.map((r) => r.epoch);
  const series = [[lab.rows.map((r) => median(r.metrics[name] || [])), "#555", name]];
  if (dim === 2 && lab.rows.length && lab.rows[0].metrics.hq) series.push([lab.rows.map((r) => median(r.metrics.hq)), DCOL, "hq"]);
  plotSeries(ctx, c, e, series, `median ${name} over members${series.length > 1 ? ", hq (green)" : ""}`);
  [c, ctx] = canvas("divergence", 290, 150);
  const snaps = lab.snaps.filter((v) => v.kl_js);
  plotSeries(ctx, c, snaps.map((v) => v.epoch), [[snaps.map((v) => v.kl_js[0]), "#a33", "KL"], [snaps.map((v) => v.kl_js[1]), "#555", "JS"]], "KL(real ‖ fake) red, JS grey: grid, member 0");
  const last = lab.rows[lab.rows.length - 1];
  if (last && last.metrics.learned) {
    const n = last.metrics.learned.filter((x) => x).length;
    let text = `learned ${n} / ${last.metrics.learned.length} at epoch ${last.epoch}`;
    if (last.metrics.modes) text += `; modes (median) ${median(last.metrics.modes)}, high quality ${median(last.metrics.hq)}`;
    $("learned").textContent = text;
  }
}
function plotSeries(ctx, c, xs, series, label) {
  title(ctx, label);
  if (xs.length < 2) return;
  const all = finite(series.flatMap((s) => s[0]));
  if (!all.length) return;
  let lo = Math.min(...all), hi = Math.max(...all);
  if (hi === lo) { hi += 1; lo -= 1; }
  const sx = scale(xs[0], xs[xs.length - 1], 30, c.width - 6), sy = scale(lo, hi, c.height - 16, 22);
  for (const [ys, color] of series) line(ctx, xs, ys, sx, sy, color, 1.2);
  ctx.fillStyle = "#777"; ctx.fillText(hi.toPrecision(3), 2, 30); ctx.fillText(lo.toPrecision(3), 2, c.height - 18);
  ctx.fillText(String(xs[xs.length - 1]), c.width - 50, c.height - 4);
}

// ---- K members as small multiples
function drawMembers() {
  const f = lab.frame; if (!f || !f.members) return;
  const S = lab.setup.views, box = $("members"), W = 110, H = 90;
  const last = lab.rows[lab.rows.length - 1], learned = last && last.metrics.learned;
  const K = S.dim === 1 ? f.members.hist.length : f.members.points.length;
  for (let k = 0; k < K; k++) {
    const [c, ctx] = canvas(`member${k}`, W, H, box);
    c.className = (learned && learned[k] ? "learned" : "") + (k === f.member ? " chosen" : "");
    c.onclick = () => send({ cmd: "member", value: k });
    c.title = "show this member in the main view";
    if (S.dim === 1) {
      const h = f.members.hist[k], [lo, hi] = f.members.range, sx = scale(lo, hi, 0, W);
      const top = 1.3 * Math.max(...finite(S.pdf)), sy = scale(0, top, H, 12), bw = W / h.length;
      ctx.fillStyle = "rgba(31,119,180,0.5)";
      h.forEach((d, i) => { const y = sy(Math.min(d, top)); ctx.fillRect(i * bw, y, bw, H - y); });
      line(ctx, S.x, S.pdf, sx, sy, REAL, 1);
    } else {
      const [x0, x1, y0, y1] = S.extent, sx = scale(x0, x1, 0, W), sy = scale(y0, y1, H, 0);
      ctx.fillStyle = "rgba(214,39,40,0.35)"; for (const p of S.real) ctx.fillRect(sx(p[0]), sy(p[1]), 1, 1);
      ctx.fillStyle = FAKE; for (const p of f.members.points[k]) if (p[0] !== null) ctx.fillRect(sx(p[0]), sy(p[1]), 1.5, 1.5);
    }
    ctx.fillStyle = "#333"; ctx.fillText(`#${k}`, 3, 10);
  }
}

// ---- drawing points: 2-D on the plane, 1-D on the density plot
function startDraw(e, c) { if (!lab.drawing) return; lab.down = true; moveDraw(e, c); }
function moveDraw(e, c) {
  if (!lab.drawing || !lab.down) return;
  const r = c.getBoundingClientRect();
  addPoints(e.clientX - r.left, e.clientY - r.top);
}
function addPoints(px, py) {
  const S = lab.setup.views;
  for (let i = 0; i < 6; i++) {
    const jx = px + (Math.random() - 0.5) * 14, jy = py + (Math.random() - 0.5) * 14;
    if (S.dim === 2) lab.points.push(lab.toData(jx, jy));
    else { const s = scale(24, 294, S.extent[0], S.extent[1]); lab.points.push([s(jx)]); }
  }
  $("ndrawn").textContent = `${lab.points.length} points`;
  if (lab.frame) draw();
}
document.addEventListener("mousedown", (e) => { if (e.target.id === "density") { lab.down = true; const r = e.target.getBoundingClientRect(); if (lab.drawing) addPoints(e.clientX - r.left, e.clientY - r.top); } });
document.addEventListener("mousemove", (e) => { if (e.target.id === "density" && lab.down && lab.drawing) { const r = e.target.getBoundingClientRect(); addPoints(e.clientX - r.left, e.clientY - r.top); } });
document.addEventListener("mouseup", () => (lab.down = false));

// ---- controls: every field shows the current game's config; a new game sends them all
const NUMBERS = ["lr_d", "lr_g", "beta1", "beta2", "d_steps", "g_steps", "r1", "r2", "seeds", "g_hidden", "d_hidden", "seed", "g_ema", "batch", "gp"];
const INTS = ["seeds", "g_hidden", "d_hidden", "seed", "batch", "d_steps", "g_steps"];
function num(id) { const v = $(id).value; return v === "" ? undefined : Number(v); }
function newGame(extra) {
  const config = { loss: $("loss").value, optimizer: $("optimizer").value, spectral_norm: $("spectral_norm").checked };
  for (const k of NUMBERS) if (num(k) !== undefined) config[k] = INTS.includes(k) ? Math.round(num(k)) : num(k);
  if (num("epochs_total") !== undefined) config.epochs = Math.round(num("epochs_total"));
  for (const k of ["noise", "d_view", "g_activations", "d_activations"]) if ($(k).value) config[k] = $(k).value;
  const msg = Object.assign({ cmd: "new", config }, extra);
  if (!msg.upload && !msg.points && $("target").value) msg.target = $("target").value;
  send(msg);
}
$("new").onclick = () => newGame({});
$("recipe").onchange = () => { if ($("recipe").value) send({ cmd: "new", recipe: $("recipe").value }); };
$("play").onclick = () => send({ cmd: $("play").dataset.running === "1" ? "pause" : "play" });
$("step").onclick = () => send({ cmd: "step", n: 1 });
$("stepd").onclick = () => send({ cmd: "step_d" });
$("stepg").onclick = () => send({ cmd: "step_g" });
// the server makes G's manifold and gradients only while they are shown (a third of a 2-D frame)
function layers() { send({ cmd: "layers", shown: ["warp", "arrows"].filter((k) => $("show-" + k).checked) }); }
$("show-warp").onchange = layers;
$("show-arrows").onchange = layers;
$("speed").onchange = () => { lab.speed = Number($("speed").value); send({ cmd: "speed", value: lab.speed }); };
$("time").oninput = () => draw();
$("apply").onclick = () => {
  const values = { loss: $("loss").value, optimizer: $("optimizer").value, epochs: Math.round(num("epochs_total")) };
  for (const k of ["lr_d", "lr_g", "beta1", "beta2", "r1", "r2"]) values[k] = num(k);
  for (const k of ["d_steps", "g_steps"]) values[k] = Math.round(num(k));
  const c = lab.setup.config, changed = {};
  for (const [k, v] of Object.entries(values)) if (v !== undefined && v !== c[k]) changed[k] = v;
  if (Object.keys(changed).length) send({ cmd: "set", values: changed }); else say("nothing changed");
};
$("save").onclick = () => send({ cmd: "save", name: $("runname").value });
$("draw").onclick = () => {
  lab.drawing = !lab.drawing; lab.points = lab.drawing ? [] : lab.points;
  $("draw").textContent = lab.drawing ? "✓ drawing (drag on the plot)" : "✎ draw points";
  if (lab.drawing) say("drag on the density plot (1-D) or the plane (2-D; pick a 2-D recipe or target first) to add points, then 'play on drawn points'");
};
$("drawn").onclick = () => {
  if (lab.points.length < 2) return say("draw some points first", true);
  lab.drawing = false; $("draw").textContent = "✎ draw points";
  newGame({ points: lab.points });
};
$("csv").onchange = async () => { // the header's columns, so that the page can offer them
  const file = $("csv").files[0];
  if (!file) return;
  const head = (await file.slice(0, 4096).text()).split(/\r?\n/)[0].split(",").map((s) => s.trim().replace(/^"|"$/g, ""));
  const named = head.some((c) => c !== "" && !Number.isFinite(Number(c)));
  $("columns").placeholder = named ? head.join(", ") : `${head.length} unnamed columns: 0, 1, ...`;
  if (!$("columns").value) $("columns").value = named ? head[0] : "0";
  say(`columns: ${$("columns").placeholder} (one for 1-D, two for 2-D)`);
};
$("upload").onclick = async () => {
  const file = $("csv").files[0];
  if (!file) return say("choose a CSV file first", true);
  const cols = $("columns").value.split(",").map((s) => s.trim()).filter((s) => s);
  let r, body;
  try {
    r = await fetch(`upload?token=${encodeURIComponent(token)}&columns=${encodeURIComponent(cols.join(","))}`, { method: "POST", body: await file.text() });
    const text = await r.text();
    try { body = JSON.parse(text); } catch { body = { error: `the server answered ${r.status}: ${text.trim().slice(0, 200)}` }; }
  } catch (e) { return say(`the upload failed: ${e.message}`, true); }
  if (!r.ok) return say(body.error, true);
  say(`uploaded ${body.rows} rows of ${body.columns.join(", ")}`);
  newGame({ upload: body.id });
};
connect();
