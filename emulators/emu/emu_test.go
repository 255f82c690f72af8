package emu

import (
	"bufio"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

func newTest(t *testing.T) (*Emulator, *httptest.Server) {
	t.Helper()
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]string{"ok": r.URL.Path})
	})
	e := New(api, func() any { return map[string]int{"users": 1} }, func(w http.ResponseWriter, _ *http.Request, status int, retryAfter time.Duration) {
		if retryAfter > 0 {
			w.Header().Set("Retry-After", RetryAfterSeconds(retryAfter))
		}
		WriteJSON(w, status, map[string]string{"vendor": "error"})
	})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return e, srv
}

func get(t *testing.T, url string) *http.Response {
	t.Helper()
	r, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Body.Close() })
	return r
}

func TestFaultsApplyAndClear(t *testing.T) {
	t.Parallel()
	e, srv := newTest(t)
	if err := e.AddFault(Fault{Method: http.MethodGet, Path: "^/users/u1$", Status: 429, RetryAfter: 3, Times: 2}); err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{429, 429, 200} {
		r := get(t, srv.URL+"/users/u1")
		if r.StatusCode != want {
			t.Fatalf("request %d: %d, want %d", i, r.StatusCode, want)
		}
		if want == 429 && r.Header.Get("Retry-After") != "3" {
			t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
		}
	}
	if r := get(t, srv.URL+"/users/u2"); r.StatusCode != 200 {
		t.Fatalf("fault hit another path: %d", r.StatusCode)
	}
	reqs := e.Requests()
	if len(reqs) != 4 || reqs[0].Status != 429 || reqs[2].Status != 200 || reqs[0].Path != "/users/u1" {
		t.Fatalf("request log %+v", reqs)
	}
	if err := e.AddFault(Fault{Path: "(", Status: 500}); err == nil {
		t.Fatal("bad regexp accepted")
	}
	if err := e.AddFault(Fault{Path: "x", Status: 200}); err == nil {
		t.Fatal("status 200 accepted as a fault")
	}
}

func TestControlEndpoints(t *testing.T) {
	t.Parallel()
	_, srv := newTest(t)
	get(t, srv.URL+"/a?x=1")
	r := get(t, srv.URL+"/_emulator/requests")
	sc := bufio.NewScanner(r.Body)
	var lines []Request
	for sc.Scan() {
		var q Request
		if err := json.Unmarshal(sc.Bytes(), &q); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, q)
	}
	if len(lines) != 1 || lines[0].Path != "/a" || lines[0].Query != "x=1" || lines[0].Method != "GET" {
		t.Fatalf("requests %+v", lines)
	}
	if r := get(t, srv.URL+"/_emulator/state"); r.StatusCode != 200 {
		t.Fatalf("state %d", r.StatusCode)
	}
	// A bad config changes nothing.
	post := func(body string) int {
		r, err := http.Post(srv.URL+"/_emulator/config", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode
	}
	if c := post(`{"faults":[{"path":"^/a$","status":503}]}`); c != 200 {
		t.Fatalf("config %d", c)
	}
	for _, bad := range []string{`{"faults":[{"path":"(","status":500}]}`, `{"latencyMs":-1}`, `{"bogus":1}`, `not json`} {
		if c := post(bad); c != 400 {
			t.Fatalf("config %s: %d, want 400", bad, c)
		}
	}
	if r := get(t, srv.URL+"/a"); r.StatusCode != 503 {
		t.Fatalf("the good fault was lost: %d", r.StatusCode)
	}
	if c := post(`{"faults":[]}`); c != 200 {
		t.Fatal(c)
	}
	if r := get(t, srv.URL+"/a"); r.StatusCode != 200 {
		t.Fatalf("faults not cleared: %d", r.StatusCode)
	}
}

// serve sends n GETs of path straight to e and counts the failures.
func serve(e *Emulator, path string, n int) (failed int, pattern []bool) {
	for range n {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		pattern = append(pattern, rec.Code != http.StatusOK)
		if rec.Code != http.StatusOK {
			failed++
		}
	}
	return failed, pattern
}

