package main

import (
	"net/http"
	"strings"
	"testing"
)

func TestBinaryProfilingIsOptIn(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want int
	}{
		{nil, http.StatusNotFound},
		{[]string{"--web.enable-pprof"}, http.StatusOK},
	} {
		addr, _ := startExporter(t, append(tc.args, "--no-collector.sqlite", "--no-collector.logs")...)
		base := "http://" + addr
		if code, _ := get(t, http.DefaultClient, http.MethodGet, base+"/debug/pprof/heap"); code != tc.want {
			t.Errorf("%v: /debug/pprof/heap answered %d, want %d", tc.args, code, tc.want)
		}
		// The landing page links to the profiles exactly when they answer.
		_, landing := get(t, http.DefaultClient, http.MethodGet, base+"/")
		if linked := strings.Contains(landing, "debug/pprof/heap"); linked != (tc.want == http.StatusOK) {
			t.Errorf("%v: landing page links to the heap profile: %v, profile answers %d", tc.args, linked, tc.want)
		}
	}
}
