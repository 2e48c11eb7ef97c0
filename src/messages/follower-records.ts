/**
 * What messages ask of the official account's follower records: whether a person is on record as
 * no longer following (then a template or customer-service message is refused with 40922 before
 * any call). A person the records do not know may still follow (they followed before the service
 * kept records): WeChat decides then (43004).
 */
export abstract class FollowerRecords {
  abstract unsubscribedOnRecord(oaOpenid: string): Promise<boolean>;
}
