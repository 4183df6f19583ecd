//go:build !race

package node_test

// raceDetector: see bubble_race_test.go.
const raceDetector = false
