// The hand-over recipient box: as one types part of a name or credit code, ask the server for suggestions (active
// enterprises that may receive a battery) and offer them in a <datalist>; choosing one fills in the credit code,
// which the form sends. Without JavaScript the box still takes a typed credit code. A static file: the CSP forbids
// inline scripts.
(function () {
  "use strict";
  var MIN = 2, DELAY = 250;

  function attach(input) {
    var url = input.getAttribute("data-recipient-search");
    var list = document.createElement("datalist");
    list.id = (input.id || "recipient") + "_suggestions";
    input.parentNode.insertBefore(list, input.nextSibling);
    input.setAttribute("list", list.id);
    var timer = null, last = null, controller = null;

    function fill(results) {
      while (list.firstChild) list.removeChild(list.firstChild);
      results.forEach(function (r) {
        var option = document.createElement("option");
        option.value = r.uscc;
        option.label = r.name + " · " + r.province;
        option.textContent = r.name + " · " + r.province;
        list.appendChild(option);
      });
    }

    function lookUp() {
      var q = input.value.trim();
      if (q === last) return;
      last = q;
      if (q.length < MIN) { fill([]); return; }
      if (controller) controller.abort();
      controller = window.AbortController ? new AbortController() : null;
      fetch(url + "?q=" + encodeURIComponent(q), {
        credentials: "same-origin", headers: {"Accept": "application/json"},
        signal: controller ? controller.signal : undefined
      }).then(function (response) {
        return response.ok ? response.json() : {results: []};
      }).then(function (data) { fill(data.results || []); }).catch(function () { /* aborted or offline */ });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(lookUp, DELAY);
    });
  }

  function init() {
    document.querySelectorAll("input[data-recipient-search]").forEach(attach);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
