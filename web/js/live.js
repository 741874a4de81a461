// The live WebSocket (`/ws`, docs/websocket.md). The access token travels in the
// `Sec-WebSocket-Protocol` header as a `bearer.<jwt>` subprotocol next to `testit`, never in
// the URL. The socket reconnects by itself with a growing, jittered delay; each view
// re-sends its `start` or `watch` on every open, so it resumes from fresh server state.

import { freshAccess } from "./api.js";

export class LiveSocket {
  /**
   * @param {object} handlers `open()` on every (re)connection, `message(msg)` for every
   *   message, `state(s)` with "connecting" | "online" | "offline", `signedOut()`.
   */
  constructor(handlers) {
    this.handlers = handlers;
    this.ws = null;
    this.closed = false;
    this.delay = 0;
    this.retry = null;
    this.connect();
  }

  get online() {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  async connect() {
    if (this.closed) return;
    this.handlers.state?.("connecting");
    let token;
    try {
      token = await freshAccess();
    } catch (err) {
      if (err.status === 401) {
        this.handlers.signedOut?.();
        return;
      }
      this.later();
      return;
    }
    if (this.closed) return;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${scheme}//${location.host}/ws`, ["testit", `bearer.${token}`]);
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.delay = 0;
      this.handlers.state?.("online");
      this.handlers.open?.();
    });
    ws.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      this.handlers.message?.(message);
    });
    ws.addEventListener("close", () => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.closed) return;
      this.handlers.state?.("offline");
      this.later();
    });
  }

  later() {
    // 0.5 s, 1 s, 2 s, … up to 10 s, each with up to half again of jitter, so that a class
    // whose server restarted does not come back all at once.
    this.delay = Math.min(this.delay ? this.delay * 2 : 500, 10_000);
    const wait = this.delay * (1 + Math.random() / 2);
    clearTimeout(this.retry);
    this.retry = setTimeout(() => this.connect(), wait);
  }

  /** Sends a message; answers false when offline (the caller keeps it for later). */
  send(message) {
    if (!this.online) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  close() {
    this.closed = true;
    clearTimeout(this.retry);
    this.ws?.close(1000);
    this.ws = null;
  }
}
