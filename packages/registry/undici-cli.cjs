'use strict';
// The part of undici this package uses (Agent, buildConnector, Dispatcher#request), loaded by
// its own modules. tsup.cli.config.ts points the demo CLI bundle's `undici` here: undici's main
// module loads fetch, WebSocket, the cache, mocks and interceptors too, which a short-lived
// process would parse and run for nothing (about a third of the bundle's startup).
const Dispatcher = require('undici/lib/dispatcher/dispatcher');
const request = require('undici/lib/api/api-request');

if (Dispatcher.prototype.request === undefined) Dispatcher.prototype.request = request;

module.exports = {
  Agent: require('undici/lib/dispatcher/agent'),
  buildConnector: require('undici/lib/core/connect'),
  Dispatcher,
};
