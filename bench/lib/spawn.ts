// Starting the processes of a cross-process run: peers run as the harness does (compiled
// JavaScript from an installed package, or TypeScript under tsx in a clone), C programs,
// all killed if the harness is interrupted, each run bounded by a watchdog.
import { type ChildProcess, spawn, type StdioOptions } from 'node:child_process';
import { join } from 'node:path';

/** The harness runs from source (TypeScript under tsx) or compiled (dist/bench). */
const FROM_SOURCE = import.meta.url.endsWith('.ts');
/** The Node flags a peer needs to run as the harness does. */
export const PEER_EXEC_ARGV: string[] = FROM_SOURCE ? ['--import=tsx'] : [];

/** The peer file `name` (no extension) in `dir`, in the harness's own form. */
export function peerFile(dir: string, name: string): string {
  return join(dir, `${name}${FROM_SOURCE ? '.ts' : '.js'}`);
}

const live = new Set<ChildProcess>();
let hooked = false;

/**
 * Ctrl-C (SIGINT) or SIGTERM ends the harness with process.exit (130 / 143), whose 'exit'
 * handlers kill every live child and remove the run's segments, queues and files. Installed
 * by the harness before its first scenario.
 */
export function hookSignals(): void {
  if (hooked) return;
  hooked = true;
  const stop = () => {
    for (const child of live) child.kill('SIGKILL');
  };
  process.on('exit', stop);
  process.on('SIGINT', () => process.exit(130));
  process.on('SIGTERM', () => process.exit(143));
}

/**
 * Adopts a child started elsewhere (fork, a Worker's process): killed on Ctrl-C like the
 * others, and after `timeoutMs` (a hung peer must not hang the harness). Returns the child.
 */
export function track<C extends ChildProcess>(child: C, timeoutMs = 120_000): C {
  hookSignals();
  live.add(child);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  child.once('exit', () => {
    clearTimeout(timer);
    live.delete(child);
  });
  return child;
}

export interface Finished {
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; rejects on a non-zero exit or after `timeoutMs`. */
export function run(command: string[], stdio: StdioOptions = ['ignore', 'pipe', 'pipe'], timeoutMs = 120_000): Promise<Finished> {
  return spawnPeer(command, stdio, timeoutMs).done;
}

/**
 * As run(), also giving the child. With `plumbed`, its stdout is left unread so that it
 * can be handed to another child as stdin.
 */
export function spawnPeer(command: string[], stdio: StdioOptions, timeoutMs = 120_000, plumbed = false): { child: ChildProcess; done: Promise<Finished> } {
  hookSignals();
  const child = spawn(command[0]!, command.slice(1), { stdio });
  live.add(child);
  let stdout = '';
  let stderr = '';
  if (!plumbed) child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<Finished>((resolve, reject) => {
    // A plumbed stdout is never read here, so 'close' (which waits for it) may never come.
    child.on(plumbed ? 'exit' : 'close', (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${command.slice(0, 4).join(' ')} exited ${code ?? signal}: ${stderr.trim().split('\n').slice(-3).join(' ')}`));
    });
  });
  return { child, done };
}

/** A peer: node FILE ARGS (with tsx when the harness runs from source). */
export function peer(file: string, args: Array<string | number>): string[] {
  return [process.execPath, ...PEER_EXEC_ARGV, file, ...args.map(String)];
}
