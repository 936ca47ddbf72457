// session.js: the connection's life cycle as the user sees it: the
// WebSocket address (with the stored token), the status line and the
// reconnect banner while the connection is down.

import { LS_AUTH, LS_GUEST, currentToken } from './auth.js';
import { $ } from './ui.js';
import { setStatus } from './room-view.js';
import { forgetRemotePlayers } from './notes.js';

let state;

// init hands over the shared state owned by app.js; call it before connecting.
export function init(app) {
  ({ state } = app);
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

export function onDown({ attempt, delayMs, code }) {
  // A stored token the server no longer accepts (keys rotated, account
  // gone) would fail forever. When the server is up but two attempts with a
  // token got no welcome, drop the guest token, then the login.
  if (!state.welcomed && state.usedToken) {
    fetch('/healthz', { cache: 'no-store' }).then((r) => {
      if (!r.ok || ++state.tokenFailures < 2) return;
      localStorage.removeItem(LS_GUEST);
      if (state.tokenFailures >= 3) localStorage.removeItem(LS_AUTH);
    }).catch(() => {});
  }
  state.welcomed = false;
  setStatus('offline', 'offline');
  forgetRemotePlayers();
  const banner = $('#reconnect-banner');
  banner.hidden = false;
  const until = Date.now() + delayMs;
  const tick = () => {
    const s = Math.max(0, Math.ceil((until - Date.now()) / 1000));
    $('#reconnect-text').textContent = `Connection lost${code ? ' (' + code + ')' : ''}. Reconnecting in ${s}s (attempt ${attempt})\u2026`;
  };
  tick();
  clearInterval(onDown.timer);
  onDown.timer = setInterval(tick, 500);
}

export function onFatal({ reason }) {
  clearInterval(onDown.timer);
  setStatus('offline', 'disconnected');
  $('#reconnect-banner').hidden = false;
  $('#reconnect-text').textContent = `Disconnected by the server: ${reason}.`;
}
