// app.js: the PianoRhythm web client. It speaks the JSON form of the
// WebSocket protocol (pianorhythm.v1.json), keeps the room state, and wires
// the keyboard, the synthesizer and the panels together. The work is done by
// the modules below; each gets the shared state and services through init.

import { Connection, Clock, NoteBatcher, JitterBuffer } from './net.js';
import { Synth } from './audio.js';
import { Piano } from './piano.js';
import { $, Chat } from './ui.js';
import * as session from './session.js';
import * as actions from './actions.js';
import * as handlers from './handlers.js';
import * as notes from './notes.js';
import * as roomView from './room-view.js';
import * as controls from './controls.js';

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
  usedToken: false,
  formerIds: new Set(), // who this page was before a login or logout
};

const clock = new Clock();
const jitter = new JitterBuffer();
const synth = new Synth();
const chat = new Chat($('#chat-log'), { onDelete: (messageId) => actions.request('deleteChat', { chatModeration: { messageId } }) });
const conn = new Connection({ url: session.wsURL, onOpen: session.onOpen, onMessage: handlers.onMessage, onDown: session.onDown, onFatal: session.onFatal });
// Notes go out at once after a pause and at most every 25 ms while they
// keep coming (the protocol allows 25-200 ms; the quota counts notes, not
// messages).
const batcher = new NoteBatcher({ clock, send: (m) => state.room && conn.send(m), intervalMs: 25 });
// 88 keys, A0 to C8, as on a piano.
const piano = new Piano($('#keyboard'), { low: 21, high: 108, onPress: notes.localNoteOn, onRelease: notes.localNoteOff });
piano.velocity = Number($('#velocity').value);

const app = { state, clock, jitter, synth, chat, conn, batcher, piano };
for (const m of [session, actions, handlers, notes, roomView, controls]) m.init(app);

controls.bind();
notes.enableSound(); // runs at once where the autoplay policy allows it
setInterval(actions.ping, 5000);
setInterval(actions.listRooms, 15000);
conn.connect();

// For tests and debugging in the console.
// request(kind, msg) sends as the page's own controls do.
window.pianorhythm = { state, clock, jitter, conn, piano, synth, batcher, errors, request: actions.request };
