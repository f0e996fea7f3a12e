import { identityHeaders, type Identity, type QueueState } from './api.js';

/**
 * The waiting room's live state: the SSE stream read with fetch (EventSource cannot send the
 * Queue-Token header), and polling every `pollMs` while the stream is down, retrying it each
 * time. A pre-queue entry is followed the same way: its stream starts with PRE_QUEUE and pushes
 * the place the opening draws (WAITING or ACTIVE), or SOLD_OUT (watchWithPreQueue on the
 * server); while it is down the pre-queue is polled on the status route. Returns a stop function.
 */
export function followQueue(
  identity: Identity,
  joined: { token: string; status: string },
  poll: (status: string) => Promise<QueueState>,
  onState: (state: QueueState) => void,
  onError: (error: unknown) => void,
  pollMs = 2_000,
): () => void {
  const { token } = joined;
  const controller = new AbortController();
  const stopped = () => controller.signal.aborted;
  let status = joined.status;
  const tell = (state: QueueState) => {
    status = state.status;
    onState(state);
  };

  async function stream(): Promise<void> {
    const response = await fetch('./api/v1/queue/token/stream', {
      headers: { ...identityHeaders(identity), 'Queue-Token': token, Accept: 'text/event-stream' },
      signal: controller.signal,
    });
    if (!response.ok || response.body === null) throw new Error(`stream ${response.status}`);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = event
          .split('\n')
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).trim())
          .join('\n');
        if (data !== '') tell(JSON.parse(data) as QueueState);
      }
    }
  }

  async function run(): Promise<void> {
    while (!stopped()) {
      try {
        await stream();
      } catch {
        // The stream dropped or was refused: poll until it can be opened again.
      }
      if (stopped()) return;
      try {
        const state = await poll(status);
        tell(state);
        if (state.status === 'EXPIRED') return;
      } catch (error) {
        onError(error);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  void run();
  return () => controller.abort();
}

/** A short rising chime (Web Audio, nothing loaded): the moment of admission. */
export function chime(): void {
  try {
    const audio = new AudioContext();
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.setValueAtTime(660, audio.currentTime);
    tone.frequency.setValueAtTime(880, audio.currentTime + 0.15);
    gain.gain.setValueAtTime(0.15, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.5);
    tone.connect(gain).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.5);
  } catch {
    // No audio (autoplay policy, headless): the visual cue remains.
  }
}
