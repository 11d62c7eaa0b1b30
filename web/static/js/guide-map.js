/* The service guide's map: reads settings from data- attributes of #guide-map and markers from
   its JSON endpoint. No tiles unless a tile URL is configured: then markers on a plain background. */
(function () {
  "use strict";

  function popup(item, openLabel) {
    // Built with DOM nodes and textContent: names come from the database, never as HTML.
    var box = document.createElement("div");
    var title = document.createElement("strong");
    title.textContent = item.name;
    box.appendChild(title);
    var kind = document.createElement("div");
    kind.textContent = item.kind_label + " · " + item.governorate;
    box.appendChild(kind);
    if (item.address) {
      var address = document.createElement("div");
      address.textContent = item.address;
      box.appendChild(address);
    }
    var link = document.createElement("a");
    link.href = item.url;
    link.textContent = openLabel;
    box.appendChild(link);
    return box;
  }

  function start() {
    var element = document.getElementById("guide-map");
    if (!element || typeof window.L === "undefined" || !window.fetch) {
      return;
    }
    var L = window.L;
    var rtl = document.documentElement.getAttribute("dir") === "rtl";
    var data = element.dataset;
    var map = L.map(element, { zoomControl: false, attributionControl: !!data.tileUrl });
    L.control
      .zoom({
        position: rtl ? "topright" : "topleft",
        zoomInTitle: data.zoomIn || "Zoom in",
        zoomOutTitle: data.zoomOut || "Zoom out",
      })
      .addTo(map);
    map.setView([27.0, 30.5], 5); // Egypt, until the markers say where to look
    if (data.tileUrl) {
      L.tileLayer(data.tileUrl, {
        attribution: data.attribution || "",
        maxZoom: parseInt(data.maxZoom || "18", 10),
      }).addTo(map);
    }
    fetch(data.markersUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("markers: HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (payload) {
        var points = [];
        (payload.institutions || []).forEach(function (item) {
          var marker = L.circleMarker([item.lat, item.lon], {
            radius: 8,
            className: "map-marker map-marker-" + item.kind,
          });
          marker.bindPopup(popup(item, data.openLabel || item.name));
          marker.bindTooltip(item.name);
          marker.addTo(map);
          points.push([item.lat, item.lon]);
        });
        if (points.length === 1) {
          map.setView(points[0], 12);
        } else if (points.length > 1) {
          map.fitBounds(points, { padding: [24, 24], maxZoom: 13 });
        }
      })
      .catch(function () {
        element.classList.add("guide-map-failed");
      });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
