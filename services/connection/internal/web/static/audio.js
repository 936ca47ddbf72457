// audio.js: a small WebAudio piano-like synthesizer. Each voice is two
// slightly detuned harmonic oscillators (a string pair) through a low-pass
// filter that closes as the note decays, plus a short hammer noise; the
// velocity sets loudness and brightness. A sustain pedal per source (the
// local player and each remote user) holds released notes until it lifts.

const MAX_VOICES = 64;
// A note asked for while the context is still resuming (the first key
// press unlocks it) is played once it runs, if that is within LATE_MS of
// when it was meant; older ones are dropped rather than played in a heap.
const LATE_MS = 400;

export class Synth {
  constructor() {
    this.ctx = null;
    this.voices = new Map(); // "source:note" -> voice
    this.sustained = new Set(); // sources whose pedal is down
    this.volume = 0.8;
    this.resuming = false; // unlock asked the context to resume
    this.waiting = []; // {fn, asked}: calls made while it resumes
    this.tap = null; // an AnalyserNode on the output (see level)
  }

  // unlock creates or resumes the AudioContext; browsers allow it only from
  // a user gesture. Returns true when audio can play (now, or once the
  // context has resumed: the calls made meanwhile are played then, in
  // order).
  unlock() {
    if (!this.ctx) {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return false;
      this.ctx = new Ctx({ latencyHint: 'interactive' });
      this.build();
      this.ctx.addEventListener('statechange', () => this.flushWaiting());
    }
    // A resume() asked for before any gesture never completes; each
    // gesture asks again, and the first one allowed starts the audio.
    if (this.ctx.state === 'suspended') {
      this.resuming = true;
      this.ctx.resume().then(() => this.flushWaiting(), () => {});
    }
    return true;
  }

  flushWaiting() {
    if (!this.running) return;
    this.resuming = false;
    const waiting = this.waiting;
    this.waiting = [];
    const now = performance.now();
    for (const { fn, asked } of waiting) if (now - asked < LATE_MS) fn(now - asked);
  }

  // whenRunning runs fn(lateMs) now when the context runs, else once a
  // resume asked for by unlock succeeds (in order, if within LATE_MS);
  // false when no resume was asked for.
  whenRunning(fn) {
    if (this.running) {
      fn(0);
      return true;
    }
    if (!this.resuming) return false;
    this.waiting.push({ fn, asked: performance.now() });
    return true;
  }

  // level is the peak amplitude (0..1) of what the synthesizer plays now,
  // read from an analyser on its output: the page's own audio tap, for the
  // browser tests and a level meter.
  level() {
    if (!this.tap) return 0;
    const buf = new Float32Array(this.tap.fftSize);
    this.tap.getFloatTimeDomainData(buf);
    let peak = 0;
    for (const v of buf) peak = Math.max(peak, Math.abs(v));
    return peak;
  }

  get running() {
    return this.ctx !== null && this.ctx.state === 'running';
  }

  setVolume(v) {
    this.volume = v;
    if (this.master) this.master.gain.setTargetAtTime(v, this.ctx.currentTime, 0.02);
  }

  build() {
    const ctx = this.ctx;
    this.master = ctx.createGain();
    this.master.gain.value = this.volume;
    const comp = ctx.createDynamicsCompressor();
    comp.threshold.value = -14;
    comp.knee.value = 10;
    comp.ratio.value = 4;
    comp.attack.value = 0.003;
    comp.release.value = 0.2;
    this.bus = ctx.createGain(); // voices connect here
    const reverb = ctx.createConvolver();
    reverb.buffer = impulse(ctx, 1.8, 2.6);
    const wet = ctx.createGain();
    wet.gain.value = 0.18;
    this.bus.connect(this.master);
    this.bus.connect(reverb).connect(wet).connect(this.master);
    this.master.connect(comp).connect(ctx.destination);
    this.tap = ctx.createAnalyser();
    this.tap.fftSize = 2048;
    comp.connect(this.tap);

    // Harmonic amplitudes of a soft, piano-ish tone.
    const amps = [0, 1, 0.55, 0.32, 0.22, 0.12, 0.09, 0.05, 0.035, 0.02];
    this.wave = ctx.createPeriodicWave(new Float32Array(amps.length), Float32Array.from(amps));
    this.noise = noiseBuffer(ctx, 0.06);
  }

  // noteOn starts note for source at velocity (1-127), atMs from now.
  noteOn(source, note, velocity, atMs = 0) {
    if (!this.running) {
      this.whenRunning((late) => this.noteOn(source, note, velocity, atMs - late));
      return;
    }
    const key = source + ':' + note;
    const t = this.ctx.currentTime + Math.max(0, atMs) / 1000;
    const old = this.voices.get(key);
    if (old) this.release(old, t, 0.015);
    if (this.voices.size >= MAX_VOICES) this.steal(t);
    const voice = this.makeVoice(note, Math.max(1, Math.min(127, velocity)), t);
    voice.key = key;
    voice.source = source;
    this.voices.set(key, voice);
  }

