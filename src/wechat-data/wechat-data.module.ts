import { Module } from '@nestjs/common';
import { RateLimitModule } from '../rate-limit/rate-limit.module.js';
import { SessionKeysModule } from '../session-keys/session-keys.module.js';
import { WechatModule } from '../wechat/wechat.module.js';
import { WechatDataController } from './wechat-data.controller.js';
import { WechatDataService } from './wechat-data.service.js';

/** Decryption of WeChat's encryptedData for the signed-in user, with their latest session key. */
@Module({
  imports: [WechatModule, SessionKeysModule, RateLimitModule],
  controllers: [WechatDataController],
  providers: [WechatDataService],
})
export class WechatDataModule {}
