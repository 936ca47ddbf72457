// handlers.js: what the client does with each server message. A reply to
// one of our requests comes with the request's kind (see actions.js).

import { int } from './net.js';
import { LS_GUEST } from './auth.js';
import { roomSettingsDone, roomSettingsFailed, closeRoomSettings } from './dialogs.js';
import { $, toast, renderFriends, colorOf, nameOf, roomLabel } from './ui.js';
import { join, listRooms, listFriends, ping, friendActions, askPassword } from './actions.js';
import { setStatus, renderMe, renderRoom, renderRoomList, renderQuota } from './room-view.js';
import { playRemote, forgetRemotePlayers } from './notes.js';
import { onDown } from './session.js';

let state, clock, jitter, chat, piano, synth;

// init hands over the shared state and services owned by app.js.
export function init(app) {
  ({ state, clock, jitter, chat, piano, synth } = app);
}

export function onMessage(msg) {
  const req = msg.id ? state.pending.get(msg.id) : undefined;
  if (msg.id) state.pending.delete(msg.id);
  for (const [key, body] of Object.entries(msg)) {
    if (key === 'id') continue;
    const h = handlers[key];
    if (h) h(body ?? {}, req);
  }
}

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
      // "room lost": the room did not survive a server restart (the edge says so).
      if (k.reason === 'room lost') toast('This room was lost when the server restarted; you are back in the lobby.');
      else toast(ban ? `You were banned from this room for ${Math.round(ban / 60)} min.` : 'You were kicked from this room.');
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

  achievement(a) {
    toast(`Achievement unlocked: ${a.title || a.achievementId}`, 'ok', 6000);
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
