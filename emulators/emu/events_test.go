package emu

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func post(t *testing.T, url, body string) (int, map[string]any) {
	t.Helper()
	r, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("answer %s: %v", b, err)
	}
	return r.StatusCode, m
}

func TestEventsEndpoint(t *testing.T) {
	t.Parallel()
	e, srv := newTest(t)
	url := srv.URL + EventsPath
	if code, m := post(t, url, `{"events":[]}`); code != 404 || !strings.Contains(m["error"].(string), "no events") {
		t.Fatalf("without SetEvents: %d %v", code, m)
	}
	var got []json.RawMessage
	e.SetEvents(Events{Key: "events", Append: func(items []json.RawMessage) error {
		type ev struct {
			Name string `json:"name"`
			N    int    `json:"n"`
		}
		for i, it := range items {
			var v ev
			if err := DecodeEvent(i, it, &v); err != nil {
				return err
			}
			if v.Name == "" {
				return BadEvent(i, "name", "required")
			}
		}
		got = append(got, items...)
		return nil
	}})
	code, m := post(t, url, `{"events":[{"name":"a"},{"name":"b","extra":{"x":1}}]}`)
	if code != 200 || m["appended"] != 2.0 || len(got) != 2 {
		t.Fatalf("good events: %d %v, %d appended", code, m, len(got))
	}
	cases := map[string]struct {
		body, err string
		status    int
		index     float64
		field     string
	}{
		"missing field":   {`{"events":[{"name":"c"},{"n":1}]}`, "events[1].name: required", 400, 1, "name"},
		"wrong type":      {`{"events":[{"name":"c","n":"one"}]}`, "events[0].n: want an integer, got a JSON string", 400, 0, "n"},
		"not an object":   {`{"events":[{"name":"c"},7]}`, "events[1]: want a JSON object", 400, 1, ""},
		"wrong key":       {`{"entries":[{"name":"c"}]}`, `unknown field "entries"`, 400, -1, ""},
		"no list":         {`{}`, `"events" must be an array`, 400, -1, ""},
		"null list":       {`{"events":null}`, `"events" must be an array`, 400, -1, ""},
		"not JSON":        {`events`, "bad body", 400, -1, ""},
		"trailing data":   {`{"events":[]} {}`, "data after the object", 400, -1, ""},
		"an array":        {`[{"name":"c"}]`, "bad body", 400, -1, ""},
		"too large":       {`{"events":["` + strings.Repeat("x", MaxEventsBody) + `"]}`, "body over", 413, -1, ""},
		"nested wrong ty": {`{"events":[{"name":"c","n":1.5}]}`, "events[0].n: want an integer, got a JSON number 1.5", 400, 0, "n"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			code, m := post(t, url, c.body)
			if code != c.status || !strings.Contains(m["error"].(string), c.err) {
				t.Errorf("%d %v, want %d with %q", code, m, c.status, c.err)
			}
			if c.index >= 0 && (m["index"] != c.index || m["field"] != c.field) {
				t.Errorf("index %v field %v, want %v %q", m["index"], m["field"], c.index, c.field)
			}
		})
	}
	if len(got) != 2 {
		t.Errorf("refused requests appended: %d events", len(got))
	}
	r, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 405 || r.Header.Get("Allow") != "POST" {
		t.Errorf("GET: %d Allow %q", r.StatusCode, r.Header.Get("Allow"))
	}
	if n := len(e.Requests()); n != 0 {
		t.Errorf("control endpoint logged %d requests", n)
	}
}

func TestObjectKeepsOrderAndAddsDefaults(t *testing.T) {
	t.Parallel()
	o, err := ParseObject([]byte(`{"b": 1, "a": {"x": [1, 2]}, "n": null}`))
	if err != nil {
		t.Fatal(err)
	}
	o.SetDefault("b", 9)
	o.SetDefault("n", "filled")
	o.SetDefault("z", "last")
	o.Set("a", json.RawMessage(`{"y":true}`))
	if got, want := string(o.Raw()), `{"b":1,"a":{"y":true},"n":"filled","z":"last"}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if !o.Has("b") || o.Has("missing") {
		t.Error("Has")
	}
	if _, err := ParseObject([]byte(`[1]`)); err == nil {
		t.Error("an array parsed as an object")
	}
}

func TestJSONPath(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"target.1.id": "target[1].id", "a": "a", "events.0.parameters.2.intValue": "events[0].parameters[2].intValue"} {
		if got := jsonPath(in); got != want {
			t.Errorf("jsonPath(%q) = %q, want %q", in, got, want)
		}
	}
}
