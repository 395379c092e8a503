import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { EnvironmentConfig } from '../../../src/config/schema';
import { makeTestPki, type TestPki } from './pki';
import { startPostfix, stopAllPostfix, type PostfixInstance, type StartOptions } from './postfix';
import { startSink, type Sink, type SinkOptions } from './sink';
import { tempDir } from './temp';

/** What a suite relays through: a test CA, the sink standing in for the relay, and Postfix. */
export interface RelayFixture {
  readonly pki: TestPki;
  readonly sink: Sink;
  readonly pf: PostfixInstance;
}

export interface UseRelayOptions {
  /** The sink's options besides its PKI. @default { mode: 'good' } */
  readonly sink?: Omit<SinkOptions, 'pki'>;
  /** startPostfix options besides env, relay and caFile (e.g. `mainCf`). @default {} */
  readonly postfix?: Omit<StartOptions, 'env' | 'relay' | 'caFile'>;
  /** Forget what the sink received before each test. @default false */
  readonly clearSinkEachTest?: boolean;
}

/**
 * The usual set-up of a suite, as hooks of the enclosing `describe`: before all its tests, a test
 * PKI, a sink and Postfix running `env` relaying to that sink over verified TLS, handed to `onReady`
 * for the suite to keep; after them, both stopped (also when a test failed).
 *
 *   let sink: Sink, pf: PostfixInstance;
 *   useRelay(env, { clearSinkEachTest: true }, (r) => ({ sink, pf } = r));
 */
export function useRelay(env: EnvironmentConfig, options: UseRelayOptions, onReady: (relay: RelayFixture) => void): void {
  let sink: Sink | undefined;
  beforeAll(async () => {
    const pki = makeTestPki(tempDir());
    sink = await startSink({ mode: 'good', ...options.sink, pki });
    const pf = await startPostfix({ ...options.postfix, env, relay: { port: sink.port }, caFile: pki.caFile });
    onReady({ pki, sink, pf });
  });
  afterAll(async () => {
    await stopAllPostfix();
    await sink?.stop();
  });
  if (options.clearSinkEachTest) beforeEach(() => sink?.clear());
}
