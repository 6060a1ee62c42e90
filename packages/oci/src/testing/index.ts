export { type ContentSinkFactory, type ContentSinkHarness, contentSinkSuite } from './content-sink-suite.js';
