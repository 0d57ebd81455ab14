import { describe, expect, it } from 'vitest';
import { Placement } from '../../src/runtime/placement.js';

describe('Placement', () => {
  it('spreads partitions round-robin over slots in creation order', () => {
    const placement = new Placement(3);
    expect(placement.grow('a', 4)).toEqual([0, 1, 2, 0]);
    expect(placement.grow('b', 2)).toEqual([1, 2]);
    expect(placement.counts()).toEqual([2, 2, 2]);
    expect(placement.slotOf('a', 3)).toBe(0);
    expect(placement.slotOf('a', 4)).toBeUndefined();
    expect(placement.slotOf('a', -1)).toBeUndefined();
    expect(placement.slotOf('a', 0.5)).toBeUndefined();
    expect(placement.slotOf('c', 0)).toBeUndefined();
    expect(placement.partitionsOn(1)).toEqual([
      { topic: 'a', partition: 1 },
      { topic: 'b', partition: 0 },
    ]);
  });

  it('fills the slots a deleted topic emptied first', () => {
    const placement = new Placement(2);
    placement.grow('a', 2);
    placement.grow('b', 2);
    placement.grow('c', 1);
    placement.remove('a');
    expect(placement.counts()).toEqual([2, 1]);
    expect(placement.grow('d', 3)).toEqual([1, 0, 1]);
    expect(placement.counts()).toEqual([3, 3]);
  });

  it('adds partitions to an existing topic and can take them back', () => {
    const placement = new Placement(2);
    placement.grow('a', 1);
    expect(placement.grow('a', 3)).toEqual([1, 0]);
    placement.shrink('a', 1);
    expect(placement.counts()).toEqual([1, 0]);
    expect(placement.slotOf('a', 1)).toBeUndefined();
    placement.shrink('a', 0);
    expect(placement.partitionsOn(0)).toEqual([]);
  });
});