func TestFaultProbability(t *testing.T) {
	t.Parallel()
	e, _ := newTest(t)
	e.SetSeed(42)
	if err := e.AddFault(Fault{Path: "^/users/", Status: 503, Probability: 0.5}); err != nil {
		t.Fatal(err)
	}
	failed, first := serve(e, "/users/u1", 1000)
	if failed < 400 || failed > 600 {
		t.Fatalf("p=0.5 failed %d of 1000, want 400-600", failed)
	}
	if ok, _ := serve(e, "/groups/g1", 100); ok != 0 {
		t.Fatalf("fault hit another path %d times", ok)
	}

	// The same seed, the same faults.
	e.ClearFaults()
	e.SetSeed(42)
	if err := e.AddFault(Fault{Path: "^/users/", Status: 503, Probability: 0.5}); err != nil {
		t.Fatal(err)
	}
	if _, again := serve(e, "/users/u1", 1000); !slices.Equal(first, again) {
		t.Fatal("seed 42 gave another run")
	}

	// p=1 always fails; Times still bounds how many fail.
	e.ClearFaults()
	if err := e.AddFault(Fault{Path: "^/users/", Status: 500, Probability: 1, Times: 3}); err != nil {
		t.Fatal(err)
	}
	if failed, _ := serve(e, "/users/u1", 10); failed != 3 {
		t.Fatalf("p=1 times=3 failed %d", failed)
	}
	if err := e.AddFault(Fault{Path: "^/users/", Status: 500, Probability: 0.3, Times: 10}); err != nil {
		t.Fatal(err)
	}
	if failed, _ := serve(e, "/users/u1", 1000); failed != 10 {
		t.Fatalf("p=0.3 times=10 failed %d of 1000, want 10", failed)
	}
	if n := len(e.faults); n != 0 {
		t.Fatalf("%d faults left, want the spent one gone", n)
	}

	for _, p := range []float64{-0.1, 1.5, math.NaN(), math.Inf(1)} {
		err := e.AddFault(Fault{Path: "x", Status: 503, Probability: p})
		if err == nil || !strings.Contains(err.Error(), "probability") {
			t.Errorf("probability %v: %v", p, err)
		}
	}
}

func TestFaultProbabilityByConfig(t *testing.T) {
	t.Parallel()
	e, srv := newTest(t)
	post := func(body string) (int, map[string]any) {
		r, err := http.Post(srv.URL+"/_emulator/config", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(r.Body).Decode(&m)
		return r.StatusCode, m
	}
	for _, bad := range []string{
		`{"faults":[{"path":"^/a$","status":503,"probability":1.01}]}`,
		`{"faults":[{"path":"^/a$","status":503,"probability":-0.5}]}`,
	} {
		code, m := post(bad)
		if msg, _ := m["error"].(string); code != 400 || !strings.Contains(msg, "probability") {
			t.Errorf("config %s: %d %v, want 400 naming the probability", bad, code, m)
		}
	}
	if code, m := post(`{"seed":7,"faults":[{"path":"^/a$","status":503,"probability":0.25}]}`); code != 200 || m["seed"] != float64(7) {
		t.Fatalf("config: %d %v", code, m)
	}
	failed, first := serve(e, "/a", 400)
	if failed < 60 || failed > 140 {
		t.Fatalf("p=0.25 failed %d of 400", failed)
	}
	r := get(t, srv.URL+"/_emulator/config")
	var c Config
	if err := json.NewDecoder(r.Body).Decode(&c); err != nil {
		t.Fatal(err)
	}
	if c.Seed != 7 || len(c.Faults) != 1 || c.Faults[0].Probability != 0.25 {
		t.Fatalf("config shows %+v", c)
	}
	// Posting the same config again repeats the run.
	if code, _ := post(`{"seed":7,"faults":[{"path":"^/a$","status":503,"probability":0.25}]}`); code != 200 {
		t.Fatal(code)
	}
	if _, again := serve(e, "/a", 400); !slices.Equal(first, again) {
		t.Fatal("seed 7 gave another run")
	}
}

func TestRequestLogKeptAcrossRuns(t *testing.T) {
	e := New(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), func() any { return nil }, nil)
	srv := httptest.NewServer(e)
	defer srv.Close()
	for _, p := range []string{"/a", "/b"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	since, n := e.RequestsSince(1)
	if n != 2 || len(since) != 1 || since[0].Path != "/b" {
		t.Fatalf("since 1: %+v, %d", since, n)
	}
	if since, n := e.RequestsSince(5); n != 2 || len(since) != 0 {
		t.Fatalf("since 5: %+v, %d", since, n)
	}
	next := New(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), func() any { return nil }, nil)
	next.RestoreRequests(e.Requests())
	if got := next.Requests(); len(got) != 2 || got[0].Path != "/a" {
		t.Fatalf("restored %+v", got)
	}
}
