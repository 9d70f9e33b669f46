// layersim view: renders the JSON in #layersim-data (built by layersim.view.model); it computes nothing of its own.
"use strict";
(function () {
  const D = JSON.parse(document.getElementById("layersim-data").textContent);
  const E = D.events, F = D.frames, NODES = D.topology.nodes, LINKS = D.topology.links;
  const T = 0, NODE = 1, IFACE = 2, KIND = 3, PKT = 4, FRAME = 5, TEXT = 6, REASON = 7, ARRIVE = 8;
  const LETTER = {HTTP: "H", DNS: "D", TCP: "T", ARP: "A", ICMP: "I", UDP: "U"};
  const PROTO_COLOUR = {HTTP: "#0b5394", DNS: "#6a1b9a", TCP: "#00695c", ARP: "#8a6d1f", ICMP: "#b00020", UDP: "#37474f"};
  const MARK = {send: "\u25b6", receive: "\u25c0", deliver: "\u2714", drop: "\u2716"};
  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, text) => {
    const node = document.createElement(tag);
    for (const k in attrs || {}) node.setAttribute(k, attrs[k]);
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const svgEl = (tag, attrs, text) => {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const k in attrs || {}) node.setAttribute(k, attrs[k]);
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const ms = (ns) => (ns / 1e6).toFixed(3) + " ms";
  const PROTO = 0, FLOW = 1, SUMMARY = 2, SIZE = 3, DETAIL = 4;  // D.frame_columns
  const proto = (e) => (e[FRAME] === null ? null : F[e[FRAME]][PROTO]);

  // --- state: the cursor is an index into E; `visible` the indices the filters let through
  const state = {cur: 0, visible: [], playing: false, timer: null, pinned: null, simNow: 0};

  // --- notes (sampling) and filter choices
  for (const text of D.sampling.notes) $("notes").appendChild(el("p", {}, text));
  const protos = new Set();
  for (const f of F) protos.add(f[PROTO]);
  for (const p of [...protos].sort()) $("f-proto").appendChild(el("option", {value: p}, p));
  NODES.forEach((n, i) => $("f-host").appendChild(el("option", {value: String(i)}, n.name)));
  D.flows.forEach((f, i) => $("f-flow").appendChild(el("option", {value: String(i)}, f)));

  function applyFilters() {
    const p = $("f-proto").value, h = $("f-host").value, fl = $("f-flow").value, drops = $("f-drops").checked;
    const host = h === "" ? -1 : Number(h), flow = fl === "" ? -1 : Number(fl);
    state.visible = [];
    for (let i = 0; i < E.length; i++) {
      const e = E[i];
      if (drops && e[KIND] !== "drop") continue;
      if (host >= 0 && e[NODE] !== host) continue;
      if (p && proto(e) !== p) continue;
      if (flow >= 0 && (e[FRAME] === null || F[e[FRAME]][FLOW] !== flow)) continue;
      state.visible.push(i);
    }
  }

  // --- topology
  const COLW = 240, ROWH = 130;
  const pos = NODES.map((n) => ({x: 90 + n.x * COLW, y: 50 + n.y * ROWH}));
  const svg = $("topology");
  const maxX = Math.max(...pos.map((p) => p.x)) + 110, maxY = Math.max(...pos.map((p) => p.y)) + 80;
  svg.setAttribute("viewBox", `0 0 ${Math.max(maxX, 400)} ${Math.max(maxY, 200)}`);
  const linkEls = LINKS.map((l) => {
    const g = svgEl("g", {class: "link"});
    g.appendChild(svgEl("line", {x1: pos[l.a].x, y1: pos[l.a].y, x2: pos[l.b].x, y2: pos[l.b].y}));
    svg.appendChild(g);
    return g;
  });
  const nodeEls = NODES.map((n, i) => {
    const g = svgEl("g", {class: "node " + n.kind, id: "node-" + n.name, "data-node": n.name,
                          transform: `translate(${pos[i].x},${pos[i].y})`});
    const addrs = n.interfaces.filter((f) => f.address).map((f) => `${f.name} ${f.address}`);
    const h = 24 + 13 * addrs.length;
    g.appendChild(svgEl("rect", {x: -78, y: -20, width: 156, height: h, rx: 6}));
    g.appendChild(svgEl("text", {class: "name", x: 0, y: -4, "text-anchor": "middle"}, `${n.name} (${n.kind})`));
    addrs.forEach((a, k) => g.appendChild(svgEl("text", {class: "addr", x: 0, y: 10 + 13 * k, "text-anchor": "middle"}, a)));
    g.appendChild(svgEl("title", {}, n.interfaces.map((f) => `${f.name} ${f.mac || ""} ${f.address || ""}`).join("\n")));
    svg.appendChild(g);
    return g;
  });
  const dots = svgEl("g", {id: "packets"});
  const marks = svgEl("g", {id: "dropmarks"});
  svg.appendChild(marks); svg.appendChild(dots);
  const linkOf = (node, iface) => LINKS.findIndex((l) => (l.a === node && l.a_iface === iface) || (l.b === node && l.b_iface === iface));

  function drawPackets(now) {
    dots.textContent = "";
    const cur = state.cur;
    for (let i = cur, seen = 0; i >= 0 && seen < 600; i--, seen++) {
      const e = E[i];
      if (e[KIND] !== "send" || e[ARRIVE] === null) continue;
      const arrive = E[e[ARRIVE]];
      if (e[T] > now || arrive[T] < now || (e[ARRIVE] <= cur && i !== cur)) continue;
      const span = arrive[T] - e[T];
      const done = span > 0 ? Math.min(1, Math.max(0, (now - e[T]) / span)) : 0.5;
      const a = pos[e[NODE]], b = pos[arrive[NODE]];
      const edge = Math.min(0.45, 85 / Math.max(1, Math.hypot(b.x - a.x, b.y - a.y)));
      const frac = edge + (1 - 2 * edge) * done;  // between the two boxes, not on top of them
      const x = a.x + (b.x - a.x) * frac, y = a.y + (b.y - a.y) * frac;
      const p = proto(e) || "?";
      const g = svgEl("g", {class: "pkt" + (i === cur ? " current" : ""), "data-event": i, transform: `translate(${x},${y})`});
      g.appendChild(svgEl("circle", {r: 9, fill: PROTO_COLOUR[p] || "#37474f"}));
      g.appendChild(svgEl("text", {"text-anchor": "middle", y: 4}, LETTER[p] || "?"));
      g.appendChild(svgEl("title", {}, `${p} packet ${e[PKT]}: ${F[e[FRAME]][SUMMARY]}`));
      g.addEventListener("click", () => go(i));
      dots.appendChild(g);
    }
  }

  function drawDrops() {
    marks.textContent = "";
    const e = E[state.cur];
    if (e && e[KIND] === "drop") {
      const p = pos[e[NODE]];
      const g = svgEl("g", {class: "dropmark", id: "dropmark"});
      g.appendChild(svgEl("text", {x: p.x - 78, y: p.y - 26}, `\u2716 dropped: ${e[REASON]}`));
      marks.appendChild(g);
    }
  }

  // --- the detail panel: the event, what this node changed, the layer tree and the bytes
  function highlightGroup(group, on) {
    for (const b of document.querySelectorAll(`#hex .b[data-group="${group}"]`)) b.classList.toggle("hl", on);
    for (const f of document.querySelectorAll(`.tree .field[data-group="${group}"]`)) f.classList.toggle("hl", on);
  }

  function renderFrame(box, frameIndex) {
    const f = F[frameIndex];
    box.appendChild(el("p", {}, `${f[SIZE]} bytes: ${f[SUMMARY]}`));
    const detail = f[DETAIL];
    if (!detail) { box.appendChild(el("p", {class: "note"}, "Layer tree and bytes not kept on this page for this frame (see the notes above).")); return; }
    const pal = D.palette, colour = (g) => pal[g % pal.length];
    const tree = el("div", {class: "tree", id: "tree"});
    for (const layer of detail.layers) {
      const d = el("details", {open: ""});
      d.appendChild(el("summary", {}, layer.title));
      for (const [name, value, group] of layer.fields) {
        const row = el("div", {class: "field", "data-group": group, "data-field": name, tabindex: "0"}, `${name}: ${value}`);
        row.style.background = colour(group);
        row.addEventListener("mouseenter", () => highlightGroup(group, true));
        row.addEventListener("mouseleave", () => { if (state.pinned !== group) highlightGroup(group, false); });
        const pin = () => {
          if (state.pinned !== null) highlightGroup(state.pinned, false);
          state.pinned = state.pinned === group ? null : group;
          if (state.pinned !== null) highlightGroup(group, true);
        };
        row.addEventListener("click", pin);
        row.addEventListener("keydown", (ev) => { if (ev.key === "Enter") pin(); });
        d.appendChild(row);
      }
      tree.appendChild(d);
    }
    const size = detail.hex.length / 2, owner = new Array(size).fill(-1), titles = {};
    for (const [g, start, end, title] of detail.spans) { for (let k = start; k < end; k++) owner[k] = g; titles[g] = title; }
    const hex = el("div", {id: "hex", "aria-label": "bytes"});
    const h = detail.hex;
    for (let off = 0; off < size; off += 16) {
      const line = el("div");
      line.appendChild(el("span", {class: "off"}, off.toString(16).padStart(4, "0")));
      for (let k = off; k < Math.min(off + 16, size); k++) {
        const g = owner[k];
        const b = el("span", {class: "b", "data-group": g, "data-offset": k, title: titles[g] || ""}, h.substr(2 * k, 2));
        if (g >= 0) b.style.background = colour(g);
        b.addEventListener("mouseenter", () => highlightGroup(g, true));
        b.addEventListener("mouseleave", () => { if (state.pinned !== g) highlightGroup(g, false); });
        line.appendChild(b);
        line.appendChild(document.createTextNode(" "));
      }
      hex.appendChild(line);
    }
    box.appendChild(el("h3", {}, "Bytes (hover or click a field; same colours as hexdump)"));
    box.appendChild(hex);
    box.appendChild(el("h3", {}, "Layers"));
    box.appendChild(tree);
  }

  function renderDetail() {
    const box = $("detail");
    box.textContent = "";
    state.pinned = null;
    const i = state.cur, e = E[i];
    if (!e) { box.appendChild(el("p", {}, "No events.")); return; }
    const n = NODES[e[NODE]].name;
    box.appendChild(el("h2", {id: "detail-title"}, `${MARK[e[KIND]] || "\u25cf"} ${e[KIND]} at ${n}${e[IFACE] ? ":" + e[IFACE] : ""}, ${ms(e[T])}`));
    if (e[TEXT]) box.appendChild(el("p", {}, e[TEXT]));
    if (e[REASON]) box.appendChild(el("p", {class: "reason", id: "drop-reason"}, `\u2716 Dropped here: ${e[REASON]}`));
    if (e[PKT] !== null) box.appendChild(el("p", {}, `packet ${e[PKT]}`));
    const changes = D.changes[String(i)];
    if (e[KIND] === "send") {
      box.appendChild(el("h3", {}, changes ? `What ${n} changed (in layers \u2192 out layers)` : `${n} made this packet`));
      if (changes) {
        const t = el("table", {class: "changes", id: "changes"});
        const head = el("tr"); for (const c of ["layer", "field", "in", "out"]) head.appendChild(el("th", {}, c));
        t.appendChild(head);
        for (const [layer, field, old, now] of changes) {
          const r = el("tr", {"data-layer": layer, "data-field": field});
          for (const c of [layer, field, old, now]) r.appendChild(el("td", {}, c));
          t.appendChild(r);
        }
        if (!changes.length) t.appendChild(el("tr", {}, "nothing changed"));
        box.appendChild(t);
      }
    }
    if (e[FRAME] !== null) renderFrame(box, e[FRAME]);
  }

  // --- timeline (only the rows around the cursor are in the page: a long run stays quick)
  function renderTimeline() {
    const list = $("timeline");
    list.textContent = "";
    const v = state.visible;
    let at = lowerBound(v, state.cur);
    const start = Math.max(0, at - 30), end = Math.min(v.length, at + 60);
    if (start > 0) list.appendChild(el("li", {class: "more"}, `\u2026 ${start} earlier`));
    for (let k = start; k < end; k++) {
      const i = v[k], e = E[i];
      const what = e[FRAME] !== null ? F[e[FRAME]][SUMMARY] : e[TEXT];
      const li = el("li", {class: `kind-${e[KIND]}` + (i === state.cur ? " current" : ""), "data-event": i},
        `${MARK[e[KIND]] || "\u25cf"} ${ms(e[T]).padStart(13)} ${NODES[e[NODE]].name}${e[IFACE] ? ":" + e[IFACE] : ""} ${e[KIND]}${e[REASON] ? " (" + e[REASON] + ")" : ""} ${what}`);
      li.addEventListener("click", () => go(i));
      list.appendChild(li);
    }
    if (end < v.length) list.appendChild(el("li", {class: "more"}, `\u2026 ${v.length - end} later`));
    const current = list.querySelector("li.current");
    if (current) list.scrollTop = current.offsetTop - list.clientHeight / 2;  // the list scrolls, not the page
  }

  function lowerBound(arr, x) {
    let lo = 0, hi = arr.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (arr[mid] < x) lo = mid + 1; else hi = mid; }
    return lo;
  }

  // --- TCP ladder, linked to the timeline (only the rows around the current one are in the page)
  const LAD = D.ladders, ladderRow = new Map();  // event -> [ladder, row]
  LAD.forEach((l, k) => {
    $("ladder-pick").appendChild(el("option", {value: String(k)}, `${NODES[l.node].name}: ${l.local} \u2194 ${l.remote}`));
    l.rows.forEach((r, n) => ladderRow.set(r[0], [k, n]));
  });
  function renderLadder(picked) {
    const box = $("ladder");
    box.textContent = "";
    let found = ladderRow.get(state.cur);
    if (found && picked !== true) $("ladder-pick").value = String(found[0]);
    else if (found && String(found[0]) !== $("ladder-pick").value) found = undefined;
    const l = LAD[Number($("ladder-pick").value || 0)];
    if (!l) { box.appendChild(el("p", {}, "No TCP connections in this run.")); return; }
    const head = el("div", {class: "lhead"});
    head.appendChild(el("span", {}, `${NODES[l.node].name} ${l.local}`));
    head.appendChild(el("span", {}, l.remote));
    box.appendChild(head);
    const at = found ? found[1] : lowerBound(l.rows.map((r) => r[0]), state.cur);
    const start = Math.max(0, at - 20), end = Math.min(l.rows.length, at + 40);
    if (start > 0) box.appendChild(el("div", {class: "more"}, `\u2026 ${start} earlier`));
    for (let n = start; n < end; n++) {
      const [i, dir, label] = l.rows[n];
      const r = el("div", {class: "lrow" + (i === state.cur ? " current" : ""), "data-event": i});
      r.appendChild(el("span", {}, ms(E[i][T])));
      r.appendChild(el("span", {class: "arrow " + dir}, dir === "out" ? `${label} \u2500\u2500\u25b6` : `\u25c0\u2500\u2500 ${label}`));
      r.addEventListener("click", () => go(i));
      box.appendChild(r);
    }
    if (end < l.rows.length) box.appendChild(el("div", {class: "more"}, `\u2026 ${l.rows.length - end} later`));
    const current = box.querySelector(".lrow.current");
    if (current) box.scrollTop = current.offsetTop - box.clientHeight / 2;
  }

  // --- process output and applications' events, as they appear in simulated time (the newest 200 lines)
  const OUT = D.output, outTimes = OUT.map((line) => line[0]);
  function renderOutput() {
    const box = $("output");
    box.textContent = "";
    const now = E[state.cur] ? E[state.cur][T] : 0;
    const end = lowerBound(outTimes, now + 1);
    const start = Math.max(0, end - 200);
    if (start > 0) box.appendChild(el("div", {class: "more"}, `\u2026 ${start} earlier lines`));
    for (let k = start; k < end; k++) {
      const [t, node, source, text] = OUT[k];
      box.appendChild(el("pre", {class: "out-" + source}, `${ms(t)} ${NODES[node].name} ${source}: ${text.replace(/\n$/, "")}`));
    }
    box.scrollTop = box.scrollHeight;
  }

  // --- moving: go to an event, step among the visible ones, play
  function render() {
    const e = E[state.cur];
    nodeEls.forEach((g, k) => g.classList.toggle("current", !!e && e[NODE] === k));
    const li = e && e[IFACE] ? linkOf(e[NODE], e[IFACE]) : -1;
    linkEls.forEach((g, k) => g.classList.toggle("active", k === li));
    $("position").textContent = e ? `event ${state.cur + 1} of ${E.length} \u00b7 ${ms(e[T])}` : "no events";
    drawDrops();
    drawPackets(e ? e[T] : 0);
    renderDetail();
    renderTimeline();
    renderLadder();
    renderOutput();
  }

  function go(i, keepHash) {
    if (!E.length) return;
    state.cur = Math.max(0, Math.min(E.length - 1, i));
    if (!keepHash) history.replaceState(null, "", "#e" + state.cur);
    render();
  }

  function step(direction) {
    const v = state.visible;
    if (!v.length) return false;
    const at = lowerBound(v, state.cur);
    let k = direction > 0 ? (v[at] === state.cur ? at + 1 : at) : at - 1;
    if (k < 0 || k >= v.length) return false;
    go(v[k]);
    return true;
  }

  function setPlaying(on) {
    state.playing = on;
    $("play").textContent = on ? "\u275a\u275a pause" : "\u25b6 play";
    $("play").setAttribute("aria-label", on ? "pause" : "play");
    if (state.timer) { cancelAnimationFrame(state.timer); state.timer = null; }
    if (on) {
      let last = performance.now(), from = E[state.cur] ? E[state.cur][T] : 0;
      const tick = (now) => {
        const perStep = 1000 / Number($("speed").value);
        const v = state.visible, at = lowerBound(v, state.cur + 1);
        if (at >= v.length) { setPlaying(false); return; }
        const frac = Math.min(1, (now - last) / perStep);
        drawPackets(from + (E[v[at]][T] - from) * frac);  // packets move in simulated time between two events
        if (frac >= 1) { go(v[at]); last = now; from = E[state.cur][T]; }
        if (state.playing) state.timer = requestAnimationFrame(tick);
      };
      state.timer = requestAnimationFrame(tick);
    }
  }

  $("play").addEventListener("click", () => setPlaying(!state.playing));
  $("step").addEventListener("click", () => step(1));
  $("back").addEventListener("click", () => step(-1));
  $("home").addEventListener("click", () => state.visible.length && go(state.visible[0]));
  $("end").addEventListener("click", () => state.visible.length && go(state.visible[state.visible.length - 1]));
  $("ladder-pick").addEventListener("change", () => renderLadder(true));
  for (const id of ["f-proto", "f-host", "f-flow", "f-drops"]) {
    $(id).addEventListener("change", () => {
      applyFilters();
      if (state.visible.length && !state.visible.includes(state.cur)) go(state.visible[Math.min(lowerBound(state.visible, state.cur), state.visible.length - 1)]);
      else render();
    });
  }
  document.addEventListener("keydown", (ev) => {
    const tag = ev.target.tagName;
    if (tag === "SELECT" || tag === "INPUT") return;
    if (ev.key === " " && tag !== "BUTTON") { setPlaying(!state.playing); ev.preventDefault(); }
    else if (ev.key === "ArrowRight") { step(1); ev.preventDefault(); }
    else if (ev.key === "ArrowLeft") { step(-1); ev.preventDefault(); }
    else if (ev.key === "Home") { if (state.visible.length) go(state.visible[0]); ev.preventDefault(); }
    else if (ev.key === "End") { if (state.visible.length) go(state.visible[state.visible.length - 1]); ev.preventDefault(); }
  });
  const fromHash = () => { const m = /^#e(\d+)$/.exec(location.hash); return m ? Number(m[1]) : 0; };
  window.addEventListener("hashchange", () => go(fromHash(), true));
  applyFilters();
  go(fromHash(), true);
  window.layersimView = {data: D, state, go, step, ready: true};  // for tests and the console
})();