  noteOff(source, note, atMs = 0) {
    if (!this.running && this.whenRunning((late) => this.noteOff(source, note, atMs - late))) return;
    const voice = this.voices.get(source + ':' + note);
    if (!voice || !this.ctx) return;
    if (this.sustained.has(source)) {
      voice.held = true;
      return;
    }
    this.release(voice, this.ctx.currentTime + Math.max(0, atMs) / 1000);
  }

  sustain(source, on, atMs = 0) {
    if (on) {
      this.sustained.add(source);
      return;
    }
    this.sustained.delete(source);
    if (!this.ctx) return;
    const t = this.ctx.currentTime + Math.max(0, atMs) / 1000;
    for (const v of [...this.voices.values()]) {
      if (v.source === source && v.held) this.release(v, t);
    }
  }

  // allOff silences a source, e.g. a member who left.
  allOff(source) {
    this.sustained.delete(source);
    if (!this.ctx) return;
    for (const v of [...this.voices.values()]) {
      if (v.source === source) this.release(v, this.ctx.currentTime, 0.05);
    }
  }

  makeVoice(note, velocity, t) {
    const ctx = this.ctx;
    const f = 440 * 2 ** ((note - 69) / 12);
    const v = velocity / 127;
    const peak = 0.05 + 0.25 * v * v;
    // Low notes ring longer; high notes die quickly, as on a real piano.
    const decay = Math.max(0.6, Math.min(4.5, 4.5 - (note - 36) * 0.06));

    const out = ctx.createGain();
    out.gain.setValueAtTime(0, t);
    out.gain.linearRampToValueAtTime(peak, t + 0.005);
    out.gain.setTargetAtTime(peak * 0.4, t + 0.005, 0.15);
    out.gain.setTargetAtTime(0.0001, t + 0.4, decay);

    const filter = ctx.createBiquadFilter();
    filter.type = 'lowpass';
    filter.Q.value = 0.6;
    const bright = Math.min(16000, f * (2.5 + 10 * v));
    filter.frequency.setValueAtTime(bright, t);
    filter.frequency.setTargetAtTime(Math.max(f * 1.5, 300), t + 0.01, 0.5 + decay * 0.2);
    filter.connect(out);
    out.connect(this.bus);

    const oscs = [];
    for (const cents of [-2.5, 2.5]) {
      const o = ctx.createOscillator();
      o.setPeriodicWave(this.wave);
      o.frequency.value = f;
      o.detune.value = cents;
      o.connect(filter);
      o.start(t);
      oscs.push(o);
    }

    // Hammer: a brief band-passed click, louder at high velocity.
    const hammer = ctx.createBufferSource();
    hammer.buffer = this.noise;
    const hb = ctx.createBiquadFilter();
    hb.type = 'bandpass';
    hb.frequency.value = Math.min(8000, f * 4);
    const hg = ctx.createGain();
    hg.gain.setValueAtTime(0.06 * v, t);
    hg.gain.exponentialRampToValueAtTime(0.0001, t + 0.05);
    hammer.connect(hb).connect(hg).connect(out);
    hammer.start(t);

    const end = t + 0.4 + decay * 6; // inaudible by then, even if held
    for (const o of oscs) o.stop(end);
    const voice = { out, oscs, held: false, start: t, ended: false };
    oscs[0].onended = () => {
      voice.ended = true;
      out.disconnect();
      if (this.voices.get(voice.key) === voice) this.voices.delete(voice.key);
    };
    return voice;
  }

  release(voice, t, tc) {
    if (voice.released) return;
    voice.released = true;
    if (this.voices.get(voice.key) === voice) this.voices.delete(voice.key);
    if (voice.ended) return;
    const g = voice.out.gain;
    if (g.cancelAndHoldAtTime) {
      g.cancelAndHoldAtTime(t);
    } else {
      g.cancelScheduledValues(t);
      g.setValueAtTime(g.value, t);
    }
    g.setTargetAtTime(0, t, tc ?? 0.09);
    for (const o of voice.oscs) {
      try {
        o.stop(t + (tc ?? 0.09) * 8);
      } catch (_) { /* already stopped */ }
    }
  }

  steal(t) {
    let oldest = null;
    for (const v of this.voices.values()) if (!oldest || v.start < oldest.start) oldest = v;
    if (oldest) this.release(oldest, t, 0.01);
  }
}

function noiseBuffer(ctx, seconds) {
  const buf = ctx.createBuffer(1, Math.ceil(ctx.sampleRate * seconds), ctx.sampleRate);
  const d = buf.getChannelData(0);
  for (let i = 0; i < d.length; i++) d[i] = Math.random() * 2 - 1;
  return buf;
}

// impulse is a synthetic room response: stereo noise with an exponential tail.
function impulse(ctx, seconds, decay) {
  const len = Math.ceil(ctx.sampleRate * seconds);
  const buf = ctx.createBuffer(2, len, ctx.sampleRate);
  for (let c = 0; c < 2; c++) {
    const d = buf.getChannelData(c);
    for (let i = 0; i < len; i++) d[i] = (Math.random() * 2 - 1) * (1 - i / len) ** decay;
  }
  return buf;
}
