// ui.js: DOM rendering of the side panels, the chat and the toasts. Every
// piece of user text goes through textContent, never innerHTML.

export const $ = (sel, root = document) => root.querySelector(sel);

export function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k === 'style') e.style.cssText = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}

// colorOf is the user's color, or a stable one derived from the id.
export function colorOf(user) {
  if (user && /^#[0-9a-fA-F]{6}$/.test(user.color || '')) return user.color;
  let h = 0;
  for (const ch of String(user?.id ?? '')) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return `hsl(${h % 360} 70% 62%)`;
}

export function nameOf(user) {
  return user?.displayName || user?.username || (user?.id ? 'user ' + user.id.slice(0, 6) : 'someone');
}

export function roomLabel(room) {
  return room?.settings?.name || room?.id || '';
}

// toast shows text in #toasts (top right, away from the keys) for ms.
// The third argument is ms or {ms, tag}. A toast already showing the same
// text is not repeated: it stays longer and counts the repeats. tag names
// the state the toast describes; dismissToasts(tag) removes it once that
// state changed (the right password got in, the server is back).
export function toast(text, kind = 'error', opts = {}) {
  const { ms = 4500, tag = '' } = typeof opts === 'number' ? { ms: opts } : opts;
  const box = $('#toasts');
  let t = [...box.children].find((c) => c.dataset.text === text && !c.classList.contains('leaving'));
  if (t) {
    const n = Number(t.dataset.count || 1) + 1;
    t.dataset.count = String(n);
    t.querySelector('.count').textContent = `\u00d7${n}`;
  } else {
    t = el('div', { class: 'toast ' + kind, role: 'status', dataset: { text, tag } },
      el('span', { class: 'text', text }), el('span', { class: 'count' }),
      el('button', { class: 'close', type: 'button', title: 'Dismiss', text: '\u2715', onclick: () => t.remove() }));
    box.append(t);
  }
  clearTimeout(t.leaveTimer);
  clearTimeout(t.removeTimer);
  t.leaveTimer = setTimeout(() => t.classList.add('leaving'), ms);
  t.removeTimer = setTimeout(() => t.remove(), ms + 400);
  return t;
}

// dismissToasts removes the toasts whose tag is tag or starts with tag + ':'.
export function dismissToasts(tag) {
  for (const t of [...$('#toasts').children]) {
    const g = t.dataset.tag || '';
    if (g === tag || g.startsWith(tag + ':')) t.remove();
  }
}

function clock(ts) {
  const d = ts ? new Date(ts) : new Date();
  if (Number.isNaN(d.getTime())) return '';
  return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

// Chat renders #chat-log: one .chat-line per message, .chat-notice for
// things that are not messages (joins, leaves, the welcome message).
// A line's delete button (onDelete(messageId)) shows on hover only while the
// log has the class "moderating": the server lets only staff delete.
export class Chat {
  constructor(log, { onDelete } = {}) {
    this.log = log;
    this.onDelete = onDelete;
  }

  nearBottom() {
    return this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 60;
  }

  add(m) {
    if (m.id && this.log.querySelector(`[data-id="${CSS.escape(m.id)}"]`)) return;
    const stick = this.nearBottom();
    const line = el('div', { class: 'chat-line' + (m.system ? ' system' : ''), dataset: { id: m.id || '', userId: m.userId || '' } },
      el('time', { text: clock(m.sentAt) }),
      m.system ? null : el('span', { class: 'who', style: `color:${colorOf({ id: m.userId, color: m.color })}`, text: m.displayName || 'someone' }),
      el('span', { class: 'text', text: m.text || '' }),
      m.id && !m.system && this.onDelete ? el('button', { class: 'mini danger chat-del', type: 'button', title: 'Delete this message', text: '\u2715', onclick: () => this.onDelete(m.id) }) : null);
    this.log.append(line);
    this.trim();
    if (stick) this.log.scrollTop = this.log.scrollHeight;
  }

  notice(text) {
    const stick = this.nearBottom();
    this.log.append(el('div', { class: 'chat-notice' }, el('time', { text: clock() }), el('span', { text })));
    this.trim();
    if (stick) this.log.scrollTop = this.log.scrollHeight;
  }

  remove(id) {
    this.log.querySelector(`[data-id="${CSS.escape(id)}"]`)?.remove();
  }

  clear() {
    this.log.textContent = '';
  }

  trim() {
    while (this.log.childElementCount > 500) this.log.firstElementChild.remove();
  }
}

// renderMembers fills #members: one li per member with data-user-id.
// Tools (add friend for members who are not guests, and the owner's
// make-owner, kick and ban) are always shown, on a row of their own.
// Members already friends (or asked) are not offered "+ Friend" again.
export function renderMembers(ul, { members, ownerId, meId, canFriend, friends = new Map(), canModerate, actions }) {
  ul.textContent = '';
  const sorted = [...members.values()].sort((a, b) =>
    (b.user.id === ownerId) - (a.user.id === ownerId) || nameOf(a.user).localeCompare(nameOf(b.user)));
  for (const m of sorted) {
    const u = m.user;
    const isOwner = u.id === ownerId;
    const isMe = u.id === meId;
    const tools = [];
    if (canFriend && !isMe && !u.guest && !friends.has(u.id)) tools.push(el('button', { class: 'mini', title: 'Send a friend request', text: '+ Friend', dataset: { act: 'friend' }, onclick: () => actions.friend(u.id) }));
    if (canModerate && !isMe) {
      tools.push(el('button', { class: 'mini', title: 'Make them the room owner', text: 'Make owner', dataset: { act: 'transfer' }, onclick: () => actions.transfer(u.id) }));
      tools.push(el('button', { class: 'mini', title: 'Remove from the room', text: 'Kick', dataset: { act: 'kick' }, onclick: () => actions.kick(u.id, 0) }));
      tools.push(el('button', { class: 'mini danger', title: 'Remove and keep out for 10 minutes', text: 'Ban 10 min', dataset: { act: 'ban' }, onclick: () => actions.kick(u.id, 600) }));
    }
    ul.append(el('li', { dataset: { userId: u.id }, class: isMe ? 'me' : '' },
      el('span', { class: 'dot', style: `background:${colorOf(u)}` }),
      el('span', { class: 'name', title: `${nameOf(u)} (${u.id})`, text: nameOf(u) }),
      isOwner ? el('span', { class: 'crown', title: 'Room owner', text: '\u265B' }) : null,
      u.guest && !isMe ? el('span', { class: 'tag', text: 'guest' }) : null, // own: the Log in button says it
      isMe ? el('span', { class: 'tag you', text: 'you' }) : null,
      tools.length ? el('span', { class: 'tools' }, tools) : null));
  }
}

// renderRooms fills #room-list; onJoin(room) when one is clicked.
export function renderRooms(ul, rooms, currentId, onJoin) {
  ul.textContent = '';
  if (!rooms.length) {
    ul.append(el('li', { class: 'empty', text: 'No public rooms' }));
    return;
  }
  const sorted = [...rooms].sort((a, b) => (b.lobby - a.lobby) || (b.memberCount || 0) - (a.memberCount || 0));
  for (const r of sorted) {
    const max = r.settings?.maxPlayers;
    ul.append(el('li', { dataset: { roomId: r.id }, class: r.id === currentId ? 'current' : '', title: r.id, onclick: () => onJoin(r) },
      el('span', { class: 'dot', style: `background:${r.settings?.color || (r.lobby ? '#7e8cff' : '#5ad1a3')}` }),
      el('span', { class: 'name', text: roomLabel(r) }),
      r.hasPassword ? el('span', { class: 'tag', title: 'Password protected', text: 'password' }) : null,
      r.settings?.proOnly ? el('span', { class: 'tag', text: 'pro' }) : null,
      el('span', { class: 'count', text: `${r.memberCount || 0}${max ? '/' + max : ''}` })));
  }
}

const FRIEND_STATUS = { ACCEPTED: 'friend', OUTGOING: 'request sent', INCOMING: 'wants to be friends' };

// renderFriends fills #friends from a Map(userId -> Friend).
// A friend's room shows by name when it is in rooms (the room list).
export function renderFriends(ul, friends, actions, rooms = []) {
  ul.textContent = '';
  if (!friends.size) {
    ul.append(el('li', { class: 'empty', text: 'No friends yet' }));
    return;
  }
  for (const f of friends.values()) {
    const u = f.user || {};
    const tools = [];
    if (f.status === 'INCOMING') {
      tools.push(el('button', { class: 'mini primary', text: 'Accept', dataset: { act: 'accept' }, onclick: () => actions.act(u.id, 'ACCEPT') }));
      tools.push(el('button', { class: 'mini', text: 'Decline', dataset: { act: 'decline' }, onclick: () => actions.act(u.id, 'DECLINE') }));
    } else {
      tools.push(el('button', { class: 'mini', text: f.status === 'OUTGOING' ? 'Cancel' : 'Remove', dataset: { act: 'remove' }, onclick: () => actions.act(u.id, 'REMOVE') }));
    }
    if (f.online && f.roomId) tools.unshift(el('button', { class: 'mini primary', text: 'Join their room', dataset: { act: 'join' }, onclick: () => actions.join(f.roomId) }));
    const room = f.roomId ? rooms.find((r) => r.id === f.roomId) : null;
    ul.append(el('li', { dataset: { userId: u.id || '' } },
      el('span', { class: 'dot' + (f.online ? ' online' : ''), style: `background:${f.online ? colorOf(u) : '#555'}` }),
      el('span', { class: 'name', title: u.id, text: nameOf(u) }),
      el('span', { class: 'tag', text: f.status !== 'ACCEPTED' ? (FRIEND_STATUS[f.status] || '') : f.online ? (f.roomId ? 'in ' + (room ? roomLabel(room) : f.roomId) : 'online') : 'offline' }),
      el('span', { class: 'tools' }, tools)));
  }
}
