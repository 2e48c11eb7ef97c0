import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ProductEntity } from './product.entity.js';
import { ProductRepository } from './product.repository.js';
import { AdminProductsController, ProductsController } from './products.controller.js';
import { ProductsService } from './products.service.js';
import { TypeormProductRepository } from './typeorm-product.repository.js';

/**
 * The catalogue and its stock. Exports the repository for the orders module, which reserves and
 * releases stock inside its own transactions.
 */
@Module({
  imports: [TypeOrmModule.forFeature([ProductEntity])],
  controllers: [ProductsController, AdminProductsController],
  providers: [ProductsService, { provide: ProductRepository, useClass: TypeormProductRepository }],
  exports: [ProductRepository, ProductsService],
})
export class ProductsModule {}
