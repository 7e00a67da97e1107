"use strict";
// kubelink's status page: every link and its drift timeline, refreshed from the JSON routes without a reload.
// The function key the page was opened with (?code=) goes along on every fetch, as x-functions-key.
const params = new URLSearchParams(location.search);
const key = params.get("code");
const refreshSeconds = Math.max(1, Number(params.get("refresh")) || 10);
const SVG = "http://www.w3.org/2000/svg";
const KIND_COLOURS = { config: "#d97706", connectivity: "#cf222e" };
const WIDTH = 900, LABEL_WIDTH = 350, LANE_HEIGHT = 22, AXIS_HEIGHT = 22, DRIFT_PAGE = 200;

async function api(path) {
  const response = await fetch(new URL(path, location.href), {
    headers: key ? { "x-functions-key": key } : {},
    cache: "no-store",
  });
  if (!response.ok) throw new Error(`GET ${path} answered ${response.status}`);
  return response.json();
}

function element(name, attributes = {}, text = "") {
  const node = document.createElement(name);
  for (const [attribute, value] of Object.entries(attributes)) node.setAttribute(attribute, value);
  if (text) node.textContent = text;
  return node;
}

function svgElement(name, attributes = {}, text = "") {
  const node = document.createElementNS(SVG, name);
  for (const [attribute, value] of Object.entries(attributes)) node.setAttribute(attribute, String(value));
  if (text) node.textContent = text;
  return node;
}

const show = (value) => (value === null || value === undefined ? "—" : typeof value === "string" ? value : JSON.stringify(value));
const fieldName = (field) => (Array.isArray(field) ? field.join(".") : String(field));
// A lane's label: the resource's last two segments (an ARM id's type and name), or the probe's path, and the field.
function shortResource(resource) {
  if (/^https?:/.test(resource)) return `GET ${new URL(resource).pathname}`;
  return resource.split("/").filter(Boolean).slice(-2).join("/");
}
const laneOf = (record) => {
  const lane = `${shortResource(record.resource)} · ${fieldName(record.field)}`;
  return lane.length > 50 ? `…${lane.slice(-49)}` : lane;
};
const clock = (ms) => new Date(ms).toISOString().replace("T", " ").slice(0, 19) + "Z";

// Detections over time, one lane per resource field; a dashed line marks the last verification.
function timeline(link, drift) {
  const now = Date.now();
  const times = drift.map((record) => Date.parse(record.detectedAt));
  const earliest = Math.min(now - 60_000, ...times, ...[link.lastProvisioned, link.lastVerified].filter(Boolean).map(Date.parse));
  const start = earliest - (now - earliest) * 0.03; // a margin, so the first detection clears the labels
  const lanes = [...new Set(drift.slice().reverse().map(laneOf))];
  const height = AXIS_HEIGHT + Math.max(1, lanes.length) * LANE_HEIGHT;
  const x = (ms) => LABEL_WIDTH + ((ms - start) / Math.max(1, now - start)) * (WIDTH - LABEL_WIDTH - 12);
  const svg = svgElement("svg", { class: "timeline", viewBox: `0 0 ${WIDTH} ${height}`, width: "100%", role: "img",
    "aria-label": `drift timeline of ${link.name}: ${drift.length} detections` });
  lanes.forEach((lane, index) => {
    const y = AXIS_HEIGHT + index * LANE_HEIGHT + LANE_HEIGHT / 2;
    svg.append(svgElement("line", { class: "lane", x1: LABEL_WIDTH, x2: WIDTH - 6, y1: y, y2: y }));
    svg.append(svgElement("text", { x: LABEL_WIDTH - 8, y: y + 4, "text-anchor": "end" }, lane));
  });
  if (!lanes.length) {
    svg.append(svgElement("text", { x: LABEL_WIDTH, y: AXIS_HEIGHT + 15, class: "empty" }, "no drift recorded"));
  }
  for (const fraction of [0, 0.5, 1]) {
    const ms = start + fraction * (now - start);
    const anchor = fraction === 0 ? "start" : fraction === 1 ? "end" : "middle";
    svg.append(svgElement("text", { x: x(ms), y: 12, "text-anchor": anchor }, clock(ms)));
  }
  if (link.lastVerified) {
    const at = x(Date.parse(link.lastVerified));
    svg.append(svgElement("line", { class: "verified", x1: at, x2: at, y1: AXIS_HEIGHT - 6, y2: height }));
  }
  drift.forEach((record, index) => {
    const lane = lanes.indexOf(laneOf(record));
    const mark = svgElement("circle", {
      class: "detection", cx: x(times[index]), cy: AXIS_HEIGHT + lane * LANE_HEIGHT + LANE_HEIGHT / 2, r: 5,
      fill: KIND_COLOURS[record.kind] || "#6e7781", stroke: record.remediated ? "#1a7f37" : "none", "stroke-width": 2,
      "data-field": fieldName(record.field), "data-kind": record.kind, "data-detected-at": record.detectedAt,
    });
    mark.append(svgElement("title", {}, `${record.detectedAt} ${record.kind}: ${record.resource} ${fieldName(record.field)} ` +
      `expected ${show(record.expected)}, actual ${show(record.actual)}${record.remediated ? " (remediated)" : ""}`));
    svg.append(mark);
  });
  return svg;
}

