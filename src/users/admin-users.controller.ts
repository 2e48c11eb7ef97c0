import { Body, Controller, Delete, Get, Param, Patch, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiProperty, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Roles, type AuthUser } from '../common/auth/decorators.js';
import { ApiEnvelope } from '../common/envelope/api-envelope.decorator.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { ReqMeta, type RequestMeta } from '../common/http/request-meta.js';
import { UuidParamPipe } from '../common/http/uuid-param.pipe.js';
import { AdminUsersService } from './admin-users.service.js';
import { AdminUpdateUserDto } from './dto/admin-update-user.dto.js';
import { ListUsersQuery } from './dto/list-users.query.js';
import { toUserView, UserView } from './user-view.js';

const UserIdPipe = new UuidParamPipe('user');

class UserPageView {
  @ApiProperty({ type: [UserView] }) items!: UserView[];
  @ApiProperty() total!: number;
  @ApiProperty() page!: number;
  @ApiProperty() pageSize!: number;
}

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('users')
export class AdminUsersController {
  constructor(private readonly admin: AdminUsersService) {}

  @Get()
  @ApiEnvelope(UserPageView)
  async list(@Query() query: ListUsersQuery): Promise<UserPageView> {
    const page = await this.admin.list(query);
    return { ...page, items: page.items.map(toUserView) };
  }

  @Get(':id')
  @ApiEnvelope(UserView, [ErrorCode.NOT_FOUND])
  async get(@Param('id', UserIdPipe) id: string): Promise<UserView> {
    return toUserView(await this.admin.get(id));
  }

  @Patch(':id')
  @ApiEnvelope(UserView, [ErrorCode.NOT_FOUND, ErrorCode.CONFLICT])
  async update(
    @CurrentUser() auth: AuthUser,
    @Param('id', UserIdPipe) id: string,
    @Body() body: AdminUpdateUserDto,
    @ReqMeta() meta: RequestMeta,
  ): Promise<UserView> {
    return toUserView(await this.admin.update(auth.userId, id, body, meta));
  }

  @Delete(':id')
  @ApiEnvelope(null, [ErrorCode.NOT_FOUND, ErrorCode.CONFLICT])
  async erase(
    @CurrentUser() auth: AuthUser,
    @Param('id', UserIdPipe) id: string,
    @ReqMeta() meta: RequestMeta,
  ): Promise<null> {
    await this.admin.erase(auth.userId, id, meta);
    return null;
  }
}
