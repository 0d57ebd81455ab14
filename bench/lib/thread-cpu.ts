/**
 * CPU time of the calling process's main thread, from Linux's /proc (Node 20 has no
 * `process.threadCpuUsage`). On a shared machine wall-clock rates swing with the neighbours'
 * load, while the CPU a thread spends per record barely moves, so benchmarks report both.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/**
 * Milliseconds of CPU (user + system) the main thread has used, or null where /proc is missing.
 * Resolution is one clock tick (10 ms on Linux), so measure phases of a second or more.
 */
export function mainThreadCpuMs(): number | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // Fields after the command name (which may hold spaces, inside parentheses): utime and stime are the 14th and 15th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks();
}
