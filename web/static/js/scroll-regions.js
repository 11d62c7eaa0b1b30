// Wide tables scroll sideways inside .table-wrap on phones; a region that scrolls must be
// reachable and named for keyboard and screen-reader users (WCAG 2.1.1, axe
// "scrollable-region-focusable"). Only wrappers that really scroll become a tab stop.
(function () {
  "use strict";
  var label = document.body.getAttribute("data-scroll-label") || "";

  function update() {
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

  update();
  window.addEventListener("resize", update);
})();
