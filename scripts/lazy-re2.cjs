// Stands in for @kubernetes-models/validate/runtime/re2 in the synth bundle (scripts/synth.cjs).
// The prometheus-operator models build their RE2 patterns when they load, and loading re2-wasm
// compiles a WebAssembly module (about 16 ms of every synth). Our objects never set the only such
// field (a PrometheusRule's partial_response_strategy), so the real RE2 is made on first use.
'use strict';
Object.defineProperty(exports, '__esModule', { value: true });

let RE2;

class LazyRE2 {
  constructor(pattern, flags) {
    this.pattern = pattern;
    this.flags = flags;
    this.compiled = undefined;
  }

  /** The real re2-wasm RegExp, compiled on first use (and only then is re2-wasm loaded). The models call only test(). */
  get re() {
    if (!this.compiled) {
      RE2 ??= require('re2-wasm').RE2;
      this.compiled = new RE2(this.pattern, this.flags);
    }
    return this.compiled;
  }

  test(text) {
    return this.re.test(text);
  }
}

exports.default = LazyRE2;
