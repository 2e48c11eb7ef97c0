import { ApiProperty } from '@nestjs/swagger';
import { ValidateBy } from 'class-validator';
import { TEMPLATE_ID } from './message-fields.js';

export const SUBSCRIPTION_RESULTS = ['accept', 'reject', 'ban', 'filter'] as const;
export type SubscriptionResult = (typeof SUBSCRIPTION_RESULTS)[number];
const RESULTS_MAX = 10;
/** wx.requestSubscribeMessage's own status text, which the client may pass along with the results. */
const IGNORED_KEY = 'errMsg';

/** The results without `errMsg`, or why they are refused. */
export function subscriptionResultsOf(
  results: unknown,
): { ok: true; results: Map<string, SubscriptionResult> } | { ok: false; problem: string } {
  if (typeof results !== 'object' || results === null || Array.isArray(results)) {
    return { ok: false, problem: 'must be an object of templateId: accept|reject|ban|filter' };
  }
  const entries = Object.entries(results).filter(([key]) => key !== IGNORED_KEY);
  if (entries.length < 1 || entries.length > RESULTS_MAX) {
    return { ok: false, problem: `must name 1-${RESULTS_MAX} templates` };
  }
  const map = new Map<string, SubscriptionResult>();
  for (const [key, value] of entries) {
    if (!TEMPLATE_ID.test(key))
      return { ok: false, problem: 'keys must be template ids (1-64 of A-Za-z0-9_-)' };
    if (!(SUBSCRIPTION_RESULTS as readonly unknown[]).includes(value)) {
      return { ok: false, problem: `${key} must be one of ${SUBSCRIPTION_RESULTS.join(', ')}` };
    }
    map.set(key, value as SubscriptionResult);
  }
  return { ok: true, results: map };
}

/** POST /messages/subscriptions: what wx.requestSubscribeMessage answered, as it answered it. */
export class SubscriptionResultsDto {
  @ApiProperty({
    type: 'object',
    description: `1-${RESULTS_MAX} template ids, each as wx.requestSubscribeMessage reported it; a key errMsg is ignored`,
    properties: { [IGNORED_KEY]: { description: 'ignored' } },
    additionalProperties: { type: 'string', enum: [...SUBSCRIPTION_RESULTS] },
    example: { errMsg: 'requestSubscribeMessage:ok', 'tmpl-shipped_01': 'accept' },
  })
  @ValidateBy({
    name: 'subscriptionResults',
    validator: {
      validate: (value: unknown) => subscriptionResultsOf(value).ok,
      defaultMessage: (args) => {
        const checked = subscriptionResultsOf(args?.value);
        return `results ${checked.ok ? 'is invalid' : checked.problem}`;
      },
    },
  })
  results!: Record<string, string>;
}
