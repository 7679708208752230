import type { Readable, Writable } from 'node:stream';

/**
 * Where image data lives. A store keeps one blob per image id. Writes are
 * atomic: data goes to a hidden partial object and only `commit()` makes it
 * the image's data, so a failed or interrupted upload never leaves a partial
 * image behind (and `cleanupPartials()` removes what a crash left).
 */
export interface ImageStore {
  readonly id: string;
  readonly type: string;
  readonly description: string;
  readonly readOnly: boolean;
  /** Starts writing the data of an image. */
  openWrite(imageId: string): Promise<StoreWriter>;
  /** Streams the data (or `start..end`, inclusive) of an image. Throws `StoreNotFound`. */
  openRead(imageId: string, range?: { start: number; end: number }): Promise<Readable>;
  /** Size in bytes, or undefined when the store has no data for the image. */
  size(imageId: string): Promise<number | undefined>;
  /** Removes the data of an image (no error when there is none). */
  delete(imageId: string): Promise<void>;
  /** Image ids that have committed data here. */
  list(): Promise<string[]>;
  /** Removes partial objects of writes that never committed; returns how many. */
  cleanupPartials(): Promise<number>;
}

export interface StoreWriter {
  /** Where to write the bytes (honours backpressure). */
  readonly stream: Writable;
  /** Makes the written data durable and the image's data. */
  commit(): Promise<void>;
  /** Throws the written data away. Safe to call after a failed write or twice. */
  abort(): Promise<void>;
}

export class StoreNotFound extends Error {
  constructor(storeId: string, imageId: string) {
    super(`no data for image ${imageId} in store ${storeId}`);
    this.name = 'StoreNotFound';
  }
}
