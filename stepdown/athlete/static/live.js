// Live page by the step: renders the whole state carried by each server-sent event;
// the coach's controls (buttons or keys S, B, 0-9) are POSTed to /live/control; M turns
// the cue sound on this device on or off.
"use strict";

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const PHASE_WORDS = { calibrating: "stand still", bends: "knee bends on both feet", go: "go",
                      done: "done" };
let state = JSON.parse($("state").textContent);
// {seq, kind, lag_ms: publish to the page's DOM updated, rep_lag_s: rep end to publish,
//  rep_end_s, rep_bottom_s, rep_index, rep_status}: read by the browser test and the benchmark
window.liveEvents = [];
// what a rep's status says on the page: provisional while its end may still move
const LIVE_TRACE_S = 3;  // s: the time axis of a rep in progress (a slow step-down: 2-4 s)
const STATUS_WORDS = { provisional: "provisional", confirmed: "confirmed", corrected: "corrected",
  withdrawn: "not a rep", final: "" };

function text(el, s) { if (el.textContent !== s) el.textContent = s; }

function render(s) {
  state = s;
  const set = s.set || { number: 0, active: false, target: 5, reps: [] };
  const done = set.reps.length;
  text($("set-label"), set.active ? `set ${set.number} · rep ${done + 1} of ${set.target}`
    : set.number ? `set ${set.number} done · ${done} reps` : "no set");
  $("band").hidden = !s.band;
  renderSensors(s.sensors || []);
  renderResult(s);
  renderDots(set);
  text($("next"), s.phase === "done" ? "recording ended"
    : set.active ? (done >= set.target ? "set complete" : `next: rep ${done + 1}`)
    : set.number ? "S: next set" : "");
  // the rep in progress while it lasts (reset by its result), else the last rep's
  const live = s.live_trace, rep = s.last_rep;
  const [tr, title, tMin] = live ? [live, `rep ${live.index} so far`, LIVE_TRACE_S]
    : [rep && rep.trace, rep ? `rep ${rep.index}` : "", 0];
  drawTrace($("trace-knee"), $("cap-knee"), tr, title, tMin, "knee_medial_cm", "knee inward", !!live);
  drawTrace($("trace-pelvis"), $("cap-pelvis"), tr, title, tMin, "pelvic_drop_deg", "pelvic drop", !!live);
  text($("set-toggle").firstChild, set.active ? "stop set " : "start set ");
  $("band-toggle").classList.toggle("on", !!s.band);
}

function renderSensors(sensors) {
  const box = $("sensors");
  box.replaceChildren(...sensors.map((x) => {
    const el = document.createElement("span");
    const ok = x.state === "streaming";
    el.className = "sensor " + (ok ? "ok" : "bad");
    const volts = x.battery_v == null ? "" : ` ${x.battery_v.toFixed(2)} V`;
    el.textContent = `${x.placement.replace("_", " ")}${ok ? "" : " " + x.state.toUpperCase()}${volts}`;
    return el;
  }));
}

function renderResult(s) {
  const rep = s.last_rep;
  const box = $("result");
  if (!rep) {
    box.dataset.category = box.dataset.tone = "none";
    text($("rep-no"), "waiting for the first rep");
    text($("rep-status"), "");
    box.dataset.status = "none";
    text($("fix"), PHASE_WORDS[s.phase] || "get ready");
    text($("detail"), s.phase === "bends" ? "2-3 slow bends, then stand on the test leg" : "");
    return;
  }
  box.dataset.category = rep.category || "none";
  // a fault to fix is never shown green, even in a "good" (0-1) rep
  box.dataset.tone = rep.fix ? (rep.category === "poor" ? "poor" : "medium") : "good";
  text($("rep-no"), `rep ${rep.index}`);
  text($("rep-status"), STATUS_WORDS[rep.status] || "");
  box.dataset.status = rep.status || "final";
  text($("fix"), rep.fix || "good");
  const parts = [`total ${rep.total} · ${rep.category}`];
  if (rep.pain != null && rep.pain > 0) parts.push(`pain ${rep.pain}`);
  if (rep.borderline && rep.borderline.length) parts.push(`near the line: ${rep.borderline.join(", ")}`);
  text($("detail"), parts.join(" · "));
}

