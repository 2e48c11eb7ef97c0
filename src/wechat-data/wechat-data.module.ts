import { Module } from '@nestjs/common';
import { RateLimitModule } from '../rate-limit/rate-limit.module.js';
import { SessionKeysModule } from '../session-keys/session-keys.module.js';
import { UsersModule } from '../users/users.module.js';
import { WechatModule } from '../wechat/wechat.module.js';
import { WechatDataController } from './wechat-data.controller.js';
import { WechatDataService } from './wechat-data.service.js';

/**
 * Decryption of WeChat's encryptedData for the signed-in user, with their latest session key (and
 * WeChat's checksession about that key when the data does not decrypt).
 */
@Module({
  imports: [WechatModule, SessionKeysModule, UsersModule, RateLimitModule],
  controllers: [WechatDataController],
  providers: [WechatDataService],
})
export class WechatDataModule {}
