import { Module } from '@nestjs/common';
import { TypeormUnitOfWork, UnitOfWork } from './unit-of-work.js';

/** What features need of the database beyond their repositories: transactions. */
@Module({
  providers: [{ provide: UnitOfWork, useClass: TypeormUnitOfWork }],
  exports: [UnitOfWork],
})
export class DatabaseModule {}
