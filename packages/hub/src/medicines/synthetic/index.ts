export {
  type DmdFileKind,
  dmdFileNames,
  type GenerateDmdReleaseOptions,
  type GeneratedDmdRelease,
  generateDmdRelease,
  planDmdRelease,
} from './generate-release.js';
export { FULL_SIZE, type PlanCounts } from './model.js';
