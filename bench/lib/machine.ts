// The machine a benchmark ran on, recorded with every result.
import { availableParallelism, cpus, release, totalmem } from 'node:os';

export interface MachineInfo {
  cpu: string;
  /** CPUs of the machine. */
  cores: number;
  /** CPUs this run's processes may use (their affinity): fewer than `cores` under taskset or a cgroup. */
  cpusAvailable?: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  arch?: string;
  date: string;
  /** How the C reference programs were obtained (prebuilt, compiled here, or none). */
  cReferences?: string;
}

export function machineInfo(): MachineInfo {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    cpusAvailable: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    arch: process.arch,
    date: new Date().toISOString(),
  };
}
