/**
 * What the stream examples share: a runtime in a fresh temporary directory holding a seeded click
 * stream in the topic `clicks` (keyed by user, timestamped by the click's `ts`), removed again by
 * `done()`. The seed is fixed, so every run prints the same results.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { open, type Tributary } from '../../src/index.js';
import { ClickStream, type ClickStreamOptions } from '../../src/workload/click-events.js';

export interface ClickData {
  readonly rt: Tributary;
  /** Closes the runtime and removes its directory. */
  done(): Promise<void>;
}

export async function openWithClicks(events: number, stream: ClickStreamOptions, partitions = 4): Promise<ClickData> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-example-'));
  const rt = await open({ dir, threads: 2 });
  await rt.admin.createTopic('clicks', { partitions });
  const clicks = new ClickStream({ seed: 7, ...stream });
  const producer = rt.producer();
  for (let sent = 0; sent < events; sent += 10_000) await producer.send({ topic: 'clicks', messages: clicks.records(Math.min(10_000, events - sent)) });
  await producer.disconnect();
  return {
    rt,
    async done() {
      await rt.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `12:34` for an epoch-ms time, in UTC. */
export function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 16);
}
