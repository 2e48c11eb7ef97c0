import { Injectable, type BeforeApplicationShutdown } from '@nestjs/common';

/** Flips when shutdown starts, so /health/ready turns 503 before the pools close. */
@Injectable()
export class ShutdownState implements BeforeApplicationShutdown {
  stopping = false;

  beforeApplicationShutdown(): void {
    this.stopping = true;
  }
}
