// Preloaded into the API child by bench/upload-memory.ts (`--import`, or bundled in front of main):
// reports process.memoryUsage() over the IPC channel every 50 ms, so RSS can be split into V8 heap,
// Buffers (arrayBuffers) and the rest. Does nothing when the process has no IPC channel.
// Diagnostic: with BENCH_PROBE_GC=1 and --expose-gc it collects garbage before every sample, so the
// numbers show what is live rather than what is waiting for the next GC.
const send = process.send?.bind(process);
const gc = process.env.BENCH_PROBE_GC === "1" ? (globalThis as { gc?: () => void }).gc : undefined;
if (send) {
  setInterval(() => {
    gc?.();
    const m = process.memoryUsage();
    send({
      probe: "memory",
      rss: m.rss,
      heapTotal: m.heapTotal,
      heapUsed: m.heapUsed,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
    });
  }, 50).unref();
  // The IPC channel must not keep the API alive after it closes its server.
  process.channel?.unref();
}
