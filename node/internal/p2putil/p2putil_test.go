package p2putil

import (
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

func TestLimiterDelay(t *testing.T) {
	l := NewLimiter(1, 1)
	p := peer.ID("p")
	if d := l.Delay(p); d != 0 {
		t.Errorf("Delay of a peer never seen = %v, want 0", d)
	}
	if !l.Allow(p) {
		t.Fatal("first stream refused")
	}
	if l.Allow(p) {
		t.Fatal("second stream within the burst of 1 allowed")
	}
	if d := l.Delay(p); d <= 500*time.Millisecond || d > time.Second {
		t.Errorf("Delay after the burst = %v, want about 1s", d)
	}
	if d := l.Delay(p); d <= 500*time.Millisecond {
		t.Errorf("Delay took a token: second Delay = %v", d)
	}
	if l.Len() != 1 {
		t.Errorf("Len = %d, want 1", l.Len())
	}
}

func TestGroupWaitsAndRefusesAfterClose(t *testing.T) {
	synctest.Test(t, testGroup)
}

func testGroup(t *testing.T) {
	g := NewGroup()
	var ran atomic.Int32
	release := make(chan struct{})
	if !g.Go(func() { <-release; ran.Add(1) }) {
		t.Fatal("Go on an open group refused")
	}
	closed := make(chan struct{})
	go func() { g.Close(); close(closed) }()
	synctest.Wait() // every goroutine of the bubble is blocked now
	select {
	case <-closed:
		t.Fatal("Close returned while a goroutine ran")
	default:
	}
	close(release)
	<-closed
	if ran.Load() != 1 {
		t.Error("the goroutine did not run to its end")
	}
	if g.Go(func() { ran.Add(1) }) || g.Enter() {
		t.Error("Go or Enter after Close accepted")
	}
	if g.Context().Err() == nil {
		t.Error("the group's context is not done after Close")
	}
}
