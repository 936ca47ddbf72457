// dialogs.js: the modal dialogs (room password, profile, login). Each
// opens its <dialog> from index.html and reports the outcome to a callback.

import { $, toast, nameOf } from './ui.js';
import { authCall } from './auth.js';

// askRoomPassword calls done(password), with '' when cancelled.
export function askRoomPassword(room, done) {
  const dlg = $('#password-dialog');
  dlg.querySelector('.dlg-room').textContent = room;
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
