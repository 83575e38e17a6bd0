/* pdesuite report: charts (plotly.js, shipped beside this file), the time slider, table sorting.
 * Each chart is a <div data-spec="ID"> whose data lie in <script type="application/json" id="ID">. */
"use strict";

(function () {
  const CONFIG = {responsive: true, displaylogo: false};
  const MARGIN = {t: 40, r: 20, b: 45, l: 65};

  function specOf(el) {
    return JSON.parse(document.getElementById(el.dataset.spec).textContent);
  }

  /* Zoomable line chart: drag to zoom, double-click to reset, buttons for the y scale. */
  function lineChart(el, spec) {
    const traces = spec.traces.map((t) => ({  /* markers where points are few: one point has no line */
      x: t.x, y: t.y, name: t.name, type: "scatter",
      mode: spec.markers || t.x.length < 30 ? "lines+markers" : "lines",
    }));
    const layout = {
      title: {text: spec.title, font: {size: 14}}, height: 320, margin: MARGIN,
      xaxis: {title: {text: spec.x}}, yaxis: {title: {text: spec.y}, type: spec.log ? "log" : "linear"},
      legend: {orientation: "h", y: -0.25},
    };
    if (spec.log || spec.log_ok) {
      layout.updatemenus = [{
        type: "buttons", direction: "right", x: 1, y: 1.18, xanchor: "right", showactive: true,
        active: spec.log ? 0 : 1,
        buttons: [
          {label: "log", method: "relayout", args: ["yaxis.type", "log"]},
          {label: "linear", method: "relayout", args: ["yaxis.type", "linear"]},
        ],
      }];
    }
    Plotly.newPlot(el, traces, layout, CONFIG);
  }

  function range(arrays) {
    let lo = Infinity, hi = -Infinity;
    const visit = (a) => {
      for (const v of a) {
        if (Array.isArray(v)) visit(v);
        else if (v !== null) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      }
    };
    arrays.forEach(visit);
    return lo <= hi ? [lo, hi] : [0, 1];
  }

  function transpose(m) {  /* z[i][j] with i along x -> plotly's z[row = y][column = x] */
    return m[0].map((_, j) => m.map((row) => row[j]));
  }

  function difference(a, b) {
    return Array.isArray(a) ? a.map((v, i) => difference(v, b[i]))
      : (a === null || b === null ? null : b - a);
  }

  /* Reference against prediction, one frame at a time, with a slider over the frames. */
  function trajectoryChart(el, spec) {
    const controls = document.createElement("div");
    controls.className = "controls";
    const select = document.createElement("select");
    spec.fields.forEach((name, i) => select.add(new Option(name, String(i))));
    const slider = document.createElement("input");
    Object.assign(slider, {type: "range", min: 0, max: spec.times.length - 1, value: 0, step: 1});
    slider.className = "time-slider";
    const label = document.createElement("span");
    label.className = "time-label";
    controls.append("field ", select, " frame ", slider, " ", label);
    const plot = document.createElement("div");
    plot.className = "chart";
    el.append(controls, plot);
    const twoD = spec.y !== null;
    const ranges = spec.fields.map((_, f) => range([spec.reference[f], spec.prediction[f]]));
    const errorRanges = spec.fields.map((_, f) => {
      const [lo, hi] = range([difference(spec.reference[f], spec.prediction[f])]);
      return Math.max(Math.abs(lo), Math.abs(hi)) || 1;
    });

    function draw() {
      const f = Number(select.value), k = Number(slider.value);
      label.textContent = `t = ${spec.times[k]} (${k + 1} of ${spec.times.length})`;
      const ref = spec.reference[f][k], pred = spec.prediction[f][k];
      if (!twoD) {
        Plotly.react(plot, [
          {x: spec.x, y: ref, name: "reference", type: "scatter", mode: "lines"},
          {x: spec.x, y: pred, name: spec.label, type: "scatter", mode: "lines", line: {dash: "dot"}},
        ], {height: 340, margin: MARGIN, xaxis: {title: {text: "x"}},
            yaxis: {title: {text: spec.fields[f]}, range: ranges[f]}, legend: {orientation: "h", y: -0.2}}, CONFIG);
        return;
      }
      const [lo, hi] = ranges[f], e = errorRanges[f];
      const panel = (z, i, title, zmin, zmax, scale, bar) => ({
        z: transpose(z), x: spec.x, y: spec.y, type: "heatmap", zmin, zmax, colorscale: scale, name: title,
        xaxis: `x${i}`, yaxis: `y${i}`, showscale: bar !== null, colorbar: bar || undefined,
      });
      const axes = {};
      [1, 2, 3].forEach((i) => {
        axes[`xaxis${i}`] = {domain: [(i - 1) / 3 + 0.01, i / 3 - 0.05], anchor: `y${i}`, title: {text: "x"}};
        axes[`yaxis${i}`] = {anchor: `x${i}`, scaleanchor: `x${i}`, title: {text: i === 1 ? "y" : ""}};
      });
      Plotly.react(plot, [
        panel(ref, 1, "reference", lo, hi, "Viridis", null),
        panel(pred, 2, spec.label, lo, hi, "Viridis", {x: 0.615, len: 0.9, thickness: 10}),
        panel(difference(ref, pred), 3, "difference", -e, e, "RdBu", {x: 1.0, len: 0.9, thickness: 10}),
      ], {height: 360, margin: MARGIN, ...axes, annotations: ["reference", spec.label, `${spec.label} − reference`]
        .map((text, i) => ({text, showarrow: false, xref: "paper", yref: "paper", x: (2 * i + 1) / 6, y: 1.08}))},
      CONFIG);
    }
    slider.addEventListener("input", draw);
    select.addEventListener("change", draw);
    draw();
  }

  /* Click a column header to sort the table by it (again: the other way). */
  function sortable(table) {
    table.querySelectorAll("th[data-sort]").forEach((th, column) => {
      th.addEventListener("click", () => {
        const body = table.tBodies[0];
        const numeric = th.dataset.sort === "number";
        const up = th.dataset.order !== "up";
        th.dataset.order = up ? "up" : "down";
        const key = (row) => {
          const cell = row.cells[column];
          if (!numeric) return cell.textContent.trim().toLowerCase();
          const v = parseFloat(cell.dataset.value);
          return Number.isNaN(v) ? Infinity : v;
        };
        const rows = Array.from(body.rows).sort((a, b) => {
          const ka = key(a), kb = key(b);
          return (ka < kb ? -1 : ka > kb ? 1 : 0) * (up ? 1 : -1);
        });
        rows.forEach((row) => body.appendChild(row));
      });
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("div.chart[data-spec]").forEach((el) => lineChart(el, specOf(el)));
    document.querySelectorAll("div.trajectory[data-spec]").forEach((el) => trajectoryChart(el, specOf(el)));
    document.querySelectorAll("table.sortable").forEach(sortable);
  });
})();
