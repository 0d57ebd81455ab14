/**
 * One interface for every compression codec of Kafka's record batches.
 *
 * A batch's records section is compressed as one block; the codec id lives in bits 0-2 of the
 * batch attributes. Codecs are synchronous: compression runs on the producer's own thread (or the
 * partition's worker thread when decoding), where a native call beats a libuv round trip.
 */
export type CompressionName = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

export interface CompressionCodec {
  readonly name: CompressionName;
  /** Kafka's attribute id: none 0, gzip 1, snappy 2, lz4 3, zstd 4. */
  readonly id: number;
  compress(data: Buffer): Buffer;
  decompress(data: Buffer): Buffer;
}
