import {
  applyDecorators,
  Controller,
  Get,
  Inject,
  Logger,
  Post,
  Req,
  Res,
  type OnModuleInit,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ApiBody, ApiOperation, ApiProduces, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../../common/auth/decorators.js';
import { AppError } from '../../common/errors/app-error.js';
import { sendError } from '../../common/errors/all-exceptions.filter.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import { RawResponse } from '../../common/envelope/envelope.js';
import { handleRawBodyRefusals, RawBody, type RawBodyRefusal } from '../../common/http/raw-body.js';
import { OfficialAccountRoute } from '../../wechat/official-account-gate.js';
import { OFFICIAL_ACCOUNT_SETTINGS, type OfficialAccountSettings } from '../official-account-settings.js';
import { CallbackMetrics, type CallbackType } from './callback-metrics.js';
import { CallbackRefusal } from './callback-refusal.js';
import {
  CALLBACK_CLOCK,
  CallbackVerifier,
  type CallbackClock,
  type CallbackQuery,
} from './callback-verifier.js';
import { messageType } from './official-message.js';
import { failure, OfficialCallbackService } from './official-callback.service.js';

/** The contract's bound on a callback body. */
export const CALLBACK_BODY_LIMIT = 64 * 1024;
const REFUSALS = 'wechat-official-callback';
const PLAIN = 'text/plain; charset=utf-8';

const TEXT = { 'text/plain': { schema: { type: 'string' } } };

function ApiCallback(method: 'GET' | 'POST') {
  const refusals = [
    ApiResponse({
      status: 401,
      description: '`invalid signature`, `expired timestamp` or `replayed nonce`',
      content: TEXT,
    }),
    ApiResponse({ status: 400, description: '`bad request`', content: TEXT }),
    ApiResponse({
      status: 503,
      description: '`unavailable` (the shared nonce store cannot be reached)',
      content: TEXT,
    }),
  ];
  const common = [
    ApiQuery({
      name: 'signature',
      required: true,
      description: 'sha1 of the sorted token, timestamp and nonce',
    }),
    ApiQuery({ name: 'timestamp', required: true, description: 'Unix seconds, within ±300 s' }),
    ApiQuery({ name: 'nonce', required: true }),
  ];
  if (method === 'GET') {
    return applyDecorators(
      ApiOperation({
        summary: "The official account's URL check; answered outside the envelope",
        description: 'Signed like every callback; answers `echostr` exactly as received.',
      }),
      ...common,
      ApiQuery({ name: 'echostr', required: true, description: '1 to 128 characters' }),
      ApiProduces('text/plain'),
      ApiResponse({ status: 200, description: '`echostr`', content: TEXT }),
      ...refusals,
    );
  }
  return applyDecorators(
    ApiOperation({
      summary: "The official account's messages and events; answered outside the envelope",
      description:
        'Signed by WeChat (and, with `encrypt_type=aes`, `msg_signature` over `Encrypt`). Answers a ' +
        'passive reply (`text/xml`, encrypted in aes mode) or `success`, always within 5 s once the checks pass.',
    }),
    ...common,
    ApiQuery({ name: 'encrypt_type', required: false, enum: ['raw', 'aes'] }),
    ApiQuery({ name: 'msg_signature', required: false }),
    ApiQuery({ name: 'openid', required: false, description: 'ignored' }),
    ApiBody({
      description: 'the XML message as WeChat sends it, at most 64 KiB',
      schema: { type: 'string' },
    }),
    ApiProduces('text/xml', 'text/plain'),
    ApiResponse({
      status: 200,
      description: 'a reply, or `success`',
      content: { 'text/xml': { schema: { type: 'string' } }, ...TEXT },
    }),
    ...refusals,
    ApiResponse({ status: 413, description: '`payload too large` (over 64 KiB)', content: TEXT }),
  );
}

/**
 * GET and POST /wechat/official/callback: WeChat's calls to the official account's server. The
 * checks decide a refusal's status and text; once they pass, POST always answers 200 (a reply or
 * `success`). Outside the envelope, public: the signatures are the authentication.
 */
@ApiTags('wechat-official')
@OfficialAccountRoute()
@Public()
@Controller('wechat/official')
export class OfficialCallbackController implements OnModuleInit {
  private readonly logger = new Logger('OfficialCallback');

  constructor(
    private readonly verifier: CallbackVerifier,
    private readonly callbacks: OfficialCallbackService,
    private readonly metrics: CallbackMetrics,
    private readonly adapterHost: HttpAdapterHost,
    @Inject(CALLBACK_CLOCK) private readonly now: CallbackClock,
    @Inject(OFFICIAL_ACCOUNT_SETTINGS) private readonly settings: OfficialAccountSettings,
  ) {}

  /** A body refused while it was read (over 64 KiB, short of its length) still meets the signature first. */
  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify) return;
    handleRawBodyRefusals(
      fastify,
      (refusal, request, reply) => this.refusedBody(refusal, request, reply),
      REFUSALS,
    );
  }

  @Get('callback')
  @RawResponse()
  @ApiCallback('GET')
  async verify(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const startedAt = this.now();
    try {
      const echostr = await this.verifier.verifyGet(query(request));
      this.metrics.record('verify', 'success', (this.now() - startedAt) / 1000);
      void reply.status(200).header('content-type', PLAIN).send(echostr);
    } catch (error) {
      this.refuse(reply, error, 'verify', startedAt);
    }
  }

  @Post('callback')
  @RawBody({ limit: CALLBACK_BODY_LIMIT, refusals: REFUSALS })
  @RawResponse()
  @ApiCallback('POST')
  async receive(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const startedAt = this.now();
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    let verified;
    try {
      verified = await this.verifier.verifyPost(query(request), body);
    } catch (error) {
      this.refuse(reply, error, 'other', startedAt);
      return;
    }
    const { answer, outcome, message } = await this.callbacks.answer(verified, startedAt);
    this.metrics.record(messageType(message), outcome, (this.now() - startedAt) / 1000);
    if (answer.kind === 'xml') {
      void reply.status(200).header('content-type', 'text/xml; charset=utf-8').send(answer.body);
    } else {
      void reply.status(200).header('content-type', PLAIN).send('success');
    }
  }

  private refuse(reply: FastifyReply, error: unknown, type: CallbackType, startedAt: number): void {
    let refusal: CallbackRefusal;
    if (error instanceof CallbackRefusal) {
      refusal = error;
    } else {
      this.logger.error(`callback checks failed: ${failure(error)}`);
      refusal = new CallbackRefusal('unavailable');
    }
    this.metrics.record(type, 'refused', (this.now() - startedAt) / 1000);
    void reply.status(refusal.status).header('content-type', PLAIN).send(refusal.text);
  }

  private refusedBody(refusal: RawBodyRefusal, request: FastifyRequest, reply: FastifyReply): void {
    // Refused before the route's guards ran: without an official account the route does not exist.
    if (!this.settings.enabled)
      return sendError(new AppError(ErrorCode.NOT_FOUND), request, reply, this.logger);
    const startedAt = this.now();
    try {
      this.verifier.checkSignature(query(request));
      throw new CallbackRefusal(refusal.status === 413 ? 'payload too large' : 'bad request');
    } catch (error) {
      this.refuse(reply, error, 'other', startedAt);
    }
  }
}

const query = (request: FastifyRequest): CallbackQuery =>
  request.query !== null && typeof request.query === 'object' ? (request.query as CallbackQuery) : {};
