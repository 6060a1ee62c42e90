'use strict';
// Node 20's node:tls export names.
module.exports = require('./lazy.cjs')('node:tls', [
  'CLIENT_RENEG_LIMIT',
  'CLIENT_RENEG_WINDOW',
  'DEFAULT_CIPHERS',
  'DEFAULT_ECDH_CURVE',
  'DEFAULT_MIN_VERSION',
  'DEFAULT_MAX_VERSION',
  'getCiphers',
  'rootCertificates',
  'convertALPNProtocols',
  'checkServerIdentity',
  'createSecureContext',
  'SecureContext',
  'TLSSocket',
  'Server',
  'createServer',
  'connect',
  'createSecurePair',
]);
