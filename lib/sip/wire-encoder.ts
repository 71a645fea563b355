/** Messages are encoded into slabs of this size. */
const SLAB_BYTES = 256 * 1024;
/** Larger messages get a buffer of their own. */
const LARGEST_IN_SLAB = SLAB_BYTES / 4;

let slab = Buffer.allocUnsafe(0);
let slabOffset = SLAB_BYTES;

/**
 * A message as UTF-8 bytes in a slice of a large slab: the head (start line and headers, as text) encoded, then the
 * body (already bytes, shared by every message that carries it) copied after it. One copy each, instead of building
 * one long string per message, flattening it and encoding it through Node's 8 KiB pool. A slab region is written once
 * and never reused, so a send the kernel defers still has the right bytes; a slab is freed with its last slice. Keep
 * slices only for the send: slabs kept alive by a few old slices fragment the native heap (with every NOTIFY's bytes
 * kept until its 200, 100,000 subscriptions left 66 MB of it behind instead of 30), so transactions keep the head and
 * body and encode again to retransmit.
 */
export function encodeMessage(head: string, body?: Buffer): Buffer {
  const bodyBytes = body?.length ?? 0;
  // UTF-8 takes at most 3 bytes per UTF-16 unit.
  const worst = 3 * head.length + bodyBytes;
  if (worst > LARGEST_IN_SLAB) return body === undefined ? Buffer.from(head) : Buffer.concat([Buffer.from(head), body]);
  if (slabOffset + worst > SLAB_BYTES) {
    slab = Buffer.allocUnsafe(SLAB_BYTES);
    slabOffset = 0;
  }
  const start = slabOffset;
  let end = start + slab.write(head, start, 'utf8');
  if (body !== undefined) end += body.copy(slab, end);
  slabOffset = end;
  return slab.subarray(start, end);
}
