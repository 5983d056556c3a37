// CPU time a process has used (user + system, all its threads), from /proc (Linux). Benches read
// it around a load run to give the server's own cost per call, which a load generator sharing the
// same cores does not blur the way it blurs the rate.
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ: 100 on every Linux architecture in use). */
const USER_HZ = 100;

/** Seconds of CPU `pid` has used so far; NaN where /proc is not there. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces), from field 3 on: utime is 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
  } catch {
    return NaN;
  }
}
