// The case workspace's tabs: show the panels of one tab, remember it in the
// URL hash (kept across the change form's save: the form posts to "#tab").
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("[data-cb-print]"), function (b) {
    b.addEventListener("click", function () { window.print(); });
  });
  var bar = document.getElementById("cb-tabs");
  if (!bar) { return; }
  var tabs = Array.prototype.slice.call(bar.querySelectorAll("[data-cb-tab]"));
  var names = tabs.map(function (t) { return t.getAttribute("data-cb-tab"); });
  var panels = Array.prototype.slice.call(document.querySelectorAll("[data-cb-panel]"));
  var form = document.getElementById("case_form");

  // The Timeline tab's entries come from their own URL, once, when the tab is
  // first shown (the costliest part of the page, seldom opened). On failure the
  // panel says so; its link to the case's whole history stays.
  var timeline = document.getElementById("cb-timeline-body");
  function loadTimeline() {
    if (!timeline || timeline.hasAttribute("data-cb-requested")) { return; }
    timeline.setAttribute("data-cb-requested", "");
    fetch(timeline.getAttribute("data-cb-src"), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
      })
      .then(function (html) {
        timeline.innerHTML = html;  // the server's own rendered, escaped template
        timeline.setAttribute("data-cb-loaded", "");
      })
      .catch(function () {
        timeline.querySelector(".cb-loading").textContent = timeline.getAttribute("data-cb-error");
        timeline.removeAttribute("data-cb-requested");
      });
  }

  function show(name) {
    if (name === "timeline") { loadTimeline(); }
    if (names.indexOf(name) < 0) { name = names[0]; }
    panels.forEach(function (p) {
      p.hidden = p.getAttribute("data-cb-panel").split(" ").indexOf(name) < 0;
    });
    tabs.forEach(function (t) {
      var on = t.getAttribute("data-cb-tab") === name;
      t.classList.toggle("active", on);
      t.setAttribute("aria-current", on ? "page" : "false");
    });
    if (form) { form.setAttribute("action", "#" + name); }
  }

  tabs.forEach(function (t) {
    t.addEventListener("click", function (event) {
      event.preventDefault();
      var name = t.getAttribute("data-cb-tab");
      history.replaceState(null, "", "#" + name);
      show(name);
    });
  });
  window.addEventListener("hashchange", function () { show(location.hash.slice(1)); });

  // A form error shows its tab first, wherever the hash points.
  var error = document.querySelector("[data-cb-panel] .errorlist, [data-cb-panel] .errors");
  var panel = error && error.closest("[data-cb-panel]");
  show(panel ? panel.getAttribute("data-cb-panel").split(" ")[0] : location.hash.slice(1));
})();
