/**
 * The piscina entry of a partition worker thread: one long-lived task per thread that hosts the
 * partitions placed on it and serves the runtime's requests from `task.port` until the runtime
 * closes the port. All logic lives in PartitionHost (and the group coordinators it hosts beside
 * the `__consumer_offsets` partitions); this file only wires the port to them.
 */
import { GroupCoordinatorExtension } from '../src/group/coordinator-extension.js';
import { PartitionHost } from '../src/partition/partition-host.js';
import type { HostReady, WorkerHostTask, WorkerRequest } from '../src/runtime/messages.js';

export default async function hostPartitions(task: WorkerHostTask): Promise<void> {
  const { port } = task;
  const host = new PartitionHost((response, transfer) => port.postMessage(response, transfer), { extensions: [new GroupCoordinatorExtension()] });
  const closed = new Promise<void>((resolve) => port.once('close', resolve));
  port.on('message', (request: WorkerRequest) => host.handle(request));
  port.postMessage({ ready: true } satisfies HostReady);
  await closed;
  // Logs are closed cleanly (written, fdatasynced, marked) so the next open skips recovery.
  host.close();
}
