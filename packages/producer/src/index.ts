export { createRekorProducer } from './producer';
export type {
  RekorProducer,
  RekorProducerOptions,
  ProducerMetrics,
  SubmitResult,
  SubmitRequest,
  BudgetPeek,
  SubmitStatus,
} from './producer';
export { ProducerError } from './error';
export type { ProducerErrorCode } from './error';
