import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { Aria2NotInstalledError } from './aria2/daemon.js';
import { type Controller, startController } from './composition.js';
import { type Config, ConfigError, loadConfig } from './config/index.js';

/** The only file that reads process.env, listens and handles signals. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = pino({ level: config.logLevel });
  const uiDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../frontend/out');
  let controller: Controller;
  try {
    controller = await startController(config, { uiDir, logger });
  } catch (err) {
    if (err instanceof Aria2NotInstalledError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(3);
    }
    throw err;
  }
  await controller.app.listen({ host: config.host, port: config.port });
  logger.info(`aria2 controller listening on http://${config.host}:${config.port}`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    await controller.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(
    `The controller could not start: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});
