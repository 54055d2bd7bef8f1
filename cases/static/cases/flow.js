// The flow of the money in the workspace's Network tab: from the account or
// wallet selected in the network picture (network.js tells us by the
// "cb-graph-select" event), GET /api/v1/trace/ and draw it left to right with
// the vendored cytoscape.js (one column per hop, edges sized by amount per
// currency), the paths with their totals, and each border: the deconfliction
// answer, "AGENCY holds a match (recorded DATE)" with "Request contact"
// (POST /api/v1/deconfliction/request-contact/, the session's CSRF token).
// Save as PNG or SVG. Words come translated from #cb-flow-strings.
(function () {
  "use strict";
  var root = document.getElementById("cb-flow");
  var graph = document.getElementById("cb-graph");
  var words = document.getElementById("cb-flow-strings");
  var save = window.CasebridgeGraphSave;
  if (!root || !graph || !words || typeof window.cytoscape !== "function" || !save) { return; }
  var t = JSON.parse(words.textContent);
  var language = graph.getAttribute("data-cb-language") || "en";
  var numbers = new Intl.NumberFormat(language, { maximumFractionDigits: 2 });
  var fontFamily = window.getComputedStyle(document.body).fontFamily || "sans-serif";
  var status = document.getElementById("cb-flow-status");
  var follow = document.getElementById("cb-flow-follow");
  var hops = document.getElementById("cb-flow-hops");
  var result = document.getElementById("cb-flow-result");
  var canvas = document.getElementById("cb-flow-canvas");
  var bordersList = document.getElementById("cb-flow-borders");
  var pathsList = document.getElementById("cb-flow-paths");
  var pngButton = document.getElementById("cb-flow-png");
  var svgButton = document.getElementById("cb-flow-svg");
  var cy = null;
  var selected = null;

  function format(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (_, name) {
      return values[name] === undefined ? "" : String(values[name]);
    });
  }
  function say(text) { status.textContent = text; }
  function short(value) { return value.length > 18 ? value.slice(0, 8) + "…" + value.slice(-6) : value; }
  function amount(value, currency) { return numbers.format(Number(value)) + " " + currency; }
  function csrf() {
    var field = root.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  graph.addEventListener("cb-graph-select", function (event) {
    var api = event.detail;
    var money = api.type === "identifier" && t.money_kinds.indexOf(api.kind) !== -1;
    selected = money ? api : null;
    follow.disabled = !money;
    follow.setAttribute("data-cb-node", money ? api.id : "");
    say(money ? format(t.ready, { label: api.label }) : t.not_money);
  });

  // --- the picture: one column per hop, money edges per (from, to, currency) ------

  var STYLE = [
    { selector: "node", style: {
      "label": "data(label)", "font-family": fontFamily, "font-size": 14, "color": "#1f2933",
      "text-valign": "bottom", "text-margin-y": 4, "text-wrap": "wrap", "text-max-width": 200,
      "width": 34, "height": 34, "shape": "round-rectangle", "background-color": "#00897b",
      "border-width": 2, "border-color": "#ffffff", "text-background-color": "#ffffff",
      "text-background-opacity": 0.85, "text-background-padding": 1 } },
    { selector: "node.crypto_wallet", style: { "shape": "hexagon", "background-color": "#e08a00" } },
    { selector: "node.origin", style: { "border-color": "#1b3f73", "border-width": 4 } },
    { selector: "node.border", style: {
      "border-color": "#c62828", "border-width": 4, "border-style": "dashed", "color": "#8e1b1b" } },
    { selector: "edge", style: {
      "width": "data(width)", "curve-style": "bezier", "line-color": "#d97706",
      "target-arrow-shape": "triangle", "target-arrow-color": "#d97706", "arrow-scale": 0.9,
      "label": "data(label)", "font-family": fontFamily, "font-size": 13, "color": "#92400e",
      "text-background-color": "#ffffff", "text-background-opacity": 0.9,
      "text-background-padding": 2, "text-margin-y": -10 } }
  ];

  function draw(body) {
    var borders = {};
    body.borders.forEach(function (b) { (borders[b.at] = borders[b.at] || []).push(b); });
    var byId = {};
    body.nodes.forEach(function (n) { byId[n.id] = n; });
    // Columns: the fewest hops from the origin.
    var depth = {};
    depth[body.from] = 0;
    var changed = true;
    while (changed) {
      changed = false;
      body.edges.forEach(function (e) {
        if (depth[e.from] !== undefined && (depth[e.to] === undefined || depth[e.to] > depth[e.from] + 1)) {
          depth[e.to] = depth[e.from] + 1;
          changed = true;
        }
      });
    }
    var columns = {};
    var elements = [];
    body.nodes.forEach(function (n) {
      var d = depth[n.id] === undefined ? 0 : depth[n.id];
      var row = (columns[d] = (columns[d] || 0) + 1) - 1;
      var label = short(n.value);
      var classes = [n.kind];
      if (n.id === body.from) { classes.push("origin"); label = t.origin + ": " + label; }
      if (borders[n.id]) {
        classes.push("border");
        label += "\n" + borders[n.id].map(function (b) {
          return format(t.holds, { agency: b.agency, date: b.first_recorded });
        }).join("\n");
      }
      elements.push({ group: "nodes", classes: classes.join(" "),
        data: { id: n.id, label: label, api: n }, position: { x: 400 * d, y: 150 * row } });
    });
    // Centre each column on the origin's row.
    elements.forEach(function (el) {
      var d = el.position.x / 400;
      el.position.y -= 75 * (columns[d] - 1);
    });
    var grouped = {};
    body.edges.forEach(function (e) {
      var key = e.from + ">" + e.to + ">" + e.currency;
      var g = grouped[key] = grouped[key] || { from: e.from, to: e.to, currency: e.currency, total: 0, count: 0 };
      g.total += Number(e.amount);
      g.count += 1;
    });
    var largest = {};
    Object.keys(grouped).forEach(function (k) {
      var g = grouped[k];
      largest[g.currency] = Math.max(largest[g.currency] || 0, g.total);
    });
    Object.keys(grouped).forEach(function (k, i) {
      var g = grouped[k];
      var share = Math.log1p(g.total) / Math.log1p(largest[g.currency] || 1);
      elements.push({ group: "edges", data: { id: "flow-" + i, source: g.from, target: g.to,
        width: 2 + 10 * (isFinite(share) ? share : 0),
        label: format(t.transactions, { count: numbers.format(g.count),
          total: numbers.format(g.total), currency: g.currency }) } });
    });
    if (cy) { cy.destroy(); }
    result.hidden = false;
    cy = window.cytoscape({ container: canvas, style: STYLE, elements: elements,
      layout: { name: "preset", fit: true, padding: 60 }, minZoom: 0.2, maxZoom: 1.5,
      wheelSensitivity: 0.3 });
    canvas.cbFlow = cy;  // for the browser tests
    cy.fit(cy.elements(), 60);
    listPaths(body, byId);
    listBorders(body, byId);
    pngButton.disabled = false;
    svgButton.disabled = false;
  }

  function listPaths(body, byId) {
    pathsList.textContent = "";
    if (!body.paths.length) {
      var none = document.createElement("li");
      none.textContent = t.no_paths;
      pathsList.appendChild(none);
    }
    body.paths.forEach(function (path) {
      var item = document.createElement("li");
      item.className = "cb-flow-path";
      var trail = document.createElement("span");
      trail.className = "cb-flow-trail";
      trail.textContent = path.nodes.map(function (id) {
        return byId[id] ? short(byId[id].value) : "?";
      }).join(" → ");
      var totals = document.createElement("strong");
      totals.className = "cb-flow-totals";
      totals.textContent = Object.keys(path.totals).map(function (currency) {
        return amount(path.totals[currency], currency);
      }).join(", ");
      item.appendChild(trail);
      item.appendChild(document.createTextNode(": "));
      item.appendChild(totals);
      pathsList.appendChild(item);
    });
  }

  function listBorders(body, byId) {
    bordersList.textContent = "";
    body.borders.forEach(function (border) {
      var item = document.createElement("li");
      item.className = "cb-flow-border";
      item.setAttribute("data-cb-agency", border.agency);
      var text = document.createElement("span");
      text.textContent = format(t.holds, { agency: border.agency,
        date: border.first_recorded }) + " " +
        format(t.at, { label: byId[border.at] ? short(byId[border.at].value) : "" }) + " — ";
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button cb-flow-contact";
      button.textContent = t.request;
      var answer = document.createElement("span");
      answer.className = "cb-flow-answer";
      answer.setAttribute("aria-live", "polite");
      button.addEventListener("click", function () { requestContact(border, button, answer); });
      item.appendChild(text);
      item.appendChild(button);
      item.appendChild(answer);
      bordersList.appendChild(item);
    });
  }

  function requestContact(border, button, answer) {
    button.disabled = true;
    answer.className = "cb-flow-answer";
    answer.textContent = " " + t.requesting;
    fetch(root.getAttribute("data-cb-contact"), {
      method: "POST", credentials: "same-origin",
      headers: { "Accept": "application/json", "Content-Type": "application/json",
        "X-CSRFToken": csrf() },
      body: JSON.stringify({ token: border.contact_token })
    }).then(function (response) {
      if (response.status === 201) {
        answer.className = "cb-flow-answer cb-flow-ok";
        answer.textContent = " " + format(t.requested, { agency: border.agency });
        answer.setAttribute("data-cb-done", "");
        return;
      }
      answer.className = "cb-flow-answer cb-flow-error";
      answer.textContent = " " + (response.status === 409 ? t.already
        : response.status === 429 ? t.rate_limited : t.refused);
      if (response.status !== 409) { button.disabled = false; }
    }).catch(function () {
      answer.className = "cb-flow-answer cb-flow-error";
      answer.textContent = " " + t.refused;
      button.disabled = false;
    });
  }

  follow.addEventListener("click", function () {
    if (!selected) { return; }
    var from = selected.id.split(":")[1];
    follow.disabled = true;
    say(t.tracing);
    var url = root.getAttribute("data-cb-src") + "?from=" + encodeURIComponent(from) +
      "&hops=" + encodeURIComponent(hops.value);
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (response.status === 429) { throw new Error("429"); }
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      }).then(function (body) {
        draw(body);
        var message = body.edges.length
          ? format(t.traced, { nodes: numbers.format(body.nodes.length - 1),
            edges: numbers.format(body.edges.length) }) : t.nothing;
        say(body.truncated ? message + " " + t.truncated : message);
        root.setAttribute("data-cb-traced", from);
        root.scrollIntoView({ block: "start" });
      }).catch(function (error) {
        say(error.message === "429" ? t.rate_limited : t.failed);
      }).then(function () { follow.disabled = !selected; });
  });

  // --- saving ------------------------------------------------------------------------

  function fileName(extension) {
    return "flow-" + (root.getAttribute("data-cb-name") || "case") + "." + extension;
  }

  function download(blob, extension) {
    var name = fileName(extension);
    save.download(blob, name);
    say(format(t.saved, { file: name }));
  }

  pngButton.addEventListener("click", function () {
    if (cy) { download(save.png(cy, cy.elements(), 60), "png"); }
  });

  svgButton.addEventListener("click", function () {
    if (cy) {
      download(new Blob([save.svg(cy.elements(), fileName("svg"), fontFamily)],
        { type: "image/svg+xml" }), "svg");
    }
  });
})();
