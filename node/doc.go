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
// An old copy of the store (a restored backup of kith.db) must not fork
// my log: friends may hold entries of it this store lacks. So after start
// the log writer holds writes until one connection has answered a pull
// (its view of my head is then in the store), for at most writeHold (15 s:
// a dial and a pull). A node without connections, or whose connections
// all fail to dial, writes at once: a laptop offline must still work. A
// peer that claims a far-ahead head of my log without the entries costs
// one pull and cannot hold writes past the bound.
//
// If my log did part from a longer copy a friend holds (I wrote past the
// hold on an old store), logsync finds out (a pull brings entries past my
// head that do not link to it), asks that friend for its whole copy of my
// log, and the log writer rebases: in one store
// transaction (store.Rewind) my entries from the first differing seq are
// replaced by the friend's (verified: signed by my key, chained), and the
// bodies of mine it dropped are appended again on top unless the friend's
// history holds a newer version of the record. Friends only ever see my
// log grow from what they hold. A copy no longer than mine that parts
// from it stays the friend's fork to resolve (equal lengths give no
// reason to prefer theirs), unless every entry of mine it would replace
// was written blind: after the hold ran out with no connection telling
// me my head, this run. Then the friend's copy is most likely my own
// past, lost with an old store, and it is taken back all the same; and
// logsync, asked by that friend for my log at a seq where mine is blind
// and differs, serves it none until the rebase was tried, so the friend
// never sees the fork. A history holding an entry a rebase of this run
// took out is never taken back: a branch I left.
//
// [Node.Restore] (`kith restore --from`) pulls my log from a named friend
// at once, then the friend's log; other connections' logs come from each
// when online. RunDaemon moves a store that does not open aside
// (kith.db.damaged-<time>) and starts a fresh one; Restore does the same
// for a store that fails its check, by restarting the node on a fresh
// store behind the same API socket.
//
// [New] returns a running *Node; [Node.Close] stops everything it started
// and waits for it. A *Node is safe for concurrent use.
package node
