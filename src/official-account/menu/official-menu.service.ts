import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service.js';
import { AppError } from '../../common/errors/app-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import type { RequestMeta } from '../../common/http/request-meta.js';
import {
  WECHAT_OFFICIAL_CLIENT,
  type OfficialAccountClient,
  type OfficialMenuState,
} from '../../wechat/official-account-client.port.js';
import { menuProblems } from './menu-buttons.js';

/** The official account's custom menu, read from and written to WeChat (nothing kept here). */
@Injectable()
export class OfficialMenuService {
  constructor(
    @Inject(WECHAT_OFFICIAL_CLIENT) private readonly official: OfficialAccountClient | null,
    private readonly audit: AuditService,
  ) {}

  get(): Promise<OfficialMenuState> {
    return this.client().getMenu();
  }

  /** Checks the buttons, has WeChat take them, then answers them as set (menu/create opens the menu). */
  async set(button: unknown, actorId: string, meta: RequestMeta): Promise<OfficialMenuState> {
    const client = this.client();
    const problems = menuProblems(button);
    if (problems.length > 0) {
      throw new AppError(ErrorCode.VALIDATION_FAILED, 'validation failed', { data: { errors: problems } });
    }
    const buttons = button as Array<Record<string, unknown>>;
    await client.createMenu({ button: buttons });
    await this.audit.record('menu_set', { actorId, meta, detail: `${buttons.length} top buttons` });
    return { isMenuOpen: true, button: buttons };
  }

  private client(): OfficialAccountClient {
    // The routes' gate answers first without an official account; this keeps the service honest alone.
    if (!this.official) throw new AppError(ErrorCode.NOT_FOUND);
    return this.official;
  }
}
