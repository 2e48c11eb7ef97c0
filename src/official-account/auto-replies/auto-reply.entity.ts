import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { timestamp, UUID_COLUMN } from '../../database/columns.js';

export type AutoReplyMatch = 'exact' | 'contains' | 'click';

/** A keyword rule of the official account's callback (admin CRUD, matched by the text and CLICK handlers). */
@Entity('oa_auto_replies')
@Index('uq_oa_auto_replies_match_keyword', ['match', 'keywordHash'], { unique: true })
export class AutoReplyEntity {
  @PrimaryColumn(UUID_COLUMN)
  id!: string;

  @Column({ type: 'varchar', length: 16 })
  match!: AutoReplyMatch;

  /** 1–128 bytes of UTF-8, compared case-sensitively with the message. */
  @Column({ type: 'varchar', length: 128 })
  keyword!: string;

  /**
   * sha256 (hex) of the keyword's UTF-8 bytes: the unique index and the exact look-up compare bytes,
   * where MariaDB's collation would call "Hi" and "hi " the same keyword.
   */
  @Column({ name: 'keyword_hash', type: 'varchar', length: 64 })
  keywordHash!: string;

  @Column({ type: 'varchar', length: 600 })
  reply!: string;

  @Column({ type: 'boolean' })
  enabled!: boolean;

  @Column({ name: 'created_at', ...timestamp() })
  createdAt!: Date;

  @Column({ name: 'updated_at', ...timestamp() })
  updatedAt!: Date;
}
