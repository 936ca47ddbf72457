// actions.js: the requests the client sends. Each request remembers its
// kind so the reply (see handlers.js) can be told apart from the room's
// events.

import { loadAuth, LS_AUTH } from './auth.js';
import { askRoomPassword } from './dialogs.js';
import { $, toast, renderFriends } from './ui.js';

let state, conn;

// init hands over the shared state and connection owned by app.js.
export function init(app) {
  ({ state, conn } = app);
}

export function request(kind, msg, extra = {}) {
  const id = conn.request(msg);
  if (!id) {
    toast('Not connected.');
    return '';
  }
  state.pending.set(id, { kind, ...extra });
  return id;
}

export function join(room, password = '', create = false, settings = undefined) {
  const body = { room };
  if (password) body.password = password;
  if (create) {
    body.create = true;
    body.settings = settings;
  }
  request('join', { join: body }, { room, password });
}

export function listRooms() {
  if (conn.open) request('rooms', { listRooms: {} });
}

export function listFriends() {
  if (conn.open && state.me && !state.me.guest) request('friends', { friend: {} });
}

export function ping() {
  conn.send({ ping: { clientTime: String(Date.now()) } });
}

export const friendActions = {
  act: (userId, action) => request('friendAct', { friend: { userId, action } }),
  join: (roomId) => join(roomId),
};

export const memberActions = {
  friend: (userId) => request('friendAct', { friend: { userId, action: 'SEND' } }),
  transfer: (userId) => request('transfer', { transferOwner: { userId } }),
  kick: (userId, banSeconds) => request('kick', { kick: { userId, banSeconds: String(banSeconds) } }),
};

export async function logout() {
  const auth = loadAuth();
  localStorage.removeItem(LS_AUTH);
  if (auth?.refreshToken) {
    fetch('/v1/auth/logout', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ refreshToken: auth.refreshToken }) }).catch(() => {});
  }
  state.friends.clear();
  renderFriends($('#friends'), state.friends, friendActions, state.rooms);
  conn.reconnectNow();
}

// askPassword asks for the password of room (by its name when the room
// list knows it); wrong says the last one tried was refused.
export function askPassword(room, wrong = false) {
  const listed = state.rooms.find((r) => r.id === room);
  askRoomPassword(listed?.settings?.name || room, wrong, (password) => {
    if (password) join(room, password);
    else if (!state.room) join('lobby');
  });
}
