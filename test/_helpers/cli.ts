/** Runs the `smime` CLI in-process (src/cli/main.ts `runCli`), collecting stdout and stderr. */
import { runCli, type CliIo } from '../../src/cli/main.js';

/** `io.now`: the clock of the command's store (e.g. `atReference` for the sample identities); default the real one. */
export async function cli(args: string[], stdin: Uint8Array = new Uint8Array(), io: Pick<CliIo, 'now'> = {}): Promise<{ code: number; out: Uint8Array; err: string }> {
  let out: Uint8Array = new Uint8Array();
  let err = '';
  const code = await runCli(args, {
    stdin: () => stdin,
    stdout: (b) => {
      // A streamed output comes in several pieces.
      out = out.length === 0 ? b : Buffer.concat([out, b]);
    },
    stderr: (s) => {
      err += s;
    },
    env: {},
    ...io,
  });
  return { code, out, err };
}
