import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsNotEmpty, IsString, MaxLength } from 'class-validator';
import { Optional } from '../../common/validation/presence.js';
import { UserView } from '../../users/user-view.js';

export { WechatCodeDto as LoginDto } from '../../users/dto/wechat-code.dto.js';

export class RefreshDto {
  @ApiProperty({
    description: 'the refresh token from login or the previous refresh',
    minLength: 1,
    maxLength: 256,
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(256)
  refreshToken!: string;
}

export class LogoutDto {
  @ApiPropertyOptional({ description: "end every login of this user, not only this one's", default: false })
  @Optional()
  @IsBoolean()
  allDevices?: boolean;
}

export class TokensView {
  @ApiProperty() accessToken!: string;
  @ApiProperty() refreshToken!: string;
  @ApiProperty({ enum: ['Bearer'] }) tokenType!: 'Bearer';
  @ApiProperty({ description: 'seconds' }) expiresIn!: number;
  @ApiProperty({ description: 'seconds until the login ends, whatever the refreshes' })
  refreshExpiresIn!: number;
}

export class LoginView extends TokensView {
  @ApiProperty({ type: UserView }) user!: UserView;
  @ApiProperty() isNewUser!: boolean;
}
