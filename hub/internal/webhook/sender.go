// Package webhook posts the hub's alerts to webhooks without Alertmanager:
// each alert once when it starts firing and once when it is resolved, in
// Alertmanager's webhook JSON (so receivers written for Alertmanager work)
// or as the text message of a Slack-style, Feishu or DingTalk incoming
// webhook. Each URL has its own queue and goroutine: a receiver that is down
// is retried with exponential backoff and never holds up the others, rule
// evaluation or ingest. What each receiver was told is kept in the data
// directory, so a restarted hub neither announces again what fires still nor
// forgets to say what was resolved while it was down.
package webhook

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of a Sender.
const (
	DefaultMinBackoff = time.Second
	DefaultMaxBackoff = 2 * time.Minute
	DefaultEvery      = time.Second
	// PostTimeout bounds one POST.
	PostTimeout = 10 * time.Second
)

// Source reports the alerts that fire now. ready is false while that is not
// known yet (after a start, until the rules' state is restored).
type Source func() (fire []Alert, ready bool)

// Options configure a Sender.
type Options struct {
	URLs   []string
	Format Format
	// StateDir keeps what each receiver was told (the hub's data directory).
	StateDir string
	// ExternalURL is the hub's page, for the Alertmanager format's
	// externalURL; may be empty.
	ExternalURL string
	Client      *http.Client
	// MinBackoff and MaxBackoff bound the wait between retries; Every is
	// how often the alerts are compared with what was sent.
	MinBackoff, MaxBackoff, Every time.Duration
	Registerer                    prometheus.Registerer
	Log                           *slog.Logger
}

// CheckURLs validates --webhook-url values.
func CheckURLs(urls []string) error {
	var errs []error
	for _, raw := range urls {
		if _, err := hostOf(raw); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func hostOf(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("--webhook-url: want an http:// or https:// URL (got one of %d characters that is not)", len(raw))
	}
	return u.Host, nil
}

type stats struct {
	notifications *prometheus.CounterVec
	dropped       *prometheus.CounterVec
	queue         *prometheus.GaugeVec
}

func newStats(reg prometheus.Registerer) *stats {
	s := &stats{
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gpumon_hub_webhook_notifications_total",
			Help: "Webhook posts by result: sent, failed (retried), rejected (a 4xx answer or an error in the body: not retried)."}, []string{"webhook", "result"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gpumon_hub_webhook_dropped_total",
			Help: "Webhook notifications dropped because the queue was full."}, []string{"webhook"}),
		queue: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "gpumon_hub_webhook_queue",
			Help: "Webhook notifications waiting to be sent."}, []string{"webhook"}),
	}
	if reg != nil {
		reg.MustRegister(s.notifications, s.dropped, s.queue)
	}
	return s
}

// Sender posts alerts to webhooks.
type Sender struct {
	opts    Options
	source  Source
	targets []*target
	kick    chan struct{}
}

// New prepares a Sender reading alerts from source; it loads what each URL
// was told before. Nothing is sent until Run.
func New(opts Options, source Source) (*Sender, error) {
	opts.MinBackoff = cmp.Or(opts.MinBackoff, DefaultMinBackoff)
	opts.MaxBackoff = cmp.Or(opts.MaxBackoff, DefaultMaxBackoff)
	opts.Every = cmp.Or(opts.Every, DefaultEvery)
	opts.Format = cmp.Or(opts.Format, Alertmanager)
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: PostTimeout}
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	st := newStats(opts.Registerer)
	s := &Sender{opts: opts, source: source, kick: make(chan struct{}, 1)}
	for i, raw := range opts.URLs {
		host, err := hostOf(raw)
		if err != nil {
			return nil, err
		}
		name := "webhook-" + strconv.Itoa(i+1)
		t, err := newTarget(name, raw, host, opts.Format, opts.StateDir, st)
		if err != nil {
			return nil, err
		}
		st.queue.WithLabelValues(name).Set(0)
		for _, r := range []string{"sent", "failed", "rejected"} {
			st.notifications.WithLabelValues(name, r)
		}
		st.dropped.WithLabelValues(name)
		s.targets = append(s.targets, t)
	}
	return s, nil
}

