package site

import (
	"strings"
	"testing"
)

func TestDecodeStrict(t *testing.T) {
	var c Command
	if err := DecodeStrict([]byte(`{"id":"r-1-0-laundry","time":"2025-07-14T10:00:00+08:00","action":"start","jobs":[3,4]}`), &c); err != nil || len(c.Jobs) != 2 {
		t.Fatalf("%+v %v", c, err)
	}
	for in, want := range map[string]string{
		`{"id":"x","action":"start","color":"red"}`: "unknown field",
		`{"id":"x"} {"id":"y"}`:                     "trailing data",
		`{"id":`:                                    "unexpected EOF",
		`[1]`:                                       "cannot unmarshal",
	} {
		var a Ack
		if err := DecodeStrict([]byte(in), &a); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("DecodeStrict(%s) = %v, want %q", in, err, want)
		}
	}
}

func FuzzDecodeCommand(f *testing.F) {
	for _, s := range []string{`{"id":"a","time":"2025-07-14T10:00:00Z","action":"release","release_m3":3.5}`, `{"id":"a","status":"accepted"}`, `{}`, `null`, `{"jobs":[1e999]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var c Command
		_ = DecodeStrict(b, &c)
		var a Ack
		_ = DecodeStrict(b, &a)
	})
}
