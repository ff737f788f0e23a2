import { handlerBuild } from './handler-under-test';

// Imported first by the suites under test/bundles/: the handler suite imported next drives the
// shipped bundle instead of the TypeScript sources.
handlerBuild.kind = 'bundle';
