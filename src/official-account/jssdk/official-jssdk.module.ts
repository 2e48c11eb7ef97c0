import { Module } from '@nestjs/common';
import { WechatModule } from '../../wechat/wechat.module.js';
import { OfficialJssdkController } from './official-jssdk.controller.js';
import { OfficialJssdkService } from './official-jssdk.service.js';

/** GET /wechat/official/jssdk-config: the JS-SDK's wx.config() for allow-listed pages. */
@Module({
  imports: [WechatModule],
  controllers: [OfficialJssdkController],
  providers: [OfficialJssdkService],
})
export class OfficialJssdkModule {}
