// notes.js: playing: the local player's notes and sustain (heard at once,
// batched to the room) and the remote players' notes (scheduled).

import { int } from './net.js';
import { $, toast, colorOf } from './ui.js';
import { playLocked } from './room-view.js';

const ME = 'me'; // the local player's source id for the synth and keys
const KINDS = ['NOTE_KIND_UNSPECIFIED', 'NOTE_ON', 'NOTE_OFF', 'SUSTAIN_ON', 'SUSTAIN_OFF'];

let state, synth, piano, batcher;

// init hands over the shared state and services owned by app.js.
export function init(app) {
  ({ state, synth, piano, batcher } = app);
}

export function localNoteOn(note, velocity) {
  enableSound();
  if (playLocked()) {
    toast('Only the room owner may play in this room.', 'warn', { tag: 'room:play' });
    return;
  }
  synth.noteOn(ME, note, velocity);
  piano.press(note, ME, colorOf(state.me || {}));
  batcher.push('NOTE_ON', note, velocity);
}

export function localNoteOff(note) {
  synth.noteOff(ME, note);
  piano.release(note, ME);
  if (!playLocked()) batcher.push('NOTE_OFF', note, 0);
}

export function setSustain(on) {
  if (state.sustain === on) return;
  state.sustain = on;
  synth.sustain(ME, on);
  batcher.push(on ? 'SUSTAIN_ON' : 'SUSTAIN_OFF', 0, on ? 127 : 0);
  const b = $('#sustain');
  b.textContent = `Sustain: ${on ? 'on' : 'off'}`;
  b.classList.toggle('on', on);
}

// playRemote schedules one remote event atMs from now: the sound on the
// audio clock at once (sample accurate, in order), the key light by timer
// (at once when it is due within a millisecond).
export function playRemote(source, color, ev, atMs) {
  const kind = typeof ev.kind === 'number' ? KINDS[ev.kind] : ev.kind;
  const note = int(ev.note);
  switch (kind) {
    case 'NOTE_ON':
      synth.noteOn(source, note, int(ev.velocity) || 64, atMs);
      later(atMs, () => piano.press(note, source, color));
      break;
    case 'NOTE_OFF':
      synth.noteOff(source, note, atMs);
      later(atMs, () => piano.release(note, source));
      break;
    case 'SUSTAIN_ON':
      synth.sustain(source, true, atMs);
      break;
    case 'SUSTAIN_OFF':
      synth.sustain(source, false, atMs);
      break;
  }
}

function later(ms, fn) {
  if (ms < 1) fn();
  else setTimeout(fn, ms);
}

export function forgetRemotePlayers() {
  piano.releaseOthers(ME);
  for (const id of state.members.keys()) synth.allOff(id);
}

export function enableSound() {
  if (synth.unlock() && synth.ctx) {
    const update = () => ($('#sound-btn').hidden = synth.ctx.state === 'running');
    synth.ctx.onstatechange = update;
    update();
  }
}
