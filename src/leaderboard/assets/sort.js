// Sortable leaderboard tables: click a column header to sort by it, click again to reverse.
// Cells sort by their data-value (numbers) or their text; rows without a value stay last.
"use strict";

function sortTable(table, column, direction) {
  const body = table.tBodies[0];
  const numeric = table.tHead.rows[0].cells[column].dataset.type === "number";
  const keyOf = (row) => {
    const cell = row.cells[column];
    if (!numeric) return cell.textContent.trim().toLowerCase();
    const v = cell.dataset.value;
    return v === undefined || v === "" ? null : Number(v);
  };
  const rows = Array.from(body.rows).map((row, index) => ({ row, index, key: keyOf(row) }));
  rows.sort((a, b) => {
    if (a.key === null || b.key === null) {
      return a.key === b.key ? a.index - b.index : a.key === null ? 1 : -1;
    }
    const order = a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
    return (direction === "ascending" ? order : -order) || a.index - b.index;
  });
  for (const { row } of rows) body.appendChild(row);
  for (const th of table.tHead.rows[0].cells) th.removeAttribute("aria-sort");
  table.tHead.rows[0].cells[column].setAttribute("aria-sort", direction);
}

for (const table of document.querySelectorAll("table.sortable")) {
  const headers = table.tHead.rows[0].cells;
  for (let column = 0; column < headers.length; column++) {
    const th = headers[column];
    const button = th.querySelector("button");
    if (!button) continue;
    button.addEventListener("click", () => {
      const current = th.getAttribute("aria-sort");
      const first = th.dataset.first === "ascending" ? "ascending" : "descending";
      const next = current === first ? (first === "ascending" ? "descending" : "ascending") : first;
      sortTable(table, column, next);
    });
  }
}
