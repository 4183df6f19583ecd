package interop

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kith-p2p/kith/test/e2e"
)

// BenchmarkVdirsyncer10k syncs a 10,000-card address book between Kith and
// vdirsyncer: (a) the first upload from a local directory into the empty
// collection, (b) the first download by a fresh client, (c) an
// incremental sync after one card changed in the client's directory and
// (d) one after a card changed in Kith (`kith contacts edit`). A counting
// proxy between vdirsyncer and the server counts each step's requests and
// bytes. For a ratio measured in the same run it then does the same steps
// on 1,000 cards with Kith and with Radicale (Debian package). `make
// bench-dav` installs vdirsyncer and radicale and runs it.
func BenchmarkVdirsyncer10k(b *testing.B) {
	vdir := needTB(b, "vdirsyncer")
	radicale := needTB(b, "radicale")
	// For profiling: KITH_BENCH_CARDS sets the size, KITH_BENCH_NO_RATIO
	// skips the runs on 1,000 cards, KITH_BENCH_CPUPROFILE=path has the
	// daemons write CPU profiles (path.cards).
	n := 10000
	if s := os.Getenv("KITH_BENCH_CARDS"); s != "" {
		fmt.Sscan(s, &n)
	}
	for i := 0; i < b.N; i++ {
		// The floor: vdirsyncer copying the cards between two local
		// directories, no server (its own CPU and its fsync per file).
		floor, floorEdit := runFloor(b, vdir, n)
		b.Logf("floor: vdirsyncer, %d cards from a directory to another: %v", n, floor)
		b.Logf("floor: vdirsyncer, one card changed:                     %v", floorEdit)
		b.ReportMetric(floor.secs(), "floor-s")
		b.ReportMetric(floorEdit.secs(), "floor-edit-s")
		big := runKithSteps(b, vdir, n)
		big.log(b, fmt.Sprintf("kith %d", n))
		b.ReportMetric(big.upload.secs(), "upload-s")
		b.ReportMetric(big.download.secs(), "download-s")
		b.ReportMetric(big.clientEdit.secs(), "client-edit-s")
		b.ReportMetric(big.nodeEdit.secs(), "node-edit-s")
		b.ReportMetric(float64(big.clientEdit.bodyRequests()), "client-edit-bodies")
		b.ReportMetric(float64(big.nodeEdit.bodyRequests()), "node-edit-bodies")
		for _, s := range []struct {
			name string
			st   step
			max  time.Duration
		}{{"upload", big.upload, 10 * time.Second}, {"download", big.download, 10 * time.Second},
			{"client-side edit", big.clientEdit, time.Second}, {"node-side edit", big.nodeEdit, time.Second}} {
			if s.st.took > s.max {
				b.Logf("TARGET MISSED: the %s took %v (target %v)", s.name, s.st.took.Round(time.Millisecond), s.max)
			}
		}

		if os.Getenv("KITH_BENCH_NO_RATIO") != "" {
			continue
		}
		const small = 1000
		k := runKithSteps(b, vdir, small)
		k.log(b, fmt.Sprintf("kith %d", small))
		r := runRadicaleSteps(b, vdir, radicale, small)
		r.log(b, fmt.Sprintf("radicale %d", small))
		ratio := func(a, b step) float64 { return a.took.Seconds() / b.took.Seconds() }
		cpuRatio := func(a, b step) float64 { return a.server.Seconds() / max(b.server.Seconds(), 0.01) }
		b.Logf("kith/radicale on %d cards, time: upload %.3f, download %.3f, client-side edit %.3f, node-side edit %.3f",
			small, ratio(k.upload, r.upload), ratio(k.download, r.download), ratio(k.clientEdit, r.clientEdit), ratio(k.nodeEdit, r.nodeEdit))
		b.Logf("kith/radicale on %d cards, server CPU: upload %.3f, download %.3f, client-side edit %.3f, node-side edit %.3f",
			small, cpuRatio(k.upload, r.upload), cpuRatio(k.download, r.download), cpuRatio(k.clientEdit, r.clientEdit), cpuRatio(k.nodeEdit, r.nodeEdit))
		b.ReportMetric(ratio(k.upload, r.upload), "kith/radicale-upload")
		b.ReportMetric(ratio(k.download, r.download), "kith/radicale-download")
	}
}

