// piano.js: the on-screen keyboard and the local inputs that play it —
// mouse and touch (press, release, glissando by dragging), the computer
// keyboard and Web MIDI.

const NAMES = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'];
const BLACK = new Set([1, 3, 6, 8, 10]);

export function noteName(n) {
  return NAMES[n % 12] + (Math.floor(n / 12) - 1);
}

// QWERTY mapping by physical key (KeyboardEvent.code), semitones from the
// row's C. Lower row starts at C3, upper row at C4; the octave shift moves
// both. Black keys sit on the row above, as on a piano.
export const LOWER_ROW = ['KeyZ', 'KeyS', 'KeyX', 'KeyD', 'KeyC', 'KeyV', 'KeyG', 'KeyB', 'KeyH', 'KeyN', 'KeyJ', 'KeyM',
  'Comma', 'KeyL', 'Period', 'Semicolon', 'Slash'];
export const UPPER_ROW = ['KeyQ', 'Digit2', 'KeyW', 'Digit3', 'KeyE', 'KeyR', 'Digit5', 'KeyT', 'Digit6', 'KeyY', 'Digit7', 'KeyU',
  'KeyI', 'Digit9', 'KeyO', 'Digit0', 'KeyP', 'BracketLeft', 'Equal', 'BracketRight'];
const PUNCT = { Comma: ',', Period: '.', Semicolon: ';', Slash: '/', BracketLeft: '[', BracketRight: ']', Equal: '=' };

function codeLabel(code) {
  if (code.startsWith('Key')) return code.slice(3);
  if (code.startsWith('Digit')) return code.slice(5);
  return PUNCT[code] ?? code;
}

// codeFromKey recovers the physical code from a key value, for synthetic
// events that carry only `key`.
const KEY_TO_CODE = new Map();
for (const code of [...LOWER_ROW, ...UPPER_ROW]) KEY_TO_CODE.set(codeLabel(code).toLowerCase(), code);

// Piano renders keys low..high into el. Every key is an element with
// data-note; a pressed key has class "active", data-by (the ids of who holds
// it) and its presser's color in --press.
// The keyboard is as wide as its container, but never narrower than
// MIN_WHITE_PX per white key: on a narrow screen it scrolls (see
// controls.js) rather than shrinking the keys below a fingertip.
export const MIN_WHITE_PX = 24;

export class Piano {
  constructor(el, { low = 36, high = 96, onPress, onRelease }) {
    this.el = el;
    this.low = low;
    this.high = high;
    this.onPress = onPress; // (note, velocity) from a local input
    this.onRelease = onRelease; // (note)
    this.keys = new Map(); // note -> element
    this.holders = new Map(); // note -> Map(source -> color)
    this.octave = 0;
    this.held = new Map(); // input id -> note, for local inputs
    this.render();
    this.bindPointer();
  }

  render() {
    this.el.textContent = '';
    let whites = 0;
    for (let n = this.low; n <= this.high; n++) if (!BLACK.has(n % 12)) whites++;
    this.whites = whites;
    this.el.style.minWidth = `${whites * MIN_WHITE_PX}px`;
    const ww = 100 / whites;
    let wi = 0;
    for (let n = this.low; n <= this.high; n++) {
      const k = document.createElement('div');
      const black = BLACK.has(n % 12);
      k.className = 'key ' + (black ? 'black' : 'white');
      k.dataset.note = String(n);
      k.title = noteName(n);
      const label = document.createElement('span');
      label.className = 'label';
      k.appendChild(label);
      if (black) {
        k.style.left = `calc(${wi * ww}% - ${ww * 0.31}%)`;
        k.style.width = `${ww * 0.62}%`;
      } else {
        k.style.left = `${wi * ww}%`;
        k.style.width = `${ww}%`;
        wi++;
      }
      this.el.appendChild(k);
      this.keys.set(n, k);
    }
    this.updateLabels();
  }

  // updateLabels shows the computer keys of each mapped key (the rows
  // overlap: Q and , both play C4) and the octave name on every C.
  updateLabels() {
    const map = new Map();
    for (const [code, note] of this.codeMap()) map.set(note, [...(map.get(note) ?? []), codeLabel(code)]);
    for (const [n, k] of this.keys) {
      const l = k.querySelector('.label');
      const name = n % 12 === 0 ? noteName(n) : '';
      l.innerHTML = '';
      for (const c of map.get(n) ?? []) {
        const b = document.createElement('b');
        b.textContent = c;
        l.appendChild(b);
      }
      if (name) {
        const s = document.createElement('small');
        s.textContent = name;
        l.appendChild(s);
      }
    }
  }

  codeMap() {
    const m = new Map();
    const lower = 48 + 12 * this.octave;
    const upper = 60 + 12 * this.octave;
    LOWER_ROW.forEach((c, i) => m.set(c, lower + i));
    UPPER_ROW.forEach((c, i) => m.set(c, upper + i));
    return m;
  }

  shiftOctave(d) {
    this.octave = Math.max(-1, Math.min(1, this.octave + d));
    this.updateLabels();
    return this.octave;
  }

