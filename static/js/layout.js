// Layout helpers for narrow screens; every page works without them.
(function () {
  "use strict";

  // The main menu folds under a "Menu" button on a phone. Without this script the button stays
  // hidden and the menu is simply shown, wrapped under the brand.
  var toggle = document.querySelector(".menu-toggle");
  var topbar = document.querySelector(".topbar");
  if (toggle && topbar) {
    var setOpen = function (open) {
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      topbar.classList.toggle("menu-open", open);
    };
    topbar.classList.add("menu-folds");
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      setOpen(toggle.getAttribute("aria-expanded") !== "true");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
        setOpen(false);
        toggle.focus();
      }
    });
  }

  // Tables become stacked rows on a phone (portal.css); each cell is labelled with its column's
  // header here, so no template has to repeat the header text on every cell. A cell that already
  // has a data-label keeps it.
  document.querySelectorAll("main table").forEach(function (table) {
    var headers = [];
    var head = table.tHead ? table.tHead.rows[0] : null;
    if (!head) { return; }
    table.classList.add("stacks");
    Array.prototype.forEach.call(head.cells, function (cell) {
      var span = cell.colSpan || 1;
      for (var i = 0; i < span; i++) { headers.push(cell.textContent.trim()); }
    });
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          // A cell across the whole row (an empty-list message) speaks for itself.
          var wholeRow = (cell.colSpan || 1) >= headers.length && headers.length > 1;
          if (!cell.hasAttribute("data-label") && headers[column] && !wholeRow) {
            cell.setAttribute("data-label", headers[column]);
          }
          column += cell.colSpan || 1;
        });
      });
    });
  });
})();