// needTB is need for a benchmark.
func needTB(tb testing.TB, name string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		msg := fmt.Sprintf("%s is not installed: `make bench-dav` installs it (apt-get install vdirsyncer radicale)", name)
		if os.Getenv("KITH_REQUIRE_INTEROP") != "" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	return p
}

// step is one timed vdirsyncer run and what crossed the proxy.
type step struct {
	took     time.Duration
	client   time.Duration  // vdirsyncer's CPU time
	server   time.Duration  // the server's CPU time
	requests map[string]int // by method (REPORT, PROPFIND, PUT, GET, …)
	in, out  int64          // request and response bytes, bodies and headers
}

func (s step) secs() float64 { return s.took.Seconds() }

// bodyRequests counts the requests that carry a card: PUTs, GETs and
// multiget REPORTs.
func (s step) bodyRequests() int {
	return s.requests["PUT"] + s.requests["GET"] + s.requests["REPORT"]
}

func (s step) String() string {
	methods := make([]string, 0, len(s.requests))
	for m, c := range s.requests {
		methods = append(methods, fmt.Sprintf("%s %d", m, c))
	}
	sort.Strings(methods)
	return fmt.Sprintf("%8.3f s (CPU: vdirsyncer %7.3f s, server %7.3f s)  requests: %-28s  sent %9d B, received %9d B",
		s.took.Seconds(), s.client.Seconds(), s.server.Seconds(), strings.Join(methods, ", "), s.in, s.out)
}

type steps struct {
	upload, download, clientEdit, nodeEdit step
}

func (s steps) log(tb testing.TB, name string) {
	tb.Logf("%s: upload            %v", name, s.upload)
	tb.Logf("%s: download          %v", name, s.download)
	tb.Logf("%s: client-side edit  %v", name, s.clientEdit)
	tb.Logf("%s: node-side edit    %v", name, s.nodeEdit)
}

// counter is a reverse proxy counting requests and bytes.
type counter struct {
	proxy    *httputil.ReverseProxy
	mu       sync.Mutex
	requests map[string]int
	in, out  atomic.Int64
	srv      *http.Server
	url      string
}

func newCounter(tb testing.TB, target string) *counter {
	tb.Helper()
	u, err := url.Parse(target)
	if err != nil {
		tb.Fatal(err)
	}
	c := &counter{requests: map[string]int{}}
	c.proxy = httputil.NewSingleHostReverseProxy(&url.URL{Scheme: u.Scheme, Host: u.Host})
	c.proxy.Transport = &http.Transport{MaxIdleConnsPerHost: 64}
	c.proxy.ModifyResponse = func(r *http.Response) error {
		r.Body = &countingBody{r.Body, &c.out}
		var hdr bytes.Buffer
		r.Header.Write(&hdr)
		c.out.Add(int64(hdr.Len()))
		return nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	c.srv = &http.Server{Handler: c}
	go c.srv.Serve(ln)
	tb.Cleanup(func() { c.srv.Close() })
	c.url = "http://" + ln.Addr().String() + u.Path
	return c
}

func (c *counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.requests[r.Method]++
	c.mu.Unlock()
	var hdr bytes.Buffer
	r.Header.Write(&hdr)
	c.in.Add(int64(hdr.Len()))
	r.Body = &countingBody{r.Body, &c.in}
	c.proxy.ServeHTTP(w, r)
}

// reset returns what was counted since the last reset.
func (c *counter) reset() step {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := step{requests: c.requests, in: c.in.Swap(0), out: c.out.Swap(0)}
	c.requests = map[string]int{}
	return s
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// client is one vdirsyncer configuration: a local directory paired with
// the address book behind the proxy.
type client struct {
	tb     testing.TB
	bin    string
	config string
	home   string
	book   string // the local directory of the collection
}

func newClient(tb testing.TB, bin, dir, url, user, password string) *client {
	tb.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "local", "contacts"), 0o700); err != nil {
		tb.Fatal(err)
	}
	c := &client{tb: tb, bin: bin, config: filepath.Join(dir, "config"), home: dir, book: filepath.Join(dir, "local", "contacts")}
	writeVdirConfig(tb, dir, davPair("book", filepath.Join(dir, "local"), ".vcf", "carddav", url, user, password, ""))
	return c
}

