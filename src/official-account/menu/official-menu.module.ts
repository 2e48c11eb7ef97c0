import { Module } from '@nestjs/common';
import { AuditModule } from '../../audit/audit.module.js';
import { WechatModule } from '../../wechat/wechat.module.js';
import { OfficialMenuController } from './official-menu.controller.js';
import { OfficialMenuService } from './official-menu.service.js';

/** GET / PUT /admin/official/menu: the official account's custom menu. */
@Module({
  imports: [WechatModule, AuditModule],
  controllers: [OfficialMenuController],
  providers: [OfficialMenuService],
})
export class OfficialMenuModule {}
