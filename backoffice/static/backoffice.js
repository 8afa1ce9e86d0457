// Flask-Admin 2.2's templates use inline onclick handlers, which our Content-Security-Policy
// (no 'unsafe-inline' scripts) refuses, logging an error for each on every page. The project's
// copies of those templates (templates/admin/actions.html, model/row_actions.html,
// model/layout.html, model/inline_list_base.html, views/row_actions.py) carry data attributes
// instead, bound here; "javascript:void(0)" links are kept from navigating (the CSP refuses that
// too) without stopping Bootstrap's and Flask-Admin's own listeners.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var element = event.target.closest("[data-confirm], [data-model-action], [data-inline-field], a[href^='javascript:']");
    if (!element) { return; }
    if (element.hasAttribute("data-confirm")) {
      if (!window.confirm(element.getAttribute("data-confirm"))) { event.preventDefault(); }
      return;
    }
    event.preventDefault();
    if (element.hasAttribute("data-model-action")) {
      window.modelActions.execute(element.getAttribute("data-model-action"));
    } else if (element.hasAttribute("data-inline-field")) {
      window.faForm.addInlineField(element, element.getAttribute("data-inline-field"));
    }
  }, true);
})();

// Select2 (Flask-Admin's choice widget) draws a link with no name in place of each <select>:
// it is given its field's label, so that a screen reader says what it chooses (RGAA 11.1).
(function () {
  "use strict";
  function nameSelect2Widgets() {
    var widgets = document.querySelectorAll(".select2-container[id^='s2id_']");
    Array.prototype.forEach.call(widgets, function (widget) {
      var field = widget.id.slice(5);
      var label = document.querySelector("label[for='" + field + "']");
      var text = label ? label.textContent.replace(/\s+/g, " ").trim() : field;
      var choice = widget.querySelector(".select2-choice, .select2-choices input");
      if (choice && !choice.getAttribute("aria-label")) { choice.setAttribute("aria-label", text); }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    window.setTimeout(nameSelect2Widgets, 0);  // after Flask-Admin's own ready handlers
  });
  document.addEventListener("click", function () { window.setTimeout(nameSelect2Widgets, 0); });
})();

// Forms are checked by the server, which answers in French with a summary of the errors linked to
// their fields (issue #12): the browser's own bubbles (in the browser's language, one field at a
// time, gone on the next keystroke) are turned off. Fields keep `required`, which screen readers
// announce.
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("form.admin-form"), function (form) {
    form.noValidate = true;
  });
  var summary = document.getElementById("erreurs");
  if (summary && document.activeElement !== summary) { summary.focus(); }
})();