// run runs vdirsyncer, bounded to ten minutes, and returns how long it
// took and the CPU time it used.
func (c *client) run(stdin string, args ...string) (took, cpu time.Duration) {
	c.tb.Helper()
	cmd := exec.Command(c.bin, append([]string{"-c", c.config}, args...)...)
	cmd.Env = []string{"HOME=" + c.home, "PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8", "LC_ALL=C.UTF-8"}
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		c.tb.Fatal(err)
	}
	timer := time.AfterFunc(10*time.Minute, func() { cmd.Process.Kill() })
	err := cmd.Wait()
	took = time.Since(start)
	timer.Stop()
	if err != nil {
		c.tb.Fatalf("vdirsyncer %s: %v\n%s", strings.Join(args, " "), err, tail(out.String()))
	}
	return took, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

func tail(s string) string {
	if len(s) > 4000 {
		return "…" + s[len(s)-4000:]
	}
	return s
}

// count returns how many .vcf files the client's directory holds.
func (c *client) count() int {
	c.tb.Helper()
	m, err := filepath.Glob(filepath.Join(c.book, "*.vcf"))
	if err != nil {
		c.tb.Fatal(err)
	}
	return len(m)
}

// writeCards fills dir with n cards as a phone's address book would hold
// them: a name, an email, a phone, an organisation, a note.
func writeCards(tb testing.TB, dir string, n int) {
	tb.Helper()
	for i := range n {
		uid := fmt.Sprintf("bench-%05d-5b1f0c2e", i)
		card := fmt.Sprintf("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:%s\r\nFN:Person %05d Example\r\nN:Example;Person %05d;;;\r\n"+
			"EMAIL;TYPE=INTERNET,HOME:person%05d@example.org\r\nTEL;TYPE=CELL:+1 555 %07d\r\nORG:Company %d\r\n"+
			"NOTE:Met at the conference in %d\r\nEND:VCARD\r\n", uid, i, i, i, i, i%97, 2000+i%25)
		if err := os.WriteFile(filepath.Join(dir, uid+".vcf"), []byte(card), 0o600); err != nil {
			tb.Fatal(err)
		}
	}
}

// editOne changes the email of the first card in the client's directory
// and returns its UID.
func (c *client) editOne(newEmail string) string {
	c.tb.Helper()
	m, err := filepath.Glob(filepath.Join(c.book, "*.vcf"))
	if err != nil || len(m) == 0 {
		c.tb.Fatalf("no card to edit in %s: %v", c.book, err)
	}
	sort.Strings(m)
	body, err := os.ReadFile(m[0])
	if err != nil {
		c.tb.Fatal(err)
	}
	var uid string
	lines := strings.Split(string(body), "\r\n")
	for i, l := range lines {
		if v, ok := strings.CutPrefix(l, "UID:"); ok {
			uid = v
		}
		if strings.HasPrefix(l, "EMAIL") {
			lines[i] = "EMAIL;TYPE=INTERNET:" + newEmail
		}
	}
	if err := os.WriteFile(m[0], []byte(strings.Join(lines, "\r\n")), 0o600); err != nil {
		c.tb.Fatal(err)
	}
	return uid
}

