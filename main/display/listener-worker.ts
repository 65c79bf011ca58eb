// Worker-thread entry: serves org.qemu.Display1.Listener (+ .Unix.Map) for one console.
// QEMU calls the listener synchronously (GetAll with a 25 s timeout, ScanoutMap with a 1 s one),
// so this lives on its own event loop that only ever does this. It drains the socket at QEMU's
// pace whatever the owner does: damage is merged here and posted one batch at a time.
import { workerData } from 'node:worker_threads';
import type { SurfaceInfo } from '../../common/contract.js';
import { closeFd } from '../../native/index.js';
import type { DbusMessage } from '../dbus/peer-connection.js';
import { DamageQueue } from './damage-queue.js';
import { StatIndex, type ListenerWorkerData, type OwnerToWorker, type WorkerToOwner } from './listener-protocol.js';
import { runListenerWorker } from './listener-worker-boot.js';
import { SurfaceError, SurfaceStore } from './surface-store.js';

const LISTENER_IFACE = 'org.qemu.Display1.Listener';
const MAP_IFACE = 'org.qemu.Display1.Listener.Unix.Map';

const data = workerData as ListenerWorkerData;
const stats = new Float64Array(data.stats);
const surfaces = new SurfaceStore();
const damage = new DamageQueue(0, 0);
let batchInFlight = false;
let flushScheduled = false;

// QEMU's per-frame calls have a fixed layout: decoded from their bytes, not by the general unmarshaller.
const FIXED_CALLS = new Map([
  ['UpdateMap', 4],
  ['MouseSet', 3],
]);
const { conn, post, closed } = runListenerWorker<WorkerToOwner, OwnerToWorker>({
  fd: data.fd,
  name: `${data.name} listener`,
  iface: LISTENER_IFACE,
  interfaces: [MAP_IFACE],
  errorName: 'org.qemu.Display1.Listener.Error.Failed',
  fixedCalls: FIXED_CALLS,
  handle: handleCall,
  expected: (err) => err instanceof SurfaceError,
  message(m) {
    if (m.t === 'ack') {
      batchInFlight = false;
      scheduleFlush();
    } else if (m.t === 'release-before') {
      surfaces.releaseBefore(m.id);
    }
  },
  closing: () => surfaces.releaseAll(),
});

function handleCall(m: DbusMessage): void {
  const body = m.body ?? [];
  stats[StatIndex.fixedCalls] = conn.fixedCallCount;
  switch (m.member) {
    case 'ScanoutMap': {
      const fd = m.fds?.[0];
      if (fd === undefined) throw new SurfaceError('ScanoutMap without a file descriptor');
      const [, offset, width, height, stride, format] = body as number[];
      stats[StatIndex.scanouts]++;
      const s = surfaces.scanoutMap(fd, offset, width, height, stride, format);
      conn.reply(m); // before anything else: QEMU waits at most 1 s, then copies for good
      newSurface(s.info, s.pixels, s.reason, s.fd);
      return;
    }
    case 'UpdateMap': {
      const [x, y, w, h] = body as number[];
      stats[StatIndex.updates]++;
      conn.reply(m);
      addDamage(x, y, w, h);
      return;
    }
    case 'Scanout': {
      const [width, height, stride, format, pixels] = body as [number, number, number, number, Uint8Array];
      stats[StatIndex.scanouts]++;
      stats[StatIndex.inlineBytes] += pixels.byteLength;
      const { surface, isNew } = surfaces.scanoutCopy(width, height, stride, format, pixels);
      stats[StatIndex.copiedBytes] += Math.min(pixels.byteLength, surface.pixels.byteLength);
      conn.reply(m);
      if (isNew) newSurface(surface.info, surface.pixels);
      else addDamage(0, 0, width, height);
      return;
    }
    case 'Update': {
      const [x, y, w, h, stride, format, pixels] = body as [number, number, number, number, number, number, Uint8Array];
      stats[StatIndex.updates]++;
      stats[StatIndex.inlineBytes] += pixels.byteLength;
      stats[StatIndex.copiedBytes] += surfaces.updateCopy(x, y, w, h, stride, format, pixels);
      conn.reply(m);
      addDamage(x, y, w, h);
      return;
    }
    case 'Disable':
      conn.reply(m);
      post({ t: 'disabled' });
      return;
    case 'CursorDefine': {
      const [width, height, hotX, hotY, pixels] = body as [number, number, number, number, Uint8Array];
      conn.reply(m);
      if (width > 0 && height > 0 && width <= 512 && height <= 512 && pixels.byteLength >= width * height * 4) {
        post({ t: 'cursor', cursor: { width, height, hotX, hotY, pixels: new Uint8Array(pixels.subarray(0, width * height * 4)) } });
      }
      return;
    }
    case 'MouseSet': {
      const [x, y, on] = body as number[];
      conn.reply(m);
      post({ t: 'mouse', x, y, visible: on !== 0 });
      return;
    }
    default:
      conn.replyError(m, 'org.freedesktop.DBus.Error.UnknownMethod', `kju's listener does not implement ${m.interface}.${m.member}`);
  }
}

function newSurface(info: SurfaceInfo, pixels: Uint8Array, reason?: string, memfd?: { fd: number; offset: number }): void {
  // The new surface is wholly damaged by definition: start its queue empty.
  damage.reset(info.width, info.height);
  damage.take();
  if (closed()) {
    if (memfd) closeFd(memfd.fd);
    return;
  }
  post({ t: 'surface', surface: info, pixels, reason, memfd }); // memfd now belongs to the owner
}

function addDamage(x: number, y: number, w: number, h: number): void {
  if (!surfaces.current) return;
  if (damage.isEmpty) oldestUpdateAt = performance.timeOrigin + performance.now();
  // QEMU's rects are hints sent after its write and may outlive a silent surface switch: the queue clips.
  damage.addOne({ x, y, w, h });
  scheduleFlush();
}

/**
 * At most one damage batch per 8 ms (virtio-gpu sends ~1000 small UpdateMap/s while the guest
 * redraws: one batch each cost the owner thread more than the pixels). The first update after a
 * quiet spell still goes out at once, so an idle-then-typing screen gains no latency.
 */
const MIN_BATCH_INTERVAL_MS = 8;
let lastFlushAt = -Infinity;
/** when the oldest update in the damage queue was read (wall clock, for the bench's stage latency) */
let oldestUpdateAt = NaN;

function scheduleFlush(): void {
  if (flushScheduled || batchInFlight || damage.isEmpty) return;
  flushScheduled = true;
  const wait = lastFlushAt + MIN_BATCH_INTERVAL_MS - performance.now();
  // Otherwise after this turn's I/O: everything QEMU sent in one read is merged into one batch.
  if (wait > 0) setTimeout(flush, wait);
  else setImmediate(flush);
}

function flush(): void {
  flushScheduled = false;
  const cur = surfaces.current;
  if (batchInFlight || damage.isEmpty || !cur || closed()) return;
  lastFlushAt = performance.now();
  batchInFlight = true;
  stats[StatIndex.batches]++;
  post({ t: 'damage', surfaceId: cur.info.id, rects: damage.take(), receivedAt: oldestUpdateAt });
}
