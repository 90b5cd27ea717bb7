/**
 * @module mapping
 * Account → output document mappings for every door: the format (`rules.ts`), the compiler
 * (`engine.ts`), dotted paths (`path.ts`), transforms (`transforms.ts`) and the leaf lister
 * (`inspect.ts`). Pure: no I/O, no store.
 */
export { compileMapping, type CompiledMapping, type CompileOptions } from './engine.ts'
export { listPaths, type PathEntry } from './inspect.ts'
export {
  escapeName,
  FORBIDDEN_NAMES,
  formatPath,
  getPath,
  MAX_DEPTH,
  MAX_INDEX,
  parseKey,
  setPath,
  type ParseKeyOptions,
  type Segment,
} from './path.ts'
export {
  SOURCE_FIELDS,
  MAX_RULES,
  MAX_TRANSFORMS,
  parseRule,
  parseSourcePath,
  type SourceField,
  type MappingSpec,
  type Rule,
  type RuleSpec,
  type Source,
} from './rules.ts'
export { MappingSyntaxError } from './syntax-error.ts'
export {
  compileTransform,
  TRANSFORM_NAMES,
  truncateCodePoints,
  type TransformFn,
  type TransformSpec,
} from './transforms.ts'