// holds reports whether some card of the client's directory has s.
func (c *client) holds(s string) bool {
	c.tb.Helper()
	out, err := exec.Command("grep", "-rlF", s, c.book).Output()
	return err == nil && len(out) > 0
}

// runSteps runs the four steps against the server behind proxy; edit
// changes one card on the server's side (its UID given), setting the
// email given.
func runSteps(tb testing.TB, vdir string, proxy *counter, server int, user, password string, n int, edit func(uid, email string)) steps {
	tb.Helper()
	var s steps
	// timed runs one sync, measuring it.
	timed := func(c *client) step {
		before := cpuOf(tb, server)
		proxy.reset()
		took, cpu := c.run("", "sync", "book")
		st := proxy.reset()
		st.took, st.client, st.server = took, cpu, cpuOf(tb, server)-before
		return st
	}
	up := newClient(tb, vdir, tb.TempDir(), proxy.url, user, password)
	writeCards(tb, up.book, n)
	up.run("y\ny\n", "discover", "book")
	s.upload = timed(up)

	down := newClient(tb, vdir, tb.TempDir(), proxy.url, user, password)
	down.run("y\ny\n", "discover", "book")
	s.download = timed(down)
	if got := down.count(); got != n {
		tb.Fatalf("the fresh client downloaded %d cards, want %d", got, n)
	}

	uid := up.editOne("changed-on-client@example.org")
	s.clientEdit = timed(up)
	down.run("", "sync", "book")
	if !down.holds("changed-on-client@example.org") {
		tb.Fatalf("the client-side edit of %s did not reach the other client", uid)
	}

	edit(uid, "changed-on-node@example.org")
	s.nodeEdit = timed(up)
	if !up.holds("changed-on-node@example.org") {
		tb.Fatalf("the server-side edit of %s did not reach the client", uid)
	}
	for name, st := range map[string]step{"client-side edit": s.clientEdit, "node-side edit": s.nodeEdit} {
		if st.requests["PUT"]+st.requests["GET"] > 1 || st.requests["REPORT"] > 1 || st.requests["DELETE"] > 0 {
			tb.Fatalf("the sync after a %s of one card moved more than that card: %v", name, st)
		}
	}
	return s
}

// cpuOf returns the CPU time process pid has used, user and system.
func cpuOf(tb testing.TB, pid int) time.Duration {
	tb.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		tb.Fatalf("the server's CPU time: %v", err)
	}
	// The fields after the command name (in parentheses, which may hold
	// spaces): utime and stime are the 14th and 15th fields.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	var utime, stime int64
	fmt.Sscan(f[11], &utime)
	fmt.Sscan(f[12], &stime)
	return time.Duration(utime+stime) * time.Second / clockTicks
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on
// every Linux architecture Go runs on.
const clockTicks = 100

// runFloor times vdirsyncer's first sync of n cards from one local
// directory into an empty one, and its sync after one card changed.
func runFloor(tb testing.TB, vdir string, n int) (first, edit step) {
	tb.Helper()
	dir := tb.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for _, d := range []string{a, b} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			tb.Fatal(err)
		}
	}
	writeCards(tb, a, n)
	c := &client{tb: tb, bin: vdir, config: filepath.Join(dir, "config"), home: dir, book: b}
	if err := os.WriteFile(c.config, []byte(fmt.Sprintf(`[general]
status_path = "%s/status/"

[pair book]
a = "book_a"
b = "book_b"
collections = null

[storage book_a]
type = "filesystem"
path = "%s/"
fileext = ".vcf"

[storage book_b]
type = "filesystem"
path = "%s/"
fileext = ".vcf"
`, dir, a, b)), 0o600); err != nil {
		tb.Fatal(err)
	}
	c.run("y\ny\n", "discover", "book")
	took, cpu := c.run("", "sync", "book")
	if got := c.count(); got != n {
		tb.Fatalf("vdirsyncer copied %d cards between directories, want %d", got, n)
	}
	c.editOne("changed@example.org")
	took2, cpu2 := c.run("", "sync", "book")
	return step{took: took, client: cpu}, step{took: took2, client: cpu2}
}