function renderDots(set) {
  const n = Math.max(set.target, set.reps.length);
  const dots = [];
  for (let i = 0; i < n; i++) {
    const el = document.createElement("div");
    const r = set.reps[i];
    el.className = "dot" + (r ? " " + r.category : "") + (i >= set.target ? " extra" : "") +
      (r && r.status === "provisional" ? " provisional" : "");
    el.textContent = r ? String(r.total) : "";
    el.title = r ? `rep ${r.index}: ${r.fix || "good"}` : `rep ${i + 1} to come`;
    dots.push(el);
  }
  $("dots").replaceChildren(...dots);
}

// A trace against its thresholds (dashed): tr = {t: s from the rep's start, [key]: values,
// thresholds, units}; the time axis spans at least tMin s (a rep in progress grows into it).
function drawTrace(svg, caption, tr, title, tMin, key, label, live) {
  svg.replaceChildren();
  svg.classList.toggle("live", live);
  if (!tr || !tr[key]) { text(caption, `${label}: no data`); return; }
  const unit = tr.units[key], limits = tr.thresholds[key] || [];
  svg.dataset.limits = limits.join(" ");
  svg.dataset.points = tr.t.length;
  const ys = tr[key].filter((v) => v != null);
  if (!ys.length) { text(caption, `${label}, ${title}: no data`); return; }
  const lo = Math.min(0, ...ys), hi = Math.max(...ys, ...limits) * 1.15 || 1;
  const W = 400, H = 160, tMax = Math.max(tMin, tr.t[tr.t.length - 1]) || 1;
  const x = (t) => (t / tMax) * W, y = (v) => H - ((v - lo) / (hi - lo)) * H;
  const line = (cls, y0) => {
    const l = document.createElementNS(SVG, "line");
    l.setAttribute("class", cls);
    l.setAttribute("x1", 0); l.setAttribute("x2", W); l.setAttribute("y1", y0); l.setAttribute("y2", y0);
    svg.appendChild(l);
  };
  line("zero", y(0));
  limits.forEach((v, i) => line(i ? "limit hi" : "limit", y(v)));
  const pts = tr.t.map((t, i) => tr[key][i] == null ? null : `${x(t).toFixed(1)},${y(tr[key][i]).toFixed(1)}`)
    .filter((p) => p).join(" ");
  const pl = document.createElementNS(SVG, "polyline");
  const peak = Math.max(...ys), now = ys[ys.length - 1];
  pl.setAttribute("class", "trace" + (limits.length && peak > limits[0] ? " over" : ""));
  pl.setAttribute("points", pts);
  svg.appendChild(pl);
  text(caption, `${label} · ${title}: ${live ? "now" : "peak"} ${(live ? now : peak).toFixed(1)} ${unit}` +
    (limits.length ? ` · lines ${limits.join(" / ")}` : ""));
}

// Cue sound on the page's own device (a TV's speakers), once the coach turns it on: browsers
// play sound only after a tap or key.  The tones are the record command's; words only with a
// voice of this device (never a speech service on the internet).
let audio = null;
let lastCue = state.cue ? state.cue.id : 0;
window.liveCuesPlayed = [];  // {id, kind}: read by the browser test

function toggleSound() {
  if (audio) { audio.close(); audio = null; } else { audio = new AudioContext(); }
  $("sound-toggle").classList.toggle("on", !!audio);
}

