import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { createApp } from './app.factory.js';
import { ConfigError, loadConfig } from './config/load-config.js';

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  // Validate before anything else so a bad variable stops the process with one clear line.
  const { http } = loadConfig(process.env);
  const app = await createApp(process.env);
  await app.listen({ port: http.port, host: http.host });
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
  } else {
    console.error('Failed to start:', error instanceof Error ? error.message : error);
  }
  process.exit(1);
});
