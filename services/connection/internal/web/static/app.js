// app.js: the PianoRhythm web client. It speaks the JSON form of the
// WebSocket protocol (pianorhythm.v1.json), keeps the room state, and wires
// the keyboard, the synthesizer and the panels together.

import { Connection, Clock, NoteBatcher, JitterBuffer, int } from './net.js';
import { Synth } from './audio.js';
import { Piano, connectMIDI } from './piano.js';
import { LS_AUTH, LS_GUEST, loadAuth, currentToken } from './auth.js';
import { askRoomPassword, editProfile, askLogin, editRoomSettings, roomSettingsDone, roomSettingsFailed, closeRoomSettings } from './dialogs.js';
import { $, toast, Chat, renderMembers, renderRooms, renderFriends, colorOf, nameOf, roomLabel } from './ui.js';

const ME = 'me'; // the local player's source id for the synth and keys
const KINDS = ['NOTE_KIND_UNSPECIFIED', 'NOTE_ON', 'NOTE_OFF', 'SUSTAIN_ON', 'SUSTAIN_OFF'];

// Uncaught errors are kept for the console and for the browser tests.
const errors = [];
window.addEventListener('error', (e) => errors.push(String(e.message || e)));
window.addEventListener('unhandledrejection', (e) => errors.push(String(e.reason?.message || e.reason)));

const state = {
  me: null,
  room: null,
  ownerId: '',
  members: new Map(), // userId -> Member
  rooms: [],
  friends: new Map(), // userId -> Friend
  pending: new Map(), // request id -> {kind, ...}
  lastRoom: { id: decodeURIComponent(location.hash.slice(1)) || 'lobby', password: '' },
  sustain: false,
  welcomed: false,
  tokenFailures: 0,
  usedToken: false,
  quotaToastAt: 0,
  lockToastAt: 0,
};

const clock = new Clock();
const jitter = new JitterBuffer();
const synth = new Synth();
const chat = new Chat($('#chat-log'), { onDelete: (messageId) => request('deleteChat', { chatModeration: { messageId } }) });
const conn = new Connection({ url: wsURL, onOpen, onMessage, onDown, onFatal });
const batcher = new NoteBatcher({ clock, send: (m) => state.room && conn.send(m), intervalMs: 50 });
const piano = new Piano($('#keyboard'), { low: 36, high: 96, onPress: localNoteOn, onRelease: localNoteOff });
piano.velocity = Number($('#velocity').value);

// ---- connection

async function wsURL() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const token = await currentToken();
  state.usedToken = token !== '';
  return `${scheme}//${location.host}/ws${token ? '?token=' + encodeURIComponent(token) : ''}`;
}

function onOpen() {
  state.welcomed = false;
  setStatus('connected', 'joining\u2026');
}

