// Package api is the Kith daemon's local API: one Go interface, [API],
// implemented in process by node.Node and over HTTP/JSON on a unix socket by
// [Client] (served by [Handler]). The conformance suite in api/apitest runs
// against both.
//
// Routes live under /api/v0/. Errors cross the socket as
// {"error": "...", "code": "..."} and the client maps code back to the
// sentinels below, so errors.Is works on either side. Requests that carry an
// Origin or Referer header are refused: a web page must never drive the
// daemon through a browser.
//
// Client and Handler are safe for concurrent use.
package api
