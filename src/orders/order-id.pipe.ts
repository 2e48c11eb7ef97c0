import { UuidParamPipe } from '../common/http/uuid-param.pipe.js';

/** A malformed order id is answered like an unknown one: 404 / 40400. */
export const OrderIdPipe = new UuidParamPipe('order');
