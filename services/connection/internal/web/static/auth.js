// auth.js: the tokens the page connects with. A logged-in user's access
// and refresh tokens (from the REST API: /v1/auth/login, /register,
// /refresh) live in localStorage; so does the guest token from `welcome`,
// so a reload comes back as the same guest.

import { toast } from './ui.js';

export const LS_AUTH = 'pr.auth'; // {accessToken, refreshToken, expiresAt} after login
export const LS_GUEST = 'pr.guestToken'; // the guest token from welcome

export function loadAuth() {
  try {
    return JSON.parse(localStorage.getItem(LS_AUTH) || 'null');
  } catch (_) {
    return null;
  }
}

// currentToken is the token for the next connection: the login (refreshed
// when it is about to expire), else the guest token, else none.
export async function currentToken() {
  let auth = loadAuth();
  if (auth?.refreshToken && auth.expiresAt && Date.parse(auth.expiresAt) - Date.now() < 30000) {
    try {
      auth = await authCall('/v1/auth/refresh', { refreshToken: auth.refreshToken });
    } catch (err) {
      localStorage.removeItem(LS_AUTH);
      toast('Your session expired; you are a guest again.');
      auth = null;
    }
  }
  return auth?.accessToken || localStorage.getItem(LS_GUEST) || '';
}

// authCall posts to an auth endpoint and stores the tokens it returns.
export async function authCall(path, body) {
  const res = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.message || `${res.status} ${res.statusText}`);
  const auth = { accessToken: data.accessToken, refreshToken: data.refreshToken, expiresAt: data.accessTokenExpiresAt };
  localStorage.setItem(LS_AUTH, JSON.stringify(auth));
  return auth;
}
