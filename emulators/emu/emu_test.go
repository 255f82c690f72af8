package emu

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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