// runKithSteps runs the steps against a fresh Kith daemon.
func runKithSteps(tb testing.TB, vdir string, n int) steps {
	tb.Helper()
	h := e2e.NewHome(tb)
	if p := os.Getenv("KITH_BENCH_CPUPROFILE"); p != "" {
		// The daemon writes a CPU profile there when it stops.
		h.Env = append(h.Env, "KITH_CPUPROFILE="+fmt.Sprintf("%s.%d", p, n))
	}
	h.Start()
	var creds struct{ URL, Username, Password string }
	h.JSON(&creds, "dav", "enable", "--port", fmt.Sprint(freePortTB(tb)))
	proxy := newCounter(tb, creds.URL)
	return runSteps(tb, vdir, proxy, h.PID(), creds.Username, creds.Password, n, func(uid, email string) {
		// `kith contacts edit` finds a contact by name (the cards'
		// UIDs are bench-NNNNN-…, their names Person NNNNN Example).
		var i int
		if _, err := fmt.Sscanf(uid, "bench-%05d-", &i); err != nil {
			tb.Fatalf("not a benchmark card's UID: %s", uid)
		}
		h.MustRun("contacts", "edit", fmt.Sprintf("Person %05d Example", i), "--email", email)
	})
}

// runRadicaleSteps runs the steps against Radicale, started on
// 127.0.0.1 with a temporary storage and no authentication.
func runRadicaleSteps(tb testing.TB, vdir, bin string, n int) steps {
	tb.Helper()
	dir := tb.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", freePortTB(tb))
	cmd := exec.Command(bin, "--config", "", "--server-hosts", addr, "--auth-type", "none",
		"--storage-filesystem-folder", filepath.Join(dir, "collections"), "--logging-level", "warning")
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("radicale did not answer on %s: %v\n%s", addr, err, log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The address book vdirsyncer finds, as Kith's.
	book := base + "/bench/contacts/"
	mkcol := `<?xml version="1.0" encoding="utf-8"?><D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:set><D:prop><D:resourcetype><D:collection/><C:addressbook/></D:resourcetype></D:prop></D:set></D:mkcol>`
	req, _ := http.NewRequest("MKCOL", book, strings.NewReader(mkcol))
	req.SetBasicAuth("bench", "bench")
	req.Header.Set("Content-Type", "application/xml")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		tb.Fatalf("MKCOL %s: %s\n%s", book, resp.Status, log.String())
	}
	proxy := newCounter(tb, base+"/")
	return runSteps(tb, vdir, proxy, cmd.Process.Pid, "bench", "bench", n, func(uid, email string) {
		// The server-side edit: a PUT of the card with a new email, as
		// another client would make it.
		path := book + uid + ".vcf"
		get, _ := http.NewRequest("GET", path, nil)
		get.SetBasicAuth("bench", "bench")
		resp, err := http.DefaultClient.Do(get)
		if err != nil {
			tb.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			tb.Fatalf("GET %s: %s", path, resp.Status)
		}
		lines := strings.Split(string(body), "\r\n")
		for i, l := range lines {
			if strings.HasPrefix(l, "EMAIL") {
				lines[i] = "EMAIL;TYPE=INTERNET:" + email
			}
		}
		put, _ := http.NewRequest("PUT", path, strings.NewReader(strings.Join(lines, "\r\n")))
		put.SetBasicAuth("bench", "bench")
		put.Header.Set("Content-Type", "text/vcard")
		resp, err = http.DefaultClient.Do(put)
		if err != nil {
			tb.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			tb.Fatalf("PUT %s: %s", path, resp.Status)
		}
	})
}

func freePortTB(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
