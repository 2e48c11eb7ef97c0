import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import { Optional, QueryInt } from './presence.js';

/** `page` and `pageSize` of every list endpoint; a list's query class extends it with its filters. */
export class PageQuery {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: 1_000_000,
    default: 1,
    description: 'plain decimal digits',
  })
  @Optional()
  @QueryInt()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  page: number = 1;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: 100,
    default: 20,
    description: 'plain decimal digits',
  })
  @Optional()
  @QueryInt()
  @IsInt()
  @Min(1)
  @Max(100)
  pageSize: number = 20;
}

/** One page of a list: `total` counts every match, not only this page's. */
export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
}