function onDown({ attempt, delayMs, code }) {
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

function onFatal({ reason }) {
  clearInterval(onDown.timer);
  setStatus('offline', 'disconnected');
  $('#reconnect-banner').hidden = false;
  $('#reconnect-text').textContent = `Disconnected by the server: ${reason}.`;
}

function request(kind, msg, extra = {}) {
  const id = conn.request(msg);
  if (!id) {
    toast('Not connected.');
    return '';
  }
  state.pending.set(id, { kind, ...extra });
  return id;
}

function onMessage(msg) {
  const req = msg.id ? state.pending.get(msg.id) : undefined;
  if (msg.id) state.pending.delete(msg.id);
  for (const [key, body] of Object.entries(msg)) {
    if (key === 'id') continue;
    const h = handlers[key];
    if (h) h(body ?? {}, req);
  }
}

// ---- server messages

const handlers = {
  welcome(w) {
    state.me = w.user || {};
    state.welcomed = true;
    state.tokenFailures = 0;
    clock.fromWelcome(int(w.serverTime));
    if (w.token && state.me.guest) localStorage.setItem(LS_GUEST, w.token);
    clearInterval(onDown.timer);
    $('#reconnect-banner').hidden = true;
    renderMe();
    for (let i = 0; i < 3; i++) setTimeout(ping, i * 250);
    join(state.lastRoom.id, state.lastRoom.password);
    listRooms();
    listFriends();
  },

  roomJoined(j, req) {
    const room = j.room || {};
    state.room = room;
    state.ownerId = room.ownerId || '';
    state.members = new Map((j.members || []).map((m) => [m.user.id, m]));
    const password = req?.room === room.id ? req.password : state.lastRoom.id === room.id ? state.lastRoom.password : '';
    state.lastRoom = { id: room.id, password: password || '' };
    history.replaceState(null, '', room.id === 'lobby' ? location.pathname + location.search : '#' + encodeURIComponent(room.id));
    closeRoomSettings();
    forgetRemotePlayers();
    chat.clear();
    for (const m of j.chatHistory || []) chat.add(m);
    chat.notice(`You joined ${roomLabel(room)}.`);
    if (j.welcomeMessage) chat.notice(j.welcomeMessage);
    setStatus('online', `online as ${nameOf(state.me)}`);
    renderQuota(null);
    renderRoom();
    listRooms();
  },

  userJoined(u) {
    if (!inRoom(u.roomId) || !u.member?.user) return;
    const known = state.members.has(u.member.user.id);
    state.members.set(u.member.user.id, u.member);
    if (!known) chat.notice(`${nameOf(u.member.user)} joined.`);
    renderRoom();
  },

  userLeft(u) {
    if (!inRoom(u.roomId)) return;
    if (u.userId === state.me?.id) {
      // Leaving the old room while a join is in flight is expected; a kick
      // is explained by the kicked message.
      if (u.reason === 'kicked' || [...state.pending.values()].some((p) => p.kind === 'join')) return;
      if (u.reason !== 'moved') {
        join(state.lastRoom.id, state.lastRoom.password); // dropped by mistake (ghost): take the seat back
        return;
      }
      // Our seat went to another window of the same user: stay out rather
      // than fight over it.
      state.room = null;
      state.members.clear();
      forgetRemotePlayers();
      chat.notice('You opened this room in another window; this one left it. Pick a room to rejoin here.');
      setStatus('connected', 'not in a room');
      renderRoom();
      return;
    }
    const m = state.members.get(u.userId);
    state.members.delete(u.userId);
    piano.releaseAll(u.userId);
    synth.allOff(u.userId);
    if (m) chat.notice(`${nameOf(m.user)} left${u.reason && u.reason !== 'left' ? ' (' + u.reason + ')' : ''}.`);
    renderRoom();
  },

  // The owner gets it twice (the reply, then the room's event); the
  // notices come from what changed, so they are not repeated.
  roomUpdated(r, req) {
    if (req?.kind === 'roomSettings') {
      roomSettingsDone();
      toast('Room settings saved.', 'ok', 2000);
      // A reconnect rejoins with the password we just set.
      if (req.password !== undefined && state.lastRoom.id === req.room) state.lastRoom.password = req.password;
    }
    if (!r.room || !inRoom(r.room.id)) return;
    const before = state.room;
    state.room = r.room;
    state.ownerId = r.room.ownerId || '';
    announceChanges(before, r.room);
    renderRoom();
  },

  ownerChanged(o) {
    if (!inRoom(o.roomId)) return;
    state.ownerId = o.ownerId || '';
    if (state.room) state.room.ownerId = state.ownerId;
    const m = state.members.get(state.ownerId);
    chat.notice(state.ownerId ? `${m ? nameOf(m.user) : 'Someone'} is now the owner.` : 'The owner left; the seat can be claimed soon.');
    renderRoom();
  },

  kicked(k) {
    if (!inRoom(k.roomId)) return;
    const ban = int(k.banSeconds);
    if (k.userId === state.me?.id) {
      closeRoomSettings();
      toast(ban ? `You were banned from this room for ${Math.round(ban / 60)} min.` : 'You were kicked from this room.');
      state.room = null;
      state.lastRoom = { id: 'lobby', password: '' };
      join('lobby');
      return;
    }
    const m = state.members.get(k.userId);
    state.members.delete(k.userId);
    piano.releaseAll(k.userId);
    synth.allOff(k.userId);
    chat.notice(`${m ? nameOf(m.user) : 'A member'} was ${ban ? 'banned' : 'kicked'}.`);
    renderRoom();
  },

  memberUpdated(m) {
    if (!m.user) return;
    const member = state.members.get(m.user.id);
    if (member) member.user = m.user;
    if (m.user.id === state.me?.id) {
      state.me = m.user;
      renderMe();
    }
    renderRoom();
  },

  notes(b) {
    const source = b.userId || '?';
    const t0 = int(b.time);
    const now = clock.now();
    jitter.observe(now - t0);
    const base = t0 + jitter.ms - now;
    const color = colorOf(state.members.get(source)?.user || { id: source });
    for (const ev of b.events || []) {
      const at = Math.max(0, Math.min(1500, base + int(ev.delayMs)));
      playRemote(source, color, ev, at);
    }
  },

  chat(c) {
    if (c.message) chat.add(c.message);
  },
  chatDeleted(d) {
    if (inRoom(d.roomId)) chat.remove(d.messageId);
  },
  chatCleared(d) {
    if (!inRoom(d.roomId)) return;
    chat.clear();
    chat.notice('The chat was cleared by a moderator.');
  },

  pong(p) {
    clock.fromPong(int(p.clientTime), int(p.serverTime));
  },

  roomList(r) {
    state.rooms = r.rooms || [];
    renderRoomList();
  },

  friendUpdate(f, req) {
    if (req?.kind === 'friends') state.friends.clear();
    for (const fr of f.friends || []) {
      const id = fr.user?.id;
      if (!id) continue;
      if (!fr.status || fr.status === 'FRIEND_STATUS_UNSPECIFIED') state.friends.delete(id);
      else state.friends.set(id, fr);
    }
    renderFriends($('#friends'), state.friends, friendActions);
    if (req?.kind === 'friendAct') toast('Friends updated.', 'ok', 1500);
  },

  noteQuota(q) {
    renderQuota(q);
    if (int(q.allowance) <= 0 && Date.now() - state.quotaToastAt > 5000) {
      state.quotaToastAt = Date.now();
      toast('Note quota reached: some notes were not sent.', 'warn');
    }
  },

  profile(p, req) {
    if (!p.user) return;
    state.me = p.user;
    const m = state.members.get(p.user.id);
    if (m) m.user = p.user;
    renderMe();
    renderRoom();
    if (req?.kind === 'profile') toast('Profile saved.', 'ok', 2000);
  },

  ack(_, req) {
    if (req?.kind === 'clearChat') toast('The chat was cleared.', 'ok', 2000);
  },

  error(e, req) {
    const code = e.code || 'ERROR';
    if (req?.kind === 'join') {
      if (code === 'WRONG_PASSWORD') {
        if (req.password) toast('Wrong password.');
        askPassword(req.room);
        return;
      }
      toast(`Cannot join ${req.room}: ${e.message || code}`);
      if (!state.room && req.room !== 'lobby') join('lobby');
      return;
    }
    if (req?.kind === 'friends' && state.me?.guest) return; // guests have no friends list
    if (req?.kind === 'roomSettings') roomSettingsFailed(e.message || code);
    toast(e.message ? `${e.message} (${code})` : code);
  },
};

function inRoom(roomId) {
  return state.room && (!roomId || roomId === state.room.id);
}

// announceChanges tells the chat what a room update changed for the members.
function announceChanges(before, room) {
  if (!before || before.id !== room.id) return;
  const a = before.settings || {};
  const b = room.settings || {};
  if (roomLabel(before) !== roomLabel(room)) chat.notice(`The room is now called ${roomLabel(room)}.`);
  if (!!a.onlyOwnerCanChat !== !!b.onlyOwnerCanChat) chat.notice(b.onlyOwnerCanChat ? 'Only the owner may chat now.' : 'Everyone may chat again.');
  if (!!a.onlyOwnerCanPlay !== !!b.onlyOwnerCanPlay) chat.notice(b.onlyOwnerCanPlay ? 'Only the owner may play now.' : 'Everyone may play again.');
  if (!!before.hasPassword !== !!room.hasPassword) chat.notice(room.hasPassword ? 'The room now has a password.' : 'The room no longer has a password.');
  if (b.welcomeMessage && b.welcomeMessage !== a.welcomeMessage) chat.notice(b.welcomeMessage.replaceAll('%%user%%', nameOf(state.me)));
}

// ---- requests

function join(room, password = '', create = false, settings = undefined) {
  const body = { room };
  if (password) body.password = password;
  if (create) {
    body.create = true;
    body.settings = settings;
  }
  request('join', { join: body }, { room, password });
}

function listRooms() {
  if (conn.open) request('rooms', { listRooms: {} });
}

function listFriends() {
  if (conn.open && state.me && !state.me.guest) request('friends', { friend: {} });
}

function ping() {
  conn.send({ ping: { clientTime: String(Date.now()) } });
}

const friendActions = {
  act: (userId, action) => request('friendAct', { friend: { userId, action } }),
  join: (roomId) => join(roomId),
};

function openRoomSettings() {
  if (!state.room || !canEditRoom()) return;
  editRoomSettings(state.room, {
    capacity: state.room.lobby ? 30 : 20,
    save: (settings) => !!request('roomSettings', { roomSettings: { settings } }, { room: state.room.id, password: settings.password }),
    clearChat: isStaff() ? () => request('clearChat', { chatModeration: { clear: true } }) : null,
  });
}

const memberActions = {
  friend: (userId) => request('friendAct', { friend: { userId, action: 'SEND' } }),
  transfer: (userId) => request('transfer', { transferOwner: { userId } }),
  kick: (userId, banSeconds) => request('kick', { kick: { userId, banSeconds: String(banSeconds) } }),
};

// ---- notes

function localNoteOn(note, velocity) {
  enableSound();
  if (playLocked()) {
    if (Date.now() - state.lockToastAt > 5000) {
      state.lockToastAt = Date.now();
      toast('Only the room owner may play in this room.', 'warn');
    }
    return;
  }
  synth.noteOn(ME, note, velocity);
  piano.press(note, ME, colorOf(state.me || {}));
  batcher.push('NOTE_ON', note, velocity);
}

function localNoteOff(note) {
  synth.noteOff(ME, note);
  piano.release(note, ME);
  if (!playLocked()) batcher.push('NOTE_OFF', note, 0);
}

function setSustain(on) {
  if (state.sustain === on) return;
  state.sustain = on;
  synth.sustain(ME, on);
  batcher.push(on ? 'SUSTAIN_ON' : 'SUSTAIN_OFF', 0, on ? 127 : 0);
  const b = $('#sustain');
  b.textContent = `Sustain: ${on ? 'on' : 'off'}`;
  b.classList.toggle('on', on);
}

// playRemote schedules one remote event atMs from now: the sound on the
// audio clock at once (sample accurate, in order), the key light by timer.
function playRemote(source, color, ev, atMs) {
  const kind = typeof ev.kind === 'number' ? KINDS[ev.kind] : ev.kind;
  const note = int(ev.note);
  switch (kind) {
    case 'NOTE_ON':
      synth.noteOn(source, note, int(ev.velocity) || 64, atMs);
      setTimeout(() => piano.press(note, source, color), atMs);
      break;
    case 'NOTE_OFF':
      synth.noteOff(source, note, atMs);
      setTimeout(() => piano.release(note, source), atMs);
      break;
    case 'SUSTAIN_ON':
      synth.sustain(source, true, atMs);
      break;
    case 'SUSTAIN_OFF':
      synth.sustain(source, false, atMs);
      break;
  }
}

function forgetRemotePlayers() {
  piano.releaseOthers(ME);
  for (const id of state.members.keys()) synth.allOff(id);
}

// ---- rendering

function setStatus(kind, text) {
  const s = $('#status');
  s.dataset.state = kind;
  s.textContent = text;
}

function renderMe() {
  const me = state.me || {};
  $('#me-name').textContent = nameOf(me);
  $('#me-color').style.background = colorOf(me);
  const auth = loadAuth();
  $('#login-btn').textContent = auth && !me.guest ? 'Log out' : 'Log in';
  if (state.room) setStatus('online', `online as ${nameOf(me)}`);
}

function isStaff() {
  const roles = state.me?.roles || [];
  return roles.includes('MODERATOR') || roles.includes('ADMIN');
}

function canModerate() {
  return !!state.me && (state.me.id === state.ownerId || isStaff());
}

// canEditRoom mirrors the room service: staff anywhere, the owner in a room
// (lobbies have none).
function canEditRoom() {
  return !!state.room && (isStaff() || (!state.room.lobby && !!state.ownerId && state.me?.id === state.ownerId));
}

// chatLocked and playLocked mirror the server's "only owner can chat/play"
// (the owner and staff are exempt).
function chatLocked() {
  return !!state.room?.settings?.onlyOwnerCanChat && !canModerate();
}

function playLocked() {
  return !!state.room?.settings?.onlyOwnerCanPlay && !canModerate();
}

function renderRoom() {
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
  renderMembers($('#members'), { members: state.members, ownerId: state.ownerId, meId: state.me?.id, canModerate: !room?.lobby && canModerate(), actions: memberActions });
  $('#member-count').textContent = `(${state.members.size})`;
  $('#claim-btn').hidden = !room || room.lobby || !!state.ownerId;
  // The list is fetched on demand; the count of the room we are in is
  // known live, so keep that one right.
  const listed = room && state.rooms.find((r) => r.id === room.id);
  if (listed && (listed.memberCount || 0) !== state.members.size) listed.memberCount = state.members.size;
  if (listed) Object.assign(listed, { settings: room.settings, hasPassword: room.hasPassword });
  renderRoomList();
}

function renderRoomList() {
  renderRooms($('#room-list'), state.rooms, state.room?.id, (room) => join(room.id));
}

function renderQuota(q) {
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

// ---- sound

function enableSound() {
  if (synth.unlock() && synth.ctx) {
    const update = () => ($('#sound-btn').hidden = synth.ctx.state === 'running');
    synth.ctx.onstatechange = update;
    update();
  }
}

// ---- account

async function logout() {
  const auth = loadAuth();
  localStorage.removeItem(LS_AUTH);
  if (auth?.refreshToken) {
    fetch('/v1/auth/logout', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ refreshToken: auth.refreshToken }) }).catch(() => {});
  }
  state.friends.clear();
  renderFriends($('#friends'), state.friends, friendActions);
  conn.reconnectNow();
}

