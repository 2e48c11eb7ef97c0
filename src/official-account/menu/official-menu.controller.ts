import { Body, Controller, Get, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsArray } from 'class-validator';
import { CurrentUser, Roles, type AuthUser } from '../../common/auth/decorators.js';
import { ApiEnvelope } from '../../common/envelope/api-envelope.decorator.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import { ReqMeta, type RequestMeta } from '../../common/http/request-meta.js';
import { OfficialAccountRoute } from '../../wechat/official-account-gate.js';
import { BUTTON_FIELDS } from './menu-buttons.js';
import { OfficialMenuService } from './official-menu.service.js';

const BUTTON_SCHEMA = {
  type: 'object',
  description:
    'either { name, sub_button: [1-5 buttons without sub_button] } or { type, name, … }: key (1-128 bytes) for ' +
    'click and the scancode_/pic_/location_select types, url for view, url + appid + pagepath for miniprogram, ' +
    'article_id for article_id and article_view_limited. name: 1-16 bytes of UTF-8 at the top, 1-60 below.',
  properties: {
    type: { type: 'string', enum: Object.keys(BUTTON_FIELDS) },
    name: { type: 'string' },
    key: { type: 'string' },
    url: { type: 'string' },
    appid: { type: 'string' },
    pagepath: { type: 'string' },
    article_id: { type: 'string' },
    sub_button: { type: 'array', items: { type: 'object' } },
  },
  required: ['name'],
  example: { type: 'click', name: '今日歌曲', key: 'V1001_TODAY_MUSIC' },
};

export class SetMenuDto {
  @ApiProperty({ type: 'array', minItems: 1, maxItems: 3, items: BUTTON_SCHEMA })
  // The buttons' own rules are menuProblems' (their fields depend on each button's type).
  @IsArray()
  button!: unknown[];
}

export class MenuView {
  @ApiProperty({ description: "whether the official account's custom menu is on" }) isMenuOpen!: boolean;
  @ApiProperty({
    type: 'array',
    items: BUTTON_SCHEMA,
    description:
      'as WeChat has it, sub_button a list; buttons made in the official account admin keep their own fields (types text, img, news… with value or news_info)',
  })
  button!: Array<Record<string, unknown>>;
}

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@OfficialAccountRoute()
@Controller('admin/official')
export class OfficialMenuController {
  constructor(private readonly menu: OfficialMenuService) {}

  @Get('menu')
  @ApiEnvelope(MenuView, [
    ErrorCode.NOT_FOUND,
    ErrorCode.RATE_LIMITED,
    ErrorCode.WECHAT_ERROR,
    ErrorCode.WECHAT_TIMEOUT,
  ])
  get(): Promise<MenuView> {
    return this.menu.get();
  }

  @Put('menu')
  @ApiEnvelope(MenuView, [
    ErrorCode.WECHAT_CONTENT_REFUSED,
    ErrorCode.NOT_FOUND,
    ErrorCode.RATE_LIMITED,
    ErrorCode.WECHAT_ERROR,
    ErrorCode.WECHAT_TIMEOUT,
  ])
  set(
    @CurrentUser() admin: AuthUser,
    @Body() body: SetMenuDto,
    @ReqMeta() meta: RequestMeta,
  ): Promise<MenuView> {
    return this.menu.set(body.button, admin.userId, meta);
  }
}
