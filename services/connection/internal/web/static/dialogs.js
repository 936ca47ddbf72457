// dialogs.js: the modal dialogs (room password, room settings, profile,
// login). Each opens its <dialog> from index.html and reports the outcome
// to a callback.

import { $, toast, nameOf, roomLabel } from './ui.js';
import { authCall } from './auth.js';

// askRoomPassword asks for the password of the room called name (wrong:
// the last one was refused, said in the dialog) and calls done(password),
// with '' when cancelled.
export function askRoomPassword(name, wrong, done) {
  const dlg = $('#password-dialog');
  dlg.querySelector('.dlg-room').textContent = name;
  const err = dlg.querySelector('.dlg-error');
  err.hidden = !wrong;
  err.textContent = wrong ? 'That password is not right. Try again.' : '';
  const input = dlg.querySelector('input[name=password]');
  input.value = '';
  dlg.onclose = () => done(dlg.returnValue === 'ok' ? input.value : '');
  dlg.showModal();
}

// editProfile calls save({name, color}) when the user saves.
export function editProfile(me, save) {
  const dlg = $('#profile-dialog');
  const f = dlg.querySelector('form').elements;
  f.name.value = nameOf(me);
  if (/^#[0-9a-fA-F]{6}$/.test(me?.color || '')) f.color.value = me.color;
  dlg.querySelector('.dlg-user-id').textContent = me?.id || '';
  dlg.onclose = () => {
    if (dlg.returnValue === 'ok') save({ name: f.name.value.trim(), color: f.color.value });
  };
  dlg.showModal();
}

// askLogin logs in or registers through the REST API and calls done()
// once the tokens are stored.
export function askLogin(done) {
  const dlg = $('#login-dialog');
  dlg.onclose = async () => {
    const kind = dlg.returnValue;
    if (kind !== 'login' && kind !== 'register') return;
    const f = dlg.querySelector('form').elements;
    const body = { username: f.username.value.trim(), password: f.password.value };
    try {
      await authCall(kind === 'login' ? '/v1/auth/login' : '/v1/auth/register', body);
      f.password.value = '';
      done();
    } catch (err) {
      toast(`${kind === 'login' ? 'Login' : 'Registration'} failed: ${err.message}`);
    }
  };
  dlg.showModal();
}

// The room settings a change may flip; each is a checkbox named like the
// RoomSettings field.
const ROOM_FLAGS = ['public', 'allowGuests', 'proOnly', 'onlyOwnerCanChat', 'onlyOwnerCanPlay'];
const NO_COLOR = '#5ad1a3'; // what the room list shows for a room without a color

// editRoomSettings opens the settings of room for its owner or staff.
// save(settings) gets only the fields that differ from room's (they are
// optional in RoomSettings: unset means unchanged) and returns whether the
// request went out; the dialog then stays open, busy, until
// roomSettingsDone or roomSettingsFailed. clearChat, when set (the server
// lets only staff clear), is offered as a button. capacity bounds max
// players.
export function editRoomSettings(room, { capacity, save, clearChat }) {
  const dlg = $('#room-settings-dialog');
  const form = dlg.querySelector('form');
  const f = form.elements;
  const s = room.settings || {};
  dlg.querySelector('.dlg-room-id').textContent = room.id;
  f.name.value = roomLabel(room);
  f.password.value = '';
  f.password.placeholder = room.hasPassword ? 'Leave empty to keep it' : 'None; type one to set it';
  f.removePassword.checked = false;
  f.removePassword.onchange = () => (f.password.disabled = f.removePassword.checked);
  f.password.disabled = false;
  dlg.querySelector('.dlg-remove-password').hidden = !room.hasPassword;
  for (const k of ROOM_FLAGS) f[k].checked = !!s[k];
  f.welcomeMessage.value = s.welcomeMessage || '';
  f.maxPlayers.max = String(capacity);
  f.maxPlayers.value = String(s.maxPlayers || capacity);
  f.color.value = /^#[0-9a-fA-F]{6}$/.test(s.color || '') ? s.color.toLowerCase() : NO_COLOR;
  const color = f.color.value; // a color input cannot be empty: unchanged means unset
  busy(dlg, false);
  roomSettingsFailed('');

  dlg.querySelector('.dlg-staff').hidden = !clearChat;
  const clear = f.clearChat;
  clear.textContent = 'Clear chat';
  clearTimeout(clear.timer);
  // Two clicks, no native confirm(): a slip costs the whole history.
  clear.onclick = () => {
    if (clear.dataset.armed !== 'yes') {
      clear.dataset.armed = 'yes';
      clear.textContent = 'Click again to clear';
      clear.timer = setTimeout(() => {
        clear.dataset.armed = '';
        clear.textContent = 'Clear chat';
      }, 3000);
      return;
    }
    clearTimeout(clear.timer);
    clear.dataset.armed = '';
    clear.textContent = 'Clear chat';
    clearChat();
  };

  form.onsubmit = (e) => {
    if (e.submitter?.value !== 'ok') return; // Cancel closes the dialog
    e.preventDefault();
    const changes = {};
    const name = f.name.value.trim();
    if (name !== roomLabel(room)) changes.name = name;
    if (f.removePassword.checked) changes.password = '';
    else if (f.password.value) changes.password = f.password.value;
    for (const k of ROOM_FLAGS) if (f[k].checked !== !!s[k]) changes[k] = f[k].checked;
    if (f.welcomeMessage.value !== (s.welcomeMessage || '')) changes.welcomeMessage = f.welcomeMessage.value;
    const max = Number(f.maxPlayers.value);
    if (max !== (s.maxPlayers || capacity)) changes.maxPlayers = max;
    if (f.color.value !== color) changes.color = f.color.value;
    if (Object.keys(changes).length === 0) return dlg.close('cancel');
    roomSettingsFailed('');
    if (save(changes)) busy(dlg, true);
  };
  dlg.showModal();
}

// roomSettingsDone closes the room settings once the server applied them.
export function roomSettingsDone() {
  const dlg = $('#room-settings-dialog');
  busy(dlg, false);
  if (dlg.open) dlg.close('ok');
}

// roomSettingsFailed shows the server's refusal in the open dialog ('' hides
// it) and lets the user try again.
export function roomSettingsFailed(message) {
  const dlg = $('#room-settings-dialog');
  const p = dlg.querySelector('.dlg-error');
  p.textContent = message;
  p.hidden = !message;
  busy(dlg, false);
}

// closeRoomSettings closes the dialog without saving (the room was left).
export function closeRoomSettings() {
  const dlg = $('#room-settings-dialog');
  if (dlg.open) dlg.close('cancel');
}

function busy(dlg, on) {
  const save = dlg.querySelector('button[value=ok]');
  save.disabled = on;
  save.textContent = on ? 'Saving\u2026' : 'Save';
}