function askPassword(room) {
  askRoomPassword(room, (password) => {
    if (password) join(room, password);
    else if (!state.room) join('lobby');
  });
}

// ---- DOM wiring

function isTyping(t) {
  return t && t.closest && t.closest('input, textarea, select, [contenteditable], dialog');
}

function bind() {
  document.addEventListener('keydown', (e) => {
    if (isTyping(e.target)) {
      if (e.key === 'Escape' && e.target.blur) e.target.blur();
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.code === 'Space' || e.key === ' ') {
      e.preventDefault();
      if (!e.repeat) setSustain(!state.sustain);
      return;
    }
    if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
      e.preventDefault();
      $('#octave').textContent = String(piano.shiftOctave(e.key === 'ArrowLeft' ? -1 : 1));
      return;
    }
    if (e.key === 'Enter') {
      e.preventDefault();
      $('#chat-input').focus();
      return;
    }
    const note = piano.noteForKeyEvent(e);
    if (note === undefined) return;
    e.preventDefault();
    if (!e.repeat) piano.inputDown('key:' + (e.code || e.key.toLowerCase()), note, piano.velocity);
  });
  document.addEventListener('keyup', (e) => piano.inputUp('key:' + (e.code || (e.key || '').toLowerCase())));
  window.addEventListener('blur', () => piano.inputUpAll());
  document.addEventListener('pointerdown', enableSound, { capture: true });
  $('#sound-btn').addEventListener('click', enableSound);

  $('#chat-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const input = $('#chat-input');
    const text = input.value.trim();
    if (!text) return;
    if (text.length > 512) return toast('A message has at most 512 characters.');
    if (request('chat', { chat: { text } })) input.value = '';
  });

  $('#create-room').addEventListener('submit', (e) => {
    e.preventDefault();
    const f = e.target.elements;
    const name = f.name.value.trim();
    if (!name) return;
    const pub = f.public.checked;
    // Public rooms get a readable id; private ones a suffix so they cannot
    // be guessed from their name.
    const id = slug(name) + (pub ? '' : '-' + Math.random().toString(36).slice(2, 8));
    const settings = { name, public: pub, allowGuests: f.allowGuests.checked };
    if (f.password.value) settings.password = f.password.value;
    join(id, f.password.value, true, settings);
    e.target.reset();
  });

  $('#join-by-id').addEventListener('submit', (e) => {
    e.preventDefault();
    const id = e.target.elements.room.value.trim();
    if (id) join(id);
    e.target.reset();
  });

  $('#add-friend').addEventListener('submit', (e) => {
    e.preventDefault();
    const id = e.target.elements.userId.value.trim();
    if (id) friendActions.act(id, 'SEND');
    e.target.reset();
  });

  $('#refresh-rooms').addEventListener('click', listRooms);
  $('#refresh-friends').addEventListener('click', listFriends);
  $('#claim-btn').addEventListener('click', () => request('transfer', { transferOwner: {} }));
  $('#room-settings-btn').addEventListener('click', openRoomSettings);
  $('#reconnect-now').addEventListener('click', () => conn.reconnectNow());
  $('#sustain').addEventListener('click', () => setSustain(!state.sustain));
  $('#oct-down').addEventListener('click', () => ($('#octave').textContent = String(piano.shiftOctave(-1))));
  $('#oct-up').addEventListener('click', () => ($('#octave').textContent = String(piano.shiftOctave(1))));
  $('#velocity').addEventListener('input', (e) => (piano.velocity = Number(e.target.value)));
  $('#volume').addEventListener('input', (e) => synth.setVolume(Number(e.target.value) / 100));

  $('#profile-btn').addEventListener('click', () =>
    editProfile(state.me, (setProfile) => request('profile', { setProfile })));

  $('#login-btn').addEventListener('click', () => {
    if (loadAuth() && !state.me?.guest) return logout();
    askLogin(() => conn.reconnectNow());
  });

  $('#midi-btn').addEventListener('click', startMIDI);
  navigator.permissions?.query({ name: 'midi' }).then((p) => p.state === 'granted' && startMIDI()).catch(() => {});
}

function startMIDI() {
  connectMIDI({
    onNote: (note, velocity) => (velocity > 0 ? piano.inputDown('midi' + note, note, velocity) : piano.inputUp('midi' + note)),
    onSustain: setSustain,
    onDevices: (names) => {
      const b = $('#midi-btn');
      b.textContent = names.length ? `MIDI: ${names.length}` : 'MIDI: none';
      b.title = names.join(', ') || 'No MIDI input connected';
      b.classList.toggle('on', names.length > 0);
    },
  }).catch((err) => toast(`MIDI unavailable: ${err.message}`, 'warn'));
}

function slug(s) {
  return s.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 32) || 'room';
}

bind();
enableSound(); // runs at once where the autoplay policy allows it
setInterval(ping, 5000);
setInterval(listRooms, 15000);
conn.connect();

// For tests and debugging in the console.
window.pianorhythm = { state, clock, jitter, conn, piano, synth, errors };
