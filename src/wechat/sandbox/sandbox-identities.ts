import { createHash } from 'node:crypto';

const hex = (text: string, length: number) =>
  createHash('sha256').update(text).digest('hex').slice(0, length);

/**
 * How the sandbox makes its people (README, "Sandbox"): a name — a wx.login code in the
 * mini-program, an OAuth code in the official account — is one person, with an openid in each app
 * and one unionid, so that linking by unionid can be tried:
 *   code "alice" → MP openid sandboxOpenid("alice"), OA openid sandboxOfficialOpenid("alice"),
 *   both with unionid sandboxUnionid(sandboxOfficialOpenid("alice")).
 * The unionid is computed from the OA openid, so a follower's unionid (user/info) needs no name.
 */
export function sandboxOfficialOpenid(name: string): string {
  return `sbx_oa_${hex(`oa-openid:${name}`, 21)}`;
}

/** The unionid of the person whose official-account openid is `officialOpenid`. */
export function sandboxUnionid(officialOpenid: string): string {
  return `sbx_un_${hex(`unionid:${officialOpenid}`, 21)}`;
}

/**
 * `errcode:<N>` in a code, a text or a button name, `errcode_<N>` (or `errcode:<N>`) as a template
 * id, whose pattern has no `:`: the call fails with errcode N.
 */
export function askedErrcode(value: string): number | null {
  const match = /^errcode[:_](-?\d+)$/.exec(value);
  return match ? Number(match[1]) : null;
}

export type OAuthScope = 'snsapi_base' | 'snsapi_userinfo';

/**
 * The OAuth code the sandbox official account reads as `name` signing in with `scope`: the name
 * itself for snsapi_base, `userinfo:<name>` for snsapi_userinfo (its grant carries the unionid, and
 * /sns/userinfo a nickname). `snapshot:<name>` is a snapshot-page virtual user.
 */
export function sandboxOAuthCode(name: string, scope: OAuthScope = 'snsapi_base'): string {
  return scope === 'snsapi_userinfo' ? `userinfo:${name}` : name;
}
