// handlers.js: what the client does with each server message. A reply to
// one of our requests comes with the request's kind (see actions.js).

import { int } from './net.js';
import { LS_GUEST } from './auth.js';
import { roomSettingsDone, roomSettingsFailed, closeRoomSettings } from './dialogs.js';
import { $, toast, dismissToasts, renderFriends, colorOf, nameOf, roomLabel } from './ui.js';
import { joinRefusal, refusal } from './messages.js';
import { join, listRooms, listFriends, ping, friendActions, askPassword } from './actions.js';
import { setStatus, renderMe, renderRoom, renderRoomList, renderQuota, renderFriendsPanel } from './room-view.js';
import { playRemote, forgetRemotePlayers } from './notes.js';
import { welcomed } from './session.js';

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
    // Who this page was before (a guest who just logged in, say): that
    // user's leave from the room is not news to the person at this page.
    if (state.me?.id && state.me.id !== w.user?.id) state.formerIds.add(state.me.id);
    state.me = w.user || {};
    state.welcomed = true;
    clock.fromWelcome(int(w.serverTime));
    if (w.token && state.me.guest) localStorage.setItem(LS_GUEST, w.token);
    welcomed();
    if (state.me.guest) state.friends.clear();
    renderMe();
    renderFriendsPanel();
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
    dismissToasts('join');
    dismissToasts('room');
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
    if (state.formerIds.has(u.member.user.id)) return;
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
    jitter.forget(u.userId);
    // A former self (this page before a login) leaves silently; a moved
    // member (another window of theirs took the seat) did not leave.
    const quiet = state.formerIds.has(u.userId) || u.reason === 'moved';
    if (m && !quiet) chat.notice(`${nameOf(m.user)} left${u.reason === 'kicked' || u.reason === 'banned' ? ' (' + u.reason + ')' : ''}.`);
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
    if (!r.room.settings?.onlyOwnerCanChat) dismissToasts('room:chat');
    if (!r.room.settings?.onlyOwnerCanPlay) dismissToasts('room:play');
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
      const name = roomLabel(state.room) || k.roomId;
      const until = new Date(Date.now() + ban * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
      if (k.reason === 'room lost') toast('This room was lost when the server restarted; you are back in the lobby.', 'warn');
      else toast(ban ? `The owner banned you from \u201c${name}\u201d until ${until}.` : `The owner removed you from \u201c${name}\u201d.`, 'warn', 7000);
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

  // Each event plays at the batch's time + its delay + the sender's
  // playback buffer (see JitterBuffer), never before that sender's
  // previous event.
  notes(b) {
    const source = b.userId || '?';
    const t0 = int(b.time);
    const now = clock.now();
    const base = t0 + jitter.observe(source, now - t0) - now;
    const color = colorOf(state.members.get(source)?.user || { id: source });
    for (const ev of b.events || []) {
      const at = jitter.order(source, Math.max(0, Math.min(1500, base + int(ev.delayMs))));
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
    renderFriends($('#friends'), state.friends, friendActions, state.rooms);
  },

  friendUpdate(f, req) {
    if (req?.kind === 'friends') state.friends.clear();
    for (const fr of f.friends || []) {
      const id = fr.user?.id;
      if (!id) continue;
      if (!fr.status || fr.status === 'FRIEND_STATUS_UNSPECIFIED') state.friends.delete(id);
      else state.friends.set(id, fr);
    }
    renderFriends($('#friends'), state.friends, friendActions, state.rooms);
    renderRoom(); // "+ Friend" only for members not yet asked
    if (req?.kind === 'friendAct') toast('Friends updated.', 'ok', 1500);
  },

  achievement(a) {
    toast(`Achievement unlocked: ${a.title || a.achievementId}`, 'ok', 6000);
  },

  noteQuota(q) {
    renderQuota(q);
    if (int(q.allowance) <= 0) toast('You are playing faster than the room allows: some notes were not sent.', 'warn', { tag: 'quota' });
    else dismissToasts('quota');
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
        askPassword(req.room, !!req.password);
        return;
      }
      toast(joinRefusal(code, e.message, roomName(req.room)), 'error', { ms: 7000, tag: 'join:' + req.room });
      if (!state.room && req.room !== 'lobby') join('lobby');
      return;
    }
    if (req?.kind === 'friends' && state.me?.guest) return; // guests have no friends list
    if (req?.kind === 'roomSettings') return roomSettingsFailed(e.message || code);
    const tag = req?.kind === 'chat' ? 'room:chat' : '';
    toast(refusal(code, req?.kind), 'error', { tag });
    if (e.message) console.info('refused', req?.kind, code, e.message);
  },
};

// roomName is the name of roomId as the room list knows it, else the id.
function roomName(roomId) {
  const r = state.rooms.find((x) => x.id === roomId);
  return r ? roomLabel(r) : roomId;
}

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
