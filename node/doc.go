// Package node is the Kith daemon: the wiring of an identity, a store, a
// libp2p host and the services that work on them, behind the local API
// ([api.API]), and the daemon's lifecycle ([RunDaemon]: lock, key, store,
// host, API socket, clean shutdown).
//
// The parts, each with one job:
//
//   - graph/book.Book, the address book: my card per circle, circles,
//     connections, contacts, references, merge. It reads the store,
//     decides and writes drafts through the log writer. It knows nothing
//     of the network and is tested without a host.
//   - the log writer (logWriter): appends to my log, refuses while the log
//     is being restored, and announces every append to my online
//     connections: the one place that happens.
//   - node/logsync, the /kith/sync/1.0.0 service: pulls, serves, verifies,
//     announces.
//   - node/connect, the /kith/connect/1.0.0 service: requests, invites,
//     answers, "disconnected" notices, and their node-local state.
//   - redial.go: keeps connections reachable (redial with backoff, resync,
//     LAN peers); host.go builds the libp2p host.
//
// The path of a write (`kith me set email … --circle friends`): the API
// socket (node/api server) calls [Node.SetMe], which hands it to
// book.SetMe; the book validates the field, re-issues the friends card
// sealed to the circle's members and writes it through the log writer,
// which appends (graph.Writer: sign, store in one transaction) and calls
// logsync's Announce. Announce sends my heads to each online connection.
//
// The path of a sync: a friend's logsync receives the announcement and,
// being behind, schedules a pull; the pull asks for my log after its
// head, verifies each entry (signature, then opens the card sealed to
// it), and stores them in order (the store checks the chain and folds
// each record, in one transaction a batch). When a pull brings a peer's
// encryption key, the book re-issues the cards of that peer's circles,
// now sealed to them too.
//
// [New] returns a running *Node; [Node.Close] stops everything it started
// and waits for it. A *Node is safe for concurrent use.
package node
