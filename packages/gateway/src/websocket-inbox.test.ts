import { describe, expect, it } from 'vitest';
import { WebSocketInbox } from './websocket-inbox.js';

function inbox(window: number) {
  const flow: string[] = [];
  return { flow, box: new WebSocketInbox(window, { pause: () => flow.push('pause'), resume: () => flow.push('resume') }) };
}

const text = (t: string) => ({ type: 'websocket.receive', text: t }) as const;

describe('WebSocketInbox', () => {
  it('yields connect first, then the messages in order, then the disconnect on every later call', async () => {
    const { box } = inbox(100);
    box.push(text('a'), 1);
    box.push(text('b'), 1);
    box.end(1000, 'done');
    expect(await box.receive()).toEqual({ type: 'websocket.connect' });
    expect(await box.receive()).toEqual(text('a'));
    expect(await box.receive()).toEqual(text('b'));
    expect(await box.receive()).toEqual({ type: 'websocket.disconnect', code: 1000, reason: 'done' });
    expect(await box.receive()).toEqual({ type: 'websocket.disconnect', code: 1000, reason: 'done' });
  });

  it('wakes waiting receive() calls in order', async () => {
    const { box } = inbox(100);
    await box.receive();
    const first = box.receive();
    const second = box.receive();
    box.push(text('a'), 1);
    box.end(1006, '');
    expect(await first).toEqual(text('a'));
    expect(await second).toEqual({ type: 'websocket.disconnect', code: 1006, reason: '' });
  });

  it('pauses the socket once more than the window waits, and resumes when the app has taken it back under', async () => {
    const { box, flow } = inbox(10);
    await box.receive();
    box.push(text('x'), 6);
    box.push(text('y'), 6);
    expect(flow).toEqual(['pause']);
    expect(box.queuedBytes).toBe(12);
    box.push(text('z'), 6);
    expect(flow).toEqual(['pause']);
    await box.receive();
    expect(flow).toEqual(['pause']);
    await box.receive();
    expect(flow).toEqual(['pause', 'resume']);
  });

  it('drops messages that arrive after the end', async () => {
    const { box } = inbox(10);
    await box.receive();
    box.end(1001, '');
    box.push(text('late'), 4);
    expect(await box.receive()).toMatchObject({ type: 'websocket.disconnect', code: 1001 });
  });
});
