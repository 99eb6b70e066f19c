// The "show only reproduced entries" switch of the index page: hides every table row whose
// submission's standing (data-standing) is not "reproduced", and shows them again when cleared.
"use strict";

const onlyReproduced = document.getElementById("only-reproduced");
if (onlyReproduced) {
  const apply = () => {
    for (const row of document.querySelectorAll("table.board tbody tr")) {
      row.hidden = onlyReproduced.checked && row.dataset.standing !== "reproduced";
    }
  };
  onlyReproduced.addEventListener("change", apply);
  apply();
}
