import { Module } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { securityConfig } from '../config/config.slices.js';
import { DATA_ENCRYPTION_KEY, DataCipher } from './data-cipher.js';

@Module({
  providers: [
    {
      provide: DATA_ENCRYPTION_KEY,
      inject: [securityConfig.KEY],
      useFactory: (security: ConfigType<typeof securityConfig>) => security.dataEncryptionKey,
    },
    DataCipher,
  ],
  exports: [DataCipher],
})
export class SecurityModule {}
