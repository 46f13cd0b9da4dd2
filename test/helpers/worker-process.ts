/**
 * Runs an engine with workers in a child process, so a test can kill it with SIGKILL in the
 * middle of a job. Settings come from the environment, as `npm start` takes them.
 */
import { loadConfig } from '../../engine/src/config/schema';
import { startEngine } from '../../engine/src/engine';

const config = loadConfig(process.env);
const engine = await startEngine({
  config,
  workerOptions: { lockDurationMs: 1_000, stalledIntervalMs: 500 },
});
process.stdout.write(`ready ${engine.mllpPort}\n`);
