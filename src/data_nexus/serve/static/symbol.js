// The symbol page: candlesticks with volume from GET /bars/{symbol}, splits and dividends
// from GET /actions/{symbol} marked on the chart and listed, findings below.
"use strict";

(() => {
  const LC = window.LightweightCharts;
  const symbol = decodeURIComponent(location.pathname.split("/").pop());
  const path = encodeURIComponent(symbol);
  const buttons = [...document.querySelectorAll("#adjust button")];
  const params = new URLSearchParams(location.search);
  let adjust = ["none", "splits", "all"].includes(params.get("adjust")) ? params.get("adjust") : "all";
  let actions = [];
  let fitted = false;

  document.getElementById("symbol").textContent = symbol;
  document.title = `Data Nexus · ${symbol}`;

  const box = document.getElementById("chart");
  const chart = LC.createChart(box, {
    autoSize: true,
    layout: { background: { color: "#ffffff" }, textColor: "#1d2330", attributionLogo: true },
    grid: { vertLines: { color: "#f0f2f5" }, horzLines: { color: "#f0f2f5" } },
    rightPriceScale: { scaleMargins: { top: 0.08, bottom: 0.08 } },
    timeScale: { borderColor: "#e4e7ec" },
  });
  const candles = chart.addSeries(LC.CandlestickSeries, {
    upColor: "#12b76a", downColor: "#f04438", borderVisible: false,
    wickUpColor: "#12b76a", wickDownColor: "#f04438",
  });
  const volume = chart.addSeries(LC.HistogramSeries, {  // in a pane of its own, below
    priceFormat: { type: "volume" }, color: "#98a2b3",
  }, 1);
  chart.panes()[1].setHeight(110);
  const markers = LC.createSeriesMarkers(candles, []);
  // For people poking at the page from the console, and for the browser tests.
  window.dataNexusChart = { chart, candles, volume, markers };

  function legend(bar) {
    const el = document.getElementById("legend");
    if (!bar) { el.textContent = "no bars stored"; return; }
    el.dataset.date = bar.time;
    el.dataset.close = String(bar.close);
    el.textContent = `${bar.time}  O ${bar.open}  H ${bar.high}  L ${bar.low}  C ${bar.close}`;
  }

  function markAll() {
    const shown = new Set(candles.data().map((b) => b.time));
    markers.setMarkers(actions.filter((a) => shown.has(a.date)).map((a) => (
      a.action === "split"
        ? { time: a.date, position: "aboveBar", shape: "arrowDown", color: "#7a5af8",
            text: `${a.numerator}:${a.denominator} split` }
        : { time: a.date, position: "belowBar", shape: "circle", color: "#2f6fed", size: 0.6 }
    )));
  }

  async function loadBars() {
    document.body.dataset.ready = "false";
    buttons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.adjust === adjust)));
    const data = await DN.get(`/bars/${path}?adjust=${adjust}`, loadBars);
    const bars = data.bars.filter((b) => b.open !== null && b.high !== null && b.low !== null);
    candles.setData(bars.map((b) => ({
      time: b.date, open: b.open, high: b.high, low: b.low, close: b.close,
    })));
    volume.setData(bars.filter((b) => b.volume !== null).map((b) => ({
      time: b.date, value: b.volume,
      color: b.close >= b.open ? "rgba(18,183,106,.45)" : "rgba(240,68,56,.45)",
    })));
    markAll();
    if (!fitted) { chart.timeScale().fitContent(); fitted = true; }  // later toggles keep the zoom
    legend(candles.data().at(-1));
    document.body.dataset.adjust = data.adjust;
    document.body.dataset.ready = "true";
  }

  async function loadActions() {
    const data = await DN.get(`/actions/${path}`, loadActions);
    actions = data.actions;
    const body = document.querySelector("#actions tbody");
    body.replaceChildren();
    for (const a of [...actions].reverse()) {
      const tr = document.createElement("tr");
      DN.cell(tr, a.date);
      DN.cell(tr, a.action);
      DN.cell(tr, a.action === "split" ? `${a.numerator}:${a.denominator}` : a.value, "num");
      DN.cell(tr, a.currency || "");
      body.appendChild(tr);
    }
    markAll();
  }

  async function loadFindings() {
    const none = document.getElementById("findings-none");
    const table = document.getElementById("findings");
    const rows = await DN.get(`/findings?symbols=${path}`, loadFindings);
    none.textContent = rows.length ? "" : "No findings for this symbol.";
    table.hidden = rows.length === 0;
    const body = document.querySelector("#findings tbody");
    body.replaceChildren();
    for (const f of rows) {
      const tr = document.createElement("tr");
      DN.cell(tr, f.date || "");
      DN.cell(tr, f.kind);
      DN.cell(tr, f.detail, "error");
      DN.cell(tr, DN.when(f.first_seen));
      DN.cell(tr, DN.when(f.last_seen));
      DN.cell(tr, f.closed_at ? "closed" : "open");
      body.appendChild(tr);
    }
  }

  for (const button of buttons) {
    button.addEventListener("click", () => {
      adjust = button.dataset.adjust;
      const url = new URL(location.href);
      url.searchParams.set("adjust", adjust);
      history.replaceState(null, "", url);
      loadBars().catch(() => {});
    });
  }

  DN.get(`/assets?symbol=${path}`, () => location.reload())
    .then((rows) => { if (rows.length) document.getElementById("name").textContent = rows[0].name || ""; })
    .catch(() => {});
  loadBars().then(loadActions).catch(() => {});
  loadFindings().catch(() => {});
})();
