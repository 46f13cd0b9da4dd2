/**
 * What is left of an engine once it was told to stop, seen from outside as an operator would:
 * which processes still run, whether its ports still answer, how a spawned command exited.
 * Linux only (reads /proc), like the machines the engine runs on.
 */
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import net from 'node:net';

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Resolves once the process has exited (at once if it already has). */
export function exitOf(child: ChildProcess): Promise<Exit> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** Resolves with the exit, or rejects after `ms`. */
export async function exitWithin(child: ChildProcess, ms: number, what: string): Promise<Exit> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} still running after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([exitOf(child), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Everything the process has written to stdout so far, kept as it arrives. */
export function collectStdout(child: ChildProcess): { readonly text: () => string } {
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  return { text: () => out };
}

/** Waits until the collected output contains `needle`; fails early if the process exits. */
export async function waitForOutput(
  child: ChildProcess,
  output: { readonly text: () => string },
  needle: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!output.text().includes(needle)) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `exited (code ${String(child.exitCode)}, signal ${String(child.signalCode)}) before printing "${needle}":\n${output.text()}`,
      );
    }
    if (Date.now() > deadline) throw new Error(`no "${needle}" after ${timeoutMs} ms:\n${output.text()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** True while the process exists and is not a zombie (exited, waiting to be reaped). */
export function isRunning(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // pid (comm) state ...: comm may contain spaces and parentheses, the state follows the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

export interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  readonly cwd: string;
  readonly cmdline: string;
}

/** Every running process on the machine that we may look at. */
export function listProcesses(): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const after = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (after[0] === 'Z') continue;
      found.push({
        pid,
        ppid: Number(after[1]),
        cwd: readlinkSync(`/proc/${pid}/cwd`),
        cmdline: readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim(),
      });
    } catch {
      // Gone while we looked, or not ours to read.
    }
  }
  return found;
}

/** Running processes working in `dir` or naming it on their command line. */
export function processesIn(dir: string): ProcessInfo[] {
  return listProcesses().filter(
    (p) => p.cwd === dir || p.cwd.startsWith(`${dir}/`) || p.cmdline.includes(dir),
  );
}

/** Running direct children of `pid`. */
export function childrenOf(pid: number): ProcessInfo[] {
  return listProcesses().filter((p) => p.ppid === pid);
}

/** Resolves true if nothing accepts a TCP connection on the port (ECONNREFUSED). */
export function portRefuses(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

/** SIGKILLs whichever of the pids still run (test clean-up). */
export function killAll(pids: Iterable<number>): void {
  for (const pid of pids) {
    if (!isRunning(pid)) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Exited in between.
    }
  }
}
