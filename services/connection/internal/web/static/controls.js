// controls.js: DOM wiring: computer keys, buttons and forms, and MIDI input.

import { connectMIDI } from './piano.js';
import { loadAuth } from './auth.js';
import { editProfile, askLogin, editRoomSettings } from './dialogs.js';
import { $, toast } from './ui.js';
import { request, join, listRooms, listFriends, friendActions, logout } from './actions.js';
import { canEditRoom, isStaff } from './room-view.js';
import { setSustain, enableSound } from './notes.js';

let state, conn, piano, synth;

// init hands over the shared state and services owned by app.js.
export function init(app) {
  ({ state, conn, piano, synth } = app);
}

function openRoomSettings() {
  if (!state.room || !canEditRoom()) return;
  editRoomSettings(state.room, {
    capacity: state.room.lobby ? 30 : 20,
    save: (settings) => !!request('roomSettings', { roomSettings: { settings } }, { room: state.room.id, password: settings.password }),
    clearChat: isStaff() ? () => request('clearChat', { chatModeration: { clear: true } }) : null,
  });
}

function isTyping(t) {
  return t && t.closest && t.closest('input, textarea, select, [contenteditable], dialog');
}

export function bind() {
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
