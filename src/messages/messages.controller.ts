import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CurrentUser, type AuthUser } from '../common/auth/decorators.js';
import { ApiEnvelope } from '../common/envelope/api-envelope.decorator.js';
import { subscriptionResultsOf, SubscriptionResultsDto } from './dto/subscription-results.dto.js';
import { QuotasView } from './message-view.js';
import { SubscriptionQuotas } from './subscription-quotas.service.js';

@ApiTags('messages')
@ApiBearerAuth()
@Controller('messages/subscriptions')
export class MessagesController {
  constructor(private readonly quotas: SubscriptionQuotas) {}

  @Post()
  @HttpCode(200)
  @ApiEnvelope(QuotasView)
  async record(@CurrentUser() auth: AuthUser, @Body() body: SubscriptionResultsDto): Promise<QuotasView> {
    const checked = subscriptionResultsOf(body.results);
    // The DTO already refused anything else.
    const results = checked.ok ? checked.results : new Map();
    return { quotas: await this.quotas.record(auth.userId, results) };
  }

  @Get()
  @ApiEnvelope(QuotasView)
  async list(@CurrentUser() auth: AuthUser): Promise<QuotasView> {
    return { quotas: await this.quotas.list(auth.userId) };
  }
}
