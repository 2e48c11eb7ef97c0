import { Body, Controller, Delete, Get, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Roles, type AuthUser } from '../../common/auth/decorators.js';
import { ApiEnvelope } from '../../common/envelope/api-envelope.decorator.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import { ReqMeta, type RequestMeta } from '../../common/http/request-meta.js';
import { UuidParamPipe } from '../../common/http/uuid-param.pipe.js';
import { PageQuery } from '../../common/validation/page.query.js';
import { OfficialAccountRoute } from '../../wechat/official-account-gate.js';
import { AutoRepliesService } from './auto-replies.service.js';
import { AutoReplyPageView, AutoReplyView, toAutoReplyView } from './auto-reply-view.js';
import { CreateAutoReplyDto, UpdateAutoReplyDto } from './dto/auto-reply.dto.js';

const AutoReplyIdPipe = new UuidParamPipe('auto-reply');

/** The official account's keyword rules (the callback's text and menu-click replies). */
@ApiTags('admin')
@ApiBearerAuth()
@OfficialAccountRoute()
@Roles('admin')
@Controller('admin/official/auto-replies')
export class AdminAutoRepliesController {
  constructor(private readonly autoReplies: AutoRepliesService) {}

  @Get()
  @ApiEnvelope(AutoReplyPageView)
  async list(@Query() query: PageQuery): Promise<AutoReplyPageView> {
    const page = await this.autoReplies.list(query.page, query.pageSize);
    return { ...page, items: page.items.map(toAutoReplyView) };
  }

  @Post()
  @ApiEnvelope(AutoReplyView, [ErrorCode.CONFLICT], { status: 201 })
  async create(
    @CurrentUser() auth: AuthUser,
    @Body() body: CreateAutoReplyDto,
    @ReqMeta() meta: RequestMeta,
  ): Promise<AutoReplyView> {
    return toAutoReplyView(await this.autoReplies.create(body, auth.userId, meta));
  }

  @Patch(':id')
  @ApiEnvelope(AutoReplyView, [ErrorCode.NOT_FOUND, ErrorCode.CONFLICT])
  async update(
    @CurrentUser() auth: AuthUser,
    @Param('id', AutoReplyIdPipe) id: string,
    @Body() body: UpdateAutoReplyDto,
    @ReqMeta() meta: RequestMeta,
  ): Promise<AutoReplyView> {
    return toAutoReplyView(await this.autoReplies.update(id, changeOf(body), auth.userId, meta));
  }

  @Delete(':id')
  @ApiEnvelope(null, [ErrorCode.NOT_FOUND])
  async delete(
    @CurrentUser() auth: AuthUser,
    @Param('id', AutoReplyIdPipe) id: string,
    @ReqMeta() meta: RequestMeta,
  ): Promise<null> {
    await this.autoReplies.delete(id, auth.userId, meta);
    return null;
  }
}

/** Only the fields sent (class-transformer leaves the others undefined on the instance). */
function changeOf(body: UpdateAutoReplyDto): UpdateAutoReplyDto {
  return Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined));
}
