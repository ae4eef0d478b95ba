// Public API. It never imports a backend's internals: backends register themselves on import.
import './backend/builtin.js';

export { Tensor } from './core/tensor.js';
export { LayerhiveError, type ErrorCode } from './core/errors.js';
export { Rng } from './core/rng.js';
export type { DType, TypedArray } from './core/dtype.js';
export { tidy, keep, dispose, liveTensors } from './core/scope.js';
export type { Backend } from './backend/backend.js';
export {
  ready,
  setBackend,
  getBackend,
  createBackend,
  setBackendPriority,
  registeredBackends,
  backendFailures,
  type BackendOptions,
} from './backend/select.js';
export { listKernels } from './backend/registry.js';
export { setCheckNumerics } from './backend/engine.js';
export * from './ops/index.js';
export * as nn from './nn/index.js';
export {
  unaryOps,
  unaryGradUses,
  binaryOps,
  type UnaryOp,
  type BinaryOp,
  type KernelName,
} from './backend/kernel-names.js';
export * from './data/index.js';
export { createRule, registerRule, parallelismOf, type RuleConfig, type RuleDefinition } from './learn/create.js';
export type {
  Parallelism,
  ParallelismKind,
  IndependentGroups,
  ForwardPipeline,
  GPipe,
  RangeForward,
  SegmentChain,
} from './learn/parallelism.js';
export { ruleNames, saveGroups, type RuleName, type LearningRule, type ParamGroup } from './learn/rule.js';
export { modelNames, modelSpec, type ModelName } from './learn/models.js';
export { train, evaluate, type TrainOptions, type EpochReport, type Progress, type Features } from './learn/trainer.js';
export {
  unlearn,
  unlearnMethods,
  unlearningMetrics,
  averageGap,
  saliency,
  topFractionMask,
  membershipAttack,
  splitByIndices,
  splitByClass,
  randomForgetIndices,
  concatDatasets,
  releaseRule,
  type UnlearnMethod,
  type UnlearnOptions,
  type UnlearnResult,
  type UnlearningMetrics,
  type ForgetSplit,
  type SaliencyMask,
  type MembershipAttack,
} from './learn/unlearn/index.js';
export { createOptimizer, lrAt, type Optimizer, type OptimizerSpec, type Schedule } from './learn/optim/index.js';
export { WorkerPool, defaultWorkers, type PoolOptions } from './parallel/pool.js';
export type { Spawner, WorkerHandle } from './parallel/spawn.js';
export { webSpawner } from './parallel/spawn-web.js';
export { trainParallel, type ParallelOptions, type ParallelReport, type Restart } from './parallel/train-parallel.js';
export { FrozenStage, trainOnFrozen, type FrozenStageOptions } from './parallel/frozen-stage.js';
export { PipelinedModel, type PipelineOptions } from './parallel/pipelined-model.js';
export { parallelExplainable } from './parallel/parallel-explainable.js';
export {
  makePlan,
  measureCosts,
  placementCosts,
  formatPlan,
  partitionContiguous,
  assignIndependent,
  type Plan,
  type StagePlan,
  type GroupCost,
} from './parallel/placement.js';
export type { StageHost, StageStats } from './parallel/stage-host.js';
export { saveGroupState, loadGroupState, type GroupState } from './learn/group-state.js';
export { WebGpuBackend, setGpuProvider } from './backend/webgpu/index.js';
export * from './explain/index.js';
export { exportOnnx, type ExportOptions } from './onnx/export.js';
export { readContract } from './onnx/read-contract.js';
export { CONTRACT_KEYS, type ModelContract } from './onnx/contract.js';
export { importOnnx, loadOnnx, ruleFromOnnx, type ImportedModel, type ImportOptions } from './onnx/import.js';
export * from './store/index.js';
// Federated learning: a Flower SuperNode (its Fleet API over HTTP) and the ClientApp contract over a learning rule
export {
  SuperNode,
  type SuperNodeOptions,
  type ClientAppHandler,
  type IncomingMessage,
} from './federated/supernode.js';
export { ruleClientApp, ruleArrays, loadRuleArrays, type RuleClientOptions } from './federated/rule-client.js';
export { shard } from './federated/shards.js';
export { FederatedError, type FederatedFault } from './federated/errors.js';
export type { Traffic } from './federated/fleet-client.js';
