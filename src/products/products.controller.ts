import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Public, Roles } from '../common/auth/decorators.js';
import { ApiEnvelope } from '../common/envelope/api-envelope.decorator.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { UuidParamPipe } from '../common/http/uuid-param.pipe.js';
import type { Page } from '../common/validation/page.query.js';
import { CreateProductDto } from './dto/create-product.dto.js';
import { AdminListProductsQuery, ListProductsQuery } from './dto/list-products.query.js';
import { UpdateProductDto } from './dto/update-product.dto.js';
import type { ProductEntity } from './product.entity.js';
import { toProductView, ProductView } from './product-view.js';
import { ProductsService } from './products.service.js';

export const ProductIdPipe = new UuidParamPipe('product');

export class ProductPageView {
  @ApiProperty({ type: [ProductView] }) items!: ProductView[];
  @ApiProperty() total!: number;
  @ApiProperty() page!: number;
  @ApiProperty() pageSize!: number;
}

const pageView = (page: Page<ProductEntity>): ProductPageView => ({
  ...page,
  items: page.items.map(toProductView),
});

/** The catalogue as the mini-program sees it, and the admin's writes to it. */
@ApiTags('products')
@Controller('products')
export class ProductsController {
  constructor(private readonly products: ProductsService) {}

  @Get()
  @Public()
  @ApiEnvelope(ProductPageView)
  async list(@Query() query: ListProductsQuery): Promise<ProductPageView> {
    return pageView(await this.products.listOnSale(query));
  }

  @Get(':id')
  @Public()
  @ApiEnvelope(ProductView, [ErrorCode.NOT_FOUND])
  async get(@Param('id', ProductIdPipe) id: string): Promise<ProductView> {
    return toProductView(await this.products.getOnSale(id));
  }

  @Post()
  @HttpCode(200)
  @Roles('admin')
  @ApiBearerAuth()
  @ApiEnvelope(ProductView)
  async create(@Body() body: CreateProductDto): Promise<ProductView> {
    return toProductView(await this.products.create(body));
  }

  @Patch(':id')
  @Roles('admin')
  @ApiBearerAuth()
  @ApiEnvelope(ProductView, [ErrorCode.NOT_FOUND])
  async update(@Param('id', ProductIdPipe) id: string, @Body() body: UpdateProductDto): Promise<ProductView> {
    return toProductView(await this.products.update(id, body));
  }
}

@ApiTags('admin')
@ApiBearerAuth()
@Roles('admin')
@Controller('admin/products')
export class AdminProductsController {
  constructor(private readonly products: ProductsService) {}

  @Get()
  @ApiEnvelope(ProductPageView)
  async list(@Query() query: AdminListProductsQuery): Promise<ProductPageView> {
    return pageView(await this.products.list(query));
  }

  @Get(':id')
  @ApiEnvelope(ProductView, [ErrorCode.NOT_FOUND])
  async get(@Param('id', ProductIdPipe) id: string): Promise<ProductView> {
    return toProductView(await this.products.get(id));
  }
}