function linkCard(link, drift) {
  const ready = (link.conditions || []).find((c) => c.type === "Ready") || { status: "Unknown", reason: "", message: "" };
  const card = element("section", { class: "link", "data-link": link.name });
  const title = element("h2", {}, link.name);
  title.append(element("span", { class: `ready ${ready.status}`, title: ready.message }, `Ready ${ready.status}`));
  card.append(title);
  const facts = element("dl");
  for (const [label, value, name] of [
    ["Path", (link.spec && link.spec.integration) || "gateway", "path"],
    ["Private address", link.privateAddress || "—", "address"],
    ["Ready", `${ready.status} ${ready.reason}: ${ready.message}`, "condition"],
    ["Last verified", link.lastVerified || "never", "verified"],
    ["Last provisioned", link.lastProvisioned || "never", "provisioned"],
    ["Drift detections", String(drift.length), "detections"],
  ]) {
    facts.append(element("dt", {}, label), element("dd", { "data-fact": name }, value));
  }
  for (const warning of (link.conditions || []).filter((c) => c.type !== "Ready" && c.severity === "Warning")) {
    facts.append(element("dt", {}, warning.type), element("dd", { class: "warning" }, `${warning.reason}: ${warning.message}`));
  }
  const legend = element("p", { class: "legend" }, "Drift timeline: ");
  legend.append(element("span", { class: "dot config" }), " config  ", element("span", { class: "dot connectivity" }),
    " connectivity  ", element("span", { class: "dot remediated" }), " remediated  ", element("span", { class: "dash" }),
    " last verification");
  card.append(facts, timeline(link, drift), legend);
  return card;
}

async function refresh() {
  const status = document.getElementById("refreshed");
  try {
    const links = (await api("links")).value;
    const drifts = await Promise.all(links.map((link) =>
      api(`links/${encodeURIComponent(link.name)}/drift?top=${DRIFT_PAGE}`).then((body) => body.value)));
    const cards = links.map((link, index) => linkCard(link, drifts[index]));
    document.getElementById("links").replaceChildren(...(cards.length ? cards : [element("p", { class: "empty" }, "No links yet.")]));
    status.className = "";
    status.textContent = `${links.length} link${links.length === 1 ? "" : "s"} · updated ${clock(Date.now())} · every ${refreshSeconds} s`;
  } catch (error) {
    status.className = "failed";
    status.textContent = `Refresh failed: ${error.message} (retrying every ${refreshSeconds} s)`;
  } finally {
    setTimeout(refresh, refreshSeconds * 1000);
  }
}

refresh();
