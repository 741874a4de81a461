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

/** `plural(1, "question")` → "1 question", `plural(2, "attempt")` → "2 attempts". */
export function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

/** Focuses the view's heading (after its content changed in place, as a view change). */
export function focusHeading(main) {
  main.querySelector("h1")?.focus({ preventScroll: true });
}

/**
 * A code editor's keyboard, as code editors on the web do it: Tab indents (Shift+Tab takes
 * an indent off the line) while editing; Esc, then Tab, leaves. Answers the hint to show
 * under the textarea, which also describes it to screen readers.
 */
export function codeEditor(textarea) {
  const id = textarea.id || uid("code");
  textarea.id = id;
  const hint = h("p", { class: "hint code-hint", id: `${id}-keys` },
    "Tab indents. To leave the editor with the keyboard, press Esc, then Tab.");
  const described = textarea.getAttribute("aria-describedby");
  textarea.setAttribute("aria-describedby", [described, hint.id].filter(Boolean).join(" "));
  let escaped = false;
  const insert = (text, start, end) => {
    textarea.setSelectionRange(start, end);
    // execCommand keeps the browser's undo history; setRangeText is the fallback.
    if (!document.execCommand?.("insertText", false, text)) {
      textarea.setRangeText(text, start, end, "end");
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
    }
  };
  textarea.addEventListener("focus", () => { escaped = false; });
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      escaped = true;
      return;
    }
    if (event.key !== "Tab" || event.ctrlKey || event.altKey || event.metaKey) {
      if (!["Shift", "Control", "Alt", "Meta"].includes(event.key)) escaped = false;
      return;
    }
    if (escaped) return; // the browser moves focus on
    event.preventDefault();
    const { value, selectionStart: start, selectionEnd: end } = textarea;
    const lineStart = value.lastIndexOf("\n", start - 1) + 1;
    if (event.shiftKey) {
      const spaces = /^ {1,4}/.exec(value.slice(lineStart))?.[0].length || 0;
      if (spaces) {
        insert("", lineStart, lineStart + spaces);
        textarea.setSelectionRange(Math.max(lineStart, start - spaces), Math.max(lineStart, end - spaces));
      }
      return;
    }
    insert("    ", start, end);
  });
  return hint;
}

/**
 * A server's message in the page's words: a blank or missing field is named by its label,
 * and the API's "variants" are what the page calls them (`items`: "choices", "accepted
 * answers").
 */
export function inPageWords(message, label, items = "choices") {
  const Items = items[0].toUpperCase() + items.slice(1);
  const item = items.replace(/s$/, "");
  const name = label || "This field";
  return String(message)
    .replace(/^This field may not be (blank|null)\.?/, `${name} is empty: fill it in.`)
    .replace(/^This field is required\.?/, `${name} is required.`)
    .replace(/^Variants of a question must have distinct texts\.?/, `${Items} must differ: two have the same text.`)
    .replace(/^A \w+ question needs exactly one correct variant\.?/, `Mark exactly one ${item} as correct.`)
    .replace(/^A \w+ question needs at least one correct variant\.?/, `Mark at least one ${item} as correct.`)
    .replace(/\bThis field\b/g, name)
    .replace(/\bvariants\b/g, items)
    .replace(/\bvariant\b/g, item);
}
