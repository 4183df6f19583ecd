// Package connect is the /kith/connect/1.0.0 service: connection
// requests and their answers, invite codes, and the signed notice that a
// connection ended. It keeps the node-local state of that (pending
// requests, declined peers, who disconnected me) and leaves what goes in
// my log (the connection record, circles, re-issued cards) to the address
// book.
//
// [Service] is safe for concurrent use; [New] registers its handler and
// [Service.Close] removes it and waits for every handler and background
// send.
package connect