function playCue(cue) {
  if (!audio) return;
  let t = audio.currentTime + 0.02;
  for (const [freq, dur] of cue.tones) {
    if (freq > 0) {
      const osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0, t);
      gain.gain.linearRampToValueAtTime(0.3, t + 0.005);
      gain.gain.setValueAtTime(0.3, t + dur - 0.005);
      gain.gain.linearRampToValueAtTime(0, t + dur);
      osc.connect(gain).connect(audio.destination);
      osc.start(t);
      osc.stop(t + dur);
    }
    t += dur;
  }
  speak(cue.words, (t - audio.currentTime) * 1000 + 80);
  window.liveCuesPlayed.push({ id: cue.id, kind: cue.kind });
}

function speak(words, delayMs) {
  const synth = window.speechSynthesis;
  const voice = synth && synth.getVoices().find((v) => v.localService && v.lang.startsWith("en"));
  if (!voice || !words) return;
  setTimeout(() => {
    const u = new SpeechSynthesisUtterance(words);
    u.voice = voice;
    synth.speak(u);
  }, delayMs);
}

function said(action, value) {
  if (action === "band") return value ? "band on" : "band off";
  if (action === "pain") return `pain ${value}`;
  return action.replace("_", " ");
}

function send(action, value) {
  fetch("/live/control", {
    method: "POST",
    headers: { "content-type": "application/json", "x-csrf-token": document.body.dataset.csrf },
    body: JSON.stringify({ action, value }),
  }).then((r) => r.json().then((j) => text($("msg"), r.ok ? `sent: ${said(action, value)}`
    : `refused: ${j.error || r.status}`)))
    .catch(() => text($("msg"), "not sent: no connection"));
}

const toggleSet = () => send(state.set && state.set.active ? "stop_set" : "start_set");
const toggleBand = () => send("band", !state.band);
$("set-toggle").addEventListener("click", toggleSet);
$("band-toggle").addEventListener("click", toggleBand);
$("sound-toggle").addEventListener("click", toggleSound);
document.querySelectorAll(".pain-n").forEach((b) =>
  b.addEventListener("click", () => send("pain", Number(b.dataset.pain))));
document.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey || e.repeat) return;
  if (e.key === "s" || e.key === "S") toggleSet();
  else if (e.key === "b" || e.key === "B") toggleBand();
  else if (e.key === "m" || e.key === "M") toggleSound();
  else if (/^[0-9]$/.test(e.key)) send("pain", Number(e.key));
});

const events = new EventSource("/live/events");
events.onopen = () => { text($("link"), "live"); $("link").classList.remove("down"); };
events.onerror = () => { text($("link"), "reconnecting…"); $("link").classList.add("down"); };
events.onmessage = (m) => {
  const ev = JSON.parse(m.data);
  render(ev.state);
  const rep = ev.kind === "rep" ? ev.state.last_rep : null;
  const tr = ev.kind === "trace" ? ev.state.live_trace : null;
  window.liveEvents.push({ seq: ev.seq, kind: ev.kind,
    trace_index: tr && tr.index, trace_points: tr && tr.t.length, trace_t_s: tr && tr.t_s,
    trace_thresholds: tr && tr.thresholds,
    lag_ms: performance.timeOrigin + performance.now() - ev.t_pub * 1000,
    rep_lag_s: rep && rep.lag_s, rep_end_s: rep && rep.end_s, rep_bottom_s: rep && rep.bottom_s,
    rep_index: rep && rep.index, rep_status: rep && rep.status });
  const cue = ev.state.cue;
  if (cue && cue.id > lastCue) {
    lastCue = cue.id;
    if (ev.kind !== "state") playCue(cue);  // a (re)connection does not replay an old cue
  }
  if (ev.state.phase === "done") {  // the recording ended: nothing more will come
    events.close();
    text($("link"), "ended");
  }
  if (ev.kind === "rep") {
    const box = $("result");
    box.classList.remove("flash"); void box.offsetWidth; box.classList.add("flash");
  }
};
render(state);
