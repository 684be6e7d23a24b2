/**
 * worker_threads entry of the media plane: opens a MediaPlane with the
 * options in workerData, forwards commands from the parent port and events
 * back. A command that fails validation is answered with an `error` event;
 * `shutdown` closes everything and lets the thread exit.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { MediaPlane, type MediaPlaneOptions } from './plane.js';
import type { EngineEvent } from './protocol.js';

export type WorkerOptions = Omit<MediaPlaneOptions, 'emit' | 'time' | 'createEncoder'> & {
  /** Accept `testCrash` (supervision tests): the worker then dies of an uncaught error. */
  testHooks?: boolean;
};

const port = parentPort;
if (!port) throw new Error('engine/worker must run in a worker thread');

const post = (e: EngineEvent): void => port.postMessage(e);

let plane: MediaPlane;
try {
  plane = await MediaPlane.open({ ...(workerData as WorkerOptions), emit: post });
} catch (err) {
  // The parent's start() rejects with this message, then the thread ends.
  port.postMessage({ type: 'startFailed', message: (err as Error).message });
  port.close();
  throw err;
}

const testHooks = (workerData as WorkerOptions).testHooks === true;

port.on('message', (msg: unknown) => {
  if (testHooks && typeof msg === 'object' && msg !== null && (msg as { type?: unknown }).type === 'testCrash') {
    // An uncaught error, as a bug in the media plane would raise: the thread dies with it.
    setImmediate(() => {
      throw new Error('test crash of the media worker');
    });
    return;
  }
  plane.handle(msg);
  if (typeof msg === 'object' && msg !== null && (msg as { type?: unknown }).type === 'shutdown') {
    void plane.close().then(() => port.close());
  }
});
post({ type: 'ready', rtpPort: plane.rtpPort, wallT0: plane.clock.wallT0, sendBackend: plane.sendBackend.name, sendBackendReason: plane.sendBackend.reason });
