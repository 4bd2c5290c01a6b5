/**
 * glibc's heap, set for streaming before the `smime` command runs.
 *
 * A streamed command allocates and frees a few buffers of 64–90 KiB per 64 KiB of message (the piece read, the
 * ciphertext, the base64 lines), each freed when the garbage collector sweeps it. glibc's malloc gives the top of its
 * heap back to the kernel whenever more than `M_TRIM_THRESHOLD` (128 KiB by default) is free there, and hands out
 * allocations above `M_MMAP_THRESHOLD` (128 KiB) as mappings of their own; the pages given back are faulted in again
 * by the next allocations. Encrypting 1 GiB took 24 000–180 000 page faults that way (at 10–25 µs each on a VM:
 * 0.5–3.5 s of system time) where 17 500 were enough, and `smime encrypt` ran at 1.5–2× `openssl cms -encrypt
 * -stream` instead of about 1× (bench/README.md, ninth session).
 *
 * glibc raises both thresholds by itself when a chunk it had mapped of its own, larger than the current mmap
 * threshold and at most 32 MiB, is freed: the mmap threshold becomes that chunk's size and the trim threshold twice it
 * (malloc.c, `free` → `munmap_chunk`: the "dynamic mmap threshold"). So one 31 MiB `ArrayBuffer`, allocated here and
 * dropped, does what `MALLOC_TRIM_THRESHOLD_` in the environment would: it is calloc'ed from fresh zero pages (never
 * touched: no page faults, no memset), freed at the next collection (a scavenge within the first megabytes of the
 * message), and from then on glibc keeps up to 62 MiB of free heap instead of returning it. The process's peak RSS is
 * not raised by it (the heap grows only as far as the live buffers need), and a thread's arena follows the same global
 * thresholds.
 *
 * Elsewhere (musl, macOS, Windows) the allocation is a lazily zeroed mapping that is given back unchanged: no effect
 * and no cost. A caller who set `MALLOC_TRIM_THRESHOLD_`/`MALLOC_MMAP_THRESHOLD_` keeps its own settings: glibc turns
 * the dynamic threshold off when either is set.
 */

/** The freed mapping's size: the largest glibc's dynamic threshold takes (32 MiB), less room for the chunk header. */
export const MALLOC_TUNING_BYTES = 31 * 1024 * 1024;

/** Raises glibc's mmap and trim thresholds for the process (see the module comment). Call once, at start. */
export function tuneMallocForStreaming(): void {
  // Not kept: the point is that it is freed.
  void new ArrayBuffer(MALLOC_TUNING_BYTES);
}
