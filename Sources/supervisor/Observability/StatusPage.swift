/// `/`: one self-contained page (no external assets) that fetches `/status` every 3 s and shows workers,
/// nodes, the best block, open conditions and the last alerts. Laid out for a phone first.
enum StatusPage {
    static let html = """
    <!DOCTYPE html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>chain-alerter status</title>
    <style>
    :root { --ok: #1b7f3a; --bad: #b3261e; --warn: #a15c00; --muted: #666; --line: #ddd; --bg: #fafafa; }
    * { box-sizing: border-box; }
    body { margin: 0; font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #111; background: var(--bg); }
    header { padding: 12px 16px; background: #14213d; color: #fff; display: flex; flex-wrap: wrap; gap: 8px; align-items: center; justify-content: space-between; }
    header h1 { font-size: 18px; margin: 0; }
    #badge { padding: 4px 10px; border-radius: 12px; font-weight: 600; background: #555; }
    #badge.ok { background: var(--ok); } #badge.bad { background: var(--bad); }
    main { padding: 8px 12px 24px; max-width: 1100px; margin: 0 auto; }
    section { background: #fff; border: 1px solid var(--line); border-radius: 8px; margin: 10px 0; padding: 10px 12px; }
    h2 { font-size: 16px; margin: 0 0 8px; }
    .muted { color: var(--muted); font-size: 13px; }
    .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 8px; }
    .card { border: 1px solid var(--line); border-radius: 6px; padding: 8px; }
    .card b { display: block; font-size: 20px; }
    table { width: 100%; border-collapse: collapse; font-size: 14px; }
    th, td { text-align: left; padding: 6px 4px; border-bottom: 1px solid var(--line); vertical-align: top; }
    th { font-size: 12px; color: var(--muted); text-transform: uppercase; }
    td.url { word-break: break-all; }
    .state-running, .state-healthy { color: var(--ok); font-weight: 600; }
    .state-stale, .state-starting, .state-backoff, .state-stopping, .state-unknown { color: var(--warn); font-weight: 600; }
    .state-isolated, .state-disconnected, .state-stopped, .state-failed { color: var(--bad); font-weight: 600; }
    .sev-critical { color: var(--bad); font-weight: 600; } .sev-warning { color: var(--warn); font-weight: 600; }
    ul { margin: 0; padding-left: 18px; }
    @media (max-width: 600px) {
      table.stack thead { display: none; }
      table.stack tr { display: block; border-bottom: 1px solid var(--line); padding: 4px 0; }
      table.stack td { display: flex; justify-content: space-between; gap: 12px; border: 0; padding: 2px 0; }
      table.stack td::before { content: attr(data-label); color: var(--muted); font-size: 12px; font-weight: 400; text-transform: uppercase; }
      table.stack td.url { display: block; } table.stack td.url::before { display: block; }
    }
    </style>
    </head>
    <body>
    <header><h1>chain-alerter</h1><span id="badge">loading…</span></header>
    <main>
    <section><h2>Overview</h2><div class="grid" id="overview"></div><div id="reasons" class="muted"></div></section>
    <section><h2>Open conditions</h2><div id="conditions" class="muted">none</div></section>
    <section><h2>Nodes</h2><table class="stack"><thead><tr><th>Node</th><th>State</th><th>Height</th><th>Lag</th><th>Latency</th><th>Primary</th></tr></thead><tbody id="nodes"></tbody></table></section>
    <section><h2>Workers</h2><table class="stack"><thead><tr><th>Worker</th><th>State</th><th>PID</th><th>Uptime</th><th>Restarts</th><th>Last exit</th></tr></thead><tbody id="workers"></tbody></table></section>
    <section><h2>Recent alerts</h2><table class="stack"><thead><tr><th>Time</th><th>Kind</th><th>Severity</th><th>Block</th><th>Title</th></tr></thead><tbody id="alerts"></tbody></table></section>
    <p class="muted" id="updated">–</p>
    </main>
    <script>
    "use strict";
    function el(tag, attrs, text) {
      const e = document.createElement(tag);
      for (const k in (attrs || {})) e.setAttribute(k, attrs[k]);
      if (text !== undefined && text !== null) e.textContent = String(text);
      return e;
    }
    function cell(label, text, cls) { const td = el("td", {"data-label": label}, text); if (cls) td.className = cls; return td; }
    function fill(id, rows) { const body = document.getElementById(id); body.replaceChildren(...rows); }
    function dur(s) {
      if (s === undefined || s === null) return "–";
      s = Math.floor(s); const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
      return d ? d + "d " + h + "h" : h ? h + "h " + m + "m" : m ? m + "m " + (s % 60) + "s" : s + "s";
    }
    function show(st) {
      const badge = document.getElementById("badge");
      badge.textContent = st.health.healthy ? "healthy" : "unhealthy";
      badge.className = st.health.healthy ? "ok" : "bad";
      const running = st.workers.filter(w => w.state === "running").length;
      const healthy = st.nodes.filter(n => n.state === "healthy").length;
      const cards = [["Best block", st.best_block.height ?? "–"], ["Checked", st.best_block.checked_height ?? "–"],
                     ["Workers", running + "/" + st.workers.length], ["Healthy nodes", healthy + "/" + st.nodes.length],
                     ["Open conditions", st.open_conditions.length], ["Supervisor up", dur(st.supervisor.uptime_seconds)]];
      document.getElementById("overview").replaceChildren(...cards.map(([k, v]) => { const c = el("div", {class: "card"}, k); c.appendChild(el("b", {}, v)); return c; }));
      const reasons = document.getElementById("reasons");
      reasons.replaceChildren(...st.health.reasons.map(r => el("div", {}, "• " + r)));
      const cond = document.getElementById("conditions");
      if (st.open_conditions.length === 0) { cond.textContent = "none"; }
      else { const ul = el("ul"); st.open_conditions.forEach(c => ul.appendChild(el("li", {}, c.kind + (c.node ? " – " + c.node : "") + (c.since ? " since " + c.since : "")))); cond.replaceChildren(ul); }
      fill("nodes", st.nodes.map(n => { const tr = el("tr");
        tr.append(cell("Node", n.url, "url"), cell("State", n.state, "state-" + n.state), cell("Height", n.height ?? "–"),
                  cell("Lag", n.lag ?? "–"), cell("Latency", n.latency_seconds === undefined ? "–" : (n.latency_seconds * 1000).toFixed(1) + " ms"),
                  cell("Primary", n.primary ? "yes" : "")); return tr; }));
      fill("workers", st.workers.map(w => { const tr = el("tr", {"data-worker": w.name});
        tr.append(cell("Worker", w.name), cell("State", w.state, "state-" + w.state), cell("PID", w.pid ?? "–"),
                  cell("Uptime", dur(w.uptime_seconds)), cell("Restarts", w.restarts), cell("Last exit", w.last_exit ?? "–")); return tr; }));
      fill("alerts", st.recent_alerts.map(a => { const tr = el("tr");
        const p = a.payload || {}; const block = (p.block && p.block.height) ?? "–";
        tr.append(cell("Time", a.created_at), cell("Kind", a.kind), cell("Severity", a.severity, "sev-" + a.severity), cell("Block", block),
                  cell("Title", p.title ?? "")); return tr; }));
      document.getElementById("updated").textContent = "Updated " + new Date().toLocaleTimeString() + (st.store_problem ? " · " + st.store_problem : "");
    }
    async function refresh() {
      try {
        const r = await fetch("status", {cache: "no-store"});
        if (!r.ok) throw new Error("HTTP " + r.status);
        show(await r.json());
      } catch (e) {
        const badge = document.getElementById("badge"); badge.textContent = "unreachable"; badge.className = "bad";
        document.getElementById("updated").textContent = "Cannot load /status: " + e.message;
      }
    }
    refresh();
    setInterval(refresh, 3000);
    </script>
    </body>
    </html>
    """
}
