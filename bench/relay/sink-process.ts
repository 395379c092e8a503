import { fork, type ChildProcess } from 'node:child_process';
import type { SinkStats } from './sink';

/** The fast sink in its own process, so it gets its own event loop (and core) apart from the load generator. */
export class SinkProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  static async start(script: string, key: string, cert: string, replyDelayMs = 0): Promise<SinkProcess> {
    const child = fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the bench sink did not start in 10 s')), 10_000);
      child.once('error', reject);
      child.on('message', (m: { type: string; port?: number }) => {
        if (m.type === 'started' && m.port) {
          clearTimeout(timer);
          resolve(m.port);
        }
      });
      child.send({ type: 'start', key, cert, replyDelayMs });
    });
    return new SinkProcess(child, port);
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  stats(): Promise<SinkStats> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the bench sink did not answer')), 5_000);
      const onMessage = (m: { type: string; stats?: SinkStats }): void => {
        if (m.type !== 'stats' || !m.stats) return;
        clearTimeout(timer);
        this.child.off('message', onMessage);
        resolve(m.stats);
      };
      this.child.on('message', onMessage);
      this.child.send({ type: 'stats' });
    });
  }

  /** How many times the sink received each Message-ID of run `prefix` (and forgets them). */
  ids(prefix: string): Promise<Record<string, number>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the bench sink did not answer')), 10_000);
      const onMessage = (m: { type: string; prefix?: string; ids?: Record<string, number> }): void => {
        if (m.type !== 'ids' || m.prefix !== prefix) return;
        clearTimeout(timer);
        this.child.off('message', onMessage);
        resolve(m.ids ?? {});
      };
      this.child.on('message', onMessage);
      this.child.send({ type: 'ids', prefix });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.send({ type: 'stop' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(timer);
  }

  /** Synchronous last resort for process exit handlers. */
  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}
