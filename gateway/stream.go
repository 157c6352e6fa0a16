package gateway

import (
	"net/http"
	"strings"
	"time"
)

// StreamWriteTimeout bounds each write of a streaming answer (the watch
// route): a client that reads nothing for this long is cut off, so that it
// holds no goroutine, connection or buffered event for longer.
const StreamWriteTimeout = 30 * time.Second

// streamDeadlines gives every write of a streaming route a fresh deadline.
func streamDeadlines(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/watch") {
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(&deadlineWriter{ResponseWriter: w, rc: http.NewResponseController(w)}, r)
	})
}

type deadlineWriter struct {
	http.ResponseWriter
	rc *http.ResponseController
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	_ = d.rc.SetWriteDeadline(time.Now().Add(StreamWriteTimeout))
	return d.ResponseWriter.Write(p)
}

// Flush pushes what is written to the client, within the deadline.
func (d *deadlineWriter) Flush() {
	_ = d.rc.SetWriteDeadline(time.Now().Add(StreamWriteTimeout))
	_ = d.rc.Flush()
}

// Unwrap exposes the underlying writer to http.ResponseController.
func (d *deadlineWriter) Unwrap() http.ResponseWriter { return d.ResponseWriter }
