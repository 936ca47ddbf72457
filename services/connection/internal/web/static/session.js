// session.js: the connection's life cycle as the user sees it: the
// WebSocket address (with the stored token), the status line, the
// reconnect banner while the connection is down, and a stored token the
// server no longer accepts (replaced by a fresh guest).

import { LS_AUTH, LS_GUEST, loadAuth, authCall, currentToken } from './auth.js';
import { $, toast, dismissToasts } from './ui.js';
import { setStatus } from './room-view.js';
import { forgetRemotePlayers } from './notes.js';

let state, conn;

// init hands over the shared state owned by app.js; call it before connecting.
export function init(app) {
  ({ state, conn } = app);
  conn.onServerBack = () => setStatus('connecting', 'server is back, reconnecting\u2026');
}

export async function wsURL() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const token = await currentToken();
  state.usedToken = token !== '';
  return `${scheme}//${location.host}/ws${token ? '?token=' + encodeURIComponent(token) : ''}`;
}

export function onOpen() {
  state.welcomed = false;
  setStatus('connected', 'joining\u2026');
}

export function onDown({ attempt, delayMs, code, opened }) {
  // A socket refused before it opened, with a token, while the server is
  // up: the server no longer accepts the token (its data was reset, the
  // keys rotated, the account is gone). Waiting would fail forever.
  // The server is asked whether it still knows the token (a socket can
  // fail for other reasons while a server starts).
  if (!opened && state.usedToken) {
    (async () => {
      const token = await currentToken();
      const r = await fetch('/v1/auth/verify', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token }) });
      if (r.status !== 401 || state.welcomed) return;
      await replaceStaleToken();
      conn.reconnectNow();
    })().catch(() => {});
  }
  state.welcomed = false;
  setStatus('offline', 'offline');
  forgetRemotePlayers();
  const banner = $('#reconnect-banner');
  banner.hidden = false;
  const until = Date.now() + delayMs;
  const tick = () => {
    const s = Math.max(0, Math.ceil((until - Date.now()) / 1000));
    $('#reconnect-text').textContent = code === 4000
      ? `The server is restarting. Reconnecting as soon as it is back\u2026`
      : `Connection lost. Reconnecting${s > 0 ? ' in ' + s + 's' : ''} (attempt ${attempt})\u2026`;
  };
  tick();
  clearInterval(onDown.timer);
  onDown.timer = setInterval(tick, 500);
}

// replaceStaleToken drops a guest token the server refused, so the next
// connection is a fresh guest; a login is refreshed once, and dropped with
// a word to the user when that fails too.
async function replaceStaleToken() {
  const auth = loadAuth();
  if (auth?.refreshToken) {
    try {
      await authCall('/v1/auth/refresh', { refreshToken: auth.refreshToken });
      return;
    } catch (_) {
      localStorage.removeItem(LS_AUTH);
      toast('Your login is no longer valid on this server; you are a guest now. Log in again to use your account.', 'warn', { ms: 9000, tag: 'session' });
    }
  }
  localStorage.removeItem(LS_GUEST);
}

// welcomed is called on the server's welcome: the banner and the
// connection toasts go.
export function welcomed() {
  clearInterval(onDown.timer);
  $('#reconnect-banner').hidden = true;
  dismissToasts('connection');
  conn.welcomed();
}

export function onFatal({ reason }) {
  clearInterval(onDown.timer);
  setStatus('offline', 'disconnected');
  $('#reconnect-banner').hidden = false;
  $('#reconnect-text').textContent = reason === 'banned'
    ? 'This account is banned: the server closed the connection.'
    : `Disconnected by the server: ${reason}.`;
}
