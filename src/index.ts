// Public API. It never imports a backend's internals: backends register themselves on import.
import './backend/js/index.js';
import './backend/wasm/index.js';

export { Tensor } from './core/tensor.js';
export { LayerhiveError, type ErrorCode } from './core/errors.js';
export { Rng } from './core/rng.js';
export type { DType, TypedArray } from './core/dtype.js';
export { tidy, keep, dispose, liveTensors } from './core/scope.js';
export type { Backend } from './backend/backend.js';
export { ready, setBackend, getBackend, createBackend, setBackendPriority, registeredBackends, backendFailures, type BackendOptions } from './backend/select.js';
export { listKernels } from './backend/registry.js';
export { setCheckNumerics } from './backend/engine.js';
export * from './ops/index.js';
export * as nn from './nn/index.js';
export { unaryOps, unaryGradUses, binaryOps, type UnaryOp, type BinaryOp, type KernelName } from './backend/kernel-names.js';
export * from './data/index.js';
export { createRule, type RuleConfig } from './learn/create.js';
export { ruleNames, type RuleName, type LearningRule, type ParamGroup } from './learn/rule.js';
export { modelNames, modelSpec, type ModelName } from './learn/models.js';
export { train, evaluate, type TrainOptions, type EpochReport, type Progress } from './learn/trainer.js';
export { createOptimizer, lrAt, type Optimizer, type OptimizerSpec, type Schedule } from './learn/optim/index.js';
