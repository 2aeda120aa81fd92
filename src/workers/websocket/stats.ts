/**
 * How busy a worker's process was since it started (Node only): CPU time, and the time its event
 * loop spent running code versus waiting. With a worker's traffic, what `stats()` reports.
 */
import { performance } from 'node:perf_hooks';
import type { WorkerStats, WorkerTraffic } from './traffic.js';

/** The figures of this process, beside `traffic`. */
export function processStats(traffic: WorkerTraffic): WorkerStats {
  const cpu = process.cpuUsage();
  const elu = performance.eventLoopUtilization();
  return { traffic, process: { cpuMs: (cpu.user + cpu.system) / 1000, activeMs: elu.active, idleMs: elu.idle } };
}
