import {
  Inject,
  Injectable,
  SetMetadata,
  type CanActivate,
  type ExecutionContext,
  type Type,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppError } from '../common/errors/app-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { officialConfig, type OfficialSlice } from '../config/config.slices.js';

const OFFICIAL_ACCOUNT_ROUTE = 'wechat:official-account-route';

/**
 * Marks a route (or every route of a controller) as the official account's: without an official
 * account (WECHAT_OA_APP_ID unset outside the sandbox) it answers 404 / 40400, as if it did not
 * exist, whoever calls. The routes stay registered, so the OpenAPI document is the same either way.
 */
export const OfficialAccountRoute = () => SetMetadata(OFFICIAL_ACCOUNT_ROUTE, true);

/**
 * The global guard behind @OfficialAccountRoute(). WechatModule provides it as an APP_GUARD, and
 * AppModule imports WechatModule before AuthModule, so it runs before the access guard: a route
 * that is switched off is not found rather than "authentication required".
 */
@Injectable()
export class OfficialAccountGate implements CanActivate {
  private readonly enabled: boolean;
  private readonly marked = new Map<unknown, boolean>();

  constructor(
    private readonly reflector: Reflector,
    @Inject(officialConfig.KEY) official: Pick<OfficialSlice, 'enabled'>,
  ) {
    this.enabled = official.enabled;
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.enabled) return true;
    const handler = context.getHandler();
    let marked = this.marked.get(handler);
    if (marked === undefined) {
      marked =
        this.reflector.getAllAndOverride<boolean | undefined>(OFFICIAL_ACCOUNT_ROUTE, [
          handler,
          context.getClass() as Type<unknown>,
        ]) === true;
      this.marked.set(handler, marked);
    }
    if (marked) throw new AppError(ErrorCode.NOT_FOUND);
    return true;
  }
}
