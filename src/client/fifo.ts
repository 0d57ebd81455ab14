/**
 * A first-in, first-out queue: an array read from a moving head, since `Array.prototype.shift`
 * moves every remaining element per call. The array is replaced once the head has passed half of
 * it (and at least 1,024 entries), and taken entries are cleared at once, so that the queue holds
 * nothing it has handed out.
 */
export class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The first item, left in the queue; undefined when it is empty. */
  peek(): T | undefined {
    return this.items[this.head];
  }

  /** Takes the first item; undefined when the queue is empty. */
  shift(): T | undefined {
    if (this.head === this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}
