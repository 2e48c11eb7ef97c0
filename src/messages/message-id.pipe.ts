import { UuidParamPipe } from '../common/http/uuid-param.pipe.js';

/** A malformed message id is answered like an unknown one: 404 / 40400. */
export const MessageIdPipe = new UuidParamPipe('message');
