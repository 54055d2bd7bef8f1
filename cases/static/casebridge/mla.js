// MLA draft form: show the section of each chosen type of assistance only
// (and the preservation section for a preservation request). Without
// JavaScript every section stays visible; sections of types not chosen are
// ignored on save.
(function () {
  "use strict";
  function sync() {
    var kind = document.getElementById("id_kind");
    var preservation = kind ? kind.value === "preservation" : null;
    document.querySelectorAll("fieldset.mla-section").forEach(function (section) {
      var type = Array.prototype.find.call(section.classList, function (c) {
        return c.indexOf("mla-section-") === 0;
      }).slice("mla-section-".length);
      var show;
      if (type === "preservation") {
        show = preservation !== false;
      } else {
        var box = document.querySelector('input[name="assistance_types"][value="' + type + '"]');
        show = preservation !== true && (!box || box.checked);
      }
      section.classList.toggle("mla-hidden", !show);
    });
  }
  // Steps post on their own: with unsaved edits in the draft form they would
  // submit the saved version, so they wait until the draft is saved.
  function holdStepsWhileEdited() {
    var form = document.getElementById("mlarequest_form");
    var steps = document.getElementById("mla-transitions");
    if (!form || !steps) return;
    function hold() {
      steps.classList.add("mla-unsaved");
      steps.querySelectorAll(".mla-transition").forEach(function (el) {
        if (el.tagName === "BUTTON") el.disabled = true;
        el.setAttribute("aria-disabled", "true");
      });
    }
    form.addEventListener("input", hold);
    form.addEventListener("change", hold);
  }
  document.addEventListener("DOMContentLoaded", function () {
    holdStepsWhileEdited();
    if (!document.querySelector("fieldset.mla-section")) return;
    document.querySelectorAll('input[name="assistance_types"], #id_kind').forEach(function (el) {
      el.addEventListener("change", sync);
    });
    sync();
  });
})();
