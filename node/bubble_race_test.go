//go:build race

package node_test

// raceDetector: the race detector's runtime can crash inside a synctest
// bubble ("ThreadSanitizer: CHECK failed: tsan_rtl.cpp:346", Go issue
// golang/go#78156, still open in Go 1.26.8; CI hit it), so under -race
// the bubble tests run on the wall clock with FastTimers instead (see
// inBubble). Without -race they run in bubbles.
const raceDetector = true
