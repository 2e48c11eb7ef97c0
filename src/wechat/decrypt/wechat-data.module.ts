import { Module } from '@nestjs/common';
import { UsersModule } from '../../users/users.module.js';
import { WechatModule } from '../wechat.module.js';
import { WechatDataController } from './wechat-data.controller.js';
import { WechatDataService } from './wechat-data.service.js';

/** Decryption of WeChat's encryptedData for the signed-in user (needs users' session keys). */
@Module({
  imports: [WechatModule, UsersModule],
  controllers: [WechatDataController],
  providers: [WechatDataService],
})
export class WechatDataModule {}
