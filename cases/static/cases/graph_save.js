// Saving a cytoscape picture as PNG or SVG, for the network picture
// (network.js) and the flow of the money (flow.js). The SVG is written here
// from the drawn positions and styles (cytoscape's SVG extension is GPL-3.0):
// node shapes, dashed borders, arrowheads per edge colour, labels of one or
// more lines in their own size and colour.
window.CasebridgeGraphSave = (function () {
  "use strict";

  function escape(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;")
      .replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }

  function n(value) { return Math.round(value * 10) / 10; }

  // Starts a download of `blob` as `name`.
  function download(blob, name) {
    var link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    window.setTimeout(function () { URL.revokeObjectURL(link.href); }, 10000);
  }

  // The PNG of `elements`, fitted first: cytoscape's `full` image clips
  // labels at its edges.
  function png(cy, elements, padding) {
    cy.fit(elements, padding);
    return cy.png({ output: "blob", scale: 2, bg: "#ffffff" });
  }

  function shape(node) {
    var p = node.position();
    var w = node.width() / 2;
    var h = node.height() / 2;
    var dash = node.style("border-style") === "dashed" ? ' stroke-dasharray="4 3"' : "";
    var paint = ' fill="' + node.style("background-color") + '" stroke="' +
      node.style("border-color") + '" stroke-width="' + parseFloat(node.style("border-width")) +
      '"' + dash;
    var name = node.style("shape");
    if (name === "ellipse") {
      return '<ellipse cx="' + n(p.x) + '" cy="' + n(p.y) + '" rx="' + n(w) + '" ry="' + n(h) + '"' + paint + "/>";
    }
    var points;
    if (name === "diamond") {
      points = [[0, -h], [w, 0], [0, h], [-w, 0]];
    } else if (name === "hexagon") {
      points = [[-w / 2, -h], [w / 2, -h], [w, 0], [w / 2, h], [-w / 2, h], [-w, 0]];
    }
    if (points) {
      return '<polygon points="' + points.map(function (q) {
        return n(p.x + q[0]) + "," + n(p.y + q[1]);
      }).join(" ") + '"' + paint + "/>";
    }
    var radius = name === "round-rectangle" ? 5 : 0;
    return '<rect x="' + n(p.x - w) + '" y="' + n(p.y - h) + '" width="' + n(2 * w) +
      '" height="' + n(2 * h) + '" rx="' + radius + '"' + paint + "/>";
  }

  // An element's label, each of its lines a <text>, in the element's own
  // font size and colour, haloed in white as on the canvas.
  function label(element, x, y) {
    var size = parseFloat(element.style("font-size"));
    var colour = element.style("color");
    return String(element.data("label") || "").split("\n").map(function (line, i) {
      return '<text x="' + n(x) + '" y="' + n(y + i * (size + 3)) + '" font-size="' + size +
        '" fill="' + colour + '" text-anchor="middle" paint-order="stroke" stroke="#ffffff" ' +
        'stroke-width="3">' + escape(line) + "</text>";
    }).join("");
  }

  // The SVG document of `elements` (a cytoscape collection), titled `title`.
  function svg(elements, title, fontFamily) {
    var box = elements.boundingBox({ includeLabels: true });
    var pad = 20;
    var parts = [];
    var markers = {};  // one arrowhead per edge colour, in user units
    elements.edges().forEach(function (edge) {
      var s = edge.sourceEndpoint();
      var e = edge.targetEndpoint();
      var control = edge.controlPoints();
      var d = "M" + n(s.x) + "," + n(s.y) + (control && control.length
        ? " Q" + n(control[0].x) + "," + n(control[0].y) + " " : " L") + n(e.x) + "," + n(e.y);
      var colour = edge.style("line-color");
      var dash = edge.style("line-style") === "dashed" ? ' stroke-dasharray="6 4"' : "";
      var arrow = "";
      if (edge.style("target-arrow-shape") !== "none") {
        markers[colour] = markers[colour] || "cb-arrow-" + Object.keys(markers).length;
        arrow = ' marker-end="url(#' + markers[colour] + ')"';
      }
      parts.push('<path d="' + d + '" fill="none" stroke="' + colour + '" stroke-width="' +
        parseFloat(edge.style("width")) + '"' + dash + arrow + "/>");
      var mid = edge.midpoint();
      parts.push(label(edge, mid.x, mid.y - 3));
    });
    elements.nodes().forEach(function (node) {
      var p = node.position();
      parts.push(shape(node));
      parts.push(label(node, p.x, p.y + node.height() / 2 + 18));
    });
    var defs = Object.keys(markers).map(function (colour) {
      return '<marker id="' + markers[colour] + '" viewBox="0 0 10 10" refX="10" refY="5" ' +
        'markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto">' +
        '<path d="M0,0 L10,5 L0,10 z" fill="' + colour + '"/></marker>';
    }).join("");
    var x = n(box.x1 - pad);
    var y = n(box.y1 - pad);
    var w = n(box.w + 2 * pad);
    var h = n(box.h + 2 * pad);
    return '<?xml version="1.0" encoding="UTF-8"?>\n' +
      '<svg xmlns="http://www.w3.org/2000/svg" viewBox="' + x + " " + y + " " + w + " " + h +
      '" width="' + w + '" height="' + h + '" font-family="' + escape(fontFamily) + '">\n' +
      "<title>" + escape(title) + "</title>\n<defs>" + defs + "</defs>\n" +
      '<rect x="' + x + '" y="' + y + '" width="' + w + '" height="' + h + '" fill="#ffffff"/>\n' +
      parts.join("\n") + "\n</svg>\n";
  }

  return { download: download, png: png, svg: svg };
})();
