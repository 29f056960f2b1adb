/* Dispatch 112 — agency performance: a sortable ranking and the two volume charts. */
const data = JSON.parse(document.getElementById("performance-data").textContent);
const lang = document.documentElement.lang || "id";

// The ranking: click a header to sort by it, again to reverse. Empty cells (no sample)
// stay at the bottom either way, as they do in the server's fast → slow order.
const table = document.getElementById("ranking");
const collator = new Intl.Collator(lang, { sensitivity: "base", numeric: true });
function sortBy(th) {
  const headers = [...table.tHead.rows[0].cells];
  const column = headers.indexOf(th);
  const direction = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
  const numeric = th.dataset.type === "number";
  const sign = direction === "ascending" ? 1 : -1;
  const body = table.tBodies[0];
  const key = (row) => row.cells[column].dataset.sort ?? row.cells[column].textContent.trim();
  const rows = [...body.rows].sort((a, b) => {
    const x = key(a), y = key(b);
    if (x === "" || y === "") return (x === "") - (y === "") || a.dataset.order - b.dataset.order;
    return sign * (numeric ? Number(x) - Number(y) : collator.compare(x, y))
      || a.dataset.order - b.dataset.order;
  });
  body.append(...rows);
  for (const header of headers) header.removeAttribute("aria-sort");
  th.setAttribute("aria-sort", direction);
}
if (table) {
  for (const th of table.tHead.rows[0].cells) {
    th.querySelector("button").addEventListener("click", () => sortBy(th));
  }
}

function drawCharts() {
  const dayLabel = new Intl.DateTimeFormat(lang, { day: "numeric", month: "short", timeZone: "UTC" });
  const labels = data.days.map((day) => dayLabel.format(new Date(`${day}T00:00:00Z`)));
  const colours = {
    report: "#b3141b", attached: "#ef6c00", information: "#1976d2",
    prank: "#7b1fa2", ghost: "#546e7a", other: "#b0bec5",
  };
  const common = {
    responsive: true,
    maintainAspectRatio: false,
    animation: false, // figures, not a show; and a resize (print, screenshot) redraws at once
    interaction: { mode: "index", intersect: false },
    plugins: { legend: { position: "bottom" } },
  };
  const integerAxis = { beginAtZero: true, ticks: { precision: 0 } };

  new window.Chart(document.getElementById("calls-chart"), {
    type: "bar",
    data: {
      labels,
      datasets: data.calls.map((series) => ({
        label: series.label,
        data: series.counts,
        backgroundColor: colours[series.outcome] || "#90a4ae",
        stack: "calls",
      })),
    },
    options: {
      ...common,
      scales: { x: { stacked: true }, y: { ...integerAxis, stacked: true, title: { display: true, text: gettext("Calls") } } },
    },
  });

  new window.Chart(document.getElementById("reports-chart"), {
    type: "line",
    data: {
      labels,
      datasets: [{
        label: gettext("Reports"),
        data: data.reports,
        borderColor: "#b3141b",
        backgroundColor: "rgba(179, 20, 27, 0.15)",
        fill: true,
        pointRadius: data.days.length > 62 ? 0 : 3,
      }],
    },
    options: { ...common, scales: { y: { ...integerAxis, title: { display: true, text: gettext("Reports") } } } },
  });
}

if (window.Chart) drawCharts();
