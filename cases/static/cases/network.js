// The picture of a case's network in the workspace's Network tab: drawn with
// the vendored cytoscape.js from GET /api/v1/cases/{id}/graph/ (the session
// signs the request), when the tab is first shown. Filters by kind, "Expand
// one hop" from the selected node (the same URL with ?expand=), save as PNG
// and SVG (graph_save.js, shared with the flow view). Every word
// shown comes translated from #cb-graph-strings; names come from the data.
(function () {
  "use strict";
  var root = document.getElementById("cb-graph");
  var canvas = document.getElementById("cb-graph-canvas");
  var words = document.getElementById("cb-graph-strings");
  var save = window.CasebridgeGraphSave;
  if (!root || !canvas || !words || typeof window.cytoscape !== "function" || !save) { return; }
  var t = JSON.parse(words.textContent);
  var panel = root.closest("[data-cb-panel]");
  var status = document.getElementById("cb-graph-status");
  var details = document.getElementById("cb-graph-details");
  var expandButton = document.getElementById("cb-graph-expand");
  var language = root.getAttribute("data-cb-language") || "en";
  var numbers = new Intl.NumberFormat(language, { maximumFractionDigits: 2 });
  var fontFamily = window.getComputedStyle(document.body).fontFamily || "sans-serif";
  var cy = null;
  var requested = false;

  function format(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (_, name) {
      return values[name] === undefined ? "" : String(values[name]);
    });
  }

  function say(text) { status.textContent = text; }

  // --- what the API says, as cytoscape elements ----------------------------------

  // The filter a node or an edge answers to (GraphKind in cases/choices.py).
  function filterKind(item) {
    if (item.type === "identifier") { return "identifier"; }
    if (item.type === "entity" || item.type === "case") { return item.kind; }
    return item.type === "held_in" ? "case" : item.type;
  }

  function nodeElement(node) {
    var group = node.type === "identifier" ? "identifier-" + node.kind : node.kind;
    var classes = [node.type, group, "kind-" + filterKind(node)];
    if (!node.on_case) { classes.push("elsewhere"); }
    if (node.role) { classes.push("role-" + node.role); }
    var label = node.label;
    if (node.type === "identifier" && label.length > 18) {
      label = label.slice(0, 8) + "…" + label.slice(-6);
    }
    return { group: "nodes", classes: classes.join(" "), data: {
      id: node.id, label: label, api: node } };
  }

  function edgeLabel(edge) {
    if (edge.type === "transaction") {
      return format(t.transactions, {
        count: numbers.format(edge.count), total: numbers.format(Number(edge.total)),
        currency: edge.currency });
    }
    if (edge.type === "held_in") { return t.held_in; }
    return t.link_kinds[edge.kind] || edge.kind;
  }

  function edgeElement(edge) {
    return { group: "edges", classes: [edge.type, "kind-" + filterKind(edge)].join(" "), data: {
      id: edge.id, source: edge.source, target: edge.target, label: edgeLabel(edge),
      api: edge, width: 2 } };
  }

  // Money edges are as wide as their total against the largest total of the
  // same currency in the picture (log scale: KRW and USDT never compared).
  function sizeMoney() {
    var largest = {};
    cy.edges(".transaction").forEach(function (e) {
      var api = e.data("api");
      largest[api.currency] = Math.max(largest[api.currency] || 0, Number(api.total));
    });
    cy.edges(".transaction").forEach(function (e) {
      var api = e.data("api");
      var share = Math.log1p(Number(api.total)) / Math.log1p(largest[api.currency] || 1);
      e.data("width", 2 + 10 * (isFinite(share) ? share : 0));
    });
  }

  var STYLE = [
    { selector: "node", style: {
      "label": "data(label)", "font-family": fontFamily, "font-size": 15, "color": "#1f2933",
      "text-valign": "bottom", "text-margin-y": 4, "text-wrap": "wrap", "text-max-width": 180,
      "width": 38, "height": 38, "background-color": "#7b8794", "border-width": 2,
      "border-color": "#ffffff", "text-background-color": "#ffffff",
      "text-background-opacity": 0.8, "text-background-padding": 1 } },
    { selector: "node.person", style: { "shape": "ellipse", "background-color": "#2f6db5" } },
    { selector: "node.role-suspect", style: { "background-color": "#1b3f73" } },
    { selector: "node.role-victim", style: { "border-color": "#c62828", "border-width": 3 } },
    { selector: "node.organisation", style: {
      "shape": "round-rectangle", "width": 46, "background-color": "#7b4fb0" } },
    { selector: "node.place", style: { "shape": "diamond", "background-color": "#2e8540" } },
    { selector: "node.identifier", style: {
      "shape": "round-rectangle", "width": 32, "height": 32, "background-color": "#8a6d3b",
      "font-family": "monospace, " + fontFamily } },
    { selector: "node.identifier-crypto_wallet", style: {
      "shape": "hexagon", "background-color": "#e08a00" } },
    { selector: "node.identifier-bank_account, node.identifier-iban", style: {
      "background-color": "#00897b" } },
    { selector: "node.case", style: {
      "shape": "rectangle", "width": 54, "height": 40, "background-color": "#3e4c59",
      "font-weight": "bold" } },
    { selector: "node.elsewhere", style: { "border-color": "#3e4c59", "border-style": "dashed" } },
    { selector: "node:selected", style: { "border-color": "#ffb300", "border-width": 4 } },
    { selector: "edge", style: {
      "width": "data(width)", "curve-style": "bezier", "line-color": "#9aa5b1",
      "target-arrow-shape": "triangle", "target-arrow-color": "#9aa5b1", "arrow-scale": 0.9,
      "label": "data(label)", "font-family": fontFamily, "font-size": 12, "color": "#52606d",
      "text-rotation": "autorotate", "text-background-color": "#ffffff",
      "text-background-opacity": 0.85, "text-background-padding": 1 } },
    { selector: "edge.transaction", style: {
      "line-color": "#d97706", "target-arrow-color": "#d97706", "color": "#92400e" } },
    { selector: "edge.held_in", style: {
      "line-style": "dashed", "target-arrow-shape": "none", "line-color": "#3e4c59" } },
    { selector: ".hidden", style: { "display": "none" } }
  ];

  // --- drawing ------------------------------------------------------------------------

  function add(body) {
    var before = { nodes: cy.nodes().length, edges: cy.edges().length };
    var fresh = [];
    body.nodes.forEach(function (n) {
      if (cy.getElementById(n.id).empty()) { fresh.push(nodeElement(n)); }
    });
    body.edges.forEach(function (e) {
      if (cy.getElementById(e.id).empty()) { fresh.push(edgeElement(e)); }
    });
    var added = cy.add(fresh);
    sizeMoney();
    applyFilters();
    return { nodes: cy.nodes().length - before.nodes, edges: cy.edges().length - before.edges,
      elements: added };
  }

  function layout(randomize) {
    cy.layout({ name: "cose", animate: false, fit: true, padding: 40, randomize: randomize,
      nodeRepulsion: function () { return 20000; }, idealEdgeLength: function () { return 80; },
      nodeOverlap: 20, gravity: 1,
      componentSpacing: 100, numIter: 1500 }).run();
  }

  // New nodes of an expansion start around the node they hang from, so that
  // the layout moves the picture on from where the analyst was looking.
  function placeAround(center, added) {
    var p = center.position();
    added.forEach(function (node, index) {
      var angle = 2 * Math.PI * index / Math.max(1, added.length);
      node.position({ x: p.x + 120 * Math.cos(angle), y: p.y + 120 * Math.sin(angle) });
    });
  }

  function showing() { return cy.elements().not(".hidden"); }

  function shown() {
    var nodes = showing().nodes().length;
    var edges = showing().edges().length;
    root.setAttribute("data-cb-nodes", String(nodes));
    root.setAttribute("data-cb-edges", String(edges));
    return { nodes: nodes, edges: edges };
  }

  // A node shows when its kind is asked for; an edge, when its kind is and
  // both of its ends show (a class, not cytoscape's :visible, so that the
  // counts, the fit and the SVG read one answer).
  function applyFilters() {
    var wanted = {};
    Array.prototype.forEach.call(root.querySelectorAll("input[name=kinds]"), function (box) {
      wanted[box.value] = box.checked;
    });
    cy.batch(function () {
      cy.nodes().forEach(function (node) {
        node.toggleClass("hidden", !wanted[filterKind(node.data("api"))]);
      });
      cy.edges().forEach(function (edge) {
        edge.toggleClass("hidden", !wanted[filterKind(edge.data("api"))] ||
          edge.source().hasClass("hidden") || edge.target().hasClass("hidden"));
      });
    });
    shown();
  }

  function describe(node) {
    var api = node.data("api");
    var rows = [];
    var kind = api.type === "entity" ? t.entity_kinds[api.kind]
      : api.type === "identifier" ? t.identifier_kinds[api.kind] : t.case;
    rows.push([t.kind, kind || api.kind]);
    if (api.role) { rows.push([t.role, t.roles[api.role] || api.role]); }
    if (api.agency) { rows.push([t.agency, api.agency]); }
    if (api.handling_code) { rows.push([t.handling_code, t.handling[api.handling_code] || api.handling_code]); }
    if (api.title) { rows.push([t.case, api.title]); }
    if (!api.on_case) { rows.push([t.other_case, ""]); }
    if (api.more_cases) { rows.push([t.more_cases, ""]); }
    details.textContent = "";
    var title = document.createElement("dt");
    title.className = "cb-graph-title";
    title.textContent = api.label;
    details.appendChild(title);
    details.appendChild(document.createElement("dd"));
    rows.forEach(function (row) {
      var dt = document.createElement("dt");
      dt.textContent = row[0];
      var dd = document.createElement("dd");
      dd.textContent = row[1];
      details.appendChild(dt);
      details.appendChild(dd);
    });
    details.hidden = false;
  }

  function select(node) {
    var api = node.data("api");
    describe(node);
    expandButton.disabled = api.type === "case";
    expandButton.setAttribute("data-cb-node", api.id);
    say(api.type === "case" ? t.not_expandable : format(t.selected, { label: api.label }));
    // The flow view (flow.js) follows the money from the node selected here.
    root.dispatchEvent(new CustomEvent("cb-graph-select", { detail: api }));
  }

  function get(params) {
    var url = root.getAttribute("data-cb-src") + (params || "");
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      });
  }

  function start() {
    if (requested) { return; }
    requested = true;
    say(t.loading);
    // Khmer and Hangul faces load by unicode-range: ask for them before the
    // canvas draws its labels (a canvas does not redraw when a font arrives).
    var fonts = document.fonts ? Promise.all([
      document.fonts.load("11px " + fontFamily, "ក"), document.fonts.load("11px " + fontFamily, "한")
    ]).catch(function () { return null; }) : Promise.resolve();
    Promise.all([get(""), fonts]).then(function (results) {
      cy = window.cytoscape({ container: canvas, style: STYLE, wheelSensitivity: 0.3,
        minZoom: 0.2, maxZoom: 2 });
      canvas.cbGraph = cy;  // for the browser tests: where a node is drawn
      add(results[0]);
      layout(true);
      cy.on("tap", "node", function (event) { select(event.target); });
      var counts = shown();
      var message = counts.nodes ? format(t.shown, counts) + " " + t.pick : t.empty;
      say(results[0].truncated ? message + " " + t.truncated : message);
      root.setAttribute("data-cb-ready", "");
    }).catch(function () {
      requested = false;
      say(t.failed);
    });
  }

  expandButton.addEventListener("click", function () {
    var id = expandButton.getAttribute("data-cb-node");
    if (!cy || !id) { return; }
    expandButton.disabled = true;
    say(t.expanding);
    get("?expand=" + encodeURIComponent(id)).then(function (body) {
      var added = add(body);
      var from = cy.getElementById(body.expanded || id);
      if (added.nodes && from.nonempty()) {
        placeAround(from, added.elements.nodes());
        layout(false);
        from.select();
      }
      var message = added.nodes || added.edges ? format(t.expanded, added) : t.nothing_more;
      say(body.truncated ? message + " " + t.truncated : message);
      root.setAttribute("data-cb-expanded", id);
    }).catch(function () {
      say(t.failed);
    }).then(function () {
      expandButton.disabled = false;
    });
  });

  root.addEventListener("change", function (event) {
    if (cy && event.target.name === "kinds") {
      applyFilters();
      var counts = shown();
      say(format(t.shown, counts));
    }
  });

  document.getElementById("cb-graph-fit").addEventListener("click", function () {
    if (cy) { cy.fit(showing(), 30); }
  });

  // --- saving ---------------------------------------------------------------------------

  function fileName(extension) {
    return "network-" + (root.getAttribute("data-cb-name") || "case") + "." + extension;
  }

  function download(blob, extension) {
    var name = fileName(extension);
    save.download(blob, name);
    say(format(t.saved, { file: name }));
  }

  document.getElementById("cb-graph-png").addEventListener("click", function () {
    if (cy) { download(save.png(cy, showing(), 40), "png"); }
  });

  document.getElementById("cb-graph-svg").addEventListener("click", function () {
    if (cy) {
      download(new Blob([save.svg(showing(), fileName("svg"), fontFamily)],
        { type: "image/svg+xml" }), "svg");
    }
  });

  // --- shown with its tab ---------------------------------------------------------------

  function visible() { return !panel || !panel.hidden; }
  function onShow() {
    if (!visible()) { return; }
    if (!cy) { start(); return; }
    cy.resize();
    cy.fit(showing(), 30);
  }
  if (panel) {
    new MutationObserver(onShow).observe(panel, { attributes: true, attributeFilter: ["hidden"] });
  }
  onShow();
})();