// Kick asks for the alerts to be compared with what was sent now rather
// than at the next tick.
func (s *Sender) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Run sends until ctx is done.
func (s *Sender) Run(ctx context.Context) {
	done := make(chan struct{})
	for _, t := range s.targets {
		go func() { s.deliver(ctx, t); done <- struct{}{} }()
	}
	tick := time.NewTicker(s.opts.Every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			for range s.targets {
				<-done
			}
			return
		case <-tick.C:
		case <-s.kick:
		}
		fire, ready := s.source()
		if !ready {
			continue
		}
		byFP := make(map[string]Alert, len(fire))
		for _, a := range fire {
			byFP[a.Fingerprint()] = a
		}
		now := time.Now()
		for _, t := range s.targets {
			t.reconcile(now, byFP)
		}
	}
}

// deliver sends t's queue in order, retrying with backoff.
func (s *Sender) deliver(ctx context.Context, t *target) {
	backoff := s.opts.MinBackoff
	failing := false
	for {
		m, ok := t.head()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-t.wake:
				continue
			}
		}
		err := s.post(ctx, t, m)
		var refused *refusedError
		switch {
		case err == nil, errors.As(err, &refused):
			result := "sent"
			if err != nil {
				result = "rejected"
				s.opts.Log.Error("webhook refused a notification; it is not sent again", "webhook", t.name, "host", t.host, "alert", m.alert.Labels["alertname"], "status", m.status, "err", err)
			} else if failing {
				s.opts.Log.Info("webhook reachable again", "webhook", t.name, "host", t.host)
			}
			if err := t.done(m); err != nil {
				s.opts.Log.Error("keep webhook state", "webhook", t.name, "err", err)
			}
			t.stats.notifications.WithLabelValues(t.name, result).Inc()
			backoff, failing = s.opts.MinBackoff, false
			continue
		case ctx.Err() != nil:
			return
		}
		t.stats.notifications.WithLabelValues(t.name, "failed").Inc()
		if !failing {
			s.opts.Log.Warn("webhook post failed; retrying with backoff", "webhook", t.name, "host", t.host, "err", err)
			failing = true
		} else {
			s.opts.Log.Debug("webhook post failed again", "webhook", t.name, "host", t.host, "err", err, "backoff", backoff)
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		backoff = min(backoff*2, s.opts.MaxBackoff)
	}
}

// refusedError is an answer that sending again would not change.
type refusedError struct{ msg string }

func (e *refusedError) Error() string { return e.msg }

// post sends one message. A 4xx answer (but 408 and 429), or, from Feishu
// and DingTalk, a 2xx whose JSON body carries a non-zero error code (their
// way of refusing), is a refusedError; a network error or any other status is worth
// retrying.
func (s *Sender) post(ctx context.Context, t *target, m message) error {
	b, err := body(t.format, m, s.opts.ExternalURL)
	if err != nil {
		return &refusedError{msg: "encode: " + err.Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, PostTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(b))
	if err != nil {
		return &refusedError{msg: "build request: " + err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "gpumon-hub")
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		return fmt.Errorf("post to %s: %w", t.host, redactErr(err))
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return fmt.Errorf("post to %s: %s", t.host, resp.Status)
	case resp.StatusCode >= 400:
		return &refusedError{msg: fmt.Sprintf("post to %s: %s: %s", t.host, resp.Status, bytes.TrimSpace(reply))}
	case resp.StatusCode >= 300:
		return fmt.Errorf("post to %s: %s", t.host, resp.Status)
	}
	if t.format != Feishu && t.format != DingTalk {
		return nil
	}
	if msg := bodyError(reply); msg != "" {
		return &refusedError{msg: fmt.Sprintf("post to %s: the receiver answered: %s", t.host, msg)}
	}
	return nil
}

// bodyError reads the error of a chat webhook's answer: Feishu's
// {"code": n, "msg": ...} and DingTalk's {"errcode": n, "errmsg": ...}.
func bodyError(reply []byte) string {
	var r struct {
		Code    *json.Number `json:"code"`
		Msg     string       `json:"msg"`
		ErrCode *json.Number `json:"errcode"`
		ErrMsg  string       `json:"errmsg"`
	}
	if json.Unmarshal(reply, &r) != nil {
		return ""
	}
	switch {
	case r.Code != nil && r.Code.String() != "0":
		return "code " + r.Code.String() + " " + r.Msg
	case r.ErrCode != nil && r.ErrCode.String() != "0":
		return "errcode " + r.ErrCode.String() + " " + r.ErrMsg
	}
	return ""
}

// redactErr drops the URL (it may hold a token) from an HTTP client error.
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
