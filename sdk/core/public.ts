// What both packages export of the core, so that their entries name it once.
export { ApiError, ErrorCode } from './errors.js';
export type { ErrorCodeValue } from './errors.js';
export type { KeyValueStorage, Method, RequestOptions, SignInResult, Tokens, User } from './core.js';
