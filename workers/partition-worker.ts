/**
 * The piscina entry of a partition worker thread: one long-lived task per thread that hosts the
 * partitions placed on it and serves the runtime's requests from `task.port` until the runtime
 * closes the port. All logic lives in src/: PartitionHost, the group coordinators it hosts beside
 * the `__consumer_offsets` partitions, the thread's tasks (pipelines), and the thread's own client
 * (ThreadClient), through which tasks reach partitions, local ones without a message; this file
 * only wires them.
 */
import { GroupCoordinatorExtension } from '../src/group/coordinator-extension.js';
import { PartitionHost } from '../src/partition/partition-host.js';
import type { HostReady, WorkerHostTask, WorkerRequest } from '../src/runtime/messages.js';
import { ThreadClient } from '../src/runtime/thread-client.js';
import { ThreadTaskExtension } from '../src/runtime/thread-tasks.js';

export default async function hostPartitions(task: WorkerHostTask): Promise<void> {
  const { port, uplink, slot } = task;
  const host = new PartitionHost(
    (response, transfer) => (ThreadClient.isLocal(response) ? client.deliver(response) : port.postMessage(response, transfer)),
    { extensions: [new GroupCoordinatorExtension(), new ThreadTaskExtension(() => client)] },
  );
  const client = new ThreadClient(slot, uplink, (request) => host.handle(request));
  const closed = new Promise<void>((resolve) => port.once('close', resolve));
  port.on('message', (request: WorkerRequest) => host.handle(request));
  port.postMessage({ ready: true } satisfies HostReady);
  await closed;
  client.close();
  uplink.close();
  // Logs are closed cleanly (written, fdatasynced, marked) so the next open skips recovery.
  host.close();
}
