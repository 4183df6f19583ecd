// Package connect is the /kith/connect/1.0.0 service: connection
// requests and their answers, invite codes, and the signed notice that a
// connection ended. It keeps the node-local state of that (pending
// requests, declined peers, who disconnected me) and leaves what goes in
// my log (the connection record, circles, re-issued cards) to the address
// book. Incoming requests are bounded: 100 kept, 8 from one address,
// each for 7 days (Tuning).
//
// [Guard] is the host's connection gater: it keeps strangers to a share
// of the inbound connections so that my connections and invitees always
// get in, and closes strangers' idle connections.
//
// [Service] and [Guard] are safe for concurrent use; [New] registers its handler and
// [Service.Close] removes it and waits for every handler and background
// send.
package connect
