// The freshness table: GET /status (already ordered: failing, stale, never synced, paused, ok).
"use strict";

(() => {
  const select = document.getElementById("exchange");
  const body = document.querySelector("#freshness tbody");
  let rows = [];

  function render() {
    const exchange = select.value;
    const shown = rows.filter((r) => !exchange || r.exchange === exchange);
    body.replaceChildren();
    for (const r of shown) {
      const tr = document.createElement("tr");
      const state = r.state.replace(/\s+/g, "-");
      tr.className = state;
      tr.dataset.symbol = r.symbol;
      const link = document.createElement("a");
      link.href = `/symbol/${encodeURIComponent(r.symbol)}`;
      link.textContent = r.symbol;
      DN.cell(tr, "").appendChild(link);
      const badge = document.createElement("span");
      badge.className = `badge ${state}`;
      badge.textContent = r.state;
      DN.cell(tr, "").appendChild(badge);
      DN.cell(tr, DN.when(r.last_synced));
      DN.cell(tr, r.last_date || "–");
      DN.cell(tr, r.rows.toLocaleString("en-US"), "num rows");
      DN.cell(tr, r.open_findings, "num findings");
      DN.cell(tr, r.why ? `${r.why} (${r.fail_count}×)` : "", "error");
      DN.cell(tr, r.next_attempt_at ? DN.when(r.next_attempt_at) : "");
      body.appendChild(tr);
    }
    const counts = {};
    for (const r of shown) counts[r.state] = (counts[r.state] || 0) + 1;
    document.getElementById("summary").textContent =
      `${shown.length} assets · ` +
      Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(" · ");
  }

  async function load() {
    rows = await DN.get("/status", load);
    const exchanges = [...new Set(rows.map((r) => r.exchange))].sort();
    select.replaceChildren(new Option("all", ""), ...exchanges.map((e) => new Option(e, e)));
    const wanted = new URLSearchParams(location.search).get("exchange") || "";
    if (exchanges.includes(wanted)) select.value = wanted;
    render();
    document.body.dataset.ready = "true";
  }

  select.addEventListener("change", () => {
    const url = new URL(location.href);
    if (select.value) url.searchParams.set("exchange", select.value);
    else url.searchParams.delete("exchange");
    history.replaceState(null, "", url);
    render();
  });
  load().catch(() => {});
})();
