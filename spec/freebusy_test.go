package spec

import (
	"errors"
	"testing"
)

func TestFreeBusyMessages(t *testing.T) {
	req := FreeBusyRequest{From: 1_800_000_000, To: 1_800_000_000 + 7*86400}
	b, err := Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeFreeBusyRequest(b)
	if err != nil || *got != req {
		t.Fatalf("DecodeFreeBusyRequest = %+v, %v; want %+v", got, err, req)
	}
	for _, bad := range []FreeBusyRequest{{From: 10, To: 10}, {From: 10, To: 5}, {From: 0, To: 63 * 86400}, {From: -5, To: 5}} {
		b, _ := Marshal(bad)
		if _, err := DecodeFreeBusyRequest(b); !errors.Is(err, ErrBadMessage) {
			t.Errorf("DecodeFreeBusyRequest(%+v) = %v, want ErrBadMessage", bad, err)
		}
	}
	ok := FreeBusyResponse{Status: FreeBusyOK, Busy: []Busy{{req.From, req.From + 3600}, {req.From + 7200, req.From + 9000}}}
	b, _ = Marshal(ok)
	if _, err := DecodeFreeBusyResponse(b, req); err != nil {
		t.Fatalf("DecodeFreeBusyResponse(ok) = %v", err)
	}
	for name, bad := range map[string]FreeBusyResponse{
		"overlap":        {Status: FreeBusyOK, Busy: []Busy{{req.From, req.From + 3600}, {req.From + 3600, req.From + 9000}}},
		"out of order":   {Status: FreeBusyOK, Busy: []Busy{{req.From + 7200, req.From + 9000}, {req.From, req.From + 3600}}},
		"outside":        {Status: FreeBusyOK, Busy: []Busy{{req.From - 10, req.From + 3600}}},
		"empty block":    {Status: FreeBusyOK, Busy: []Busy{{req.From, req.From}}},
		"unknown status": {Status: "maybe"},
		"denied blocks":  {Status: FreeBusyDenied, Busy: []Busy{{req.From, req.From + 1}}},
	} {
		b, _ := Marshal(bad)
		if _, err := DecodeFreeBusyResponse(b, req); !errors.Is(err, ErrBadMessage) {
			t.Errorf("DecodeFreeBusyResponse(%s) = %v, want ErrBadMessage", name, err)
		}
	}
}

func FuzzFreeBusy(f *testing.F) {
	req := FreeBusyRequest{From: 1_800_000_000, To: 1_800_000_000 + 7*86400}
	b, _ := Marshal(req)
	f.Add(b)
	b, _ = Marshal(FreeBusyResponse{Status: FreeBusyOK, Busy: []Busy{{req.From, req.From + 3600}}})
	f.Add(b)
	b, _ = Marshal(FreeBusyResponse{Status: FreeBusyDenied})
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := DecodeFreeBusyRequest(b); err == nil && m.CheckWindow() != nil {
			t.Fatalf("accepted a bad window %+v", m)
		}
		m, err := DecodeFreeBusyResponse(b, req)
		if err != nil {
			return
		}
		last := req.From - 1
		for _, x := range m.Busy {
			if x.Start <= last || x.End <= x.Start || x.End > req.To {
				t.Fatalf("accepted bad blocks %+v", m.Busy)
			}
			last = x.End
		}
	})
}
