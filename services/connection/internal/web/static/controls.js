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

// TEXT_FIELDS are the elements that take typed text: while one has the
// focus, keys type; everywhere else they play.
const TEXT_FIELDS = 'input:not([type]), input[type=text], input[type=password], input[type=search], input[type=email], input[type=number], input[type=url], input[type=tel], textarea, select, [contenteditable]';

function isTextField(t) {
  return !!(t && t.closest && t.closest(TEXT_FIELDS));
}

function inDialog(t) {
  return !!(t && t.closest && t.closest('dialog'));
}

// pianoTakesKeys gives the computer keyboard back to the piano: whatever
// has the focus (a text field, a button, a checkbox, a slider) loses it.
function pianoTakesKeys() {
  const a = document.activeElement;
  if (a && a !== document.body && !inDialog(a) && a.blur) a.blur();
  showFocusHint();
}

// showFocusHint says where the keys go: to the piano, or to the text field
// that has the focus (and how to get them back).
function showFocusHint() {
  const a = document.activeElement;
  const hint = $('#focus-hint');
  if (isTextField(a) && !inDialog(a)) {
    const what = a.id === 'chat-input' ? 'the chat' : a.placeholder ? `\u201c${a.placeholder}\u201d` : 'a text field';
    hint.dataset.where = 'field';
    hint.textContent = `Typing in ${what} \u2014 Esc or a click on the piano to play`;
  } else {
    hint.dataset.where = 'piano';
    hint.textContent = 'Your keys play the piano';
  }
}

export function bind() {
  // Any press outside a text field (the piano above all) hands the keys
  // back to the piano; the piano's own mousedown prevents the default
  // focus change, so the field would otherwise keep them.
  document.addEventListener('pointerdown', (e) => {
    if (!isTextField(e.target) && !inDialog(e.target) && isTextField(document.activeElement)) pianoTakesKeys();
  }, { capture: true });
  document.addEventListener('focusin', showFocusHint);
  document.addEventListener('focusout', () => setTimeout(showFocusHint, 0));
  showFocusHint();

  document.addEventListener('keydown', (e) => {
    if (inDialog(e.target)) return;
    if (isTextField(e.target)) {
      if (e.key === 'Escape') pianoTakesKeys();
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === 'Escape') return pianoTakesKeys();
    if (e.code === 'Space' || e.key === ' ') {
      e.preventDefault();
      pianoTakesKeys(); // a focused button or checkbox would be clicked too
      if (!e.repeat) setSustain(!state.sustain);
      return;
    }
    if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
      e.preventDefault();
      pianoTakesKeys(); // a focused slider would move too
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

  bindKeyboardPan();
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

// bindKeyboardPan keeps the 88 keys reachable where they do not fit: the
// keyboard scrolls sideways (a slider below it does it by touch, where a
// swipe on the keys plays them), starting centered on middle C.
function bindKeyboardPan() {
  const box = $('#keyboard-scroll');
  const pan = $('#keyboard-pan');
  const range = () => box.scrollWidth - box.clientWidth;
  const sync = () => {
    pan.hidden = range() <= 1;
    if (!pan.hidden) pan.value = String(Math.round((1000 * box.scrollLeft) / range()));
  };
  const center = () => {
    const c4 = box.querySelector('[data-note="60"]');
    if (c4 && range() > 1) box.scrollLeft = c4.offsetLeft - box.clientWidth / 2 + c4.offsetWidth / 2;
    sync();
  };
  pan.addEventListener('input', () => (box.scrollLeft = (Number(pan.value) / 1000) * range()));
  box.addEventListener('scroll', sync, { passive: true });
  new ResizeObserver(center).observe(box);
  center();
}

function slug(s) {
  return s.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 32) || 'room';
}
