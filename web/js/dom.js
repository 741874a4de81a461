// Small DOM helpers: elements are built with text nodes only (never innerHTML), so nothing
// a user typed can become markup.

/** `h("p", {class: "x", onclick: f}, "text", child, [more])`. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      el.className = value;
    } else if (key === "for") {
      el.htmlFor = value;
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key === "value" || key === "checked" || key === "selected") {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces an element's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let ids = 0;
/** A fresh id for label/aria pairs. */
export function uid(prefix = "f") {
  ids += 1;
  return `${prefix}-${ids}`;
}

/** A labelled form field: `field("Email", {type: "email", name: "email"})`. */
export function field(label, attrs = {}, hint) {
  const id = attrs.id || uid();
  const hintId = hint ? `${id}-hint` : undefined;
  const control = attrs.tag === "textarea"
    ? h("textarea", { ...attrs, tag: undefined, id, "aria-describedby": hintId })
    : attrs.tag === "select"
      ? h("select", { ...attrs, tag: undefined, options: undefined, id, "aria-describedby": hintId }, attrs.options || [])
      : h("input", { type: "text", ...attrs, id, "aria-describedby": hintId });
  const error = h("p", { class: "field-error", id: `${id}-error`, hidden: true });
  return {
    el: h("div", { class: "field" }, h("label", { for: id }, label), hint ? h("p", { class: "hint", id: hintId }, hint) : null, control, error),
    control,
    error,
  };
}

/** Tells screen readers something happened (a polite live region). */
export function announce(message) {
  const status = document.getElementById("status");
  if (!status) return;
  status.textContent = "";
  // A separate task, so that the same message twice is announced twice.
  setTimeout(() => { status.textContent = message; }, 50);
}

/** An alert box showing an error (or nothing). */
export function alertBox() {
  const el = h("div", { class: "alert", role: "alert", hidden: true });
  return {
    el,
    show(message) { el.textContent = message; el.hidden = !message; },
    clear() { el.textContent = ""; el.hidden = true; },
  };
}

/** The message of an API error: `detail`, or the field messages joined. */
export function errorText(err) {
  if (!err) return "";
  const body = err.body;
  if (body && typeof body === "object") {
    if (typeof body.detail === "string") return body.detail;
    const parts = [];
    for (const [key, messages] of Object.entries(body)) {
      const text = Array.isArray(messages) ? messages.join(" ") : JSON.stringify(messages);
      parts.push(key === "non_field_errors" ? text : `${key}: ${text}`);
    }
    if (parts.length) return parts.join("\n");
  }
  return err.message || String(err);
}

/** Seconds as `m:ss` (or `h:mm:ss`). */
export function clock(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${rest}` : `${minutes}:${rest}`;
}

/** A person's display name. */
export function personName(user) {
  if (!user) return "(deleted account)";
  const name = `${user.first_name || ""} ${user.last_name || ""}`.trim();
  return name || user.email || `User ${user.id}`;
}

/** A number as the server prints exact scores (`score_exact`): whole values without decimals. */
export function num(value) {
  if (typeof value !== "number") return String(value ?? "");
  return Number.isInteger(value) ? String(value) : String(Math.round(value * 100) / 100);
}

/** The page's heading, focused so that screen readers and keyboards start there. */
export function heading(text) {
  document.title = `${text} · TestIT`;
  return h("h1", { tabindex: "-1", class: "page-title" }, text);
}
