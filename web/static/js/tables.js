// Tables on phones. A wide table scrolls sideways inside .table-wrap: a region that scrolls must
// be reachable and named for keyboard and screen-reader users (WCAG 2.1.1, axe
// "scrollable-region-focusable"), so a wrapper that really scrolls becomes a named tab stop.
// A table.stack shows each row as a block on narrow screens (app.css); its cells get the
// column's heading as data-label, which the stylesheet shows before the value.
(function () {
  "use strict";
  var label = document.body.getAttribute("data-scroll-label") || "";

  function labelStackedCells() {
    var tables = document.querySelectorAll("table.stack");
    for (var t = 0; t < tables.length; t++) {
      var heads = tables[t].querySelectorAll("thead th");
      if (!heads.length) continue;
      var names = [];
      for (var h = 0; h < heads.length; h++) names.push(heads[h].textContent.trim());
      var rows = tables[t].querySelectorAll("tbody tr");
      for (var r = 0; r < rows.length; r++) {
        var cells = rows[r].children;
        if (cells.length !== names.length) continue;
        for (var c = 0; c < cells.length; c++) {
          if (names[c] && !cells[c].hasAttribute("data-label")) {
            cells[c].setAttribute("data-label", names[c]);
          }
        }
      }
    }
  }

  function markScrollingRegions() {
    var wraps = document.querySelectorAll(".table-wrap");
    for (var i = 0; i < wraps.length; i++) {
      var wrap = wraps[i];
      if (wrap.scrollWidth > wrap.clientWidth + 1) {
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("role", "region");
        var caption = wrap.querySelector("caption");
        wrap.setAttribute("aria-label", caption ? caption.textContent.trim() : label);
      } else if (wrap.getAttribute("tabindex") === "0") {
        wrap.removeAttribute("tabindex");
        wrap.removeAttribute("role");
        wrap.removeAttribute("aria-label");
      }
    }
  }

  labelStackedCells();
  markScrollingRegions();
  window.addEventListener("resize", markScrollingRegions);
})();
