import { Global, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/app-config.js';
import { DATA_ENCRYPTION_KEY, DataCipher } from './data-cipher.js';

@Global()
@Module({
  providers: [
    {
      provide: DATA_ENCRYPTION_KEY,
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) =>
        config.get('dataEncryptionKey', { infer: true }),
    },
    DataCipher,
  ],
  exports: [DataCipher],
})
export class SecurityModule {}
