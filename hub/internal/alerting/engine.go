// Package alerting evaluates Prometheus alerting and recording rules against
// the hub's history with Prometheus's own rules package: the rule file
// format, "for", labels, annotations and templates users already know. It
// loads the default rules (written into the data directory from the hub's
// flags) and the files of --rules, reloads them on request (SIGHUP) and when
// they change on disk, refusing a broken file with its line and reason while
// the previous rules keep running, and restores the "for" state of alerts
// after a restart from the ALERTS_FOR_STATE series, as Prometheus does.
package alerting

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/storage"
)

// Defaults of the engine.
const (
	// DefaultInterval is how often groups without their own interval are
	// evaluated.
	DefaultInterval = 15 * time.Second
	// DefaultPollEvery is how often the rule files are checked for changes.
	DefaultPollEvery = 5 * time.Second
	// OutageTolerance and ForGracePeriod are Prometheus' defaults: after a
	// restart within an hour, the "for" state of alerts is restored, and a
	// pending alert fires no sooner than 10 minutes after the restart
	// unless its "for" is shorter.
	OutageTolerance = time.Hour
	ForGracePeriod  = 10 * time.Minute
	// ResendDelay is how often firing alerts are sent to Alertmanager again.
	ResendDelay = time.Minute
)

// Store is the history the rules read and write (ALERTS, ALERTS_FOR_STATE
// and the recording rules' series).
type Store interface {
	storage.Queryable
	storage.AppendableV2
}

// Config configures an Engine.
type Config struct {
	// Patterns are the --rules files and globs.
	Patterns []string
	// DefaultRules loads the default rules, written into DataDir.
	DefaultRules bool
	Defaults     Defaults
	DataDir      string
	// Interval of groups that set none (DefaultInterval when zero).
	Interval time.Duration
	// PollEvery: how often the files are checked for changes
	// (DefaultPollEvery when zero).
	PollEvery time.Duration
	// Engine runs the rules' queries, with the hub's query limits.
	Engine promql.QueryEngine
	Store  Store
	// Notify receives the alerts to send (Alertmanager); may be nil.
	Notify rules.NotifyFunc
	// Registerer takes the rule manager's metrics; may be nil.
	Registerer prometheus.Registerer
	Log        *slog.Logger
}

// Engine runs the rules.
type Engine struct {
	cfg    Config
	parser parser.Parser
	mgr    *rules.Manager
	stop   context.CancelFunc
	mu     sync.Mutex
	files  []string // the files loaded
	seen   [32]byte // the sum of the files last read, loaded or not
	loaded atomic.Bool
	// restoredAt is when every rule was first seen restored; isSettled,
	// when every group was evaluated after that (see Firing).
	restoreMu  sync.Mutex
	restoredAt time.Time
	isSettled  bool
}

// New checks the rule files (a broken one is an error naming its file, line
// and reason) and prepares the engine. Nothing is evaluated until Run.
func New(cfg Config) (*Engine, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	cfg.Interval = cmp.Or(cfg.Interval, DefaultInterval)
	cfg.PollEvery = cmp.Or(cfg.PollEvery, DefaultPollEvery)
	if err := CheckPatterns(cfg.Patterns); err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, parser: parser.NewParser(parser.Options{})}
	if err := e.prepareDefaults(); err != nil {
		return nil, err
	}
	set, err := e.read(cfg.Log)
	if err != nil {
		return nil, err
	}
	e.files, e.seen = set.files, set.sum
	ctx, stop := context.WithCancel(context.Background())
	e.stop = stop
	e.mgr = rules.NewManager(&rules.ManagerOptions{
		QueryFunc:       rules.EngineQueryFunc(cfg.Engine, cfg.Store),
		NotifyFunc:      e.notify,
		Context:         ctx,
		AppendableV2:    cfg.Store,
		Queryable:       cfg.Store,
		Logger:          cfg.Log.With("component", "rules"),
		Registerer:      cfg.Registerer,
		OutageTolerance: OutageTolerance,
		ForGracePeriod:  ForGracePeriod,
		ResendDelay:     ResendDelay,
		Parser:          e.parser,
	})
	cfg.Log.Info("alerting rules loaded", "files", len(set.files), "groups", set.groups, "alerting_rules", set.alerting)
	return e, nil
}

func (e *Engine) notify(ctx context.Context, expr string, alerts ...*rules.Alert) {
	if e.cfg.Notify != nil {
		e.cfg.Notify(ctx, expr, alerts...)
	}
}

// prepareDefaults writes the default rules into the data directory, or
// removes an earlier hub's copy when they are off (so no one reads rules
// that are not evaluated).
func (e *Engine) prepareDefaults() error {
	path := filepath.Join(e.cfg.DataDir, DefaultRulesFile)
	if !e.cfg.DefaultRules {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove the default rules: %w", err)
		}
		return nil
	}
	_, err := writeDefaults(e.cfg.DataDir, e.cfg.Defaults)
	return err
}

// read finds and checks the files the engine should evaluate now.
func (e *Engine) read(log *slog.Logger) (ruleSet, error) {
	files, err := expand(e.cfg.Patterns)
	if e.cfg.DefaultRules {
		files = append([]string{filepath.Join(e.cfg.DataDir, DefaultRulesFile)}, files...)
	}
	if err != nil {
		return ruleSet{files: files, sum: sha256.Sum256([]byte(err.Error()))}, err
	}
	return read(files, e.parser, log)
}

// Run evaluates the rules until ctx is done, reloading them when their files
// change.
func (e *Engine) Run(ctx context.Context) {
	e.mu.Lock()
	err := e.mgr.Update(e.cfg.Interval, e.files, labels.EmptyLabels(), "", nil)
	e.mu.Unlock()
	if err != nil {
		e.cfg.Log.Error("load alerting rules", "err", err)
	}
	e.loaded.Store(true)
	done := make(chan struct{})
	go func() { e.mgr.Run(); close(done) }()
	tick := time.NewTicker(e.cfg.PollEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			e.mgr.Stop()
			e.stop()
			<-done
			return
		case <-tick.C:
			e.reloadIfChanged()
		}
	}
}

// reloadIfChanged reloads when the files differ from those last read
// (a file still broken as it was is not reported again).
func (e *Engine) reloadIfChanged() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if set, _ := e.read(slog.New(slog.DiscardHandler)); set.sum == e.seen {
		return
	}
	_ = e.reloadLocked("file change")
}

// Reload reads the rule files again (the hub calls it on SIGHUP). When one
// is broken the previous rules keep running and the error says why.
func (e *Engine) Reload() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.reloadLocked("SIGHUP")
}

func (e *Engine) reloadLocked(cause string) error {
	set, err := e.read(e.cfg.Log)
	e.seen = set.sum
	if err != nil {
		e.cfg.Log.Error("alerting rules not reloaded: the previous rules keep running", "cause", cause, "err", err)
		return err
	}
	if err := e.mgr.Update(e.cfg.Interval, set.files, labels.EmptyLabels(), "", nil); err != nil {
		e.cfg.Log.Error("alerting rules not reloaded: the previous rules keep running", "cause", cause, "err", err)
		return err
	}
	e.files = set.files
	e.cfg.Log.Info("alerting rules reloaded", "cause", cause, "files", len(set.files), "groups", set.groups, "alerting_rules", set.alerting)
	return nil
}

// RuleGroups are the groups being evaluated, by file and name.
func (e *Engine) RuleGroups() []*rules.Group { return e.mgr.RuleGroups() }

// AlertingRules are the alerting rules being evaluated.
func (e *Engine) AlertingRules() []*rules.AlertingRule { return e.mgr.AlertingRules() }
