// Dépêche: progressive enhancement only. Every page works without this file.
// - autocomplete under the search box, from /api/suggest (ARIA combobox pattern)
// - a filter box inside long facet lists
// - on a phone, the filters as a drawer opened from the top of the results
// - on a phone, the chosen bar (else the latest ones) of a histogram that scrolls sideways brought into view
// - « Du » / « Au »: an end before the start refused before anything is sent
"use strict";

(function () {
  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  // ------------------------------------------------------------ autocomplete

  function setupAutocomplete(input) {
    var list = document.getElementById("suggestions");
    var form = input.form;
    if (!list || !form || !window.fetch) return;
    var url = input.getAttribute("data-suggest-url");
    var GROUPS = [["terms", "Mots"], ["people", "Personnes"], ["places", "Lieux"]];
    var FILTER_PARAM = { people: "person", places: "place" };
    var options = [];
    var active = -1;
    var timer = null;
    var controller = null;
    var lastPrefix = null;

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", "suggestions");
    input.setAttribute("autocomplete", "off");

    function currentWord() {
      var m = input.value.match(/(\S+)$/);
      return m ? m[1] : "";
    }

    function close() {
      list.hidden = true;
      list.textContent = "";
      options = [];
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function setActive(i) {
      if (active >= 0 && options[active]) options[active].el.setAttribute("aria-selected", "false");
      active = i;
      if (active >= 0 && options[active]) {
        options[active].el.setAttribute("aria-selected", "true");
        input.setAttribute("aria-activedescendant", options[active].el.id);
        options[active].el.scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function valueOf(item) {
      return typeof item === "string" ? item : (item && (item.value || item.term || item.name)) || "";
    }

    function render(data) {
      list.textContent = "";
      options = [];
      active = -1;
      GROUPS.forEach(function (group) {
        var items = (data && data[group[0]]) || [];
        if (!items.length) return;
        var head = document.createElement("li");
        head.className = "suggestion-group";
        head.setAttribute("role", "presentation");
        head.textContent = group[1];
        list.appendChild(head);
        items.forEach(function (item) {
          var value = valueOf(item);
          if (!value) return;
          var li = document.createElement("li");
          li.id = "suggestion-" + options.length;
          li.setAttribute("role", "option");
          li.setAttribute("aria-selected", "false");
          var text = document.createElement("span");
          text.textContent = value;
          li.appendChild(text);
          if (group[0] !== "terms") {
            var kind = document.createElement("span");
            kind.className = "suggestion-kind";
            kind.textContent = group[0] === "people" ? "filtrer par personne" : "filtrer par lieu";
            li.appendChild(kind);
            // The person's or place's own page, one click away (the rest of the row filters).
            var pages = (data && data.pages && data.pages[group[0]]) || [];
            var href = pages[items.indexOf(item)];
            if (href) {
              var link = document.createElement("a");
              link.className = "suggestion-page";
              link.href = href;
              link.textContent = "fiche";
              link.setAttribute("aria-label", "Fiche « " + value + " »");
              link.addEventListener("mousedown", function (e) {
                // Follows the link instead of filtering; at once, before the box's blur closes the list.
                e.preventDefault();
                e.stopPropagation();
                window.location.assign(link.href);
              });
              li.appendChild(link);
            }
          }
          var option = { el: li, kind: group[0], value: value };
          li.addEventListener("mousedown", function (e) {
            e.preventDefault(); // keep focus in the box
            choose(option);
          });
          options.push(option);
          list.appendChild(li);
        });
      });
      if (options.length) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
      } else {
        close();
      }
    }

    function choose(option) {
      var words = input.value.replace(/\S+$/, "");
      if (option.kind === "terms") {
        input.value = words + option.value;
        close();
        form.submit();
        return;
      }
      // A person or a place becomes a filter; the rest of the query stays.
      input.value = words.trim();
      var hidden = document.createElement("input");
      hidden.type = "hidden";
      hidden.name = FILTER_PARAM[option.kind];
      hidden.value = option.value;
      form.appendChild(hidden);
      close();
      form.submit();
    }

    function fetchSuggestions() {
      var prefix = currentWord();
      if (prefix.length < 2) {
        lastPrefix = null;
        close();
        return;
      }
      if (prefix === lastPrefix) return;
      lastPrefix = prefix;
      if (controller) controller.abort();
      controller = window.AbortController ? new AbortController() : null;
      fetch(url + "?q=" + encodeURIComponent(prefix), {
        headers: { Accept: "application/json" },
        signal: controller ? controller.signal : undefined,
      })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (data && currentWord() === prefix && document.activeElement === input) render(data);
        })
        .catch(function () { /* suggestions are optional: stay silent */ });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(fetchSuggestions, 120);
    });
    input.addEventListener("keydown", function (e) {
      if (list.hidden) {
        if (e.key === "ArrowDown" && currentWord().length >= 2) {
          lastPrefix = null;
          fetchSuggestions();
        }
        return;
      }
      if (e.key === "ArrowDown") {
        e.preventDefault();
        setActive(active + 1 < options.length ? active + 1 : 0);
      } else if (e.key === "ArrowUp") {
        e.preventDefault();
        setActive(active > 0 ? active - 1 : options.length - 1);
      } else if (e.key === "Enter" && active >= 0) {
        e.preventDefault();
        choose(options[active]);
      } else if (e.key === "Escape") {
        e.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", function () {
      setTimeout(close, 100);
    });
  }

  // ------------------------------------------------------------ facet filter boxes

  function setupFacetFilter(box) {
    var section = box.closest(".facet");
    var field = box.querySelector("input");
    var details = section.querySelector("details");
    box.hidden = false;
    field.addEventListener("input", function () {
      var needle = fold(field.value.trim());
      section.querySelectorAll(".facet-item").forEach(function (a) {
        // The value and its label (a language's name: « anglais (en) »).
        var label = a.querySelector(".facet-value");
        var text = (a.getAttribute("data-value") || "") + " " + (label ? label.textContent : "");
        var match = !needle || fold(text).indexOf(needle) !== -1;
        a.parentElement.hidden = !match;
      });
      if (details && needle) details.open = true;
    });
  }

  // ------------------------------------------------------------ filters drawer (phones)
  // Below 700 px the facet column opens from the top of the results, as a modal drawer:
  // « Filtres (N) » opens it, Échap or « Fermer » closes it, Tab stays inside while open.
  // Without this script the filters simply follow the results.

  var FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), summary, [tabindex]:not([tabindex="-1"])';

  function setupDrawer(button) {
    var drawer = document.getElementById(button.getAttribute("aria-controls"));
    if (!drawer || !window.matchMedia) return;
    var closeButton = drawer.querySelector(".drawer-close");
    var narrow = window.matchMedia("(max-width: 699.98px)");
    var backdrop = document.createElement("div");
    backdrop.className = "drawer-backdrop";
    drawer.parentNode.insertBefore(backdrop, drawer);
    document.documentElement.classList.add("has-drawer");
    // Transitions from the next frames on: set at once, the closed drawer would slide up over the page.
    window.requestAnimationFrame(function () {
      window.requestAnimationFrame(function () { document.documentElement.classList.add("drawer-ready"); });
    });
    button.hidden = false;
    if (closeButton) closeButton.hidden = false;

    function isOpen() { return drawer.classList.contains("is-open"); }

    function focusable() {
      return Array.prototype.filter.call(drawer.querySelectorAll(FOCUSABLE), function (el) {
        return el.offsetParent !== null || el === document.activeElement;
      });
    }

    function open() {
      drawer.classList.add("is-open");
      backdrop.classList.add("is-open");
      drawer.setAttribute("role", "dialog");
      drawer.setAttribute("aria-modal", "true");
      button.setAttribute("aria-expanded", "true");
      (closeButton || focusable()[0] || drawer).focus();
    }

    function close(restoreFocus) {
      if (!isOpen()) return;
      drawer.classList.remove("is-open");
      backdrop.classList.remove("is-open");
      drawer.removeAttribute("role");
      drawer.removeAttribute("aria-modal");
      button.setAttribute("aria-expanded", "false");
      if (restoreFocus) button.focus();
    }

    button.addEventListener("click", function () {
      if (isOpen()) close(true);
      else open();
    });
    if (closeButton) closeButton.addEventListener("click", function () { close(true); });
    backdrop.addEventListener("click", function () { close(true); });
    document.addEventListener("keydown", function (e) {
      if (!isOpen()) return;
      if (e.key === "Escape") {
        e.preventDefault();
        close(true);
      } else if (e.key === "Tab") {
        var items = focusable();
        if (!items.length) return;
        var first = items[0], last = items[items.length - 1];
        var inside = drawer.contains(document.activeElement);
        if (e.shiftKey && (document.activeElement === first || !inside)) {
          e.preventDefault();
          last.focus();
        } else if (!e.shiftKey && (document.activeElement === last || !inside)) {
          e.preventDefault();
          first.focus();
        }
      }
    });
    var onChange = function (e) { if (!e.matches) close(false); };
    if (narrow.addEventListener) narrow.addEventListener("change", onChange);
    else if (narrow.addListener) narrow.addListener(onChange);
  }

  // ------------------------------------------------------------ « Du » / « Au »
  // The browser refuses an end before the start, with its own message, before anything is sent.

  function setupDateRange(form) {
    var from = form.querySelector('input[name="from"]');
    var to = form.querySelector('input[name="to"]');
    if (!from || !to) return;
    function bound() {
      to.min = from.value || from.getAttribute("min") || "";
      from.max = to.value || to.getAttribute("max") || "";
    }
    from.addEventListener("change", bound);
    to.addEventListener("change", bound);
    bound();
  }

  // ------------------------------------------------------------ histogram
  // On a phone a histogram wider than the screen scrolls sideways: bring the chosen bar into view,
  // or, with none chosen, the latest years or months (what a newsroom looks at first).

  function showChosenBar(box) {
    if (box.scrollWidth <= box.clientWidth) return;
    var chosen = box.querySelector(".histogram-link.is-selected");
    if (!chosen) {
      var figure = box.closest(".histogram");
      if (figure && figure.getAttribute("data-grain") !== "day") box.scrollLeft = box.scrollWidth;
      return;
    }
    var offset = chosen.getBoundingClientRect().left - box.getBoundingClientRect().left;
    box.scrollLeft += offset - (box.clientWidth - chosen.offsetWidth) / 2;
  }

  function init() {
    var q = document.getElementById("q");
    if (q) setupAutocomplete(q);
    document.querySelectorAll(".facet-filter-box").forEach(setupFacetFilter);
    document.querySelectorAll(".filters-toggle").forEach(setupDrawer);
    document.querySelectorAll(".histogram-scroll").forEach(showChosenBar);
    document.querySelectorAll("form.date-range").forEach(setupDateRange);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
