// The fauxqs S3+SQS emulator and a counting proxy in front of it, in their own process, so a bench
// can pin them to one core (`taskset -c 0 node bench/emulator-process.ts`) away from the server it
// measures. Talks to its parent over IPC: it sends { emulator, proxy } once listening, and answers
// { cmd: "calls" } with the proxy's calls and new connections since the last { cmd: "reset" }.
import { startFauxqs } from "fauxqs";
import { type AwsCall, startAwsProxy } from "../test/support/aws-proxy.ts";

export type EmulatorRequest = { cmd: "calls" } | { cmd: "reset" };
export interface EmulatorAnswer {
  calls: AwsCall[];
  connections: number;
}
export interface EmulatorReady {
  emulator: string;
  proxy: string;
}

if (import.meta.main) {
  if (!process.send)
    throw new Error("start bench/emulator-process.ts with an IPC channel (fork or spawn + ipc)");
  const emulator = await startFauxqs({ port: 0, host: "localhost", logger: false });
  const address = emulator.address.replace("localhost", "127.0.0.1");
  const proxy = await startAwsProxy(address);
  process.on("message", (message: EmulatorRequest) => {
    if (message.cmd === "reset") proxy.reset();
    process.send!({ calls: proxy.calls(), connections: proxy.connections() } satisfies EmulatorAnswer);
  });
  process.on("disconnect", () => process.exit(0));
  process.send({ emulator: address, proxy: proxy.url } satisfies EmulatorReady);
}
