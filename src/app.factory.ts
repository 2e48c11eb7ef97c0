// Placeholder signature: the real body lands shortly (lead engineer owns this file).
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

export interface CreateAppOptions {
  /** false silences request logs (tests). */
  logger?: boolean;
}

export async function createApp(
  _env: Record<string, string | undefined>,
  _options: CreateAppOptions = {},
): Promise<NestFastifyApplication> {
  throw new Error('not yet implemented');
}
