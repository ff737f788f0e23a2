import { handlerBuild } from './handler-under-test';

// Imported first by the test/<family>/*-handler.bundle.test.ts suites: the handler suite imported
// next drives the shipped bundle instead of the TypeScript sources.
handlerBuild.kind = 'bundle';
