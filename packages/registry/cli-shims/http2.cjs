'use strict';
// undici reads http2's constants when it loads; HTTP/2 is used only with `allowH2`, which the
// client never sets (and undici takes this same shape when http2 is missing).
module.exports = { constants: {} };