  // noteForKeyEvent maps a keyboard event to a MIDI note, or undefined.
  noteForKeyEvent(e) {
    const code = e.code || KEY_TO_CODE.get((e.key || '').toLowerCase());
    return code ? this.codeMap().get(code) : undefined;
  }

  // press lights a key for source in color; release and releaseAll undo it.
  press(note, source, color) {
    let h = this.holders.get(note);
    if (!h) this.holders.set(note, (h = new Map()));
    h.delete(source); // re-insert so the latest presser's color shows
    h.set(source, color);
    this.paint(note);
  }

  release(note, source) {
    const h = this.holders.get(note);
    if (h && h.delete(source)) this.paint(note);
  }

  releaseAll(source) {
    for (const [note, h] of this.holders) if (h.delete(source)) this.paint(note);
  }

  releaseOthers(keep) {
    for (const [note, h] of this.holders) {
      let changed = false;
      for (const s of [...h.keys()]) if (s !== keep) changed = h.delete(s) || changed;
      if (changed) this.paint(note);
    }
  }

  paint(note) {
    const k = this.keys.get(note);
    if (!k) return;
    const h = this.holders.get(note);
    if (!h || h.size === 0) {
      k.classList.remove('active');
      delete k.dataset.by;
      k.style.removeProperty('--press');
      return;
    }
    k.classList.add('active');
    k.dataset.by = [...h.keys()].join(' ');
    k.style.setProperty('--press', [...h.values()].pop());
  }

  // Local inputs: id identifies the finger (mouse, touch id, key code) so
  // several can hold notes at once.
  inputDown(id, note, velocity) {
    if (this.held.get(id) === note) return;
    this.inputUp(id);
    this.held.set(id, note);
    this.onPress(note, velocity);
  }

  inputUp(id) {
    const note = this.held.get(id);
    if (note === undefined) return;
    this.held.delete(id);
    this.onRelease(note);
  }

  inputUpAll() {
    for (const id of [...this.held.keys()]) this.inputUp(id);
  }

  keyAt(x, y) {
    const el = document.elementFromPoint(x, y);
    const k = el && el.closest ? el.closest('.key') : null;
    return k && this.el.contains(k) ? k : null;
  }

  // velocityAt: like a real key, pressing nearer the front is louder.
  velocityAt(k, y) {
    const r = k.getBoundingClientRect();
    const frac = r.height > 0 ? Math.max(0, Math.min(1, (y - r.top) / r.height)) : 0.7;
    return Math.round(this.maxVelocity() * (0.55 + 0.45 * frac));
  }

  maxVelocity() {
    return this.velocity ?? 96;
  }

  bindPointer() {
    let dragging = false;
    this.el.addEventListener('mousedown', (e) => {
      if (e.button !== 0) return;
      const k = e.target.closest('.key');
      if (!k) return;
      e.preventDefault();
      dragging = true;
      this.inputDown('mouse', Number(k.dataset.note), this.velocityAt(k, e.clientY));
    });
    this.el.addEventListener('mouseover', (e) => {
      if (!dragging) return;
      const k = e.target.closest('.key');
      if (k) this.inputDown('mouse', Number(k.dataset.note), this.velocityAt(k, e.clientY));
    });
    window.addEventListener('mouseup', () => {
      if (!dragging) return;
      dragging = false;
      this.inputUp('mouse');
    });
    const touches = (e) => {
      e.preventDefault();
      const live = new Set();
      for (const t of e.touches) {
        const id = 'touch' + t.identifier;
        live.add(id);
        const k = this.keyAt(t.clientX, t.clientY);
        if (k) this.inputDown(id, Number(k.dataset.note), this.velocityAt(k, t.clientY));
        else this.inputUp(id);
      }
      for (const id of [...this.held.keys()]) if (id.startsWith('touch') && !live.has(id)) this.inputUp(id);
    };
    for (const type of ['touchstart', 'touchmove', 'touchend', 'touchcancel']) {
      this.el.addEventListener(type, touches, { passive: false });
    }
  }
}

// connectMIDI asks for Web MIDI and calls handlers for every input device:
// onNote(note, velocity) with velocity 0 for note off, onSustain(on).
// Resolves to the device names, or rejects when MIDI is unavailable.
export async function connectMIDI({ onNote, onSustain, onDevices }) {
  if (!navigator.requestMIDIAccess) throw new Error('Web MIDI is not supported by this browser');
  const access = await navigator.requestMIDIAccess({ sysex: false });
  const attach = () => {
    const names = [];
    for (const input of access.inputs.values()) {
      names.push(input.name || 'MIDI input');
      input.onmidimessage = (m) => {
        const [status, a, b] = m.data;
        const cmd = status & 0xf0;
        if (cmd === 0x90) onNote(a, b);
        else if (cmd === 0x80) onNote(a, 0);
        else if (cmd === 0xb0 && a === 64) onSustain(b >= 64);
      };
    }
    onDevices?.(names);
    return names;
  };
  access.onstatechange = attach;
  return attach();
}
