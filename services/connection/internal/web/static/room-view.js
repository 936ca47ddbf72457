// room-view.js: the room as the panels show it, and what the local user may
// do in it (mirroring the room service's rules).

import { int } from './net.js';
import { loadAuth } from './auth.js';
import { $, renderMembers, renderRooms, colorOf, nameOf, roomLabel } from './ui.js';
import { join, memberActions } from './actions.js';

let state;

// init hands over the shared state owned by app.js.
export function init(app) {
  ({ state } = app);
}

export function setStatus(kind, text) {
  const s = $('#status');
  s.dataset.state = kind;
  s.textContent = text;
}

export function renderMe() {
  const me = state.me || {};
  $('#me-name').textContent = nameOf(me);
  $('#me-color').style.background = colorOf(me);
  const auth = loadAuth();
  $('#login-btn').textContent = auth && !me.guest ? 'Log out' : 'Log in';
  if (state.room) setStatus('online', `online as ${nameOf(me)}`);
}

export function isStaff() {
  const roles = state.me?.roles || [];
  return roles.includes('MODERATOR') || roles.includes('ADMIN');
}

function canModerate() {
  return !!state.me && (state.me.id === state.ownerId || isStaff());
}

// canEditRoom mirrors the room service: staff anywhere, the owner in a room
// (lobbies have none).
export function canEditRoom() {
  return !!state.room && (isStaff() || (!state.room.lobby && !!state.ownerId && state.me?.id === state.ownerId));
}

// chatLocked and playLocked mirror the server's "only owner can chat/play"
// (the owner and staff are exempt).
function chatLocked() {
  return !!state.room?.settings?.onlyOwnerCanChat && !canModerate();
}

export function playLocked() {
  return !!state.room?.settings?.onlyOwnerCanPlay && !canModerate();
}

export function renderRoom() {
  const room = state.room;
  $('#room-name').textContent = room ? roomLabel(room) : '\u2014';
  $('#room-lock').hidden = !room?.hasPassword;
  $('#room-settings-btn').hidden = !canEditRoom();
  const input = $('#chat-input');
  const muted = chatLocked();
  input.disabled = muted;
  input.placeholder = muted ? 'Only the room owner may chat in this room' : 'Say something (Enter to send, Esc to play)';
  const silenced = playLocked();
  $('#play-locked').hidden = !silenced;
  $('#keyboard').classList.toggle('locked', silenced);
  $('#chat-log').classList.toggle('moderating', isStaff());
  document.title = room ? `${roomLabel(room)} \u00b7 PianoRhythm` : 'PianoRhythm';
  renderMembers($('#members'), { members: state.members, ownerId: state.ownerId, meId: state.me?.id, canFriend: !!state.me && !state.me.guest, friends: state.friends, canModerate: !room?.lobby && canModerate(), actions: memberActions });
  $('#member-count').textContent = `(${state.members.size})`;
  $('#claim-btn').hidden = !room || room.lobby || !!state.ownerId;
  // The list is fetched on demand; the count of the room we are in is
  // known live, so keep that one right.
  const listed = room && state.rooms.find((r) => r.id === room.id);
  if (listed && (listed.memberCount || 0) !== state.members.size) listed.memberCount = state.members.size;
  if (listed) Object.assign(listed, { settings: room.settings, hasPassword: room.hasPassword });
  renderRoomList();
}

// renderFriendsPanel shows the friends panel to members only: guests have
// no friends (the server refuses them), so they are offered a login.
export function renderFriendsPanel() {
  const guest = !state.me || !!state.me.guest;
  $('#friends-section').hidden = guest;
  $('#friends-guest').hidden = !guest;
}

export function renderRoomList() {
  renderRooms($('#room-list'), state.rooms, state.room?.id, (room) => join(room.id));
}

export function renderQuota(q) {
  const box = $('#quota');
  if (!q) {
    box.querySelector('.quota-text').textContent = '\u2013';
    box.querySelector('.quota-fill').style.width = '100%';
    box.classList.remove('low');
    return;
  }
  const a = int(q.allowance);
  const max = int(q.max);
  box.dataset.allowance = String(a);
  box.dataset.max = String(max);
  box.querySelector('.quota-text').textContent = max ? `${a}/${max}` : 'unlimited';
  box.querySelector('.quota-fill').style.width = max ? `${Math.max(0, Math.min(100, (100 * a) / max))}%` : '100%';
  box.classList.toggle('low', max > 0 && a < max * 0.1);
}
