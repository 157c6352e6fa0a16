package server

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func gz(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestUIHandler(t *testing.T) {
	const index = "<!doctype html><title>gpumon</title>"
	const script = "console.log('the page');"
	files := fstest.MapFS{
		"index.html":            {Data: []byte(index)},
		"favicon.svg":           {Data: []byte("<svg/>")},
		"assets/app-1a2b.js":    {Data: []byte(script)},
		"assets/app-1a2b.js.gz": {Data: gz(t, script)},
		"assets/small-3c4d.css": {Data: []byte("a{}")},
	}
	h := uiHandler(files)
	get := func(method, target, acceptEncoding string) *http.Response {
		t.Helper()
		req := httptest.NewRequest(method, target, nil)
		if acceptEncoding != "" {
			req.Header.Set("Accept-Encoding", acceptEncoding)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Result()
	}
	body := func(r *http.Response) string {
		t.Helper()
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	t.Run("index and deep links", func(t *testing.T) {
		for _, target := range []string{"/", "/window/gpu-01", "/assets/missing.js"} {
			r := get(http.MethodGet, target, "gzip")
			if r.StatusCode != http.StatusOK || body(r) != index {
				t.Errorf("GET %s: %d, want index.html", target, r.StatusCode)
			}
			if cc := r.Header.Get("Cache-Control"); cc != "no-cache" {
				t.Errorf("GET %s: Cache-Control %q, want no-cache", target, cc)
			}
			if r.Header.Get("X-Frame-Options") != "DENY" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("GET %s: security headers missing: %v", target, r.Header)
			}
		}
	})

	t.Run("gzip asset to a client that accepts it", func(t *testing.T) {
		r := get(http.MethodGet, "/assets/app-1a2b.js", "br, gzip;q=0.8")
		if r.StatusCode != http.StatusOK {
			t.Fatalf("status %d", r.StatusCode)
		}
		if ce := r.Header.Get("Content-Encoding"); ce != "gzip" {
			t.Fatalf("Content-Encoding %q, want gzip", ce)
		}
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
			t.Errorf("Content-Type %q, want the script's", ct)
		}
		if v := r.Header.Get("Vary"); v != "Accept-Encoding" {
			t.Errorf("Vary %q", v)
		}
		if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("Cache-Control %q", cc)
		}
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil || string(plain) != script {
			t.Errorf("body %q (%v), want the script", plain, err)
		}
	})

	t.Run("plain asset otherwise", func(t *testing.T) {
		for _, ae := range []string{"", "identity", "gzip;q=0"} {
			r := get(http.MethodGet, "/assets/app-1a2b.js", ae)
			if ce := r.Header.Get("Content-Encoding"); ce != "" {
				t.Errorf("Accept-Encoding %q: Content-Encoding %q", ae, ce)
			}
			if b := body(r); b != script {
				t.Errorf("Accept-Encoding %q: body %q", ae, b)
			}
			if v := r.Header.Get("Vary"); v != "Accept-Encoding" {
				t.Errorf("Accept-Encoding %q: Vary %q (caches must keep both forms apart)", ae, v)
			}
		}
		r := get(http.MethodGet, "/assets/small-3c4d.css", "gzip")
		if ce := r.Header.Get("Content-Encoding"); ce != "" || body(r) != "a{}" {
			t.Errorf("asset without a .gz: Content-Encoding %q", ce)
		}
		r = get(http.MethodGet, "/assets/app-1a2b.js.gz", "gzip")
		if ce := r.Header.Get("Content-Encoding"); ce != "" || body(r) != string(gz(t, script)) {
			t.Errorf("the .gz itself: Content-Encoding %q", ce)
		}
	})

	t.Run("HEAD and other methods", func(t *testing.T) {
		r := get(http.MethodHead, "/assets/app-1a2b.js", "gzip")
		if r.StatusCode != http.StatusOK || r.Header.Get("Content-Encoding") != "gzip" || body(r) != "" {
			t.Errorf("HEAD: %d %v", r.StatusCode, r.Header)
		}
		r = get(http.MethodPost, "/", "")
		if r.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST /: %d, want 405", r.StatusCode)
		}
	})
}
