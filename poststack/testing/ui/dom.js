// Building DOM nodes without ever parsing a string as HTML.
//
// Everything the inbox shows comes from emails that anyone could have sent, so
// text always goes in through textContent and attributes through setAttribute:
// no innerHTML anywhere in the UI.

const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * Create an element: h("a", {href: "#x", class: "row"}, "text", childNode, [more]).
 * Attribute values of false, null or undefined are left out; true sets an empty attribute.
 * Keys starting with "on" attach event listeners.
 */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  setAttributes(node, attrs);
  append(node, children);
  return node;
}

function setAttributes(node, attrs) {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else {
      node.setAttribute(key, value === true ? "" : String(value));
    }
  }
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
}

/** Replace all children of a node. */
export function replaceChildren(node, ...children) {
  node.replaceChildren();
  append(node, children);
}

// Icons: 24×24 stroke paths (drawn for this UI), rendered as inline SVG elements.
const ICONS = {
  inbox: ["M3 13h5l2 3h4l2-3h5", "M5 5h14l2 8v6H3v-6z"],
  search: ["M11 18a7 7 0 1 0 0-14 7 7 0 0 0 0 14z", "M20 20l-4-4"],
  bolt: ["M13 2 4 14h7l-1 8 9-12h-7z"],
  trash: ["M4 7h16", "M9 7V4h6v3", "M6 7l1 13h10l1-13"],
  clock: ["M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z", "M12 7v5l3 2"],
  clip: [
    "M20 11.5 12 19.5a5 5 0 0 1-7-7l8-8a3.3 3.3 0 0 1 4.7 4.7l-8 8a1.7 1.7 0 0 1-2.4-2.4l7.3-7.3",
  ],
  download: ["M12 4v11", "M7 10l5 5 5-5", "M5 20h14"],
  back: ["M15 5l-7 7 7 7"],
  close: ["M6 6l12 12", "M18 6 6 18"],
  copy: ["M9 9h10v11H9z", "M5 15V4h10"],
  external: ["M14 4h6v6", "M20 4l-9 9", "M18 14v6H4V6h6"],
  desktop: ["M3 5h18v11H3z", "M8 20h8", "M12 16v4"],
  phone: ["M8 3h8v18H8z", "M11 18h2"],
  webhook: ["M9 8a3 3 0 1 1 4 2.8L16 16", "M6.5 13.5A3 3 0 1 0 9 18h6", "M15 18a3 3 0 1 0 1.5-5.6"],
  bounce: ["M4 12h9", "M9 7l-5 5 5 5", "M20 5v14"],
  flag: ["M5 21V4", "M5 4h11l-2 4 2 4H5"],
  mail: ["M3 6h18v12H3z", "M3 7l9 6 9-6"],
  plus: ["M12 5v14", "M5 12h14"],
  dot: ["M12 12h.01"],
};

/** An inline SVG icon by name; decorative (aria-hidden) unless a label is given. */
export function icon(name, label) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", `icon icon-${name}`);
  if (label) {
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", label);
  } else {
    svg.setAttribute("aria-hidden", "true");
  }
  for (const d of ICONS[name] ?? []) {
    const path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}
