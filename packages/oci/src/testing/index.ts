export { type ContentSinkFactory, type ContentSinkHarness, contentSinkSuite } from './content-sink-suite.js';
export { type FileLockerFactory, type FileLockerHarness, fileLockerSuite } from './file-locker-suite.js';
