import { describe, expect, it } from 'vitest';
import { TurnGate } from '../../src/pipeline/turn-gate.js';

describe('TurnGate', () => {
  it('lets each ticket go only after every earlier one passed', async () => {
    const gate = new TurnGate();
    const [a, b, c] = [gate.ticket(), gate.ticket(), gate.ticket()];
    const order: number[] = [];
    const pc = gate.turn(c).then(() => order.push(c));
    const pb = gate.turn(b).then(() => order.push(b));
    await new Promise((r) => setTimeout(r, 5));
    expect(order).toEqual([]);
    gate.pass(a);
    await pb;
    expect(order).toEqual([b]);
    gate.pass(b);
    await pc;
    expect(order).toEqual([b, c]);
  });
});
