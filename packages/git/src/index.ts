export {
  type LinkForDefinitionOptions,
  linkForDefinition,
  mapToOriginalSource,
  type SourceLocation,
} from './definition-link';
export { GitError, type GitErrorOptions } from './errors';
export {
  type BuildUrlOptions,
  type GitLink,
  GitStatus,
  type GitStatusOptions,
} from './git-status';
export { normalizeRemoteUrl } from './remote-url';
// Link builders: register a self-hosted host, or write a builder for another provider.
export {
  type GitProviderKind,
  type GitUrlBuilder,
  type GitUrlTarget,
  gitUrlBuilderKinds,
  gitUrlBuilders,
  registerGitUrlBuilder,
} from './url-builders';
