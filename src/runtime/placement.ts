/**
 * Which thread slot owns each partition. A new partition goes to the slot with the fewest
 * partitions (ties to the lowest slot), so slots stay within one partition of each other while
 * topics are only created, and deleting a topic is evened out by the partitions created next.
 *
 * Placement is not stored: every open recomputes it by placing all partitions afresh, topic by
 * topic in creation order, which on an even field is a round-robin. So a changed `threads`
 * between two opens simply spreads the partitions over the new number of slots; nothing on disk
 * depends on the slot, since every open reopens every partition anyway.
 */
import type { PartitionRef } from './messages.js';

export class Placement {
  /** Slot of each partition, by topic, in topic creation order. */
  private readonly slotsByTopic = new Map<string, number[]>();
  private readonly load: number[];

  constructor(readonly threads: number) {
    this.load = new Array<number>(threads).fill(0);
  }

  /** Places partitions `[current count, count)` of `topic` and returns the slot of each new one. */
  grow(topic: string, count: number): number[] {
    let slots = this.slotsByTopic.get(topic);
    if (slots === undefined) {
      slots = [];
      this.slotsByTopic.set(topic, slots);
    }
    const added: number[] = [];
    while (slots.length < count) {
      const slot = this.leastLoaded();
      this.load[slot]++;
      slots.push(slot);
      added.push(slot);
    }
    return added;
  }

  /** Forgets partitions `[count, current count)` of `topic`: undoes a `grow` whose partitions failed to open. */
  shrink(topic: string, count: number): void {
    const slots = this.slotsByTopic.get(topic);
    if (slots === undefined) return;
    while (slots.length > count) this.load[slots.pop()!]--;
    if (slots.length === 0) this.slotsByTopic.delete(topic);
  }

  remove(topic: string): void {
    for (const slot of this.slotsByTopic.get(topic) ?? []) this.load[slot]--;
    this.slotsByTopic.delete(topic);
  }

  /** The slot owning the partition, or undefined if there is no such partition. */
  slotOf(topic: string, partition: number): number | undefined {
    return this.slotsByTopic.get(topic)?.[partition];
  }

  /** The partitions a slot owns, in creation order (the order they are reopened after a restart). */
  partitionsOn(slot: number): PartitionRef[] {
    const owned: PartitionRef[] = [];
    for (const [topic, slots] of this.slotsByTopic) {
      slots.forEach((owner, partition) => {
        if (owner === slot) owned.push({ topic, partition });
      });
    }
    return owned;
  }

  /** Partitions per slot. */
  counts(): readonly number[] {
    return [...this.load];
  }

  private leastLoaded(): number {
    let best = 0;
    for (let slot = 1; slot < this.load.length; slot++) if (this.load[slot] < this.load[best]) best = slot;
    return best;
  }
}
