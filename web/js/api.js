// The REST API and the log-in: access and refresh tokens are kept in localStorage (never in
// a URL) and sent in `Authorization`; the access token is refreshed before it expires (log-in
// and refresh also set the HttpOnly export cookie, so the xlsx download link works).

const KEY = "testit.session";
const listeners = new Set();
let session = load();
let refreshing = null;
let timer = null;

export class ApiError extends Error {
  constructor(status, body) {
    super(typeof body?.detail === "string" ? body.detail : `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

function load() {
  try {
    return JSON.parse(localStorage.getItem(KEY)) || null;
  } catch {
    return null;
  }
}

function store(next) {
  session = next;
  if (next) localStorage.setItem(KEY, JSON.stringify(next));
  else localStorage.removeItem(KEY);
  schedule();
  for (const listener of listeners) listener(session);
}

// Another tab signed in or out.
window.addEventListener("storage", (event) => {
  if (event.key !== KEY) return;
  session = load();
  for (const listener of listeners) listener(session);
});

export function currentUser() {
  return session?.user || null;
}

export function onSession(listener) {
  listeners.add(listener);
}

function expiry(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(payload)).exp * 1000;
  } catch {
    return 0;
  }
}

function schedule() {
  clearTimeout(timer);
  if (!session?.access) return;
  const wait = expiry(session.access) - Date.now() - 30_000;
  timer = setTimeout(() => refresh().catch(() => {}), Math.max(wait, 5_000));
}

async function raw(method, path, body, token) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { detail: text };
    }
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return { data, response };
}

/** A fresh access token from the refresh token; signs out when the log-in is over. */
export function refresh() {
  if (!session?.refresh) return Promise.reject(new ApiError(401, { detail: "Signed out." }));
  if (!refreshing) {
    refreshing = raw("POST", "/api/users/token/refresh/", { refresh: session.refresh })
      .then(({ data }) => {
        store({ ...session, access: data.access, refresh: data.refresh || session.refresh });
        return data.access;
      })
      .catch((err) => {
        if (err.status === 401) store(null);
        throw err;
      })
      .finally(() => { refreshing = null; });
  }
  return refreshing;
}

/** An access token good for a while (for the WebSocket, which cannot refresh mid-handshake). */
export async function freshAccess() {
  if (!session?.access) throw new ApiError(401, { detail: "Signed out." });
  if (expiry(session.access) - Date.now() < 60_000) return refresh();
  return session.access;
}

/** Calls the API as the signed-in user, refreshing the access token once if it expired. */
export async function api(method, path, body) {
  try {
    return (await raw(method, path, body, session?.access)).data;
  } catch (err) {
    if (err.status === 401 && session?.refresh && err.body?.code === "token_not_valid") {
      await refresh();
      return (await raw(method, path, body, session?.access)).data;
    }
    throw err;
  }
}

/** Like `api`, also answering the server's clock offset (server − local, ms) from `Date`. */
export async function apiWithClock(method, path) {
  const call = async () => raw(method, path, undefined, session?.access);
  let result;
  try {
    result = await call();
  } catch (err) {
    if (err.status !== 401 || !session?.refresh) throw err;
    await refresh();
    result = await call();
  }
  const date = Date.parse(result.response.headers.get("Date") || "");
  return { data: result.data, offset: Number.isNaN(date) ? 0 : date - Date.now() };
}

export async function signIn(email, password) {
  const { data } = await raw("POST", "/api/users/token/obtain/", { email, password });
  store({ access: data.access, refresh: data.refresh, user: null });
  return reloadUser();
}

/** Reads the signed-in user again (after joining an organization, for instance). */
export async function reloadUser() {
  const user = await api("GET", "/api/users/me");
  store({ ...session, user });
  return user;
}

export async function signOut() {
  const current = session;
  store(null);
  if (current?.refresh) {
    await raw("POST", "/api/users/token/revoke/", { refresh: current.refresh }, current.access)
      .catch(() => {});
  }
}

schedule();
