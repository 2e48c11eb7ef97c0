/**
 * A callback the checks refused: the status and the short plain-text body WeChat (or whoever sent
 * it) gets. These answers are outside the API's envelope: WeChat reads the status only, and the
 * texts are fixed so that they say nothing about the account or the message.
 */
export type CallbackRefusalText =
  | 'invalid signature'
  | 'payload too large'
  | 'bad request'
  | 'expired timestamp'
  | 'replayed nonce'
  | 'unavailable';

const STATUS: Record<CallbackRefusalText, 400 | 401 | 413 | 503> = {
  'invalid signature': 401,
  'payload too large': 413,
  'bad request': 400,
  'expired timestamp': 401,
  'replayed nonce': 401,
  unavailable: 503,
};

export class CallbackRefusal extends Error {
  readonly status: 400 | 401 | 413 | 503;

  constructor(readonly text: CallbackRefusalText) {
    super(text);
    this.name = 'CallbackRefusal';
    this.status = STATUS[text];
  }
}
