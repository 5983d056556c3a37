// The event hub drops a stream whose client stops reading: past 1 MiB buffered, or when its
// writes have not drained for the stall limit (a slot held by a client that reads nothing).
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import type { Response } from 'express';
import type { AgentStatus } from '../../common/api.js';
import { SseHub } from '../../agent/src/server/sseHub.js';

/** The part of an express Response the hub uses; `reads` says whether the client keeps up. */
class FakeStream extends EventEmitter {
  writableLength = 0;
  destroyed = false;
  written = 0;
  constructor(public reads: boolean) {
    super();
  }
  status() {
    return this;
  }
  set() {
    return this;
  }
  flushHeaders() {}
  write(chunk: string): boolean {
    this.written++;
    if (this.reads) return true;
    this.writableLength += chunk.length;
    return false;
  }
  destroy() {
    this.destroyed = true;
    this.emit('close');
  }
  end() {
    this.emit('close');
  }
}

test('a stream whose writes stay undrained past the stall limit is dropped; a reading one, or one that drains, stays', () => {
  let now = 0;
  const hub = new SseHub(() => ({}) as AgentStatus, 3_600_000, () => now, 30_000);
  const stuck = new FakeStream(false);
  const slow = new FakeStream(false);
  const fine = new FakeStream(true);
  for (const s of [stuck, slow, fine]) assert.ok(hub.add(s as unknown as Response));
  const event = () => hub.publish({ type: 'agent', state: 'draining', at: now });
  now = 20_000;
  event();
  slow.emit('drain'); // it caught up
  slow.reads = true;
  now = 31_000;
  event();
  assert.equal(stuck.destroyed, true);
  assert.equal(slow.destroyed, false);
  assert.equal(fine.destroyed, false);
  assert.equal(hub.size, 2);
  hub.closeAll();
});
