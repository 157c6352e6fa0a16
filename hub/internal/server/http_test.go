package server

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
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
		if r.StatusCode != http.StatusMethodNotAllowed || r.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("POST /: %d Allow %q, want 405 with Allow: GET, HEAD", r.StatusCode, r.Header.Get("Allow"))
		}
	})
}

func TestContentSecurityPolicy(t *testing.T) {
	const inline = "\n      window.early = 1;\n    "
	files := fstest.MapFS{"index.html": {Data: []byte(`<!doctype html><head><script>` + inline +
		`</script><script type="module" crossorigin src="/assets/app.js"></script></head>`)}}
	sum := sha256.Sum256([]byte(inline))
	csp := contentSecurityPolicy(files)
	want := "script-src 'self' 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "';"
	if !strings.Contains(csp, want) {
		t.Errorf("CSP %q: want the inline script's hash and nothing for the one with src (%q)", csp, want)
	}
	for _, d := range []string{"default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, d) {
			t.Errorf("CSP %q lacks %q", csp, d)
		}
	}
	r := httptest.NewRecorder()
	uiHandler(files).ServeHTTP(r, httptest.NewRequest(http.MethodGet, "/", nil))
	if got := r.Header().Get("Content-Security-Policy"); got != csp {
		t.Errorf("page served with CSP %q", got)
	}
}
